"""Numeric k-cycles against closed forms, the symbolic periodic orbits and published counts."""
import math

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.numeric.cycles import NumericCycle, cycle_newton, find_cycles


def necklaces(k: int) -> int:
    """Period-k orbits of the full logistic map (r = 4): (1/k) sum_{d | k} mu(k/d) 2^d."""
    return sum(int(sp.mobius(k // d)) * 2**d for d in range(1, k + 1) if k % d == 0) // k


def test_necklace_formula_values():
    assert [necklaces(k) for k in range(1, 9)] == [2, 1, 2, 3, 6, 9, 18, 30]


@pytest.mark.parametrize("k", range(1, 9))
def test_full_logistic_counts_are_necklace_numbers(k):
    cycles = find_cycles(ds.models.logistic(), k, [0, 1], r=4.0)
    assert len(cycles) == necklaces(k)
    for c in cycles:
        assert c.period == k and c.points.shape == (k, 1)
        assert c.residual < 1e-12
        # At r = 4 every cycle is repelling: |multiplier| = 2^k through the conjugacy with the tent map,
        # except the fixed point x = 0 whose multiplier is r = 4.
        assert not c.stable
    if k >= 2:
        assert all(abs(abs(c.multipliers[0]) - 2.0**k) < 1e-6 * 2**k for c in cycles)


def test_full_logistic_fixed_points_closed_form():
    c0, c1 = find_cycles(ds.models.logistic(), 1, [0, 1], r=4.0)
    assert c0.points[0, 0] == pytest.approx(0.0, abs=1e-14) and c0.multipliers[0] == pytest.approx(4.0)
    assert c1.points[0, 0] == pytest.approx(0.75) and c1.multipliers[0] == pytest.approx(-2.0)


def test_logistic_three_cycles_at_3_83_match_symbolic():
    F = ds.models.logistic()
    cycles = find_cycles(F, 3, [0, 1], r=3.83)
    assert len(cycles) == 2
    assert sorted(c.stable for c in cycles) == [False, True]
    # The exact multipliers from the symbolic periodic orbits: -r(r-2)sqrt(r^2-2r-7) - (r-4)(r+2) and its conjugate.
    r = 3.83
    exact = sorted([s * r * (r - 2) * math.sqrt(r * r - 2 * r - 7) - (r - 4) * (r + 2) for s in (-1, 1)])
    numeric = sorted(float(c.multipliers[0].real) for c in cycles)
    assert numeric == pytest.approx(exact, rel=1e-9)
    symbolic = ds.periodic_orbits(F, 3)
    assert len(symbolic) == len(cycles)
    # Every numeric orbit is an orbit: F(x_i) = x_{i+1}.
    for c in cycles:
        x = c.points[:, 0]
        assert np.allclose(r * x * (1 - x), np.roll(x, -1), atol=1e-12)


def test_logistic_two_cycle_closed_form():
    r = 3.2
    (c,) = find_cycles(ds.models.logistic(), 2, [0, 1], r=r)
    exact = sorted([((r + 1) + s * math.sqrt((r - 3) * (r + 1))) / (2 * r) for s in (-1, 1)])
    assert c.points[:, 0].tolist() == pytest.approx(exact, abs=1e-12)
    assert c.multipliers[0].real == pytest.approx(-r * r + 2 * r + 4, abs=1e-10)
    assert c.stable


def test_henon_counts_match_published():
    # Davis, MacKay & Sannami (1991): the Henon map at (1.4, 0.3) has 2 fixed points, one orbit of
    # period 2, none of period 3, one of period 4, none of period 5 and two of period 6.
    H = ds.models.henon()
    box = [[-2, 2], [-2, 2]]
    assert [len(find_cycles(H, k, box)) for k in (1, 2, 3, 4, 5, 6)] == [2, 1, 0, 1, 0, 2]


def test_henon_fixed_points_closed_form():
    a, b = 1.4, 0.3
    cycles = find_cycles(ds.models.henon(), 1, [[-2, 2], [-2, 2]])
    xs = sorted(c.points[0, 0] for c in cycles)
    exact = sorted([(-(1 - b) + s * math.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a) for s in (-1, 1)])
    assert xs == pytest.approx(exact, abs=1e-12)
    for c in cycles:
        assert np.prod(c.multipliers).real == pytest.approx(-b, abs=1e-12)      # det DF = -b
        assert c.points[0, 1] == pytest.approx(b * c.points[0, 0], abs=1e-12)
        assert not c.stable


def test_henon_two_cycle_is_one_orbit_with_symbolic_count():
    H = ds.models.henon()
    (c,) = find_cycles(H, 2, [[-2, 2], [-2, 2]])
    assert c.points.shape == (2, 2)
    assert np.prod(c.multipliers).real == pytest.approx(0.09, abs=1e-12)       # det = b^2
    assert len(ds.periodic_orbits(H.subs(a=sp.Rational(7, 5), b=sp.Rational(3, 10)), 2)) == 1


def test_reproducible_with_seed_and_cycle_newton():
    F = ds.models.logistic()
    a = find_cycles(F, 4, [0, 1], seed=3, r=3.9)
    b = find_cycles(F, 4, [0, 1], seed=3, r=3.9)
    assert [c.points.tolist() for c in a] == [c.points.tolist() for c in b]
    x, residual, m = cycle_newton(F, [[0.7], [0.6]], 1, {"r": [3.2, 3.5]})
    assert x[:, 0] == pytest.approx([1 - 1 / 3.2, 1 - 1 / 3.5], abs=1e-13)
    assert m[:, 0].real == pytest.approx([2 - 3.2, 2 - 3.5], abs=1e-12)
    assert (residual < 1e-12).all()
    assert isinstance(a[0], NumericCycle)


def test_bad_arguments():
    F = ds.models.logistic()
    with pytest.raises(ValueError):
        find_cycles(F, 13, [0, 1], r=4.0)
    with pytest.raises(ds.errors.DimensionError):
        find_cycles(F, 2, [[0, 1], [0, 1]], r=4.0)
    with pytest.raises(TypeError):
        find_cycles(ds.models.lorenz(), 1, [[0, 1]] * 3)
