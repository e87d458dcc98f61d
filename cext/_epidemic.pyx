# cython: language_level=3
"""Stochastic epidemics on networks in CSR form, and random graphs built straight to CSR.

Continuous time (exact, event-driven)
    SIR and SIS with rate tau_u * w_uv of transmission along each edge from an
    infected node u to a susceptible neighbour v and rate gamma_u of recovery.
    Each node holds one pending event in an indexed binary min-heap: its
    recovery time while infected, its earliest scheduled infection time while
    susceptible. When u is infected at time t, it draws its recovery time
    r_u = t + Exp(gamma_u) and, for each susceptible neighbour v, a
    transmission time c = t + Exp(tau_u w_uv); if c < r_u and c is earlier
    than v's pending infection, v's key is decreased to c. By the memoryless
    property this samples the Markov process exactly (Kiss, Miller & Simon,
    *Mathematics of Epidemics on Networks*, Springer 2017, ch. 4 and app. A.1).
    SIS: a recovered node becomes susceptible again and draws, for each
    infected neighbour u, a fresh time t + Exp(tau_u w_uv) kept if before r_u
    (the transmissions along an edge form a Poisson process while u is
    infected, so a fresh draw from now is exact).

Discrete time SIR
    At each step every infected node infects each susceptible neighbour with
    probability p (independently) and then recovers with probability q; the
    newly infected are infectious from the next step (q = 1: Reed-Frost).

Random numbers: xoshiro256** (Blackman & Vigna 2018) seeded per run from
(seed, run index) with splitmix64, so run r gives the same result whatever the
number of threads or the chunking of an ensemble.

Graphs: G(n, p) by geometric skipping over the node pairs (V. Batagelj and U.
Brandes, Phys. Rev. E 71, 036113, 2005), and the configuration model by a
uniform pairing of stubs (Fisher-Yates shuffle), self-loops and repeated
edges erased; both written straight into CSR arrays.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t
from libc.stdlib cimport malloc, free, realloc, qsort
from libc.string cimport memset
from libc.math cimport log, log1p, floor, INFINITY

cnp.import_array()

MODEL_SIR = 0
MODEL_SIS = 1

cdef enum:
    SIR_CODE = 0
    SIS_CODE = 1

cdef enum:
    SUSCEPTIBLE = 0
    INFECTED = 1
    RECOVERED = 2


# ---- random numbers ----------------------------------------------------------------------------------
cdef struct Rng:
    uint64_t s0, s1, s2, s3


cdef inline uint64_t _rotl(uint64_t x, int k) noexcept nogil:
    return (x << k) | (x >> (64 - k))


cdef inline uint64_t _splitmix(uint64_t *state) noexcept nogil:
    state[0] += <uint64_t>0x9E3779B97F4A7C15ULL
    cdef uint64_t z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline void _seed(Rng *r, uint64_t seed, uint64_t stream) noexcept nogil:
    cdef uint64_t st = seed * <uint64_t>0xD1342543DE82EF95ULL + stream * <uint64_t>0x9E3779B97F4A7C15ULL + stream
    st ^= _splitmix(&st)
    r.s0 = _splitmix(&st)
    r.s1 = _splitmix(&st)
    r.s2 = _splitmix(&st)
    r.s3 = _splitmix(&st)


cdef inline uint64_t _next(Rng *r) noexcept nogil:
    cdef uint64_t result = _rotl(r.s1 * 5, 7) * 9
    cdef uint64_t t = r.s1 << 17
    r.s2 ^= r.s0
    r.s3 ^= r.s1
    r.s1 ^= r.s2
    r.s0 ^= r.s3
    r.s2 ^= t
    r.s3 = _rotl(r.s3, 45)
    return result


cdef inline double _uniform(Rng *r) noexcept nogil:
    """Uniform on (0, 1]."""
    return ((_next(r) >> 11) + 1) * (1.0 / 9007199254740992.0)


cdef inline double _exponential(Rng *r, double rate) noexcept nogil:
    return -log(_uniform(r)) / rate


cdef inline int64_t _below(Rng *r, int64_t n) noexcept nogil:
    """Uniform integer in [0, n) (n < 2^53)."""
    return <int64_t>((_next(r) >> 11) * (1.0 / 9007199254740992.0) * n)


# ---- indexed binary min-heap of nodes keyed by their next event time -----------------------------------
cdef struct Heap:
    int32_t size
    int32_t *node      # heap position -> node
    int32_t *pos       # node -> heap position, -1 if absent
    double *key        # node -> key


cdef inline void _swap(Heap *h, int32_t i, int32_t j) noexcept nogil:
    cdef int32_t a = h.node[i], b = h.node[j]
    h.node[i] = b
    h.node[j] = a
    h.pos[b] = i
    h.pos[a] = j


cdef inline void _sift_up(Heap *h, int32_t i) noexcept nogil:
    cdef int32_t parent
    while i > 0:
        parent = (i - 1) >> 1
        if h.key[h.node[parent]] <= h.key[h.node[i]]:
            break
        _swap(h, i, parent)
        i = parent


cdef inline void _sift_down(Heap *h, int32_t i) noexcept nogil:
    cdef int32_t left, right, smallest
    while True:
        left = 2 * i + 1
        if left >= h.size:
            break
        right = left + 1
        smallest = left
        if right < h.size and h.key[h.node[right]] < h.key[h.node[left]]:
            smallest = right
        if h.key[h.node[i]] <= h.key[h.node[smallest]]:
            break
        _swap(h, i, smallest)
        i = smallest


cdef inline void _schedule(Heap *h, int32_t v, double t) noexcept nogil:
    """Set v's key to t: insert it, or move it up (t is never later than a present key)."""
    h.key[v] = t
    if h.pos[v] < 0:
        h.node[h.size] = v
        h.pos[v] = h.size
        h.size += 1
    _sift_up(h, h.pos[v])


