"""Reading video: frames streamed one at a time (memory flat in the video's length),
frame rate and size read from the file, and a clear error naming the file for
anything unreadable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_FPS = 25.0  # used, and reported, when a file carries no usable frame rate
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv")


class VideoError(ValueError):
    """A video that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float  # frames per second, from the file (DEFAULT_FPS if it has none)
    width: int
    height: int
    frame_count: int  # as the container states it; decoding may yield fewer (truncated files)
    fps_from_file: bool = True


def _open(path: str | os.PathLike) -> tuple[cv2.VideoCapture, VideoInfo]:
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise VideoError(f"{path}: not a readable video (OpenCV cannot open it; corrupt, or not a video)")
    return capture, _info(capture, str(path))


def _info(capture: cv2.VideoCapture, name: str) -> VideoInfo:
    """Frame rate (DEFAULT_FPS where the source has none usable), size and stated frame count."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps_ok = bool(np.isfinite(fps) and 1.0 <= fps <= 1000.0)
    return VideoInfo(
        path=name,
        fps=float(fps) if fps_ok else DEFAULT_FPS,
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        frame_count=max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))),
        fps_from_file=fps_ok,
    )


def probe(path: str | os.PathLike) -> VideoInfo:
    """Frame rate, size and stated frame count, without decoding frames."""
    capture, info = _open(path)
    capture.release()
    return info


def iter_frames(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """Frames of an opened capture as BGR uint8 (H, W, 3); grey-scale sources come out
    as three equal channels."""
    try:
        while True:
            ok, frame = capture.read()
            if not ok or frame is None:
                return
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            elif frame.shape[2] == 4:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
            yield frame
    finally:
        capture.release()


def read_video(path: str | os.PathLike) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """(info, frame iterator). The iterator raises ``VideoError`` if the file yields no
    frame at all; a truncated file yields the frames before the damage."""
    capture, info = _open(path)

    def frames() -> Iterator[np.ndarray]:
        count = 0
        for frame in iter_frames(capture):
            count += 1
            yield frame
        if count == 0:
            raise VideoError(f"{info.path}: no frame could be decoded (corrupt or truncated video)")

    return info, frames()


def open_camera(index: int) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """A camera as a frame source (for streaming)."""
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise VideoError(f"camera {index}: cannot be opened (no such camera, or in use)")
    return _info(capture, f"camera:{index}"), iter_frames(capture)


def find_videos(inputs: list[str | os.PathLike]) -> list[Path]:
    """Video files named directly, or found (recursively, sorted) in the folders named."""
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found += sorted(p for p in item.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
        else:
            found.append(item)  # a missing or odd file is reported when it is read
    return found
