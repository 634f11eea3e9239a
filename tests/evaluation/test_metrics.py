"""Evaluation measures against hand-computed examples."""

import numpy as np
import pytest

from fervid.evaluation.metrics import (
    bootstrap_interval,
    classification_summary,
    evaluate_predictions,
    mcnemar,
    video_probabilities,
)


def test_summary_by_hand():
    # true:      0 0 0 1 1 2      predicted: 0 0 1 1 1 0
    s = classification_summary(np.array([0, 0, 0, 1, 1, 2]), np.array([0, 0, 1, 1, 1, 0]))
    assert s["accuracy"] == pytest.approx(4 / 6)
    assert s["recall"]["anger"] == pytest.approx(2 / 3) and s["recall"]["disgust"] == 1.0 and s["recall"]["fear"] == 0.0
    assert s["recall"]["happiness"] is None  # absent classes do not enter the UAR
    assert s["uar"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert s["confusion"][0][:3] == [2, 1, 0] and s["confusion"][2][:3] == [1, 0, 0]
    assert s["n"] == 6


def test_video_level_averages_clip_probabilities():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    videos = np.array([0, 0, 1, 1])
    ids, vp = video_probabilities(probs, videos)
    assert ids.tolist() == [0, 1]
    np.testing.assert_allclose(vp, [[0.55, 0.45], [0.45, 0.55]])
    full = np.zeros((4, 6))
    full[:, :2] = probs
    m = evaluate_predictions(full, np.array([0, 0, 0, 0]), videos)
    assert m["clip"]["accuracy"] == 0.5  # clips 0 and 3 right
    assert m["video"]["accuracy"] == 0.5 and m["video"]["n"] == 2  # video 0 right (0.55), video 1 wrong


def test_mcnemar_exact():
    a = np.array([1, 1, 1, 1, 1, 1, 0, 0, 1, 0], bool)
    b = np.array([0, 0, 0, 0, 0, 1, 0, 1, 1, 0], bool)
    t = mcnemar(a, b)
    assert (t["only_a"], t["only_b"], t["both"], t["neither"]) == (5, 1, 2, 2)
    # two-sided exact binomial, 6 discordant pairs split 5:1: p = 2 * (1 + 6) / 64
    assert t["p_value"] == pytest.approx(14 / 64)
    assert mcnemar(a, a)["p_value"] == 1.0
    with pytest.raises(ValueError, match="same videos"):
        mcnemar(a, b[:5])


def test_bootstrap_interval_brackets_the_accuracy():
    correct = np.array([1] * 45 + [0] * 55)
    low, high = bootstrap_interval(correct)
    assert low < 0.45 < high
    assert 0.17 < high - low < 0.22  # width ~ 2 × 1.96·sqrt(.45·.55/100) = 0.195
    assert bootstrap_interval(np.ones(10)) == (1.0, 1.0)
