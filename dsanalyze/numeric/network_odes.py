"""Deterministic models of SIR/SIS on networks, as Flows integrated by the compiled integrator.

- :func:`ebcm`: the edge-based compartmental model of J. C. Miller, A. C. Slim
  and E. M. Volz, "Edge-based compartmental modelling for infectious disease
  spread", J. R. Soc. Interface 9, 890-906 (2012), for SIR on a
  configuration-model network with a fraction rho infected at random at t = 0:

      theta' = -tau theta + tau (1 - rho) psi'(theta) / psi'(1) + gamma (1 - theta),
      R' = gamma I,  S = (1 - rho) psi(theta),  I = 1 - S - R,

  with psi = G0 and theta(0) = 1; exact as N -> infinity.
- :func:`hmf_sir`, :func:`hmf_sis`: degree-based (heterogeneous) mean field,
  one S_k, I_k per degree class (Pastor-Satorras & Vespignani 2001).
- :func:`pairwise_sir`: the homogeneous pairwise model with the closure
  [ABC] = ((n - 1)/n) [AB][BC]/[B] (M. J. Keeling, Proc. R. Soc. B 266,
  859-867, 1999; Kiss, Miller & Simon 2017, ch. 4).
- :func:`nimfa_sis`, :func:`nimfa_sir`: individual-based mean field, one
  equation per node (P. Van Mieghem et al. 2009); for small graphs (a Flow
  with N state variables is compiled).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..errors import ParameterError
from ..systems import Flow
from ..verify import Basis, Verdict
from .flows import integrate

__all__ = ["ebcm", "ebcm_solve", "ebcm_final_size", "EBCMSolution", "hmf_sir", "hmf_sis", "pairwise_sir", "nimfa_sis", "nimfa_sir"]

_MAX_NIMFA_NODES = 2000


def _distribution(source: Any):
    from ..symbolic.network import DegreeDistribution, degree_distribution

    return source if isinstance(source, DegreeDistribution) else degree_distribution(source)


def ebcm(distribution: Any) -> Flow:
    """The EBCM flow in (theta, R) with parameters tau, gamma, rho.

    Parameters
    ----------
    distribution : DegreeDistribution, graph, degree sequence or pmf
        Its G0 must have no free symbol but ``x`` (substitute parameters first).

    Examples
    --------
    >>> F = ebcm([3] * 10)
    >>> F.state, F.params
    ((theta, R), (tau, gamma, rho))
    """
    from ..symbolic.network import x

    d = _distribution(distribution)
    if d.G0.free_symbols - {x}:
        raise ParameterError(f"G0 = {d.G0} has parameters; give their values (degree_distribution(pmf, k, c=10))")
    theta, R = sp.symbols("theta R", real=True)
    tau, gamma, rho = sp.symbols("tau gamma rho", positive=True)
    psi = d.G0.subs(x, theta)
    dpsi = sp.diff(d.G0, x)
    phi = dpsi.subs(x, theta) / dpsi.subs(x, 1)
    S = (1 - rho) * psi
    return Flow((theta, R), (-tau * theta + tau * (1 - rho) * phi + gamma * (1 - theta), gamma * (1 - S - R)),
                (tau, gamma, rho), name="ebcm", description=f"edge-based compartmental SIR model ({d.source})",
                reference="Miller, Slim & Volz, J. R. Soc. Interface 9, 890-906 (2012)")


@dataclass(frozen=True)
class EBCMSolution:
    """An EBCM trajectory and its final size.

    Attributes
    ----------
    t, S, I, R : ndarray
    final_size : float
        R(inf): 1 - (1 - rho) psi(theta_inf), theta_inf the root of theta' = 0 below 1.
    tau, gamma, rho : float
    """

    t: np.ndarray
    S: np.ndarray
    I: np.ndarray
    R: np.ndarray
    final_size: float
    tau: float
    gamma: float
    rho: float

    def latex(self) -> str:
        return (r"\dot\theta = -\tau\theta + \tau(1-\rho)\frac{\psi'(\theta)}{\psi'(1)} + \gamma(1-\theta),\ "
                rf"R(\infty) = 1 - (1-\rho)\psi(\theta_\infty) = {self.final_size:.6f}")

    def verify(self, graph: Any = None, *, runs: int = 10, seed: int = 0, tolerance: float = 0.02) -> Verdict:
        """The mean simulated S, I, R curves on ``graph`` must stay within ``tolerance`` of the EBCM curves.

        SIR is simulated with the same tau, gamma, rho at the times ``t``; runs
        whose final size is below N^(2/3) (early extinction) are left out. The
        final sizes must also agree: |mean - R(inf)| <= 3 standard errors + 1/sqrt(N).
        """
        from .network import simulate_sir

        if graph is None:
            return Verdict.unchecked("EBCM curve", self.final_size, "give a graph with this degree distribution")
        result = simulate_sir(graph, self.tau, self.gamma, rho=self.rho, runs=runs, seed=seed, t=self.t)
        curve = result.mean_curve()
        deviation = float(np.max(np.abs(curve - np.column_stack([self.S, self.I, self.R]))))
        sizes = result.final_sizes[result.major]
        se = float(sizes.std(ddof=1) / math.sqrt(sizes.size)) if sizes.size > 1 else float("nan")
        size_ok = sizes.size > 1 and abs(sizes.mean() - self.final_size) <= 3 * se + 1 / math.sqrt(result.n)
        return Verdict("EBCM curves S, I, R and final size against the mean of simulated SIR", self.final_size,
                       f"max |mean simulated - EBCM| = {deviation:.4f}; mean final size {sizes.mean():.5f} "
                       f"(s.e. {se:.1e})", tolerance, bool(deviation <= tolerance and size_ok), Basis.SAMPLED,
                       evidence={"t": self.t, "simulated": curve, "ebcm": np.column_stack([self.S, self.I, self.R])},
                       note=f"{sizes.size} major of {runs} runs, N = {result.n}, seed {seed}")


def ebcm_solve(distribution: Any, tau: float, gamma: float, rho: float, t: Any = None) -> EBCMSolution:
    """Integrate the EBCM and solve its final size.

    Parameters
    ----------
    distribution : DegreeDistribution, graph, degree sequence or pmf (numeric)
    tau, gamma, rho : float
    t : array_like, optional
        Output times (default: 0 .. 40 / gamma in 401 steps).

    Examples
    --------
    >>> import sympy as sp
    >>> from dsanalyze.symbolic.network import degree_distribution
    >>> k = sp.Symbol("k", nonnegative=True)
    >>> poisson10 = degree_distribution(sp.exp(-10) * 10**k / sp.factorial(k), k)
    >>> round(ebcm_solve(poisson10, 0.3, 1.0, 0.001).final_size, 5)
    0.86395
    """
    from ..symbolic.network import x

    flow = ebcm(distribution)
    d = _distribution(distribution)
    if not (0 < rho < 1) or tau < 0 or gamma <= 0:
        raise ParameterError("need 0 < rho < 1, tau >= 0 and gamma > 0")
    times = np.linspace(0.0, 40.0 / gamma, 401) if t is None else np.asarray(t, dtype=np.float64)
    y = integrate(flow, [1.0, 0.0], times, tau=tau, gamma=gamma, rho=rho, rtol=1e-10, atol=1e-13)
    psi = sp.lambdify(x, d.G0, "math")
    theta, R = y[:, 0], y[:, 1]
    S = np.array([(1 - rho) * psi(float(v)) for v in theta])
    final = ebcm_final_size(d, tau, gamma, rho)
    return EBCMSolution(times, S, 1 - S - R, R, float(final), float(tau), float(gamma), float(rho))


def ebcm_final_size(distribution: Any, tau: float, gamma: float, rho: float) -> float:
    """R(inf) of the EBCM without integrating: 1 - (1 - rho) psi(theta_inf).

    theta_inf is the largest root below 1 of
    -tau theta + tau (1 - rho) psi'(theta)/psi'(1) + gamma (1 - theta) = 0
    (theta falls from 1 to it), bracketed on a grid and refined by Brent's method.

    Examples
    --------
    >>> round(ebcm_final_size([3] * 4, 3.0, 1.0, 1e-12), 9) == round(26 / 27, 9)
    True
    """
    from scipy.optimize import brentq

    from ..symbolic.network import x

    d = _distribution(distribution)
    if not (0 < rho < 1) or tau < 0 or gamma <= 0:
        raise ParameterError("need 0 < rho < 1, tau >= 0 and gamma > 0")
    if tau == 0:
        return float(rho)
    if d.pmf is not None:
        ks = np.array([k for k, _ in d.pmf], dtype=np.float64)
        ps = np.array([float(p) for _, p in d.pmf])
        mean = float((ks * ps).sum())
        psi = lambda th: float((ps * th**ks).sum())
        phi = lambda th: float((ks * ps * th ** np.maximum(ks - 1, 0)).sum()) / mean
    else:
        psi = sp.lambdify(x, d.G0, "math")
        dpsi = sp.diff(d.G0, x)
        phi = sp.lambdify(x, dpsi / dpsi.subs(x, 1), "math")
    drift = lambda th: -tau * th + tau * (1 - rho) * phi(th) + gamma * (1 - th)
    # drift(1) = -tau rho < 0: theta falls from 1 to the largest root below 1.
    grid = np.linspace(1.0, 0.0, 2001)
    values = np.array([drift(g) for g in grid])
    crossing = int(np.argmax(values >= 0))
    theta_inf = brentq(drift, grid[crossing], grid[crossing - 1], xtol=1e-15, rtol=1e-15) if crossing else 0.0
    return float(1 - (1 - rho) * psi(theta_inf))


def _classes(distribution: Any) -> tuple[list[int], list[sp.Expr]]:
    d = _distribution(distribution)
    if d.pmf is None:
        raise ParameterError("the degree-based mean field needs a finite degree distribution (a graph or a sequence)")
    pairs = [(k, p) for k, p in d.pmf if p != 0]
    return [k for k, _ in pairs], [p for _, p in pairs]


def hmf_sir(distribution: Any) -> Flow:
    """Degree-based mean-field SIR: S_k' = -tau k S_k Theta, I_k' = tau k S_k Theta - gamma I_k.

    Theta = sum_k k p_k I_k / <k> (the chance that an edge leads to an
    infected node). State: S_k and I_k for every degree k present, as fractions of the class.
    """
    ks, ps = _classes(distribution)
    tau, gamma = sp.symbols("tau gamma", positive=True)
    S = sp.symbols(" ".join(f"S_{k}" for k in ks), real=True, seq=True)
    I = sp.symbols(" ".join(f"I_{k}" for k in ks), real=True, seq=True)
    mean = sum(k * p for k, p in zip(ks, ps))
    Theta = sum(k * p * i for k, p, i in zip(ks, ps, I)) / mean
    rhs = [-tau * k * s * Theta for k, s in zip(ks, S)] + [tau * k * s * Theta - gamma * i for k, s, i in zip(ks, S, I)]
    return Flow((*S, *I), rhs, (tau, gamma), name="hmf-sir", description="degree-based mean-field SIR",
                reference="Pastor-Satorras & Vespignani, Phys. Rev. Lett. 86, 3200 (2001)")


def hmf_sis(distribution: Any) -> Flow:
    """Degree-based mean-field SIS: I_k' = tau k (1 - I_k) Theta - gamma I_k; threshold tau/gamma = <k>/<k^2>."""
    ks, ps = _classes(distribution)
    tau, gamma = sp.symbols("tau gamma", positive=True)
    I = sp.symbols(" ".join(f"I_{k}" for k in ks), real=True, seq=True)
    mean = sum(k * p for k, p in zip(ks, ps))
    Theta = sum(k * p * i for k, p, i in zip(ks, ps, I)) / mean
    return Flow(I, [tau * k * (1 - i) * Theta - gamma * i for k, i in zip(ks, I)], (tau, gamma), name="hmf-sis",
                description="degree-based mean-field SIS",
                reference="Pastor-Satorras & Vespignani, Phys. Rev. Lett. 86, 3200 (2001)")


