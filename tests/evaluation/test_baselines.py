"""The linear floors: fitted on training videos' face crops, tested on held-out ones."""

import numpy as np
import pytest

from fervid.evaluation.baselines import (
    fit_softmax,
    grey_crops,
    linear_floors,
    log_prob,
    temporal_features,
)


def moving_face_videos(n_per_class: int, seed: int, classes: int = 2, frames: int = 24, size: int = 16):
    """Face-like crops whose only class cue is motion: a dark bar that moves down (class 0)
    or up (class 1) between the same two rows, resting as long at each, so the frames of
    a video, as a set, are alike in both classes; every video has its own random
    background texture (the 'subject')."""
    rng = np.random.default_rng(seed)
    videos = []
    rows = np.arange(size)[:, None]
    for label in range(classes):
        for _ in range(n_per_class):
            texture = rng.uniform(60, 200, (size, size, 3))
            top = rng.uniform(4, 9)
            direction = 1 if label == 0 else -1
            start = top if label == 0 else top + 3
            crops = []
            for t in range(frames):
                row = start + direction * 3 * min(1.0, max(0.0, (t - 9) / 6))
                bar = np.exp(-0.5 * ((rows - row) / 1.0) ** 2) * np.ones((1, size))
                crop = texture * (1 - bar[..., None]) + rng.normal(0, 2, texture.shape)
                crops.append(np.clip(crop, 0, 255).astype(np.uint8))
            videos.append((np.stack(crops), 20.0, label))
    return videos


def test_grey_crops_are_standardised_per_frame():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    crops = grey_crops(rgb, size=8)
    assert crops.shape == (5, 64)
    np.testing.assert_allclose(crops.mean(1), 0, atol=1e-4)
    np.testing.assert_allclose(crops.std(1), 1, atol=1e-2)


def test_temporal_floor_learns_motion_that_one_frame_does_not_show():
    """Motion-only classes: the temporal classifier transfers to new 'subjects', the
    static one stays near chance; a classifier that ignored its test videos could not
    reach 90%."""
    result = linear_floors(moving_face_videos(12, seed=1), moving_face_videos(10, seed=2))
    assert result["videos"] == 20
    assert result["temporal_video"] >= 0.9, result
    assert result["static_video"] <= 0.75, result
    assert len(result["temporal_predicted"]) == len(result["static_predicted"]) == 20


def bar_video(move_frames: int, frames: int = 30, size: int = 16) -> np.ndarray:
    """A bar that moves 4 rows down over ``move_frames`` frames, starting at frame 8."""
    rows = np.arange(size)[:, None]
    texture = np.random.default_rng(0).uniform(60, 200, (size, size, 3))
    crops = []
    for t in range(frames):
        row = 5 + 4 * min(1.0, max(0.0, (t - 8) / move_frames))
        bar = np.exp(-0.5 * ((rows - row) / 1.0) ** 2) * np.ones((1, size))
        crops.append((texture * (1 - bar[..., None])).astype(np.uint8))
    return np.stack(crops)


def test_temporal_features_see_change_and_its_speed():
    """No change in a still video; a faster movement gives a shorter rise time (the first
    timing number, after the three 16×16 images)."""
    still = temporal_features(grey_crops(np.repeat(bar_video(4)[:1], 30, axis=0)), fps=20.0)
    assert np.abs(still[: 3 * 256]).max() < 1e-4
    fast, slow = (temporal_features(grey_crops(bar_video(n)), fps=20.0) for n in (2, 16))
    rise = 3 * 256  # log(rise time + 0.04)
    assert fast[rise] < slow[rise] - 0.5, (fast[rise], slow[rise])


def test_empty_sides_are_refused():
    with pytest.raises(ValueError, match="training and test"):
        linear_floors([], moving_face_videos(1, seed=0))


def test_the_regression_separates_what_is_separable_and_keeps_every_class_column():
    """Classes 0-2 drawn apart, no training sample of classes 3-5: the fit finds the
    three, and log_prob still has a column per class, the absent ones impossible."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (3, 5))
    y = np.repeat(np.arange(3), 40)
    x = centres[y] + rng.normal(0, 0.5, (len(y), 5))
    model = fit_softmax(x, y, classes=6)
    lp = log_prob(model, x)
    assert lp.shape == (120, 6)
    assert np.mean(lp.argmax(1) == y) > 0.95
    assert np.all(lp[:, 3:] < -1e8)
    np.testing.assert_allclose(np.exp(lp[:, :3]).sum(1), 1.0, rtol=1e-6)


def test_one_class_in_training_predicts_that_class():
    model = fit_softmax(np.random.default_rng(0).normal(size=(10, 3)), np.full(10, 4), classes=6)
    lp = log_prob(model, np.zeros((2, 3)))
    assert lp.shape == (2, 6) and (lp.argmax(1) == 4).all()