cdef inline int32_t _pop(Heap *h) noexcept nogil:
    cdef int32_t top = h.node[0]
    h.size -= 1
    h.pos[top] = -1
    if h.size > 0:
        h.node[0] = h.node[h.size]
        h.pos[h.node[0]] = 0
        _sift_down(h, 0)
    return top


# ---- one continuous-time run ------------------------------------------------------------------------------
cdef struct Work:
    int8_t *status
    double *recovery
    int32_t *heap_node
    int32_t *heap_pos
    double *key


cdef int _alloc_work(Work *w, int64_t n) noexcept nogil:
    w.status = <int8_t *> malloc(n * sizeof(int8_t))
    w.recovery = <double *> malloc(n * sizeof(double))
    w.heap_node = <int32_t *> malloc(n * sizeof(int32_t))
    w.heap_pos = <int32_t *> malloc(n * sizeof(int32_t))
    w.key = <double *> malloc(n * sizeof(double))
    if w.status == NULL or w.recovery == NULL or w.heap_node == NULL or w.heap_pos == NULL or w.key == NULL:
        return -1
    return 0


cdef void _free_work(Work *w) noexcept nogil:
    free(w.status)
    free(w.recovery)
    free(w.heap_node)
    free(w.heap_pos)
    free(w.key)


cdef inline double _rate(const double *tau_node, double tau, const double *weights, int32_t u, int64_t e) noexcept nogil:
    cdef double r = tau_node[u] if tau_node != NULL else tau
    if weights != NULL:
        r *= weights[e]
    return r


cdef inline void _write_counts(int64_t *out, int64_t S, int64_t I, int64_t R) noexcept nogil:
    out[0] = S
    out[1] = I
    out[2] = R


