"""Figures: titles the font cannot draw fall back to escapes, without warnings."""

import warnings

import numpy as np

from fervid.evaluation.report import drawable, plot_timeline


def test_drawable_escapes_only_what_the_font_lacks():
    assert drawable("s1_an_1.avi: anger") == "s1_an_1.avi: anger"
    assert drawable("café.mp4") == "café.mp4"  # DejaVu Sans has é
    assert drawable("怒り.mp4: anger") == "\\u6012\\u308a.mp4: anger"


def test_timeline_of_a_video_named_in_japanese_draws_without_warnings(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns once per missing glyph
        path = plot_timeline(np.arange(4.0), np.full((4, 6), 1 / 6), tmp_path / "t.png", title="怒り.mp4: anger")
    assert path.stat().st_size > 0
