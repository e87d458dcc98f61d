"""Event-driven SIR/SIS and discrete SIR on CSR graphs: must-show final sizes, reproducibility, bad graphs."""
import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sps

from dsanalyze import errors
from dsanalyze.numeric.graphs import as_csr, configuration_model, erdos_renyi, read_edge_list
from dsanalyze.numeric.network import major_outbreak_cut, simulate_sir, simulate_sir_discrete, simulate_sis

#: EBCM final size for ER <k> = 10, tau = 0.3, gamma = 1, rho = 0.001 (Miller, Slim & Volz 2012).
EBCM_ER10 = 0.86395


def test_three_regular_major_outbreaks_average_26_over_27():
    # T = tau / (tau + gamma) = 3/4; one initial infected per run; major = more than N^(2/3) infected.
    n = 100_000
    g = configuration_model([3] * n, seed=11)
    result = simulate_sir(g, tau=3.0, gamma=1.0, initial_infected=1, runs=60, seed=5)
    sizes = result.final_sizes[result.major]
    assert sizes.size >= 40  # P(major) = 77/90
    # the two kinds are far apart: nothing between 1000 and 90000 infected
    assert not np.any((result.final_counts > 1000) & (result.final_counts < 90_000))
    se = sizes.std(ddof=1) / math.sqrt(sizes.size)
    assert abs(sizes.mean() - 26 / 27) <= 3 * se, (sizes.mean(), se)


def test_erdos_renyi_final_size_matches_ebcm_at_1e5():
    g = erdos_renyi(100_000, 10, seed=3)
    result = simulate_sir(g, tau=0.3, gamma=1.0, rho=0.001, runs=8, seed=1)
    assert result.initial == 100
    assert abs(result.final_sizes.mean() / EBCM_ER10 - 1) < 0.005


def test_erdos_renyi_final_size_matches_ebcm_at_1e6():
    g = erdos_renyi(1_000_000, 10, seed=3)
    result = simulate_sir(g, tau=0.3, gamma=1.0, rho=0.001, runs=2, seed=1)
    assert abs(result.final_sizes.mean() / EBCM_ER10 - 1) < 0.005


def test_runs_are_reproducible_and_independent_of_threads_and_chunks():
    g = erdos_renyi(5000, 8, seed=1)
    a = simulate_sir(g, 0.3, 1.0, rho=0.01, runs=10, seed=42, threads=1)
    b = simulate_sir(g, 0.3, 1.0, rho=0.01, runs=10, seed=42, threads=2, progress=True)
    assert np.array_equal(a.final, b.final) and np.array_equal(a.events, b.events)
    c = simulate_sir(g, 0.3, 1.0, rho=0.01, runs=10, seed=43)
    assert not np.array_equal(a.final, c.final)


def test_time_series_of_one_run_is_consistent():
    g = erdos_renyi(3000, 6, seed=2)
    result = simulate_sir(g, 0.5, 1.0, initial_infected=[0, 1, 2], seed=3, record_events=True, t=[0, 1, 5, 1e9])
    t, S, I, R = result.time_series()
    assert np.all(np.diff(t) >= 0) and np.all(S + I + R == g.n)
    assert I[0] == 3 and I[-1] == 0 and R[-1] == result.final[0, 2]
    # counts at the output times agree with the event series
    for k, when in enumerate(result.t):
        i = np.searchsorted(t, when, side="right") - 1
        assert tuple(result.counts[0, k]) == (S[i], I[i], R[i])


def test_complete_graph_sir_agrees_with_the_well_mixed_final_size():
    # K_n with tau = R0 / (n gamma): final size -> z = 1 - exp(-R0 z), z = 0.7968 at R0 = 2
    n = 2000
    result = simulate_sir(nx.complete_graph(n), tau=2.0 / n, gamma=1.0, initial_infected=10, runs=40, seed=1)
    sizes = result.final_sizes[result.major]
    assert abs(sizes.mean() - 0.796812130) < 3 * sizes.std(ddof=1) / math.sqrt(sizes.size) + 0.01