cdef int64_t _run_continuous(
    int model, int64_t n, const int64_t *indptr, const int32_t *indices, const double *weights,
    double tau, const double *tau_node, double gamma, const double *gamma_node,
    const int32_t *initial, int64_t n_initial, int64_t n_random, double tmax,
    const double *t_eval, int64_t nt, int64_t *grid,
    double *ev_time, int8_t *ev_kind, int64_t ev_cap, int64_t *ev_count,
    Rng *rng, Work *w, int64_t *final,
) noexcept nogil:
    """One run; returns the number of events. grid (nt x 3) gets S, I, R at the times t_eval."""
    cdef Heap h
    cdef int64_t i, e, g = 0, events = 0, S = n, I = 0, R = 0, rec = 0
    cdef int32_t u, v
    cdef double t = 0.0, c, rate
    h.size = 0
    h.node = w.heap_node
    h.pos = w.heap_pos
    h.key = w.key
    memset(w.status, 0, n * sizeof(int8_t))
    for i in range(n):
        w.heap_pos[i] = -1
        w.key[i] = INFINITY
    # Initial infected: the given nodes, or n_random distinct nodes drawn uniformly.
    for i in range(n_initial):
        u = initial[i]
        if w.status[u] == SUSCEPTIBLE:
            w.status[u] = INFECTED
            S -= 1
            I += 1
    i = 0
    while i < n_random:
        u = <int32_t>_below(rng, n)
        if w.status[u] == SUSCEPTIBLE:
            w.status[u] = INFECTED
            S -= 1
            I += 1
            i += 1
    # Their recoveries and transmissions, from t = 0 (a second pass: all of them are infected first).
    for u in range(n):
        if w.status[u] != INFECTED:
            continue
        w.recovery[u] = _exponential(rng, gamma_node[u] if gamma_node != NULL else gamma)
        _schedule(&h, u, w.recovery[u])
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if w.status[v] != SUSCEPTIBLE:
                continue
            rate = _rate(tau_node, tau, weights, u, e)
            if rate <= 0:
                continue
            c = _exponential(rng, rate)
            if c < w.recovery[u] and c < w.key[v]:
                _schedule(&h, v, c)
    while h.size > 0:
        u = _pop(&h)
        t = w.key[u]
        if t > tmax:
            break
        while g < nt and t_eval[g] < t:
            _write_counts(grid + 3 * g, S, I, R)
            g += 1
        events += 1
        if w.status[u] == SUSCEPTIBLE:
            # infection
            w.status[u] = INFECTED
            S -= 1
            I += 1
            if rec < ev_cap:
                ev_time[rec] = t
                ev_kind[rec] = 0
                rec += 1
            w.recovery[u] = t + _exponential(rng, gamma_node[u] if gamma_node != NULL else gamma)
            w.key[u] = w.recovery[u]
            _schedule(&h, u, w.recovery[u])
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if w.status[v] != SUSCEPTIBLE:
                    continue
                rate = _rate(tau_node, tau, weights, u, e)
                if rate <= 0:
                    continue
                c = t + _exponential(rng, rate)
                if c < w.recovery[u] and c < w.key[v]:
                    _schedule(&h, v, c)
        else:
            # recovery
            I -= 1
            if rec < ev_cap:
                ev_time[rec] = t
                ev_kind[rec] = 1
                rec += 1
            if model == SIR_CODE:
                w.status[u] = RECOVERED
                R += 1
                w.key[u] = INFINITY
            else:
                w.status[u] = SUSCEPTIBLE
                S += 1
                w.key[u] = INFINITY
                for e in range(indptr[u], indptr[u + 1]):
                    v = indices[e]
                    if w.status[v] != INFECTED:
                        continue
                    # the rate of v -> u: v's transmission rate on this (symmetric) edge
                    rate = _rate(tau_node, tau, weights, v, e)
                    if rate <= 0:
                        continue
                    c = t + _exponential(rng, rate)
                    if c < w.recovery[v] and c < w.key[u]:
                        _schedule(&h, u, c)
    while g < nt:
        _write_counts(grid + 3 * g, S, I, R)
        g += 1
    ev_count[0] = rec
    final[0] = S
    final[1] = I
    final[2] = R
    return events


