"""Compartmental epidemic models: disease-free equilibrium, R0, endemic equilibria, final size.

R0 comes from the next-generation matrix of P. van den Driessche and J.
Watmough, "Reproduction numbers and sub-threshold endemic equilibria for
compartmental models of disease transmission", Math. Biosci. 180, 29-48
(2002): with x the infected compartments, f(x) = F(x) - V(x) splits into new
infections F and all other transfers V; at the disease-free equilibrium
(DFE) F = dF/dx, V = dV/dx and R0 = rho(F V^-1), the spectral radius of the
next-generation matrix K = F V^-1. The DFE is locally asymptotically stable
if R0 < 1 and unstable if R0 > 1 (their Theorem 2), because the spectral
abscissa s(F - V) has the sign of R0 - 1.

The split is derived unless given: the infected compartments are the
smallest set of compartments, containing every compartment that gains a
nonlinear (incidence) term such as beta S I, that the flow leaves invariant at
zero (no infected, no new infected); F holds those positive incidence terms.

The final size z of the well-mixed SIR epidemic (Kermack & McKendrick 1927)
solves z = 1 - exp(-R0 z); its positive root for R0 > 1 is
z = 1 + W0(-R0 exp(-R0)) / R0 with W0 the principal branch of Lambert W.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DsAnalyzeError, ParameterError
from ..systems import Flow, System
from ..verify import Basis, Verdict
from .budget import time_limit
from .results import parameter_values

__all__ = [
    "NextGenerationSplit", "DiseaseFreeEquilibrium", "ReproductionNumber", "EndemicEquilibrium", "FinalSize",
    "next_generation_split", "disease_free_equilibrium", "reproduction_number", "endemic_equilibria",
    "final_size", "EpidemicModelError",
]


class EpidemicModelError(DsAnalyzeError, ValueError):
    """A flow does not have the structure of a compartmental epidemic model (no incidence, no DFE)."""


# ---- the split into infected compartments, new infections and other transfers ----------------
@dataclass(frozen=True)
class NextGenerationSplit:
    """Infected compartments x and the split f(x) = F(x) - V(x) of their right-hand sides.

    Attributes
    ----------
    system : Flow
    infected : tuple of Symbol
        The infected compartments, in the order of the system's state.
    new_infections : tuple of Expr
        F_i: the rate of appearance of new infections in compartment i.
    transfers : tuple of Expr
        V_i = F_i - f_i: every other transfer, out minus in.
    derived : bool
        True when the split was derived, False when given.
    """

    system: Flow
    infected: tuple[sp.Symbol, ...]
    new_infections: tuple[sp.Expr, ...]
    transfers: tuple[sp.Expr, ...]
    derived: bool = True

    def latex(self) -> str:
        rows = [
            rf"\mathcal{{F}}_{{{sp.latex(x)}}} &= {sp.latex(f)}, & \mathcal{{V}}_{{{sp.latex(x)}}} &= {sp.latex(v)}"
            for x, f, v in zip(self.infected, self.new_infections, self.transfers)
        ]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _state_degree(term: sp.Expr, state) -> int:
    return sp.Poly(term, *state).total_degree() if term.is_polynomial(*state) else 2


def _incidence(system: Flow) -> tuple[dict, set]:
    """Per state, its positive nonlinear terms (gains of new infections); and the states that lose such terms."""
    gains: dict[sp.Symbol, list[sp.Expr]] = {}
    losers: set[sp.Symbol] = set()
    for x, f in zip(system.state, system.rhs):
        for term in sp.Add.make_args(sp.expand(f)):
            if _state_degree(term, system.state) < 2:
                continue
            coefficient = term.as_coeff_Mul()[0]
            if coefficient > 0:
                gains.setdefault(x, []).append(term)
            elif coefficient < 0:
                losers.add(x)
    return gains, losers


def _vanishes_at_zero(system: Flow, subset) -> bool:
    zero = {x: 0 for x in subset}
    rhs = dict(zip(system.state, system.rhs))
    return all(sp.expand(rhs[x].subs(zero)) == 0 for x in subset)


def _require_flow(system: Any) -> None:
    if not isinstance(system, Flow):
        raise EpidemicModelError(f"epidemic derivations need a Flow (a compartmental ODE model), got {type(system).__name__}")


def _states_by_name(system: System, names: Any, what: str) -> tuple[sp.Symbol, ...]:
    if isinstance(names, (str, sp.Symbol)):
        names = [names]
    by_name = {s.name: s for s in system.state}
    out = []
    for n in names:
        key = n.name if isinstance(n, sp.Symbol) else str(n)
        if key not in by_name:
            raise EpidemicModelError(f"{what}: {key} is not a compartment of {system.name or 'the model'} "
                                     f"({', '.join(by_name)})")
        out.append(by_name[key])
    return tuple(s for s in system.state if s in out)


def next_generation_split(system: Flow, *, infected: Any = None,
                          new_infections: Mapping[Any, Any] | None = None) -> NextGenerationSplit:
    """Infected compartments and the split of their right-hand sides into F (new infections) and V.

    Parameters
    ----------
    system : Flow
        A compartmental model.
    infected : names or symbols, optional
        The infected compartments (default: derived, see the module notes).
    new_infections : mapping, optional
        F_i by compartment, e.g. ``{"E": "beta*S*I"}`` (default: the positive
        incidence terms of each infected compartment).

    Examples
    --------
    >>> from dsanalyze.models import seir
    >>> split = next_generation_split(seir())
    >>> split.infected, split.new_infections
    ((E, I), (I*S*beta, 0))
    """
    _require_flow(system)
    gains, _ = _incidence(system)
    derived = infected is None and new_infections is None
    if new_infections is not None:
        given = {_states_by_name(system, k, "new_infections")[0]: system._lenient(v, system._symbol_map())
                 for k, v in new_infections.items()}
    else:
        given = {x: sp.Add(*terms) for x, terms in gains.items()}
    if infected is not None:
        chosen = _states_by_name(system, infected, "infected")
    else:
        seeds = set(given)
        if not seeds:
            raise EpidemicModelError(
                f"{system.name or 'the model'} has no incidence term (a positive product of compartments such as "
                "beta*S*I); give infected= and new_infections= to split it"
            )
        rest = [x for x in system.state if x not in seeds]
        chosen = None
        for size in range(len(rest) + 1):
            for extra in itertools.combinations(rest, size):
                subset = seeds | set(extra)
                if len(subset) < system.dim and _vanishes_at_zero(system, subset):
                    chosen = tuple(x for x in system.state if x in subset)
                    break
            if chosen is not None:
                break
        if chosen is None:
            raise EpidemicModelError(
                f"no set of compartments of {system.name or 'the model'} stays at zero without new infections; "
                "give infected= explicitly"
            )
    rhs = dict(zip(system.state, system.rhs))
    F = tuple(sp.expand(given.get(x, sp.Integer(0))) for x in chosen)
    V = tuple(sp.expand(f - rhs[x]) for x, f in zip(chosen, F))
    return NextGenerationSplit(system, chosen, F, V, derived)


# ---- disease-free equilibrium ---------------------------------------------------------------------
@dataclass(frozen=True)
class DiseaseFreeEquilibrium:
    """The disease-free equilibrium: every infected compartment empty.

    Attributes
    ----------
    system : Flow
    coordinates : tuple of Expr
        One value per compartment (in population fractions).
    infected : tuple of Symbol
    normalised : bool
        True when the flow leaves a whole family of disease-free states at
        rest (no births and deaths) and the point was fixed by putting the
        whole population in the compartments that lose to infection.
    """

    system: Flow
    coordinates: tuple[sp.Expr, ...]
    infected: tuple[sp.Symbol, ...]
    normalised: bool = False

    def as_dict(self) -> dict[sp.Symbol, sp.Expr]:
        return dict(zip(self.system.state, self.coordinates))

    def latex(self) -> str:
        names = ", ".join(sp.latex(s) for s in self.system.state)
        values = ", ".join(sp.latex(c) for c in self.coordinates)
        return rf"({names})_{{\mathrm{{DFE}}}} = ({values})"

    def verify(self, **params: Any) -> Verdict:
        """``proved``: the right-hand side vanishes identically at the point."""
        point = self.as_dict()
        residual = [sp.simplify(f.subs(point)) for f in self.system.rhs]
        ok = all(r == 0 for r in residual)
        return Verdict("the disease-free state is an equilibrium", self.latex(), residual, None, ok, Basis.PROVED)


def disease_free_equilibrium(system: Flow, *, infected: Any = None, dfe: Mapping[Any, Any] | None = None,
                             timeout: float | None = 30.0) -> DiseaseFreeEquilibrium:
    """The disease-free equilibrium of a compartmental model.

    Parameters
    ----------
    system : Flow
    infected : names, optional
        Infected compartments (default: derived by :func:`next_generation_split`).
    dfe : mapping, optional
        The point itself, e.g. ``{"S": 1, "R": 0}`` (checked to be an equilibrium).
    timeout : float
        Seconds allowed for solving.

    Examples
    --------
    >>> from dsanalyze.models import seir, sir
    >>> disease_free_equilibrium(seir()).coordinates
    (1, 0, 0, 0)
    >>> disease_free_equilibrium(sir()).normalised
    True
    """
    _require_flow(system)
    infected = next_generation_split(system, infected=infected).infected
    zero = {x: sp.Integer(0) for x in infected}
    others = [x for x in system.state if x not in infected]
    rhs = dict(zip(system.state, system.rhs))
    if dfe is not None:
        point = dict(zero)
        for key, value in dfe.items():
            x = _states_by_name(system, key, "dfe")[0]
            point[x] = sp.nsimplify(sp.sympify(value), rational=True)
        missing = [x.name for x in system.state if x not in point]
        if missing:
            raise EpidemicModelError(f"dfe= gives no value for {', '.join(missing)}")
        bad = [x for x in system.state if sp.simplify(rhs[x].subs(point)) != 0]
        if bad:
            raise EpidemicModelError(f"the given dfe is not an equilibrium: d{bad[0]}/dt = {sp.simplify(rhs[bad[0]].subs(point))}")
        return DiseaseFreeEquilibrium(system, tuple(point[x] for x in system.state), infected)
    equations = [sp.expand(rhs[x].subs(zero)) for x in others]
    with time_limit(timeout, "disease-free equilibrium"):
        nontrivial = [e for e in equations if e != 0]
        solutions = sp.solve(nontrivial, others, dict=True) if nontrivial else []
    complete = [s for s in solutions if all(x in s and not (s[x].free_symbols & set(others)) for x in others)]
    if len(complete) == 1:
        point = {**zero, **complete[0]}
        return DiseaseFreeEquilibrium(system, tuple(sp.simplify(point[x]) for x in system.state), infected)
    # A family of disease-free states (no births or deaths): everyone susceptible.
    _, losers = _incidence(system)
    susceptible = [x for x in others if x in losers]
    if len(susceptible) != 1:
        raise EpidemicModelError(
            f"{system.name or 'the model'} has no single disease-free equilibrium; give dfe=, e.g. "
            f"dfe={{{', '.join(repr(x.name) + ': ...' for x in others)}}}"
        )
    point = {**zero, **{x: sp.Integer(1 if x in susceptible else 0) for x in others}}
    if any(sp.simplify(rhs[x].subs(point)) != 0 for x in system.state):
        raise EpidemicModelError("everyone susceptible is not an equilibrium of the model; give dfe=")
    return DiseaseFreeEquilibrium(system, tuple(point[x] for x in system.state), infected, normalised=True)


# ---- R0 ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReproductionNumber:
    """R0 = rho(F V^-1) by the next-generation matrix at the disease-free equilibrium.

    Attributes
    ----------
    system : Flow
    split : NextGenerationSplit
    dfe : DiseaseFreeEquilibrium
    F, V : ImmutableMatrix
        Jacobians of new infections and of other transfers at the DFE.
    K : ImmutableMatrix
        The next-generation matrix F V^-1.
    R0 : Expr
        Its spectral radius, exact.
    """

    system: Flow
    split: NextGenerationSplit
    dfe: DiseaseFreeEquilibrium
    F: sp.ImmutableMatrix
    V: sp.ImmutableMatrix
    K: sp.ImmutableMatrix
    R0: sp.Expr

    def latex(self) -> str:
        return (rf"F = {sp.latex(self.F)},\quad V = {sp.latex(self.V)},\quad "
                rf"R_0 = \rho(F V^{{-1}}) = {sp.latex(self.R0)}")

    def value(self, **params: Any) -> float:
        """R0 at the given parameter values."""
        values = parameter_values(self.system, params)
        return float(self.R0.subs(values))

    def verify(self, *, seed: int = 0, **params: Any) -> Verdict:
        """Check R0 against the flow: growth rate at the DFE, and growth below/above threshold.

        At the given parameter values (random ones in (0.1, 2) fill in the
        rest, drawn with ``seed``), the nonlinear flow is integrated from the
        DFE plus 1e-10 along the leading eigenvector of F - V: the measured
        exponential growth rate of the infected must match the spectral
        abscissa s(F - V) to 1e-4 (relative, or 1e-6 absolute), and its sign
        the sign of R0 - 1. If one parameter carries all new infections and
        R0 is proportional to it, the same is done with it rescaled to make
        R0 = 0.8 (the infection must die out) and R0 = 1.25 (it must grow).
        """
        from ..numeric.flows import integrate

        values = _sample_parameters(self.system, params, seed)
        rows = []
        ok = True
        points = [values]
        carrier = _transmission_parameter(self)
        if carrier is not None:
            r0 = float(self.R0.subs(values))
            for target in (0.8, 1.25):
                points.append({**values, carrier: values[carrier] * sp.Rational(str(target)) / sp.nsimplify(r0)})
        for at in points:
            r0 = float(self.R0.subs(at))
            Fm = np.array(self.F.subs(at).evalf(), dtype=float)
            Vm = np.array(self.V.subs(at).evalf(), dtype=float)
            lam, vec = np.linalg.eig(Fm - Vm)
            lead = int(np.argmax(lam.real))
            s = float(lam[lead].real)
            direction = np.abs(vec[:, lead].real)
            direction /= direction.sum()
            base = np.array([float(c.subs(at)) for c in self.dfe.coordinates])
            x0 = base.copy()
            index = [self.system.state.index(x) for x in self.split.infected]
            eps = 1e-10
            x0[index] += eps * direction
            horizon = 5.0 / max(abs(s), 1e-3)
            t = np.array([0.0, horizon / 2, horizon])
            y = integrate(self.system, x0, t, rtol=1e-12, atol=1e-22, **{p.name: float(v) for p, v in at.items()})
            total = y[:, index].sum(axis=1)
            rate = math.log(total[2] / total[1]) / (horizon / 2)
            agree = abs(rate - s) <= max(1e-4 * abs(s), 1e-6)
            signs = (s < 0) == (r0 < 1) and (rate < 0) == (r0 < 1)
            ok = ok and agree and signs
            rows.append(f"R0 = {r0:.6g}: s(F-V) = {s:.6g}, measured growth rate {rate:.6g}")
        where = ", ".join(f"{p} = {sp.sstr(v)}" for p, v in values.items())
        return Verdict(
            f"R0 = {sp.sstr(self.R0)} is the invasion threshold of {self.system.name or 'the model'}",
            sp.sstr(self.R0), "; ".join(rows), 1e-4, ok, Basis.NUMERIC,
            note=f"flow integrated from the DFE + 1e-10 infected at {where}",
        )


def _sample_parameters(system: System, params: Mapping[str, Any], seed: int) -> dict[sp.Symbol, sp.Expr]:
    given = parameter_values(system, params)
    rng = np.random.default_rng(seed)
    out = {}
    for p in system.params:
        out[p] = given[p] if p in given else sp.Rational(int(rng.integers(10, 200)), 100)
    return out


def _transmission_parameter(result: ReproductionNumber) -> sp.Symbol | None:
    carriers = set().union(*(f.free_symbols for f in result.split.new_infections)) & set(result.system.params)
    if len(carriers) != 1:
        return None
    (beta,) = carriers
    if sp.simplify(result.R0.diff(beta) * beta - result.R0) != 0:
        return None
    return beta


def _spectral_radius(K: sp.Matrix, params: tuple) -> sp.Expr:
    eigenvalues = [sp.simplify(lam) for lam in K.eigenvals(multiple=True)]
    nonzero = [lam for lam in eigenvalues if lam != 0]
    if len(nonzero) <= 1:
        return nonzero[0] if nonzero else sp.Integer(0)
    rng = np.random.default_rng(0)
    sample = {p: sp.Rational(int(rng.integers(10, 200)), 100) for p in params}
    return max(nonzero, key=lambda lam: abs(complex(lam.subs(sample).evalf())))


def reproduction_number(system: Flow, *, infected: Any = None, new_infections: Mapping[Any, Any] | None = None,
                        dfe: Mapping[Any, Any] | None = None, timeout: float | None = 30.0) -> ReproductionNumber:
    """R0 of a compartmental model by the next-generation matrix (van den Driessche & Watmough 2002).

    Parameters
    ----------
    system : Flow
    infected, new_infections : optional
        The split (see :func:`next_generation_split`); derived by default.
    dfe : mapping, optional
        The disease-free equilibrium, when the model has a family of them.
    timeout : float
        Seconds allowed for the symbolic work.

    Examples
    --------
    >>> import sympy as sp
    >>> from dsanalyze.models import seir
    >>> R = reproduction_number(seir())
    >>> beta, sigma, gamma, mu = seir().params
    >>> sp.simplify(R.R0 - beta*sigma/((sigma + mu)*(gamma + mu)))
    0
    """
    _require_flow(system)
    split = next_generation_split(system, infected=infected, new_infections=new_infections)
    point = disease_free_equilibrium(system, infected=split.infected, dfe=dfe, timeout=timeout)
    at = point.as_dict()
    x = sp.Matrix(split.infected)
    with time_limit(timeout, "next-generation matrix"):
        F = sp.Matrix(split.new_infections).jacobian(x).subs(at)
        V = sp.Matrix(split.transfers).jacobian(x).subs(at)
        if V.det() == 0:
            raise EpidemicModelError("V is singular at the disease-free equilibrium: the infected compartments "
                                     "never empty; check the split (infected=, new_infections=)")
        K = sp.simplify(F * V.inv())
        R0 = sp.factor(sp.simplify(_spectral_radius(K, system.params)))
    return ReproductionNumber(system, split, point, sp.ImmutableMatrix(F), sp.ImmutableMatrix(V),
                              sp.ImmutableMatrix(K), R0)


# ---- endemic equilibria -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EndemicEquilibrium:
    """An equilibrium with infection present.

    Attributes
    ----------
    system : Flow
    coordinates : tuple of Expr
    R0 : Expr
    conditions : sympy Boolean
        When it exists in the positive orthant (``R0 > 1`` when that is what positivity amounts to).
    jacobian : ImmutableMatrix
        The Jacobian there.
    conserved : bool
        True when the flow conserves the total population exactly (one zero
        eigenvalue, along the total, says nothing about stability).
    """

    system: Flow
    coordinates: tuple[sp.Expr, ...]
    R0: sp.Expr
    conditions: sp.Basic
    jacobian: sp.ImmutableMatrix
    conserved: bool

    def as_dict(self) -> dict[sp.Symbol, sp.Expr]:
        return dict(zip(self.system.state, self.coordinates))

    def latex(self) -> str:
        names = ", ".join(sp.latex(s) for s in self.system.state)
        values = ", ".join(sp.latex(c) for c in self.coordinates)
        return rf"({names})^* = ({values}) \quad \text{{if }} {sp.latex(self.conditions)}"

    def eigenvalues(self, **params: Any) -> np.ndarray:
        """Eigenvalues of the Jacobian at given parameters (the conserved direction's zero removed)."""
        values = parameter_values(self.system, params)
        J = np.array(self.jacobian.subs(values).evalf(), dtype=float)
        lam = np.linalg.eigvals(J)
        if self.conserved:
            lam = np.delete(lam, int(np.argmin(np.abs(lam))))
        return lam

    def verify(self, *, seed: int = 0, **params: Any) -> Verdict:
        """Check existence and stability at parameter values with R0 > 1: residual, eigenvalues, and the flow.

        Parameters are the given values, else random in (0.1, 2) with
        ``seed``, with the transmission parameter raised until R0 = 2 when
        the draw gave R0 <= 1. The flow is integrated from the DFE plus 1e-4
        infected for 40 / |max Re lambda| time units and must end within 1e-6
        of the equilibrium.
        """
        from ..numeric.flows import integrate

        values = _sample_parameters(self.system, params, seed)
        r0 = float(self.R0.subs(values))
        if r0 <= 1 and not params:
            R = reproduction_number(self.system)
            carrier = _transmission_parameter(R)
            if carrier is None:
                return Verdict.unchecked("endemic equilibrium is stable", self.latex(), "R0 <= 1 at the sampled values")
            values[carrier] = values[carrier] * 2 / sp.nsimplify(r0)
            r0 = float(self.R0.subs(values))
        kp = {p.name: float(v) for p, v in values.items()}
        star = np.array([float(c.subs(values)) for c in self.coordinates])
        if r0 <= 1:
            return Verdict("endemic equilibrium exists only if R0 > 1", "no positive equilibrium",
                           f"R0 = {r0:.6g}, point {star}", None, bool(np.any(star < 0)), Basis.NUMERIC)
        residual = float(np.max(np.abs([float(f.subs(dict(zip(self.system.state, star))).subs(values))
                                        for f in self.system.rhs])))
        lam = self.eigenvalues(**kp)
        dfe = disease_free_equilibrium(self.system)
        x0 = np.array([float(c.subs(values)) for c in dfe.coordinates])
        index = [self.system.state.index(x) for x in dfe.infected]
        x0[index] += 1e-4
        first = next(i for i, x in enumerate(self.system.state) if x not in dfe.infected and x0[i] > 0)
        x0[first] -= 1e-4 * len(index)
        horizon = 40.0 / max(abs(float(np.max(lam.real))), 1e-3)
        y = integrate(self.system, x0, [0.0, horizon], rtol=1e-11, atol=1e-14, **kp)
        distance = float(np.max(np.abs(y[-1] - star)))
        ok = bool(residual < 1e-12 and np.all(star > 0) and np.max(lam.real) < 0 and distance < 1e-6)
        return Verdict(
            "the endemic equilibrium exists, is locally stable and attracts the flow from near the DFE",
            self.latex(), f"residual {residual:.1e}, max Re lambda {np.max(lam.real):.4g}, "
                          f"distance after t = {horizon:.4g}: {distance:.1e}",
            1e-6, ok, Basis.NUMERIC, note=f"R0 = {r0:.6g} at " + ", ".join(f"{k} = {v:g}" for k, v in kp.items()),
        )


def endemic_equilibria(system: Flow, *, timeout: float | None = 60.0) -> list[EndemicEquilibrium]:
    """The equilibria of a compartmental model with infection present, exact.

    When the flow conserves the total population, the total is fixed at 1
    (population fractions).

    Examples
    --------
    >>> from dsanalyze.models import sis
    >>> [e.coordinates for e in endemic_equilibria(sis())]
    [(gamma/beta, (beta - gamma)/beta)]
    """
    _require_flow(system)
    R = reproduction_number(system, timeout=timeout)
    infected = R.split.infected
    total = sp.simplify(sum(system.rhs))
    conserved = total == 0
    equations = list(system.rhs)
    if conserved:
        equations[-1] = sum(system.state) - 1
    with time_limit(timeout, "endemic equilibria"):
        solutions = sp.solve(equations, system.state, dict=True)
    J = system.jacobian()
    out = []
    for solution in solutions:
        if not all(x in solution for x in system.state):
            continue
        point = tuple(sp.factor(sp.simplify(solution[x])) for x in system.state)
        if all(sp.simplify(point[system.state.index(x)]) == 0 for x in infected):
            continue
        # Existence in the positive orthant: the infected coordinates share the sign of R0 - 1?
        conditions = sp.StrictGreaterThan(R.R0, 1)
        if not _positive_iff_R0(point, R.R0, system.params):
            conditions = sp.And(*[sp.StrictGreaterThan(c, 0) for c in point])
        out.append(EndemicEquilibrium(system, point, R.R0, conditions,
                                      sp.ImmutableMatrix(J.subs(dict(zip(system.state, point)))), conserved))
    return out


def _positive_iff_R0(point, R0, params, samples: int = 200) -> bool:
    """Sampled check that the point is positive exactly when R0 > 1 (random positive parameters)."""
    rng = np.random.default_rng(1)
    functions = sp.lambdify(params, [*point, R0], "math")
    for _ in range(samples):
        values = rng.uniform(0.05, 3.0, len(params))
        *coords, r0 = functions(*values)
        if abs(r0 - 1) < 1e-6:
            continue
        if (min(coords) > 0) != (r0 > 1):
            return False
    return True


# ---- final size -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FinalSize:
    """Final size z of the well-mixed SIR epidemic: z = 1 - exp(-R0 z).

    Attributes
    ----------
    R0 : Expr
    relation : Equality
        z = 1 - exp(-R0 z).
    z : Expr
        The positive root, 1 + W0(-R0 exp(-R0)) / R0 (0 when R0 <= 1).
    """

    R0: sp.Expr
    relation: sp.Equality
    z: sp.Expr

    def value(self, digits: int = 30, **params: Any) -> float:
        """z as a float (evaluated with ``digits`` significant digits, then rounded)."""
        z = self.z.subs({sp.Symbol(k, positive=True): v for k, v in params.items()})
        return float(sp.N(z, digits))

    def numeric(self, **params: Any) -> float:
        """z solved numerically (Newton's method on z - 1 + exp(-R0 z)), independent of Lambert W."""
        r0 = float(self.R0.subs({sp.Symbol(k, positive=True): v for k, v in params.items()}))
        if r0 <= 1:
            return 0.0
        z = 1.0
        for _ in range(100):
            g = z - 1 + math.exp(-r0 * z)
            step = g / (1 - r0 * math.exp(-r0 * z))
            z -= step
            if abs(step) < 1e-16:
                break
        return z

    def latex(self) -> str:
        return (rf"{sp.latex(self.relation)},\quad z = {sp.latex(self.z)}"
                + (rf" \approx {self.value():.9f}" if not self.R0.free_symbols else ""))

    def verify(self, *, rtol: float = 1e-7, **params: Any) -> Verdict:
        """Integrate the SIR flow with beta = R0, gamma = 1 from S = 1 - 1e-12 to the end; R(inf) must be z."""
        from ..models import sir
        from ..numeric.flows import integrate

        if self.R0.free_symbols and not params:
            raise ParameterError(f"give values for {', '.join(map(str, self.R0.free_symbols))} to verify the final size")
        r0 = float(self.R0.subs({sp.Symbol(k, positive=True): v for k, v in params.items()}))
        z = self.value(**params)
        eps = 1e-12
        horizon = 200.0 / max(abs(r0 - 1), 0.05)
        y = integrate(sir(), [1 - eps, eps, 0.0], [0.0, horizon], rtol=1e-12, atol=1e-18, beta=r0, gamma=1.0)
        measured = float(y[-1, 2])
        ok = abs(measured - z) <= rtol and abs(self.numeric(**params) - z) <= 1e-12
        return Verdict(f"final size of SIR at R0 = {r0:g}", z, measured, rtol, ok, Basis.NUMERIC,
                       note=f"SIR integrated to t = {horizon:g} from I(0) = {eps:g}; Newton root {self.numeric(**params):.15g}")


def final_size(R0: Any = None) -> FinalSize:
    """The final-size relation of the well-mixed SIR epidemic and its exact root by Lambert W.

    Parameters
    ----------
    R0 : number, Expr or ReproductionNumber, optional
        Default: a positive symbol ``R_0``.

    Examples
    --------
    >>> round(final_size(2).value(), 9)
    0.79681213
    >>> final_size(2).z
    LambertW(-2*exp(-2))/2 + 1
    """
    if R0 is None:
        R0 = sp.Symbol("R_0", positive=True)
    if isinstance(R0, ReproductionNumber):
        R0 = R0.R0
    R0 = sp.nsimplify(sp.sympify(R0), rational=True) if not isinstance(R0, sp.Basic) or R0.is_Float else R0
    z = sp.Symbol("z", positive=True)
    relation = sp.Eq(z, 1 - sp.exp(-R0 * z))
    root = 1 + sp.LambertW(-R0 * sp.exp(-R0)) / R0
    if R0.is_number and R0 <= 1:
        root = sp.Integer(0)
    return FinalSize(R0, relation, root)
