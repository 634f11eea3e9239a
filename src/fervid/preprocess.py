"""One video -> the inputs of the four streams: face crops, flow, clips, dynamic images.

``FramePipeline`` takes frames one at a time (face track, previous crop for the
flow), so offline preprocessing and streaming prediction run the same code.
``preprocess_video`` runs it over a file and cuts clips.

Arrays of a preprocessed video (N frames, K clips, S face size):

    rgb           (N, S, S, 3) uint8, RGB
    flow          (N, S, S, 2) float16 in [-1, 1]; flow[0] = 0 (no previous frame)
    detected      (N,) bool, the detector found the face in that frame
    lost          (N,) bool, no face for longer than the bridging gap: crop not trustworthy
    boxes         (N, 4) float32, crop square in frame pixels (x0, y0, x1, y1)
    clip_starts   (K,) int
    rgb_dynamic   (K, S, S, 3) float16 in [-1, 1]
    flow_dynamic  (K, S, S, 2) float16 in [-1, 1]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .clips import CLIP_LEN, CLIP_STRIDE, clip_starts, pad_to_length
from .dynamic import DYNAMIC_METHODS, dynamic_image
from .faces import AlignSettings, BlazeFace, FaceTracker, NoFaceError, crop_face, read_openface
from .flow import FlowSettings, farneback, scale_flow, to_gray
from .video import probe, read_video

FACE_SOURCES = ("blazeface", "openface")
CACHE_FORMAT = 3  # bump when the arrays' meaning changes: it is part of every cache key (2: area-filtered crops; 3: block-mean shrink of the crop's region)


@dataclass(frozen=True)
class PreprocessSettings:
    """Everything that shapes the preprocessed data; its hash keys the cache."""

    face_size: int = 32  # pixels; the model preset's face_size (paper: 112, OpenFace's aligned size)
    clip_len: int = CLIP_LEN
    clip_stride: int = CLIP_STRIDE
    dynamic: str = "rank"  # "rank" (approximate rank pooling) or "mean"
    face_source: str = "blazeface"  # or "openface": read OpenFace 2.0 output from openface_dir
    openface_dir: str | None = None  # folder with <video stem>.csv and <video stem>_aligned/
    align: AlignSettings = field(default_factory=AlignSettings)
    flow: FlowSettings = field(default_factory=FlowSettings)
    # A frame folder's frame rate (video files carry their own); None: video.FRAME_FOLDER_FPS.
    frame_folder_fps: float | None = None

    def __post_init__(self) -> None:
        if self.dynamic not in DYNAMIC_METHODS:
            raise ValueError(f"dynamic must be one of {DYNAMIC_METHODS}, got {self.dynamic!r}")
        if self.face_source not in FACE_SOURCES:
            raise ValueError(f"face_source must be one of {FACE_SOURCES}, got {self.face_source!r}")
        if self.face_source == "openface" and not self.openface_dir:
            raise ValueError("face_source 'openface' needs openface_dir (where OpenFace wrote its output)")
        if self.clip_stride < 1 or self.clip_len < 1:
            raise ValueError("clip_len and clip_stride must be positive")
        if self.frame_folder_fps is not None and not self.frame_folder_fps > 0:
            raise ValueError(f"frame_folder_fps must be positive, got {self.frame_folder_fps}")

    @property
    def compute_size(self) -> int:
        """Crop size the flow is computed at (then resized to face_size)."""
        return max(self.face_size, self.flow.min_compute_size)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def key(self) -> str:
        """A short hash of every setting (and the cache format)."""
        settings = self.to_dict()
        if settings["frame_folder_fps"] is None:  # unset: the keys of caches made before the field existed
            del settings["frame_folder_fps"]
        blob = json.dumps({"format": CACHE_FORMAT, **settings}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class FrameResult:
    rgb: np.ndarray | None  # (S, S, 3) uint8 RGB; None until the first face is found
    flow: np.ndarray | None  # (S, S, 2) float32 in [-1, 1]
    detected: bool
    lost: bool
    box: tuple[float, float, float, float] | None


class FramePipeline:
    """Frame by frame: ``push(frame_bgr) -> FrameResult``. Keeps the face track and the
    previous crop, so nothing already seen is recomputed."""

    def __init__(self, settings: PreprocessSettings, detector: BlazeFace | None = None):
        self.settings = settings
        # OpenFace output arrives as aligned crops (push_crop): no detector then.
        self.tracker = FaceTracker(detector or BlazeFace(), settings.align) if settings.face_source == "blazeface" else None
        self.prev_gray: np.ndarray | None = None

    def push(self, frame: np.ndarray) -> FrameResult:
        s = self.settings
        tracked = self.tracker.update(frame)
        if tracked.track is None:
            return FrameResult(None, None, False, True, None)
        big = crop_face(frame, tracked.track, s.compute_size)  # (C, C, 3) BGR, C = compute size
        return self.push_crop(big, tracked.detected, tracked.lost, tracked.track.box())

    def push_crop(self, crop_bgr: np.ndarray, detected: bool, lost: bool, box=None) -> FrameResult:
        """The same from an already aligned crop (OpenFace output)."""
        s = self.settings
        if crop_bgr.shape[0] != s.compute_size:
            crop_bgr = cv2.resize(crop_bgr, (s.compute_size,) * 2, interpolation=cv2.INTER_AREA)
        gray = to_gray(crop_bgr)
        if self.prev_gray is None or lost:
            flow = np.zeros((s.face_size, s.face_size, 2), np.float32)  # nothing to compare with
        else:
            flow = scale_flow(farneback(self.prev_gray, gray, s.flow), s.face_size, s.flow)
        self.prev_gray = None if lost else gray
        small = crop_bgr if s.compute_size == s.face_size else cv2.resize(crop_bgr, (s.face_size,) * 2, interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        return FrameResult(rgb, flow, detected, lost, box)


def rgb_to_unit(rgb: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1], the model's RGB input range."""
    return rgb.astype(np.float32) / 127.5 - 1.0


