"""Streaming prediction, ``StreamingPredictor``: ``push(frame)`` runs the per-frame work
once (face track, crop, flow against the previous crop) and steps the ConvLSTM streams
of the (at most two) open clip windows by one frame (or every ``frames_per_step``
frames by that many), with their recurrent state carried (``ClipStream.step``); when a
window's last frame arrives, its dynamic images go through the ResNet streams and the
network classifies the clip (``FourStreamNet.classify``), and the prediction is
returned at once.
Latency: a clip's prediction is out when its last frame has been pushed (0 frames
after the window; the window itself spans 16 frames, 0.64 s at 25 fps); a new
prediction every 8 frames.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from queue import Empty, Queue

import numpy as np
import torch

from ..clips.arrays import clip_dynamic_images
from ..clips.inputs import CLIP_STREAMS, DYNAMIC_STREAMS, dynamic_inputs, frame_inputs
from ..clips.windows import ClipWindow
from ..frontend.faces import BlazeFace
from ..frontend.pipeline import FramePipeline, FrameResult, usable_cores
from ..frontend.tracks import FaceTracks, TrackSettings
from ..models.convlstm import ConvLSTMState
from .loading import Predictor
from .results import ClipPrediction, clip_prediction, has_face, shifted


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
        ended = self.take_face(r)
        if self.step_due:
            self._step_streams()
        return self.end_window(ended)

    def take_face(self, r: FrameResult) -> int | None:
        """``push_face`` up to the model step (``step_due``, then ``end_window``): the frame
        taken in, windows opened; returns the start of the window this frame completes."""
        s = self.settings
        if r.detected and self.first_face is None:
            self.first_face = self.frame
        size = s.face_size
        rgb = r.rgb if r.rgb is not None else np.zeros((size, size, 3), np.uint8)  # before the first face
        flow = r.flow if r.flow is not None else np.zeros((size, size, 2), np.float32)
        return self._take_frame(rgb, flow, r.lost or r.rgb is None)

    @torch.inference_mode()
    def flush(self) -> ClipPrediction | None:
        """End of the source: a video shorter than one clip is padded as offline
        preprocessing pads it (last frame repeated, zero flow) and gets its one clip."""
        prediction = None
        while self.window.needs_padding:
            prediction = self._step(*self.window.padding_frame(), lost=True, real=False)
        return prediction

    def _step(self, rgb: np.ndarray, flow: np.ndarray, lost: bool, real: bool = True) -> ClipPrediction | None:
        ended = self._take_frame(rgb, flow, lost, real)
        if self.step_due:
            self._step_streams()
        return self.end_window(ended)

    @property
    def step_due(self) -> bool:
        """Whether the ConvLSTM streams step now (windows open and end on step boundaries:
        ``frames_per_step`` divides the stride)."""
        return self.pending == self.frames_per_step

    def _take_frame(self, rgb: np.ndarray, flow: np.ndarray, lost: bool, real: bool = True) -> int | None:
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
        return ended

    def end_window(self, ended: int | None) -> ClipPrediction | None:
        """The prediction of the window that started at ``ended`` (``take_face``'s answer,
        after the step), or None."""
        return None if ended is None else finish_windows([(self, ended)])[0]

    def _step_streams(self) -> None:
        """The ConvLSTM streams of every batched window through the pending frames."""
        xs = self.step_inputs()
        if xs is not None:
            self.store_step(dict(zip(xs, self._side_by_side(self._step_stream, xs))))

    def step_inputs(self) -> dict[str, torch.Tensor] | None:
        """The pending frames as each clip stream's input, one row per batched window,
        (rows, n, C, S, S); None when no window is batched (or no clip stream). Takes the
        pending frames: the step must follow (``store_step``)."""
        n, self.pending = self.pending, 0
        rows = sum(map(self._batched, self.windows))
        if not rows or not self.clip_streams:  # configuration (a) has none
            return None
        inputs = frame_inputs(*self.window.frames(n), self.clip_streams)  # each (n, C, S, S)
        device = self.predictor.device
        assert self.first_frames is None or len(self.first_frames) == rows, "one first frame per batched window"
        return {name: inputs[name][None].to(device).expand(rows, -1, -1, -1, -1) for name in self.clip_streams}  # (n, C, S, S) -> (B=rows, T=n, C, S, S)

    def store_step(self, stepped: dict[str, tuple[torch.Tensor, list[ConvLSTMState]]]) -> None:
        """Each clip stream's (top layer's last h, new state) after the step. Written back
        only once every stream has stepped (after an error the predictor is not usable:
        its frames and its state no longer agree)."""
        for name, (h_last, state) in stepped.items():
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

    def window_features(self, start: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]] | None:
        """The ending window (opened at ``start``, the oldest: windows end oldest first) as
        the model's classification reads it: the clip streams' pooled features
        {name: (1, Ch, S, S)} and the dynamic streams' inputs {name: (1, C, S, S)}; None
        when the clip has too little face to classify (``has_face``)."""
        assert self.windows and self.windows[0] == start, "windows end oldest first"
        if not has_face(self._lost_real(), start, self.first_face):
            return None
        s, model = self.settings, self.predictor.model
        features = {n: model.streams[n].pool(self.h_last[n][:1]) for n in self.clip_streams}  # the batch's first row
        images = {}
        if self.dynamic_streams:
            rgb_di, flow_di = clip_dynamic_images(*self.window.frames(), [0], s.clip_len, s.dynamic)
            dyn = dynamic_inputs(rgb_di[0], flow_di[0], self.dynamic_streams)
            images = {n: dyn[n][None].to(self.predictor.device) for n in self.dynamic_streams}  # (C, S, S) -> (1, C, S, S)
        return features, images

    def close_window(self, start: int, probs: np.ndarray | None) -> ClipPrediction:
        """The oldest window, classified (``finish_windows``), leaves: its prediction, and
        its row out of the batched state."""
        oldest = self.windows.pop(0)
        assert oldest == start, "windows end oldest first"
        s = self.settings
        prediction = clip_prediction(self.clips, start, s.clip_len, self.real_frames, self.fps,
                                      float(1 - self._lost_real().mean()), probs)
        self.clips += 1
        if self._batched(start):  # the oldest open window: its row, the first, leaves the batch
            rows_left = any(map(self._batched, self.windows))
            self.state = {name: _drop_first_row(state) if rows_left else None for name, state in self.state.items()}
            self.h_last = {name: h[1:] for name, h in self.h_last.items()}
            self.first_frames = self.first_frames[1:] if rows_left and self.first_frames is not None else None
        return prediction

    def _lost_real(self) -> np.ndarray:
        """Per frame of the window, whether its face was lost: real frames only, as offline."""
        return np.array(self.lost)[np.array(self.real)]


def finish_windows(ending: list[tuple[StreamingPredictor, int]]) -> list[ClipPrediction]:
    """The predictions of windows ending at once (one per face, each its predictor's
    oldest), classified as one batch: the dynamic images through each ResNet stream in
    one call (the streams side by side), every clip's features fused and through the head
    in one (``FourStreamNet.classify``). All predictors share one model."""
    found = [(k, inputs) for k, (streamer, start) in enumerate(ending) if (inputs := streamer.window_features(start)) is not None]
    probs: list[np.ndarray | None] = [None] * len(ending)
    if found:
        lead = ending[found[0][0]][0]
        model = lead.predictor.model
        features = {n: torch.cat([f[n] for _, (f, _) in found]) for n in found[0][1][0]}  # (clips, Ch, S, S)
        images = {n: torch.cat([i[n] for _, (_, i) in found]) for n in found[0][1][1]}  # (clips, C, S, S)
        features.update(zip(images, lead._side_by_side(lambda name, image: model.streams[name](image), images)))
        with lead.predictor.autocast():
            logits = model.classify(features)
        for (k, _), row in zip(found, torch.softmax(logits.float(), 1).cpu().numpy()):
            probs[k] = row
    return [streamer.close_window(start, p) for (streamer, start), p in zip(ending, probs)]


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


def _concat_states(states: list[list[ConvLSTMState] | None], rows: list[int]) -> list[ConvLSTMState] | None:
    """Several batched states (each face's windows) as one, along the batch; a state still
    None (no window stepped yet) or a field still None (h_{t-2} on a second frame) becomes
    zeros, from which the cells compute exactly what they compute from none
    (``_add_zero_row``)."""
    template = next((state for state in states if state is not None), None)
    if template is None:
        return None
    merged = []
    for layer, parts in enumerate(template):  # per layer: the template's (h, c, h_prev)
        fields = []
        for field, like in enumerate(parts):
            if like is None and all(s is None or s[layer][field] is None for s in states):
                fields.append(None)
                continue
            like = like if like is not None else next(s[layer][field] for s in states if s is not None and s[layer][field] is not None)
            fields.append(torch.cat([like.new_zeros((n, *like.shape[1:])) if s is None or s[layer][field] is None
                                     else s[layer][field] for s, n in zip(states, rows)]))
        merged.append(ConvLSTMState(*fields))
    return merged


def _row_range(state: list[ConvLSTMState], lo: int, hi: int) -> list[ConvLSTMState]:
    return [ConvLSTMState(*(None if t is None else t[lo:hi] for t in layer)) for layer in state]


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


class FaceStreams:
    """Several faces, frame by frame: ``push(frame_bgr) -> [(face id, ClipPrediction)]``.
    Detection runs once per frame (``frontend.tracks.FaceTracks``); each face track gets a
    ``StreamingPredictor`` of its own (its recurrent state) when it starts, fed its own
    crops and flow, and dropped when the track ends; its predictions come out in the
    video's frame numbers, the same as ``predict_faces`` gives offline. Every face's clips
    lie on the video's clip grid (a face's first window opens at the first multiple of the
    stride, 8, at or after it appears), so all faces step together: their states go
    through each ConvLSTM stream as one batch."""

    def __init__(self, predictor: Predictor, fps: float = 25.0, detector: BlazeFace | None = None,
                 track_settings: TrackSettings = TrackSettings(), parallel_streams: bool | None = None,
                 frames_per_step: int = 1):
        if predictor.settings.face_source != "blazeface":
            raise ValueError(f"{predictor.source}: trained on OpenFace crops; streaming runs fervid's BlazeFace front end only")
        if frames_per_step < 1 or predictor.settings.clip_stride % frames_per_step:
            raise ValueError(f"frames_per_step must divide the clip stride {predictor.settings.clip_stride}, got {frames_per_step}")
        self.predictor, self.fps = predictor, fps
        self.detector = detector or BlazeFace()
        self.tracks = FaceTracks(predictor.settings, self.detector, track_settings)
        self.streams: dict[int, tuple[int, StreamingPredictor]] = {}  # face id -> (its first window's frame, its predictor)
        self.options = {"parallel_streams": parallel_streams, "frames_per_step": frames_per_step}

    def push(self, frame: np.ndarray) -> list[tuple[int, ClipPrediction]]:
        first_frame = self.tracks.frame
        return self.push_faces(first_frame, self.tracks.push(frame))

    @torch.inference_mode()
    def push_faces(self, frame: int, results: dict[int, FrameResult]) -> list[tuple[int, ClipPrediction]]:
        """The model's half of ``push``: frame ``frame``'s faces already through
        ``self.tracks``, so that the front end can run ahead in another thread."""
        out = [item for face_id in list(self.streams) if face_id not in results for item in self._end(face_id)]
        taken = []
        for face_id, result in results.items():
            if face_id not in self.streams:
                if frame % self.predictor.settings.clip_stride:
                    continue  # its first window opens on the video's clip grid
                self.streams[face_id] = (frame, StreamingPredictor(self.predictor, self.fps, self.detector, **self.options))
            start, streamer = self.streams[face_id]
            taken.append((face_id, start, streamer, streamer.take_face(result)))
        self.step_together([streamer for _, _, streamer, _ in taken if streamer.step_due])
        ending = [(face_id, start, streamer, ended) for face_id, start, streamer, ended in taken if ended is not None]
        predictions = finish_windows([(streamer, ended) for _, _, streamer, ended in ending])
        out += [(face_id, shifted(prediction, start, self.fps)) for (face_id, start, _, _), prediction in zip(ending, predictions)]
        return out

    @torch.inference_mode()
    def flush(self) -> list[tuple[int, ClipPrediction]]:
        """End of the source: every open face ends (one shorter than a clip gets its padded clip)."""
        return [item for face_id in list(self.streams) for item in self._end(face_id)]

    def _end(self, face_id: int) -> list[tuple[int, ClipPrediction]]:
        start, streamer = self.streams.pop(face_id)
        last = streamer.flush()
        return [] if last is None else [(face_id, shifted(last, start, self.fps))]

    def step_together(self, streamers: list[StreamingPredictor]) -> None:
        """Every due face's windows through each clip stream as one batch: their inputs,
        states and first frames concatenated along the batch, the results split back."""
        live = [(streamer, xs) for streamer in streamers if (xs := streamer.step_inputs()) is not None]
        if not live:
            return
        lead = live[0][0]
        rows = [len(next(iter(xs.values()))) for _, xs in live]
        bounds = np.cumsum([0, *rows])
        names = list(live[0][1])
        inputs = {name: torch.cat([xs[name] for _, xs in live]) for name in names}  # (all rows, n, C, S, S)
        states = {name: _concat_states([streamer.state.get(name) for streamer, _ in live], rows) for name in names}
        firsts = [streamer.first_frames for streamer, _ in live]
        first = None if firsts[0] is None else torch.cat(firsts)  # one model: every face subtracts it, or none

        def step(name: str, x: torch.Tensor):
            return self.predictor.model.streams[name].step(x, states[name], first)

        stepped = dict(zip(names, lead._side_by_side(step, inputs)))
        for k, (streamer, _) in enumerate(live):
            lo, hi = int(bounds[k]), int(bounds[k + 1])
            streamer.store_step({name: (h_last[lo:hi], _row_range(state, lo, hi)) for name, (h_last, state) in stepped.items()})


def stream_faces(predictor: Predictor, frames: Iterable[np.ndarray], fps: float, max_faces: int = 4,
                 detector: BlazeFace | None = None, frames_per_step: int | None = None) -> Iterator[tuple[int, ClipPrediction]]:
    """(face id, prediction) as soon as each face's clip windows complete (``FaceStreams``);
    the front end runs a thread ahead of the model (the same results, as ``stream_frames``)."""
    if frames_per_step is None:
        frames_per_step = predictor.settings.clip_stride
    streams = FaceStreams(predictor, fps, detector, TrackSettings(max_faces=max_faces), frames_per_step=frames_per_step)
    numbered = ((i, streams.tracks.push(frame)) for i, frame in enumerate(frames))  # the front end: detection, crops, flow
    for i, faces in _run_ahead(numbered, 2 * frames_per_step + 2):  # a thread ahead of the model, as stream_frames
        yield from streams.push_faces(i, faces)
    yield from streams.flush()


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
