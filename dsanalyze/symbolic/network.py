"""Epidemics on configuration-model networks: generating functions, thresholds, final size, outbreak probability.

A degree distribution p_k gives the generating functions G0(x) = sum p_k x^k
and G1(x) = G0'(x) / G0'(1) (of the excess degree of a node reached along an
edge). For SIR with transmissibility T (the probability that an infected node
infects a given neighbour), percolation theory gives (M. E. J. Newman,
"Spread of epidemic disease on networks", Phys. Rev. E 66, 016128, 2002):

- threshold T_c = <k> / (<k^2> - <k>);
- final size z = 1 - G0(1 - T + T u), with u the smallest root in [0, 1] of
  u = G1(1 - T + T u).

When infectious periods vary (exponential periods), transmissions out of one
node are correlated: the final size uses the mean T, but the probability of a
major outbreak is smaller (E. Kenah and J. M. Robins, "Second look at the
spread of epidemics on networks", Phys. Rev. E 76, 036113, 2007; J. C. Miller,
Phys. Rev. E 76, 010101, 2007). With D the infectious period and
T(D) = 1 - exp(-tau D): v = E_D[G1(v + (1 - v) e^{-tau D})] and
P(major) = 1 - E_D[G0(v + (1 - v) e^{-tau D})].

SIS thresholds on tau / gamma: 1 / lambda_max(A) (individual-based mean field,
NIMFA; P. Van Mieghem, J. Omic and R. Kooij, IEEE/ACM Trans. Netw. 17, 1-14,
2009) and <k> / <k^2> (degree-based heterogeneous mean field; R.
Pastor-Satorras and A. Vespignani, Phys. Rev. Lett. 86, 3200, 2001).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DsAnalyzeError, ParameterError
from ..verify import Basis, Verdict

__all__ = [
    "DegreeDistribution", "Transmissibility", "EpidemicThreshold", "NetworkFinalSize", "OutbreakProbability",
    "SISThresholds", "degree_distribution", "transmissibility", "epidemic_threshold", "network_final_size",
    "outbreak_probability", "sis_thresholds", "DegreeDistributionError",
]

x = sp.Symbol("x")
#: Polynomial fixed-point equations up to this degree are solved exactly; higher ones numerically.
EXACT_MAX_DEGREE = 6


class DegreeDistributionError(DsAnalyzeError, ValueError):
    """A degree distribution is malformed (negative degrees, probabilities that do not sum to 1)."""


def _exact(value: Any) -> sp.Expr:
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, (float, np.floating)):
        return sp.nsimplify(float(value), rational=True)
    return sp.sympify(value)


@dataclass(frozen=True)
class DegreeDistribution:
    """A degree distribution and its generating functions.

    Attributes
    ----------
    G0 : Expr
        sum p_k x^k, in the symbol ``x`` of this module.
    pmf : tuple of (int, Rational) pairs, or None
        The probabilities of a finite support (None for a pmf given as an expression).
    source : str
        Where it came from (a graph of N nodes, a degree sequence, a pmf).
    """

    G0: sp.Expr
    pmf: tuple[tuple[int, sp.Expr], ...] | None = None
    source: str = ""

    @property
    def G1(self) -> sp.Expr:
        """G0'(x) / G0'(1): the generating function of the excess degree."""
        d = sp.diff(self.G0, x)
        return sp.simplify(d / d.subs(x, 1))

    @property
    def mean(self) -> sp.Expr:
        """<k> = G0'(1)."""
        return sp.simplify(sp.diff(self.G0, x).subs(x, 1))

    @property
    def second_moment(self) -> sp.Expr:
        """<k^2> = G0''(1) + G0'(1)."""
        return sp.simplify((sp.diff(self.G0, x, 2) + sp.diff(self.G0, x)).subs(x, 1))

    @property
    def is_polynomial(self) -> bool:
        return self.G0.is_polynomial(x)

    def latex(self) -> str:
        return (rf"G_0(x) = {sp.latex(self.G0)},\quad G_1(x) = {sp.latex(self.G1)},\quad "
                rf"\langle k\rangle = {sp.latex(self.mean)},\ \langle k^2\rangle = {sp.latex(self.second_moment)}")


