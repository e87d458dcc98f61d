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

cnp.import_array()

#: Row status codes (mirrored by dsanalyze.numeric.flows); 3 (out of memory)
#: never leaves integrate_batch, which raises MemoryError instead.
STATUS_OK = 0
STATUS_STEP_FAILURE = 1
STATUS_NOT_FINITE = 2
#: Method codes.
METHOD_DOPRI5 = 0
METHOD_RK4 = 1

# ---- Dormand-Prince 5(4) tableau and controller constants --------------------
# Declared as C compile-time constants so that the compiler folds them.
cdef extern from *:
    """
    /* Dormand-Prince 5(4): nodes c = (0, 1/5, 3/10, 4/5, 8/9, 1, 1). */
    static const double DP_A21 = 1.0 / 5.0;
    static const double DP_A31 = 3.0 / 40.0, DP_A32 = 9.0 / 40.0;
    static const double DP_A41 = 44.0 / 45.0, DP_A42 = -56.0 / 15.0, DP_A43 = 32.0 / 9.0;
    static const double DP_A51 = 19372.0 / 6561.0, DP_A52 = -25360.0 / 2187.0,
                        DP_A53 = 64448.0 / 6561.0, DP_A54 = -212.0 / 729.0;
    static const double DP_A61 = 9017.0 / 3168.0, DP_A62 = -355.0 / 33.0, DP_A63 = 46732.0 / 5247.0,
                        DP_A64 = 49.0 / 176.0, DP_A65 = -5103.0 / 18656.0;
    /* 5th-order weights b (also the last row of A: first same as last). */
    static const double DP_B1 = 35.0 / 384.0, DP_B3 = 500.0 / 1113.0, DP_B4 = 125.0 / 192.0,
                        DP_B5 = -2187.0 / 6784.0, DP_B6 = 11.0 / 84.0;
    /* b - b_hat with the embedded 4th-order weights
       b_hat = (5179/57600, 0, 7571/16695, 393/640, -92097/339200, 187/2100, 1/40). */
    static const double DP_E1 = 71.0 / 57600.0, DP_E3 = -71.0 / 16695.0, DP_E4 = 71.0 / 1920.0,
                        DP_E5 = -17253.0 / 339200.0, DP_E6 = 22.0 / 525.0, DP_E7 = -1.0 / 40.0;
    /* Shampine's continuous extension. */
    static const double DP_D1 = -12715105075.0 / 11282082432.0, DP_D3 = 87487479700.0 / 32700410799.0,
                        DP_D4 = -10690763975.0 / 1880347072.0, DP_D5 = 701980252875.0 / 199316789632.0,
                        DP_D6 = -1453857185.0 / 822651844.0, DP_D7 = 69997945.0 / 29380423.0;
    /* Step-size controller. */
    static const double DP_SAFETY = 0.9;
    static const double DP_FAC_MIN = 0.2;       /* never shrink below h/5 in one go */
    static const double DP_FAC_MAX = 10.0;      /* never grow beyond 10 h in one go */
    static const double DP_ERR_EXPONENT = -0.2; /* -1/(q+1), q = 4 the order of the error estimator */
    """
    const double A21 "DP_A21"
    const double A31 "DP_A31"
    const double A32 "DP_A32"
    const double A41 "DP_A41"
    const double A42 "DP_A42"
    const double A43 "DP_A43"
    const double A51 "DP_A51"
    const double A52 "DP_A52"
    const double A53 "DP_A53"
    const double A54 "DP_A54"
    const double A61 "DP_A61"
    const double A62 "DP_A62"
    const double A63 "DP_A63"
    const double A64 "DP_A64"
    const double A65 "DP_A65"
    const double B1 "DP_B1"
    const double B3 "DP_B3"
    const double B4 "DP_B4"
    const double B5 "DP_B5"
    const double B6 "DP_B6"
    const double E1 "DP_E1"
    const double E3 "DP_E3"
    const double E4 "DP_E4"
    const double E5 "DP_E5"
    const double E6 "DP_E6"
    const double E7 "DP_E7"
    const double D1 "DP_D1"
    const double D3 "DP_D3"
    const double D4 "DP_D4"
    const double D5 "DP_D5"
    const double D6 "DP_D6"
    const double D7 "DP_D7"
    const double SAFETY "DP_SAFETY"
    const double FAC_MIN "DP_FAC_MIN"
    const double FAC_MAX "DP_FAC_MAX"
    const double ERR_EXPONENT "DP_ERR_EXPONENT"

cdef enum:
    _OK = 0
    _STEP_FAILURE = 1
    _NOT_FINITE = 2
    _NO_MEMORY = 3
    _DOPRI5 = 0
    _RK4 = 1


