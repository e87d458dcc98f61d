# cython: language_level=3
"""Drivers for maps: batches of orbits advanced by a system's generated block kernel.

The public ``def`` functions validate shapes and own the arrays; the loops run
without the GIL, one block of lanes per task, blocks spread over threads.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uintptr_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from _kernel cimport rhs_fn, map_block_fn

cnp.import_array()


cdef int _run_block(map_block_fn block, int64_t lanes, int64_t dim, int64_t npar,
                    int64_t first, int64_t m, const double *X, const double *P,
                    int64_t pstride, int64_t steps, double escape,
                    double *final, int64_t *esc_out, double *rec,
                    int64_t rec_start, int64_t nrec) noexcept nogil:
    """Load one block lane-interleaved, advance it, store it back."""
    cdef double *xs = <double *> malloc(lanes * (dim + npar + 1) * sizeof(double))
    cdef int64_t *esc = <int64_t *> malloc(lanes * sizeof(int64_t))
    cdef double *ps
    cdef int64_t j, k, src
    if xs == NULL or esc == NULL:
        free(xs)
        free(esc)
        return -1
    ps = xs + lanes * dim
    for j in range(lanes):
        # Padding lanes copy the first orbit: finite values, marked dead.
        src = first + j if j < m else first
        for k in range(dim):
            xs[k * lanes + j] = X[src * dim + k]
        for k in range(npar):
            ps[k * lanes + j] = P[src * pstride + k]
        esc[j] = -1 if j < m else 0
    block(m, xs, ps, steps, escape, esc,
          rec + first * nrec * dim if rec != NULL else NULL,
          rec_start, nrec * dim, dim)
    for j in range(m):
        for k in range(dim):
            final[(first + j) * dim + k] = xs[k * lanes + j]
        esc_out[first + j] = esc[j]
    free(xs)
    free(esc)
    return 0


def iterate_batch(uintptr_t block_address, int lanes,
                  cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] X,
                  cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] P,
                  int64_t steps, double escape, int64_t record, int num_threads):
    """Advance every row of ``X`` by ``steps`` steps of the map.

    Parameters
    ----------
    block_address : int
        Address of the system's ``ds_map_block``.
    lanes : int
        Lanes of the block kernel.
    X : (n, dim) float64
        Initial states (not modified).
    P : (n, npar) or (1, npar) float64
        Parameters per row, or one row for all.
    steps, escape : int, float
        Number of steps; the box |x_k| < escape outside which an orbit has escaped.
    record : int
        Keep the last ``record`` states of each orbit (0: none).
    num_threads : int
        Threads across blocks.

    Returns
    -------
    final : (n, dim) float64
    escape_step : (n,) int64, -1 where the orbit stayed bounded
    recorded : (n, record, dim) float64 or None
    """
    cdef map_block_fn block = <map_block_fn> block_address
    cdef int64_t n = X.shape[0], dim = X.shape[1], npar = P.shape[1]
    cdef int64_t pstride = npar if P.shape[0] == n else 0
    if P.shape[0] != n and P.shape[0] != 1:
        raise ValueError("P must have one row per state or a single row")
    if record < 0 or record > steps:
        raise ValueError("record must lie in [0, steps]")
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] final = np.empty((n, dim))
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] escape_step = np.empty(n, dtype=np.int64)
    recorded = np.empty((n, record, dim)) if record > 0 else None
    cdef double *rec = NULL
    cdef double[:, :, ::1] rec_view
    if record > 0:
        rec_view = recorded
        rec = &rec_view[0, 0, 0]
    cdef const double *xp = &X[0, 0] if n > 0 else NULL
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> &escape
    cdef double *fp = &final[0, 0] if n > 0 else NULL
    cdef int64_t *ep = &escape_step[0] if n > 0 else NULL
    cdef int64_t nblocks = (n + lanes - 1) // lanes, b, first, m
    cdef int failed = 0
    if npar == 0:
        pstride = 0
    with nogil:
        for b in prange(nblocks, schedule="dynamic", num_threads=num_threads):
            first = b * lanes
            m = lanes if first + lanes <= n else n - first
            if _run_block(block, lanes, dim, npar, first, m, xp, pp, pstride, steps,
                          escape, fp, ep, rec, steps - record, record) != 0:
                failed += 1  # a reduction: no block's failure is lost
    if failed:
        raise MemoryError("cannot allocate the block buffers")
    return final, escape_step, recorded


def evaluate_batch(uintptr_t function_address,
                   cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] X,
                   cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] P,
                   int64_t out_size, int num_threads):
    """Evaluate a generated point function (``ds_rhs`` or ``ds_jac``) at every row of ``X``.

    Returns an (n, out_size) array.
    """
    cdef rhs_fn f = <rhs_fn> function_address
    cdef int64_t n = X.shape[0], dim = X.shape[1], npar = P.shape[1], i
    cdef int64_t pstride = npar if P.shape[0] == n else 0
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] out = np.empty((n, out_size))
    if n == 0:
        return out
    cdef const double *xp = &X[0, 0]
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> xp
    cdef double *op = &out[0, 0]
    with nogil:
        for i in prange(n, schedule="static", num_threads=num_threads):
            f(xp + i * dim, pp + i * pstride, op + i * out_size)
    return out
