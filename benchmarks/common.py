"""Shared pieces of the benchmark scripts: a header naming the machine, timing, the
machine's convolution peak, and one model setting changed from the command line."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import platform
import statistics
import time

import torch

from fervid.precision import autocast


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
              repeats: int | None = None) -> float:
    """GFLOP/s of the reference convolution (3×3, 128 -> 128 channels, ``peak_batch``×56×56,
    forward), fastest of ``repeats`` calls (4 on a CPU, 20 on a GPU) after one warm-up."""
    batch = peak_batch(device)
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


def time_call(fn, repeats: int) -> list[float]:
    """Seconds per call of ``fn`` over ``repeats`` calls (after the caller's warm-up)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def save_json(path: str | None, data) -> None:
    """Write the figures to ``path`` (a script's ``--json``); nothing when it is not given."""
    if path:
        with open(path, "w") as f:
            json.dump(data, f, indent=1)


def override(config, item: str):
    """``config`` (a frozen dataclass) with one field set from "name=value", or
    "sub.name=value" for a field of a nested dataclass; the value is cast to the field's type."""
    name, value = item.split("=", 1)
    *path, field = name.split(".")
    inner = config
    for part in path:
        inner = getattr(inner, part)
    current = getattr(inner, field)
    if isinstance(current, str):
        parsed = value
    else:  # numbers, booleans, tuples: Python literals ("6", "True", "(8, 8, 8, 8)")
        parsed = ast.literal_eval(value)
        if not isinstance(parsed, type(current)) and not (isinstance(current, float) and isinstance(parsed, int)):
            raise ValueError(f"{name}: expected a {type(current).__name__}, got {value!r}")
    new = dataclasses.replace(inner, **{field: parsed})
    for depth in range(len(path) - 1, -1, -1):
        parent = config
        for part in path[:depth]:
            parent = getattr(parent, part)
        new = dataclasses.replace(parent, **{path[depth]: new})
    return new
