"""Training one fold: learning, checkpoints and exact resume, divergence, DDP on CPU."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import clip_set, needs_compiler, tiny_model
from safetensors.torch import load_file

import fervid.training.train as train_module
from fervid.checkpoint import load_model, save_model
from fervid.clips.inputs import collate
from fervid.evaluation.inference import evaluate
from fervid.models.convlstm import ConvLSTMCell
from fervid.models.fourstream import FourStreamNet, build_config, random_inputs
from fervid.precision import resolve_precision
from fervid.training.recipes import RECIPES, TrainConfig
from fervid.training.train import (
    TrainingDiverged,
    settings_fingerprint,
    train,
    warm_start,
)

# The paper recipe (momentum SGD), shortened.
CONFIG = dataclasses.replace(RECIPES["paper"], epochs=3, batch_size=4, lr=0.05, warmup_epochs=0.5, precision="float32")
# With mirroring, so that its random draws are checked for exact resume and for DDP. (The fake
# videos' label is a flow direction, which a mirror changes: not for the learning test.)
MIRRORED = dataclasses.replace(CONFIG, mirror=0.5)


@pytest.mark.slow
def test_learns_and_writes_its_files(tmp_path):
    config = dataclasses.replace(CONFIG, epochs=8)  # lr 0.05: at 0.1, batches of 4 clips made (c) and (e) diverge here
    model, history = train(tiny_model("c"), config, clip_set(), tmp_path, val_clips=clip_set(seed=1), progress=False)
    assert [row["epoch"] for row in history] == list(range(1, 9))
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    metrics, probs = evaluate(model, clip_set(seed=2))
    assert probs.shape == (24, 6) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert metrics["video"]["accuracy"] > 0.5  # chance is 1/6
    for name in ("metrics.csv", "model.safetensors", "model.json", "checkpoint.json", "train_config.json"):
        assert (tmp_path / name).is_file(), name
    assert len(list(tmp_path.glob("checkpoint-*.safetensors"))) == 1
    loaded, _ = load_model(tmp_path / "model")
    metrics_again, probs_again = evaluate(loaded, clip_set(seed=2))
    np.testing.assert_allclose(probs_again, probs, atol=1e-6)
    assert "val_video_acc" in (tmp_path / "metrics.csv").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("optimizer,lr,stream_loss", [("sgd", 0.05, 0.0), ("lars", 0.05, 0.0), ("adamw", 1e-3, 0.0), ("adamw", 1e-3, 1.0)])
def test_resume_after_a_kill_gives_the_same_weights(tmp_path, monkeypatch, optimizer, lr, stream_loss):
    config = dataclasses.replace(MIRRORED, optimizer=optimizer, lr=lr, stream_loss=stream_loss)
    whole, _ = train(tiny_model("d"), config, clip_set(), tmp_path / "whole", progress=False)

    real_bar = train_module.progress_bar
    updates = []

    class KilledBar:
        def update(self, n=1):
            updates.append(n)
            if len(updates) == 8:  # second epoch, mid-way (6 steps per epoch)
                raise KeyboardInterrupt

        def set_postfix_str(self, s): ...
        def close(self): ...

    monkeypatch.setattr(train_module, "progress_bar", lambda *a, **k: KilledBar())
    with pytest.raises(KeyboardInterrupt):
        train(tiny_model("d"), config, clip_set(), tmp_path / "killed", progress=False)
    assert json.loads((tmp_path / "killed" / "checkpoint.json").read_text())["epoch"] == 1
    monkeypatch.setattr(train_module, "progress_bar", real_bar)
    resumed, history = train(tiny_model("d"), config, clip_set(), tmp_path / "killed", progress=False)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


@pytest.mark.slow
def test_stream_probes_measure_each_stream_without_changing_training(tmp_path):
    plain, _ = train(tiny_model("e"), CONFIG, clip_set(), tmp_path / "plain", progress=False)
    probed, history = train(tiny_model("e"), dataclasses.replace(CONFIG, stream_probes=True), clip_set(), tmp_path / "probed",
                            val_clips=clip_set(seed=1), progress=False)
    for (name, a), b in zip(plain.state_dict().items(), probed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    for stream in ("rgb_clip", "flow_clip", "rgb_dynamic", "flow_dynamic"):
        for key in (f"train_clip_acc_{stream}", f"val_clip_acc_{stream}", f"val_video_acc_{stream}"):
            assert 0.0 <= history[-1][key] <= 1.0, key
    saved = load_file(str(tmp_path / "probed" / "model.safetensors"))
    assert saved.keys() == load_file(str(tmp_path / "plain" / "model.safetensors")).keys()  # the heads are not saved


@pytest.mark.slow
def test_stream_loss_trains_each_stream_to_classify_alone(tmp_path):
    config = dataclasses.replace(CONFIG, epochs=4)
    _, probed = train(tiny_model("c"), dataclasses.replace(config, stream_probes=True), clip_set(), tmp_path / "probed", progress=False)
    model, supervised = train(tiny_model("c"), dataclasses.replace(config, stream_loss=1.0), clip_set(), tmp_path / "loss", progress=False)
    # with its own loss, the flow ConvLSTM stream alone separates the flow directions better than
    # a probe of the same stream trained by the fused loss only
    assert supervised[-1]["train_clip_acc_flow_clip"] > probed[-1]["train_clip_acc_flow_clip"]
    assert model.streams.keys() == {"rgb_clip", "flow_clip"} and not any("stream_heads" in k for k in model.state_dict())


def test_warm_start_begins_the_larger_model_where_the_trained_one_is(tmp_path):
    """(e) started from (c): the ConvLSTM streams and head copied, the dynamic-image
    streams silent, so (e) computes (c)'s logits until training opens them."""
    torch.manual_seed(0)
    trained = FourStreamNet(tiny_model("c"))
    save_model(trained, tmp_path / "c")
    model = FourStreamNet(tiny_model("e"))
    assert warm_start(model, tmp_path / "c.safetensors") == ["rgb_dynamic", "flow_dynamic"]
    inputs = random_inputs(model, batch=3)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(inputs), trained.eval()(inputs))
    # train() starts there: at learning rate 0 the shared weights stay the trained model's, the new streams silent.
    model, _ = train(tiny_model("e"), dataclasses.replace(CONFIG, epochs=1, lr=0.0, init_from=str(tmp_path / "c.safetensors")),
                     clip_set(), tmp_path / "e", progress=False)
    for name, value in trained.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value, msg=name)
    assert torch.count_nonzero(model.streams["rgb_dynamic"].project.weight) == 0


