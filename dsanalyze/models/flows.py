"""Flows of the library."""
from __future__ import annotations

import sympy as sp

from ..systems import Flow

__all__ = ["lorenz"]


def lorenz() -> Flow:
    r"""The Lorenz system (defaults sigma = 10, rho = 28, beta = 8/3).

    .. math::
        \dot x = \sigma (y - x), \quad \dot y = x (\rho - z) - y, \quad \dot z = x y - \beta z

    Lyapunov spectrum at the classic values about (0.9056, 0, -14.5723).

    Source: E. N. Lorenz, "Deterministic nonperiodic flow",
    J. Atmos. Sci. 20, 130-141 (1963).
    """
    x, y, z, sigma, rho, beta = sp.symbols("x y z sigma rho beta", real=True)
    return Flow((x, y, z), (sigma * (y - x), x * (rho - z) - y, x * y - beta * z), (sigma, rho, beta),
                name="lorenz", description="the Lorenz convection model",
                reference="E. N. Lorenz, J. Atmos. Sci. 20, 130-141 (1963)",
                defaults={sigma: 10, rho: 28, beta: sp.Rational(8, 3)})
