"""Purely temporal toy tasks: a face-like image in which one feature moves.

Every clip shows one subject's face-like image (a smooth random texture with a dark
"mouth" bar at a subject-specific place), and the bar moves by the same amount in
every clip. Two tasks, each with two classes that no single frame tells apart:

- ``"direction"``: the bar moves down or up, from a start drawn around the subject's
  place, so where the bar is in one frame says nothing of the class; the change does.
  The trivially easy one.
- ``"onset"``: the bar moves down quickly (over ~2 frames, at a random time) or slowly
  (over ~12 frames, from the start). Both end at the same apex; the class is in the
  speed of the change, which the stream must remember to the clip's end.

Subjects differ far more in appearance than the movement changes a frame, as faces do.

It is small enough to train on in seconds on a CPU (tensors made in memory, no video,
no face detector), so it answers one question: can a clip stream learn motion that
transfers to unseen subjects, when appearance is a nuisance? Used by
``benchmarks/diagnose_streams.py`` and by the learning test in ``tests/models/test_fourstream.py``.

    clips (N, T, 3, S, S) float32 in [-1, 1], labels (N,) int64 (the index in ``TASKS[task]``), subjects (N,) int64
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .synthetic.render import smoothstep

TASKS = {"direction": ("down", "up"), "onset": ("fast", "slow")}  # class names, in label order


def _appearance(rng: np.random.Generator, size: int) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A subject: a smooth random RGB texture (3, S, S) with std ~0.35 around a skin-like
    colour, and the mouth bar's centre row, centre column and half-width in pixels."""
    coarse = torch.from_numpy(rng.normal(0.0, 0.35, (1, 3, 4, 4)).astype(np.float32))
    texture = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0].numpy()
    base = rng.uniform(-0.3, 0.5, (3, 1, 1)).astype(np.float32)
    mouth = (rng.uniform(0.3, 0.7) * size, rng.uniform(0.4, 0.6) * size, rng.uniform(0.2, 0.3) * size)
    return texture + base, mouth


def onset_clips(subjects: int, clips_per_subject: int, size: int = 32, frames: int = 16, seed: int = 0,
                shift: float = 0.12, noise: float = 0.03, task: str = "onset") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``subjects`` × ``clips_per_subject`` clips of ``task`` (see the module docstring),
    half of each subject's in each class.

    ``shift``: how far the mouth moves down, as a fraction of the face; ``noise``: sensor
    noise std per pixel and frame. Deterministic in ``seed``."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {task!r}")
    if subjects < 1 or clips_per_subject < 2:
        raise ValueError(f"need at least 1 subject and 2 clips per subject, got {subjects} and {clips_per_subject}")
    rng = np.random.default_rng(seed)
    rows = np.arange(size, dtype=np.float32)[:, None]
    cols = np.arange(size, dtype=np.float32)[None, :]
    t = np.arange(frames, dtype=np.float32)
    clips, labels, owners = [], [], []
    for s in range(subjects):
        texture, (row0, col0, half_width) = _appearance(rng, size)
        darkness = rng.uniform(0.6, 1.0)
        for k in range(clips_per_subject):
            label = k % 2
            sign = 1.0
            start_row = row0
            if task == "direction":  # a whole movement within the clip, down (0) or up (1)
                sign = 1.0 if label == 0 else -1.0
                start_row = row0 + (rng.uniform(-0.5, 0.5) - 0.5 * sign) * shift * size  # centred on row0 on average
                start, duration = rng.uniform(1, frames * 0.4), rng.uniform(0.2 * frames, 0.5 * frames)
            elif label == 0:  # fast: over ~2 frames, starting anywhere in the first two thirds
                start, duration = rng.uniform(1, frames * 0.65), rng.uniform(1.5, 2.5)
            else:  # slow: over ~12 frames from the start
                start, duration = rng.uniform(0, 2), rng.uniform(0.7 * frames, 0.85 * frames)
            progress = smoothstep((t - start) / duration)  # (T,) 0 neutral .. 1 apex
            centre = start_row + sign * shift * size * progress  # (T,) the bar's row
            bar_rows = np.exp(-0.5 * ((rows[None] - centre[:, None, None]) / 1.2) ** 2)  # (T, S, 1)
            bar_cols = smoothstep((half_width - np.abs(cols - col0)) / 1.5)  # (1, S)
            bar = darkness * bar_rows * bar_cols  # (T, S, S)
            video = texture[None] * (1 - bar[:, None]) - bar[:, None] * 0.8  # (T, 3, S, S): dark bar over the face
            video = video + rng.uniform(-0.05, 0.05) + rng.normal(0.0, noise, video.shape)
            clips.append(np.clip(video, -1, 1).astype(np.float32))
            labels.append(label)
            owners.append(s)
    return torch.from_numpy(np.stack(clips)), torch.tensor(labels), torch.tensor(owners)
