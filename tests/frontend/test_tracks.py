"""Several faces with stable ids (frontend.tracks), from detection lists made by hand:
the awkward cases one at a time."""

import numpy as np
import pytest

from fervid.clips.arrays import PreprocessSettings
from fervid.frontend.faces import AlignSettings, BlazeFace, Detection
from fervid.frontend.tracks import FaceTracks, TrackSettings

FRAME = np.full((240, 480, 3), 100, np.uint8)
MAX_GAP = AlignSettings().max_gap


def face(cx: float, cy: float = 120.0, width: float = 60.0) -> Detection:
    """A detection with its keypoints where a face's are (eyes, nose, mouth, ears)."""
    box = np.array([cx - width / 2, cy - width / 2, cx + width / 2, cy + width / 2])
    offsets = np.array([[-0.2, -0.15], [0.2, -0.15], [0, 0.05], [0, 0.25], [-0.45, -0.05], [0.45, -0.05]])
    return Detection(0.9, box, np.array([cx, cy]) + offsets * width)


@pytest.fixture(scope="module")
def detector():
    return BlazeFace()


def run(detector, frames: list[list[Detection]], **settings) -> tuple[list[dict[int, object]], FaceTracks]:
    tracks = FaceTracks(PreprocessSettings(), detector, TrackSettings(**settings))
    return [tracks.push_detections(FRAME, dets) for dets in frames], tracks


def ids_by_position(per_frame: list[dict[int, object]]) -> list[dict[int, float]]:
    """Per frame, face id -> the x centre of its crop box."""
    return [{i: (r.box[0] + r.box[2]) / 2 for i, r in results.items()} for results in per_frame]


def test_two_faces_keep_their_ids(detector):
    frames = [[face(100 + t), face(350 - t, width=50)] for t in range(30)]
    per_frame, tracks = run(detector, frames)
    assert all(sorted(r) == [0, 1] for r in per_frame)
    xs = ids_by_position(per_frame)
    assert all(x[0] < 200 < x[1] for x in xs)  # face 0 stays the left one


def test_two_faces_that_cross_keep_their_ids(detector):
    """Face 0 walks right and face 1 left, passing each other (boxes overlapping for a
    few frames); each id stays with its own face."""
    frames = [[face(100 + 8 * t, width=70), face(380 - 8 * t, cy=110, width=50)] for t in range(36)]
    per_frame, _ = run(detector, frames)
    xs = ids_by_position(per_frame)
    assert xs[0][0] < xs[0][1] and xs[-1][0] > xs[-1][1]  # they have crossed
    for t, x in enumerate(xs):
        assert abs(x[0] - (100 + 8 * t)) < 25 and abs(x[1] - (380 - 8 * t)) < 25, t


def test_a_face_gone_for_less_than_the_gap_keeps_its_id(detector):
    away = set(range(10, 10 + MAX_GAP))  # missing for max_gap frames: bridged
    frames = [[face(100)] + ([] if t in away else [face(300)]) for t in range(40)]
    per_frame, tracks = run(detector, frames)
    assert all(sorted(r) == [0, 1] for r in per_frame)  # bridged frames keep their crop
    assert [per_frame[t][1].detected for t in (9, 10, 10 + MAX_GAP)] == [True, False, True]
    assert tracks.next_id == 2


def test_a_face_gone_longer_than_the_gap_comes_back_as_a_new_face(detector):
    away = set(range(10, 10 + MAX_GAP + 5))
    frames = [[face(100)] + ([] if t in away else [face(300)]) for t in range(40)]
    per_frame, tracks = run(detector, frames)
    assert 1 not in per_frame[10 + MAX_GAP]  # its track ended
    back = 10 + MAX_GAP + 5
    assert sorted(per_frame[back]) == [0, 2]
    every = tracks.close()
    assert [(t.id, t.first_frame) for t in every] == [(0, 0), (1, 0), (2, back)]
    assert every[1].last_detected_frame == 9


def test_a_face_that_appears_mid_video_starts_there(detector):
    frames = [[face(100)] + ([face(300)] if t >= 17 else []) for t in range(30)]
    per_frame, tracks = run(detector, frames)
    assert [sorted(r) for r in per_frame[16:18]] == [[0], [0, 1]]
    assert [t.first_frame for t in tracks.close()] == [0, 17]


def test_more_faces_than_max_faces_keep_the_largest(detector):
    frames = [[face(80, width=40), face(220, width=80), face(380, width=60)] for _ in range(5)]
    per_frame, tracks = run(detector, frames, max_faces=2)
    assert all(len(r) == 2 for r in per_frame)
    widths = sorted(r.box[2] - r.box[0] for r in per_frame[-1].values())
    assert widths[0] > 45  # the 40-pixel face is the one left out


def test_faces_below_the_minimum_size_are_ignored(detector):
    per_frame, _ = run(detector, [[face(100, width=16), face(300)]] * 3, min_face_px=24)
    assert all(len(r) == 1 for r in per_frame)


def test_no_face_opens_no_track(detector):
    per_frame, tracks = run(detector, [[]] * 10)
    assert per_frame == [{}] * 10 and tracks.close() == []


def test_max_faces_must_be_positive():
    with pytest.raises(ValueError, match="max_faces"):
        TrackSettings(max_faces=0)
