"""What the dynamic images hold, before any network reads them: the scale of each input
array of a preprocessed set, and a linear probe (``evaluation.baselines.fit_softmax``)
of each dynamic image on held-out subjects (the set's subject-group folds, as crossval),
per clip and per video (clip log-probabilities summed), at full size and block-averaged.

    python benchmarks/probe_dynamic_images.py data/synth-demo [--k 3] [--onset-clips | --top-motion 2]

The set must be preprocessed at the small preset (``fervid preprocess <manifest>
--cache <data>/cache``, or a run of ``fervid demo`` / ``benchmarks/floors.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fervid.diagnostics.machine import header
from fervid.diagnostics.probes import (
    DYNAMIC_ARRAYS,
    array_scale,
    dynamic_arrays,
    probe_dynamic,
)
from fervid.labels import EXPRESSIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a folder with manifest.csv and cache/")
    parser.add_argument("--k", type=int, default=3, help="subject groups")
    parser.add_argument("--top-motion", type=int, default=0,
                        help="only each video's K clips with the most motion (mean |flow| over the clip's frames; no ground truth)")
    parser.add_argument("--onset-clips", action="store_true",
                        help="only the clips that overlap the expression's onset-to-apex (a synthetic set's manifest columns)")
    args = parser.parse_args()
    which = ", the clips over onset-to-apex only" if args.onset_clips else ""
    which += f", each video's {args.top_motion} clips with the most motion" if args.top_motion else ""
    print(header(f"dynamic images of {args.data}: scale and a linear probe on held-out subjects{which}", 1))
    try:
        entries, arrays = dynamic_arrays(Path(args.data))
    except ValueError as error:
        raise SystemExit(str(error)) from None
    for name in DYNAMIC_ARRAYS[:3]:
        scale = array_scale(arrays, name)
        print(f"{name:<13} std {scale['std']:.4f}, mean |v| {scale['mean_abs']:.4f}, "
              f"share |v| < 0.01 {scale['near_zero']:.2f}, max |v| {scale['max_abs']:.3f}")
    for name in ("flow_dynamic", "rgb_dynamic"):
        for pool in (1, 4):
            clip, video = probe_dynamic(entries, arrays, name, pool, args.k, args.top_motion, args.onset_clips)
            print(f"linear probe, {name}, block mean {pool}x{pool}: held-out clips {100 * clip:.1f}%, videos {100 * video:.1f}% "
                  f"(chance {100 / len(EXPRESSIONS):.1f}%)")


if __name__ == "__main__":
    main()
