"""The per-frame front end: ``FramePipeline`` takes frames one at a time (face track,
crop, flow against the previous crop), so that offline preprocessing and streaming
prediction run the same code; ``frame_results`` runs it over a whole video, detection
and flow in threads."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .faces import BlazeFace, FaceTracker, crop_face
from .flow import farneback, scale_flow, to_gray

if TYPE_CHECKING:  # annotations only: the settings are made downstream, where the whole preprocessing is
    from ..clips.arrays import PreprocessSettings

FACE_SOURCES = ("blazeface", "openface")


@dataclass
class FrameResult:
    rgb: np.ndarray | None  # (S, S, 3) uint8 RGB; None until the first face is found
    flow: np.ndarray | None  # (S, S, 2) float32 in [-1, 1]
    detected: bool
    lost: bool
    box: tuple[float, float, float, float] | None


@dataclass
class StagedFrame:
    """A frame after the sequential part of the pipeline (track, crop): all the flow and
    the colour conversion still need, so that part can run in another thread."""

    crop_bgr: np.ndarray | None  # (C, C, 3) uint8 at the compute size; None: no face yet
    gray: np.ndarray | None
    prev_gray: np.ndarray | None  # None: no previous crop to compare with (zero flow)
    detected: bool
    lost: bool
    box: tuple[float, float, float, float] | None


class FramePipeline:
    """Frame by frame: ``push(frame_bgr) -> FrameResult``. Keeps the face track and the
    previous crop, so nothing already seen is recomputed.

    ``push`` is ``complete(stage(frame, detections))``: ``stage`` is the sequential part
    (the track of a frame depends on the one before), ``complete`` (flow, colour) reads
    only its argument, so ``frame_results`` runs detection and ``complete`` in threads.
    """

    def __init__(self, settings: PreprocessSettings, detector: BlazeFace | None = None):
        self.settings = settings
        # OpenFace output arrives as aligned crops (push_crop): no detector then.
        self.tracker = FaceTracker(detector or BlazeFace(), settings.align) if settings.face_source == "blazeface" else None
        self.prev_gray: np.ndarray | None = None

    def push(self, frame: np.ndarray) -> FrameResult:
        return self.complete(self.stage(frame, self.tracker.detector.detect(frame)))

    def push_crop(self, crop_bgr: np.ndarray, detected: bool, lost: bool, box=None) -> FrameResult:
        """The same from an already aligned crop (OpenFace output)."""
        return self.complete(self.stage_crop(crop_bgr, detected, lost, box))

    def stage(self, frame: np.ndarray, detections: list) -> StagedFrame:
        tracked = self.tracker.update_with(detections)
        if tracked.track is None:
            return StagedFrame(None, None, None, False, True, None)
        big = crop_face(frame, tracked.track, self.settings.compute_size)  # (C, C, 3) BGR, C = compute size
        return self.stage_crop(big, tracked.detected, tracked.lost, tracked.track.box())

    def stage_crop(self, crop_bgr: np.ndarray, detected: bool, lost: bool, box=None) -> StagedFrame:
        size = self.settings.compute_size
        if crop_bgr.shape[0] != size:
            crop_bgr = cv2.resize(crop_bgr, (size, size), interpolation=cv2.INTER_AREA)
        gray = to_gray(crop_bgr)
        prev_gray = None if lost else self.prev_gray  # after a lost face: nothing to compare with
        self.prev_gray = None if lost else gray
        return StagedFrame(crop_bgr, gray, prev_gray, detected, lost, box)

    def complete(self, staged: StagedFrame) -> FrameResult:
        s = self.settings
        if staged.crop_bgr is None:
            return FrameResult(None, None, False, True, None)
        if staged.prev_gray is None:
            flow = np.zeros((s.face_size, s.face_size, 2), np.float32)
        else:
            flow = scale_flow(farneback(staged.prev_gray, staged.gray, s.flow), s.face_size, s.flow)
        crop = staged.crop_bgr
        small = crop if s.compute_size == s.face_size else cv2.resize(crop, (s.face_size,) * 2, interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        return FrameResult(rgb, flow, staged.detected, staged.lost, staged.box)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def frame_results(pipeline: FramePipeline, frames: Iterable[np.ndarray], threads: int = 1) -> Iterator[FrameResult]:
    """``pipeline.push`` of every frame, in order. With ``threads`` > 1, face detection and
    ``complete`` (flow, colour) run on a pool of that many threads (OpenCV releases the GIL
    in both), a few frames ahead, while this thread decodes, tracks and crops: one video
    uses several cores, with at most ~8 frames per thread in flight (memory does not grow
    with the video). OpenCV's own threads are set to one meanwhile, so that these threads,
    not OpenCV's, share the cores. The results are the same as one thread's, frame for frame."""
    if threads <= 1:
        yield from map(pipeline.push, frames)
        return
    opencv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield from _frame_results_threaded(pipeline, frames, threads)
    finally:
        cv2.setNumThreads(opencv_threads)


def _frame_results_threaded(pipeline: FramePipeline, frames: Iterable[np.ndarray], threads: int) -> Iterator[FrameResult]:
    detector = pipeline.tracker.detector
    local = threading.local()

    def detect(frame: np.ndarray) -> list:
        if not hasattr(local, "detector"):
            local.detector = detector.copy()  # one cv2.dnn.Net per thread
        return local.detector.detect(frame)

    ahead = 4 * threads
    with ThreadPoolExecutor(threads, thread_name_prefix="fervid-preprocess") as pool:
        detecting: deque = deque()  # (frame, future of its detections)
        completing: deque = deque()  # futures of FrameResults, in frame order

        def stage_oldest() -> None:
            frame, detections = detecting.popleft()
            completing.append(pool.submit(pipeline.complete, pipeline.stage(frame, detections.result())))

        for frame in frames:
            detecting.append((frame, pool.submit(detect, frame)))
            if len(detecting) > ahead:
                stage_oldest()
            while len(completing) > ahead:
                yield completing.popleft().result()
        while detecting:
            stage_oldest()
        while completing:
            yield completing.popleft().result()
