"""Invariants of maps and flows: invariant curves with cofactors, conserved quantities, Lyapunov functions.

- :func:`is_invariant` proves (or refutes) that the zero set of a polynomial G
  is invariant: G o F = q G for a map, grad G . f = q G for a flow, with the
  cofactor q found by exact polynomial division.
- :func:`find_invariant_curves` finds every polynomial G of total degree <= d
  (up to a constant factor, G not constant) with such a cofactor, for generic
  parameter values *and* at the special values where more curves appear.
  G is normalised by its leading monomial (G = m + sum of smaller monomials
  with unknown coefficients c); G o F is divided by G (exact: {G} is a
  Groebner basis of the ideal it generates), and the remainder's coefficients
  are polynomial equations in (c, parameters). They are solved together with
  the parameters as unknowns by a factorising Groebner decomposition, so a
  family that exists only at mu = 3 comes out as its own component with
  mu = 3, instead of being lost as by ``linsolve``, which treats parameters as
  generic.
- :func:`conserved_quantities` does the same for C o F = C (maps) or
  grad C . f = 0 (flows); :func:`transformation_factor` gives g with
  C o F = g C (maps) or dC/dt = g C (flows).
- :func:`lyapunov_function` gives V with V' written as minus a sum of squares
  (the loss of a gradient flow, or a quadratic form) and says where it holds.

Every result is a frozen dataclass with ``latex()`` and ``verify(...)``.
"""
from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.polys.orderings import grevlex

from ..errors import DimensionError, DsAnalyzeError, ExpressionError
from ..systems import Flow, Map, System
from ..verify import Basis, Verdict
from .intervals import latex_condition
from .periodic import _Budget, _exact_values, _format_row, _parameter_rows, _parse, _polynomial_rhs, _require

__all__ = [
    "InvarianceCertificate", "InvariantCurve", "ConservedQuantity", "TransformationFactor", "LyapunovCertificate",
    "is_invariant", "find_invariant_curves", "conserved_quantities", "transformation_factor", "lyapunov_function",
]


# ---------------------------------------------------------------------------
# Images of a function under the system
# ---------------------------------------------------------------------------

def _image(system: System, G: sp.Expr) -> sp.Expr:
    """G o F (map) or grad G . f (flow), unexpanded."""
    if isinstance(system, Map):
        return G.xreplace(dict(zip(system.state, system.rhs)))
    return sp.Add(*[sp.diff(G, x) * f for x, f in zip(system.state, system.rhs)])


def _polynomial_image(system: System, G: sp.Expr, degree: int) -> tuple[sp.Expr, sp.Expr]:
    """(P, D) with image(G) = P / D and P a polynomial in the state (D = 1 for polynomial systems).

    For a rational system with common denominator E: D = E^degree (map) or E (flow).
    """
    numerators, common = _polynomial_rhs(system, "invariant curves")
    if common == 1:
        return sp.expand(_image(system, G)), sp.Integer(1)
    if isinstance(system, Map):
        scaled = G.xreplace({x: n / common for x, n in zip(system.state, numerators)})
        D = common**degree
    else:
        scaled = sp.Add(*[sp.diff(G, x) * n for x, n in zip(system.state, numerators)])
        D = common
    return sp.expand(sp.cancel(scaled * D)), D


def _domain(system: System):
    return sp.QQ.frac_field(*system.params) if system.params else sp.QQ


def _divide(P: sp.Expr, G: sp.Expr, state: Sequence[sp.Symbol], params: Sequence[sp.Symbol]) -> tuple[sp.Expr, sp.Expr]:
    """Exact division P = q G + r over Q(params) (or the algebraic numbers G needs)."""
    try:
        domain = sp.QQ.frac_field(*params) if params else sp.QQ
        q, r = sp.Poly(P, *state, domain=domain).div(sp.Poly(G, *state, domain=domain))
        return q.as_expr(), r.as_expr()
    except (sp.CoercionFailed, sp.PolynomialError, sp.DomainError, NotImplementedError):
        q, r = sp.div(sp.expand(P), sp.expand(G), *state)
        return q, r


def _nice(expr: sp.Expr) -> sp.Expr:
    """The shortest of the factored and the expanded form."""
    expr = sp.cancel(sp.together(expr))
    candidates = [sp.factor(expr), sp.expand(expr)] if sp.fraction(expr)[1].is_number else [sp.factor(expr)]
    return min(candidates, key=lambda e: (sp.count_ops(e), len(str(e))))


def _conditions_of(expr: sp.Expr, state: Sequence[sp.Symbol]) -> list[sp.Basic]:
    """Ne(d, 0) for the parameter-dependent denominators of an expression's coefficients."""
    out = []
    for den in {sp.fraction(sp.together(expr))[1]}:
        for factor, _ in sp.factor_list(den)[1]:
            if factor.free_symbols and not factor.has(*state):
                out.append(sp.Ne(factor, 0))
    return out


# ---------------------------------------------------------------------------
# Certificates of invariance
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class InvarianceCertificate:
    """The outcome of :func:`is_invariant`: G o F = q G (map) or grad G . f = q G (flow), or why not.

    Attributes
    ----------
    system : Map or Flow
    expression : Expr
        The polynomial G whose zero set is tested.
    invariant : bool
        Whether the identity holds (for the parameter values in ``conditions``).
    cofactor : Expr or None
        q, exact; None if not invariant.
    remainder : Expr
        The remainder of dividing G o F (or grad G . f) by G: 0 if invariant.
    denominator : Expr
        For rational systems, G o F = q G / denominator; 1 for polynomial systems.
    conditions : sympy Boolean
        Where the identity holds (the cofactor's denominators do not vanish).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.models.two_factor()
    >>> cert = is_invariant(F, "u*v - 1")
    >>> cert.invariant, cert.cofactor
    (True, mu**2*u**2*v**2 - mu**2*u*v - mu*u**2 - mu*v**2 + 1)
    >>> is_invariant(F, "u").invariant
    False
    """

    system: System
    expression: sp.Expr
    invariant: bool
    cofactor: sp.Expr | None
    remainder: sp.Expr
    denominator: sp.Expr = sp.Integer(1)
    conditions: sp.Basic = sp.true

    def __bool__(self) -> bool:
        return self.invariant

    def latex(self) -> str:
        """The identity, e.g. ``G \\circ F = (q) \\cdot (G)``, or the remainder when it fails."""
        G = sp.latex(self.expression)
        lhs = (
            f"\\left({G}\\right) \\circ F" if isinstance(self.system, Map)
            else f"\\frac{{d}}{{dt}}\\left({G}\\right)"
        )
        if not self.invariant:
            return f"{lhs} \\equiv {sp.latex(self.remainder)} \\not\\equiv 0 \\pmod{{{G}}}"
        over = "" if self.denominator == 1 else f"\\frac{{1}}{{{sp.latex(self.denominator)}}}"
        return f"{lhs} = {over}\\left({sp.latex(self.cofactor)}\\right)\\left({G}\\right)"

    def verify(self, *, samples: int = 200, seed: int = 0, tolerance: float = 1e-12, **params: Any) -> Verdict:
        """Check the identity image(G) = q G / D at seeded random points, with the compiled right-hand side.

        For a certificate of non-invariance, check that the remainder is
        nonzero at the sampled points on the curve (the curve is left).
        """
        claim = f"{{{sp.sstr(self.expression)} = 0}} is {'invariant' if self.invariant else 'not invariant'} under {self.system.name or 'the system'}"
        if not self.invariant:
            curve = InvariantCurve(self.system, self.expression, sp.Integer(0), sp.true)
            verdict = curve._check_on_curve(params, samples, seed, tolerance, cofactor_check=False)
            if verdict.passed is None:
                return Verdict.unchecked(claim, "not invariant", verdict.note)
            return Verdict(claim, "not invariant", verdict.measured, tolerance, verdict.passed is False,
                           Basis.NUMERIC, verdict.evidence, "points on the curve leave it" if verdict.passed is False
                           else "no sampled point left the curve")
        return _identity_verdict(self.system, self.expression, self.cofactor, self.denominator, self.conditions,
                                 params, samples, seed, tolerance, claim)


def is_invariant(system: System, G: Any, *, timeout: float | None = None) -> InvarianceCertificate:
    """Whether the zero set of the polynomial ``G`` is invariant, with a certificate.

    Map: G o F = q G; flow: grad G . f = q G. The cofactor q comes from exact
    division over Q(parameters); when the remainder is not zero, the
    certificate says so and carries it.

    Parameters
    ----------
    system : Map or Flow
        Polynomial (or rational) right-hand side.
    G : expression or str
        A polynomial in the state variables (coefficients may hold parameters).
    timeout : float, optional
        Seconds; past it :class:`~dsanalyze.errors.SymbolicTimeout`.

    Raises
    ------
    ExpressionError
        If G is not a polynomial in the state, or is constant.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> flow = ds.gradient_flow("(u*v - 1)**2/2", "u v")
    >>> is_invariant(flow, "u**2 - v**2").cofactor
    0
    """
    _require(system, (Map, Flow), "is_invariant")
    G = _parse(system, G, "G")
    G = sp.expand(sp.numer(sp.together(G)))
    if not G.is_polynomial(*system.state):
        raise ExpressionError(f"is_invariant needs a polynomial in {', '.join(map(str, system.state))}; got {G}")
    if not G.has(*system.state):
        raise ExpressionError(f"{G} does not depend on the state: a constant has no zero set to be invariant")
    degree = sp.Poly(G, *system.state).total_degree()
    budget = _Budget(timeout, f"invariance of {sp.sstr(G)} = 0")
    with budget("dividing the image by G"):
        P, D = _polynomial_image(system, G, degree)
        q, r = _divide(P, G, system.state, system.params)
        if r != 0 and sp.simplify(r) != 0:
            return InvarianceCertificate(system, G, False, None, sp.expand(r), D)
        conditions = sp.And(*_conditions_of(q, system.state))
        return InvarianceCertificate(system, G, True, _nice(q), sp.Integer(0), D, conditions)


