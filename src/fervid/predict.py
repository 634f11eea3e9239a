"""A trained model on a new video: offline (whole file) and streaming (frame by frame).

Offline, ``predict_video``: the video is preprocessed with the settings stored in
the model's JSON, every 16-frame clip (stride 8) is classified in batches, and the
per-video prediction is the mean of the clip probabilities. Written on request:
JSON, CSV (one row per clip, with time stamps), a timeline PNG and an annotated
copy of the video.

Streaming, ``StreamingPredictor``: ``push(frame)`` runs the per-frame work once
(face track, crop, flow against the previous crop) and steps the ConvLSTM streams
of the (at most two) open clip windows by one frame (or every ``frames_per_step``
frames by that many), with their recurrent state carried; when a window's last frame
arrives, its dynamic images go through the ResNet streams and the head, and the clip's
prediction is returned at once.
Latency: a clip's prediction is out when its last frame has been pushed (0
frames after the window; the window itself spans 16 frames, 0.64 s at 25 fps);
a new prediction every 8 frames.

"No face": a clip whose frames were mostly (over half) without a trustworthy
face, or that starts before the first face was found, gets no prediction
(``label`` "no face", ``probs`` None) rather than a guess.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue

import cv2
import numpy as np
import torch

from .atomic import write_atomically, write_json, write_rows
from .checkpoint import CheckpointError, config_from_dict, load_model
from .clips import ClipWindow
from .clipset import VideoClips, dynamic_inputs, frame_inputs
from .faces import BlazeFace
from .inference import predict_clips
from .labels import EXPRESSIONS
from .models.convlstm import ConvLSTMState, fuse_gate_arithmetic
from .models.fourstream import CLIP_STREAMS, DYNAMIC_STREAMS, FourStreamNet
from .precision import autocast, resolve_precision
from .preprocess import FramePipeline, FrameResult, PreprocessSettings, clip_dynamic_images, preprocessed_video, usable_cores
from .progress import progress_bar
from .report import plot_timeline
from .video import read_video

NO_FACE = "no face"
MAX_LOST_SHARE = 0.5  # a clip with more lost frames than this gets no prediction


# ---------------------------------------------------------------- the model and its settings


@dataclass
class Predictor:
    model: FourStreamNet
    settings: PreprocessSettings
    source: str
    precision: str = "float32"  # "float32", "bfloat16" or "auto" (fervid.precision), resolved here

    def __post_init__(self) -> None:
        self.precision = resolve_precision(self.precision, self.device)

    def autocast(self):
        return autocast(self.device, self.precision)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def find_model(path: str | os.PathLike) -> Path:
    """A weights file, its base name, a fold folder, or a run folder with a single model."""
    path = Path(path)
    for candidate in (path, path.with_suffix(".json"), Path(str(path) + ".json")):
        if candidate.suffix in (".json", ".safetensors") and candidate.is_file():
            return candidate.with_suffix("")
    if path.is_dir():
        if (path / "model.json").is_file():
            return path / "model"
        found = sorted(path.rglob("model.json"))
        if len(found) == 1:
            return found[0].with_suffix("")
        if found:
            listing = ", ".join(str(f.parent.relative_to(path)) for f in found[:8])
            raise CheckpointError(f"{path}: holds {len(found)} models ({listing}{', …' if len(found) > 8 else ''}); name one")
    raise CheckpointError(f"{path}: no fervid model (expected model.json + model.safetensors, or a folder holding them)")


def load_predictor(path: str | os.PathLike, device: str = "cpu", precision: str = "auto",
                   fuse_gates: bool = False) -> Predictor:
    """Load a model and the preprocessing settings it was trained with; refuse a model
    whose labels, classes or face size do not fit fervid's pipeline, saying why.
    ``precision``: "float32", "bfloat16" or "auto" (``fervid.precision``). ``fuse_gates``:
    the ConvLSTM gate arithmetic through torch.compile, each step's graph compiled in a
    background thread while that step runs eagerly (``fuse_gate_arithmetic(wait=False)``):
    the same predictions to float rounding, faster once compiled, never waiting for it."""
    base = find_model(path)
    model, extra = load_model(base, map_location=device)
    where = f"{base}.json"
    if "preprocess" not in extra:
        raise CheckpointError(f"{where}: no preprocessing settings stored (not a model trained by fervid train/crossval)")
    settings = config_from_dict(PreprocessSettings, extra["preprocess"], f"{where}: preprocess")
    labels = tuple(extra.get("labels", EXPRESSIONS))
    if labels != EXPRESSIONS or model.config.num_classes != len(EXPRESSIONS):
        raise CheckpointError(
            f"{where}: model predicts {model.config.num_classes} classes {list(labels)}; fervid's are {list(EXPRESSIONS)}"
        )
    if settings.face_size != model.config.face_size:
        raise CheckpointError(
            f"{where}: preprocessing makes {settings.face_size}×{settings.face_size} faces, the model reads "
            f"{model.config.face_size}×{model.config.face_size}"
        )
    if fuse_gates:
        fuse_gate_arithmetic(model, wait=False)
    return Predictor(model.eval(), settings, str(base), precision)


# ---------------------------------------------------------------- results


@dataclass
class ClipPrediction:
    index: int
    start_frame: int
    end_frame: int  # inclusive
    start_s: float
    end_s: float
    face_share: float  # share of the clip's frames with a trustworthy face
    probs: np.ndarray | None  # (6,), None for "no face"

    @property
    def label(self) -> str:
        return NO_FACE if self.probs is None else EXPRESSIONS[int(np.argmax(self.probs))]

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "face_share": round(self.face_share, 4),
            "label": self.label,
            "probs": None if self.probs is None else {k: round(float(p), 6) for k, p in zip(EXPRESSIONS, self.probs)},
        }


@dataclass
class VideoPrediction:
    video: str
    fps: float
    frames: int
    clips: list[ClipPrediction] = field(default_factory=list)
    model: str = ""  # the weights that made it
    precision: str = ""  # float32 or bfloat16 (resolved)

    @property
    def probs(self) -> np.ndarray | None:
        """Mean probabilities of the clips with a face; None if there are none."""
        with_face = [c.probs for c in self.clips if c.probs is not None]
        return np.mean(with_face, 0) if with_face else None

    @property
    def label(self) -> str:
        probs = self.probs
        return NO_FACE if probs is None else EXPRESSIONS[int(np.argmax(probs))]

    def to_dict(self) -> dict:
        probs = self.probs
        return {
            "video": self.video,
            "model": self.model,
            "precision": self.precision,
            "fps": self.fps,
            "frames": self.frames,
            "label": self.label,
            "probs": None if probs is None else {k: round(float(p), 6) for k, p in zip(EXPRESSIONS, probs)},
            "clips": [c.to_dict() for c in self.clips],
        }


def _clip_prediction(index, start, clip_len, n_frames, fps, face_share, probs) -> ClipPrediction:
    end = min(start + clip_len, n_frames) - 1  # a padded clip of a short video ends at its last real frame
    return ClipPrediction(index, start, end, start / fps, (end + 1) / fps, face_share, probs)


def _has_face(lost: np.ndarray, start: int, first_face: int | None) -> bool:
    return first_face is not None and start >= first_face and lost.mean() <= MAX_LOST_SHARE


# ---------------------------------------------------------------- offline


@torch.inference_mode()
def predict_arrays(predictor: Predictor, arrays: dict[str, np.ndarray], video: str = "", batch_size: int = 16) -> VideoPrediction:
    """Classify every clip of a preprocessed video (the arrays of ``preprocess.py``)."""
    s, model = predictor.settings, predictor.model
    n = int(arrays["n_frames"])
    detected = arrays["detected"][:n]
    first_face = int(np.argmax(detected)) if detected.any() else None
    result = VideoPrediction(video, float(arrays["fps"]), n, model=predictor.source, precision=predictor.precision)
    starts = arrays["clip_starts"]
    lost = arrays["lost"][:n]  # real frames only: padding is not "no face"
    usable = [c for c, st in enumerate(starts) if _has_face(lost[st : st + s.clip_len], st, first_face)]
    clips = VideoClips(arrays, usable, s.clip_len, model.config.streams)
    probs = dict(zip(usable, predict_clips(model, clips, batch_size, predictor.device, predictor.precision)))
    for c, st in enumerate(starts):
        share = float(1 - lost[st : st + s.clip_len].mean())
        result.clips.append(_clip_prediction(c, int(st), s.clip_len, n, result.fps, share, probs.get(c)))
    return result


def predict_video(
    video: str | os.PathLike,
    model: str | os.PathLike | Predictor,
    out_dir: str | os.PathLike | None = None,
    annotate: bool = False,
    detector: BlazeFace | None = None,
    name: str | None = None,
) -> VideoPrediction:
    """Predict one video; with ``out_dir``, write ``<name>.json``, ``<name>.csv``,
    ``<name>_timeline.png`` and (``annotate``) ``<name>_annotated.avi`` there (``name``:
    the video's stem unless given)."""
    predictor = model if isinstance(model, Predictor) else load_predictor(model)
    # One video: every core. The crops, flow and dynamic images wait on disk, read a clip at
    # a time, so memory stays flat in video length (held in memory, 10 minutes at the paper
    # preset took ~1.5 GB).
    with preprocessed_video(video, predictor.settings, detector, threads=usable_cores()) as arrays:
        result = predict_arrays(predictor, arrays, str(video))
        if out_dir is not None:
            write_outputs(result, out_dir, arrays if annotate else None, name)
    return result


def output_names(videos: Sequence[str | os.PathLike]) -> list[str]:
    """The name each video's outputs get in one output folder: its stem, or, where stems
    repeat (CK+'s ``S005/001`` and ``S010/001`` frame folders), as many of its last path
    parts as tell them apart, joined by ``_`` (``S005_001``, ``S010_001``)."""
    parts = [Path(v).resolve().with_suffix("").parts for v in videos]
    names = []
    for own in parts:
        depth = 1
        while depth < len(own) and sum(p[-depth:] == own[-depth:] for p in parts) > 1:
            depth += 1
        names.append("_".join(own[-depth:]))
    return names


def predict_videos(videos: Iterable[str | os.PathLike], model, out_dir, annotate: bool = False, progress: bool | None = None,
                   device: str = "cpu", precision: str = "auto",
                   frame_folder_fps: float | None = None,
                   names: Sequence[str] | None = None, fuse_gates: bool = False) -> tuple[list[VideoPrediction], dict[str, str]]:
    """Several videos (files or frame folders); a bad one is reported (path -> reason) and
    the rest go on. ``frame_folder_fps``: frame folders' rate, if not the model's setting.
    ``names``: each video's output name (default ``output_names(videos)``)."""
    predictor = model if isinstance(model, Predictor) else load_predictor(model, device, precision, fuse_gates)
    if frame_folder_fps is not None:
        predictor = dataclasses.replace(predictor, settings=dataclasses.replace(predictor.settings, frame_folder_fps=frame_folder_fps))
    videos = list(videos)
    detector = BlazeFace() if predictor.settings.face_source == "blazeface" else None
    results, failed = [], {}
    bar = progress_bar(len(videos), "predict", "video", progress)
    for video, name in zip(videos, output_names(videos) if names is None else names, strict=True):
        try:
            results.append(predict_video(video, predictor, out_dir, annotate, detector, name))
        except ValueError as err:  # VideoError, NoFaceError: the message names the file
            failed[str(video)] = str(err)
        bar.update(1)
    bar.close()
    return results, failed


def write_outputs(result: VideoPrediction, out_dir: str | os.PathLike, arrays: dict | None = None,
                  name: str | None = None) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name or Path(result.video).stem or "stream"
    paths = {"json": out / f"{stem}.json", "csv": out / f"{stem}.csv", "timeline": out / f"{stem}_timeline.png"}
    write_json(paths["json"], result.to_dict())
    write_rows(paths["csv"], [
        {"clip": c.index, "start_frame": c.start_frame, "end_frame": c.end_frame, "start_s": f"{c.start_s:.4f}",
         "end_s": f"{c.end_s:.4f}", "face_share": f"{c.face_share:.3f}", "label": c.label,
         **({k: "" for k in EXPRESSIONS} if c.probs is None else {k: f"{p:.6f}" for k, p in zip(EXPRESSIONS, c.probs)})}
        for c in result.clips
    ])
    times = np.array([(c.start_s + c.end_s) / 2 for c in result.clips])
    probs = np.array([np.full(len(EXPRESSIONS), np.nan) if c.probs is None else c.probs for c in result.clips])
    no_face = [(c.start_s, c.end_s) for c in result.clips if c.probs is None]
    plot_timeline(times, probs, paths["timeline"], title=f"{Path(result.video).name}: {result.label}", no_face=no_face)
    if arrays is not None:
        paths["annotated"] = write_atomically(out / f"{stem}_annotated.avi", lambda tmp: annotate_video(result, arrays, tmp))
    return paths


def annotate_video(result: VideoPrediction, arrays: dict, path: Path) -> Path:
    """A copy of the video with the face box, the current clip's label and a bar chart
    of its six probabilities (MJPG AVI at the source frame rate)."""
    info, frames = read_video(result.video, result.fps)  # result.fps: a frame folder's rate as predicted
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), info.fps, (info.width, info.height))
    if not writer.isOpened():
        raise OSError(f"{path}: cannot write video")
    try:
        _draw_frames(result, arrays, info, frames, writer)
    finally:
        writer.release()
    return path


