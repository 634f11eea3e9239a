"""Peak memory of one training step (configuration e), to check that the paper preset at
batch 8 fits a 24 GiB GPU. On CUDA: ``torch.cuda.max_memory_allocated``. On a CPU
(no GPU at hand): the growth of the process's peak resident memory over one step, in a
fresh process, which counts the same weights, gradients, optimizer state and saved
activations (CPU and CUDA run the same ops; only the ConvLSTM input projection is chunked
on the CPU, which saves the same tensors), plus allocator slack: an estimate, not a
substitute for measuring on the GPU.

    python benchmarks/bench_memory.py [--preset paper] [--batch 8] [--precision auto] [--device cpu|cuda]
    python benchmarks/bench_memory.py --smoke --batch 2 --device cpu   # the smallest setting (the smoke test's)
"""

from __future__ import annotations

import argparse
import sys

import torch

from fervid.diagnostics.training import smoke_config, step_memory
from fervid.precision import describe, resolve_precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="the smallest setting: a shrunk model (16×16 faces, 8 channels)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    device = torch.device(args.device)
    row = step_memory(args.preset, args.batch, device, resolve_precision(args.precision, device), smoke_config() if args.smoke else None)
    print(f"# {'a shrunk model (--smoke)' if args.smoke else args.preset + ' preset'}, configuration (e), batch {args.batch}, {describe(args.precision, device)}, {device}")
    if device.type == "cuda":
        print(f"peak allocated {row['peak_allocated_gib']:.1f} GiB ({row['seconds_per_step']:.2f} s/step)")
    else:
        before, after = row["rss_before_gib"], row["rss_after_gib"]
        print(f"peak resident memory {after:.1f} GiB, of which the training steps added {after - before:.1f} GiB "
              f"(inputs and model before: {before:.1f} GiB); {row['seconds_per_step']:.1f} s/step")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