# ---------------------------------------------------------------------------
# Numeric checks shared by the results
# ---------------------------------------------------------------------------

def _lambdify(system: System, exprs: Sequence[sp.Expr], extra: Sequence[sp.Symbol] = ()):
    return sp.lambdify([*system.state, *system.params, *extra], list(exprs), modules="numpy")


def _terms_size(expr: sp.Expr, state: Sequence[sp.Symbol]) -> sp.Expr:
    """Sum of the absolute values of the terms of a polynomial: the scale its value is compared with."""
    poly = sp.Poly(sp.expand(expr), *state)
    return sp.Add(*[sp.Abs(c) * sp.Mul(*[sp.Abs(x) ** e for x, e in zip(state, m)]) for m, c in poly.terms()])


def _rows_meeting(system: System, conditions: sp.Basic, params: Mapping[str, Any], free: Sequence[sp.Symbol], seed: int):
    """Parameter rows (as floats) where ``conditions`` hold, values for family symbols, and the rows skipped."""
    rows = _parameter_rows(system, params)
    rng = np.random.default_rng(seed)
    kept, skipped = [], []
    for row in rows:
        family = {s: float(rng.uniform(-2, 2)) for s in free}
        exact = {**_exact_values(row), **_exact_values(family)}
        holds = conditions.xreplace(exact) if conditions not in (sp.true, sp.false) else conditions
        if holds is sp.true:
            kept.append((row, family))
        else:
            skipped.append(row)
    return kept, skipped


def _identity_verdict(system, G, q, D, conditions, params, samples, seed, tolerance, claim, free=()) -> Verdict:
    """image(G) = q G / D at random points (compiled right-hand side), relative to the size of the terms."""
    from ..numeric.orbits import evaluate_rhs

    kept, skipped = _rows_meeting(system, conditions, params, free, seed)
    if not kept:
        return Verdict.unchecked(claim, sp.sstr(q), f"the conditions {conditions} fail at every given parameter set")
    rng = np.random.default_rng(seed)
    state = system.state
    g = _lambdify(system, [G, _terms_size(G, state), q, D], free)
    grad = _lambdify(system, [sp.diff(G, x) for x in state] + [_terms_size(sp.diff(G, x), state) for x in state], free)
    worst = 0.0
    for row, family in kept:
        X = rng.uniform(-2, 2, size=(samples, system.dim))
        values = [*row.values(), *family.values()]
        G0, S0, q0, D0 = (np.broadcast_to(np.asarray(v, dtype=float), (samples,)) for v in g(*X.T, *values))
        fx = evaluate_rhs(system, X, {k.name: v for k, v in row.items()})
        if isinstance(system, Map):
            G1, S1 = (np.broadcast_to(np.asarray(v, dtype=float), (samples,)) for v in g(*fx.T, *values)[:2])
            lhs, scale = G1 * D0, S1 * np.abs(D0) + np.abs(q0) * S0
        else:
            parts = grad(*X.T, *values)
            n = system.dim
            dG = [np.broadcast_to(np.asarray(v, dtype=float), (samples,)) for v in parts[:n]]
            dS = [np.broadcast_to(np.asarray(v, dtype=float), (samples,)) for v in parts[n:]]
            lhs = sum(a * b for a, b in zip(dG, fx.T)) * D0
            scale = sum(a * np.abs(b) for a, b in zip(dS, fx.T)) * np.abs(D0) + np.abs(q0) * S0
        gap = np.abs(lhs - q0 * G0) / np.maximum(scale, np.finfo(float).tiny)
        finite = np.isfinite(gap)
        worst = max(worst, float(np.max(gap[finite])) if finite.any() else np.inf)
    note = f"{samples} seeded random points (seed {seed}) at {len(kept)} parameter set(s)"
    if skipped:
        note += f"; skipped where the conditions fail: {', '.join(_format_row(r) for r in skipped)}"
    return Verdict(claim, sp.sstr(q), worst, tolerance, worst <= tolerance, Basis.NUMERIC, {}, note)


def _points_on_curve(system: System, G: sp.Expr, values: Sequence[float], rng, count: int, free=()) -> np.ndarray:
    """Points with G = 0, found on seeded random lines through the box [-3, 3]^n, Newton-polished."""
    state = system.state
    degree = sp.Poly(G, *state).total_degree()
    g = _lambdify(system, [G], free)
    grad = _lambdify(system, [sp.diff(G, x) for x in state], free)
    found = []
    for _ in range(40 * count):
        if len(found) >= count:
            break
        p = rng.uniform(-3, 3, size=system.dim)
        d = rng.normal(size=system.dim)
        d /= np.linalg.norm(d)
        ts = np.linspace(-4, 4, degree + 1)
        vals = np.array([float(np.asarray(g(*(p + s * d), *values)[0])) for s in ts])
        if not np.all(np.isfinite(vals)):
            continue
        coefficients = np.polyfit(ts, vals, degree) if degree > 0 else vals[:1]
        for root in np.roots(coefficients):
            if abs(root.imag) > 1e-9 * max(1.0, abs(root.real)) or abs(root.real) > 8:
                continue
            s = root.real
            for _ in range(8):   # Newton along the line
                x = p + s * d
                value = float(np.asarray(g(*x, *values)[0]))
                slope = float(np.dot(np.asarray(grad(*x, *values), dtype=float).reshape(-1), d))
                if slope == 0 or not np.isfinite(slope):
                    break
                step = value / slope
                s -= step
                if abs(step) < 1e-17 * max(1.0, abs(s)):
                    break
            found.append(p + s * d)
    return np.array(found[:count]).reshape(-1, system.dim)


