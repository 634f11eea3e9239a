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
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from common import override

from fervid.checkpoint import load_model
from fervid.clips.arrays import PreprocessSettings
from fervid.clips.cache import PreprocessCache
from fervid.clips.inputs import clip_inputs
from fervid.datasets import read_manifest
from fervid.datasets.onset import TASKS, onset_clips
from fervid.labels import EXPRESSIONS
from fervid.models.fourstream import CLIP_STREAMS, FourStreamNet, build_config
from fervid.training.recipes import OPTIMIZERS


def model_config(ablation: str, overrides: list[str], **fields):
    config = dataclasses.replace(build_config("small", ablation), **fields)
    for item in overrides:
        config = override(config, item)
    return config


def load_clips(data: Path, every: int, face_size: int = 32, with_videos: bool = False):
    """Every clip of every ``every``-th video of a preprocessed set: {stream: (N, ...)} for
    the four streams, subjects (N,), labels (N,) and, ``with_videos``, each clip's video's
    index in the manifest (N,)."""
    entries = read_manifest(data / "manifest.csv")[::every]
    cache = PreprocessCache(data / "cache", PreprocessSettings(face_size=face_size))
    inputs, subjects, labels, videos = [], [], [], []
    for index, e in enumerate(entries):
        if not cache.has(e.path):
            continue
        arrays = cache.load(e.path)
        for clip in range(len(arrays["clip_starts"])):
            inputs.append(clip_inputs(arrays, clip, cache.settings.clip_len))
            subjects.append(e.subject)
            videos.append(index)
            labels.append(EXPRESSIONS.index(e.label) if e.label in EXPRESSIONS else -1)
    if not inputs:
        raise SystemExit(f"{data}: no preprocessed videos in {cache.folder}; run `fervid preprocess {data}/manifest.csv --cache {data}/cache`")
    stacked = {name: torch.stack([x[name] for x in inputs]) for name in inputs[0]}
    if with_videos:
        return stacked, np.array(subjects), np.array(labels), np.array(videos)
    return stacked, np.array(subjects), np.array(labels)


def describe_inputs(data: Path, every: int) -> None:
    clips, subjects, _ = load_clips(data, every)
    print(f"# {data}: {len(subjects)} clips of {len(set(subjects))} subjects")
    for name, x in clips.items():
        channel_axis = 2 if x.ndim == 5 else 1
        for ch in range(x.shape[channel_axis]):
            v = x.select(channel_axis, ch).abs()
            print(f"{name:13s} ch{ch}: mean {x.select(channel_axis, ch).mean():+.3f} std {x.select(channel_axis, ch).std():.3f} "
                  f"clipped (|x| >= 0.999) {100 * (v >= 0.999).float().mean():5.2f}%  ~0 (|x| < 0.01) {100 * (v < 0.01).float().mean():5.1f}%  "
                  f"p99 |x| {v.flatten().kthvalue(int(0.99 * v.numel())).values:.3f}")
    rgb = clips["rgb_clip"]
    mean = rgb.mean(1, keepdim=True)
    print(f"rgb_clip: std of the clip's temporal mean (static appearance) {mean.std():.3f}; "
          f"of each frame minus that mean {(rgb - mean).std():.3f}; of each frame minus the clip's first {(rgb - rgb[:, :1]).std():.3f}")


def eta_squared(features: np.ndarray, groups: np.ndarray) -> float:
    """Share of the features' total variance that lies between the groups' means."""
    total = features.var(0).sum()
    between = sum((groups == g).sum() * ((features[groups == g].mean(0) - features.mean(0)) ** 2).sum() for g in np.unique(groups))
    return float(between / len(features) / max(total, 1e-12))


