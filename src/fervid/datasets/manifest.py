"""The manifest: one row per video (path, label, subject, optional extra columns), the
format every dataset reader writes and every later stage reads.

CSV, UTF-8, a header row. Required columns ``path``, ``label``, ``subject``; any other
column is kept, as text, in ``VideoEntry.extra``. Relative paths resolve against the
CSV's folder, so a data set and its manifest move together. Validated on load: a
missing column, an unknown label, an empty subject, a missing file or a video listed
twice is a ``ManifestError`` naming the file, the line and the problem.
"""

from __future__ import annotations

import csv
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_atomically
from ..frontend.video import is_frame_folder, natural_key
from ..labels import EXPRESSIONS

COLUMNS = ("path", "label", "subject")  # required, in this order; extra columns follow


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the CSV file, the line and the problem."""


@dataclass(frozen=True)
class VideoEntry:
    """One labelled video. ``extra`` holds optional columns (e.g. sentence, take) as text."""

    path: Path
    label: str  # one of fervid.labels.EXPRESSIONS
    subject: str  # subject id, e.g. "s12"; splits never put one subject on both sides
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if self.label not in EXPRESSIONS:
            raise ValueError(f"unknown label {self.label!r}; expected one of {', '.join(EXPRESSIONS)}")
        if not str(self.subject).strip():
            raise ValueError(f"{self.path}: empty subject id")


def read_manifest(path: str | os.PathLike, *, check_files: bool = True) -> list[VideoEntry]:
    """Read and validate a manifest CSV. ``check_files=False`` skips the existence check
    (for a manifest whose videos live on another machine)."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest file")
    base = path.parent
    entries: list[VideoEntry] = []
    seen: dict[Path, int] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: tolerate a BOM from spreadsheet exports
        reader = csv.DictReader(f)
        header = reader.fieldnames
        if header is None:
            raise ManifestError(f"{path}:1: empty file, expected a header row with {', '.join(COLUMNS)}")
        header = [h.strip() for h in header]
        reader.fieldnames = header
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ManifestError(f"{path}:1: missing column(s) {', '.join(missing)}; the header is {', '.join(header)}")
        dupes = [h for h, n in Counter(header).items() if n > 1]
        if dupes:
            raise ManifestError(f"{path}:1: column(s) {', '.join(dupes)} appear more than once")
        for row in reader:
            line = reader.line_num
            if None in row:  # more fields than header columns
                raise ManifestError(f"{path}:{line}: {len(header) + len(row[None])} fields, the header has {len(header)}")
            if all((v or "").strip() == "" for v in row.values()):
                continue  # a blank line
            raw_path, label, subject = (str(row[c] or "").strip() for c in COLUMNS)
            if not raw_path:
                raise ManifestError(f"{path}:{line}: empty path")
            label = label.lower()
            if label not in EXPRESSIONS:
                raise ManifestError(f"{path}:{line}: unknown label {row['label']!r}; expected one of {', '.join(EXPRESSIONS)}")
            if not subject:
                raise ManifestError(f"{path}:{line}: empty subject")
            video = Path(raw_path)
            if not video.is_absolute():
                video = base / video
            video = Path(os.path.normpath(video))
            if check_files and not (video.is_file() or is_frame_folder(video)):
                what = "a folder with no image files" if video.is_dir() else "not found"
                raise ManifestError(f"{path}:{line}: video file or frame folder {what}: {video}")
            if video in seen:
                raise ManifestError(f"{path}:{line}: duplicate row, {raw_path} is already listed on line {seen[video]}")
            seen[video] = line
            extra = {k: (v or "").strip() for k, v in row.items() if k not in COLUMNS}
            entries.append(VideoEntry(video, label, subject, extra))
    return entries


def write_manifest(entries: list[VideoEntry], path: str | os.PathLike) -> Path:
    """Write entries as a manifest CSV, atomically (a temporary file, then a rename).
    Paths under the CSV's folder are written relative to it, others absolute. Extra
    columns appear in the order first met; entries without one leave it empty."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.parent.resolve()
    extra_cols: list[str] = []
    for e in entries:
        for k in e.extra:
            if k in COLUMNS:
                raise ValueError(f"extra column {k!r} clashes with a required column")
            if k not in extra_cols:
                extra_cols.append(k)
    seen: set[Path] = set()
    rows = []
    for e in entries:
        video = Path(os.path.abspath(e.path))
        if video in seen:
            raise ValueError(f"{e.path} is listed twice")
        seen.add(video)
        try:
            shown = video.resolve().relative_to(base).as_posix()
        except ValueError:
            shown = video.as_posix()
        rows.append([shown, e.label, e.subject] + [e.extra.get(k, "") for k in extra_cols])
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(list(COLUMNS) + extra_cols)
            writer.writerows(rows)

    return write_atomically(path, write)


def summarize(entries: list[VideoEntry]) -> str:
    """A table of video counts: one row per subject (natural order), one column per
    expression, with totals."""
    subjects = sorted({e.subject for e in entries}, key=natural_key)
    counts = Counter((e.subject, e.label) for e in entries)
    names = [x[:9] for x in EXPRESSIONS]
    w = max([len("subject"), len("total")] + [len(s) for s in subjects])
    cw = max(len(n) for n in names) + 1
    lines = [f"{len(entries)} videos, {len(subjects)} subjects, {sum(1 for x in EXPRESSIONS if any(e.label == x for e in entries))} expressions",
             "subject".ljust(w) + "".join(n.rjust(cw) for n in names) + "total".rjust(cw)]
    for s in subjects:
        row = [counts[(s, x)] for x in EXPRESSIONS]
        lines.append(s.ljust(w) + "".join(str(c).rjust(cw) for c in row) + str(sum(row)).rjust(cw))
    totals = [sum(counts[(s, x)] for s in subjects) for x in EXPRESSIONS]
    lines.append("total".ljust(w) + "".join(str(c).rjust(cw) for c in totals) + str(sum(totals)).rjust(cw))
    return "\n".join(lines)


@dataclass
class LayoutScan:
    """What a layout reader found: entries, (path, reason) for what it left out, and
    facts about the set a user must know (a missing class, no subject ids)."""

    layout: str
    entries: list[VideoEntry] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append((path, reason))

    def report(self, examples: int = 3) -> str:
        """Videos per class and subject, the notes, and the skipped files counted by
        reason with a few examples of each."""
        lines = [f"{self.layout}: {len(self.entries)} videos kept, {len(self.skipped)} skipped", summarize(self.entries)]
        lines += [f"note: {n}" for n in self.notes]
        by_reason: dict[str, list[Path]] = defaultdict(list)
        for path, reason in self.skipped:
            by_reason[reason].append(path)
        for reason, paths in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
            shown = ", ".join(str(p) for p in paths[:examples]) + (", ..." if len(paths) > examples else "")
            lines.append(f"skipped {len(paths)}: {reason} ({shown})")
        return "\n".join(lines)

    def sort(self) -> "LayoutScan":
        self.entries.sort(key=lambda e: natural_key(str(e.path)))
        return self
