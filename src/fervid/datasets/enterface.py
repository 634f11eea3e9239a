"""The eNTERFACE'05 audio-visual emotion database (Martin, Kotsia, Macq, Pitas, 2006)
-> a manifest.

As distributed (``project2_database.zip``)::

    subject 1/anger/sentence 1/s1_an_1.avi        sN_<code>_M.avi, M = sentence 1..5
    subject 1/disgust/sentence 2/s1_di_2.avi      codes an di fe ha sa su

42 to 44 subjects (copies differ: 42 subjects / 1,166 videos in the publication,
44 / 1,293 in some copies, 43 / 1,290 in the paper fervid reproduces), 6 emotions,
5 sentences. Real copies break the pattern in ways one can foresee from how the
database was assembled (by hand, on Windows, then zipped and re-zipped on other
systems), and this reader reads each file on its own merits rather than trusting
the tree's depth:

- subjects missing from the numbering (subject 6 is absent from many copies);
- a subject whose videos sit directly in the emotion folder, or one level deeper
  than ``sentence M`` (an extra folder from re-zipping);
- folder names capitalised, spelled as adjectives ("Happy", "Angry") or codes, with
  underscores or hyphens for spaces ("subject-1", as some users rename them);
- file names ``s12_an_1``, ``s_12_an_1``, ``s12_an1``, ``S12_AN_1.AVI``, ``s12_anger_1``;
  a flat folder of such files (no subject or emotion folders) reads too;
- stray files (Thumbs.db, desktop.ini, .DS_Store, macOS ``._`` resource forks and
  ``__MACOSX`` folders), audio or other non-AVI files, empty files.

Subject, expression and sentence are each read from the folders and from the file
name. Where both exist they must agree on subject and expression; if they disagree
the file is skipped, because its label or subject (and so the split) would be a
guess. A sentence number that disagrees is kept (the label is not in doubt) with a
``note``. A second file for the same subject, expression, sentence and take is
skipped as a duplicate. Every skipped file comes back with its reason.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

from ..labels import expression_named
from .manifest import LayoutScan, VideoEntry, natural_key

EXPRESSION_CODES = {"anger": "an", "disgust": "di", "fear": "fe", "happiness": "ha", "sadness": "sa", "surprise": "su"}
VIDEOS_PER_SUBJECT = 30  # 6 expressions x 5 sentences, as recorded

_SUBJECT_DIR = re.compile(r"^subject[\s_-]*0*(\d+)$", re.IGNORECASE)
_SENTENCE_DIR = re.compile(r"^sentence[\s_-]*0*(\d+)$", re.IGNORECASE)
# s<subject> <expression> <sentence> [<take>], separators optional: s12_an_1, s_12_an_1, s12_an1, s12_an_1_2.
_FILE_NAME = re.compile(r"^s[\s_-]*0*(\d+)[\s_-]*([a-z]+?)[\s_-]*0*(\d+)(?:[\s_-]+0*(\d+))?$", re.IGNORECASE)
_SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db"}
_PATTERN = "s<subject>_<an|di|fe|ha|sa|su>_<sentence>.avi"


def _one(values: list[str], what: str) -> tuple[str | None, str | None]:
    """The single distinct value of a list, or an error if the folders disagree."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        return None, f"folders name more than one {what}: {', '.join(distinct)}"
    return (distinct[0] if distinct else None), None


def _read_file(rel: Path) -> tuple[dict[str, str] | None, str]:
    """What the path of one video (relative to the root) says: subject, label, sentence,
    take, note; or None and why not."""
    subjects, labels, sentences = [], [], []
    for folder in rel.parts[:-1]:
        if m := _SUBJECT_DIR.match(folder.strip()):
            subjects.append(str(int(m.group(1))))
        elif m := _SENTENCE_DIR.match(folder.strip()):
            sentences.append(str(int(m.group(1))))
        elif label := expression_named(folder):
            labels.append(label)
    subject, err = _one(subjects, "subject")
    label, err2 = _one(labels, "expression")
    sentence, err3 = _one(sentences, "sentence")
    if err or err2 or err3:
        return None, err or err2 or err3
    m = _FILE_NAME.match(rel.stem.strip())
    if not m:
        return None, f"file name does not follow {_PATTERN}"
    f_subject, token, f_sentence, take = str(int(m.group(1))), m.group(2), str(int(m.group(3))), m.group(4)
    f_label = expression_named(token)
    if f_label is None:
        return None, f"unknown expression code {token!r} in the file name (expected an, di, fe, ha, sa, su)"
    if subject is not None and subject != f_subject:
        return None, f"file name says subject {f_subject}, its folder says subject {subject}"
    if label is not None and label != f_label:
        return None, f"file name code {token!r} means {f_label}, its folder says {label}"
    note = ""
    if sentence is not None and sentence != f_sentence:
        note = f"folder says sentence {sentence}, file name says {f_sentence}; the file name is used"
    return {"subject": f"s{f_subject}", "label": f_label, "sentence": f_sentence,
            "take": str(int(take)) if take else "1", "note": note}, ""


