"""Every benchmark script runs at its smallest setting (its docstring's "smoke test's"
command) in a fresh process and prints, or writes, the figures it promises: so a change
of the package's API or layout cannot leave a script behind. The figures themselves come
from full runs (benchmarks/, docs/performance.md).

Scripts that stream or preprocess read the real fixture clips (skipped without them);
those that read a preprocessed set or a run folder get a tiny synthetic set (3 subjects)
and a one-epoch cross-validation of it, made once for the module."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import needs_fixtures

from fervid.clips.arrays import PreprocessSettings
from fervid.clips.cache import preprocess
from fervid.datasets import SyntheticRanges, generate_synthetic, read_manifest
from fervid.models.fourstream import PRESETS
from fervid.training.crossval import crossval
from fervid.training.recipes import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py"))
NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def run(script: str, *args, timeout: int = 240) -> str:
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def positive(text: str, pattern: str) -> list[float]:
    """The numbers ``pattern``'s groups find in ``text``, each checked positive and finite."""
    found = re.findall(pattern, text)
    assert found, f"no match for {pattern!r} in:\n{text}"
    values = [float(v) for match in found for v in (match if isinstance(match, tuple) else (match,))]
    assert all(0 < v < float("inf") for v in values), values
    return values


def test_there_are_benchmarks_to_check():
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_scripts_import_only_the_package(script):
    """Thin scripts: no import of another script (or of a helper beside them) and no private name."""
    source = (BENCHMARKS / script).read_text()
    own = {p.stem for p in BENCHMARKS.glob("*.py")} | {"common"}
    imported = set(re.findall(r"^\s*(?:from|import) ([\w.]+)", source, re.M))
    assert not imported & own, f"{script} imports {imported & own}"
    assert not re.search(r"\._[a-z]\w*\(", source.replace("torch._dynamo", "").replace("torch._inductor", "")), script


# ---------------------------------------------------------------- scripts on random inputs


@pytest.mark.slow
def test_bench_convlstm(tmp_path):
    out = run("bench_convlstm.py", "--smoke", "--json", tmp_path / "rows.json")
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert {r["model"] for r in rows} >= {"fervid enhanced, peephole=position", "fervid conventional, peephole=none"}
    assert all(r["median_s"] > 0 and r["clips_per_s"] > 0 for r in rows)
    assert "# targets (issue 2" in out


@pytest.mark.slow
def test_bench_gradient_flow(tmp_path):
    out = run("bench_gradient_flow.py", "--seeds", "2", "--size", "16", "--hidden", "8", "--json", tmp_path / "g.json")
    norms = json.loads((tmp_path / "g.json").read_text())
    assert set(norms) == {"conventional", "enhanced"}
    assert all(len(seed) == 16 and min(seed) > 0 for runs in norms.values() for seed in runs)
    positive(out, rf"Enhanced / conventional: ({NUMBER})")


@pytest.mark.slow
def test_bench_memory():
    out = run("bench_memory.py", "--smoke", "--batch", "2", "--device", "cpu")
    found = re.search(rf"peak resident memory ({NUMBER}) GiB, of which the training steps added (-?{NUMBER}) GiB "
                      rf"\(inputs and model before: ({NUMBER}) GiB\); ({NUMBER}) s/step", out)
    assert found, out
    peak, added, before, step = map(float, found.groups())
    assert peak > 0 and before > 0 and step > 0 and abs(peak - before - added) < 0.11  # rounded to 0.1 GiB


@pytest.mark.slow
def test_bench_train(tmp_path):
    out = run("bench_train.py", "--presets", "small", "--smoke", "--json", tmp_path / "t.json")
    figures = json.loads((tmp_path / "t.json").read_text())
    (row,) = figures["rows"]
    assert figures["peak_gflops"] > 0 and row["batch"] == 2
    assert row["clips_per_s"] > 0 and row["gflop_per_clip"] > 0 and 0 < row["share_of_peak"]
    positive(out, rf"small  batch  2: +({NUMBER}) clips/s")


@pytest.mark.slow
def test_bench_speed(tmp_path):
    out = run("bench_speed.py", "--smoke", "--skip", "train,stream,preprocess", "--json", tmp_path / "s.json")
    figures = json.loads((tmp_path / "s.json").read_text())
    assert len(figures["peaks"]) == 4 and min(figures["peaks"].values()) > 0
    models = {(r["model"], r["precision"], r["layout"]) for r in figures["stacks"]}
    assert {("fervid enhanced", "float32", "nchw"), ("fervid conventional", "bfloat16", "cl")} <= models
    assert all(r["median_s"] > 0 and r["gflops"] > 0 for r in figures["stacks"])
    assert "where the Enhanced stack's time goes (small" in out
    assert all(r["batch"] == 2 for r in figures["stacks"])  # the shrunk stacks


