"""Poincare sections of flows by a hyperplane, with event location inside the compiled integrator.

The trajectory is integrated by the adaptive Dormand-Prince 5(4) method of
:mod:`dsanalyze.numeric.flows` (``cext/_poincare.pyx``, GIL released). After
every accepted step the switching function g(x) = n.x - offset is compared at
the two ends of the step; when its sign changes in the requested direction the
crossing time is found on the step's continuous extension (Shampine's 4th-order
interpolant) by Brent's method to about 1e-14 in time, and the interpolated
state there is recorded (projected onto the plane, a correction of the size of
the root finder's residual). Output times never shorten the steps, so the
trajectory is the one :func:`~dsanalyze.numeric.flows.integrate` would compute.

Only autonomous systems dx/dt = f(x; params) are handled (a :class:`Flow`);
integration starts at t = 0, and a starting point on the plane is not a
crossing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _poincare
from ..errors import DimensionError, IntegrationError, NonFiniteInputError
from ..systems import Flow
from .arguments import parameter_matrix, states, thread_count
from .compile import compile_system
from .flows import _failure_reason, _positive_int, _require_flow, _settings

__all__ = ["PoincareSection", "PoincareBatch", "poincare_section", "poincare_section_batch",
           "STATUS_OK", "STATUS_STEP_FAILURE", "STATUS_NOT_FINITE", "STATUS_T_MAX"]

#: Row status: the requested number of crossings was recorded.
STATUS_OK = 0
#: Row status: the step size fell below the resolution of t, or ``max_steps`` was used up.
STATUS_STEP_FAILURE = 1
#: Row status: the state or the right-hand side stopped being finite.
STATUS_NOT_FINITE = 2
#: Row status: ``t_max`` was reached before the requested number of crossings.
STATUS_T_MAX = 3

_DIRECTIONS = {1: 1, -1: -1, 0: 0}


def _plane_basis(normal: np.ndarray) -> np.ndarray:
    """Orthonormal rows spanning the plane orthogonal to ``normal``: shape (dim - 1, dim).

    Built by Gram-Schmidt from the coordinate axes other than the one along which
    ``normal`` is largest, in their order: for ``normal = e_k`` the basis is the
    other coordinate axes, so projected coordinates are the remaining coordinates.
    """
    dim = normal.shape[0]
    unit = normal / np.linalg.norm(normal)
    drop = int(np.argmax(np.abs(unit)))
    rows: list[np.ndarray] = [unit]
    for k in range(dim):
        if k == drop:
            continue
        v = np.zeros(dim)
        v[k] = 1.0
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            for u in rows:
                v = v - (u @ v) * u
        v = v / np.linalg.norm(v)
        rows.append(v)
    return np.array(rows[1:]).reshape(dim - 1, dim)


def _project(points: np.ndarray, normal: np.ndarray, offset: float, basis: Any) -> np.ndarray:
    dim = normal.shape[0]
    origin = offset * normal / (normal @ normal)  # the point of the plane closest to 0
    if basis is None:
        basis = _plane_basis(normal)
    else:
        try:
            basis = np.array(basis, dtype=np.float64, ndmin=2)
        except (TypeError, ValueError) as exc:
            raise DimensionError(f"basis must be an array of vectors, got {basis!r}: {exc}") from None
        if basis.ndim != 2 or basis.shape[1] != dim or not 1 <= basis.shape[0] <= dim - 1:
            raise DimensionError(f"basis must have shape (k, {dim}) with 1 <= k <= {dim - 1}; got {basis.shape}")
        if not np.isfinite(basis).all():
            raise NonFiniteInputError("basis is not finite")
        scale = np.linalg.norm(basis, axis=1) * np.linalg.norm(normal)
        if (np.abs(basis @ normal) > 1e-9 * scale).any() or (scale == 0).any():
            raise ValueError("the basis vectors must be non-zero and lie in the plane (orthogonal to the normal)")
    return (points - origin) @ basis.T


@dataclass(frozen=True)
class PoincareSection:
    """The crossings of one trajectory with the plane ``normal . x = offset``.

    Attributes
    ----------
    points : (m, dim) ndarray
        The states at the crossings (they satisfy ``normal . x = offset`` to rounding).
    times : (m,) ndarray
        The crossing times (the trajectory starts at t = 0).
    direction : int
        +1 (``normal . x - offset`` increasing through 0), -1 (decreasing) or 0 (both).
    normal : (dim,) ndarray
    offset : float
    status : int
        ``STATUS_OK`` (all requested crossings recorded) or ``STATUS_T_MAX``
        (``t_max`` came first; ``m`` may be less than asked).
    t_reached : float
        Where the integration stopped.
    """

    points: np.ndarray
    times: np.ndarray
    direction: int
    normal: np.ndarray
    offset: float
    status: int = STATUS_OK
    t_reached: float = math.nan

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def return_times(self) -> np.ndarray:
        """Times between consecutive crossings, shape (m - 1,)."""
        return np.diff(self.times)

    def projected(self, basis: Any = None) -> np.ndarray:
        """Coordinates of the points in the plane, shape (m, dim - 1) (or (m, k) for a basis of k vectors).

        Parameters
        ----------
        basis : array_like, shape (k, dim), optional
            Vectors in the plane (orthonormal for Euclidean coordinates); the
            coordinates are the components of ``x - o`` along them, ``o`` the
            point of the plane closest to the origin. Default: an orthonormal
            basis from the coordinate axes (for a plane ``x_j = c``, the other
            coordinates in order).

        Examples
        --------
        >>> import dsanalyze as ds
        >>> from dsanalyze.numeric.poincare import poincare_section
        >>> s = poincare_section(ds.models.lorenz(), [1.0, 1.0, 20.0], normal=[0, 0, 1], offset=27.0,
        ...                      direction=-1, crossings=5)
        >>> s.projected().shape      # (x, y) on z = 27
        (5, 2)
        """
        return _project(self.points, self.normal, self.offset, basis)


@dataclass(frozen=True)
class PoincareBatch:
    """Poincare sections of a batch of trajectories.

    Attributes
    ----------
    points : (n, crossings, dim) ndarray
        Row r holds ``count[r]`` crossings, then NaN.
    times : (n, crossings) ndarray
        Crossing times, NaN beyond ``count[r]``.
    count : (n,) ndarray of int64
        Crossings recorded per row.
    status : (n,) ndarray of int8
        0 all crossings recorded, 1 step size underflow or ``max_steps`` used
        up, 2 the state or the right-hand side stopped being finite, 3
        ``t_max`` reached first.
    t_reached : (n,) ndarray
    steps : (n,) ndarray of int64
        Step attempts per row (rejected ones included).
    direction : int
    normal : (dim,) ndarray
    offset : float
    """

    points: np.ndarray
    times: np.ndarray
    count: np.ndarray
    status: np.ndarray
    t_reached: np.ndarray
    steps: np.ndarray
    direction: int
    normal: np.ndarray
    offset: float

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the rows that recorded every requested crossing."""
        return self.status == STATUS_OK

    def row(self, r: int) -> PoincareSection:
        """Row ``r`` as a :class:`PoincareSection` (its recorded crossings only)."""
        m = int(self.count[r])
        return PoincareSection(self.points[r, :m], self.times[r, :m], self.direction, self.normal, self.offset,
                               int(self.status[r]), float(self.t_reached[r]))

    def projected(self, basis: Any = None) -> np.ndarray:
        """In-plane coordinates of every point, shape (n, crossings, dim - 1), NaN where ``points`` is."""
        return _project(self.points, self.normal, self.offset, basis)