@pytest.mark.parametrize("source", ["a", "b", "c-wider", "a-into-d"])
def test_warm_start_refuses_a_model_that_does_not_fit(tmp_path, source):
    target = tiny_model("d" if source == "a-into-d" else "c")
    config = {
        "a": tiny_model("a"),  # no stream in common
        "b": tiny_model("b"),  # another cell
        "c-wider": dataclasses.replace(target, clip_input_gain=2.0),  # the same shapes, another input: other logits
        "a-into-d": dataclasses.replace(target, streams=("rgb_dynamic", "flow_dynamic")),  # d's conventional streams to add
    }[source]
    save_model(FourStreamNet(config), tmp_path / source)
    message = {"a": "shares no stream", "b": "other settings", "c-wider": "other settings",
               "a-into-d": "cannot add stream rgb_clip silent: a conventional"}[source]
    with pytest.raises(ValueError, match=f"{source}.safetensors: .*{message}"):
        warm_start(FourStreamNet(target), tmp_path / f"{source}.safetensors")


def test_the_fingerprint_reads_the_start_model_by_content(tmp_path):
    torch.manual_seed(0)
    save_model(FourStreamNet(tiny_model("c")), tmp_path / "c")
    model = tiny_model("e")
    here = dataclasses.replace(CONFIG, init_from=str(tmp_path / "c.safetensors"))
    spelled_otherwise = dataclasses.replace(CONFIG, init_from=str(tmp_path / "." / "c.safetensors"))
    before = settings_fingerprint(model, here, None)
    assert settings_fingerprint(model, spelled_otherwise, None) == before
    torch.manual_seed(1)
    save_model(FourStreamNet(tiny_model("c")), tmp_path / "c")  # another model in its place
    assert settings_fingerprint(model, here, None) != before


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")


def test_resume_with_other_settings_is_refused(tmp_path):
    one_epoch = dataclasses.replace(CONFIG, epochs=1)
    train(tiny_model("c"), one_epoch, clip_set(), tmp_path, progress=False)
    with pytest.raises(ValueError, match="other settings"):
        train(tiny_model("c"), dataclasses.replace(one_epoch, lr=0.5), clip_set(), tmp_path, progress=False)


