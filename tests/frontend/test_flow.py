"""Farneback flow between crops, scaled to [-1, 1]."""

import cv2
import numpy as np

from fervid.frontend.flow import FlowSettings, farneback, scale_flow


def textured(size=64, shift=0.0):
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 255, (size * 2, size * 2), dtype=np.uint8), (7, 7), 2)
    m = np.float32([[1, 0, shift], [0, 1, 0]])
    return cv2.warpAffine(base, m, (size * 2, size * 2))[size // 2 : size // 2 + size, size // 2 : size // 2 + size]


def test_flow_measures_a_shift():
    flow = farneback(textured(shift=0), textured(shift=2))
    centre = flow[16:48, 16:48]
    assert abs(np.median(centre[..., 0]) - 2) < 0.3 and abs(np.median(centre[..., 1])) < 0.3


def test_scaling_bound_and_resize():
    flow = np.zeros((64, 64, 2), np.float32)
    flow[..., 0] = 1.6  # pixels at 64×64
    scaled = scale_flow(flow, 64, FlowSettings(bound=0.05))  # bound = 3.2 px
    np.testing.assert_allclose(scaled[..., 0], 0.5, atol=1e-6)
    small = scale_flow(flow, 32, FlowSettings(bound=0.05))  # 0.8 px at 32×32, bound 1.6 px
    assert small.shape == (32, 32, 2)
    np.testing.assert_allclose(small[..., 0], 0.5, atol=1e-6)
    flow[..., 1] = -100
    assert scale_flow(flow, 64).min() == -1.0