# ---------------------------------------------------------------------------
# Invariant curves
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class InvariantCurve:
    """An invariant algebraic curve G = 0 (a hypersurface in dimension > 2) with its cofactor.

    Attributes
    ----------
    system : Map or Flow
    expression : Expr
        G: a polynomial in the state, primitive over Z[parameters] with a
        positive leading coefficient (exact equality is meaningful).
    cofactor : Expr
        q with G o F = q G (map) or grad G . f = q G (flow); for rational
        systems divided by ``denominator``.
    conditions : sympy Boolean
        Where it holds: ``true`` for every parameter value, ``Eq(mu, 3)`` for a
        curve that exists only at a special value, ``Ne(mu, 0)`` where G would
        degenerate to a constant.
    free : tuple of Symbol
        Family parameters G depends on (any values), e.g. the level k of
        ``u**2 - v**2 + k`` when u^2 - v^2 is conserved.
    denominator : Expr
        1 for polynomial systems.
    note : str
        Anything a reader should know (e.g. "every polynomial is invariant:
        the map is the identity here").

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.models.two_factor()
    >>> curves = find_invariant_curves(F, 2)
    >>> ellipse = [c for c in curves if c.expression.has(F.params[0]) and c.conditions != True][0]
    >>> ellipse.equation
    Eq(-mu**2*u*v + mu*u**2 + mu*v**2, 4 - mu**2)
    >>> ellipse.verify(mu=[0.5, 1.0, 1.5]).passed
    True
    """

    system: System
    expression: sp.Expr
    cofactor: sp.Expr
    conditions: sp.Basic = sp.true
    free: tuple[sp.Symbol, ...] = ()
    denominator: sp.Expr = sp.Integer(1)
    note: str = ""

    @property
    def equation(self) -> sp.Eq:
        """G = 0 with the constant term on the right: mu(u^2+v^2) - mu^2 uv = 4 - mu^2."""
        poly = sp.Poly(self.expression, *self.system.state)
        constant = poly.coeff_monomial(1)
        return sp.Eq(sp.expand(self.expression - constant), sp.expand(-constant), evaluate=False)

    @property
    def degree(self) -> int:
        return sp.Poly(self.expression, *self.system.state).total_degree()

    @property
    def certificate(self) -> InvarianceCertificate:
        return InvarianceCertificate(self.system, self.expression, True, self.cofactor, sp.Integer(0),
                                     self.denominator, self.conditions)

    def latex(self) -> str:
        """``G = 0`` and its cofactor identity, with the conditions."""
        eq = self.equation
        text = f"{sp.latex(eq.lhs)} = {sp.latex(eq.rhs)}"
        q = sp.latex(self.cofactor)
        over = "" if self.denominator == 1 else f"\\frac{{1}}{{{sp.latex(self.denominator)}}}"
        if isinstance(self.system, Map):
            text += f", \\quad G \\circ F = {over}\\left({q}\\right) G"
        else:
            text += f", \\quad \\dot G = {over}\\left({q}\\right) G"
        text += f" \\ \\text{{with }} G = {sp.latex(self.expression)}"
        if self.conditions is not sp.true:
            text += r" \quad \text{if } " + latex_condition(self.conditions)
        if self.free:
            text += r" \quad \text{for all } " + ", ".join(sp.latex(s) for s in self.free)
        return text

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def verify(self, *, samples: int = 50, seed: int = 0, tolerance: float = 1e-12, **params: Any) -> Verdict:
        """Points on the curve stay on it after a step; the cofactor identity holds at random points.

        Points with G = 0 are found on seeded random lines (Newton-polished);
        for a map, the compiled map is applied once and |G(F(x))| is compared
        with the size of the terms of G at F(x); for a flow, the compiled
        vector field must be tangent (|grad G . f| against the size of its
        terms), and a short integration must stay on the curve to 1e-8.
        Lists of parameter values are checked one by one; rows where
        ``conditions`` fail are skipped (and said so). Basis NUMERIC.
        """
        return self._check_on_curve(params, samples, seed, tolerance, cofactor_check=True)

    def _check_on_curve(self, params, samples, seed, tolerance, cofactor_check) -> Verdict:
        from ..numeric.orbits import evaluate_rhs

        system, G, state = self.system, self.expression, self.system.state
        claim = f"{{{sp.sstr(G)} = 0}} is invariant under {system.name or 'the system'}"
        kept, skipped = _rows_meeting(system, self.conditions, params, self.free, seed)
        if not kept:
            return Verdict.unchecked(claim, sp.sstr(self.cofactor), f"the conditions {self.conditions} fail at every given parameter set")
        rng = np.random.default_rng(seed)
        g = _lambdify(system, [G, _terms_size(G, state)], self.free)
        grad = _lambdify(system, [sp.diff(G, x) for x in state] + [_terms_size(sp.diff(G, x), state) for x in state],
                         self.free)
        worst, drift, evidence, used = 0.0, 0.0, {}, 0
        for row, family in kept:
            values = [*row.values(), *family.values()]
            # on the square-free part: a double root (G = (u + v)^2) is found only to sqrt(eps)
            X = _points_on_curve(system, sp.sqf_part(G, *state), values, rng, samples, self.free)
            if len(X) == 0:
                continue
            used += len(X)
            named = {k.name: v for k, v in row.items()}
            fx = evaluate_rhs(system, X, named)
            if isinstance(system, Map):
                from ..numeric.orbits import evaluate_jacobian

                G1, S1 = (np.broadcast_to(np.asarray(v, dtype=float), (len(X),)) for v in g(*fx.T, *values))
                # The sampled points are on the curve up to rounding: a relative change of x of one unit
                # moves G(F(x)) by about |grad G(F x)| |DF(x)| |x|; that, and the size of the terms of G at
                # F(x), is the scale a residual of rounding size is measured against.
                dG = np.array([np.broadcast_to(np.asarray(v, dtype=float), (len(X),))
                               for v in grad(*fx.T, *values)[: system.dim]]).T
                J = evaluate_jacobian(system, X, named)
                sensitivity = np.linalg.norm(dG, axis=1) * np.linalg.norm(J, axis=(1, 2)) * np.linalg.norm(X, axis=1)
                gap = np.abs(G1) / np.maximum(S1 + sensitivity, np.finfo(float).tiny)
            else:
                parts = grad(*X.T, *values)
                n = system.dim
                dG = [np.broadcast_to(np.asarray(v, dtype=float), (len(X),)) for v in parts[:n]]
                dS = [np.broadcast_to(np.asarray(v, dtype=float), (len(X),)) for v in parts[n:]]
                tangency = sum(a * b for a, b in zip(dG, fx.T))
                scale = sum(a * np.abs(b) for a, b in zip(dS, fx.T))
                gap = np.abs(tangency) / np.maximum(scale, np.finfo(float).tiny)
                drift = max(drift, self._integration_drift(X[: min(5, len(X))], named, values))
            finite = np.isfinite(gap)
            worst = max(worst, float(np.max(gap[finite])) if finite.any() else 0.0)
            evidence.setdefault("points", X)
        if used == 0:
            return Verdict.unchecked(claim, sp.sstr(self.cofactor), "no real points found on the curve at the given parameters")
        passed = worst <= tolerance and drift <= 1e-8
        note = f"{used} points on the curve (seed {seed}) at {len(kept)} parameter set(s)"
        if drift:
            note += f"; integration drift {drift:.2g}"
        if skipped:
            note += f"; skipped where the conditions fail: {', '.join(_format_row(r) for r in skipped)}"
        verdict = Verdict(claim, sp.sstr(self.cofactor), worst, tolerance, passed, Basis.NUMERIC, evidence, note)
        if cofactor_check and passed:
            identity = _identity_verdict(system, G, self.cofactor, self.denominator, self.conditions, params,
                                         samples, seed, tolerance, claim, self.free)
            if identity.passed is False:
                return Verdict(claim, sp.sstr(self.cofactor), max(worst, identity.measured), tolerance, False,
                               Basis.NUMERIC, evidence, f"the cofactor identity fails: {identity.note}")
            return Verdict(claim, sp.sstr(self.cofactor), max(worst, identity.measured or 0.0), tolerance, True,
                           Basis.NUMERIC, evidence, note + "; cofactor identity checked at random points")
        return verdict

    def _integration_drift(self, X: np.ndarray, named: Mapping[str, float], values) -> float:
        from ..numeric.flows import integrate_batch

        g = _lambdify(self.system, [self.expression, _terms_size(self.expression, self.system.state)], self.free)
        result = integrate_batch(self.system, X, [0.0, 0.25], named, rtol=1e-12, atol=1e-14)
        end = result.y[:, -1, :]
        ok = result.ok & np.all(np.isfinite(end), axis=1)
        if not ok.any():
            return 0.0
        G1, S1 = (np.broadcast_to(np.asarray(v, dtype=float), (len(X),)) for v in g(*end.T, *values))
        return float(np.max((np.abs(G1) / np.maximum(S1, np.finfo(float).tiny))[ok]))


# ---------------------------------------------------------------------------
# The ansatz and its solution
# ---------------------------------------------------------------------------

def _monomials(state: Sequence[sp.Symbol], degree: int) -> list[sp.Expr]:
    """Monomials of total degree <= degree, largest first in the grevlex order of ``state``."""
    exponents = [e for e in itertools.product(range(degree + 1), repeat=len(state)) if sum(e) <= degree]
    exponents.sort(key=grevlex, reverse=True)
    return [sp.Mul(*[x**k for x, k in zip(state, e)]) for e in exponents]


def _same_up_to_constant(f: sp.Expr, g: sp.Expr) -> bool:
    ratio = sp.cancel(f / g)
    return ratio.is_number


def _factors(expr: sp.Expr, gens: Sequence[sp.Symbol], nonzero: Sequence[sp.Expr]):
    """Like :func:`_ring_factors`, on expressions: (factors not in nonzero, already irreducible)."""
    _, factors = sp.factor_list(expr, *gens)
    out = [f for f, _ in factors if not f.is_number and not any(f == z or f == -z for z in nonzero)]
    return (out or None), len(out) == 1 and len(factors) == 1 and factors[0][1] == 1


_RING_FACTORS: dict = {}


def _ring_factors(p, N: frozenset):
    """(distinct monic irreducible factors of a ring polynomial not in N, whether p was already one).

    None for the factors when p cannot vanish (a constant times factors in N).
    """
    factors = _RING_FACTORS.get(p)
    if factors is None:
        if len(_RING_FACTORS) > 50000:
            _RING_FACTORS.clear()
        factors = _RING_FACTORS[p] = [(f.monic(), m) for f, m in p.factor_list()[1] if not f.is_ground]
    out, clean = [], True
    for f, m in factors:
        if f in N:
            clean = False
            continue
        if m > 1:
            clean = False
        out.append(f)
    if not out:
        return None, False
    if len(out) > 1:
        clean = False
    return out, clean


def _divide_out(p, N: frozenset):
    """p with the factors in N divided out (as often as they divide it); None if a nonzero constant is left."""
    if not p:
        return p
    for z in N:
        while True:
            quotient, remainder = p.div([z])
            if remainder:
                break
            p = quotient[0]
    if p.is_ground:
        return None
    return p


def _split_by(p, index: int) -> dict:
    """p as {k: coefficient of x_index^k} (coefficients free of x_index)."""
    R = p.ring
    parts: dict = {}
    for monom, coeff in p.terms():
        k = monom[index]
        rest = monom[:index] + (0,) + monom[index + 1:]
        parts[k] = parts.get(k, R.zero) + R({rest: coeff})
    return parts