def degree_distribution(source: Any, k: sp.Symbol | None = None, **params: Any) -> DegreeDistribution:
    """A degree distribution from a networkx graph, a degree sequence or a SymPy pmf in ``k``.

    Parameters
    ----------
    source : networkx.Graph, sequence of int, mapping {k: p_k}, or Expr
        For an expression, ``k`` is its degree symbol (default: the free
        symbol named ``k``); the pmf is summed from k = 0 to infinity.
    **params
        Values substituted into an expression pmf (e.g. ``c=10``).

    Examples
    --------
    >>> degree_distribution([3, 3, 3, 3]).G0
    x**3
    >>> import sympy as sp
    >>> k, c = sp.symbols("k c", nonnegative=True)
    >>> degree_distribution(sp.exp(-c) * c**k / sp.factorial(k), k).G0
    exp(c*(x - 1))
    """
    if isinstance(source, sp.Basic):
        if k is None:
            named = [s for s in source.free_symbols if s.name == "k"]
            if len(named) != 1:
                raise DegreeDistributionError("give the degree symbol of the pmf: degree_distribution(pmf, k)")
            k = named[0]
        kk = sp.Symbol(k.name, integer=True, nonnegative=True)
        pmf = source.subs(k, kk).subs({sp.Symbol(n, **a): v for n, v in params.items()
                                        for a in ({}, {"positive": True}, {"nonnegative": True})})
        G0 = sp.simplify(sp.summation(pmf * x ** kk, (kk, 0, sp.oo)))
        if isinstance(G0, sp.Piecewise):
            G0 = G0.args[0][0]
        if G0.has(sp.Sum):
            raise DegreeDistributionError(f"SymPy could not sum the generating function of {source}")
        total = sp.simplify(G0.subs(x, 1))
        if total != 1:
            raise DegreeDistributionError(f"the pmf sums to {total}, not 1")
        return DegreeDistribution(G0, None, f"pmf {sp.sstr(source)}")
    try:
        import networkx as nx
        if isinstance(source, nx.Graph):
            degrees = [d for _, d in source.degree()]
            what = f"graph with {source.number_of_nodes()} nodes"
        else:
            degrees = None
    except ImportError:  # pragma: no cover - networkx is a dependency
        degrees = None
    from ..numeric.graphs import CSRGraph

    if isinstance(source, CSRGraph):
        degrees = source.degrees().tolist()
        what = f"graph with {source.n} nodes"
    if degrees is None and hasattr(source, "items"):
        probs = {int(kk): _exact(p) for kk, p in source.items()}
        if any(kk < 0 for kk in probs) or any(p < 0 for p in probs.values()):
            raise DegreeDistributionError("degrees and probabilities must be >= 0")
        if sp.simplify(sum(probs.values()) - 1) != 0:
            raise DegreeDistributionError(f"the probabilities sum to {sum(probs.values())}, not 1")
        pmf = tuple(sorted(probs.items()))
        return DegreeDistribution(sp.Add(*[p * x ** kk for kk, p in pmf]), pmf, "pmf")
    if degrees is None:
        degrees = np.asarray(source)
        if degrees.ndim != 1 or degrees.size == 0 or not np.issubdtype(degrees.dtype, np.integer) and not np.all(
                np.equal(np.mod(degrees, 1), 0)):
            raise DegreeDistributionError("a degree sequence must be a non-empty 1-D sequence of integers")
        degrees = degrees.astype(np.int64).tolist()
        what = f"degree sequence of {len(degrees)} nodes"
    if len(degrees) == 0:
        raise DegreeDistributionError("the graph has no nodes")
    if min(degrees) < 0:
        raise DegreeDistributionError("degrees must be >= 0")
    n = len(degrees)
    pmf = tuple(sorted((kk, sp.Rational(c, n)) for kk, c in Counter(degrees).items()))
    return DegreeDistribution(sp.Add(*[p * x ** kk for kk, p in pmf]), pmf, what)


