# The Dormand-Prince 5(4) pieces shared by the flow drivers (_flows.pyx, _poincare.pyx):
# the tableau and controller constants (C compile-time constants), the scaled RMS norm,
# the step-underflow test, Hairer's starting step and Shampine's continuous extension.
# Everything is inline, so each driver compiles to the same code as with its own copy.
from libc.stdint cimport int64_t
from libc.math cimport fabs, sqrt, pow, isfinite
from libc.float cimport DBL_EPSILON

from _kernel cimport rhs_fn

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


cdef inline double _initial_step(rhs_fn f, int64_t d, const double *p, const double *y0, const double *f0,
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


cdef inline double _trial_step(rhs_fn f, int64_t d, const double *p, const double *y, double h,
                               const double *k1, double *k2, double *k3, double *k4, double *k5, double *k6,
                               double *k7, double *ys, double *ynew, double rtol, const double *atol,
                               int64_t astride, bint *nonfinite) noexcept nogil:
    """One Dormand-Prince trial step from (y, k1 = f(y)) with step h.

    Fills the stages k2..k7 (k7 = f(ynew), the next k1 by FSAL) and ynew;
    returns the scaled RMS error estimate and sets ``nonfinite`` when the trial
    state or its slope overflowed.
    """
    cdef int64_t i
    cdef double err, e, ay, an, sc, r
    cdef bint bad
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
    nonfinite[0] = bad
    return err


cdef inline bint _rejected(double err, bint nonfinite, double *h, bint *was_nonfinite) noexcept nogil:
    """Whether a trial step is rejected; if so, shrink ``h`` for the retry.

    A trial state (or its slope) that overflowed counts as a large error.
    """
    cdef double fac
    if nonfinite or not isfinite(err):
        was_nonfinite[0] = True
        h[0] *= FAC_MIN
        return True
    was_nonfinite[0] = False
    if err > 1.0:
        fac = SAFETY * pow(err, ERR_EXPONENT)
        h[0] *= fac if fac > FAC_MIN else FAC_MIN
        return True
    return False
