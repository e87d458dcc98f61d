"""Orbit (bifurcation) diagrams of maps and the period-doubling points read off them.

One :func:`~dsanalyze.numeric.orbits.iterate` call does the sweep: the batch
is (parameter values x initial conditions), iterated in compiled code with a
transient and the recorded tail kept. Periods are detected in NumPy on the
recorded tail.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DimensionError, ParameterError
from ..systems import Map, System
from .cycles import cycle_newton
from .orbits import iterate

__all__ = ["OrbitDiagram", "orbit_diagram", "detect_period", "period_doubling_points"]


@dataclass(frozen=True)
class OrbitDiagram:
    """The recorded tails of orbits over a parameter sweep.

    Attributes
    ----------
    param : str
        The swept parameter.
    values : (n_values,) ndarray
        Its values, one per row (repeated once per initial condition when
        several were given: rows are value-major, initial conditions fastest).
    points : (n_values, record, dim) ndarray
        The last ``record`` states of each orbit (NaN after an escape).
    period : (n_values,) ndarray of int
        The smallest period p <= max_period seen on the tail; 0 where no
        period up to max_period was seen (aperiodic, chaotic or not yet
        converged); -1 where the orbit escaped.
    """

    param: str
    values: np.ndarray
    points: np.ndarray
    period: np.ndarray

    @property
    def escaped(self) -> np.ndarray:
        """Boolean mask of the rows whose orbit escaped."""
        return self.period < 0

    def scatter_data(self, component: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Flat (parameter, state component) arrays for a scatter plot (NaNs dropped)."""
        x = np.repeat(self.values, self.points.shape[1])
        y = self.points[:, :, component].ravel()
        keep = np.isfinite(y)
        return x[keep], y[keep]


def detect_period(tail: np.ndarray, *, tol: float = 1e-6, max_period: int = 64) -> np.ndarray:
    """The smallest p <= max_period with |x_{t+p} - x_t| <= tol * max(1, |x_t|) over a tail.

    Parameters
    ----------
    tail : (n, record, dim) ndarray
        Recorded states (a row with a NaN has escaped: period -1).
    tol : float
        Relative tolerance.
    max_period : int
        Largest period tried; ``record`` must exceed it for it to be tried.

    Returns
    -------
    (n,) ndarray of int
        The period, 0 if none up to max_period, -1 for escaped rows.

    Examples
    --------
    >>> import numpy as np
    >>> tail = np.array([[0.2, 0.8] * 4, [0.5] * 8]).reshape(2, 8, 1)
    >>> detect_period(tail).tolist()
    [2, 1]
    """
    tail = np.asarray(tail, dtype=np.float64)
    if tail.ndim == 2:
        tail = tail[:, :, None]
    n, record, _ = tail.shape
    period = np.zeros(n, dtype=np.int64)
    escaped = ~np.isfinite(tail).all(axis=(1, 2))
    period[escaped] = -1
    undecided = ~escaped
    scale = np.maximum(1.0, np.abs(tail).max(axis=2))     # (n, record)
    for p in range(1, min(max_period, record - 1) + 1):
        rows = np.flatnonzero(undecided)
        if rows.size == 0:
            break
        diff = np.abs(tail[rows, p:] - tail[rows, :-p]).max(axis=2)
        hit = (diff <= tol * scale[rows, :-p]).all(axis=1)
        period[rows[hit]] = p
        undecided[rows[hit]] = False
    return period


def _initial_conditions(system: System, x0: Any) -> np.ndarray:
    if x0 is None:
        # A generic point: irrational offsets avoid fixed points and invariant lines.
        return (0.5 + 0.0123456789 * np.arange(1, system.dim + 1)).reshape(1, -1) * (1 if system.dim == 1 else 0.2)
    X = np.array(x0, dtype=np.float64, ndmin=1)
    if X.ndim == 1:
        if system.dim == 1 and X.shape[0] != 1:
            X = X.reshape(-1, 1)
        else:
            X = X.reshape(1, -1)
    if X.ndim != 2 or X.shape[1] != system.dim:
        raise DimensionError(f"x0 must have shape ({system.dim},) or (n_ic, {system.dim}); got {np.shape(x0)}")
    return X


