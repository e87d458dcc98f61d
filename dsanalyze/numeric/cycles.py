"""Periodic orbits (k-cycles) of maps, found numerically by damped Newton on F^k(x) - x.

Newton runs vectorised in NumPy over many seeded starts; F^k and its Jacobian
(chain rule along the orbit) come from the compiled kernels
(:func:`~dsanalyze.numeric.orbits.evaluate_rhs`,
:func:`~dsanalyze.numeric.orbits.evaluate_jacobian`). Solutions are
deduplicated (points and cyclic shifts: one orbit is one entry), orbits of a
lower period are excluded, and every cycle carries its multipliers (eigenvalues
of the product of the Jacobians along the orbit) and its residual.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DimensionError
from ..systems import Map, System
from .arguments import parameter_matrix
from .orbits import evaluate_jacobian, evaluate_rhs

__all__ = ["NumericCycle", "find_cycles", "cycle_newton"]


@dataclass(frozen=True)
class NumericCycle:
    """One periodic orbit of minimal period k, found numerically.

    Attributes
    ----------
    points : (k, dim) ndarray
        The orbit x, F(x), ..., F^(k-1)(x), starting at its lexicographically
        smallest point.
    multipliers : (dim,) ndarray of complex
        Eigenvalues of D(F^k) = J(x_{k-1}) ... J(x_0).
    stable : bool
        Whether every multiplier has modulus < 1 (an attracting cycle).
    residual : float
        max |F^k(x) - x| at the refined point.
    """

    points: np.ndarray
    multipliers: np.ndarray
    stable: bool
    residual: float

    @property
    def period(self) -> int:
        """The minimal period k."""
        return int(self.points.shape[0])


def _params_rows(system: System, params: Any, n: int) -> np.ndarray:
    P = parameter_matrix(system, params, n)
    if P.shape[0] == 1 and n != 1:
        P = np.ascontiguousarray(np.broadcast_to(P, (n, P.shape[1])))
    return P


def _threads(n: int) -> int | None:
    """One thread for small batches (the thread start-up costs more than the work), else every core."""
    return 1 if n < 20000 else None


def _orbit_and_jacobian(system: Map, X: np.ndarray, k: int, P: np.ndarray):
    """Orbit points (n, k + 1, dim) and the Jacobian of F^k (n, dim, dim) at the rows of X."""
    n, dim = X.shape
    orbit = np.empty((n, k + 1, dim))
    orbit[:, 0] = X
    M = np.broadcast_to(np.eye(dim), (n, dim, dim)).copy()
    x = X
    with np.errstate(all="ignore"):
        for i in range(k):
            good = np.isfinite(x).all(axis=1)
            J = np.full((n, dim, dim), np.nan)
            y = np.full((n, dim), np.nan)
            if good.all():
                J = evaluate_jacobian(system, x, P, threads=_threads(n))
                y = evaluate_rhs(system, x, P, threads=_threads(n))
            elif good.any():
                J[good] = evaluate_jacobian(system, x[good], P[good], threads=_threads(n))
                y[good] = evaluate_rhs(system, x[good], P[good], threads=_threads(n))
            M = J @ M
            x = y
            orbit[:, i + 1] = x
    return orbit, M


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A x = b row-wise; singular or non-finite rows give NaN."""
    n, dim, _ = A.shape
    out = np.full((n, dim), np.nan)
    good = np.isfinite(A).all(axis=(1, 2)) & np.isfinite(b).all(axis=1)
    with np.errstate(all="ignore"):
        if dim == 1:
            out[good, 0] = b[good, 0] / A[good, 0, 0]
        elif dim == 2:
            a, bb, c, d = A[good, 0, 0], A[good, 0, 1], A[good, 1, 0], A[good, 1, 1]
            det = a * d - bb * c
            out[good, 0] = (d * b[good, 0] - bb * b[good, 1]) / det
            out[good, 1] = (-c * b[good, 0] + a * b[good, 1]) / det
        else:
            idx = np.flatnonzero(good)
            for i in idx:
                try:
                    out[i] = np.linalg.solve(A[i], b[i])
                except np.linalg.LinAlgError:
                    pass
    return out