# ---- transmissibility -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transmissibility:
    """T: the probability that an infected node infects a given neighbour before it recovers.

    ``period="exponential"`` (rate gamma): T = tau / (tau + gamma);
    ``period="fixed"`` (length 1/gamma): T = 1 - exp(-tau / gamma).
    """

    tau: sp.Expr
    gamma: sp.Expr
    period: str
    T: sp.Expr

    def latex(self) -> str:
        return rf"T = {sp.latex(self.T)}"

    def verify(self, *, runs: int = 200_000, seed: int = 0) -> Verdict:
        """Sample infectious periods and transmission times; the fraction transmitted must match T (3 s.e.)."""
        rng = np.random.default_rng(seed)
        tau, gamma = float(self.tau), float(self.gamma)
        period = rng.exponential(1 / gamma, runs) if self.period == "exponential" else np.full(runs, 1 / gamma)
        hit = rng.exponential(1 / tau, runs) < period
        p = float(hit.mean())
        se = float(np.sqrt(p * (1 - p) / runs))
        T = float(self.T)
        return Verdict(f"T = {sp.sstr(self.T)} ({self.period} infectious period)", T, p, 3 * se,
                       abs(p - T) <= 3 * se, Basis.SAMPLED, note=f"{runs} sampled edges, seed {seed}")


def transmissibility(tau: Any, gamma: Any, period: str = "exponential") -> Transmissibility:
    """The transmissibility of an edge (rate ``tau``) from a node infectious for a period of mean 1/``gamma``.

    Examples
    --------
    >>> transmissibility(3, 1).T
    3/4
    >>> transmissibility(1, 2, "fixed").T
    1 - exp(-1/2)
    """
    tau, gamma = _exact(tau), _exact(gamma)
    if period == "exponential":
        T = tau / (tau + gamma)
    elif period == "fixed":
        T = 1 - sp.exp(-tau / gamma)
    else:
        raise ValueError(f"period must be 'exponential' or 'fixed', got {period!r}")
    return Transmissibility(tau, gamma, period, sp.simplify(T))


def _as_T(T: Any) -> sp.Expr:
    return T.T if isinstance(T, Transmissibility) else _exact(T)


# ---- threshold and final size -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EpidemicThreshold:
    """T_c = <k> / (<k^2> - <k>): major outbreaks are possible only for T > T_c."""

    distribution: DegreeDistribution
    Tc: sp.Expr
    graph: Any = field(default=None, repr=False, compare=False)

    def latex(self) -> str:
        return rf"T_c = \frac{{\langle k\rangle}}{{\langle k^2\rangle - \langle k\rangle}} = {sp.latex(self.Tc)}"

    def verify(self, graph: Any = None, *, gamma: float = 1.0, runs: int = 40, factor: float = 2.0,
               seed: int = 0) -> Verdict:
        """Simulate SIR on ``graph`` at T = T_c / factor and T = min(factor T_c, (1 + T_c)/2) from one infected.

        Below the threshold every outbreak must stay small (< N^(2/3) nodes);
        above it some must take off (> N^(2/3)).
        """
        from ..numeric.network import simulate_sir

        graph = self.graph if graph is None else graph
        if graph is None:
            return Verdict.unchecked("threshold T_c", self.Tc, "give a graph with this degree distribution")
        Tc = float(self.Tc)
        rows, ok = [], True
        for T in (Tc / factor, min(factor * Tc, (1 + Tc) / 2)):
            tau = gamma * T / (1 - T)
            result = simulate_sir(graph, tau=tau, gamma=gamma, initial_infected=1, runs=runs, seed=seed)
            cut = result.n ** (2 / 3)
            big = int(np.sum(result.final_counts > cut))
            ok = ok and ((big == 0) if T < Tc else (big > 0))
            rows.append(f"T = {T:.4g}: {big}/{runs} outbreaks above N^(2/3) = {cut:.0f}")
        return Verdict(f"T_c = {sp.sstr(self.Tc)} separates small from large outbreaks", Tc, "; ".join(rows),
                       None, ok, Basis.SAMPLED, note=f"{runs} runs per side, seed {seed}")


