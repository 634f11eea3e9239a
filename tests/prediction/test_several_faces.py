"""Several faces in one video (``fervid predict/stream --max-faces``): a prediction per
face, offline and streaming alike, no face's crops leaking into another's, and the
one-face outputs as they were."""

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import draw_face, write_frame_folder

from fervid.cli import main
from fervid.clips.arrays import preprocess_video
from fervid.frontend.faces import NoFaceError
from fervid.frontend.video import read_video
from fervid.prediction import load_predictor, predict_video, stream_faces

MODEL = Path(__file__).resolve().parents[1] / "golden" / "fixture" / "model"  # a small untrained model, face size 32


def scene(faces, n: int = 44, width: int = 400, height: int = 200, seed: int = 0) -> list[np.ndarray]:
    """n frames with the cartoon faces ``faces(t) -> [(cx, cy, size), ...]`` on a noisy background."""
    rng = np.random.default_rng(seed)
    frames = []
    for t in range(n):
        frame = cv2.add(np.full((height, width, 3), (90, 110, 100), np.uint8), rng.integers(0, 12, (height, width, 3), dtype=np.uint8))
        for cx, cy, size in faces(t):
            draw_face(frame, cx, cy, size, mouth_open=0.5 + 0.5 * np.sin(t / 2))
        frames.append(frame)
    return frames


def left(t):
    return (100 + 0.3 * t, 100, 90)


def right(t):
    return (300 - 0.3 * t, 100, 70)


@pytest.fixture(scope="module")
def predictor():
    return load_predictor(MODEL, device="cpu", precision="float32")


@pytest.fixture(scope="module")
def two_faces(tmp_path_factory):
    """A frame folder (lossless, so that the pixels of one face do not depend on the
    other's presence through the codec) of two faces side by side, the left one larger."""
    return write_frame_folder(tmp_path_factory.mktemp("two") / "two", scene(lambda t: [left(t), right(t)]))


