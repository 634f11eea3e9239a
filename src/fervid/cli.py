"""The ``fervid`` command: parses arguments and calls the Python API, nothing else."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from .models.fourstream import ABLATIONS, PRESETS
from .precision import PRECISIONS


def _configs(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in ABLATIONS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"configurations are letters from {','.join(sorted(ABLATIONS))}, got {text!r}")
    return names


def _folds(text: str) -> list[int]:
    try:
        return [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"folds are comma-separated group numbers, got {text!r}") from None


def _add_precision_arg(p: argparse.ArgumentParser, default: str = "auto") -> None:
    p.add_argument("--precision", choices=PRECISIONS, default=default, help="auto: bfloat16 where the device runs it natively")


def _add_progress_args(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--progress", action="store_true", help="progress bars even when stderr is not a terminal")
    group.add_argument("--no-progress", action="store_true", help="no progress output")


def _progress(args: argparse.Namespace) -> bool | None:
    """fervid.progress's three values: bars on a terminal (None), forced (True), none (False)."""
    return True if args.progress else False if args.no_progress else None


def _add_frame_rate_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frame-rate", type=float,
                   help="frames per second of frame folders (default: 30, video.FRAME_FOLDER_FPS; video files carry their own)")


def _add_layout_args(p: argparse.ArgumentParser, layout: str | None) -> None:
    if layout in ("dfew", None):
        p.add_argument("--clips", choices=["original", "clip_224x224", "clip_224x224_16f"],
                       help="DFEW: which copy of the clips (default: the first present, in this order)")
    if layout in ("folders", None):
        p.add_argument("--subject-pattern", help="folders: a regular expression whose first group, searched in "
                                                 "each video's path below ROOT, is its subject, e.g. '/(P\\d+)/' "
                                                 "(default: every video its own)")


def _layout_scan(layout: str, root: str, args: argparse.Namespace):
    from .datasets.layouts import LAYOUTS

    if layout == "dfew":
        return LAYOUTS[layout](root, clips=args.clips)
    if layout == "folders":
        return LAYOUTS[layout](root, subject_pattern=args.subject_pattern)
    return LAYOUTS[layout](root)


def _add_max_faces_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-faces", type=int, default=1,
                   help="follow up to this many faces at once, each with its own id and predictions (default 1: "
                        "one face, the most confident track, as training sees it)")


def _add_prediction_fuse_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fuse-gates", action="store_true",
                   help="fuse the ConvLSTM gate arithmetic with torch.compile, compiled in a background thread while "
                        "the first steps run unfused: worth it at the paper preset or on long input (docs/performance.md)")


_FIELD_TYPES = {"int": int, "float": float, "str": str, "int | None": int, "str | None": str}


def add_config_flags(p: argparse.ArgumentParser, config_class, defaults: dict[str, object] | None = None,
                     skip: tuple[str, ...] = ()) -> None:
    """A flag per field of the dataclass ``config_class`` (``--batch-size`` for
    ``batch_size``), its help the field's ``help`` metadata; every flag defaults to None,
    "not given" (``config_overrides``). ``defaults``: per field, the text to show as its
    default (e.g. each recipe's value). A bool field gets ``--name``/``--no-name``."""
    for f in dataclasses.fields(config_class):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        help = f.metadata["help"] + (f"; default: {defaults[f.name]}" if defaults and f.name in defaults else "")
        if f.type == "bool":
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help)
        else:
            p.add_argument(flag, type=_FIELD_TYPES[f.type], choices=f.metadata.get("choices"), default=None, help=help)