def epidemic_threshold(distribution: Any) -> EpidemicThreshold:
    """The SIR percolation threshold T_c of a configuration-model network.

    Examples
    --------
    >>> epidemic_threshold(degree_distribution([3] * 10)).Tc
    1/2
    """
    d = distribution if isinstance(distribution, DegreeDistribution) else degree_distribution(distribution)
    k1, k2 = d.mean, d.second_moment
    if sp.simplify(k2 - k1) == 0:
        raise DegreeDistributionError("<k^2> = <k>: no node has two neighbours, an outbreak cannot spread")
    return EpidemicThreshold(d, sp.simplify(k1 / (k2 - k1)))


def _smallest_root(equation: sp.Expr, var: sp.Symbol) -> tuple[sp.Expr, bool]:
    """Smallest root in [0, 1] of equation(var) = 0: exact for polynomials, else numeric (fixed-point iteration)."""
    numerator = sp.numer(sp.together(sp.expand(equation)))
    if numerator.is_polynomial(var) and not (numerator.free_symbols - {var}):
        poly = sp.Poly(numerator, var)
        # Exact roots of high degree are CRootOf monsters of no use to a reader (and slow): numeric then.
        if poly.degree() <= EXACT_MAX_DEGREE and all(c.is_rational for c in poly.all_coeffs()):
            roots = [r for r in poly.real_roots() if 0 <= r <= 1]
            return min(roots, key=lambda r: float(r)), True
    return None, False


@dataclass(frozen=True)
class NetworkFinalSize:
    """Final size of SIR on a configuration-model network: z = 1 - G0(1 - T + T u), u = G1(1 - T + T u).

    Attributes
    ----------
    distribution : DegreeDistribution
    T : Expr
    u : Expr
        The smallest root in [0, 1] (exact for a finite support and rational T, else a Float).
    z : Expr
        The expected final size of a major outbreak, as a fraction of N.
    exact : bool
    """

    distribution: DegreeDistribution
    T: sp.Expr
    u: sp.Expr
    z: sp.Expr
    exact: bool
    graph: Any = field(default=None, repr=False, compare=False)

    def latex(self) -> str:
        rel = r"u = G_1(1 - T + T u),\ z = 1 - G_0(1 - T + T u)"
        sign = "=" if self.exact else r"\approx"
        return rf"{rel}:\quad T = {sp.latex(self.T)},\ u {sign} {sp.latex(self.u)},\ z {sign} {sp.latex(self.z)}"

    def value(self) -> float:
        return float(sp.N(self.z, 20))

    def verify(self, graph: Any = None, *, tau: float | None = None, gamma: float = 1.0, runs: int = 40,
               seed: int = 0, sigmas: float = 3.0) -> Verdict:
        """Simulate SIR on ``graph`` (exponential periods, T = tau/(tau+gamma)); the mean major final size must be z.

        Runs start from one infected node; runs above N^(2/3) infected are
        major outbreaks. Passes when |mean - z| <= sigmas * standard error of the
        mean (plus 1/sqrt(N) for the finite size of the graph).
        """
        from ..numeric.network import simulate_sir

        graph = self.graph if graph is None else graph
        if graph is None:
            return Verdict.unchecked("network final size", self.z, "give a graph with this degree distribution")
        T = float(self.T)
        if tau is None:
            tau = gamma * T / (1 - T)
        result = simulate_sir(graph, tau=tau, gamma=gamma, initial_infected=1, runs=runs, seed=seed)
        sizes = result.final_sizes[result.major]
        if sizes.size < 3:
            return Verdict.unchecked("network final size", self.value(), f"only {sizes.size} major outbreaks in {runs} runs")
        mean, se = float(sizes.mean()), float(sizes.std(ddof=1) / np.sqrt(sizes.size))
        tol = sigmas * se + 1 / np.sqrt(result.n)
        return Verdict(f"final size of a major SIR outbreak at T = {sp.sstr(self.T)}", self.value(), mean, tol,
                       abs(mean - self.value()) <= tol, Basis.SAMPLED,
                       evidence={"final_sizes": result.final_sizes},
                       note=f"{sizes.size} major of {runs} runs (> N^(2/3) infected), N = {result.n}, "
                            f"standard error {se:.2g}, seed {seed}")