def _eliminate_linear(E: list, unknowns: Sequence[int], N: frozenset):
    """Substitute away unknowns (generator indices) that an equation gives linearly with a nonzero coefficient.

    Returns the remaining equations and the equations used (which, with the
    remaining ones, define the same set where the factors in ``N`` do not vanish).
    """
    used = []
    while True:
        best = None
        for e in E:
            for i in unknowns:
                if e.degree(i) != 1:
                    continue
                parts = _split_by(e, i)
                a = parts.get(1)
                if not (a.is_ground or _ring_factors(a, N)[0] is None):
                    continue
                size = len(e)
                if best is None or size < best[0]:
                    best = (size, e, i, a, parts.get(0, e.ring.zero))
        if best is None:
            return E, used
        _, e, i, a, b = best
        remaining = []
        for x in E:
            if x is e:
                continue
            if x.degree(i) > 0:
                parts = _split_by(x, i)
                d = max(parts)
                # x(-b/a) * a^d = sum_k x_k (-b)^k a^(d-k)
                one = e.ring.one
                x = sum(
                    (c * ((-b) ** k if k else one) * (a ** (d - k) if d > k else one) for k, c in parts.items()),
                    e.ring.zero,
                )
            if x:
                remaining.append(x)
        used.append(e)
        E = remaining


def _decompose(equations: Sequence[sp.Expr], gens: Sequence[sp.Symbol], nonzero: Sequence[sp.Expr], budget: _Budget,
               unknowns: Sequence[sp.Symbol] = ()):
    """A factorising Groebner decomposition of {equations = 0, nonzero != 0}.

    Returns a list of (equations, nonzero factors) as expressions whose union
    is the solution set, each branch with irreducible Groebner basis elements;
    branches are disjoint (the factors already tried join ``nonzero``).
    Unknowns given linearly with a nonzero coefficient are substituted away
    first (their equations kept), and branches split early on factors linear
    in an unknown; the work is done on SymPy's sparse polynomials.
    """
    from sympy.polys.groebnertools import groebner as ring_groebner
    from sympy.polys.rings import ring as make_ring

    R, *_ = make_ring(list(gens), sp.QQ, grevlex)
    indices = [list(gens).index(u) for u in unknowns]
    start_nonzero = set()
    for z in nonzero:
        for f, _ in R.from_expr(sp.expand(z)).factor_list()[1]:
            if not f.is_ground:
                start_nonzero.add(f.monic())
    stack = [([R.from_expr(sp.expand(e)) for e in equations], frozenset(start_nonzero), [])]
    out = []
    while stack:
        E, N, used = stack.pop()
        stripped = []
        for e in E:
            e = _divide_out(e, N)
            if e is None:
                stripped = None
                break
            if e:
                stripped.append(e)
        if stripped is None:
            continue
        E, more = _eliminate_linear(stripped, indices, N)
        used = used + more
        if any(e.is_ground and e for e in E):
            continue
        E = [e for e in E if e]
        if not E:
            out.append((used, N))
            continue
        split = None
        for e in sorted((e for e in E if len(e) <= 8), key=len):
            factors, clean = _ring_factors(e, N)
            if factors is None:
                split = ("empty",)
                break
            if len(factors) > 1 and any(
                any(f.degree(i) == 1 and _split_by(f, i)[1].is_ground for i in indices) for f in factors
            ):
                split = (e, factors)
                break
        if split is not None:
            if split[0] == "empty":
                continue
            e, factors = split
            rest = [x for x in E if x is not e]
            for i, f in enumerate(factors):
                stack.append((rest + [f], N | frozenset(factors[:i]), used))
            continue
        with budget("a Groebner basis of the coefficient equations"):
            G = ring_groebner(E, R)
        if len(G) == 1 and G[0].is_ground:
            continue
        action = None
        for g in G:
            factors, clean = _ring_factors(g, N)
            if factors is None:
                action = ("empty",)
                break
            if not clean:
                action = (g, factors)
                break
        if action is None:
            if not used and any(not z.rem(G) for z in N):
                continue
            out.append((list(G) + used, N))
            continue
        if action[0] == "empty":
            continue
        g, factors = action
        rest = [h for h in G if h != g]
        for i, f in enumerate(factors):
            stack.append((rest + [f], N | frozenset(factors[:i]), used))
    return [([e.as_expr() for e in basis], [z.as_expr() for z in N]) for basis, N in out]


def _solve_triangular(basis: Sequence[sp.Expr], unknowns: Sequence[sp.Symbol], params: Sequence[sp.Symbol],
                      budget: _Budget):
    """Solutions of a component: (list of (assignment, free symbols), extra branches to decompose).

    The lex Groebner basis (unknowns > params) is solved from the last
    variable up. A variable that leads no element is free; one led by a linear
    element is solved for; otherwise the roots of the element of least degree
    are taken in closed form (real ones only). Where a leading coefficient
    can vanish, ``basis + [coefficient]`` is returned as an extra branch, so
    nothing is lost at the values where the solution changes shape.
    """
    order = [*unknowns, *params]
    with budget("a lex Groebner basis of a component"):
        groebner = sp.groebner(list(basis), *order, order="lex") if basis else None
    lex = list(groebner.exprs) if groebner is not None else []

    def main_variable(p):
        return next(v for v in order if p.has(v))

    led = {}
    for p in lex:
        led.setdefault(main_variable(p), []).append(p)
    solutions = [({}, [])]
    extra = []
    failed = 0
    for var in reversed(order):
        elements = led.get(var, [])
        if not elements:
            solutions = [(a, f + [var]) for a, f in solutions]
            continue
        chosen = min(elements, key=lambda p: sp.Poly(p, var).degree())
        leading = sp.Poly(chosen, var).LC()
        if leading.free_symbols and groebner.reduce(leading)[1] != 0:
            extra.append([*lex, leading])
        new = []
        for assignment, free in solutions:
            substituted = [sp.expand(sp.numer(sp.together(p.xreplace(assignment)))) for p in elements]
            substituted = [p for p in substituted if p != 0]
            if not substituted:
                new.append((assignment, free + [var]))
                continue
            if any(not p.has(var) for p in substituted):
                continue   # inconsistent after substitution
            try:
                poly = sp.Poly(min(substituted, key=lambda p: sp.Poly(p, var).degree()), var)
            except sp.PolynomialError:
                failed += 1   # a radical of this variable came in from a root found earlier
                continue
            if poly.degree() == 1:
                a, b = poly.all_coeffs()
                values = [sp.cancel(-b / a)]
            else:
                found = sp.roots(poly, multiple=False)
                if sum(found.values()) != poly.degree():
                    failed += 1   # no closed form
                    continue
                values = [r for r in found if not r.has(sp.I) and r.is_real is not False]
            for value in values:
                new.append(({**{k: v.xreplace({var: value}) for k, v in assignment.items()}, var: value}, free))
        solutions = new
    return solutions, extra, failed


def _normalise(G: sp.Expr, state: Sequence[sp.Symbol]) -> sp.Expr:
    """G with denominators cleared, primitive over Z[parameters], leading coefficient positive."""
    G = sp.together(G)
    G = sp.expand(sp.numer(G))
    if G == 0:
        return G
    poly = sp.Poly(G, *state)
    coefficients = [sp.factor(c) for c in poly.coeffs()]
    content = sp.gcd_list(coefficients) if len(coefficients) > 1 else coefficients[0]
    content = sp.factor(content)
    # keep parameter-only content factors out: they only scale G
    G = sp.expand(sp.cancel(G / content))
    poly = sp.Poly(G, *state)
    leading = poly.coeffs(order="grevlex")[0]
    number = sp.expand(leading).as_ordered_terms()[0].as_coeff_Mul()[0] if leading.free_symbols else leading
    if number.is_number and number.is_negative:
        G = -G
    return sp.expand(G)


def _trivial_factors(system: System) -> list[sp.Expr]:
    """Parameter polynomials whose vanishing makes the system trivial (F = id, or f = 0)."""
    if not system.params:
        return []
    coefficients = []
    for x, r in zip(system.state, system.rhs):
        expr = sp.numer(sp.together(r - x if isinstance(system, Map) else r))
        if expr == 0:
            continue
        coefficients.extend(sp.Poly(sp.expand(expr), *system.state).coeffs())
    if not coefficients:
        return []
    common = sp.gcd_list(coefficients) if len(coefficients) > 1 else coefficients[0]
    return [f for f, _ in sp.factor_list(common)[1] if f.free_symbols]


def _ansatz_components(system, degree, budget, *, conserved: bool):
    """Yield (leading monomial, unknowns, G ansatz, components) for every leading monomial."""
    state = system.state
    monomials = _monomials(state, degree)
    trivial = _trivial_factors(system)
    nonzero = trivial + [p for p in system.params if p.is_nonzero]
    for i, leading in enumerate(monomials[:-1]):   # the last monomial is 1: G constant
        lower = monomials[i + 1:]
        unknowns = sp.symbols(f"_c0:{len(lower)}", real=True)
        G = leading + sum(c * m for c, m in zip(unknowns, lower))
        with budget("the image of the ansatz"):
            P, D = _polynomial_image(system, G, degree)
        with budget("dividing the image by the ansatz"):
            if conserved:
                target = P - (G * D if isinstance(system, Map) else 0)
                remainder = sp.expand(target)
            else:
                _, remainder = sp.reduced(P, [G], *state, order="grevlex")
        equations = sp.Poly(remainder, *state).coeffs() if remainder != 0 else []
        components = _decompose(equations, [*unknowns, *system.params], nonzero, budget, unknowns)
        yield leading, unknowns, G, components, D, trivial