def enterface_manifest(root: str | os.PathLike) -> LayoutScan:
    """Walk an unpacked eNTERFACE'05 folder. Returns a ``LayoutScan``, as every layout reader: one entry per
    usable video (subject "s<N>" from the ``subject N`` folder or the file name; extra
    columns ``sentence``, ``take``, and ``note`` where something was odd) in natural path
    order, and (path, reason) for everything left out."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder")
    skipped: list[tuple[Path, str]] = []
    found: dict[tuple[str, str, str, str], list[tuple[Path, dict[str, str]]]] = {}
    for folder, dirs, files in os.walk(root):
        folder_path = Path(folder)
        keep = []
        for d in sorted(dirs, key=natural_key):
            if d == "__MACOSX":
                skipped.append((folder_path / d, "macOS resource-fork folder (__MACOSX), not videos"))
            elif d.startswith("."):
                skipped.append((folder_path / d, "hidden folder"))
            else:
                keep.append(d)
        dirs[:] = keep  # os.walk descends only into these, in this order
        for name in sorted(files, key=natural_key):
            path = folder_path / name
            if name.lower() in _SYSTEM_FILES:
                skipped.append((path, "system file"))
                continue
            if name.startswith("."):
                skipped.append((path, "hidden file (e.g. a macOS '._' resource fork)"))
                continue
            if path.suffix.lower() != ".avi":
                skipped.append((path, f"not an .avi video ({path.suffix or 'no extension'})"))
                continue
            try:
                if path.stat().st_size == 0:
                    skipped.append((path, "empty file (0 bytes)"))
                    continue
            except OSError as exc:  # a dangling link, a permission problem
                skipped.append((path, f"cannot read: {exc.strerror or exc}"))
                continue
            info, why = _read_file(path.relative_to(root))
            if info is None:
                skipped.append((path, why))
                continue
            found.setdefault((info["subject"], info["label"], info["sentence"], info["take"]), []).append((path, info))
    entries: list[VideoEntry] = []
    for (subject, label, sentence, take), candidates in found.items():
        # Of several files claiming one recording, keep one whose folders agree with its
        # name (a misfiled copy loses to the file in its proper place), else the first.
        candidates.sort(key=lambda c: (bool(c[1]["note"]), natural_key(str(c[0]))))
        (path, info), rest = candidates[0], candidates[1:]
        for other, _ in rest:
            skipped.append((other, f"duplicate: same subject, expression, sentence and take as {path}"))
        extra = {"sentence": sentence, "take": take}
        if info["note"]:
            extra["note"] = info["note"]
        entries.append(VideoEntry(path, label, subject, extra))
    return LayoutScan("eNTERFACE'05", entries, skipped).sort()


def enterface_report(scan: LayoutScan) -> str:
    """What a user wants to read after ``enterface_manifest``: the count, subject numbers
    absent from the sequence, subjects without the full 30 videos, and every skipped
    file with its reason."""
    entries, skipped = scan.entries, scan.skipped
    subjects = sorted({e.subject for e in entries}, key=natural_key)
    lines = [f"{len(entries)} videos of {len(subjects)} subjects; {len(skipped)} skipped"]
    numbers = sorted(int(s[1:]) for s in subjects if s[1:].isdigit())
    if numbers:
        absent = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        if absent:
            lines.append("subject numbers absent: " + ", ".join(str(n) for n in absent))
    per_subject = Counter(e.subject for e in entries)
    short = [f"{s} ({per_subject[s]})" for s in subjects if per_subject[s] != VIDEOS_PER_SUBJECT]
    if short:
        lines.append(f"subjects without {VIDEOS_PER_SUBJECT} videos: " + ", ".join(short))
    noted = [e for e in entries if e.extra.get("note")]
    for e in noted:
        lines.append(f"kept, with a note: {e.path}: {e.extra['note']}")
    for path, why in skipped:
        lines.append(f"skipped: {path}: {why}")
    return "\n".join(lines)
