"""Predicting on new videos: offline and streaming agree, outputs follow the schema."""

import csv
import dataclasses
import json
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pytest
import torch
from conftest import (
    decoded_frames,
    face_frames,
    needs_compiler,
    write_frame_folder,
    write_video,
)

from fervid.checkpoint import CheckpointError
from fervid.cli import main
from fervid.clips.arrays import PreprocessSettings, preprocess_video
from fervid.clips.cache import PreprocessCache, preprocess
from fervid.clips.inputs import ClipSet
from fervid.frontend.video import VideoError, read_video
from fervid.labels import EXPRESSIONS
from fervid.models.fourstream import PRESETS, FourStreamNet, with_ablation
from fervid.models.resnet import ResNetConfig
from fervid.prediction import (
    NO_FACE,
    Predictor,
    StreamingPredictor,
    find_model,
    load_predictor,
    predict_arrays,
    predict_video,
    stream_frames,
    streaming_threads,
)
from fervid.training.recipes import STAGE_ONE, TrainConfig
from fervid.training.train import train

SETTINGS = PreprocessSettings(face_size=16)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny configuration (e) trained for a few steps on cartoon-face videos."""
    folder = tmp_path_factory.mktemp("model")
    videos = [write_video(folder / f"v{i}.avi", face_frames(24, 160, 120, seed=i)) for i in range(4)]
    preprocess(videos, folder / "cache", SETTINGS, progress=False)
    cache = PreprocessCache(folder / "cache", SETTINGS)
    base = PRESETS["small"]
    config = dataclasses.replace(
        with_ablation(base, "e"),
        face_size=16,
        convlstm=dataclasses.replace(base.convlstm, hidden_channels=(4, 4, 4, 4)),
        resnet=ResNetConfig(stage_blocks=(1, 1, 1, 1)),
        fc_channels=(16, 16),
    )
    clips = ClipSet([(str(v), EXPRESSIONS[i]) for i, v in enumerate(videos)], cache.load, 16, config.streams)
    train(config, TrainConfig(epochs=1, batch_size=4, stage_epochs=0), clips, folder / "run",
          extra={"preprocess": SETTINGS.to_dict(), "labels": list(EXPRESSIONS)}, progress=False)
    return folder / "run"


@pytest.mark.parametrize("precision,frames_per_step", [("float32", 1), ("bfloat16", 1), ("float32", 8), ("float32", 4)])
def test_offline_and_streaming_agree(model_dir, tmp_path, precision, frames_per_step):
    """Streaming steps its two open windows as one batch, 1 or more frames at a time;
    offline runs whole clips. Same clips, same values, out at the same frame."""
    video = write_video(tmp_path / "talk.avi", face_frames(40, 200, 150, seed=7), fps=20)
    predictor = load_predictor(model_dir, precision=precision)
    assert predictor.precision == precision
    offline = predict_video(video, predictor)
    info, frames = read_video(video)
    streamer = StreamingPredictor(predictor, info.fps, frames_per_step=frames_per_step)
    streamed = []
    for i, frame in enumerate(frames):
        out = streamer.push(frame)
        if out is not None:
            assert out.end_frame == i  # latency: out when the window's last frame is pushed
            streamed.append(out)
    assert [c.start_frame for c in offline.clips] == [c.start_frame for c in streamed] == [0, 8, 16, 24]
    for a, b in zip(offline.clips, streamed):
        if precision == "float32":
            assert a.label == b.label
            np.testing.assert_allclose(a.probs, b.probs, atol=1e-4)
        else:  # bfloat16 keeps 8 bits of mantissa; batches of other sizes round differently
            np.testing.assert_allclose(a.probs, b.probs, atol=2e-2)


def test_predict_video_reads_its_arrays_from_disk_and_leaves_nothing(model_dir, tmp_path, monkeypatch):
    """Memory flat in video length: the crops and flow wait in the temporary folder, read a
    clip at a time, and are gone afterwards; the predictions are those of the arrays in memory."""
    video = write_video(tmp_path / "talk.avi", face_frames(40, 200, 150, seed=7), fps=20)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    predictor = load_predictor(model_dir)
    on_disk = predict_video(video, predictor, tmp_path / "out", annotate=True)
    assert list(temporary.iterdir()) == []
    in_memory = predict_arrays(predictor, preprocess_video(video, predictor.settings), str(video))
    assert on_disk.to_dict() == in_memory.to_dict()
    assert (tmp_path / "out" / "talk_annotated.avi").is_file()


@pytest.mark.parametrize("frames_per_step", [1, 8])
def test_streaming_after_a_late_first_face_agrees_with_offline(model_dir, tmp_path, frames_per_step):
    """Windows opened before the first face are "no face"; the ones after step as one
    batch from zero state, as offline runs their clips whole."""
    blank = [np.full((150, 200, 3), 90, np.uint8)] * 12
    video = write_video(tmp_path / "late.avi", blank + face_frames(44, 200, 150, seed=3), fps=20)
    predictor = load_predictor(model_dir, precision="float32")
    offline = {c.start_frame: c for c in predict_video(video, predictor).clips}
    streamer = StreamingPredictor(predictor, 20, frames_per_step=frames_per_step)
    streamed = [out for frame in read_video(video)[1] if (out := streamer.push(frame)) is not None]
    assert 8 <= streamer.first_face <= 16
    assert [c.start_frame for c in streamed] == [0, 8, 16, 24, 32, 40]
    for clip in streamed:
        if clip.start_frame < streamer.first_face:
            assert clip.label == NO_FACE and clip.probs is None
        else:
            np.testing.assert_allclose(clip.probs, offline[clip.start_frame].probs, atol=1e-4)
    assert sum(c.probs is not None for c in streamed) >= 3


def test_pipelined_front_end_gives_the_same_predictions(model_dir):
    """stream_frames runs face detection and flow a thread ahead of the model: same clips,
    same probabilities, same order as running them one after the other."""
    predictor = load_predictor(model_dir, precision="float32")
    frames = list(face_frames(40, 200, 150, seed=3))
    plain = list(stream_frames(predictor, frames, 20.0, pipelined=False))
    piped = list(stream_frames(predictor, frames, 20.0, pipelined=True))
    assert [c.start_frame for c in piped] == [c.start_frame for c in plain] == [0, 8, 16, 24]
    for a, b in zip(plain, piped):
        np.testing.assert_array_equal(a.probs, b.probs)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_clip_streams_side_by_side_give_the_same_predictions(model_dir, precision):
    """On a CPU the RGB and flow streams step in two threads (autocast and inference mode
    are per thread, so the worker must enter both): bit for bit what one thread gives."""
    predictor = load_predictor(model_dir, precision=precision)
    frames = list(face_frames(40, 200, 150, seed=5))
    runs = {}
    for parallel in (False, True):
        streamer = StreamingPredictor(predictor, 20.0, parallel_streams=parallel)
        assert (streamer.pool is not None) == parallel
        runs[parallel] = [out for f in frames if (out := streamer.push(f)) is not None]
    assert [c.start_frame for c in runs[True]] == [c.start_frame for c in runs[False]] == [0, 8, 16, 24]
    for a, b in zip(runs[False], runs[True]):
        np.testing.assert_array_equal(a.probs, b.probs)
    assert not any(h.requires_grad for h in streamer.h_last.values())


def test_both_stream_threads_run_in_the_predictors_precision(model_dir):
    """Autocast is per thread: the pool's thread must enter it as the caller's does."""
    predictor = load_predictor(model_dir, precision="bfloat16")
    seen = []
    hooks = [predictor.model.streams[name].convlstm.register_forward_pre_hook(
        lambda module, args: seen.append((threading.current_thread().name, torch.is_autocast_enabled("cpu"))))
        for name in ("rgb_clip", "flow_clip")]
    try:
        streamer = StreamingPredictor(predictor, 20.0, parallel_streams=True)
        for frame in face_frames(16, 200, 150, seed=5):
            streamer.push(frame)
    finally:
        for hook in hooks:
            hook.remove()
    assert any(thread.startswith("fervid-stream") for thread, _ in seen)
    assert any(not thread.startswith("fervid-stream") for thread, _ in seen)
    assert all(enabled for _, enabled in seen)


def test_streaming_a_model_without_clip_streams(model_dir, tmp_path):
    """Configuration (a), the ResNet streams alone: nothing to step per frame, a
    prediction per window all the same, as offline."""
    trained = load_predictor(model_dir, precision="float32")
    config = dataclasses.replace(trained.model.config, streams=("rgb_dynamic", "flow_dynamic"))
    predictor = Predictor(FourStreamNet(config).eval(), trained.settings, "test", "float32")
    video = write_video(tmp_path / "a.avi", face_frames(24, 200, 150, seed=2), fps=20)
    offline = predict_video(video, predictor)
    for frames_per_step in (1, 8):
        streamer = StreamingPredictor(predictor, 20, frames_per_step=frames_per_step)
        streamed = [out for f in read_video(video)[1] if (out := streamer.push(f)) is not None]
        assert [c.start_frame for c in streamed] == [c.start_frame for c in offline.clips] == [0, 8]
        for a, b in zip(offline.clips, streamed):
            np.testing.assert_allclose(a.probs, b.probs, atol=1e-5)


def test_frames_per_step_must_divide_the_clip_stride(model_dir):
    predictor = load_predictor(model_dir, precision="float32")
    with pytest.raises(ValueError, match="divide the clip stride 8, got 3"):
        StreamingPredictor(predictor, frames_per_step=3)


def test_streaming_threads_share_the_cores_among_the_clip_streams(model_dir):
    predictor = load_predictor(model_dir, precision="float32")
    assert streaming_threads(predictor, cores=2) == 1
    assert streaming_threads(predictor, cores=8) == 4
    assert StreamingPredictor(predictor).pool is not None  # CPU: side by side by default


def test_front_end_error_reaches_the_caller_from_the_worker_thread(model_dir):
    predictor = load_predictor(model_dir, precision="float32")

    def frames():
        yield from face_frames(10, 200, 150, seed=3)
        raise VideoError("camera.avi: frame 10 could not be decoded")

    with pytest.raises(VideoError, match="camera.avi: frame 10"):
        list(stream_frames(predictor, frames(), 20.0, pipelined=True))


def test_closing_the_stream_early_does_not_hang_on_a_blocked_source(model_dir):
    """A live source (a camera) can block in a read; leaving the loop must not wait for it."""
    predictor = load_predictor(model_dir, precision="float32")
    release = threading.Event()

    def camera():
        yield from face_frames(16, 200, 150, seed=3)
        release.wait()  # no next frame until the test ends

    stream = stream_frames(predictor, camera(), 20.0, pipelined=True)
    assert next(stream).start_frame == 0
    closing = threading.Thread(target=stream.close, daemon=True)  # so that a hang fails, not stalls, the test
    closing.start()
    closing.join(timeout=20)
    hung = closing.is_alive()
    release.set()
    assert not hung


def test_predictor_resolves_auto_precision(model_dir):
    predictor = load_predictor(model_dir, precision="float32")
    made = Predictor(predictor.model, predictor.settings, "x", "auto")
    assert made.precision in ("float32", "bfloat16")
    with pytest.raises(ValueError, match="precision must be one of"):
        Predictor(predictor.model, predictor.settings, "x", "half")


@pytest.mark.parametrize("frames_per_step", [1, 4])
def test_short_video_one_clip_offline_and_streaming(model_dir, tmp_path, frames_per_step):
    """Shorter than a clip: padded to one clip in both paths; padding is not "no face"."""
    video = write_video(tmp_path / "short.avi", face_frames(6, 160, 120), fps=10)
    predictor = load_predictor(model_dir, precision="float32")
    offline = predict_video(video, predictor)
    assert len(offline.clips) == 1 and offline.clips[0].label != NO_FACE
    assert (offline.clips[0].end_frame, offline.clips[0].end_s) == (5, 0.6)
    streamer = StreamingPredictor(predictor, 10, frames_per_step=frames_per_step)
    _, frames = read_video(video)
    assert all(streamer.push(f) is None for f in frames)
    last = streamer.flush()
    assert (last.start_frame, last.end_frame, last.face_share) == (0, 5, 1.0)
    np.testing.assert_allclose(last.probs, offline.clips[0].probs, atol=1e-4)
    assert streamer.flush() is None


def test_outputs_follow_the_schema_and_frame_rate(model_dir, tmp_path):
    video = write_video(tmp_path / "clip one.avi", face_frames(33, 160, 120), fps=12.5)
    result = predict_video(video, model_dir, tmp_path / "out", annotate=True)
    doc = json.loads((tmp_path / "out" / "clip one.json").read_text())
    assert set(doc) == {"video", "model", "precision", "fps", "frames", "label", "probs", "clips"}
    assert doc["precision"] in ("float32", "bfloat16") and doc["model"].endswith("model")
    assert doc["fps"] == 12.5 and doc["frames"] == 33 and doc["label"] in EXPRESSIONS
    assert sum(doc["probs"].values()) == pytest.approx(1, abs=1e-4)
    assert [c["start_frame"] for c in doc["clips"]] == [0, 8, 16]
    for c in doc["clips"]:
        assert c["start_s"] == pytest.approx(c["start_frame"] / 12.5)
        assert c["end_s"] == pytest.approx((c["end_frame"] + 1) / 12.5)
        assert set(c["probs"]) == set(EXPRESSIONS)
    with open(tmp_path / "out" / "clip one.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and float(rows[1]["start_s"]) == pytest.approx(0.64)
    assert (tmp_path / "out" / "clip one_timeline.png").stat().st_size > 1000
    info, frames = read_video(tmp_path / "out" / "clip one_annotated.avi")
    assert (info.width, info.height, info.fps) == (160, 120, 12.5) and len(list(frames)) == 33
    assert result.label == doc["label"]


def test_spans_without_a_face_are_marked_not_guessed(model_dir, tmp_path):
    blank = [np.full((120, 160, 3), 90, np.uint8)] * 24
    video = write_video(tmp_path / "leaves.avi", face_frames(24, 160, 120) + blank)
    result = predict_video(video, model_dir)
    labels = [c.label for c in result.clips]
    assert labels[0] != NO_FACE and labels[-1] == NO_FACE
    assert result.clips[-1].probs is None and result.clips[-1].face_share < 0.5
    assert result.label != NO_FACE  # the video's label comes from the clips with a face


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_frame_folder_predicts_as_the_same_frames_as_a_video(model_dir, tmp_path, suffix):
    """The frames an MJPG video decodes to, written as images: the same preprocessed
    arrays and predictions, offline and streaming (PNG: exactly; JPEG: re-encoding moves
    pixels by a few levels, so a tolerance)."""
    video = write_video(tmp_path / "talk.avi", face_frames(32, 160, 120, seed=3), fps=30)
    folder = write_frame_folder(tmp_path / "talk_frames", decoded_frames(video), suffix)
    a, b = preprocess_video(video, SETTINGS), preprocess_video(folder, SETTINGS)
    assert float(b["fps"]) == 30.0 and int(a["n_frames"]) == int(b["n_frames"]) == 32
    for name in ("rgb", "flow", "rgb_dynamic", "flow_dynamic"):
        diff = np.abs(a[name].astype(np.float32) - b[name].astype(np.float32))
        if suffix == ".png":
            assert diff.max() == 0, name
        else:  # mean error over the arrays' range: uint8 crops, flow and dynamic images in [-1, 1]
            scale = 255.0 if a[name].dtype == np.uint8 else 2.0
            assert diff.mean() / scale < 0.02, (name, diff.mean())
    predictor = load_predictor(model_dir, precision="float32")
    offline_video, offline_folder = predict_video(video, predictor), predict_video(folder, predictor)
    info, frames = read_video(folder)
    streamed = [c for c in stream_frames(predictor, frames, info.fps)]
    assert len(offline_video.clips) == len(offline_folder.clips) == len(streamed) == 3
    for v, f, s in zip(offline_video.clips, offline_folder.clips, streamed):
        np.testing.assert_allclose(f.probs, s.probs, atol=1e-4)  # the folder, offline and streaming
        np.testing.assert_allclose(v.probs, f.probs, atol=1e-4 if suffix == ".png" else 0.05)


def test_bad_inputs(model_dir, tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_text("nope")
    with pytest.raises(VideoError, match="x.mp4"):
        predict_video(bad, model_dir)
    meta = json.loads((model_dir / "model.json").read_text())
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "model.safetensors").write_bytes((model_dir / "model.safetensors").read_bytes())
    meta["extra"]["labels"] = ["happy", "sad"]
    (wrong / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="fervid's are"):
        load_predictor(wrong)
    meta["extra"]["labels"] = list(EXPRESSIONS)
    meta["extra"]["preprocess"]["face_size"] = 32
    (wrong / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="32×32 faces, the model reads 16×16"):
        load_predictor(wrong)
    with pytest.raises(CheckpointError, match="no fervid model"):
        load_predictor(tmp_path / "nothing")


def test_a_run_folder_names_its_models_not_its_first_stage(tmp_path):
    """A staged `fervid train` folder holds its model and stage 1's (``stage1/``): the run
    folder means its own; stage 1's is reached by naming it."""
    run = tmp_path / "run"
    for fold_dir in (run / "e" / "fold0", run / STAGE_ONE / "c" / "fold0"):
        fold_dir.mkdir(parents=True)
        (fold_dir / "model.json").write_text("{}")
    assert find_model(run) == run / "e" / "fold0" / "model"
    assert find_model(run / STAGE_ONE) == run / STAGE_ONE / "c" / "fold0" / "model"
    (run / "a" / "fold0").mkdir(parents=True)
    (run / "a" / "fold0" / "model.json").write_text("{}")
    with pytest.raises(CheckpointError, match=r"holds 2 models \(a/fold0, e/fold0\); name one"):
        find_model(run)


