"""The four-stream training step (configuration e) on random inputs: clips/s, FLOPs per
clip (``torch.utils.flop_counter``), the peak memory of a step."""

from __future__ import annotations

import dataclasses
import gc
import resource
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..models.convlstm import fuse_gate_arithmetic
from ..models.fourstream import (
    FourStreamConfig,
    FourStreamNet,
    build_config,
    random_inputs,
)
from ..models.resnet import ResNetConfig
from ..precision import autocast
from .machine import sync


def smoke_config() -> FourStreamConfig:
    """Configuration (e) shrunk for the scripts' ``--smoke`` (every code path in seconds, no
    figure worth reading): 16×16 faces, 8 hidden channels, one block per ResNet stage."""
    config = build_config("small", "e")
    return dataclasses.replace(config, face_size=16, resnet=ResNetConfig(stage_blocks=(1, 1, 1, 1)), fc_channels=(32, 16),
                               convlstm=dataclasses.replace(config.convlstm, hidden_channels=(8, 8, 8, 8)))


def train_step_rate(preset: str, batch: int, device, precision: str, steps: int, channels_last: bool = False,
                    fused: bool = False, config: FourStreamConfig | None = None) -> dict:
    """Seconds per SGD step over ``steps`` steps after a first (counted, warm-up) one.
    ``channels_last``: the ResNet streams' weights and inputs in channels-last layout.
    ``fused``: the ConvLSTM gate arithmetic through torch.compile, the stacks channels-last
    (``fuse_gate_arithmetic``, ``--fuse-gates``); its FLOPs are not counted (the same as
    without), its compile time is.
    ``config``: another model than the preset's (e.g. ``smoke_config``)."""
    torch.manual_seed(0)
    model = FourStreamNet(config or build_config(preset, "e")).to(device)
    if fused:
        fuse_gate_arithmetic(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs = {k: v.to(device) for k, v in random_inputs(model, batch).items()}
    if channels_last:
        for name in ("rgb_dynamic", "flow_dynamic"):
            model.streams[name].to(memory_format=torch.channels_last)
            inputs[name] = inputs[name].contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 6, (batch,), device=device)

    def step():
        with torch.autocast(device.type, torch.bfloat16, enabled=precision == "bfloat16"):
            logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    start = time.perf_counter()
    if fused:
        step()  # compiles
        flops_per_clip = float("nan")
    else:
        counter = FlopCounterMode(display=False)
        with counter:
            step()  # also the warm-up
        flops_per_clip = counter.get_total_flops() / batch
    first_step = time.perf_counter() - start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    seconds = (time.perf_counter() - start) / steps
    row = {"preset": preset, "batch": batch, "precision": precision, "channels_last": channels_last, "fused": fused,
           "first_step_s": first_step, "s_per_step": seconds,
           "clips_per_s": batch / seconds, "gflop_per_clip": flops_per_clip / 1e9,
           "achieved_gflops": flops_per_clip * batch / seconds / 1e9}
    if device.type == "cuda":
        row["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return row


def training_rates(preset: str, device: torch.device, auto: str, max_batch: int = 256, batch: int | None = None,
                   steps: int | None = None, config: FourStreamConfig | None = None):
    """float32 vs ``auto``, channels-last ResNets, and fused gate arithmetic, at batch 8
    (the paper preset at batch 2 and one step on a CPU), one row each as it is measured; on
    a GPU then ``auto`` at doubling batches up to the largest that fits (an out-of-memory
    error ends the sweep with an ``out_of_memory`` row). ``config``: as ``train_step_rate``'s."""
    batch = batch or (2 if preset == "paper" and device.type == "cpu" else 8)
    steps = steps or (1 if preset == "paper" and device.type == "cpu" else 3)
    for precision in dict.fromkeys(("float32", auto)):
        yield train_step_rate(preset, batch, device, precision, steps, config=config)
    channels_last = train_step_rate(preset, batch, device, auto, steps, channels_last=True, config=config)
    yield channels_last
    fused = train_step_rate(preset, batch, device, auto, steps, channels_last=True, fused=True, config=config)
    fused["gflop_per_clip"] = channels_last["gflop_per_clip"]  # the same arithmetic
    fused["achieved_gflops"] = fused["gflop_per_clip"] * fused["clips_per_s"]
    yield fused
    while device.type == "cuda" and batch * 2 <= max_batch:
        batch *= 2
        try:
            yield train_step_rate(preset, batch, device, auto, steps, config=config)
        except RuntimeError as err:  # torch.cuda.OutOfMemoryError, or cuDNN/cuBLAS failing to allocate
            if not isinstance(err, torch.cuda.OutOfMemoryError) and "ALLOC" not in str(err):
                raise
            yield {"preset": preset, "batch": batch, "precision": auto, "out_of_memory": True}
            break
        finally:
            gc.collect()
            torch.cuda.empty_cache()


def step_memory(preset: str, batch: int, device: torch.device, precision: str, config: FourStreamConfig | None = None) -> dict:
    """Two SGD steps of configuration (e) (the second has the momentum buffers): seconds
    per step and, on CUDA, ``max_memory_allocated`` (GiB); on a CPU the process's peak
    resident memory before and after (GiB), whose growth estimates the same (plus
    allocator slack): run it in a fresh process. ``config``: as ``train_step_rate``'s."""
    torch.manual_seed(0)
    model = FourStreamNet(config or build_config(preset, "e")).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs = {k: v.to(device) for k, v in random_inputs(model, batch).items()}
    labels = torch.randint(0, 6, (batch,), device=device)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(2):
        with autocast(device, precision):
            logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    row = {"seconds_per_step": (time.perf_counter() - start) / 2, "rss_before_gib": before,
           "rss_after_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}
    if device.type == "cuda":
        row["peak_allocated_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return row
