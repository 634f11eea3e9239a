"""What reaches the ConvLSTM streams, what leaves them, and whether one stream can learn a
purely temporal task (issue 16; written up in docs/stream-learning/README.md).

    python benchmarks/diagnose_streams.py inputs data/tune36s7 [/path/to/other/set ...]
    python benchmarks/diagnose_streams.py layers data/tune36s7 --set clip_input_gain=1 --set convlstm.skip_init=pytorch --set rgb_clip_reference=none
    python benchmarks/diagnose_streams.py fusion runs/tune36-v2/e/fold0 data/tune36s7
    python benchmarks/diagnose_streams.py toy --task direction --set clip_input_gain=1 --set convlstm.skip_init=pytorch
    python benchmarks/diagnose_streams.py zero-frame --eps 0.01 0.1 0.3
    python benchmarks/diagnose_streams.py phases data/tune36s7 runs/tune36-v2/c/fold0 runs/tune36-v2/e/fold0
    python benchmarks/diagnose_streams.py clip-floor data/tune36s7 --k 3 --fold 0
    python benchmarks/diagnose_streams.py readout runs/tune36-e8-seed2/c/fold0 data/tune36s7
    python benchmarks/diagnose_streams.py zero-frame --eps 0.1 --seeds 2   # the smallest settings (the smoke test's,
    python benchmarks/diagnose_streams.py toy --steps 3 --subjects 2 --test-subjects 2   #  with the other questions on a tiny set)

``inputs``: per stream and channel, the scale of what the model reads (mean, std, share
clipped at ±1, share ~0), and for the RGB clip how much of it is the subject's static
appearance (the std of each clip's temporal mean) against what changes within the clip.

``layers``: at initialisation, inside each Enhanced ConvLSTM layer of each clip stream, the
variance of the three terms that eq. 2's GroupNorm sums (W_xs*x_t, o∘tanh(c_t), h_{t-2});
how much h_T still looks like the h of the clip's first frames (cosine); and the share of
the pooled h_T's variance that lies between subjects and between expressions (η²).

``gradients``: the gradient norm reaching each ConvLSTM layer, each ResNet stream and the
head of configuration (e) at initialisation, on real clips.

``fusion``: for a trained fold of a cross-validation run, what each stream adds to the
summed features: its std between clips, and the head's accuracy on training and held-out
clips with that stream held at its mean (the others as they are) and with only that stream
varying (the others held at their means).

``toy``: trains one RGB Enhanced ConvLSTM stream and the head on ``fervid.datasets.onset``
clips (in memory, seconds) and prints training loss, training and held-out-subject
accuracy and the gradient norm per layer at the first step.

``zero-frame``: for a 4-layer Enhanced ConvLSTM stack on unit-scale random clips, the
parameters' gradient norm for a clip whose first frame is all zeros (as every RGB clip's,
minus its first frame, and every flow clip's) divided by that of the same clip with its
first frame kept, and with the first frame dropped, per GroupNorm eps and seed.

``phases``: held-out clip accuracy of trained folds by the phase of the expression each
clip covers (from a synthetic set's manifest columns onset, apex, offset): neutral only,
rising, the apex held only (no motion), falling.

``clip-floor``: the temporal linear floor (``baselines.temporal_features``) computed per
16-frame clip, as the network sees the video, instead of once per whole video: fitted on
a fold's training clips, tested per held-out clip and per video (clip log-probabilities
summed), beside the per-video floor on the same fold.

``readout``: for a trained fold of configuration (c) and the same configuration freshly
initialised, a linear probe (``baselines.fit_softmax``) of each way to read the clip
streams' top layer: its last h_T (what the model reads, DESIGN.md) against h_t averaged and
maxed over the clip's 16 frames, each pooled to S×S as the model pools; fitted on the
fold's training clips, tested per held-out clip and per video.

``--set FIELD=VALUE`` changes one model setting (``FourStreamConfig``; ``convlstm.FIELD``
for ``ConvLSTMConfig``), so each run answers one question against the defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from fervid.datasets.onset import TASKS
from fervid.diagnostics.gradients import zero_frame_ratios
from fervid.diagnostics.settings import overridden
from fervid.diagnostics.streams import (
    chance_eta_squared,
    held_out_subjects,
    input_scales,
    layer_statistics,
    load_clips,
    readout_probes,
    stream_contributions,
    stream_gradient_norms,
    trained_fold,
)
from fervid.diagnostics.temporal import (
    PHASES,
    ToyTask,
    clip_floor,
    phase_outcomes,
    train_toy,
)
from fervid.models.fourstream import CLIP_STREAMS, FourStreamNet, build_config
from fervid.training.recipes import OPTIMIZERS


def describe_inputs(data: Path, every: int) -> None:
    clips, subjects, _, _ = load_clips(data, every)
    print(f"# {data}: {len(subjects)} clips of {len(set(subjects))} subjects")
    rows, rgb = input_scales(clips)
    for r in rows:
        print(f"{r['stream']:13s} ch{r['channel']}: mean {r['mean']:+.3f} std {r['std']:.3f} "
              f"clipped (|x| >= 0.999) {100 * r['clipped']:5.2f}%  ~0 (|x| < 0.01) {100 * r['zero']:5.1f}%  p99 |x| {r['p99']:.3f}")
    print(f"rgb_clip: std of the clip's temporal mean (static appearance) {rgb['appearance']:.3f}; "
          f"of each frame minus that mean {rgb['within']:.3f}; of each frame minus the clip's first {rgb['from_first']:.3f}")


def describe_layers(data: Path, every: int, overrides: list[str], seed: int, trained: Path | None = None,
                    untrained: bool = False) -> None:
    clips, subjects, labels, _ = load_clips(data, every)
    torch.manual_seed(seed)
    if trained is not None:  # a trained fold: its streams as trained, on its held-out subjects' clips only
        model = trained_fold(trained)
        if untrained:  # the same configuration as initialised (seed), on the same clips
            model = FourStreamNet(model.config)
        held_out = np.isin(subjects, held_out_subjects(trained))
        clips = {name: x[torch.as_tensor(held_out)] for name, x in clips.items()}
        subjects, labels = subjects[held_out], labels[held_out]
        overrides = [f"{'initialised as' if untrained else 'trained'}: {trained}, held-out clips"]
    else:
        model = FourStreamNet(overridden(build_config("small", "c"), overrides))
    print(f"# {data}: {len(subjects)} clips; {' '.join(overrides) or 'defaults'}; "
          f"η² of features unrelated to them: subject {chance_eta_squared(subjects):.2f}, expression {chance_eta_squared(labels):.2f}")
    print("stream     layer  var W_xs*x  var o*tanh(c)  var h_(t-2)  cos(h_T, h_first)  η² subject  η² expression")
    for r in layer_statistics(model, clips, subjects, labels):
        print(f"{r['stream']:10s} {r['layer']:5d}  {r['var_skip']:10.3f}  {r['var_lstm']:13.3f}  {r['var_h_skip']:11.3f}  "
              f"{r['cosine_first']:17.2f}  {r['eta2_subject']:10.2f}  {r['eta2_expression']:13.2f}")


def describe_gradients(data: Path, every: int, overrides: list[str], seed: int, batches: int = 4) -> None:
    clips, _, labels, _ = load_clips(data, every)
    torch.manual_seed(seed)
    model = FourStreamNet(overridden(build_config("small", "e"), overrides))
    norms = stream_gradient_norms(model, clips, labels, seed, batches)
    print(f"# {data}: gradient norms at initialisation, configuration (e), {batches} batches of 8; {' '.join(overrides) or 'defaults'}")
    for key, value in norms.items():
        print(f"{key:22s} {value:10.4f}")


def describe_fusion(fold_dir: Path, data: Path, every_train: int = 3) -> None:
    model = trained_fold(fold_dir)
    clips, subjects, labels, _ = load_clips(data, 1, model.config.face_size)
    held_out = np.isin(subjects, held_out_subjects(fold_dir))
    print(f"# {fold_dir}: streams {', '.join(model.streams)}; {data}")
    print("clips           stream          std between clips  acc. with it at its mean  acc. with only it varying")
    for part, index in (("training", np.flatnonzero(~held_out)[::every_train]), ("held-out", np.flatnonzero(held_out))):
        result = stream_contributions(model, clips, labels, index)
        print(f"{part} ({len(index)})  all streams  {'':17s}  {result['all']:.3f}")
        for name, r in result["streams"].items():
            print(f"{'':15s} {name:14s}  {r['std']:17.3f}  {r['at_mean']:24.3f}  {r['only']:26.3f}")


def describe_zero_frame(eps_values: list[float], seeds: int) -> None:
    print("# gradient norm, clip with an all-zero first frame / the same clip as it was; 4 layers x 8 channels, 16x16, 6 frames")
    print(f"{'eps':>8}  {'zero first frame, per seed':<44}  first frame dropped, per seed")
    for eps in eps_values:
        zero, dropped = zero_frame_ratios(eps, seeds)
        print(f"{eps:>8g}  {' '.join(f'{r:5.1f}' for r in zero):<44}  {' '.join(f'{r:5.2f}' for r in dropped)}")


def describe_phases(data: Path, fold_dirs: list[Path]) -> None:
    print(f"# held-out clip accuracy by the phase each clip covers; {data}")
    print(f"{'fold':<40}" + "".join(f"{p:>22}" for p in PHASES))
    for fold_dir in fold_dirs:
        right = phase_outcomes(data, fold_dir)
        print(f"{str(fold_dir):<40}" + "".join(f"{100 * np.mean(v) if v else float('nan'):>12.1f}% of {len(v):>4}" for v in right.values()))


def describe_clip_floor(data: Path, k: int, fold: int) -> None:
    r = clip_floor(data, k, fold)
    print(f"# {data}, fold {fold} of {k}: {r['train_clips']} training clips, {r['test_clips']} held-out clips of {r['test_videos']} videos")
    print(f"temporal floor per 16-frame clip: clip acc. {r['clip_acc']:.3f}, video acc. {r['video_acc']:.3f}")
    print(f"temporal floor per whole video:   video acc. {r['temporal_video']:.3f} (static: {r['static_video']:.3f})")


def describe_readouts(fold_dir: Path, data: Path, seed: int = 0) -> None:
    trained = trained_fold(fold_dir)
    if not all(name in trained.streams for name in CLIP_STREAMS):
        raise SystemExit(f"{fold_dir}: configuration with streams {list(trained.streams)}; the readout probe needs both clip streams ((b)-(e))")
    torch.manual_seed(seed)
    untrained = FourStreamNet(trained.config)
    clips, subjects, labels, videos = load_clips(data, 1, trained.config.face_size)
    held_out = np.isin(subjects, held_out_subjects(fold_dir))
    print(f"# {fold_dir}: {int((~held_out).sum())} training clips, {int(held_out.sum())} held-out clips; linear probe per readout")
    print("model        readout               held-out clip acc.  held-out video acc.  training clip acc.")
    for name, model in (("trained", trained), ("initialised", untrained)):
        for key, r in readout_probes(model, clips, labels, videos, held_out).items():
            print(f"{name:12s} {key:20s}  {r['clip_acc']:18.3f}  {r['video_acc']:19.3f}  {r['train_clip_acc']:18.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("inputs")
    p.add_argument("data", nargs="+", type=Path)
    p.add_argument("--every", type=int, default=1, help="every n-th video of the manifest")
    p = commands.add_parser("layers")
    p.add_argument("data", type=Path)
    p.add_argument("--model", type=Path, help="a trained fold (runs/x/c/fold0): measure it on its held-out subjects' clips")
    p.add_argument("--untrained", action="store_true", help="with --model: its configuration freshly initialised, same clips")
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    p = commands.add_parser("gradients")
    p.add_argument("data", type=Path)
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    p = commands.add_parser("fusion")
    p.add_argument("fold_dir", type=Path, help="a trained fold of a cross-validation run, e.g. runs/x/e/fold0")
    p.add_argument("data", type=Path, help="the preprocessed set it was trained on")
    p = commands.add_parser("zero-frame")
    p.add_argument("--eps", type=float, nargs="+", default=[1e-5, 1e-2, 0.1, 0.3])
    p.add_argument("--seeds", type=int, default=6)
    p = commands.add_parser("phases")
    p.add_argument("data", type=Path, help="a synthetic set (its manifest has onset, apex, offset)")
    p.add_argument("fold_dirs", type=Path, nargs="+")
    p = commands.add_parser("readout")
    p.add_argument("fold_dir", type=Path, help="a trained fold of configuration (c), e.g. runs/x/c/fold0")
    p.add_argument("data", type=Path, help="the preprocessed set it was trained on")
    p = commands.add_parser("clip-floor")
    p.add_argument("data", type=Path)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--fold", type=int, default=0)
    p = commands.add_parser("toy")
    # A flag per ToyTask field, its default the field's: the learning test of tests/models/test_fourstream.py.
    choices = {"task": sorted(TASKS), "optimizer": OPTIMIZERS}
    helps = {"channels": "hidden channels of each ConvLSTM layer", "seed": "model initialisation and batch order",
             "data_seed": "training clips; the held-out clips use the next seed"}
    for field in dataclasses.fields(ToyTask):
        p.add_argument("--" + field.name.replace("_", "-"), type=type(field.default), default=field.default,
                       choices=choices.get(field.name), help=helps.get(field.name))
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args()
    try:
        run(args)
    except ValueError as error:  # a set without preprocessed videos, a --set naming no field
        raise SystemExit(str(error)) from None


def run(args) -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if args.command == "inputs":
        for data in args.data:
            describe_inputs(data, args.every)
    elif args.command == "layers":
        describe_layers(args.data, args.every, args.set, args.seed, args.model, args.untrained)
    elif args.command == "gradients":
        describe_gradients(args.data, args.every, args.set, args.seed)
    elif args.command == "fusion":
        describe_fusion(args.fold_dir, args.data)
    elif args.command == "readout":
        describe_readouts(args.fold_dir, args.data)
    elif args.command == "clip-floor":
        describe_clip_floor(args.data, args.k, args.fold)
    elif args.command == "phases":
        describe_phases(args.data, args.fold_dirs)
    elif args.command == "zero-frame":
        describe_zero_frame(args.eps, args.seeds)
    else:
        toy = ToyTask(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ToyTask)})
        print(json.dumps(train_toy(toy, args.set)))


if __name__ == "__main__":
    main()
