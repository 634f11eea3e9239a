"""Training throughput of the four-stream network (configuration e) and the share of the
machine's convolution peak it reaches.

FLOPs per clip are counted by ``torch.utils.flop_counter`` over one forward+backward;
the peak is a large 3×3 convolution (128 channels, batch 16, 56×56) timed in the same
run. On CUDA the same figures, plus the peak memory of the paper preset at batch 8.

    python benchmarks/bench_train.py [--presets small,paper] [--device cpu|cuda] [--precision float32|bfloat16]
"""

from __future__ import annotations

import argparse
import time

import torch
from common import conv_peak, header, peak_batch, save_json, sync
from torch.utils.flop_counter import FlopCounterMode

from fervid.demo import random_inputs
from fervid.models.convlstm import fuse_gate_arithmetic
from fervid.models.fourstream import FourStreamNet, build_config

BATCH = {"small": 8, "paper": 8}


def train_step_rate(preset: str, batch: int, device, precision: str, steps: int, channels_last: bool = False,
                    fused: bool = False) -> dict:
    """``channels_last``: the ResNet streams' weights and inputs in channels-last layout.
    ``fused``: the ConvLSTM gate arithmetic through torch.compile, the stacks channels-last
    (``fuse_gate_arithmetic``, ``--fuse-gates``); its FLOPs are not counted (the same as
    without), its compile time is."""
    torch.manual_seed(0)
    model = FourStreamNet(build_config(preset, "e")).to(device)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="small,paper")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--paper-batch-cpu", type=int, default=2, help="the paper preset's batch on the CPU (a step takes tens of seconds)")
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    device = torch.device(args.device)
    print(header(f"four-stream training step (configuration e), {device.type}, {args.precision}", args.threads))
    peak = conv_peak(device, args.precision)
    print(f"# convolution peak (3×3, 128 ch, {peak_batch(device)}×56×56): {peak:.0f} GFLOP/s")
    rows = []
    for preset in args.presets.split(","):
        batch = args.paper_batch_cpu if preset == "paper" and device.type == "cpu" else BATCH[preset]
        steps = 1 if preset == "paper" and device.type == "cpu" else 3
        row = train_step_rate(preset, batch, device, args.precision, steps)
        row["share_of_peak"] = row["achieved_gflops"] / peak
        rows.append(row)
        memory = f", peak memory {row['peak_memory_gib']:.1f} GiB" if "peak_memory_gib" in row else ""
        print(f"{preset:<6} batch {batch:>2}: {row['clips_per_s']:7.2f} clips/s, {row['s_per_step']:7.2f} s/step, "
              f"{row['gflop_per_clip']:7.1f} GFLOP/clip, {row['achieved_gflops']:6.0f} GFLOP/s = {100 * row['share_of_peak']:.0f}% of peak{memory}")
    save_json(args.json, {"peak_gflops": peak / 1e9, "rows": rows})


if __name__ == "__main__":
    main()