@torch.no_grad()
def describe_layers(data: Path, every: int, overrides: list[str], seed: int, trained: Path | None = None,
                    untrained: bool = False) -> None:
    clips, subjects, labels = load_clips(data, every)
    torch.manual_seed(seed)
    if trained is not None:  # a trained fold: its streams as trained, on its held-out subjects' clips only
        model, _ = load_model(trained / "model.safetensors")
        if untrained:  # the same configuration as initialised (seed), on the same clips
            model = FourStreamNet(model.config)
        held_out = np.isin(subjects, json.loads((trained / "split.json").read_text())["test_subjects"])
        clips = {name: x[torch.as_tensor(held_out)] for name, x in clips.items()}
        subjects, labels = subjects[held_out], labels[held_out]
        overrides = [f"{'initialised as' if untrained else 'trained'}: {trained}, held-out clips"]
    else:
        model = FourStreamNet(model_config("c", overrides))
    model.eval()
    chance = lambda groups: (len(set(groups)) - 1) / (len(groups) - 1)  # noqa: E731  η² of random features
    print(f"# {data}: {len(subjects)} clips; {' '.join(overrides) or 'defaults'}; "
          f"η² of features unrelated to them: subject {chance(subjects):.2f}, expression {chance(labels):.2f}")
    print("stream     layer  var W_xs*x  var o*tanh(c)  var h_(t-2)  cos(h_T, h_first)  η² subject  η² expression")
    for name in (n for n in CLIP_STREAMS if n in model.streams):
        stream = model.streams[name]
        x = stream.prepare(clips[name])
        batch, frames = x.shape[:2]
        layer_in = x.transpose(0, 1).flatten(0, 1)  # (T*B, C, H, W)
        for layer, cell in enumerate(stream.convlstm.cells):
            projections = stream.convlstm._project_frames(cell, layer_in, frames, batch)
            state, hidden, terms = None, [], []
            for t in range(frames):
                gates, skip = projections[t]
                if state is not None:
                    gates = gates + cell.hidden_conv(state.h)
                lstm_out, _ = cell._gates_to_output(gates, None if state is None else state.c)
                if t >= 2:
                    terms.append([skip.var().item(), lstm_out.var().item(), state.h_prev.var().item()])
                h, state = cell.step(projections[t], state)
                hidden.append(h)
            stacked = torch.stack(hidden)  # (T, B, Ch, H, W)
            layer_in = stacked.flatten(0, 1)
            first = stacked[(frames - 1) % 2]  # the earliest h of the same parity as h_T
            cosine = F.cosine_similarity(stacked[-1].flatten(1), first.flatten(1)).mean().item()
            pooled = stream.pool(stacked[-1]).flatten(1).numpy()
            v = np.mean(terms, 0)
            known = labels >= 0
            print(f"{name:10s} {layer + 1:5d}  {v[0]:10.3f}  {v[1]:13.3f}  {v[2]:11.3f}  {cosine:17.2f}  "
                  f"{eta_squared(pooled, subjects):10.2f}  {eta_squared(pooled[known], labels[known]):13.2f}")


def describe_gradients(data: Path, every: int, overrides: list[str], seed: int, batches: int = 4) -> None:
    """Gradient norm reaching each ConvLSTM layer, each ResNet stream and the head of
    configuration (e) at initialisation, averaged over a few batches of 8 real clips."""
    clips, _, labels = load_clips(data, every)
    torch.manual_seed(seed)
    model = FourStreamNet(model_config("e", overrides))
    norms: dict[str, list[float]] = {}
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    for b in range(batches):
        index = order[b * 8 : (b + 1) * 8]
        model.zero_grad()
        F.cross_entropy(model({k: v[index] for k, v in clips.items()}), torch.as_tensor(labels[index])).backward()
        groups = {f"{name} layer {i + 1}": cell for name in CLIP_STREAMS for i, cell in enumerate(model.streams[name].convlstm.cells)}
        groups.update({name: model.streams[name] for name in ("rgb_dynamic", "flow_dynamic")}, head=model.head)
        for key, module in groups.items():
            norms.setdefault(key, []).append(float(torch.cat([p.grad.flatten() for p in module.parameters()]).norm()))
    print(f"# {data}: gradient norms at initialisation, configuration (e), {batches} batches of 8; {' '.join(overrides) or 'defaults'}")
    for key, values in norms.items():
        print(f"{key:22s} {np.mean(values):10.4f}")


