"""Pure tensor functions through ``torch.compile``, compiled at the first call or in a
background thread while the caller runs them eagerly (``Fused``): what
``models.convlstm.fuse_gate_arithmetic`` runs the ConvLSTM cells' per-step arithmetic
through. Kept apart from the model so that the cells read as the paper's equations.

Process-wide state here: one compiler thread per fused function (started on first
use), and at the program's end (``atexit``) no new compile is started.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

_EXITING = threading.Event()  # set at the program's end: the compiler thread takes no new job
atexit.register(_EXITING.set)

RECOMPILE_LIMIT = 64  # graphs per fused function; see Fused


class Fused:
    """``fn`` through ``torch.compile`` (Inductor fuses its elementwise work and GroupNorm
    into a few loops: C++/OpenMP on the CPU, Triton on CUDA), compiled at the first call.
    Where compilation fails (no C++ compiler, an unsupported platform) it warns once and
    runs ``fn`` itself from then on. Shapes start static and turn dynamic at the first new
    batch size or frame size (torch.compile's automatic dynamic shapes), so a new batch
    size costs one recompilation, not one each.

    ``without_waiting`` is the call for prediction, where the first frames should not wait
    for the compiler (4-24 s): a call whose graph is not compiled yet runs ``fn`` eagerly
    while a background thread compiles that graph on the same arguments; calls take the
    compiled graph once it is ready."""

    instances: weakref.WeakSet[Fused] = weakref.WeakSet()  # for wait_for_background_compiles

    def __init__(self, fn):
        Fused.instances.add(self)
        self.fn, self.compiled, self.error = fn, None, None
        self.ready: set[tuple] = set()  # call signatures compiled in the background
        self.queued: set[tuple] = set()
        self.lock = threading.Lock()
        self.jobs: queue.SimpleQueue | None = None  # for the background compiler thread
        self.idle = threading.Event()  # set while no background compile is queued or running
        self.idle.set()
        self.jobs_left = 0

    def __call__(self, *args):
        if self.error is None:
            # One graph per variant: t = 0, 1, >= 2 (which state is None) × float32 or
            # bfloat16 × training or inference × static or dynamic shapes × threads (streaming
            # steps its streams in threads of their own), easily over dynamo's default limit of
            # 8, past which it stops compiling and runs eagerly (measured: the paper preset's
            # stacks, benchmarked after the small ones, did). The setting is per thread.
            config = torch._dynamo.config
            if config.recompile_limit < RECOMPILE_LIMIT:
                config.recompile_limit = RECOMPILE_LIMIT
            if self.compiled is None:
                with self.lock:
                    if self.compiled is None:
                        self.compiled = torch.compile(self.fn)
            try:
                return self.compiled(*args)
            except Exception as err:  # noqa: BLE001 - any compiler failure: run eagerly instead
                self.error = err
                if not _EXITING.is_set():  # a background compile cut short by the program's end is no news
                    first_line = str(err).splitlines()[0] if str(err) else ""
                    warnings.warn(f"torch.compile failed ({type(err).__name__}: {first_line}); "
                                  "the ConvLSTM gate arithmetic runs eagerly", RuntimeWarning, stacklevel=2)
        return self.fn(*args)

    def without_waiting(self, *args):
        """``self(*args)`` if its graph is compiled, else ``fn(*args)`` now and the graph
        compiled in the background. Without gradients only (prediction): with them, this is
        ``self(*args)`` (training can wait for its compiler)."""
        if self.error is not None:
            return self.fn(*args)
        if torch.is_grad_enabled():
            return self(*args)
        key = _call_signature(args)
        if key in self.ready:
            return self(*args)
        with self.lock:
            if key not in self.queued:
                self.queued.add(key)
                if self.jobs is None:
                    self.jobs = queue.SimpleQueue()
                    # A daemon thread: a compile still running when the program ends does not hold it up.
                    threading.Thread(target=self._compile_jobs, name="fervid-compile", daemon=True).start()
                self.jobs_left += 1
                self.idle.clear()
                self.jobs.put((key, key[-1], args))  # key[-1]: the caller's modes (_call_signature), entered by the compiler
        return self.fn(*args)

    def _compile_jobs(self) -> None:
        while True:
            key, modes, args = self.jobs.get()
            try:
                if self.error is None and not _EXITING.is_set():  # after a compiler failure everything runs eagerly
                    with _entered(modes):  # the caller's modes: torch.compile guards on them
                        self(*args)  # compiles the graph (a compiler failure: recorded in self.error, warned)
                    if self.error is None:
                        self.ready.add(key)
            except Exception:  # noqa: BLE001 - fn itself failed: the caller's eager call of it raised already
                with self.lock:
                    self.queued.discard(key)  # queued again if called again
            finally:
                del args  # the job's tensors: not kept alive while the thread waits for the next job
                with self.lock:
                    self.jobs_left -= 1
                    if not self.jobs_left:
                        self.idle.set()


def _call_signature(args: tuple) -> tuple:
    """What selects a compiled graph, as far as fervid's calls vary: each tensor's shape,
    strides, dtype and device, which arguments are None, the other arguments' values, and
    the thread's modes (``_thread_modes``)."""
    parts = []
    for a in args:
        if isinstance(a, Tensor):
            parts.append((tuple(a.shape), a.stride(), a.dtype, a.device, a.requires_grad))
        else:
            parts.append(a)
    return (*parts, _thread_modes(args))


def _thread_modes(args: tuple) -> tuple:
    """(inference mode, autocast on, (device type, autocast dtype) or None, intra-op
    threads) of this thread, autocast for the device of the first tensor argument. All are
    per thread and torch.compile guards on them; the compiler thread enters the caller's."""
    kind = next(a for a in args if isinstance(a, Tensor)).device.type
    autocasting = torch.is_autocast_enabled(kind)
    return (torch.is_inference_mode_enabled(), autocasting, (kind, torch.get_autocast_dtype(kind)) if autocasting else None,
            torch.get_num_threads())


@contextmanager
def _entered(modes: tuple) -> Iterator[None]:
    inference, autocasting, device_dtype, threads = modes
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    with torch.inference_mode(inference), torch.no_grad():
        if autocasting:
            kind, dtype = device_dtype
            with torch.autocast(kind, dtype):
                yield
        else:
            yield


def wait_for_background_compiles(timeout: float | None = None) -> bool:
    """Block until every graph queued for background compilation (``Fused.without_waiting``;
    ``models.convlstm.fuse_gate_arithmetic`` with ``wait=False``) is compiled; False if ``timeout`` seconds pass first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for fused in list(Fused.instances):
        if not fused.idle.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
            return False
    return True
