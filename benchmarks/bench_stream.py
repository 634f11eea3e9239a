"""End-to-end streaming prediction speed: decode + face + flow + model, frame by frame,
on real 720×576 video (the fixture clips; synthetic cartoon-face video if absent),
for the small and paper presets (configuration e, untrained weights: the cost does
not depend on them).

    python benchmarks/bench_stream.py [--presets small,paper] [--threads 2] [--frames 200]
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import torch
from common import header, save_json

from fervid.clips.arrays import PreprocessSettings
from fervid.frontend.faces import BlazeFace
from fervid.frontend.video import find_videos, read_video
from fervid.models.fourstream import FourStreamNet, build_config
from fervid.prediction import Predictor, StreamingPredictor

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "enterface05_s1"


def frames_from(videos, limit):
    def all_frames():
        for video in itertools.cycle(videos):
            yield from read_video(video)[1]

    return itertools.islice(all_frames(), limit)


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
        model = FourStreamNet(build_config(preset, "e")).eval()
        predictor = Predictor(model, PreprocessSettings(face_size=model.config.face_size), preset)
        streamer = StreamingPredictor(predictor, 25.0, detector)
        n = args.frames if preset == "small" else max(24, args.frames // 10)
        frames = list(frames_from(videos, n + 16))
        for frame in frames[:16]:  # warm-up: a first window
            streamer.push(frame)
        start = time.perf_counter()
        clips = 0
        for frame in frames[16:]:
            clips += streamer.push(frame) is not None
        seconds = time.perf_counter() - start
        row = {"preset": preset, "frames": n, "clips": clips, "frames_per_s": n / seconds, "ms_per_frame": 1000 * seconds / n}
        rows.append(row)
        print(f"{preset:<6} {row['frames_per_s']:7.1f} frames/s ({row['ms_per_frame']:.1f} ms/frame, {n} frames, {clips} clip predictions)")
    print("# target (issue 6): ≥ 25 frames/s for the small preset on 2 cores")
    save_json(args.json, rows)


if __name__ == "__main__":
    main()
