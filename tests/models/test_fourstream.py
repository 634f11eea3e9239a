"""The four-stream network, its configurations (a)-(e) and presets."""

import dataclasses

import pytest
import torch
from torch import nn

from fervid.datasets.onset import onset_clips
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


def test_stream_dropout_drops_whole_streams_per_clip_in_training_only():
    torch.manual_seed(0)
    config = dataclasses.replace(build_config("small", "e"), stream_dropout=0.5)
    model = FourStreamNet(config)
    inputs = random_inputs(model, batch=3)
    def each_stream():
        return torch.stack([stream(inputs[name]) for name, stream in model.streams.items()])  # (4, 3, Ch, S, S)

    with torch.no_grad():
        model.eval()
        torch.testing.assert_close(model.forward_features(inputs), each_stream().sum(0))  # evaluation: every stream
        model.train()  # (BatchNorm: batch statistics, so the streams' outputs are recomputed)
        each = each_stream()
        torch.manual_seed(1)
        mask = model._stream_mask(each)
        torch.manual_seed(1)
        torch.testing.assert_close(model.forward_features(inputs), (each * mask).sum(0))
    # the mask: whole streams per clip, kept ones scaled by 1/(1-p), never a clip with none
    torch.manual_seed(2)
    mask = model._stream_mask(torch.zeros(4, 2000, 1, 1, 1)).flatten(1)
    assert set(mask.unique().tolist()) == {0.0, 2.0}
    assert (mask > 0).any(0).all()
    kept = (mask > 0).float().mean().item()
    assert 0.5 < kept < 0.55  # 1 - p, plus the clips (1/16) given one stream back
    with pytest.raises(ValueError, match="stream_dropout"):
        dataclasses.replace(config, stream_dropout=1.0)


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


@pytest.mark.parametrize("ablation", ["c", "e"])
def test_a_silenced_stream_outputs_zero_and_still_learns(ablation):
    torch.manual_seed(0)
    model = FourStreamNet(build_config("small", ablation))
    inputs = random_inputs(model, batch=2, frames=4)
    silenced = [name for name in model.streams if name != "flow_clip"]  # one stream left to carry the signal
    for name in silenced:
        model.streams[name].silence()
    features = model.stream_features(inputs)
    assert all(torch.count_nonzero(features[name]) == 0 for name in silenced)
    nn.functional.cross_entropy(model(inputs), torch.tensor([0, 3])).backward()
    for name in silenced:  # the silenced layer gets a gradient, so training can open it
        stream = model.streams[name]
        last = stream.project.weight if isinstance(stream, DynamicImageStream) else stream.convlstm.cells[-1].norm.weight
        assert last.grad.abs().sum() > 0, name


def test_a_conventional_stream_cannot_be_silenced():
    model = FourStreamNet(build_config("small", "b"))
    with pytest.raises(ValueError, match="conventional"):
        model.streams["rgb_clip"].silence()


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
    for scale in (1.0, 0.1):
        torch.manual_seed(0)
        stream = ClipStream(3, dataclasses.replace(config, clip_stream_scale=scale))
        assert torch.all(stream.convlstm.cells[-1].norm.weight == scale)
        assert torch.all(stream.convlstm.cells[0].norm.weight == 1.0)  # lower layers keep γ = 1
        with torch.no_grad():
            stds[scale] = stream(clip).std().item()
    assert 4 < stds[1.0] / stds[0.1] < 25, stds
    conventional = ClipStream(3, build_config("small", "d"))
    assert not any("norm" in name for name, _ in conventional.named_parameters())


def test_rgb_clip_stream_reads_frames_minus_the_first_times_the_gain():
    """rgb_clip_reference="first": the RGB stream reads each frame minus the clip's first,
    times clip_input_gain, so a face that does not move gives the same input whoever it is;
    a first frame given separately (streaming) gives the same as the whole clip. The flow
    stream reads its input times the gain only."""
    config = build_config("small", "c")
    model = FourStreamNet(config)
    rgb, flow = model.streams["rgb_clip"], model.streams["flow_clip"]
    clip = torch.rand(2, 5, 3, 32, 32) * 2 - 1
    prepared = rgb.prepare(clip)
    torch.testing.assert_close(prepared, (clip - clip[:, :1]) * config.clip_input_gain)
    torch.testing.assert_close(rgb.prepare(clip[:, 2:], reference=clip[:, 0]), prepared[:, 2:])
    still_a, still_b = torch.rand(1, 3, 32, 32).expand(4, -1, -1, -1), torch.rand(1, 3, 32, 32).expand(4, -1, -1, -1)
    with torch.no_grad():
        torch.testing.assert_close(rgb(still_a[None]), rgb(still_b[None]))
    motion = torch.rand(1, 5, 2, 32, 32)
    torch.testing.assert_close(flow.prepare(motion), motion * config.clip_input_gain)
    raw = FourStreamNet(dataclasses.replace(config, rgb_clip_reference="none", clip_input_gain=1.0)).streams["rgb_clip"]
    assert torch.equal(raw.prepare(clip), clip)
    with pytest.raises(ValueError, match="rgb_clip_reference"):
        dataclasses.replace(config, rgb_clip_reference="mean")


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


@pytest.mark.slow
def test_an_enhanced_convlstm_stream_learns_motion_that_transfers_to_new_subjects():
    """The regression test of issue 16: one RGB Enhanced ConvLSTM stream (4 layers, kernels
    5, 5, 3, 3) and the head learn a purely temporal two-class task (a feature moves up or
    down; ``fervid.datasets.onset``) on 24 subjects and classify 16 unseen subjects' clips
    well above chance: 99%. Before the fix (raw frames, gain 1, average-pooled h_T, PyTorch's
    W_xs init) the same run reached 58% (training: 95%), and 60% with only the input scale
    (gain 1, PyTorch's W_xs init) put back: the first layer's input was a few percent of
    h_{t-2} in eq. 2's GroupNorm, and the stream memorised its training clips."""
    clips, labels, _ = onset_clips(24, 8, size=16, frames=12, seed=1, task="direction", shift=0.08)
    test_clips, test_labels, _ = onset_clips(16, 8, size=16, frames=12, seed=2, task="direction", shift=0.08)
    config = dataclasses.replace(tiny_config("c"), streams=("rgb_clip",), num_classes=2)
    torch.manual_seed(0)
    model = FourStreamNet(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    for step in range(120):  # benchmarks/diagnose_streams.py toy: the same run, with its settings changeable
        batch = torch.randint(len(clips), (16,), generator=generator)
        loss = nn.functional.cross_entropy(model({"rgb_clip": clips[batch]}), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model({"rgb_clip": test_clips}).argmax(1) == test_labels).float().mean().item()
    assert accuracy >= 0.8, f"held-out accuracy {accuracy:.2f} (chance 0.5), last training loss {loss.item():.3f}"
