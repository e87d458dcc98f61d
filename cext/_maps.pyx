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


def _aligned_empty(shape):
    """An uninitialised float64 array of ``shape`` whose data start on a 64-byte boundary."""
    size = int(np.prod(shape))
    buffer = np.empty(size + 8)
    skip = (-buffer.ctypes.data % 64) // 8
    return buffer[skip:skip + size].reshape(shape)


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
    recorded : (n, record, dim) float64 or None
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
    # Recorded states are stored lane-major, (n, record, dim), as returned: each
    # orbit's record is one contiguous run, written by the kernel chunk by chunk.
    # Its start is aligned to 64 bytes, a cache line, for the kernel's
    # whole-line (non-temporal) stores.
    recorded = _aligned_empty((n, record, dim)) if record > 0 else None
    cdef double *rec = NULL
    cdef double[:, :, ::1] rec_view
    if recorded is not None and n > 0:
        rec_view = recorded
        rec = &rec_view[0, 0, 0]
    if npar == 0:
        pstride = 0
    cdef int64_t nblocks = (n + lanes - 1) // lanes
    cdef double *xp = &final[0, 0] if n > 0 else NULL
    cdef const double *pp = &P[0, 0] if npar > 0 else <const double *> &escape
    cdef int64_t *ep = &escape_step[0] if n > 0 else NULL
    cdef int64_t b, first, m
    # No more threads than blocks: idle threads only cost start-up and spinning.
    num_threads = max(1, min(num_threads, nblocks))
    cdef int64_t transient = steps - record, rec_stride = record * dim
    with nogil:
        # Every block in one call, recorded steps included; blocks shared out as threads free up.
        for b in prange(nblocks, schedule="dynamic", num_threads=num_threads):
            first = b * lanes
            m = lanes if first + lanes <= n else n - first
            # The kernel records each lane's steps after the transient to its own row of `recorded`.
            block(m, xp + first * dim, pp + first * pstride, pstride, steps, escape, ep + first,
                  rec + first * rec_stride if rec != NULL else NULL, transient, rec_stride)
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
