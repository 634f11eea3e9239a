"""Preprocessing speed per stage and end to end, on real 720×576 video.

Stages (one process, frames held in memory between stages so each is timed alone):
decode, face (BlazeFace + track + aligned crop), flow (Farneback + scaling),
dynamic image (both streams, per clip), write (the .npz). End to end:
``fervid.cache.preprocess`` into an empty cache with 1 and 2 worker processes.
Then the same frames as frame folders (PNG and JPEG, written from the decoded video)
beside the video files: decoding and end to end, 1 worker, side by side in one run.

    python benchmarks/bench_preprocess.py [--videos DIR] [--repeat 3] [--json out.json] [--only-sources | --long | --predict-memory]

``--predict-memory``: ``fervid predict`` (``predict_video``) of one long video in a fresh
process, 1 and 10 minutes, small preset, an untrained model: peak memory and time.

Default videos: the six eNTERFACE'05 fixture clips in ../shared/fixtures/enterface05_s1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from common import header, save_json

from fervid.clips.arrays import (
    PreprocessSettings,
    clip_dynamic_images,
    preprocess_video,
)
from fervid.clips.cache import preprocess
from fervid.clips.windows import clip_starts
from fervid.frontend.faces import BlazeFace, FaceTracker, crop_face
from fervid.frontend.flow import farneback, scale_flow, to_gray
from fervid.frontend.video import find_videos, read_video

DEFAULT_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "enterface05_s1"


def stage_rates(videos: list[Path], settings: PreprocessSettings) -> dict[str, float]:
    detector = BlazeFace()
    t = time.perf_counter()
    decoded = [list(read_video(v)[1]) for v in videos]
    rates = {"decode": time.perf_counter() - t}
    n = sum(map(len, decoded))

    t = time.perf_counter()
    crops = []
    for frames in decoded:
        tracker = FaceTracker(detector, settings.align)
        crops.append([crop_face(f, tracker.update(f).track, settings.compute_size) for f in frames])
    rates["face"] = time.perf_counter() - t

    t = time.perf_counter()
    flows = []
    for video_crops in crops:
        grays = [to_gray(c) for c in video_crops]
        flows.append([np.zeros((settings.face_size,) * 2 + (2,), np.float32)]
                     + [scale_flow(farneback(a, b, settings.flow), settings.face_size, settings.flow) for a, b in zip(grays, grays[1:])])
    rates["flow"] = time.perf_counter() - t

    small = [np.stack([cv2.resize(c, (settings.face_size,) * 2, interpolation=cv2.INTER_AREA) for c in vc]) for vc in crops]
    t = time.perf_counter()
    for rgb, flow in zip(small, flows):
        starts = clip_starts(len(rgb), settings.clip_len, settings.clip_stride)
        clip_dynamic_images(rgb, np.stack(flow), starts, settings.clip_len, settings.dynamic)
    rates["dynamic image"] = time.perf_counter() - t

    arrays = preprocess_video(videos[0], settings, detector)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        for i in range(len(videos)):
            np.savez(Path(tmp) / f"{i}.npz", **arrays)
        rates["write"] = (time.perf_counter() - t) * n / (len(videos) * int(arrays["n_frames"]))
    return {stage: n / seconds for stage, seconds in rates.items()}, n


def end_to_end(videos: list[Path], settings: PreprocessSettings, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        report = preprocess(videos, tmp, settings, workers=workers, progress=False)
        assert report.ok, report.summary()
        return report.frames / report.seconds


def long_video(videos: list[Path], path: Path, minutes: float) -> Path:
    """The clips' frames one after another, over and over, for ``minutes`` at 25 frames/s,
    as MPEG-4 part 2 (XVID, the codec family of eNTERFACE'05's DivX files)."""
    info = read_video(videos[0])[0]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"XVID"), 25.0, (info.width, info.height))
    if not writer.isOpened():
        raise SystemExit(f"{path}: OpenCV cannot write XVID here")
    total = int(minutes * 60 * 25)
    written = 0
    while written < total:
        for video in videos:
            for frame in read_video(video)[1]:
                if written == total:
                    break
                writer.write(frame)
                written += 1
    writer.release()
    return path


_MEASURE_ONE = """
import json, sys, tempfile
import cv2
from fervid.clips.cache import preprocess
from fervid.clips.arrays import PreprocessSettings
video, face_size, threads, opencv_threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if opencv_threads:
    cv2.setNumThreads(opencv_threads)
