"""One video -> the inputs of the four streams: face crops, flow, clips, dynamic images.

``preprocess_video`` runs the front end (``frontend.pipeline.FramePipeline``) over a
file and cuts clips (``clips.windows``); ``PreprocessSettings`` is everything that
shapes the result, and keys the cache.

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
import errno
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import write_atomically
from ..frontend.faces import AlignSettings, BlazeFace, NoFaceError, read_openface
from ..frontend.flow import FlowSettings
from ..frontend.pipeline import FACE_SOURCES, FramePipeline, FrameResult, frame_results
from ..frontend.video import probe, read_video
from .dynamic import DYNAMIC_METHODS, dynamic_image
from .windows import CLIP_LEN, CLIP_STRIDE, STORED_FLOAT, ClipWindow, rgb_to_unit

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


def clip_dynamic_images(rgb: np.ndarray, flow: np.ndarray, starts, length: int, method: str):
    """Dynamic images of each clip: (K, S, S, 3) and (K, S, S, 2) float32."""
    rgb_di = [dynamic_image(rgb_to_unit(rgb[s : s + length]), method) for s in starts]
    flow_di = [dynamic_image(flow[s : s + length], method) for s in starts]
    return np.stack(rgb_di), np.stack(flow_di)


class _Column:
    """One array built a row at a time: in memory, or appended to a file on disk (``spill``)
    so that memory stays flat however long the video."""

    def __init__(self, row_shape: tuple[int, ...], dtype, spill: Path | None = None):
        self.row_shape, self.dtype, self.rows = row_shape, np.dtype(dtype), 0
        self.parts: list[np.ndarray] = []
        self.file = open(spill, "w+b") if spill is not None else None

    def append(self, row: np.ndarray) -> None:
        row = np.ascontiguousarray(row, self.dtype)
        if self.file is None:
            self.parts.append(row)
        else:
            self.file.write(row.tobytes())
        self.rows += 1

    def array(self) -> np.ndarray:
        if self.file is None:
            return np.stack(self.parts)
        self.file.seek(0)
        return np.fromfile(self.file, self.dtype).reshape(self.rows, *self.row_shape)

    def rows_on_disk(self) -> SpilledRows:
        """The spilled rows, read from the file when indexed (``array()`` reads them all)."""
        if self.file is None:
            raise ValueError("rows_on_disk: this column is kept in memory, not spilled")
        self.file.flush()
        return SpilledRows(self.file.fileno(), self.dtype, self.row_shape, self.rows)

    def write_npy(self, out) -> None:
        """As ``np.lib.format.write_array`` would write ``array()``, in 4 MB pieces."""
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": (self.rows, *self.row_shape)}
        np.lib.format.write_array_header_1_0(out, header)
        if self.file is None:
            out.write(self.array().tobytes())
            return
        self.file.seek(0)
        while piece := self.file.read(4 << 20):
            out.write(piece)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class SpilledRows:
    """Rows of a spilled column as far as clips read them: ``rows[i]`` and ``rows[a:b]``
    read those rows from the file (``os.pread``: no mapping, so memory stays flat however
    many rows are read in turn); ``shape``, ``dtype``, ``len``."""

    def __init__(self, fd: int, dtype: np.dtype, row_shape: tuple[int, ...], rows: int):
        self.fd, self.dtype, self.row_shape, self.rows = fd, np.dtype(dtype), row_shape, rows
        self.row_bytes = self.dtype.itemsize * int(np.prod(row_shape))

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.rows, *self.row_shape)

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, index: int | slice) -> np.ndarray:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.rows)
            if step != 1:
                raise IndexError("SpilledRows: slices with a step are not supported")
            return self._read(start, max(start, stop))
        i = int(index)
        if not -self.rows <= i < self.rows:
            raise IndexError(f"row {i} out of range for {self.rows} rows")
        i %= self.rows
        return self._read(i, i + 1)[0]

    def _read(self, start: int, stop: int) -> np.ndarray:
        data = os.pread(self.fd, (stop - start) * self.row_bytes, start * self.row_bytes)
        return np.frombuffer(bytearray(data), self.dtype).reshape(stop - start, *self.row_shape)  # writable, as np.load's


SPILL_PREFIX = ".spill-"  # + the writing process's id: a folder of spilled arrays


def remove_stale_spills(folder: str | os.PathLike) -> None:
    """Remove the spill folders of processes that no longer run (killed mid-video)."""
    for spill in Path(folder).glob(f"{SPILL_PREFIX}*"):
        pid = spill.name[len(SPILL_PREFIX):].split("-")[0]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(spill, ignore_errors=True)
        except (ValueError, OSError):  # not a pid, or another user's process
            pass  # not ours to judge


class VideoArrays:
    """Per-frame results -> the arrays of the module docstring, one frame at a time.

    Frames before the first face take its crop (offline only; streaming marks them "no
    face") and zero flow; a dynamic image is made as soon as its clip's last frame
    arrives, so only one clip of frames is held. ``spill_dir``: per-frame and per-clip
    arrays go to temporary files there (``write_npz`` then copies them into the .npz),
    so memory stays flat in video length; without it they are kept in memory.
    """

    def __init__(self, settings: PreprocessSettings, source: str, spill_dir: str | os.PathLike | None = None):
        self.settings, self.source = settings, source
        size = settings.face_size
        self._spill_dir = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=spill_dir) if spill_dir is not None else None
        spill = (lambda name: Path(self._spill_dir) / name) if self._spill_dir else (lambda name: None)
        self.columns = {
            "rgb": _Column((size, size, 3), np.uint8, spill("rgb")),
            "flow": _Column((size, size, 2), STORED_FLOAT, spill("flow")),
            "rgb_dynamic": _Column((size, size, 3), STORED_FLOAT, spill("rgb_dynamic")),
            "flow_dynamic": _Column((size, size, 2), STORED_FLOAT, spill("flow_dynamic")),
        }
        self.window = ClipWindow(settings.clip_len, settings.clip_stride)  # the last frames: rgb uint8, flow float32
        self.clip_starts: list[int] = []
        self.detected: list[bool] = []
        self.lost: list[bool] = []
        self.boxes: list[tuple] = []
        self.before_face = 0  # frames seen before the first face
        self.n_frames = 0

    def add(self, result: FrameResult) -> None:
        self.n_frames += 1
        self.detected.append(result.detected)
        self.lost.append(result.lost)
        self.boxes.append(result.box or (np.nan,) * 4)
        if result.rgb is None:  # only before the first face: a track, once found, is kept
            self.before_face += 1
            return
        for _ in range(self.before_face):
            self._add_crop(result.rgb, np.zeros_like(result.flow))
        self.before_face = 0
        self._add_crop(result.rgb, result.flow)

    def _add_crop(self, rgb: np.ndarray, flow: np.ndarray) -> None:
        self.columns["rgb"].append(rgb)
        self.columns["flow"].append(flow)
        start = self.window.push(rgb, flow)
        if start is not None:  # a clip is complete
            rgb_di, flow_di = clip_dynamic_images(*self.window.frames(), [0], self.settings.clip_len, self.settings.dynamic)
            self.columns["rgb_dynamic"].append(rgb_di[0])
            self.columns["flow_dynamic"].append(flow_di[0])
            self.clip_starts.append(start)

    def finish(self) -> None:
        """Check that a face was found and pad a video shorter than a clip (its last crop
        repeated, zero flow: ``clips.ClipWindow``). Raises ``NoFaceError``."""
        if self.before_face == self.n_frames or not any(self.detected):
            raise NoFaceError(f"{self.source}: no face found in any of {self.n_frames} frames")
        while self.window.needs_padding:
            self._add_crop(*self.window.padding_frame())
        pad = self.columns["rgb"].rows - self.n_frames
        self.detected += [False] * pad
        self.lost += [True] * pad
        self.boxes += [(np.nan,) * 4] * pad

    def small_arrays(self) -> dict[str, np.ndarray]:
        return {
            "detected": np.array(self.detected),
            "lost": np.array(self.lost),
            "boxes": np.array(self.boxes, np.float32),
            "clip_starts": np.array(self.clip_starts, np.int64),
            "n_frames": np.array(self.n_frames),
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array, in memory."""
        return {**{name: column.array() for name, column in self.columns.items()}, **self.small_arrays()}

    def arrays_on_disk(self) -> dict[str, np.ndarray | SpilledRows]:
        """The per-frame and per-clip arrays as ``SpilledRows`` (needs ``spill_dir``), the
        small ones in memory; valid until ``close``."""
        return {**{name: column.rows_on_disk() for name, column in self.columns.items()}, **self.small_arrays()}

    def write_npz(self, file, extra: dict[str, np.ndarray]) -> None:
        """The arrays and ``extra`` as an .npz (what ``np.savez`` writes: stored, not
        compressed, no pickle), the big ones copied from disk piece by piece."""
        with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, value in {**self.columns, **self.small_arrays(), **extra}.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    if isinstance(value, _Column):
                        value.write_npy(member)
                    else:
                        np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)

    def close(self) -> None:
        for column in self.columns.values():
            column.close()
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)

    def __enter__(self) -> VideoArrays:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read_into(builder: VideoArrays, path, settings: PreprocessSettings, detector: BlazeFace | None, threads: int) -> dict:
    """Run the pipeline over a file into ``builder``; returns fps, width and height."""
    pipeline = FramePipeline(settings, detector)
    if settings.face_source == "openface":
        info = probe(path, settings.frame_folder_fps)
        crops, detected = read_openface(Path(settings.openface_dir) / f"{Path(path).stem}.csv", size=settings.compute_size)
        results = (pipeline.push_crop(c, bool(d), False) for c, d in zip(crops, detected))
    else:
        info, frames = read_video(path, settings.frame_folder_fps)
        results = frame_results(pipeline, frames, threads)
    for result in results:
        builder.add(result)
    builder.finish()
    return {"fps": np.array(info.fps), "width": np.array(info.width), "height": np.array(info.height)}


