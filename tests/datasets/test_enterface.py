"""The eNTERFACE'05 reader: a fake tree with the layout's known irregularities, and the
real fixture clips."""

import os
from pathlib import Path

import pytest
from conftest import FIXTURES  # noqa: E402

from fervid.datasets import (
    EXPRESSION_CODES,
    enterface_manifest,
    enterface_report,
    read_manifest,
    write_manifest,
)
from fervid.labels import EXPRESSIONS


def _touch(root: Path, rel: str, data: bytes = b"avi") -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def _regular_subject(root: Path, n: int) -> None:
    for label, code in EXPRESSION_CODES.items():
        for m in range(1, 6):
            _touch(root, f"subject {n}/{label}/sentence {m}/s{n}_{code}_{m}.avi")


@pytest.fixture
def tree(tmp_path):
    """A copy of the distributed layout with what real copies get wrong."""
    root = tmp_path / "enterface database"
    for n in (1, 2, 10):  # subject 6 absent, as in many copies
        _regular_subject(root, n)
    # Subject 3: no "sentence" level, capitalised / adjective folder names, odd file names.
    for label, code in EXPRESSION_CODES.items():
        folder = {"anger": "Anger", "happiness": "Happy", "sadness": "SAD"}.get(label, label)
        for m in range(1, 6):
            name = {1: f"s3_{code}_{m}.avi", 2: f"s_3_{code}_{m}.avi", 3: f"s3_{code}{m}.avi",
                    4: f"S3_{code.upper()}_{m}.AVI", 5: f"s03-{code}-{m}.avi"}[m]
            _touch(root, f"subject_3/{folder}/{name}")
    # Subject 4: one level deeper than "sentence M" (re-zipped), hyphenated folder name.
    for label, code in EXPRESSION_CODES.items():
        for m in range(1, 6):
            _touch(root, f"subject-4/{label}/sentence {m}/video/s4_{code}_{m}.avi")
    # Stray files.
    for rel in ["Thumbs.db", "subject 1/.DS_Store", "subject 1/anger/sentence 1/._s1_an_1.avi",
                "__MACOSX/subject 1/anger/._s1_an_1.avi", "subject 1/anger/sentence 1/s1_an_1.wav",
                "README.txt", "subject 2/anger/sentence 1/desktop.ini"]:
        _touch(root, rel)
    # Files that cannot be read unambiguously.
    _touch(root, "subject 2/anger/sentence 1/s2_di_1.avi")  # folder anger, file name disgust
    _touch(root, "subject 2/fear/sentence 1/s9_fe_1.avi")  # in subject 2's folder, named subject 9
    _touch(root, "subject 2/fear/sentence 1/s2_xx_1.avi")  # unknown code
    _touch(root, "subject 2/fear/sentence 1/take two.avi")  # breaks the pattern
    _touch(root, "subject 2/fear/sentence 2/s2_fe_2 (copy).avi")  # breaks the pattern
    _touch(root, "subject 2/fear/sentence 1/s2_fe_5.avi")  # sentence folder 1, name says 5: a copy of the one in 5
    _touch(root, "subject 1/surprise/sentence 2/s1_su_2.avi", b"")  # empty (a failed copy)
    # Subject 7: only partly present, with a misfiled file that is the only copy of its recording.
    _touch(root, "subject 7/sadness/sentence 2/s7_sa_3.avi")
    return root


def test_reads_every_usable_video_with_subject_label_sentence(tree):
    scan = enterface_manifest(tree)
    assert scan.layout == "eNTERFACE'05"
    entries = scan.entries
    by_subject = {}
    for e in entries:
        by_subject.setdefault(e.subject, []).append(e)
    assert sorted(by_subject) == ["s1", "s10", "s2", "s3", "s4", "s7"]
    for s in ("s2", "s3", "s4", "s10"):
        assert len(by_subject[s]) == 30, s
        assert {(e.label, e.extra["sentence"]) for e in by_subject[s]} == {
            (x, str(m)) for x in EXPRESSIONS for m in range(1, 6)}
    assert len(by_subject["s1"]) == 29  # the empty file is out
    # Label from the folder and the name agree for every entry that came in.
    for e in entries:
        code = EXPRESSION_CODES[e.label]
        assert code in e.path.stem.lower(), e.path
    assert all(e.extra["take"] == "1" for e in entries)


def test_misfiled_sentence_is_kept_with_a_note_unless_the_proper_copy_exists(tree):
    scan = enterface_manifest(tree)
    entries, skipped = scan.entries, scan.skipped
    (s7,) = [e for e in entries if e.subject == "s7"]
    assert s7.label == "sadness" and s7.extra["sentence"] == "3"
    assert "folder says sentence 2" in s7.extra["note"]
    proper = [e for e in entries if e.subject == "s2" and e.label == "fear" and e.extra["sentence"] == "5"]
    assert [e.path.parent.name for e in proper] == ["sentence 5"]
    reasons = {p.relative_to(tree).as_posix(): why for p, why in skipped}
    assert reasons["subject 2/fear/sentence 1/s2_fe_5.avi"].startswith("duplicate")


