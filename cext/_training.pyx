# cython: language_level=3
"""Drivers for training small fully connected networks: gradient descent as a map on the weights.

A network is given by its layer sizes n_0, ..., n_L, one hidden activation
(sigmoid, tanh or relu; the output layer is affine) and a loss on the
outputs (softmax cross-entropy or squared error), both averaged over samples.
The parameters are one flat vector: for each layer l, W_l (n_{l+1} x n_l,
row-major), then b_l.

Everything runs without the GIL, one parameter vector (trajectory) per task,
tasks spread over threads with ``prange``:

- :func:`loss_grad`: loss and gradient;
- :func:`hvp`: gradient and exact Hessian-vector products H v_j for k vectors,
  by forward-over-reverse differentiation (Pearlmutter's R-operator): one
  forward and backward pass per sample, then one R-forward and R-backward
  pass per vector;
- :func:`train`: gradient descent (or SGD over fixed, contiguous batches),
  the loss after every step, optionally the distance to reference
  trajectories and snapshots of the weights;
- :func:`propagate`: a trajectory with tangent vectors, V <- (I - eta H) V,
  without renormalisation (the Jacobian-vector product of the map);
- :func:`lyapunov`: the same with modified Gram-Schmidt every step and the
  logarithms of the growth factors deferred (products flushed near over- and
  underflow).
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport exp, log, sqrt, fabs, isfinite, tanh
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memset, memcpy

cnp.import_array()

cdef extern from "_training_exp.h" nogil:
    double ds_exp_nonpositive(double x) noexcept
    void ds_sigmoid_block(const double *z, double *a, double *d1, double *d2, int64_t n) noexcept
    void ds_tanh_block(const double *z, double *a, double *d1, double *d2, int64_t n) noexcept
    double ds_softmax_block(const double *z, const double *y, int64_t ystride, double *p, double *sy, double *m,
                            double *t, int64_t nout, int64_t nb) noexcept

# Hidden activations and losses, as the Python layer numbers them.
SIGMOID = 0
TANH = 1
RELU = 2
CROSS_ENTROPY = 0
SQUARED = 1

# Status of one row.
OK = 0
DIVERGED = 1      # the weights or the loss stopped being finite (or left the box)
TANGENT = 2       # a tangent vector collapsed or overflowed
cdef int _OK = 0, _DIVERGED = 1, _TANGENT = 2, _NO_MEMORY = 3

cdef double _HIGH = 1e150, _LOW = 1e-150


cdef struct Net:
    int64_t L           # weight layers
    const int64_t *n    # sizes n_0 .. n_L
    const int64_t *wo   # offset of W_l in the parameters
    const int64_t *bo   # offset of b_l
    const int64_t *uo   # offset of the units of layer l + 1 in the unit buffers
    int64_t P           # parameters
    int64_t U           # units after the input (sum n_1 .. n_L)
    int act
    int loss


cdef struct Data:
    const double *X     # inputs, feature-major: (n_0, N), row j holds feature j of every sample
    const double *Y     # targets, feature-major: (n_L, N)
    int64_t N


# ---------------------------------------------------------------------------------------------- a batch of samples
#
# Activations are stored feature-major, one row of nb samples per unit, so the
# inner loops run over samples: independent, contiguous, vectorisable (axpy for
# the forward pass, dot products with four accumulators for the weight sums).

cdef struct Work:
    double *z       # pre-activations (U x nb); the output layer's are the logits / outputs
    double *a       # hidden activations (U x nb)
    double *d1      # sigma'(z) of hidden units
    double *d2      # sigma''(z) of hidden units
    double *d       # dL/dz (U x nb)
    double *ga      # dL/da of hidden units (U x nb)
    double *p       # softmax probabilities (n_L x nb)
    double *sy      # sum of the targets of each sample (nb)
    double *tmp     # per-sample scratch (nb)
    double *tmp2
    double *Rz
    double *Ra
    double *Rd
    int64_t nb      # samples in the current batch (row stride of the buffers)


cdef inline double _dot(const double *x, const double *y, int64_t n) noexcept nogil:
    """x . y with four independent partial sums (no serial dependency chain)."""
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef int64_t i = 0
    while i + 4 <= n:
        s0 = s0 + x[i] * y[i]
        s1 = s1 + x[i + 1] * y[i + 1]
        s2 = s2 + x[i + 2] * y[i + 2]
        s3 = s3 + x[i + 3] * y[i + 3]
        i += 4
    while i < n:
        s0 = s0 + x[i] * y[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


cdef inline double _sum(const double *x, int64_t n) noexcept nogil:
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef int64_t i = 0
    while i + 4 <= n:
        s0 = s0 + x[i]
        s1 = s1 + x[i + 1]
        s2 = s2 + x[i + 2]
        s3 = s3 + x[i + 3]
        i += 4
    while i < n:
        s0 = s0 + x[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


cdef inline void _axpy(double alpha, const double *x, double *y, int64_t n) noexcept nogil:
    cdef int64_t s
    for s in range(n):
        y[s] = y[s] + alpha * x[s]


cdef inline const double *_input(Net *net, Data *data, Work *w, int64_t l, int64_t j, int64_t lo) noexcept nogil:
    """Row j of the input of layer l: a feature of the data (l = 0) or a hidden activation."""
    if l == 0:
        return data.X + j * data.N + lo
    return w.a + (net.uo[l - 1] + j) * w.nb


cdef void _activate(int act, const double *z, double *a, double *d1, double *d2, int64_t n) noexcept nogil:
    """a = sigma(z) with its first and second derivatives, one loop per activation (no branch inside)."""
    cdef int64_t s
    cdef double v, e
    if act == 0:
        ds_sigmoid_block(z, a, d1, d2, n)   # in C: a loop gcc vectorises, exp included
    elif act == 1:
        ds_tanh_block(z, a, d1, d2, n)      # in C, vectorised, sech^2 without cancellation
    else:
        for s in range(n):
            v = z[s]
            a[s] = v if v > 0.0 else 0.0
            d1[s] = 1.0 if v > 0.0 else 0.0
            d2[s] = 0.0


cdef double _forward(Net *net, const double *theta, Data *data, int64_t lo, int64_t nb, Work *w) noexcept nogil:
    """Forward pass over samples lo .. lo + nb - 1; returns the summed loss and fills z, a, d1, d2 (and p, sy)."""
    cdef int64_t l, i, j, s, nin, nout, L = net.L, o
    cdef const double *W
    cdef const double *b
    cdef const double *y
    cdef double *z
    cdef double total = 0.0, m, e
    w.nb = nb
    for l in range(L):
        nin = net.n[l]
        nout = net.n[l + 1]
        W = theta + net.wo[l]
        b = theta + net.bo[l]
        for i in range(nout):
            o = (net.uo[l] + i) * nb
            z = w.z + o
            for s in range(nb):
                z[s] = b[i]
            for j in range(nin):
                _axpy(W[i * nin + j], _input(net, data, w, l, j, lo), z, nb)
            if l < L - 1:
                _activate(net.act, z, w.a + o, w.d1 + o, w.d2 + o, nb)
    nout = net.n[L]
    o = net.uo[L - 1] * nb
    if net.loss == 0:
        # Softmax cross-entropy per sample: -sum_c y_c log p_c = sy * logsumexp(z) - y . z.
        return ds_softmax_block(w.z + o, data.Y + lo, data.N, w.p, w.sy, w.tmp, w.tmp2, nout, nb)
    for i in range(nout):
        y = data.Y + i * data.N + lo
        for s in range(nb):
            e = w.z[o + i * nb + s] - y[s]
            total = total + 0.5 * e * e
    return total


cdef void _backward(Net *net, const double *theta, Data *data, int64_t lo, Work *w, double *grad) noexcept nogil:
    """Backward pass (after _forward): adds the summed gradient to grad, fills d and ga."""
    cdef int64_t l, i, j, s, nin, nout, L = net.L, nb = w.nb, o, op
    cdef const double *W
    cdef const double *y
    cdef double *gW
    cdef double *gb
    cdef double *g
    nout = net.n[L]
    o = net.uo[L - 1] * nb
    for i in range(nout):
        y = data.Y + i * data.N + lo
        if net.loss == 0:
            for s in range(nb):
                w.d[o + i * nb + s] = w.p[i * nb + s] * w.sy[s] - y[s]
        else:
            for s in range(nb):
                w.d[o + i * nb + s] = w.z[o + i * nb + s] - y[s]
    l = L - 1
    while l >= 0:
        nin = net.n[l]
        nout = net.n[l + 1]
        o = net.uo[l] * nb
        W = theta + net.wo[l]
        gW = grad + net.wo[l]
        gb = grad + net.bo[l]
        for i in range(nout):
            gb[i] = gb[i] + _sum(w.d + o + i * nb, nb)
            for j in range(nin):
                gW[i * nin + j] = gW[i * nin + j] + _dot(w.d + o + i * nb, _input(net, data, w, l, j, lo), nb)
        if l > 0:
            op = net.uo[l - 1] * nb
            for j in range(nin):
                g = w.ga + op + j * nb
                for s in range(nb):
                    g[s] = 0.0
                for i in range(nout):
                    _axpy(W[i * nin + j], w.d + o + i * nb, g, nb)
                for s in range(nb):
                    w.d[op + j * nb + s] = w.d1[op + j * nb + s] * g[s]
        l -= 1


cdef void _rpass(Net *net, const double *theta, const double *v, Data *data, int64_t lo, Work *w,
                 double *hv) noexcept nogil:
    """R-forward and R-backward along v (after _forward, _backward): adds the summed H v to hv."""
    cdef int64_t l, i, j, s, nin, nout, L = net.L, nb = w.nb, o, op
    cdef const double *W
    cdef const double *V
    cdef const double *Vb
    cdef double *hW
    cdef double *hb
    cdef double *rz
    cdef double *rd
    # R-forward: R{z_l} = V_l a_{l-1} + W_l R{a_{l-1}} + Vb_l, R{a_l} = sigma'(z_l) R{z_l}.
    for l in range(L):
        nin = net.n[l]
        nout = net.n[l + 1]
        W = theta + net.wo[l]
        V = v + net.wo[l]
        Vb = v + net.bo[l]
        for i in range(nout):
            o = (net.uo[l] + i) * nb
            rz = w.Rz + o
            for s in range(nb):
                rz[s] = Vb[i]
            for j in range(nin):
                _axpy(V[i * nin + j], _input(net, data, w, l, j, lo), rz, nb)
            if l > 0:
                op = net.uo[l - 1] * nb
                for j in range(nin):
                    _axpy(W[i * nin + j], w.Ra + op + j * nb, rz, nb)
            if l < L - 1:
                for s in range(nb):
                    w.Ra[o + s] = w.d1[o + s] * rz[s]
    # R{dL/dz_L}: the loss Hessian in the outputs times R{z_L}.
    nout = net.n[L]
    o = net.uo[L - 1] * nb
    if net.loss == 0:
        for s in range(nb):
            w.tmp[s] = 0.0
        for i in range(nout):
            for s in range(nb):
                w.tmp[s] = w.tmp[s] + w.p[i * nb + s] * w.Rz[o + i * nb + s]
        for i in range(nout):
            for s in range(nb):
                w.Rd[o + i * nb + s] = w.sy[s] * w.p[i * nb + s] * (w.Rz[o + i * nb + s] - w.tmp[s])
    else:
        for s in range(nout * nb):
            w.Rd[o + s] = w.Rz[o + s]
    # R-backward.
    l = L - 1
    while l >= 0:
        nin = net.n[l]
        nout = net.n[l + 1]
        o = net.uo[l] * nb
        W = theta + net.wo[l]
        V = v + net.wo[l]
        hW = hv + net.wo[l]
        hb = hv + net.bo[l]
        for i in range(nout):
            hb[i] = hb[i] + _sum(w.Rd + o + i * nb, nb)
            for j in range(nin):
                hW[i * nin + j] = hW[i * nin + j] + _dot(w.Rd + o + i * nb, _input(net, data, w, l, j, lo), nb)
            if l > 0:
                op = net.uo[l - 1] * nb
                for j in range(nin):
                    hW[i * nin + j] = hW[i * nin + j] + _dot(w.d + o + i * nb, w.Ra + op + j * nb, nb)
        if l > 0:
            op = net.uo[l - 1] * nb
            for j in range(nin):
                rd = w.Rd + op + j * nb
                for s in range(nb):
                    rd[s] = 0.0
                for i in range(nout):
                    _axpy(V[i * nin + j], w.d + o + i * nb, rd, nb)
                    _axpy(W[i * nin + j], w.Rd + o + i * nb, rd, nb)
                for s in range(nb):
                    rd[s] = w.d2[op + j * nb + s] * w.Rz[op + j * nb + s] * w.ga[op + j * nb + s] + w.d1[op + j * nb + s] * rd[s]
        l -= 1


# ---------------------------------------------------------------------------------------------- losses, gradients, HVPs

cdef double *_work_alloc(Net *net, int64_t N, Work *w) noexcept nogil:
    """Work arrays for batches of up to N samples (one block; free the returned pointer)."""
    cdef int64_t U = net.U * N
    cdef double *buf = <double *> malloc((10 * U + net.n[net.L] * N + 3 * N + 1) * sizeof(double))
    if buf == NULL:
        return NULL
    w.z = buf
    w.a = buf + U
    w.d1 = buf + 2 * U
    w.d2 = buf + 3 * U
    w.d = buf + 4 * U
    w.ga = buf + 5 * U
    w.Rz = buf + 6 * U
    w.Ra = buf + 7 * U
    w.Rd = buf + 8 * U
    w.p = buf + 9 * U
    w.sy = w.p + net.n[net.L] * N
    w.tmp = w.sy + N
    w.tmp2 = w.tmp + N
    w.nb = N
    return buf


cdef double _loss(Net *net, const double *theta, Data *data, int64_t lo, int64_t hi, Work *w) noexcept nogil:
    """Mean loss over samples lo..hi-1."""
    return _forward(net, theta, data, lo, hi - lo, w) / (hi - lo)


cdef double _loss_grad(Net *net, const double *theta, Data *data, int64_t lo, int64_t hi, Work *w,
                       double *grad) noexcept nogil:
    """Mean loss and its gradient (into grad) over samples lo..hi-1."""
    cdef int64_t i
    cdef double total, inv = 1.0 / (hi - lo)
    memset(grad, 0, net.P * sizeof(double))
    total = _forward(net, theta, data, lo, hi - lo, w)
    _backward(net, theta, data, lo, w, grad)
    for i in range(net.P):
        grad[i] = grad[i] * inv
    return total * inv


cdef double _loss_grad_hvp(Net *net, const double *theta, Data *data, int64_t lo, int64_t hi, Work *w,
                           const double *V, int64_t k, double *grad, double *HV) noexcept nogil:
    """Mean loss, gradient and H v_j for the k rows of V (into HV, k x P), over samples lo..hi-1."""
    cdef int64_t i, j, P = net.P
    cdef double total, inv = 1.0 / (hi - lo)
    memset(grad, 0, P * sizeof(double))
    memset(HV, 0, k * P * sizeof(double))
    total = _forward(net, theta, data, lo, hi - lo, w)
    _backward(net, theta, data, lo, w, grad)
    for j in range(k):
        _rpass(net, theta, V + j * P, data, lo, w, HV + j * P)
    for i in range(P):
        grad[i] = grad[i] * inv
    for i in range(k * P):
        HV[i] = HV[i] * inv
    return total * inv


cdef inline void _batch_bounds(int64_t t, int64_t N, int64_t B, int64_t *lo, int64_t *hi) noexcept nogil:
    """Samples of the batch used at step t (batches of B consecutive samples, in a fixed cyclic order)."""
    cdef int64_t nb = (N + B - 1) // B
    cdef int64_t b = t % nb
    lo[0] = b * B
    hi[0] = b * B + B if b * B + B < N else N


cdef inline bint _finite(const double *x, int64_t n, double bound) noexcept nogil:
    cdef int64_t i
    for i in range(n):
        if not (fabs(x[i]) < bound):
            return False
    return True


# ---------------------------------------------------------------------------------------------- per-row drivers

cdef int _hvp_row(Net *net, Data *data, const double *theta, const double *V, int64_t k, double *loss,
                  double *grad, double *HV) noexcept nogil:
    """Loss, gradient and (k > 0) Hessian-vector products over all samples, with work arrays of its own."""
    cdef Work w
    cdef double *buf = _work_alloc(net, data.N, &w)
    if buf == NULL:
        return _NO_MEMORY
    if k > 0:
        loss[0] = _loss_grad_hvp(net, theta, data, 0, data.N, &w, V, k, grad, HV)
    else:
        loss[0] = _loss_grad(net, theta, data, 0, data.N, &w, grad)
    free(buf)
    return _OK


cdef int _train_row(Net *net, Data *data, double *theta, double eta, int64_t steps, int64_t B, double bound,
                    double *losses, const double *ref, int norm, double *dist, double *snaps,
                    int64_t snap_every, int64_t *fail) noexcept nogil:
    cdef Work w
    cdef int64_t P = net.P, t, i, lo, hi, N = data.N
    cdef double *buf = _work_alloc(net, data.N, &w)
    cdef double *grad = <double *> malloc(P * sizeof(double))
    cdef double loss, s, e
    cdef int status = _OK
    if buf == NULL or grad == NULL:
        free(buf)
        free(grad)
        return _NO_MEMORY
    fail[0] = -1
    for t in range(steps + 1):
        if dist != NULL:
            s = 0.0
            for i in range(P):
                e = theta[i] - ref[t * P + i]
                s = s + (fabs(e) if norm == 1 else e * e)
            dist[t] = s if norm == 1 else sqrt(s)
        if snaps != NULL and t % snap_every == 0:
            memcpy(snaps + (t // snap_every) * P, theta, P * sizeof(double))
        if t == steps:
            losses[t] = _loss(net, theta, data, 0, N, &w)
            break
        _batch_bounds(t, N, B, &lo, &hi)
        loss = _loss_grad(net, theta, data, lo, hi, &w, grad)
        if hi - lo < N:
            loss = _loss(net, theta, data, 0, N, &w)   # the curve shows the loss on all the data
        losses[t] = loss
        for i in range(P):
            theta[i] = theta[i] - eta * grad[i]
        if not isfinite(loss) or not _finite(theta, P, bound):
            status = _DIVERGED
            fail[0] = t + 1
            break
    free(buf)
    free(grad)
    return status


cdef int _propagate_row(Net *net, Data *data, double *theta, double *V, int64_t k, double eta, int64_t steps,
                        int64_t B, int64_t *fail) noexcept nogil:
    cdef Work w
    cdef int64_t P = net.P, t, i, lo, hi
    cdef double *buf = _work_alloc(net, data.N, &w)
    cdef double *grad = <double *> malloc(P * (k + 1) * sizeof(double))
    cdef double *HV
    cdef int status = _OK
    if buf == NULL or grad == NULL:
        free(buf)
        free(grad)
        return _NO_MEMORY
    HV = grad + P
    fail[0] = -1
    for t in range(steps):
        _batch_bounds(t, data.N, B, &lo, &hi)
        _loss_grad_hvp(net, theta, data, lo, hi, &w, V, k, grad, HV)
        for i in range(P * k):
            V[i] = V[i] - eta * HV[i]
        for i in range(P):
            theta[i] = theta[i] - eta * grad[i]
        if not _finite(theta, P, 1e300) or not _finite(V, P * k, 1e300):
            status = _DIVERGED
            fail[0] = t + 1
            break
    free(buf)
    free(grad)
    return status


cdef int _gram_schmidt(double *Q, int64_t P, int64_t k, bint accumulate, double *prod,
                       double *logsum) noexcept nogil:
    """Orthonormalise the rows of Q (modified Gram-Schmidt); fold the norms R_jj into prod / logsum."""
    cdef int64_t i, j, l
    cdef double r, nrm
    for j in range(k):
        for l in range(j):
            r = 0.0
            for i in range(P):
                r = r + Q[l * P + i] * Q[j * P + i]
            for i in range(P):
                Q[j * P + i] = Q[j * P + i] - r * Q[l * P + i]
        nrm = 0.0
        for i in range(P):
            nrm = nrm + Q[j * P + i] * Q[j * P + i]
        nrm = sqrt(nrm)
        if not (nrm > 0.0) or not isfinite(nrm):
            return _TANGENT
        r = 1.0 / nrm
        for i in range(P):
            Q[j * P + i] = Q[j * P + i] * r
        if accumulate:
            prod[j] = prod[j] * nrm
            if prod[j] > _HIGH or prod[j] < _LOW:
                logsum[j] = logsum[j] + log(prod[j])
                prod[j] = 1.0
    return _OK


cdef int _lyapunov_row(Net *net, Data *data, double *theta, const double *Q0, int64_t k, double eta,
                       int64_t transient, int64_t steps, int64_t B, int64_t sample_every, double *logsum,
                       double *running, int64_t *fail) noexcept nogil:
    cdef Work w
    cdef int64_t P = net.P, t, i, j, lo, hi, total = transient + steps, m
    cdef double *buf = _work_alloc(net, data.N, &w)
    cdef double *grad = <double *> malloc((P * (2 * k + 1) + k) * sizeof(double))
    cdef double *HV
    cdef double *Q
    cdef double *prod
    cdef bint acc
    cdef int status = _OK
    if buf == NULL or grad == NULL:
        free(buf)
        free(grad)
        return _NO_MEMORY
    HV = grad + P
    Q = HV + P * k
    prod = Q + P * k
    memcpy(Q, Q0, P * k * sizeof(double))
    for j in range(k):
        prod[j] = 1.0
        logsum[j] = 0.0
    fail[0] = -1
    for t in range(total):
        _batch_bounds(t, data.N, B, &lo, &hi)
        _loss_grad_hvp(net, theta, data, lo, hi, &w, Q, k, grad, HV)
        for i in range(P * k):
            Q[i] = Q[i] - eta * HV[i]
        for i in range(P):
            theta[i] = theta[i] - eta * grad[i]
        if not _finite(theta, P, 1e300):
            status = _DIVERGED
            fail[0] = t + 1
            break
        acc = t >= transient
        status = _gram_schmidt(Q, P, k, acc, prod, logsum)
        if status != _OK:
            fail[0] = t + 1
            break
        if acc and sample_every > 0 and (t + 1 - transient) % sample_every == 0:
            m = (t + 1 - transient) // sample_every - 1
            for j in range(k):
                running[m * k + j] = logsum[j] + log(prod[j])
    for j in range(k):
        logsum[j] = logsum[j] + log(prod[j])
    free(buf)
    free(grad)
    return status


# ---------------------------------------------------------------------------------------------- Python entry points

cdef class _Spec:
    """Layer sizes and offsets kept alive while the nogil loops use pointers into them."""
    cdef int64_t[::1] n, wo, bo, uo
    cdef Net net

    def __init__(self, sizes, int act, int loss):
        sizes = np.ascontiguousarray(sizes, dtype=np.int64)
        L = sizes.shape[0] - 1
        if L < 1 or (sizes < 1).any():
            raise ValueError("a network needs at least two layers of positive size")
        wo = np.empty(L, dtype=np.int64)
        bo = np.empty(L, dtype=np.int64)
        uo = np.empty(L, dtype=np.int64)
        p = 0
        u = 0
        for l in range(L):
            wo[l] = p
            p += sizes[l] * sizes[l + 1]
            bo[l] = p
            p += sizes[l + 1]
            uo[l] = u
            u += sizes[l + 1]
        self.n = sizes
        self.wo = wo
        self.bo = bo
        self.uo = uo
        self.net.L = L
        self.net.n = &self.n[0]
        self.net.wo = &self.wo[0]
        self.net.bo = &self.bo[0]
        self.net.uo = &self.uo[0]
        self.net.P = p
        self.net.U = u
        self.net.act = act
        self.net.loss = loss


cdef class _Samples:
    """The data transposed to feature-major rows (kept alive while the loops read them), for one network."""
    cdef cnp.ndarray Xt, Yt
    cdef Data data
    cdef readonly _Spec spec

    def __init__(self, _Spec spec, cnp.ndarray[cnp.float64_t, ndim=2] X, cnp.ndarray[cnp.float64_t, ndim=2] Y):
        if X.shape[1] != spec.net.n[0] or Y.shape[1] != spec.net.n[spec.net.L] or X.shape[0] != Y.shape[0]:
            raise ValueError("X must be (N, n_0) and Y (N, n_L)")
        if X.shape[0] < 1:
            raise ValueError("no samples")
        self.Xt = np.ascontiguousarray(X.T, dtype=np.float64)
        self.Yt = np.ascontiguousarray(Y.T, dtype=np.float64)
        self.data.X = <const double *> cnp.PyArray_DATA(self.Xt)
        self.data.Y = <const double *> cnp.PyArray_DATA(self.Yt)
        self.data.N = X.shape[0]
        self.spec = spec


cdef Data _checked(_Spec spec, _Samples samples) except *:
    if samples.spec is not spec:
        raise ValueError("the samples were prepared for another network")
    return samples.data


def n_params(sizes):
    """Number of parameters of a network with these layer sizes."""
    return int(_Spec(sizes, 0, 0).net.P)


def loss_grad(_Spec spec, _Samples samples, cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] theta,
              int num_threads):
    """Mean loss (n,) and gradient (n, P) at every row of ``theta``, over all samples."""
    cdef Data data = _checked(spec, samples)
    cdef int64_t n = theta.shape[0], P = spec.net.P, r
    if theta.shape[1] != P:
        raise ValueError(f"theta must have {P} columns")
    cdef cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] L = np.empty(n)
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] G = np.empty((n, P))
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    cdef double *tp = &theta[0, 0] if n > 0 else NULL
    cdef double *lp = &L[0] if n > 0 else NULL
    cdef double *gp = &G[0, 0] if n > 0 else NULL
    cdef cnp.int8_t *sp = &status[0] if n > 0 else NULL
    cdef Net *net = &spec.net
    num_threads = max(1, min(num_threads, n))   # one row: no thread team to wake
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            sp[r] = <cnp.int8_t> _hvp_row(net, &data, tp + r * P, NULL, 0, lp + r, gp + r * P, NULL)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the training work arrays")
    return L, G


def hvp(_Spec spec, _Samples samples, cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] theta,
        cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] V,
        int num_threads):
    """Loss (n,), gradient (n, P) and Hessian-vector products (n, k, P) for V of shape (n, k, P)."""
    cdef Data data = _checked(spec, samples)
    cdef int64_t n = theta.shape[0], P = spec.net.P, k = V.shape[1], r
    if theta.shape[1] != P or V.shape[0] != n or V.shape[2] != P:
        raise ValueError(f"theta must be (n, {P}) and V (n, k, {P})")
    cdef cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] L = np.empty(n)
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] G = np.empty((n, P))
    cdef cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] HV = np.empty((n, k, P))
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    if n == 0 or k == 0:
        return L, G, HV
    cdef double *tp = &theta[0, 0]
    cdef double *vp = &V[0, 0, 0]
    cdef double *lp = &L[0]
    cdef double *gp = &G[0, 0]
    cdef double *hp = &HV[0, 0, 0]
    cdef cnp.int8_t *sp = &status[0]
    cdef Net *net = &spec.net
    num_threads = max(1, min(num_threads, n))   # one row: no thread team to wake
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            sp[r] = <cnp.int8_t> _hvp_row(net, &data, tp + r * P, vp + r * k * P, k, lp + r, gp + r * P,
                                          hp + r * k * P)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the training work arrays")
    return L, G, HV


def train(_Spec spec, _Samples samples, cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] theta0,
          cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] eta,
          int64_t steps, int64_t batch, double bound,
          cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] ref, cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] ref_index,
          int norm, int64_t snap_every, int num_threads):
    """Train every row of ``theta0`` for ``steps`` steps with learning rate ``eta[row]``.

    Parameters
    ----------
    theta0 : (n, P)
    eta : (n,)
    steps, batch : int
        Steps, and samples per batch (batch >= N is full-batch gradient descent).
    bound : float
        A row has diverged once some |theta_i| >= bound or the loss is not finite.
    ref : (m, steps + 1, P)
        Reference trajectories (m may be 0); row r measures its distance to
        ``ref[ref_index[r]]`` after every step, in the L1 (norm 1) or L2 (norm 2) norm.
    snap_every : int
        Keep theta every ``snap_every`` steps (0: none).

    Returns
    -------
    losses : (n, steps + 1), NaN after a divergence
    theta : (n, P) the final weights (those that failed the check, for a diverged row)
    dist : (n, steps + 1) or None
    snaps : (n, steps // snap_every + 1, P) or None
    status : (n,) int8
    fail : (n,) int64, the step at which a row diverged (-1: it ran through)
    """
    cdef Data data = _checked(spec, samples)
    cdef int64_t n = theta0.shape[0], P = spec.net.P, r, m = ref.shape[0]
    cdef int64_t nsnap = steps // snap_every + 1 if snap_every > 0 else 0
    if theta0.shape[1] != P or eta.shape[0] != n:
        raise ValueError(f"theta0 must be (n, {P}) and eta (n,)")
    if steps < 0 or batch < 1:
        raise ValueError("steps must be >= 0 and batch >= 1")
    if m > 0 and (ref.shape[1] != steps + 1 or ref.shape[2] != P or ref_index.shape[0] != n
                  or (ref_index < 0).any() or (ref_index >= m).any()):
        raise ValueError("ref must be (m, steps + 1, P) with ref_index (n,) in [0, m)")
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] theta = theta0.copy()
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] losses = np.full((n, steps + 1), np.nan)
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] dist = np.full((n, steps + 1), np.nan) if m > 0 else np.empty((1, 1))
    cdef cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] snaps = (np.full((n, nsnap, P), np.nan) if nsnap > 0
                                                               else np.empty((1, 1, 1)))
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] fail = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return losses, theta, (dist if m > 0 else None), (snaps if nsnap > 0 else None), status, fail
    cdef double *tp = &theta[0, 0]
    cdef double *ep = &eta[0]
    cdef double *lp = &losses[0, 0]
    cdef double *dp = &dist[0, 0]
    cdef double *snp = &snaps[0, 0, 0]
    cdef double *rp = &ref[0, 0, 0] if m > 0 else NULL
    cdef int64_t *ip = &ref_index[0] if m > 0 else NULL
    cdef cnp.int8_t *sp = &status[0]
    cdef int64_t *fp = &fail[0]
    cdef Net *net = &spec.net
    cdef int64_t T = steps + 1
    num_threads = max(1, min(num_threads, n))   # one row: no thread team to wake
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            sp[r] = <cnp.int8_t> _train_row(net, &data, tp + r * P, ep[r], steps, batch, bound, lp + r * T,
                                            rp + ip[r] * T * P if m > 0 else NULL, norm,
                                            dp + r * T if m > 0 else NULL,
                                            snp + r * nsnap * P if nsnap > 0 else NULL, snap_every, fp + r)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the training work arrays")
    return losses, theta, (dist if m > 0 else None), (snaps if nsnap > 0 else None), status, fail


def propagate(_Spec spec, _Samples samples, cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] theta0,
              cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] V0, cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] eta,
              int64_t steps, int64_t batch, int num_threads):
    """Advance theta (n, P) and tangent vectors V (n, k, P) by ``steps`` steps: V <- (I - eta H) V, no renormalisation.

    Returns ``(theta, V, status, fail)``.
    """
    cdef Data data = _checked(spec, samples)
    cdef int64_t n = theta0.shape[0], P = spec.net.P, k = V0.shape[1], r
    if theta0.shape[1] != P or V0.shape[0] != n or V0.shape[2] != P or eta.shape[0] != n:
        raise ValueError(f"theta0 must be (n, {P}), V0 (n, k, {P}) and eta (n,)")
    if steps < 0 or batch < 1:
        raise ValueError("steps must be >= 0 and batch >= 1")
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] theta = theta0.copy()
    cdef cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] V = V0.copy()
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] fail = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return theta, V, status, fail
    cdef double *tp = &theta[0, 0]
    cdef double *vp = &V[0, 0, 0] if k > 0 else NULL
    cdef double *ep = &eta[0]
    cdef cnp.int8_t *sp = &status[0]
    cdef int64_t *fp = &fail[0]
    cdef Net *net = &spec.net
    num_threads = max(1, min(num_threads, n))   # one row: no thread team to wake
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            sp[r] = <cnp.int8_t> _propagate_row(net, &data, tp + r * P, vp + r * k * P, k, ep[r], steps, batch,
                                                fp + r)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the training work arrays")
    return theta, V, status, fail


def lyapunov(_Spec spec, _Samples samples, cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] theta0,
             cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] Q0, cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] eta,
             int64_t transient, int64_t steps, int64_t batch, int64_t sample_every, int num_threads):
    """Log growth of k tangent vectors (QR every step) along the trajectory from every row of ``theta0``.

    Parameters
    ----------
    Q0 : (k, P) orthonormal rows, the initial tangent vectors of every row.
    transient, steps : steps discarded, then steps measured.
    sample_every : steps between samples of the running log sums (0: none).

    Returns
    -------
    logsum : (n, k) sum over the measured steps of log R_jj
    running : (n, steps // sample_every, k) the cumulative log sums at the samples
    theta : (n, P) the final weights
    status : (n,) int8
    fail : (n,) int64
    """
    cdef Data data = _checked(spec, samples)
    cdef int64_t n = theta0.shape[0], P = spec.net.P, k = Q0.shape[0], r
    cdef int64_t m = steps // sample_every if sample_every > 0 else 0
    if theta0.shape[1] != P or Q0.shape[1] != P or eta.shape[0] != n or k < 1 or k > P:
        raise ValueError(f"theta0 must be (n, {P}), Q0 (k, {P}) with 1 <= k <= {P}, eta (n,)")
    if steps < 1 or transient < 0 or batch < 1:
        raise ValueError("steps must be >= 1, transient >= 0 and batch >= 1")
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] theta = theta0.copy()
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] logsum = np.zeros((n, k))
    cdef cnp.ndarray[cnp.float64_t, ndim=3, mode="c"] running = np.full((n, m, k), np.nan)
    cdef cnp.ndarray[cnp.int8_t, ndim=1, mode="c"] status = np.zeros(n, dtype=np.int8)
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] fail = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return logsum, running, theta, status, fail
    cdef double *tp = &theta[0, 0]
    cdef double *qp = &Q0[0, 0]
    cdef double *ep = &eta[0]
    cdef double *lp = &logsum[0, 0]
    cdef double *rp = &running[0, 0, 0] if m > 0 else NULL
    cdef cnp.int8_t *sp = &status[0]
    cdef int64_t *fp = &fail[0]
    cdef Net *net = &spec.net
    num_threads = max(1, min(num_threads, n))   # one row: no thread team to wake
    with nogil:
        for r in prange(n, schedule="dynamic", num_threads=num_threads):
            sp[r] = <cnp.int8_t> _lyapunov_row(net, &data, tp + r * P, qp, k, ep[r], transient, steps, batch,
                                               sample_every, lp + r * k, rp + r * m * k if m > 0 else NULL,
                                               fp + r)
    if (status == _NO_MEMORY).any():
        raise MemoryError("cannot allocate the training work arrays")
    return logsum, running, theta, status, fail


def exp_nonpositive(cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] x):
    """The kernels' exp for x <= 0, elementwise (exposed for testing its accuracy)."""
    cdef cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] out = np.empty_like(x)
    cdef int64_t i
    for i in range(x.shape[0]):
        out[i] = ds_exp_nonpositive(x[i])
    return out


def tanh_block(cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] x):
    """The kernels' tanh and its derivative 1 - tanh^2, elementwise (exposed for testing their accuracy)."""
    cdef int64_t n = x.shape[0]
    cdef cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] a = np.empty(n), d1 = np.empty(n), d2 = np.empty(n)
    if n > 0:
        ds_tanh_block(&x[0], &a[0], &d1[0], &d2[0], n)
    return a, d1