@pytest.mark.slow
@needs_compiler()
def test_fused_gates_train_and_read_unfused_runs(tmp_path):
    """--fuse-gates: the fused model trains and is saved in the standard layout; a run made
    without it is taken up with it (a speed setting, not part of the fingerprint)."""
    config = dataclasses.replace(CONFIG, epochs=2, batch_size=6)
    train(tiny_model("c"), config, clip_set(), tmp_path / "plain", progress=False)
    _, history = train(tiny_model("c"), dataclasses.replace(config, fuse_gates=True), clip_set(), tmp_path / "plain", progress=False)
    assert [row["epoch"] for row in history] == [1, 2]  # read back, not refused
    model, history = train(tiny_model("c"), dataclasses.replace(config, fuse_gates=True), clip_set(), tmp_path / "fused", progress=False)
    assert np.isfinite(history[-1]["train_loss"])
    cells = [m for m in model.modules() if isinstance(m, ConvLSTMCell)]
    assert cells and all(cell.fused for cell in cells)
    loaded, _ = load_model(tmp_path / "fused" / "model")  # unfused, NCHW
    _, probs = evaluate(model, clip_set(seed=2), precision="float32")
    _, probs_loaded = evaluate(loaded, clip_set(seed=2), precision="float32")
    np.testing.assert_allclose(probs_loaded, probs, atol=1e-4)


def test_fingerprint_holds_the_precision_auto_resolved_to():
    """Resuming an "auto" run where auto means another precision is refused, not silent."""
    model = tiny_model("c")
    resolved = resolve_precision("auto", torch.device("cpu"))
    other = "float32" if resolved == "bfloat16" else "bfloat16"
    auto = settings_fingerprint(model, dataclasses.replace(CONFIG, precision="auto"), None)
    assert auto == settings_fingerprint(model, dataclasses.replace(CONFIG, precision=resolved), None)
    assert auto != settings_fingerprint(model, dataclasses.replace(CONFIG, precision=other), None)


def test_nan_loss_stops_with_a_clear_error(tmp_path):
    with pytest.raises(TrainingDiverged, match=r"loss is nan at epoch 1, step 1; no checkpoint yet"):
        train(tiny_model("c"), CONFIG, clip_set(corrupt=True), tmp_path, progress=False)


def test_batches_depend_on_seed_and_epoch_only():
    videos = np.arange(10)
    a = train_module.global_batches(videos, 4, seed=0, epoch=1)
    assert a == train_module.global_batches(videos, 4, seed=0, epoch=1)
    assert a != train_module.global_batches(videos, 4, seed=0, epoch=2)
    assert sorted(i for b in a for i in b) == list(range(10)) and [len(b) for b in a] == [4, 4, 2]


def test_clips_per_video_sampling():
    videos = np.repeat(np.arange(4), 5)  # 4 videos × 5 clips
    one = train_module.global_batches(videos, 3, seed=0, epoch=0, clips_per_video=1)
    chosen = [i for b in one for i in b]
    assert sorted(videos[chosen].tolist()) == [0, 1, 2, 3]  # every video, once
    two = train_module.global_batches(videos, 3, seed=0, epoch=0, clips_per_video=2)
    assert sorted(videos[[i for b in two for i in b]].tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]
    other_epoch = train_module.global_batches(videos, 3, seed=0, epoch=1, clips_per_video=1)
    assert sorted(i for b in other_epoch for i in b) != sorted(chosen)  # different clips next epoch


def test_video_loss_batches_hold_each_videos_clips_side_by_side():
    videos = np.array([0] * 5 + [1] * 5 + [2] * 1 + [3] * 5)  # video 2 has one clip
    batches = train_module.global_batches(videos, 4, seed=0, epoch=0, video_loss=2)
    order = [i for b in batches for i in b]
    assert [len(b) for b in batches] == [4, 4]  # 4 videos × 2 clips
    pairs = [order[i : i + 2] for i in range(0, len(order), 2)]
    assert sorted(int(videos[a]) for a, _ in pairs) == [0, 1, 2, 3]  # every video once a batch of pairs
    assert all(videos[a] == videos[b] for a, b in pairs)
    assert all(a != b for a, b in pairs if videos[a] != 2) and [10, 10] in pairs  # no repeats but where a video is short
    assert batches == train_module.global_batches(videos, 4, seed=0, epoch=0, video_loss=2)
    assert batches != train_module.global_batches(videos, 4, seed=0, epoch=1, video_loss=2)


