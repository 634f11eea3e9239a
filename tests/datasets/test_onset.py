"""The purely temporal toy tasks (fast vs slow onset; up vs down)."""

import pytest
import torch

from fervid.datasets.onset import TASKS, onset_clips


@pytest.mark.parametrize("task", sorted(TASKS))
def test_shapes_balance_and_determinism(task):
    clips, labels, subjects = onset_clips(3, 4, size=16, frames=12, seed=5, task=task)
    assert clips.shape == (12, 12, 3, 16, 16) and clips.dtype == torch.float32
    assert clips.min() >= -1 and clips.max() <= 1
    assert labels.tolist() == [0, 1] * 6 and subjects.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    again, _, _ = onset_clips(3, 4, size=16, frames=12, seed=5, task=task)
    assert torch.equal(clips, again)
    assert not torch.equal(clips, onset_clips(3, 4, size=16, frames=12, seed=6, task=task)[0])


def test_direction_is_in_the_change_not_in_the_subject():
    """The bar's movement darkens the rows it moves into and lightens the rows it leaves:
    in the last-minus-first difference (mean per row), the darkest row lies below the
    lightest for a downward move and above it for an upward one, in every clip."""
    clips, labels, _ = onset_clips(6, 4, size=32, seed=0, task="direction", noise=0.0)
    change = (clips[:, -1] - clips[:, 0]).mean(1)  # (N, S, S)
    profile = change.mean(2)  # (N, S) per row
    for p, label in zip(profile, labels):
        centre = int(p.abs().argmax())
        darkest, lightest = int(p.argmin()), int(p.argmax())
        assert (darkest > lightest) == (label == 0), (label, centre, darkest, lightest)


def test_onset_classes_end_at_the_same_apex():
    clips, labels, _ = onset_clips(4, 6, size=16, seed=1, task="onset", noise=0.0)
    last = clips[:, -1]
    same_subject = last.view(4, 6, *last.shape[1:])
    # within a subject, fast and slow clips end in nearly the same frame (up to brightness jitter)
    spread = (same_subject - same_subject.mean(1, keepdim=True)).abs().amax((2, 3, 4))
    assert spread.max() < 0.15


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="task"):
        onset_clips(2, 2, task="sideways")
    with pytest.raises(ValueError, match="clips per subject"):
        onset_clips(2, 1)