def _section_settings(system: Flow, normal: Any, offset: Any, direction: Any, crossings: Any,
                      transient_crossings: Any, t_max: Any) -> tuple:
    try:
        n = np.array(normal, dtype=np.float64, ndmin=1)
    except (TypeError, ValueError) as exc:
        raise DimensionError(f"normal must be a vector of {system.dim} numbers, got {normal!r}: {exc}") from None
    if n.ndim != 1 or n.shape[0] != system.dim:
        raise DimensionError(f"normal must have {system.dim} component(s) "
                             f"({', '.join(map(str, system.state))}); got shape {n.shape}")
    if not np.isfinite(n).all():
        raise NonFiniteInputError(f"normal is not finite: {n.tolist()}")
    if not (n != 0).any():
        raise ValueError("normal must not be the zero vector: it defines the plane normal . x = offset")
    try:
        offset = float(offset)
    except (TypeError, ValueError):
        raise ValueError(f"offset must be a number, got {offset!r}") from None
    if not math.isfinite(offset):
        raise NonFiniteInputError(f"offset must be finite, got {offset}")
    if isinstance(direction, bool) or direction not in _DIRECTIONS:
        raise ValueError(f"direction must be +1 (increasing), -1 (decreasing) or 0 (both), got {direction!r}")
    crossings = _positive_int(crossings, "crossings")
    if (isinstance(transient_crossings, bool) or not isinstance(transient_crossings, (int, np.integer))
            or transient_crossings < 0):
        raise ValueError(f"transient_crossings must be an integer >= 0, got {transient_crossings!r}")
    if t_max is None:
        t_max = math.inf
    try:
        t_max = float(t_max)
    except (TypeError, ValueError):
        raise ValueError(f"t_max must be a positive number or None, got {t_max!r}") from None
    if not t_max > 0:
        raise ValueError(f"t_max must be positive (or None / inf for no limit), got {t_max!r}")
    return np.ascontiguousarray(n), offset, int(direction), crossings, int(transient_crossings), t_max