def test_skipped_files_come_back_with_their_reasons(tree):
    scan = enterface_manifest(tree)
    entries, skipped = scan.entries, scan.skipped
    reasons = {p.relative_to(tree).as_posix(): why for p, why in skipped}
    expected = {
        "Thumbs.db": "system file",
        "subject 1/.DS_Store": "system file",
        "subject 2/anger/sentence 1/desktop.ini": "system file",
        "subject 1/anger/sentence 1/._s1_an_1.avi": "hidden file",
        "__MACOSX": "__MACOSX",
        "subject 1/anger/sentence 1/s1_an_1.wav": "not an .avi",
        "README.txt": "not an .avi",
        "subject 2/anger/sentence 1/s2_di_1.avi": "means disgust, its folder says anger",
        "subject 2/fear/sentence 1/s9_fe_1.avi": "says subject 9, its folder says subject 2",
        "subject 2/fear/sentence 1/s2_xx_1.avi": "unknown expression code 'xx'",
        "subject 2/fear/sentence 1/take two.avi": "does not follow",
        "subject 2/fear/sentence 2/s2_fe_2 (copy).avi": "does not follow",
        "subject 1/surprise/sentence 2/s1_su_2.avi": "empty file",
    }
    for rel, why in expected.items():
        assert why in reasons.get(rel, "<not skipped>"), (rel, reasons.get(rel))
    # Nothing under __MACOSX is read; everything else is either an entry or skipped.
    listed = {e.path for e in entries} | {p for p, _ in skipped}
    for folder, _, files in os.walk(tree):
        for name in files:
            p = Path(folder) / name
            assert p in listed or "__MACOSX" in p.parts, p


def test_report_names_absent_subjects_short_subjects_and_skips(tree):
    scan = enterface_manifest(tree)
    entries, skipped = scan.entries, scan.skipped
    text = enterface_report(scan)
    assert text.splitlines()[0] == f"{len(entries)} videos of 6 subjects; {len(skipped)} skipped"
    assert "subject numbers absent: 5, 6, 8, 9" in text
    assert "s1 (29)" in text and "s7 (1)" in text and "s2 (30)" not in text
    assert "skipped: " + str(tree / "README.txt") in text


def test_manifest_of_the_tree_round_trips(tree, tmp_path):
    scan = enterface_manifest(tree)
    entries, _ = scan.entries, scan.skipped
    back = read_manifest(write_manifest(entries, tmp_path / "enterface.csv"))
    assert [(e.path, e.label, e.subject, e.extra["sentence"]) for e in back] == [
        (e.path, e.label, e.subject, e.extra["sentence"]) for e in entries]


def test_missing_root_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        enterface_manifest(tmp_path / "nope")


needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"real eNTERFACE'05 clips not present at {FIXTURES}")


@needs_fixtures
def test_real_fixture_clips_flat_folder():
    scan = enterface_manifest(FIXTURES)
    entries, skipped = scan.entries, scan.skipped
    assert [(e.path.name, e.label, e.subject, e.extra["sentence"]) for e in entries] == [
        ("s1_an_1.avi", "anger", "s1", "1"), ("s1_an_2.avi", "anger", "s1", "2"),
        ("s1_di_1.avi", "disgust", "s1", "1"), ("s1_di_2.avi", "disgust", "s1", "2"),
        ("s1_ha_1.avi", "happiness", "s1", "1"), ("s1_ha_2.avi", "happiness", "s1", "2"),
    ]
    assert [(p.name, why) for p, why in skipped] == [("SOURCE.txt", "not an .avi video (.txt)")]


@needs_fixtures
def test_real_fixture_clips_in_the_distributed_layout_decode(tmp_path):
    from fervid.frontend.video import read_video

    root = tmp_path / "db"
    for clip in sorted(FIXTURES.glob("*.avi")):
        label = {"an": "anger", "di": "disgust", "ha": "happiness"}[clip.stem.split("_")[1]]
        link = root / "subject 1" / label / f"sentence {clip.stem.split('_')[2]}" / clip.name
        link.parent.mkdir(parents=True)
        link.symlink_to(clip)
    scan = enterface_manifest(root)
    entries, skipped = scan.entries, scan.skipped
    assert skipped == [] and len(entries) == 6
    frames = {}
    for e in entries:
        info, it = read_video(e.path)
        assert (info.width, info.height, round(info.fps)) == (720, 576, 25)
        frames[e.path.name] = sum(1 for _ in it)
    assert frames == {"s1_an_1.avi": 85, "s1_an_2.avi": 71, "s1_di_1.avi": 99, "s1_di_2.avi": 91,
                      "s1_ha_1.avi": 63, "s1_ha_2.avi": 63}  # SOURCE.txt
