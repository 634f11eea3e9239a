"""Cross-validation: subject-disjoint folds, outputs, report, resume."""

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import face_frames, write_video

import fervid.training.crossval as crossval_module
from fervid.cli import main
from fervid.datasets import (
    VideoEntry,
    read_manifest,
    read_split,
    write_manifest,
    write_split,
)
from fervid.labels import EXPRESSIONS
from fervid.models.fourstream import PRESETS
from fervid.models.resnet import ResNetConfig
from fervid.training.crossval import crossval, stage_ablation
from fervid.training.recipes import TrainConfig

TINY = dataclasses.replace(
    PRESETS["small"],
    face_size=16,
    convlstm=dataclasses.replace(PRESETS["small"].convlstm, hidden_channels=(4, 4, 4, 4)),
    resnet=ResNetConfig(stage_blocks=(1, 1, 1, 1)),
    fc_channels=(16, 16),
)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("set")
    entries = []
    for s in range(3):
        for label in EXPRESSIONS[:2]:
            path = write_video(folder / f"s{s}_{label}.avi", face_frames(18, 160, 120, seed=s * 10 + len(label)))
            entries.append(VideoEntry(path, label, f"s{s + 1}"))
    return write_manifest(entries, folder / "manifest.csv")


def test_folds_are_subject_disjoint_and_outputs_complete(manifest, tmp_path, monkeypatch):
    out = tmp_path / "run"
    config = TrainConfig(epochs=1, batch_size=4, stage_epochs=0)
    summary = crossval(manifest, out, preset=TINY, ablations=("a", "c"), k=3, train_config=config, cache_root=tmp_path / "cache", progress=False)
    for ablation in ("a", "c"):
        for fold in range(3):
            d = out / ablation / f"fold{fold}"
            split = json.loads((d / "split.json").read_text())
            result = json.loads((d / "result.json").read_text())
            test_subjects = set(result["test_subjects"])
            assert test_subjects == {f"s{fold + 1}"}
            with open(d / "predictions_videos.csv") as f:
                rows = list(csv.DictReader(f))
            assert {r["subject"] for r in rows} == test_subjects and len(rows) == 2
            assert split["test_group"] == fold
            assert (d / "model.safetensors").is_file() and (d / "metrics.csv").is_file()
    for name in ("report.md", "results.csv", "confusion.png", "curves.png", "summary.json", "config.json", "split.json"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    assert "33.70%" in report and "44.28%" in report and "(a) vs (c)" in report
    assert summary["table"]["a"]["videos"] == 6
    # The linear floors, fitted and tested on the same folds' videos, are rows of the report.
    for fold in range(3):
        floor = json.loads((out / "linear" / f"fold{fold}.json").read_text())
        assert floor["videos"] == 2 and all(Path(v).name.startswith(f"s{fold}_") for v in floor["test_videos"])  # subject s{fold+1} is file s{fold}_
    assert set(summary["linear_floors"]) == {"static_video", "temporal_video"}
    assert "linear, static face crop" in report and "linear, temporal (frame differences)" in report
    # Each configuration against the temporal floor, video by video: the counts add up to
    # the floor's accuracy and the configuration's own.
    for ablation in ("a", "c"):
        t = summary["mcnemar"][f"{ablation} vs temporal_video"]
        assert t["only_a"] + t["only_b"] + t["both"] + t["neither"] == 6
        assert (t["only_b"] + t["both"]) / 6 == pytest.approx(summary["linear_floors"]["temporal_video"]["video_acc"][0])
        assert (t["only_a"] + t["both"]) / 6 == pytest.approx(summary["table"][ablation]["video_acc_pooled"])
        assert f"| ({ablation}) vs linear, temporal (frame differences) | {t['only_a']} | {t['only_b']} |" in report
    with open(out / "results.csv") as f:
        configs = {row["config"] for row in csv.DictReader(f)}
    assert {"linear_static_video", "linear_temporal_video", "a", "c"} <= configs

    # A rerun reads finished folds back instead of training again.
    monkeypatch.setattr(crossval_module, "train", lambda *a, **k: pytest.fail("retrained a finished fold"))
    again = crossval(manifest, out, preset=TINY, ablations=("a", "c"), k=3, train_config=config, cache_root=tmp_path / "cache", progress=False)
    assert json.loads(json.dumps(again["table"])) == json.loads(json.dumps(summary["table"]))

    # Staged: (e) started from the folder of the trained (c), each fold from its own fold's model.
    monkeypatch.undo()
    staged = dataclasses.replace(config, init_from=str(out / "c"))
    crossval(manifest, tmp_path / "staged", preset=TINY, ablations=("e",), k=3, folds=[1], train_config=staged,
             cache_root=tmp_path / "cache", progress=False)
    recorded = json.loads((tmp_path / "staged" / "e" / "fold1" / "train_config.json").read_text())
    assert recorded["train_config"]["init_from"] == str(out / "c" / "fold1" / "model.safetensors")
    shutil.copytree(out / "c", tmp_path / "other" / "c")
    groups, _ = read_split(out / "c" / "fold1" / "split.json")
    write_split(tmp_path / "other" / "c" / "fold1" / "split.json", groups, 0)  # as if fold 1's model held out group 0
    with pytest.raises(ValueError, match="fold1/split.json: trained with other test subjects than fold 1"):
        crossval(manifest, tmp_path / "staged2", preset=TINY, ablations=("e",), k=3, folds=[1],
                 train_config=dataclasses.replace(config, init_from=str(tmp_path / "other" / "c")),
                 cache_root=tmp_path / "cache", progress=False)
    with pytest.raises(ValueError, match="give a configuration folder"):  # one model for every fold: it saw their test subjects
        crossval(manifest, tmp_path / "staged", preset=TINY, ablations=("e",), k=3, folds=[1],
                 train_config=dataclasses.replace(config, init_from=str(out / "c" / "fold0" / "model.safetensors")),
                 cache_root=tmp_path / "cache", progress=False)
    with pytest.raises(FileNotFoundError, match="fold2.*no trained model to start fold 2"):
        crossval(manifest, tmp_path / "staged", preset=TINY, ablations=("e",), k=3, folds=[2],
                 train_config=dataclasses.replace(config, init_from=str(tmp_path / "staged" / "e")),
                 cache_root=tmp_path / "cache", progress=False)


def test_a_fold_begun_with_other_training_settings_is_refused_before_anything_trains(manifest, tmp_path):
    """Resuming a folder made in one stage under the staged default (an older fervid's run)
    stops before stage 1 trains or config.json is rewritten, naming the flags that resume it;
    a folder from before stage_epochs existed reads as one stage."""
    out = tmp_path / "run"
    one_stage = TrainConfig(epochs=1, batch_size=4, stage_epochs=0)
    crossval(manifest, out, preset=TINY, ablations=("e",), k=3, folds=[0], train_config=one_stage,
             cache_root=tmp_path / "cache", progress=False)
    written = (out / "config.json").read_text()
    stored = out / "e" / "fold0" / "train_config.json"
    meta = json.loads(stored.read_text())
    for older in (False, True):
        if older:
            del meta["train_config"]["stage_epochs"]
            stored.write_text(json.dumps(meta))
        with pytest.raises(ValueError, match=r"e/fold0: begun with other training settings \(epochs=1, stage_epochs=0; "
                                             r"this run: epochs=2, stage_epochs=1\): resume it with --epochs 1 --stage-epochs 0"):
            crossval(manifest, out, preset=TINY, ablations=("e",), k=3, folds=[0],
                     train_config=dataclasses.replace(one_stage, epochs=2, stage_epochs=1), cache_root=tmp_path / "cache", progress=False)
        assert not (out / "stage1").exists() and (out / "config.json").read_text() == written


def test_staged_training_trains_each_folds_first_stage_once_and_starts_from_it(manifest, tmp_path, monkeypatch):
    assert [stage_ablation(a) for a in "abcde"] == ["a", "b", "c", "b", "c"]
    out = tmp_path / "run"
    config = TrainConfig(epochs=1, batch_size=4, stage_epochs=1)
    calls = []
    real_train = crossval_module.train

    def counting_train(model_config, train_config, clips, fold_dir, **kwargs):
        calls.append((Path(fold_dir).relative_to(out).as_posix(), train_config.init_from))
        return real_train(model_config, train_config, clips, fold_dir, **kwargs)

    monkeypatch.setattr(crossval_module, "train", counting_train)
    crossval(manifest, out, preset=TINY, ablations=("c", "e"), k=3, folds=[0], train_config=config,
             cache_root=tmp_path / "cache", progress=False)
    first = str(out / "stage1" / "c" / "fold0" / "model.safetensors")
    assert calls == [("stage1/c/fold0", None), ("c/fold0", first), ("e/fold0", first)]  # (c)'s stage 1 serves (e) too
    seconds = {d: json.loads((out / d / "result.json").read_text())["seconds"] for d in ("stage1/c/fold0", "e/fold0")}
    assert all(s > 0 for s in seconds.values())
    with open(out / "results.csv") as f:
        e_row = next(r for r in csv.DictReader(f) if r["config"] == "e")
    assert float(e_row["train_seconds"]) == pytest.approx(sum(seconds.values()), abs=0.1)  # both stages' time
    calls.clear()
    crossval(manifest, out, preset=TINY, ablations=("c", "e"), k=3, folds=[0], train_config=config,
             cache_root=tmp_path / "cache", progress=False)
    assert calls == []  # every stage read back
    with pytest.raises(ValueError, match="through crossval"):
        real_train(TINY, config, None, tmp_path / "alone")


def test_the_default_recipe_reaches_both_stages(manifest, tmp_path, monkeypatch):
    """The fervid recipe, shortened, through crossval as `fervid crossval` runs it: stage 1
    ((c) for (e)) and stage 2 each build AdamW at the recipe's learning rate and mirror
    their clips, stage 2 starts from stage 1's model, and the report names the recipe
    without changes but the shortening (a recipe change cannot fall back to the paper's SGD
    or to one stage unseen)."""
    from fervid.training.recipes import RECIPES

    recipe = RECIPES["fervid"]
    assert recipe.optimizer == "adamw" and recipe.mirror > 0 and recipe.stage_epochs > 0
    built, mirrored, starts = [], [], []
    for name in ("SGD", "AdamW"):
        real = getattr(torch.optim, name)
        monkeypatch.setattr(torch.optim, name, lambda *a, _name=name, _real=real, **k: built.append((_name, k["lr"])) or _real(*a, **k))
    import fervid.training.train as train_module

    real_mirror, real_train = train_module.mirror, crossval_module.train
    monkeypatch.setattr(train_module, "mirror", lambda inputs, flags: mirrored.append(flags) or real_mirror(inputs, flags))

    def recording_train(model_config, train_config, clips, fold_dir, **kwargs):
        starts.append((Path(fold_dir).relative_to(out).as_posix(), train_config.epochs, train_config.init_from is not None))
        return real_train(model_config, train_config, clips, fold_dir, **kwargs)

    monkeypatch.setattr(crossval_module, "train", recording_train)
    drawn = []
    real_curves = crossval_module.plot_curves
    monkeypatch.setattr(crossval_module, "plot_curves", lambda *a, **k: drawn.append(k) or real_curves(*a, **k))
    out = tmp_path / "run"
    config = dataclasses.replace(recipe, epochs=1, stage_epochs=2, batch_size=4)
    crossval(manifest, out, preset=TINY, ablations=("e",), k=3, folds=[0], train_config=config,
             cache_root=tmp_path / "cache", progress=False)
    assert starts == [("stage1/c/fold0", 2, False), ("e/fold0", 1, True)]
    assert built == [("AdamW", recipe.lr), ("AdamW", recipe.lr)] and mirrored
    assert "recipe `fervid` with epochs=1, batch_size=4, stage_epochs=2" in (out / "report.md").read_text()
    report_row = (out / "report.md").read_text().split("| (e) |")[1].splitlines()[0]
    assert "±" not in report_row and "%" in report_row  # one fold: no spread over folds to show
    assert drawn == [{"stage_two_from": 3}]  # the curves mark where stage 2 begins, after stage 1's 2 epochs


@pytest.mark.parametrize("command", [["crossval", "--configs", "a", "--folds", "0"], ["train", "--ablation", "a", "--test-group", "0"]])
def test_a_video_that_fails_is_left_out_and_the_exit_status_says_so(command, manifest, tmp_path, capsys):
    broken = tmp_path / "s1_broken.avi"
    broken.write_bytes(b"not a video")
    entries = read_manifest(manifest) + [VideoEntry(broken, EXPRESSIONS[0], "s1")]
    with_broken = write_manifest(entries, tmp_path / "manifest.csv")
    out = tmp_path / "run"
    status = main([command[0], str(with_broken), "-o", str(out), *command[1:], "--k", "3", "--stage-epochs", "0", "--epochs", "1",
                   "--batch-size", "4", "--precision", "float32", "--cache", str(tmp_path / "cache"), "--no-progress"])
    assert status == 1
    assert "1 video(s) failed preprocessing" in capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert list(config["excluded_videos"]) == [str(broken)] and config["videos"] == len(entries) - 1
    assert list(json.loads((out / "summary.json").read_text())["excluded_videos"]) == [str(broken)]
    assert (out / "report.md").is_file()


def test_unknown_configuration_is_refused(manifest, tmp_path):
    with pytest.raises(ValueError, match="Table 2"):
        crossval(manifest, tmp_path, ablations=("x",))


TORCHRUN_SCRIPT = """
import json, os, sys
sys.path[:0] = {tests!r}
import torch
import fervid.training.crossval as cv
from test_crossval import TINY
from fervid.training.recipes import TrainConfig
torch.set_num_threads(1)
real = cv.preprocess
def counted(*args, **kwargs):
    open({calls!r} + os.environ["RANK"], "w").write("preprocessed")
    return real(*args, **kwargs)
cv.preprocess = counted
summary = cv.crossval({manifest!r}, {out!r}, preset=TINY, ablations=("c",), k=3, folds=[0],
                      train_config=TrainConfig(epochs=1, batch_size=4, stage_epochs=0), cache_root={cache!r}, progress=False)
json.dump(summary["table"]["c"]["videos"], open({out!r} + "/videos" + os.environ["RANK"], "w"))
"""


@pytest.mark.slow
def test_torchrun_crossval_preprocesses_on_rank_0_only(manifest, tmp_path):
    """Two processes must not preprocess the same videos into the same cache at once."""
    script = tmp_path / "run.py"
    out, calls = tmp_path / "run", str(tmp_path / "calls")
    script.write_text(TORCHRUN_SCRIPT.format(tests=[str(Path(__file__).parent), str(Path(__file__).parents[1])], calls=calls, manifest=str(manifest),
                                             out=str(out), cache=str(tmp_path / "cache")))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(31500 + os.getpid() % 1000), str(script)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.glob("calls*")) == ["calls0"]
    assert (out / "videos0").read_text() == (out / "videos1").read_text() == "2"  # both ranks saw the test videos


def test_the_floor_comparison_is_left_out_when_the_floors_saw_other_videos(tmp_path):
    """A fold read back from before a video was mended has predictions for other videos
    than its recomputed floors: the report leaves the floor test out instead of failing."""
    from fervid.training.crossval import _floor_correctness

    labels = {"v1": "anger", "v2": "fear"}
    floors = [{"test_videos": ["v1", "v2"], "temporal_predicted": [0, 0]}]
    assert _floor_correctness(floors, labels) == {"v1": True, "v2": False}  # class 0 is anger
    assert _floor_correctness([{"test_videos": ["v1", "v2", "v3"], "temporal_predicted": [0, 0, 1]}], labels) == {}
    assert _floor_correctness([{"test_videos": ["v1", "v2"]}], labels) == {}  # saved without its predictions
    assert _floor_correctness([], labels) == {}
