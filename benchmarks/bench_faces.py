"""Streaming with several faces: frames per second and peak memory of ``fervid stream
--max-faces`` with 1, 2 and 4 faces in view, beside the one-face path (``fervid stream``),
small preset, configuration (e), untrained weights (the cost does not depend on them).

Frames: the real 720×576 fixture clips, tiled so that the frame holds 1, 2 or 4 faces
(each tile a clip shrunk to 360×288 for 2 and 4), held in memory so that decoding is not
timed. Each case runs in a fresh process (its own peak memory), one after the other.

    python benchmarks/bench_faces.py [--frames 200] [--repeats 3] [--threads 2] [--precision auto]
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from common import header, save_json

from fervid.clips.arrays import PreprocessSettings
from fervid.frontend.faces import BlazeFace
from fervid.frontend.video import find_videos, read_video
from fervid.models.fourstream import FourStreamNet, build_config
from fervid.prediction import (
    Predictor,
    intra_op_threads,
    stream_faces,
    stream_frames,
    streaming_threads,
)

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "enterface05_s1"
CASES = ("one-face path", "1 face", "2 faces", "4 faces")


def tiled_frames(videos: list[Path], faces: int, n: int) -> list[np.ndarray]:
    """n frames holding ``faces`` faces: one clip as it is, or 2 (side by side) or 4 (2×2)
    different clips shrunk to half size."""
    streams = [itertools.cycle(list(read_video(v)[1])[:60]) for v in videos[:max(faces, 1)]]
    frames = []
    for _ in range(n):
        tiles = [next(s) for s in streams[:faces]]
        if faces == 1:
            frames.append(tiles[0])
            continue
        small = [cv2.resize(t, (360, 288), interpolation=cv2.INTER_AREA) for t in tiles]
        frames.append(np.hstack(small) if faces == 2 else np.vstack([np.hstack(small[:2]), np.hstack(small[2:])]))
    return frames


def run_case(case: str, frames_wanted: int, videos: list[Path], precision: str) -> dict:
    model = FourStreamNet(build_config("small", "e")).eval()
    predictor = Predictor(model, PreprocessSettings(face_size=model.config.face_size), "small", precision)
    faces = 1 if case in ("one-face path", "1 face") else int(case[0])
    frames = tiled_frames(videos, faces, frames_wanted + 16)
    detector = BlazeFace()
    clips = 0
    with intra_op_threads(streaming_threads(predictor)), torch.inference_mode():
        if case == "one-face path":
            list(stream_frames(predictor, frames[:16], 25.0, detector))  # warm-up
            start = time.perf_counter()
            clips = sum(1 for _ in stream_frames(predictor, frames[16:], 25.0, detector))
        else:
            list(stream_faces(predictor, frames[:16], 25.0, max_faces=4, detector=detector))  # warm-up
            start = time.perf_counter()
            seen = set()
            for face, _ in stream_faces(predictor, frames[16:], 25.0, max_faces=4, detector=detector):
                clips += 1
                seen.add(face)
            open_faces = len(seen)
    seconds = time.perf_counter() - start
    return {"case": case, "frames": frames_wanted, "frames_per_s": frames_wanted / seconds, "clips": clips,
            "faces_followed": 1 if case == "one-face path" else open_faces,
            "precision": predictor.precision, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (the median is reported)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--videos", default=str(FIXTURES))
    parser.add_argument("--precision", default="auto", help="as fervid stream's --precision (auto: bfloat16 where native)")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # one case, in this process
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    videos = find_videos([args.videos]) if Path(args.videos).exists() else []
    if len(videos) < 4:
        raise SystemExit(f"need 4 videos in {args.videos}, found {len(videos)}")
    if args.case:
        print(json.dumps(run_case(args.case, args.frames, videos, args.precision)))
        return
    print(header("streaming with several faces (face tracks + per-face model state), small preset", args.threads))
    print(f"# median of {args.repeats} runs per case, the cases interleaved (this machine's speed drifts by 20% or more)")
    runs: dict[str, list[dict]] = {case: [] for case in CASES}
    for _ in range(args.repeats):
        for case in CASES:
            done = subprocess.run([sys.executable, __file__, "--case", case, "--frames", str(args.frames), "--threads",
                                   str(args.threads), "--videos", args.videos, "--precision", args.precision],
                                  capture_output=True, text=True, check=True)
            runs[case].append(json.loads(done.stdout.strip().splitlines()[-1]))
    rows = []
    for case in CASES:
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
