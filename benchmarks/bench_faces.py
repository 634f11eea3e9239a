"""Streaming with several faces: frames per second and peak memory of ``fervid stream
--max-faces`` with 1, 2 and 4 faces in view, beside the one-face path (``fervid stream``),
small preset, configuration (e), untrained weights (the cost does not depend on them).

Frames: the real 720×576 fixture clips, tiled so that the frame holds 1, 2 or 4 faces
(each tile a clip shrunk to 360×288 for 2 and 4), held in memory so that decoding is not
timed. Each case runs in a fresh process (its own peak memory), one after the other.

    python benchmarks/bench_faces.py [--frames 200] [--repeats 3] [--threads 2] [--precision auto]
    python benchmarks/bench_faces.py --frames 24 --repeats 1 --cases '2 faces'   # the smallest setting (the smoke test's)
    python benchmarks/bench_faces.py --split [--frames 120]   # where a frame's time goes, front end and model apart
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from fervid.diagnostics.faces import FACE_CASES, several_faces_rate, several_faces_split
from fervid.diagnostics.machine import header, save_json
from fervid.diagnostics.streaming import FIXTURES
from fervid.frontend.video import find_videos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (the median is reported)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--videos", default=str(FIXTURES))
    parser.add_argument("--precision", default="auto", help="as fervid stream's --precision (auto: bfloat16 where native)")
    parser.add_argument("--cases", default=",".join(FACE_CASES), help="which cases, comma-separated (default: all, %(default)s)")
    parser.add_argument("--case", choices=FACE_CASES, help=argparse.SUPPRESS)  # one case, in this process
    parser.add_argument("--split", action="store_true", help="time the front end, the ConvLSTM steps and the window ends apart")
    parser.add_argument("--json")
    args = parser.parse_args()
    cases = args.cases.split(",")
    if set(cases) - set(FACE_CASES):
        parser.error(f"--cases: unknown {sorted(set(cases) - set(FACE_CASES))}")
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    videos = find_videos([args.videos]) if Path(args.videos).exists() else []
    if len(videos) < 4:
        raise SystemExit(f"need 4 videos in {args.videos}, found {len(videos)}")
    if args.case:
        print(json.dumps(several_faces_rate(args.case, args.frames, videos, args.precision)))
        return
    if args.split:
        print(header("where a streaming frame's time goes with several faces (one thread after the other), small preset", args.threads))
        rows = [several_faces_split(faces, args.frames, videos, args.precision) for faces in (1, 2, 4)]
        for row in rows:
            print(f"{row['faces']} face(s): front end {row['front_end_ms']:.1f} ms/frame, ConvLSTM steps {row['convlstm_steps_ms']:.1f}, "
                  f"window ends {row['window_ends_ms']:.1f} ({row['precision']})")
        save_json(args.json, rows)
        return
    print(header("streaming with several faces (face tracks + per-face model state), small preset", args.threads))
    print(f"# median of {args.repeats} runs per case, the cases interleaved (this machine's speed drifts by 20% or more)")
    runs: dict[str, list[dict]] = {case: [] for case in cases}
    for _ in range(args.repeats):
        for case in cases:
            done = subprocess.run([sys.executable, __file__, "--case", case, "--frames", str(args.frames), "--threads",
                                   str(args.threads), "--videos", args.videos, "--precision", args.precision],
                                  capture_output=True, text=True, check=True)
            runs[case].append(json.loads(done.stdout.strip().splitlines()[-1]))
    rows = []
    for case in cases:
        speeds = sorted(r["frames_per_s"] for r in runs[case])
        row = {**runs[case][0], "frames_per_s": float(np.median(speeds)), "frames_per_s_runs": speeds,
               "peak_rss_mib": max(r["peak_rss_mib"] for r in runs[case])}
        rows.append(row)
        print(f"{case:<14} {row['frames_per_s']:6.1f} frames/s ({speeds[0]:.0f}-{speeds[-1]:.0f}; {row['precision']}), "
              f"{row['clips']:3d} clip predictions, {row['faces_followed']} face(s) followed, peak {row['peak_rss_mib']:.0f} MiB")
    print("# targets (issue 29), 2 cores: one face as the one-face path, 2 faces >= 65 frames/s, 4 faces >= 35")
    save_json(args.json, rows)


if __name__ == "__main__":
    main()
