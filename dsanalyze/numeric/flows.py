"""Integration of flows on the compiled kernels: one trajectory, or batches of states and parameters.

Two methods, both in compiled code (``cext/_flows.pyx``) with the GIL released:

``"dopri5"`` (default)
    Adaptive Dormand-Prince 5(4) with error control in the mixed norm
    sqrt(mean((err_i / (atol_i + rtol * max(|y_i|, |y_new_i|)))^2)) and output at
    the requested times through the method's 4th-order continuous extension
    (Shampine 1986): output times never shorten a step, so asking for many
    output times costs almost nothing.
``"rk4"``
    Classical 4th-order Runge-Kutta with fixed step ``h`` on the grid
    ``t[0] + k*h``. An output time that is not on the grid gets its value from
    one extra RK4 step, shortened to land on it, taken from the grid point just
    before it; the trajectory itself stays on the grid.

Only autonomous systems dx/dt = f(x; params) are integrated (a :class:`Flow`);
time runs forward (``t`` sorted ascending).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _flows
from ..errors import DimensionError, DsAnalyzeError, IntegrationError, NonFiniteInputError
from ..systems import Flow, System
from .arguments import parameter_matrix, states, thread_count
from .compile import compile_system

__all__ = ["IntegrateResult", "integrate", "integrate_batch", "METHODS", "STATUS_OK", "STATUS_STEP_FAILURE",
           "STATUS_NOT_FINITE"]

#: Integration methods by name.
METHODS = {"dopri5": _flows.METHOD_DOPRI5, "rk4": _flows.METHOD_RK4}
#: Row status: the integration reached the last output time.
STATUS_OK = 0
#: Row status: the step size fell below the resolution of t, or ``max_steps`` was used up.
STATUS_STEP_FAILURE = 1
#: Row status: the state or the right-hand side stopped being finite.
STATUS_NOT_FINITE = 2


@dataclass(frozen=True)
class IntegrateResult:
    """Where a batch of trajectories went.

    Attributes
    ----------
    y : (n, len(t), dim) ndarray
        The states at the output times; NaN at the output times a failed row
        did not reach.
    status : (n,) ndarray of int8
        0 success, 1 step size underflow or ``max_steps`` used up (see
        ``steps``), 2 the state or the right-hand side stopped being finite.
    t_reached : (n,) ndarray
        The time each row reached (``t[-1]`` on success; else the last time
        with a finite, accepted state).
    steps : (n,) ndarray of int64
        Steps taken per row (dopri5: step attempts, rejected ones included).
    """

    y: np.ndarray
    status: np.ndarray
    t_reached: np.ndarray
    steps: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the rows that reached the last output time."""
        return self.status == STATUS_OK


def _require_flow(system: Any, what: str) -> None:
    if not isinstance(system, System):
        raise TypeError(f"{what} needs a Flow, got {type(system).__name__}")
    if not isinstance(system, Flow):
        raise DsAnalyzeError(
            f"{what} integrates flows; {system.name or 'this system'} is a {system.kind} (use iterate or trajectory)"
        )