cdef int8_t _one_continuous(
    int model, int64_t n, const int64_t *indptr, const int32_t *indices, const double *weights,
    double tau, const double *tau_node, double gamma, const double *gamma_node,
    const int32_t *initial, int64_t n_initial, int64_t n_random, double tmax,
    const double *t_eval, int64_t nt, int64_t *grid,
    double *ev_time, int8_t *ev_kind, int64_t ev_cap, int64_t *ev_count,
    uint64_t seed, int64_t run, int64_t *events, int64_t *final,
) noexcept nogil:
    """One run with its own work arrays and random stream (thread-private by construction); 1 if out of memory."""
    cdef Work w
    cdef Rng rng
    cdef int64_t count = 0
    if _alloc_work(&w, n) != 0:
        _free_work(&w)
        return 1
    _seed(&rng, seed, <uint64_t>run)
    events[0] = _run_continuous(model, n, indptr, indices, weights, tau, tau_node, gamma, gamma_node, initial,
                                n_initial, n_random, tmax, t_eval, nt, grid, ev_time, ev_kind, ev_cap, &count,
                                &rng, &w, final)
    if ev_cap > 0:
        ev_count[0] = count
    return 0


def simulate_continuous(
    int model, cnp.int64_t[::1] indptr, cnp.int32_t[::1] indices, weights,
    double tau, tau_node, double gamma, gamma_node,
    cnp.int32_t[::1] initial, int64_t n_random, double tmax,
    double[::1] t_eval, uint64_t seed, int64_t first_run, int64_t runs, int64_t event_capacity, int num_threads,
):
    """Runs first_run .. first_run + runs - 1 of an ensemble, in parallel.

    Returns (final (runs, 3) int64 S, I, R at the end; grid (runs, nt, 3) int64;
    events (runs,) int64; event times and kinds of the first run (event_capacity
    of them at most, 0 infection, 1 recovery); status (runs,) int8: 0 ok, 1 out of memory).
    """
    cdef int64_t n = indptr.shape[0] - 1
    cdef int64_t nt = t_eval.shape[0]
    cdef cnp.ndarray[cnp.int64_t, ndim=2] final = np.zeros((runs, 3), dtype=np.int64)
    cdef cnp.ndarray[cnp.int64_t, ndim=3] grid = np.zeros((runs, max(nt, 1), 3), dtype=np.int64)
    cdef cnp.ndarray[cnp.int64_t, ndim=1] events = np.zeros(runs, dtype=np.int64)
    cdef cnp.ndarray[cnp.int8_t, ndim=1] status = np.zeros(runs, dtype=np.int8)
    cdef cnp.ndarray[cnp.float64_t, ndim=1] ev_time = np.zeros(max(event_capacity, 1), dtype=np.float64)
    cdef cnp.ndarray[cnp.int8_t, ndim=1] ev_kind = np.zeros(max(event_capacity, 1), dtype=np.int8)
    cdef cnp.ndarray[cnp.int64_t, ndim=1] ev_count = np.zeros(1, dtype=np.int64)
    cdef double[::1] wv, tv, gv
    cdef const double *wp = NULL
    cdef const double *tp = NULL
    cdef const double *gp = NULL
    if weights is not None:
        wv = weights
        wp = &wv[0]
    if tau_node is not None:
        tv = tau_node
        tp = &tv[0]
    if gamma_node is not None:
        gv = gamma_node
        gp = &gv[0]
    cdef const int64_t *ip = <const int64_t *> &indptr[0]
    cdef const int32_t *jp = <const int32_t *> &indices[0] if indices.shape[0] > 0 else NULL
    cdef const int32_t *init = <const int32_t *> &initial[0] if initial.shape[0] > 0 else NULL
    cdef int64_t n_initial = initial.shape[0]
    cdef const double *te = &t_eval[0] if nt > 0 else NULL
    cdef int64_t *fp = &final[0, 0]
    cdef int64_t *gridp = &grid[0, 0, 0]
    cdef int64_t *evp = &events[0]
    cdef int8_t *sp = &status[0]
    cdef double *etp = &ev_time[0]
    cdef int8_t *ekp = &ev_kind[0]
    cdef int64_t *ecp = &ev_count[0]
    cdef int64_t r, gstride = max(nt, 1) * 3
    with nogil:
        for r in prange(runs, schedule="dynamic", num_threads=num_threads):
            sp[r] = _one_continuous(model, n, ip, jp, wp, tau, tp, gamma, gp, init, n_initial, n_random, tmax,
                                    te, nt, gridp + r * gstride, etp if r == 0 else NULL, ekp if r == 0 else NULL,
                                    event_capacity if r == 0 else 0, ecp, seed, first_run + r, evp + r, fp + 3 * r)
    return final, grid[:, :nt, :], events, ev_time[:ev_count[0]], ev_kind[:ev_count[0]], status