def test_cli_predict_and_stream(model_dir, tmp_path, capsys):
    video = write_video(tmp_path / "v.avi", face_frames(24, 160, 120))
    assert main(["predict", str(video), "--model", str(model_dir), "-o", str(tmp_path / "o"), "--no-progress"]) == 0
    assert (tmp_path / "o" / "v.json").is_file()
    assert main(["stream", str(video), "--model", str(model_dir)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [c["start_frame"] for c in lines] == [0, 8]
    assert main(["stream", str(video), "--model", str(model_dir), "--frames-per-step", "1"]) == 0
    one_at_a_time = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [c["label"] for c in one_at_a_time] == [c["label"] for c in lines]
    assert main(["stream", str(video), "--model", str(model_dir), "--frames-per-step", "3"]) == 2
    assert "divide the clip stride" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "missing.avi"), "--model", str(model_dir), "-o", str(tmp_path / "o"), "--no-progress"]) == 1


def test_cli_predict_and_stream_a_frame_folder_at_a_given_rate(model_dir, tmp_path, capsys):
    folder = write_frame_folder(tmp_path / "seq" / "S005_001", face_frames(24, 160, 120))
    assert main(["predict", str(tmp_path / "seq"), "--model", str(model_dir), "-o", str(tmp_path / "o"),
                 "--frame-rate", "10", "--no-progress"]) == 0
    result = json.loads((tmp_path / "o" / "S005_001.json").read_text())
    assert result["fps"] == 10.0 and result["clips"][1]["start_s"] == pytest.approx(0.8)  # clip 1 starts at frame 8
    assert main(["stream", str(folder), "--model", str(model_dir), "--frame-rate", "10"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [c["start_frame"] for c in lines] == [0, 8] and lines[1]["start_s"] == pytest.approx(0.8)


def test_same_named_inputs_get_outputs_that_do_not_overwrite_each_other(model_dir, tmp_path, capsys):
    """CK+'s layout: S005/001 and S010/001 are both frame folders named 001."""
    for subject in ("S005", "S010"):
        write_frame_folder(tmp_path / "ck" / subject / "001", face_frames(20, 160, 120))
    write_frame_folder(tmp_path / "ck" / "S010" / "002", face_frames(20, 160, 120))
    assert main(["predict", str(tmp_path / "ck"), "--model", str(model_dir), "-o", str(tmp_path / "o"), "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "o").glob("*.json")) == ["002.json", "S005_001.json", "S010_001.json"]
    out = capsys.readouterr().out
    assert f"-> {tmp_path / 'o' / 'S005_001.json'}" in out and f"-> {tmp_path / 'o' / '002.json'}" in out
    assert json.loads((tmp_path / "o" / "S010_001.json").read_text())["video"] == str(tmp_path / "ck" / "S010" / "001")


def test_stream_into_a_reader_that_stops_early_exits_quietly(model_dir, tmp_path):
    """`fervid stream video | head -1`: the reader closes the pipe after one clip; the
    stream stops without a traceback or an error exit."""
    video = write_video(tmp_path / "long.avi", face_frames(160, 160, 120), fps=20)
    process = subprocess.Popen([sys.executable, "-m", "fervid.cli", "stream", str(video), "--model", str(model_dir),
                                "--frames-per-step", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()  # what head does after its line
    _, errors = process.communicate(timeout=120)
    assert json.loads(first)["start_frame"] == 0
    assert process.returncode == 0, errors.decode()
    assert b"Broken pipe" not in errors and b"Traceback" not in errors


def _streamed(predictor, frames, fps=20.0):
    streamer = StreamingPredictor(predictor, fps)
    return [out for f in frames if (out := streamer.push(f)) is not None]


def test_fused_streaming_does_not_wait_for_the_compiler(model_dir, monkeypatch):
    """``--fuse-gates`` for prediction: while the background compiler works (here held
    until the stream ends), every step runs eagerly and the predictions come out; once it
    is done, steps take the compiled graphs. The compiler is a stand-in that records its
    calls, so this runs without a C++ compiler."""
    from fervid.models import compiling, convlstm

    release, compiled_calls = threading.Event(), []

    def stand_in_compiler(fn):
        def compiled(*args):
            if threading.current_thread().name == "fervid-compile":
                assert release.wait(60), "the test never released the compiler"
            compiled_calls.append(threading.current_thread().name)
            return fn(*args)
        return compiled

    monkeypatch.setattr(convlstm.torch, "compile", stand_in_compiler)
    monkeypatch.setattr(convlstm, "FUSED_ENHANCED_POINTWISE", compiling.Fused(convlstm.enhanced_pointwise))
    fused = convlstm.FUSED_ENHANCED_POINTWISE
    frames = list(face_frames(40, 200, 150, seed=5))
    eager = _streamed(load_predictor(model_dir, precision="float32"), frames)
    predictor = load_predictor(model_dir, precision="float32", fuse_gates=True)

    first_pass = _streamed(predictor, frames)  # the compiler thread is blocked throughout
    assert compiled_calls == [] and fused.queued and not fused.ready
    release.set()
    assert convlstm.wait_for_background_compiles(60)
    assert fused.ready == fused.queued  # t = 0, 1, >= 2 at each batch size of the open windows
    compiled_calls.clear()
    second_pass = _streamed(predictor, frames)
    assert compiled_calls and set(compiled_calls) <= {"MainThread", "fervid-stream_0"}  # the graphs, in the stepping threads
    for a, b, c in zip(eager, first_pass, second_pass, strict=True):  # to rounding: the fused stacks run channels-last
        np.testing.assert_allclose(a.probs, b.probs, atol=1e-6)
        np.testing.assert_allclose(a.probs, c.probs, atol=1e-6)


@pytest.mark.slow
@needs_compiler()
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_fused_streaming_with_the_real_compiler_agrees(model_dir, precision, monkeypatch):
    """The same with torch.compile itself, in the precision's autocast: the compiler
    thread enters the stepping threads' modes, so the graphs it compiles are the ones
    their calls select (once compiled, a pass compiles nothing more), and they give the
    unfused predictions to rounding."""
    from torch._dynamo.utils import counters

    from fervid.models import compiling, convlstm

    for name, fn in (("FUSED_LSTM_POINTWISE", convlstm.lstm_pointwise), ("FUSED_ENHANCED_POINTWISE", convlstm.enhanced_pointwise)):
        monkeypatch.setattr(convlstm, name, compiling.Fused(fn))  # no graph or error left by other tests
    fused = convlstm.FUSED_ENHANCED_POINTWISE
    frames = list(face_frames(40, 200, 150, seed=6))
    eager = _streamed(load_predictor(model_dir, precision=precision), frames)
    predictor = load_predictor(model_dir, precision=precision, fuse_gates=True)
    _streamed(predictor, frames)
    assert convlstm.wait_for_background_compiles(300)
    assert fused.error is None and fused.queued and fused.ready == fused.queued
    # The compiled graphs' outputs are laid out as eager's are not (strides of size-1
    # dimensions, which torch.compile guards on), so a pass meets new variants, compiled in
    # the background in their turn; which ones depends on which calls of the pass before
    # found their graph ready (timing), so passes repeat until one compiles nothing: from
    # then on every call finds its graph, and nothing is compiled in the caller.
    passes = []
    for _ in range(5):
        graphs = counters["stats"]["unique_graphs"]
        passes.append(_streamed(predictor, frames))
        assert convlstm.wait_for_background_compiles(300)
        if counters["stats"]["unique_graphs"] == graphs:
            break
    assert counters["stats"]["unique_graphs"] == graphs, "the stream's variants never closed"
    assert fused.error is None and fused.ready == fused.queued
    for streamed in passes:
        for a, b in zip(eager, streamed, strict=True):
            np.testing.assert_allclose(a.probs, b.probs, atol=1e-4 if precision == "float32" else 2e-2)
