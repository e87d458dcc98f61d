# cython: language_level=3
"""Poincare sections of flows dx/dt = f(x, p) by a hyperplane n.x = c (event location).

f is a system's generated ``ds_rhs`` (an ``rhs_fn``, handed over as an integer
address). The trajectory is advanced with the adaptive Dormand-Prince 5(4)
pair exactly as in ``_flows.pyx`` (same tableau, error norm, step controller
and Hairer's starting step, shared through ``_dopri.pxd``). After every
accepted step from t to t + h the switching function g(x) = n.x - c is
evaluated at both ends; a sign change in
the requested direction (+1: g0 < 0 <= g1, -1: g0 > 0 >= g1, 0: either) means
a crossing inside (t, t + h]. Its time is located on Shampine's 4th-order
continuous extension of the step by Brent's method (safeguarded inverse
quadratic interpolation / secant / bisection; R. P. Brent, Algorithms for
Minimization without Derivatives, 1973, ch. 4) to an absolute tolerance of
``XTOL`` = 1e-14 in the offset from t (plus 4 eps |offset|), and the
interpolated state there is recorded, then projected orthogonally onto the
plane (a correction of the size of the root-finding residual) so that every
recorded point satisfies n.x = c to rounding.

A starting point on the plane (g(x0) = 0) is not a crossing. Two crossings
inside one step (a tangency or a step longer than the time between two
crossings) are not resolved: the error control keeps steps far below the
return time for the usual sections, and ``h_max`` caps the step where it
would not (e.g. a solution so smooth that the error estimate vanishes).

Failures never raise inside the ``nogil`` loops; each row reports a status:
0 the requested number of crossings was recorded, 1 step size underflow or
``max_steps`` reached, 2 the state or the right-hand side stopped being
finite, 3 ``t_max`` was reached first (fewer crossings).
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uintptr_t
from libc.stdlib cimport malloc, free
from libc.math cimport fabs, sqrt, pow, isfinite, NAN, INFINITY
from libc.float cimport DBL_EPSILON

from _kernel cimport rhs_fn
from _dopri cimport (
    A21, A31, A32, A41, A42, A43, A51, A52, A53, A54, A61, A62, A63, A64, A65,
    B1, B3, B4, B5, B6, E1, E3, E4, E5, E6, E7, D1, D3, D4, D5, D6, D7,
    SAFETY, FAC_MIN, FAC_MAX, ERR_EXPONENT,
    _all_finite, _rms_scaled, _too_small, _initial_step, _dense, _trial_step, _rejected,
)

cnp.import_array()

#: Row status codes (mirrored by dsanalyze.numeric.poincare).
STATUS_OK = 0
STATUS_STEP_FAILURE = 1
STATUS_NOT_FINITE = 2
STATUS_T_MAX = 3
#: Absolute tolerance of the root finder on the time offset inside a step.
XTOL = 1e-14

cdef enum:
    _OK = 0
    _STEP_FAILURE = 1
    _NOT_FINITE = 2
    _T_MAX = 3
    _NO_MEMORY = 4

cdef double _XTOL = 1e-14


cdef inline double _switch(int64_t d, const double *n, double c, const double *x) noexcept nogil:
    """g(x) = n.x - c."""
    cdef int64_t i
    cdef double s = 0.0
    for i in range(d):
        s += n[i] * x[i]
    return s - c


cdef inline double _g_dense(int64_t d, double s, double h, const double *y, const double *ynew,
                            const double *k1, const double *k3, const double *k4, const double *k5,
                            const double *k6, const double *k7, const double *n, double c,
                            double *tmp) noexcept nogil:
    """g on the continuous extension at t + s (0 <= s <= h); the state is left in tmp."""
    _dense(d, s / h, h, y, ynew, k1, k3, k4, k5, k6, k7, tmp)
    return _switch(d, n, c, tmp)


cdef double _locate(int64_t d, double h, double g0, double g1, const double *y, const double *ynew,
                    const double *k1, const double *k3, const double *k4, const double *k5,
                    const double *k6, const double *k7, const double *n, double c,
                    double *tmp) noexcept nogil:
    """The offset s in [0, h] of a root of g on the step's interpolant, g(0) = g0, g(h) = g1 of opposite signs.

    Brent's zeroin: keeps a bracket [b, cc] with g(b) g(cc) <= 0 and takes inverse quadratic
    interpolation or secant steps when they land well inside it, bisection otherwise.
    """
    cdef double a = 0.0, b = h, cc, fa = g0, fb = g1, fc, dd, e, tol1, xm, p, q, r, s
    cdef int it
    if g0 == 0.0:
        return 0.0
    if g1 == 0.0:
        return h
    cc = a
    fc = fa
    dd = b - a
    e = dd
    for it in range(200):
        if (fb > 0.0 and fc > 0.0) or (fb < 0.0 and fc < 0.0):
            cc = a
            fc = fa
            dd = b - a
            e = dd
        if fabs(fc) < fabs(fb):
            a = b
            b = cc
            cc = a
            fa = fb
            fb = fc
            fc = fa
        tol1 = 2.0 * DBL_EPSILON * fabs(b) + 0.5 * _XTOL
        xm = 0.5 * (cc - b)
        if fabs(xm) <= tol1 or fb == 0.0:
            break
        if fabs(e) >= tol1 and fabs(fa) > fabs(fb):
            s = fb / fa
            if a == cc:
                p = 2.0 * xm * s
                q = 1.0 - s
            else:
                q = fa / fc
                r = fb / fc
                p = s * (2.0 * xm * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0.0:
                q = -q
            p = fabs(p)
            if 2.0 * p < min(3.0 * xm * q - fabs(tol1 * q), fabs(e * q)):
                e = dd
                dd = p / q
            else:
                dd = xm
                e = dd
        else:
            dd = xm
            e = dd
        a = b
        fa = fb
        if fabs(dd) > tol1:
            b += dd
        else:
            b += tol1 if xm > 0.0 else -tol1
        fb = _g_dense(d, b, h, y, ynew, k1, k3, k4, k5, k6, k7, n, c, tmp)
    if b < 0.0:
        b = 0.0
    elif b > h:
        b = h
    return b


cdef int _section(rhs_fn f, int64_t d, const double *x0, const double *p, const double *n, double c,
                  double nn, int direction, int64_t crossings, int64_t transient, double t_max,
                  double h_max, double rtol, const double *atol, int64_t astride, int64_t max_steps,
                  double *points, double *times, int64_t *count, double *t_reached,
                  int64_t *steps_taken) noexcept nogil:
    """One trajectory from x0 at t = 0; ``points`` is (crossings, d), ``times`` (crossings,).

    ``nn`` is n.n. Records crossings number transient+1 ... transient+crossings. Returns a status.
    """
    cdef double *work = <double *> malloc(11 * d * sizeof(double))
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
    cdef double *tmp
    cdef double *swap
    cdef double t = 0.0, t_new, h = 0.0, err, fac, g0, g1, s, gs
    cdef int64_t i, found = 0, recorded = 0, nsteps = 0
    cdef bint last, rejected = False, bad, was_nonfinite = False, hit
    cdef int status = _OK
    count[0] = 0
    t_reached[0] = 0.0
    steps_taken[0] = 0
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
    tmp = work + 10 * d

    for i in range(d):
        y[i] = x0[i]
    g0 = _switch(d, n, c, y)
    if not (t_max > 0.0):
        status = _T_MAX
    else:
        f(y, p, k1)
        if not _all_finite(k1, d):
            status = _NOT_FINITE
        else:
            h = _initial_step(f, d, p, y, k1, t_max if t_max < 1e300 else 1e300, rtol, atol, astride, ys, k2)
            if h > h_max:
                h = h_max

    while status == _OK:
        # Fit the last step to end exactly at t_max (stretching it up to 1 %).
        last = t + 1.01 * h >= t_max
        if last:
            h = t_max - t
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

        # Accepted: look for a crossing inside (t, t + h].
        t_new = t_max if last else t + h
        g1 = _switch(d, n, c, ynew)
        if direction > 0:
            hit = g0 < 0.0 and g1 >= 0.0
        elif direction < 0:
            hit = g0 > 0.0 and g1 <= 0.0
        else:
            hit = (g0 < 0.0 and g1 >= 0.0) or (g0 > 0.0 and g1 <= 0.0)
        if hit:
            found += 1
            if found > transient:
                if g1 == 0.0:
                    s = h
                    for i in range(d):
                        tmp[i] = ynew[i]
                else:
                    s = _locate(d, h, g0, g1, y, ynew, k1, k3, k4, k5, k6, k7, n, c, tmp)
                    _dense(d, s / h, h, y, ynew, k1, k3, k4, k5, k6, k7, tmp)
                # Project onto the plane: removes the residual of the root finder.
                gs = _switch(d, n, c, tmp) / nn
                for i in range(d):
                    points[recorded * d + i] = tmp[i] - gs * n[i]
                times[recorded] = t_new if s >= h else t + s
                recorded += 1
                if recorded >= crossings:
                    t = t_new
                    break
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
        if h > h_max:
            h = h_max
        t = t_new
        g0 = g1
        swap = y
        y = ynew
        ynew = swap
        swap = k1      # FSAL: the last stage is the first one of the next step
        k1 = k7
        k7 = swap
        if last:
            status = _T_MAX
            break

    for i in range(recorded, crossings):
        times[i] = NAN
    for i in range(recorded * d, crossings * d):
        points[i] = NAN
    count[0] = recorded
    t_reached[0] = t
    steps_taken[0] = nsteps
    free(work)
    return status


def section_batch(uintptr_t rhs_address,
                  cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] X,
                  cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] P,
                  cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] normal,
                  double offset, int direction, int64_t crossings, int64_t transient,
                  double t_max, double h_max, double rtol,
                  cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] atol,
                  int64_t max_steps, int num_threads):
    """Poincare sections by the plane normal.x = offset from every row of ``X`` (at t = 0).

    Parameters
    ----------
    rhs_address : int
        Address of the system's ``ds_rhs``.
    X : (n, dim) float64
        Initial states at t = 0.
    P : (n, npar) or (1, npar) float64
        Parameters per row, or one row for all.
    normal : (dim,) float64, not zero
    offset : float
    direction : int
        +1 (g = normal.x - offset increasing), -1 (decreasing) or 0 (both).
    crossings : int >= 1
        Crossings to record per row.
    transient : int >= 0
        Crossings skipped (not recorded) first.
    t_max : float
        Integration stops at this time (may be ``inf``).
    h_max : float
        Largest step (``inf``: no limit).
    rtol : float
    atol : (1,) or (dim,) float64
    max_steps : int
        Step attempts allowed per row (rejected ones included).
    num_threads : int

    Returns
    -------
    points : (n, crossings, dim) float64, NaN beyond each row's count
    times : (n, crossings) float64, NaN beyond each row's count
    count : (n,) int64
    status : (n,) int8, 0 ok, 1 step failure or max_steps, 2 not finite, 3 t_max reached first
    t_reached : (n,) float64
    steps : (n,) int64
    """
    cdef rhs_fn f = <rhs_fn> rhs_address
    cdef int64_t n = X.shape[0], dim = X.shape[1], npar = P.shape[1]
    cdef int64_t pstride = npar if P.shape[0] == n else 0
    cdef int64_t astride = 1 if atol.shape[0] == dim else 0
    cdef int64_t r, i
    cdef double nn = 0.0
    if P.shape[0] != n and P.shape[0] != 1:
        raise ValueError("P must have one row per state or a single row")
    if atol.shape[0] != dim and atol.shape[0] != 1:
        raise ValueError("atol must have one value or one per component")
    if dim < 1:
        raise ValueError("the state needs at least one component")
    if normal.shape[0] != dim:
        raise ValueError("normal must have one component per state variable")
    for i in range(dim):
        nn += normal[i] * normal[i]
    if not (nn > 0.0 and isfinite(nn)):
        raise ValueError("normal must be finite and not zero")
    if crossings < 1 or transient < 0 or max_steps < 1:
        raise ValueError("crossings and max_steps must be positive, transient >= 0")
    if not h_max > 0.0:
        raise ValueError("h_max must be positive")
    if direction not in (-1, 0, 1):
        raise ValueError("direction must be -1, 0 or +1")
    if npar == 0:
        pstride = 0
    cdef cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] pts = np.empty((n, crossings, dim))
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] tms = np.empty((n, crossings))
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] count = np.zeros(n, dtype=np.int64)
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    cdef cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] reached = np.zeros(n)
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] steps = np.zeros(n, dtype=np.int64)
    if n == 0:
        return pts, tms, count, status, reached, steps
    cdef const double *xp = &X[0, 0]
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> xp
    cdef const double *ap = &atol[0]
    cdef const double *nvec = &normal[0]
    cdef double *ptp = &pts[0, 0, 0]
    cdef double *tmp_ = &tms[0, 0]
    cdef int64_t *cp = &count[0]
    cdef cnp.int8_t *sp = &status[0]
    cdef double *rp = &reached[0]
    cdef int64_t *np_ = &steps[0]
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            sp[r] = <cnp.int8_t> _section(f, dim, xp + r * dim, pp + r * pstride, nvec, offset, nn, direction,
                                          crossings, transient, t_max, h_max, rtol, ap, astride, max_steps,
                                          ptp + r * crossings * dim, tmp_ + r * crossings, cp + r, rp + r,
                                          np_ + r)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the integrator work arrays")
    return pts, tms, count, status, reached, steps
