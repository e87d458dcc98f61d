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


def w4_labels(X: np.ndarray, eta: float = 0.1, steps: int = 500, escape: float = 1e6) -> np.ndarray:
    """Basins of gradient descent on L(a, b) = (a^2 + b^2 - 1)^2 + ab: an int8 label per row of X.

    0 divergent, 1 at the minimum (m, -m), 2 at (-m, m) (m = sqrt(10)/4, to 1e-6),
    3 bounded elsewhere. Vectorised over the grid; escaped points leave the live set, and so
    (checked every 16 steps) do points exactly on a fixed point, whose later steps change nothing.
    """
    n = X.shape[0]
    a = X[:, 0].copy()
    b = X[:, 1].copy()
    index = np.arange(n)
    done_a, done_b, done_index = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(steps):
            r = 4.0 * (a * a + b * b - 1.0)
            an = a - eta * (r * a + b)
            bn = b - eta * (r * b + a)
            alive = (np.abs(an) < escape) & (np.abs(bn) < escape)
            if step % 16 == 15:  # every 16 steps, set aside the orbits exactly on a fixed point
                fixed = (an == a) & (bn == b)
                done_a.append(a[fixed]), done_b.append(b[fixed]), done_index.append(index[fixed])
                alive &= ~fixed
            if alive.all():
                a, b = an, bn
            else:
                a, b, index = an[alive], bn[alive], index[alive]
            if a.size == 0:
                break
    a = np.concatenate([a, *done_a])
    b = np.concatenate([b, *done_b])
    index = np.concatenate([index, *done_index])
    m = np.sqrt(10.0) / 4.0
    labels = np.zeros(n, dtype=np.int8)
    lab = np.full(a.size, 3, dtype=np.int8)
    lab[(np.abs(a - m) < 1e-6) & (np.abs(b + m) < 1e-6)] = 1
    lab[(np.abs(a + m) < 1e-6) & (np.abs(b - m) < 1e-6)] = 2
    labels[index] = lab
    return labels
