"""Progress output: bars on a terminal, plain lines in a log, nothing when asked."""

import io

import pytest

from fervid import progress
from fervid.progress import progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(bar, steps: int) -> None:
    for i in range(steps):
        bar.update(1)
        bar.set_postfix_str(f"loss {i}")
    bar.close()
    bar.close()  # closing twice writes nothing more


def test_not_a_terminal_gets_one_line_per_bar(capsys):
    _run(progress_bar(500, "epoch 1/8", "batch"), 500)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("epoch 1/8: 500/500 batch, ") and err.endswith(", loss 499\n")


def test_a_long_job_in_a_log_also_writes_a_line_a_minute(capsys, monkeypatch):
    clock = iter(range(0, 10_000, 7))  # each reading 7 s later than the last
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    _run(progress_bar(40, "preprocess", "video"), 40)  # 40 steps × 7 s: interim lines at each 60 s
    lines = capsys.readouterr().err.splitlines()
    assert 3 <= len(lines) <= 6 and lines[-1].startswith("preprocess: 40/40 video")
    assert all(" video, " in line for line in lines)


def test_a_terminal_gets_tqdm_bars(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(progress.sys, "stderr", terminal)
    bar = progress_bar(10, "predict", "video")
    assert type(bar).__name__ == "tqdm"
    bar.close()


@pytest.mark.parametrize(("setting", "kind"), [(True, "tqdm"), (False, "_Silent"), (None, "_LogLines")])
def test_the_three_settings(setting, kind):
    bar = progress_bar(3, "x", "step", setting)  # pytest's stderr is not a terminal
    assert type(bar).__name__ == kind
    bar.close()


def test_no_work_no_output(capsys):
    _run(progress_bar(0, "preprocess", "video", True), 0)
    assert capsys.readouterr().err == ""
