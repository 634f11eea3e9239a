"""Subject-group splits: deterministic, disjoint in subjects, covering everyone."""

import json
import random
from pathlib import Path

import pytest

from fervid.datasets import (
    VideoEntry,
    fold_split,
    read_split,
    subject_groups,
    write_split,
)
from fervid.labels import EXPRESSIONS

SUBJECTS = [f"s{i}" for i in range(1, 45) if i != 6]  # 43 subjects, as in the paper's copy of eNTERFACE'05


def _entries(subjects) -> list[VideoEntry]:
    return [VideoEntry(Path(f"{s}_{x}_{m}.avi"), x, s) for s in subjects for x in EXPRESSIONS for m in (1, 2)]


def test_groups_are_dealt_round_robin_in_natural_order():
    groups = subject_groups([f"s{i}" for i in (10, 2, 1, 12, 3, 11, 4)], k=3)
    assert groups == [["s1", "s4", "s12"], ["s2", "s10"], ["s3", "s11"]]


def test_groups_do_not_depend_on_input_order_or_repeats():
    shuffled = SUBJECTS * 3
    random.Random(0).shuffle(shuffled)
    assert subject_groups(shuffled, 5) == subject_groups(SUBJECTS, 5)


def test_groups_cover_everyone_once_with_sizes_within_one():
    groups = subject_groups(SUBJECTS, 5)
    flat = [s for g in groups for s in g]
    assert sorted(flat) == sorted(SUBJECTS) and len(flat) == len(set(flat))
    assert {len(g) for g in groups} == {8, 9}  # 43 = 3 x 9 + 2 x 8


def test_every_fold_is_subject_disjoint_and_every_video_is_tested_once():
    entries = _entries(SUBJECTS)
    tested = []
    for fold in range(5):
        train, test = fold_split(entries, 5, fold)
        assert not {e.subject for e in train} & {e.subject for e in test}
        assert len(train) + len(test) == len(entries)
        tested += test
    assert sorted(map(str, (e.path for e in tested))) == sorted(map(str, (e.path for e in entries)))


def test_too_many_groups_and_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="k=4 groups but only 3 subject"):
        subject_groups(["s1", "s2", "s3"], 4)
    with pytest.raises(ValueError, match="at least 2"):
        subject_groups(["s1", "s2"], 1)
    with pytest.raises(ValueError, match="test_group"):
        fold_split(_entries(["s1", "s2"]), 2, 2)


def test_explicit_groups_are_used_and_must_cover_the_entries():
    entries = _entries(["s1", "s2", "s3"])
    train, test = fold_split(entries, 2, 0, [["s3"], ["s1", "s2"]])
    assert {e.subject for e in test} == {"s3"}
    with pytest.raises(ValueError, match="s3 are in no group"):
        fold_split(entries, 2, 0, [["s1"], ["s2"]])


def test_split_file_round_trip(tmp_path):
    groups = subject_groups(SUBJECTS, 5)
    path = write_split(tmp_path / "run" / "split.json", groups, 2)
    doc = json.loads(path.read_text())
    assert doc["test_subjects"] == groups[2]
    assert set(doc["train_subjects"]) == set(SUBJECTS) - set(groups[2])
    assert read_split(path) == (groups, 2)
    assert [p.name for p in path.parent.iterdir()] == ["split.json"]  # no temporary file left


def test_bad_split_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="more than one group"):
        write_split(tmp_path / "a.json", [["s1", "s2"], ["s2"]], 0)
    bad = tmp_path / "b.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a split file"):
        read_split(bad)
