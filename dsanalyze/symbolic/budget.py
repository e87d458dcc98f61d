"""Time budgets for symbolic work: SymPy never hangs a session.

:func:`time_limit` interrupts the work of a block after ``seconds`` with
:class:`~dsanalyze.errors.SymbolicTimeout` naming the step. In the main thread
(scripts, Jupyter) it uses a real-time interval timer (POSIX); elsewhere, or
where there is no such timer, the budget cannot interrupt and the block runs to
completion, which the caller learns from :func:`can_interrupt`.
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import SymbolicTimeout

__all__ = ["time_limit", "can_interrupt"]


def can_interrupt() -> bool:
    """Whether :func:`time_limit` can stop work in the calling thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


_active: list[tuple[float, str, float]] = []  # (deadline, step, seconds) of the budgets running now


#: After a deadline the timer fires again at this interval, in case SymPy caught the first error.
_REPEAT = 0.2


def _expired(signum, frame):
    if not _active:
        return
    deadline, step, seconds = min(_active)
    if time.monotonic() >= deadline:
        raise SymbolicTimeout(step, seconds)


@contextmanager
def time_limit(seconds: float | None, step: str) -> Iterator[None]:
    """Raise :class:`SymbolicTimeout` if the block runs longer than ``seconds``.

    Budgets nest: an inner block is stopped by whichever deadline comes
    first, and the error names that budget's step.

    Parameters
    ----------
    seconds : float or None
        The budget; None or a non-positive value means no limit.
    step : str
        What the block does, for the error message (e.g. ``"fixed points"``).

    Examples
    --------
    >>> with time_limit(5, "a quick step"):
    ...     x = sum(range(10))
    >>> x
    45
    """
    if seconds is None or seconds <= 0 or not can_interrupt():
        yield
        return
    entry = (time.monotonic() + seconds, step, seconds)
    outermost = not _active
    if outermost:
        previous_handler = signal.signal(signal.SIGALRM, _expired)
    _active.append(entry)
    # Repeating: some SymPy code catches every exception, and would swallow a single interrupt.
    signal.setitimer(signal.ITIMER_REAL, max(min(_active)[0] - time.monotonic(), 1e-6), _REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _active.remove(entry)
        if _active:
            signal.setitimer(signal.ITIMER_REAL, max(min(_active)[0] - time.monotonic(), 1e-6), _REPEAT)
        if outermost:
            signal.signal(signal.SIGALRM, previous_handler)