# ---------------------------------------------------------------- scripts on the fixture clips


@pytest.mark.slow
@needs_fixtures()
def test_bench_stream(tmp_path):
    out = run("bench_stream.py", "--presets", "small", "--frames", "24", "--json", tmp_path / "s.json")
    (row,) = json.loads((tmp_path / "s.json").read_text())
    assert row["frames"] == 24 and row["frames_per_s"] > 0 and row["clips"] >= 2  # a clip every 8 frames
    positive(out, rf"small +({NUMBER}) frames/s")


@pytest.mark.slow
@needs_fixtures()
def test_bench_faces(tmp_path):
    run("bench_faces.py", "--frames", "24", "--repeats", "1", "--cases", "2 faces", "--json", tmp_path / "f.json")
    (row,) = json.loads((tmp_path / "f.json").read_text())
    assert row["case"] == "2 faces" and row["faces_followed"] == 2
    assert row["frames_per_s"] > 0 and row["peak_rss_mib"] > 0 and row["clips"] >= 4  # 2 faces, a clip every 8 frames
    run("bench_faces.py", "--split", "--frames", "16", "--json", tmp_path / "split.json")
    rows = json.loads((tmp_path / "split.json").read_text())
    assert [r["faces"] for r in rows] == [1, 2, 4]
    assert all(r["front_end_ms"] > 0 and r["convlstm_steps_ms"] > 0 and r["window_ends_ms"] > 0 for r in rows)


@pytest.mark.slow
@needs_fixtures()
def test_bench_fused_start(tmp_path):
    out = run("bench_fused_start.py", "--presets", "small", "--frames", "40", "--modes", "unfused", "--json", tmp_path / "f.json")
    (row,) = json.loads((tmp_path / "f.json").read_text())
    assert row["mode"] == "unfused" and row["compiled_after_s"] is None
    assert 0 < row["first_clip_s"] < row["seconds"] and row["last_half_frames_per_s"] > 0
    positive(out, rf"small  unfused +40 frames: first clip at +({NUMBER}) s")


@pytest.mark.slow
@needs_fixtures()
def test_bench_preprocess(tmp_path):
    out = run("bench_preprocess.py", "--smoke", "--json", tmp_path / "p.json")
    rows = json.loads((tmp_path / "p.json").read_text())
    stages = {r["stage"] for r in rows if "stage" in r}
    assert stages == {"decode", "face", "flow", "dynamic image", "write", "end to end, 1 workers"}
    assert {r["source"] for r in rows if "source" in r} == {"video files", "png frame folders", "jpg frame folders"}
    assert all(v > 0 for r in rows for k, v in r.items() if k.endswith("frames_per_s"))
    assert "# target (issue 3)" in out


@pytest.mark.slow
@needs_fixtures()
def test_diagnose_streaming_split():
    out = run("diagnose_streaming.py", "split", "--frames", "24", "--unfused-only")
    positive(out, rf"front end alone, one thread, ms per frame: detection ({NUMBER}), track \+ crop ({NUMBER}), flow ({NUMBER})")
    positive(out, rf"unfused: model alone ({NUMBER}) ms per frame .* whole ({NUMBER}) frames/s")
    assert "fused" not in out.replace("unfused", "")


# ---------------------------------------------------------------- scripts on a tiny set and a run folder


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    """3 subjects x 6 expressions, small frames, preprocessed at the small preset."""
    data = tmp_path_factory.mktemp("tiny") / "set"
    manifest = generate_synthetic(data, subjects=3, takes=1, seed=5, ranges=SyntheticRanges(width=(160, 176)), check=False,
                                  log=None)
    report = preprocess([e.path for e in read_manifest(manifest)], data / "cache",
                        PreprocessSettings(face_size=PRESETS["small"].face_size), workers=1, progress=False)
    assert report.ok, report.summary()
    return data


@pytest.fixture(scope="module")
def tiny_run(tiny_set, tmp_path_factory):
    """Fold 0 of configuration (c) on the tiny set, one epoch."""
    out = tmp_path_factory.mktemp("tiny-run") / "run"
    crossval(tiny_set / "manifest.csv", out, preset="small", ablations=("c",), k=3, folds=[0],
             train_config=TrainConfig(epochs=1, batch_size=8, clips_per_video=2, stage_epochs=0, precision="float32"),
             cache_root=tiny_set / "cache", workers=1, progress=False)
    return out


