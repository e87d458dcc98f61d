"""Stochastic epidemics on networks, simulated in compiled code (``cext/_epidemic.pyx``).

- :func:`simulate_sir`, :func:`simulate_sis`: exact event-driven continuous-time
  SIR and SIS (rate tau per S-I edge, times an optional edge weight or per-node
  rate; rate gamma of recovery, optionally per node), ensembles of seeded runs
  in parallel with the GIL released.
- :func:`simulate_sir_discrete`: discrete-time SIR (transmission probability
  p per S-I edge per step, recovery probability q per step).

Run r of an ensemble with ``seed=s`` draws from its own random stream (s, r),
so results do not depend on the number of threads or on chunking.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _epidemic
from ..errors import InitialInfectedError, ParameterError
from ..progress import progress
from .arguments import thread_count
from .graphs import CSRGraph, _seed, as_csr

__all__ = ["EpidemicEnsemble", "simulate_sir", "simulate_sis", "simulate_sir_discrete", "major_outbreak_cut"]

#: Runs per call of the compiled driver when a progress bar is shown.
_CHUNK = 8


def major_outbreak_cut(n: int) -> float:
    """Number of ever-infected nodes above which a run counts as a major outbreak: N^(2/3).

    Minor outbreaks of a supercritical epidemic have a size of order 1 (an
    exponential tail); major ones a size of order N. N^(2/3) lies between
    them for large N (it is also the size of the largest outbreaks in the
    critical window, so near the threshold no cut separates them).
    """
    return float(n) ** (2.0 / 3.0)


@dataclass(frozen=True)
class EpidemicEnsemble:
    """The runs of an ensemble.

    Attributes
    ----------
    n : int
        Number of nodes.
    model : str
        ``"SIR"``, ``"SIS"`` or ``"discrete SIR"``.
    final : (runs, 3) int64 ndarray
        S, I, R at the end of each run (SIR: when no one is infected; SIS: at ``tmax``).
    t : (nt,) ndarray or None
        Output times (or steps) of ``counts``.
    counts : (runs, nt, 3) int64 ndarray or None
        S, I, R at each output time.
    events : (runs,) int64 ndarray
        Events (infections and recoveries) per run.
    initial : int
        Initially infected nodes per run.
    seed : int
    """

    n: int
    model: str
    final: np.ndarray
    t: np.ndarray | None
    counts: np.ndarray | None
    events: np.ndarray
    initial: int
    seed: int
    first_run_events: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def runs(self) -> int:
        return int(self.final.shape[0])

    @property
    def final_counts(self) -> np.ndarray:
        """Nodes ever infected (SIR: R at the end) or infected at the end (SIS), per run."""
        return self.final[:, 1] if self.model == "SIS" else self.final[:, 2] + self.final[:, 1]

    @property
    def final_sizes(self) -> np.ndarray:
        """:attr:`final_counts` as fractions of N."""
        return self.final_counts / self.n

    @property
    def major(self) -> np.ndarray:
        """Runs with more than N^(2/3) nodes ever infected (see :func:`major_outbreak_cut`)."""
        return self.final_counts > major_outbreak_cut(self.n)

    def mean_curve(self, major_only: bool = True) -> np.ndarray:
        """Mean fractions (S, I, R) at the output times, over the major outbreaks (or all runs): shape (nt, 3)."""
        if self.counts is None:
            raise ValueError("no output times were asked for (give t= to the simulation)")
        rows = self.counts[self.major] if major_only and self.major.any() else self.counts
        return rows.mean(axis=0) / self.n

    def time_series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(t, S, I, R) at every event of the first run (continuous-time SIR/SIS with ``record_events``)."""
        if self.first_run_events is None:
            raise ValueError("the events of the first run were not recorded (give record_events=True)")
        times, kinds = self.first_run_events
        if times.shape[0] < self.events[0]:
            raise ValueError(f"only the first {times.shape[0]} of {self.events[0]} events were recorded (SIS runs can "
                             "have more events than 4 N); ask for counts at output times t= instead")
        I0 = self.initial
        dI = np.where(kinds == 0, 1, -1)
        I = np.concatenate([[I0], I0 + np.cumsum(dI)])
        if self.model == "SIR":
            R = np.concatenate([[0], np.cumsum(kinds == 1)])
        else:
            R = np.zeros_like(I)
        S = self.n - I - R
        return np.concatenate([[0.0], times]), S, I, R


