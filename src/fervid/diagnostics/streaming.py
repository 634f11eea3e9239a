"""Streaming prediction, frame by frame (decode + face + flow + model), with an untrained
model of configuration (e) (the cost does not depend on the weights): frames/s, the front
end and the model apart, the pipelined paths ``fervid stream`` takes, and where the
model's time goes by op group."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..clips.arrays import PreprocessSettings
from ..frontend.pipeline import FramePipeline
from ..frontend.video import find_videos, read_video
from ..models.convlstm import fuse_gate_arithmetic
from ..models.fourstream import FourStreamNet, build_config
from ..prediction import (
    Predictor,
    StreamingPredictor,
    intra_op_threads,
    stream_frames,
    streaming_threads,
)

# The real 720×576 eNTERFACE'05 clips beside a source checkout (../shared/fixtures): the
# benchmark scripts' default (they run from a checkout); functions here take the folder.
FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "enterface05_s1"


def frames_from(videos, limit: int):
    """The first ``limit`` frames of the videos played one after another, over and over."""
    def all_frames():
        for video in itertools.cycle(videos):
            yield from read_video(video)[1]

    return itertools.islice(all_frames(), limit)


def untrained_predictor(preset: str, precision: str = "auto", device: torch.device | str = "cpu") -> Predictor:
    """A ``Predictor`` of a freshly initialised configuration (e) at ``preset``."""
    model = FourStreamNet(build_config(preset, "e")).eval().to(device)
    return Predictor(model, PreprocessSettings(face_size=model.config.face_size), preset, precision)


def stream_rate(preset: str, frames: list, detector) -> dict:
    """``StreamingPredictor.push`` of ``frames`` after a first window of 16: frames/s."""
    streamer = StreamingPredictor(untrained_predictor(preset, "float32"), 25.0, detector)
    for frame in frames[:16]:  # warm-up: a first window
        streamer.push(frame)
    start = time.perf_counter()
    clips = sum(streamer.push(frame) is not None for frame in frames[16:])
    seconds = time.perf_counter() - start
    n = len(frames) - 16
    return {"preset": preset, "frames": n, "clips": clips, "frames_per_s": n / seconds, "ms_per_frame": 1000 * seconds / n}


def streaming_rates(preset: str, precision: str, frames: int, detector, device: torch.device,
                    folder: str | Path, profiled_ops: bool = True) -> dict:
    """bench_speed's streaming part: one thing at a time (front end alone, then the whole),
    then pipelined: the streams one after the other a frame at a time, side by side 8 frames
    at a time (``fervid stream``), and so with fused gate arithmetic; ``profiled_ops``: also
    ``profile_streaming``. Empty when ``folder`` holds no videos."""
    videos = find_videos([folder]) if Path(folder).exists() else []
    if not videos:
        return {}
    predictor = untrained_predictor(preset, precision, device)
    model = predictor.model
    stream = list(frames_from(videos, frames + 16))

    def seconds_after_warm_up(push) -> float:  # the first 16 frames open a window
        for frame in stream[:16]:
            push(frame)
        start = time.perf_counter()
        for frame in stream[16:]:
            push(frame)
        return time.perf_counter() - start

    # One thing at a time, in this thread: the front end, then the model, frame after frame.
    seconds = seconds_after_warm_up(StreamingPredictor(predictor, 25.0, detector, parallel_streams=False).push)
    pipeline, faces = FramePipeline(predictor.settings, detector), []
    front = seconds_after_warm_up(lambda frame: faces.append(pipeline.push(frame)))  # the front end without the model

    def pipelined(parallel_streams: bool, threads: int, frames_per_step: int) -> float:  # frames/s, the front end a thread ahead
        with intra_op_threads(threads):
            start = time.perf_counter()
            for _ in stream_frames(predictor, stream, 25.0, detector, pipelined=True, parallel_streams=parallel_streams,
                                   frames_per_step=frames_per_step):
                pass
            return len(stream) / (time.perf_counter() - start)

    # Before: the model on all of PyTorch's threads, its streams one after the other, one
    # frame at a time. `fervid stream`: the clip streams side by side, the cores shared out
    # among them, 8 frames (the clip stride) at a time.
    threads = streaming_threads(predictor)
    before = pipelined(False, torch.get_num_threads(), 1)
    now = pipelined(device.type == "cpu", threads, predictor.settings.clip_stride)
    profiled = profile_streaming(predictor, faces, detector) if profiled_ops else {}
    fuse_gate_arithmetic(model)  # the same, with --fuse-gates: a first pass compiles the streaming shapes
    try:
        start = time.perf_counter()
        pipelined(device.type == "cpu", threads, predictor.settings.clip_stride)
        profiled["fused_first_pass_s"] = time.perf_counter() - start
        profiled["pipelined_fused_frames_per_s"] = pipelined(device.type == "cpu", threads, predictor.settings.clip_stride)
    finally:
        fuse_gate_arithmetic(model, enabled=False)
    return {"preset": preset, "precision": precision, "frames": frames, "frames_per_s": frames / seconds,
            "front_end_ms": 1000 * front / frames, "model_ms": 1000 * (seconds - front) / frames,
            "pipelined_sequential_streams_frames_per_s": before, "pipelined_frames_per_s": now,
            "streaming_threads": threads, **profiled}


OP_GROUPS = {  # aten ops (and their in-place or _variant forms) by what they are, for the streaming profile
    "convolution": ("conv2d", "convolution", "_convolution", "mkldnn_convolution", "cudnn_convolution"),
    "gate arithmetic": ("sigmoid", "tanh", "addcmul", "mul", "add", "sub", "relu", "clamp", "softmax"),
    "casts and copies": ("_to_copy", "copy", "to"),
    "norms": ("group_norm", "batch_norm"),
    "cat, stack, pooling": ("cat", "stack", "mean", "avg_pool2d", "adaptive_avg_pool2d"),
}


def op_group(name: str) -> str:
    """The ``OP_GROUPS`` group of a profiled aten op ("aten::add_" -> "gate arithmetic"), or "other"."""
    op = name.removeprefix("aten::").removeprefix("native_").rstrip("_")  # native_group_norm, add_ ...
    for group, ops in OP_GROUPS.items():
        if any(op == o or op.startswith(o + "_") for o in ops):  # clamp_min ...
            return group
    return "other"


def profile_streaming(predictor: Predictor, faces: list, detector) -> dict:
    """The model half of streaming (``push_face`` on front-end results), per frame: self
    time by op group, and the convolutions' FLOPs, hence a lower bound on the model's time
    were every convolution at the measured peak."""
    from torch.profiler import profile

    # One thread: the FLOP counter (a dispatch mode) sees only its own thread's operations.
    streamer = StreamingPredictor(predictor, 25.0, detector, parallel_streams=False)
    for face in faces[:16]:  # a first window
        streamer.push_face(face)
    rest = faces[16:]
    with profile() as prof:
        for face in rest:
            streamer.push_face(face)
    groups: dict[str, float] = {}
    for event in prof.key_averages():
        if event.key.startswith("aten::"):
            group = op_group(event.key)
            groups[group] = groups.get(group, 0.0) + event.self_cpu_time_total / 1e3 / len(rest)  # ms per frame
    counter = FlopCounterMode(display=False)
    with counter:
        for face in rest:
            streamer.push_face(face)
    return {"ms_per_frame_by_op": groups, "gflop_per_frame": counter.get_total_flops() / 1e9 / len(rest)}

