"""Orbits of maps on the compiled kernels: one trajectory, or batches of states and parameters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _maps
from ..errors import DsAnalyzeError
from ..systems import Map, System
from .arguments import parameter_matrix, states, thread_count
from .compile import compile_system

__all__ = ["IterateResult", "iterate", "trajectory", "evaluate_rhs", "evaluate_jacobian"]


@dataclass(frozen=True)
class IterateResult:
    """Where a batch of orbits ended.

    Attributes
    ----------
    final : (n, dim) ndarray
        Final states. An orbit that escaped keeps its last state inside the box.
    escape_step : (n,) ndarray of int64
        The first step at which the orbit was outside the box ``|x_k| < escape``
        or not finite (0 for a start outside the box); -1 where it stayed
        inside throughout. An orbit that leaves and comes back has escaped.
    recorded : (n, record, dim) ndarray or None
        The last ``record`` states of each orbit (NaN after an escape).
    """

    final: np.ndarray
    escape_step: np.ndarray
    recorded: np.ndarray | None = None

    @property
    def bounded(self) -> np.ndarray:
        """Boolean mask of the orbits that never escaped."""
        return self.escape_step < 0


def _require_map(system: System, what: str) -> None:
    if not isinstance(system, Map):
        raise DsAnalyzeError(f"{what} iterates maps; {system.name or 'this system'} is a {system.kind} (use integrate)")


def _steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    return int(steps)


def iterate(
    system: Map,
    X0: Any,
    steps: int,
    params: Any = None,
    *,
    escape: float = 1e6,
    record: int = 0,
    threads: int | None = None,
) -> IterateResult:
    """Iterate a batch of states, each with its own parameter values, in compiled code.

    Parameters
    ----------
    system : Map
    X0 : array_like, shape (n, dim)
        Initial states (for a 1-D map, shape (n,) is accepted).
    steps : int
        Steps to take.
    params : mapping or array_like, optional
        Parameter values: ``{"mu": 1.5}``, ``{"r": r_values}`` with one value
        per state, or an array of shape (npar,) or (n, npar). Defaults of the
        system fill in the rest.
    escape : float
        An orbit has escaped once a component reaches ``|x_k| >= escape`` or
        stops being finite. Divergence is a result, never an exception.
    record : int
        Also return the last ``record`` states of every orbit.
    threads : int, optional
        Threads across the batch (default: every core, or ``DSANALYZE_NUM_THREADS``).

    Returns
    -------
    IterateResult

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.models.two_factor()
    >>> result = ds.iterate(F, [[0.5, 0.5], [3.0, 3.0]], 100, {"mu": [0.5, 2.5]})
    >>> result.escape_step.tolist()
    [-1, 3]
    >>> result.final[0].round(12).tolist()     # converged to the curve uv = 1
    [1.0, 1.0]
    """
    _require_map(system, "iterate")
    steps = _steps(steps)
    record = _steps(record)
    if record > steps:
        raise ValueError(f"record ({record}) cannot exceed steps ({steps})")
    if not escape > 0:
        raise ValueError(f"escape must be positive, got {escape!r}")
    X = states(system, X0, "X0", batch=True)
    P = parameter_matrix(system, params, X.shape[0])
    if P.shape[0] != 1 and P.shape[0] != X.shape[0]:
        X = np.ascontiguousarray(np.broadcast_to(X, (P.shape[0], system.dim)))
    kernel = compile_system(system)
    final, escape_step, recorded = _maps.iterate_batch(
        kernel.addresses["map_block"], kernel.lanes, X, P, steps, float(escape), record, thread_count(threads)
    )
    return IterateResult(final, escape_step, recorded)


def trajectory(system: Map, x0: Any, steps: int, *, escape: float = np.inf, **params: Any) -> np.ndarray:
    """One orbit x0, F(x0), ..., F^steps(x0) as an array of shape (steps + 1, dim).

    Rows after the orbit leaves ``|x_k| < escape`` (by default: after it stops
    being finite) are NaN.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> ds.trajectory(ds.models.logistic(), [0.5], 2, r=2.0).ravel().tolist()
    [0.5, 0.5, 0.5]
    """
    _require_map(system, "trajectory")
    steps = _steps(steps)
    x = states(system, x0, "x0", batch=False).reshape(1, -1)
    P = parameter_matrix(system, params, 1)
    if P.shape[0] != 1:
        raise ValueError("trajectory takes one value per parameter; use iterate for a batch")
    out = np.empty((steps + 1, system.dim))
    out[0] = x[0]
    if steps:
        kernel = compile_system(system)
        _, _, recorded = _maps.iterate_batch(
            kernel.addresses["map_block"], kernel.lanes, x, P, steps, float(escape), steps, 1
        )
        out[1:] = recorded[0]
    return out


def _evaluate(system: System, X: Any, params: Any, which: str, size: int, threads: int | None) -> np.ndarray:
    points = states(system, X, "X", batch=True)
    P = parameter_matrix(system, params, points.shape[0])
    if P.shape[0] != 1 and P.shape[0] != points.shape[0]:
        points = np.ascontiguousarray(np.broadcast_to(points, (P.shape[0], system.dim)))
    kernel = compile_system(system)
    return _maps.evaluate_batch(kernel.addresses[which], points, P, size, thread_count(threads))


def evaluate_rhs(system: System, X: Any, params: Any = None, *, threads: int | None = None) -> np.ndarray:
    """The compiled right-hand side at every row of ``X`` (shape (n, dim)).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> ds.evaluate_rhs(ds.models.henon(), [[0.0, 0.0]]).tolist()
    [[1.0, 0.0]]
    """
    return _evaluate(system, X, params, "rhs", system.dim, threads)


def evaluate_jacobian(system: System, X: Any, params: Any = None, *, threads: int | None = None) -> np.ndarray:
    """The compiled Jacobian at every row of ``X`` (shape (n, dim, dim))."""
    dim = system.dim
    return _evaluate(system, X, params, "jac", dim * dim, threads).reshape(-1, dim, dim)
