"""The machine a figure was measured on, and how it is measured: a header naming the CPU
and library versions, wall-clock timing, the reference convolution's peak (the yardstick
every "share of the peak" divides by), a GPU's matrix-product peak, figures as JSON."""

from __future__ import annotations

import json
import os
import platform
import time

import torch

from ..precision import autocast

LAYOUTS = {"nchw": torch.contiguous_format, "cl": torch.channels_last}


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def header(title: str, threads: int) -> str:
    """Two comment lines: the title, then the CPU, the threads and the library versions."""
    return (
        f"# {title}\n"
        f"# {cpu_name()}, {os.cpu_count()} logical CPUs, {threads} torch threads; "
        f"python {platform.python_version()}, torch {torch.__version__}"
    )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_batch(device: torch.device) -> int:
    """Batch of the reference 3×3, 128-channel, 56×56 convolution: 16, or 256 on a GPU, so
    that the launch is not what is timed."""
    return 256 if device.type == "cuda" else 16


def conv_peak(device: torch.device, precision: str = "float32", memory_format=torch.contiguous_format,
              repeats: int | None = None, batch: int | None = None) -> float:
    """GFLOP/s of the reference convolution (3×3, 128 -> 128 channels, ``peak_batch``×56×56,
    forward), fastest of ``repeats`` calls (4 on a CPU, 20 on a GPU) after one warm-up.
    ``batch``: another batch (1 for a quick, lower figure)."""
    batch = batch or peak_batch(device)
    repeats = repeats or (20 if device.type == "cuda" else 4)
    flops = 2 * 128 * 128 * 9 * 56 * 56 * batch
    conv = torch.nn.Conv2d(128, 128, 3, padding=1, bias=False).to(device, memory_format=memory_format)
    x = torch.randn(batch, 128, 56, 56, device=device).contiguous(memory_format=memory_format)
    with torch.no_grad(), autocast(device, precision):
        conv(x)
        times = []
        for _ in range(repeats):
            sync(device)
            start = time.perf_counter()
            conv(x)
            sync(device)
            times.append(time.perf_counter() - start)
    return flops / min(times) / 1e9


def conv_peaks(device: torch.device, repeats: int | None = None, batch: int | None = None) -> dict[tuple[str, str], float]:
    """``conv_peak`` per (precision, layout): float32 and bfloat16, NCHW and channels-last."""
    return {(precision, layout): conv_peak(device, precision, fmt, repeats, batch)
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


def time_call(fn, repeats: int) -> list[float]:
    """Seconds per call of ``fn`` over ``repeats`` calls (after the caller's warm-up)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def save_json(path: str | None, data) -> None:
    """Write the figures to ``path`` (a script's ``--json``); nothing when it is not given."""
    if path:
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