def preprocess_video(path: str | os.PathLike, settings: PreprocessSettings, detector: BlazeFace | None = None,
                     threads: int = 1) -> dict[str, np.ndarray]:
    """A video file or frame folder -> the arrays of the module docstring, plus ``fps``, ``width``, ``height``.

    ``threads``: see ``frame_results``. Raises ``VideoError`` (unreadable file) or
    ``NoFaceError`` (no face anywhere), each naming the file.
    """
    with VideoArrays(settings, str(path)) as builder:
        extra = _read_into(builder, path, settings, detector, threads)
        return {**builder.arrays(), **extra}


@contextmanager
def preprocessed_video(path: str | os.PathLike, settings: PreprocessSettings, detector: BlazeFace | None = None,
                       threads: int = 1, spill_dir: str | os.PathLike | None = None) -> Iterator[dict]:
    """``preprocess_video``'s arrays with memory flat in video length, for one pass over
    a long video (``fervid predict``): the per-frame and per-clip arrays wait in temporary
    files in ``spill_dir`` (default: the system's temporary folder) and are read from there
    when indexed (``SpilledRows``); the files are removed on leaving, whatever happens."""
    spill_dir = Path(tempfile.gettempdir() if spill_dir is None else spill_dir)
    remove_stale_spills(spill_dir)  # left by a process that was killed
    with VideoArrays(settings, str(path), spill_dir=spill_dir) as builder:
        try:
            extra = _read_into(builder, path, settings, detector, threads)
        except OSError as err:
            if err.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise OSError(err.errno, f"{path}: no room for its preprocessed frames in {spill_dir} ({err.strerror}); "
                          "point TMPDIR at a folder with more space") from err
        yield {**builder.arrays_on_disk(), **extra}


def preprocess_video_to_file(path: str | os.PathLike, target: str | os.PathLike, settings: PreprocessSettings,
                             detector: BlazeFace | None = None, threads: int = 1) -> dict:
    """The same written to ``target`` (an .npz, atomically), with memory flat in video
    length: the per-frame arrays wait on disk beside ``target``, not in memory. Returns
    frames, clips, detection_rate and fps (what the cache's index keeps)."""
    target = Path(target)
    with VideoArrays(settings, str(path), spill_dir=target.parent) as builder:
        extra = _read_into(builder, path, settings, detector, threads)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                builder.write_npz(f, extra)

        write_atomically(target, write)
        return {
            "frames": builder.n_frames,
            "clips": len(builder.clip_starts),
            "detection_rate": float(np.mean(builder.detected[: builder.n_frames])),
            "fps": float(extra["fps"]),
        }
