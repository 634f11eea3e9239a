"""16-frame clips, consecutive clips overlapping by 8 frames (paper, section 4).

A video shorter than one clip is not dropped: its last frame is repeated up to
the clip length (the repeated frames carry zero flow, as identical crops do).
Frames after the last full clip are not used, as in the paper's split.
"""

from __future__ import annotations

import numpy as np

CLIP_LEN = 16  # frames per clip (paper)
CLIP_STRIDE = 8  # 16-frame clips overlapping by 8 (paper)


def clip_starts(n_frames: int, length: int = CLIP_LEN, stride: int = CLIP_STRIDE) -> list[int]:
    """First frame of each clip; one clip (start 0) for a video shorter than ``length``."""
    if n_frames <= 0:
        return []
    if n_frames < length:
        return [0]
    return list(range(0, n_frames - length + 1, stride))


def pad_to_length(frames: np.ndarray, length: int = CLIP_LEN, repeat_last: bool = True) -> np.ndarray:
    """(N, ...) -> (max(N, length), ...): the last frame repeated (RGB), or zeros (flow:
    a repeated frame does not move)."""
    if len(frames) >= length:
        return frames
    shape = (length - len(frames), *frames.shape[1:])
    pad = np.broadcast_to(frames[-1:], shape) if repeat_last else np.zeros(shape, frames.dtype)
    return np.concatenate([frames, pad])