def _draw_frames(result: VideoPrediction, arrays: dict, info, frames, writer) -> None:
    for i, frame in enumerate(frames):
        covering = [c for c in result.clips if c.start_frame <= i <= c.end_frame]
        clip = min(covering, key=lambda c: abs((c.start_frame + c.end_frame) / 2 - i)) if covering else None
        box = arrays["boxes"][i] if i < len(arrays["boxes"]) else None
        if box is not None and np.isfinite(box).all() and not arrays["lost"][i]:
            x0, y0, x1, y1 = box.astype(int)
            cv2.rectangle(frame, (x0, y0), (x1, y1), (0, 255, 0), 2)
        label = clip.label if clip else NO_FACE
        scale = max(0.4, info.height / 600)
        cv2.putText(frame, label, (8, int(28 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2, cv2.LINE_AA)
        if clip is not None and clip.probs is not None:
            for k, (name, p) in enumerate(zip(EXPRESSIONS, clip.probs)):
                y = int((40 + 14 * k) * scale)
                cv2.rectangle(frame, (8, y), (8 + int(100 * scale * p), y + int(10 * scale)), (0, 200, 255), -1)
                cv2.putText(frame, name[:4], (int(8 + 104 * scale), y + int(9 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 0.35 * scale, (255, 255, 255), 1)
        writer.write(frame)


# ---------------------------------------------------------------- streaming


class StreamingPredictor:
    """Frame by frame: ``push(frame_bgr) -> ClipPrediction | None``.

    ``parallel_streams`` (default: on a CPU) steps the RGB and flow ConvLSTM streams in
    two threads. Fastest with PyTorch's intra-op threads set to
    ``streaming_threads(predictor)`` (``fervid stream`` does so).

    ``frames_per_step`` (a divisor of the clip stride, 8): the ConvLSTM streams step
    through this many frames at a time, their input projections batched over them as
    offline. Windows open and end on step boundaries, so every prediction comes out at
    the same frame either way, with the same values; with 8, the frame that ends a window
    carries 8 frames' model work (the latency of that one push) and the 7 before it none.

    The predictions are the same for every choice of both (to rounding)."""

    def __init__(self, predictor: Predictor, fps: float = 25.0, detector: BlazeFace | None = None,
                 parallel_streams: bool | None = None, frames_per_step: int = 1):
        if predictor.settings.face_source != "blazeface":
            raise ValueError(
                f"{predictor.source}: trained on OpenFace crops, which need OpenFace's own output; "
                "streaming runs fervid's BlazeFace front end only"
            )
        self.predictor = predictor
        self.settings = predictor.settings
        if frames_per_step < 1 or self.settings.clip_stride % frames_per_step:
            raise ValueError(f"frames_per_step must divide the clip stride {self.settings.clip_stride}, got {frames_per_step}")
        self.frames_per_step = frames_per_step
        self.pending = 0  # frames pushed that the ConvLSTM streams have not stepped through yet
        self.fps = fps
        self.pipeline = FramePipeline(self.settings, detector)
        self.frame = 0  # frames pushed so far
        self.first_face: int | None = None
        length = self.settings.clip_len
        self.window = ClipWindow(length, self.settings.clip_stride)  # the last frames' crops (uint8) and flow (float32)
        self.lost = deque(maxlen=length)
        self.real = deque(maxlen=length)  # False for the padding that flush() adds
        self.real_frames = 0
        self.windows: list[int] = []  # first frame of each open clip window, oldest first
        # The open windows opened at or after the first face (``_batched``) step together as
        # one batch, oldest first (at most two: clips overlap by half); per clip stream, the
        # ConvLSTM state and last top-layer h batched over them. A window joins as a zero
        # row and leaves from the front when its clip ends, so the state stays batched
        # from frame to frame.
        self.state: dict[str, list[ConvLSTMState] | None] = {}
        self.h_last: dict[str, torch.Tensor] = {}  # (rows, Ch, S, S)
        # Per batched window, its first frame as the model reads it (rows, 3, S, S), for a
        # stream that reads each frame minus the clip's first (ClipStream.subtract_first).
        self.first_frames: torch.Tensor | None = None
        self.clips = 0
        model = predictor.model
        self.clip_streams = [s for s in CLIP_STREAMS if s in model.streams]
        self.subtracts_first = any(model.streams[name].subtract_first for name in self.clip_streams)
        self.dynamic_streams = [s for s in DYNAMIC_STREAMS if s in model.streams]
        if parallel_streams is None:
            parallel_streams = predictor.device.type == "cpu"
        # On a CPU the clip streams step side by side, one in this thread and the others in
        # a pool's: each frame's ConvLSTM work is many small operations (32×32 × 16 channels
        # at the small preset) that one core runs as fast as two (see ``streaming_threads``).
        self.pool = _stream_pool() if parallel_streams and len(self.clip_streams) > 1 else None

    def push(self, frame: np.ndarray) -> ClipPrediction | None:
        return self.push_face(self.pipeline.push(frame))

    @torch.inference_mode()
    def push_face(self, r: FrameResult) -> ClipPrediction | None:
        """The model's half of ``push``: one frame already through ``self.pipeline``
        (face crop and flow), so that the front end can run ahead in another thread."""
        s = self.settings
        if r.detected and self.first_face is None:
            self.first_face = self.frame
        size = s.face_size
        rgb = r.rgb if r.rgb is not None else np.zeros((size, size, 3), np.uint8)  # before the first face
        flow = r.flow if r.flow is not None else np.zeros((size, size, 2), np.float32)
        return self._step(rgb, flow, r.lost or r.rgb is None)

    @torch.inference_mode()
    def flush(self) -> ClipPrediction | None:
        """End of the source: a video shorter than one clip is padded as offline
        preprocessing pads it (last frame repeated, zero flow) and gets its one clip."""
        prediction = None
        while self.window.needs_padding:
            prediction = self._step(*self.window.padding_frame(), lost=True, real=False)
        return prediction

    def _step(self, rgb: np.ndarray, flow: np.ndarray, lost: bool, real: bool = True) -> ClipPrediction | None:
        i = self.frame
        ended = self.window.push(rgb, flow)  # the start of the clip this frame completes, or None
        self.lost.append(lost)
        self.real.append(real)
        self.real_frames += real
        if self.window.opens_clip(i):
            self.windows.append(i)
            if self._batched(i):  # before the first face: "no face", no state
                self.state = {name: _add_zero_row(state) for name, state in self.state.items()}
                if self.subtracts_first:
                    first = frame_inputs(rgb[None], None, ("rgb_clip",))["rgb_clip"].to(self.predictor.device)  # (1, 3, S, S)
                    self.first_frames = first if self.first_frames is None else torch.cat([self.first_frames, first])
        self.frame += 1
        self.pending += 1
        if self.pending == self.frames_per_step:  # windows open and end on step boundaries: it divides the stride
            self._step_streams()
        if ended is None:
            return None
        assert self.windows[0] == ended, "windows end oldest first"
        self.windows.pop(0)
        return self._finish(ended)

    def _step_streams(self) -> None:
        """The ConvLSTM streams of every batched window through the pending frames."""
        n, self.pending = self.pending, 0
        rows = sum(map(self._batched, self.windows))
        if rows and self.clip_streams:  # configuration (a) has none
            inputs = frame_inputs(*self.window.frames(n), self.clip_streams)  # each (n, C, S, S)
            device = self.predictor.device
            xs = {name: inputs[name][None].to(device).expand(rows, -1, -1, -1, -1) for name in self.clip_streams}  # (n, C, S, S) -> (B=rows, T=n, C, S, S)
            assert self.first_frames is None or len(self.first_frames) == rows, "one first frame per batched window"
            stepped = self._side_by_side(self._step_stream, xs)
            # Written back only once every stream has stepped. (After an error the predictor
            # is not usable: its frames and its state no longer agree.)
            for name, (h_last, state) in zip(xs, stepped):
                self.h_last[name], self.state[name] = h_last, state

    def _step_stream(self, name: str, x: torch.Tensor) -> tuple[torch.Tensor, list[ConvLSTMState]]:
        """One clip stream through x (rows, n frames, C, S, S) from its state -> (the top
        layer's last h (rows, Ch, S, S), the new state); each row's frames minus its
        window's first frame, where the stream reads them so."""
        return self.predictor.model.streams[name].step(x, self.state.get(name), self.first_frames)

    def _side_by_side(self, stream_fn, inputs: dict[str, torch.Tensor]) -> list:
        """``[stream_fn(name, x) for name, x in inputs.items()]``, the first in this thread and
        the others in the pool's when there is one. Inference mode, autocast and (for the
        pool's thread, once set) PyTorch's thread count are per thread: each call takes the
        caller's."""
        threads = torch.get_num_threads()

        def run(name: str):
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
            with torch.inference_mode(), self.predictor.autocast():
                return stream_fn(name, inputs[name])

        if self.pool is None or len(inputs) < 2:
            return [run(name) for name in inputs]
        first, *rest = inputs
        others = [self.pool.submit(run, name) for name in rest]
        try:
            return [run(first)] + [future.result() for future in others]
        finally:
            for future in others:  # an error in this thread: the others still finish first
                future.exception()

    def _batched(self, start: int) -> bool:
        """Whether the window opened at frame ``start`` has a row in the batched state."""
        return self.first_face is not None and start >= self.first_face

    def _finish(self, start: int) -> ClipPrediction:
        s = self.settings
        lost = np.array(self.lost)[np.array(self.real)]  # real frames only, as offline
        probs = None
        if _has_face(lost, start, self.first_face):
            with self.predictor.autocast():
                logits = self._logits()
            probs = torch.softmax(logits.float(), 1)[0].cpu().numpy()
        prediction = _clip_prediction(self.clips, start, s.clip_len, self.real_frames, self.fps,
                                      float(1 - lost.mean()), probs)
        self.clips += 1
        if self._batched(start):  # the oldest open window: its row, the first, leaves the batch
            rows_left = any(map(self._batched, self.windows))
            self.state = {name: _drop_first_row(state) if rows_left else None for name, state in self.state.items()}
            self.h_last = {name: h[1:] for name, h in self.h_last.items()}
            self.first_frames = self.first_frames[1:] if rows_left and self.first_frames is not None else None
        return prediction

    def _logits(self) -> torch.Tensor:
        """The finishing window's logits: the batch's first row (windows end oldest first)."""
        s, model = self.settings, self.predictor.model
        features = {n: model.streams[n].pool(self.h_last[n][:1]) for n in self.clip_streams}  # (1, Ch, S, S)
        if self.dynamic_streams:
            rgb_di, flow_di = clip_dynamic_images(*self.window.frames(), [0], s.clip_len, s.dynamic)
            dyn = dynamic_inputs(rgb_di[0], flow_di[0], self.dynamic_streams)
            images = {n: dyn[n][None].to(self.predictor.device) for n in self.dynamic_streams}  # (C, S, S) -> (1, C, S, S)
            features.update(zip(images, self._side_by_side(lambda name, image: model.streams[name](image), images)))
        return model.classify(features)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _stream_pool() -> ThreadPoolExecutor:
    """The worker threads that step clip streams beside the caller's (one per stream
    past the first), shared by every ``StreamingPredictor`` of the process: predictors
    stepping at once in several threads queue for it (correct, but without the gain)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(len(CLIP_STREAMS) - 1, thread_name_prefix="fervid-stream")
        return _pool


@contextmanager
def intra_op_threads(threads: int) -> Iterator[None]:
    """PyTorch's intra-op thread count set to ``threads`` inside, restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def streaming_threads(predictor: Predictor, cores: int | None = None) -> int:
    """PyTorch's intra-op thread count for streaming: the cores shared out among the clip
    streams, which step in threads of their own on a CPU (``StreamingPredictor``).
    Measured on 2 cores, small preset, bfloat16: the two ConvLSTM streams of two windows
    took 10.9 ms per frame one after the other with 1 thread, 10.5 ms with 2 (operations
    this small gain nothing from a second thread), 6.2 ms side by side with 1 thread each;
    the whole stream (front end a thread ahead) went from 56 to 75 frames/s
    (``benchmarks/bench_speed.py --skip stacks,train``)."""
    if cores is None:
        cores = usable_cores()
    streams = sum(s in predictor.model.streams for s in CLIP_STREAMS)
    if predictor.device.type != "cpu" or streams < 2:
        return torch.get_num_threads()
    return max(1, cores // streams)


def _add_zero_row(state: list[ConvLSTMState] | None) -> list[ConvLSTMState] | None:
    """A batched state with a new window's row appended: zeros, from which the cells
    compute exactly what they compute from no state (no bias on the hidden convolution;
    zero c and h add nothing). A field still None (h_{t-2} on every row's second frame)
    stays None."""
    if state is None:
        return None
    return [ConvLSTMState(*(None if t is None else torch.cat([t, torch.zeros_like(t[:1])]) for t in layer)) for layer in state]


def _drop_first_row(state: list[ConvLSTMState] | None) -> list[ConvLSTMState] | None:
    if state is None:
        return None
    return [ConvLSTMState(*(None if t is None else t[1:] for t in layer)) for layer in state]


def stream_frames(predictor: Predictor, frames: Iterable[np.ndarray], fps: float,
                  detector: BlazeFace | None = None, pipelined: bool = True,
                  parallel_streams: bool | None = None, frames_per_step: int | None = None) -> Iterator[ClipPrediction]:
    """Predictions as soon as each clip window completes. ``pipelined``: the front end
    (decoding, face detection, alignment, flow: OpenCV, which releases the GIL) runs one
    thread ahead of the model (PyTorch), so the two overlap; the results are the same
    frame for frame, in the same order. ``frames_per_step`` (``StreamingPredictor``;
    default: the clip stride, 8, the fastest: measured on 2 cores, small preset, 80 frames/s
    with 1, 95 with 8, before the crop's region shrink)."""
    if frames_per_step is None:
        frames_per_step = predictor.settings.clip_stride
    streamer = StreamingPredictor(predictor, fps, detector, parallel_streams, frames_per_step)
    depth = 2 * frames_per_step + 2  # the front end keeps working while the model steps a batch of frames
    faces = _run_ahead((streamer.pipeline.push(f) for f in frames), depth) if pipelined else map(streamer.pipeline.push, frames)
    for face in faces:
        prediction = streamer.push_face(face)
        if prediction is not None:
            yield prediction
    last = streamer.flush()
    if last is not None:
        yield last


def _run_ahead(items: Iterator, depth: int) -> Iterator:
    """``items``, computed by a worker thread up to ``depth`` ahead of the consumer; an
    exception in the worker is raised in the consumer, where it would have been raised."""
    done = object()
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put((item, None))
        except BaseException as error:  # handed to the consumer
            queue.put((None, error))
            return
        queue.put((done, None))

    worker = threading.Thread(target=work, name="fervid-front-end", daemon=True)
    worker.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        deadline = time.monotonic() + 2.0  # a source blocked in a read (a camera) is left to die with the process
        while worker.is_alive() and time.monotonic() < deadline:  # unblock a worker waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                pass
            worker.join(timeout=0.05)
