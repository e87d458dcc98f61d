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


cdef void _load_block(int64_t lanes, int64_t dim, int64_t npar, int64_t first, int64_t m,
                      const double *X, const double *P, int64_t pstride,
                      double *xs, int64_t *esc) noexcept nogil:
    """Copy rows first .. first+m-1 into a lane-interleaved block (padding lanes start dead)."""
    cdef double *ps = xs + lanes * dim
    cdef int64_t j, k, src
    for j in range(lanes):
        src = first + j if j < m else first
        for k in range(dim):
            xs[k * lanes + j] = X[src * dim + k]
        for k in range(npar):
            ps[k * lanes + j] = P[src * pstride + k]
        esc[j] = -1 if j < m else 0


cdef void _advance_block(map_block_fn block, int64_t lanes, int64_t dim, int64_t m,
                         double *xs, int64_t *esc, int64_t done, int64_t steps, double escape,
                         double *rec, int64_t rec_start, int64_t row_stride) noexcept nogil:
    """Advance a block by ``steps`` steps after ``done``; escape steps become absolute."""
    cdef int64_t j
    cdef int64_t alive[64]
    for j in range(m):
        alive[j] = esc[j] < 0
    block(m, xs, xs + lanes * dim, steps, escape, esc, rec, rec_start, row_stride)
    if done:
        for j in range(m):
            if alive[j] and esc[j] >= 0:
                esc[j] += done


cdef void _advance_group(map_block_fn block, int64_t lanes, int64_t dim, int64_t n, int64_t width,
                         int64_t b0, int64_t b1, double *bp, int64_t *sp, int64_t steps,
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
            _advance_block(block, lanes, dim, m, bp + b * width, sp + b * lanes, done, length,
                           escape, rows, 0, n * dim)
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
    if npar == 0:
        pstride = 0
    cdef int64_t nblocks = (n + lanes - 1) // lanes
    cdef int64_t width = lanes * (dim + npar)
    # The whole batch, lane-interleaved block by block, for as long as it runs.
    cdef cnp.ndarray[cnp.float64_t, ndim=1, mode="c"] blocks = np.empty(max(nblocks * width, 1))
    cdef cnp.ndarray[cnp.int64_t, ndim=1, mode="c"] escs = np.empty(max(nblocks * lanes, 1), dtype=np.int64)
    cdef double *bp = &blocks[0]
    cdef int64_t *sp = &escs[0]
    cdef const double *xp = &X[0, 0] if n > 0 else NULL
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> &escape
    cdef int64_t b, g, first, m, j, k, transient = steps - record
    # No more threads than blocks: idle threads only cost start-up and spinning.
    num_threads = max(1, min(num_threads, nblocks))
    with nogil:
        for b in prange(nblocks, schedule="static", num_threads=num_threads):
            first = b * lanes
            m = lanes if first + lanes <= n else n - first
            _load_block(lanes, dim, npar, first, m, xp, pp, pstride, bp + b * width, sp + b * lanes)
        if record == 0:
            # All steps in one go per block, blocks shared out as threads free up.
            for b in prange(nblocks, schedule="dynamic", num_threads=num_threads):
                first = b * lanes
                m = lanes if first + lanes <= n else n - first
                _advance_block(block, lanes, dim, m, bp + b * width, sp + b * lanes, 0, steps,
                               escape, NULL, 0, 0)
        else:
            # Each thread takes a contiguous range of blocks and advances it segment by
            # segment, with no barrier between segments.
            for g in prange(num_threads, schedule="static", num_threads=num_threads):
                _advance_group(block, lanes, dim, n, width, g * nblocks // num_threads,
                               (g + 1) * nblocks // num_threads, bp, sp, steps, transient,
                               escape, rec)
        for b in prange(nblocks, schedule="static", num_threads=num_threads):
            first = b * lanes
            m = lanes if first + lanes <= n else n - first
            for j in range(m):
                for k in range(dim):
                    final[first + j, k] = bp[b * width + k * lanes + j]
                escape_step[first + j] = sp[b * lanes + j]
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
