"""Synthetic scenes with several faces and ground truth, to measure face tracks: each face
its own subject (``draw_subject``) and expression (``render.py``'s action units over
time), on a path through the frame. The scenes hold the awkward cases of issue 29:
faces that cross (the nearer one drawn over the other), one that leaves and comes back
(before and after the tracker's gap), one partly out of frame, faces of very different
sizes, and four at once.

``render_scene`` returns, per face and frame, the face's box (None while out of view)
and its label, so that identity switches and coverage can be counted
(``evaluation/tracking.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...labels import EXPRESSIONS
from .render import (
    SyntheticRanges,
    _ellipse,
    _expression_track,
    _Knobs,
    _Pose,
    draw_subject,
    render_face,
)

FPS = 25.0


@dataclass(frozen=True)
class FacePath:
    """Where one face is: ``position(t) -> (cx, cy, half-width)`` in pixels, or None out of view."""

    label: str
    waypoints: tuple[tuple[float, float, float, float], ...]  # (frame, cx, cy, half-width), linearly interpolated
    gone: tuple[tuple[int, int], ...] = ()  # [start, end) frame ranges out of view

    def position(self, t: int) -> tuple[float, float, float] | None:
        if any(start <= t < end for start, end in self.gone):
            return None
        frames = [w[0] for w in self.waypoints]
        return tuple(float(np.interp(t, frames, [w[i] for w in self.waypoints])) for i in (1, 2, 3))


def scenes(width: int = 480, height: int = 270, n: int = 90) -> dict[str, list[FacePath]]:
    """The named scenes, each ``n`` frames of ``width``×``height``."""
    h, w, e = height, width, EXPRESSIONS
    return {
        "crossing": [FacePath(e[0], ((0, 0.2 * w, 0.5 * h, 42), (n, 0.8 * w, 0.5 * h, 42))),
                     FacePath(e[3], ((0, 0.8 * w, 0.45 * h, 34), (n, 0.2 * w, 0.45 * h, 34)))],
        "leave and return within the gap": [FacePath(e[1], ((0, 0.3 * w, 0.5 * h, 40), (n, 0.3 * w, 0.5 * h, 40))),
                                            FacePath(e[4], ((0, 0.72 * w, 0.5 * h, 40), (n, 0.72 * w, 0.5 * h, 40)), ((30, 38),))],
        "leave and return after the gap": [FacePath(e[2], ((0, 0.3 * w, 0.5 * h, 40), (n, 0.3 * w, 0.5 * h, 40))),
                                           FacePath(e[5], ((0, 0.72 * w, 0.5 * h, 40), (n, 0.72 * w, 0.5 * h, 40)), ((25, 55),))],
        "partly out of frame": [FacePath(e[3], ((0, 0.35 * w, 0.5 * h, 44), (n, 0.4 * w, 0.5 * h, 44))),
                                FacePath(e[0], ((0, w - 10, 0.5 * h, 40), (n, w - 25, 0.5 * h, 40)))],
        "very different sizes": [FacePath(e[4], ((0, 0.3 * w, 0.55 * h, 75), (n, 0.33 * w, 0.55 * h, 75))),
                                 FacePath(e[1], ((0, 0.8 * w, 0.4 * h, 30), (n, 0.78 * w, 0.4 * h, 30)))],
        "four at once": [FacePath(e[i], ((0, (0.14 + 0.24 * i) * w, 0.5 * h, 36), (n, (0.15 + 0.24 * i) * w, 0.5 * h, 36)))
                         for i in range(4)],
    }


def render_scene(paths: list[FacePath], width: int = 480, height: int = 270, n: int = 90, seed: int = 0,
                 difficulty: float = 0.3) -> tuple[list[np.ndarray], list[dict]]:
    """(n BGR frames, per face {"label", "boxes": per frame [x0, y0, x1, y1] or None})."""
    rng = np.random.default_rng(seed)
    ranges, knobs = SyntheticRanges(width=(width, width)), _Knobs.from_difficulty(difficulty)
    subjects = [draw_subject(f"p{i}", rng, ranges) for i in range(len(paths))]
    tracks = [_expression_track(p.label, n, FPS, knobs, ranges, s, rng)[0] for p, s in zip(paths, subjects)]
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    background = np.asarray(subjects[0].background, np.float32) * (1 - ramp) + np.asarray(subjects[0].background2, np.float32) * ramp
    background = np.broadcast_to(background, (height, width, 3))  # (H, 1, 3) -> (H, W, 3)
    noise = rng.normal(0, 2.0, (n, height, width, 3)).astype(np.float32)
    truth = [{"label": p.label, "boxes": []} for p in paths]
    frames = []
    for t in range(n):
        img = np.ascontiguousarray(background.astype(np.uint8))
        placed = [(i, p.position(t)) for i, p in enumerate(paths)]
        for i, where in sorted(placed, key=lambda item: item[1][2] if item[1] else 0):  # larger (nearer) faces drawn last
            if where is None:
                truth[i]["boxes"].append(None)
                continue
            cx, cy, a = where
            pose = _Pose(cx, cy, a, 0.05 * math.sin(t / 9 + i), 0.1 * math.sin(t / 13 + i), 0.0)
            au = {k: float(v[t]) for k, v in tracks[i].items()}
            talk = 0.08 * max(0.0, math.sin(t / 2.5 + i))
            render_face(img, subjects[i], pose, au, 0.0, talk, np.zeros(2))
            outline = pose(_ellipse(0, 0, 1.0, subjects[i].aspect, 48), 0.0)
            x0, y0 = outline.min(0)
            x1, y1 = outline.max(0)
            truth[i]["boxes"].append([float(x0), float(y0), float(x1), float(y1)])
        frames.append(np.clip(img.astype(np.float32) + noise[t], 0, 255).astype(np.uint8))
    return frames, truth
