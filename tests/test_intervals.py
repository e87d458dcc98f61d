"""Exact one-parameter regions (solve_region) and their printing as chained inequalities."""
import pytest
import sympy as sp

from dsanalyze.errors import DsAnalyzeError
from dsanalyze.symbolic.intervals import RegionError, latex_chain, latex_region, solve_region

r, x = sp.symbols("r x", real=True)
eta, L = sp.symbols("eta L", positive=True)
POS = sp.Interval.open(0, sp.oo)


def test_abs_of_a_multiplier_against_one():
    assert solve_region(sp.Abs(1 - 8 * eta) < 1, eta, POS) == sp.Interval.open(0, sp.Rational(1, 4))
    assert solve_region(sp.Abs(2 - r) < 1, r) == sp.Interval.open(1, 3)


def test_abs_greater_than_gives_a_union():
    assert solve_region(sp.Abs(r) > 2, r) == sp.Union(sp.Interval.open(-sp.oo, -2), sp.Interval.open(2, sp.oo))


def test_symbolic_end_with_a_positive_symbol_is_decided():
    # solveset leaves Intersection((-oo, 2/L), (0, oo)) unevaluated; the region is (0, 2/L).
    assert solve_region(eta * L < 2, eta, POS) == sp.Interval.open(0, 2 / L)
    assert solve_region(sp.Abs(1 - eta * L) < 1, eta, POS) == sp.Interval.open(0, 2 / L)


def test_and_or_not_and_points():
    assert solve_region(sp.And(r > 1, r < 3, sp.Ne(r, 2)), r) == sp.Union(sp.Interval.open(1, 2), sp.Interval.open(2, 3))
    assert solve_region(sp.Or(r < -1, r > 1), r) == sp.Union(sp.Interval.open(-sp.oo, -1), sp.Interval.open(1, sp.oo))
    assert solve_region(sp.Not(r > 1), r) == sp.Interval(-sp.oo, 1)
    assert solve_region(sp.true, r, POS) == POS
    assert solve_region(sp.false, r) == sp.S.EmptySet


def test_polynomial_inequality_with_irrational_ends():
    region = solve_region((r - 1) ** 2 < 6, r)
    assert region == sp.Interval.open(1 - sp.sqrt(6), 1 + sp.sqrt(6))


def test_transcendental_condition_raises_a_specific_error():
    with pytest.raises(RegionError, match="not an algebraic inequality"):
        solve_region(r - sp.sin(r) < 1, r)
    assert issubclass(RegionError, DsAnalyzeError)


def test_atom_without_the_parameter_is_refused():
    with pytest.raises(RegionError, match="side condition"):
        solve_region(sp.And(r > 0, x > 1), r)


def test_latex_region_chains_and_never_prints_a_logical_and():
    assert latex_region(sp.Interval.open(0, sp.Rational(1, 4)), eta) == r"0 < \eta < \frac{1}{4}"
    assert latex_region(sp.Interval.Lopen(1, 3), r) == r"1 < r \leq 3"
    assert latex_region(sp.Interval.open(2, sp.oo), r) == "r > 2"
    assert latex_region(sp.Interval.open(-sp.oo, 2), r) == "r < 2"
    assert latex_region(sp.S.Reals, r) == r"r \in \mathbb{R}"
    assert latex_region(sp.S.EmptySet, r) == r"\text{never}"
    text = latex_region(sp.Union(sp.Interval.open(1, 2), sp.Interval.open(2, 3)), r)
    assert text == r"1 < r < 2 \;\text{or}\; 2 < r < 3"
    assert r"\wedge" not in text


def test_latex_chain_merges_bounds_of_one_expression():
    mu, u, v = sp.symbols("mu u v", real=True)
    assert latex_chain([r > 1, r < 3]) == "1 < r < 3"
    assert latex_chain([r < 3, r > 1]) == "1 < r < 3"
    assert latex_chain([sp.StrictGreaterThan(eta, 0, evaluate=False), eta < sp.Rational(1, 4)]) == r"0 < \eta < \frac{1}{4}"
    text = latex_chain([mu > 0, mu * (u**2 + v**2) < 2])
    assert text == r"\mu > 0,\quad \mu \left(u^{2} + v^{2}\right) < 2"
    assert latex_chain([sp.false]) == r"\text{never}"
    assert latex_chain([]) == r"\text{always}"
    assert r"\wedge" not in latex_chain([r > 1, r < 3, sp.Ne(r, 2)])