with tempfile.TemporaryDirectory() as tmp:
    report = preprocess([video], tmp, PreprocessSettings(face_size=face_size), workers=1, threads=threads, progress=False)
    assert report.ok, report.summary()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child started by a
# large parent reports the parent's peak (seen: 7.7 GB for every video, from bench_speed)
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"frames": report.frames, "seconds": report.seconds, "peak_rss_mib": peak_kib / 1024}))
"""


def preprocess_long_video(video: Path, face_size: int, threads: int, opencv_threads: int = 0) -> dict:
    """``fervid.cache.preprocess`` of one video in a fresh process: frames/s and the
    process's peak resident memory (MiB). ``opencv_threads``: OpenCV's own thread count
    (0: its default; with ``threads`` > 1 fervid sets it to 1 while it runs)."""
    row = _in_fresh_process(_MEASURE_ONE, video, face_size, threads, opencv_threads)
    row["frames_per_s"] = row["frames"] / row["seconds"]
    return row


def _in_fresh_process(code: str, *args) -> dict:
    """``code`` run by a new Python process with ``args``: the JSON object its last output line holds."""
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def long_video_rates(videos: list[Path], face_size: int = 32, speed_minutes: float = 5, memory_minutes=(1, 10)) -> list[dict]:
    """One long 720×576 video preprocessed by one process: frames/s with one thread and
    with two (issue 19), then peak memory at two lengths (two threads)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        long = long_video(videos, Path(tmp) / f"{speed_minutes:g}min.avi", speed_minutes)
        for threads, opencv_threads, what in ((1, 1, "1 thread, OpenCV 1 thread (one core)"),
                                              (1, 0, "1 thread, OpenCV's own threads (before issue 19)"),
                                              (2, 1, "2 threads (fervid's default on 2 cores)")):
            row = preprocess_long_video(long, face_size, threads, opencv_threads)
            rows.append({"minutes": speed_minutes, "threads": threads, "opencv_threads": opencv_threads, **row})
            print(f"  {speed_minutes:g}-minute video, face {face_size}, {what}: "
                  f"{row['frames_per_s']:.0f} frames/s ({row['frames']} frames, {row['seconds']:.1f} s), "
                  f"peak memory {row['peak_rss_mib']:.0f} MiB", flush=True)
        long.unlink()
        for minutes in memory_minutes:
            video = long_video(videos, Path(tmp) / f"{minutes:g}min.avi", minutes)
            row = preprocess_long_video(video, face_size, 2)
            video.unlink()
            rows.append({"minutes": minutes, "threads": 2, **row})
            print(f"  {minutes:g}-minute video, face {face_size}, 2 threads: peak memory {row['peak_rss_mib']:.0f} MiB "
                  f"({row['frames_per_s']:.0f} frames/s)", flush=True)
    return rows


_PREDICT_ONE = """
import json, sys, time
from fervid.prediction import load_predictor, predict_video
predictor = load_predictor(sys.argv[2])
start = time.perf_counter()
result = predict_video(sys.argv[1], predictor)
seconds = time.perf_counter() - start
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))  # see _MEASURE_ONE
print(json.dumps({"frames": result.frames, "clips": len(result.clips), "seconds": seconds, "peak_rss_mib": peak_kib / 1024}))
"""


def predict_memory(videos: list[Path], preset: str = "small", minutes=(1, 10)) -> list[dict]:
    """``predict_video`` of one long video in a fresh process at each length (an untrained
    model of configuration e: its cost does not depend on the weights): peak memory, time."""
    from fervid.checkpoint import save_model
    from fervid.models.fourstream import FourStreamNet, build_config

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = FourStreamNet(build_config(preset, "e"))
        settings = PreprocessSettings(face_size=model.config.face_size)
        save_model(model, Path(tmp) / "model", {"preprocess": settings.to_dict()})
        for length in minutes:
            video = long_video(videos, Path(tmp) / f"{length:g}min.avi", length)
            row = {"preset": preset, "minutes": length, **_in_fresh_process(_PREDICT_ONE, video, Path(tmp) / "model")}
            video.unlink()
            rows.append(row)
            print(f"  fervid predict, {length:g}-minute video, {preset} preset: peak memory {row['peak_rss_mib']:.0f} MiB, "
                  f"{row['seconds']:.1f} s ({row['frames'] / row['seconds']:.0f} frames/s, {row['clips']} clips)", flush=True)
    print(f"  peak memory {minutes[-1]:g} min / {minutes[0]:g} min: {rows[-1]['peak_rss_mib'] / rows[0]['peak_rss_mib']:.2f}×")
    return rows


