"""Clips as model inputs: the mirror augmentation."""

import cv2
import numpy as np
import torch

from fervid.clips.inputs import mirror
from fervid.frontend.flow import farneback


def blob_frames(shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Two 48×48 grey frames: a bright blob left of centre, then moved right by ``shift`` px."""
    frames = []
    for dx in (0.0, shift):
        img = np.zeros((48, 48), np.uint8)
        cv2.circle(img, (round(16 * 18 + 16 * dx), 24 * 16), 8 * 16, 255, -1, cv2.LINE_AA, shift=4)
        frames.append(cv2.GaussianBlur(img, (0, 0), 2.0))
    return frames[0], frames[1]


def test_mirror_flips_width_and_negates_only_the_flows_dx():
    batch = {
        "rgb_clip": torch.randn(3, 4, 3, 8, 8),
        "flow_clip": torch.randn(3, 4, 2, 8, 8),
        "rgb_dynamic": torch.randn(3, 3, 8, 8),
        "flow_dynamic": torch.randn(3, 2, 8, 8),
    }
    flip = torch.tensor([True, False, True])
    out = mirror(batch, flip)
    for name, x in batch.items():
        torch.testing.assert_close(out[name][1], x[1], rtol=0, atol=0)  # not drawn: untouched
        expected = x[[0, 2]].flip(-1)
        if name.startswith("flow"):
            expected[..., 0, :, :] *= -1
        torch.testing.assert_close(out[name][[0, 2]], expected, rtol=0, atol=0)
        torch.testing.assert_close(mirror(out, flip)[name], x, rtol=0, atol=0)  # an involution


def test_mirrored_flow_is_the_flow_of_the_mirrored_frames():
    """The sign convention checked against Farneback itself: a blob moving right, mirrored,
    moves left."""
    prev, cur = blob_frames(1.5)
    flow = torch.from_numpy(farneback(prev, cur)).permute(2, 0, 1)[None]  # (1, 2, H, W)
    flow_of_mirrored = torch.from_numpy(farneback(prev[:, ::-1].copy(), cur[:, ::-1].copy())).permute(2, 0, 1)[None]
    mirrored = mirror({"flow_dynamic": flow}, torch.tensor([True]))["flow_dynamic"]
    moving = flow[0, 0].abs() > 0.3  # where the blob's edges move
    assert flow[0, 0][moving].mean() > 0.5  # to the right, as drawn
    mirrored_moving = moving.flip(-1)
    np.testing.assert_allclose(mirrored[0, :, mirrored_moving].mean(1), flow_of_mirrored[0, :, mirrored_moving].mean(1), atol=0.1)
