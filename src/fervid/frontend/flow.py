"""Farneback optical flow (Farnebäck 2003, the paper's [27]) between consecutive face crops.

Output: 2 channels (dx, dy) per frame, scaled to [-1, 1]: pixels of motion divided
by ``bound`` × face size, then clipped. A motion of 5% of the face per frame (the
default bound) is already large for an expression at 25 fps; clipping bounds the
rare outliers (a head jerk, a detector jump) instead of letting them dominate.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FlowSettings:
    # OpenCV's calcOpticalFlowFarneback arguments (DESIGN.md measured these).
    pyr_scale: float = 0.5
    levels: int = 3
    winsize: int = 15
    iterations: int = 3
    poly_n: int = 5
    poly_sigma: float = 1.2
    bound: float = 0.05  # motion of bound × face size per frame maps to ±1
    # Flow is computed on crops of at least this size and resized to the face size:
    # Farneback's 15-pixel window is half a 32×32 crop.
    min_compute_size: int = 64


def to_gray(crop_bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)


def farneback(prev_gray: np.ndarray, gray: np.ndarray, settings: FlowSettings = FlowSettings()) -> np.ndarray:
    """Raw flow from prev to current, (H, W, 2) float32 pixels (dx, dy)."""
    s = settings
    return cv2.calcOpticalFlowFarneback(
        prev_gray, gray, None, s.pyr_scale, s.levels, s.winsize, s.iterations, s.poly_n, s.poly_sigma, 0
    )


def scale_flow(flow: np.ndarray, face_size: int, settings: FlowSettings = FlowSettings()) -> np.ndarray:
    """Raw flow at its own size -> (face_size, face_size, 2) float32 in [-1, 1]."""
    compute_size = flow.shape[0]
    if compute_size != face_size:
        flow = cv2.resize(flow, (face_size, face_size), interpolation=cv2.INTER_AREA) * (face_size / compute_size)
    return np.clip(flow / (settings.bound * face_size), -1.0, 1.0)
