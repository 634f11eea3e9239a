"""Reading video: frames streamed one at a time (memory flat in the video's length),
frame rate and size read from the file, and a clear error naming the file for
anything unreadable.

A **frame folder** (a folder of images, one per frame: how CK+, Oulu-CASIA and DFEW's
face clips are distributed) is a video wherever a video is accepted: its images
(``IMAGE_SUFFIXES``, grey or colour) are read one at a time in natural order
(``1.png, 2.png, 10.png``), and it plays at ``FRAME_FOLDER_FPS`` unless a rate is given.
Other files in the folder (``.DS_Store``, a ``labels.txt``) are ignored.

FFmpeg's own notices (``moov atom not found``, ``partial file``, decoder complaints) are
silenced here, since every problem they describe reaches the user as fervid's own message
naming the file: a ``VideoError``, or one line saying a file is truncated and how many of
its frames were read. ``OPENCV_FFMPEG_LOGLEVEL`` set in the environment (e.g. 24 for
FFmpeg's warnings) is kept.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read when OpenCV first opens a file with FFmpeg
import cv2  # noqa: E402
import numpy as np  # noqa: E402

DEFAULT_FPS = 25.0  # used, and reported, when a file carries no usable frame rate
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
# A frame folder's rate when none is given: CK+ was recorded at 30 frames/s, as were most
# frame-sequence sets (Oulu-CASIA: 25; pass it). Only timestamps and the temporal linear
# floor read the rate; flow is between consecutive frames whatever it is.
FRAME_FOLDER_FPS = 30.0
# Frames a file may fall short of its stated count before it is called truncated: the
# count of some containers is an estimate from duration × rate, off by a frame or two.
TRUNCATION_SLACK = 2


def natural_key(text: str) -> tuple:
    """Sort key that orders digits as numbers: "s2" < "s10"."""
    parts = re.split(r"(\d+)", str(text))  # text, digits, text, digits, ..., text
    return tuple(int(p) if i % 2 else p.lower() for i, p in enumerate(parts))


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


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def frame_files(folder: str | os.PathLike) -> list[Path]:
    """The image files of a frame folder, in natural order (not recursive)."""
    return sorted(filter(_is_image, Path(folder).iterdir()), key=lambda p: natural_key(p.name))


def is_frame_folder(path: str | os.PathLike) -> bool:
    """A folder holding at least one image file directly."""
    path = Path(path)
    return path.is_dir() and any(map(_is_image, path.iterdir()))


def _to_bgr(frame: np.ndarray) -> np.ndarray:
    """Grey -> three equal channels; BGRA -> BGR; BGR as it is."""
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


def _read_image(path: Path, folder: Path) -> np.ndarray:
    """One frame of a frame folder as BGR uint8 (H, W, 3)."""
    # imdecode from bytes, not imread: imread cannot open non-ASCII paths on Windows.
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as err:
        raise VideoError(f"{folder}: frame {path.name} cannot be read ({err.strerror or err})") from err
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise VideoError(f"{folder}: frame {path.name} is not a readable image (corrupt, or not an image)")
    if image.dtype == np.uint16:  # 16-bit PNG/TIFF: keep the top 8 bits
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise VideoError(f"{folder}: frame {path.name} has {image.dtype} pixels; expected 8- or 16-bit images")
    return _to_bgr(image)


def _open_frame_folder(folder: Path, fps: float | None) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    files = frame_files(folder)
    if not files:
        raise VideoError(f"{folder}: a folder with no image files ({', '.join(IMAGE_SUFFIXES)}); not a video or a frame folder")
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise VideoError(f"{folder}: frame rate must be positive, got {fps}")
    first = _read_image(files[0], folder)
    height, width = first.shape[:2]
    info = VideoInfo(str(folder), float(fps or FRAME_FOLDER_FPS), width, height, len(files), fps_from_file=fps is not None)

    def frames() -> Iterator[np.ndarray]:
        yield first
        for path in files[1:]:
            image = _read_image(path, folder)
            if image.shape[:2] != (height, width):
                raise VideoError(f"{folder}: frame {path.name} is {image.shape[1]}x{image.shape[0]}, "
                                 f"the first frame ({files[0].name}) {width}x{height}; a frame folder's images must share one size")
            yield image

    return info, frames()


def _open(path: str | os.PathLike) -> tuple[cv2.VideoCapture, VideoInfo]:
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder with no image files, not a video or a frame folder")
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


def probe(path: str | os.PathLike, fps: float | None = None) -> VideoInfo:
    """Frame rate, size and stated frame count, without decoding frames (a frame folder:
    its first image only). ``fps``: a frame folder's rate (default ``FRAME_FOLDER_FPS``);
    a video file's own rate always wins."""
    if is_frame_folder(path):
        return _open_frame_folder(Path(path), fps)[0]
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
            yield _to_bgr(frame)
    finally:
        capture.release()


def read_video(path: str | os.PathLike, fps: float | None = None) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """(info, frame iterator) of a video file or a frame folder. The iterator raises
    ``VideoError`` if the file yields no frame at all; a truncated file yields the
    frames before the damage. A frame folder raises ``VideoError`` naming the folder
    and the image at an unreadable image or one whose size differs from the first.
    ``fps``: a frame folder's rate (default ``FRAME_FOLDER_FPS``); ignored for files."""
    if is_frame_folder(path):
        return _open_frame_folder(Path(path), fps)
    capture, info = _open(path)

    def frames() -> Iterator[np.ndarray]:
        count = 0
        for frame in iter_frames(capture):
            count += 1
            yield frame
        if count == 0:
            raise VideoError(f"{info.path}: no frame could be decoded (corrupt or truncated video)")
        if count < info.frame_count - TRUNCATION_SLACK:
            print(f"{info.path}: truncated: read {count} of the {info.frame_count} frames its header states",
                  file=sys.stderr)

    return info, frames()


def open_camera(index: int) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """A camera as a frame source (for streaming)."""
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise VideoError(f"camera {index}: cannot be opened (no such camera, or in use)")
    return _info(capture, f"camera:{index}"), iter_frames(capture)


def find_videos(inputs: list[str | os.PathLike]) -> list[Path]:
    """Videos named directly, or found (recursively, in natural order) in the folders
    named: video files, and frame folders (a folder named that holds images is itself
    one video; below a folder named, every folder that holds images is one)."""
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir() and not is_frame_folder(item):
            below = [p for p in item.rglob("*")
                     if (p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES) or (p.is_dir() and is_frame_folder(p))]
            found += sorted(below, key=lambda p: natural_key(p.relative_to(item).as_posix()))
        else:
            found.append(item)  # a frame folder, or a file; a missing or odd one is reported when it is read
    return found