def _rates(value: Any, n: int, what: str) -> tuple[float, np.ndarray | None]:
    """A rate as (scalar, None) or (0, per-node array)."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        v = float(array)
        if not (math.isfinite(v) and v >= 0):
            raise ParameterError(f"{what} must be a finite number >= 0, got {value!r}")
        return v, None
    if array.shape != (n,):
        raise ParameterError(f"{what} per node must have one value per node ({n}), got shape {array.shape}")
    if not np.all(np.isfinite(array)) or (array < 0).any():
        raise ParameterError(f"{what} per node must be finite and >= 0")
    return 0.0, np.ascontiguousarray(array)


def _initial(graph: CSRGraph, rho: Any, initial_infected: Any) -> tuple[np.ndarray, int]:
    """(fixed initial nodes, number drawn at random per run)."""
    n = graph.n
    if rho is not None and initial_infected is not None:
        raise InitialInfectedError("give rho or initial_infected, not both")
    if rho is None and initial_infected is None:
        raise InitialInfectedError("give rho (fraction initially infected) or initial_infected")
    if rho is not None:
        rho = float(rho)
        if not (0 < rho <= 1):
            raise InitialInfectedError(f"rho must be in (0, 1], got {rho}")
        count = int(round(rho * n))
        if count < 1:
            raise InitialInfectedError(f"rho = {rho} of {n} nodes rounds to no infected node")
        return np.zeros(0, dtype=np.int32), count
    if isinstance(initial_infected, (int, np.integer)) and not isinstance(initial_infected, bool):
        count = int(initial_infected)
        if not 1 <= count <= n:
            raise InitialInfectedError(f"initial_infected = {count} random nodes, but the graph has {n}")
        return np.zeros(0, dtype=np.int32), count
    nodes = np.asarray(initial_infected).ravel()
    if nodes.size == 0:
        raise InitialInfectedError("initial_infected lists no node")
    if not np.issubdtype(nodes.dtype, np.integer):
        raise InitialInfectedError("initial_infected must be node indices (integers), or a count")
    if nodes.min() < 0 or nodes.max() >= n:
        bad = nodes[(nodes < 0) | (nodes >= n)][0]
        raise InitialInfectedError(f"initial infected node {bad} is out of range: nodes are 0 .. {n - 1}")
    return np.ascontiguousarray(np.unique(nodes), dtype=np.int32), 0


def _runs(runs: Any) -> int:
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise ValueError(f"runs must be a positive integer, got {runs!r}")
    return int(runs)


def _continuous(model: int, name: str, graph: Any, tau: Any, gamma: Any, rho: Any, initial_infected: Any,
                runs: int, seed: Any, tmax: float, t: Any, threads: Any, show: Any, record_events: bool,
                weight: str | None) -> EpidemicEnsemble:
    g = as_csr(graph, weight=weight)
    runs = _runs(runs)
    tau_s, tau_node = _rates(tau, g.n, "tau")
    gamma_s, gamma_node = _rates(gamma, g.n, "gamma")
    if gamma_node is None and gamma_s <= 0 and model == _epidemic.MODEL_SIS and not math.isfinite(tmax):
        raise ParameterError("SIS with gamma = 0 never ends: give tmax")
    if model == _epidemic.MODEL_SIS and not math.isfinite(tmax):
        raise ParameterError("SIS may never die out: give a finite tmax")
    if gamma_node is None and gamma_s <= 0:
        raise ParameterError("gamma must be > 0 (infected nodes must recover)")
    initial, count = _initial(g, rho, initial_infected)
    times = np.zeros(0) if t is None else np.ascontiguousarray(np.asarray(t, dtype=np.float64).ravel())
    if times.size and (not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0)):
        raise ValueError("t must be finite and sorted ascending")
    seed = _seed(seed)
    nthreads = thread_count(threads)
    capacity = (2 * g.n if model == _epidemic.MODEL_SIR else 4 * g.n) if record_events else 0
    visible = sys.stderr.isatty() if show is None else bool(show)
    # One call for the whole ensemble unless a bar is shown: then about 100 chunks of whole thread rounds.
    chunk = runs if not visible or runs <= _CHUNK else max(nthreads, -(-runs // 100 // nthreads) * nthreads)
    parts = []
    for first in progress(range(0, runs, chunk), total=-(-runs // chunk), desc=f"{name} runs (x{chunk})", show=visible,
                          unit="chunk"):
        m = min(chunk, runs - first)
        parts.append(_epidemic.simulate_continuous(
            model, g.indptr, g.indices, g.weights, tau_s, tau_node, gamma_s, gamma_node, initial, count, float(tmax),
            times, seed, first, m, capacity if first == 0 else 0, nthreads))
    if any((p[5] != 0).any() for p in parts):
        raise MemoryError(f"not enough memory for the work arrays of a run on {g.n} nodes")
    final = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts]) if times.size else None
    events = np.concatenate([p[2] for p in parts])
    first_events = (parts[0][3].copy(), parts[0][4].copy()) if record_events else None
    n_initial = count if count else initial.size
    return EpidemicEnsemble(g.n, name, final, times if times.size else None, counts, events, n_initial, seed,
                            first_events)


def simulate_sir(graph: Any, tau: Any, gamma: Any, *, rho: float | None = None, initial_infected: Any = None,
                 runs: int = 1, seed: int | None = None, t: Any = None, tmax: float = math.inf,
                 threads: int | None = None, progress: bool | None = None, record_events: bool = False,
                 weight: str | None = None) -> EpidemicEnsemble:
    """Exact event-driven continuous-time SIR on a network, an ensemble of seeded runs in parallel.

    Parameters
    ----------
    graph : CSRGraph, networkx.Graph, scipy sparse matrix, (m, 2) edge array or edge list path
    tau : float or (N,) array
        Transmission rate per S-I edge (per infected node when an array), times the edge weight.
    gamma : float or (N,) array
        Recovery rate (per node when an array).
    rho : float, optional
        Fraction of nodes infected at t = 0, drawn anew for each run (round(rho N) nodes).
    initial_infected : int or sequence of int, optional
        A number of random initial infected per run, or the node indices (the same in every run).
    runs : int
    seed : int, optional
        Run r uses the random stream (seed, r): reproducible whatever the threads.
    t : array_like, optional
        Output times for the counts S, I, R of every run (the state just after
        every event up to that time; times past ``tmax`` get the state at ``tmax``).
    tmax : float
        Stop time (default: run until no one is infected).
    threads : int, optional
        Threads across runs (default: every core, or ``DSANALYZE_NUM_THREADS``).
    progress : bool, optional
        Progress bar over chunks of runs (default: on a terminal, for more than 8 runs).
    record_events : bool
        Keep the time of every event of the first run (see :meth:`EpidemicEnsemble.time_series`).
    weight : str, optional
        networkx input: the edge attribute with the weights.

    Returns
    -------
    EpidemicEnsemble

    Raises
    ------
    DirectedGraphError, SelfLoopError, EdgeWeightError, EmptyGraphError, InitialInfectedError, ParameterError

    Examples
    --------
    >>> from dsanalyze.numeric.graphs import erdos_renyi
    >>> g = erdos_renyi(2000, 10, seed=1)
    >>> result = simulate_sir(g, tau=0.3, gamma=1.0, rho=0.01, runs=4, seed=2)
    >>> result.final_sizes.shape, bool(result.final_sizes.min() > 0.8)
    ((4,), True)
    """
    return _continuous(_epidemic.MODEL_SIR, "SIR", graph, tau, gamma, rho, initial_infected, runs, seed, tmax, t,
                       threads, progress, record_events, weight)


def simulate_sis(graph: Any, tau: Any, gamma: Any, *, tmax: float, rho: float | None = None,
                 initial_infected: Any = None, runs: int = 1, seed: int | None = None, t: Any = None,
                 threads: int | None = None, progress: bool | None = None, record_events: bool = False,
                 weight: str | None = None) -> EpidemicEnsemble:
    """Exact event-driven continuous-time SIS on a network until ``tmax`` (or extinction).

    Parameters as :func:`simulate_sir`; ``final`` holds S, I at ``tmax`` (R is 0).

    Examples
    --------
    >>> import networkx as nx
    >>> result = simulate_sis(nx.complete_graph(200), tau=0.02, gamma=1.0, tmax=50, rho=0.1, runs=2, seed=1)
    >>> bool(abs(result.final[:, 1].mean() / 200 - (1 - 1 / (0.02 * 199))) < 0.1)
    True
    """
    return _continuous(_epidemic.MODEL_SIS, "SIS", graph, tau, gamma, rho, initial_infected, runs, seed, tmax, t,
                       threads, progress, record_events, weight)


def simulate_sir_discrete(graph: Any, p: float, *, recovery: float = 1.0, steps: int = 1000,
                          rho: float | None = None, initial_infected: Any = None, runs: int = 1,
                          seed: int | None = None, threads: int | None = None) -> EpidemicEnsemble:
    """Discrete-time SIR: per step, infection along each S-I edge with probability ``p``, recovery with ``recovery``.

    With ``recovery=1`` (Reed-Frost on a network) a node is infectious for one
    step, so the transmissibility is T = p. Counts are recorded at every step
    (``t`` = 0 .. steps).
    """
    g = as_csr(graph)
    runs = _runs(runs)
    for value, what in ((p, "p"), (recovery, "recovery")):
        if not (isinstance(value, (int, float, np.floating)) and 0 <= value <= 1):
            raise ParameterError(f"{what} must be a probability in [0, 1], got {value!r}")
    if recovery <= 0:
        raise ParameterError("recovery must be > 0 (infected nodes must recover)")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    initial, count = _initial(g, rho, initial_infected)
    seed = _seed(seed)
    final, grid, status = _epidemic.simulate_discrete(g.indptr, g.indices, float(p), float(recovery), initial, count,
                                                      int(steps), seed, 0, runs, thread_count(threads))
    if (status != 0).any():
        raise MemoryError(f"not enough memory for the work arrays of a run on {g.n} nodes")
    return EpidemicEnsemble(g.n, "discrete SIR", final, np.arange(steps + 1, dtype=np.float64), grid,
                            np.zeros(runs, dtype=np.int64), count if count else initial.size, seed)