@dataclass
class _Found:
    G: sp.Expr
    constraints: dict          # special parameter values {param: value}
    free: list                 # free unknowns (family parameters)
    reality: list              # conditions for real coefficients


def _families(system, degree, budget, *, conserved: bool):
    """Every G with a cofactor (or conserved), the parameter conditions of triviality, and the unsolved count."""
    found: list[_Found] = []
    trivial_conditions = []
    unsolved = 0
    params = list(system.params)
    for leading, unknowns, G, components, D, trivial in _ansatz_components(system, degree, budget, conserved=conserved):
        for factor in trivial:
            trivial_conditions.extend(_vanishing(factor, params))
        pending = list(components)
        seen_branches = 0
        while pending and seen_branches < 64:
            basis, nonzero = pending.pop()
            seen_branches += 1
            solutions, extra, failed = _solve_triangular(basis, unknowns, params, budget)
            unsolved += failed
            for more in extra:
                pending.extend(_decompose(more, [*unknowns, *params], nonzero, budget, unknowns))
            solutions = [(a, f) for a, f in solutions if not any(z.xreplace(a) == 0 for z in nonzero)]
            for assignment, free in solutions:
                constraints = {p: assignment[p] for p in params if p in assignment}
                free_unknowns = [c for c in unknowns if c in free]
                if len(free_unknowns) == len(unknowns) and constraints:
                    # every G of this shape: the system is trivial at these parameter values
                    trivial_conditions.append(sp.And(*[sp.Eq(p, v) for p, v in constraints.items()]))
                    continue
                value = G.xreplace({c: assignment[c] for c in unknowns if c in assignment})
                value = value.xreplace(constraints)
                if conserved:
                    value = value.xreplace({c: 0 for c in free_unknowns})
                    free_unknowns = []
                found.append(_Found(value, constraints, free_unknowns, []))
    return found, trivial_conditions, unsolved


def _vanishing(factor: sp.Expr, params: Sequence[sp.Symbol]) -> list[sp.Basic]:
    """Where a parameter polynomial vanishes, as Eq conditions (solved for one parameter when possible)."""
    symbols = sorted(factor.free_symbols, key=str)
    if len(symbols) == 1:
        (p,) = symbols
        roots = [r for r in sp.roots(sp.Poly(factor, p)) if r.is_real]
        if roots:
            return [sp.Eq(p, r) for r in roots]
    return [sp.Eq(factor, 0)]


def _radicand_conditions(expr: sp.Expr) -> list[sp.Basic]:
    return [sp.GreaterThan(sp.factor(p.base), 0) for p in sp.preorder_traversal(expr)
            if isinstance(p, sp.Pow) and p.exp.is_Rational and p.exp.q == 2 and p.base.free_symbols]


def _rename_free(G: sp.Expr, free: Sequence[sp.Symbol]) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    names = [sp.Symbol(f"k_{i + 1}", real=True) for i in range(len(free))]
    return G.xreplace(dict(zip(free, names))), tuple(names)


def _degenerate_condition(G: sp.Expr, state) -> sp.Basic:
    """Where G is not constant: some non-constant monomial has a nonzero coefficient."""
    poly = sp.Poly(G, *state)
    coefficients = [c for m, c in poly.terms() if any(m)]
    if any(c.is_number and c != 0 for c in coefficients):
        return sp.true
    sets = []
    for c in coefficients:
        factors = frozenset(sp.factor_list(c)[1] and [f for f, _ in sp.factor_list(c)[1]])
        sets.append(factors)
    minimal = [a for a in set(sets) if not any(b < a for b in sets)]
    return sp.Or(*[sp.And(*[sp.Ne(f, 0) for f in sorted(a, key=sp.default_sort_key)]) for a in minimal])


def find_invariant_curves(system: System, degree: int, *, timeout: float | None = None,
                          products: bool = False) -> list[InvariantCurve]:
    """Every invariant algebraic curve G = 0 with deg G <= ``degree``, with its cofactor.

    G o F = q G (map) or grad G . f = q G (flow), q a polynomial. Families
    that exist for generic parameter values come first; then those that
    exist only at special parameter values (``conditions`` such as
    ``Eq(mu, 3)``), found by solving for the parameters together with the
    coefficients of G; then, if the system is trivial somewhere (F = id,
    f = 0), one entry saying every curve is invariant there. Only curves with
    real coefficients are reported; constants are excluded. Products of
    reported curves (u^2 - v^2 = (u - v)(u + v)), members of a reported family
    (u^2 - v^2 when u^2 - v^2 + k is one) and polynomials in a family's
    quantity are invariant too and left out unless ``products=True``.
    Parameters whose assumptions make them nonzero (``positive=True``) are
    never set to 0. If some branch has no closed-form solution, a warning
    says the list may be incomplete.

    Parameters
    ----------
    system : Map or Flow
        Polynomial (or rational) right-hand side, any dimension (in dimension
        n > 2 the "curves" are hypersurfaces).
    degree : int
        Largest total degree of G.
    timeout : float, optional
        Seconds for the whole search; past it
        :class:`~dsanalyze.errors.SymbolicTimeout` names the step.
    products : bool
        Also report products of invariant curves and the like.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> for c in find_invariant_curves(ds.models.two_factor(), 1):
    ...     print(c.expression, "|", c.cofactor, "|", c.conditions)
    u - v | mu*u*v - mu + 1 | True
    u + v | -mu*u*v + mu + 1 | True
    a_1*u + a_2*v + a_3 | 1 | Eq(mu, 0)
    """
    _require(system, (Map, Flow), "find_invariant_curves")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 1:
        raise ValueError(f"degree must be a positive integer, got {degree!r}")
    if system.dim < 2:
        raise DimensionError("invariant curves need a state space of dimension 2 or more")
    _polynomial_rhs(system, "find_invariant_curves")
    budget = _Budget(timeout, f"invariant curves of degree <= {degree} of {system.name or 'the system'}")
    found, trivial, unsolved = _families(system, int(degree), budget, conserved=False)
    state = system.state
    generic: list[InvariantCurve] = []
    special: list[InvariantCurve] = []
    for item in found:
        G = _normalise(item.G, state)
        if not G.has(*state):
            continue
        G, free = _rename_free(G, item.free)
        with budget("the cofactor of each curve"):
            target = system.subs({p.name: v for p, v in item.constraints.items()}) if item.constraints else system
            certificate = is_invariant_exact(target, G)
        if certificate is None:
            unsolved += 1
            continue
        q, D, conditions = certificate
        condition_list = [conditions] if conditions is not sp.true else []
        condition_list.extend(_radicand_conditions(G))
        if item.constraints:
            condition_list.extend(sp.Eq(p, v) for p, v in item.constraints.items())
        else:
            condition_list.append(_degenerate_condition(G, state))
        condition = sp.And(*condition_list)
        if condition is sp.false:
            continue   # only at parameter values the symbols' assumptions exclude
        curve = InvariantCurve(system, G, q, condition, free, D)
        (special if item.constraints else generic).append(curve)
    generic = sorted(_dedupe(generic), key=lambda c: (c.degree, len(c.free), sp.default_sort_key(c.expression)))
    special = sorted(
        [c for c in _dedupe(special) if not _explained(c, generic, system)],
        key=lambda c: (sp.default_sort_key(c.conditions), c.degree, sp.default_sort_key(c.expression)),
    )
    if not products:
        generic = _irredundant(generic, state)
        special = _irredundant(special, state, generic)
    out = generic + special
    for condition in _dedupe_conditions(trivial):
        if condition is sp.false:
            continue
        coefficients = sp.symbols(f"a_1:{len(_monomials(state, degree)) + 1}", real=True)
        G = sum(a * m for a, m in zip(coefficients, _monomials(state, degree)))
        out.append(InvariantCurve(
            system, G, sp.Integer(1) if isinstance(system, Map) else sp.Integer(0), condition, tuple(coefficients),
            note="every polynomial is invariant here: the " + ("map is the identity" if isinstance(system, Map)
                                                                else "vector field vanishes"),
        ))
    if unsolved:
        warnings.warn(
            f"find_invariant_curves: {unsolved} branch(es) of the coefficient equations had no closed-form "
            "solution and are not reported; the list may be incomplete",
            stacklevel=2,
        )
    return out


def _covered(factor: sp.Expr, curves: Sequence[InvariantCurve], state) -> bool:
    """Whether a factor is (a constant times) one of the curves, or a member of one of their families."""
    for c in curves:
        if not c.free:
            if _same_up_to_constant(factor, c.expression):
                return True
        else:
            base = c.expression.xreplace({k: 0 for k in c.free})
            if not sp.expand(c.expression - base).has(*state) and not sp.expand(factor - base).has(*state):
                return True
    return False


def _polynomial_in(expr: sp.Expr, base: sp.Expr, state) -> bool:
    """Whether expr = P(base) for a polynomial P of degree >= 2 with coefficients free of the state."""
    remainder, power = sp.expand(expr), 0
    while remainder != 0 and power < 12:
        quotient, rest = sp.div(remainder, base, *state)
        if rest.has(*state):
            return False
        remainder, power = quotient, power + 1
    return remainder == 0 and power >= 3


