"""16-frame clips with 8 frames of overlap; short videos padded; the model's RGB range."""

import numpy as np
import pytest

from fervid.clips.windows import (
    ClipWindow,
    clip_ending_at,
    clip_starts,
    padded_clip,
    rgb_to_unit,
)


def test_clip_starts():
    assert clip_starts(16) == [0]
    assert clip_starts(40) == [0, 8, 16, 24]
    assert clip_starts(47) == [0, 8, 16, 24]  # frames after the last full clip are not used
    assert clip_starts(48) == [0, 8, 16, 24, 32]
    assert clip_starts(5) == [0]  # shorter than a clip: one (padded) clip
    assert clip_starts(0) == []
    assert clip_starts(30, length=10, stride=10) == [0, 10, 20]


def test_a_clip_ends_at_its_last_frame():
    assert [clip_ending_at(f) for f in (14, 15, 16, 23, 24)] == [None, 0, None, 8, None]


def frame(value: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((2, 2, 3), value, np.uint8), np.full((2, 2, 2), value / 10, np.float32)


@pytest.mark.parametrize("n_frames", [5, 16, 40, 47])
def test_the_window_cuts_the_clips_of_clip_starts(n_frames):
    """Pushed frame by frame (streaming, preprocessing), the window completes the clips
    that clip_starts lists for the whole video, each holding its own frames."""
    window = ClipWindow()
    ended = []
    for i in range(n_frames):
        start = window.push(*frame(i))
        if start is not None:
            rgb, flow = window.frames()
            assert rgb[:, 0, 0, 0].tolist() == list(range(start, start + 16))
            ended.append(start)
    while window.needs_padding:
        start = window.push(*window.padding_frame())
        if start is not None:
            ended.append(start)
    assert ended == clip_starts(n_frames)
    if n_frames < 16:  # the last crop repeated, not moving
        rgb, flow = window.frames()
        assert rgb[:, 0, 0, 0].tolist() == list(range(n_frames)) + [n_frames - 1] * (16 - n_frames)
        assert np.all(flow[n_frames:] == 0) and np.all(flow[n_frames - 1] != 0)
    rgb, _ = window.frames(3)
    assert len(rgb) == 3


def test_padded_clip_pads_as_the_window_does():
    """Per-frame arrays of a short video padded as ClipWindow pads the crops."""
    window = ClipWindow()
    for i in range(5):
        window.push(*frame(i))
    while window.needs_padding:
        window.push(*window.padding_frame())
    rgb, _ = window.frames()
    own = np.stack([frame(i)[0] for i in range(5)])
    np.testing.assert_array_equal(padded_clip(own), rgb)
    whole = np.arange(20)
    assert padded_clip(whole) is whole


def test_a_window_that_was_never_fed_needs_no_padding():
    assert not ClipWindow().needs_padding


def test_rgb_to_unit_spans_minus_one_to_one():
    values = rgb_to_unit(np.array([0, 127, 255], np.uint8))
    assert values.dtype == np.float32
    np.testing.assert_allclose(values, [-1.0, 127 / 127.5 - 1, 1.0])
