"""Speed at the machine's limit (issue 8), side by side in one run:

1. the convolution peak: 3×3, 128 -> 128 channels, batch 16 (256 on a GPU), 56×56,
   forward, in float32 and bfloat16 (autocast), NCHW and channels-last; on a GPU also an
   8192³ matrix product (its dense peak; float32 convolutions there are cuDNN's TF32);
2. forward+backward of 4-layer ConvLSTM stacks (kernels 5,5,3,3): the peer (PyPI
   ``conv-lstm``) and fervid's conventional and Enhanced cells, in float32 and
   bfloat16, NCHW and channels-last weights, at the small and paper presets; as
   ratios to the peer's float32 and to the peer's own bfloat16 time, and as a
   fraction of the peak in the same precision (FLOPs counted by
   ``torch.utils.flop_counter``);
3. the whole four-stream training step (configuration e), clips/s, float32 vs ``auto``;
   on a GPU also ``auto`` at doubling batches up to the largest that fits;
4. streaming prediction, frames/s, in ``auto`` (decode + face + flow + model), on the
   fixture clips or ``--videos``; on the CPU also where the model's time per frame goes
   (profiled, by op group) and the frame rate it could reach were its convolutions at the
   measured peak;
5. preprocessing one long 720×576 video (built from the fixture clips) in one process:
   frames/s with one thread and two, and peak memory for 1 and 10 minutes of video.

Models are timed interleaved, repeat by repeat, so machine noise hits all alike.

    pip install conv-lstm
    python benchmarks/bench_speed.py [--presets small,paper] [--threads 2] [--device cuda] [--json out.json]
"""

from __future__ import annotations

import argparse
import copy
import gc
import statistics
import time
from pathlib import Path

import torch
from bench_convlstm import KERNELS, peer_stack
from bench_convlstm import step as stack_step
from bench_preprocess import long_video_rates
from bench_stream import FIXTURES, frames_from
from bench_train import train_step_rate
from common import conv_peak, header, peak_batch, save_json, sync
from torch.utils.flop_counter import FlopCounterMode

from fervid.clips.arrays import PreprocessSettings
from fervid.frontend.faces import BlazeFace
from fervid.frontend.pipeline import FramePipeline
from fervid.frontend.video import find_videos
from fervid.models.convlstm import ConvLSTM, ConvLSTMConfig, fuse_gate_arithmetic
from fervid.models.fourstream import FourStreamNet, build_config
from fervid.precision import autocast, describe, resolve_precision
from fervid.prediction import (
    Predictor,
    StreamingPredictor,
    intra_op_threads,
    stream_frames,
    streaming_threads,
)

# (batch, frames, input channels, size, hidden); the paper preset's batch is 2 on a CPU
# (4 on a GPU, as DESIGN.md measured the peer), which changes no ratio.
STACKS = {"small": (8, 16, 3, 32, 16), "paper": (2, 16, 3, 112, 32)}
LAYOUTS = {"nchw": torch.contiguous_format, "cl": torch.channels_last}


def conv_peaks(device: torch.device) -> dict[tuple[str, str], float]:
    """GFLOP/s of the reference convolution (``common.conv_peak``) per (precision, layout)."""
    return {(precision, layout): conv_peak(device, precision, fmt)
            for precision in ("float32", "bfloat16") for layout, fmt in LAYOUTS.items()}


def matmul_peak(device: torch.device, dtype: torch.dtype, n: int = 8192, repeats: int = 10) -> float:
    """GFLOP/s of an n×n×n matrix product on random data (a GPU's dense peak for reference;
    float32 without TF32)."""
    allow_tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
        for _ in range(3):
            a @ b
        sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        sync(device)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = allow_tf32
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def stack_models(in_channels: int, size: int, hidden: int, compiled: bool) -> dict[str, torch.nn.Module]:
    models = {}
    peer = peer_stack(in_channels, hidden)
    if peer is not None:
        models["peer"] = peer
    for cell in ("conventional", "enhanced"):
        config = ConvLSTMConfig(cell=cell, hidden_channels=(hidden,) * 4, kernel_sizes=KERNELS)
        models[f"fervid {cell}"] = ConvLSTM(in_channels, (size, size), config)
    if compiled:  # the same stacks with their per-step arithmetic through torch.compile
        for cell in ("conventional", "enhanced"):
            config = ConvLSTMConfig(cell=cell, hidden_channels=(hidden,) * 4, kernel_sizes=KERNELS)
            models[f"fervid {cell}+fused"] = fuse_gate_arithmetic(ConvLSTM(in_channels, (size, size), config))
    return models