def test_video_loss_takes_one_loss_on_each_videos_mean_logits(tmp_path, monkeypatch):
    """The first step's loss is the cross-entropy of each video's clips' mean logits: with
    the same initial weights, recomputed here from the model's outputs on those clips."""
    config = dataclasses.replace(CONFIG, epochs=1, batch_size=4, video_loss=2)
    clips = clip_set()
    first_batch = train_module.global_batches(clips.clip_videos, 4, config.seed, 0, None, 2)[0]
    seen = {}
    real_ce = torch.nn.functional.cross_entropy

    sums = []

    def recording_ce(logits, labels, **kwargs):
        seen.setdefault("first", (logits.detach().clone(), labels.clone()))
        loss = real_ce(logits, labels, **kwargs)
        sums.append(loss.item())
        return loss

    monkeypatch.setattr(torch.nn.functional, "cross_entropy", recording_ce)
    _, history = train(tiny_model("c"), config, clips, tmp_path, progress=False)
    # the epoch's loss is the mean per video (each video once an epoch), not per clip
    assert history[0]["train_loss"] == pytest.approx(sum(sums) / len(np.unique(clips.clip_videos)), rel=1e-6)
    logits, labels = seen["first"]
    assert logits.shape == (2, 6) and labels.shape == (2,)  # 2 videos, not 4 clips
    inputs, clip_labels, _ = collate([clips[i] for i in first_batch])
    assert labels.tolist() == clip_labels[::2].tolist()
    train_module.seed_everything(config.seed)  # the weights train() starts from
    with torch.no_grad():
        expected = FourStreamNet(tiny_model("c")).train()(inputs).unflatten(0, (2, 2)).mean(1)
    torch.testing.assert_close(logits, expected, atol=1e-5, rtol=1e-5)


def test_video_loss_must_divide_the_batch_and_leaves_clips_per_video_unset():
    with pytest.raises(ValueError, match="dividing batch_size"):
        TrainConfig(batch_size=8, video_loss=3)
    with pytest.raises(ValueError, match="clips_per_video unset"):
        TrainConfig(video_loss=2, clips_per_video=2)


def test_lr_schedule_warms_up_then_decays_to_zero():
    config = TrainConfig(epochs=4, warmup_epochs=1, precision="float32")
    factors = [train_module.lr_factor(s, 10, config) for s in range(40)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:])) and factors[-1] < 0.01


DDP_SCRIPT = textwrap.dedent(
    """
    import dataclasses, json, os, sys
    sys.path[:0] = {tests!r}
    import torch
    from conftest import clip_set, tiny_model
    from test_train import MIRRORED
    from fervid.training.train import train
    torch.set_num_threads(1)
    # with probes (which leave training unchanged), so that DDP wraps the network with its stream heads
    config = dataclasses.replace(MIRRORED, fuse_gates={fuse_gates!r}, stream_probes=True)
    _, history = train(tiny_model("c"), config, clip_set(), {out!r}, progress=False)
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    from fervid.models.convlstm import FUSED_ENHANCED_POINTWISE as fused
    with open({out!r} + f"/fused-{{rank}}.json", "w") as f:
        json.dump({{"compiled": fused.compiled is not None, "error": repr(fused.error)}}, f)
    if rank == 0:  # one writer: two ranks writing one file at once interleave their bytes
        with open({out!r} + "/history.json", "w") as f:
            json.dump(history, f)
    # Everything is written. Leave without the interpreter's teardown: once in CI (AMD EPYC,
    # fused gates, 2 ranks) a rank aborted there, after this point, with "terminate called
    # without an active exception" (a thread of torch's compiler outliving exit), which
    # failed the run though training had finished and matched.
    sys.stdout.flush(); sys.stderr.flush()
    os._exit(0)
    """
)


def _torchrun(tmp_path, procs: int, fuse_gates: bool = False) -> tuple[list[float], Path]:
    """The DDP script under torchrun with ``procs`` processes -> (training losses, run folder)."""
    out = tmp_path / f"p{procs}{'-fused' if fuse_gates else ''}"
    script = tmp_path / f"{out.name}.py"
    script.write_text(DDP_SCRIPT.format(tests=[str(Path(__file__).parent), str(Path(__file__).parents[1])], out=str(out), fuse_gates=fuse_gates))
    port = 29500 + 3 * (os.getpid() % 1000) + procs + fuse_gates
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(procs), "--master_port", str(port), str(script)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return [row["train_loss"] for row in json.load(open(out / "history.json"))], out


@pytest.fixture(scope="module")
def one_process_run(tmp_path_factory):
    return _torchrun(tmp_path_factory.mktemp("ddp"), 1)


def _assert_same_training(run, reference) -> None:
    (losses, out), (reference_losses, reference_out) = run, reference
    np.testing.assert_allclose(losses, reference_losses, rtol=1e-4)
    w1, _ = load_model(reference_out / "model")
    w2, _ = load_model(out / "model")
    for (name, a), b in zip(w1.state_dict().items(), w2.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5, msg=name)


