"""Subject-group splits (paper: 5 groups, leave one group out): subjects in natural
order (s2 before s10) dealt round-robin into k groups, so a split is a function of
the subject list alone and is the same on every machine. The split is written as
JSON next to every result, because distributed copies of eNTERFACE'05 differ in
which subjects they hold."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..atomic import write_json
from .manifest import VideoEntry, natural_key

SPLIT_FORMAT = "fervid-split-1"


def subject_groups(subjects, k: int = 5) -> list[list[str]]:
    """Deal the distinct subjects, in natural order, round-robin into k groups:
    group g holds the g-th, (g+k)-th, ... subject. Group sizes differ by at most one."""
    unique = sorted(set(str(s) for s in subjects), key=natural_key)
    if k < 2:
        raise ValueError(f"k must be at least 2 (one test group and the rest for training), got {k}")
    if k > len(unique):
        raise ValueError(f"k={k} groups but only {len(unique)} subject(s): {', '.join(unique) or 'none'}")
    return [unique[g::k] for g in range(k)]


def fold_split(entries: list[VideoEntry], k: int, test_group: int,
               groups: list[list[str]] | None = None) -> tuple[list[VideoEntry], list[VideoEntry]]:
    """(train, test) entries for fold ``test_group``: test holds the subjects of that
    group, train everyone else. ``groups`` (e.g. read from a split file) overrides the
    groups computed from the entries; every entry's subject must be in one of them."""
    if groups is None:
        groups = subject_groups([e.subject for e in entries], k)
    elif len(groups) != k:
        raise ValueError(f"k={k} but the split has {len(groups)} groups")
    if not 0 <= test_group < k:
        raise ValueError(f"test_group must be in 0..{k - 1}, got {test_group}")
    test_subjects = set(groups[test_group])
    known = {s for g in groups for s in g}
    unknown = sorted({e.subject for e in entries} - known, key=natural_key)
    if unknown:
        raise ValueError(f"subject(s) {', '.join(unknown)} are in no group of the split")
    train = [e for e in entries if e.subject not in test_subjects]
    test = [e for e in entries if e.subject in test_subjects]
    return train, test


def write_split(path: str | os.PathLike, groups: list[list[str]], test_group: int) -> Path:
    """Write the split as JSON, atomically: the groups, the test group, and the test and
    train subjects spelled out."""
    path = Path(path)
    _check(groups, test_group, str(path))
    doc = {
        "format": SPLIT_FORMAT,
        "k": len(groups),
        "test_group": test_group,
        "groups": groups,
        "test_subjects": groups[test_group],
        "train_subjects": sorted((s for g, grp in enumerate(groups) if g != test_group for s in grp), key=natural_key),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_json(path, doc)


def read_split(path: str | os.PathLike) -> tuple[list[list[str]], int]:
    """(groups, test_group) from a file written by ``write_split``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        groups, test_group = doc["groups"], doc["test_group"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a split file ({exc})") from exc
    if doc.get("format") != SPLIT_FORMAT:
        raise ValueError(f"{path}: format {doc.get('format')!r}, expected {SPLIT_FORMAT!r}")
    _check(groups, test_group, str(path))
    return [[str(s) for s in g] for g in groups], int(test_group)


def _check(groups, test_group, where: str) -> None:
    if not isinstance(groups, list) or len(groups) < 2 or not all(isinstance(g, list) and g for g in groups):
        raise ValueError(f"{where}: a split needs at least 2 non-empty groups")
    flat = [s for g in groups for s in g]
    if len(flat) != len(set(flat)):
        raise ValueError(f"{where}: a subject is in more than one group")
    if not isinstance(test_group, int) or not 0 <= test_group < len(groups):
        raise ValueError(f"{where}: test_group must be in 0..{len(groups) - 1}, got {test_group!r}")
