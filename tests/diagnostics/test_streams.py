"""diagnostics/streams.py and temporal.py: the statistics issue 16's questions print."""

import numpy as np
import torch

from fervid.diagnostics.streams import (
    chance_eta_squared,
    eta_squared,
    input_scales,
    layer_statistics,
)
from fervid.diagnostics.temporal import clip_phase
from fervid.models.fourstream import FourStreamNet, build_config


def test_eta_squared_is_the_share_of_variance_between_groups():
    groups = np.array([0, 0, 1, 1])
    assert eta_squared(np.array([[0.0], [0.0], [1.0], [1.0]]), groups) == 1.0  # all between
    assert eta_squared(np.array([[0.0], [1.0], [0.0], [1.0]]), groups) == 0.0  # all within
    assert chance_eta_squared(groups) == 1 / 3


def test_input_scales_per_channel_and_the_rgb_split():
    clips = {"rgb_clip": torch.zeros(4, 16, 3, 8, 8), "flow_dynamic": torch.ones(4, 2, 8, 8)}
    clips["rgb_clip"][:, 1:] = 0.5  # every frame after the first moves by the same step
    rows, rgb = input_scales(clips)
    assert [(r["stream"], r["channel"]) for r in rows] == [("rgb_clip", 0), ("rgb_clip", 1), ("rgb_clip", 2),
                                                            ("flow_dynamic", 0), ("flow_dynamic", 1)]
    flow = rows[-1]
    assert flow["mean"] == 1 and flow["std"] == 0 and flow["clipped"] == 1 and flow["zero"] == 0
    assert rgb["appearance"] == 0  # every clip alike
    assert rgb["from_first"] > 0 and rgb["within"] > 0


def test_layer_statistics_cover_each_layer_of_each_clip_stream():
    torch.manual_seed(0)
    model = FourStreamNet(build_config("small", "c"))
    size = model.config.face_size
    clips = {"rgb_clip": torch.rand(6, 16, 3, size, size) * 2 - 1, "flow_clip": torch.randn(6, 16, 2, size, size) * 0.3}
    subjects, labels = np.array(["a", "a", "b", "b", "c", "c"]), np.array([0, 1, 0, 1, 0, -1])
    rows = list(layer_statistics(model, clips, subjects, labels))
    assert [(r["stream"], r["layer"]) for r in rows] == [(s, n) for s in ("rgb_clip", "flow_clip") for n in (1, 2, 3, 4)]
    for r in rows:
        assert r["var_skip"] > 0 and r["var_lstm"] > 0 and r["var_h_skip"] > 0
        assert -1 <= r["cosine_first"] <= 1 and 0 <= r["eta2_subject"] <= 1 and 0 <= r["eta2_expression"] <= 1


def test_clip_phase():
    # onset at frame 20, apex at 30, held to the offset at 60; 16-frame clips
    assert clip_phase(20, 30, 60, start=0) == "neutral only"  # frames 0-15
    assert clip_phase(20, 30, 60, start=16) == "rising"  # 16-31 reach the apex
    assert clip_phase(20, 30, 60, start=40) == "apex held only"  # 40-55
    assert clip_phase(20, 30, 60, start=56) == "falling"  # 56-71
