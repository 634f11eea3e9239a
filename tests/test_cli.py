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


def test_version(capsys):
    from fervid import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"fervid {__version__}"


def test_progress_flags_are_three_settings():
    from fervid.cli import _progress, build_parser

    parser = build_parser()
    assert _progress(parser.parse_args(["demo"])) is None  # bars on a terminal, lines in a log
    assert _progress(parser.parse_args(["demo", "--progress"])) is True
    assert _progress(parser.parse_args(["preprocess", "x.mp4", "--no-progress"])) is False
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--progress", "--no-progress"])


def test_stream_dropout_reaches_the_model_config(tmp_path, monkeypatch):
    import fervid.crossval

    seen = {}
    monkeypatch.setattr(fervid.crossval, "crossval", lambda manifest, out, preset, **kw: seen.update(preset=preset) or {"excluded_videos": {}})
    main(["crossval", "m.csv", "-o", str(tmp_path), "--stream-dropout", "0.5"])
    assert seen["preset"].stream_dropout == 0.5
    main(["crossval", "m.csv", "-o", str(tmp_path)])
    assert seen["preset"] == "small"  # nothing changed: the preset's name, as the report prints it
