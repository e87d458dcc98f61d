"""Basins of attraction on the compiled kernels: a catalogue of attractors built from the orbits.

:func:`basins` iterates a grid (or a sample) of initial conditions of a map,
recognises where each orbit ends up (a fixed point, a k-cycle, a bounded
aperiodic set, or divergence), builds the catalogue of those attractors as it
goes, and labels every initial condition with its catalogue entry.
:func:`basin_entropy` measures how mixed the basins are (Daza et al. 2016).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from ..errors import DimensionError, DsAnalyzeError, ParameterError
from ..progress import progress
from ..systems import Map
from .arguments import parameter_matrix, states
from .orbits import _require_map, _steps, evaluate_jacobian, iterate

__all__ = ["AttractorKind", "Attractor", "Basins", "basins", "basin_entropy"]


class AttractorKind(str, Enum):
    """What an orbit ends on."""

    FIXED_POINT = "fixed point"
    CYCLE = "cycle"
    APERIODIC = "bounded aperiodic"
    DIVERGENT = "divergent"


@dataclass(frozen=True)
class Attractor:
    """One entry of the catalogue of a :class:`Basins` result.

    Attributes
    ----------
    label : int
        The value that marks its basin in :attr:`Basins.labels`.
    kind : AttractorKind
    period : int or None
        1 for a fixed point, k for a k-cycle, None for aperiodic and divergent.
    points : (period, dim) ndarray
        The fixed point or the points of the cycle (in orbit order, starting at
        the lexicographically smallest); for an aperiodic set a sample of
        recorded states; empty for divergence.
    attracting : bool or None
        Whether the linearisation says it attracts (spectral radius of the
        cycle's Jacobian product < 1). A saddle is listed when grid points land
        on its stable set (e.g. on an invariant line); None when not decided
        (aperiodic, divergent).
    spectral_radius : float or None
        Largest |multiplier| of the fixed point or cycle.
    count : int
        Initial conditions in its basin.
    fraction : float
        ``count`` over the number of initial conditions.
    """

    label: int
    kind: AttractorKind
    period: int | None
    points: np.ndarray = field(repr=False)
    attracting: bool | None
    spectral_radius: float | None
    count: int
    fraction: float

    def __repr__(self) -> str:
        where = np.array2string(self.points[:3], precision=6, separator=", ") if self.points.size else "-"
        return (f"Attractor({self.label}: {self.kind.value}, period {self.period}, at {where}, "
                f"attracting={self.attracting}, fraction={self.fraction:.6g})")


@dataclass(frozen=True)
class Basins:
    """Initial conditions labelled by the attractor their orbit reaches.

    Attributes
    ----------
    labels : ndarray of int16
        Shaped like the grid ((len(axis0), len(axis1), ...) for axes; (n,) for a sample).
    attractors : tuple of Attractor
        The catalogue; ``attractors[i].label == i``.
    axes : tuple of ndarray or None
        The grid axes, when a grid was given.
    entropy, boundary_entropy : float or None
        Basin entropy S_b and boundary basin entropy S_bb (natural log) with
        boxes of ``eps`` x ``eps`` cells; None for a sample or a 1-D grid.
    eps : int
        Box side, in cells.
    """

    labels: np.ndarray
    attractors: tuple[Attractor, ...]
    axes: tuple[np.ndarray, ...] | None = field(default=None, repr=False)
    entropy: float | None = None
    boundary_entropy: float | None = None
    eps: int = 5

    @property
    def fractions(self) -> np.ndarray:
        """Basin fractions, indexed by label (they sum to 1)."""
        return np.array([a.fraction for a in self.attractors])

    def attracting(self) -> tuple[Attractor, ...]:
        """The fixed points and cycles whose linearisation attracts."""
        return tuple(a for a in self.attractors if a.attracting)

    def of_kind(self, kind: AttractorKind) -> tuple[Attractor, ...]:
        """Catalogue entries of one kind."""
        return tuple(a for a in self.attractors if a.kind is AttractorKind(kind))


# ---------------------------------------------------------------- entropy


def basin_entropy(labels: Any, eps: int = 5) -> tuple[float, float]:
    """Basin entropy and boundary basin entropy of a 2-D label array (Daza et al. 2016).

    The array is cut into non-overlapping boxes of ``eps`` x ``eps`` cells
    (a ragged margin is dropped). In each box the Gibbs entropy
    S = -sum_j p_j ln p_j of the label frequencies p_j is computed;
    S_b is its mean over all boxes, S_bb its mean over the boxes holding more
    than one label (0 when there are none).

    Reference: A. Daza, A. Wagemakers, B. Georgeot, D. Guéry-Odelin and
    M. A. F. Sanjuán, "Basin entropy: a new tool to analyze uncertainty in
    dynamical systems", Sci. Rep. 6, 31416 (2016).

    Examples
    --------
    >>> labels = [[0, 0, 1, 1], [0, 0, 1, 1]]
    >>> basin_entropy(labels, eps=2)        # two pure boxes
    (0.0, 0.0)
    >>> S_b, S_bb = basin_entropy([[0, 1], [0, 1]], eps=2)
    >>> round(S_b, 6), round(S_bb, 6)       # one box, half and half: ln 2
    (0.693147, 0.693147)
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise DimensionError(f"basin_entropy needs a 2-D label array, got shape {labels.shape}")
    eps = int(eps)
    if eps < 1:
        raise ValueError(f"eps must be a positive number of cells, got {eps}")
    n0, n1 = (labels.shape[0] // eps) * eps, (labels.shape[1] // eps) * eps
    if n0 == 0 or n1 == 0:
        raise ValueError(f"eps = {eps} is larger than the label array {labels.shape}")
    boxes = labels[:n0, :n1].reshape(n0 // eps, eps, n1 // eps, eps).transpose(0, 2, 1, 3).reshape(-1, eps * eps)
    values = np.unique(labels)  # a few labels: count each one box by box
    counts = np.empty((boxes.shape[0], values.size))
    for j, value in enumerate(values):
        counts[:, j] = np.count_nonzero(boxes == value, axis=1)
    p = counts / (eps * eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    S = terms.sum(axis=1)
    mixed = (counts > 0).sum(axis=1) > 1
    S_b = float(S.mean())
    S_bb = float(S[mixed].mean()) if mixed.any() else 0.0
    return S_b + 0.0, S_bb + 0.0


# ---------------------------------------------------------------- catalogue


class _Catalogue:
    """Attractors found so far; matching of tails against them."""

    def __init__(self, dim: int, match_tol: float, max_attractors: int):
        self.dim = dim
        self.match_tol = match_tol
        self.max_attractors = max_attractors
        self.cycles: list[np.ndarray] = []  # (k, dim) each
        self.aperiodic: list[np.ndarray] = []  # collected tail samples

    def _add(self, cycle: np.ndarray) -> None:
        if len(self.cycles) >= self.max_attractors:
            raise DsAnalyzeError(
                f"more than {self.max_attractors} distinct fixed points or cycles: the attractors may form a "
                "continuum (a curve of fixed points, as uv = 1 for the two-factor map), which a catalogue cannot "
                "list; raise match_tol to merge nearby ones or max_attractors to keep going"
            )
        self.cycles.append(cycle)

    def nearest(self, tails: np.ndarray) -> np.ndarray:
        """Index of a known cycle that every one of the last k states of a tail is near (-1 if none)."""
        out = np.full(tails.shape[0], -1, dtype=np.int64)
        for index, cycle in enumerate(self.cycles):
            k = cycle.shape[0]
            free = np.flatnonzero(out < 0)
            if not free.size or k > tails.shape[1]:
                continue
            last = tails[free, -k:, :]
            d = np.abs(last[:, :, None, :] - cycle[None, None, :, :]).max(axis=3).min(axis=2).max(axis=1)
            out[free[d <= self.match_tol * (1.0 + np.abs(cycle).max())]] = index
        return out

    def _canonical(self, cycle: np.ndarray) -> np.ndarray:
        order = np.lexsort(cycle.T[::-1])
        return np.roll(cycle, -int(order[0]), axis=0)

    def _match_points(self, x: np.ndarray) -> np.ndarray:
        """Fixed-point labels for states x of shape (m, dim)."""
        out = np.full(x.shape[0], -1, dtype=np.int64)
        todo = np.arange(x.shape[0])
        checked = 0
        while todo.size:
            for index in range(checked, len(self.cycles)):
                cycle = self.cycles[index]
                if cycle.shape[0] != 1 or not todo.size:
                    continue
                sub = x[todo] if todo.size < x.shape[0] else x
                hit = _rowmax_abs(sub - cycle[0]) <= self.match_tol * (1.0 + np.abs(cycle).max())
                out[todo[hit]] = index
                todo = todo[~hit]
            checked = len(self.cycles)
            if todo.size:
                self._add(x[todo[0]][None, :].copy())
        return out

    def match(self, tails: np.ndarray, period: int) -> np.ndarray:
        """Labels (indices into self.cycles) for tails of shape (m, >= period, dim) with this period."""
        if period == 1:
            return self._match_points(tails[:, -1, :])
        last = tails[:, -period:, :]
        out = np.full(last.shape[0], -1, dtype=np.int64)
        todo = np.arange(last.shape[0])
        while todo.size:
            for index, cycle in enumerate(self.cycles):
                if cycle.shape[0] != period or not todo.size:
                    continue
                # Every tail point has a cycle point within match_tol (cyclic shifts are one attractor).
                d = np.abs(last[todo][:, :, None, :] - cycle[None, None, :, :]).max(axis=3).min(axis=2).max(axis=1)
                hit = d <= self.match_tol * (1.0 + np.abs(cycle).max())
                out[todo[hit]] = index
                todo = todo[~hit]
            if todo.size:
                self._add(self._canonical(last[todo[0]].copy()))
        return out


def _rowmax_abs(X: np.ndarray) -> np.ndarray:
    """max_j |X[:, j]| of an (m, dim) array (column by column: much faster than a reduction over axis 1)."""
    out = np.abs(X[:, 0])
    for j in range(1, X.shape[1]):
        np.maximum(out, np.abs(X[:, j]), out=out)
    return out


def _grid_points(axes: tuple[np.ndarray, ...], start: int, stop: int) -> np.ndarray:
    shape = tuple(a.size for a in axes)
    idx = np.unravel_index(np.arange(start, stop), shape)
    return np.ascontiguousarray(np.column_stack([a[i] for a, i in zip(axes, idx)]))


def _transient(system: Map, X: np.ndarray, steps: int, params: Any, escape: float, threads: int | None):
    """Indices of the orbits still bounded after ``steps`` steps, and their states.

    One call of the compiled kernel, which stops a block of orbits early once
    every orbit in it has escaped or rests exactly on a fixed point (as
    gradient descent does on its minima), with the result of the full run.
    """
    res = iterate(system, X, steps, params, escape=escape, threads=threads)
    alive = np.flatnonzero(res.escape_step < 0)
    return alive, res.final[alive]


def _period(tail: np.ndarray, max_period: int, tol: float) -> np.ndarray:
    """Smallest k <= max_period with x[t] == x[t - k] (to tol) over the last k states; 0 if none."""
    m, R, _ = tail.shape
    period = np.zeros(m, dtype=np.int64)
    scale = 1.0 + np.abs(tail[:, -1, :]).max(axis=1)
    for k in range(1, max_period + 1):
        if 2 * k > R:
            break
        d = np.abs(tail[:, R - k:, :] - tail[:, R - 2 * k:R - k, :]).max(axis=(1, 2))
        new = (period == 0) & (d <= tol * scale)
        period[new] = k
    return period


def basins(
    system: Map,
    grid: Any,
    steps: int,
    params: Any = None,
    *,
    escape: float = 1e6,
    tol: float = 1e-8,
    match_tol: float = 1e-5,
    max_period: int = 12,
    max_attractors: int = 1000,
    eps: int = 5,
    chunk: int = 1 << 18,
    show_progress: bool | None = None,
    seed: int = 0,
    threads: int | None = None,
    **param_values: Any,
) -> Basins:
    """Label a grid or a sample of initial conditions by the attractor each orbit reaches.

    Every orbit is iterated ``steps`` steps (compiled, batched; an orbit
    that lands exactly on a fixed point stops early, with the same result);
    divergent orbits (escaped the box ``|x| < escape``) are labelled so. One more step
    tells the orbits that sit on a fixed point (to ``tol``, relative to
    1 + |x|); the others are followed ``2 * max_period`` steps more and
    recorded, and the smallest period k <= ``max_period`` with
    x_t = x_{t-k} (to ``tol``) is read off. Tails of one period are
    clustered into catalogue entries (``match_tol``, relative); the cyclic
    shifts of a cycle are one entry. Tails without a period that lie within
    ``match_tol`` of a known fixed point or cycle are still converging to it
    and join its basin; the rest are "bounded aperiodic" (one entry). Each fixed point
    and cycle is tested for stability with the compiled Jacobian.

    Work proceeds in chunks of ``chunk`` initial conditions; only labels
    (int16) are kept for the whole grid, so a 4000 x 4000 grid fits in memory.

    Parameters
    ----------
    system : Map
    grid : sequence of 1-D arrays, or array_like of shape (n, dim)
        Either a list or tuple of axes, one 1-D array per state variable (the
        grid is their Cartesian product, ``indexing="ij"``), or an ndarray
        sample of initial conditions, shape (n, dim).
    steps : int
        Transient steps before the attractor is identified.
    params : mapping or array_like, optional
        Parameter values (as for :func:`~dsanalyze.numeric.orbits.iterate`,
        one value each); ``**param_values`` may give them by name instead.
    escape, tol, match_tol, max_period : see above
    max_attractors : int
        More distinct fixed points and cycles than this raise
        :class:`~dsanalyze.errors.DsAnalyzeError` (a continuum of attractors).
    eps : int
        Box side (cells) of the basin entropy (2-D grids only).
    show_progress : bool, optional
        A progress bar over the chunks (default: only on a terminal).
    chunk : int
        Initial conditions per batch (2^18 by default: about 15 MB of work
        arrays, cache-friendly; larger batches mean fewer parallel launches).
    seed : int
        Seeds the choice of the sample points kept for an aperiodic attractor.
    threads : int, optional
        Threads of the compiled kernel.

    Returns
    -------
    Basins

    Examples
    --------
    >>> import numpy as np, dsanalyze as ds
    >>> from dsanalyze.numeric.basins import basins
    >>> w = np.linspace(-1.5, 1.5, 40)
    >>> B = basins(ds.models.double_well_gd(), [w], 200, eta=0.05)
    >>> [(a.kind.value, a.points.ravel().round(6).tolist()) for a in B.attractors]
    [('fixed point', [-1.0]), ('fixed point', [1.0])]
    >>> B.fractions.tolist()
    [0.5, 0.5]
    """
    _require_map(system, "basins")
    steps = _steps(steps)
    max_period = int(max_period)
    if max_period < 1:
        raise ValueError(f"max_period must be at least 1, got {max_period}")
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    if params is None:
        params = {}
    if param_values:
        if not isinstance(params, dict):
            raise ValueError("give parameters either as params= or by name, not both")
        params = {**params, **param_values}
    if parameter_matrix(system, params, 1).shape[0] != 1:
        raise ParameterError("basins takes one value per parameter (sweep a parameter with regime_diagram or a loop)")
    dim = system.dim

    axes = None
    if not isinstance(grid, np.ndarray) and isinstance(grid, (list, tuple)) and len(grid) == dim and all(
        np.ndim(a) == 1 for a in grid
    ):
        axes = tuple(np.asarray(a, dtype=np.float64) for a in grid)
        for a in axes:
            states(system, np.zeros((a.size, dim)) + a[:, None], "grid axis", batch=True)  # finite, numbers
        shape = tuple(a.size for a in axes)
        n = int(np.prod(shape))

        def block(start: int, stop: int) -> np.ndarray:
            return _grid_points(axes, start, stop)
    else:
        sample = states(system, grid, "grid", batch=True)
        shape = (sample.shape[0],)
        n = sample.shape[0]

        def block(start: int, stop: int) -> np.ndarray:
            return sample[start:stop]

    rng = np.random.default_rng(seed)
    catalogue = _Catalogue(dim, match_tol, int(max_attractors))
    # Raw labels: >= 0 cycle index; -1 divergent; -2 aperiodic.
    raw = np.empty(n, dtype=np.int16)
    tail_len = 2 * max_period
    aperiodic_sample: list[np.ndarray] = []
    for start in progress(range(0, n, chunk), desc="basins", unit="chunk", show=show_progress):
        stop = min(n, start + chunk)
        X = block(start, stop)
        alive, x = _transient(system, X, steps, params, escape, threads)
        lab = np.full(X.shape[0], -1, dtype=np.int64)
        if alive.size:
            one = iterate(system, x, 1, params, escape=escape, threads=threads)
            ok = one.escape_step < 0
            scale = 1.0 + _rowmax_abs(one.final)
            fixed = ok & (_rowmax_abs(one.final - x) <= tol * scale)
            if fixed.any():
                lab[alive[fixed]] = catalogue.match(one.final[fixed][:, None, :], 1)
            rest = np.flatnonzero(ok & ~fixed)
            if rest.size:
                more = iterate(system, one.final[rest], tail_len, params, escape=escape, record=tail_len,
                               threads=threads)
                bounded = more.escape_step < 0
                tails = more.recorded[bounded]
                idx = alive[rest[bounded]]
                period = _period(tails, max_period, tol)
                for k in np.unique(period[period > 0]):
                    sel = period == k
                    lab[idx[sel]] = catalogue.match(tails[sel], int(k))
                open_ = np.flatnonzero(period == 0)
                if open_.size:
                    near = catalogue.nearest(tails[open_])
                    lab[idx[open_]] = np.where(near >= 0, near, -2)
                    far = open_[near < 0]
                    if far.size:
                        take = rng.choice(far.size, size=min(far.size, 64), replace=False)
                        aperiodic_sample.append(tails[far[take]].reshape(-1, dim))
        raw[start:stop] = lab

    # Order the catalogue: fixed points, then cycles by period, lexicographic inside; aperiodic; divergent.
    cycles = catalogue.cycles
    order = sorted(range(len(cycles)), key=lambda i: (cycles[i].shape[0], tuple(cycles[i][0])))
    counts_raw = np.bincount(raw.astype(np.int64) + 2, minlength=len(cycles) + 2)
    entries: list[tuple] = []
    mapping = np.full(len(cycles) + 2, -1, dtype=np.int64)  # raw + 2 -> final label
    param_row = params
    for i in order:
        cyc = cycles[i]
        radius = _cycle_radius(system, cyc, param_row, threads)
        kind = AttractorKind.FIXED_POINT if cyc.shape[0] == 1 else AttractorKind.CYCLE
        mapping[i + 2] = len(entries)
        entries.append((kind, cyc.shape[0], cyc, bool(radius < 1.0), radius, int(counts_raw[i + 2])))
    if counts_raw[0]:
        pts = np.concatenate(aperiodic_sample) if aperiodic_sample else np.empty((0, dim))
        if pts.shape[0] > 256:
            pts = pts[rng.choice(pts.shape[0], 256, replace=False)]
        mapping[0] = len(entries)
        entries.append((AttractorKind.APERIODIC, None, pts, None, None, int(counts_raw[0])))
    if counts_raw[1]:
        mapping[1] = len(entries)
        entries.append((AttractorKind.DIVERGENT, None, np.empty((0, dim)), None, None, int(counts_raw[1])))
    if len(entries) > np.iinfo(np.int16).max:
        raise ValueError("more than 32767 attractors found; loosen match_tol or lower max_period")
    labels = mapping[raw.astype(np.int64) + 2].astype(np.int16).reshape(shape)
    attractors = tuple(
        Attractor(label, kind, period, pts, att, rad, count, count / n)
        for label, (kind, period, pts, att, rad, count) in enumerate(entries)
    )
    S_b = S_bb = None
    if axes is not None and len(shape) == 2 and min(shape) >= eps:
        S_b, S_bb = basin_entropy(labels, eps)
    return Basins(labels, attractors, axes, S_b, S_bb, int(eps))


def _cycle_radius(system: Map, cycle: np.ndarray, params: Any, threads: int | None) -> float:
    """Spectral radius of the product of Jacobians along a cycle."""
    J = evaluate_jacobian(system, cycle, params, threads=threads)
    M = np.eye(system.dim)
    for Jk in J:
        M = Jk @ M
    if not np.isfinite(M).all():
        return float("inf")
    return float(np.max(np.abs(np.linalg.eigvals(M))))
