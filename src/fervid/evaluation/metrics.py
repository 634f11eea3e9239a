"""Evaluation measures: clip level (the paper's), video level (the headline: clips of one
video are correlated), unweighted average recall, per-class recall, confusion matrix,
a bootstrap interval over videos, and McNemar's test between two configurations.

The counting is scikit-learn's and the statistics SciPy's (well kept, well tested);
this module only decides what is counted.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import confusion_matrix, recall_score

from ..labels import EXPRESSIONS

N_CLASSES = len(EXPRESSIONS)


def video_probabilities(clip_probs: np.ndarray, clip_videos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average clip probabilities per video: (C, K) probs and (C,) video ids ->
    (video ids sorted (V,), probs (V, K))."""
    videos = np.unique(clip_videos)
    probs = np.stack([clip_probs[clip_videos == v].mean(0) for v in videos])
    return videos, probs


def classification_summary(labels: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy (WAR), UAR, per-class recall and the confusion matrix (rows: true class)."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    classes = list(range(N_CLASSES))
    per_class = recall_score(labels, predicted, labels=classes, average=None, zero_division=np.nan)
    present = np.isin(classes, labels)
    return {
        "accuracy": float(np.mean(labels == predicted)) if len(labels) else float("nan"),
        "uar": float(np.nanmean(per_class[present])) if present.any() else float("nan"),
        "recall": {EXPRESSIONS[c]: (float(per_class[c]) if present[c] else None) for c in classes},
        "confusion": confusion_matrix(labels, predicted, labels=classes).tolist(),
        "n": int(len(labels)),
    }


def evaluate_predictions(clip_probs: np.ndarray, clip_labels: np.ndarray, clip_videos: np.ndarray) -> dict:
    """Clip-level and video-level summaries from per-clip probabilities."""
    videos, vprobs = video_probabilities(clip_probs, clip_videos)
    vlabels = np.array([clip_labels[clip_videos == v][0] for v in videos])
    return {
        "clip": classification_summary(clip_labels, clip_probs.argmax(1)),
        "video": classification_summary(vlabels, vprobs.argmax(1)),
    }


def bootstrap_interval(correct: np.ndarray, level: float = 0.95, resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the accuracy, resampling videos (one 0/1 each)."""
    correct = np.asarray(correct, dtype=float)
    if len(correct) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = rng.choice(correct, size=(resamples, len(correct)), replace=True).mean(1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """Exact McNemar test on paired per-video correctness: a binomial test on the
    discordant pairs. Returns the counts and the two-sided p-value."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"paired test needs the same videos: {a.shape} vs {b.shape}")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    p = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {"only_a": only_a, "only_b": only_b, "both": int(np.sum(a & b)), "neither": int(np.sum(~a & ~b)), "p_value": float(p)}