def network_final_size(distribution: Any, T: Any) -> NetworkFinalSize:
    """The expected final size of a major SIR outbreak on a configuration-model network.

    Parameters
    ----------
    distribution : DegreeDistribution, graph, degree sequence or pmf
    T : number, Expr or Transmissibility

    Examples
    --------
    >>> network_final_size([3] * 100, sp.Rational(3, 4)).z
    26/27
    """
    d = distribution if isinstance(distribution, DegreeDistribution) else degree_distribution(distribution)
    T = _as_T(T)
    u = sp.Symbol("u")
    arg = 1 - T + T * u
    root, exact = _smallest_root(d.G1.subs(x, arg) - u, u)
    if exact:
        z = sp.nsimplify(sp.simplify(1 - d.G0.subs(x, 1 - T + T * root)))
        return NetworkFinalSize(d, T, root, z if z.is_rational else sp.simplify(1 - d.G0.subs(x, 1 - T + T * root)),
                                True)
    if d.G0.free_symbols - {x} or T.free_symbols:
        raise ParameterError("give numbers for the parameters of the pmf and T to solve the final size numerically")
    G1 = sp.lambdify(x, d.G1, "mpmath")
    Tf = float(T)
    import mpmath

    with mpmath.workdps(30):
        value = mpmath.mpf(0)
        for _ in range(100_000):
            new = G1(1 - Tf + Tf * value)
            if abs(new - value) < mpmath.mpf(10) ** -25:
                value = new
                break
            value = new
        root = sp.Float(value, 25)
        z = sp.Float(1 - sp.lambdify(x, d.G0, "mpmath")(1 - Tf + Tf * value), 25)
    return NetworkFinalSize(d, T, root, z, False)


# ---- probability of a major outbreak -----------------------------------------------------------------------
@dataclass(frozen=True)
class OutbreakProbability:
    """Probability that one random initial infected node starts a major outbreak (Kenah & Robins 2007).

    Attributes
    ----------
    distribution : DegreeDistribution
    tau, gamma : Expr
    period : str
    v : Expr
        Probability that the transmission chain along an edge stays finite.
    P : Expr
        1 - E_D[G0(v + (1 - v) e^{-tau D})].
    exact : bool
    """

    distribution: DegreeDistribution
    tau: sp.Expr
    gamma: sp.Expr
    period: str
    v: sp.Expr
    P: sp.Expr
    exact: bool
    graph: Any = field(default=None, repr=False, compare=False)

    def latex(self) -> str:
        sign = "=" if self.exact else r"\approx"
        return (r"v = E_D\left[G_1\left(v + (1-v)e^{-\tau D}\right)\right],\ "
                rf"P_{{\mathrm{{major}}}} = 1 - E_D\left[G_0\left(v + (1-v)e^{{-\tau D}}\right)\right] {sign} {sp.latex(self.P)}")

    def value(self) -> float:
        return float(sp.N(self.P, 20))

    def verify(self, graph: Any = None, *, runs: int = 400, seed: int = 0) -> Verdict:
        """The fraction of runs from one infected node that take off (> N^(2/3)) must be P (3 binomial s.e.)."""
        from ..numeric.network import simulate_sir

        graph = self.graph if graph is None else graph
        if graph is None:
            return Verdict.unchecked("probability of a major outbreak", self.value(), "give a graph")
        if self.period != "exponential":
            return Verdict.unchecked("probability of a major outbreak", self.value(),
                                     "the simulation has exponential infectious periods only")
        result = simulate_sir(graph, tau=float(self.tau), gamma=float(self.gamma), initial_infected=1, runs=runs,
                              seed=seed)
        p = float(result.major.mean())
        P = self.value()
        se = float(np.sqrt(P * (1 - P) / runs))
        return Verdict("probability of a major outbreak", P, p, 3 * se + 1 / np.sqrt(result.n), abs(p - P) <= 3 * se + 1 / np.sqrt(result.n),
                       Basis.SAMPLED, note=f"{runs} runs from one infected node, N = {result.n}, seed {seed}")


