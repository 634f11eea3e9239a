"""benchmarks/evidence.py, the evidence run of issue 27: what it refuses before any work."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import evidence  # noqa: E402


def test_a_tuning_seed_is_refused(tmp_path):
    result = subprocess.run([sys.executable, str(BENCHMARKS / "evidence.py"), "--seed", "7", "-o", str(tmp_path / "run")],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0 and "seed 7 is a tuning seed" in result.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "data").exists()


def test_a_set_drawn_with_other_settings_is_refused(tmp_path):
    data = tmp_path / "set"
    data.mkdir()
    (data / "manifest.csv").write_text("path,label,subject\n")
    (data / "synthetic.json").write_text(json.dumps({"seed": 31, "subjects": 12, "takes": 1, "difficulty": 0.5}))
    with pytest.raises(SystemExit, match=r"drawn with .*'subjects': 12.*draws .*'subjects': 36"):
        evidence.drawn_set(data, seed=31, subjects=36, difficulty=0.5)
    assert evidence.drawn_set(data, seed=31, subjects=12, difficulty=0.5) == data / "manifest.csv"  # its own: reused
