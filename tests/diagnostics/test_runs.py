"""diagnostics/runs.py: the evidence run's set, drawn once; run folders side by side."""

import json

import pytest

from fervid.diagnostics.runs import compare_precision, drawn_set


def test_a_set_drawn_with_other_settings_is_refused(tmp_path):
    data = tmp_path / "set"
    data.mkdir()
    (data / "manifest.csv").write_text("path,label,subject\n")
    (data / "synthetic.json").write_text(json.dumps({"seed": 31, "subjects": 12, "takes": 1, "difficulty": 0.5}))
    with pytest.raises(SystemExit, match=r"drawn with .*'subjects': 12.*draws .*'subjects': 36"):
        drawn_set(data, seed=31, subjects=36, difficulty=0.5)
    assert drawn_set(data, seed=31, subjects=12, difficulty=0.5) == data / "manifest.csv"  # its own: reused


def fake_run(folder, precision, predicted):
    (folder / "c" / "fold0").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"train": {"precision": precision, "epochs": 4}, "preprocess": {"face_size": 32}}))
    (folder / "results.csv").write_text("config,fold,video_acc\nc,0,0.5\nlinear_static,0,0.2\n")
    rows = "".join(f"{v},{p}\n" for v, p in predicted.items())
    (folder / "c" / "fold0" / "predictions_videos.csv").write_text("video,predicted\n" + rows)
    return folder


def test_compare_precision_counts_the_same_labels(tmp_path):
    a = fake_run(tmp_path / "a", "float32", {"v1": "happiness", "v2": "anger"})
    b = fake_run(tmp_path / "b", "bfloat16", {"v1": "happiness", "v2": "fear"})
    table = compare_precision(a, b).splitlines()
    assert table[0].startswith("| config | video acc. float32 (`a`) | video acc. bfloat16 (`b`)")
    assert table[2] == "| (c) | 50.0 ± 0.0% (50.0) | 50.0 ± 0.0% (50.0) | 50% of 2 videos |"


def test_runs_differing_in_more_than_precision_are_refused(tmp_path):
    a = fake_run(tmp_path / "a", "float32", {"v1": "happiness"})
    b = fake_run(tmp_path / "b", "bfloat16", {"v1": "happiness"})
    config = json.loads((b / "config.json").read_text())
    config["train"]["epochs"] = 8
    (b / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="epochs"):
        compare_precision(a, b)
