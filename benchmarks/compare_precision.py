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
from pathlib import Path

from fervid.diagnostics.runs import compare_precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    try:
        table = compare_precision(args.first, args.second)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
