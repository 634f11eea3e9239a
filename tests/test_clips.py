"""16-frame clips with 8 frames of overlap; short videos padded."""

import numpy as np

from fervid.clips import clip_starts, pad_to_length


def test_clip_starts():
    assert clip_starts(16) == [0]
    assert clip_starts(40) == [0, 8, 16, 24]
    assert clip_starts(47) == [0, 8, 16, 24]  # frames after the last full clip are not used
    assert clip_starts(48) == [0, 8, 16, 24, 32]
    assert clip_starts(5) == [0]  # shorter than a clip: one (padded) clip
    assert clip_starts(0) == []


def test_padding_repeats_last_frame_or_zeros():
    frames = np.arange(5 * 2).reshape(5, 2)
    padded = pad_to_length(frames, 8)
    assert padded.shape == (8, 2) and np.all(padded[5:] == frames[-1])
    zeros = pad_to_length(frames.astype(float), 8, repeat_last=False)
    assert np.all(zeros[5:] == 0) and np.all(zeros[:5] == frames)
    assert pad_to_length(frames, 3) is frames
