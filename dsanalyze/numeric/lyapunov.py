"""Lyapunov exponents of maps and flows on the compiled kernels.

The tangent dynamics run in compiled code (``cext/_lyapunov.pyx``) with the GIL
released, on the system's generated right-hand side and Jacobian:

- :func:`lyapunov_spectrum` / :func:`maximal_lyapunov`: maps, k tangent
  vectors re-orthonormalised by QR (modified Gram-Schmidt) every
  ``renormalise_every`` steps (Benettin, Galgani, Giorgilli & Strelcyn,
  Meccanica 15, 9-30, 1980); ``k = 1`` is the maximal exponent.
- :func:`lyapunov_spectrum_batch`: the same over many initial conditions and
  parameter vectors in parallel (e.g. the exponent against a parameter).
- :func:`flow_lyapunov_spectrum` / :func:`flow_maximal_lyapunov` (and
  :func:`flow_lyapunov_spectrum_batch`): flows, the variational equations
  dW/dt = J(x) W integrated with the state by fixed-step RK4, QR every
  ``renormalise_time``.
- :func:`transverse_lyapunov` / :func:`flow_transverse_lyapunov`: the growth
  rate of perturbations normal to an invariant curve (hypersurface) G = 0, or
  along a given normal field, with the orbit re-projected onto G = 0 by a
  Newton step after every step.

Convergence diagnostics come with every result: the running estimate sampled
along the orbit and a standard error from batch means.

Divergent orbits: an orbit that leaves the box ``|x_i| < escape`` (or stops
being finite), or whose tangent vectors collapse (a singular Jacobian) or
overflow, gives exponents NaN with a ``note`` saying what happened and at which
step; ``verify`` then fails. No number is reported for such an orbit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from .. import _lyapunov
from ..errors import DimensionError, DsAnalyzeError, ExpressionError
from ..systems import Flow, Map, System
from ..verify import Basis, Verdict
from .arguments import parameter_matrix, states, thread_count
from .compile import compile_system

__all__ = [
    "LyapunovResult",
    "lyapunov_spectrum",
    "maximal_lyapunov",
    "lyapunov_spectrum_batch",
    "flow_lyapunov_spectrum",
    "flow_maximal_lyapunov",
    "flow_lyapunov_spectrum_batch",
    "transverse_lyapunov",
    "flow_transverse_lyapunov",
]

#: Batches used for the standard error from batch means (fewer when there are fewer samples).
BATCHES = 20
#: Samples of the running estimate kept by default.
SAMPLES = 1000

_REASONS = {
    _lyapunov.STATUS_ESCAPED: "the orbit left the box |x_i| < escape or stopped being finite",
    _lyapunov.STATUS_TANGENT: "a tangent vector collapsed to zero or overflowed (singular Jacobian along the orbit)",
}


@dataclass(frozen=True)
class LyapunovResult:
    """Lyapunov exponents with their convergence diagnostics.

    Attributes
    ----------
    exponents : (k,) ndarray
        The estimates, in decreasing order of the tangent vectors (QR order);
        per step for maps, per unit time for flows. NaN when the orbit diverged.
    standard_error : (k,) ndarray
        Standard error of each exponent from batch means of the sampled
        running sums (NaN with fewer than 2 samples).
    running : (m, k) ndarray
        The running estimate after ``running_axis[i]`` steps (maps) or time
        units (flows), counted after the transient.
    running_axis : (m,) ndarray
        Steps (maps) or times (flows) of the rows of ``running``.
    steps : int
        Steps measured (after the transient).
    x_final : (dim,) ndarray
        The state at the end (for a divergent orbit, the first state outside the box).
    note : str
        How it was obtained, and what went wrong if it did.
    diverged_at : int or None
        The step (counting the transient) at which the orbit escaped or its
        tangent vectors collapsed, None when it ran through.
    """

    exponents: np.ndarray
    standard_error: np.ndarray
    running: np.ndarray = field(repr=False)
    running_axis: np.ndarray = field(repr=False)
    steps: int
    x_final: np.ndarray
    note: str = ""
    diverged_at: int | None = None

    @property
    def diverged(self) -> bool:
        """Whether the orbit escaped or its tangent vectors collapsed (then ``exponents`` are NaN)."""
        return self.diverged_at is not None

    @property
    def maximal(self) -> float:
        """The largest exponent (the first)."""
        return float(self.exponents[0])

    def verify(self, expected: Any, tolerance: float) -> Verdict:
        """Compare the exponents with ``expected`` values: a SAMPLED verdict.

        Parameters
        ----------
        expected : float or sequence of float
            The first ``len(expected)`` exponents expected.
        tolerance : float
            Largest absolute difference allowed.

        Returns
        -------
        Verdict
            ``passed`` is False (never an exception) when an exponent is off
            or NaN (a divergent orbit).

        Examples
        --------
        >>> import dsanalyze as ds
        >>> r = lyapunov_spectrum(ds.models.logistic(), [0.3], 10**5, r=4.0)
        >>> r.verify(np.log(2.0), 0.01).passed
        True
        >>> r.verify(0.0, 0.01).passed
        False
        """
        want = np.atleast_1d(np.asarray(expected, dtype=np.float64))
        if want.ndim != 1 or want.shape[0] > self.exponents.shape[0]:
            raise DimensionError(f"expected must give at most {self.exponents.shape[0]} exponent(s); got {want.shape}")
        got = self.exponents[: want.shape[0]]
        error = np.abs(got - want)
        passed = bool(np.all(np.isfinite(got)) and np.all(error <= tolerance))
        se = ", ".join(f"{s:.3g}" for s in self.standard_error[: want.shape[0]])
        note = f"{self.steps} steps; standard error (batch means) {se}"
        if self.note:
            note += f"; {self.note}"
        return Verdict(
            claim="Lyapunov exponent(s) " + ", ".join(f"{w:.6g}" for w in want),
            predicted=want.tolist() if want.shape[0] > 1 else float(want[0]),
            measured=got.tolist() if got.shape[0] > 1 else float(got[0]),
            tolerance=float(tolerance),
            passed=passed,
            basis=Basis.SAMPLED,
            evidence={"running": self.running, "running_axis": self.running_axis},
            note=note,
        )


# ---------------------------------------------------------------------------------------------- checks



def _tangent_addresses(kernel) -> tuple[int, int, int]:
    """The generated functions the Lyapunov drivers call: ``ds_rhs``, ``ds_jac``, ``ds_tangent`` (0 for a flow)."""
    return kernel.addresses["rhs"], kernel.addresses["jac"], kernel.addresses.get("tangent", 0)


def _require(system: Any, kind: type, what: str) -> None:
    if not isinstance(system, System):
        raise TypeError(f"{what} needs a {kind.__name__}, got {type(system).__name__}")
    if not isinstance(system, kind):
        other = "flow_lyapunov_spectrum" if kind is Map else "lyapunov_spectrum"
        raise DsAnalyzeError(
            f"{what} needs a {kind.__name__}; {system.name or 'this system'} is a {system.kind} (use {other})"
        )


def _count(value: Any, what: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _k(system: System, k: Any) -> int:
    if k is None:
        return system.dim
    k = _count(k, "k", minimum=1)
    if k > system.dim:
        raise DimensionError(f"k = {k} tangent vectors asked, but the system has only dim = {system.dim}")
    return k


def _tangent_basis(dim: int, k: int, seed: int) -> np.ndarray:
    """k random orthonormal vectors as rows, shape (k, dim)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return np.ascontiguousarray(q[:, :k].T)


