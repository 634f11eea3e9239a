"""Leave-one-subject-group-out cross-validation and the paper's ablation table (Table 2).

Subjects are dealt into k groups (paper: 5); fold g trains on every other group
(from scratch, or under staged training from its own stage 1) and tests on group g;
no subject is ever on both sides, and nothing is chosen on the test group (epochs
are fixed by ``TrainConfig``). Each configuration (a)-(e) runs under the same split
and seeds.

A run folder::

    <out>/config.json                  preset, model/train/preprocessing settings, versions
    <out>/split.json                   the subject groups
    <out>/<config>/fold<g>/            train outputs (model, metrics.csv, checkpoint), split.json,
                                       predictions_clips.csv, predictions_videos.csv, result.json
    <out>/stage1/<config>/fold<g>/     with ``TrainConfig.stage_epochs``: the first stage (ConvLSTM streams alone), as above
    <out>/linear/fold<g>.json          the linear floors of fold g (``baselines.linear_floors``)
    <out>/report.md, results.csv       the table in the paper's form, with the paper's numbers and the linear floors
    <out>/confusion.png, curves.png    figures

Rerunning the same command resumes: finished folds are read back, an
interrupted fold resumes from its last epoch.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from .. import __version__
from ..atomic import write_atomically, write_json, write_rows
from ..checkpoint import config_to_dict
from ..clips.arrays import PreprocessSettings
from ..clips.cache import PreprocessCache, preprocess
from ..clips.inputs import CLIP_STREAMS, ClipSet, arrays_needed
from ..datasets import (
    VideoEntry,
    fold_split,
    read_manifest,
    read_split,
    subject_groups,
    write_split,
)
from ..evaluation.baselines import BASELINES_VERSION, FLOOR_NAMES, linear_floors
from ..evaluation.inference import evaluate
from ..evaluation.metrics import bootstrap_interval, mcnemar, video_probabilities
from ..evaluation.report import plot_confusions, plot_curves
from ..labels import EXPRESSIONS
from ..models.fourstream import ABLATIONS, PRESETS, FourStreamConfig, with_ablation
from ..precision import describe, resolve_device
from ..progress import wanted
from .recipes import STAGE_ONE, TrainConfig, describe_recipe, values_before_added
from .train import Distributed, settings_fingerprint, train

PAPER_ACCURACY = {"a": 33.70, "b": 39.84, "c": 44.28, "d": 41.48, "e": 45.29}  # Table 2, clip level, %
CONFIG_NAMES = {
    "a": "2 ResNet streams",
    "b": "2 conventional ConvLSTM streams",
    "c": "2 Enhanced ConvLSTM streams",
    "d": "(a) + (b)",
    "e": "(a) + (c), proposed",
}
PAIRS = (("b", "c"), ("d", "e"), ("a", "e"), ("a", "c"), ("c", "e"))  # the comparisons the paper draws


def cached_clip_set(entries: list[VideoEntry], cache: PreprocessCache, streams) -> ClipSet:
    """Every clip of ``entries`` from the preprocessed cache, loading only the arrays the
    given streams read (a video is read when first needed)."""
    load = functools.partial(cache.load, names=arrays_needed(streams))
    videos = [(str(e.path), e.label) for e in entries]
    return ClipSet(videos, load, cache.settings.clip_len, streams, [cache.clip_count(e.path) for e in entries])


def stage_ablation(ablation: str) -> str:
    """The configuration staged training trains first for ``ablation``: its ConvLSTM
    streams alone, with its cell ((e) -> (c), (d) -> (b)); a configuration without
    ConvLSTM streams ((a)), or with nothing but them, itself."""
    streams, cell = ABLATIONS[ablation]
    clip_only = tuple(s for s in streams if s in CLIP_STREAMS)
    if not clip_only:
        return ablation
    return next(name for name, (s, c) in ABLATIONS.items() if s == clip_only and c == cell)


def fold_model(init_from: str | os.PathLike, fold: int) -> Path:
    """The trained model that starts fold ``fold`` (``TrainConfig.init_from``): a
    configuration folder's ``fold<fold>/model.safetensors``, trained with the same
    subjects held out (``run_fold`` checks its split), so nothing of the test group was seen."""
    path = Path(init_from)
    if not path.is_dir():
        raise ValueError(f"{init_from}: give a configuration folder (its fold<g>/model.safetensors start fold g): "
                         "one model for every fold would have seen the other folds' test subjects")
    path = path / f"fold{fold}" / "model.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no trained model to start fold {fold} from (init_from {init_from})")
    return path


def run_fold(
    ablation: str,
    fold: int,
    groups: list[list[str]],
    entries: list[VideoEntry],
    cache: PreprocessCache,
    base_config: FourStreamConfig,
    train_config: TrainConfig,
    out: Path,
    progress: bool | None = None,
) -> dict:
    """Train configuration ``ablation`` on every group but ``fold``, test on ``fold``."""
    fold_dir = out / ablation / f"fold{fold}"
    result_file = fold_dir / "result.json"
    refuse_other_training(fold_dir, train_config)  # before a stage 1 trains for a folder that cannot resume
    stage_one = None
    if train_config.stage_epochs:  # stage 1, trained once per fold and counterpart, then read back
        if train_config.init_from is not None:
            raise ValueError("stage_epochs starts each configuration from its own stage 1: leave init_from unset, "
                             "or train in one stage from init_from (--stage-epochs 0)")
        first = stage_ablation(ablation)
        stage = dataclasses.replace(train_config, epochs=train_config.stage_epochs, stage_epochs=0)
        if wanted(progress) and not (out / STAGE_ONE / first / f"fold{fold}" / "result.json").exists():
            print(f"({ablation}) fold {fold}, stage 1 of 2: ({first}) alone, {stage.epochs} epochs", file=sys.stderr)
        stage_one = run_fold(first, fold, groups, entries, cache, base_config, stage, out / STAGE_ONE, progress)
        train_config = dataclasses.replace(train_config, init_from=str(fold_model(out / STAGE_ONE / first, fold)))
        if wanted(progress) and not result_file.exists():
            print(f"({ablation}) fold {fold}, stage 2 of 2: {train_config.epochs} epochs from stage 1", file=sys.stderr)
    elif train_config.init_from is not None:
        start = fold_model(train_config.init_from, fold)
        trained_groups, trained_test = read_split(start.parent / "split.json")
        if sorted(trained_groups[trained_test]) != sorted(groups[fold]):
            raise ValueError(f"{start.parent / 'split.json'}: trained with other test subjects than fold {fold} here")
        train_config = dataclasses.replace(train_config, init_from=str(start))
    model_config = with_ablation(base_config, ablation)
    extra = {"ablation": ablation, "preprocess": cache.settings.to_dict(), "labels": list(EXPRESSIONS)}
    fingerprint = settings_fingerprint(model_config, train_config, {**extra, "groups": groups})
    if result_file.exists():
        result = json.loads(result_file.read_text())
        if result.get("fingerprint") != fingerprint:
            raise ValueError(f"{result_file}: made with other settings or another split; use a new run folder")
        return _after_stage_one(result, stage_one)
    fold_dir.mkdir(parents=True, exist_ok=True)
    write_split(fold_dir / "split.json", groups, fold)
    train_entries, test_entries = fold_split(entries, len(groups), fold, groups)
    train_subjects = {e.subject for e in train_entries}
    assert not train_subjects & {e.subject for e in test_entries}, "a subject on both sides of the split"
    streams = model_config.streams
    train_clips, test_clips = cached_clip_set(train_entries, cache, streams), cached_clip_set(test_entries, cache, streams)
    if wanted(progress):
        print(
            f"({ablation}) fold {fold}: train {len(train_clips)} clips / {len(train_entries)} videos / "
            f"{len(train_subjects)} subjects, test {len(test_clips)} clips / {len(test_entries)} videos",
            file=sys.stderr,
        )
    start = time.perf_counter()
    model, history = train(
        model_config,
        train_config,
        train_clips,
        fold_dir,
        extra=extra,
        progress=progress,
    )
    metrics, probs = evaluate(model, test_clips, precision=train_config.precision)
    _write_predictions(fold_dir, test_entries, test_clips, probs)
    result = {
        "ablation": ablation,
        "fold": fold,
        "test_subjects": groups[fold],
        "clip": metrics["clip"],
        "video": metrics["video"],
        "history": history,
        "seconds": time.perf_counter() - start,
        "fingerprint": fingerprint,
    }
    write_json(result_file, result)
    return _after_stage_one(result, stage_one)


def _after_stage_one(result: dict, stage_one: dict | None) -> dict:
    """A staged fold's result as the report shows it: stage 1's epochs before its own in
    ``history`` (numbered on; ``stage_two_from``: stage 2's first epoch), and ``seconds`` the
    time of both stages (``stage1_seconds`` the first's; shared by the configurations that
    start from it). ``result.json`` keeps the stage's own."""
    if stage_one is None:
        return result
    offset = len(stage_one["history"])
    history = stage_one["history"] + [{**row, "epoch": row["epoch"] + offset} for row in result["history"]]
    return {**result, "history": history, "seconds": stage_one["seconds"] + result["seconds"], "stage1_seconds": stage_one["seconds"],
            "stage_two_from": offset + 1}


def refuse_other_training(fold_dir: Path, config: TrainConfig) -> None:
    """Stop before anything trains when ``fold_dir`` was begun with other training-method
    settings (an older fervid's defaults, or other flags), naming them and the flags that
    resume it. The fingerprint would stop it too, but under staged training only after
    stage 1 had trained."""
    stored = fold_dir / "train_config.json"
    if not stored.is_file():
        return
    then = {**values_before_added(), **json.loads(stored.read_text()).get("train_config", {})}
    now = config_to_dict(config)
    differ = [f.name for f in dataclasses.fields(TrainConfig)
              if f.metadata["role"] == "method" and f.name != "init_from" and f.name in then and then[f.name] != now[f.name]]
    if differ:
        there = ", ".join(f"{n}={then[n]}" for n in differ)
        flags = " ".join(f"--{n.replace('_', '-')} {then[n]}" for n in differ)
        raise ValueError(f"{fold_dir}: begun with other training settings ({there}; this run: "
                         f"{', '.join(f'{n}={now[n]}' for n in differ)}): resume it with {flags}, or use a new run folder")


def _write_predictions(fold_dir: Path, entries: list[VideoEntry], clips: ClipSet, probs: np.ndarray) -> None:
    def row(e: VideoEntry, p: np.ndarray) -> dict:
        predicted = EXPRESSIONS[int(p.argmax())]
        return {"video": str(e.path), "subject": e.subject, "label": e.label, "predicted": predicted,
                "correct": int(predicted == e.label), **{k: f"{x:.5f}" for k, x in zip(EXPRESSIONS, p)}}

    write_rows(fold_dir / "predictions_clips.csv", [
        {"clip": c, "start_frame": clips.start_frame(i), **row(entries[v], p)} for i, ((v, c), p) in enumerate(zip(clips.items, probs))
    ])
    videos, video_probs = video_probabilities(probs, clips.clip_videos)
    write_rows(fold_dir / "predictions_videos.csv", [row(entries[v], p) for v, p in zip(videos, video_probs)])


def floor_videos(entries: list[VideoEntry], cache: PreprocessCache) -> list[tuple[np.ndarray, float, int]]:
    """What ``baselines.linear_floors`` reads of each video: its preprocessed face crops,
    every frame as the network reads them (frames without a face carry the tracker's last
    crop), its fps and its label index."""
    out = []
    for e in entries:
        arrays = cache.load(e.path, names=("rgb", "fps", "n_frames"))
        out.append((arrays["rgb"][: int(arrays["n_frames"])], float(arrays["fps"]), EXPRESSIONS.index(e.label)))
    return out


def fold_floors(fold: int, groups: list[list[str]], entries: list[VideoEntry], cache: PreprocessCache, out: Path) -> dict:
    """The linear floors (``baselines.linear_floors``) of fold ``fold``: fitted on the
    training videos' preprocessed face crops, tested on the held-out ones; saved to and
    read back from ``<out>/linear/fold<g>.json`` (keyed by the split)."""
    path = out / "linear" / f"fold{fold}.json"
    train_entries, test_entries = fold_split(entries, len(groups), fold, groups)
    key = {"baselines": BASELINES_VERSION, "cache": cache.settings.key(),
           "videos": hashlib.sha256(json.dumps([[str(e.path), e.label] for e in train_entries + test_entries]).encode()).hexdigest()[:16]}
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("key") == key:
            return saved

    result = linear_floors(floor_videos(train_entries, cache), floor_videos(test_entries, cache))
    result.update(fold=fold, key=key, test_videos=[str(e.path) for e in test_entries])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, result)
    return result


