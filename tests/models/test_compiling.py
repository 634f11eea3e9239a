"""The background compiler of the ConvLSTM gate arithmetic (``models.compiling``): its
fallback where torch.compile fails, and the modes its thread compiles under."""

import threading

import pytest
import torch

from fervid.models.compiling import Fused, _entered, _thread_modes
from fervid.models.convlstm import lstm_pointwise


def test_fused_falls_back_to_eager_where_compile_fails(monkeypatch):
    def broken_compile(fn, **kwargs):
        def compiled(*args):
            raise RuntimeError("InductorError: no C++ compiler found")
        return compiled

    monkeypatch.setattr(torch, "compile", broken_compile)
    fused = Fused(lstm_pointwise)
    gates, c = torch.randn(2, 8, 4, 4), torch.randn(2, 2, 4, 4)
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler found.*runs eagerly"):
        out = fused(gates, c, None, False)
    torch.testing.assert_close(out, lstm_pointwise(gates, c, None, False))
    fused(gates, c, None, False)  # no second warning: the error is remembered
    assert fused.error is not None


def test_the_background_compiler_thread_enters_the_callers_modes():
    """torch.compile guards on inference mode, autocast and the thread count, all per
    thread: the compiler thread of ``fuse_gate_arithmetic(wait=False)`` must compile
    under the caller's, or the graphs it makes are not the ones the caller's calls select."""
    x = torch.zeros(1)
    threads = max(1, torch.get_num_threads() - 1)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16):
            caller = _thread_modes((x,))
    finally:
        torch.set_num_threads(before)
    assert caller == (True, True, ("cpu", torch.bfloat16), threads)
    seen = []

    def compiler_thread():
        plain = _thread_modes((x,))
        with _entered(caller):
            seen.append((plain, _thread_modes((x,)), torch.is_grad_enabled()))

    worker = threading.Thread(target=compiler_thread)
    worker.start()
    worker.join()
    plain, entered, grad = seen[0]
    assert plain[:3] == (False, False, None)  # a new thread starts outside both modes
    assert entered == caller and not grad