def fused_recompiles(device: torch.device, batches=(8, 5, 3, 6)) -> list[int]:
    """Graphs torch.compile made for the fused Enhanced stack (small preset, bfloat16,
    forward + backward) at each new batch size in turn: automatic dynamic shapes should
    make the second size compile once more and the later ones not at all."""
    from torch._dynamo.utils import counters

    _, frames, channels, size, hidden = STACKS["small"]
    torch._dynamo.reset()
    model = fuse_gate_arithmetic(ConvLSTM(channels, (size, size), ConvLSTMConfig(hidden_channels=(hidden,) * 4,
                                                                                   kernel_sizes=KERNELS))).to(device)
    made = []
    for batch in batches:
        before = counters["stats"]["unique_graphs"]
        with autocast(device, "bfloat16"):
            stack_step(model, torch.randn(batch, frames, channels, size, size, device=device),
                       torch.randn(batch, hidden, size, size, device=device))
        made.append(counters["stats"]["unique_graphs"] - before)
    return made


def bench_stacks(preset: str, device: torch.device, repeats: int, peaks: dict, compiled: bool) -> list[dict]:
    batch, frames, channels, size, hidden = STACKS[preset]
    if device.type == "cuda" and preset == "paper":
        batch = 4
    torch.manual_seed(0)
    clip = torch.randn(batch, frames, channels, size, size, device=device)
    target = torch.randn(batch, hidden, size, size, device=device)
    variants = {}  # (model, precision, layout) -> callable
    flops = {}
    for name, model in stack_models(channels, size, hidden, compiled).items():
        model.to(device)
        if name.endswith("+fused"):  # the same arithmetic as the plain stack
            flops[name] = flops[name.removesuffix("+fused")]
        else:
            counter = FlopCounterMode(display=False)
            with counter:
                stack_step(model, clip, target)
            flops[name] = counter.get_total_flops()
        for precision in ("float32", "bfloat16"):
            layouts = ("cl",) if name.endswith("+fused") else ("nchw", "cl") if precision == "bfloat16" else ("nchw",)
            for layout in layouts:  # a fused stack is channels-last already (fuse_gate_arithmetic)
                model_copy = model if layout == "nchw" or name.endswith("+fused") else copy.deepcopy(model).to(memory_format=torch.channels_last)

                def run(m=model_copy, p=precision):
                    with autocast(device, p):
                        stack_step(m, clip, target)
                    sync(device)

                variants[name, precision, layout] = run
    first_call = {}
    for key, run in variants.items():  # warm-up: oneDNN primitives, allocator, torch.compile
        start = time.perf_counter()
        run()
        first_call[key] = time.perf_counter() - start
    times = {key: [] for key in variants}
    for _ in range(repeats):
        for key, run in variants.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)
    rows = []
    for (name, precision, layout), ts in times.items():
        seconds = statistics.median(ts)
        row = {"preset": preset, "model": name, "precision": precision, "layout": layout, "batch": batch,
               "median_s": seconds, "gflops": flops[name] / seconds / 1e9}
        row["share_of_peak"] = row["gflops"] / max(peaks[precision, "nchw"], peaks[precision, "cl"])
        if name.endswith("+fused"):  # the first call compiled: its time beyond a warm call
            row["compile_s"] = first_call[name, precision, layout] - seconds
            row["x_eager"] = statistics.median(t / e for t, e in zip(ts, times[name.removesuffix("+fused"), precision, "nchw"]))
        if ("peer", "float32", "nchw") in times and ("peer", "bfloat16", "nchw") in times:
            row["x_peer_fp32"] = statistics.median(t / p for t, p in zip(ts, times["peer", "float32", "nchw"]))
            row["x_peer_bf16"] = statistics.median(t / p for t, p in zip(ts, times["peer", "bfloat16", "nchw"]))
        rows.append(row)
    return rows


