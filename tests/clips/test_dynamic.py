"""Dynamic images by approximate rank pooling (Bilen et al. 2016)."""

import numpy as np
import pytest

from fervid.clips.dynamic import dynamic_image, rank_pool_weights


def test_weights_match_the_formula():
    # T = 3: H = (0, 1, 1.5, 11/6); α_t = 2(T - t + 1) - (T + 1)(H_T - H_{t-1})
    expected = [2 * 3 - 4 * (11 / 6 - 0), 2 * 2 - 4 * (11 / 6 - 1), 2 * 1 - 4 * (11 / 6 - 1.5)]
    np.testing.assert_allclose(rank_pool_weights(3), expected)
    w16 = rank_pool_weights(16)
    assert abs(w16.sum()) < 1e-9  # static appearance cancels
    assert w16[0] == w16.min() < 0 < w16[-1]  # early frames subtract, late frames add


def test_static_clip_gives_zero_and_motion_gives_sign():
    still = np.full((16, 4, 4, 3), 0.3, np.float32)
    np.testing.assert_allclose(dynamic_image(still), 0, atol=1e-6)
    brightening = np.linspace(-1, 1, 16, dtype=np.float32)[:, None, None, None] * np.ones((16, 4, 4, 3), np.float32)
    assert np.all(dynamic_image(brightening) > 0)
    assert np.all(dynamic_image(-brightening) < 0)


def test_range_is_bounded_and_uint8_is_cast():
    rng = np.random.default_rng(0)
    extreme = np.where(rank_pool_weights(16)[:, None, None, None] > 0, 1.0, -1.0) * np.ones((16, 3, 3, 2))
    di = dynamic_image(extreme)
    np.testing.assert_allclose(di, 1.0, atol=1e-5)  # the largest value the normalisation allows
    frames = rng.integers(0, 256, (16, 5, 5, 3), dtype=np.uint8)
    np.testing.assert_allclose(dynamic_image(frames), dynamic_image(frames.astype(np.float64)), atol=1e-3)
    assert dynamic_image(frames).dtype == np.float32


def test_mean_option_and_unknown_method():
    frames = np.random.default_rng(1).uniform(-1, 1, (16, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(dynamic_image(frames, "mean"), frames.mean(0), atol=1e-6)
    with pytest.raises(ValueError, match="rank"):
        dynamic_image(frames, "max")
