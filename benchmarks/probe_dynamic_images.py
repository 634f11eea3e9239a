"""What the dynamic images hold, before any network reads them: the scale of each input
array of a preprocessed set, and a linear probe (``evaluation.baselines.fit_softmax``)
of each dynamic image on held-out subjects (the set's subject-group folds, as crossval),
per clip and per video (clip log-probabilities summed), at full size and block-averaged.

    python benchmarks/probe_dynamic_images.py data/synth-demo [--k 3] [--onset-clips | --top-motion 2]

The set must be preprocessed at the small preset (``fervid preprocess <manifest>
--cache <data>/cache``, or a run of ``fervid demo`` / ``benchmarks/floors.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import header

from fervid.clips.arrays import PreprocessSettings
from fervid.clips.cache import PreprocessCache
from fervid.datasets import fold_split, read_manifest, subject_groups
from fervid.evaluation.baselines import fit_softmax, log_prob
from fervid.labels import EXPRESSIONS
from fervid.models.fourstream import PRESETS

ARRAYS = ("flow_dynamic", "rgb_dynamic", "flow", "clip_starts")


def block_mean(images: np.ndarray, pool: int) -> np.ndarray:
    """(K, S, S, C) -> (K, S/pool, S/pool, C)."""
    k, s, _, c = images.shape
    return images.reshape(k, s // pool, pool, s // pool, pool, c).mean((2, 4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a folder with manifest.csv and cache/")
    parser.add_argument("--k", type=int, default=3, help="subject groups")
    parser.add_argument("--top-motion", type=int, default=0,
                        help="only each video's K clips with the most motion (mean |flow| over the clip's frames; no ground truth)")
    parser.add_argument("--onset-clips", action="store_true",
                        help="only the clips that overlap the expression's onset-to-apex (a synthetic set's manifest columns)")
    args = parser.parse_args()
    which = ", the clips over onset-to-apex only" if args.onset_clips else ""
    which += f", each video's {args.top_motion} clips with the most motion" if args.top_motion else ""
    print(header(f"dynamic images of {args.data}: scale and a linear probe on held-out subjects{which}", 1))
    data = Path(args.data)
    entries = read_manifest(data / "manifest.csv")
    cache = PreprocessCache(data / "cache", PreprocessSettings(face_size=PRESETS["small"].face_size))
    missing = [e for e in entries if not cache.has(e.path)]
    if missing:
        raise SystemExit(f"{len(missing)} videos of {data} not preprocessed at the small preset, e.g. {missing[0].path}")
    arrays = {str(e.path): cache.load(e.path, names=ARRAYS) for e in entries}
    for name in ARRAYS[:3]:
        values = np.concatenate([np.asarray(a[name], np.float32).ravel() for a in arrays.values()])
        print(f"{name:<13} std {values.std():.4f}, mean |v| {np.abs(values).mean():.4f}, "
              f"share |v| < 0.01 {np.mean(np.abs(values) < 0.01):.2f}, max |v| {np.abs(values).max():.3f}")
    groups = subject_groups([e.subject for e in entries], args.k)
    for name in ("flow_dynamic", "rgb_dynamic"):
        for pool in (1, 4):
            scores = []
            for fold in range(args.k):
                train, test = fold_split(entries, args.k, fold, groups)

                def clips_of(videos):
                    x, y, v = [], [], []
                    for i, e in enumerate(videos):
                        images = block_mean(np.asarray(arrays[str(e.path)][name], np.float32), pool)
                        if args.top_motion:
                            flow, starts = np.asarray(arrays[str(e.path)]["flow"], np.float32), np.asarray(arrays[str(e.path)]["clip_starts"])
                            motion = np.array([np.abs(flow[st : st + 16]).mean() for st in starts])
                            images = images[np.sort(np.argsort(-motion)[: args.top_motion])]
                        if args.onset_clips:
                            onset, apex = int(e.extra["onset"]), int(e.extra["apex"])
                            starts = np.asarray(arrays[str(e.path)]["clip_starts"])
                            images = images[(starts <= apex) & (starts + 16 > onset)]
                            if not len(images):
                                continue
                        x.append(images.reshape(len(images), -1))
                        y += [EXPRESSIONS.index(e.label)] * len(images)
                        v += [i] * len(images)
                    return np.concatenate(x), np.array(y), np.array(v)

                x, y, _ = clips_of(train)
                x_test, y_test, v_test = clips_of(test)
                lp = log_prob(fit_softmax(x, y, len(EXPRESSIONS)), x_test)
                video = [lp[v_test == v].sum(0).argmax() == y_test[v_test == v][0] for v in np.unique(v_test)]
                scores.append((np.mean(lp.argmax(1) == y_test), np.mean(video)))
            clip, video = 100 * np.mean(scores, 0)
            print(f"linear probe, {name}, block mean {pool}x{pool}: held-out clips {clip:.1f}%, videos {video:.1f}% "
                  f"(chance {100 / len(EXPRESSIONS):.1f}%)")


if __name__ == "__main__":
    main()
