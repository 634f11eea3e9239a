"""Linear floors: what a linear classifier learns from the same face crops, so a
reader sees at once whether the network beats it.

Two classifiers (multinomial logistic regression, scikit-learn, standardised features):

- static: one grey face crop (each standardised: zero mean, unit std, so brightness and
  skin tone do not count) -> expression, per frame; per video, the frames'
  log-probabilities summed;
- temporal: one vector per video from frame differences over time
  (``temporal_features``): where and how much the face changed from its first frames,
  the largest rise and fall per pixel, and the time course of the change.

``static_vs_temporal_check`` of the synthetic set fits them on ground-truth-aligned crops
of the raw videos; ``linear_floors`` fits them on fervid's own preprocessed crops (the
arrays of ``clips/arrays.py``), on a cross-validation fold's training videos, and tests
them on its held-out videos: the same subjects and the same crops the network sees.
It reads arrays only (numpy, OpenCV, scikit-learn), so both the data sets and the evaluation use it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ..labels import EXPRESSIONS

BASELINES_VERSION = 2  # bump when the floors' features or fitting change: saved floors are recomputed (2: scikit-learn, was Adam)
FLOOR_SIZE = 32  # grey crops are resized to this (the small preset's face size)
FLOOR_NAMES = {"static_video": "linear, static face crop (per video)", "temporal_video": "linear, temporal (frame differences)"}


def grey_crops(rgb: np.ndarray, size: int = FLOOR_SIZE) -> np.ndarray:
    """(N, S, S, 3) uint8 RGB face crops -> (N, size*size) float32, each standardised."""
    crops = []
    for frame in rgb:
        grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        if grey.shape[0] != size:
            grey = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)
        crops.append(standardised(grey))
    return np.stack(crops)


def standardised(grey: np.ndarray) -> np.ndarray:
    """A grey crop (S, S) -> (S*S,) float32 with zero mean and unit std, so brightness and
    skin tone do not count."""
    crop = grey.astype(np.float32).ravel()
    return (crop - crop.mean()) / (crop.std() + 1e-3)


def temporal_features(crops: np.ndarray, fps: float, size: int = 16) -> np.ndarray:
    """One vector per video from frame differences over time, crops (n, D) standardised:

    - three images pooled to size x size: the mean change from the first (neutral)
      frames, and per pixel the largest rise and the largest fall over 0.15 s;
    - the time course of the movement along the mean change (rise time from 20% to 80%,
      time to fall back below 50%, whether it did, fastest rise and fall), repeated so
      that five numbers are not drowned by hundreds of pixels."""
    n = len(crops)
    smooth = crops.copy()
    if n >= 3:
        smooth[1:-1] = (crops[:-2] + crops[1:-1] + crops[2:]) / 3
    change = smooth - smooth[:3].mean(0)  # (n, D) difference from neutral, per frame
    lag = max(1, min(n - 1, int(round(0.15 * fps))))
    step = smooth[lag:] - smooth[:-lag] if n > 1 else np.zeros_like(smooth)
    side = int(round(math.sqrt(crops.shape[1])))
    images = [cv2.resize(img.reshape(side, side), (size, size), interpolation=cv2.INTER_AREA).ravel()
              for img in (change.mean(0), step.max(0), step.min(0))]
    direction = change.mean(0)  # talking and blinks come and go; the expression is held
    p = change @ direction / max(float(np.linalg.norm(direction)), 1e-6)
    p = p / max(float(p.max()), 1e-6)  # progress along the change, 0 neutral .. 1 apex
    apex = int(np.argmax(p))
    below = np.nonzero(p[: apex + 1] < 0.2)[0]
    above = np.nonzero(p[: apex + 1] > 0.8)[0]
    rise = ((above[0] if len(above) else apex) - (below[-1] if len(below) else 0)) / fps
    after = np.nonzero(p[apex:] < 0.5)[0]
    fall = (after[0] if len(after) else n - apex) / fps
    dp = p[lag:] - p[:-lag] if n > 1 else np.zeros(1)
    timing = np.array([math.log(max(rise, 0.0) + 0.04), math.log(fall + 0.04), float(len(after) == 0),
                       dp.max(), -dp.min()], np.float32)
    return np.concatenate(images + [np.repeat(timing, 16)])


@dataclass
class LinearClassifier:
    """A fitted ``fit_softmax``: features standardised, then multinomial logistic regression."""

    scaler: StandardScaler
    regression: LogisticRegression  # or _OneClass
    classes: int


@dataclass
class _OneClass:
    """The regression of a training set with one class: that class, always."""

    classes_: np.ndarray

    def predict_log_proba(self, x: np.ndarray) -> np.ndarray:
        return np.zeros((len(x), 1))


def fit_softmax(x: np.ndarray, y: np.ndarray, classes: int, l2: float = 1e-2) -> LinearClassifier:
    """Multinomial logistic regression (scikit-learn's, L-BFGS to convergence) on
    standardised features, minimising the mean cross-entropy + ``l2``/2·|W|²."""
    scaler = StandardScaler().fit(x)
    if len(np.unique(y)) < 2:  # one class in training: scikit-learn refuses; predict it always
        regression = _OneClass(np.unique(y))
        return LinearClassifier(scaler, regression, classes)
    regression = LogisticRegression(C=1.0 / (l2 * len(x)), max_iter=2000)
    with warnings.catch_warnings():  # a fold that has not converged in 2000 steps is still a floor
        warnings.simplefilter("ignore", ConvergenceWarning)
        regression.fit(scaler.transform(x), y)
    return LinearClassifier(scaler, regression, classes)


def log_prob(model: LinearClassifier, x: np.ndarray) -> np.ndarray:
    """(n, classes) log-probabilities; a class absent from the training labels gets -1e9."""
    out = np.full((len(x), model.classes), -1e9)
    out[:, model.regression.classes_] = model.regression.predict_log_proba(model.scaler.transform(x))
    return out


def linear_floors(train: Sequence[tuple[np.ndarray, float, int]], test: Sequence[tuple[np.ndarray, float, int]],
                  frame_step: int = 2) -> dict:
    """Fit both classifiers on ``train`` and test them on ``test``; each a sequence of
    (face crops (N, S, S, 3) uint8 RGB, fps, label index) per video. Every ``frame_step``-th frame trains the static classifier.
    Returns per-video accuracies ``static_video`` and ``temporal_video``, the static
    classifier's per-frame accuracy ``static_frame``, and the test videos' predictions."""
    if not train or not test:
        raise ValueError("linear floors need training and test videos")
    classes = len(EXPRESSIONS)
    train_crops = [grey_crops(rgb) for rgb, _, _ in train]
    test_crops = [grey_crops(rgb) for rgb, _, _ in test]
    y_train = np.array([label for _, _, label in train])
    y_test = np.array([label for _, _, label in test])
    x = np.concatenate([c[::frame_step] for c in train_crops])
    y = np.concatenate([np.full(len(c[::frame_step]), label) for c, label in zip(train_crops, y_train)])
    static = fit_softmax(x, y, classes)
    frame_hits, static_pred = [], []
    for crops, label in zip(test_crops, y_test):
        lp = log_prob(static, crops)
        frame_hits.append(np.mean(lp.argmax(1) == label))
        static_pred.append(int(lp.sum(0).argmax()))
    temporal_train = np.stack([temporal_features(c, fps) for c, (_, fps, _) in zip(train_crops, train)])
    temporal_test = np.stack([temporal_features(c, fps) for c, (_, fps, _) in zip(test_crops, test)])
    temporal_pred = log_prob(fit_softmax(temporal_train, y_train, classes), temporal_test).argmax(1)
    return {
        "static_frame": float(np.mean(frame_hits)),
        "static_video": float(np.mean(np.array(static_pred) == y_test)),
        "temporal_video": float(np.mean(temporal_pred == y_test)),
        "videos": int(len(y_test)),
        "static_predicted": static_pred,
        "temporal_predicted": [int(p) for p in temporal_pred],
    }
