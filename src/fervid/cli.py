"""The ``fervid`` command: parses arguments and calls the Python API, nothing else."""

from __future__ import annotations

import argparse
import sys

from .models.fourstream import ABLATIONS, PRESETS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fervid", description="Facial expression recognition from video (Enhanced ConvLSTM).")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="parameter counts and one training step on random clips")
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--ablation", choices=sorted(ABLATIONS), default="e", help="paper Table 2 configuration")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--seed", type=int, default=0)

    p = commands.add_parser("preprocess", help="videos -> face crops, flow, clips, dynamic images (cached)")
    p.add_argument("inputs", nargs="+", help="video files, folders of videos, or manifest CSV files")
    p.add_argument("--preset", choices=sorted(PRESETS), default="small", help="face size of this model preset")
    p.add_argument("--face-size", type=int, help="override the preset's face size")
    p.add_argument("--dynamic", choices=["rank", "mean"], default="rank", help="dynamic image method")
    p.add_argument("--openface-dir", help="use OpenFace 2.0 output (<stem>.csv, <stem>_aligned/) from this folder")
    p.add_argument("--cache", default="data/cache", help="cache root folder")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--no-progress", action="store_true")

    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import demo

        demo(preset=args.preset, ablation=args.ablation, batch=args.batch, out=args.out, seed=args.seed)
    elif args.command == "preprocess":
        return _preprocess(args)
    return 0


def _videos_from(inputs: list[str]) -> list:
    """Expand manifests (CSV) and folders into video paths."""
    from .video import find_videos

    videos = []
    for item in inputs:
        if item.lower().endswith(".csv"):
            from .datasets import read_manifest

            videos += [entry.path for entry in read_manifest(item)]
        else:
            videos += find_videos([item])
    return videos


def _preprocess(args: argparse.Namespace) -> int:
    from .cache import preprocess
    from .preprocess import PreprocessSettings

    settings = PreprocessSettings(
        face_size=args.face_size or PRESETS[args.preset].face_size,
        dynamic=args.dynamic,
        face_source="openface" if args.openface_dir else "blazeface",
        openface_dir=args.openface_dir,
    )
    try:
        videos = _videos_from(args.inputs)
    except (OSError, ValueError) as err:
        print(f"fervid preprocess: {err}", file=sys.stderr)
        return 2
    if not videos:
        print(f"fervid preprocess: no videos found in {args.inputs}", file=sys.stderr)
        return 2
    report = preprocess(videos, args.cache, settings, workers=args.workers, progress=not args.no_progress)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