def config_overrides(args: argparse.Namespace, config_class) -> dict[str, object]:
    """The fields of ``config_class`` given on the command line (``add_config_flags``)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class)
            if getattr(args, f.name, None) is not None}


def _add_training_args(p: argparse.ArgumentParser) -> None:
    from .training.recipes import RECIPES, TrainConfig

    p.add_argument("manifest", help="manifest CSV (path, label, subject)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--k", type=int, default=5, help="subject groups (paper: 5)")
    p.add_argument("-o", "--out", required=True, help="run folder")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="fervid",
                   help="training recipe (TrainConfig preset): paper = momentum SGD and nothing added; fervid (default) = "
                        "AdamW, mirroring, 16 + 8 epochs in two stages (--stage-epochs, --epochs; docs/method.md, 'Training recipes'); the flags "
                        "below override single settings")
    def default(field: str) -> str:
        values = {name: getattr(recipe, field) for name, recipe in RECIPES.items()}
        if len(set(map(str, values.values()))) == 1:
            return str(next(iter(values.values())))
        return "the recipe's (" + "; ".join(f"{name}: {value}" for name, value in values.items()) + ")"

    add_config_flags(p, TrainConfig, {f.name: default(f.name) for f in dataclasses.fields(TrainConfig)}, skip=("recipe",))
    p.add_argument("--stream-dropout", type=float, default=0.0,
                   help="probability of dropping a stream's features for a training clip (FourStreamConfig.stream_dropout); not in the paper")
    p.add_argument("--cache", default="data/cache", help="preprocessed-data cache root")
    p.add_argument("--workers", type=int, default=1, help="preprocessing processes")
    _add_preprocess_args(p)
    _add_progress_args(p)


def _add_preprocess_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dynamic", choices=["rank", "mean"], default="rank", help="dynamic image method")
    p.add_argument("--openface-dir", help="use OpenFace 2.0 output (<stem>.csv, <stem>_aligned/) from this folder")
    _add_frame_rate_arg(p)


def preprocess_settings(args: argparse.Namespace, face_size: int):
    """The ``PreprocessSettings`` of ``_add_preprocess_args``' flags, for faces of ``face_size``."""
    from .clips.arrays import PreprocessSettings

    return PreprocessSettings(face_size=face_size, dynamic=args.dynamic,
                              face_source="openface" if args.openface_dir else "blazeface",
                              openface_dir=args.openface_dir, frame_folder_fps=args.frame_rate)