def _video_rows(out: Path, ablation: str, folds: list[int]) -> dict[str, dict]:
    """predictions_videos.csv of the folds, a row per video."""
    rows = {}
    for fold in folds:
        with open(out / ablation / f"fold{fold}" / "predictions_videos.csv", newline="") as f:
            rows.update((row["video"], row) for row in csv.DictReader(f))
    return rows


def _floor_correctness(floors: list[dict], labels: dict[str, str]) -> dict[str, bool]:
    """The temporal floor's per-video correctness, keyed like predictions_videos.csv
    (``labels``: video -> expression); empty for floors saved without their predictions or
    over other videos (a fold read back from before a video was mended or left out)."""
    if not floors or not all("test_videos" in f and "temporal_predicted" in f for f in floors):
        return {}
    if {video for f in floors for video in f["test_videos"]} != labels.keys():
        return {}
    return {video: EXPRESSIONS[p] == labels[video] for f in floors for video, p in zip(f["test_videos"], f["temporal_predicted"])}


def _paired_test(first: dict[str, bool], second: dict[str, bool]) -> dict:
    """McNemar's exact test on two per-video correctness maps over the same videos."""
    videos = sorted(first)
    return mcnemar([first[v] for v in videos], [second[v] for v in videos])


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarize(out: Path, results: dict[str, list[dict]], folds: list[int], k: int,
              excluded_videos: dict[str, str] | None = None, floors: list[dict] | None = None) -> dict:
    """Aggregate per-fold results into the report's table, tests and figures
    (``excluded_videos``: path -> why it failed preprocessing, kept in summary.json;
    ``floors``: ``fold_floors`` of each fold, the linear classifiers' rows)."""
    rows, table, confusions, curves = [], {}, {}, {}
    video_rows = {a: _video_rows(out, a, folds) for a in results}
    correctness = {a: {v: row["correct"] == "1" for v, row in rows.items()} for a, rows in video_rows.items()}
    for ablation, fold_results in results.items():
        clip = [r["clip"]["accuracy"] for r in fold_results]
        video = [r["video"]["accuracy"] for r in fold_results]
        uar = [r["video"]["uar"] for r in fold_results]
        correct = np.array(list(correctness[ablation].values()))
        low, high = bootstrap_interval(correct)
        table[ablation] = {
            "clip_acc": _mean_sd(clip),
            "video_acc": _mean_sd(video),
            "video_uar": _mean_sd(uar),
            "video_acc_pooled": float(correct.mean()),
            "video_acc_ci95": (low, high),
            "videos": int(len(correct)),
        }
        for r in fold_results:
            rows.append({"config": ablation, "fold": r["fold"], "clip_acc": r["clip"]["accuracy"], "video_acc": r["video"]["accuracy"],
                         "video_uar": r["video"]["uar"], "clips": r["clip"]["n"], "videos": r["video"]["n"],
                         "train_seconds": round(r["seconds"], 1), "paper_clip_acc": PAPER_ACCURACY[ablation] / 100})
        confusions[f"({ablation})"] = np.sum([r["video"]["confusion"] for r in fold_results], axis=0)
        curves[f"({ablation})"] = [r["history"] for r in fold_results]
    floor_table = {}
    for key in FLOOR_NAMES:
        if floors:
            video = [f[key] for f in floors]
            floor_table[key] = {"video_acc": _mean_sd(video), "videos": sum(f["videos"] for f in floors)}
            for f in floors:
                rows.append({"config": f"linear_{key}", "fold": f["fold"], "clip_acc": "", "video_acc": f[key], "video_uar": "",
                             "clips": "", "videos": f["videos"], "train_seconds": "", "paper_clip_acc": ""})
    write_rows(out / "results.csv", rows)
    tests = {}
    for a, b in PAIRS:
        if a in correctness and b in correctness:
            tests[f"{a} vs {b}"] = _paired_test(correctness[a], correctness[b])
    for a, by_video in video_rows.items():  # each configuration against the floor it must pass
        floor = _floor_correctness(floors or [], {v: row["label"] for v, row in by_video.items()})
        if floor:
            tests[f"{a} vs temporal_video"] = _paired_test(correctness[a], floor)
    plot_confusions(confusions, out / "confusion.png", title="video level, pooled over test folds")
    stage_two = {r["stage_two_from"] for fold_results in results.values() for r in fold_results if "stage_two_from" in r}
    plot_curves(curves, out / "curves.png", stage_two_from=stage_two.pop() if len(stage_two) == 1 else None)
    per_fold = {a: [r["video"]["accuracy"] for r in fold_results] for a, fold_results in results.items()}
    per_fold.update({key: [f[key] for f in floors] for key in FLOOR_NAMES if floors})
    summary = {"table": table, "linear_floors": floor_table, "per_fold": per_fold, "mcnemar": tests, "folds": folds, "k": k,
               "excluded_videos": excluded_videos or {}}
    write_json(out / "summary.json", summary)
    write_atomically(out / "report.md", lambda tmp: tmp.write_text(_markdown(summary, out)))
    return summary


