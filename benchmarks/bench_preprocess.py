"""Preprocessing speed per stage and end to end, on real 720×576 video.

Stages (one process, frames held in memory between stages so each is timed alone):
decode, face (BlazeFace + track + aligned crop), flow (Farneback + scaling),
dynamic image (both streams, per clip), write (the .npz). End to end:
``fervid.cache.preprocess`` into an empty cache with 1 and 2 worker processes.
Then the same frames as frame folders (PNG and JPEG, written from the decoded video)
beside the video files: decoding and end to end, 1 worker, side by side in one run.

    python benchmarks/bench_preprocess.py [--videos DIR] [--repeat 3] [--json out.json] [--only-sources | --long | --predict-memory]
    python benchmarks/bench_preprocess.py --smoke [--long | --predict-memory]   # the smallest setting (the smoke test's)

``--predict-memory``: ``fervid predict`` (``predict_video``) of one long video in a fresh
process, 1 and 10 minutes, small preset, an untrained model: peak memory and time.

Default videos: the six eNTERFACE'05 fixture clips in ../shared/fixtures/enterface05_s1.
"""

from __future__ import annotations

import argparse

import cv2

from fervid.clips.arrays import PreprocessSettings
from fervid.diagnostics.machine import header, save_json
from fervid.diagnostics.preprocessing import (
    end_to_end,
    long_video_line,
    long_video_rates,
    predict_memory,
    source_rates,
    stage_rates,
)
from fervid.diagnostics.streaming import FIXTURES
from fervid.frontend.video import find_videos, read_video


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", default=str(FIXTURES))
    parser.add_argument("--repeat", type=int, default=3, help="best of this many end-to-end runs")
    parser.add_argument("--json")
    parser.add_argument("--only-sources", action="store_true", help="only video files vs frame folders")
    parser.add_argument("--long", action="store_true", help="only one long video, 1 and 2 threads (also in bench_speed.py)")
    parser.add_argument("--predict-memory", action="store_true", help="only fervid predict of a 1- and a 10-minute video: peak memory")
    parser.add_argument("--smoke", action="store_true",
                        help="the smallest setting: the first video, face 32, 1 worker, one run; --long and --predict-memory: "
                             "videos of 3 and 6 seconds")
    args = parser.parse_args()
    videos = find_videos([args.videos])
    if not videos:
        raise SystemExit(f"no videos in {args.videos}")
    if args.smoke:
        videos, args.repeat = videos[:1], 1
    lengths = (0.05, 0.1) if args.smoke else (1, 10)  # minutes
    if args.long:
        rows = []
        for row in long_video_rates(videos, speed_minutes=lengths[0] if args.smoke else 5, memory_minutes=lengths):
            rows.append(row)
            print(long_video_line(row), flush=True)
        save_json(args.json, rows)
        return
    if args.predict_memory:
        print(header("fervid predict of one long video: peak memory", 2))
        rows = []
        for row in predict_memory(videos, minutes=lengths):
            rows.append(row)
            print(f"  fervid predict, {row['minutes']:g}-minute video, {row['preset']} preset: peak memory {row['peak_rss_mib']:.0f} MiB, "
                  f"{row['seconds']:.1f} s ({row['frames'] / row['seconds']:.0f} frames/s, {row['clips']} clips)", flush=True)
        print(f"  peak memory {lengths[-1]:g} min / {lengths[0]:g} min: {rows[-1]['peak_rss_mib'] / rows[0]['peak_rss_mib']:.2f}×")
        save_json(args.json, rows)
        return
    cv2.setNumThreads(1)
    print(header("preprocessing frames/s (decode, face, flow, dynamic image, write; end to end)", 1))
    w, h = read_video(videos[0])[0].width, read_video(videos[0])[0].height
    print(f"# {len(videos)} videos from {args.videos}, {w}×{h}; stages in one process, OpenCV 1 thread")
    rows = []
    for face_size in () if args.only_sources else (32,) if args.smoke else (32, 112):
        settings = PreprocessSettings(face_size=face_size)
        rates, n = stage_rates(videos, settings)
        for stage, rate in rates.items():
            rows.append({"face_size": face_size, "stage": stage, "frames_per_s": rate})
            print(f"face {face_size:>3}  {stage:<22}{rate:>9.0f} frames/s")
        for workers in (1,) if args.smoke else (1, 2):
            rate = max(end_to_end(videos, settings, workers) for _ in range(args.repeat))
            rows.append({"face_size": face_size, "stage": f"end to end, {workers} workers", "frames_per_s": rate})
            print(f"face {face_size:>3}  {'end to end, ' + str(workers) + ' worker' + 's' * (workers > 1):<22}{rate:>9.0f} frames/s  ({n} frames)")
    print("# target (issue 3): end to end ≥ 50 frames/s for 720×576 input on 2 cores")
    print("# the same frames as video files and as frame folders (issue 17)")
    for row in source_rates(videos, PreprocessSettings(face_size=32), args.repeat):
        rows.append(row)
        print(f"face {row['face_size']:>3}  {row['source']:<18}  decode {row['decode_frames_per_s']:>6.0f} frames/s  "
              f"end to end, 1 worker {row['end_to_end_frames_per_s']:>5.0f} frames/s")
    save_json(args.json, rows)


if __name__ == "__main__":
    main()
