"""Several faces in view: streaming frames/s and memory with 1, 2 or 4 faces (the fixture
clips tiled into one frame), and face tracks against the ground truth of the synthetic
multi-face scenes (identity switches, coverage, IDF1)."""

from __future__ import annotations

import itertools
import resource
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..clips.arrays import PreprocessSettings
from ..datasets.synthetic.scenes import render_scene, scenes
from ..evaluation.tracking import identity_metrics
from ..frontend.faces import BlazeFace
from ..frontend.tracks import FaceTracks, TrackSettings
from ..frontend.video import read_video
from ..prediction import (
    FaceStreams,
    intra_op_threads,
    stream_faces,
    stream_frames,
    streaming_threads,
)
from .streaming import untrained_predictor

FACE_CASES = ("one-face path", "1 face", "2 faces", "4 faces")


def tiled_frames(videos: list[Path], faces: int, n: int) -> list[np.ndarray]:
    """n frames holding ``faces`` faces: one clip as it is, or 2 (side by side) or 4 (2×2)
    different clips shrunk to half size (720×576 -> 360×288 each)."""
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


def several_faces_rate(case: str, frames_wanted: int, videos: list[Path], precision: str) -> dict:
    """One ``FACE_CASES`` case, small preset, after a warm-up of 16 frames: frames/s, clip
    predictions, faces followed, and this process's peak resident memory (run each case
    in a fresh process)."""
    predictor = untrained_predictor("small", precision)
    faces = 1 if case in ("one-face path", "1 face") else int(case[0])
    frames = tiled_frames(videos, faces, frames_wanted + 16)
    detector = BlazeFace()
    clips, seen = 0, set()
    with intra_op_threads(streaming_threads(predictor)), torch.inference_mode():
        if case == "one-face path":
            list(stream_frames(predictor, frames[:16], 25.0, detector))  # warm-up
            start = time.perf_counter()
            clips = sum(1 for _ in stream_frames(predictor, frames[16:], 25.0, detector))
        else:
            list(stream_faces(predictor, frames[:16], 25.0, max_faces=4, detector=detector))  # warm-up
            start = time.perf_counter()
            for face, _ in stream_faces(predictor, frames[16:], 25.0, max_faces=4, detector=detector):
                clips += 1
                seen.add(face)
    seconds = time.perf_counter() - start
    return {"case": case, "frames": frames_wanted, "frames_per_s": frames_wanted / seconds, "clips": clips,
            "faces_followed": 1 if case == "one-face path" else len(seen),
            "precision": predictor.precision, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


class _TimedFaceStreams(FaceStreams):
    """``FaceStreams`` adding up the time of its ConvLSTM steps."""

    step_seconds = 0.0

    def step_together(self, streamers) -> None:
        start = time.perf_counter()
        super().step_together(streamers)
        self.step_seconds += time.perf_counter() - start


def several_faces_split(faces: int, frames_wanted: int, videos: list[Path], precision: str) -> dict:
    """Where a frame's time goes with ``faces`` faces (small preset, frames per step 8, one
    thread after the other, no run-ahead): the front end (detection, tracks, crops, flow),
    the ConvLSTM steps and the rest of the model's part (the windows' ends: dynamic images,
    ResNet streams, head), each in ms per frame after a warm-up of 16 frames."""
    predictor = untrained_predictor("small", precision)
    frames = tiled_frames(videos, faces, frames_wanted + 16)
    streams = _TimedFaceStreams(predictor, 25.0, BlazeFace(), TrackSettings(max_faces=4), frames_per_step=8)
    front = model = 0.0
    with intra_op_threads(streaming_threads(predictor)), torch.inference_mode():
        for i, frame in enumerate(frames):
            if i == 16:
                front = model = streams.step_seconds = 0.0
            start = time.perf_counter()
            results = streams.tracks.push(frame)
            middle = time.perf_counter()
            streams.push_faces(i, results)
            front, model = front + middle - start, model + time.perf_counter() - middle
    per_frame = 1000 / frames_wanted
    return {"faces": faces, "frames": frames_wanted, "precision": predictor.precision, "front_end_ms": front * per_frame,
            "convlstm_steps_ms": streams.step_seconds * per_frame, "window_ends_ms": (model - streams.step_seconds) * per_frame}


def tracked_boxes(frames, detector) -> dict[int, dict[int, list[float]]]:
    """{face id: {frame index: box}} of ``FaceTracks`` (up to 4 faces) over ``frames``."""
    tracks = FaceTracks(PreprocessSettings(), detector, TrackSettings(max_faces=4))
    boxes: dict[int, dict[int, list[float]]] = {}
    for t, frame in enumerate(frames):
        for face_id, result in tracks.push(frame).items():
            boxes.setdefault(face_id, {})[t] = list(result.box)
    return boxes


def scene_identity(seeds: list[int], detector=None):
    """Each synthetic scene drawn with each seed, tracked: (scene name, seed, the middle
    frame, ``identity_metrics``, the face-frames in view and tracked), in turn."""
    detector = detector or BlazeFace()
    for name, paths in scenes().items():
        for seed in seeds:
            frames, truth = render_scene(paths, seed=seed)
            tracked = tracked_boxes(frames, detector)
            result = identity_metrics([t["boxes"] for t in truth], tracked)
            extent = {"visible": sum(b is not None for t in truth for b in t["boxes"]),
                      "present": sum(len(b) for b in tracked.values())}
            yield name, seed, frames[len(frames) // 2], result, extent


def identity_totals(rows: list[dict]) -> dict:
    """All scenes together (``rows``: each scene's ``identity_metrics`` with its extent):
    identity switches per 100 true faces, coverage (ID recall: covered face-frames over
    those in view) and IDF1."""
    faces = sum(r["true_faces"] for r in rows)
    visible = sum(r["visible"] for r in rows)
    covered = sum(r["coverage"] * r["visible"] for r in rows)
    present = sum(r["present"] for r in rows)
    return {"true_faces": faces, "visible": visible, "id_switches_per_100_faces": 100 * sum(r["id_switches"] for r in rows) / faces,
            "coverage": covered / visible, "idf1": 2 * covered / (visible + present)}