@pytest.mark.slow
def test_floors(tiny_set):
    out = run("floors.py", tiny_set, "--workers", "1")
    assert len(re.findall(r"^fold \d: static_video", out, re.M)) == 3
    for name in ("static_video", "temporal_video", "static_frame"):
        assert re.search(rf"^{name}: {NUMBER} ± {NUMBER}%$", out, re.M), out


@pytest.mark.slow
def test_probe_dynamic_images(tiny_set):
    out = run("probe_dynamic_images.py", tiny_set, "--k", "2")
    positive(out, rf"flow_dynamic +std ({NUMBER}), mean \|v\| ({NUMBER})")
    assert len(re.findall(rf"linear probe, \w+, block mean [14]x[14]: held-out clips {NUMBER}%, videos {NUMBER}%", out)) == 4


@pytest.mark.slow
def test_diagnose_generalisation(tiny_set, tmp_path):
    out = run("diagnose_generalisation.py", tiny_set, "--configs", "a", "--epochs", "1", "-o", tmp_path / "d")
    assert re.search(rf"^    1 +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}$", out, re.M), out
    diagnosis = json.loads((tmp_path / "d" / "diagnosis.json").read_text())
    assert len(diagnosis["histories"]["(a)"][0]) == 1 and (tmp_path / "d" / "curves.png").stat().st_size > 0


@pytest.mark.slow
def test_diagnose_streams_on_the_set(tiny_set, tiny_run):
    """Two questions that read a set or a trained fold, in one process each (inputs, phases,
    clip-floor and readout are left to full runs: the budget of these smoke tests)."""
    fold = tiny_run / "c" / "fold0"
    out = run("diagnose_streams.py", "layers", tiny_set, "--every", "2")
    assert len(re.findall(r"^(rgb_clip|flow_clip) +[1-4]  ", out, re.M)) == 8
    out = run("diagnose_streams.py", "fusion", fold, tiny_set)
    assert re.search(r"^held-out \(\d+\)  all streams", out, re.M) and out.count("\n                flow_clip ") == 2


@pytest.mark.slow
def test_diagnose_streams_on_random_clips():
    out = run("diagnose_streams.py", "zero-frame", "--eps", "0.1", "--seeds", "2")
    assert len(positive(out, rf"^ +0\.1  +({NUMBER}) +({NUMBER}) +({NUMBER}) +({NUMBER})$".replace("^", "(?m)^"))) == 4
    toy = json.loads(run("diagnose_streams.py", "toy", "--steps", "3", "--subjects", "2", "--test-subjects", "2"))
    assert toy["steps"] == 3 and set(toy["grad_norm_step0"]) == {"layer1", "layer2", "layer3", "layer4", "head"}
    assert 0 <= toy["held_out_acc"] <= 1


@pytest.mark.slow
def test_compare_precision(tiny_run, tmp_path):
    """The run beside a copy of itself labelled bfloat16: every prediction the same."""
    other = tmp_path / "bf16"
    shutil.copytree(tiny_run, other)
    config = json.loads((other / "config.json").read_text())
    config["train"]["precision"] = "bfloat16"
    config.pop("precision", None)
    (other / "config.json").write_text(json.dumps(config))
    out = run("compare_precision.py", tiny_run, other)
    assert re.search(r"^\| \(c\) \| .* \| 100% of \d+ videos \|$", out, re.M), out


@pytest.mark.slow
def test_evidence(tiny_set, tmp_path):
    """The evidence run on a set drawn for it (reused, as a resumed run does), one fold of (a)."""
    out = run("evidence.py", "--seed", "5", "--subjects", "3", "--configs", "a", "--folds", "0", "--data", tiny_set,
              "-o", tmp_path / "run", "--workers", "1", timeout=400)
    assert "| (a)" in out and (tmp_path / "run" / "report.md").exists()
    positive(out, rf"evidence run: ({NUMBER}) min")


@pytest.mark.slow
def test_bench_identity():
    out = run("bench_identity.py", "--seeds", "0")
    found = re.search(rf"^all: ({NUMBER}) identity switches per 100 true faces, coverage \(ID recall\) ({NUMBER})%, "
                      rf"IDF1 ({NUMBER})% \((\d+) true faces", out, re.M)
    assert found, out
    switches, coverage, idf1, faces = map(float, found.groups())
    assert faces > 0 and switches >= 0 and 50 < coverage <= 100 and 50 < idf1 <= 100
