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
from pathlib import Path

from fervid.diagnostics.machine import header
from fervid.diagnostics.probes import set_floors

FIGURES = ("static_video", "temporal_video", "static_frame")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a folder with manifest.csv")
    parser.add_argument("--k", type=int, default=3, help="subject groups")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(header(f"linear floors of {args.data}, {args.k} subject-group folds", 1))
    rows = []
    for fold, (result, seconds) in enumerate(set_floors(Path(args.data), args.k, args.workers)):
        rows.append(result)
        print(f"fold {fold}: " + ", ".join(f"{name} {100 * result[name]:.1f}%" for name in FIGURES)
              + f" ({result['videos']} test videos, {seconds:.1f} s)")
    for name in FIGURES:
        values = [100 * r[name] for r in rows]
        print(f"{name}: {statistics.mean(values):.1f} ± {statistics.stdev(values) if len(values) > 1 else 0.0:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