cdef inline bint _all_finite(const double *v, int64_t d) noexcept nogil:
    cdef int64_t i
    for i in range(d):
        if not isfinite(v[i]):
            return False
    return True


cdef inline double _rms_scaled(const double *v, const double *y, const double *atol, int64_t astride,
                               double rtol, int64_t d) noexcept nogil:
    """sqrt(mean((v_i / (atol_i + rtol |y_i|))^2))."""
    cdef int64_t i
    cdef double s = 0.0, sc, r
    for i in range(d):
        sc = atol[i * astride] + rtol * fabs(y[i])
        r = v[i] / sc if sc > 0.0 else (0.0 if v[i] == 0.0 else v[i] * 1e300)
        s += r * r
    return sqrt(s / d)


cdef inline bint _too_small(double h, double t) noexcept nogil:
    """Step size underflow: h below the resolution of t (or not a usable number)."""
    return not (h > 10.0 * DBL_EPSILON * fabs(t)) or not (h > 1e-300) or not isfinite(h)


cdef double _initial_step(rhs_fn f, int64_t d, const double *p, const double *y0, const double *f0,
                          double span, double rtol, const double *atol, int64_t astride,
                          double *y1, double *f1) noexcept nogil:
    """Hairer's starting step (HNW I, Sec. II.4), for a method of order 5."""
    cdef int64_t i
    cdef double d0, d1, d2, h0, h1, h, big, sc, r
    d0 = _rms_scaled(y0, y0, atol, astride, rtol, d)
    d1 = _rms_scaled(f0, y0, atol, astride, rtol, d)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6
    else:
        h0 = 0.01 * d0 / d1
    if h0 > span:
        h0 = span
    for i in range(d):
        y1[i] = y0[i] + h0 * f0[i]
    f(y1, p, f1)
    # d2 = ||f(y0 + h0 f0) - f0|| / h0, an estimate of the second derivative.
    d2 = 0.0
    for i in range(d):
        sc = atol[i * astride] + rtol * fabs(y0[i])
        r = (f1[i] - f0[i]) / sc if sc > 0.0 else 0.0
        d2 += r * r
    d2 = sqrt(d2 / d) / h0
    big = d1 if d1 > d2 else d2
    if not isfinite(big):
        h1 = h0 * 1e-3
    elif big <= 1e-15:
        h1 = h0 * 1e-3 if h0 * 1e-3 > 1e-6 else 1e-6
    else:
        h1 = pow(0.01 / big, 0.2)
    h = 100.0 * h0
    if h1 < h:
        h = h1
    if span < h:
        h = span
    return h


cdef inline void _dense(int64_t d, double theta, double h, const double *y, const double *ynew,
                        const double *k1, const double *k3, const double *k4, const double *k5,
                        const double *k6, const double *k7, double *out) noexcept nogil:
    """Shampine's 4th-order interpolant at t + theta h, 0 <= theta <= 1."""
    cdef int64_t i
    cdef double diff, r3, r4, r5, th1 = 1.0 - theta
    for i in range(d):
        diff = ynew[i] - y[i]
        r3 = h * k1[i] - diff
        r4 = diff - h * k7[i] - r3
        r5 = h * (D1 * k1[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * k7[i])
        out[i] = y[i] + theta * (diff + th1 * (r3 + theta * (r4 + th1 * r5)))


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
    cdef double t, t_end, t_new, h = 0.0, e, err, fac, sc, r, ay, an
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

        for i in range(d):
            ys[i] = y[i] + h * A21 * k1[i]
        f(ys, p, k2)
        for i in range(d):
            ys[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i])
        f(ys, p, k3)
        for i in range(d):
            ys[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i])
        f(ys, p, k4)
        for i in range(d):
            ys[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i])
        f(ys, p, k5)
        for i in range(d):
            ys[i] = y[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i])
        f(ys, p, k6)
        for i in range(d):
            ynew[i] = y[i] + h * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i])
        f(ynew, p, k7)

        err = 0.0
        bad = False
        for i in range(d):
            e = h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i])
            ay = fabs(y[i])
            an = fabs(ynew[i])
            sc = atol[i * astride] + rtol * (ay if ay > an else an)
            r = e / sc if sc > 0.0 else (0.0 if e == 0.0 else 1e300)
            err += r * r
            if not (isfinite(ynew[i]) and isfinite(k7[i])):
                bad = True
        err = sqrt(err / d)
        if bad or not isfinite(err):
            # A trial state (or its slope) overflowed: treat as a large error.
            was_nonfinite = True
            rejected = True
            h *= FAC_MIN
            continue
        was_nonfinite = False
        if err > 1.0:
            fac = SAFETY * pow(err, ERR_EXPONENT)
            if fac < FAC_MIN:
                fac = FAC_MIN
            h *= fac
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
