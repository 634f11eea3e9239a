"""The linear floors of a data set, fold by fold, without training anything: what a
cross-validation report puts beside the network (``fervid.evaluation.baselines.linear_floors`` on
fervid's preprocessed crops, ``crossval.fold_floors``'s folds), printed.

    python benchmarks/floors.py data/synth-demo            # the main job's set and folds
    python benchmarks/floors.py data/evidence-s31 --k 3

The set's videos are preprocessed (cached in <data>/cache) as ``fervid crossval`` does at
the small preset.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from common import header

from fervid.clips.arrays import PreprocessSettings
from fervid.clips.cache import PreprocessCache, preprocess
from fervid.datasets import fold_split, read_manifest, subject_groups
from fervid.evaluation.baselines import linear_floors
from fervid.models.fourstream import PRESETS
from fervid.training.crossval import floor_videos

FIGURES = ("static_video", "temporal_video", "static_frame")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a folder with manifest.csv")
    parser.add_argument("--k", type=int, default=3, help="subject groups")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(header(f"linear floors of {args.data}, {args.k} subject-group folds", 1))
    data = Path(args.data)
    entries = read_manifest(data / "manifest.csv")
    settings = PreprocessSettings(face_size=PRESETS["small"].face_size)
    report = preprocess([e.path for e in entries], data / "cache", settings, workers=args.workers, progress=False)
    entries = [e for e in entries if str(e.path) not in {str(Path(p)) for p in report.failed}]
    cache = PreprocessCache(data / "cache", settings)
    groups = subject_groups([e.subject for e in entries], args.k)
    rows = []
    for fold in range(args.k):
        start = time.perf_counter()
        train, test = fold_split(entries, args.k, fold, groups)
        result = linear_floors(floor_videos(train, cache), floor_videos(test, cache))
        rows.append(result)
        print(f"fold {fold}: " + ", ".join(f"{name} {100 * result[name]:.1f}%" for name in FIGURES)
              + f" ({result['videos']} test videos, {time.perf_counter() - start:.1f} s)")
    for name in FIGURES:
        values = [100 * r[name] for r in rows]
        print(f"{name}: {statistics.mean(values):.1f} ± {statistics.stdev(values) if len(values) > 1 else 0.0:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
