"""The evidence run of issue 27: does fervid give the paper's orderings on data it was not
tuned on? Draws a synthetic set from a seed given here (36 subjects x 1 take, difficulty
0.5 by default), preprocesses it, and cross-validates the chosen configurations on every
fold (3 subject groups) under a named training recipe; ``report.md`` in the run folder is
the table: video accuracy per fold and mean ± SD for each configuration beside both linear
floors, McNemar for (b)/(c) and (c)/(e), clip accuracy (the paper's measure).

Rerunning the same command resumes: the set and its preprocessing are reused (refused if
drawn with other settings), finished folds are read back and an interrupted fold resumes
from its last epoch, so the run can span sessions. Configurations can be added later
(``--configs c,e`` now, ``--configs b,c,e`` next time), and ``--folds`` runs a part.

Seeds: the tuning sets are seeds 1 and 7 (docs/stream-learning, docs/experiments.md), the
main job's is 0; report with any other (docs/experiments.md, "Evidence beyond the tuning
set", names the one reported).

    # the default (fervid) recipe, staged: (c) 16 epochs, then (c) and (e) 8 more from it
    python benchmarks/evidence.py --seed 31 --configs c,e -o runs/evidence-s31-staged
    # the fervid recipe as it was before staging (one stage of 16 epochs)
    python benchmarks/evidence.py --seed 31 --configs b,c,e --stage-epochs 0 --epochs 16 -o runs/evidence-s31-fervid
    python benchmarks/evidence.py --seed 31 --configs c --recipe paper -o runs/evidence-s31-paper
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

from fervid.diagnostics.machine import header
from fervid.diagnostics.runs import TUNING_SEEDS, drawn_set
from fervid.training.crossval import crossval
from fervid.training.recipes import RECIPES


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, required=True, help="the synthetic set's seed (not a tuning seed: %s)" % (TUNING_SEEDS,))
    parser.add_argument("--configs", default="b,c,e", help="configurations, e.g. c,e")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="fervid")
    parser.add_argument("--epochs", type=int, help="the recipe's epochs, changed (with --stage-epochs: the second stage's)")
    parser.add_argument("--stage-epochs", type=int,
                        help="the recipe's staged training changed: this many epochs of the ConvLSTM streams alone first "
                             "(TrainConfig.stage_epochs; 0: one stage)")
    parser.add_argument("--training-seed", type=int, default=0)
    parser.add_argument("--subjects", type=int, default=36)
    parser.add_argument("--difficulty", type=float, default=0.5)
    parser.add_argument("--k", type=int, default=3, help="subject groups")
    parser.add_argument("--folds", default="", help="a part of the folds, e.g. 0 (default: all)")
    parser.add_argument("--data", help="the set's folder (default: data/evidence-s<seed>)")
    parser.add_argument("-o", "--out", required=True, help="run folder")
    parser.add_argument("--no-fuse-gates", action="store_true", help="leave the ConvLSTM gate arithmetic unfused (same results to rounding, slower)")
    parser.add_argument("--workers", type=int, default=2, help="preprocessing processes")
    args = parser.parse_args()
    if args.seed in TUNING_SEEDS:
        raise SystemExit(f"seed {args.seed} is a tuning seed {TUNING_SEEDS}: evidence is drawn from another")

    print(header(f"evidence run: seed {args.seed}, configurations {args.configs}, recipe {args.recipe}", torch.get_num_threads()))
    start = time.perf_counter()
    data = Path(args.data or f"data/evidence-s{args.seed}")
    manifest = drawn_set(data, args.seed, args.subjects, args.difficulty)
    recipe = RECIPES[args.recipe]
    config = dataclasses.replace(recipe, seed=args.training_seed, fuse_gates=not args.no_fuse_gates,
                                 stage_epochs=recipe.stage_epochs if args.stage_epochs is None else args.stage_epochs,
                                 epochs=recipe.epochs if args.epochs is None else args.epochs)
    folds = [int(f) for f in args.folds.split(",")] if args.folds else None
    summary = crossval(manifest, args.out, preset="small", ablations=tuple(args.configs.split(",")), k=args.k, folds=folds,
                       train_config=config, cache_root=data / "cache", workers=args.workers)
    print((Path(args.out) / "report.md").read_text())
    print(f"evidence run: {(time.perf_counter() - start) / 60:.1f} min; report {Path(args.out) / 'report.md'}")
    return 1 if summary["excluded_videos"] else 0


if __name__ == "__main__":
    sys.exit(main())
