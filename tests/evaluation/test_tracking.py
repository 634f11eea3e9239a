"""Identity switches and coverage of face tracks against ground truth."""

import pytest

from fervid.evaluation.tracking import identity_metrics


def box(x):
    return [x, 0.0, x + 10.0, 10.0]


def test_tracks_that_follow_their_faces_score_perfectly():
    truth = [[box(0)] * 5, [box(50)] * 5]
    tracks = {7: {t: box(0) for t in range(5)}, 9: {t: box(50) for t in range(5)}}
    result = identity_metrics(truth, tracks)
    assert result["id_switches"] == 0 and result["coverage"] == 1.0 and result["idf1"] == 1.0


def test_a_swap_halfway_is_two_switches_and_half_coverage():
    truth = [[box(0)] * 4, [box(50)] * 4]
    tracks = {1: {0: box(0), 1: box(0), 2: box(50), 3: box(50)}, 2: {0: box(50), 1: box(50), 2: box(0), 3: box(0)}}
    result = identity_metrics(truth, tracks)
    assert result["id_switches"] == 2 and result["id_switches_per_100_faces"] == 100.0
    assert result["coverage"] == pytest.approx(0.5)


def test_a_face_out_of_view_is_not_counted_and_an_unfollowed_one_is_uncovered():
    truth = [[box(0), None, box(0)], [box(50)] * 3]
    tracks = {3: {0: box(0), 2: box(0)}}
    result = identity_metrics(truth, tracks)
    assert result["id_switches"] == 0
    assert result["coverage"] == pytest.approx(2 / 5)  # 2 of the 5 face-frames in view
    assert result["id_precision"] == 1.0 and result["idf1"] == pytest.approx(2 * 2 / (5 + 2))


def test_a_track_that_lingers_lowers_precision_not_recall():
    truth = [[box(0), box(0), None, None]]
    tracks = {1: {0: box(0), 1: box(0), 2: box(0), 3: box(0)}}
    result = identity_metrics(truth, tracks)
    assert result["coverage"] == 1.0 and result["id_precision"] == 0.5
