"""4-layer ConvLSTM stacks, forward + backward: fervid's conventional and Enhanced cells
against the peer, PyPI ``conv-lstm`` (fused gate convolution, no peepholes), timed
interleaved repeat by repeat so that machine noise hits every model alike, and profiled.

Shapes: a clip (B, T, C, H, W); the loss reads the top layer's last h (B, Ch, H, W)
through a fixed random target of that shape."""

from __future__ import annotations

import copy
import statistics
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..models.convlstm import ConvLSTM, ConvLSTMConfig, fuse_gate_arithmetic
from ..precision import autocast
from .machine import sync, time_call

KERNELS = (5, 5, 3, 3)  # paper, section 3.1
# name: (batch, frames, input channels, image size, hidden channels); the small row is the
# small preset, the paper row its 112×112 faces at the batch DESIGN.md measured the peer with.
SETTINGS = {
    "small": (8, 16, 3, 32, 16),
    "paper": (4, 16, 3, 112, 32),
}
# bench_speed's: the paper preset's batch is 2 on a CPU (4 on a GPU), which changes no ratio.
STACKS = {"small": (8, 16, 3, 32, 16), "paper": (2, 16, 3, 112, 32)}
SMOKE = (2, 4, 3, 16, 8)  # the scripts' --smoke: every code path in a second, no figure worth reading


def peer_stack(in_channels: int, hidden: int) -> torch.nn.Module | None:
    """The peer's 4-layer stack (fused gate convolution, no peepholes), or None if not installed."""
    try:
        from conv_lstm import ConvLSTM as PeerConvLSTM
    except ImportError:
        print("# peer missing: `pip install conv-lstm` to compare against it", file=sys.stderr)
        return None
    return PeerConvLSTM(in_channels, [hidden] * 4, list(KERNELS), 4, True, True, False)


def stack_step(model: torch.nn.Module, clip: torch.Tensor, target: torch.Tensor) -> None:
    """Forward + backward of one clip (B, T, C, H, W), the loss reading the last h."""
    out = model(clip)
    last = out[0][0][:, -1] if isinstance(out[0], list) else out[0][:, -1]  # the peer returns lists
    (last * target).sum().backward()
    model.zero_grad(set_to_none=True)


def peephole_variants(in_channels: int, size: int, hidden: int) -> dict[str, torch.nn.Module]:
    """The peer (if installed) and fervid's two cells, each with and without peepholes."""
    models = {}
    peer = peer_stack(in_channels, hidden)
    if peer is not None:
        models["peer conv-lstm"] = peer
    for cell in ("conventional", "enhanced"):
        for peephole in ("position", "none"):
            config = ConvLSTMConfig(cell=cell, hidden_channels=(hidden,) * 4, kernel_sizes=KERNELS, peephole=peephole)
            models[f"fervid {cell}, peephole={peephole}"] = ConvLSTM(in_channels, (size, size), config)
    return models


def time_peephole_variants(preset: str, repeats: int, threads: int, shape: tuple | None = None) -> list[dict]:
    """One row per ``peephole_variants`` model at a ``SETTINGS`` row (or ``shape``, e.g.
    ``SMOKE``): median seconds per step, clips/s and (with the peer) the median of the
    per-repeat ratios to it."""
    batch, frames, channels, size, hidden = shape or SETTINGS[preset]
    torch.manual_seed(0)
    clip = torch.randn(batch, frames, channels, size, size)
    target = torch.randn(batch, hidden, size, size)
    models = peephole_variants(channels, size, hidden)
    for model in models.values():  # warm-up: oneDNN primitive creation, allocator
        stack_step(model, clip, target)
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            times[name] += time_call(lambda: stack_step(model, clip, target), 1)
    peer = times.get("peer conv-lstm")
    rows = []
    for name, ts in times.items():
        row = {"model": name, "preset": preset, "batch": batch, "frames": frames, "size": size, "hidden": hidden,
               "threads": threads, "median_s": statistics.median(ts), "min_s": min(ts),
               "clips_per_s": batch / statistics.median(ts)}
        if peer:
            row["ratio_to_peer"] = statistics.median([t / p for t, p in zip(ts, peer)])
        rows.append(row)
    return rows


def stack_models(in_channels: int, size: int, hidden: int, compiled: bool) -> dict[str, torch.nn.Module]:
    """The peer (if installed) and fervid's two cells; ``compiled``: also each with its
    gate arithmetic fused by torch.compile (``+fused``)."""
    models = {}
    peer = peer_stack(in_channels, hidden)
    if peer is not None:
        models["peer"] = peer
    for cell in ("conventional", "enhanced"):
        config = ConvLSTMConfig(cell=cell, hidden_channels=(hidden,) * 4, kernel_sizes=KERNELS)
        models[f"fervid {cell}"] = ConvLSTM(in_channels, (size, size), config)
    if compiled:
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


def time_stacks(preset: str, device: torch.device, repeats: int, peaks: dict, compiled: bool,
                shape: tuple | None = None) -> list[dict]:
    """Each ``stack_models`` model in float32 and bfloat16, NCHW and channels-last, at a
    ``STACKS`` row: median seconds, GFLOP/s (``torch.utils.flop_counter``), share of the
    peak in the same precision (``peaks``: ``machine.conv_peaks``), ratios to the peer's
    float32 and bfloat16 times and, fused, to the eager stack and the compile time.
    ``shape``: another (batch, frames, channels, size, hidden), e.g. ``SMOKE``."""
    batch, frames, channels, size, hidden = shape or STACKS[preset]
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
            times[key] += time_call(run, 1)
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


def profile_stack(preset: str, device: torch.device, precision: str, top: int = 6,
                  shape: tuple | None = None) -> list[tuple[str, float]]:
    """Where the Enhanced stack's forward + backward spends its time: (op, share of the
    total self time), the ops that limit it."""
    from torch.profiler import ProfilerActivity, profile

    batch, frames, channels, size, hidden = shape or STACKS[preset]
    config = ConvLSTMConfig(cell="enhanced", hidden_channels=(hidden,) * 4, kernel_sizes=KERNELS)
    model = ConvLSTM(channels, (size, size), config).to(device)
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