# ---- discrete-time SIR ---------------------------------------------------------------------------------------
cdef void _run_discrete(
    int64_t n, const int64_t *indptr, const int32_t *indices, double p, double q,
    const int32_t *initial, int64_t n_initial, int64_t n_random, int64_t steps,
    int64_t *grid, Rng *rng, int8_t *status, int32_t *current, int32_t *following, int64_t *final,
) noexcept nogil:
    cdef int64_t i, e, k, S = n, I = 0, R = 0, ncur = 0, nnext, step
    cdef int32_t u, v
    memset(status, 0, n * sizeof(int8_t))
    for i in range(n_initial):
        u = initial[i]
        if status[u] == SUSCEPTIBLE:
            status[u] = INFECTED
            current[ncur] = u
            ncur += 1
    i = 0
    while i < n_random:
        u = <int32_t>_below(rng, n)
        if status[u] == SUSCEPTIBLE:
            status[u] = INFECTED
            current[ncur] = u
            ncur += 1
            i += 1
    S -= ncur
    I = ncur
    _write_counts(grid, S, I, R)
    for step in range(1, steps + 1):
        nnext = 0
        for k in range(ncur):
            u = current[k]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if status[v] == SUSCEPTIBLE and _uniform(rng) <= p:
                    status[v] = 3    # infected this step, infectious from the next
                    following[nnext] = v
                    nnext += 1
        # recoveries of the nodes infectious this step; those that stay join the new ones
        for k in range(ncur):
            u = current[k]
            if q >= 1.0 or _uniform(rng) <= q:
                status[u] = RECOVERED
                R += 1
                I -= 1
            else:
                following[nnext] = u
                nnext += 1
        for k in range(nnext):
            v = following[k]
            if status[v] == 3:
                status[v] = INFECTED
                S -= 1
                I += 1
            current[k] = v
        ncur = nnext
        _write_counts(grid + 3 * step, S, I, R)
    final[0] = S
    final[1] = I
    final[2] = R


cdef int8_t _one_discrete(int64_t n, const int64_t *indptr, const int32_t *indices, double p, double q,
                          const int32_t *initial, int64_t n_initial, int64_t n_random, int64_t steps,
                          int64_t *grid, uint64_t seed, int64_t run, int64_t *final) noexcept nogil:
    cdef Rng rng
    cdef int8_t ok = 0
    cdef int8_t *st = <int8_t *> malloc(n * sizeof(int8_t))
    cdef int32_t *cur = <int32_t *> malloc(n * sizeof(int32_t))
    cdef int32_t *nxt = <int32_t *> malloc(n * sizeof(int32_t))
    if st == NULL or cur == NULL or nxt == NULL:
        ok = 1
    else:
        _seed(&rng, seed, <uint64_t>run)
        _run_discrete(n, indptr, indices, p, q, initial, n_initial, n_random, steps, grid, &rng, st, cur, nxt, final)
    free(st)
    free(cur)
    free(nxt)
    return ok


