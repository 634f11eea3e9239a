"""The four-stream network, its configurations (a)-(e) and presets."""

import dataclasses

import pytest
import torch
from torch import nn

from fervid.demo import random_inputs
from fervid.models.fourstream import (
    ABLATIONS,
    ALL_STREAMS,
    PRESETS,
    ClipStream,
    DynamicImageStream,
    FourStreamConfig,
    FourStreamNet,
    build_config,
)
from fervid.models.resnet import ResNetConfig

TABLE_2 = {  # streams and cell of each configuration, from the paper's Table 2
    "a": ({"rgb_dynamic", "flow_dynamic"}, None),
    "b": ({"rgb_clip", "flow_clip"}, "conventional"),
    "c": ({"rgb_clip", "flow_clip"}, "enhanced"),
    "d": (set(ALL_STREAMS), "conventional"),
    "e": (set(ALL_STREAMS), "enhanced"),
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("ablation", sorted(ABLATIONS))
def test_configuration_shapes(preset, ablation):
    torch.manual_seed(0)
    model = FourStreamNet(build_config(preset, ablation)).eval()
    streams, cell = TABLE_2[ablation]
    assert set(model.streams) == streams
    for name, stream in model.streams.items():
        if isinstance(stream, ClipStream):
            assert stream.convlstm.config.cell == cell
            assert stream.convlstm.config.kernel_sizes == (5, 5, 3, 3)
            assert len(stream.convlstm.cells) == 4
    frames = 16 if preset == "small" else 2  # any T runs; 2 keeps the 112×112 test fast
    inputs = random_inputs(model, batch=2, frames=frames)
    with torch.no_grad():
        features = model.forward_features(inputs)
        logits = model(inputs)
    c = model.config
    assert features.shape == (2, c.feature_channels, c.feature_size, c.feature_size)
    assert logits.shape == (2, 6)
    assert torch.isfinite(logits).all()


def test_streams_end_in_one_shape_and_resnet_streams_are_tanh_bounded():
    torch.manual_seed(0)
    model = FourStreamNet(build_config("small", "e")).eval()
    inputs = random_inputs(model, batch=2)
    shapes = set()
    with torch.no_grad():
        for name, stream in model.streams.items():
            out = stream(inputs[name] * 50)  # large inputs: tanh must still bound the ResNet streams
            shapes.add(tuple(out.shape))
            if isinstance(stream, DynamicImageStream):
                assert out.abs().max() <= 1
    assert shapes == {(2, 16, 4, 4)}


def test_features_are_the_sum_of_the_streams():
    torch.manual_seed(0)
    model = FourStreamNet(build_config("small", "e")).eval()
    inputs = random_inputs(model, batch=2)
    with torch.no_grad():
        total = sum(stream(inputs[name]) for name, stream in model.streams.items())
        torch.testing.assert_close(model.forward_features(inputs), total)


def test_missing_stream_input_is_named():
    model = FourStreamNet(build_config("small", "e"))
    inputs = random_inputs(model, batch=1)
    del inputs["flow_dynamic"]
    with pytest.raises(KeyError, match="flow_dynamic"):
        model(inputs)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="preset"):
        build_config("huge", "e")
    with pytest.raises(ValueError, match="Table 2"):
        build_config("small", "f")
    with pytest.raises(ValueError, match="streams"):
        FourStreamConfig(streams=("rgb_clip", "audio"))


def test_paper_preset_is_the_paper():
    c = PRESETS["paper"]
    assert c.face_size == 112
    assert c.convlstm.kernel_sizes == (5, 5, 3, 3)
    assert c.resnet.stage_blocks == (3, 4, 6, 3)
    assert c.num_classes == 6
    model = FourStreamNet(c)
    fc = [m for m in model.head if isinstance(m, nn.Linear)]
    assert len(fc) == 3 and fc[-1].out_features == 6


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(0)
    model = FourStreamNet(build_config("small", "e"))
    inputs = random_inputs(model, batch=2, frames=4)
    nn.functional.cross_entropy(model(inputs), torch.tensor([0, 3])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{name} receives no gradient"


def test_head_keeps_the_signal_scale_at_initialisation():
    """He initialisation of the ReLU layers: unit-variance features reach the last FC layer
    at about unit scale (PyTorch's default init gave ~0.15, and SGD barely moved the streams)."""
    torch.manual_seed(0)
    model = FourStreamNet(build_config("small", "e")).eval()
    features = torch.randn(256, model.config.feature_channels, model.config.feature_size, model.config.feature_size)
    penultimate = model.head[:-1](features)
    rms = penultimate.square().mean().sqrt().item()
    assert 0.5 < rms < 2.0, rms


def test_enhanced_streams_start_small_beside_the_resnet_streams():
    """The top Enhanced layer's GroupNorm scale starts at ``clip_stream_scale``, so the
    ConvLSTM streams' pooled output starts about that much smaller than at γ = 1 (where it
    drowned the tanh'd ResNet streams in the sum); conventional cells, which have no
    GroupNorm, are left as they are."""
    config = build_config("small", "e")
    clip = random_inputs(FourStreamNet(config), batch=8, frames=8, generator=torch.Generator().manual_seed(1))["rgb_clip"]
    stds = {}
    for scale in (1.0, config.clip_stream_scale):
        torch.manual_seed(0)
        stream = ClipStream(3, dataclasses.replace(config, clip_stream_scale=scale))
        assert torch.all(stream.convlstm.cells[-1].norm.weight == scale)
        assert torch.all(stream.convlstm.cells[0].norm.weight == 1.0)  # lower layers keep γ = 1
        with torch.no_grad():
            stds[scale] = stream(clip).std().item()
    assert 4 < stds[1.0] / stds[config.clip_stream_scale] < 25, stds
    conventional = ClipStream(3, build_config("small", "d"))
    assert not any("norm" in name for name, _ in conventional.named_parameters())


def tiny_config(ablation):
    """Configuration (a)-(e) at 16×16 faces with narrow layers, for learning tests."""
    config = build_config("small", ablation)
    return dataclasses.replace(
        config,
        face_size=16,
        convlstm=dataclasses.replace(config.convlstm, hidden_channels=(8, 8, 8, 8)),
        resnet=ResNetConfig(stage_blocks=(1, 1, 1, 1)),
        fc_channels=(32, 32),
        dropout=0.0,
    )


@pytest.mark.parametrize("ablation", ["a", "b", "e"])
def test_overfits_a_few_clips(ablation):
    """Six random clips with six labels are learned to 100%: every path from input to
    logits can learn. Adam, because momentum SGD at one learning rate for all three is
    slow for (b): the conventional stack's pooled output is ~1e-2 at initialisation."""
    torch.manual_seed(0)
    model = FourStreamNet(tiny_config(ablation))
    inputs = random_inputs(model, batch=6, frames=8, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(6)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(60):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        if loss.item() < 0.05:
            break
    model.eval()
    with torch.no_grad():
        predicted = model(inputs).argmax(1)
    assert torch.equal(predicted, labels), f"after {step + 1} steps: loss {loss.item():.3f}, predicted {predicted}"
