"""Progress for long work, on stderr: a tqdm bar on a terminal, a few summary lines in a log.

``progress`` everywhere in fervid takes three values: ``None`` (the default) shows a bar
when stderr is a terminal and otherwise writes one line when the work ends (and one a
minute while it runs), so a log or a file gets lines, not thousands of redrawn bars
(tqdm's ``disable=None`` behaviour); ``True`` forces the bar; ``False`` is silent.
"""

from __future__ import annotations

import sys
import time

LOG_INTERVAL_S = 60.0  # at most one interim line this often when stderr is not a terminal


def wanted(progress: bool | None) -> bool:
    """Whether to report at all (one-line messages are written unless ``progress`` is False)."""
    return progress is not False


def bars_on(progress: bool | None) -> bool:
    """Whether a redrawn bar is wanted: forced, or stderr is a terminal."""
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty())
    return progress


class _Silent:
    def update(self, n: int = 1) -> None: ...
    def set_postfix_str(self, s: str) -> None: ...
    def close(self) -> None: ...


class _LogLines:
    """What a bar would show, as plain lines: ``desc: n/total unit, elapsed, postfix``."""

    def __init__(self, total: int, desc: str, unit: str) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.n, self.postfix = 0, ""
        self.start = self.last = time.perf_counter()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self.last >= LOG_INTERVAL_S and self.n < self.total:
            self.last = now
            self._line(now)

    def set_postfix_str(self, s: str) -> None:
        self.postfix = s

    def close(self) -> None:
        if self.total is not None:
            self._line(time.perf_counter())
            self.total = None  # closed: a second close writes nothing

    def _line(self, now: float) -> None:
        postfix = f", {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {self.n}/{self.total} {self.unit}, {now - self.start:.1f} s{postfix}", file=sys.stderr, flush=True)


def progress_bar(total: int, desc: str, unit: str, progress: bool | None = None):
    """A bar (``update``, ``set_postfix_str``, ``close``) as ``progress`` asks (module docstring)."""
    if not wanted(progress) or total == 0:
        return _Silent()
    if not bars_on(progress):
        return _LogLines(total, desc, unit)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)
