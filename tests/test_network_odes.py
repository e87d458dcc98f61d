"""Deterministic network models (EBCM, HMF, pairwise, NIMFA) on the compiled integrator."""
import networkx as nx
import numpy as np
import pytest
import sympy as sp

from dsanalyze.errors import ParameterError
from dsanalyze.numeric.flows import integrate
from dsanalyze.numeric.graphs import erdos_renyi
from dsanalyze.numeric.network_odes import ebcm, ebcm_solve, hmf_sir, hmf_sis, nimfa_sir, nimfa_sis, pairwise_sir
from dsanalyze.symbolic.epidemic import final_size
from dsanalyze.symbolic.network import degree_distribution, network_final_size, transmissibility

k = sp.Symbol("k", nonnegative=True)
POISSON10 = degree_distribution(sp.exp(-10) * 10**k / sp.factorial(k), k)


def test_ebcm_final_size_er_mean_degree_10():
    s = ebcm_solve(POISSON10, 0.3, 1.0, 0.001)
    assert round(s.final_size, 5) == 0.86395
    # the integrated curve ends at the solved final size, and S + I + R = 1
    assert abs(s.R[-1] - s.final_size) < 1e-8
    assert np.allclose(s.S + s.I + s.R, 1.0)


def test_ebcm_final_size_tends_to_percolation_prediction_as_rho_to_0():
    s = ebcm_solve([3] * 4, 3.0, 1.0, 1e-9)
    assert abs(s.final_size - 26 / 27) < 1e-7
    z = network_final_size(POISSON10, transmissibility(0.3, 1)).value()
    assert abs(ebcm_solve(POISSON10, 0.3, 1.0, 1e-10).final_size - z) < 1e-7


def test_ebcm_curve_against_simulation():
    g = erdos_renyi(100_000, 10, seed=1)
    v = ebcm_solve(POISSON10, 0.3, 1.0, 0.001, t=np.linspace(0, 30, 61)).verify(g, runs=6, seed=1)
    assert v.passed, str(v)


def test_ebcm_needs_numeric_distribution():
    c = sp.Symbol("c", positive=True)
    with pytest.raises(ParameterError):
        ebcm(degree_distribution(sp.exp(-c) * c**k / sp.factorial(k), k))


def test_pairwise_is_exact_for_random_regular_graphs():
    # the pairwise closure is exact on random 3-regular graphs: final size 26/27 at T = 3/4
    P = pairwise_sir(3)
    e = 1e-9
    y = integrate(P, [1 - e, e, 3 * (1 - e) ** 2, 3 * (1 - e) * e], [0.0, 300.0], tau=3.0, gamma=1.0)
    assert abs(1 - y[-1, 0] - y[-1, 1] - 26 / 27) < 1e-6


def test_hmf_on_regular_degrees_is_well_mixed_sir():
    # all degrees k: S' = -tau k S I, so R0 = tau k / gamma and z = 1 - exp(-R0 z)
    H = hmf_sir([4] * 10)
    e = 1e-10
    y = integrate(H, [1 - e, e], [0.0, 400.0], tau=0.5, gamma=1.0)
    assert abs(1 - y[-1, 0] - y[-1, 1] - final_size(2).value()) < 1e-7


def test_hmf_sis_endemic_level():
    # regular degree k: I* = 1 - gamma / (tau k)
    H = hmf_sis([5] * 10)
    y = integrate(H, [0.01], [0.0, 200.0], tau=0.5, gamma=1.0)
    assert abs(y[-1, 0] - (1 - 1 / 2.5)) < 1e-8


def test_nimfa_sis_on_complete_graph_and_threshold():
    n = 12
    N = nimfa_sis(nx.complete_graph(n))
    y = integrate(N, np.full(n, 0.1), [0.0, 200.0], tau=0.25, gamma=1.0)
    assert np.allclose(y[-1], 1 - 1 / (0.25 * (n - 1)), atol=1e-9)
    # below 1 / lambda_max = 1 / (n - 1) it dies out
    y = integrate(N, np.full(n, 0.1), [0.0, 200.0], tau=0.8 / (n - 1), gamma=1.0)
    assert np.max(y[-1]) < 1e-6


def test_nimfa_sir_conserves_and_ends():
    G = nx.cycle_graph(8)
    N = nimfa_sir(G)
    x0 = np.concatenate([np.full(8, 0.99), np.full(8, 0.01)])
    y = integrate(N, x0, [0.0, 100.0], tau=1.0, gamma=1.0)
    assert np.all(y[-1, 8:] < 1e-6) and np.all(y[-1, :8] <= 0.99)
