"""Batched inference over clips: order, batching, metrics."""

import numpy as np
import torch
from conftest import clip_set, tiny_model

from fervid.evaluation.inference import evaluate, predict_clips
from fervid.models.fourstream import FourStreamNet


def test_probabilities_do_not_depend_on_the_batching_and_follow_clip_order():
    torch.manual_seed(0)
    model = FourStreamNet(tiny_model("e"))
    clips = clip_set(seed=3)  # 24 clips, two per video
    whole = predict_clips(model, clips, batch_size=24)
    assert whole.shape == (24, 6) and np.allclose(whole.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(predict_clips(model, clips, batch_size=5), whole, atol=1e-5)  # a ragged last batch
    one = predict_clips(model, torch.utils.data.Subset(clips, [7]), batch_size=1)
    np.testing.assert_allclose(one[0], whole[7], atol=1e-5)
    assert model.training  # the model's mode is given back


def test_evaluate_scores_the_probabilities_it_returns():
    torch.manual_seed(0)
    model = FourStreamNet(tiny_model("a"))
    clips = clip_set(seed=4)
    metrics, probs = evaluate(model, clips, precision="float32")
    assert metrics["clip"]["accuracy"] == np.mean(probs.argmax(1) == clips.clip_labels)
