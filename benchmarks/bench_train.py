"""Training throughput of the four-stream network (configuration e) and the share of the
machine's convolution peak it reaches.

FLOPs per clip are counted by ``torch.utils.flop_counter`` over one forward+backward;
the peak is a large 3×3 convolution (128 channels, batch 16, 56×56) timed in the same
run. On CUDA the same figures, plus the peak memory of the paper preset at batch 8.

    python benchmarks/bench_train.py [--presets small,paper] [--device cpu|cuda] [--precision float32|bfloat16]
    python benchmarks/bench_train.py --presets small --smoke   # the smallest setting (the smoke test's)
"""

from __future__ import annotations

import argparse

import torch

from fervid.diagnostics.machine import conv_peak, header, peak_batch, save_json
from fervid.diagnostics.training import smoke_config, train_step_rate

BATCH = {"small": 8, "paper": 8}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="small,paper")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--paper-batch-cpu", type=int, default=2, help="the paper preset's batch on the CPU (a step takes tens of seconds)")
    parser.add_argument("--smoke", action="store_true", help="the smallest setting: a shrunk model (16×16 faces, 8 channels), batch 2, one timed step, the peak at batch 1")
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    device = torch.device(args.device)
    print(header(f"four-stream training step (configuration e), {device.type}, {args.precision}", args.threads))
    peak = conv_peak(device, args.precision, **({"repeats": 1, "batch": 1} if args.smoke else {}))
    print(f"# convolution peak (3×3, 128 ch, {peak_batch(device)}×56×56): {peak:.0f} GFLOP/s")
    rows = []
    for preset in args.presets.split(","):
        batch = args.paper_batch_cpu if preset == "paper" and device.type == "cpu" else BATCH[preset]
        steps = 1 if preset == "paper" and device.type == "cpu" else 3
        if args.smoke:
            batch, steps = 2, 1
        row = train_step_rate(preset, batch, device, args.precision, steps, config=smoke_config() if args.smoke else None)
        row["share_of_peak"] = row["achieved_gflops"] / peak
        rows.append(row)
        memory = f", peak memory {row['peak_memory_gib']:.1f} GiB" if "peak_memory_gib" in row else ""
        print(f"{preset:<6} batch {batch:>2}: {row['clips_per_s']:7.2f} clips/s, {row['s_per_step']:7.2f} s/step, "
              f"{row['gflop_per_clip']:7.1f} GFLOP/clip, {row['achieved_gflops']:6.0f} GFLOP/s = {100 * row['share_of_peak']:.0f}% of peak{memory}")
    save_json(args.json, {"peak_gflops": peak / 1e9, "rows": rows})


if __name__ == "__main__":
    main()
