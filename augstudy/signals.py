"""SIGINT and SIGTERM stop a study the same way, in the foreground or the background.

While :func:`handle_signals` is active (the CLI holds it for a whole command, ``run_study`` for a run),
the first SIGINT or SIGTERM raises :class:`Interrupted` in the main thread: at once while the driver
waits for cells, after the current store write when one is in progress (:meth:`Signals.deferred`).
The executors stop their workers on the way out (:func:`kill_trees`), the runner stores what finished,
releases the lock and prints one line. A second signal raises at once, even inside a store write.

Our own handlers are installed whatever was inherited: a job started with ``&`` from a script inherits
SIGINT *ignored*, and Ctrl-C (``kill -INT``) would otherwise do nothing.
"""
from __future__ import annotations

import contextlib
import functools
import signal
import threading
from typing import Iterable, Iterator, Optional

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A study stopped by SIGINT or SIGTERM; ``exit_code`` is 128 + the signal number (130, 143)."""

    def __init__(self, signum: int = signal.SIGINT, again: bool = False) -> None:
        self.signum = int(signum)
        self.reported = False  # set once one line has told the user what was kept
        self.again = again  # a second signal, which cut the clean stop short
        super().__init__(self.name)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: BaseException) -> int:
    """The exit status for an interrupt: 130 for SIGINT (and a plain KeyboardInterrupt), 143 for SIGTERM."""
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


def signal_name(exc: Optional[BaseException]) -> str:
    """``SIGINT`` or ``SIGTERM``: the signal behind an interrupt (a plain KeyboardInterrupt is a SIGINT)."""
    return exc.name if isinstance(exc, Interrupted) else "SIGINT"


class Signals:
    """The process's stop state while our handlers are installed."""

    def __init__(self) -> None:
        self.signum: Optional[int] = None
        self._defer = 0
        self._pending = False

    def handler(self, signum: int, frame) -> None:  # noqa: ARG002 - signal handler signature
        first = self.signum is None
        if first:
            self.signum = signum
        if first and self._defer:
            self._pending = True  # raised when the store write in progress ends
            return
        raise Interrupted(self.signum if first else signum, again=not first)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A block the first signal does not cut short (a cell's files and the table being written)."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1
            if not self._defer and self._pending:
                self._pending = False
                raise Interrupted(self.signum or signal.SIGINT)


_active: Optional[Signals] = None


@contextlib.contextmanager
def handle_signals() -> Iterator[Signals]:
    """Install augstudy's SIGINT/SIGTERM handlers for the block (nested uses share them).

    Outside the main thread (signals cannot be handled there) the block runs with what is installed.
    """
    global _active
    if _active is not None:
        yield _active
        return
    state = Signals()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    _active = state
    try:
        for s in STOP_SIGNALS:
            signal.signal(s, state.handler)
        yield state
    finally:
        for s, h in previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
        _active = None


def stops_on_signals(fn):
    """Decorator: ``fn`` runs under :func:`handle_signals`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with handle_signals():
            return fn(*args, **kwargs)

    return wrapper


def deferred() -> contextlib.AbstractContextManager:
    """:meth:`Signals.deferred` of the active handlers; a plain block when none are installed."""
    return _active.deferred() if _active is not None else contextlib.nullcontext()


def kill_trees(pids: Iterable[int], timeout: float = 10.0) -> None:
    """SIGKILL each process and all its descendants, and reap them (children of ours do not linger)."""
    import psutil

    procs = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            procs += p.children(recursive=True)[::-1] + [p]
        except psutil.NoSuchProcess:
            continue
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(procs, timeout=timeout)


def ignore_interrupts_in_worker() -> None:
    """In a worker process: Ctrl-C reaches the whole process group, but the driver decides and stops us."""
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)