def clip_dynamic_images(rgb: np.ndarray, flow: np.ndarray, starts, length: int, method: str):
    """Dynamic images of each clip: (K, S, S, 3) and (K, S, S, 2) float32."""
    rgb_di = [dynamic_image(rgb_to_unit(rgb[s : s + length]), method) for s in starts]
    flow_di = [dynamic_image(flow[s : s + length], method) for s in starts]
    return np.stack(rgb_di), np.stack(flow_di)


def _finish(results: list[FrameResult], settings: PreprocessSettings, source: str) -> dict[str, np.ndarray]:
    """Per-frame results -> the arrays of the module docstring."""
    first = next((i for i, r in enumerate(results) if r.rgb is not None), None)
    if first is None or not any(r.detected for r in results):
        raise NoFaceError(f"{source}: no face found in any of {len(results)} frames")
    # Frames before the first detection take its crop (offline only; streaming marks them "no face").
    for r in results[:first]:
        r.rgb, r.flow = results[first].rgb, np.zeros_like(results[first].flow)
    n = len(results)
    rgb = pad_to_length(np.stack([r.rgb for r in results]), settings.clip_len)
    flow = pad_to_length(np.stack([r.flow for r in results]), settings.clip_len, repeat_last=False)
    starts = clip_starts(len(rgb), settings.clip_len, settings.clip_stride)
    rgb_di, flow_di = clip_dynamic_images(rgb, flow, starts, settings.clip_len, settings.dynamic)
    nan_box = (np.nan,) * 4
    return {
        "rgb": rgb,
        "flow": flow.astype(np.float16),
        "detected": np.array([r.detected for r in results] + [False] * (len(rgb) - n)),
        "lost": np.array([r.lost for r in results] + [True] * (len(rgb) - n)),
        "boxes": np.array([r.box or nan_box for r in results] + [nan_box] * (len(rgb) - n), np.float32),
        "clip_starts": np.array(starts, np.int64),
        "rgb_dynamic": rgb_di.astype(np.float16),
        "flow_dynamic": flow_di.astype(np.float16),
        "n_frames": np.array(n),
    }


def preprocess_video(path: str | os.PathLike, settings: PreprocessSettings, detector: BlazeFace | None = None) -> dict[str, np.ndarray]:
    """A video file or frame folder -> the arrays of the module docstring, plus ``fps``, ``width``, ``height``.

    Raises ``VideoError`` (unreadable file) or ``NoFaceError`` (no face anywhere),
    each naming the file.
    """
    pipeline = FramePipeline(settings, detector)
    if settings.face_source == "openface":
        info = probe(path, settings.frame_folder_fps)
        crops, detected = read_openface(Path(settings.openface_dir) / f"{Path(path).stem}.csv", size=settings.compute_size)
        results = [pipeline.push_crop(c, bool(d), False) for c, d in zip(crops, detected)]
    else:
        info, frames = read_video(path, settings.frame_folder_fps)
        results = [pipeline.push(frame) for frame in frames]
    arrays = _finish(results, settings, str(path))
    arrays.update(fps=np.array(info.fps), width=np.array(info.width), height=np.array(info.height))
    return arrays