def _irredundant(curves: list[InvariantCurve], state, known: Sequence[InvariantCurve] = ()) -> list[InvariantCurve]:
    """Leave out products of reported curves, members of reported families, and polynomials in a family's base."""
    kept: list[InvariantCurve] = []
    for c in curves:
        pool = [k for k in (*known, *kept) if k.conditions == c.conditions or k.conditions is sp.true]
        if not c.free and any(f.free and _member_of_family(c, f) for f in curves):
            continue
        families = [k for k in (*pool, *curves) if k.free and k is not c]
        if any(_polynomial_in(c.expression.xreplace({s: 0 for s in c.free}),
                              f.expression.xreplace({s: 0 for s in f.free}), state) for f in families):
            continue
        _, factors = sp.factor_list(c.expression, *state)
        pieces = [f for f, m in factors for _ in range(m) if f.has(*state)]
        if len(pieces) > 1 and all(_covered(f, pool + families, state) for f in pieces):
            continue
        kept.append(c)
    return kept


def is_invariant_exact(system: System, G: sp.Expr):
    """(cofactor, denominator, conditions) when G o F = q G / D exactly, else None."""
    degree = sp.Poly(G, *system.state).total_degree()
    P, D = _polynomial_image(system, G, degree)
    q, r = _divide(P, G, system.state, [*system.params, *(G.free_symbols - set(system.state) - set(system.params))])
    if r != 0 and sp.simplify(r) != 0:
        return None
    return _nice(q), D, sp.And(*_conditions_of(q, system.state))


def _dedupe(curves: list[InvariantCurve]) -> list[InvariantCurve]:
    out: list[InvariantCurve] = []
    for c in curves:
        duplicate = next((d for d in out if d.conditions == c.conditions and d.free == c.free
                          and _same_up_to_constant(d.expression, c.expression)), None)
        if duplicate is None:
            out.append(c)
    return out


def _member_of_family(curve: InvariantCurve, family: InvariantCurve) -> bool:
    """Whether a curve is one of a family whose free symbols enter the constant term only."""
    if curve.free or curve.conditions != family.conditions:
        return False
    state = curve.system.state
    base = family.expression.xreplace({k: 0 for k in family.free})
    moving = sp.expand(family.expression - base)
    if moving.has(*state):
        return False
    return not sp.expand(curve.expression - base).has(*state) or not sp.expand(curve.expression + base).has(*state)


def _dedupe_conditions(conditions):
    out = []
    for c in conditions:
        if c not in out:
            out.append(c)
    return out


def _explained(curve: InvariantCurve, generic: list[InvariantCurve], system: System) -> bool:
    """Whether a special-value curve is a generic one at those values (or invariant for every value)."""
    values = {}
    for atom in sp.preorder_traversal(curve.conditions):
        if isinstance(atom, sp.Eq) and atom.lhs in system.params:
            values[atom.lhs] = atom.rhs
    for g in generic:
        if g.free or curve.free:
            continue
        specialised = sp.expand(g.expression.xreplace(values))
        if specialised.has(*system.state) and _same_up_to_constant(specialised, curve.expression):
            holds = g.conditions.xreplace(values)
            if holds is sp.true:
                return True
    return False


# ---------------------------------------------------------------------------
# Conserved quantities and how a quantity transforms
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ConservedQuantity:
    """A polynomial C with C o F = C (map) or grad C . f = 0 (flow).

    Attributes
    ----------
    system : Map or Flow
    expression : Expr
        C, normalised like :class:`InvariantCurve` (no constant term).
    conditions : sympy Boolean
        Where it is conserved (``true``: for every parameter value).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> flow = ds.gradient_flow("(u*v - 1)**2/2", "u v")
    >>> [c.expression for c in conserved_quantities(flow, 2)]
    [u**2 - v**2]
    """

    system: System
    expression: sp.Expr
    conditions: sp.Basic = sp.true

    def latex(self) -> str:
        """``\\frac{d}{dt} C = 0`` or ``C \\circ F = C``."""
        C = sp.latex(self.expression)
        text = (f"\\left({C}\\right) \\circ F = {C}" if isinstance(self.system, Map)
                else f"\\frac{{d}}{{dt}}\\left({C}\\right) = 0")
        if self.conditions is not sp.true:
            text += r" \quad \text{if } " + latex_condition(self.conditions)
        return text

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def verify(self, *, steps: int = 1000, time: float = 10.0, starts: int = 8, seed: int = 0,
               tolerance: float = 1e-9, **params: Any) -> Verdict:
        """The drift of C along long orbits (maps: ``steps`` iterations) or integrations (flows: up to ``time``).

        Starts are seeded random points in [-1.5, 1.5]^n; orbits that escape
        are dropped (and counted). The drift max |C(x_t) - C(x_0)| is compared
        with the size of the terms of C. Basis SAMPLED.
        """
        from ..numeric.flows import integrate_batch
        from ..numeric.orbits import iterate

        system, C, state = self.system, self.expression, self.system.state
        claim = f"{sp.sstr(C)} is conserved by {system.name or 'the system'}"
        kept, skipped = _rows_meeting(system, self.conditions, params, (), seed)
        if not kept:
            return Verdict.unchecked(claim, "drift 0", f"the conditions {self.conditions} fail at every given parameter set")
        rng = np.random.default_rng(seed)
        c = _lambdify(system, [C, _terms_size(C, state)])
        worst, used, dropped = 0.0, 0, 0
        evidence = {}
        for row, _ in kept:
            named = {k.name: v for k, v in row.items()}
            values = list(row.values())
            X = rng.uniform(-1.5, 1.5, size=(starts, system.dim))
            if isinstance(system, Map):
                result = iterate(system, X, steps, named, record=steps)
                paths = np.concatenate([X[:, None, :], result.recorded], axis=1)
                ok = result.bounded
            else:
                times = np.linspace(0.0, time, 201)
                result = integrate_batch(system, X, times, named, rtol=1e-12, atol=1e-14)
                paths = result.y
                ok = result.ok
            dropped += int(np.sum(~ok))
            for path in paths[ok]:
                C_t, S_t = (np.broadcast_to(np.asarray(v, dtype=float), (len(path),)) for v in c(*path.T, *values))
                gap = np.max(np.abs(C_t - C_t[0])) / max(float(np.max(S_t)), np.finfo(float).tiny)
                worst = max(worst, float(gap))
                used += 1
                evidence.setdefault("values", C_t)
        if used == 0:
            return Verdict.unchecked(claim, "drift 0", "every sampled orbit escaped")
        note = f"{used} orbit(s) ({'steps' if isinstance(system, Map) else 'time'} {steps if isinstance(system, Map) else time}), seed {seed}"
        if dropped:
            note += f"; {dropped} escaped and were dropped"
        if skipped:
            note += f"; skipped where the conditions fail: {', '.join(_format_row(r) for r in skipped)}"
        return Verdict(claim, "drift 0", worst, tolerance, worst <= tolerance, Basis.SAMPLED, evidence, note)


def conserved_quantities(system: System, degree: int, *, timeout: float | None = None) -> list[ConservedQuantity]:
    """A basis of the polynomial conserved quantities of degree <= ``degree`` (constants excluded).

    Flows: grad C . f = 0; maps: C o F = C. The space is solved for generic
    parameter values and at special ones (``conditions``), as in
    :func:`find_invariant_curves`. Powers and products of conserved
    quantities are conserved too and appear once the degree allows them.
    Where the system is trivial (F = id, f = 0) everything is conserved;
    those parameter values are not listed here (:func:`find_invariant_curves`
    names them).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> rotation = ds.Flow("x y", ["y", "-x"])
    >>> [c.expression for c in conserved_quantities(rotation, 2)]
    [x**2 + y**2]
    """
    _require(system, (Map, Flow), "conserved_quantities")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 1:
        raise ValueError(f"degree must be a positive integer, got {degree!r}")
    _polynomial_rhs(system, "conserved_quantities")
    budget = _Budget(timeout, f"conserved quantities of degree <= {degree} of {system.name or 'the system'}")
    found, trivial, unsolved = _families(system, int(degree), budget, conserved=True)
    out: list[ConservedQuantity] = []
    state = system.state
    for item in found:
        C = _normalise(item.G, state)
        poly = sp.Poly(C, *state)
        C = sp.expand(C - poly.coeff_monomial(1))
        if not C.has(*state):
            continue
        conditions = (sp.And(*[sp.Eq(p, v) for p, v in item.constraints.items()]) if item.constraints
                      else _degenerate_condition(C, state))
        if conditions is sp.false:
            continue
        if item.constraints and _conserved_generically(system, C):
            continue
        if any(_same_up_to_constant(o.expression, C) and o.conditions == conditions for o in out):
            continue
        out.append(ConservedQuantity(system, C, conditions))
    if unsolved:
        warnings.warn(
            f"conserved_quantities: {unsolved} branch(es) had no closed-form solution and are not reported; "
            "the list may be incomplete",
            stacklevel=2,
        )
    return out


def _conserved_generically(system: System, C: sp.Expr) -> bool:
    image = _image(system, C)
    difference = image - C if isinstance(system, Map) else image
    return sp.cancel(sp.together(sp.expand(difference))) == 0


