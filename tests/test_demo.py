import json

import pytest

from fervid import demo


def _write_params(folder, **params):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.csv").write_text("path,label,subject\n")
    (folder / "synthetic.json").write_text(json.dumps(params))


def test_main_job_reuses_its_own_set(tmp_path):
    _write_params(tmp_path / "set", seed=demo.DEMO_SEED, subjects=demo.DEMO_SUBJECTS, takes=demo.DEMO_TAKES,
                  difficulty=demo.DEMO_DIFFICULTY, fourcc="MJPG")
    demo.check_demo_set(tmp_path / "set")  # no error: drawn with the main job's settings


def test_main_job_refuses_a_set_drawn_with_other_settings(tmp_path):
    # What an older fervid's main job left in data/synth-demo: 9 subjects x 2 takes.
    _write_params(tmp_path / "old", seed=0, subjects=9, takes=2, difficulty=demo.DEMO_DIFFICULTY)
    with pytest.raises(ValueError, match=r"synthetic\.json: this synthetic set was drawn with .*'subjects': 9"):
        demo.check_demo_set(tmp_path / "old")


def test_main_job_names_a_set_without_settings(tmp_path):
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "manifest.csv").write_text("path,label,subject\n")
    with pytest.raises(ValueError, match=r"synthetic\.json: cannot read the settings"):
        demo.check_demo_set(tmp_path / "bare")


def test_main_job_stops_before_training_on_an_old_set(tmp_path, monkeypatch):
    _write_params(tmp_path / "old", seed=0, subjects=9, takes=2, difficulty=demo.DEMO_DIFFICULTY)
    import fervid.training.crossval as crossval

    def must_not_run(*args, **kwargs):
        raise AssertionError("cross-validation ran on a set the main job should have refused")

    monkeypatch.setattr(crossval, "crossval", must_not_run)
    with pytest.raises(ValueError, match="older fervid"):
        demo.main_job(out=tmp_path / "runs", data=tmp_path / "old", progress=False)
