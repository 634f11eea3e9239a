"""Linear read-outs of a preprocessed set, fold by fold over its subject groups, without
training a network: the linear floors a cross-validation report puts beside the network,
and a linear probe of each dynamic image (what the images hold before any network reads
them), with the scale of each input array."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..clips.arrays import PreprocessSettings
from ..clips.cache import PreprocessCache, preprocess
from ..datasets import VideoEntry, fold_split, read_manifest, subject_groups
from ..evaluation.baselines import fit_softmax, linear_floors, log_prob
from ..labels import EXPRESSIONS
from ..models.fourstream import PRESETS
from ..training.crossval import floor_videos

DYNAMIC_ARRAYS = ("flow_dynamic", "rgb_dynamic", "flow", "clip_starts")


def set_floors(data: Path, k: int, workers: int):
    """The set's videos preprocessed at the small preset (cached in <data>/cache, as
    ``fervid crossval`` does), then per fold ``linear_floors`` of its training and held-out
    videos (``crossval.floor_videos``) and the seconds the fold took."""
    entries = read_manifest(data / "manifest.csv")
    settings = PreprocessSettings(face_size=PRESETS["small"].face_size)
    report = preprocess([e.path for e in entries], data / "cache", settings, workers=workers, progress=False)
    entries = [e for e in entries if str(e.path) not in {str(Path(p)) for p in report.failed}]
    cache = PreprocessCache(data / "cache", settings)
    groups = subject_groups([e.subject for e in entries], k)
    for fold in range(k):
        start = time.perf_counter()
        train, test = fold_split(entries, k, fold, groups)
        result = linear_floors(floor_videos(train, cache), floor_videos(test, cache))
        yield result, time.perf_counter() - start


def block_mean(images: np.ndarray, pool: int) -> np.ndarray:
    """(K, S, S, C) -> (K, S/pool, S/pool, C)."""
    k, s, _, c = images.shape
    return images.reshape(k, s // pool, pool, s // pool, pool, c).mean((2, 4))


def dynamic_arrays(data: Path) -> tuple[list[VideoEntry], dict[str, dict]]:
    """The set's entries and each video's ``DYNAMIC_ARRAYS`` from its small-preset cache;
    ValueError if a video is not preprocessed."""
    entries = read_manifest(data / "manifest.csv")
    cache = PreprocessCache(data / "cache", PreprocessSettings(face_size=PRESETS["small"].face_size))
    missing = [e for e in entries if not cache.has(e.path)]
    if missing:
        raise ValueError(f"{len(missing)} videos of {data} not preprocessed at the small preset, e.g. {missing[0].path}")
    return entries, {str(e.path): cache.load(e.path, names=DYNAMIC_ARRAYS) for e in entries}


def array_scale(arrays: dict[str, dict], name: str) -> dict:
    """Std, mean |v|, share |v| < 0.01 and max |v| of one array over every video."""
    values = np.concatenate([np.asarray(a[name], np.float32).ravel() for a in arrays.values()])
    return {"std": float(values.std()), "mean_abs": float(np.abs(values).mean()),
            "near_zero": float(np.mean(np.abs(values) < 0.01)), "max_abs": float(np.abs(values).max())}


def probe_dynamic(entries: list[VideoEntry], arrays: dict[str, dict], name: str, pool: int, k: int,
                  top_motion: int = 0, onset_clips: bool = False) -> tuple[float, float]:
    """A linear probe of the dynamic image ``name`` (block-averaged ``pool``×``pool``) on
    each fold's held-out subjects: mean clip and video accuracy (clip log-probabilities
    summed). ``top_motion``: only each video's K clips with the most motion (mean |flow|);
    ``onset_clips``: only the clips over onset-to-apex (a synthetic set's manifest)."""
    groups = subject_groups([e.subject for e in entries], k)

    def clips_of(videos):
        x, y, v = [], [], []
        for i, e in enumerate(videos):
            video = arrays[str(e.path)]
            images = block_mean(np.asarray(video[name], np.float32), pool)
            if top_motion:
                flow, starts = np.asarray(video["flow"], np.float32), np.asarray(video["clip_starts"])
                motion = np.array([np.abs(flow[st : st + 16]).mean() for st in starts])
                images = images[np.sort(np.argsort(-motion)[:top_motion])]
            if onset_clips:
                onset, apex = int(e.extra["onset"]), int(e.extra["apex"])
                starts = np.asarray(video["clip_starts"])
                images = images[(starts <= apex) & (starts + 16 > onset)]
                if not len(images):
                    continue
            x.append(images.reshape(len(images), -1))
            y += [EXPRESSIONS.index(e.label)] * len(images)
            v += [i] * len(images)
        return np.concatenate(x), np.array(y), np.array(v)

    scores = []
    for fold in range(k):
        train, test = fold_split(entries, k, fold, groups)
        x, y, _ = clips_of(train)
        x_test, y_test, v_test = clips_of(test)
        lp = log_prob(fit_softmax(x, y, len(EXPRESSIONS)), x_test)
        video = [lp[v_test == v].sum(0).argmax() == y_test[v_test == v][0] for v in np.unique(v_test)]
        scores.append((np.mean(lp.argmax(1) == y_test), np.mean(video)))
    clip, video = np.mean(scores, 0)
    return float(clip), float(video)
