"""Maps of the library: training dynamics and the classic maps."""
from __future__ import annotations

import sympy as sp

from ..systems import Map, gd_map

__all__ = ["two_factor", "cubic", "double_well_gd", "ring_gd", "logistic", "henon", "standard_map"]


def _real(names: str):
    return sp.symbols(names, real=True)


def two_factor() -> Map:
    r"""The two-factor map: gradient descent on L(u, v) = (uv - 1)^2 / 2 with step mu.

    .. math::
        u' = u - \mu (uv - 1) v, \qquad v' = v - \mu (uv - 1) u

    It is the normalised one-prompt linear transformer (one attention factor
    times one value factor fitting a unit target). Fixed points: the origin
    and the curve uv = 1; the ellipse mu(u^2+v^2) - mu^2 uv = 4 - mu^2 is invariant.

    Source: the two-layer scalar factorisation model of Lewkowycz et al.,
    "The large learning rate phase of deep learning: the catapult mechanism"
    (arXiv:2003.02218, 2020); the linear-transformer reading in
    Kalra, He & Barkeshli, "Universal sharpness dynamics in neural network
    training" (arXiv:2311.02076, 2023).
    """
    u, v, mu = _real("u v mu")
    return Map(
        (u, v), (u - mu * (u * v - 1) * v, v - mu * (u * v - 1) * u), (mu,),
        name="two-factor",
        description="gradient descent on (uv - 1)^2/2: the normalised one-prompt linear transformer",
        reference="Lewkowycz et al., arXiv:2003.02218 (2020); Kalra, He & Barkeshli, arXiv:2311.02076 (2023)",
        loss=(u * v - 1) ** 2 / 2,
    )


def cubic() -> Map:
    r"""The cubic map x' = x - mu (x^2 - 1) x: the balanced slice u = v of the two-factor map.

    Fixed points 0 and +-1; the nonzero ones flip at mu = 1 and the map
    period-doubles into chaos as mu grows (the catapult/edge-of-stability
    toy model).

    Source: Kalra, He & Barkeshli, arXiv:2311.02076 (2023); Zhu et al.,
    "Understanding edge-of-stability training dynamics with a minimalist
    example" (arXiv:2210.03294, 2022).
    """
    x, mu = _real("x mu")
    return Map(
        (x,), (x - mu * (x**2 - 1) * x,), (mu,),
        name="cubic",
        description="balanced slice u = v of the two-factor map",
        reference="Kalra, He & Barkeshli, arXiv:2311.02076 (2023); Zhu et al., arXiv:2210.03294 (2022)",
    )


def double_well_gd() -> Map:
    r"""Gradient descent on the double well L(w) = w^4 - 2 w^2 with learning rate eta.

    .. math:: w' = w - \eta (4 w^3 - 4 w)

    Minima w = +-1 (curvature 8), stable for 0 < eta < 1/4.

    Source: the quartic double-well potential, e.g. S. H. Strogatz,
    *Nonlinear Dynamics and Chaos*, 2nd ed. (Westview, 2015), ch. 2 and 6.
    """
    w = sp.Symbol("w", real=True)
    eta = sp.Symbol("eta", positive=True)
    return gd_map(
        w**4 - 2 * w**2, (w,), eta, name="double-well-gd",
        description="gradient descent on the double well w^4 - 2w^2",
        reference="S. H. Strogatz, Nonlinear Dynamics and Chaos, 2nd ed. (2015)",
    )


def ring_gd() -> Map:
    r"""Gradient descent on L(a, b) = (a^2 + b^2 - 1)^2 + ab with learning rate eta.

    A ring-shaped valley tilted by ab: two minima on the diagonal b = -a.
    Benchmark W4 draws its basins at eta = 0.1.

    Source: the ring loss of the dsanalyze benchmarks (BENCHMARKS.md, W4).
    """
    a, b = _real("a b")
    eta = sp.Symbol("eta", positive=True)
    return gd_map(
        (a**2 + b**2 - 1) ** 2 + a * b, (a, b), eta, name="ring-gd",
        description="gradient descent on the tilted ring (a^2+b^2-1)^2 + ab",
        reference="dsanalyze benchmark W4",
    )


def logistic() -> Map:
    r"""The logistic map x' = r x (1 - x).

    Fixed points 0 and (r - 1)/r; period doubling from r = 3 accumulating at
    r = 3.5699456...; fully chaotic at r = 4 (Lyapunov exponent ln 2).

    Source: R. M. May, "Simple mathematical models with very complicated
    dynamics", Nature 261, 459-467 (1976).
    """
    x, r = _real("x r")
    return Map((x,), (r * x * (1 - x),), (r,), name="logistic",
               description="the logistic map", reference="R. M. May, Nature 261, 459-467 (1976)")


def henon() -> Map:
    r"""The Hénon map x' = 1 - a x^2 + y, y' = b x (defaults a = 1.4, b = 0.3).

    The Jacobian determinant is -b, so the Lyapunov exponents sum to ln b;
    at the classic values the largest is 0.41922.

    Source: M. Hénon, "A two-dimensional mapping with a strange attractor",
    Commun. Math. Phys. 50, 69-77 (1976).
    """
    x, y, a, b = _real("x y a b")
    return Map((x, y), (1 - a * x**2 + y, b * x), (a, b), name="henon",
               description="the Hénon map", reference="M. Hénon, Commun. Math. Phys. 50, 69-77 (1976)",
               defaults={a: sp.Rational(7, 5), b: sp.Rational(3, 10)})


def standard_map() -> Map:
    r"""The Chirikov standard map, lifted to the plane (no reduction mod 2 pi).

    .. math:: p' = p + K \sin\theta, \qquad \theta' = \theta + p + K \sin\theta

    Area preserving (Jacobian determinant 1); global chaos past K = 0.971635.

    Source: B. V. Chirikov, "A universal instability of many-dimensional
    oscillator systems", Phys. Rep. 52, 263-379 (1979).
    """
    p, theta, K = _real("p theta K")
    kick = p + K * sp.sin(theta)
    return Map((p, theta), (kick, theta + kick), (K,), name="standard-map",
               description="the Chirikov standard map on the plane",
               reference="B. V. Chirikov, Phys. Rep. 52, 263-379 (1979)")