def simulate_discrete(cnp.int64_t[::1] indptr, cnp.int32_t[::1] indices, double p, double q,
                      cnp.int32_t[::1] initial, int64_t n_random, int64_t steps, uint64_t seed,
                      int64_t first_run, int64_t runs, int num_threads):
    """Discrete-time SIR runs: (final (runs, 3), grid (runs, steps + 1, 3), status (runs,))."""
    cdef int64_t n = indptr.shape[0] - 1
    cdef cnp.ndarray[cnp.int64_t, ndim=2] final = np.zeros((runs, 3), dtype=np.int64)
    cdef cnp.ndarray[cnp.int64_t, ndim=3] grid = np.zeros((runs, steps + 1, 3), dtype=np.int64)
    cdef cnp.ndarray[cnp.int8_t, ndim=1] status = np.zeros(runs, dtype=np.int8)
    cdef const int64_t *ip = <const int64_t *> &indptr[0]
    cdef const int32_t *jp = <const int32_t *> &indices[0] if indices.shape[0] > 0 else NULL
    cdef const int32_t *init = <const int32_t *> &initial[0] if initial.shape[0] > 0 else NULL
    cdef int64_t n_initial = initial.shape[0]
    cdef int64_t *fp = &final[0, 0]
    cdef int64_t *gp = &grid[0, 0, 0]
    cdef int8_t *sp = &status[0]
    cdef int64_t r
    with nogil:
        for r in prange(runs, schedule="dynamic", num_threads=num_threads):
            sp[r] = _one_discrete(n, ip, jp, p, q, init, n_initial, n_random, steps, gp + r * (steps + 1) * 3,
                                  seed, first_run + r, fp + 3 * r)
    return final, grid, status


# ---- random graphs straight to CSR ------------------------------------------------------------------------------
cdef int _compare_int32(const void *a, const void *b) noexcept nogil:
    cdef int32_t x = (<const int32_t *> a)[0], y = (<const int32_t *> b)[0]
    return (x > y) - (x < y)


cdef int64_t _edges_to_csr(int64_t n, int64_t m, const int32_t *src, const int32_t *dst, int64_t *indptr,
                           int32_t *indices, int erase) noexcept nogil:
    """Symmetric CSR of m undirected edges (indices must hold 2m). With erase, self-loops and repeats go.

    Returns the number of stored entries (2 x the number of distinct edges), -1 if out of memory."""
    cdef int64_t i, e, k, start, end, out
    cdef int64_t *fill = <int64_t *> malloc((n + 1) * sizeof(int64_t))
    if fill == NULL:
        return -1
    for i in range(n + 1):
        indptr[i] = 0
    for e in range(m):
        indptr[src[e] + 1] += 1
        indptr[dst[e] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    for i in range(n + 1):
        fill[i] = indptr[i]
    for e in range(m):
        indices[fill[src[e]]] = dst[e]
        fill[src[e]] += 1
        indices[fill[dst[e]]] = src[e]
        fill[dst[e]] += 1
    if erase:
        out = 0
        start = 0
        for i in range(n):
            end = indptr[i + 1]
            qsort(&indices[start], end - start, sizeof(int32_t), _compare_int32)
            indptr[i] = out
            for k in range(start, end):
                if indices[k] == i:
                    continue
                if k > start and indices[k] == indices[k - 1]:
                    continue
                indices[out] = indices[k]
                out += 1
            start = end
        indptr[n] = out
    free(fill)
    return indptr[n]


def erdos_renyi(int64_t n, double p, uint64_t seed):
    """G(n, p) as CSR (indptr int64, indices int32)."""
    cdef int64_t cap = <int64_t>(p * n * (n - 1) / 2.0 + 10.0 * (p * n * n) ** 0.5 + 16)
    cdef int64_t m = 0, v = 1, w = -1
    cdef int oom = 0
    cdef double lp = log1p(-p) if p < 1 else 0.0
    cdef Rng rng
    cdef int32_t *src = <int32_t *> malloc(cap * sizeof(int32_t))
    cdef int32_t *dst = <int32_t *> malloc(cap * sizeof(int32_t))
    cdef int32_t *grown
    if src == NULL or dst == NULL:
        free(src)
        free(dst)
        raise MemoryError("not enough memory for the edges of G(n, p)")
    _seed(&rng, seed, 0x6772617068)
    with nogil:
        if p > 0:
            while v < n:
                if p >= 1:
                    w += 1
                else:
                    w += 1 + <int64_t>floor(log(_uniform(&rng)) / lp)
                while w >= v and v < n:
                    w -= v
                    v += 1
                if v < n:
                    if m == cap:
                        cap = 2 * cap
                        grown = <int32_t *> realloc(src, cap * sizeof(int32_t))
                        if grown == NULL:
                            oom = 1
                            break
                        src = grown
                        grown = <int32_t *> realloc(dst, cap * sizeof(int32_t))
                        if grown == NULL:
                            oom = 1
                            break
                        dst = grown
                    src[m] = <int32_t>v
                    dst[m] = <int32_t>w
                    m += 1
    if oom:
        free(src)
        free(dst)
        raise MemoryError("not enough memory for the edges of G(n, p)")
    cdef cnp.ndarray[cnp.int64_t, ndim=1] indptr = np.empty(n + 1, dtype=np.int64)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] indices = np.empty(max(2 * m, 1), dtype=np.int32)
    cdef int64_t stored
    with nogil:
        stored = _edges_to_csr(n, m, src, dst, &indptr[0], &indices[0], 0)
    free(src)
    free(dst)
    if stored < 0:
        raise MemoryError("not enough memory to build the CSR arrays")
    return indptr, indices[:2 * m]