def profile_stack(preset: str, device: torch.device, precision: str, top: int = 6) -> list[tuple[str, float]]:
    """Where the Enhanced stack's forward + backward spends its time: (op, share of the
    total self time), the ops that limit it."""
    from torch.profiler import ProfilerActivity, profile

    batch, frames, channels, size, hidden = STACKS[preset]
    model = stack_models(channels, size, hidden, False)["fervid enhanced"].to(device)
    clip = torch.randn(batch, frames, channels, size, size, device=device)
    target = torch.randn(batch, hidden, size, size, device=device)

    def run():
        with autocast(device, precision):
            stack_step(model, clip, target)
        sync(device)

    run()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        run()
    events = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    attr = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    total = sum(getattr(e, attr) for e in events) or 1
    ranked = sorted(events, key=lambda e: getattr(e, attr), reverse=True)[:top]
    return [(e.key, getattr(e, attr) / total) for e in ranked]


def bench_training(preset: str, device: torch.device, auto: str, max_batch: int = 256) -> list[dict]:
    """float32 vs ``auto`` (and channels-last ResNets) at batch 8 (the paper preset at
    batch 2 on a CPU); on a GPU also ``auto`` at doubling batches up to the largest that
    fits (an out-of-memory error ends the sweep)."""
    batch = 2 if preset == "paper" and device.type == "cpu" else 8
    steps = 1 if preset == "paper" and device.type == "cpu" else 3
    rows = []
    for precision in dict.fromkeys(("float32", auto)):
        rows.append(train_step_rate(preset, batch, device, precision, steps))
    rows.append(train_step_rate(preset, batch, device, auto, steps, channels_last=True))
    fused = train_step_rate(preset, batch, device, auto, steps, channels_last=True, fused=True)
    fused["gflop_per_clip"] = rows[-1]["gflop_per_clip"]  # the same arithmetic
    fused["achieved_gflops"] = fused["gflop_per_clip"] * fused["clips_per_s"]
    rows.append(fused)
    while device.type == "cuda" and batch * 2 <= max_batch:
        batch *= 2
        try:
            rows.append(train_step_rate(preset, batch, device, auto, steps))
        except RuntimeError as err:  # torch.cuda.OutOfMemoryError, or cuDNN/cuBLAS failing to allocate
            if not isinstance(err, torch.cuda.OutOfMemoryError) and "ALLOC" not in str(err):
                raise
            rows.append({"preset": preset, "batch": batch, "precision": auto, "out_of_memory": True})
            break
        finally:
            gc.collect()
            torch.cuda.empty_cache()
    return rows