@torch.no_grad()
def describe_fusion(fold_dir: Path, data: Path, every_train: int = 3) -> None:
    model, _ = load_model(fold_dir / "model.safetensors")
    model.eval()
    test_subjects = set(json.loads((fold_dir / "split.json").read_text())["test_subjects"])
    clips, subjects, labels = load_clips(data, 1, model.config.face_size)
    held_out = np.isin(subjects, list(test_subjects))
    print(f"# {fold_dir}: streams {', '.join(model.streams)}; {data}")
    print("clips           stream          std between clips  acc. with it at its mean  acc. with only it varying")
    for part, index in (("training", np.flatnonzero(~held_out)[::every_train]), ("held-out", np.flatnonzero(held_out))):
        features = {name: torch.cat([stream(clips[name][index[s:s + 64]]) for s in range(0, len(index), 64)])
                    for name, stream in model.streams.items()}
        means = {name: f.mean(0, keepdim=True) for name, f in features.items()}
        target = torch.as_tensor(labels[index])

        def accuracy(summed: torch.Tensor) -> float:
            return (model.head(summed).argmax(1) == target).float().mean().item()

        total = sum(features.values())
        print(f"{part} ({len(index)})  all streams  {'':17s}  {accuracy(total):.3f}")
        for name, f in features.items():
            only = f + sum(means[other] for other in features if other != name)
            print(f"{'':15s} {name:14s}  {f.std(0).mean().item():17.3f}  {accuracy(total - f + means[name]):24.3f}  {accuracy(only):26.3f}")


