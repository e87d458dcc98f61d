# cython: language_level=3
"""Drivers for maps: batches of orbits advanced by a system's generated block kernel.

The public ``def`` functions validate shapes and own the arrays; the loops run
without the GIL, one block of lanes per task, blocks spread over threads.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uintptr_t

from _kernel cimport rhs_fn, map_block_fn

cnp.import_array()


# Recorded steps are advanced in segments of this many steps, all blocks of a
# segment before the next: the rows being written then stay in cache.
DEF SEGMENT = 8


cdef void _advance_block(map_block_fn block, int64_t dim, int64_t m, double *x, const double *p,
                         int64_t pstride, int64_t *esc, int64_t done, int64_t steps, double escape,
                         double *rec, int64_t row_stride) noexcept nogil:
    """Advance m rows by ``steps`` steps after ``done``; their escape steps become absolute."""
    cdef int64_t j
    cdef int64_t alive[64]
    for j in range(m):
        alive[j] = esc[j] < 0
    block(m, x, p, pstride, steps, escape, esc, rec, 0, row_stride)
    if done:
        for j in range(m):
            if alive[j] and esc[j] >= 0:
                esc[j] += done


cdef void _advance_group(map_block_fn block, int64_t lanes, int64_t dim, int64_t n, int64_t b0, int64_t b1,
                         double *x, const double *p, int64_t pstride, int64_t *esc, int64_t steps,
                         int64_t transient, double escape, double *rec) noexcept nogil:
    """Advance blocks b0 .. b1-1: the transient in one go, then the recorded steps by segments."""
    cdef int64_t b, first, m, length, done = 0
    cdef double *rows
    while done < steps:
        length = transient if done < transient else min(<int64_t> SEGMENT, steps - done)
        for b in range(b0, b1):
            first = b * lanes
            m = lanes if first + lanes <= n else n - first
            rows = rec + (done - transient) * n * dim + first * dim if done >= transient else NULL
            _advance_block(block, dim, m, x + first * dim, p + first * pstride, pstride, esc + first,
                           done, length, escape, rows, n * dim)
        done += length


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
        Lanes of the block kernel (at most 64).
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
    if lanes < 1 or lanes > 64:
        raise ValueError("the block kernel must have between 1 and 64 lanes")
    # The orbits advance in place in `final`, blocks of rows at a time.
    cdef cnp.ndarray[cnp.float64_t, ndim=2, mode="c"] final = X.copy()
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] escape_step = np.full(n, -1, dtype=np.int64)
    # Recorded states are stored step-major, (record, n, dim): the lanes of a
    # block write one contiguous run per step. The caller gets the (n, record,
    # dim) view.
    recorded = np.empty((record, n, dim)) if record > 0 and n > 0 else None
    cdef double *rec = NULL
    cdef double[:, :, ::1] rec_view
    if recorded is not None:
        rec_view = recorded
        rec = &rec_view[0, 0, 0]
    if npar == 0:
        pstride = 0
    cdef int64_t nblocks = (n + lanes - 1) // lanes
    cdef double *xp = &final[0, 0] if n > 0 else NULL
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> &escape
    cdef int64_t *ep = &escape_step[0] if n > 0 else NULL
    cdef int64_t b, g, first, m, transient = steps - record
    # No more threads than blocks: idle threads only cost start-up and spinning.
    num_threads = max(1, min(num_threads, nblocks))
    with nogil:
        if record == 0:
            # All steps in one go per block, blocks shared out as threads free up.
            for b in prange(nblocks, schedule="dynamic", num_threads=num_threads):
                first = b * lanes
                m = lanes if first + lanes <= n else n - first
                _advance_block(block, dim, m, xp + first * dim, pp + first * pstride, pstride, ep + first,
                               0, steps, escape, NULL, 0)
        else:
            # Each thread takes a contiguous range of blocks and advances it segment by
            # segment, with no barrier between segments.
            for g in prange(num_threads, schedule="static", num_threads=num_threads):
                _advance_group(block, lanes, dim, n, g * nblocks // num_threads,
                               (g + 1) * nblocks // num_threads, xp, pp, pstride, ep, steps, transient,
                               escape, rec)
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
    # A thread per few thousand points at most: starting threads costs more than small batches.
    num_threads = max(1, min(num_threads, n // 4096))
    with nogil:
        for i in prange(n, schedule="static", num_threads=num_threads):
            f(xp + i * dim, pp + i * pstride, op + i * out_size)
    return out
