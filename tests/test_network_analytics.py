"""Generating functions, transmissibility, thresholds, final size and outbreak probability on networks."""

import networkx as nx
import numpy as np
import pytest
import sympy as sp

from dsanalyze.numeric.graphs import configuration_model, erdos_renyi
from dsanalyze.symbolic.network import (
    DegreeDistribution, DegreeDistributionError, degree_distribution, epidemic_threshold, network_final_size, outbreak_probability,
    sis_thresholds, transmissibility, x,
)


def test_three_regular_final_size_is_26_over_27_exactly():
    F = network_final_size([3] * 10, transmissibility(3, 1))
    assert F.T == sp.Rational(3, 4)
    assert F.u == sp.Rational(1, 9)
    assert F.z == sp.Rational(26, 27)
    assert F.exact


def test_generating_functions_from_graph_sequence_and_pmf():
    d = degree_distribution(nx.star_graph(3))  # degrees 3, 1, 1, 1
    assert d.G0 == sp.Rational(3, 4) * x + x**3 / 4
    assert sp.simplify(d.G1 - (sp.Rational(1, 2) + x**2 / 2)) == 0
    assert d.mean == sp.Rational(3, 2) and d.second_moment == 3
    k, c = sp.symbols("k c", nonnegative=True)
    poisson = degree_distribution(sp.exp(-c) * c**k / sp.factorial(k), k)
    assert poisson.G0 == sp.exp(c * (x - 1))
    assert sp.simplify(poisson.G1 - poisson.G0) == 0
    assert sp.simplify(poisson.second_moment - (c**2 + c)) == 0


def test_threshold_values():
    assert epidemic_threshold([3] * 4).Tc == sp.Rational(1, 2)
    k = sp.Symbol("k", nonnegative=True)
    assert epidemic_threshold(degree_distribution(sp.exp(-10) * 10**k / sp.factorial(k), k)).Tc == sp.Rational(1, 10)
    with pytest.raises(DegreeDistributionError):
        epidemic_threshold([1, 1])


def test_transmissibility_formulas():
    assert transmissibility(3, 1).T == sp.Rational(3, 4)
    assert transmissibility(1, 2, "fixed").T == 1 - sp.exp(-sp.Rational(1, 2))
    assert transmissibility(3, 1).verify(seed=1).passed
    assert transmissibility(1, 2, "fixed").verify(seed=1).passed
    with pytest.raises(ValueError):
        transmissibility(1, 1, "gamma")


def test_poisson_final_size_numeric_agrees_with_lambert_w():
    # Poisson(c): u = exp(c T (u - 1)) and z = 1 - u, so z = 1 + W(-cT e^{-cT}) / (cT)
    k = sp.Symbol("k", nonnegative=True)
    d = degree_distribution(sp.exp(-10) * 10**k / sp.factorial(k), k)
    F = network_final_size(d, transmissibility(0.3, 1))
    cT = 10 * 0.3 / 1.3
    exact = 1 + float(sp.LambertW(-cT * sp.exp(-cT))) / cT
    assert not F.exact
    assert abs(F.value() - exact) < 1e-14


def test_outbreak_probability_differs_from_final_size_with_exponential_periods():
    P = outbreak_probability([3] * 4, 3, 1)
    assert P.v == sp.Rational(2, 9) and P.P == sp.Rational(77, 90)
    assert P.P < network_final_size([3] * 4, sp.Rational(3, 4)).z
    # a fixed period: the two coincide
    Pf = outbreak_probability([3] * 4, 3, 1, "fixed")
    Ff = network_final_size([3] * 4, transmissibility(3, 1, "fixed"))
    assert sp.simplify(Pf.P - Ff.z) == 0


def test_outbreak_probability_numeric_path_agrees_with_exact():
    # 3-regular given only by its generating function: the quadrature path, same number
    P = outbreak_probability(DegreeDistribution(x**3), 3, 1)
    assert not P.exact
    assert abs(P.value() - 77 / 90) < 1e-12


def test_sis_thresholds():
    s = sis_thresholds(nx.complete_graph(6))
    assert s.nimfa == pytest.approx(1 / 5, abs=1e-12)
    assert s.hmf == sp.Rational(1, 5)
    g = erdos_renyi(800, 10, seed=1)  # above 500 nodes: ARPACK, checked against a dense solve
    s = sis_thresholds(g)
    assert s.lambda_max == pytest.approx(float(np.max(np.linalg.eigvalsh(g.to_scipy().toarray()))), rel=1e-9)
    assert s.verify().passed
    d = g.degrees()
    assert s.hmf == sp.Rational(int(d.sum()), int((d**2).sum()))


def test_final_size_verified_by_simulation():
    g = configuration_model([3] * 20_000, seed=4)
    v = network_final_size([3] * 4, transmissibility(3, 1)).verify(g, runs=40, seed=1)
    assert v.passed, str(v)


def test_threshold_and_outbreak_probability_verified_by_simulation():
    g = configuration_model([3] * 10_000, seed=2)
    assert epidemic_threshold([3] * 4).verify(g, runs=30, seed=1).passed
    v = outbreak_probability([3] * 4, 3, 1).verify(g, runs=400, seed=3)
    assert v.passed, str(v)