@dataclass(frozen=True)
class TransformationFactor:
    """How a quantity C transforms: C o F = g C (map) or dC/dt = g C (flow).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.models.two_factor()
    >>> u, v = F.state; mu, = F.params
    >>> t = transformation_factor(F, u**2 - v**2)
    >>> sp.expand(t.factor - (1 - mu**2*(u*v - 1)**2))
    0
    """

    system: System
    expression: sp.Expr
    factor: sp.Expr
    conditions: sp.Basic = sp.true

    def latex(self) -> str:
        C = sp.latex(self.expression)
        g = sp.latex(self.factor)
        if isinstance(self.system, Map):
            return f"\\left({C}\\right) \\circ F = \\left({g}\\right) \\left({C}\\right)"
        return f"\\frac{{d}}{{dt}}\\left({C}\\right) = \\left({g}\\right) \\left({C}\\right)"

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def verify(self, *, samples: int = 200, seed: int = 0, tolerance: float = 1e-12, **params: Any) -> Verdict:
        """C o F = g C (maps: compiled map) or grad C . f = g C (flows: compiled field) at seeded random points."""
        claim = f"{sp.sstr(self.expression)} is multiplied by {sp.sstr(self.factor)} under {self.system.name or 'the system'}"
        return _identity_verdict(self.system, self.expression, self.factor, sp.Integer(1), self.conditions, params,
                                 samples, seed, tolerance, claim)


def transformation_factor(system: System, C: Any, *, timeout: float | None = None) -> TransformationFactor:
    """The factor g with C o F = g C (map) or dC/dt = g C (flow), exact and simplified.

    g is given in the shortest of its factored and expanded forms, or, for a
    gradient system, written through the residual of the loss when that is
    shorter (1 - mu^2 (uv - 1)^2 for the two-factor map and C = u^2 - v^2).

    Raises
    ------
    ExpressionError
        If C is identically zero.
    """
    _require(system, (Map, Flow), "transformation_factor")
    C = _parse(system, C, "C")
    if sp.simplify(C) == 0:
        raise ExpressionError("C is identically zero: every factor would do")
    with _Budget(timeout, f"the transformation factor of {sp.sstr(C)}")("simplifying (C o F) / C"):
        g = sp.cancel(sp.together(_image(system, C) / C))
        forms = [sp.factor(g)]
        numerator, denominator = sp.fraction(g)
        if denominator.is_number:
            forms.append(sp.expand(g))
            forms.append(_in_terms_of_loss(system, g))
        g = min((f for f in forms if f is not None), key=lambda e: (sp.count_ops(e), len(str(e))))
        conditions = sp.And(*_conditions_of(g, system.state))
    return TransformationFactor(system, C, g, conditions)


def _in_terms_of_loss(system: System, g: sp.Expr) -> sp.Expr | None:
    """g written through the residual of a loss (e.g. 1 - mu^2 (uv - 1)^2), when that is shorter."""
    if system.loss is None:
        return None
    candidates = []
    for factor, _ in sp.factor_list(sp.numer(sp.together(system.loss)))[1]:
        if factor.has(*system.state) and sp.Poly(factor, *system.state).total_degree() >= 2:
            candidates.append(factor)
    for residual in candidates:
        s = sp.Dummy("s")
        try:
            # substitute residual = s: g must be a polynomial in s with coefficients free of the state
            quotient = sp.expand(g)
            expressed, power, remainder = sp.Integer(0), 0, quotient
            while remainder != 0 and power < 8:
                q, r = sp.div(remainder, residual, *system.state)
                if r.has(*system.state):
                    break
                expressed += r * s**power
                remainder, power = q, power + 1
            else:
                if remainder == 0:
                    value = expressed.xreplace({s: residual})
                    if sp.expand(value - g) == 0:
                        return sp.collect(sp.expand(expressed), s).xreplace({s: residual})
        except (sp.PolynomialError, NotImplementedError):
            continue
    return None


# ---------------------------------------------------------------------------
# Lyapunov functions
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LyapunovCertificate:
    """A Lyapunov function V for an equilibrium of a flow, with a certificate for V' <= 0.

    ``derivative`` = grad V . f is proved equal to ``-sum(w * e**2 for w, e in terms)``
    (a sum of squares with w >= 0) when ``form`` is ``"sum of squares"``; when
    ``form`` is ``"local"`` the identity holds for the quadratic part only and
    V' < 0 is claimed in a neighbourhood of the equilibrium.

    Attributes
    ----------
    system : Flow
    equilibrium : tuple of Expr
    function : Expr
        V, with V(equilibrium) = 0.
    derivative : Expr
        dV/dt = grad V . f, simplified.
    terms : tuple of (Expr, Expr)
        (w, e) pairs of the certificate.
    form : str
        ``"sum of squares"`` (global: V' <= 0 everywhere), or ``"local"``.
    positive_definite : bool or None
        Whether V > 0 near the equilibrium away from it (Hessian positive
        definite); False when V vanishes along a curve through it (a
        non-isolated minimum of a loss).
    origin : str
        How V was chosen: ``"loss"`` (V = L - L*), ``"quadratic"`` (Lyapunov
        equation A^T P + P A = -I) or ``"distance"`` (|x - x*|^2).
    note : str

    Examples
    --------
    >>> import dsanalyze as ds
    >>> flow = ds.gradient_flow("(u*v - 1)**2/2", "u v")
    >>> cert = lyapunov_function(flow, (1, 1))
    >>> cert.form, cert.origin
    ('sum of squares', 'loss')
    >>> sp.factor(cert.derivative)
    -(u**2 + v**2)*(u*v - 1)**2
    """

    system: Flow
    equilibrium: tuple[sp.Expr, ...]
    function: sp.Expr
    derivative: sp.Expr
    terms: tuple[tuple[sp.Expr, sp.Expr], ...]
    form: str
    positive_definite: bool | None
    origin: str
    note: str = ""

    def latex(self) -> str:
        """V and the certificate ``\\dot V = -(\\dots)^2 - \\dots \\le 0``."""
        V = sp.latex(self.function)
        squares = " - ".join(
            (f"{sp.latex(w)} " if w != 1 else "") + f"\\left({sp.latex(e)}\\right)^{{2}}" for w, e in self.terms
        )
        relation = r"\le 0" if self.form == "sum of squares" else r"+ O(|x - x^*|^{3})"
        return f"V = {V}, \\quad \\dot V = -{squares} {relation}"

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def verify(self, *, samples: int = 400, radius: float = 1.0, seed: int = 0, tolerance: float = 1e-10,
               **params: Any) -> Verdict:
        """At seeded points within ``radius`` of the equilibrium (compiled vector field):
        the identity V' = -sum w e^2 (sum of squares), V' <= 0, V >= 0; and V is
        non-increasing along a few integrated trajectories. Basis NUMERIC.
        """
        from ..numeric.flows import integrate_batch
        from ..numeric.orbits import evaluate_rhs

        system, state = self.system, self.system.state
        claim = f"V = {sp.sstr(self.function)} is a Lyapunov function at {tuple(self.equilibrium)}"
        rows = _parameter_rows(system, params)
        rng = np.random.default_rng(seed)
        V = _lambdify(system, [self.function, *[sp.diff(self.function, x) for x in state]])
        certificate = sp.Add(*[-w * e**2 for w, e in self.terms])
        cert = _lambdify(system, [certificate])
        worst_identity, worst_sign, worst_increase = 0.0, 0.0, 0.0
        for row in rows:
            exact = _exact_values(row)
            c = np.array([float(sp.sympify(e).xreplace(exact)) for e in self.equilibrium])
            values = list(row.values())
            named = {k.name: v for k, v in row.items()}
            X = c + radius * rng.uniform(-1, 1, size=(samples, system.dim))
            f = evaluate_rhs(system, X, named)
            parts = V(*X.T, *values)
            v0 = np.broadcast_to(np.asarray(parts[0], dtype=float), (samples,))
            grad = [np.broadcast_to(np.asarray(p, dtype=float), (samples,)) for p in parts[1:]]
            vdot = sum(a * b for a, b in zip(grad, f.T))
            scale = sum(np.abs(a) * np.abs(b) for a, b in zip(grad, f.T)) + 1e-300
            if self.form == "sum of squares":
                claimed = np.broadcast_to(np.asarray(cert(*X.T, *values)[0], dtype=float), (samples,))
                worst_identity = max(worst_identity, float(np.max(np.abs(vdot - claimed) / scale)))
                worst_sign = max(worst_sign, float(np.max(vdot / scale)))
            else:
                near = np.linalg.norm(X - c, axis=1) < 0.05 * radius
                if near.any():
                    worst_sign = max(worst_sign, float(np.max(vdot[near] / scale[near])))
            worst_sign = max(worst_sign, float(np.max(-v0)) / max(1.0, float(np.max(np.abs(v0)))))
            starts = c + 0.5 * radius * rng.uniform(-1, 1, size=(4, system.dim))
            times = np.linspace(0.0, 5.0, 101)
            result = integrate_batch(system, starts, times, named, rtol=1e-11, atol=1e-13)
            for path in result.y[result.ok]:
                vt = np.broadcast_to(np.asarray(V(*path.T, *values)[0], dtype=float), (len(path),))
                worst_increase = max(worst_increase, float(np.max(np.diff(vt))) / max(1e-300, float(np.max(np.abs(vt)))))
        measured = {"identity": worst_identity, "max V' (relative)": worst_sign, "max increase of V": worst_increase}
        passed = worst_identity <= tolerance and worst_sign <= tolerance and worst_increase <= 1e-8
        return Verdict(claim, self.form, measured, tolerance, passed, Basis.NUMERIC, {},
                       f"{samples} points within {radius} of the equilibrium, 4 trajectories, seed {seed}")


