"""W1 and W5 as a user first writes them in plain NumPy (vectorised over the batch).

Both functions take the same inputs as every other implementation in
``run.py`` and return the result that is checked there.
"""
from __future__ import annotations

import numpy as np


def w1_orbits(rs: np.ndarray, x0: float = 0.5, transient: int = 1000, record: int = 1000) -> np.ndarray:
    """Orbit diagram of the logistic map: (len(rs), record) array of the recorded iterates.

    Vectorised over r: one NumPy expression per step for all parameter values.
    Step s is stored as row s of a (record, len(rs)) array and the transposed
    view is returned (writing column s of a (len(rs), record) array instead is
    about 1.3x slower; making the result contiguous costs 2x).
    """
    x = np.full(rs.shape, x0)
    for _ in range(transient):
        x = rs * x * (1.0 - x)
    out = np.empty((record, rs.size))
    for s in range(record):
        x = rs * x * (1.0 - x)
        out[s] = x
    return out.T


def w5_count(X: np.ndarray, mu: float = 1.5, steps: int = 1000, escape: float = 1e6) -> int:
    """Number of initial conditions (rows of X) whose two-factor orbit stays bounded.

    Vectorised over the grid; escaped points are masked out by keeping only the
    live ones (the live set shrinks as orbits escape, so later steps are cheaper).
    A NaN fails the comparison and is dropped like an escape.
    """
    u = X[:, 0].copy()
    v = X[:, 1].copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            c = mu * (u * v - 1.0)
            un = u - c * v
            vn = v - c * u
            alive = (np.abs(un) < escape) & (np.abs(vn) < escape)
            if alive.all():
                u, v = un, vn
            else:
                u, v = un[alive], vn[alive]
            if u.size == 0:
                break
    return int(u.size)
