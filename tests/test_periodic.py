"""Periodic orbits: exact points, multipliers, existence and stability regions, and their numeric checks."""
import dataclasses

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.errors import DimensionError, DsAnalyzeError, ParameterError, SymbolicTimeout, UnknownSymbolError
from dsanalyze.symbolic.periodic import periodic_orbits
from dsanalyze.verify import Basis

POSITIVE = sp.Interval.open(0, sp.oo)


@pytest.fixture(scope="module")
def logistic_two_cycle():
    F = ds.models.logistic()
    (orbit,) = periodic_orbits(F, 2)
    return F, orbit


@pytest.fixture(scope="module")
def cubic_two_cycles():
    F = ds.models.cubic()
    return F, periodic_orbits(F, 2)


def _exactly_equal(a, b):
    return sp.simplify(sp.radsimp(a - b)) == 0


# ---- logistic -------------------------------------------------------------------

def test_logistic_two_cycle_points_are_the_roots_of_the_quotient(logistic_two_cycle):
    F, orbit = logistic_two_cycle
    (x,), (r,) = F.state, F.params
    assert orbit.period == 2 and orbit.basis is Basis.PROVED
    quotient = r**2 * x**2 - r * (r + 1) * x + r + 1
    assert sp.factor(orbit.equations[0] - quotient) == 0 or sp.factor(orbit.equations[0] + quotient) == 0
    roots = set(sp.roots(sp.Poly(quotient, x)))
    assert {sp.radsimp(p[0]) for p in orbit.points} == {sp.radsimp(z) for z in roots}
    # F carries each point to the other, exactly
    x0, x1 = orbit.points[0][0], orbit.points[1][0]
    assert _exactly_equal(F.rhs[0].subs(x, x0), x1)
    assert _exactly_equal(F.rhs[0].subs(x, x1), x0)


def test_logistic_two_cycle_multiplier_is_exact(logistic_two_cycle):
    F, orbit = logistic_two_cycle
    (r,) = F.params
    assert orbit.multiplier == 4 + 2 * r - r**2
    assert orbit.multiplier == -(r**2 - 2 * r - 4).expand()
    assert orbit.multipliers == (4 + 2 * r - r**2,)
    assert orbit.trace is None and orbit.determinant is None


def test_logistic_two_cycle_is_born_at_3_and_stable_up_to_1_plus_sqrt6(logistic_two_cycle):
    F, orbit = logistic_two_cycle
    (r,) = F.params
    assert orbit.existence_region(r) == sp.Union(sp.Interval.open(-sp.oo, -1), sp.Interval.open(3, sp.oo))
    assert orbit.existence_region(r, POSITIVE) == sp.Interval.open(3, sp.oo)
    stable = orbit.stability_region(r, POSITIVE)
    assert stable == sp.Interval.open(3, 1 + sp.sqrt(6))
    assert stable == sp.Intersection(sp.Interval.open(3, 1 + sp.sqrt(6)), orbit.existence_region(r, POSITIVE))
    assert orbit.stability_region(r) == sp.Union(
        sp.Interval.open(1 - sp.sqrt(6), -1), sp.Interval.open(3, 1 + sp.sqrt(6))
    )
    # born at r = 3 out of the fixed point (r - 1)/r = 2/3, with multiplier 1 (flip of the fixed point)
    assert all(sp.simplify(p[0].subs(r, 3)) == sp.Rational(2, 3) for p in orbit.points)
    assert orbit.multiplier.subs(r, 3) == 1
    assert orbit.multiplier.subs(r, 1 + sp.sqrt(6)).expand() == -1


def test_logistic_two_cycle_verifies(logistic_two_cycle):
    F, orbit = logistic_two_cycle
    verdict = orbit.verify(r=[3.2, 3.449, 3.5, 3.9, -1.5, 2.5])
    assert verdict.passed is True and verdict.basis is Basis.NUMERIC
    assert verdict.measured["return error"] < 1e-12
    assert verdict.measured["multiplier error"] < 1e-9


def test_logistic_two_cycle_against_long_iteration(logistic_two_cycle):
    F, orbit = logistic_two_cycle
    path = ds.trajectory(F, [0.3], 4000, r=3.3)
    tail = np.sort(path[-2:, 0])
    predicted = np.sort(orbit.numeric_points(r=3.3).real[:, 0])
    assert np.allclose(tail, predicted, rtol=0, atol=1e-12)