def _times(t: Any) -> np.ndarray:
    try:
        times = np.array(t, dtype=np.float64, order="C", ndmin=1)
    except (TypeError, ValueError) as exc:
        raise DimensionError(f"t must be an array of output times, got {t!r}: {exc}") from None
    if times.ndim != 1 or times.shape[0] < 1:
        raise DimensionError(f"t must be a 1-D array of output times (t[0] the initial time); got shape {times.shape}")
    bad = ~np.isfinite(times)
    if bad.any():
        index = int(np.argmax(bad))
        raise NonFiniteInputError(f"t is not finite at index {index}: {times[index]}")
    steps_back = np.flatnonzero(np.diff(times) < 0)
    if steps_back.size:
        i = int(steps_back[0])
        raise ValueError(
            f"t must be sorted ascending (t[0] is the initial time); t[{i}] = {times[i]} > t[{i + 1}] = {times[i + 1]}"
        )
    return np.ascontiguousarray(times)


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _settings(system: System, method: str, rtol: Any, atol: Any, h: Any, max_steps: Any) -> tuple:
    """Validated (method code, rtol, atol array, h (0: automatic), max_steps)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(map(repr, METHODS))}")
    max_steps = _positive_int(max_steps, "max_steps")
    if h is not None:
        try:
            h = float(h)
        except (TypeError, ValueError):
            raise ValueError(f"h must be a positive number, got {h!r}") from None
        if not (math.isfinite(h) and h > 0):
            raise ValueError(f"h must be a positive, finite number, got {h!r}")
    if method == "rk4":
        if h is None:
            raise ValueError("method='rk4' takes fixed steps and needs the step size h, e.g. h=1e-3")
        return METHODS[method], 0.0, np.zeros(1), h, max_steps
    try:
        rtol = float(rtol)
        atol = np.array(atol, dtype=np.float64, ndmin=1)
    except (TypeError, ValueError):
        raise ValueError(f"rtol must be a number and atol a number or one number per component; "
                         f"got rtol={rtol!r}, atol={atol!r}") from None
    if atol.ndim != 1 or atol.shape[0] not in (1, system.dim):
        raise DimensionError(f"atol must be a number or have one value per state variable ({system.dim}); "
                             f"got shape {atol.shape}")
    if not (math.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a finite number >= 0, got {rtol!r}")
    if not (np.isfinite(atol).all() and (atol >= 0).all()):
        raise ValueError(f"atol must be finite and >= 0, got {atol.tolist()}")
    if rtol == 0 and (atol == 0).any():
        raise ValueError("rtol and atol cannot both be 0 (for every component): no error would be small enough")
    return METHODS[method], rtol, np.ascontiguousarray(atol), (0.0 if h is None else h), max_steps


def _failure_reason(status: int, steps: int, max_steps: int) -> str:
    if status == STATUS_NOT_FINITE:
        return "the state or the right-hand side stopped being finite (overflow or an undefined value such as log(-1))"
    if steps >= max_steps:
        return f"too many steps: max_steps = {max_steps} were used up (raise max_steps or loosen rtol/atol)"
    return ("step size underflow: the step size fell below the resolution of t "
            "(the solution may blow up in finite time, or the problem is stiff or not smooth)")


def integrate_batch(
    system: Flow,
    X0: Any,
    t: Any,
    params: Any = None,
    *,
    method: str = "dopri5",
    rtol: float = 1e-9,
    atol: Any = 1e-12,
    h: float | None = None,
    max_steps: int = 1_000_000,
    threads: int | None = None,
) -> IntegrateResult:
    """Integrate a batch of initial states, each with its own parameter values, in compiled code.

    Rows are integrated in parallel, independently (each with its own step
    sizes). A row that fails is reported in ``status``; nothing is raised for it.

    Parameters
    ----------
    system : Flow
    X0 : array_like, shape (n, dim)
        Initial states at time ``t[0]`` (for a 1-D flow, shape (n,) is accepted).
    t : array_like, shape (nt,)
        Output times, sorted ascending; ``t[0]`` is the initial time.
    params : mapping or array_like, optional
        Parameter values: ``{"rho": 28.0}``, ``{"rho": rho_values}`` with one
        value per state, or an array of shape (npar,) or (n, npar). Defaults of
        the system fill in the rest.
    method : {"dopri5", "rk4"}
        Adaptive Dormand-Prince 5(4) with dense output, or fixed-step RK4.
    rtol, atol : float
        Relative and absolute tolerances of dopri5 (``atol`` may give one
        value per state variable). Ignored by rk4.
    h : float, optional
        rk4: the step size (required). dopri5: the initial step (default:
        chosen automatically).
    max_steps : int
        Steps allowed per row (dopri5 counts rejected attempts too).
    threads : int, optional
        Threads across the batch (default: every core, or ``DSANALYZE_NUM_THREADS``).

    Returns
    -------
    IntegrateResult
        ``y`` of shape (n, nt, dim), ``status``, ``t_reached``, ``steps``.

    Raises
    ------
    DsAnalyzeError
        If ``system`` is a Map.
    DimensionError, NonFiniteInputError, MissingParameterError, ExtraParameterError, ValueError
        For malformed arguments.

    Examples
    --------
    >>> import numpy as np
    >>> import dsanalyze as ds
    >>> from dsanalyze.numeric.flows import integrate_batch
    >>> decay = ds.Flow("x", "-k*x")
    >>> result = integrate_batch(decay, [[1.0], [2.0]], [0.0, 1.0], {"k": [1.0, 2.0]})
    >>> np.allclose(result.y[:, -1, 0], [np.exp(-1.0), 2 * np.exp(-2.0)])
    True
    >>> result.status.tolist()
    [0, 0]
    """
    _require_flow(system, "integrate_batch")
    times = _times(t)
    code, rtol, atol, h, max_steps = _settings(system, method, rtol, atol, h, max_steps)
    X = states(system, X0, "X0", batch=True)
    P = parameter_matrix(system, params, X.shape[0])
    if P.shape[0] != 1 and P.shape[0] != X.shape[0]:
        if X.shape[0] != 1:
            raise DimensionError(f"X0 has {X.shape[0]} rows but the parameters have {P.shape[0]}")
        X = np.ascontiguousarray(np.broadcast_to(X, (P.shape[0], system.dim)))
    nthreads = thread_count(threads)
    kernel = compile_system(system)
    y, status, t_reached, steps = _flows.integrate_batch(
        kernel.addresses["rhs"], X, P, times, code, rtol, atol, h, max_steps, nthreads
    )
    return IntegrateResult(y, status, t_reached, steps)


def integrate(
    system: Flow,
    x0: Any,
    t: Any,
    *,
    method: str = "dopri5",
    rtol: float = 1e-9,
    atol: Any = 1e-12,
    h: float | None = None,
    max_steps: int = 1_000_000,
    **params: Any,
) -> np.ndarray:
    """One trajectory of a flow, sampled at the times ``t``: an array of shape (len(t), dim).

    Parameters
    ----------
    system : Flow
    x0 : array_like, shape (dim,)
        The initial state at time ``t[0]``.
    t : array_like, shape (nt,)
        Output times, sorted ascending; ``t[0]`` is the initial time. dopri5
        chooses its steps by error control alone and fills in the output
        times with its continuous extension, so many output times are cheap.
    method : {"dopri5", "rk4"}
        Adaptive Dormand-Prince 5(4) with dense output, or fixed-step RK4.
    rtol, atol : float
        Relative and absolute tolerances of dopri5 (``atol`` may give one
        value per state variable). Ignored by rk4. The global error is
        usually a small multiple of the tolerances, more for chaotic systems
        over long times.
    h : float, optional
        rk4: the step size (required). dopri5: the initial step (default:
        chosen automatically).
    max_steps : int
        Steps allowed (dopri5 counts rejected attempts too).
    **params
        Parameter values by name; defaults of the system fill in the rest.

    Returns
    -------
    ndarray, shape (len(t), dim)

    Raises
    ------
    IntegrationError
        If the integration cannot reach ``t[-1]``: the message says at what
        time and why (step size underflow, too many steps, a non-finite
        state). The exception carries ``t_reached`` and ``y`` (the output
        computed so far, NaN beyond ``t_reached``).
    DsAnalyzeError
        If ``system`` is a Map (use :func:`~dsanalyze.numeric.orbits.trajectory`).
    DimensionError, NonFiniteInputError, MissingParameterError, ExtraParameterError, ValueError
        For malformed arguments.

    Examples
    --------
    >>> import numpy as np
    >>> import dsanalyze as ds
    >>> from dsanalyze.numeric.flows import integrate
    >>> rotation = ds.Flow("x y", ["y", "-x"])
    >>> path = integrate(rotation, [1.0, 0.0], np.linspace(0.0, np.pi, 5))
    >>> path.shape
    (5, 2)
    >>> np.round(path[-1], 8).tolist()
    [-1.0, 0.0]
    >>> y = integrate(ds.models.lorenz(), [1.0, 1.0, 1.0], [0.0, 0.5], rho=10.0)
    >>> y.shape
    (2, 3)
    """
    _require_flow(system, "integrate")
    times = _times(t)
    code, rtol, atol, h, max_steps = _settings(system, method, rtol, atol, h, max_steps)
    x = states(system, x0, "x0", batch=False).reshape(1, -1)
    P = parameter_matrix(system, params, 1)
    if P.shape[0] != 1:
        raise ValueError("integrate takes one value per parameter; use integrate_batch for a batch")
    kernel = compile_system(system)
    y, status, t_reached, steps = _flows.integrate_batch(
        kernel.addresses["rhs"], x, P, times, code, rtol, atol, h, max_steps, 1
    )
    if status[0] != STATUS_OK:
        reason = _failure_reason(int(status[0]), int(steps[0]), max_steps)
        error = IntegrationError(
            f"integration of {system.name or 'the flow'} with {method} stopped at t = {t_reached[0]:.17g} "
            f"before reaching t = {times[-1]:.17g}: {reason}"
        )
        error.t_reached = float(t_reached[0])
        error.y = y[0]
        raise error
    return y[0]
