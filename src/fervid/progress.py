"""Progress bars for long work (tqdm on stderr), or a silent stand-in."""

from __future__ import annotations

import sys


class _Silent:
    def update(self, n: int = 1) -> None: ...
    def set_postfix_str(self, s: str) -> None: ...
    def close(self) -> None: ...


def progress_bar(total: int, desc: str, unit: str, enabled: bool = True):
    if not enabled or total == 0:
        return _Silent()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)
