"""The ``fervid`` command: parses arguments and calls the Python API, nothing else."""

from __future__ import annotations

import argparse
import sys

from .models.fourstream import ABLATIONS, PRESETS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fervid", description="Facial expression recognition from video (Enhanced ConvLSTM).")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="parameter counts and one training step on random clips")
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--ablation", choices=sorted(ABLATIONS), default="e", help="paper Table 2 configuration")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--seed", type=int, default=0)

    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import demo

        demo(preset=args.preset, ablation=args.ablation, batch=args.batch, out=args.out, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
