"""Forward+backward time of 4-layer ConvLSTM stacks: fervid's conventional and Enhanced
cells against the peer, PyPI ``conv-lstm`` (fused gate convolution, no peepholes).

Same input channels, hidden channels, kernels (5, 5, 3, 3), batch, frames and image
size; the loss reads the top layer's last hidden state. Models are timed
interleaved, repeat by repeat, so machine noise hits all of them alike; the
ratios are medians of per-repeat ratios.

    pip install conv-lstm
    python benchmarks/bench_convlstm.py [--preset small|paper|all] [--threads 2] [--json out.json]
    python benchmarks/bench_convlstm.py --smoke   # the smallest setting (the smoke test's)
"""

from __future__ import annotations

import argparse

import torch

from fervid.diagnostics.machine import header, save_json
from fervid.diagnostics.stacks import SETTINGS, SMOKE, time_peephole_variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=[*SETTINGS, "all"], default="small")
    parser.add_argument("--repeats", type=int, default=None, help="default 9 (small), 3 (paper)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="the smallest setting: batch 2, 4 frames, 16×16, 8 channels, one repeat")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(header("ConvLSTM stacks, 4 layers, kernels 5,5,3,3: forward + backward", args.threads))
    print(f"{'model':<40}{'preset':>7}{'B×T×C×H×W → hidden':>24}{'median s':>10}{'clips/s':>9}{'× peer':>8}")
    rows = []
    for preset in SETTINGS if args.preset == "all" else [args.preset]:
        repeats = 1 if args.smoke else args.repeats or (9 if preset == "small" else 3)
        for row in time_peephole_variants(preset, repeats, args.threads, SMOKE if args.smoke else None):
            rows.append(row)
            shape = f"{row['batch']}×{row['frames']}×3×{row['size']}² → {row['hidden']}"
            ratio = f"{row['ratio_to_peer']:.2f}" if "ratio_to_peer" in row else "-"
            print(f"{row['model']:<40}{preset:>7}{shape:>24}{row['median_s']:>10.3f}{row['clips_per_s']:>9.1f}{ratio:>8}")
    print("# targets (issue 2, small preset, 2 threads): conventional ≤ 1.00× peer, Enhanced ≤ 1.15× peer")
    save_json(args.json, rows)


if __name__ == "__main__":
    main()
