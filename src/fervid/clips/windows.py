"""16-frame clips, consecutive clips overlapping by 8 frames (paper, section 4): the one
home of the clip rules that preprocessing (whole videos) and streaming (frame by frame)
both follow.

- A clip starts every ``stride`` frames and is complete when its ``length``-th frame
  arrives (``clip_ending_at``); frames after the last full clip are not used, as in the
  paper's split.
- A video shorter than one clip is not dropped: its last frame is repeated up to the
  clip length, with zero flow, as identical crops have (``ClipWindow.padding_frame``).
- What is stored per frame: RGB crops as uint8, flow and dynamic images as float16
  (``STORED_FLOAT``); the model reads RGB scaled to [-1, 1] (``rgb_to_unit``).
"""

from __future__ import annotations

from collections import deque

import numpy as np

CLIP_LEN = 16  # frames per clip (paper)
CLIP_STRIDE = 8  # 16-frame clips overlapping by 8 (paper)
STORED_FLOAT = np.float16  # flow and dynamic images as preprocessing stores them, and so as the model reads them


def rgb_to_unit(rgb: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1], the model's RGB input range."""
    return rgb.astype(np.float32) / 127.5 - 1.0


def clip_ending_at(frame: int, length: int = CLIP_LEN, stride: int = CLIP_STRIDE) -> int | None:
    """The first frame of the clip whose last frame is ``frame``, or None if no clip ends there."""
    start = frame + 1 - length
    return start if start >= 0 and start % stride == 0 else None


def clip_starts(n_frames: int, length: int = CLIP_LEN, stride: int = CLIP_STRIDE) -> list[int]:
    """First frame of each clip of a video of ``n_frames`` frames; one clip (start 0) for a
    video shorter than ``length`` (padded)."""
    if n_frames <= 0:
        return []
    ends = range(max(n_frames, length))
    return [start for frame in ends if (start := clip_ending_at(frame, length, stride)) is not None]


def padded_clip(frames: np.ndarray, length: int = CLIP_LEN) -> np.ndarray:
    """A clip's frames (T, ...) with a short video's last frame repeated up to ``length``,
    as ``ClipWindow.padding_frame`` pads (for per-frame arrays other than the crops and
    flow, e.g. the linear floors' grey crops)."""
    if len(frames) >= length:
        return frames
    return np.concatenate([frames, np.repeat(frames[-1:], length - len(frames), 0)])


class ClipWindow:
    """The last ``length`` frames (an RGB crop and its flow each), pushed one at a time:
    ``push`` says when a clip is complete, ``frames()`` gives the window's frames, and a
    source shorter than a clip is padded with ``padding_frame`` until ``needs_padding`` is
    false. Preprocessing and streaming both cut their clips with it."""

    def __init__(self, length: int = CLIP_LEN, stride: int = CLIP_STRIDE) -> None:
        self.length, self.stride = length, stride
        self.rgb: deque[np.ndarray] = deque(maxlen=length)  # (S, S, 3) uint8 per frame
        self.flow: deque[np.ndarray] = deque(maxlen=length)  # (S, S, 2) float per frame
        self.pushed = 0  # frames pushed so far, padding included

    def push(self, rgb: np.ndarray, flow: np.ndarray) -> int | None:
        """Add one frame; returns the start of the clip it completes, or None."""
        self.rgb.append(rgb)
        self.flow.append(flow)
        self.pushed += 1
        return clip_ending_at(self.pushed - 1, self.length, self.stride)

    def opens_clip(self, frame: int) -> bool:
        """Whether a clip starts at frame ``frame``."""
        return frame % self.stride == 0

    def frames(self, last: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The window's (or its ``last`` n) frames: (T, S, S, 3) RGB and (T, S, S, 2) flow."""
        last = len(self.rgb) if last is None else last
        return np.stack(list(self.rgb)[-last:]), np.stack(list(self.flow)[-last:])

    @property
    def needs_padding(self) -> bool:
        """A source that ended before its first clip was complete."""
        return 0 < self.pushed < self.length

    def padding_frame(self) -> tuple[np.ndarray, np.ndarray]:
        """The frame that pads a short source: its last crop again, not moving."""
        return self.rgb[-1], np.zeros_like(self.flow[-1])