def test_logistic_wrong_claims_fail(logistic_two_cycle):
    F, orbit = logistic_two_cycle
    (r,) = F.params
    wrong_multiplier = dataclasses.replace(orbit, multiplier=orbit.multiplier + 1)
    assert wrong_multiplier.verify(r=3.2).passed is False
    wrong_point = dataclasses.replace(orbit, points=((orbit.points[0][0] + sp.Rational(1, 10**6),), orbit.points[1]))
    assert wrong_point.verify(r=3.2).passed is False
    wrong_existence = dataclasses.replace(orbit, existence=r > 2)
    assert wrong_existence.verify(r=2.5).passed is False
    not_claimed = dataclasses.replace(orbit, existence=r > 4)
    assert not_claimed.verify(r=3.5).passed is False


def test_logistic_three_cycles_without_closed_form_points():
    F = ds.models.logistic()
    (r,) = F.params
    orbits = periodic_orbits(F, 3)
    assert len(orbits) == 2 and all(o.points is None for o in orbits)
    expected = {-(r - 4) * (r + 2) + s * r * (r - 2) * sp.sqrt(r**2 - 2 * r - 7) for s in (1, -1)}
    assert {sp.expand(o.multiplier) for o in orbits} == {sp.expand(m) for m in expected}
    for o in orbits:
        assert o.existence_region(r, POSITIVE) == sp.Interval.open(1 + 2 * sp.sqrt(2), sp.oo)
        assert o.verify(r=[3.5, 3.83, 3.9, 4.0]).passed is True
    # one is born stable in the saddle-node at 1 + sqrt(8) and period-doubles at r = 3.8414990...
    # (solving that sextic exactly takes SymPy a few seconds: check the condition at points instead)
    def stable(o, value):
        return bool(sp.And(o.stability, o.existence).subs(r, value))

    assert sorted(stable(o, sp.Rational(383, 100)) for o in orbits) == [False, True]
    assert not any(stable(o, sp.Rational(3845, 1000)) for o in orbits)
    assert not any(stable(o, sp.Rational(382, 100)) for o in orbits)


# ---- cubic ------------------------------------------------------------------------

def _born_at_one(orbits):
    mu = sp.Symbol("mu", real=True)
    return [o for o in orbits if sp.expand(o.multiplier - (7 - 4 * mu - 2 * mu**2)) == 0]


def test_cubic_two_cycles_in_closed_form(cubic_two_cycles):
    F, orbits = cubic_two_cycles
    (mu,) = F.params
    assert len(orbits) == 3
    symmetric = [o for o in orbits if o.multiplier == (2 * mu + 5) ** 2]
    assert len(symmetric) == 1
    (o,) = symmetric
    a = sp.sqrt((mu + 2) / mu)
    assert {p[0] for p in o.points} == {a, -a}
    assert o.existence_region(mu) == sp.Union(sp.Interval.open(-sp.oo, -2), sp.Interval.open(0, sp.oo))
    assert o.stability_region(mu) == sp.Interval.open(-3, -2)
    assert o.stability_region(mu, POSITIVE) is sp.S.EmptySet

    born = _born_at_one(orbits)
    assert len(born) == 2
    p, q = sp.sqrt((mu + 3) / mu) / 2, sp.sqrt((mu - 1) / mu) / 2
    assert {frozenset(pt[0] for pt in o.points) for o in born} == {frozenset({p + q, p - q}), frozenset({-p - q, q - p})}
    for o in born:
        assert o.multiplier == 7 - 4 * mu - 2 * mu**2
        assert o.existence_region(mu) == sp.Union(sp.Interval.open(-sp.oo, -3), sp.Interval.open(1, sp.oo))
        assert o.stability_region(mu, POSITIVE) == sp.Interval.open(1, sp.sqrt(5) - 1)
        assert o.stability_region(mu) == sp.Union(sp.Interval.open(-1 - sp.sqrt(5), -3), sp.Interval.open(1, sp.sqrt(5) - 1))


def test_cubic_two_cycle_is_born_in_the_flip_at_mu_1(cubic_two_cycles):
    F, orbits = cubic_two_cycles
    (mu,) = F.params
    for o in _born_at_one(orbits):
        assert {sp.simplify(pt[0].subs(mu, 1)) for pt in o.points} in ({1}, {-1})
        assert o.multiplier.subs(mu, 1) == 1


