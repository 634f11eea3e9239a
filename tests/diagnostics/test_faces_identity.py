"""diagnostics/faces.py (several faces): the identity figures over all scenes together."""

import pytest

from fervid.diagnostics.faces import identity_totals


def test_identity_totals_weight_scenes_by_their_face_frames():
    rows = [{"true_faces": 2, "id_switches": 1, "coverage": 1.0, "visible": 30, "present": 30},
            {"true_faces": 2, "id_switches": 0, "coverage": 0.5, "visible": 10, "present": 5}]
    totals = identity_totals(rows)
    assert totals["id_switches_per_100_faces"] == 25
    assert totals["coverage"] == pytest.approx(35 / 40)  # 30 + 5 covered of 40 in view
    assert totals["idf1"] == pytest.approx(2 * 35 / (40 + 35))