def test_each_face_gets_its_own_track_and_prediction(predictor, two_faces, tmp_path):
    result = predict_video(two_faces, predictor, tmp_path, annotate=True, max_faces=4)
    assert [(f.id, f.first_frame, f.last_frame) for f in result.faces] == [(0, 0, 43), (1, 0, 43)]
    assert all([c.start_frame for c in f.clips] == [0, 8, 16, 24] for f in result.faces)
    written = json.loads((tmp_path / "two.json").read_text())
    assert [set(f) for f in written["faces"]] == [{"id", "first_frame", "last_frame", "label", "probs", "clips"}] * 2
    assert written["clips"] == written["faces"][0]["clips"]  # the top level: the main face (longest; first on a tie)
    with open(tmp_path / "two.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["face"] for r in rows] == ["0"] * 4 + ["1"] * 4
    for name in ("two_timeline.png", "two_timeline_face0.png", "two_timeline_face1.png", "two_annotated.avi"):
        assert (tmp_path / name).is_file(), name


def test_a_face_predicts_as_in_a_video_of_it_alone(predictor, two_faces, tmp_path):
    """The tracks do not leak into each other: each face's crop boxes and clip probabilities
    are those of the same frames with the other face left out, through the one-face path.
    Not exactly: the detector reads the whole frame, and the other face moves this one's
    box by under 0.1 pixel here (0.1% of its width), which this untrained, deliberately
    sharp model turns into up to 0.03 of probability. Stated bounds: 0.5 pixel, 0.05."""
    together = predict_video(two_faces, predictor, max_faces=4)
    for face, path in ((0, left), (1, right)):
        alone = write_frame_folder(tmp_path / f"alone{face}", scene(lambda t: [path(t)]))
        boxes = preprocess_video(alone, predictor.settings)["boxes"][:44]
        np.testing.assert_allclose(np.array(together.faces[face].boxes), boxes, atol=0.5)
        one = predict_video(alone, predictor)  # the one-face path
        assert [c.start_frame for c in one.clips] == [c.start_frame for c in together.faces[face].clips]
        for a, b in zip(one.clips, together.faces[face].clips):
            np.testing.assert_allclose(a.probs, b.probs, atol=0.05)


def test_streaming_gives_each_face_what_offline_gives(predictor, two_faces):
    offline = predict_video(two_faces, predictor, max_faces=4)
    expected = {(f.id, c.start_frame): c for f in offline.faces for c in f.clips}
    info, frames = read_video(two_faces)
    streamed = list(stream_faces(predictor, frames, info.fps, max_faces=4))
    assert sorted((face, c.start_frame) for face, c in streamed) == sorted(expected)
    for face, clip in streamed:
        np.testing.assert_allclose(clip.probs, expected[(face, clip.start_frame)].probs, atol=1e-5)
        assert clip.end_frame == expected[(face, clip.start_frame)].end_frame


def test_a_face_appearing_mid_video_is_numbered_from_the_video(predictor, tmp_path):
    video = write_frame_folder(tmp_path / "late", scene(lambda t: [left(t)] + ([right(t)] if t >= 12 else [])))
    result = predict_video(video, predictor, max_faces=4)
    assert [(f.id, f.first_frame, f.last_frame) for f in result.faces] == [(0, 0, 43), (1, 12, 43)]
    assert [c.start_frame for c in result.faces[1].clips] == [16, 24]  # on the video's clip grid
    assert result.clips == result.faces[0].clips


def test_max_faces_one_is_the_one_face_path(predictor, two_faces):
    """Without --max-faces, outputs are what they were: no faces list, one face followed."""
    result = predict_video(two_faces, predictor)
    assert result.faces == [] and "faces" not in result.to_dict()


def test_a_video_without_a_face_is_refused_naming_it(predictor, tmp_path):
    video = write_frame_folder(tmp_path / "empty", scene(lambda t: [], n=20))
    with pytest.raises(NoFaceError, match="empty"):
        predict_video(video, predictor, max_faces=2)


def test_cli_stream_names_each_face(two_faces, capsys):
    assert main(["stream", str(two_faces), "--model", str(MODEL), "--max-faces", "2", "--precision", "float32"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted({line["face"] for line in lines}) == [0, 1]
    assert all(line["start_frame"] in (0, 8, 16, 24) for line in lines)


def test_a_face_joining_the_batch_mid_stream_predicts_as_offline(predictor, tmp_path):
    """The late face's state starts empty while the other's is running: stepped together
    (its rows as zeros in the batch), it gives what offline gives."""
    video = write_frame_folder(tmp_path / "late", scene(lambda t: [left(t)] + ([right(t)] if t >= 12 else []), n=52))
    offline = predict_video(video, predictor, max_faces=4)
    expected = {(f.id, c.start_frame): c for f in offline.faces for c in f.clips}
    info, frames = read_video(video)
    streamed = list(stream_faces(predictor, frames, info.fps, max_faces=4, frames_per_step=4))
    assert sorted((face, c.start_frame) for face, c in streamed) == sorted(expected)
    for face, clip in streamed:
        np.testing.assert_allclose(clip.probs, expected[(face, clip.start_frame)].probs, atol=1e-5)


def test_a_face_that_leaves_mid_video_streams_as_offline(predictor, tmp_path):
    """The right face goes at frame 26: its track keeps its last crop for the gap (12
    frames) and then ends; offline keeps those bridged frames as streaming must, and both
    give the same clips."""
    video = write_frame_folder(tmp_path / "leaves", scene(lambda t: [left(t)] + ([right(t)] if t < 26 else []), n=52))
    offline = predict_video(video, predictor, max_faces=4)
    assert [(f.id, f.first_frame, f.last_frame) for f in offline.faces] == [(0, 0, 51), (1, 0, 37)]
    expected = {(f.id, c.start_frame): c for f in offline.faces for c in f.clips}
    assert [c.start_frame for c in offline.faces[1].clips] == [0, 8, 16]
    info, frames = read_video(video)
    streamed = list(stream_faces(predictor, frames, info.fps, max_faces=4))
    assert sorted((face, c.start_frame) for face, c in streamed) == sorted(expected)
    for face, clip in streamed:
        want = expected[(face, clip.start_frame)]
        assert (clip.end_frame, clip.label) == (want.end_frame, want.label)
        if want.probs is not None:
            np.testing.assert_allclose(clip.probs, want.probs, atol=1e-5)


def test_frames_per_step_is_checked_before_any_face_appears(predictor):
    with pytest.raises(ValueError, match="frames_per_step"):
        list(stream_faces(predictor, [], 25.0, max_faces=2, frames_per_step=3))


def test_windows_ending_together_keep_their_own_predictions(predictor):
    """Three faces whose windows end at the same frame, the middle one without a face in
    it: classified as one batch (``finish_windows``), each face gets what it gets streamed
    alone, and the faceless one no probabilities."""
    from fervid.frontend.pipeline import FrameResult
    from fervid.prediction import FaceStreams

    size = predictor.settings.face_size

    def face(seed):
        own = np.random.default_rng(seed)
        return [FrameResult(own.integers(0, 256, (size, size, 3), dtype=np.uint8),
                            own.uniform(-0.2, 0.2, (size, size, 2)).astype(np.float32), True, False, (0, 0, 1, 1))
                for _ in range(16)]

    faceless = [FrameResult(None, None, False, True, None)] * 16
    frames = {0: face(1), 1: faceless, 2: face(2)}

    def streamed(ids):
        streams = FaceStreams(predictor, frames_per_step=8)
        out = []
        for i in range(16):
            out += streams.push_faces(i, {k: frames[k][i] for k in ids})
        return {k: p for k, p in out}

    together = streamed([0, 1, 2])
    assert sorted(together) == [0, 1, 2] and together[1].probs is None
    for k in (0, 2):
        alone = streamed([k])[k]
        assert together[k].probs is not None
        np.testing.assert_allclose(together[k].probs, alone.probs, atol=1e-5)
    assert not np.allclose(together[0].probs, together[2].probs)
