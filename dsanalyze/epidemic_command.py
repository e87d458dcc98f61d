"""``dsanalyze epidemic``: analyse and simulate SIR/SIS on a generated or loaded network; the report's epidemic section.

Wire into the command line with one line in ``cli._parser`` (after the other sub-commands)::

    from .epidemic_command import add_parser as add_epidemic; add_epidemic(sub)

:func:`epidemic_section` gives a report the result objects (each with
``.latex()`` and ``.verify()``) for a compartmental model or a network.
Exit codes of the command: 0 success, 2 bad input.
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy as sp

from .errors import DsAnalyzeError
from .systems import Flow
from .verify import Basis, Verdict

__all__ = ["add_parser", "main", "run", "epidemic_section", "build_graph", "SimulatedEpidemic"]


# ---- graphs from a specification ------------------------------------------------------------------------
def build_graph(spec: Any, *, seed: int | None = 0):
    """A :class:`~dsanalyze.numeric.graphs.CSRGraph` from a specification.

    ``spec`` is a graph (networkx, SciPy sparse, edge array, CSRGraph), a path
    to an edge list, or a mapping: ``{"graph": "er", "n": 10**5, "mean_degree": 10}``,
    ``{"graph": "regular", "n": 10**5, "degree": 3}`` (configuration model) or
    ``{"graph": "edges", "path": "file.txt"}``.
    """
    from .numeric.graphs import as_csr, configuration_model, erdos_renyi

    if isinstance(spec, dict):
        kind = str(spec.get("graph", "er")).lower()
        if kind == "er":
            return erdos_renyi(int(spec["n"]), float(spec.get("mean_degree", 10.0)), seed=spec.get("seed", seed))
        if kind in ("regular", "cm"):
            return configuration_model([int(spec.get("degree", 3))] * int(spec["n"]), seed=spec.get("seed", seed))
        if kind == "edges":
            return as_csr(spec["path"])
        raise ValueError(f"unknown graph kind {kind!r}: use 'er', 'regular' or 'edges'")
    return as_csr(spec)


# ---- the simulated ensemble as a result -------------------------------------------------------------------
@dataclass(frozen=True)
class SimulatedEpidemic:
    """An ensemble of SIR (or SIS) runs on a graph, with the EBCM (or mean-field) prediction it is checked against.

    Attributes
    ----------
    model : str
        ``"SIR"`` or ``"SIS"``.
    n : int
    tau, gamma, rho : float
    runs : int
    mean, standard_error : float
        Mean final size (SIR: major outbreaks only; SIS: prevalence at tmax) and its standard error.
    major_fraction : float
        Fraction of runs that were major outbreaks (> N^(2/3) ever infected).
    predicted : float
        EBCM final size with the same rho (SIR); nan for SIS (no deterministic prediction is checked).
    sizes : ndarray
        Final size of every run.
    """

    model: str
    n: int
    tau: float
    gamma: float
    rho: float
    runs: int
    mean: float
    standard_error: float
    major_fraction: float
    predicted: float
    seed: int
    sizes: np.ndarray = field(repr=False, compare=False, default=None)

    def latex(self) -> str:
        what = "final size" if self.model == "SIR" else r"prevalence at $t_{\max}$"
        pred = rf",\ \text{{EBCM}}\ {self.predicted:.5f}" if math.isfinite(self.predicted) else ""
        return (rf"\text{{{self.model}, $N = {self.n}$, {self.runs} runs: {what} }} {self.mean:.5f} \pm "
                rf"{self.standard_error:.1e}\ (\text{{major: }} {self.major_fraction:.2f}){pred}")

    def verify(self) -> Verdict:
        """SIR: the mean major final size must be within 3 standard errors + 1/sqrt(N) of the EBCM final size."""
        if not math.isfinite(self.predicted):
            return Verdict.unchecked(f"{self.model} ensemble", self.mean, "no deterministic prediction for this model")
        tol = 3 * self.standard_error + 1 / math.sqrt(self.n)
        return Verdict(f"simulated {self.model} final size against the EBCM (rho = {self.rho:g})", self.predicted,
                       self.mean, tol, abs(self.mean - self.predicted) <= tol, Basis.SAMPLED,
                       evidence={"final_sizes": self.sizes},
                       note=f"{self.runs} runs, {self.major_fraction:.0%} major, N = {self.n}, seed {self.seed}")


def simulate_summary(graph, *, model: str = "SIR", tau: float, gamma: float, rho: float, runs: int,
                     seed: int = 0, tmax: float | None = None, threads: int | None = None,
                     progress: bool | None = None) -> SimulatedEpidemic:
    """Simulate an ensemble and summarise it with its prediction (see :class:`SimulatedEpidemic`)."""
    from .numeric.network import simulate_sir, simulate_sis
    from .numeric.network_odes import ebcm_final_size

    if model.upper() == "SIS":
        result = simulate_sis(graph, tau, gamma, tmax=tmax or 50.0 / gamma, rho=rho, runs=runs, seed=seed,
                              threads=threads, progress=progress)
        sizes = result.final[:, 1] / result.n
        major = np.ones(runs, dtype=bool)
        predicted = float("nan")
    else:
        result = simulate_sir(graph, tau, gamma, rho=rho, runs=runs, seed=seed, threads=threads, progress=progress)
        sizes = result.final_sizes
        major = result.major
        predicted = ebcm_final_size(graph.degrees().tolist(), tau, gamma, rho)
    chosen = sizes[major] if major.any() else sizes
    se = float(chosen.std(ddof=1) / math.sqrt(chosen.size)) if chosen.size > 1 else float("nan")
    return SimulatedEpidemic(model.upper(), result.n, float(tau), float(gamma), float(rho), runs, float(chosen.mean()),
                             se, float(major.mean()), predicted, int(result.seed), sizes)


# ---- the report section -------------------------------------------------------------------------------------
def epidemic_section(system_or_graph: Any, *, tau: float = 0.3, gamma: float = 1.0, rho: float = 0.001,
                     runs: int = 20, seed: int = 0, simulate: bool = True, timeout: float | None = 60.0) -> list:
    """The result objects of an epidemic section of a report, each with ``.latex()`` and ``.verify()``.

    Parameters
    ----------
    system_or_graph : Flow, graph, or graph specification (see :func:`build_graph`)
        A compartmental model gives: its disease-free equilibrium, R0 (with F
        and V), its endemic equilibria, and (for a model without births or
        deaths, SIR-like) the final-size relation in terms of R0.
        A network gives: the transmissibility T, the threshold T_c, the final
        size from the generating functions, the probability of a major
        outbreak, the SIS thresholds, and (``simulate=True``) an ensemble of
        SIR runs against the EBCM.
    tau, gamma, rho, runs, seed
        Network epidemics: rates, initial fraction infected, ensemble size and seed.
    timeout : float
        Seconds allowed for each symbolic step.

    Examples
    --------
    >>> from dsanalyze.models import sir
    >>> [type(r).__name__ for r in epidemic_section(sir())]
    ['DiseaseFreeEquilibrium', 'ReproductionNumber', 'FinalSize']
    """
    if isinstance(system_or_graph, Flow):
        from .symbolic.epidemic import endemic_equilibria, final_size, reproduction_number

        system = system_or_graph
        R = reproduction_number(system, timeout=timeout)
        results: list = [R.dfe, R]
        try:
            endemic = endemic_equilibria(system, timeout=timeout)
        except DsAnalyzeError:
            endemic = []
        results += endemic
        if sp.simplify(sum(system.rhs)) == 0 and not endemic:
            results.append(final_size(R))
        return results
    from .numeric.network_odes import ebcm_final_size  # noqa: F401 - import errors surface early
    from .symbolic.network import (
        degree_distribution, epidemic_threshold, network_final_size, outbreak_probability, sis_thresholds,
        transmissibility,
    )

    graph = build_graph(system_or_graph, seed=seed)
    d = degree_distribution(graph.degrees().tolist())
    T = transmissibility(tau, gamma)
    results = [T, replace(epidemic_threshold(d), graph=graph), replace(network_final_size(d, T), graph=graph),
               replace(outbreak_probability(d, tau, gamma), graph=graph), sis_thresholds(graph)]
    if simulate:
        results.append(simulate_summary(graph, tau=tau, gamma=gamma, rho=rho, runs=runs, seed=seed))
    return results


# ---- the command ------------------------------------------------------------------------------------------
def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``epidemic`` on an argparse sub-parser collection; its ``run`` default runs the command."""
    p = subparsers.add_parser(
        "epidemic", help="analyse and simulate SIR/SIS on a generated or loaded network",
        description="Thresholds and predicted final size from the degree distribution (generating functions, "
                    "EBCM), then an ensemble of exact stochastic simulations.")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--graph", choices=["er", "regular"], default="er",
                        help="generated graph: Erdos-Renyi or random regular (configuration model)")
    source.add_argument("--edges", metavar="FILE", help="edge list file: one 'u v' (or 'u v weight') per line")
    p.add_argument("--n", type=int, default=100_000, help="nodes of a generated graph (default 100000)")
    p.add_argument("--mean-degree", type=float, default=10.0, help="ER mean degree (default 10)")
    p.add_argument("--degree", type=int, default=3, help="degree of a regular graph (default 3)")
    p.add_argument("--model", choices=["sir", "sis"], default="sir")
    p.add_argument("--tau", type=float, default=0.3, help="transmission rate per S-I edge (default 0.3)")
    p.add_argument("--gamma", type=float, default=1.0, help="recovery rate (default 1)")
    p.add_argument("--rho", type=float, default=0.001, help="fraction initially infected (default 0.001)")
    p.add_argument("--runs", type=int, default=20, help="simulations (default 20)")
    p.add_argument("--tmax", type=float, default=None, help="SIS: end time (default 50/gamma)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``dsanalyze epidemic`` with parsed arguments; returns the exit code (0 ok, 2 bad input)."""
    from .symbolic.network import degree_distribution, epidemic_threshold, network_final_size, outbreak_probability
    from .symbolic.network import sis_thresholds, transmissibility

    try:
        for name in ("tau", "gamma", "rho"):
            value = getattr(args, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"--{name.replace('_', '-')} must be a finite number >= 0, got {value}")
        if args.gamma <= 0:
            raise ValueError("--gamma must be > 0")
        if args.runs < 1:
            raise ValueError(f"--runs must be >= 1, got {args.runs}")
        if args.edges:
            spec: Any = {"graph": "edges", "path": args.edges}
        elif args.graph == "er":
            spec = {"graph": "er", "n": args.n, "mean_degree": args.mean_degree}
        else:
            spec = {"graph": "regular", "n": args.n, "degree": args.degree}
        if not args.edges and args.n < 1:
            raise ValueError(f"--n must be >= 1, got {args.n}")
        graph = build_graph(spec, seed=args.seed)
        degrees = graph.degrees()
        print(f"graph: {args.edges or args.graph}, N = {graph.n}, edges = {graph.number_of_edges}, "
              f"<k> = {degrees.mean():.4f}, <k^2> = {(degrees.astype(float) ** 2).mean():.4f}")
        d = degree_distribution(degrees.tolist())
        if args.model == "sir":
            T = transmissibility(args.tau, args.gamma)
            Tc = epidemic_threshold(d).Tc
            print(f"transmissibility T = tau/(tau+gamma) = {float(T.T):.6g}; threshold T_c = <k>/(<k^2>-<k>) = "
                  f"{float(Tc):.6g} -> {'above' if float(T.T) > float(Tc) else 'below'} threshold")
            F = network_final_size(d, T)
            P = outbreak_probability(d, args.tau, args.gamma)
            print(f"predicted final size of a major outbreak (rho -> 0): {F.value():.6f}; "
                  f"probability of a major outbreak from one node: {P.value():.6f}")
        else:
            s = sis_thresholds(graph) if graph.n <= 2_000_000 else sis_thresholds(d)
            ratio = args.tau / args.gamma
            nimfa = f"NIMFA 1/lambda_max = {s.nimfa:.6g}, " if s.nimfa is not None else ""
            print(f"SIS thresholds on tau/gamma = {ratio:.6g}: {nimfa}HMF <k>/<k^2> = {float(s.hmf):.6g}")
        summary = simulate_summary(graph, model=args.model, tau=args.tau, gamma=args.gamma, rho=args.rho,
                                   runs=args.runs, seed=args.seed, tmax=args.tmax, threads=args.threads)
        if args.model == "sir":
            print(f"EBCM final size (rho = {args.rho:g}): {summary.predicted:.6f}")
            print(f"simulated final size ({args.runs} runs, {summary.major_fraction:.0%} major): "
                  f"{summary.mean:.6f} +- {summary.standard_error:.2g} (standard error)")
            print(summary.verify())
        else:
            print(f"simulated prevalence at t = {args.tmax or 50.0 / args.gamma:g} ({args.runs} runs): "
                  f"{summary.mean:.6f} +- {summary.standard_error:.2g}")
        return 0
    except (DsAnalyzeError, ValueError, OSError) as exc:
        print(f"dsanalyze epidemic: error: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """``dsanalyze epidemic`` on its own (as wired into the CLI): parse ``argv`` and run."""
    parser = argparse.ArgumentParser(prog="dsanalyze")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    try:
        args = parser.parse_args(["epidemic", *(argv or [])])
    except SystemExit as exc:  # argparse: bad arguments
        return int(exc.code or 0) if exc.code != 0 else 0
    return args.run(args)