def _sample_every(steps: int, every: int, samples: int | None) -> int:
    samples = SAMPLES if samples is None else _count(samples, "samples", minimum=1)
    stride = max(1, steps // samples)
    return max(every, (stride // every) * every)


def _batch_se(running: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Standard error from batch means of the per-sample increments of the cumulative sums."""
    m, k = running.shape
    if m < 2:
        return np.full(k, np.nan)
    increments = np.diff(np.vstack([np.zeros((1, k)), running]), axis=0)
    widths = np.diff(np.concatenate([[0.0], axis]))[:, None]
    batches = min(BATCHES, m)
    per = m // batches
    used = batches * per
    sums = increments[:used].reshape(batches, per, k).sum(axis=1)
    spans = widths[:used].reshape(batches, per, 1).sum(axis=1)
    means = sums / spans
    return means.std(axis=0, ddof=1) / math.sqrt(batches)


def _result(logsum, running, xf, status, fail, row, steps, unit, sample_every, note) -> LyapunovResult:
    span = steps * unit
    m = running.shape[1]
    axis = (np.arange(1, m + 1) * sample_every * unit).astype(np.float64)
    if status[row] != _lyapunov.STATUS_OK:
        k = logsum.shape[1]
        reason = _REASONS.get(int(status[row]), "failure")
        return LyapunovResult(
            np.full(k, np.nan), np.full(k, np.nan), np.full((m, k), np.nan), axis, steps, xf[row].copy(),
            f"diverged at step {int(fail[row])}: {reason}; exponents are NaN", int(fail[row]),
        )
    cumulative = running[row]
    exponents = logsum[row] / span
    se = _batch_se(cumulative, axis)
    return LyapunovResult(exponents, se, cumulative / axis[:, None], axis, steps, xf[row].copy(), note)


def _map_args(system, k, steps, transient, renormalise_every, seed, samples):
    k = _k(system, k)
    steps = _count(steps, "steps", minimum=1)
    transient = _count(transient, "transient", minimum=0)
    every = _count(renormalise_every, "renormalise_every", minimum=1)
    sample_every = _sample_every(steps, every, samples)
    return k, steps, transient, every, sample_every, _tangent_basis(system.dim, k, seed)


# ---------------------------------------------------------------------------------------------- maps


def lyapunov_spectrum_batch(
    system: Map,
    X0: Any,
    steps: int,
    params: Any = None,
    *,
    k: int | None = None,
    transient: int = 1000,
    renormalise_every: int = 1,
    seed: int = 0,
    escape: float = 1e8,
    samples: int | None = None,
    threads: int | None = None,
) -> list[LyapunovResult]:
    """Lyapunov spectra of a map from many initial states and parameter vectors, in parallel.

    Parameters
    ----------
    system : Map
    X0 : array_like, shape (n, dim)
        Initial states (shape (n,) for a 1-D map; one state is broadcast
        over the parameter rows).
    steps : int
        Steps measured after the transient.
    params : mapping or array_like, optional
        ``{"r": r_values}`` (one value per row) or an array (npar,) or (n, npar).
    k, transient, renormalise_every, seed, escape, samples
        As in :func:`lyapunov_spectrum`.
    threads : int, optional
        Threads across the rows (default: every core, or ``DSANALYZE_NUM_THREADS``).

    Returns
    -------
    list of LyapunovResult
        One per row.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> rows = lyapunov_spectrum_batch(ds.models.logistic(), [0.3], 10**4, {"r": [2.5, 4.0]})
    >>> [round(r.maximal, 2) for r in rows]
    [-0.69, 0.69]
    """
    _require(system, Map, "lyapunov_spectrum_batch")
    k, steps, transient, every, sample_every, q0 = _map_args(system, k, steps, transient, renormalise_every,
                                                             seed, samples)
    X, P = _batch_states(system, X0, params)
    kernel = compile_system(system)
    out = _lyapunov.spectrum_batch(*_tangent_addresses(kernel), X, P, q0, transient, steps,
                                   every, sample_every, float(escape), 0.0, False, thread_count(threads))
    note = f"QR every {every} step(s), k = {k}, transient {transient}"
    return [_result(*out, row, steps, 1.0, sample_every, note) for row in range(X.shape[0])]


def _batch_states(system, X0, params):
    if system.dim > 1 and np.ndim(X0) == 1 and np.shape(X0)[0] == system.dim:
        X0 = np.reshape(np.asarray(X0, dtype=np.float64), (1, system.dim))  # one state for every parameter row
    X = states(system, X0, "X0", batch=True)
    P = parameter_matrix(system, params, X.shape[0])
    if P.shape[0] != 1 and P.shape[0] != X.shape[0]:
        if X.shape[0] != 1:
            raise DimensionError(f"X0 has {X.shape[0]} rows but the parameters have {P.shape[0]}")
        X = np.ascontiguousarray(np.broadcast_to(X, (P.shape[0], system.dim)))
    return X, P


def _one(system, x0, params):
    x = states(system, x0, "x0", batch=False).reshape(1, -1)
    P = parameter_matrix(system, params, 1)
    if P.shape[0] != 1:
        raise DimensionError("give one value per parameter here; use the _batch function for a sweep")
    return x, P


def lyapunov_spectrum(
    system: Map,
    x0: Any,
    steps: int,
    *,
    k: int | None = None,
    transient: int = 1000,
    renormalise_every: int = 1,
    seed: int = 0,
    escape: float = 1e8,
    samples: int | None = None,
    **params: Any,
) -> LyapunovResult:
    """The Lyapunov spectrum of a map by the QR method on k tangent vectors.

    Parameters
    ----------
    system : Map
    x0 : array_like, shape (dim,)
        Initial state.
    steps : int
        Steps measured, after ``transient`` steps that align the orbit and
        the tangent vectors and are discarded.
    k : int, optional
        Tangent vectors (default: dim, the full spectrum); ``k = 1`` gives the
        maximal exponent.
    transient : int
        Steps discarded first.
    renormalise_every : int
        Steps between QR renormalisations (1 is safest; larger is faster but
        the tangent vectors may under- or overflow, or align). For ``k = 1``,
        and for the full spectrum of a 2-D map, it has no effect: the single
        tangent vector is only ever scaled by powers of two, which is exact
        (the tangent map is linear, so this changes nothing), and
        for k = dim = 2 the second exponent comes from R_11 R_22 = |det J|,
        which is the QR method with renormalisation every step in exact arithmetic.
    seed : int
        Seed of the random initial tangent vectors.
    escape : float
        The orbit diverged once some |x_i| >= escape or is not finite.
    samples : int, optional
        About how many samples of the running estimate to keep (default 1000).
    **params
        Parameter values by name; defaults of the system fill in the rest.

    Returns
    -------
    LyapunovResult
        Exponents per step, with standard errors and the running estimate.
        A divergent orbit gives NaN exponents and a note.

    Raises
    ------
    DsAnalyzeError
        If ``system`` is a Flow (use :func:`flow_lyapunov_spectrum`).
    DimensionError
        For an ``x0`` of the wrong length or ``k > dim``.
    NonFiniteInputError
        For a NaN or infinite ``x0`` or parameter.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> r = lyapunov_spectrum(ds.models.henon(), [0.1, 0.1], 10**5)
    >>> round(float(r.exponents[0]), 2), bool(abs(r.exponents.sum() - np.log(0.3)) < 1e-9)
    (0.42, True)
    """
    _require(system, Map, "lyapunov_spectrum")
    k, steps, transient, every, sample_every, q0 = _map_args(system, k, steps, transient, renormalise_every,
                                                             seed, samples)
    x, P = _one(system, x0, params)
    kernel = compile_system(system)
    out = _lyapunov.spectrum_batch(*_tangent_addresses(kernel), x, P, q0, transient, steps,
                                   every, sample_every, float(escape), 0.0, False, 1)
    note = f"QR every {every} step(s), k = {k}, transient {transient}"
    return _result(*out, 0, steps, 1.0, sample_every, note)


def maximal_lyapunov(system: Map, x0: Any, steps: int, *, transient: int = 1000, renormalise_every: int = 1,
                     seed: int = 0, escape: float = 1e8, samples: int | None = None,
                     **params: Any) -> LyapunovResult:
    """The maximal Lyapunov exponent of a map: one tangent vector, renormalised.

    The same as :func:`lyapunov_spectrum` with ``k=1``; see there for the parameters.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> r = maximal_lyapunov(ds.models.logistic(), [0.3], 10**5, r=4.0)
    >>> bool(abs(r.maximal - np.log(2.0)) < 0.01)
    True
    """
    _require(system, Map, "maximal_lyapunov")
    return lyapunov_spectrum(system, x0, steps, k=1, transient=transient, renormalise_every=renormalise_every,
                             seed=seed, escape=escape, samples=samples, **params)


# ---------------------------------------------------------------------------------------------- flows


def _flow_args(system, t, dt, transient, renormalise_time, k, seed, samples):
    k = _k(system, k)
    values = {}
    for name, value in (("t", t), ("dt", dt), ("renormalise_time", renormalise_time)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a positive number, got {value!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive, finite number, got {value!r}")
        values[name] = value
    try:
        transient = float(transient)
    except (TypeError, ValueError):
        raise ValueError(f"transient must be a number >= 0, got {transient!r}") from None
    if not (math.isfinite(transient) and transient >= 0):
        raise ValueError(f"transient must be a finite number >= 0, got {transient!r}")
    h = values["dt"]
    steps = max(1, int(round(values["t"] / h)))
    every = max(1, int(round(values["renormalise_time"] / h)))
    transient_steps = int(round(transient / h))
    sample_every = _sample_every(steps, every, samples)
    return k, h, steps, every, transient_steps, sample_every, _tangent_basis(system.dim, k, seed)


def flow_lyapunov_spectrum_batch(
    system: Flow,
    X0: Any,
    t: float,
    params: Any = None,
    *,
    dt: float = 0.01,
    k: int | None = None,
    transient: float = 100.0,
    renormalise_time: float | None = None,
    seed: int = 0,
    escape: float = 1e8,
    samples: int | None = None,
    threads: int | None = None,
) -> list[LyapunovResult]:
    """Lyapunov spectra of a flow from many initial states and parameter vectors, in parallel.

    Parameters as in :func:`flow_lyapunov_spectrum`, with ``X0`` of shape
    (n, dim) and ``params`` as in :func:`lyapunov_spectrum_batch`.

    Returns
    -------
    list of LyapunovResult
        One per row; exponents per unit time.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> decay = ds.Flow("x", "-a*x")
    >>> rows = flow_lyapunov_spectrum_batch(decay, [1.0], 10.0, {"a": [1.0, 2.0]}, transient=0)
    >>> [round(r.maximal, 6) for r in rows]
    [-1.0, -2.0]
    """
    _require(system, Flow, "flow_lyapunov_spectrum_batch")
    k, h, steps, every, tsteps, sample_every, q0 = _flow_args(system, t, dt, transient,
                                                              dt if renormalise_time is None else renormalise_time,
                                                              k, seed, samples)
    X, P = _batch_states(system, X0, params)
    kernel = compile_system(system)
    out = _lyapunov.spectrum_batch(*_tangent_addresses(kernel), X, P, q0, tsteps, steps,
                                   every, sample_every, float(escape), h, True, thread_count(threads))
    note = f"RK4 dt = {h:g}, QR every {every * h:g} time units, k = {k}, transient {tsteps * h:g}"
    return [_result(*out, row, steps, h, sample_every, note) for row in range(X.shape[0])]


def flow_lyapunov_spectrum(
    system: Flow,
    x0: Any,
    t: float,
    *,
    dt: float = 0.01,
    k: int | None = None,
    transient: float = 100.0,
    renormalise_time: float | None = None,
    seed: int = 0,
    escape: float = 1e8,
    samples: int | None = None,
    **params: Any,
) -> LyapunovResult:
    """The Lyapunov spectrum of a flow: the variational equations by fixed-step RK4, and QR.

    The state and k tangent vectors W obey dx/dt = f(x), dW/dt = J(x) W; both
    are advanced together by classical RK4 with step ``dt``, and W is
    re-orthonormalised (modified Gram-Schmidt) every ``renormalise_time``.

    Parameters
    ----------
    system : Flow
    x0 : array_like, shape (dim,)
    t : float
        Time measured, after ``transient``.
    dt : float
        The RK4 step (``t``, ``transient`` and ``renormalise_time`` are rounded
        to whole steps).
    k : int, optional
        Tangent vectors (default: dim); ``k = 1`` is the maximal exponent.
    transient : float
        Time discarded first.
    renormalise_time : float, optional
        Time between QR renormalisations (default: every step).
    seed, escape, samples
        As in :func:`lyapunov_spectrum`.
    **params
        Parameter values by name.

    Returns
    -------
    LyapunovResult
        Exponents per unit time; ``running_axis`` in time units.

    Raises
    ------
    DsAnalyzeError
        If ``system`` is a Map (use :func:`lyapunov_spectrum`).
    DimensionError, NonFiniteInputError, ValueError
        For malformed arguments.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> r = flow_lyapunov_spectrum(ds.models.lorenz(), [1.0, 1.0, 1.0], 200.0, transient=20.0)
    >>> bool(abs(r.exponents.sum() + 10 + 1 + 8 / 3) < 1e-3)
    True
    """
    _require(system, Flow, "flow_lyapunov_spectrum")
    k, h, steps, every, tsteps, sample_every, q0 = _flow_args(system, t, dt, transient,
                                                              dt if renormalise_time is None else renormalise_time,
                                                              k, seed, samples)
    x, P = _one(system, x0, params)
    kernel = compile_system(system)
    out = _lyapunov.spectrum_batch(*_tangent_addresses(kernel), x, P, q0, tsteps, steps,
                                   every, sample_every, float(escape), h, True, 1)
    note = f"RK4 dt = {h:g}, QR every {every * h:g} time units, k = {k}, transient {tsteps * h:g}"
    return _result(*out, 0, steps, h, sample_every, note)


def flow_maximal_lyapunov(system: Flow, x0: Any, t: float, *, dt: float = 0.01, transient: float = 100.0,
                          renormalise_time: float | None = None, seed: int = 0, escape: float = 1e8,
                          samples: int | None = None, **params: Any) -> LyapunovResult:
    """The maximal Lyapunov exponent of a flow (one tangent vector); see :func:`flow_lyapunov_spectrum`.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> r = flow_maximal_lyapunov(ds.Flow("x y", ["x", "-y"]), [0.0, 0.0], 10.0, transient=20.0)
    >>> round(r.maximal, 6)
    1.0
    """
    _require(system, Flow, "flow_maximal_lyapunov")
    return flow_lyapunov_spectrum(system, x0, t, dt=dt, k=1, transient=transient, renormalise_time=renormalise_time,
                                  seed=seed, escape=escape, samples=samples, **params)


# ---------------------------------------------------------------------------------------------- transverse


def _auxiliary(system: System, curve: Any, normal: Any) -> tuple[System, bool]:
    """A map on (state, pad) whose rhs is (normal field, G): compiled, it evaluates both."""
    if (curve is None) == (normal is None):
        raise ValueError("give exactly one of curve= (an expression G with G = 0 invariant) "
                         "or normal= (a normal field)")
    known = {s.name: s for s in (*system.state, *system.params)}
    pad = sp.Dummy("pad")
    if curve is not None:
        G = getattr(curve, "expression", curve)
        try:
            G = sp.sympify(G, locals=known) if isinstance(G, str) else sp.sympify(G)
        except (sp.SympifyError, TypeError) as exc:
            raise ExpressionError(f"curve must be an expression in the state variables: {exc}") from None
        G = G.subs({s: known[s.name] for s in G.free_symbols if s.name in known})
        unknown = {s.name for s in G.free_symbols} - set(known)
        if unknown:
            raise ExpressionError(f"curve uses {', '.join(sorted(unknown))}, which are not state variables or "
                                  f"parameters of {system.name or 'the system'}")
        if not any(s in G.free_symbols for s in system.state):
            raise ExpressionError("curve must depend on the state variables")
        field_ = [sp.diff(G, s) for s in system.state] + [G]
        has_level = True
    else:
        try:
            field_ = [sp.sympify(e, locals=known) if isinstance(e, str) else sp.sympify(e) for e in normal]
        except (sp.SympifyError, TypeError) as exc:
            raise ExpressionError(f"normal must be a list of expressions, one per state variable: {exc}") from None
        if len(field_) != system.dim:
            raise DimensionError(f"normal must have {system.dim} components, got {len(field_)}")
        field_ = [e.subs({s: known[s.name] for s in e.free_symbols if s.name in known}) for e in field_]
        field_.append(sp.Integer(0))
        has_level = False
    aux = Map((*system.state, pad), field_, system.params, name=f"normal field of {system.name or 'a map'}")
    return aux, has_level


def transverse_lyapunov(
    system: Map,
    x0: Any,
    steps: int,
    *,
    curve: Any = None,
    normal: Any = None,
    transient: int = 1000,
    reproject: bool = True,
    escape: float = 1e8,
    samples: int | None = None,
    **params: Any,
) -> LyapunovResult:
    """The transverse Lyapunov exponent of a map relative to an invariant curve G = 0.

    For an invariant hypersurface G = 0 with unit normal n = grad G / |grad G|,
    the Jacobian maps tangent vectors to tangent vectors, so the normal part of
    a perturbation grows by the factor c(x) = n(F(x)) . J(x) n(x) per step; the
    exponent is the orbit mean of log |c|. After every step the orbit is put
    back on G = 0 by one Newton step x <- x - G(x) grad G / |grad G|^2, so
    round-off cannot carry it off an unstable curve (and ``x0`` is projected
    by five Newton steps first).

    Parameters
    ----------
    system : Map
    x0 : array_like, shape (dim,)
        A state on (or near) the curve.
    steps : int
        Steps measured, after ``transient`` discarded ones.
    curve : Expr or str or InvariantCurve, optional
        G, an expression in the state (and parameters) whose zero set is invariant.
    normal : sequence of Expr or str, optional
        Instead of ``curve``: a field normal to an invariant subspace (no
        re-projection then).
    reproject : bool
        Re-project onto G = 0 after every step.
    transient, escape, samples, **params
        As in :func:`lyapunov_spectrum`.

    Returns
    -------
    LyapunovResult
        One exponent (k = 1): the transverse one.

    Notes
    -----
    Invariance of the curve is assumed, not checked. For flows see
    :func:`flow_transverse_lyapunov`.

    Examples
    --------
    The two-factor map on its balanced line u = v:

    >>> import dsanalyze as ds
    >>> r = transverse_lyapunov(ds.models.two_factor(), [0.5, 0.5], 10**4, curve="u - v", mu=1.5)
    >>> bool(r.maximal < 0)
    True
    """
    _require(system, Map, "transverse_lyapunov")
    steps = _count(steps, "steps", minimum=1)
    transient = _count(transient, "transient", minimum=0)
    sample_every = _sample_every(steps, 1, samples)
    x, P = _one(system, x0, params)
    aux, has_level = _auxiliary(system, curve, normal)
    kernel = compile_system(system)
    field_kernel = compile_system(aux)
    out = _lyapunov.transverse_batch(kernel.addresses["rhs"], kernel.addresses["jac"], field_kernel.addresses["rhs"],
                                     has_level, x, P, transient, steps, sample_every, float(escape), bool(reproject), 1)
    what = f"G = {sp.sstr(aux.rhs[-1])}" if has_level else "the given normal field"
    note = f"transverse to {what}, re-projected: {bool(reproject and has_level)}, transient {transient}"
    return _result(*out, 0, steps, 1.0, sample_every, note)


def flow_transverse_lyapunov(
    system: Flow,
    x0: Any,
    t: float,
    *,
    curve: Any = None,
    normal: Any = None,
    dt: float = 0.01,
    transient: float = 100.0,
    reproject: bool = True,
    escape: float = 1e8,
    samples: int | None = None,
    **params: Any,
) -> LyapunovResult:
    """The transverse Lyapunov exponent of a flow relative to an invariant hypersurface G = 0.

    On an invariant hypersurface with unit normal n = grad G / |grad G| the
    normal part of a perturbation grows at the rate n . J(x) n (the change of
    n itself is tangent to the unit sphere and drops out), so the exponent is
    the time mean of n . J n along the orbit. The rate is integrated together
    with the state by fixed-step RK4, and the orbit is put back on G = 0 by a
    Newton step after every step (``reproject``).

    Parameters
    ----------
    system : Flow
    x0 : array_like, shape (dim,)
        A state on (or near) the hypersurface (projected onto it first).
    t : float
        Time measured, after ``transient``.
    curve, normal, reproject
        As in :func:`transverse_lyapunov`.
    dt, transient, escape, samples, **params
        As in :func:`flow_lyapunov_spectrum`.

    Returns
    -------
    LyapunovResult
        One exponent (per unit time).

    Examples
    --------
    The unit circle is an attracting limit cycle of the Hopf normal form; radially
    r' = r - r^3, whose derivative at r = 1 is -2:

    >>> import dsanalyze as ds
    >>> hopf = ds.Flow("x y", ["x - y - x*(x**2 + y**2)", "x + y - y*(x**2 + y**2)"])
    >>> r = flow_transverse_lyapunov(hopf, [1.0, 0.0], 50.0, curve="x**2 + y**2 - 1", transient=0)
    >>> round(r.maximal, 6)
    -2.0
    """
    _require(system, Flow, "flow_transverse_lyapunov")
    _, h, steps, _, tsteps, sample_every, _ = _flow_args(system, t, dt, transient, dt, 1, 0, samples)
    x, P = _one(system, x0, params)
    aux, has_level = _auxiliary(system, curve, normal)
    kernel = compile_system(system)
    field_kernel = compile_system(aux)
    out = _lyapunov.transverse_batch(kernel.addresses["rhs"], kernel.addresses["jac"], field_kernel.addresses["rhs"],
                                     has_level, x, P, tsteps, steps, sample_every, float(escape), bool(reproject), 1,
                                     h, True)
    what = f"G = {sp.sstr(aux.rhs[-1])}" if has_level else "the given normal field"
    note = (f"transverse to {what}, RK4 dt = {h:g}, re-projected: {bool(reproject and has_level)}, "
            f"transient {tsteps * h:g}")
    return _result(*out, 0, steps, h, sample_every, note)