@pytest.mark.slow
def test_two_process_ddp_on_cpu_matches_one_process(tmp_path, one_process_run):
    """torchrun, gloo backend, 2 processes: each global batch of 4 split 2 + 2 (with
    mirroring: each rank mirrors the clips of its share that one process would)."""
    _assert_same_training(_torchrun(tmp_path, 2), one_process_run)


@pytest.mark.slow
@needs_compiler()
def test_two_process_ddp_with_fused_gates_matches_one_process(tmp_path, one_process_run):
    """The same with --fuse-gates in both processes (each compiles its own graphs; DDP's
    gradient hooks meet the compiled steps' gradients): the training of one unfused
    process, to float rounding."""
    run = _torchrun(tmp_path, 2, fuse_gates=True)
    for rank in range(2):  # each process compiled, none fell back to eager
        assert json.load(open(run[1] / f"fused-{rank}.json")) == {"compiled": True, "error": "None"}, rank
    _assert_same_training(run, one_process_run)


def test_the_default_recipe_reaches_training_in_one_stage(tmp_path, monkeypatch):
    """TrainConfig() is the fervid recipe, and train() builds what it names: AdamW at its
    learning rate, mirrored clips, the per-stream heads when it weights their loss; it is
    stored with the model. The recipe is staged (tests/training/test_crossval.py follows it
    through both stages): train() alone refuses it, saying how to train in one stage."""
    assert TrainConfig() == RECIPES["fervid"] and RECIPES["fervid"].stage_epochs > 0
    with pytest.raises(ValueError, match="stage_epochs=0"):
        train(tiny_model("c"), TrainConfig(), clip_set(), tmp_path / "refused", progress=False)
    built = []
    for name in ("SGD", "AdamW"):
        real = getattr(torch.optim, name)
        monkeypatch.setattr(torch.optim, name, lambda *a, _name=name, _real=real, **k: built.append((_name, k)) or _real(*a, **k))
    mirrored = []
    real_mirror = train_module.mirror
    monkeypatch.setattr(train_module, "mirror", lambda inputs, flags: mirrored.append(flags) or real_mirror(inputs, flags))
    config = dataclasses.replace(TrainConfig(), epochs=1, stage_epochs=0, batch_size=4, precision="float32")  # one stage, shortened
    _, history = train(tiny_model("c"), config, clip_set(), tmp_path, progress=False)
    assert built == [("AdamW", {"lr": RECIPES["fervid"].lr})]
    assert mirrored and RECIPES["fervid"].mirror > 0
    assert ("train_clip_acc_flow_clip" in history[-1]) == (RECIPES["fervid"].stream_loss > 0)
    stored = json.loads((tmp_path / "model.json").read_text())["extra"]
    assert stored["train_config"]["recipe"] == "fervid" and stored["train_config"]["optimizer"] == "adamw"


def test_the_paper_recipe_resumes_runs_made_before_recipes():
    """Runs made with the old defaults (momentum SGD, lr 0.01, 30 epochs: TrainConfig() before
    the recipes) keep their fingerprint under --recipe paper, so they resume. The hash is the
    one the code at bc56b1e gave for TrainConfig(precision="float32") and this model."""
    config = dataclasses.replace(RECIPES["paper"], precision="float32")
    assert settings_fingerprint(build_config("small", "c"), config, {"ablation": "c"}) == "a8189e30a920f21b"


def test_the_fingerprint_follows_each_fields_role():
    """Method and run settings change the fingerprint; speed settings and the recipe's name
    do not; a setting added later is left out at the value the code had before it."""
    model = build_config("small", "c")
    base = settings_fingerprint(model, CONFIG, None)
    changed = {"epochs": 2, "lr": 0.5, "momentum": 0.5, "grad_clip": 1.0, "mirror": 0.25, "seed": 3, "compile": True,
               "device": "meta", "stream_loss": 0.5, "stream_probes": True, "trust": 0.2, "stage_epochs": 3}  # init_from: by its file's content, below
    for name, value in changed.items():
        assert settings_fingerprint(model, dataclasses.replace(CONFIG, **{name: value}), None) != base, name
    for name, value in {"loader_workers": 3, "fuse_gates": True, "recipe": "paper"}.items():
        assert settings_fingerprint(model, dataclasses.replace(CONFIG, **{name: value}), None) == base, name
    roles = {f.name: f.metadata["role"] for f in dataclasses.fields(TrainConfig)}
    assert set(roles.values()) <= {"method", "run", "speed", "label"}
