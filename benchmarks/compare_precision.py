"""The accuracy cost of bfloat16: two cross-validation run folders made with the same
data, split, seeds and settings except the precision, side by side (video-level
accuracy per configuration and fold, mean ± SD, and the share of test videos on which
the two runs predict the same label).

    fervid demo --out runs/demo-auto                                  # precision auto
    fervid crossval data/synth-demo/manifest.csv -o runs/demo-fp32 --configs a,c,e --k 3 \\
        --epochs 4 --lr 0.01 --batch-size 8 --clips-per-video 2 --precision float32 --cache data/synth-demo/cache
    python benchmarks/compare_precision.py runs/demo-fp32 runs/demo-auto [--markdown out.md]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path


def read_run(folder: Path) -> tuple[dict, dict, dict]:
    """(config.json, {(config, fold): video accuracy}, {(config, fold): {video: predicted}})."""
    config = json.loads((folder / "config.json").read_text())
    with open(folder / "results.csv", newline="") as f:
        accuracy = {(r["config"], int(r["fold"])): float(r["video_acc"]) for r in csv.DictReader(f)
                    if not r["config"].startswith("linear_")}  # the linear floors have no predictions folder
    predicted = {}
    for config_name, fold in accuracy:
        with open(folder / config_name / f"fold{fold}" / "predictions_videos.csv", newline="") as f:
            predicted[config_name, fold] = {r["video"]: r["predicted"] for r in csv.DictReader(f)}
    return config, accuracy, predicted


def compare(first: Path, second: Path) -> str:
    config_a, acc_a, pred_a = read_run(first)
    config_b, acc_b, pred_b = read_run(second)
    differing = sorted(k for k in set(config_a["train"]) | set(config_b["train"])
                       if config_a["train"].get(k) != config_b["train"].get(k))
    if set(differing) - {"precision"} or config_a["preprocess"] != config_b["preprocess"]:
        raise SystemExit(f"the runs differ in more than the precision: {differing}")
    name_a, name_b = config_a.get("precision", config_a["train"]["precision"]), config_b.get("precision", config_b["train"]["precision"])
    lines = [
        f"| config | video acc. {name_a} (`{first.name}`) | video acc. {name_b} (`{second.name}`) | same predicted label |",
        "| --- | --- | --- | --- |",
    ]
    for config_name in sorted({c for c, _ in acc_a}):
        folds = sorted(f for c, f in acc_a if c == config_name and (c, f) in acc_b)
        a = [acc_a[config_name, f] for f in folds]
        b = [acc_b[config_name, f] for f in folds]
        same = [pred_a[config_name, f][v] == pred_b[config_name, f].get(v) for f in folds for v in pred_a[config_name, f]]

        def cell(xs):
            sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
            return f"{100 * statistics.mean(xs):.1f} ± {100 * sd:.1f}% ({', '.join(f'{100 * x:.1f}' for x in xs)})"

        lines.append(f"| ({config_name}) | {cell(a)} | {cell(b)} | {100 * sum(same) / len(same):.0f}% of {len(same)} videos |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    table = compare(args.first, args.second)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
