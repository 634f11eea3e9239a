"""Golden values: what fervid computes from a face's frames onwards, pinned before the
layout changes of issue 28, so that moving code cannot change a result unnoticed.

From fixed per-frame results (crops, flow, which frames had a face) of a 44-frame
video whose face appears at frame 3 and is lost for a few frames: the preprocessed
arrays (clip windows, padding, dynamic images), and a seeded, untrained configuration
(e) network's per-clip probabilities offline and streaming (frame by frame and 8 frames
a step). A short video (one padded clip) too. Values in tests/golden/frames_to_clips.json;
``FERVID_WRITE_GOLDEN=1 pytest tests/test_golden.py`` rewrites them (only when a change
of results is meant, said in its commit).
"""

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from fervid.clips.arrays import PreprocessSettings, VideoArrays, preprocess_video
from fervid.frontend.pipeline import FrameResult
from fervid.frontend.video import read_video
from fervid.models.fourstream import PRESETS, FourStreamNet, with_ablation
from fervid.models.resnet import ResNetConfig
from fervid.prediction import (
    Predictor,
    StreamingPredictor,
    load_predictor,
    predict_arrays,
    predict_video,
)

GOLDEN = Path(__file__).parent / "golden" / "frames_to_clips.json"
SIZE = 16
SETTINGS = PreprocessSettings(face_size=SIZE)
FPS = 20.0


