"""Writing files atomically: to a temporary name beside the target, then renamed, so a
reader (or a rerun after a crash) sees the old file or the new one, never half of one."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """``write(tmp_path)`` then rename to ``path``; the temporary file is removed on failure."""
    path = Path(path)
    # Unique per process (two writers, e.g. torchrun ranks, never share a temporary file);
    # the suffix is kept for writers that choose a format by it (OpenCV's VideoWriter).
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(path: str | os.PathLike, data, **dumps_kwargs) -> Path:
    dumps_kwargs.setdefault("indent", 1)
    text = json.dumps(data, **dumps_kwargs) + "\n"
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_rows(path: str | os.PathLike, rows: list[dict]) -> Path:
    """A CSV with a header of every key that appears, in order of appearance."""
    fields = list(dict.fromkeys(k for row in rows for k in row))

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    return write_atomically(path, write)