def _markdown(summary: dict, out: Path) -> str:
    config = json.loads((out / "config.json").read_text())
    folds, k = summary["folds"], summary["k"]
    lines = [
        "# Ablation (paper Table 2)",
        "",
        f"Data: `{config['manifest']}` ({config['videos']} videos, {config['subjects']} subjects). "
        f"Preset `{config['preset']}`; {k} subject groups, test folds {folds}"
        + ("" if len(folds) == k else f" ({len(folds)} of {k}: a reduced run)")
        + f"; {_epochs_text(config['train'])}, fixed in advance; precision {config.get('precision', config['train']['precision'])}."
        + " Split: `split.json`.",
        "",
        f"Training: {_recipe_line(config['train'])}.",
        "",
        "Clip accuracy is the paper's measure; video accuracy (clip probabilities averaged per video) is the",
        "headline, since the clips of one video are correlated. "
        + ("Mean ± SD over folds; the 95% interval is a bootstrap over videos, pooled over the test folds."
           if len(folds) > 1 else "One test fold (no spread over folds); the 95% interval is a bootstrap over its videos."),
        "",
        "| config | streams | paper clip acc. | clip acc. | video acc. | video UAR | video acc. 95% CI |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    def spread(mean_sd) -> str:  # "mean ± SD" over folds; one fold has no SD
        mean, sd = mean_sd
        return f"{100 * mean:.1f} ± {100 * sd:.1f}%" if len(folds) > 1 else f"{100 * mean:.1f}%"

    for a, row in summary["table"].items():
        low, high = row["video_acc_ci95"]
        lines.append(
            f"| ({a}) | {CONFIG_NAMES[a]} | {PAPER_ACCURACY[a]:.2f}% | {spread(row['clip_acc'])} | "
            f"{spread(row['video_acc'])} | {spread(row['video_uar'])} | {100 * low:.1f}–{100 * high:.1f}% |"
        )
    for key, row in summary.get("linear_floors", {}).items():
        lines.append(f"| linear | {FLOOR_NAMES[key]} | | | {spread(row['video_acc'])} | | |")
    if len(folds) > 1:
        lines += ["", "Video accuracy per fold:", "", "| config | " + " | ".join(f"fold {f}" for f in folds) + " | mean ± SD |",
                  "| --- |" + " --- |" * (len(folds) + 1)]
        for a, per_fold in summary.get("per_fold", {}).items():
            mean, sd = summary["table"][a]["video_acc"] if a in summary["table"] else summary["linear_floors"][a]["video_acc"]
            name = f"({a})" if a in summary["table"] else FLOOR_NAMES[a]
            lines.append(f"| {name} | " + " | ".join(f"{100 * v:.1f}%" for v in per_fold) + f" | {100 * mean:.1f} ± {100 * sd:.1f}% |")
    if summary.get("linear_floors"):
        lines += ["", "The linear rows are floors: logistic regression on the same folds' preprocessed face crops (grey,",
                  "standardised per frame), static from one frame at a time, temporal from frame differences over the",
                  "video (`fervid.evaluation.baselines`). A configuration below the temporal floor has not learned the motion a",
                  "linear model finds."]
    if summary["mcnemar"]:
        lines += ["", "McNemar's exact test on per-video correctness (pooled test folds):", "",
                  "| pair | only first right | only second right | p |", "| --- | --- | --- | --- |"]
        for pair, t in summary["mcnemar"].items():
            first, second = (FLOOR_NAMES.get(x, f"({x})") for x in pair.split(" vs "))
            lines.append(f"| {first} vs {second} | {t['only_a']} | {t['only_b']} | {t['p_value']:.3g} |")
    lines += ["", "![confusion matrices](confusion.png)", "", "![training curves](curves.png)", ""]
    return "\n".join(lines)


def _epochs_text(train: dict) -> str:
    """The run's epochs as a report says them: staged, both stages."""
    if train.get("stage_epochs"):
        return (f"{train['stage_epochs']} + {train['epochs']} epochs (staged: the ConvLSTM streams alone, "
                f"then every stream from there; `{STAGE_ONE}/`)")
    return f"{train['epochs']} epochs"


def _recipe_line(train: dict) -> str:
    """The training recipe of a run's config.json, and what was changed from it (runs made
    before recipes existed: their optimizer and learning rate)."""
    known = {f: v for f, v in train.items() if f in TrainConfig.__dataclass_fields__}
    if "recipe" not in known:
        return f"{known.get('optimizer', 'sgd')}, lr {known.get('lr')} (made before named recipes)"
    # A setting added since the run was made had, for it, the value the code had before it.
    return describe_recipe(TrainConfig(**{**values_before_added(), **known}))


def _preprocess_once(videos: list, cache_root, settings: PreprocessSettings, workers: int, progress: bool | None,
                    ddp: Distributed) -> dict[str, str]:
    """Preprocess (cached) and return the videos that failed, with why. Under torchrun only
    rank 0 preprocesses; the other ranks wait for it (on a side group whose timeout allows
    hours of preprocessing, not the default 30 minutes) and receive its list of failures."""
    # new_group is itself collective: every rank creates it before rank 0 starts the long work.
    waiting = dist.new_group(backend="gloo", timeout=timedelta(hours=48)) if ddp.active else None
    failed: list = [None]
    if ddp.main:
        report = preprocess(videos, cache_root, settings, workers=workers, progress=progress)
        if wanted(progress) or report.failed:
            print(report.summary(), file=sys.stderr)
        failed = [report.failed]
    if ddp.active:
        dist.broadcast_object_list(failed, src=0, group=waiting)  # a dict of strings between our own ranks
        dist.destroy_process_group(waiting)
    return failed[0]


def crossval(
    manifest: str | os.PathLike,
    out_dir: str | os.PathLike,
    preset: str | FourStreamConfig = "small",
    ablations: tuple[str, ...] = ("a", "b", "c", "d", "e"),
    k: int = 5,
    folds: list[int] | None = None,
    train_config: TrainConfig = TrainConfig(),
    cache_root: str | os.PathLike = "data/cache",
    workers: int = 1,
    progress: bool | None = None,
    preprocess_settings: PreprocessSettings | None = None,
) -> dict:
    """Preprocess (cached), then train and test every configuration on every fold
    (``folds``: a subset of 0..k-1 for a reduced run), then write the report.
    ``preset``: a preset name or a ``FourStreamConfig`` whose streams and cell each
    configuration replaces; ``preprocess_settings`` default to fervid's front end at the
    preset's face size (pass ``face_source="openface"`` for OpenFace 2.0's crops).
    Returns the summary also written to summary.json: the table, the McNemar tests, and
    ``excluded_videos`` (path -> why) for the videos that failed preprocessing."""
    if isinstance(preset, str) and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    base_config = PRESETS[preset] if isinstance(preset, str) else preset
    unknown = [a for a in ablations if a not in ABLATIONS]
    if unknown:
        raise ValueError(f"unknown configuration(s) {unknown}; choose from {sorted(ABLATIONS)} (paper Table 2)")
    out = Path(out_dir)
    folds_asked = range(k) if folds is None else folds
    for ablation in ablations:  # before the run folder's config.json is rewritten
        for fold in folds_asked:
            refuse_other_training(out / ablation / f"fold{fold}", train_config)
    out.mkdir(parents=True, exist_ok=True)
    entries = read_manifest(manifest)
    settings = preprocess_settings or PreprocessSettings(face_size=base_config.face_size)
    if settings.face_size != base_config.face_size:
        raise ValueError(f"preprocessing makes {settings.face_size}×{settings.face_size} faces, the model reads {base_config.face_size}")
    device = resolve_device(train_config.device)
    excluded = _preprocess_once([e.path for e in entries], cache_root, settings, workers, progress, Distributed(device))
    failed = {str(Path(p)) for p in excluded}
    usable = [e for e in entries if str(e.path) not in failed]
    groups = subject_groups([e.subject for e in usable], k)
    folds = list(range(k)) if folds is None else sorted(set(folds))
    write_split(out / "split.json", groups, folds[0])
    write_json(out / "config.json", {
        "manifest": str(manifest),
        "videos": len(usable),
        "subjects": len({e.subject for e in usable}),
        "excluded_videos": excluded,
        "preset": preset if isinstance(preset, str) else "custom",
        "ablations": list(ablations),
        "folds": folds,
        "model": {a: config_to_dict(with_ablation(base_config, a)) for a in ablations},
        "train": dataclasses.asdict(train_config),
        "precision": describe(train_config.precision, device),
        "preprocess": settings.to_dict(),
        "versions": {"fervid": __version__, "torch": torch.__version__, "python": platform.python_version()},
    })
    cache = PreprocessCache(cache_root, settings)
    floors = [fold_floors(f, groups, usable, cache, out) for f in folds]
    results = {}
    for ablation in ablations:
        results[ablation] = [run_fold(ablation, f, groups, usable, cache, base_config, train_config, out, progress) for f in folds]
    return summarize(out, results, folds, k, excluded, floors)
