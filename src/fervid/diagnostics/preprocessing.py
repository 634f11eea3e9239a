"""Preprocessing speed on real 720×576 video: per stage (frames held in memory between
stages so each is timed alone), end to end into an empty cache, one long video in a fresh
process (frames/s by threads, peak memory by length), ``predict_video``'s peak memory, and
video files against the same frames as frame folders."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from ..checkpoint import save_model
from ..clips.arrays import PreprocessSettings, clip_dynamic_images, preprocess_video
from ..clips.cache import preprocess
from ..clips.windows import clip_starts
from ..frontend.faces import BlazeFace, FaceTracker, crop_face
from ..frontend.flow import farneback, scale_flow, to_gray
from ..frontend.video import read_video
from ..models.fourstream import FourStreamNet, build_config


def stage_rates(videos: list[Path], settings: PreprocessSettings) -> tuple[dict[str, float], int]:
    """Frames/s of decode, face (BlazeFace + track + aligned crop), flow (Farneback +
    scaling), dynamic image (both streams, per clip) and write (the .npz), and the frames."""
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
    """Frames/s of ``fervid.clips.cache.preprocess`` into an empty cache."""
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
        raise RuntimeError(f"{path}: OpenCV cannot write XVID here")
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


# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child started by a
# large parent reports the parent's peak (seen: 7.7 GB for every video, from bench_speed).
_PEAK = 'next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024'

_MEASURE_ONE = f"""
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
print(json.dumps({{"frames": report.frames, "seconds": report.seconds, "peak_rss_mib": {_PEAK}}}))
"""

_PREDICT_ONE = f"""
import json, sys, time
from fervid.prediction import load_predictor, predict_video
predictor = load_predictor(sys.argv[2])
start = time.perf_counter()
result = predict_video(sys.argv[1], predictor)
seconds = time.perf_counter() - start
print(json.dumps({{"frames": result.frames, "clips": len(result.clips), "seconds": seconds, "peak_rss_mib": {_PEAK}}}))
"""


def in_fresh_process(code: str, *args) -> dict:
    """``code`` run by a new Python process with ``args``: the JSON object its last output line holds."""
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def preprocess_long_video(video: Path, face_size: int, threads: int, opencv_threads: int = 0) -> dict:
    """``preprocess`` of one video in a fresh process: frames/s and the process's peak
    resident memory (MiB). ``opencv_threads``: OpenCV's own thread count (0: its default;
    with ``threads`` > 1 fervid sets it to 1 while it runs)."""
    row = in_fresh_process(_MEASURE_ONE, video, face_size, threads, opencv_threads)
    row["frames_per_s"] = row["frames"] / row["seconds"]
    return row


LONG_VIDEO_THREADS = ((1, 1, "1 thread, OpenCV 1 thread (one core)"),
                      (1, 0, "1 thread, OpenCV's own threads (before issue 19)"),
                      (2, 1, "2 threads (fervid's default on 2 cores)"))


def long_video_rates(videos: list[Path], face_size: int = 32, speed_minutes: float = 5, memory_minutes=(1, 10)):
    """One long 720×576 video preprocessed by one process: a row of frames/s for each of
    ``LONG_VIDEO_THREADS`` (issue 19), then of peak memory at each of ``memory_minutes``
    (two threads); each row as it is measured."""
    with tempfile.TemporaryDirectory() as tmp:
        long = long_video(videos, Path(tmp) / f"{speed_minutes:g}min.avi", speed_minutes)
        for threads, opencv_threads, what in LONG_VIDEO_THREADS:
            row = preprocess_long_video(long, face_size, threads, opencv_threads)
            yield {"minutes": speed_minutes, "threads": threads, "opencv_threads": opencv_threads, **row}
        long.unlink()
        for minutes in memory_minutes:
            video = long_video(videos, Path(tmp) / f"{minutes:g}min.avi", minutes)
            row = preprocess_long_video(video, face_size, 2)
            video.unlink()
            yield {"minutes": minutes, "threads": 2, **row}


def long_video_line(row: dict, face_size: int = 32) -> str:
    """A ``long_video_rates`` row as bench_preprocess and bench_speed print it."""
    what = next((w for t, o, w in LONG_VIDEO_THREADS if (t, o) == (row["threads"], row.get("opencv_threads"))), None)
    if what:
        return (f"  {row['minutes']:g}-minute video, face {face_size}, {what}: {row['frames_per_s']:.0f} frames/s "
                f"({row['frames']} frames, {row['seconds']:.1f} s), peak memory {row['peak_rss_mib']:.0f} MiB")
    return (f"  {row['minutes']:g}-minute video, face {face_size}, 2 threads: peak memory {row['peak_rss_mib']:.0f} MiB "
            f"({row['frames_per_s']:.0f} frames/s)")


def predict_memory(videos: list[Path], preset: str = "small", minutes=(1, 10)):
    """``predict_video`` of one long video in a fresh process at each length (an untrained
    model of configuration e: its cost does not depend on the weights): a row of peak
    memory and time per length, as it is measured."""
    with tempfile.TemporaryDirectory() as tmp:
        model = FourStreamNet(build_config(preset, "e"))
        settings = PreprocessSettings(face_size=model.config.face_size)
        save_model(model, Path(tmp) / "model", {"preprocess": settings.to_dict()})
        for length in minutes:
            video = long_video(videos, Path(tmp) / f"{length:g}min.avi", length)
            row = {"preset": preset, "minutes": length, **in_fresh_process(_PREDICT_ONE, video, Path(tmp) / "model")}
            video.unlink()
            yield row


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


def source_rates(videos: list[Path], settings: PreprocessSettings, repeat: int):
    """Decoding and end-to-end frames/s (best of ``repeat``) of the video files and of the
    same frames as PNG and JPEG frame folders, a row per source."""
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
            yield {"face_size": settings.face_size, "source": name, "decode_frames_per_s": max(decode),
                   "end_to_end_frames_per_s": rate}
