"""W1 and W5 as naive ``@njit`` loops, one orbit at a time (numba is a benchmark peer only).

Importing this module raises ImportError when numba is not installed; ``run.py``
then skips these rows with a note. numba is never a dependency of dsanalyze.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=False)
def w1_orbits(rs, x0, transient, record):
    """Orbit diagram of the logistic map: (len(rs), record) array of the recorded iterates."""
    out = np.empty((rs.size, record))
    for i in range(rs.size):
        r = rs[i]
        x = x0
        for _ in range(transient):
            x = r * x * (1.0 - x)
        for s in range(record):
            x = r * x * (1.0 - x)
            out[i, s] = x
    return out


@njit(cache=False)
def w5_count(X, mu, steps, escape):
    """Number of rows of X whose two-factor orbit stays bounded (NaN counts as escaped)."""
    count = 0
    for i in range(X.shape[0]):
        u = X[i, 0]
        v = X[i, 1]
        bounded = True
        for _ in range(steps):
            c = mu * (u * v - 1.0)
            u, v = u - c * v, v - c * u
            if not (abs(u) < escape and abs(v) < escape):
                bounded = False
                break
        if bounded:
            count += 1
    return count


@njit(cache=False)
def w4_labels(X, eta, steps, escape):
    """Basins of gradient descent on (a^2 + b^2 - 1)^2 + ab: 0 divergent, 1 at (m, -m), 2 at (-m, m), 3 other.

    An orbit stops when it escapes or lands exactly on a fixed point (same labels as 500 full steps).
    """
    m = np.sqrt(10.0) / 4.0
    labels = np.zeros(X.shape[0], dtype=np.int8)
    for i in range(X.shape[0]):
        a = X[i, 0]
        b = X[i, 1]
        bounded = True
        for _ in range(steps):
            r = 4.0 * (a * a + b * b - 1.0)
            an, bn = a - eta * (r * a + b), b - eta * (r * b + a)
            if an == a and bn == b:  # exactly on a fixed point: later steps change nothing
                break
            a, b = an, bn
            if not (abs(a) < escape and abs(b) < escape):
                bounded = False
                break
        if bounded:
            if abs(a - m) < 1e-6 and abs(b + m) < 1e-6:
                labels[i] = 1
            elif abs(a + m) < 1e-6 and abs(b - m) < 1e-6:
                labels[i] = 2
            else:
                labels[i] = 3
    return labels
