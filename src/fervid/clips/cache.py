"""Preprocessed videos on disk: computed once, written atomically, resumable.

Layout under a cache root::

    <root>/<settings key>/settings.json      the PreprocessSettings that made this folder
    <root>/<settings key>/index.json         done videos: key -> file, source path, counts
    <root>/<settings key>/failures.json      videos that could not be used, and why
    <root>/<settings key>/<stem>-<key>.npz   one file per video (numpy, no pickle)
    <root>/<settings key>/.spill-<pid>-*/    a video's arrays while it is being processed

The settings key hashes every setting, so changed settings never reuse stale
data; a video's key hashes its absolute path, size and modification time, so an
edited video is redone. Each video file is written to a temporary name and
renamed, and the index is rewritten (atomically) after every video: an
interrupted run loses at most the videos in flight, and a rerun skips what is done.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..atomic import write_json
from ..frontend.faces import BlazeFace, NoFaceError
from ..frontend.pipeline import usable_cores
from ..frontend.video import VideoError, frame_files
from ..progress import progress_bar
from .arrays import PreprocessSettings, preprocess_video_to_file, remove_stale_spills


def video_key(path: str | os.PathLike) -> str:
    """Hash of the absolute path, size and modification time (a frame folder: of each
    image's name, size and modification time, so an edited, added or removed frame
    redoes it)."""
    path = Path(path).resolve()
    if path.is_dir():
        stamp = "\0".join(f"{p.name}\0{st.st_size}\0{st.st_mtime_ns}" for p in frame_files(path) for st in [p.stat()])
    else:
        stat = path.stat()
        stamp = f"{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.sha256(f"{path}\0{stamp}".encode()).hexdigest()[:16]


def _safe_stem(path: Path) -> str:
    name = path.name if path.is_dir() else path.stem  # a frame folder: its whole name
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)[:60]


@dataclass
class PreprocessReport:
    folder: Path
    done: list[str] = field(default_factory=list)  # processed in this run
    cached: list[str] = field(default_factory=list)  # already there
    failed: dict[str, str] = field(default_factory=dict)  # path -> reason
    frames: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        rate = f", {self.frames / self.seconds:.0f} frames/s" if self.seconds > 0 and self.frames else ""
        lines = [
            f"{len(self.done)} preprocessed, {len(self.cached)} already cached, {len(self.failed)} failed"
            f" -> {self.folder}{rate}"
        ]
        lines += [f"  FAILED {path}: {reason}" for path, reason in self.failed.items()]
        return "\n".join(lines)


class PreprocessCache:
    """The folder of one settings key: ``load(video)``, ``has(video)``, and ``preprocess``."""

    def __init__(self, root: str | os.PathLike, settings: PreprocessSettings):
        self.settings = settings
        self.folder = Path(root) / settings.key()
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_spills(self.folder)  # left by a run killed mid-video
        settings_file = self.folder / "settings.json"
        if not settings_file.exists():
            write_json(settings_file, settings.to_dict(), sort_keys=True)
        self.index: dict[str, dict] = self._read("index.json")
        self.failures: dict[str, dict] = self._read("failures.json")

    def _read(self, name: str) -> dict:
        path = self.folder / name
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            return {}  # a damaged index only costs recomputation

    def file_for(self, video: str | os.PathLike) -> Path:
        return self.folder / f"{_safe_stem(Path(video))}-{video_key(video)}.npz"

    def has(self, video: str | os.PathLike) -> bool:
        key = video_key(video)
        return key in self.index and (self.folder / self.index[key]["file"]).is_file()

    def clip_count(self, video: str | os.PathLike) -> int:
        return int(self.index[video_key(video)]["clips"])

    def load(self, video: str | os.PathLike, names=None) -> dict[str, np.ndarray]:
        """The arrays of ``clips/arrays.py`` for a video already processed (only ``names``, if given)."""
        if not Path(video).exists():
            raise FileNotFoundError(f"{video}: no such video")
        key = video_key(video)
        if key not in self.index:
            reason = self.failures.get(key, {}).get("reason")
            raise KeyError(f"{video}: not preprocessed" + (f" (failed: {reason})" if reason else "") + f" in {self.folder}")
        with np.load(self.folder / self.index[key]["file"], allow_pickle=False) as data:
            return {name: data[name] for name in data.files if names is None or name in names}

    def _record(self, video: str, arrays_file: Path | None, info: dict | None, reason: str | None) -> None:
        key = video_key(video)
        if reason is None:
            self.index[key] = {"file": arrays_file.name, "video": str(Path(video).resolve()), **info}
            self.failures.pop(key, None)
            write_json(self.folder / "index.json", self.index, sort_keys=True)
        else:
            self.failures[key] = {"video": str(Path(video).resolve()), "reason": reason}
        write_json(self.folder / "failures.json", self.failures, sort_keys=True)


# Worker processes keep one detector each (created once, not per video).
_worker_detector: BlazeFace | None = None


def _init_worker() -> None:
    global _worker_detector
    cv2.setNumThreads(1)  # one video per process; OpenCV's own threads would oversubscribe the cores
    _worker_detector = None


def _process_one(video: str, settings: PreprocessSettings, target: str, threads: int = 1) -> tuple[str, dict | None, str | None]:
    """Preprocess one video into ``target`` (atomically, memory flat in its length).
    Returns (video, info, error)."""
    global _worker_detector
    try:
        if settings.face_source == "blazeface" and _worker_detector is None:
            _worker_detector = BlazeFace()
        info = preprocess_video_to_file(video, target, settings, _worker_detector, threads)
    except (VideoError, NoFaceError, FileNotFoundError, ValueError) as err:
        return video, None, str(err)
    except Exception as err:  # cv2.error, OSError, MemoryError: this video fails, the run goes on
        return video, None, f"{type(err).__name__}: {err}"
    return video, info, None


def preprocess(
    videos: Iterable[str | os.PathLike],
    cache_root: str | os.PathLike,
    settings: PreprocessSettings = PreprocessSettings(),
    workers: int = 1,
    progress: bool | None = None,
    threads: int | None = None,
) -> PreprocessReport:
    """Preprocess every video not yet in the cache; failures are recorded and reported,
    never fatal to the rest. Returns a ``PreprocessReport``.

    ``workers``: processes, each one video at a time. ``threads``: threads within one
    video (``preprocess.frame_results``); None: the cores left per process (all of them
    with one worker, so that a single long video uses every core)."""
    cache = PreprocessCache(cache_root, settings)
    report = PreprocessReport(cache.folder)
    todo = []
    for video in dict.fromkeys(str(v) for v in videos):  # de-duplicated, order kept
        if not Path(video).exists():
            report.failed[video] = "no such file"
        elif cache.has(video):
            report.cached.append(video)
        else:
            todo.append(video)
    bar = progress_bar(len(todo), "preprocess", "video", progress)
    start = time.perf_counter()

    def finish(video: str, info: dict | None, error: str | None) -> None:
        cache._record(video, cache.file_for(video), info, error)
        if error is None:
            report.done.append(video)
            report.frames += info["frames"]
        else:
            report.failed[video] = error
        bar.update(1)
        elapsed = time.perf_counter() - start
        bar.set_postfix_str(f"{report.frames / max(elapsed, 1e-9):.0f} frames/s, {len(report.failed)} failed")

    workers = max(1, min(workers, len(todo)))
    if threads is None:
        threads = max(1, usable_cores() // workers)
    try:
        if workers <= 1:
            for video in todo:
                finish(*_process_one(video, settings, str(cache.file_for(video)), threads))
        else:
            # spawn, not fork: a fork taken after OpenCV, BLAS or torch started threads can
            # deadlock in the child (seen: `fervid demo` hung at 0/108 videos).
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
                futures = [pool.submit(_process_one, v, settings, str(cache.file_for(v)), threads) for v in todo]
                for future in as_completed(futures):
                    finish(*future.result())
    finally:
        bar.close()
        report.seconds = time.perf_counter() - start
    return report