def pairwise_sir(mean_degree: Any) -> Flow:
    """Homogeneous pairwise SIR with the Keeling closure, per node: states S, I, SS, SI (pairs counted ordered).

    [S]' = -tau [SI], [I]' = tau [SI] - gamma [I], [SS]' = -2 tau [SSI],
    [SI]' = tau ([SSI] - [ISI] - [SI]) - gamma [SI], with
    [ABC] = ((n - 1)/n) [AB][BC]/[B]. Start from S = 1 - rho, I = rho,
    SS = n S^2, SI = n S I (random infection).
    """
    n = sp.nsimplify(mean_degree)
    S, I, SS, SI = sp.symbols("S I SS SI", real=True)
    tau, gamma = sp.symbols("tau gamma", positive=True)
    c = (n - 1) / n
    SSI = c * SS * SI / S
    ISI = c * SI * SI / S
    return Flow((S, I, SS, SI), (-tau * SI, tau * SI - gamma * I, -2 * tau * SSI,
                                 tau * (SSI - ISI - SI) - gamma * SI), (tau, gamma), name="pairwise-sir",
                description=f"homogeneous pairwise SIR, n = {n}", reference="Keeling, Proc. R. Soc. B 266, 859-867 (1999)")


def _adjacency(graph: Any):
    from .graphs import as_csr

    g = as_csr(graph)
    if g.n > _MAX_NIMFA_NODES:
        raise ParameterError(f"NIMFA compiles one equation per node; {g.n} nodes is more than {_MAX_NIMFA_NODES}")
    return g