def _param_name(system: System, param: Any) -> str:
    name = param.name if hasattr(param, "name") else str(param)
    if name not in [p.name for p in system.params]:
        raise ParameterError(f"{name!r} is not a parameter of {system.name or 'the system'}; "
                             f"its parameters: {', '.join(p.name for p in system.params) or 'none'}")
    return name


def orbit_diagram(system: Map, param: Any, values: Any, *, x0: Any = None, transient: int = 1000,
                  record: int = 1000, tol: float = 1e-6, max_period: int = 64, escape: float = 1e6,
                  threads: int | None = None, **params: Any) -> OrbitDiagram:
    """Sweep one parameter: iterate away a transient, record the tail, detect the period.

    Parameters
    ----------
    system : Map
    param : str or Symbol
        The swept parameter.
    values : array_like, shape (n_values,)
        Its values.
    x0 : array_like, shape (dim,) or (n_ic, dim), optional
        Initial condition(s); with several, every value is iterated from each
        and the rows are stacked (value-major).
    transient, record : int
        Steps discarded, then steps recorded.
    tol, max_period : float, int
        Period detection (see :func:`detect_period`).
    escape : float
        Escape radius (escaped rows get period -1).
    threads : int, optional
        Threads of the compiled driver.
    **params
        Values of the other parameters.

    Returns
    -------
    OrbitDiagram

    Examples
    --------
    >>> import dsanalyze as ds
    >>> d = orbit_diagram(ds.models.logistic(), "r", [2.8, 3.2, 3.5, 3.9], transient=3000, record=200)
    >>> d.period.tolist()
    [1, 2, 4, 0]
    >>> d.points.shape
    (4, 200, 1)
    """
    if not isinstance(system, Map):
        raise TypeError(f"orbit_diagram needs a Map, got {type(system).__name__}")
    name = _param_name(system, param)
    vals = np.array(values, dtype=np.float64, ndmin=1).ravel()
    X = _initial_conditions(system, x0)
    n_ic = X.shape[0]
    rows_vals = np.repeat(vals, n_ic)
    X_all = np.ascontiguousarray(np.tile(X, (vals.shape[0], 1)))
    pdict = dict(params)
    pdict[name] = rows_vals
    result = iterate(system, X_all, int(transient) + int(record), pdict, escape=escape, record=int(record),
                     threads=threads)
    period = detect_period(result.recorded, tol=tol, max_period=max_period)
    period[~result.bounded] = -1
    return OrbitDiagram(param=name, values=rows_vals, points=result.recorded, period=period)


def _stable_cycle(system: Map, name: str, values: np.ndarray, X: np.ndarray, q: np.ndarray,
                  transient: int, params: dict) -> np.ndarray:
    """Whether, at each value, the attractor reached from X is (near) a stable q-cycle.

    The orbit is iterated for ``transient`` steps, then Newton on F^q - x is
    started from its last point; the answer is whether Newton converges close
    by to a cycle whose multipliers all have modulus < 1 (the multiplier
    criterion: exact at the bifurcation, unlike a tolerance on a slowly
    converging orbit).
    """
    pdict = dict(params)
    pdict[name] = values
    Xs = np.ascontiguousarray(np.broadcast_to(X, (values.shape[0], system.dim)))
    res = iterate(system, Xs, transient, pdict)
    start = res.final
    out = np.zeros(values.shape[0], bool)
    for qq in np.unique(q):
        rows = np.flatnonzero((q == qq) & res.bounded)
        if rows.size == 0:
            continue
        sub = dict(params)
        sub[name] = values[rows]
        x, residual, mult = cycle_newton(system, start[rows], int(qq), sub, iterations=80, tol=1e-14)
        near = np.abs(x - start[rows]).max(axis=1) <= 0.1 * np.maximum(1.0, np.abs(start[rows]).max(axis=1))
        conv = residual <= 1e-10
        radius = np.abs(mult).max(axis=1)
        out[rows] = conv & near & (radius < 1.0)
    return out