def _expected_power_exponential(m: int, v: sp.Expr, tau: sp.Expr, gamma: sp.Expr) -> sp.Expr:
    """E[(v + (1 - v) e^{-tau D})^m] for D ~ Exp(gamma): sum_j C(m, j) v^(m-j) (1-v)^j gamma / (gamma + j tau)."""
    return sp.Add(*[sp.binomial(m, j) * v ** (m - j) * (1 - v) ** j * gamma / (gamma + j * tau) for j in range(m + 1)])


def outbreak_probability(distribution: Any, tau: Any, gamma: Any, period: str = "exponential") -> OutbreakProbability:
    """Probability of a major outbreak from one random infected node (Kenah & Robins 2007).

    With a fixed infectious period it equals the final size; with
    exponential periods it is smaller.

    Examples
    --------
    >>> P = outbreak_probability([3] * 100, 3, 1)
    >>> P.P, network_final_size([3] * 100, transmissibility(3, 1)).z
    (77/90, 26/27)
    """
    d = distribution if isinstance(distribution, DegreeDistribution) else degree_distribution(distribution)
    tau, gamma = _exact(tau), _exact(gamma)
    if period == "fixed":
        F = network_final_size(d, transmissibility(tau, gamma, "fixed"))
        return OutbreakProbability(d, tau, gamma, period, F.u, F.z, F.exact)
    if period != "exponential":
        raise ValueError(f"period must be 'exponential' or 'fixed', got {period!r}")
    v = sp.Symbol("v")
    if d.pmf is not None and not (tau.free_symbols | gamma.free_symbols):
        mean = d.mean
        # G1 has coefficients k p_k / <k> on x^(k-1)
        EG1 = sp.Add(*[kk * p / mean * _expected_power_exponential(kk - 1, v, tau, gamma) for kk, p in d.pmf if kk > 0])
        EG0 = lambda vv: sp.Add(*[p * _expected_power_exponential(kk, vv, tau, gamma) for kk, p in d.pmf])
        root, exact = _smallest_root(EG1 - v, v)
        if exact:
            return OutbreakProbability(d, tau, gamma, period, root, sp.nsimplify(sp.simplify(1 - EG0(root))), True)
    # Numeric: the same expectations in floating point (closed form for a finite support, else quadrature over D).
    tf, gf = float(tau), float(gamma)
    if d.pmf is not None:
        from math import comb

        ks = [kk for kk, _ in d.pmf]
        ps = [float(p) for _, p in d.pmf]
        mean = sum(kk * p for kk, p in zip(ks, ps))
        top = max(ks)
        decay = [gf / (gf + j * tf) for j in range(top + 1)]

        def power(m, vv):  # E[(vv + (1 - vv) e^{-tau D})^m]
            return sum(comb(m, j) * vv ** (m - j) * (1 - vv) ** j * decay[j] for j in range(m + 1))

        EG1 = lambda vv: sum(kk * p / mean * power(kk - 1, vv) for kk, p in zip(ks, ps) if kk > 0)
        EG0 = lambda vv: sum(p * power(kk, vv) for kk, p in zip(ks, ps))
    else:
        from scipy.integrate import quad

        G0f = sp.lambdify(x, d.G0, "math")
        G1f = sp.lambdify(x, d.G1, "math")

        def expect(G, vv):
            f = lambda s: gf * math.exp(-gf * s) * G(vv + (1 - vv) * math.exp(-tf * s))
            return quad(f, 0, math.inf, epsabs=1e-15, epsrel=1e-13, limit=200)[0]

        EG1 = lambda vv: expect(G1f, vv)
        EG0 = lambda vv: expect(G0f, vv)
    value = 0.0
    for _ in range(100_000):
        new = EG1(value)
        if abs(new - value) < 1e-15:
            value = new
            break
        value = new
    P = 1 - EG0(value)
    return OutbreakProbability(d, tau, gamma, period, sp.Float(value, 15), sp.Float(P, 15), False)