def bench_streaming(preset: str, precision: str, frames: int, detector, device: torch.device,
                    folder: str | Path = FIXTURES, profiled_ops: bool = True) -> dict:
    videos = find_videos([folder]) if Path(folder).exists() else []
    if not videos:
        return {}
    model = FourStreamNet(build_config(preset, "e")).eval().to(device)
    predictor = Predictor(model, PreprocessSettings(face_size=model.config.face_size), preset, precision)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="small,paper")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="stack repeats at the small preset (paper: 2)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: stacks,train,stream,preprocess")
    parser.add_argument("--compile", action="store_true", help="also the stacks with their gate arithmetic fused by torch.compile")
    parser.add_argument("--videos", default=str(FIXTURES), help="videos for the streaming part (default: the eNTERFACE'05 fixture clips)")
    parser.add_argument("--max-batch", type=int, default=256, help="GPU: the largest training batch tried")
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    device = torch.device(args.device)
    auto = resolve_precision("auto", device)
    skip = set(args.skip.split(","))
    print(header(f"speed: precision and layout, {device.type}; auto = {describe('auto', device)}", args.threads))
    peaks = conv_peaks(device)
    print(f"## convolution peak, 3×3 128->128, {peak_batch(device)}×56×56, forward (GFLOP/s)")
    for (precision, layout), gflops in peaks.items():
        print(f"  {precision:<9} {layout:<5} {gflops:8.0f}")
    out = {"peaks": {f"{p} {lay}": g for (p, lay), g in peaks.items()}, "stacks": [], "train": [], "stream": []}
    if device.type == "cuda":
        out["matmul_peaks"] = {name: matmul_peak(device, dtype) for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16))}
        print(f"  {torch.cuda.get_device_name(device)}: 8192³ matrix product {out['matmul_peaks']['bfloat16']:.0f} GFLOP/s "
              f"bfloat16, {out['matmul_peaks']['float32']:.0f} float32 (no TF32)")
    presets = args.presets.split(",")
    if "stacks" not in skip:
        print("## ConvLSTM stacks, forward + backward")
        print(f"  {'preset':<6} {'model':<27} {'precision':<9} {'layout':<6} {'s':>7} {'GFLOP/s':>8} {'% peak':>7} {'× peer fp32':>12} {'× peer bf16':>12}")
        for preset in presets:
            for row in bench_stacks(preset, device, args.repeats if preset == "small" else 2, peaks, args.compile):
                out["stacks"].append(row)
                ratios = (f"{row['x_peer_fp32']:>12.2f} {row['x_peer_bf16']:>12.2f}" if "x_peer_fp32" in row else "")
                fused = (f"  {row['x_eager']:.2f}× eager, compiled in {row['compile_s']:.0f} s" if "x_eager" in row else "")
                print(f"  {preset:<6} {row['model']:<27} {row['precision']:<9} {row['layout']:<6} {row['median_s']:7.3f} "
                      f"{row['gflops']:8.0f} {100 * row['share_of_peak']:6.0f}% {ratios}{fused}", flush=True)
        if args.compile:
            out["fused_recompiles"] = fused_recompiles(device)
            print(f"  fused Enhanced stack, graphs compiled at batch sizes 8, 5, 3, 6 in turn: {out['fused_recompiles']}")
        print("  targets (issue 19): Enhanced, fastest precision ≤ 0.45× peer fp32 and ≤ 0.8× peer bf16; float32 ≤ 1.0× peer fp32")
        bf16_gain = max(peaks["bfloat16", "nchw"], peaks["bfloat16", "cl"]) / max(peaks["float32", "nchw"], peaks["float32", "cl"])
        tf32 = " (float32 convolutions run as TF32 in cuDNN)" if device.type == "cuda" else ""
        print(f"  limits: this device's bfloat16 peak is {bf16_gain:.1f}× its float32 peak{tf32}, which bounds any stack's "
              "bfloat16 speed-up over float32 at the same efficiency")
        for preset in presets:
            shares = profile_stack(preset, device, auto)
            print(f"  where the Enhanced stack's time goes ({preset}, {auto}): "
                  + ", ".join(f"{name.removeprefix('aten::')} {100 * share:.0f}%" for name, share in shares), flush=True)
    if "train" not in skip:
        print("## four-stream training step, configuration (e)")
        for preset in presets:
            for row in bench_training(preset, device, auto, args.max_batch):
                out["train"].append(row)
                if row.get("out_of_memory"):
                    print(f"  {preset:<6} batch {row['batch']:>3} {row['precision']:<9} out of memory", flush=True)
                    continue
                peak = max(peaks[row["precision"], "nchw"], peaks[row["precision"], "cl"])
                row["share_of_peak"] = row["achieved_gflops"] / peak
                layout = "channels-last ResNets" if row["channels_last"] else "NCHW"
                if row.get("fused"):
                    layout = f"+ --fuse-gates ({row['first_step_s']:.0f} s first step)"
                memory = f", peak memory {row['peak_memory_gib']:.1f} GiB" if "peak_memory_gib" in row else ""
                print(f"  {preset:<6} batch {row['batch']:>3} {row['precision']:<9} {layout:<36} {row['clips_per_s']:8.2f} clips/s "
                      f"({row['gflop_per_clip']:.1f} GFLOP/clip, {row['achieved_gflops']:.0f} GFLOP/s = "
                      f"{100 * row['share_of_peak']:.1f}% of the conv peak{memory})", flush=True)
    if "stream" not in skip:
        print(f"## streaming prediction, configuration (e), {auto} (auto)")
        detector = BlazeFace()
        for preset in presets:
            row = bench_streaming(preset, auto, 400 if preset == "small" else 24, detector, device, args.videos,
                                  profiled_ops=device.type == "cpu")
            if row:
                out["stream"].append(row)
                print(f"  {preset:<6} {row['frames_per_s']:7.1f} frames/s over {row['frames']} frames: per frame "
                      f"{row['front_end_ms']:.1f} ms face + crop + flow, {row['model_ms']:.1f} ms model; "
                      f"front end a thread ahead: {row['pipelined_sequential_streams_frames_per_s']:.1f} frames/s with the "
                      f"streams one after the other on {args.threads} threads, a frame at a time; "
                      f"{row['pipelined_frames_per_s']:.1f} side by side on {row['streaming_threads']} thread(s) each, "
                      f"8 frames at a time (fervid stream); {row['pipelined_fused_frames_per_s']:.1f} so with fused gate "
                      f"arithmetic (its first pass, compiling: {row['fused_first_pass_s']:.0f} s)", flush=True)
                if "gflop_per_frame" in row:
                    by_op = row["ms_per_frame_by_op"]
                    profiled = sum(by_op.values())
                    conv_ms = by_op.get("convolution", 0.0)
                    peak = max(peaks[auto, "nchw"], peaks[auto, "cl"])
                    print(f"         where the model's time goes (profiled, {profiled:.1f} ms/frame): "
                          + ", ".join(f"{g} {ms:.1f} ms ({100 * ms / profiled:.0f}%)" for g, ms in sorted(by_op.items(), key=lambda kv: -kv[1])))
                    if conv_ms:
                        floor = row["gflop_per_frame"] / peak * 1e3
                        achieved = row["gflop_per_frame"] / conv_ms * 1e3
                        print(f"         {row['gflop_per_frame']:.2f} GFLOP/frame of convolution at {achieved:.0f} GFLOP/s "
                              f"({100 * achieved / peak:.0f}% of the {auto} peak); at the peak, with nothing else, the model "
                              f"would take {floor:.1f} ms, so ≤ {1000 / (row['front_end_ms'] + floor):.0f} frames/s with "
                              f"this front end in series", flush=True)
        small = [r for r in out["stream"] if r["preset"] == "small"]
        verdict = f"{small[0]['pipelined_frames_per_s']:.0f} frames/s this run, " if small else ""
        print(f"  target: ≥ 100 frames/s at the small preset ({verdict}fervid stream). Limits: per frame the model\n"
              "  steps two windows × two ConvLSTM streams × 4 layers (small kernels, overhead-bound), and the\n"
              "  front end (BlazeFace, resizes, Farneback) shares the same cores: see the split and the profile above")
    if "preprocess" not in skip:
        print("## preprocessing one long video, small preset, one process (fervid preprocess --workers 1)")
        out["preprocess"] = long_video_rates(find_videos([args.videos]))
        one_core, before, after = (r["frames_per_s"] for r in out["preprocess"][:3])
        memory = {r["minutes"]: r["peak_rss_mib"] for r in out["preprocess"][3:]}
        (short, short_mib), (long, long_mib) = sorted(memory.items())
        print(f"  two threads vs one core: {after / one_core:.2f}×, vs before: {after / before:.2f}×; "
              f"peak memory {long:g} min / {short:g} min: "
              f"{long_mib / short_mib:.2f}×. Targets (issue 19): ≥ 250 frames/s, memory within 10%")
    save_json(args.json, out)


if __name__ == "__main__":
    main()