def frame_folder_copies(videos: list[Path], root: Path, suffix: str) -> list[Path]:
    """Each video's decoded frames written as images 1<suffix>, 2<suffix>, ... (JPEG at
    OpenCV's default quality 95)."""
    folders = []
    for video in videos:
        folder = root / f"{video.stem}_{suffix.lstrip('.')}"
        folder.mkdir()
        for i, frame in enumerate(read_video(video)[1]):
            cv2.imwrite(str(folder / f"{i + 1}{suffix}"), frame)
        folders.append(folder)
    return folders


def source_rates(videos: list[Path], settings: PreprocessSettings, repeat: int) -> list[dict]:
    """Decoding and end-to-end frames/s of video files and of the same frames as PNG and
    JPEG frame folders."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sources = {"video files": videos,
                   "png frame folders": frame_folder_copies(videos, Path(tmp), ".png"),
                   "jpg frame folders": frame_folder_copies(videos, Path(tmp), ".jpg")}
        for name, items in sources.items():
            decode = []
            for _ in range(repeat):
                t = time.perf_counter()
                n = sum(1 for item in items for _ in read_video(item)[1])
                decode.append(n / (time.perf_counter() - t))
            rate = max(end_to_end(items, settings, 1) for _ in range(repeat))
            rows.append({"face_size": settings.face_size, "source": name, "decode_frames_per_s": max(decode), "end_to_end_frames_per_s": rate})
            print(f"face {settings.face_size:>3}  {name:<18}  decode {max(decode):>6.0f} frames/s  end to end, 1 worker {rate:>5.0f} frames/s")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", default=str(DEFAULT_VIDEOS))
    parser.add_argument("--repeat", type=int, default=3, help="best of this many end-to-end runs")
    parser.add_argument("--json")
    parser.add_argument("--only-sources", action="store_true", help="only video files vs frame folders")
    parser.add_argument("--long", action="store_true", help="only one long video, 1 and 2 threads (also in bench_speed.py)")
    parser.add_argument("--predict-memory", action="store_true", help="only fervid predict of a 1- and a 10-minute video: peak memory")
    args = parser.parse_args()
    videos = find_videos([args.videos])
    if not videos:
        raise SystemExit(f"no videos in {args.videos}")
    if args.long:
        save_json(args.json, long_video_rates(videos))
        return
    if args.predict_memory:
        print(header("fervid predict of one long video: peak memory", 2))
        save_json(args.json, predict_memory(videos))
        return
    cv2.setNumThreads(1)
    print(header("preprocessing frames/s (decode, face, flow, dynamic image, write; end to end)", 1))
    w, h = read_video(videos[0])[0].width, read_video(videos[0])[0].height
    print(f"# {len(videos)} videos from {args.videos}, {w}×{h}; stages in one process, OpenCV 1 thread")
    rows = []
    for face_size in () if args.only_sources else (32, 112):
        settings = PreprocessSettings(face_size=face_size)
        rates, n = stage_rates(videos, settings)
        for stage, rate in rates.items():
            rows.append({"face_size": face_size, "stage": stage, "frames_per_s": rate})
            print(f"face {face_size:>3}  {stage:<22}{rate:>9.0f} frames/s")
        for workers in (1, 2):
            rate = max(end_to_end(videos, settings, workers) for _ in range(args.repeat))
            rows.append({"face_size": face_size, "stage": f"end to end, {workers} workers", "frames_per_s": rate})
            print(f"face {face_size:>3}  {'end to end, ' + str(workers) + ' worker' + 's' * (workers > 1):<22}{rate:>9.0f} frames/s  ({n} frames)")
    print("# target (issue 3): end to end ≥ 50 frames/s for 720×576 input on 2 cores")
    print("# the same frames as video files and as frame folders (issue 17)")
    rows += source_rates(videos, PreprocessSettings(face_size=32), args.repeat)
    save_json(args.json, rows)


if __name__ == "__main__":
    main()
