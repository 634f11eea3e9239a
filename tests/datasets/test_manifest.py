"""The manifest CSV: round trip, relative paths, validation errors that name file and line."""

import csv
from pathlib import Path

import pytest

from fervid.datasets import (
    ManifestError,
    VideoEntry,
    read_manifest,
    summarize,
    write_manifest,
)


def _videos(folder: Path, names: list[str]) -> list[Path]:
    paths = []
    for name in names:
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"not decoded by the manifest")
        paths.append(p)
    return paths


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_keeps_entries_and_extra_columns(tmp_path):
    a, b = _videos(tmp_path, ["subject 1/s1_an_1.avi", "subject 2/s2_ha_3.avi"])
    entries = [VideoEntry(a, "anger", "s1", {"sentence": "1"}), VideoEntry(b, "happiness", "s2", {"take": "3"})]
    path = write_manifest(entries, tmp_path / "manifest.csv")
    back = read_manifest(path)
    assert [(e.path, e.label, e.subject) for e in back] == [(a, "anger", "s1"), (b, "happiness", "s2")]
    # Every row gets every extra column, empty where an entry had none.
    assert back[0].extra == {"sentence": "1", "take": ""} and back[1].extra == {"sentence": "", "take": "3"}


def test_paths_inside_the_folder_are_written_relative_and_move_with_it(tmp_path):
    (video,) = _videos(tmp_path / "set", ["subject 1/s1_an_1.avi"])
    (outside,) = _videos(tmp_path / "elsewhere", ["x.avi"])
    write_manifest([VideoEntry(video, "anger", "s1"), VideoEntry(outside, "fear", "s2")], tmp_path / "set" / "m.csv")
    rows = list(csv.reader(open(tmp_path / "set" / "m.csv")))
    assert rows[0] == ["path", "label", "subject"]
    assert rows[1][0] == "subject 1/s1_an_1.avi"
    assert Path(rows[2][0]).is_absolute()
    moved = tmp_path / "moved"
    (tmp_path / "set").rename(moved)
    back = read_manifest(moved / "m.csv")
    assert back[0].path == moved / "subject 1" / "s1_an_1.avi"


def test_write_is_atomic_and_refuses_a_video_listed_twice(tmp_path):
    (a,) = _videos(tmp_path, ["a.avi"])
    path = write_manifest([VideoEntry(a, "anger", "s1")], tmp_path / "m.csv")
    before = path.read_text()
    with pytest.raises(ValueError, match="twice"):
        write_manifest([VideoEntry(a, "anger", "s1"), VideoEntry(a, "fear", "s1")], path)
    assert path.read_text() == before  # the old manifest survives a failed write
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


@pytest.mark.parametrize(
    "rows, line, message",
    [
        ("a.avi,anger,s1\nb.avi,joy,s1\n", 3, "unknown label 'joy'"),
        ("a.avi,anger,s1\nmissing.avi,fear,s1\n", 3, "video file or frame folder not found"),
        ("a.avi,anger,s1\nb.avi,fear,s2\n./a.avi,fear,s3\n", 4, "duplicate row.*line 2"),
        ("a.avi,anger,\n", 2, "empty subject"),
        ("a.avi,anger,s1,extra\n", 2, "4 fields, the header has 3"),
    ],
)
def test_invalid_rows_name_the_file_and_the_line(tmp_path, rows, line, message):
    _videos(tmp_path, ["a.avi", "b.avi"])
    path = _write_csv(tmp_path / "m.csv", "path,label,subject\n" + rows)
    with pytest.raises(ManifestError, match=message) as err:
        read_manifest(path)
    assert f"m.csv:{line}:" in str(err.value)


def test_missing_column_is_reported_on_the_header_line(tmp_path):
    path = _write_csv(tmp_path / "m.csv", "path,label\na.avi,anger\n")
    with pytest.raises(ManifestError, match=r"m\.csv:1: missing column\(s\) subject"):
        read_manifest(path)


def test_tolerates_bom_blank_lines_case_and_spaces(tmp_path):
    _videos(tmp_path, ["a.avi", "b.avi"])
    path = tmp_path / "m.csv"
    path.write_bytes("\ufeffpath, label ,subject\n\na.avi, Anger ,s1\n\nb.avi,sadness,s2\n".encode())
    back = read_manifest(path)
    assert [(e.label, e.subject) for e in back] == [("anger", "s1"), ("sadness", "s2")]


def test_check_files_false_reads_a_manifest_whose_videos_are_elsewhere(tmp_path):
    path = _write_csv(tmp_path / "m.csv", "path,label,subject\n/nowhere/a.avi,fear,s1\n")
    with pytest.raises(ManifestError):
        read_manifest(path)
    assert read_manifest(path, check_files=False)[0].path == Path("/nowhere/a.avi")


def test_entry_refuses_unknown_label():
    with pytest.raises(ValueError, match="unknown label"):
        VideoEntry(Path("a.avi"), "contempt", "s1")


def test_summary_counts_per_class_and_subject_in_natural_order(tmp_path):
    videos = _videos(tmp_path, [f"{i}.avi" for i in range(5)])
    entries = [VideoEntry(videos[0], "anger", "s10"), VideoEntry(videos[1], "anger", "s2"),
               VideoEntry(videos[2], "fear", "s2"), VideoEntry(videos[3], "fear", "s2"),
               VideoEntry(videos[4], "surprise", "s10")]
    text = summarize(entries)
    lines = text.splitlines()
    assert lines[0].startswith("5 videos, 2 subjects, 3 expressions")
    header = lines[1].split()
    assert header == ["subject", "anger", "disgust", "fear", "happiness", "sadness", "surprise", "total"]
    assert lines[2].split() == ["s2", "1", "0", "2", "0", "0", "0", "3"]  # s2 before s10
    assert lines[3].split() == ["s10", "1", "0", "0", "0", "0", "1", "2"]
    assert lines[4].split() == ["total", "2", "0", "2", "0", "0", "1", "5"]
