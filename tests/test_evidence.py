"""benchmarks/evidence.py, the evidence run of issue 27: what it refuses before any work
(its set, drawn once: tests/diagnostics/test_runs.py; a run: tests/test_benchmarks.py)."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_a_tuning_seed_is_refused(tmp_path):
    result = subprocess.run([sys.executable, str(BENCHMARKS / "evidence.py"), "--seed", "7", "-o", str(tmp_path / "run")],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0 and "seed 7 is a tuning seed" in result.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "data").exists()
