"""Shared pieces of the benchmark scripts: a header naming the machine, and timing."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

import torch


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