def test_sis_endemic_level_on_complete_graph():
    # mean-field: I* = 1 - gamma / (tau (n - 1)); on K_200 with tau (n - 1) = 4, I* ~ 0.75 (finite-size corrections ~1/n)
    n = 200
    result = simulate_sis(nx.complete_graph(n), tau=4.0 / (n - 1), gamma=1.0, tmax=30, rho=0.2, runs=20, seed=2,
                          t=np.linspace(10, 30, 21))
    level = result.counts[:, :, 1].mean() / n
    assert abs(level - 0.75) < 0.02


def test_sis_below_threshold_dies_out():
    g = erdos_renyi(5000, 10, seed=1)
    result = simulate_sis(g, tau=0.02, gamma=1.0, tmax=200, rho=0.05, runs=4, seed=1)
    assert np.all(result.final[:, 1] == 0)


def test_weights_and_node_rates_scale_transmission():
    g = erdos_renyi(20_000, 10, seed=5)
    plain = simulate_sir(g, 0.3, 1.0, rho=0.001, runs=4, seed=1)
    # weight 2 everywhere == tau doubled
    weighted = as_csr(g.to_scipy() * 2.0)
    a = simulate_sir(weighted, 0.3, 1.0, rho=0.001, runs=4, seed=1)
    b = simulate_sir(g, 0.6, 1.0, rho=0.001, runs=4, seed=1)
    assert np.array_equal(a.final, b.final)
    # per-node rates equal to the scalar give the same runs
    c = simulate_sir(g, np.full(g.n, 0.3), np.full(g.n, 1.0), rho=0.001, runs=4, seed=1)
    assert np.array_equal(c.final, plain.final)


def test_discrete_reed_frost_on_three_regular():
    # recovery after one step: T = p; final size of major outbreaks 26/27 at p = 3/4
    g = configuration_model([3] * 50_000, seed=8)
    result = simulate_sir_discrete(g, 0.75, initial_infected=1, runs=40, seed=2, steps=400)
    sizes = result.final_sizes[result.major]
    se = sizes.std(ddof=1) / math.sqrt(sizes.size)
    assert abs(sizes.mean() - 26 / 27) <= 3 * se + 1e-4
    assert np.all(result.counts[:, -1, 1] == 0)
    assert np.all(result.counts.sum(axis=2) == g.n)


def test_generators():
    g = erdos_renyi(200_000, 10, seed=1)
    assert abs(g.number_of_edges - 1_000_000) < 5 * math.sqrt(1_000_000)
    assert np.array_equal(g.indices, erdos_renyi(200_000, 10, seed=1).indices)
    A = g.to_scipy()
    assert (abs(A - A.T) > 0).nnz == 0 and A.diagonal().sum() == 0
    c = configuration_model([3] * 1000 + [1] * 10, seed=1)
    assert c.degrees()[:1000].max() == 3 and c.degrees().sum() <= 3010
    with pytest.raises(errors.GraphError):
        configuration_model([3, 3, 3])


def test_inputs_networkx_sparse_edges_file(tmp_path):
    G = nx.path_graph(4)
    a = as_csr(G)
    b = as_csr(nx.to_scipy_sparse_array(G))
    c = as_csr([[0, 1], [1, 2], [2, 3]])
    path = tmp_path / "edges.txt"
    path.write_text("# a path\n0 1\n1 2\n2 3\n")
    d = read_edge_list(path)
    for g in (b, c, d):
        assert np.array_equal(g.indptr, a.indptr) and np.array_equal(g.indices, a.indices)
    w = as_csr(nx.Graph([(0, 1, {"weight": 2.5})]), weight="weight")
    assert w.weights.tolist() == [2.5, 2.5]


