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
    import fervid.training.crossval as crossval

    seen = {}
    monkeypatch.setattr(crossval, "crossval", lambda manifest, out, preset, **kw: seen.update(preset=preset) or {"excluded_videos": {}})
    main(["crossval", "m.csv", "-o", str(tmp_path), "--stream-dropout", "0.5"])
    assert seen["preset"].stream_dropout == 0.5
    main(["crossval", "m.csv", "-o", str(tmp_path)])
    assert seen["preset"] == "small"  # nothing changed: the preset's name, as the report prints it


def _crossval_train_config(tmp_path, monkeypatch, *flags):
    import fervid.training.crossval as crossval

    seen = {}
    monkeypatch.setattr(crossval, "crossval",
                        lambda manifest, out, preset, train_config, **kw: seen.update(config=train_config) or {"excluded_videos": {}})
    assert main(["crossval", "m.csv", "-o", str(tmp_path / "run"), *flags]) == 0
    return seen["config"]


def test_crossval_trains_with_the_fervid_recipe_unless_told(tmp_path, monkeypatch):
    from fervid.training.recipes import RECIPES

    default = _crossval_train_config(tmp_path, monkeypatch)
    assert default == RECIPES["fervid"] and default.optimizer == "adamw" and default.mirror > 0
    paper = _crossval_train_config(tmp_path, monkeypatch, "--recipe", "paper")
    assert paper == RECIPES["paper"] and paper.optimizer == "sgd" and paper.mirror == 0 and paper.stream_loss == 0
    assert default.stage_epochs > 0 and paper.stage_epochs == 0  # the paper trains every stream at once
    changed = _crossval_train_config(tmp_path, monkeypatch, "--recipe", "paper", "--lr", "0.1", "--epochs", "3", "--fuse-gates")
    assert (changed.recipe, changed.optimizer, changed.lr, changed.epochs, changed.fuse_gates) == ("paper", "sgd", 0.1, 3, True)


def test_every_training_setting_is_a_flag_that_overrides_the_recipe(tmp_path, monkeypatch):
    """The flags come from TrainConfig's fields: each one, given, reaches the config; a
    field added to TrainConfig needs no edit here or in the CLI."""
    import dataclasses

    from fervid.training.recipes import RECIPES, TrainConfig

    given = {"epochs": "3", "batch_size": "4", "lr": "0.05", "optimizer": "sgd", "momentum": "0.8", "weight_decay": "0.001",
             "warmup_epochs": "2", "grad_clip": "1", "clips_per_video": "2", "mirror": "0.25", "stream_loss": "0.5",
             "seed": "7", "precision": "float32", "device": "cpu", "loader_workers": "1", "init_from": "runs/c", "trust": "0.2", "stage_epochs": "4"}
    switches = {"stream_probes", "compile", "fuse_gates"}
    apart = {"video_loss": "2"}  # refused beside clips_per_video: given on its own
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"recipe"}
    assert set(given) | switches | set(apart) == fields, "a TrainConfig field this test does not give"
    for name, value in apart.items():
        alone = _crossval_train_config(tmp_path, monkeypatch, "--" + name.replace("_", "-"), value)
        assert getattr(alone, name) == type(getattr(RECIPES["fervid"], name))(value), name
    argv = [a for name, value in given.items() for a in ("--" + name.replace("_", "-"), value)] + [
        "--" + name.replace("_", "-") for name in switches]
    config = _crossval_train_config(tmp_path, monkeypatch, *argv)
    for name, value in given.items():
        field_type = {"clips_per_video": int, "init_from": str}.get(name, type(getattr(RECIPES["fervid"], name)))
        assert getattr(config, name) == field_type(value), name
    assert all(getattr(config, name) is True for name in switches)
    assert config.recipe == "fervid"
    off = _crossval_train_config(tmp_path, monkeypatch, "--no-fuse-gates")
    assert off.fuse_gates is False and off == RECIPES["fervid"]
