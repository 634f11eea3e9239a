"""What prediction gives: per clip (frames, seconds, face share, probabilities) and per
video (the mean of the clips with a face). A clip whose frames were mostly (over half)
without a trustworthy face, or that starts before the first face was found, gets no
prediction (``label`` "no face", ``probs`` None) rather than a guess."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..labels import EXPRESSIONS

NO_FACE = "no face"
MAX_LOST_SHARE = 0.5  # a clip with more lost frames than this gets no prediction


@dataclass
class ClipPrediction:
    index: int
    start_frame: int
    end_frame: int  # inclusive
    start_s: float
    end_s: float
    face_share: float  # share of the clip's frames with a trustworthy face
    probs: np.ndarray | None  # (6,), None for "no face"

    @property
    def label(self) -> str:
        return NO_FACE if self.probs is None else EXPRESSIONS[int(np.argmax(self.probs))]

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "face_share": round(self.face_share, 4),
            "label": self.label,
            "probs": None if self.probs is None else {k: round(float(p), 6) for k, p in zip(EXPRESSIONS, self.probs)},
        }


@dataclass
class VideoPrediction:
    video: str
    fps: float
    frames: int
    clips: list[ClipPrediction] = field(default_factory=list)
    model: str = ""  # the weights that made it
    precision: str = ""  # float32 or bfloat16 (resolved)

    @property
    def probs(self) -> np.ndarray | None:
        """Mean probabilities of the clips with a face; None if there are none."""
        with_face = [c.probs for c in self.clips if c.probs is not None]
        return np.mean(with_face, 0) if with_face else None

    @property
    def label(self) -> str:
        probs = self.probs
        return NO_FACE if probs is None else EXPRESSIONS[int(np.argmax(probs))]

    def to_dict(self) -> dict:
        probs = self.probs
        return {
            "video": self.video,
            "model": self.model,
            "precision": self.precision,
            "fps": self.fps,
            "frames": self.frames,
            "label": self.label,
            "probs": None if probs is None else {k: round(float(p), 6) for k, p in zip(EXPRESSIONS, probs)},
            "clips": [c.to_dict() for c in self.clips],
        }


def clip_prediction(index, start, clip_len, n_frames, fps, face_share, probs) -> ClipPrediction:
    end = min(start + clip_len, n_frames) - 1  # a padded clip of a short video ends at its last real frame
    return ClipPrediction(index, start, end, start / fps, (end + 1) / fps, face_share, probs)


def has_face(lost: np.ndarray, start: int, first_face: int | None) -> bool:
    return first_face is not None and start >= first_face and lost.mean() <= MAX_LOST_SHARE
