"""Figures: titles the font cannot draw fall back to escapes, without warnings; the
training curves mark where stage 2 begins."""

import warnings

import numpy as np

from fervid.evaluation.report import drawable, plot_curves, plot_timeline


def test_drawable_escapes_only_what_the_font_lacks():
    assert drawable("s1_an_1.avi: anger") == "s1_an_1.avi: anger"
    assert drawable("café.mp4") == "café.mp4"  # DejaVu Sans has é
    assert drawable("怒り.mp4: anger") == "\\u6012\\u308a.mp4: anger"


def test_timeline_of_a_video_named_in_japanese_draws_without_warnings(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns once per missing glyph
        path = plot_timeline(np.arange(4.0), np.full((4, 6), 1 / 6), tmp_path / "t.png", title="怒り.mp4: anger")
    assert path.stat().st_size > 0


def test_curves_mark_where_stage_two_begins_and_only_when_asked(tmp_path):
    history = [{"epoch": e, "train_loss": 2.0 - 0.1 * e, "train_clip_acc": 0.1 * e} for e in range(1, 7)]
    plain = plot_curves({"(e)": [history]}, tmp_path / "plain.png").read_bytes()
    again = plot_curves({"(e)": [history]}, tmp_path / "again.png").read_bytes()
    staged = plot_curves({"(e)": [history]}, tmp_path / "staged.png", stage_two_from=5).read_bytes()
    assert plain == again  # drawing is deterministic, so the difference below is the line
    assert staged != plain
