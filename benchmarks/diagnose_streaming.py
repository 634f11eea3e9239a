"""Where streaming's time goes on a CPU (issue 19's 130 frames/s target), two questions:

``split``: the front end alone (one thread, by stage: detection, track + crop, flow), the
model alone (its clip streams side by side, 8 frames a step, unfused and with fused gate
arithmetic), and ``stream_frames`` whole, with the share of the cores it keeps busy and
its CPU time per frame (``getrusage``).

``whole-stack``: one clip stream's 4-layer ConvLSTM stack stepping 8 frames for 2 windows
with its state carried (as ``fervid stream`` steps it), one thread, inference in bfloat16:
eager, fused gate arithmetic, and the whole stack as one ``torch.compile`` graph, plain or
with Inductor's freezing (constant weights, prepacked convolutions).

    python benchmarks/diagnose_streaming.py split [--frames 400]
    python benchmarks/diagnose_streaming.py whole-stack [--stream flow_clip] [--freeze]
"""

from __future__ import annotations

import argparse
import collections
import resource
import time

import torch
from bench_stream import FIXTURES, frames_from

from fervid.clips.arrays import PreprocessSettings
from fervid.frontend.faces import BlazeFace
from fervid.frontend.pipeline import FramePipeline
from fervid.frontend.video import find_videos
from fervid.models.convlstm import fuse_gate_arithmetic
from fervid.models.fourstream import FourStreamNet, build_config
from fervid.prediction import (
    Predictor,
    StreamingPredictor,
    intra_op_threads,
    stream_frames,
    streaming_threads,
)


def small_predictor() -> Predictor:
    model = FourStreamNet(build_config("small", "e")).eval()
    return Predictor(model, PreprocessSettings(face_size=model.config.face_size), "small", "auto")


def split(frames: int) -> None:
    stream = list(frames_from(find_videos([FIXTURES]), frames + 16))
    detector, predictor = BlazeFace(), small_predictor()
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
    print("front end alone, one thread, ms per frame: "
          + ", ".join(f"{k} {1000 * v / len(stream):.2f}" for k, v in seconds.items())
          + f"; all {1000 * sum(seconds.values()) / len(stream):.2f}")
    threads = streaming_threads(predictor)

    def model_alone() -> float:
        streamer = StreamingPredictor(predictor, 25.0, detector, parallel_streams=True, frames_per_step=8)
        for face in faces[:16]:  # a first window
            streamer.push_face(face)
        start = time.perf_counter()
        for face in faces[16:]:
            streamer.push_face(face)
        return 1000 * (time.perf_counter() - start) / frames

    def whole() -> tuple[float, float, float]:
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for _ in stream_frames(predictor, stream, 25.0, detector):
            pass
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return len(stream) / wall, cpu / wall, 1000 * cpu / len(stream)

    def report(label: str) -> None:
        ms = model_alone()
        rate, busy, cpu_ms = whole()
        print(f"{label}: model alone {ms:.2f} ms per frame (streams side by side); fervid stream whole "
              f"{rate:.1f} frames/s, {busy:.2f} cores busy, {cpu_ms:.1f} ms of CPU per frame", flush=True)

    with intra_op_threads(threads):
        report("unfused")
        fuse_gate_arithmetic(predictor.model)
        for label in ("fused (first pass compiles)", "fused", "fused"):
            report(label)


def whole_stack(stream: str, freeze: bool) -> None:
    torch.set_num_threads(1)  # as each stream steps in fervid stream on 2 cores (streaming_threads)
    stack = small_predictor().model.streams[stream].convlstm
    channels = stack.cells[0].in_channels
    first, later = torch.randn(2, 8, channels, 32, 32), torch.randn(2, 8, channels, 32, 32)

    def ms_per_frame(fn, label: str, repeats: int = 60) -> None:
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
        print(f"{label}: {1000 * step / 8:.2f} ms per frame per stream (first call {first_call:.1f} s)", flush=True)

    ms_per_frame(stack, "eager")
    fuse_gate_arithmetic(stack)
    ms_per_frame(stack, "fused gate arithmetic")
    fuse_gate_arithmetic(stack, enabled=False)
    if freeze:
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True
    start = time.perf_counter()
    ms_per_frame(torch.compile(stack), f"whole stack, one graph{' (freezing)' if freeze else ''}")
    print(f"  compiling and the first calls: {time.perf_counter() - start:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="question", required=True)
    p = sub.add_parser("split")
    p.add_argument("--frames", type=int, default=400)
    p = sub.add_parser("whole-stack")
    p.add_argument("--stream", default="flow_clip", choices=("rgb_clip", "flow_clip"))
    p.add_argument("--freeze", action="store_true")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    if args.question == "split":
        split(args.frames)
    else:
        whole_stack(args.stream, args.freeze)


if __name__ == "__main__":
    main()