def _max_step(max_step: Any) -> float:
    if max_step is None:
        return math.inf
    try:
        value = float(max_step)
    except (TypeError, ValueError):
        raise ValueError(f"max_step must be a positive number or None, got {max_step!r}") from None
    if not value > 0:
        raise ValueError(f"max_step must be positive (or None for no limit), got {max_step!r}")
    return value


def poincare_section_batch(
    flow: Flow,
    X0: Any,
    params: Any = None,
    *,
    normal: Any,
    offset: float = 0.0,
    direction: int = +1,
    crossings: int = 1000,
    t_max: float | None = None,
    transient_crossings: int = 0,
    rtol: float = 1e-10,
    atol: Any = 1e-12,
    max_steps: int = 10_000_000,
    max_step: float | None = None,
    threads: int | None = None,
) -> PoincareBatch:
    """Poincare sections from many initial states (and parameter values) in parallel.

    Rows are integrated independently on threads with the GIL released; a row
    that fails is reported in ``status`` (nothing is raised for it) and keeps
    the crossings it recorded before.

    Parameters
    ----------
    flow : Flow
    X0 : array_like, shape (n, dim)
        Initial states at t = 0.
    params : mapping or array_like, optional
        As for :func:`~dsanalyze.numeric.flows.integrate_batch`: one value per
        parameter, or one per row.
    normal, offset, direction, crossings, t_max, transient_crossings, rtol, atol, max_steps, max_step
        As for :func:`poincare_section`.
    threads : int, optional
        Threads across the batch (default: every core, or ``DSANALYZE_NUM_THREADS``).

    Returns
    -------
    PoincareBatch

    Examples
    --------
    >>> import numpy as np
    >>> import dsanalyze as ds
    >>> from dsanalyze.numeric.poincare import poincare_section_batch
    >>> centre = ds.Flow("x y", ["y", "-x"])
    >>> b = poincare_section_batch(centre, [[1.0, 0.0], [2.0, 0.0]], normal=[0, 1], direction=-1, crossings=2)
    >>> np.round(b.points[:, :, 0], 9).tolist()
    [[1.0, 1.0], [2.0, 2.0]]
    >>> b.status.tolist()
    [0, 0]
    """
    _require_flow(flow, "poincare_section_batch")
    n, offset, direction, crossings, transient, t_max = _section_settings(
        flow, normal, offset, direction, crossings, transient_crossings, t_max)
    _, rtol, atol, _, max_steps = _settings(flow, "dopri5", rtol, atol, None, max_steps)
    h_max = _max_step(max_step)
    X = states(flow, X0, "X0", batch=True)
    P = parameter_matrix(flow, params, X.shape[0])
    if P.shape[0] != 1 and P.shape[0] != X.shape[0]:
        if X.shape[0] != 1:
            raise DimensionError(f"X0 has {X.shape[0]} rows but the parameters have {P.shape[0]}")
        X = np.ascontiguousarray(np.broadcast_to(X, (P.shape[0], flow.dim)))
    nthreads = thread_count(threads)
    kernel = compile_system(flow)
    pts, tms, count, status, reached, steps = _poincare.section_batch(
        kernel.addresses["rhs"], X, P, n, offset, direction, crossings, transient, t_max, h_max, rtol, atol,
        max_steps, nthreads)
    return PoincareBatch(pts, tms, count, status, reached, steps, direction, n, offset)


