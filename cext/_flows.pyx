# cython: language_level=3
"""Drivers for flows: ODE integrators for autonomous systems dx/dt = f(x, p).

f is a system's generated ``ds_rhs`` (an ``rhs_fn``, handed over as an integer
address). Two methods, both producing output at requested times ``t_eval``
(non-decreasing, ``t_eval[0]`` is the initial time):

``dopri5``
    The Dormand-Prince 5(4) pair (J. R. Dormand and P. J. Prince, "A family of
    embedded Runge-Kutta formulae", J. Comput. Appl. Math. 6, 19-26, 1980),
    advanced with the 5th-order solution (local extrapolation), FSAL, the error
    estimated by the embedded 4th-order solution in the mixed RMS norm
    sqrt(mean((err_i / (atol_i + rtol * max(|y_i|, |y_new_i|)))^2)), the step
    controlled by h_new = h * min(10, max(0.2, 0.9 * err^(-1/5))) (no growth
    right after a rejection), the initial step by Hairer's heuristic (Hairer,
    Norsett & Wanner, Solving ODEs I, 2nd ed., Sec. II.4). Output comes from
    the 4th-order continuous extension of Shampine (Math. Comp. 46, 135-150,
    1986) in the form of Hairer, Norsett & Wanner (Sec. II.6): the steps are
    chosen by the error control alone, never shortened to hit an output time;
    only the last step is fitted to end exactly at ``t_eval[-1]``.

``rk4``
    The classical 4th-order Runge-Kutta method on the fixed grid
    t_k = t0 + k h. An output time that is not a grid point (up to rounding)
    gets its value from one extra, shortened RK4 step taken from the last grid
    point before it, into the output only: the trajectory itself stays on the
    grid, so its values do not depend on which output times were asked for.

Failures never raise inside the ``nogil`` loops; each row reports a status:
0 success, 1 step size underflow or ``max_steps`` reached, 2 the state or the
right-hand side stopped being finite. Rows of the output beyond the failure are
NaN, and the time reached is the last time with a valid (finite) state.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uintptr_t
from libc.stdlib cimport malloc, free
from libc.math cimport fabs, sqrt, pow, isfinite, NAN
from libc.float cimport DBL_EPSILON

from _kernel cimport rhs_fn
# The Dormand-Prince 5(4) tableau, controller constants and step helpers (shared with _poincare.pyx).
from _dopri cimport (
    A21, A31, A32, A41, A42, A43, A51, A52, A53, A54, A61, A62, A63, A64, A65,
    B1, B3, B4, B5, B6, E1, E3, E4, E5, E6, E7, D1, D3, D4, D5, D6, D7,
    SAFETY, FAC_MIN, FAC_MAX, ERR_EXPONENT,
    _all_finite, _rms_scaled, _too_small, _initial_step, _dense, _trial_step, _rejected,
)

cnp.import_array()

#: Row status codes (mirrored by dsanalyze.numeric.flows); 3 (out of memory)
#: never leaves integrate_batch, which raises MemoryError instead.
STATUS_OK = 0
STATUS_STEP_FAILURE = 1
STATUS_NOT_FINITE = 2
#: Method codes.
METHOD_DOPRI5 = 0
METHOD_RK4 = 1

cdef enum:
    _OK = 0
    _STEP_FAILURE = 1
    _NOT_FINITE = 2
    _NO_MEMORY = 3
    _DOPRI5 = 0
    _RK4 = 1


cdef inline void _nan_rows(double *out, int64_t first, int64_t nt, int64_t d) noexcept nogil:
    cdef int64_t i
    for i in range(first * d, nt * d):
        out[i] = NAN


cdef int _dopri5(rhs_fn f, int64_t d, const double *x0, const double *p,
                 const double *t_eval, int64_t nt, double rtol, const double *atol, int64_t astride,
                 double h_first, int64_t max_steps, double *out,
                 double *t_reached, int64_t *steps_taken) noexcept nogil:
    """Integrate one trajectory; ``out`` is (nt, d). Returns a status code."""
    cdef double *work = <double *> malloc(10 * d * sizeof(double))
    cdef double *y
    cdef double *ynew
    cdef double *ys
    cdef double *k1
    cdef double *k2
    cdef double *k3
    cdef double *k4
    cdef double *k5
    cdef double *k6
    cdef double *k7
    cdef double *swap
    cdef double t, t_end, t_new, h = 0.0, err, fac
    cdef int64_t i, j = 0, nsteps = 0
    cdef bint last, rejected = False, bad, was_nonfinite = False
    cdef int status = _OK
    if work == NULL:
        return _NO_MEMORY
    y = work
    ynew = work + d
    ys = work + 2 * d
    k1 = work + 3 * d
    k2 = work + 4 * d
    k3 = work + 5 * d
    k4 = work + 6 * d
    k5 = work + 7 * d
    k6 = work + 8 * d
    k7 = work + 9 * d

    t = t_eval[0]
    t_end = t_eval[nt - 1]
    for i in range(d):
        y[i] = x0[i]
    while j < nt and t_eval[j] <= t:
        for i in range(d):
            out[j * d + i] = y[i]
        j += 1
    if j < nt:
        f(y, p, k1)
        if not _all_finite(k1, d):
            status = _NOT_FINITE
        elif h_first > 0.0:
            h = h_first if h_first < t_end - t else t_end - t
        else:
            h = _initial_step(f, d, p, y, k1, t_end - t, rtol, atol, astride, ys, k2)

    while j < nt and status == _OK:
        # Fit the last step to end exactly at t_end (stretching it up to 1 %).
        last = t + 1.01 * h >= t_end
        if last:
            h = t_end - t
        elif _too_small(h, t):
            status = _NOT_FINITE if was_nonfinite else _STEP_FAILURE
            break
        if nsteps >= max_steps:
            status = _STEP_FAILURE
            break
        nsteps += 1

        err = _trial_step(f, d, p, y, h, k1, k2, k3, k4, k5, k6, k7, ys, ynew, rtol, atol, astride, &bad)
        if _rejected(err, bad, &h, &was_nonfinite):
            rejected = True
            continue

        # Accepted: output every requested time inside (t, t + h].
        t_new = t_end if last else t + h
        while j < nt and t_eval[j] <= t_new:
            if t_eval[j] >= t_new:
                for i in range(d):
                    out[j * d + i] = ynew[i]
            else:
                _dense(d, (t_eval[j] - t) / h, h, y, ynew, k1, k3, k4, k5, k6, k7, out + j * d)
            j += 1
        if err == 0.0:
            fac = FAC_MAX
        else:
            fac = SAFETY * pow(err, ERR_EXPONENT)
            if fac > FAC_MAX:
                fac = FAC_MAX
            elif fac < FAC_MIN:
                fac = FAC_MIN
        if rejected and fac > 1.0:
            fac = 1.0
        rejected = False
        h *= fac
        t = t_new
        swap = y
        y = ynew
        ynew = swap
        swap = k1      # FSAL: the last stage is the first one of the next step
        k1 = k7
        k7 = swap

    if j < nt:
        _nan_rows(out, j, nt, d)
    t_reached[0] = t
    steps_taken[0] = nsteps
    free(work)
    return status


cdef inline void _rk4_step(rhs_fn f, int64_t d, const double *p, const double *y, double h,
                           double *k1, double *k2, double *k3, double *k4, double *ys,
                           double *dest) noexcept nogil:
    """dest = one classical RK4 step of size h from y (dest may alias y)."""
    cdef int64_t i
    cdef double h2 = 0.5 * h, h6 = h / 6.0
    f(y, p, k1)
    for i in range(d):
        ys[i] = y[i] + h2 * k1[i]
    f(ys, p, k2)
    for i in range(d):
        ys[i] = y[i] + h2 * k2[i]
    f(ys, p, k3)
    for i in range(d):
        ys[i] = y[i] + h * k3[i]
    f(ys, p, k4)
    for i in range(d):
        dest[i] = y[i] + h6 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i])


cdef int _rk4(rhs_fn f, int64_t d, const double *x0, const double *p,
              const double *t_eval, int64_t nt, double h, int64_t max_steps, double *out,
              double *t_reached, int64_t *steps_taken) noexcept nogil:
    """Fixed-step RK4 on the grid t0 + k h; shortened side steps for off-grid outputs."""
    cdef double *work = <double *> malloc(7 * d * sizeof(double))
    cdef double *y
    cdef double *ynew
    cdef double *ys
    cdef double *k1
    cdef double *k2
    cdef double *k3
    cdef double *k4
    cdef double *swap
    cdef double t0 = t_eval[0], tk, tout, snap
    cdef int64_t i, j = 0, k = 0
    cdef int status = _OK
    if work == NULL:
        return _NO_MEMORY
    y = work
    ynew = work + d
    ys = work + 2 * d
    k1 = work + 3 * d
    k2 = work + 4 * d
    k3 = work + 5 * d
    k4 = work + 6 * d
    for i in range(d):
        y[i] = x0[i]
    tk = t0
    while j < nt:
        tout = t_eval[j]
        # A grid point within a few units in the last place of tout (the rounding of
        # t0 + k h against that of, e.g., linspace) is tout: no extra side step.
        snap = 4.0 * DBL_EPSILON * fabs(tout)
        while t0 + (k + 1) * h <= tout + snap:
            if k >= max_steps:
                status = _STEP_FAILURE
                break
            _rk4_step(f, d, p, y, h, k1, k2, k3, k4, ys, ynew)
            if not _all_finite(ynew, d):
                status = _NOT_FINITE
                break
            swap = y
            y = ynew
            ynew = swap
            k += 1
            tk = t0 + k * h
        if status != _OK:
            break
        if tout - tk <= snap:
            for i in range(d):
                out[j * d + i] = y[i]
        else:
            _rk4_step(f, d, p, y, tout - tk, k1, k2, k3, k4, ys, out + j * d)
            if not _all_finite(out + j * d, d):
                status = _NOT_FINITE
                break
        j += 1
    if j < nt:
        _nan_rows(out, j, nt, d)
    t_reached[0] = tk if status != _OK else t_eval[nt - 1]
    steps_taken[0] = k
    free(work)
    return status


def integrate_batch(uintptr_t rhs_address,
                    cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] X,
                    cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] P,
                    cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] t_eval,
                    int method, double rtol,
                    cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] atol,
                    double h, int64_t max_steps, int num_threads):
    """Integrate dx/dt = f(x, p) from every row of ``X`` and sample it at ``t_eval``.

    Parameters
    ----------
    rhs_address : int
        Address of the system's ``ds_rhs``.
    X : (n, dim) float64
        Initial states at ``t_eval[0]`` (not modified).
    P : (n, npar) or (1, npar) float64
        Parameters per row, or one row for all.
    t_eval : (nt,) float64, nt >= 1
        Non-decreasing output times; ``t_eval[0]`` is the initial time.
    method : int
        ``METHOD_DOPRI5`` or ``METHOD_RK4``.
    rtol : float
        Relative tolerance (dopri5).
    atol : (1,) or (dim,) float64
        Absolute tolerance, one for all components or one each (dopri5).
    h : float
        rk4: the step (> 0). dopri5: the initial step, or 0 for automatic.
    max_steps : int
        Step attempts allowed per row (dopri5 counts rejected ones too).
    num_threads : int
        Threads across rows.

    Returns
    -------
    y : (n, nt, dim) float64, NaN after a failure
    status : (n,) int8, 0 ok, 1 step size underflow or max_steps, 2 not finite
    t_reached : (n,) float64
    steps : (n,) int64, steps taken
    """
    cdef rhs_fn f = <rhs_fn> rhs_address
    cdef int64_t n = X.shape[0], dim = X.shape[1], npar = P.shape[1], nt = t_eval.shape[0]
    cdef int64_t pstride = npar if P.shape[0] == n else 0
    cdef int64_t astride = 1 if atol.shape[0] == dim else 0
    cdef int64_t r
    if P.shape[0] != n and P.shape[0] != 1:
        raise ValueError("P must have one row per state or a single row")
    if nt < 1:
        raise ValueError("t_eval needs at least one time")
    if atol.shape[0] != dim and atol.shape[0] != 1:
        raise ValueError("atol must have one value or one per component")
    if method != _DOPRI5 and method != _RK4:
        raise ValueError(f"unknown method code {method}")
    if method == _RK4 and not h > 0.0:
        raise ValueError("rk4 needs a positive step h")
    if dim < 1:
        raise ValueError("the state needs at least one component")
    if npar == 0:
        pstride = 0
    cdef cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] y = np.empty((n, nt, dim))
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    cdef cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] reached = np.empty(n)
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] steps = np.zeros(n, dtype=np.int64)
    if n == 0:
        return y, status, reached, steps
    cdef const double *xp = &X[0, 0]
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> xp
    cdef const double *tp = &t_eval[0]
    cdef const double *ap = &atol[0]
    cdef double *yp = &y[0, 0, 0]
    cdef cnp.int8_t *sp = &status[0]
    cdef double *rp = &reached[0]
    cdef int64_t *np_ = &steps[0]
    cdef int which = method
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            if which == _DOPRI5:
                sp[r] = <cnp.int8_t> _dopri5(f, dim, xp + r * dim, pp + r * pstride, tp, nt, rtol, ap,
                                             astride, h, max_steps, yp + r * nt * dim, rp + r, np_ + r)
            else:
                sp[r] = <cnp.int8_t> _rk4(f, dim, xp + r * dim, pp + r * pstride, tp, nt, h, max_steps,
                                          yp + r * nt * dim, rp + r, np_ + r)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the integrator work arrays")
    return y, status, reached, steps
