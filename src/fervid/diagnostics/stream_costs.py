"""Where streaming's time goes on a CPU (issue 19), and what fused gate arithmetic costs
from a cold start (``fervid stream --fuse-gates``): each a generator of rows, measured as
they are yielded, so a long run prints as it goes."""

from __future__ import annotations

import collections
import resource
import time

import torch

from ..frontend.faces import BlazeFace
from ..frontend.pipeline import FramePipeline
from ..models.convlstm import fuse_gate_arithmetic, wait_for_background_compiles
from ..prediction import (
    StreamingPredictor,
    intra_op_threads,
    stream_frames,
    streaming_threads,
)
from .streaming import frames_from, untrained_predictor

FUSED_START_MODES = ("unfused", "fused, waiting", "fused, background")


def split(videos, frames: int):
    """The small preset streaming ``frames`` frames (after a first window of 16): first the
    front end alone, one thread, ms per frame by stage (a dict); then, unfused and with
    fused gate arithmetic (its first pass compiling, then twice more), the model alone
    (streams side by side, 8 frames a step) and ``stream_frames`` whole: frames/s, cores
    kept busy and CPU ms per frame."""
    stream = list(frames_from(videos, frames + 16))
    detector, predictor = BlazeFace(), untrained_predictor("small")
    pipeline, faces, seconds = FramePipeline(predictor.settings, detector), [], collections.Counter()
    for frame in stream:
        t0 = time.perf_counter()
        detections = detector.detect(frame)
        t1 = time.perf_counter()
        staged = pipeline.stage(frame, detections)
        t2 = time.perf_counter()
        faces.append(pipeline.complete(staged))
        t3 = time.perf_counter()
        seconds.update({"detection": t1 - t0, "track + crop": t2 - t1, "flow": t3 - t2})
    yield {stage: 1000 * s / len(stream) for stage, s in seconds.items()}

    def model_alone() -> float:
        streamer = StreamingPredictor(predictor, 25.0, detector, parallel_streams=True, frames_per_step=8)
        for face in faces[:16]:  # a first window
            streamer.push_face(face)
        start = time.perf_counter()
        for face in faces[16:]:
            streamer.push_face(face)
        return 1000 * (time.perf_counter() - start) / frames

    def whole() -> dict:
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for _ in stream_frames(predictor, stream, 25.0, detector):
            pass
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return {"frames_per_s": len(stream) / wall, "cores_busy": cpu / wall, "cpu_ms_per_frame": 1000 * cpu / len(stream)}

    with intra_op_threads(streaming_threads(predictor)):
        yield {"label": "unfused", "model_ms": model_alone(), **whole()}
        fuse_gate_arithmetic(predictor.model)
        for label in ("fused (first pass compiles)", "fused", "fused"):
            yield {"label": label, "model_ms": model_alone(), **whole()}


def whole_stack(stream: str, freeze: bool, repeats: int = 60):
    """One clip stream's 4-layer stack (small preset) stepping 8 frames with its state
    carried from a first window, one thread, inference in bfloat16: rows of ms per frame
    and the first call's seconds, eager, fused gate arithmetic, and the whole stack as one
    ``torch.compile`` graph (``freeze``: Inductor's freezing); then the compile's seconds."""
    torch.set_num_threads(1)  # as each stream steps in fervid stream on 2 cores (streaming_threads)
    stack = untrained_predictor("small").model.streams[stream].convlstm
    channels = stack.cells[0].in_channels
    first, later = torch.randn(2, 8, channels, 32, 32), torch.randn(2, 8, channels, 32, 32)

    def timed(fn, label: str) -> dict:
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16):
            _, state = fn(first, None)
            start = time.perf_counter()
            fn(later, state)
            first_call = time.perf_counter() - start
            for _ in range(5):
                fn(later, state)
            start = time.perf_counter()
            for _ in range(repeats):
                fn(later, state)
            step = (time.perf_counter() - start) / repeats
        return {"label": label, "ms_per_frame": 1000 * step / 8, "first_call_s": first_call}

    yield timed(stack, "eager")
    fuse_gate_arithmetic(stack)
    yield timed(stack, "fused gate arithmetic")
    fuse_gate_arithmetic(stack, enabled=False)
    if freeze:
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True
    start = time.perf_counter()
    yield timed(torch.compile(stack), f"whole stack, one graph{' (freezing)' if freeze else ''}")
    yield {"compile_s": time.perf_counter() - start}


def fused_start(preset: str, mode: str, frames: int, threads: int, videos) -> dict:
    """One ``FUSED_START_MODES`` mode of ``fervid stream`` (precision auto) over ``frames``
    decoded frames: seconds to the first clip and to the end, frames/s over the run and its
    last half, and (background) when the compiler was done. Cold only in a fresh process
    with an empty Inductor cache (``TORCHINDUCTOR_CACHE_DIR``)."""
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    predictor = untrained_predictor(preset)
    if mode != "unfused":
        fuse_gate_arithmetic(predictor.model, wait=mode == "fused, waiting")
    stream = list(frames_from(videos, frames))  # decoded first: the modes differ in the model only
    detector = BlazeFace()
    clip_times = []
    with intra_op_threads(streaming_threads(predictor)):
        start = time.perf_counter()
        for clip in stream_frames(predictor, stream, 25.0, detector):
            clip_times.append((clip.end_frame, time.perf_counter() - start))
        seconds = time.perf_counter() - start
    compiled_s = None
    if mode == "fused, background":
        wait_for_background_compiles()
        compiled_s = time.perf_counter() - start
    half_frame, half_s = next((f, t) for f, t in clip_times if f >= frames // 2)
    return {"preset": preset, "mode": mode, "frames": frames, "precision": predictor.precision,
            "first_clip_s": clip_times[0][1], "seconds": seconds, "frames_per_s": frames / seconds,
            "last_half_frames_per_s": (frames - 1 - half_frame) / (seconds - half_s),
            "compiled_after_s": compiled_s}
