"""Forward+backward time of 4-layer ConvLSTM stacks: fervid's conventional and Enhanced
cells against the peer, PyPI ``conv-lstm`` (fused gate convolution, no peepholes).

Same input channels, hidden channels, kernels (5, 5, 3, 3), batch, frames and image
size; the loss reads the top layer's last hidden state. Models are timed
interleaved, repeat by repeat, so machine noise hits all of them alike; the
ratios are medians of per-repeat ratios.

    pip install conv-lstm
    python benchmarks/bench_convlstm.py [--preset small|paper|all] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch
from common import header, save_json, time_call

from fervid.models.convlstm import ConvLSTM, ConvLSTMConfig

# name: (batch, frames, input channels, image size, hidden channels); the small row is the
# small preset, the paper row its 112×112 faces at the batch DESIGN.md measured the peer with.
SETTINGS = {
    "small": (8, 16, 3, 32, 16),
    "paper": (4, 16, 3, 112, 32),
}
KERNELS = (5, 5, 3, 3)  # paper, section 3.1


def peer_stack(in_channels: int, hidden: int) -> torch.nn.Module | None:
    """The peer's 4-layer stack (fused gate convolution, no peepholes), or None if not installed."""
    try:
        from conv_lstm import ConvLSTM as PeerConvLSTM
    except ImportError:
        print("# peer missing: `pip install conv-lstm` to compare against it", file=sys.stderr)
        return None
    return PeerConvLSTM(in_channels, [hidden] * 4, list(KERNELS), 4, True, True, False)


def build_models(in_channels: int, size: int, hidden: int) -> dict[str, torch.nn.Module]:
    models = {}
    peer = peer_stack(in_channels, hidden)
    if peer is not None:
        models["peer conv-lstm"] = peer
    for cell in ("conventional", "enhanced"):
        for peephole in ("position", "none"):
            config = ConvLSTMConfig(cell=cell, hidden_channels=(hidden,) * 4, kernel_sizes=KERNELS, peephole=peephole)
            models[f"fervid {cell}, peephole={peephole}"] = ConvLSTM(in_channels, (size, size), config)
    return models


def step(model: torch.nn.Module, clip: torch.Tensor, target: torch.Tensor) -> None:
    out = model(clip)
    last = out[0][0][:, -1] if isinstance(out[0], list) else out[0][:, -1]  # the peer returns lists
    (last * target).sum().backward()
    model.zero_grad(set_to_none=True)


def run(preset: str, repeats: int, threads: int) -> list[dict]:
    batch, frames, channels, size, hidden = SETTINGS[preset]
    torch.manual_seed(0)
    clip = torch.randn(batch, frames, channels, size, size)
    target = torch.randn(batch, hidden, size, size)
    models = build_models(channels, size, hidden)
    for model in models.values():  # warm-up: oneDNN primitive creation, allocator
        step(model, clip, target)
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            times[name] += time_call(lambda: step(model, clip, target), 1)
    peer = times.get("peer conv-lstm")
    rows = []
    for name, ts in times.items():
        row = {
            "model": name,
            "preset": preset,
            "batch": batch,
            "frames": frames,
            "size": size,
            "hidden": hidden,
            "threads": threads,
            "median_s": statistics.median(ts),
            "min_s": min(ts),
            "clips_per_s": batch / statistics.median(ts),
        }
        if peer:
            row["ratio_to_peer"] = statistics.median([t / p for t, p in zip(ts, peer)])
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=[*SETTINGS, "all"], default="small")
    parser.add_argument("--repeats", type=int, default=None, help="default 9 (small), 3 (paper)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(header("ConvLSTM stacks, 4 layers, kernels 5,5,3,3: forward + backward", args.threads))
    print(f"{'model':<40}{'preset':>7}{'B×T×C×H×W → hidden':>24}{'median s':>10}{'clips/s':>9}{'× peer':>8}")
    rows = []
    for preset in SETTINGS if args.preset == "all" else [args.preset]:
        repeats = args.repeats or (9 if preset == "small" else 3)
        for row in run(preset, repeats, args.threads):
            rows.append(row)
            shape = f"{row['batch']}×{row['frames']}×3×{row['size']}² → {row['hidden']}"
            ratio = f"{row['ratio_to_peer']:.2f}" if "ratio_to_peer" in row else "-"
            print(f"{row['model']:<40}{preset:>7}{shape:>24}{row['median_s']:>10.3f}{row['clips_per_s']:>9.1f}{ratio:>8}")
    print("# targets (issue 2, small preset, 2 threads): conventional ≤ 1.00× peer, Enhanced ≤ 1.15× peer")
    save_json(args.json, rows)


if __name__ == "__main__":
    main()