def _as_point(system: Flow, equilibrium: Any) -> tuple[sp.Expr, ...]:
    if hasattr(equilibrium, "coordinates"):
        if equilibrium.coordinates is None:
            raise DsAnalyzeError("lyapunov_function needs an isolated equilibrium (a point), not a component")
        return tuple(equilibrium.coordinates)
    if isinstance(equilibrium, Mapping):
        by_name = {(k.name if isinstance(k, sp.Symbol) else str(k)): v for k, v in equilibrium.items()}
        missing = [x.name for x in system.state if x.name not in by_name]
        if missing:
            raise DimensionError(f"the equilibrium gives no value for {', '.join(missing)}")
        return tuple(_parse(system, by_name[x.name], "equilibrium") for x in system.state)
    values = list(equilibrium) if isinstance(equilibrium, Sequence) or hasattr(equilibrium, "__iter__") else [equilibrium]
    if len(values) != system.dim:
        raise DimensionError(f"the equilibrium needs {system.dim} coordinate(s), got {len(values)}")
    return tuple(_parse(system, v, "equilibrium") for v in values)


def _quadratic_squares(form: sp.Expr, variables: Sequence[sp.Symbol]) -> list[tuple[sp.Expr, sp.Expr]] | None:
    """-form as sum w_i (l_i . x)^2 with every w_i provably positive (LDL^T of the quadratic form), or None."""
    n = len(variables)
    M = sp.Matrix(n, n, lambda i, j: -sp.Rational(1, 2) * sp.diff(form, variables[i], variables[j]))
    terms = []
    for i in range(n):
        pivot = sp.factor(M[i, i])
        if pivot == 0:
            if any(sp.simplify(M[i, j]) != 0 for j in range(i, n)):
                return None
            continue
        if pivot.is_positive is not True:
            return None
        row = [sp.cancel(M[i, j] / pivot) for j in range(n)]
        terms.append((pivot, sp.expand(sum(row[j] * variables[j] for j in range(i, n)))))
        for a in range(i, n):
            for b in range(i, n):
                M[a, b] = sp.cancel(M[a, b] - pivot * row[a] * row[b])
    return terms


def _sum_of_squares(expr: sp.Expr, state: Sequence[sp.Symbol]) -> list[tuple[sp.Expr, sp.Expr]] | None:
    """-expr as an explicit sum of squares (w, e) with w > 0, or None.

    Tried in turn: -expr a product of a positive number, even powers and sums
    of squares of the state; -expr a quadratic form (LDL^T).
    """
    target = sp.factor(-expr)
    if target == 0:
        return []
    coefficient, factors = sp.factor_list(target)
    if coefficient.is_positive:
        square_part, other = sp.Integer(1), []
        for f, m in factors:
            square_part *= f ** (m // 2)
            if m % 2:
                other.append(f)
        if not other:
            return [(coefficient, square_part)]
        if len(other) == 1:
            inner = sp.expand(other[0])
            poly = sp.Poly(inner, *state)
            if all(c.is_positive is True for c in poly.coeffs()) and all(all(e % 2 == 0 for e in m) for m in poly.monoms()):
                return [(coefficient * c, square_part * sp.Mul(*[x ** (e // 2) for x, e in zip(state, m)]))
                        for m, c in poly.terms()]
    poly = sp.Poly(sp.expand(expr), *state)
    if poly.is_homogeneous and poly.total_degree() == 2:
        return _quadratic_squares(sp.expand(expr), state)
    return None


def lyapunov_function(system: Flow, equilibrium: Any, degree: int = 2, *,
                      timeout: float | None = None) -> LyapunovCertificate:
    """A Lyapunov function for an equilibrium of a flow, with a certificate for V' <= 0.

    Tried in order: for a gradient flow, V = L - L(x*) with V' = -|grad L|^2
    (a sum of squares, everywhere); V = |x - x*|^2 / 2 when V' is then minus an
    explicit sum of squares; the quadratic V = z^T P z (z = x - x*) solving
    A^T P + P A = -I for the Jacobian A at x* (needs A Hurwitz), whose V' is
    -|z|^2 plus higher order terms: a local certificate unless those vanish.

    Parameters
    ----------
    system : Flow
    equilibrium : FixedPoint, mapping or sequence
        The equilibrium x* (exact coordinates).
    degree : int
        Degree of V; only 2 (quadratic) is implemented beyond the loss.
    timeout : float, optional
        Seconds; past it :class:`~dsanalyze.errors.SymbolicTimeout`.

    Raises
    ------
    DsAnalyzeError
        If x* is not an equilibrium, or no certificate is found (the Jacobian
        is not Hurwitz and no loss is known).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> damped = ds.Flow("x y", ["y", "-x - y**3"])
    >>> cert = lyapunov_function(damped, (0, 0))
    >>> cert.derivative, cert.form
    (-y**4, 'sum of squares')
    """
    _require(system, Flow, "lyapunov_function")
    if degree != 2:
        raise ValueError("lyapunov_function builds quadratic candidates (degree=2) besides the loss of a gradient flow")
    point = _as_point(system, equilibrium)
    with _Budget(timeout, f"a Lyapunov function at {tuple(point)}")("trying the candidates"):
        return _lyapunov(system, point)


def _lyapunov(system: Flow, point: tuple[sp.Expr, ...]) -> LyapunovCertificate:
    at = dict(zip(system.state, point))
    residual = [sp.simplify(f.xreplace(at)) for f in system.rhs]
    if any(r != 0 for r in residual):
        raise DsAnalyzeError(f"{tuple(point)} is not an equilibrium: f there is {tuple(residual)}")
    state = system.state
    shifted = [x - c for x, c in zip(state, point)]
    hessian_pd = None

    if system.loss is not None:
        V = sp.expand(system.loss - system.loss.xreplace(at))
        derivative = sp.expand(_image(system, V))
        grad = [sp.diff(system.loss, x) for x in state]
        if sp.expand(derivative + sum(g**2 for g in grad)) == 0:
            H = sp.hessian(system.loss, state).xreplace(at)
            hessian_pd = _positive_definite(H)
            terms = tuple((sp.Integer(1), sp.factor(g)) for g in grad)
            note = "V = L - L(x*), V' = -|grad L|^2"
            if hessian_pd is False:
                note += "; the Hessian is singular at x*: V vanishes on a set through x* (a non-isolated minimum)"
            return LyapunovCertificate(system, point, sp.factor(V), sp.factor(derivative), terms, "sum of squares",
                                       hessian_pd, "loss", note)

    V = sp.Rational(1, 2) * sum(z**2 for z in shifted)
    derivative = sp.expand(_image(system, V))
    squares = _sum_of_squares(derivative, state)
    if squares is not None:
        return LyapunovCertificate(system, point, sp.expand(V) if not any(point) else V, _nice(derivative),
                                   tuple(squares), "sum of squares", True, "distance",
                                   "V = |x - x*|^2 / 2 and V' is minus a sum of squares")

    A = sp.Matrix(system.jacobian()).xreplace(at)
    n = system.dim
    P = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"_p{min(i, j)}{max(i, j)}"))
    unknowns = sorted(P.free_symbols, key=lambda s: s.name)
    solution = sp.solve(list(A.T * P + P * A + sp.eye(n)), unknowns, dict=True)
    if not solution:
        raise DsAnalyzeError("no Lyapunov certificate found: the Lyapunov equation has no solution (A not Hurwitz?)")
    P = P.xreplace(solution[0]).applyfunc(sp.simplify)
    if not _positive_definite(P):
        raise DsAnalyzeError("no Lyapunov certificate found: the solution P of A^T P + P A = -I is not positive "
                             "definite (the equilibrium is not asymptotically stable)")
    z = sp.Matrix(shifted)
    V = sp.expand((z.T * P * z)[0])
    derivative = sp.expand(_image(system, V))
    squares = _sum_of_squares(derivative, state)
    if squares is not None:
        return LyapunovCertificate(system, point, V, _nice(derivative), tuple(squares), "sum of squares", True,
                                   "quadratic", "V = z^T P z with A^T P + P A = -I; V' is minus a sum of squares")
    quadratic = [(sp.Integer(1), zi) for zi in shifted]
    return LyapunovCertificate(system, point, V, _nice(derivative), tuple(quadratic), "local", True, "quadratic",
                               "V = z^T P z with A^T P + P A = -I: V' = -|x - x*|^2 + O(|x - x*|^3), "
                               "negative near x* only")


def _positive_definite(M: sp.Matrix) -> bool | None:
    """Sylvester's criterion, exactly: True, False, or None if undecided (symbolic minors)."""
    minors = [sp.simplify(M[:k, :k].det()) for k in range(1, M.shape[0] + 1)]
    if all(m.is_positive for m in minors):
        return True
    if any(m.is_negative or m.is_zero for m in minors):
        return False
    return None