def nimfa_sis(graph: Any) -> Flow:
    """Individual-based mean-field SIS: x_i' = tau (1 - x_i) sum_j A_ij x_j - gamma x_i (small graphs)."""
    g = _adjacency(graph)
    X = sp.symbols(f"x0:{g.n}", real=True)
    tau, gamma = sp.symbols("tau gamma", positive=True)
    rhs = []
    for i in range(g.n):
        nb = g.indices[g.indptr[i]:g.indptr[i + 1]]
        w = g.weights[g.indptr[i]:g.indptr[i + 1]] if g.weights is not None else np.ones(nb.size)
        pressure = sp.Add(*[sp.nsimplify(float(wj)) * X[j] for j, wj in zip(nb, w)])
        rhs.append(tau * (1 - X[i]) * pressure - gamma * X[i])
    return Flow(X, rhs, (tau, gamma), name="nimfa-sis", description=f"NIMFA SIS on {g.n} nodes",
                reference="Van Mieghem, Omic & Kooij, IEEE/ACM Trans. Netw. 17, 1-14 (2009)")


def nimfa_sir(graph: Any) -> Flow:
    """Individual-based mean-field SIR: s_i' = -tau s_i sum_j A_ij x_j, x_i' = tau s_i sum_j A_ij x_j - gamma x_i."""
    g = _adjacency(graph)
    Sv = sp.symbols(f"s0:{g.n}", real=True)
    X = sp.symbols(f"x0:{g.n}", real=True)
    tau, gamma = sp.symbols("tau gamma", positive=True)
    force = []
    for i in range(g.n):
        nb = g.indices[g.indptr[i]:g.indptr[i + 1]]
        w = g.weights[g.indptr[i]:g.indptr[i + 1]] if g.weights is not None else np.ones(nb.size)
        force.append(tau * Sv[i] * sp.Add(*[sp.nsimplify(float(wj)) * X[j] for j, wj in zip(nb, w)]))
    return Flow((*Sv, *X), [-f for f in force] + [f - gamma * x for f, x in zip(force, X)], (tau, gamma),
                name="nimfa-sir", description=f"NIMFA SIR on {g.n} nodes",
                reference="Van Mieghem, Omic & Kooij, IEEE/ACM Trans. Netw. 17, 1-14 (2009)")