def period_doubling_points(system: Map, param: Any, lo: float, hi: float, count: int, *, x0: Any = None,
                           grid: int = 4000, transient: int = 4000, xtol: float = 1e-9, first_period: int = 1,
                           **params: Any) -> np.ndarray:
    """Parameter values where the attracting period doubles, 2^j -> 2^(j+1), in [lo, hi].

    A grid scan classifies the attractor at each value as a stable 2^j-cycle
    (Newton on F^(2^j) - x from the orbit, multiplier test); each change
    from 2^j to 2^(j+1) is then bisected (all brackets at once) with the
    criterion "the 2^j-cycle continued from the attractor is still stable":
    the multiplier of the 2^j-cycle passes through -1 exactly at the
    period-doubling point, so long transients near the accumulation point are
    not needed for the answer to be right.

    Parameters
    ----------
    system : Map
    param : str or Symbol
    lo, hi : float
        The parameter interval.
    count : int
        How many period-doubling points (the first ``count`` found from lo up).
    x0 : array_like, optional
        Initial condition.
    grid : int
        Points of the scan (must resolve the shortest period window sought).
    transient : int
        Steps before Newton at each value.
    xtol : float
        Bisection width.
    first_period : int
        The period at ``lo`` (a power of two): doublings from it on are sought.
    **params
        Other parameter values.

    Returns
    -------
    (count,) ndarray
        The period-doubling points in increasing order (NaN for those not found).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> points = period_doubling_points(ds.models.logistic(), "r", 2.5, 3.5, 2)
    >>> points.round(7).tolist()       # 3 and 1 + sqrt(6)
    [3.0, 3.4494897]
    """
    if not isinstance(system, Map):
        raise TypeError(f"period_doubling_points needs a Map, got {type(system).__name__}")
    name = _param_name(system, param)
    if not hi > lo:
        raise ValueError(f"need lo < hi, got {lo}, {hi}")
    X = _initial_conditions(system, x0)[:1]
    periods = [first_period * 2**j for j in range(count + 1)]
    out = np.full(count, np.nan)
    brackets = []
    start, cur_lo = 0, float(lo)
    # Scan, and re-scan [last bracket, hi] on a finer grid while doublings are missing: the period
    # windows shrink geometrically (Feigenbaum's delta) towards the accumulation point.
    for _round in range(12):
        if start >= count or not hi > cur_lo:
            break
        values = np.linspace(cur_lo, hi, int(grid))
        label = np.zeros(values.shape[0], dtype=np.int64)
        undecided = np.ones(values.shape[0], bool)
        for p in periods[start:]:
            rows = np.flatnonzero(undecided)
            if rows.size == 0:
                break
            stable = _stable_cycle(system, name, values[rows], X, np.full(rows.size, p), transient, params)
            label[rows[stable]] = p
            undecided[rows[stable]] = False
        progress = False
        for j in range(start, count):
            p = periods[j]
            # The end of the first stretch of period p, and the first period 2p after it: a
            # later window of period p inside the chaos must not capture the bracket.
            left = np.flatnonzero(label == p)
            if left.size == 0:
                break
            after = np.flatnonzero((label == 2 * p) & (np.arange(values.size) > left[0]))
            if after.size == 0:
                break
            i = left[left < after[0]][-1]
            brackets.append((j, values[i], values[after[0]], p))
            start, cur_lo, progress = j + 1, float(values[after[0]]), True
        if not progress:
            break
    if not brackets:
        return out
    a = np.array([b[1] for b in brackets])
    b = np.array([b[2] for b in brackets])
    q = np.array([b[3] for b in brackets])
    while (b - a).max() > xtol:
        mid = 0.5 * (a + b)
        stable = _stable_cycle(system, name, mid, X, q, transient, params)
        a = np.where(stable, mid, a)
        b = np.where(stable, b, mid)
    for (j, *_), left, right in zip(brackets, a, b):
        out[j] = 0.5 * (left + right)
    return out