def train_config(args: argparse.Namespace):
    """The ``TrainConfig`` of ``fervid crossval``/``train``: the recipe, with the flags given."""
    from .training.recipes import RECIPES, TrainConfig

    return dataclasses.replace(RECIPES[args.recipe], **config_overrides(args, TrainConfig))


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and flag (tests parse the commands the README shows with it)."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="fervid", description="Facial expression recognition from video (Enhanced ConvLSTM).")
    parser.add_argument("--version", action="version", version=f"fervid {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="the main job: synthetic set -> preprocess -> reduced cross-validation -> report")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--data", default="data/synth-demo")
    p.add_argument("--workers", type=int, default=2)
    _add_progress_args(p)

    p = commands.add_parser("info", help="parameter counts, and one training step on random clips, saved and reloaded")
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--ablation", choices=sorted(ABLATIONS), default="e", help="paper Table 2 configuration")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--out", default="runs/info")
    p.add_argument("--seed", type=int, default=0)

    p = commands.add_parser("dataset", help="manifests: from a known layout, synthetic, summary")
    sets = p.add_subparsers(dest="dataset_command", required=True)
    q = sets.add_parser("enterface", help="eNTERFACE'05 folder -> manifest CSV")
    q.add_argument("root")
    q.add_argument("-o", "--out", required=True, help="manifest CSV to write")
    q = sets.add_parser("synth", help="generate a synthetic expression-video set")
    q.add_argument("-o", "--out", required=True, help="folder to write videos and manifest.csv into")
    q.add_argument("--subjects", type=int, default=12)
    q.add_argument("--takes", type=int, default=3)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--difficulty", type=float, default=0.5)
    q.add_argument("--no-check", action="store_true", help="skip the static-vs-temporal check")
    from .datasets.layouts import LAYOUT_HELP

    for name, what in LAYOUT_HELP.items():
        q = sets.add_parser(name, help=f"{what} -> manifest CSV")
        q.add_argument("root")
        q.add_argument("-o", "--out", required=True, help="manifest CSV to write")
        _add_layout_args(q, name)
    q = sets.add_parser("summary", help="videos per class and subject: of a manifest, or of a layout's folder with what it skips")
    q.add_argument("manifest", help="a manifest CSV, or with --layout the data set's folder")
    q.add_argument("--layout", choices=sorted(LAYOUT_HELP), help="read the folder as this layout (nothing is written)")
    _add_layout_args(q, None)

    p = commands.add_parser("preprocess", help="videos -> face crops, flow, clips, dynamic images (cached)")
    p.add_argument("inputs", nargs="+", help="video files, folders of videos, or manifest CSV files")
    p.add_argument("--preset", choices=sorted(PRESETS), default="small", help="face size of this model preset")
    p.add_argument("--face-size", type=int, help="override the preset's face size")
    p.add_argument("--cache", default="data/cache", help="cache root folder")
    p.add_argument("--workers", type=int, default=1, help="processes, one video each at a time")
    p.add_argument("--threads", type=int, help="threads within one video (default: the cores per worker)")
    _add_preprocess_args(p)
    _add_progress_args(p)

    p = commands.add_parser("crossval", help="leave-one-subject-group-out cross-validation of configurations (a)-(e)")
    _add_training_args(p)
    p.add_argument("--configs", type=_configs, default=("a", "b", "c", "d", "e"), help="e.g. a,c,e (paper Table 2)")
    p.add_argument("--folds", type=_folds, help="test groups to run (default: all k)")

    p = commands.add_parser("train", help="one configuration, one fold (test group)")
    _add_training_args(p)
    p.add_argument("--ablation", choices=sorted(ABLATIONS), default="e")
    p.add_argument("--test-group", type=int, default=0)

    p = commands.add_parser("predict", help="a trained model on videos: per-clip and per-video predictions, timeline")
    p.add_argument("videos", nargs="+", help="video files, frame folders, or folders of either")
    p.add_argument("--model", required=True, help="model (.safetensors/.json), its fold folder, or a run folder with one model")
    p.add_argument("-o", "--out", default="predictions", help="output folder")
    p.add_argument("--annotate", action="store_true", help="also write an annotated copy of each video")
    _add_max_faces_arg(p)
    _add_prediction_fuse_arg(p)
    _add_frame_rate_arg(p)
    p.add_argument("--device", default="auto", help="auto (default): CUDA if present, else the CPU")
    _add_precision_arg(p)
    _add_progress_args(p)

    p = commands.add_parser("stream", help="frame-by-frame prediction from a file or a camera, printed as JSON lines")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("video", nargs="?", help="a video file or a frame folder")
    source.add_argument("--camera", type=int, help="camera index")
    p.add_argument("--model", required=True)
    p.add_argument("--device", default="auto", help="auto (default): CUDA if present, else the CPU")
    _add_frame_rate_arg(p)
    p.add_argument("--frames-per-step", type=int, default=8,
                   help="the ConvLSTM streams step this many frames at a time (a divisor of 8); the same "
                        "predictions at the same frames: 8 is fastest, 1 spreads the model's work evenly over frames")
    _add_max_faces_arg(p)
    _add_prediction_fuse_arg(p)
    _add_precision_arg(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:  # the reader went away (`fervid stream ... | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that the exit's flush does not fail again
        return 0
    except (OSError, ValueError) as err:  # bad input: the message names the file and the problem
        print(f"fervid {args.command}: {err}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from .demo import main_job

        main_job(out=args.out, data=args.data, workers=args.workers, progress=_progress(args))
    elif args.command == "info":
        from .demo import model_info

        model_info(preset=args.preset, ablation=args.ablation, batch=args.batch, out=args.out, seed=args.seed)
    elif args.command == "dataset":
        return _dataset(args)
    elif args.command == "preprocess":
        return _preprocess(args)
    elif args.command == "predict":
        from .frontend.video import find_videos
        from .precision import describe, resolve_device
        from .prediction import output_names, predict_videos

        device = resolve_device(args.device)
        print(f"predicting on {device} in {describe(args.precision, device)}", file=sys.stderr)
        videos = find_videos(args.videos)
        names = output_names(videos)
        results, failed = predict_videos(videos, args.model, args.out, annotate=args.annotate,
                                         progress=_progress(args), device=str(device), precision=args.precision,
                                         frame_folder_fps=args.frame_rate, names=names, fuse_gates=args.fuse_gates,
                                         max_faces=args.max_faces)
        name_of = dict(zip(map(str, videos), names))
        for r in results:
            print(f"{r.video}: {r.label} ({len(r.clips)} clips) -> {Path(args.out) / (name_of[r.video] + '.json')}")
        for video, reason in failed.items():
            print(f"FAILED {video}: {reason}", file=sys.stderr)
        return 1 if failed else 0
    elif args.command == "stream":
        import json

        from .frontend.video import open_camera, read_video
        from .precision import describe, resolve_device
        from .prediction import (
            intra_op_threads,
            load_predictor,
            stream_faces,
            stream_frames,
            streaming_threads,
        )

        device = resolve_device(args.device)
        print(f"streaming on {device} in {describe(args.precision, device)}", file=sys.stderr)
        predictor = load_predictor(args.model, str(device), args.precision, args.fuse_gates)
        info, frames = open_camera(args.camera) if args.camera is not None else read_video(args.video, args.frame_rate)
        if args.max_faces > 1:  # a line per face's clip, naming the face
            with intra_op_threads(streaming_threads(predictor)):
                for face, clip in stream_faces(predictor, frames, info.fps, args.max_faces, frames_per_step=args.frames_per_step):
                    print(json.dumps({"face": face, **clip.to_dict()}), flush=True)
            return 0
        with intra_op_threads(streaming_threads(predictor)):  # the clip streams step in threads of their own
            for clip in stream_frames(predictor, frames, info.fps, frames_per_step=args.frames_per_step):
                print(json.dumps(clip.to_dict()), flush=True)
    elif args.command in ("crossval", "train"):
        from .training.crossval import crossval

        config = train_config(args)
        configs = args.configs if args.command == "crossval" else (args.ablation,)
        folds = args.folds if args.command == "crossval" else [args.test_group]
        settings = preprocess_settings(args, PRESETS[args.preset].face_size)
        model_config = (dataclasses.replace(PRESETS[args.preset], stream_dropout=args.stream_dropout)
                        if args.stream_dropout else args.preset)  # a preset's name when nothing is changed
        summary = crossval(args.manifest, args.out, preset=model_config, ablations=configs, k=args.k, folds=folds,
                           train_config=config, cache_root=args.cache, workers=args.workers,
                           progress=_progress(args), preprocess_settings=settings)
        print(f"report: {args.out}/report.md")
        if summary["excluded_videos"]:  # the run went on without them; the exit status says it was not whole
            print(f"{len(summary['excluded_videos'])} video(s) failed preprocessing and were left out "
                  f"(listed in {args.out}/config.json)", file=sys.stderr)
            return 1
    return 0


def _dataset(args: argparse.Namespace) -> int:
    from . import datasets

    if args.dataset_command == "enterface":
        scan = datasets.enterface_manifest(args.root)
        datasets.write_manifest(scan.entries, args.out)
        print(datasets.enterface_report(scan))
        print(f"wrote {args.out}")
    elif args.dataset_command == "synth":
        manifest = datasets.generate_synthetic(
            args.out, subjects=args.subjects, takes=args.takes, seed=args.seed, difficulty=args.difficulty, check=not args.no_check
        )
        print(f"wrote {manifest}")
    elif args.dataset_command == "summary":
        if args.layout:
            print(_layout_scan(args.layout, args.manifest, args).report())
        else:
            print(datasets.summarize(datasets.read_manifest(args.manifest)))
    else:  # a layout reader
        scan = _layout_scan(args.dataset_command, args.root, args)
        if not scan.entries:
            print(scan.report(), file=sys.stderr)
            raise ValueError(f"{args.root}: no usable videos found for layout {args.dataset_command}")
        datasets.write_manifest(scan.entries, args.out)
        print(scan.report())
        print(f"wrote {args.out}")
    return 0


def _videos_from(inputs: list[str]) -> list:
    """Expand manifests (CSV) and folders into video paths."""
    from .frontend.video import find_videos

    videos = []
    for item in inputs:
        if item.lower().endswith(".csv"):
            from .datasets import read_manifest

            videos += [entry.path for entry in read_manifest(item)]
        else:
            videos += find_videos([item])
    return videos


def _preprocess(args: argparse.Namespace) -> int:
    from .clips.cache import preprocess

    settings = preprocess_settings(args, args.face_size or PRESETS[args.preset].face_size)
    videos = _videos_from(args.inputs)
    if not videos:
        print(f"fervid preprocess: no videos found in {args.inputs}", file=sys.stderr)
        return 2
    report = preprocess(videos, args.cache, settings, workers=args.workers, progress=_progress(args), threads=args.threads)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