def test_bad_graphs_get_specific_errors(tmp_path):
    with pytest.raises(errors.DirectedGraphError):
        simulate_sir(nx.DiGraph([(0, 1)]), 1.0, 1.0, initial_infected=[0])
    with pytest.raises(errors.DirectedGraphError):
        as_csr(sps.csr_array(np.array([[0.0, 1.0], [0.0, 0.0]])))
    with pytest.raises(errors.SelfLoopError):
        simulate_sir(nx.Graph([(0, 1), (1, 1)]), 1.0, 1.0, initial_infected=[0])
    with pytest.raises(errors.SelfLoopError):
        as_csr(sps.csr_array(np.eye(3)))
    with pytest.raises(errors.EdgeWeightError):
        as_csr(nx.Graph([(0, 1, {"w": -1.0})]), weight="w")
    with pytest.raises(errors.EdgeWeightError):
        as_csr(nx.Graph([(0, 1, {"w": float("nan")})]), weight="w")
    with pytest.raises(errors.EmptyGraphError):
        simulate_sir(nx.Graph(), 1.0, 1.0, rho=0.1)
    with pytest.raises(errors.EmptyGraphError):
        as_csr(np.zeros((0, 2)))
    with pytest.raises(errors.InitialInfectedError, match="out of range"):
        simulate_sir(nx.path_graph(5), 1.0, 1.0, initial_infected=[7])
    with pytest.raises(errors.InitialInfectedError):
        simulate_sir(nx.path_graph(5), 1.0, 1.0, initial_infected=[-1])
    with pytest.raises(errors.InitialInfectedError):
        simulate_sir(nx.path_graph(5), 1.0, 1.0, rho=0.01)
    with pytest.raises(errors.ParameterError):
        simulate_sir(nx.path_graph(5), -1.0, 1.0, rho=0.5)
    with pytest.raises(errors.ParameterError):
        simulate_sis(nx.path_graph(5), 1.0, 1.0, tmax=math.inf, rho=0.5)
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1\n1 x\n")
    with pytest.raises(errors.GraphError):
        read_edge_list(bad)
    for cls in (errors.DirectedGraphError, errors.SelfLoopError, errors.EdgeWeightError, errors.EmptyGraphError,
                errors.InitialInfectedError):
        assert issubclass(cls, errors.GraphError) and issubclass(cls, ValueError)


def test_major_outbreak_cut():
    assert major_outbreak_cut(10**6) == pytest.approx(10**4)


def test_final_size_distribution_on_a_three_node_star_is_exact():
    # star 1-0-2, centre 0 infected, D ~ Exp(gamma): each leaf is infected with probability 1 - exp(-tau D),
    # the two leaves correlated through D: P(both) = E[(1 - e^{-tau D})^2] = 1 - 2g/(g + t) + g/(g + 2t).
    tau, gamma, runs = 1.0, 1.0, 200_000
    result = simulate_sir([[0, 1], [0, 2]], tau, gamma, initial_infected=[0], runs=runs, seed=9)
    counts = np.bincount(result.final_counts, minlength=4)[1:] / runs
    both = 1 - 2 * gamma / (gamma + tau) + gamma / (gamma + 2 * tau)
    none = gamma / (gamma + 2 * tau)
    expected = [none, 1 - both - none, both]
    se = np.sqrt(np.array(expected) * (1 - np.array(expected)) / runs)
    assert np.all(np.abs(counts - expected) <= 4 * se), (counts, expected)


def test_final_size_distribution_on_a_path_is_exact():
    # path 0-1-2 from node 0: P(size 1) = 1 - T, P(size 2) = T (1 - T), P(size 3) = T^2, T = tau / (tau + gamma)
    tau, gamma, runs = 2.0, 1.0, 200_000
    T = tau / (tau + gamma)
    result = simulate_sir([[0, 1], [1, 2]], tau, gamma, initial_infected=[0], runs=runs, seed=4)
    counts = np.bincount(result.final_counts, minlength=4)[1:] / runs
    expected = np.array([1 - T, T * (1 - T), T * T])
    assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(expected * (1 - expected) / runs))
