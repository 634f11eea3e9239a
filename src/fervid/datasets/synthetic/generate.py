"""Writing a synthetic set: ``generate_synthetic`` renders every subject × expression ×
take into the eNTERFACE'05 layout with its manifest and settings (synthetic.json), and
``check_synthetic_set`` refuses a folder drawn with other settings than wanted."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ...atomic import write_json
from ...labels import EXPRESSIONS
from ..enterface import EXPRESSION_CODES
from ..manifest import VideoEntry, write_manifest
from .check import format_check, static_vs_temporal_check
from .render import SyntheticRanges, _Knobs, draw_subject, render_video


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def generate_synthetic(out_dir: str | os.PathLike, subjects: int = 12, takes: int = 3, seed: int = 0,
                       difficulty: float = 0.5, ranges: SyntheticRanges | None = None, fourcc: str = "MJPG",
                       check: bool = True, log=print) -> Path:
    """Render ``subjects`` x 6 expressions x ``takes`` videos into ``out_dir`` in the
    eNTERFACE'05 layout, with a ground-truth JSON beside each video, and write
    ``manifest.csv``. Returns the manifest's path.

    ``difficulty`` in [0, 1] turns everything that makes the task harder at once:
    weaker expressions, smaller cues between look-alike pairs, overlapping time courses,
    more head motion, talking, flicker and noise. ``ranges`` sets what subjects and
    videos are drawn from. With ``check`` the static-vs-temporal check runs on the
    written files, is printed through ``log`` and saved as ``check.json``."""
    if subjects < 1 or takes < 1:
        raise ValueError(f"need at least one subject and one take, got subjects={subjects}, takes={takes}")
    ranges = ranges or SyntheticRanges()
    knobs = _Knobs.from_difficulty(difficulty)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    entries, people = [], []
    for s in range(1, subjects + 1):
        sub = draw_subject(f"s{s}", _rng(seed, s, 0, 0), ranges)
        people.append(asdict(sub))
        for li, label in enumerate(EXPRESSIONS):
            for take in range(1, takes + 1):
                video = out / f"subject {s}" / label / f"sentence {take}" / f"s{s}_{EXPRESSION_CODES[label]}_{take}.avi"
                truth = render_video(video, sub, label, _rng(seed, s, take, li + 1), knobs, ranges, fourcc)
                _write_json(video.with_suffix(".json"), truth)
                t = truth["timeline"]
                entries.append(VideoEntry(video, label, sub.sid, {
                    "take": str(take), "fps": str(sub.fps), "frames": str(truth["frames"]),
                    "onset": str(t["onset"]), "apex": str(t["apex"]), "offset": str(t["offset"])}))
    manifest = write_manifest(entries, out / "manifest.csv")
    _write_json(out / "synthetic.json", {"seed": seed, "subjects": subjects, "takes": takes, "difficulty": difficulty,
                                         "fourcc": fourcc, "ranges": asdict(ranges), "knobs": asdict(knobs),
                                         "people": people})
    if log:
        log(f"{len(entries)} videos ({subjects} subjects x 6 expressions x {takes} takes) in {out}, "
            f"{time.perf_counter() - start:.1f} s")
    if check and subjects < 2:
        if log:
            log("static vs temporal check skipped: it splits by subject and needs at least 2")
    elif check:
        result = {"difficulty": difficulty, **static_vs_temporal_check(manifest)}
        _write_json(out / "check.json", result)
        if log:
            log(format_check(result))
    return manifest


def _write_json(path: Path, doc) -> None:
    write_json(path, doc, indent=None, separators=(",", ":"))


def check_synthetic_set(folder: str | os.PathLike, wanted: dict, wanted_by: str = "this run") -> None:
    """Refuse a synthetic set in ``folder`` drawn with other settings than ``wanted`` (some
    of ``generate_synthetic``'s arguments, as synthetic.json records them): reusing it
    silently would report another set under this one's name. ``wanted_by`` names who
    wants them, in the message."""
    params_file = Path(folder) / "synthetic.json"
    try:
        params = json.loads(params_file.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{params_file}: cannot read the settings of the synthetic set in {folder} ({error}); "
                         f"remove {folder} to have it drawn again, or pass another data folder") from None
    found = {key: params.get(key) for key in wanted}
    if found != wanted:
        raise ValueError(f"{params_file}: this synthetic set was drawn with {found}, {wanted_by} draws {wanted}; "
                         f"remove {folder} to have it drawn again, or pass another data folder")
