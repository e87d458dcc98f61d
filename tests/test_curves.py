"""Dynamics on invariant curves: conic parametrisations and the induced circle and interval maps."""
import dataclasses

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.errors import DimensionError, ExpressionError, NotInvariantError
from dsanalyze.symbolic.curves import induced_map, parametrise_conic
from dsanalyze.symbolic.invariants import find_invariant_curves
from dsanalyze.verify import Basis

F = ds.models.two_factor()
u, v = F.state
(mu,) = F.params
ELLIPSE = mu * (u**2 + v**2) - mu**2 * u * v - (4 - mu**2)
t = sp.Symbol("t", real=True)


def test_ellipse_parametrisation_from_the_quadratic_form():
    E = parametrise_conic(ELLIPSE, F)
    assert E.kind == "ellipse" and E.periodic
    assert E.centre == (0, 0)
    assert E.conditions == sp.And(sp.StrictLessThan(0, mu), sp.StrictLessThan(mu, 2))
    a, b = sp.sqrt((mu + 2) / mu), sp.sqrt((2 - mu) / mu)
    assert sp.simplify(E.coordinates[0] - (a * sp.cos(t) + b * sp.sin(t))) == 0
    assert sp.simplify(E.coordinates[1] - (a * sp.cos(t) - b * sp.sin(t))) == 0
    # principal axes along the diagonals, semi-axes sqrt(2(2 + mu)/mu) and sqrt(2(2 - mu)/mu)
    assert {tuple(e) for e in E.axes} == {(1, 1), (1, -1)}
    assert sp.simplify(E.semi_axes[0] ** 2 - 2 * (2 + mu) / mu) == 0
    assert sp.simplify(E.semi_axes[1] ** 2 - 2 * (2 - mu) / mu) == 0
    # exactly on the curve
    on = ELLIPSE.xreplace(dict(zip(F.state, E.coordinates)))
    assert sp.simplify(sp.expand(on)) == 0
    assert E.verify(mu=[0.5, 1.0, 1.9]).passed is True
    assert "0 < \\mu < 2" in E.latex() and "\\wedge" not in E.latex()


def test_two_factor_ellipse_carries_angle_tripling_with_reflection():
    (ellipse,) = [c for c in find_invariant_curves(F, 2) if sp.expand(c.expression - ELLIPSE) == 0]
    D = induced_map(F, ellipse)
    assert D.induced == sp.pi - 3 * t
    assert D.linear and D.degree == -3 and D.shift == sp.pi
    assert D.lyapunov_exponent == sp.log(3)
    assert D.rotation_number is None
    assert "tripling" in D.description
    verdict = D.verify(mu=[0.25, 0.5, 1.0, 1.5, 1.9])
    assert verdict.passed is True and verdict.basis is Basis.NUMERIC
    # for a given mu too
    D1 = induced_map(F.subs(mu=1), ELLIPSE.subs(mu, 1))
    assert D1.induced == sp.pi - 3 * t and D1.lyapunov_exponent == sp.log(3)


def test_tripling_against_a_trajectory_of_the_map():
    E = parametrise_conic(ELLIPSE, F)
    X = sp.lambdify([t, mu], list(E.coordinates))
    t0, m = 0.3, 1.2
    path = ds.trajectory(F, X(t0, m), 8, mu=m)
    angles = [t0]
    for _ in range(8):
        angles.append(np.pi - 3 * angles[-1])
    predicted = np.array([X(s, m) for s in angles])
    growth = 3.0 ** np.arange(9)
    assert np.all(np.linalg.norm(path - predicted, axis=1) <= 1e-14 * growth * 10)
    # the finite-time exponent along the curve: the tangent is stretched by exactly 3 each step
    J = ds.evaluate_jacobian(F, path[:-1], {"mu": m})
    tangents = np.array([sp.lambdify([t, mu], [sp.diff(c, t) for c in E.coordinates])(s, m) for s in angles])
    stretch = np.linalg.norm(np.einsum("nij,nj->ni", J, tangents[:-1]), axis=1) / np.linalg.norm(tangents[1:], axis=1)
    assert np.allclose(np.mean(np.log(stretch)), np.log(3), atol=1e-12)


def test_rotation_and_doubling():
    rotation = ds.Map("x y", ["(3*x - 4*y)/5", "(4*x + 3*y)/5"])
    D = induced_map(rotation, "x**2 + y**2 - 4")
    assert D.induced == t + sp.atan(sp.Rational(4, 3))
    assert D.lyapunov_exponent == 0 and D.rotation_number == sp.atan(sp.Rational(4, 3)) / (2 * sp.pi)
    assert D.verify().passed is True
    squaring = ds.Map("x y", ["x**2 - y**2", "2*x*y"])
    D2 = induced_map(squaring, "x**2 + y**2 - 1")
    assert D2.induced == 2 * t and D2.lyapunov_exponent == sp.log(2)
    assert D2.verify().passed is True


def test_interval_map_on_an_invariant_line():
    D = induced_map(F, u - v)
    assert D.parametrisation.kind == "line" and not D.linear
    assert sp.expand(D.induced - (t - mu * (t**2 - 1) * t)) == 0       # the cubic map, as it should be
    assert D.lyapunov_exponent is None
    assert D.verify(mu=[0.5, 1.2]).passed is True
    linear = ds.Map("x y", ["2*x", "y/2"])
    L = induced_map(linear, "y")
    assert L.induced == 2 * t and L.lyapunov_exponent == sp.log(2)


def test_other_conics():
    x, y = sp.symbols("x y", real=True)
    H = parametrise_conic(x**2 - y**2 - 1, (x, y))
    assert H.kind == "hyperbola"
    assert H.verify().passed is True
    P = parametrise_conic(y - x**2, (x, y))
    assert P.kind == "parabola" and P.verify().passed is True
    tilted = parametrise_conic(2 * x**2 + x * y + y**2 - 3 * x - 1, (x, y))
    assert tilted.kind == "ellipse" and tilted.verify().passed is True


def test_wrong_claims_fail_and_bad_input_raises():
    D = induced_map(F, ELLIPSE)
    assert dataclasses.replace(D, induced=sp.pi + 3 * t).verify(mu=1.0).passed is False
    assert dataclasses.replace(D, induced=sp.pi - 3 * t + sp.Rational(1, 10**6)).verify(mu=1.0).passed is False
    E = parametrise_conic(ELLIPSE, F)
    wrong = dataclasses.replace(E, coordinates=(E.coordinates[0] * 1.0001, E.coordinates[1]))
    assert wrong.verify(mu=1.0).passed is False
    assert D.verify(mu=2.5).passed is None          # not an ellipse there: not checked, not passed
    with pytest.raises(NotInvariantError):
        induced_map(F, u**2 + v**2 - 1)
    with pytest.raises(ExpressionError, match="splits"):
        parametrise_conic(u**2 - v**2, F)
    with pytest.raises(ExpressionError, match="degree"):
        parametrise_conic(u**3 - v, F)
    with pytest.raises(DimensionError):
        parametrise_conic(u**2 + v**2 - 1)