def frame_results(n: int, first_face: int, lost: set[int], seed: int) -> list[FrameResult]:
    """A face that drifts and changes: smooth crops, flow that follows them."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    base = rng.uniform(40, 200, 3)
    results = []
    for i in range(n):
        if i < first_face:
            results.append(FrameResult(None, None, detected=False, lost=True, box=None))
            continue
        t = i / n
        rgb = base + 50 * np.sin(2 * np.pi * (xx[..., None] * (1 + t) + yy[..., None] * np.array([0.5, 1.0, 1.5]) + t))
        rgb = np.clip(rgb + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)
        flow = np.stack([0.3 * np.sin(2 * np.pi * (yy + t)), 0.2 * np.cos(2 * np.pi * (xx - t))], -1)
        flow = (flow + rng.normal(0, 0.02, flow.shape)).astype(np.float32)
        if i == first_face:
            flow[:] = 0.0  # no previous crop
        results.append(FrameResult(rgb, flow, detected=i not in lost, lost=i in lost, box=(10.0, 10.0, 50.0, 50.0)))
    return results


def arrays_of(results: list[FrameResult]) -> dict[str, np.ndarray]:
    with VideoArrays(SETTINGS, "golden") as builder:
        for r in results:
            builder.add(r)
        builder.finish()
        return {**builder.arrays(), "fps": np.array(FPS)}


@pytest.fixture(scope="module")
def predictor():
    base = PRESETS["small"]
    config = dataclasses.replace(
        with_ablation(base, "e"),
        face_size=SIZE,
        convlstm=dataclasses.replace(base.convlstm, hidden_channels=(4, 4, 4, 4)),
        resnet=ResNetConfig(stage_blocks=(1, 1, 1, 1)),
        fc_channels=(16, 16),
    )
    torch.manual_seed(0)
    model = FourStreamNet(config)
    with torch.no_grad():  # an untrained head gives near-uniform probabilities: spread them so changes show
        model.head[-1].weight.mul_(4.0)
    return Predictor(model.eval(), SETTINGS, "golden", precision="float32")


def streamed(predictor: Predictor, results: list[FrameResult], frames_per_step: int) -> list:
    streamer = StreamingPredictor(predictor, FPS, frames_per_step=frames_per_step)
    out = [p for r in results if (p := streamer.push_face(r)) is not None]
    last = streamer.flush()
    return out + ([last] if last is not None else [])


CASES = {"long": dict(n=44, first_face=3, lost={20, 21, 22}, seed=1), "short": dict(n=11, first_face=0, lost=set(), seed=2)}


def computed(predictor: Predictor) -> dict:
    values = {}
    for name, case in CASES.items():
        results = frame_results(**case)
        arrays = arrays_of(results)
        offline = predict_arrays(predictor, arrays, "golden")
        values[name] = {
            "clip_starts": arrays["clip_starts"].tolist(),
            "n_frames": int(arrays["n_frames"]),
            "frames_stored": len(arrays["rgb"]),
            "lost": arrays["lost"].astype(int).tolist(),
            "rgb_dynamic_sums": np.asarray(arrays["rgb_dynamic"], np.float64).sum((1, 2)).round(4).tolist(),
            "flow_dynamic_sums": np.asarray(arrays["flow_dynamic"], np.float64).sum((1, 2)).round(4).tolist(),
            "flow_sum": round(float(np.asarray(arrays["flow"], np.float64).sum()), 4),
            "clips": [c.to_dict() for c in offline.clips],
            "streamed": {str(step): [c.to_dict() for c in streamed(predictor, results, step)] for step in (1, 8)},
        }
    return values


def assert_close(got, want, path="") -> None:
    if isinstance(want, dict):
        assert sorted(got) == sorted(want), path
        for key in want:
            assert_close(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, abs=2e-4), path  # float32 kernels differ by CPU; rounding to 4-6 places
    else:
        assert got == want, path


def test_frames_to_clip_probabilities_match_the_golden_values(predictor):
    values = computed(predictor)
    if os.environ.get("FERVID_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(values, indent=1) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert_close(values, golden)
    long = golden["long"]
    # What the values say, checked here so a rewrite cannot pin nonsense:
    assert long["clip_starts"] == [0, 8, 16, 24]  # 44 frames: clips at 0, 8, 16, 24 (stride 8, length 16)
    assert [c["label"] for c in long["clips"]][0] == "no face"  # starts before the first face (frame 3)
    assert all(c["probs"] is not None for c in long["clips"][1:])
    assert len({c["label"] for c in long["clips"][1:]}) > 1 or max(long["clips"][1]["probs"].values()) < 0.99
    assert golden["short"]["clip_starts"] == [0] and golden["short"]["frames_stored"] == 16
    assert golden["short"]["clips"][0]["end_frame"] == 10
    for case in golden.values():
        for step in ("1", "8"):
            assert [c["probs"] is None for c in case["streamed"][step]] == [c["probs"] is None for c in case["clips"]]


# ---------------------------------------------------------------- recorded before issue 28, on a real clip

FIXTURE_GOLDEN = Path(__file__).parent / "golden" / "fixture"  # how it was made: its record.py


@pytest.fixture(scope="module")
def fixture_clip():
    from conftest import FIXTURES

    clip = FIXTURES / json.loads((FIXTURE_GOLDEN / "expected.json").read_text())["clip"]
    if not clip.is_file():
        pytest.skip(f"real eNTERFACE'05 fixture clip not found at {clip}")
    return clip


def arrays_match(arrays: dict, recorded) -> bool:
    """True if every array equals the recorded one exactly; False if they differ only as
    another CPU's float rounding can make them (a face box a hair off: crop pixels one
    level apart in under 0.5% of values, flow and dynamic images within 0.01); fails
    otherwise. The recording machine (tests/golden/fixture/record.py) gives exact."""
    assert sorted(arrays) == sorted(recorded.files)
    exact = True
    for name in recorded.files:
        got, want = np.asarray(arrays[name]), recorded[name]
        assert got.shape == want.shape and got.dtype == want.dtype, name
        if np.array_equal(got, want, equal_nan=True):
            continue
        exact = False
        if got.dtype == np.uint8:
            diff = np.abs(got.astype(int) - want.astype(int))
            assert diff.max() <= 1 and (diff > 0).mean() < 0.005, name
        else:
            np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), atol=0.01, err_msg=name)
    return exact


@pytest.fixture(scope="module")
def fixture_arrays(fixture_clip):
    return preprocess_video(fixture_clip, PreprocessSettings())


def test_a_real_clip_preprocesses_to_the_arrays_recorded_before_the_layout_change(fixture_arrays):
    arrays_match(fixture_arrays, np.load(FIXTURE_GOLDEN / "arrays.npz"))


def test_the_model_saved_before_the_layout_change_gives_the_same_probabilities(fixture_clip, fixture_arrays):
    expected = json.loads((FIXTURE_GOLDEN / "expected.json").read_text())
    exact = arrays_match(fixture_arrays, np.load(FIXTURE_GOLDEN / "arrays.npz"))
    tolerance = 1e-6 if exact else 2e-3  # the same inputs: the same probabilities to 1e-6
    predictor = load_predictor(FIXTURE_GOLDEN / "model", device="cpu", precision="float32")
    offline = predict_video(fixture_clip, predictor)
    info, frames = read_video(fixture_clip)
    streamer = StreamingPredictor(predictor, info.fps, frames_per_step=8)
    streamed = [p for f in frames if (p := streamer.push(f)) is not None]
    for name, clips in (("offline", offline.clips), ("streaming", streamed)):
        assert [c.start_frame for c in clips] == [c["start_frame"] for c in expected[name]], name
        for got, want in zip(clips, expected[name]):
            np.testing.assert_allclose(got.probs, want["probs"], atol=tolerance, err_msg=f"{name} clip {got.start_frame}")


def test_caches_made_before_the_layout_change_keep_their_keys():
    expected = json.loads((FIXTURE_GOLDEN / "expected.json").read_text())["cache_keys"]
    assert PreprocessSettings().key() == expected["default"]
    assert PreprocessSettings(face_size=112).key() == expected["paper_face_size"]
