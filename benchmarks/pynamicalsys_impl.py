"""W1, W2 and W3 through pynamicalsys's public API (pynamicalsys is a benchmark peer only).

pynamicalsys is GPL-3.0: this module only calls its public API
(``DiscreteDynamicalSystem`` with its built-in "logistic map" and "henon map"
models); none of its code is copied. Importing this module raises ImportError
when pynamicalsys is not installed; ``run.py`` then skips these rows with a
note. pynamicalsys is never a dependency of dsanalyze.

W4 and W5 have no function here: pynamicalsys has no basin or escape
computation over a grid of initial conditions for maps (``escape_analysis``
takes one initial condition; ``basin_of_attraction`` is for continuous-time
systems only).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pynamicalsys
from pynamicalsys import DiscreteDynamicalSystem

__all__ = ["VERSION", "w1_orbits", "w2_maximal", "w3_spectrum"]

VERSION: str = getattr(pynamicalsys, "__version__", "unknown")

# Built once (cheap: no compilation happens here); parameters are passed per call.
_LOGISTIC = DiscreteDynamicalSystem(model="logistic map")
_HENON = DiscreteDynamicalSystem(model="henon map")


def w1_orbits(rs: np.ndarray, x0: float, transient: int, record: int) -> np.ndarray:
    """Orbit diagram of the logistic map: (len(rs), record) array of the recorded iterates.

    ``bifurcation_diagram`` iterates ``total_time`` steps per r and keeps the
    last ``total_time - transient_time`` of them, from the same x0 for every r.
    """
    _, out = _LOGISTIC.bifurcation_diagram([x0], 0, rs, transient + record, transient_time=transient)
    return out


def w2_maximal(x0: Sequence[float], a: float, b: float, transient: int, steps: int, method: str = "QR") -> float:
    """Maximal Lyapunov exponent of the Henon map over ``steps`` steps after ``transient``.

    ``method="QR"`` (pynamicalsys's default) renormalises one tangent vector every
    step; ``"ER"`` is its Eckmann-Ruelle angle method for 2-D maps. ``total_time``
    counts the transient, so ``steps`` steps enter the average.
    """
    return float(_HENON.lyapunov(list(x0), transient + steps, parameters=[a, b], method=method,
                                 transient_time=transient, num_exponents=1))


def w3_spectrum(x0: Sequence[float], a: float, b: float, transient: int, steps: int,
                method: str = "QR") -> np.ndarray:
    """Both Lyapunov exponents of the Henon map (``"QR"``: modified Gram-Schmidt every step)."""
    return np.asarray(_HENON.lyapunov(list(x0), transient + steps, parameters=[a, b], method=method,
                                      transient_time=transient), dtype=float)
