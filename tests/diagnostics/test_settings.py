"""diagnostics/settings.py: one model setting from the command line."""

import pytest

from fervid.diagnostics.settings import overridden, override
from fervid.models.fourstream import build_config


def test_override_sets_a_field_and_a_nested_one_with_their_types():
    config = build_config("small", "c")
    assert override(config, "clip_input_gain=1").clip_input_gain == 1
    changed = override(config, "convlstm.hidden_channels=(8, 8, 8, 8)")
    assert changed.convlstm.hidden_channels == (8, 8, 8, 8) and changed.face_size == config.face_size
    assert override(config, "convlstm.skip_init=pytorch").convlstm.skip_init == "pytorch"
    with pytest.raises(ValueError, match="expected a tuple"):
        override(config, "convlstm.hidden_channels=8")


def test_overridden_replaces_fields_then_applies_the_items():
    config = overridden(build_config("small", "c"), ["face_size=16"], streams=("rgb_clip",))
    assert config.streams == ("rgb_clip",) and config.face_size == 16
