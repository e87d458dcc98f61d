"""Where each library model is worth looking: the parameter to sweep and the ranges.

:func:`dsanalyze.analyze` uses these when the caller gives no ``param`` or
``ranges``; a model file gives its own. The ranges cover the regimes the
model's docstring speaks of (for the two-factor map: the stable minima, the
edge of stability mu (u^2 + v^2) = 2 and the escape beyond mu = 2).
"""
from __future__ import annotations

__all__ = ["SUGGESTED"]

#: model name -> (parameter to sweep, {symbol name: (lo, hi)}) for parameters and state variables.
SUGGESTED: dict[str, tuple[str | None, dict[str, tuple[float, float]]]] = {
    "two-factor": ("mu", {"mu": (0.0, 2.0), "u": (-2.0, 2.0), "v": (-2.0, 2.0)}),
    "cubic": ("mu", {"mu": (0.0, 2.0), "x": (-2.0, 2.0)}),
    "double-well-gd": ("eta", {"eta": (0.0, 0.35), "w": (-2.0, 2.0)}),
    "ring-gd": ("eta", {"eta": (0.0, 0.3), "a": (-2.0, 2.0), "b": (-2.0, 2.0)}),
    "logistic": ("r", {"r": (0.0, 4.0), "x": (0.0, 1.0)}),
    "henon": ("a", {"a": (0.0, 1.4), "b": (0.3, 0.3), "x": (-1.5, 1.5), "y": (-1.5, 1.5)}),
    "standard-map": ("K", {"K": (0.0, 2.0), "p": (-3.141592653589793, 3.141592653589793),
                            "theta": (0.0, 6.283185307179586)}),
    "lorenz": ("rho", {"rho": (0.0, 30.0), "sigma": (10.0, 10.0), "beta": (8 / 3, 8 / 3),
                       "x": (-20.0, 20.0), "y": (-25.0, 25.0), "z": (0.0, 50.0)}),
    "sir": ("beta", {"beta": (0.0, 4.0), "gamma": (1.0, 1.0), "S": (0.0, 1.0), "I": (0.0, 1.0), "R": (0.0, 1.0)}),
    "seir": ("beta", {"beta": (0.0, 4.0), "sigma": (0.5, 0.5), "gamma": (1.0, 1.0), "mu": (0.02, 0.02),
                      "S": (0.0, 1.0), "E": (0.0, 1.0), "I": (0.0, 1.0), "R": (0.0, 1.0)}),
}