def cycle_newton(system: Map, X0: Any, k: int, params: Any = None, *, iterations: int = 60,
                 tol: float = 1e-12, box: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped Newton on F^k(x) - x from every row of ``X0`` (vectorised over rows).

    Parameters
    ----------
    system : Map
    X0 : array_like, shape (n, dim)
        Starts.
    k : int
        The period looked for (solutions may have a period dividing k).
    params : mapping or array_like, optional
        Parameter values, one row per start or shared.
    iterations : int
        Newton steps at most.
    tol : float
        Stop a row once |F^k(x) - x| <= tol * max(1, |x|).
    box : (dim, 2) array, optional
        Rows leaving a slightly enlarged box are abandoned (NaN).

    Returns
    -------
    x : (n, dim) ndarray
        Refined points (NaN where Newton failed).
    residual : (n,) ndarray
        max |F^k(x) - x| at ``x`` (inf where it failed).
    multipliers : (n, dim) ndarray of complex
        Eigenvalues of D(F^k)(x).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> x, res, m = cycle_newton(ds.models.logistic(), [[0.7]], 1, {"r": 3.2})
    >>> round(float(x[0, 0]), 12), round(float(m[0, 0].real), 12)   # x* = 1 - 1/r, f'(x*) = 2 - r
    (0.6875, -1.2)
    """
    X = np.array(X0, dtype=np.float64, ndmin=2)
    if system.dim == 1 and X.shape[0] == 1 and X.shape[1] != 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[1] != system.dim:
        raise DimensionError(f"starts must have shape (n, {system.dim}); got {X.shape}")
    n, dim = X.shape
    P = _params_rows(system, params, n)
    if box is not None:
        box = np.asarray(box, dtype=np.float64).reshape(dim, 2)
        pad = 0.05 * (box[:, 1] - box[:, 0])
        lo, hi = box[:, 0] - pad, box[:, 1] + pad
    eye = np.eye(dim)
    active = np.ones(n, bool)
    x = X.copy()
    G = np.full((n, dim), np.inf)
    for _ in range(iterations):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        orbit, M = _orbit_and_jacobian(system, x[idx], k, P[idx])
        g = orbit[:, k] - orbit[:, 0]
        G[idx] = g
        size = np.abs(g).max(axis=1)
        scale = np.maximum(1.0, np.abs(x[idx]).max(axis=1))
        done = size <= tol * scale
        bad = ~np.isfinite(size)
        x[idx[bad]] = np.nan
        active[idx[done | bad]] = False
        keep = ~(done | bad)
        idx, g, M, size = idx[keep], g[keep], M[keep], size[keep]
        if idx.size == 0:
            break
        step = _solve(M - eye, -g)
        # Damping: halve the step until the residual decreases (at most 12 halvings).
        lam = np.ones(idx.size)
        pending = np.arange(idx.size)
        trial = x[idx].copy()
        for _h in range(12):
            cand = x[idx[pending]] + lam[pending, None] * step[pending]
            with np.errstate(all="ignore"):
                orb = cand.copy()
                for _i in range(k):
                    orb = _safe_rhs(system, orb, P[idx[pending]])
                new = np.abs(orb - cand).max(axis=1)
            ok = np.isfinite(new) & (new < size[pending])
            trial[pending[ok]] = cand[ok]
            pending = pending[~ok]
            if pending.size == 0:
                break
            lam[pending] *= 0.5
        # Rows whose residual never decreased take the full step anyway (Newton may need to climb).
        if pending.size:
            trial[pending] = x[idx[pending]] + step[pending]
        x[idx] = trial
        if box is not None:
            out = ~((x[idx] >= lo) & (x[idx] <= hi)).all(axis=1)
            x[idx[out]] = np.nan
            active[idx[out]] = False
        bad = ~np.isfinite(x[idx]).all(axis=1)
        x[idx[bad]] = np.nan
        active[idx[bad]] = False
    # Final residuals and multipliers.
    finite = np.isfinite(x).all(axis=1)
    residual = np.full(n, np.inf)
    multipliers = np.full((n, dim), np.nan, dtype=complex)
    if finite.any():
        orbit, M = _orbit_and_jacobian(system, x[finite], k, P[finite])
        r = np.abs(orbit[:, k] - orbit[:, 0]).max(axis=1)
        residual[finite] = np.where(np.isfinite(r), r, np.inf)
        okM = np.isfinite(M).all(axis=(1, 2))
        ev = np.full((M.shape[0], dim), np.nan, dtype=complex)
        if okM.any():
            ev[okM] = np.linalg.eigvals(M[okM])
        multipliers[finite] = ev
    return x, residual, multipliers


def _safe_rhs(system: Map, X: np.ndarray, P: np.ndarray) -> np.ndarray:
    """F at the finite rows of X (NaN rows stay NaN: the drivers refuse non-finite input)."""
    if np.isfinite(X).all():
        return evaluate_rhs(system, X, P, threads=_threads(X.shape[0]))
    out = np.full_like(X, np.nan)
    good = np.isfinite(X).all(axis=1)
    if good.any():
        out[good] = evaluate_rhs(system, X[good], P[good] if P.shape[0] == X.shape[0] else P,
                                 threads=_threads(int(good.sum())))
    return out


def _divisors(k: int) -> list[int]:
    return [d for d in range(1, k) if k % d == 0]


def find_cycles(system: Map, k: int, box: Any, *, starts: int | None = None, seed: int = 0,
                tol: float = 1e-10, **params: Any) -> list[NumericCycle]:
    """All cycles of minimal period ``k`` of a 1-D or 2-D map inside a box.

    Damped Newton on F^k(x) - x from ``starts`` seeded random points in the
    box (uniform, plus points along a long orbit so that narrow laps are seeded
    too); solutions are deduplicated up to cyclic shift, orbits of a lower
    period are dropped, and so are orbits with a point outside the box.

    Parameters
    ----------
    system : Map
    k : int
        The minimal period, 1 <= k <= 12.
    box : sequence of (lo, hi) pairs
        One pair per state variable (a single pair for a 1-D map).
    starts : int, optional
        Newton starts (default ``400 * 2**k`` capped at 60000, times the dimension).
    seed : int
        Seed of the random starts.
    tol : float
        Residual accepted for a cycle (relative to max(1, |x|)).
    **params
        Parameter values.

    Returns
    -------
    list of NumericCycle
        Sorted by the first coordinate of their first point.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> cycles = find_cycles(ds.models.logistic(), 3, [0, 1], r=3.83)
    >>> len(cycles), sum(c.stable for c in cycles)
    (2, 1)
    """
    if not isinstance(system, Map):
        raise TypeError(f"find_cycles needs a Map, got {type(system).__name__}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 12:
        raise ValueError(f"k must be an integer in 1..12, got {k!r}")
    k = int(k)
    dim = system.dim
    B = np.asarray(box, dtype=np.float64).reshape(-1, 2)
    if B.shape != (dim, 2) or not (B[:, 1] > B[:, 0]).all():
        raise DimensionError(f"box must be {dim} (lo, hi) pair(s) with lo < hi; got {np.asarray(box).tolist()}")
    if starts is None:
        starts = min(400 * 2**k, 60000) * dim
    rng = np.random.default_rng(seed)
    n_uniform = starts - starts // 4
    X = B[:, 0] + (B[:, 1] - B[:, 0]) * rng.random((n_uniform, dim))
    # Seeds along orbits: they sample the natural measure, where cycles of chaotic attractors sit.
    n_orbit = starts - n_uniform
    if n_orbit:
        Y = B[:, 0] + (B[:, 1] - B[:, 0]) * rng.random((max(1, n_orbit // 50), dim))
        P = _params_rows(system, params, Y.shape[0])
        seeds = []
        with np.errstate(all="ignore"):
            for i in range(100):
                Y = _safe_rhs(system, Y, P)
                if i >= 50:
                    seeds.append(Y.copy())
        S = np.concatenate(seeds)
        S = S[np.isfinite(S).all(axis=1) & ((S >= B[:, 0]) & (S <= B[:, 1])).all(axis=1)]
        S = S[:n_orbit]
        X = np.concatenate([X, S + 1e-9 * rng.standard_normal(S.shape)])
    x, residual, mult = cycle_newton(system, X, k, params, tol=tol * 1e-2, box=B)
    scale = np.maximum(1.0, np.abs(np.nan_to_num(x)).max(axis=1))
    ok = np.isfinite(residual) & (residual <= tol * scale)
    x, residual, mult = x[ok], residual[ok], mult[ok]
    if x.shape[0] == 0:
        return []
    P = _params_rows(system, params, x.shape[0])
    orbit, _ = _orbit_and_jacobian(system, x, k, P)
    pts = orbit[:, :k]                      # (m, k, dim)
    span = float((B[:, 1] - B[:, 0]).max())
    sep = max(1e-6 * span, 1e3 * tol)
    inside = ((pts >= B[:, 0] - 1e-9 * span) & (pts <= B[:, 1] + 1e-9 * span)).all(axis=(1, 2))
    lower = np.zeros(x.shape[0], bool)
    for d in _divisors(k):
        lower |= np.abs(pts[:, d] - pts[:, 0]).max(axis=1) <= sep
    keep = inside & ~lower
    pts, residual, mult = pts[keep], residual[keep], mult[keep]
    # Canonical rotation: start at the lexicographically smallest point.
    cycles: list[NumericCycle] = []
    firsts = []
    for j in range(pts.shape[0]):
        p = pts[j]
        start = np.lexsort(p.T[::-1])[0]
        p = np.roll(p, -start, axis=0)
        firsts.append(p)
    if not firsts:
        return []
    canon = np.stack(firsts)
    order = np.lexsort(canon[:, 0, ::-1].T)
    kept: list[int] = []
    for j in order:
        duplicate = False
        for i in reversed(kept):
            if canon[j, 0, 0] - canon[i, 0, 0] > sep:
                break
            if np.abs(canon[j] - canon[i]).max() <= sep:
                duplicate = True
                if residual[j] < residual[i]:
                    kept[kept.index(i)] = j
                break
        if not duplicate:
            kept.append(j)
    for j in kept:
        m = mult[j]
        m = m[np.argsort(-np.abs(m))]
        if np.all(np.abs(m.imag) <= 1e-12 * np.maximum(1.0, np.abs(m.real))):
            m = m.real.astype(complex)
        stable = bool(np.all(np.abs(m) < 1.0))
        cycles.append(NumericCycle(points=canon[j], multipliers=m, stable=stable, residual=float(residual[j])))
    cycles.sort(key=lambda c: tuple(c.points[0]))
    return cycles
