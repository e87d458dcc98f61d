"""Regime diagrams of gradient descent: how training behaves over (parameter x initial condition).

For a gradient-descent map (from :func:`~dsanalyze.systems.gd_map`, or any
:class:`~dsanalyze.systems.Map` carrying ``.loss``), :func:`regime_diagram`
classifies the long-run behaviour of every (parameter value, initial
condition) pair as one :class:`Regime`: monotone convergence, non-monotone
("catapult") convergence, periodic-k, chaotic, bounded aperiodic but not
chaotic, or divergent -- the phase diagram of the large-learning-rate
literature, for any loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DsAnalyzeError
from ..progress import progress
from ..systems import Map
from .arguments import states
from .basins import _period
from .orbits import _require_map, _steps, iterate

__all__ = ["Regime", "RegimeDiagram", "regime_diagram"]


class Regime(IntEnum):
    """Long-run behaviour of one gradient-descent run."""

    MONOTONE = 0  #: converges to a fixed point, the loss never rising
    CATAPULT = 1  #: converges to a fixed point after the loss rose at least once
    PERIODIC = 2  #: settles on a k-cycle, k >= 2 (the period is in RegimeDiagram.period)
    CHAOTIC = 3  #: bounded, aperiodic, positive finite-time Lyapunov estimate
    APERIODIC = 4  #: bounded, aperiodic, Lyapunov estimate not positive (quasi-periodic or too slow to tell)
    DIVERGENT = 5  #: left the box |x| < escape

    @property
    def label(self) -> str:
        return {0: "monotone convergence", 1: "catapult convergence", 2: "periodic", 3: "chaotic",
                4: "bounded aperiodic", 5: "divergent"}[int(self)]


@dataclass(frozen=True)
class RegimeDiagram:
    """Regimes over a (parameter value x initial condition) grid.

    Attributes
    ----------
    param : str
        The parameter swept.
    values : (m,) ndarray
        Its values (rows).
    x0s : (n, dim) ndarray
        The initial conditions (columns).
    regime : (m, n) ndarray of int8
        :class:`Regime` codes.
    period : (m, n) ndarray of int16
        1 for convergence, k for a k-cycle, 0 otherwise.
    lyapunov : (m, n) ndarray
        Finite-time Lyapunov estimate where the orbit is bounded and aperiodic (NaN elsewhere).
    final : (m, n, dim) ndarray
        Last states (NaN for divergent runs).
    """

    param: str
    values: np.ndarray
    x0s: np.ndarray
    regime: np.ndarray
    period: np.ndarray
    lyapunov: np.ndarray = field(repr=False)
    final: np.ndarray = field(repr=False)

    def fraction(self, regime: Regime) -> np.ndarray:
        """Fraction of the initial conditions in ``regime`` at each parameter value."""
        return (self.regime == int(regime)).mean(axis=1)

    def counts(self) -> dict[Regime, int]:
        """How many grid cells fall in each regime."""
        return {r: int((self.regime == int(r)).sum()) for r in Regime}


def _loss_function(system: Map):
    if system.loss is None:
        raise DsAnalyzeError(
            f"regime_diagram needs a gradient system carrying .loss (from gd_map); "
            f"{system.name or 'this map'} has none"
        )
    symbols = (*system.state, *system.params)
    f = sp.lambdify(symbols, system.loss, modules="numpy")

    def loss(X: np.ndarray, P: np.ndarray) -> np.ndarray:
        # X (..., dim), P (..., npar) broadcastable
        with np.errstate(all="ignore"):
            value = f(*np.moveaxis(X, -1, 0), *np.moveaxis(P, -1, 0))
        return np.broadcast_to(np.asarray(value, dtype=np.float64), X.shape[:-1])

    return loss


def regime_diagram(
    system: Map,
    param: str,
    values: Any,
    x0s: Any,
    steps: int = 1000,
    params: Any = None,
    *,
    escape: float = 1e6,
    tol: float = 1e-8,
    max_period: int = 12,
    segment: int = 100,
    lyapunov_steps: int = 400,
    delta: float = 1e-9,
    lyapunov_threshold: float = 1e-2,
    rise_tol: float = 1e-12,
    chunk: int = 1 << 14,
    show_progress: bool | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> RegimeDiagram:
    """Classify gradient descent over a (parameter value x initial condition) grid.

    Each run is iterated ``steps`` steps in compiled segments of ``segment``
    steps, recording the states; the loss (``system.loss`` through
    ``sympy.lambdify``, vectorised) is evaluated along the recorded orbit and
    any rise of more than ``rise_tol * (1 + |L|)`` before convergence is
    noted. At the end, an orbit still inside ``|x| < escape`` is given the
    smallest period k <= ``max_period`` of its last ``2 * max_period`` states
    (to ``tol``): k = 1 is convergence (monotone if the loss never rose,
    catapult otherwise), k >= 2 is periodic. For the rest the finite-time
    Lyapunov exponent is estimated from two orbits started ``delta`` apart,
    renormalised every 10 steps for ``lyapunov_steps`` steps; above
    ``lyapunov_threshold`` the run is chaotic, else bounded aperiodic.

    Parameters
    ----------
    system : Map
        A gradient-descent map carrying ``.loss``.
    param : str
        The parameter swept (e.g. ``"eta"``).
    values : array_like, shape (m,)
    x0s : array_like, shape (n, dim) (or (n,) for a 1-D map)
    steps : int
        Steps per run (at least ``2 * max_period``).
    params : mapping, optional
        Values of the other parameters.
    escape, tol, max_period, segment, lyapunov_steps, delta, lyapunov_threshold, rise_tol : see above
    show_progress : bool, optional
        A progress bar over the chunks (default: only on a terminal).
    chunk : int
        Runs per batch: memory stays bounded, as a batch records ``segment``
        states per run (16384 x 100 x dim doubles by default).
    seed : int
        Seeds the direction of the perturbation of the Lyapunov estimate.
    threads : int, optional
        Threads of the compiled kernel.

    Returns
    -------
    RegimeDiagram

    Examples
    --------
    >>> import numpy as np, dsanalyze as ds
    >>> from dsanalyze.numeric.regimes import Regime, regime_diagram
    >>> D = regime_diagram(ds.models.double_well_gd(), "eta", [0.05, 0.24, 0.28, 0.6], [0.9, 1.3], 600)
    >>> [[Regime(r).name for r in row] for row in D.regime]
    [['MONOTONE', 'MONOTONE'], ['CATAPULT', 'CATAPULT'], ['PERIODIC', 'PERIODIC'], ['DIVERGENT', 'DIVERGENT']]
    >>> D.period[2].tolist()
    [2, 2]
    """
    _require_map(system, "regime_diagram")
    steps = _steps(steps)
    tail = 2 * int(max_period)
    if steps < tail:
        raise ValueError(f"steps ({steps}) must be at least 2 * max_period ({tail})")
    loss = _loss_function(system)
    names = [p.name for p in system.params]
    param = param.name if hasattr(param, "name") else str(param)
    if param not in names:
        raise DsAnalyzeError(f"{param!r} is not a parameter of {system.name or 'the system'}; parameters: {', '.join(names)}")
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    X0 = states(system, x0s, "x0s", batch=True)
    m, n, dim = values.size, X0.shape[0], system.dim
    given = {(k.name if hasattr(k, "name") else str(k)): v for k, v in dict(params or {}).items()}
    unknown = sorted(set(given) - set(names))
    if unknown or param in given:
        raise DsAnalyzeError(f"params gives {', '.join(unknown) or param}: not another parameter of "
                             f"{system.name or 'the system'} (parameters: {', '.join(names)}; swept: {param})")
    defaults = {k.name: float(v) for k, v in system.defaults.items()}
    P = np.empty((m, n, len(names)))
    for j, name in enumerate(names):
        if name == param:
            P[:, :, j] = values[:, None]
        elif name in given:
            P[:, :, j] = float(given[name])
        elif name in defaults:
            P[:, :, j] = defaults[name]
        else:
            raise DsAnalyzeError(f"no value for parameter {name}; pass params={{{name!r}: ...}}")
    P = P.reshape(m * n, -1)
    x = np.ascontiguousarray(np.broadcast_to(X0[None], (m, n, dim)).reshape(m * n, dim))

    N = m * n
    regime = np.empty(N, dtype=np.int8)
    period = np.empty(N, dtype=np.int16)
    lyap = np.empty(N)
    final = np.empty((N, dim))
    chunk = max(1, int(chunk))
    for lo in progress(range(0, N, chunk), desc="regimes", unit="chunk", show=show_progress):
        hi = min(N, lo + chunk)
        regime[lo:hi], period[lo:hi], lyap[lo:hi], final[lo:hi] = _classify(
            system, loss, x[lo:hi], P[lo:hi], steps, escape, tol, max_period, segment, lyapunov_steps, delta,
            lyapunov_threshold, rise_tol, threads, seed + lo)
    return RegimeDiagram(param, values, X0, regime.reshape(m, n), period.reshape(m, n), lyap.reshape(m, n),
                         final.reshape(m, n, dim))


def _classify(system, loss, x, P, steps, escape, tol, max_period, segment, lyapunov_steps, delta,
              lyapunov_threshold, rise_tol, threads, seed):
    """Regime, period, Lyapunov estimate and final state of a batch of runs (states x, parameter rows P)."""
    tail = 2 * int(max_period)
    N, dim = x.shape
    x = x.copy()
    escaped = np.zeros(N, dtype=bool)
    rose = np.zeros(N, dtype=bool)
    settled = np.zeros(N, dtype=bool)  # converged to tol: later loss jitter is round-off
    prev_loss = loss(x, P).copy()
    done = 0
    while done < steps:
        seg = min(segment, steps - done)
        live = np.flatnonzero(~escaped)
        if not live.size:
            break
        res = iterate(system, x[live], seg, P[live], escape=escape, record=seg, threads=threads)
        rec = res.recorded  # (l, seg, dim), NaN after escape
        out = res.escape_step >= 0
        L = loss(rec, P[live][:, None, :])
        Lall = np.concatenate([prev_loss[live][:, None], L], axis=1)
        Xall = np.concatenate([x[live][:, None, :], rec], axis=1)
        moved = np.abs(np.diff(Xall, axis=1)).max(axis=2) > tol * (1.0 + np.abs(Xall[:, 1:]).max(axis=2))
        rise = np.diff(Lall, axis=1) > rise_tol * (1.0 + np.abs(Lall[:, :-1]))
        # a rise counts while the orbit is still moving (not at its limit to round-off)
        was_settled = settled[live][:, None] | (np.cumsum(~moved, axis=1) > 0)
        rose[live] |= np.any(rise & moved & ~was_settled & np.isfinite(L), axis=1)
        settled[live] |= ~moved[:, -1]
        escaped[live[out]] = True
        keep = ~out
        x[live[keep]] = res.final[keep]
        prev_loss[live[keep]] = L[keep, -1]
        done += seg
    regime = np.full(N, int(Regime.DIVERGENT), dtype=np.int8)
    period = np.zeros(N, dtype=np.int16)
    lyap = np.full(N, np.nan)
    final = np.full((N, dim), np.nan)
    bounded = np.flatnonzero(~escaped)
    if bounded.size:
        final[bounded] = x[bounded]
        # the last 2 * max_period states: continue from the end (cheap, exact tail)
        more = iterate(system, x[bounded], tail, P[bounded], escape=escape, record=tail, threads=threads)
        ok = more.escape_step < 0
        k = _period(more.recorded, int(max_period), tol)
        k[~ok] = -1
        _settle_slow_convergence(system, more, k, P[bounded], steps, escape, tol, max_period, threads)
        conv = k == 1
        regime[bounded[conv]] = np.where(rose[bounded[conv]], int(Regime.CATAPULT), int(Regime.MONOTONE))
        period[bounded[conv]] = 1
        cyc = k >= 2
        regime[bounded[cyc]] = int(Regime.PERIODIC)
        period[bounded[cyc]] = k[cyc]
        escaped_late = bounded[~ok]
        final[escaped_late] = np.nan
        open_ = bounded[k == 0]
        if open_.size:
            lam = _finite_time_lyapunov(system, more.recorded[k == 0, -1, :], P[open_], lyapunov_steps, delta, escape,
                                        threads, seed)
            lyap[open_] = lam
            regime[open_] = np.where(lam > lyapunov_threshold, int(Regime.CHAOTIC), int(Regime.APERIODIC))
    return regime, period, lyap, final


def _cycle_width(tail: np.ndarray) -> np.ndarray:
    """Distance between consecutive states of the tail: the size of a k-cycle, 0 at a fixed point."""
    return np.abs(tail[:, -1, :] - tail[:, -2, :]).max(axis=1)


def _settle_slow_convergence(system, more, k, P, steps, escape, tol, max_period, threads, extensions: int = 4):
    """Re-examine apparent cycles whose size is still shrinking.

    Near a flip (multiplier close to -1) an orbit converging to a fixed point
    oscillates with slowly decaying amplitude; its tail can pass the period-2
    test before the period-1 test. Such rows are iterated further (up to
    ``extensions`` times ``steps``); where the size of the apparent cycle keeps
    shrinking, the later tail decides. ``more`` and ``k`` are updated in place.
    """
    rows = np.flatnonzero(k >= 2)
    tail = more.recorded.shape[1]
    for _ in range(extensions):
        if rows.size == 0:
            return
        before = _cycle_width(more.recorded[rows])
        start = more.recorded[rows, -1, :]
        later = iterate(system, start, steps + tail, P[rows], escape=escape, record=tail, threads=threads)
        k_later = _period(later.recorded, int(max_period), tol)
        k_later[later.escape_step >= 0] = -1
        after = _cycle_width(later.recorded)
        more.recorded[rows] = later.recorded
        k[rows] = k_later
        shrinking = (k_later >= 2) & (after < 0.9 * before)
        rows = rows[shrinking]


def _finite_time_lyapunov(system, x, P, steps, delta, escape, threads, seed, every: int = 10) -> np.ndarray:
    """Largest Lyapunov exponent from two nearby orbits, renormalised every ``every`` steps."""
    rng = np.random.default_rng(seed)
    direction = rng.standard_normal(x.shape)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    a = x.copy()
    b = x + delta * direction
    total = np.zeros(x.shape[0])
    done = 0
    while done < steps:
        s = min(every, steps - done)
        ra = iterate(system, a, s, P, escape=escape, threads=threads).final
        rb = iterate(system, b, s, P, escape=escape, threads=threads).final
        d = np.linalg.norm(rb - ra, axis=1)
        d = np.where(d > 0, d, delta * 1e-12)
        total += np.log(d / delta)
        a = ra
        b = ra + (rb - ra) * (delta / d)[:, None]
        done += s
    return total / max(steps, 1)
