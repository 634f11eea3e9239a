"""Run folders and the sets they read: two cross-validation runs that differ only in
precision side by side, the clip sets a diagnostic trains on (refused where a video was
not preprocessed), and the synthetic set of issue 27's evidence run, drawn once."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

from ..clips.cache import PreprocessCache
from ..clips.inputs import ClipSet
from ..datasets import VideoEntry, generate_synthetic
from ..datasets.synthetic import check_synthetic_set
from ..training.crossval import cached_clip_set

TUNING_SEEDS = (0, 1, 7)  # the main job's set and the tuning sets: never reported as evidence


def drawn_set(data: Path, seed: int, subjects: int, difficulty: float) -> Path:
    """The evidence set's manifest, drawn once (1 take per subject); a folder drawn with
    other settings is refused (SystemExit, the evidence run's message)."""
    wanted = {"seed": seed, "subjects": subjects, "takes": 1, "difficulty": difficulty}
    manifest = data / "manifest.csv"
    if manifest.exists():
        try:
            check_synthetic_set(data, wanted, "this evidence run")
        except ValueError as error:
            raise SystemExit(str(error)) from None
        return manifest
    return generate_synthetic(data, subjects=subjects, takes=1, seed=seed, difficulty=difficulty)


def preprocessed_clip_set(entries: list[VideoEntry], cache: PreprocessCache, streams) -> ClipSet:
    """crossval's clip set (``cached_clip_set``), after checking that every video was
    preprocessed with the cache's settings (ValueError naming one that was not)."""
    missing = [str(e.path) for e in entries if not cache.has(e.path)]
    if missing:
        raise ValueError(f"{len(missing)} videos not preprocessed with these settings in {cache.folder.parent}, e.g. {missing[0]}: "
                         "run `fervid preprocess <manifest.csv> --cache <that folder>` first")
    return cached_clip_set(entries, cache, streams)


def read_run(folder: Path) -> tuple[dict, dict, dict]:
    """A crossval run folder: (config.json, {(config, fold): video accuracy},
    {(config, fold): {video: predicted}})."""
    config = json.loads((folder / "config.json").read_text())
    with open(folder / "results.csv", newline="") as f:
        accuracy = {(r["config"], int(r["fold"])): float(r["video_acc"]) for r in csv.DictReader(f)
                    if not r["config"].startswith("linear_")}  # the linear floors have no predictions folder
    predicted = {}
    for config_name, fold in accuracy:
        with open(folder / config_name / f"fold{fold}" / "predictions_videos.csv", newline="") as f:
            predicted[config_name, fold] = {r["video"]: r["predicted"] for r in csv.DictReader(f)}
    return config, accuracy, predicted


def compare_precision(first: Path, second: Path) -> str:
    """A markdown table: per configuration, the two runs' video accuracy per fold and mean
    ± SD, and the share of test videos on which they predict the same label. ValueError if
    the runs differ in more than the precision."""
    config_a, acc_a, pred_a = read_run(first)
    config_b, acc_b, pred_b = read_run(second)
    differing = sorted(k for k in set(config_a["train"]) | set(config_b["train"])
                       if config_a["train"].get(k) != config_b["train"].get(k))
    if set(differing) - {"precision"} or config_a["preprocess"] != config_b["preprocess"]:
        raise ValueError(f"the runs differ in more than the precision: {differing}")
    name_a, name_b = config_a.get("precision", config_a["train"]["precision"]), config_b.get("precision", config_b["train"]["precision"])
    lines = [
        f"| config | video acc. {name_a} (`{first.name}`) | video acc. {name_b} (`{second.name}`) | same predicted label |",
        "| --- | --- | --- | --- |",
    ]

    def cell(xs):
        sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
        return f"{100 * statistics.mean(xs):.1f} ± {100 * sd:.1f}% ({', '.join(f'{100 * x:.1f}' for x in xs)})"

    for config_name in sorted({c for c, _ in acc_a}):
        folds = sorted(f for c, f in acc_a if c == config_name and (c, f) in acc_b)
        a = [acc_a[config_name, f] for f in folds]
        b = [acc_b[config_name, f] for f in folds]
        same = [pred_a[config_name, f][v] == pred_b[config_name, f].get(v) for f in folds for v in pred_a[config_name, f]]
        lines.append(f"| ({config_name}) | {cell(a)} | {cell(b)} | {100 * sum(same) / len(same):.0f}% of {len(same)} videos |")
    return "\n".join(lines)
