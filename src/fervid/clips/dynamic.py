"""Dynamic images of a clip (Bilen et al., CVPR 2016): approximate rank pooling.

    d = Σ_t α_t x_t,  α_t = 2(T - t + 1) - (T + 1)(H_T - H_{t-1}),  H_t = Σ_{i≤t} 1/i

The α_t sum to zero, so what does not change over the clip cancels and the image
shows motion. Normalisation (one fixed rule, no per-clip min-max, so motion
magnitude survives): for frames in [-1, 1], |d| ≤ Σ|α_t|, so d / Σ|α_t| lies in
[-1, 1]. The paper's prose describes a plain sum of the frames; ``method="mean"``
gives the temporal mean (in the frames' own range).
"""

from __future__ import annotations

import numpy as np

DYNAMIC_METHODS = ("rank", "mean")


def rank_pool_weights(length: int) -> np.ndarray:
    """α_1..α_T of approximate rank pooling, float64 (T,)."""
    t = np.arange(1, length + 1)
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / t)])  # H_0 .. H_T
    return 2.0 * (length - t + 1) - (length + 1) * (harmonic[length] - harmonic[t - 1])


def dynamic_image(frames: np.ndarray, method: str = "rank") -> np.ndarray:
    """(T, H, W, C) frames in [-1, 1] (any float or int dtype is cast first) -> (H, W, C) float32 in [-1, 1]."""
    frames = np.asarray(frames, dtype=np.float32)  # cast before weighting: uint8 would overflow
    if method == "mean":
        return frames.mean(0)
    if method != "rank":
        raise ValueError(f"dynamic image method must be one of {DYNAMIC_METHODS}, got {method!r}")
    weights = rank_pool_weights(len(frames))
    norm = np.abs(weights).sum()
    if norm == 0:  # a one-frame clip shows no motion
        return np.zeros(frames.shape[1:], np.float32)
    return (np.tensordot((weights / norm).astype(np.float32), frames, axes=1)).astype(np.float32)
