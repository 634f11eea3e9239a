"""Several faces in one video, each followed with a stable id: ``FaceTracks.push(frame)
-> {face id: FrameResult}``.

Detection runs once per frame. Each detection is matched to at most one existing track
by an optimal assignment (``scipy.optimize.linear_sum_assignment``) on a cost of box
overlap and keypoint distance against the track's last detection; a pair too far apart
is no match. Every track keeps a ``FramePipeline`` of its own (fed the detection assigned
to it, or none), so each face gets exactly the one-face front end: its own smoothing,
its own gap bridging (a face missing for up to ``AlignSettings.max_gap`` frames keeps
its id and its last crop; one gone longer ends its track) and its own flow against its
previous crop. Unmatched detections start new tracks, largest face first, while fewer
than ``max_faces`` are open (a newcomer does not displace an open track: it waits until
one ends); faces narrower than ``min_face_px`` are ignored.

The one-face path (``FramePipeline`` alone, training, the data set layouts, ``fervid
predict`` without ``--max-faces``) does not go through here and is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment

from .faces import BlazeFace, Detection, box_iou
from .pipeline import FramePipeline, FrameResult

if TYPE_CHECKING:  # annotations only: the settings are made downstream, where the whole preprocessing is
    from ..clips.arrays import PreprocessSettings

NO_MATCH = 1e6  # the cost of a pair that may not be matched


@dataclass(frozen=True)
class TrackSettings:
    max_faces: int = 4  # faces followed at once; more are ignored, the largest kept
    min_face_px: float = 24.0  # detections narrower than this (frame pixels) are ignored
    min_iou: float = 0.2  # a detection continues a track if its box overlaps the track's last this much...
    max_keypoint_shift: float = 0.6  # ... or its keypoints moved less than this many face widths on average

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")


@dataclass
class FaceTrack:
    """One face's track: its id, its own front end, and where it was last seen."""

    id: int
    first_frame: int
    pipeline: FramePipeline
    last: Detection  # the last detection assigned to it
    last_detected_frame: int
    frames: int = 0  # frames this track has produced (bridged ones included)


@dataclass
class FaceTracks:
    """Frame by frame: ``push(frame_bgr) -> {face id: FrameResult}`` for every open track
    (in id order); ``ended`` lists the tracks closed so far, ``opened`` is set per frame."""

    settings: PreprocessSettings
    detector: BlazeFace
    track_settings: TrackSettings = field(default_factory=TrackSettings)
    frame: int = 0  # frames pushed so far
    open: dict[int, FaceTrack] = field(default_factory=dict)
    ended: list[FaceTrack] = field(default_factory=list)
    next_id: int = 0

    def push(self, frame: np.ndarray) -> dict[int, FrameResult]:
        return self.push_detections(frame, self.detector.detect(frame))

    def push_detections(self, frame: np.ndarray, detections: list[Detection]) -> dict[int, FrameResult]:
        """The same with the frame's detections found elsewhere."""
        ts = self.track_settings
        eligible = [d for d in detections if d.box[2] - d.box[0] >= ts.min_face_px]
        matched = self._assign(eligible)  # track id -> detection index
        results: dict[int, FrameResult] = {}
        for track_id, track in list(self.open.items()):
            index = matched.get(track_id)
            detection = eligible[index] if index is not None else None
            result = track.pipeline.complete(track.pipeline.stage(frame, [detection] if detection is not None else []))
            if result.lost:  # gone longer than the gap: the track ends before this frame
                self.ended.append(self.open.pop(track_id))
                continue
            if detection is not None:
                track.last, track.last_detected_frame = detection, self.frame
            track.frames += 1
            results[track_id] = result
        used = set(matched.values())
        newcomers = sorted((i for i in range(len(eligible)) if i not in used), key=lambda i: -(eligible[i].box[2] - eligible[i].box[0]))
        for index in newcomers:
            if len(self.open) >= ts.max_faces:
                break
            track = FaceTrack(self.next_id, self.frame, FramePipeline(self.settings, self.detector), eligible[index], self.frame)
            self.next_id += 1
            results[track.id] = track.pipeline.complete(track.pipeline.stage(frame, [eligible[index]]))
            track.frames += 1
            self.open[track.id] = track
        self.frame += 1
        return dict(sorted(results.items()))

    def close(self) -> list[FaceTrack]:
        """End every open track (the source ended); returns all tracks, in id order."""
        self.ended += self.open.values()
        self.open = {}
        return sorted(self.ended, key=lambda t: t.id)

    def _assign(self, detections: list[Detection]) -> dict[int, int]:
        """Open track id -> index of its detection, by minimum total cost."""
        if not self.open or not detections:
            return {}
        ts = self.track_settings
        ids = list(self.open)
        cost = np.full((len(ids), len(detections)), NO_MATCH)
        boxes = np.stack([d.box for d in detections])
        for row, track_id in enumerate(ids):
            last = self.open[track_id].last
            width = max(float(last.box[2] - last.box[0]), 1.0)
            overlap = box_iou(last.box, boxes)
            for col, d in enumerate(detections):
                shift = float(np.linalg.norm(d.keypoints - last.keypoints, axis=1).mean()) / width
                if overlap[col] >= ts.min_iou or shift <= ts.max_keypoint_shift:
                    cost[row, col] = (1.0 - overlap[col]) + shift
        rows, cols = linear_sum_assignment(cost)
        return {ids[r]: int(c) for r, c in zip(rows, cols) if cost[r, c] < NO_MATCH}
