"""Gradient flow through time, the paper's claim for the Enhanced ConvLSTM: how much of
the loss's gradient reaches the first frame of a 16-frame clip.

For each seed: a freshly initialised 4-layer stack (kernels 5, 5, 3, 3), a random
clip, and a loss that reads the top layer's last hidden state through a fixed random
projection (a linear read-out; a plain sum would be blind to a GroupNorm output,
whose groups sum to a constant). Printed: the norm of dL/dx_t for t = 1, 2, 4, 8, 16,
mean ± SD over seeds, and ‖dL/dx_1‖ / ‖dL/dx_16‖, the share that survives 15 steps.

    python benchmarks/bench_gradient_flow.py [--seeds 10] [--size 32] [--hidden 16]
    python benchmarks/bench_gradient_flow.py --seeds 2 --size 16 --hidden 8   # the smallest setting (the smoke test's)
"""

from __future__ import annotations

import argparse
import statistics

import torch

from fervid.diagnostics.gradients import FRAMES, input_gradient_norms
from fervid.diagnostics.machine import header, save_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds: at least 2 (the SD needs them)")
    print(header(f"gradient flow through {FRAMES} frames, 4-layer stacks at initialisation", torch.get_num_threads()))
    print(f"# {args.seeds} seeds, batch {args.batch}, {args.size}×{args.size}, {args.hidden} hidden channels")
    shown = [1, 2, 4, 8, 16]
    print(f"{'cell':<14}" + "".join(f"{'‖dL/dx_' + str(t) + '‖':>20}" for t in shown) + f"{'x_1 / x_16':>18}")
    results = {}
    for cell in ("conventional", "enhanced"):
        runs = [input_gradient_norms(cell, seed, args.size, args.hidden, args.batch) for seed in range(args.seeds)]
        results[cell] = runs
        cols = []
        for t in shown:
            vals = [r[t - 1] for r in runs]
            cols.append(f"{statistics.mean(vals):>11.3e} ± {statistics.stdev(vals):.1e}")
        ratios = [r[0] / r[-1] for r in runs]
        print(f"{cell:<14}" + "".join(f"{c:>20}" for c in cols) + f"{statistics.mean(ratios):>11.3e} ± {statistics.stdev(ratios):.0e}")
    conv1 = statistics.mean(r[0] for r in results["conventional"])
    enh1 = statistics.mean(r[0] for r in results["enhanced"])
    print(f"# ‖dL/dx_1‖ Enhanced / conventional: {enh1 / conv1:.3g}× (absolute norms also carry each stack's output scale; x_1 / x_16 does not)")
    save_json(args.json, results)


if __name__ == "__main__":
    main()
