"""Synthetic multi-face scenes: faces where their paths say, ground truth that matches."""

from fervid.datasets.synthetic.scenes import render_scene, scenes


def test_a_scene_draws_its_faces_where_the_truth_says():
    paths = scenes(n=12)["leave and return within the gap"]
    frames, truth = render_scene(paths, n=12, seed=3)
    assert len(frames) == 12 and frames[0].shape == (270, 480, 3)
    assert [t["label"] for t in truth] == [p.label for p in paths]
    for face in truth:
        assert len(face["boxes"]) == 12
    x0, y0, x1, y1 = map(int, truth[0]["boxes"][0])
    inside = frames[0][y0:y1, x0:x1].astype(float)
    outside = frames[0][: max(y0 - 20, 1), :40].astype(float)
    assert abs(inside.mean() - outside.mean()) > 10  # a face is drawn there, not the background


def test_a_face_out_of_view_has_no_box():
    paths = scenes(n=60)["leave and return after the gap"]
    _, truth = render_scene(paths, n=60)
    assert truth[1]["boxes"][30] is None and truth[1]["boxes"][10] is not None