def train_toy(args) -> dict:
    """One RGB Enhanced ConvLSTM stream + head on the onset/direction task."""
    size = args.size
    x_train, y_train, _ = onset_clips(args.subjects, args.clips_per_subject, size=size, frames=args.frames,
                                      seed=args.data_seed, task=args.task, shift=args.shift)
    x_test, y_test, _ = onset_clips(args.test_subjects, args.clips_per_subject, size=size, frames=args.frames,
                                    seed=args.data_seed + 1, task=args.task, shift=args.shift)
    small = build_config("small", "c")
    config = model_config("c", args.set, streams=("rgb_clip",), face_size=size, num_classes=len(TASKS[args.task]),
                          convlstm=dataclasses.replace(small.convlstm, hidden_channels=(args.channels,) * 4),
                          fc_channels=(32, 32), dropout=0.0)
    torch.manual_seed(args.seed)
    model = FourStreamNet(config)
    if args.optimizer == "adamw":
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    generator = torch.Generator().manual_seed(args.seed)
    cells = model.streams["rgb_clip"].convlstm.cells
    start, losses, first_grads = time.perf_counter(), [], {}
    for step in range(args.steps):
        batch = torch.randint(len(x_train), (args.batch_size,), generator=generator)
        loss = F.cross_entropy(model({"rgb_clip": x_train[batch]}), y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            first_grads = {f"layer{i + 1}": float(torch.cat([p.grad.flatten() for p in c.parameters() if p.grad is not None]).norm())
                           for i, c in enumerate(cells)}
            first_grads["head"] = float(torch.cat([p.grad.flatten() for p in model.head.parameters()]).norm())
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        train_acc = (model({"rgb_clip": x_train}).argmax(1) == y_train).float().mean().item()
        test_acc = (model({"rgb_clip": x_test}).argmax(1) == y_test).float().mean().item()
    return {"task": args.task, "set": args.set, "optimizer": args.optimizer, "lr": args.lr, "steps": args.steps,
            "train_loss_last10": round(float(np.mean(losses[-10:])), 4), "train_acc": round(train_acc, 3),
            "held_out_acc": round(test_acc, 3), "grad_norm_step0": {k: round(v, 4) for k, v in first_grads.items()},
            "seconds": round(time.perf_counter() - start, 1)}


def zero_frame_ratios(eps_values: list[float], seeds: int) -> None:
    from fervid.models.convlstm import ConvLSTM, ConvLSTMConfig

    print("# gradient norm, clip with an all-zero first frame / the same clip as it was; 4 layers x 8 channels, 16x16, 6 frames")
    print(f"{'eps':>8}  {'zero first frame, per seed':<44}  first frame dropped, per seed")
    for eps in eps_values:
        zero, dropped = [], []
        for seed in range(seeds):
            torch.manual_seed(seed)
            stack = ConvLSTM(2, (16, 16), ConvLSTMConfig(hidden_channels=(8,) * 4, norm_groups=2, norm_eps=eps))
            clip, direction = torch.randn(4, 6, 2, 16, 16), torch.randn(4, 8, 16, 16)

            def grad_norm(x: torch.Tensor) -> float:
                stack.zero_grad()
                out, _ = stack(x)
                (out[:, -1] * direction).sum().backward()
                return torch.sqrt(sum(p.grad.square().sum() for p in stack.parameters())).item()

            ordinary = grad_norm(clip)
            dropped.append(grad_norm(clip[:, 1:]) / ordinary)
            clip[:, 0] = 0
            zero.append(grad_norm(clip) / ordinary)
        print(f"{eps:>8g}  {' '.join(f'{r:5.1f}' for r in zero):<44}  {' '.join(f'{r:5.2f}' for r in dropped)}")


PHASES = ("neutral only", "rising", "apex held only", "falling")


def clip_phase(onset: int, apex: int, offset: int, start: int, length: int = 16) -> str:
    end = start + length - 1
    if end < onset:
        return "neutral only"
    if start <= apex:
        return "rising"
    return "apex held only" if end <= offset else "falling"


def describe_phases(data: Path, fold_dirs: list[Path]) -> None:
    import csv

    with open(data / "manifest.csv", newline="") as f:
        course = {(data / r["path"]).as_posix(): tuple(int(r[k]) for k in ("onset", "apex", "offset")) for r in csv.DictReader(f)}
    print(f"# held-out clip accuracy by the phase each clip covers; {data}")
    print(f"{'fold':<40}" + "".join(f"{p:>22}" for p in PHASES))
    for fold_dir in fold_dirs:
        right: dict[str, list[int]] = {p: [] for p in PHASES}
        with open(fold_dir / "predictions_clips.csv", newline="") as f:
            for row in csv.DictReader(f):
                right[clip_phase(*course[Path(row["video"]).as_posix()], int(row["start_frame"]))].append(int(row["correct"]))
        print(f"{str(fold_dir):<40}" + "".join(f"{100 * np.mean(v) if v else float('nan'):>12.1f}% of {len(v):>4}" for v in right.values()))


def clip_floor(data: Path, k: int, fold: int) -> None:
    from fervid.datasets import fold_split
    from fervid.evaluation.baselines import (
        fit_softmax,
        grey_crops,
        linear_floors,
        log_prob,
        temporal_features,
    )

    cache = PreprocessCache(data / "cache", PreprocessSettings())
    train, test = fold_split([e for e in read_manifest(data / "manifest.csv") if cache.has(e.path)], k, fold)

    def videos(entries):
        out = []
        for e in entries:
            arrays = cache.load(e.path, names=("rgb", "fps", "n_frames", "clip_starts"))
            out.append((arrays["rgb"][: int(arrays["n_frames"])], float(arrays["fps"]), EXPRESSIONS.index(e.label),
                        arrays["clip_starts"]))
        return out

    def clip_features(video_list):
        x, y, owner = [], [], []
        for i, (rgb, fps, label, starts) in enumerate(video_list):
            crops = grey_crops(rgb)
            for start in starts:
                window = crops[start:start + cache.settings.clip_len]
                if len(window) < cache.settings.clip_len:  # a short video's clip: padded with its last frame, as the network's
                    window = np.concatenate([window, np.repeat(window[-1:], cache.settings.clip_len - len(window), 0)])
                x.append(temporal_features(window, fps))
                y.append(label)
                owner.append(i)
        return np.stack(x), np.array(y), np.array(owner)

    train_videos, test_videos = videos(train), videos(test)
    x_train, y_train, _ = clip_features(train_videos)
    x_test, y_test, owner = clip_features(test_videos)
    lp = log_prob(fit_softmax(x_train, y_train, len(EXPRESSIONS)), x_test)
    video_pred = np.array([lp[owner == i].sum(0).argmax() for i in range(len(test_videos))])
    video_true = np.array([v[2] for v in test_videos])
    whole = linear_floors([v[:3] for v in train_videos], [v[:3] for v in test_videos])
    print(f"# {data}, fold {fold} of {k}: {len(x_train)} training clips, {len(x_test)} held-out clips of {len(test_videos)} videos")
    print(f"temporal floor per 16-frame clip: clip acc. {np.mean(lp.argmax(1) == y_test):.3f}, video acc. {np.mean(video_pred == video_true):.3f}")
    print(f"temporal floor per whole video:   video acc. {whole['temporal_video']:.3f} (static: {whole['static_video']:.3f})")


@torch.no_grad()
def describe_readouts(fold_dir: Path, data: Path, seed: int = 0) -> None:
    from fervid.evaluation.baselines import fit_softmax, log_prob

    trained, _ = load_model(fold_dir / "model.safetensors")
    if not all(name in trained.streams for name in CLIP_STREAMS):
        raise SystemExit(f"{fold_dir}: configuration with streams {list(trained.streams)}; the readout probe needs both clip streams ((b)-(e))")
    torch.manual_seed(seed)
    untrained = FourStreamNet(trained.config)
    test_subjects = set(json.loads((fold_dir / "split.json").read_text())["test_subjects"])
    clips, subjects, labels, video_ids = load_clips(data, 1, trained.config.face_size, with_videos=True)
    held_out = np.isin(subjects, list(test_subjects))
    print(f"# {fold_dir}: {int((~held_out).sum())} training clips, {int(held_out.sum())} held-out clips; linear probe per readout")
    print("model        readout               held-out clip acc.  held-out video acc.  training clip acc.")
    for name, model in (("trained", trained), ("initialised", untrained)):
        model.eval()
        reads = {"last h_T": [], "mean over t": [], "max over t": []}
        for start in range(0, len(labels), 64):
            parts = {key: [] for key in reads}
            for stream_name in CLIP_STREAMS:
                stream = model.streams[stream_name]
                hidden, _ = stream.convlstm(stream.prepare(clips[stream_name][start:start + 64]))  # (B, T, Ch, H, W)
                parts["last h_T"].append(stream.pool(hidden[:, -1]).flatten(1))
                parts["mean over t"].append(stream.pool(hidden.mean(1)).flatten(1))
                parts["max over t"].append(stream.pool(hidden.amax(1)).flatten(1))
            for key in reads:
                reads[key].append(torch.cat(parts[key], 1))
        for key, chunks in reads.items():
            x = torch.cat(chunks).float().numpy()
            probe = fit_softmax(x[~held_out], labels[~held_out], len(EXPRESSIONS))
            lp = log_prob(probe, x[held_out])
            videos = video_ids[held_out]
            video_hits = [lp[videos == v].sum(0).argmax() == labels[held_out][videos == v][0] for v in np.unique(videos)]
            train_acc = np.mean(log_prob(probe, x[~held_out]).argmax(1) == labels[~held_out])
            print(f"{name:12s} {key:20s}  {np.mean(lp.argmax(1) == labels[held_out]):18.3f}  {np.mean(video_hits):19.3f}  {train_acc:18.3f}", flush=True)


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
    p.add_argument("--task", choices=sorted(TASKS), default="direction")
    # Defaults: the learning test of tests/models/test_fourstream.py.
    p.add_argument("--subjects", type=int, default=24)
    p.add_argument("--test-subjects", type=int, default=16)
    p.add_argument("--clips-per-subject", type=int, default=8)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--frames", type=int, default=12)
    p.add_argument("--channels", type=int, default=8, help="hidden channels of each ConvLSTM layer")
    p.add_argument("--shift", type=float, default=0.08)
    p.add_argument("--steps", type=int, default=120)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adamw")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0, help="model initialisation and batch order")
    p.add_argument("--data-seed", type=int, default=1, help="training clips; the held-out clips use the next seed")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if args.command == "inputs":
        for data in args.data:
            describe_inputs(data, args.every)
    elif args.command == "layers":
        with torch.no_grad():
            describe_layers(args.data, args.every, args.set, args.seed, args.model, args.untrained)
    elif args.command == "gradients":
        describe_gradients(args.data, args.every, args.set, args.seed)
    elif args.command == "fusion":
        describe_fusion(args.fold_dir, args.data)
    elif args.command == "readout":
        describe_readouts(args.fold_dir, args.data)
    elif args.command == "clip-floor":
        clip_floor(args.data, args.k, args.fold)
    elif args.command == "phases":
        describe_phases(args.data, args.fold_dirs)
    elif args.command == "zero-frame":
        zero_frame_ratios(args.eps, args.seeds)
    else:
        print(json.dumps(train_toy(args)))


if __name__ == "__main__":
    main()
