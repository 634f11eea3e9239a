"""One precision setting for training, evaluation, prediction, streaming and benchmarks.

``float32``; ``bfloat16``: autocast (convolutions and matrix products in bfloat16,
float32 master weights, normalisation and losses in float32); ``auto``: bfloat16
only where the device runs it fast, checked at run time, never assumed:

- CUDA: bfloat16 where ``torch.cuda.is_bf16_supported()`` (Ampere and later);
- CPU: bfloat16 where the CPU has AMX tiles or AVX-512 BF16 instructions (oneDNN then
  runs bfloat16 convolutions natively); elsewhere bfloat16 is emulated and slower, so
  float32.

Measured on this project's 2-core AMD EPYC (AVX-512 BF16, no AMX): a 3×3 convolution
runs ~1.8× faster in bfloat16 than in float32, a small-preset training step of
configuration (e) 1.5× (``benchmarks/bench_speed.py`` prints the figures).
"""

from __future__ import annotations

from contextlib import nullcontext

import torch

PRECISIONS = ("float32", "bfloat16", "auto")


def cpu_bf16_features() -> list[str]:
    """The CPU's native bfloat16 features that oneDNN uses: 'amx', 'avx512_bf16'."""
    checks = {"amx": "_is_amx_tile_supported", "avx512_bf16": "_is_avx512_bf16_supported"}
    return [name for name, fn in checks.items() if getattr(torch.cpu, fn, lambda: False)()]


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``auto`` -> "bfloat16" where the device runs it natively, else "float32"."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    device = torch.device(device)
    if device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    if device.type == "cpu":
        return "bfloat16" if cpu_bf16_features() else "float32"
    return "float32"


def describe(precision: str, device: torch.device | str) -> str:
    """What ``precision`` resolves to on ``device``, and why (printed by every command)."""
    device = torch.device(device)
    resolved = resolve_precision(precision, device)
    if precision != "auto":
        return f"{resolved} (requested)"
    if device.type == "cuda":
        why = "CUDA bf16 support" if resolved == "bfloat16" else "no CUDA bf16 support"
    elif device.type == "cpu":
        features = cpu_bf16_features()
        why = f"CPU has {' and '.join(features)}" if features else "CPU has neither AMX nor AVX-512 BF16"
    else:
        why = f"{device.type}: float32"
    return f"{resolved} (auto: {why})"


def autocast(device: torch.device | str, precision: str):
    """Autocast context for a resolved precision ("float32": none)."""
    if precision == "auto":
        raise ValueError("resolve 'auto' first (resolve_precision)")
    if precision == "bfloat16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return nullcontext()


def prefers_channels_last(device: torch.device | str, precision: str) -> bool:
    """Whether to hold convolution weights channels-last for inference: yes for bfloat16
    on a CPU, the layout oneDNN's bfloat16 convolution computes in (an NCHW
    convolution there reorders its input and output, ``aten::copy_``, a third of the
    ConvLSTM step's time); not otherwise, where it measured no faster. The ConvLSTM
    cells' gate arithmetic runs slower on channels-last gates eagerly (their channel
    blocks interleave; ``models.convlstm.fuse_gate_arithmetic``), but in bfloat16 the
    convolutions gain more than it loses; in float32 they do not.
    Measured on a 2-core Xeon with AMX, small preset, the model's time per frame in
    ``FaceStreams.push_faces`` (front end excluded; docs/several-faces): 2 faces 14.8 ->
    10.5 ms, 4 faces 25.4 -> 18.8 ms in bfloat16; in float32 13.3 vs 14.3 ms, within noise."""
    if precision == "auto":
        raise ValueError("resolve 'auto' first (resolve_precision)")
    return torch.device(device).type == "cpu" and precision == "bfloat16"


def resolve_device(name: str) -> torch.device:
    """A device name, or "auto": CUDA if present, else the CPU (training and prediction alike)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
