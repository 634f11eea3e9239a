"""End-to-end streaming prediction speed: decode + face + flow + model, frame by frame,
on real 720×576 video (the fixture clips; synthetic cartoon-face video if absent),
for the small and paper presets (configuration e, untrained weights: the cost does
not depend on them).

    python benchmarks/bench_stream.py [--presets small,paper] [--threads 2] [--frames 200]
    python benchmarks/bench_stream.py --presets small --frames 24   # the smallest setting (the smoke test's)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from fervid.diagnostics.machine import header, save_json
from fervid.diagnostics.streaming import FIXTURES, frames_from, stream_rate
from fervid.frontend.faces import BlazeFace
from fervid.frontend.video import find_videos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="small,paper")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=200, help="frames per preset (paper preset: a tenth)")
    parser.add_argument("--videos", default=str(FIXTURES))
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    videos = find_videos([args.videos]) if Path(args.videos).exists() else []
    if not videos:
        raise SystemExit(f"no videos in {args.videos}")
    print(header("streaming prediction, frame by frame (decode + face + flow + model)", args.threads))
    print(f"# {len(videos)} videos from {args.videos}; configuration (e), untrained weights")
    detector = BlazeFace()
    rows = []
    for preset in args.presets.split(","):
        n = args.frames if preset == "small" else max(24, args.frames // 10)
        row = stream_rate(preset, list(frames_from(videos, n + 16)), detector)
        rows.append(row)
        print(f"{preset:<6} {row['frames_per_s']:7.1f} frames/s ({row['ms_per_frame']:.1f} ms/frame, {n} frames, {row['clips']} clip predictions)")
    print("# target (issue 6): ≥ 25 frames/s for the small preset on 2 cores")
    save_json(args.json, rows)


if __name__ == "__main__":
    main()
