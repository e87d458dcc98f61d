# cython: language_level=3
"""Drivers for maps: batches of orbits advanced by a system's generated block kernel.

The public ``def`` functions validate shapes and own the arrays; the loops run
without the GIL, one block of lanes per task, blocks spread over threads.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport parallel, prange, threadid
from libc.stdint cimport int64_t, uintptr_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from _kernel cimport rhs_fn, map_block_fn

cnp.import_array()


cdef void _run_block(map_block_fn block, int64_t lanes, int64_t dim, int64_t npar,
                     int64_t n, int64_t first, int64_t m, const double *X, const double *P,
                     int64_t pstride, int64_t steps, double escape,
                     double *final, int64_t *esc_out, double *rec, int64_t rec_start,
                     double *xs, int64_t *esc) noexcept nogil:
    """Load one block lane-interleaved into the buffers xs, esc; advance it; store it back."""
    cdef double *ps = xs + lanes * dim
    cdef int64_t j, k, src
    for j in range(lanes):
        # Padding lanes copy the first orbit: finite values, marked dead.
        src = first + j if j < m else first
        for k in range(dim):
            xs[k * lanes + j] = X[src * dim + k]
        for k in range(npar):
            ps[k * lanes + j] = P[src * pstride + k]
        esc[j] = -1 if j < m else 0
    block(m, xs, ps, steps, escape, esc,
          rec + first * dim if rec != NULL else NULL,
          rec_start, n * dim)
    for j in range(m):
        for k in range(dim):
            final[(first + j) * dim + k] = xs[k * lanes + j]
        esc_out[first + j] = esc[j]


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
    recorded : (n, record, dim) float64 view or None
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
    # Recorded states are stored step-major, (record, n, dim): the lanes of a
    # block write one contiguous run per step. The caller gets the (n, record,
    # dim) view.
    recorded = np.empty((record, n, dim)) if record > 0 and n > 0 else None
    cdef double *rec = NULL
    cdef double[:, :, ::1] rec_view
    if recorded is not None:
        rec_view = recorded
        rec = &rec_view[0, 0, 0]
    cdef const double *xp = &X[0, 0] if n > 0 else NULL
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> &escape
    cdef double *fp = &final[0, 0] if n > 0 else NULL
    cdef int64_t *ep = &escape_step[0] if n > 0 else NULL
    cdef int64_t nblocks = (n + lanes - 1) // lanes, b, first, m
    cdef double *xs
    cdef int64_t *esc
    if npar == 0:
        pstride = 0
    # No more threads than blocks: idle threads only cost start-up and spinning.
    num_threads = max(1, min(num_threads, nblocks))
    cdef cnp.ndarray[cnp.int32_t, ndim=1, mode="c"] failed = np.zeros(num_threads, dtype=np.int32)
    cdef int *failed_ptr = <int *> failed.data
    with nogil, parallel(num_threads=num_threads):
        # One pair of block buffers per thread, reused for all its blocks.
        xs = <double *> malloc(lanes * (dim + npar + 1) * sizeof(double))
        esc = <int64_t *> malloc(lanes * sizeof(int64_t))
        # Every thread must reach the work-sharing loop; one without buffers
        # reports the blocks it could not run.
        for b in prange(nblocks, schedule="dynamic"):
            if xs == NULL or esc == NULL:
                failed_ptr[threadid()] = 1
            else:
                first = b * lanes
                m = lanes if first + lanes <= n else n - first
                _run_block(block, lanes, dim, npar, n, first, m, xp, pp, pstride, steps,
                           escape, fp, ep, rec, steps - record, xs, esc)
        free(xs)
        free(esc)
    if failed.any():
        raise MemoryError("cannot allocate the block buffers")
    if record > 0:
        recorded = recorded.transpose(1, 0, 2) if recorded is not None else np.empty((0, record, dim))
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
