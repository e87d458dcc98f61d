# cython: language_level=3
# distutils: extra_compile_args = -fno-tree-slp-vectorize
"""Drivers for Lyapunov exponents: tangent dynamics with QR renormalisation.

Maps x <- F(x) and flows dx/dt = f(x) advance k tangent vectors W (stored
column by column, ``W[j * d + i]``) with the Jacobian from the system's
generated ``ds_jac``, and re-orthonormalise them by modified Gram-Schmidt (the
QR method of Benettin, Galgani, Giorgilli & Strelcyn, Meccanica 15, 9-30,
1980). The growth factors R_jj are multiplied into a running product per
vector; the logarithm is taken only when the product nears under- or
overflow (and at sample times), so a step costs no ``log``. One tangent
vector of a map (and both exponents of a 2-D map, from |det J|) take a faster
path: the system's generated ``ds_tangent`` runs the state and the tangent
product in one compiled loop between samples (see ``_map_lazy``).

Flows integrate the variational equations dW/dt = J(x) W together with the
state by fixed-step classical RK4.

Row status codes: 0 ok, 1 the orbit left the box |x_i| < escape or stopped
being finite, 2 a tangent vector collapsed or overflowed (R_jj zero or not finite).
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uintptr_t
from libc.stdlib cimport malloc, free
from libc.math cimport fabs, sqrt, log, isfinite, NAN

from _kernel cimport rhs_fn, jac_fn, tangent_fn

cnp.import_array()

STATUS_OK = 0
STATUS_ESCAPED = 1
STATUS_TANGENT = 2

cdef enum:
    _OK = 0
    _ESCAPED = 1
    _TANGENT = 2
    _NO_MEMORY = 3

# The product of growth factors stays within [_LOW, _HIGH]; single factors outside
# [_FLOW, _FHIGH] go straight to the log sum.
cdef double _HIGH = 1e150
cdef double _LOW = 1e-150
cdef double _FHIGH = 1e100
cdef double _FLOW = 1e-100
cdef double _LN2 = 0.6931471805599453094


cdef inline bint _inside(const double *x, int64_t d, double escape) noexcept nogil:
    cdef int64_t i
    for i in range(d):
        if not (fabs(x[i]) < escape):
            return False
    return True


cdef inline void _matmul(const double *J, const double *W, double *out, int64_t d, int64_t k) noexcept nogil:
    """out = J W; J row-major (d, d), W and out column-stored (k columns of length d)."""
    cdef int64_t i, j, l
    cdef double s
    for j in range(k):
        for i in range(d):
            s = 0.0
            for l in range(d):
                s = s + J[i * d + l] * W[j * d + l]
            out[j * d + i] = s


cdef inline int _gram_schmidt(double *W, int64_t d, int64_t k, double *R, bint accumulate,
                              double *prod, double *logsum) noexcept nogil:
    """Orthonormalise the columns of W (modified Gram-Schmidt); fold R_jj into prod/logsum."""
    cdef int64_t i, j, l
    cdef double r, nrm
    for j in range(k):
        for l in range(j):
            r = 0.0
            for i in range(d):
                r = r + W[l * d + i] * W[j * d + i]
            for i in range(d):
                W[j * d + i] = W[j * d + i] - r * W[l * d + i]
        nrm = 0.0
        for i in range(d):
            nrm = nrm + W[j * d + i] * W[j * d + i]
        nrm = sqrt(nrm)
        if not (nrm > 0.0) or not isfinite(nrm):
            return _TANGENT
        r = 1.0 / nrm
        for i in range(d):
            W[j * d + i] = W[j * d + i] * r
        if accumulate:
            if nrm > _FHIGH or nrm < _FLOW:
                logsum[j] = logsum[j] + log(nrm)
            else:
                prod[j] = prod[j] * nrm
                if prod[j] > _HIGH or prod[j] < _LOW:
                    logsum[j] = logsum[j] + log(prod[j])
                    prod[j] = 1.0
    return _OK


cdef int _map_spectrum(rhs_fn f, jac_fn jf, int64_t d, int64_t k, const double *x0, const double *p,
                       const double *q0, int64_t transient, int64_t steps, int64_t every,
                       int64_t sample_every, double escape, double *logsum, double *running,
                       double *xf, int64_t *fail_step) noexcept nogil:
    """Iterate a map with k tangent vectors; logsum gets sum log R_jj over ``steps`` steps.

    running[(s / sample_every - 1) * k + j] = cumulative log sum after step s
    (counted after the transient), for s a multiple of sample_every.
    """
    cdef double *work = <double *> malloc((3 * d + d * d + 2 * d * k + 2 * k) * sizeof(double))
    cdef double *x
    cdef double *xn
    cdef double *J
    cdef double *W
    cdef double *Wn
    cdef double *prod
    cdef double *swap
    cdef int64_t i, j, s, total = transient + steps, m, until_qr, until_sample
    cdef double nrm, r
    cdef bint acc
    cdef int status = _OK
    if work == NULL:
        return _NO_MEMORY
    x = work
    xn = work + d
    J = work + 3 * d
    W = J + d * d
    Wn = W + d * k
    prod = Wn + d * k
    for i in range(d):
        x[i] = x0[i]
    for i in range(d * k):
        W[i] = q0[i]
    for j in range(k):
        prod[j] = 1.0
        logsum[j] = 0.0
    fail_step[0] = -1
    if not _inside(x, d, escape):
        status = _ESCAPED
        fail_step[0] = 0
    s = 0
    until_qr = every
    until_sample = sample_every if sample_every > 0 else -1
    while status == _OK and s < total:
        jf(x, p, J)
        f(x, p, xn)
        if d == 2:
            for j in range(k):
                Wn[2 * j] = J[0] * W[2 * j] + J[1] * W[2 * j + 1]
                Wn[2 * j + 1] = J[2] * W[2 * j] + J[3] * W[2 * j + 1]
        else:
            _matmul(J, W, Wn, d, k)
        swap = x; x = xn; xn = swap
        swap = W; W = Wn; Wn = swap
        s += 1
        if not _inside(x, d, escape):
            status = _ESCAPED
            fail_step[0] = s
            break
        acc = s > transient
        until_qr -= 1
        if until_qr == 0 or s == transient or s == total:
            until_qr = every
            if acc and k == 1:
                nrm = 0.0
                for i in range(d):
                    nrm = nrm + W[i] * W[i]
                nrm = sqrt(nrm)
                if not (nrm > _FLOW and nrm < _FHIGH):
                    status = _gram_schmidt(W, d, k, NULL, acc, prod, logsum)
                else:
                    r = 1.0 / nrm
                    for i in range(d):
                        W[i] = W[i] * r
                    prod[0] = prod[0] * nrm
                    if prod[0] > _HIGH or prod[0] < _LOW:
                        logsum[0] = logsum[0] + log(prod[0])
                        prod[0] = 1.0
            else:
                status = _gram_schmidt(W, d, k, NULL, acc, prod, logsum)
            if status != _OK:
                fail_step[0] = s
                break
        if acc:
            until_sample -= 1
            if until_sample == 0:
                until_sample = sample_every
                m = (s - transient) // sample_every - 1
                for j in range(k):
                    running[m * k + j] = logsum[j] + log(prod[j])
    for j in range(k):
        logsum[j] = logsum[j] + log(prod[j])
    for i in range(d):
        xf[i] = x[i]
    free(work)
    return status


cdef inline double _norm2(const double *v, int64_t d) noexcept nogil:
    cdef double nrm2 = 0.0
    cdef int64_t i
    for i in range(d):
        nrm2 = nrm2 + v[i] * v[i]
    return nrm2


cdef inline void _lazy_logs(const double *v, int64_t d, int64_t v_exp, bint two, double det, int64_t det_exp,
                            double *out) noexcept nogil:
    """out[0] = log |v 2^v_exp|; with ``two``, out[1] = log(det 2^det_exp) - out[0]."""
    out[0] = v_exp * _LN2 + 0.5 * log(_norm2(v, d))
    if two:
        out[1] = det_exp * _LN2 + log(det) - out[0]


cdef int _map_lazy(tangent_fn tf, int64_t d, int64_t k, const double *x0, const double *p,
                   const double *q0, int64_t transient, int64_t steps, int64_t sample_every,
                   double escape, double *logsum, double *running, double *xf,
                   int64_t *fail_step) noexcept nogil:
    """The fast path for k = 1 (any d), and for k = d = 2.

    The maximal direction needs no renormalisation for its own sake (the
    tangent map is linear): the system's generated ``ds_tangent`` advances the
    state and v <- J v together, scaling v by powers of two only (exact), and
    log |v| is taken at samples and at the end. For k = d = 2 the second
    exponent follows from R_11 R_22 = |det J| (QR of the 2 x 2 tangent
    matrix): sum log R_22 = sum log |det J| - sum log R_11, the determinants
    multiplied into a product kept the same way. In exact arithmetic this is
    the QR method with renormalisation every step.
    """
    cdef double *work = <double *> malloc(2 * d * sizeof(double))
    cdef double *x
    cdef double *v
    cdef double r, det = 1.0
    cdef int64_t i, s, total = transient + steps, m, target, v_exp = 0, det_exp = 0
    cdef bint two = k == 2
    cdef int status = _OK, step_status = 0
    if work == NULL:
        return _NO_MEMORY
    x = work
    v = work + d
    for i in range(d):
        x[i] = x0[i]
        v[i] = q0[i]
    fail_step[0] = -1
    if not _inside(x, d, escape):
        status = _ESCAPED
        fail_step[0] = 0
    s = 0
    while status == _OK and s < total:
        # Run to the next event: the end of the transient, a sample, the end.
        if s < transient:
            target = transient
        elif sample_every > 0:
            target = transient + ((s - transient) // sample_every + 1) * sample_every
            if target > total:
                target = total
        else:
            target = total
        s += tf(x, p, v, target - s, escape, &v_exp, &det if two else NULL, &det_exp, &step_status)
        if step_status != 0:
            status = _ESCAPED if step_status == 1 else _TANGENT
            fail_step[0] = s
            break
        if s == transient:
            r = 1.0 / sqrt(_norm2(v, d))
            for i in range(d):
                v[i] = v[i] * r
            v_exp = 0
            det = 1.0
            det_exp = 0
        elif sample_every > 0 and (s - transient) % sample_every == 0:
            m = (s - transient) // sample_every - 1
            _lazy_logs(v, d, v_exp, two, det, det_exp, running + m * k)
    _lazy_logs(v, d, v_exp, two, det, det_exp, logsum)
    for i in range(d):
        xf[i] = x[i]
    free(work)
    return status


cdef int _map_transverse(rhs_fn f, jac_fn jf, rhs_fn g, bint has_level, int64_t d, const double *x0,
                         const double *p, int64_t transient, int64_t steps, int64_t sample_every,
                         double escape, bint reproject, double *logsum, double *running,
                         double *xf, int64_t *fail_step) noexcept nogil:
    """Transverse exponent: mean log |n(F x)^T J(x) n(x)| with n = grad G / |grad G|.

    ``g`` is the generated rhs of an auxiliary system on (x, pad): out[0:d] =
    the normal field (grad G), out[d] = G when ``has_level``. With
    ``reproject``, x moves by one Newton step x -= G grad G / |grad G|^2 onto
    G = 0 after every step (and by five before the first).
    """
    cdef double *work = <double *> malloc((6 * d + 4 + d * d) * sizeof(double))
    cdef double *x
    cdef double *xn
    cdef double *gx
    cdef double *gn
    cdef double *Jn
    cdef double *J
    cdef double *swap
    cdef double prod = 1.0, c, nx, nn, lev, q
    cdef int64_t i, l, s, total = transient + steps, it, m
    cdef int status = _OK
    if work == NULL:
        return _NO_MEMORY
    x = work
    xn = work + d + 1
    gx = work + 2 * d + 2
    gn = work + 3 * d + 3
    Jn = work + 4 * d + 4
    J = work + 5 * d + 4
    x[d] = 0.0
    xn[d] = 0.0
    for i in range(d):
        x[i] = x0[i]
    logsum[0] = 0.0
    fail_step[0] = -1
    g(x, p, gx)
    if has_level and reproject:
        for it in range(5):
            nx = 0.0
            for i in range(d):
                nx = nx + gx[i] * gx[i]
            if not (nx > 0.0):
                break
            lev = gx[d]
            for i in range(d):
                x[i] = x[i] - lev * gx[i] / nx
            g(x, p, gx)
    if not _inside(x, d, escape):
        status = _ESCAPED
        fail_step[0] = 0
    s = 0
    while status == _OK and s < total:
        jf(x, p, J)
        f(x, p, xn)
        s += 1
        if not _inside(xn, d, escape):
            status = _ESCAPED
            fail_step[0] = s
            break
        g(xn, p, gn)
        # Jn = J gx; c = gn . Jn / (|gn| |gx|)
        for i in range(d):
            q = 0.0
            for l in range(d):
                q = q + J[i * d + l] * gx[l]
            Jn[i] = q
        c = 0.0
        nx = 0.0
        nn = 0.0
        for i in range(d):
            c = c + gn[i] * Jn[i]
            nx = nx + gx[i] * gx[i]
            nn = nn + gn[i] * gn[i]
        if not (nx > 0.0 and nn > 0.0) or not isfinite(c):
            status = _TANGENT
            fail_step[0] = s
            break
        if has_level and reproject:
            lev = gn[d]
            for i in range(d):
                xn[i] = xn[i] - lev * gn[i] / nn
        swap = x; x = xn; xn = swap
        swap = gx; gx = gn; gn = swap
        if s > transient:
            c = fabs(c) / sqrt(nx * nn)
            if c == 0.0:
                status = _TANGENT
                fail_step[0] = s
                break
            if c > _FHIGH or c < _FLOW:
                logsum[0] = logsum[0] + log(c)
            else:
                prod = prod * c
                if prod > _HIGH or prod < _LOW:
                    logsum[0] = logsum[0] + log(prod)
                    prod = 1.0
            if sample_every > 0 and (s - transient) % sample_every == 0:
                m = (s - transient) // sample_every - 1
                running[m] = logsum[0] + log(prod)
    logsum[0] = logsum[0] + log(prod)
    for i in range(d):
        xf[i] = x[i]
    free(work)
    return status


cdef inline double _normal_rate(rhs_fn f, jac_fn jf, rhs_fn g, int64_t d, const double *p, const double *x,
                                double *J, double *gx, double *kx) noexcept nogil:
    """kx = f(x); returns n^T J n with n = g(x) / |g(x)| (the normal growth rate on G = 0)."""
    cdef int64_t i, l
    cdef double q, c = 0.0, nn = 0.0
    f(x, p, kx)
    jf(x, p, J)
    g(x, p, gx)
    for i in range(d):
        q = 0.0
        for l in range(d):
            q = q + J[i * d + l] * gx[l]
        c = c + gx[i] * q
        nn = nn + gx[i] * gx[i]
    return c / nn if nn > 0.0 else NAN


cdef int _flow_transverse(rhs_fn f, jac_fn jf, rhs_fn g, bint has_level, int64_t d, const double *x0,
                          const double *p, double h, int64_t transient, int64_t steps, int64_t sample_every,
                          double escape, bint reproject, double *logsum, double *running,
                          double *xf, int64_t *fail_step) noexcept nogil:
    """Transverse exponent of a flow: the time integral of n^T J n (n the unit normal) by RK4.

    On an invariant hypersurface the normal part of a perturbation grows at
    the rate n^T J n (the d/dt n term is tangent to the unit sphere), so the
    rate is integrated with the state as one more component. With
    ``reproject``, one Newton step onto G = 0 after every step.
    """
    cdef double *work = <double *> malloc((8 * (d + 1) + d * d) * sizeof(double))
    cdef double *x
    cdef double *xs
    cdef double *k1
    cdef double *k2
    cdef double *k3
    cdef double *k4
    cdef double *gx
    cdef double *J
    cdef double r1, r2, r3, r4, nn, lev, total_rate = 0.0
    cdef double h2 = 0.5 * h, h6 = h / 6.0
    cdef int64_t i, s, it, total = transient + steps, m, until_sample
    cdef int status = _OK
    if work == NULL:
        return _NO_MEMORY
    x = work
    xs = work + (d + 1)
    k1 = work + 2 * (d + 1)
    k2 = work + 3 * (d + 1)
    k3 = work + 4 * (d + 1)
    k4 = work + 5 * (d + 1)
    gx = work + 6 * (d + 1)
    J = work + 8 * (d + 1)
    x[d] = 0.0
    xs[d] = 0.0
    for i in range(d):
        x[i] = x0[i]
    logsum[0] = 0.0
    fail_step[0] = -1
    if has_level and reproject:
        for it in range(5):
            g(x, p, gx)
            nn = 0.0
            for i in range(d):
                nn = nn + gx[i] * gx[i]
            if not (nn > 0.0):
                break
            lev = gx[d]
            for i in range(d):
                x[i] = x[i] - lev * gx[i] / nn
    if not _inside(x, d, escape):
        status = _ESCAPED
        fail_step[0] = 0
    s = 0
    until_sample = sample_every if sample_every > 0 else -1
    while status == _OK and s < total:
        r1 = _normal_rate(f, jf, g, d, p, x, J, gx, k1)
        for i in range(d):
            xs[i] = x[i] + h2 * k1[i]
        r2 = _normal_rate(f, jf, g, d, p, xs, J, gx, k2)
        for i in range(d):
            xs[i] = x[i] + h2 * k2[i]
        r3 = _normal_rate(f, jf, g, d, p, xs, J, gx, k3)
        for i in range(d):
            xs[i] = x[i] + h * k3[i]
        r4 = _normal_rate(f, jf, g, d, p, xs, J, gx, k4)
        for i in range(d):
            x[i] = x[i] + h6 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i])
        s += 1
        if not _inside(x, d, escape) or not isfinite(r1 + r2 + r3 + r4):
            status = _ESCAPED if not _inside(x, d, escape) else _TANGENT
            fail_step[0] = s
            break
        if has_level and reproject:
            g(x, p, gx)
            nn = 0.0
            for i in range(d):
                nn = nn + gx[i] * gx[i]
            if nn > 0.0:
                lev = gx[d]
                for i in range(d):
                    x[i] = x[i] - lev * gx[i] / nn
        if s > transient:
            total_rate = total_rate + h6 * (r1 + 2.0 * (r2 + r3) + r4)
            until_sample -= 1
            if until_sample == 0:
                until_sample = sample_every
                m = (s - transient) // sample_every - 1
                running[m] = total_rate
    logsum[0] = total_rate
    for i in range(d):
        xf[i] = x[i]
    free(work)
    return status


cdef inline void _variational(rhs_fn f, jac_fn jf, int64_t d, int64_t k, const double *p,
                              const double *x, const double *W, double *J,
                              double *kx, double *kW) noexcept nogil:
    """(kx, kW) = (f(x), J(x) W): the right-hand side of the variational system."""
    f(x, p, kx)
    jf(x, p, J)
    _matmul(J, W, kW, d, k)


cdef int _flow_spectrum(rhs_fn f, jac_fn jf, int64_t d, int64_t k, const double *x0, const double *p,
                        const double *q0, double h, int64_t transient, int64_t steps, int64_t every,
                        int64_t sample_every, double escape, double *logsum, double *running,
                        double *xf, int64_t *fail_step) noexcept nogil:
    """RK4 on (x, W) with step h; QR every ``every`` steps; log sums over ``steps`` steps."""
    cdef int64_t n = d + d * k
    cdef double *work = <double *> malloc((7 * n + d * d + k) * sizeof(double))
    cdef double *y
    cdef double *ys
    cdef double *k1
    cdef double *k2
    cdef double *k3
    cdef double *k4
    cdef double *J
    cdef double *prod
    cdef double h2 = 0.5 * h, h6 = h / 6.0
    cdef int64_t i, j, s, total = transient + steps, since = 0, m
    cdef bint acc
    cdef int status = _OK
    if work == NULL:
        return _NO_MEMORY
    y = work
    ys = work + n
    k1 = work + 2 * n
    k2 = work + 3 * n
    k3 = work + 4 * n
    k4 = work + 5 * n
    J = work + 7 * n
    prod = J + d * d
    for i in range(d):
        y[i] = x0[i]
    for i in range(d * k):
        y[d + i] = q0[i]
    for j in range(k):
        prod[j] = 1.0
        logsum[j] = 0.0
    fail_step[0] = -1
    if not _inside(y, d, escape):
        status = _ESCAPED
        fail_step[0] = 0
    s = 0
    while status == _OK and s < total:
        _variational(f, jf, d, k, p, y, y + d, J, k1, k1 + d)
        for i in range(n):
            ys[i] = y[i] + h2 * k1[i]
        _variational(f, jf, d, k, p, ys, ys + d, J, k2, k2 + d)
        for i in range(n):
            ys[i] = y[i] + h2 * k2[i]
        _variational(f, jf, d, k, p, ys, ys + d, J, k3, k3 + d)
        for i in range(n):
            ys[i] = y[i] + h * k3[i]
        _variational(f, jf, d, k, p, ys, ys + d, J, k4, k4 + d)
        for i in range(n):
            y[i] = y[i] + h6 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i])
        s += 1
        if not _inside(y, d, escape):
            status = _ESCAPED
            fail_step[0] = s
            break
        acc = s > transient
        since += 1
        if since == every or s == transient or s == total:
            since = 0
            status = _gram_schmidt(y + d, d, k, NULL, acc, prod, logsum)
            if status != _OK:
                fail_step[0] = s
                break
        if acc and sample_every > 0 and (s - transient) % sample_every == 0:
            m = (s - transient) // sample_every - 1
            for j in range(k):
                running[m * k + j] = logsum[j] + log(prod[j])
    for j in range(k):
        logsum[j] = logsum[j] + log(prod[j])
    for i in range(d):
        xf[i] = y[i]
    free(work)
    return status


def spectrum_batch(uintptr_t rhs_address, uintptr_t jac_address, uintptr_t tangent_address,
                   cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] X,
                   cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] P,
                   cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] Q0,
                   int64_t transient, int64_t steps, int64_t every, int64_t sample_every,
                   double escape, double h, bint flow, int num_threads):
    """Log sums of the k tangent growth factors from every row of ``X``.

    Parameters
    ----------
    rhs_address, jac_address, tangent_address : int
        Addresses of the system's ``ds_rhs``, ``ds_jac`` and ``ds_tangent``
        (maps; unused for flows).
    X : (n, dim) float64
        Initial states.
    P : (n, npar) or (1, npar) float64
        Parameters per row, or one row for all.
    Q0 : (k, dim) float64
        Initial tangent vectors (rows), orthonormal.
    transient, steps : int
        Steps discarded, then steps measured.
    every : int
        Steps between QR renormalisations (>= 1).
    sample_every : int
        Steps between samples of the running log sums (0: none).
    escape : float
        An orbit with |x_i| >= escape (or not finite) has escaped.
    h : float
        The RK4 step (flows only).
    flow : bool
        Integrate the variational equations (True) or iterate the map (False).
    num_threads : int
        Threads across rows.

    Returns
    -------
    logsum : (n, k) float64
    running : (n, m, k) float64, m = steps // sample_every
    x_final : (n, dim) float64
    status : (n,) int8
    fail_step : (n,) int64, -1 where the row ran through
    """
    cdef rhs_fn f = <rhs_fn> rhs_address
    cdef jac_fn jf = <jac_fn> jac_address
    cdef tangent_fn tf = <tangent_fn> tangent_address
    cdef int64_t n = X.shape[0], d = X.shape[1], npar = P.shape[1], k = Q0.shape[0]
    cdef int64_t pstride = npar if P.shape[0] == n else 0
    cdef int64_t m = steps // sample_every if sample_every > 0 else 0
    cdef int64_t r
    if Q0.shape[1] != d or k < 1 or k > d:
        raise ValueError("Q0 must have shape (k, dim) with 1 <= k <= dim")
    if every < 1:
        raise ValueError("every must be positive")
    if npar == 0:
        pstride = 0
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] logsum = np.zeros((n, k))
    cdef cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] running = np.full((n, m, k), np.nan)
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] xf = np.empty((n, d))
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] fail = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return logsum, running, xf, status, fail
    cdef const double *xp = &X[0, 0]
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> xp
    cdef const double *qp = &Q0[0, 0]
    cdef double *lp = &logsum[0, 0]
    cdef double *rp = &running[0, 0, 0] if m > 0 else <double *> lp
    cdef double *fp = &xf[0, 0]
    cdef cnp.int8_t *sp = &status[0]
    cdef int64_t *failp = &fail[0]
    cdef bint is_flow = flow
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            if is_flow:
                sp[r] = <cnp.int8_t> _flow_spectrum(f, jf, d, k, xp + r * d, pp + r * pstride, qp, h,
                                                    transient, steps, every, sample_every, escape,
                                                    lp + r * k, rp + r * m * k, fp + r * d, failp + r)
            elif k == 1 or (k == 2 and d == 2):
                sp[r] = <cnp.int8_t> _map_lazy(tf, d, k, xp + r * d, pp + r * pstride, qp,
                                           transient, steps, sample_every, escape,
                                           lp + r * k, rp + r * m * k, fp + r * d, failp + r)
            else:
                sp[r] = <cnp.int8_t> _map_spectrum(f, jf, d, k, xp + r * d, pp + r * pstride, qp,
                                                   transient, steps, every, sample_every, escape,
                                                   lp + r * k, rp + r * m * k, fp + r * d, failp + r)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the Lyapunov work arrays")
    return logsum, running, xf, status, fail


def transverse_batch(uintptr_t rhs_address, uintptr_t jac_address, uintptr_t normal_address, bint has_level,
                     cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] X,
                     cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] P,
                     int64_t transient, int64_t steps, int64_t sample_every,
                     double escape, bint reproject, int num_threads, double h=0.0, bint flow=False):
    """Log sums of the transverse multipliers of a map (or rates of a flow) from every row of ``X``.

    ``normal_address`` is the ``ds_rhs`` of an auxiliary system on dim + 1
    variables (the last one ignored) whose first dim outputs are the normal
    field and, when ``has_level``, whose last output is G. Returns
    ``(logsum (n, 1), running (n, m, 1), x_final, status, fail_step)`` as
    :func:`spectrum_batch`. With ``flow``, the flow's rate is integrated by RK4 with step ``h``.
    """
    cdef rhs_fn f = <rhs_fn> rhs_address
    cdef jac_fn jf = <jac_fn> jac_address
    cdef rhs_fn g = <rhs_fn> normal_address
    cdef int64_t n = X.shape[0], d = X.shape[1], npar = P.shape[1]
    cdef int64_t pstride = npar if P.shape[0] == n else 0
    cdef int64_t m = steps // sample_every if sample_every > 0 else 0
    cdef int64_t r
    if npar == 0:
        pstride = 0
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] logsum = np.zeros((n, 1))
    cdef cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] running = np.full((n, m, 1), np.nan)
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] xf = np.empty((n, d))
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] fail = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return logsum, running, xf, status, fail
    cdef const double *xp = &X[0, 0]
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> xp
    cdef double *lp = &logsum[0, 0]
    cdef double *rp = &running[0, 0, 0] if m > 0 else <double *> lp
    cdef double *fp = &xf[0, 0]
    cdef cnp.int8_t *sp = &status[0]
    cdef int64_t *failp = &fail[0]
    cdef bint lev = has_level, rep = reproject, is_flow = flow
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            if is_flow:
                sp[r] = <cnp.int8_t> _flow_transverse(f, jf, g, lev, d, xp + r * d, pp + r * pstride, h, transient,
                                                      steps, sample_every, escape, rep, lp + r, rp + r * m,
                                                      fp + r * d, failp + r)
            else:
                sp[r] = <cnp.int8_t> _map_transverse(f, jf, g, lev, d, xp + r * d, pp + r * pstride, transient,
                                                 steps, sample_every, escape, rep, lp + r, rp + r * m,
                                                 fp + r * d, failp + r)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the Lyapunov work arrays")
    return logsum, running, xf, status, fail
