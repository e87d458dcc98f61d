"""Progress bars for long work: tqdm on a terminal, silent elsewhere.

A bar is shown when standard error is a terminal (scripts run by hand, the
``dsanalyze`` command) and hidden otherwise (CI logs, pipes, notebooks'
captured output), unless ``progress=True`` or ``progress=False`` says so.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

__all__ = ["progress", "progress_bar"]

T = TypeVar("T")


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "", show: bool | None = None,
             unit: str = "it") -> Iterator[T]:
    """Iterate over ``items`` with a progress bar when it helps.

    Parameters
    ----------
    items : iterable
    total : int, optional
        Number of items, when ``items`` has no length.
    desc : str
        What is being done.
    show : bool, optional
        Force the bar on or off; by default on only when standard error is a terminal.
    unit : str
        What one item is.

    Examples
    --------
    >>> list(progress(range(3), show=False))
    [0, 1, 2]
    """
    if show is None:
        show = sys.stderr.isatty()
    return iter(tqdm(items, total=total, desc=desc, unit=unit, disable=not show, leave=False))


def progress_bar(*, total: int, desc: str = "", show: bool | None = None, unit: str = "it") -> tqdm:
    """A bar to advance by hand (``bar.update(1)``, ``bar.set_description(...)``); use it as a context manager.

    Examples
    --------
    >>> with progress_bar(total=2, show=False) as bar:
    ...     bar.update(2)
    """
    if show is None:
        show = sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit=unit, disable=not show, leave=False)
