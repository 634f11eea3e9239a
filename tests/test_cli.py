"""The ``fervid`` command line."""

import pytest

from fervid.cli import main


def test_info_runs_and_saves(tmp_path, capsys):
    assert main(["info", "--batch", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "(e)" in out and "1,819,270" in out  # the small preset's parameter count
    assert "the same outputs" in out
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "model.json").is_file()


def test_unknown_configuration_exits_non_zero():
    with pytest.raises(SystemExit) as exc:
        main(["info", "--ablation", "z"])
    assert exc.value.code != 0