def configuration_model(cnp.int64_t[::1] degrees, uint64_t seed):
    """Uniform stub pairing, self-loops and repeated edges erased: (indptr, indices, erased edges)."""
    cdef int64_t n = degrees.shape[0], total = 0, i, j, k, m
    cdef int32_t tmp
    for i in range(n):
        total += degrees[i]
    m = total // 2
    cdef int32_t *stubs = <int32_t *> malloc(max(total, 1) * sizeof(int32_t))
    if stubs == NULL:
        raise MemoryError("not enough memory for the stubs of the configuration model")
    cdef Rng rng
    cdef cnp.ndarray[cnp.int64_t, ndim=1] indptr = np.empty(n + 1, dtype=np.int64)
    cdef cnp.ndarray[cnp.int32_t, ndim=1] indices = np.empty(max(2 * m, 1), dtype=np.int32)
    cdef int64_t stored
    _seed(&rng, seed, 0x636f6e66)
    with nogil:
        k = 0
        for i in range(n):
            for j in range(degrees[i]):
                stubs[k] = <int32_t>i
                k += 1
        for i in range(total - 1, 0, -1):
            j = _below(&rng, i + 1)
            tmp = stubs[i]
            stubs[i] = stubs[j]
            stubs[j] = tmp
        # pairs (stubs[2e], stubs[2e + 1]); src/dst interleaved in one array, read with stride
        stored = _pairs_to_csr(n, m, stubs, &indptr[0], &indices[0])
    free(stubs)
    if stored < 0:
        raise MemoryError("not enough memory to build the CSR arrays")
    return indptr, indices[:stored].copy(), m - stored // 2


cdef int64_t _pairs_to_csr(int64_t n, int64_t m, const int32_t *stubs, int64_t *indptr, int32_t *indices) noexcept nogil:
    cdef int32_t *src = <int32_t *> malloc(max(m, 1) * sizeof(int32_t))
    cdef int32_t *dst = <int32_t *> malloc(max(m, 1) * sizeof(int32_t))
    cdef int64_t e, stored
    if src == NULL or dst == NULL:
        free(src)
        free(dst)
        return -1
    for e in range(m):
        src[e] = stubs[2 * e]
        dst[e] = stubs[2 * e + 1]
    stored = _edges_to_csr(n, m, src, dst, indptr, indices, 1)
    free(src)
    free(dst)
    return stored