# ---- SIS thresholds -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SISThresholds:
    """SIS epidemic thresholds on tau / gamma: NIMFA 1 / lambda_max(A) and HMF <k> / <k^2>.

    ``nimfa`` is None without a graph (a degree distribution alone has no adjacency matrix).
    """

    nimfa: float | None
    hmf: sp.Expr
    lambda_max: float | None = None

    def latex(self) -> str:
        parts = [rf"\left(\tau/\gamma\right)_c^{{\mathrm{{HMF}}}} = \frac{{\langle k\rangle}}{{\langle k^2\rangle}} = {sp.latex(self.hmf)}"]
        if self.nimfa is not None:
            parts.append(rf"\left(\tau/\gamma\right)_c^{{\mathrm{{NIMFA}}}} = 1/\lambda_{{\max}}(A) = {self.nimfa:.6g}")
        return r",\quad ".join(parts)

    def verify(self) -> Verdict:
        """``numeric``: lambda_max(A) >= sqrt(<k^2>), so the NIMFA threshold is at most 1/sqrt(<k^2>).

        The bound holds for every graph (Rayleigh quotient of A^2 with the
        all-ones vector); it checks that the computed lambda_max is not an
        underestimate from a non-converged eigensolver. Unchecked without a graph.
        """
        if self.lambda_max is None:
            return Verdict.unchecked("SIS thresholds", self.hmf, "no graph: no adjacency matrix")
        bound = float(self._k2) ** 0.5
        return Verdict("lambda_max(A) >= sqrt(<k^2>) (Rayleigh quotient bound)", f">= {bound:.6g}", self.lambda_max,
                       None, self.lambda_max + 1e-9 >= bound, Basis.NUMERIC)

    _k2: Any = field(default=0, repr=False, compare=False)


def sis_thresholds(source: Any) -> SISThresholds:
    """SIS thresholds of a graph (NIMFA and HMF) or of a degree distribution (HMF only).

    Examples
    --------
    >>> import networkx as nx
    >>> s = sis_thresholds(nx.complete_graph(5))
    >>> round(s.nimfa, 12), s.hmf
    (0.25, 1/4)
    """
    from ..numeric.graphs import as_csr

    lam = None
    try:
        import networkx as nx
        is_graph = isinstance(source, nx.Graph)
    except ImportError:  # pragma: no cover
        is_graph = False
    from ..numeric.graphs import CSRGraph

    if is_graph or hasattr(source, "tocsr") or isinstance(source, CSRGraph):
        graph = as_csr(source)
        lam = graph.spectral_radius()
        d = degree_distribution(graph.degrees())
    else:
        d = source if isinstance(source, DegreeDistribution) else degree_distribution(source)
    hmf = sp.simplify(d.mean / d.second_moment)
    return SISThresholds(None if lam is None else 1.0 / lam, hmf, lam, _k2=d.second_moment)