def poincare_section(
    flow: Flow,
    x0: Any,
    *,
    normal: Any,
    offset: float = 0.0,
    direction: int = +1,
    crossings: int = 1000,
    t_max: float | None = None,
    transient_crossings: int = 0,
    rtol: float = 1e-10,
    atol: Any = 1e-12,
    max_steps: int = 10_000_000,
    max_step: float | None = None,
    **params: Any,
) -> PoincareSection:
    """The Poincare section of one trajectory by the hyperplane ``normal . x = offset``.

    Parameters
    ----------
    flow : Flow
    x0 : array_like, shape (dim,)
        The initial state at t = 0 (a start on the plane is not a crossing).
    normal : array_like, shape (dim,)
        Normal vector of the plane (not zero; need not be a unit vector).
    offset : float
        The plane is ``normal . x = offset``.
    direction : {+1, -1, 0}
        Record crossings where ``normal . x - offset`` increases through 0
        (+1), decreases (-1), or both (0).
    crossings : int
        Stop after recording this many crossings.
    t_max : float, optional
        Stop at this time even with fewer crossings (default: no limit, only
        ``max_steps``).
    transient_crossings : int
        Crossings skipped first (not recorded, not counted in ``crossings``).
    rtol, atol : float
        Tolerances of the Dormand-Prince 5(4) error control (``atol`` may give
        one value per state variable).
    max_steps : int
        Step attempts allowed (rejected ones included).
    max_step : float, optional
        Largest step size (default: no limit). Crossings are detected by the
        sign of ``normal . x - offset`` at the ends of each step, so two
        crossings inside one step go unseen; the error control keeps steps
        far shorter than the time between crossings for most flows, but for
        very smooth solutions (an error estimate near 0 lets the step grow
        tenfold per step) cap it below that time.
    **params
        Parameter values by name; defaults of the system fill in the rest.

    Returns
    -------
    PoincareSection
        ``points`` (m, dim), ``times`` (m,), ``m == crossings`` unless
        ``t_max`` came first (then ``status == STATUS_T_MAX``).

    Raises
    ------
    IntegrationError
        If the integration fails (step size underflow, ``max_steps`` used up,
        a non-finite state); the exception carries ``section``, the crossings
        recorded before the failure, and ``t_reached``.
    DsAnalyzeError
        If ``flow`` is a Map.
    DimensionError, NonFiniteInputError, MissingParameterError, ExtraParameterError, ValueError
        For malformed arguments (a normal of the wrong length or zero, NaN in ``x0``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> import dsanalyze as ds
    >>> from dsanalyze.numeric.poincare import poincare_section
    >>> centre = ds.Flow("x y", ["y", "-x"])
    >>> s = poincare_section(centre, [2.0, 0.0], normal=[0, 1], direction=0, crossings=3)
    >>> np.round(s.points, 9).tolist()
    [[-2.0, 0.0], [2.0, 0.0], [-2.0, 0.0]]
    >>> np.allclose(s.times, [np.pi, 2 * np.pi, 3 * np.pi], atol=1e-9)
    True
    >>> s = poincare_section(ds.models.lorenz(), [1.0, 1.0, 20.0], normal=[0, 0, 1], offset=27.0,
    ...                      direction=-1, crossings=50, transient_crossings=10)
    >>> bool(np.all(s.points[:, 2] == 27.0))
    True
    """
    _require_flow(flow, "poincare_section")
    n, offset, direction, crossings, transient, t_max = _section_settings(
        flow, normal, offset, direction, crossings, transient_crossings, t_max)
    _, rtol, atol, _, max_steps = _settings(flow, "dopri5", rtol, atol, None, max_steps)
    h_max = _max_step(max_step)
    x = states(flow, x0, "x0", batch=False).reshape(1, -1)
    P = parameter_matrix(flow, params, 1)
    if P.shape[0] != 1:
        raise ValueError("poincare_section takes one value per parameter; use poincare_section_batch for a batch")
    kernel = compile_system(flow)
    pts, tms, count, status, reached, steps = _poincare.section_batch(
        kernel.addresses["rhs"], x, P, n, offset, direction, crossings, transient, t_max, h_max, rtol, atol,
        max_steps, 1)
    m = int(count[0])
    section = PoincareSection(pts[0, :m], tms[0, :m], direction, n, offset, int(status[0]), float(reached[0]))
    if status[0] in (STATUS_STEP_FAILURE, STATUS_NOT_FINITE):
        reason = _failure_reason(int(status[0]), int(steps[0]), max_steps)
        error = IntegrationError(
            f"Poincare section of {flow.name or 'the flow'}: the integration stopped at t = {reached[0]:.17g} "
            f"after {m} of {crossings} crossings: {reason}"
        )
        error.t_reached = float(reached[0])
        error.section = section
        raise error
    return section
