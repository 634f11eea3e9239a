"""What prediction gives: per clip (frames, seconds, face share, probabilities) and per
video (the mean of the clips with a face). A clip whose frames were mostly (over half)
without a trustworthy face, or that starts before the first face was found, gets no
prediction (``label`` "no face", ``probs`` None) rather than a guess. With several faces
(``fervid predict --max-faces``), a ``FacePrediction`` per face track, and the video's
own fields describe the main face (the longest track)."""

from __future__ import annotations

import dataclasses
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


def mean_probs(clips: list[ClipPrediction]) -> np.ndarray | None:
    """Mean probabilities of the clips with a face; None if there are none."""
    with_face = [c.probs for c in clips if c.probs is not None]
    return np.mean(with_face, 0) if with_face else None


def _probs_dict(probs: np.ndarray | None) -> dict | None:
    return None if probs is None else {k: round(float(p), 6) for k, p in zip(EXPRESSIONS, probs)}


class _OverClips:
    """``probs`` and ``label`` of something made of ``clips`` (a video, a face)."""

    clips: list[ClipPrediction]

    @property
    def probs(self) -> np.ndarray | None:
        """Mean probabilities of the clips with a face; None if there are none."""
        return mean_probs(self.clips)

    @property
    def label(self) -> str:
        probs = self.probs
        return NO_FACE if probs is None else EXPRESSIONS[int(np.argmax(probs))]


@dataclass
class FacePrediction(_OverClips):
    """One face track of a video: its id, the frames it spans, its clips (frame numbers and
    times of the video) and, for drawing, its crop box per frame."""

    id: int
    first_frame: int
    last_frame: int  # inclusive
    clips: list[ClipPrediction] = field(default_factory=list)
    boxes: list[tuple] = field(default_factory=list, repr=False)  # per frame from first_frame; not written

    def to_dict(self) -> dict:
        return {"id": self.id, "first_frame": self.first_frame, "last_frame": self.last_frame, "label": self.label,
                "probs": _probs_dict(self.probs), "clips": [c.to_dict() for c in self.clips]}


@dataclass
class VideoPrediction(_OverClips):
    video: str
    fps: float
    frames: int
    clips: list[ClipPrediction] = field(default_factory=list)
    model: str = ""  # the weights that made it
    precision: str = ""  # float32 or bfloat16 (resolved)
    faces: list[FacePrediction] = field(default_factory=list)  # with --max-faces: every face; clips are the main face's

    def to_dict(self) -> dict:
        probs = self.probs
        return {
            "video": self.video,
            "model": self.model,
            "precision": self.precision,
            "fps": self.fps,
            "frames": self.frames,
            "label": self.label,
            "probs": _probs_dict(probs),
            "clips": [c.to_dict() for c in self.clips],
            **({"faces": [f.to_dict() for f in self.faces]} if self.faces else {}),  # one-face outputs as before
        }


def clip_prediction(index, start, clip_len, n_frames, fps, face_share, probs) -> ClipPrediction:
    end = min(start + clip_len, n_frames) - 1  # a padded clip of a short video ends at its last real frame
    return ClipPrediction(index, start, end, start / fps, (end + 1) / fps, face_share, probs)


def has_face(lost: np.ndarray, start: int, first_face: int | None) -> bool:
    return first_face is not None and start >= first_face and lost.mean() <= MAX_LOST_SHARE


def shifted(clip: ClipPrediction, frames: int, fps: float) -> ClipPrediction:
    """A face track's clip in the video's frame numbers and seconds: ``frames`` later."""
    start, end = clip.start_frame + frames, clip.end_frame + frames
    return dataclasses.replace(clip, start_frame=start, end_frame=end, start_s=start / fps, end_s=(end + 1) / fps)
