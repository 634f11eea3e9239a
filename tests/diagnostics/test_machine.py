"""diagnostics/machine.py: the header, the peak, the figures file; streaming.py's op groups."""

import json

import torch

from fervid.diagnostics.machine import conv_peak, header, save_json, time_call
from fervid.diagnostics.streaming import op_group


def test_header_names_the_machine_and_versions():
    title, machine = header("a title", 2).splitlines()
    assert title == "# a title"
    assert "2 torch threads" in machine and f"torch {torch.__version__}" in machine


def test_conv_peak_and_time_call_are_positive():
    assert conv_peak(torch.device("cpu"), repeats=1, batch=1) > 0
    times = time_call(lambda: sum(range(1000)), 3)
    assert len(times) == 3 and min(times) > 0


def test_save_json_writes_only_when_asked(tmp_path):
    save_json(None, {"a": 1})
    save_json(str(tmp_path / "f.json"), {"a": 1})
    assert json.loads((tmp_path / "f.json").read_text()) == {"a": 1}


def test_op_groups():
    assert op_group("aten::mkldnn_convolution") == "convolution"
    assert op_group("aten::add_") == op_group("aten::clamp_min") == "gate arithmetic"
    assert op_group("aten::native_group_norm") == "norms"
    assert op_group("aten::_to_copy") == "casts and copies"
    assert op_group("aten::index_select") == "other"
