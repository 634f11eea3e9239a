"""Does a configuration learn the expressions or the training subjects? Trains it on one
fold of a *tuning* set and prints, per epoch, training clip accuracy beside clip and
video accuracy on the held-out subjects; draws both curves.

Diagnosis only: the held-out accuracy per epoch is exactly what must never pick epochs or
settings for a reported result, so run this on a set drawn with another seed than the one
you report on (the README's main job reports seed 0; this defaults to seed 1).

    fervid dataset synth -o data/synth-tune --subjects 9 --takes 2 --seed 1
    fervid preprocess data/synth-tune/manifest.csv --cache data/synth-tune/cache
    python benchmarks/diagnose_generalisation.py data/synth-tune --configs a,c --epochs 40 --mirror 0.5 -o docs/diagnosis
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from fervid.atomic import write_json
from fervid.clips.arrays import PreprocessSettings
from fervid.clips.cache import PreprocessCache
from fervid.datasets import fold_split, read_manifest, subject_groups
from fervid.datasets.splits import natural_key
from fervid.diagnostics.runs import preprocessed_clip_set
from fervid.diagnostics.settings import override
from fervid.evaluation.baselines import linear_floors
from fervid.evaluation.report import plot_curves
from fervid.models.fourstream import build_config
from fervid.training.crossval import floor_videos
from fervid.training.recipes import OPTIMIZERS, TrainConfig
from fervid.training.train import train


def clip_set(entries, cache: PreprocessCache, streams):
    try:
        return preprocessed_clip_set(entries, cache, streams)
    except ValueError as error:
        raise SystemExit(str(error)) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a synthetic set's folder (manifest.csv, cache/)")
    parser.add_argument("--configs", default="a,c")
    parser.add_argument("--k", type=int, default=3, help="subject groups")
    parser.add_argument("--fold", type=int, default=0, help="the held-out group")
    parser.add_argument("--train-subjects", type=int, default=0,
                        help="train on only the first N training subjects (natural order; 0: all), for a learning curve in subjects")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS)
    parser.add_argument("--rgb-reference", default=None, choices=["first", "none"],
                        help="what the RGB ConvLSTM stream reads (default: the preset's)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a model setting, e.g. clip_input_gain=1 or convlstm.skip_init=pytorch (repeatable)")
    parser.add_argument("--mirror", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--clips-per-video", type=int, default=2, help="clips drawn per training video and epoch (0: all, as crossval)")
    parser.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay)
    parser.add_argument("--seed", type=int, default=0, help="training seed (initialisation, order, mirror draws)")
    parser.add_argument("--stream-loss", type=float, default=0.0, help="weight of the per-stream losses (TrainConfig.stream_loss)")
    parser.add_argument("--stream-probes", action="store_true",
                        help="linear probes on each stream's detached features, trained alongside (training unchanged): "
                             "each stream's training and held-out accuracy per epoch")
    parser.add_argument("--fuse-gates", action="store_true", help="fused ConvLSTM gate arithmetic (same results to rounding)")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--streams", default="", help="only these streams of each configuration, e.g. flow_clip")
    parser.add_argument("--floors", action="store_true",
                        help="also fit the linear floors (fervid.evaluation.baselines, as every crossval report) on the same training and held-out videos")
    parser.add_argument("-o", "--out", default="runs/diagnosis")
    args = parser.parse_args()

    data, out = Path(args.data), Path(args.out)
    entries = read_manifest(data / "manifest.csv")
    groups = subject_groups([e.subject for e in entries], args.k)
    train_entries, held_out = fold_split(entries, args.k, args.fold, groups)
    if args.train_subjects:
        kept = sorted({e.subject for e in train_entries}, key=natural_key)[: args.train_subjects]
        if len(kept) < args.train_subjects:
            raise SystemExit(f"--train-subjects {args.train_subjects}: fold {args.fold} has only {len(kept)} training subjects")
        train_entries = [e for e in train_entries if e.subject in kept]
    config = TrainConfig(recipe="fervid" if args.optimizer == "adamw" else "paper",
                         epochs=args.epochs, stage_epochs=0, lr=args.lr, optimizer=args.optimizer, mirror=args.mirror,
                         clips_per_video=args.clips_per_video or None, weight_decay=args.weight_decay, seed=args.seed,
                         batch_size=args.batch_size, precision=args.precision, fuse_gates=args.fuse_gates,
                         stream_loss=args.stream_loss, stream_probes=args.stream_probes)
    histories = {}
    if args.floors:
        cache = PreprocessCache(data / "cache", PreprocessSettings(face_size=build_config("small").face_size))
        floors = linear_floors(floor_videos(train_entries, cache), floor_videos(held_out, cache))  # as crossval's reports
        print(f"# linear floors, per held-out video: static {floors['static_video']:.3f}, temporal {floors['temporal_video']:.3f}", flush=True)
    for ablation in args.configs.split(","):
        model_config = build_config("small", ablation)
        if args.rgb_reference:
            model_config = dataclasses.replace(model_config, rgb_clip_reference=args.rgb_reference)
        for item in args.set:
            model_config = override(model_config, item)
        name = f"({ablation})"
        if args.streams:
            streams = tuple(s for s in model_config.streams if s in args.streams.split(","))
            if not streams:
                raise SystemExit(f"configuration ({ablation}) has none of the streams {args.streams}")
            model_config, name = dataclasses.replace(model_config, streams=streams), f"({ablation}) {'+'.join(streams)}"
        cache = PreprocessCache(data / "cache", PreprocessSettings(face_size=model_config.face_size))
        start = time.perf_counter()
        _, history = train(model_config, config, clip_set(train_entries, cache, model_config.streams), out / ablation,
                           val_clips=clip_set(held_out, cache, model_config.streams), progress=False)
        histories[name] = [history]
        print(f"# {name}, {len(train_entries)} training videos of {len({e.subject for e in train_entries})} subjects, {len(held_out)} held-out videos "
              f"(subjects {sorted({e.subject for e in held_out})}), {time.perf_counter() - start:.0f} s")
        heads = [s for s in model_config.streams if f"train_clip_acc_{s}" in history[0]]
        print("epoch  train loss  train clip acc  held-out clip acc  held-out video acc"
              + "".join(f"  {s}: train/held-out clip/video" for s in heads))
        for row in history:
            print(f"{row['epoch']:5d}  {row['train_loss']:10.3f}  {row['train_clip_acc']:14.3f}  "
                  f"{row['val_clip_acc']:17.3f}  {row['val_video_acc']:18.3f}"
                  + "".join(f"  {row[f'train_clip_acc_{s}']:.3f}/{row[f'val_clip_acc_{s}']:.3f}/{row[f'val_video_acc_{s}']:.3f}"
                            for s in heads), flush=True)
    plot_curves(histories, out / "curves.png", keys=("train_loss", "train_clip_acc", "val_video_acc"))
    write_json(out / "diagnosis.json", {"args": vars(args), "config": dataclasses.asdict(config), "histories": histories,
                                        "linear_floors": {k: floors[k] for k in ("static_video", "temporal_video")} if args.floors else None})
    print(f"figure: {out / 'curves.png'}")


if __name__ == "__main__":
    main()
