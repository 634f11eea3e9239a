"""Models saved as safetensors + JSON and loaded back, with clear errors for mismatches."""

import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from fervid.checkpoint import (
    CheckpointError,
    config_from_dict,
    config_to_dict,
    load_model,
    save_model,
)
from fervid.demo import random_inputs
from fervid.models.fourstream import (
    PRESETS,
    FourStreamConfig,
    FourStreamNet,
    build_config,
)


def test_config_round_trips_through_json():
    for preset in PRESETS:
        for ablation in "abcde":
            config = build_config(preset, ablation)
            again = config_from_dict(FourStreamConfig, json.loads(json.dumps(config_to_dict(config))))
            assert again == config  # tuples restored, nested dataclasses rebuilt


def test_save_and_load_give_the_same_model(tmp_path):
    torch.manual_seed(0)
    model = FourStreamNet(build_config("small", "d")).eval()
    path = save_model(model, tmp_path / "sub" / "model", extra={"labels": ["a", "b"]})
    assert path.name == "model.safetensors" and (tmp_path / "sub" / "model.json").is_file()
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]
    for name in ("model", "model.json", "model.safetensors"):
        loaded, extra = load_model(tmp_path / "sub" / name)
        assert extra == {"labels": ["a", "b"]}
        assert loaded.config == model.config
        assert not loaded.training
    inputs = random_inputs(model, batch=2, frames=3)
    with torch.no_grad():
        torch.testing.assert_close(loaded(inputs), model(inputs), rtol=0, atol=0)
    state = model.state_dict()
    assert any(k.endswith("peephole") for k in state)
    assert set(load_file(path)) == set(state)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="model.json"):
        load_model(tmp_path / "model")
    model = FourStreamNet(build_config("small", "a"))
    save_model(model, tmp_path / "model")
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors: no such weights file"):
        load_model(tmp_path / "model")


def test_config_and_tensors_that_disagree_are_refused_with_the_reason(tmp_path):
    model = FourStreamNet(build_config("small", "e"))
    save_model(model, tmp_path / "model")
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["config"]["convlstm"]["hidden_channels"] = [16, 16, 16, 8]
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"streams\.rgb_clip\.convlstm\.cells\.3\..*shape"):
        load_model(tmp_path / "model")

    meta["config"]["convlstm"]["hidden_channels"] = [16, 16, 16, 16]
    meta["config"]["streams"] = ["rgb_clip", "flow_clip"]
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="unexpected tensors .*rgb_dynamic"):
        load_model(tmp_path / "model")

    tensors = load_file(tmp_path / "model.safetensors")
    del tensors["head.1.weight"]
    save_file(tensors, tmp_path / "model.safetensors")
    meta["config"]["streams"] = list(model.config.streams)
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"missing tensors \[head.1.weight\]"):
        load_model(tmp_path / "model")


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda meta: meta.update(format="something"), "not a fervid model config"),
        (lambda meta: meta["config"].update(colour="blue"), r"unknown FourStreamConfig field\(s\) \['colour'\]"),
        (lambda meta: meta["config"]["convlstm"].update(cell="quantum"), "cell must be one of"),
        (lambda meta: meta.update(format_version=99), "newer fervid"),
    ],
)
def test_bad_json_is_refused(tmp_path, corrupt, message):
    save_model(FourStreamNet(build_config("small", "a")), tmp_path / "model")
    meta = json.loads((tmp_path / "model.json").read_text())
    corrupt(meta)
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=message):
        load_model(tmp_path / "model")


def test_corrupt_weights_file_is_refused(tmp_path):
    save_model(FourStreamNet(build_config("small", "a")), tmp_path / "model")
    (tmp_path / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_model(tmp_path / "model")
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_model(tmp_path / "model")


def test_tuned_config_survives(tmp_path):
    config = dataclasses.replace(build_config("small", "c"), dropout=0.25, fc_channels=(64, 32))
    save_model(FourStreamNet(config), tmp_path / "m")
    loaded, _ = load_model(tmp_path / "m")
    assert loaded.config == config


def test_a_model_saved_before_the_clip_input_settings_is_read_as_it_was_trained(tmp_path):
    """A model.json without rgb_clip_reference / clip_input_gain (written before they existed)
    is read with the inputs it learned on (raw frames, gain 1), not with today's defaults."""
    model = FourStreamNet(build_config("small", "c"))
    path = save_model(model, tmp_path / "model")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["config"]["rgb_clip_reference"] == "first"
    del meta["config"]["rgb_clip_reference"], meta["config"]["clip_input_gain"], meta["config"]["clip_pool"]
    path.with_suffix(".json").write_text(json.dumps(meta))
    old, _ = load_model(path)
    assert old.config.rgb_clip_reference == "none" and old.config.clip_input_gain == 1.0
    assert not old.streams["rgb_clip"].subtract_first and not old.streams["rgb_clip"].max_pool