def test_cubic_two_cycle_against_iteration(cubic_two_cycles):
    F, orbits = cubic_two_cycles
    born = _born_at_one(orbits)
    # inside the stability interval the orbit attracts: iterating from near x = 1 lands on it
    for value in (1.1, 1.2):
        tail = np.sort(ds.trajectory(F, [0.9], 20000, mu=value)[-2:, 0])
        predicted = [np.sort(o.numeric_points(mu=value).real[:, 0]) for o in born]
        assert any(np.allclose(tail, pts, atol=1e-10, rtol=0) for pts in predicted)
    # past sqrt(5) - 1 = 1.236... it no longer does (the 4-cycle takes over)
    tail = ds.trajectory(F, [0.9], 20000, mu=1.25)[-4:, 0]
    assert not np.allclose(tail[0], tail[2], atol=1e-6)
    for o in orbits:
        assert o.verify(mu=[1.05, 1.2, 1.5, 2.0, -3.5, 0.5, -2.5]).passed is True


def test_cubic_wrong_claims_fail(cubic_two_cycles):
    F, orbits = cubic_two_cycles
    (mu,) = F.params
    o = _born_at_one(orbits)[0]
    assert dataclasses.replace(o, multiplier=(2 * mu + 5) ** 2).verify(mu=1.2).passed is False
    assert dataclasses.replace(o, existence=mu > 0).verify(mu=0.5).passed is False


# ---- two-dimensional maps -----------------------------------------------------------

def test_two_factor_two_cycles():
    F = ds.models.two_factor()
    (mu,) = F.params
    orbits = periodic_orbits(F, 2)
    # the curve uv = 1 and the origin are fixed: not reported as 2-cycles
    assert all(o.points is not None for o in orbits)
    diagonal = [o for o in orbits if all(sp.simplify(p[0] - p[1]) == 0 for p in o.points)]
    born = [o for o in diagonal if sp.expand(o.trace - (10 - 6 * mu - 2 * mu**2)) == 0]
    assert len(born) == 2
    for o in born:
        assert o.determinant == 4 * mu**3 + 2 * mu**2 - 26 * mu + 21
        # the same interval as on the balanced slice: the transverse direction is stable too
        assert o.stability_region(mu, POSITIVE) == sp.Interval.open(1, sp.sqrt(5) - 1)
    for o in orbits:
        assert o.verify(mu=[0.5, 1.1, 1.5, 1.9, 2.5]).passed is not False


def test_henon_two_cycle():
    F = ds.models.henon()
    a, b = F.params
    (o,) = periodic_orbits(F, 2)
    assert o.trace == -4 * a + 4 * b**2 - 6 * b + 4 and o.determinant == b**2
    assert o.verify(a=1.4, b=0.3).passed is True
    assert o.verify(a=[0.5, 1.0], b=[0.3, -0.2]).passed is True
    assert dataclasses.replace(o, determinant=b).verify(a=1.4, b=0.3).passed is False
    assert o.stability_region(a, b=sp.Rational(3, 10)) == sp.Interval.open(sp.Rational(147, 400), sp.Rational(73, 80))


def test_latex_reads_like_a_paper(logistic_two_cycle):
    F, orbit = logistic_two_cycle
    text = orbit.latex()
    assert "3 < r < 1 + \\sqrt{6}" in text
    assert "\\lambda = - r^{2} + 2 r + 4" in text
    assert "\\wedge" not in text


# ---- errors and budgets ---------------------------------------------------------------

def test_bad_input():
    with pytest.raises(DsAnalyzeError, match="needs a Map"):
        periodic_orbits(ds.models.lorenz(), 2)
    with pytest.raises(ValueError, match="positive integer"):
        periodic_orbits(ds.models.logistic(), 0)
    with pytest.raises(DimensionError, match="dimension 1 and 2"):
        periodic_orbits(ds.Map("x y z", ["y", "z", "x*y"]), 2)
    with pytest.raises(DsAnalyzeError, match="identity"):
        periodic_orbits(ds.Map("x y", ["y", "x"]), 2)
    F = ds.models.logistic()
    orbit = periodic_orbits(F, 2)[0]
    with pytest.raises(UnknownSymbolError):
        orbit.stability_region("q")
    with pytest.raises(ParameterError, match="not a parameter"):
        orbit.stability_region(F.state[0])


def test_budget_names_the_step():
    with pytest.raises(SymbolicTimeout, match="periodic orbits of period 6"):
        periodic_orbits(ds.models.logistic(), 6, timeout=0.05)


def test_fixed_points_as_one_orbits():
    F = ds.models.logistic()
    (r,) = F.params
    orbits = periodic_orbits(F, 1)
    assert {o.points[0][0] for o in orbits} == {0, (r - 1) / r}
    assert {sp.factor(o.multiplier) for o in orbits} == {r, 2 - r}
