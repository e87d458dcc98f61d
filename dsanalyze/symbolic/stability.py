"""Exact conditions for the stability of fixed points, and their one-parameter regions.

:func:`stability_condition` linearises a system at a fixed point (or along a
component of fixed points) and turns the characteristic polynomial of the
Jacobian into exact inequalities in the parameters and the state:

- maps: the Jury (Schur-Cohn) conditions, every multiplier inside the unit
  circle. Dimension 1: |lambda| < 1; dimension 2: |det| < 1 and
  |tr| < 1 + det; dimension n: the Jury table.
- flows: the Routh-Hurwitz conditions, every eigenvalue in the open left
  half-plane. Dimension 1: lambda < 0; dimension 2: tr < 0 and det > 0;
  dimension n: the Hurwitz determinants.

Along a d-dimensional component of fixed points (a curve such as uv = 1)
there are d neutral directions tangent to it, with multiplier 1 (maps) or
eigenvalue 0 (flows). Their factor (lambda - 1)^d or lambda^d is divided out
exactly, and the component's equations reduce what is left (by a Groebner
basis), so the condition is on the transverse multipliers: the component is
then normally attracting (every point of it is stable and nearby orbits
converge to points of it).

Inequalities come out simplified (factored, reduced on the component,
factors of known sign dropped) and printed as chained inequalities.
:func:`stability_region` solves a one-parameter condition to an exact union
of intervals.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy as sp

from ..errors import (
    DimensionError, DsAnalyzeError, ExtraParameterError, MissingParameterError, NotAFixedPointError, ParameterError,
    SymbolicTimeout,
)
from ..systems import Map, System
from ..verify import Basis, Verdict
from .budget import time_limit
from .intervals import RegionError, domain_of, latex_chain, latex_region, solve_region
from .results import FixedPoint

__all__ = [
    "StabilityCondition", "StabilityRegion", "stability_condition", "stability_region",
    "jury_conditions", "hurwitz_conditions", "NotAFixedPointError",
]


# ---------------------------------------------------------------------------------------------
# The classical criteria on a monic polynomial
# ---------------------------------------------------------------------------------------------
def jury_conditions(coefficients: Sequence[Any]) -> list[sp.Expr]:
    """Jury's conditions that every root of a real polynomial lies inside the unit circle.

    Parameters
    ----------
    coefficients : sequence
        ``[a_n, ..., a_1, a_0]``, highest degree first, with ``a_n > 0``.

    Returns
    -------
    list of Expr
        Expressions ``e`` meaning ``e > 0``, all of which must hold:
        ``p(1)``, ``(-1)^n p(-1)``, ``a_n - |a_0|`` (as two expressions) and,
        for n >= 3, ``b_0^2 - b_{n-1}^2``, ``c_0^2 - c_{n-2}^2``, ... from the
        rows of the Jury table (``b_k = a_0 a_k - a_n a_{n-k}``). Degree 1 and
        2 give the minimal sets (|a| < 1; p(1) > 0, p(-1) > 0, a_0 < a_2).

    Examples
    --------
    >>> import sympy as sp
    >>> t, d = sp.symbols("t d")
    >>> jury_conditions([1, -t, d])          # lambda^2 - t lambda + d
    [d - t + 1, d + t + 1, 1 - d]
    """
    a = [sp.sympify(c) for c in coefficients]
    n = len(a) - 1
    if n < 1:
        return []
    lam = sp.Dummy("lambda")
    p = sum((c * lam ** (n - i) for i, c in enumerate(a)), sp.Integer(0))
    p1 = sp.expand(p.subs(lam, 1))
    pm1 = sp.expand((-1) ** n * p.subs(lam, -1))
    if n == 1:
        return [p1, pm1]
    if n == 2:
        return [p1, pm1, sp.expand(a[0] - a[2])]
    conditions = [p1, pm1, sp.expand(a[0] - a[-1]), sp.expand(a[0] + a[-1])]
    row = list(reversed(a))  # a_0, a_1, ..., a_n
    while len(row) > 3:
        m = len(row) - 1
        nxt = [sp.expand(row[0] * row[k] - row[m] * row[m - k]) for k in range(m)]
        if len(nxt) >= 3:
            conditions.append(sp.expand(nxt[0] ** 2 - nxt[-1] ** 2))
        row = nxt
    return conditions


def hurwitz_conditions(coefficients: Sequence[Any]) -> list[sp.Expr]:
    """Routh-Hurwitz conditions that every root of a real polynomial has negative real part.

    Parameters
    ----------
    coefficients : sequence
        ``[1, a_1, ..., a_n]`` of the monic polynomial lambda^n + a_1 lambda^(n-1) + ... + a_n.

    Returns
    -------
    list of Expr
        Expressions meaning ``> 0``: the Hurwitz determinants Delta_1, ...,
        Delta_{n-1}, and a_n (Delta_n = a_n Delta_{n-1}).

    Examples
    --------
    >>> import sympy as sp
    >>> a1, a2, a3 = sp.symbols("a1 a2 a3")
    >>> hurwitz_conditions([1, a1, a2, a3])
    [a1, a1*a2 - a3, a3]
    """
    c = [sp.sympify(x) for x in coefficients]
    if c and c[0] != 1:
        c = [sp.cancel(x / c[0]) for x in c]
    n = len(c) - 1
    if n < 1:
        return []

    def coeff(k: int) -> sp.Expr:
        return c[k] if 0 <= k <= n else sp.Integer(0)

    H = sp.Matrix(n, n, lambda i, j: coeff(2 * j - i + 1))
    conditions = [sp.expand(H[:k, :k].det(method="berkowitz")) for k in range(1, n)]
    conditions.append(c[n])
    return conditions


# ---------------------------------------------------------------------------------------------
# Linearisation at a point or along a component, reduced on it
# ---------------------------------------------------------------------------------------------
def _tidy(expr: sp.Expr) -> sp.Expr:
    """A cancelled normal form; radicals are rationalised."""
    expr = sp.sympify(expr)
    if expr.is_number:
        return sp.simplify(expr) if expr.has(sp.Pow) else expr
    out = sp.cancel(sp.together(expr))
    if any(not p.exp.is_Integer for p in out.atoms(sp.Pow)):
        out = sp.cancel(sp.together(sp.radsimp(out)))
    return out


class _Reducer:
    """Normal forms of expressions at a fixed point, or on a component of fixed points."""

    def __init__(self, system: System, fp: FixedPoint):
        self.system = system
        self.fp = fp
        self.state = system.state
        self.substitution: dict | None = None
        self.basis: list[sp.Expr] | None = None
        self.equations: tuple[sp.Expr, ...] = ()
        at = {p: sp.sympify(v) for p, v in getattr(fp, "at", ())}
        if fp.coordinates is None and fp.dimension == 0:
            raise DsAnalyzeError(
                "this set of fixed points has no closed form (only its equations); "
                "linearise at a numeric point of it instead"
            )
        if fp.coordinates is not None:
            if len(fp.coordinates) != system.dim:
                raise DimensionError(
                    f"the fixed point has {len(fp.coordinates)} coordinate(s) but the system has {system.dim} state variable(s)"
                )
            self.substitution = dict(zip(self.state, (sp.sympify(c) for c in fp.coordinates)))
            self.substitution.update(at)
            return
        if not fp.equations and fp.parametrisation is None:
            raise DsAnalyzeError("a component of fixed points needs its equations or a parametrisation")
        self.equations = tuple(sp.numer(sp.together(sp.sympify(e))) for e in fp.equations)
        try:
            if not self.equations:
                raise sp.PolynomialError("no equations")
            for e in self.equations:
                sp.Poly(e, *self.state)
            G = sp.groebner(self.equations, *self.state, order="grevlex")
            self.basis = list(G.exprs)
            if self.basis == [1]:
                raise DsAnalyzeError(f"the equations {', '.join(map(str, self.equations))} have no common solution")
        except (sp.PolynomialError, sp.GeneratorsNeeded, sp.CoercionFailed):
            if fp.parametrisation is None:
                raise DsAnalyzeError(
                    "the component's equations are not polynomial in the state; give a parametrisation "
                    "(FixedPoint(..., parametrisation=..., free=...)) to work on it"
                ) from None
            self.substitution = dict(zip(self.state, (sp.sympify(c) for c in fp.parametrisation)))

    def reduce(self, expr: sp.Expr) -> sp.Expr:
        """The normal form of ``expr`` on the point or the component."""
        expr = sp.sympify(expr)
        if self.substitution is not None:
            return _tidy(expr.xreplace(self.substitution))
        num, den = sp.fraction(sp.cancel(sp.together(expr)))
        num = self._reduce_polynomial(num)
        den = self._reduce_polynomial(den)
        if den == 0:
            raise DsAnalyzeError(f"{expr} is undefined on the component {', '.join(map(str, self.equations))} = 0")
        return num if den == 1 else num / den

    def _reduce_polynomial(self, p: sp.Expr) -> sp.Expr:
        if not p.free_symbols & set(self.state):
            return sp.expand(p)
        try:
            return sp.expand(sp.reduced(sp.expand(p), self.basis, *self.state, order="grevlex")[1])
        except (sp.PolynomialError, sp.CoercionFailed):
            return sp.expand(p)

    def positive_on_component(self, f: sp.Expr) -> bool:
        """A sufficient test that ``f`` is positive at every real point of the component.

        ``f`` must be a sum of positive multiples of even powers (so f >= 0);
        its zeros need the variables of its one-variable terms to vanish, and
        if that contradicts an equation of the component, f > 0 there.
        """
        if self.basis is None or not f.free_symbols & set(self.state):
            return False
        f = sp.expand(f)
        if f.is_nonnegative is not True:
            return False
        forced = {}
        for term in sp.Add.make_args(f):
            coeff, rest = term.as_coeff_Mul()
            syms = rest.free_symbols
            if coeff > 0 and len(syms) == 1 and rest.is_nonnegative:
                forced[next(iter(syms))] = sp.Integer(0)
        if not forced:
            return False
        for eq in self.equations:
            value = sp.expand(eq.xreplace(forced))
            if value.is_number and value != 0:
                return True
        return False


def _transverse_polynomial(system: System, fp: FixedPoint, reducer: _Reducer, lam: sp.Symbol,
                           ) -> tuple[list[sp.Expr], int]:
    """Coefficients (highest first, monic) of the characteristic polynomial with the neutral factor divided out."""
    J = sp.Matrix(system.jacobian()).applyfunc(reducer.reduce)
    coefficients = [reducer.reduce(c) for c in J.charpoly().all_coeffs()]
    neutral = fp.dimension if fp.coordinates is None else 0
    if neutral:
        is_map = isinstance(system, Map)
        shifted = lam + 1 if is_map else lam
        q = sp.Poly(sp.expand(sum(c * shifted ** (len(coefficients) - 1 - i) for i, c in enumerate(coefficients))), lam)
        low = list(reversed(q.all_coeffs()))
        low += [sp.Integer(0)] * (neutral - len(low))
        for k in range(neutral):
            if _tidy(reducer.reduce(low[k])) != 0:
                what = "multiplier 1" if is_map else "eigenvalue 0"
                raise DsAnalyzeError(
                    f"the component {fp.latex()} should have {neutral} neutral direction(s) ({what}) but the "
                    f"characteristic polynomial does not vanish to that order there; is it really a component of fixed points?"
                )
        high = [reducer.reduce(c) for c in q.all_coeffs()[: len(q.all_coeffs()) - neutral]]
        back = lam - 1 if is_map else lam
        expr = sp.expand(sum(c * back ** (len(high) - 1 - i) for i, c in enumerate(high)))
        coefficients = [reducer.reduce(c) for c in sp.Poly(expr, lam).all_coeffs()] if high else [sp.Integer(1)]
    return coefficients, neutral


def _check_fixed(system: System, fp: FixedPoint, reducer: _Reducer) -> None:
    """Raise NotAFixedPointError unless the point (or component) is fixed, proved exactly where possible."""
    if fp.basis is Basis.NUMERIC:
        return
    for s, f in zip(system.state, system.rhs):
        defect = f - s if isinstance(system, Map) else f
        value = reducer.reduce(defect)
        if value == 0:
            continue
        value = sp.simplify(value)
        if value != 0:
            label = f"{s}' - {s}" if isinstance(system, Map) else f"d{s}/dt"
            raise NotAFixedPointError(
                f"{fp.latex()} is not a fixed point of {system.name or 'the system'}: there {label} = {value}, not 0"
            )


# ---------------------------------------------------------------------------------------------
# Atoms: one inequality e > 0, simplified
# ---------------------------------------------------------------------------------------------
def _relation(f: sp.Expr, sign: int, state: Sequence[sp.Symbol] = ()) -> tuple[sp.Basic, sp.Basic]:
    """``sign * f > 0`` as ``g < c`` or ``g > c``, readable: constants on the right, no numeric content.

    When exactly one parameter enters linearly with a numeric coefficient and
    something else remains, it is isolated: ``A**2 - B + 1 > 0`` becomes
    ``B < A**2 + 1``. Returns the relation and an unevaluated copy.
    """
    k, g = f.as_coeff_Add()
    if sign < 0:
        g, k = -g, -k
    bound, upper = -k, False
    candidates = []
    if isinstance(g, sp.Add):
        for sym in sorted(g.free_symbols - set(state), key=lambda t: t.name):
            try:
                poly = sp.Poly(g, sym)
            except sp.PolynomialError:
                continue
            if poly.degree() == 1 and poly.all_coeffs()[0].is_number:
                candidates.append((sym, poly.all_coeffs()[0]))
    if len(candidates) == 1:
        sym, c = candidates[0]
        rest = sp.expand(g - c * sym)
        lhs, rhs = sym, sp.factor_terms((bound - rest) / c)
        upper = c < 0
        rel_type = sp.StrictLessThan if upper else sp.StrictGreaterThan
        return rel_type(lhs, rhs), rel_type(lhs, rhs, evaluate=False)
    if g.could_extract_minus_sign():
        g, bound, upper = -g, -bound, True
    content, g = g.as_content_primitive()
    if content and content != 1 and content.is_positive:
        bound = bound / content
    g = sp.factor_terms(g)
    rel_type = sp.StrictLessThan if upper else sp.StrictGreaterThan
    return rel_type(g, bound), rel_type(g, bound, evaluate=False)


def _atoms(e: sp.Expr, reducer: _Reducer) -> tuple[list[sp.Basic], list[sp.Basic]] | None:
    """Simplified relations equivalent to ``e > 0`` on the point or component, and those assumed.

    Returns None when ``e > 0`` is false.
    """
    e = reducer.reduce(e)
    if e.is_number:
        if e.is_extended_real is False:
            return None
        try:
            return ([], []) if bool(e > 0) else None
        except TypeError:  # SymPy cannot compare it: keep it as a condition
            return [sp.StrictGreaterThan(e, 0, evaluate=False)], []
    num, den = sp.fraction(sp.cancel(sp.together(e)))
    sign = 1
    factors: list[tuple[sp.Expr, int]] = []
    for part in (num, den):
        try:
            c, fl = sp.factor_list(part)
        except (sp.PolynomialError, NotImplementedError):
            c, fl = sp.Integer(1), [(part, 1)]
        if c.is_negative:
            sign = -sign
        elif c == 0:
            return None
        factors.extend(fl)
    conditions: list[sp.Basic] = []
    assumed: list[sp.Basic] = []
    kept: list[sp.Expr] = []
    for f, k in factors:
        if f.is_number:
            if f.is_negative and k % 2:
                sign = -sign
            continue
        if k % 2 == 0:
            if f.is_nonzero or f.is_positive or f.is_negative or reducer.positive_on_component(f):
                continue
            conditions.append(sp.Ne(f, 0))
            continue
        if f.is_positive:
            if isinstance(f, sp.Symbol):
                assumed.append(sp.StrictGreaterThan(f, 0, evaluate=False))
            continue
        if f.is_negative:
            sign = -sign
            if isinstance(f, sp.Symbol):
                assumed.append(sp.StrictLessThan(f, 0, evaluate=False))
            continue
        if reducer.positive_on_component(f):
            continue
        kept.append(f)
    if not kept:
        return (conditions, assumed) if sign > 0 else None
    if len(kept) == 1:
        rel, unevaluated = _relation(kept[0], sign, reducer.state)
    else:
        product = sp.Mul(*kept)
        rel = product > 0 if sign > 0 else product < 0
        unevaluated = rel
    if rel is sp.false:
        return None
    if rel is sp.true:
        assumed.append(unevaluated)
    else:
        conditions.append(rel)
    return conditions, assumed


def _simplified(expressions: Sequence[sp.Expr], reducer: _Reducer) -> tuple[tuple, tuple, bool]:
    """(conditions, assumed, possible): the simplified atoms of ``all(e > 0)``."""
    conditions: list[sp.Basic] = []
    assumed: list[sp.Basic] = []
    for e in expressions:
        out = _atoms(e, reducer)
        if out is None:
            return (), (), False
        for c in out[0]:
            if c not in conditions:
                conditions.append(c)
        for c in out[1]:
            if c not in assumed:
                assumed.append(c)
    return tuple(conditions), tuple(assumed), True


def _resimplify(relations: Sequence[sp.Basic], reducer: _Reducer) -> tuple[tuple, tuple, bool]:
    """Simplify relations again after a substitution (each becomes ``lhs - rhs`` against 0)."""
    expressions = []
    extra = []
    for rel in relations:
        if rel is sp.true:
            continue
        if rel is sp.false:
            return (), (), False
        if isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)):
            expressions.append(rel.lhs - rel.rhs)
        elif isinstance(rel, (sp.StrictLessThan, sp.LessThan)):
            expressions.append(rel.rhs - rel.lhs)
        else:
            extra.append(rel)
    conditions, assumed, possible = _simplified(expressions, reducer)
    for rel in extra:
        if rel is sp.false:
            return (), (), False
        if rel is not sp.true:
            conditions += (rel,)
    return conditions, assumed, possible


# ---------------------------------------------------------------------------------------------
# Numeric evidence: perturb, simulate, classify
# ---------------------------------------------------------------------------------------------
def _lambdify(symbols: Sequence[sp.Symbol], expr: Any):
    return sp.lambdify(list(symbols), expr, modules=["numpy"])


def _transverse_rates(system: System, points: np.ndarray, params: dict, neutral: int) -> np.ndarray:
    """Growth rate per step (maps: log of the largest transverse |multiplier|) or per time (flows: max Re)."""
    from ..numeric.orbits import evaluate_jacobian

    J = evaluate_jacobian(system, points, params)
    rates = np.full(points.shape[0], np.nan)
    is_map = isinstance(system, Map)
    for i in range(points.shape[0]):
        if not np.all(np.isfinite(J[i])):
            continue
        ev = np.linalg.eigvals(J[i])
        if neutral:
            target = 1.0 if is_map else 0.0
            order = np.argsort(np.abs(ev - target))
            ev = ev[order[neutral:]]
        if ev.size == 0:
            continue
        with np.errstate(divide="ignore"):
            rates[i] = np.log(np.max(np.abs(ev))) if is_map else np.max(ev.real)
    return rates


@dataclass
class _Runs:
    """Outcome of local-stability simulations: +1 converged, -1 left, 0 undecided."""

    outcome: np.ndarray
    start_distance: np.ndarray
    end_distance: np.ndarray
    horizon: float
    note: str


def _simulate_local(system: System, points: np.ndarray, params: dict, rates: np.ndarray, *, neutral: int,
                    residual=None, normal=None, seed: int = 0) -> _Runs:
    """Start every row a small distance off its fixed point and see whether the orbit returns or leaves.

    A run converged when its distance to the fixed point (or, on a component,
    the residual of the component's equations, with the orbit staying near
    its start) fell below 1/100 of the start; it left when the distance grew
    1000-fold or the orbit escaped or blew up.
    """
    from ..numeric.flows import integrate_batch
    from ..numeric.orbits import iterate

    n = points.shape[0]
    rng = np.random.default_rng(seed)
    scale = np.maximum(1.0, np.linalg.norm(points, axis=1))
    d0 = 1e-6 * scale
    directions = rng.normal(size=points.shape)
    if normal is not None:
        normals = np.array([normal(points[i], {k: v[i] for k, v in params.items()}, rng) for i in range(n)])
        usable = np.all(np.isfinite(normals), axis=1) & (np.linalg.norm(normals, axis=1) > 0)
        directions[usable] = normals[usable]  # off the component; a singular point keeps a random direction
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    starts = points + d0[:, None] * directions
    finite_rates = np.abs(rates[np.isfinite(rates)])
    slowest = float(finite_rates.min()) if finite_rates.size else 1.0
    is_map = isinstance(system, Map)
    records = 8
    if is_map:
        steps = int(np.clip(math.ceil(14.0 / max(slowest, 1e-12)), 64, 2_000_000))
        escape = float(max(1e6, 1e3 * float(scale.max())))
        result = iterate(system, starts, steps, params, escape=escape, record=records)
        tail = result.recorded  # (n, records, dim), NaN after an escape
        escaped = ~result.bounded
        horizon = float(steps)
    else:
        T = float(np.clip(14.0 / max(slowest, 1e-12), 1e-3, 1e5))
        times = np.concatenate([[0.0], np.linspace(0.9 * T, T, records)])
        result = integrate_batch(system, starts, times, params, rtol=1e-10, atol=1e-14, max_steps=5_000_000)
        tail = result.y[:, 1:, :]
        escaped = ~result.ok
        horizon = T
    if residual is None:
        start_d = np.linalg.norm(starts - points, axis=1)
        dist = np.linalg.norm(tail - points[:, None, :], axis=2)
        end_d = np.where(np.all(np.isfinite(dist), axis=1), np.max(np.where(np.isfinite(dist), dist, 0.0), axis=1), np.inf)
        converged = end_d <= 1e-2 * start_d
        left = escaped | (end_d >= 1e3 * start_d) | ~np.isfinite(end_d)
    else:
        start_d = np.array([residual(starts[i], {k: v[i] for k, v in params.items()}) for i in range(n)])
        end_res = np.full(n, np.nan)
        drift = np.full(n, np.nan)
        for i in range(n):
            p = {k: v[i] for k, v in params.items()}
            if np.all(np.isfinite(tail[i])):
                end_res[i] = max(residual(tail[i, j], p) for j in range(records))
                drift[i] = float(np.max(np.linalg.norm(tail[i] - points[i], axis=1)))
        end_d = end_res
        converged = (end_res <= 1e-2 * start_d) & (drift <= 1e3 * d0)
        left = escaped | ~np.isfinite(end_res) | (drift >= 1e3 * d0) | (end_res >= 1e3 * start_d)
        converged &= ~left
    outcome = np.where(converged & ~left, 1, np.where(left, -1, 0))
    unit = "steps" if is_map else "time units"
    note = f"perturbation 1e-6 x max(1, |x*|), horizon {horizon:.4g} {unit}, seed {seed}"
    return _Runs(outcome.astype(int), start_d, end_d, horizon, note)


def _stability_verdict(claim: str, predicted_text: Any, predicted: np.ndarray, runs: _Runs, decided: np.ndarray,
                       evidence: dict, extra_note: str = "") -> Verdict:
    outcome = np.where(decided, runs.outcome, 0)
    checked = outcome != 0
    expected = np.where(predicted, 1, -1)
    mismatch = checked & (outcome != expected)
    undecided = int((~checked).sum())
    n_in = int((checked & predicted).sum())
    n_out = int((checked & ~predicted).sum())
    evidence = dict(evidence, predicted_stable=predicted, outcome=outcome)
    note = (f"{n_in} sample(s) predicted stable, {n_out} predicted unstable, {undecided} undecided "
            f"(too close to the boundary or neither converging nor leaving); {runs.note}")
    if extra_note:
        note += "; " + extra_note
    if not checked.any():
        return Verdict.unchecked(claim, predicted_text, "no sample could be decided by simulation; " + note)
    measured = f"{int(mismatch.sum())} of {int(checked.sum())} decided samples disagree"
    return Verdict(claim, predicted_text, measured, None, not mismatch.any(), Basis.SAMPLED, evidence, note)


# ---------------------------------------------------------------------------------------------
# Samples of parameters and of points on a component
# ---------------------------------------------------------------------------------------------
def _window_for(symbol: sp.Symbol, window: Mapping | None) -> tuple[float, float]:
    if window:
        for key, value in window.items():
            if (key.name if isinstance(key, sp.Symbol) else str(key)) == symbol.name:
                lo, hi = value
                return float(lo), float(hi)
    if symbol.is_positive or symbol.is_nonnegative:
        return 0.0, 4.0
    if symbol.is_negative or symbol.is_nonpositive:
        return -4.0, 0.0
    return -4.0, 4.0


def _by_name(values: Mapping[Any, Any]) -> dict[str, Any]:
    return {(k.name if isinstance(k, sp.Symbol) else str(k)): v for k, v in values.items()}


def _to_float(value: Any) -> Any:
    if isinstance(value, sp.Basic):
        return float(value)
    return value


class _PointSampler:
    """Numeric coordinates of a fixed point (or points of a component) for given parameter rows."""

    def __init__(self, system: System, fp: FixedPoint, at: Mapping[sp.Symbol, sp.Expr]):
        self.system = system
        self.fp = fp
        self.at = dict(at)
        params = list(system.params)
        self.params = params
        state_at = [self.at.get(s) for s in system.state]
        self.fixed_state = None
        if all(v is not None for v in state_at):
            self.fixed_state = state_at
        elif fp.coordinates is not None:
            coords = [sp.sympify(c).xreplace({k: v for k, v in self.at.items() if k not in system.state})
                      for c in fp.coordinates]
            self.coordinates = _lambdify(params, coords)
        at_params = {k: v for k, v in self.at.items() if k not in system.state}
        self.equations = [sp.sympify(e).xreplace(at_params) for e in fp.equations]
        if fp.coordinates is None:
            state = list(system.state)
            self.eq_f = _lambdify(state + params, self.equations)
            jac = sp.Matrix(self.equations).jacobian(state) if self.equations else sp.zeros(0, len(state))
            self.eq_j = _lambdify(state + params, jac)
            if fp.parametrisation is not None and self.fixed_state is None:
                self.free = list(fp.free)
                self.param_f = _lambdify(self.free + params, [sp.sympify(c).xreplace(at_params) for c in fp.parametrisation])
            else:
                self.free = []
        self.existence = None
        if fp.conditions not in (sp.true, True):
            self.existence = _lambdify(params + list(system.state), fp.conditions)

    def residual(self, x: np.ndarray, p: Mapping[str, float]) -> float:
        args = list(x) + [p[s.name] for s in self.params]
        return float(np.linalg.norm(np.asarray(self.eq_f(*args), dtype=float)))

    def normal(self, x: np.ndarray, p: Mapping[str, float], rng) -> np.ndarray:
        args = list(x) + [p[s.name] for s in self.params]
        rows = np.atleast_2d(np.asarray(self.eq_j(*args), dtype=float))
        return rng.normal(size=rows.shape[0]) @ rows

    def points(self, prow: list[dict], rng, window: Mapping | None) -> tuple[np.ndarray, np.ndarray]:
        """(points, ok mask) for the parameter rows ``prow``."""
        dim = self.system.dim
        n = len(prow)
        out = np.full((n, dim), np.nan)
        ok = np.zeros(n, dtype=bool)
        for i, p in enumerate(prow):
            pv = [p[s.name] for s in self.params]
            x = None
            if self.fixed_state is not None:
                try:
                    x = np.array([complex(sp.sympify(v).xreplace({s: p[s.name] for s in self.params})) for v in self.fixed_state])
                except (TypeError, ValueError):
                    x = None
            elif self.fp.coordinates is not None:
                try:
                    with np.errstate(all="ignore"):
                        x = np.asarray(self.coordinates(*[complex(v) for v in pv]), dtype=complex).ravel()
                except (ZeroDivisionError, OverflowError, ValueError):
                    x = None
            elif self.free:
                t = [rng.uniform(*_window_for(s, window)) if not (s.is_positive or s.is_nonnegative)
                     else rng.uniform(*_window_for(s, window or {s: (0.25, 2.0)})) for s in self.free]
                try:
                    with np.errstate(all="ignore"):
                        x = np.asarray(self.param_f(*t, *pv), dtype=complex).ravel()
                except (ZeroDivisionError, OverflowError, ValueError):
                    x = None
            else:
                x = self._project(rng.uniform(-2, 2, size=dim), pv)
            if x is None or x.shape != (dim,) or not np.all(np.isfinite(x)):
                continue
            if np.max(np.abs(x.imag)) > 1e-9 * max(1.0, float(np.max(np.abs(x)))):
                continue
            x = x.real
            if np.max(np.abs(x)) > 1e4:
                continue
            if self.fp.coordinates is None and self.residual(x, p) > 1e-9 * max(1.0, float(np.max(np.abs(x)))):
                continue
            if self.existence is not None:
                try:
                    if not bool(self.existence(*pv, *x)):
                        continue
                except (TypeError, ValueError):
                    pass
            out[i] = x
            ok[i] = True
        return out, ok

    def _project(self, x: np.ndarray, pv: list[float]) -> np.ndarray | None:
        """Gauss-Newton (minimum-norm steps) from x onto the component."""
        for _ in range(60):
            g = np.asarray(self.eq_f(*x, *pv), dtype=float).ravel()
            if np.linalg.norm(g) < 1e-14 * max(1.0, np.linalg.norm(x)):
                return x.astype(complex)
            J = np.atleast_2d(np.asarray(self.eq_j(*x, *pv), dtype=float))
            step, *_ = np.linalg.lstsq(J, g, rcond=None)
            x = x - step
            if not np.all(np.isfinite(x)):
                return None
        g = np.asarray(self.eq_f(*x, *pv), dtype=float).ravel()
        return x.astype(complex) if np.linalg.norm(g) < 1e-10 * max(1.0, np.linalg.norm(x)) else None


def _parameter_rows(system: System, given: Mapping[str, Any], count: int, rng, window: Mapping | None,
                    fixed: Mapping[sp.Symbol, sp.Expr]) -> tuple[list[dict], bool]:
    """Parameter rows for sampling: given values (numbers or arrays), defaults, the rest drawn from windows.

    Returns the rows and whether they are exactly the user's (arrays given).
    """
    arrays = {}
    for name, value in given.items():
        arr = np.atleast_1d(np.asarray([_to_float(v) for v in np.atleast_1d(value)], dtype=float))
        arrays[name] = arr
    lengths = {a.size for a in arrays.values() if a.size > 1}
    if len(lengths) > 1:
        raise DimensionError(f"parameter arrays have different lengths: {sorted(lengths)}")
    explicit = bool(lengths)
    n = lengths.pop() if explicit else count
    defaults = {k.name: float(v) for k, v in system.defaults.items()}
    fixed_by_name = {k.name: v for k, v in fixed.items()}
    rows = []
    for i in range(n):
        row = {}
        for p in system.params:
            if p.name in arrays:
                a = arrays[p.name]
                row[p.name] = float(a[i if a.size > 1 else 0])
            elif p.name in fixed_by_name and sp.sympify(fixed_by_name[p.name]).is_number:
                row[p.name] = float(fixed_by_name[p.name])
            elif p.name in defaults and not _in_window(p, window):
                row[p.name] = defaults[p.name]
            else:
                row[p.name] = float(rng.uniform(*_window_for(p, window)))
        rows.append(row)
    return rows, explicit


def _in_window(p: sp.Symbol, window: Mapping | None) -> bool:
    """Whether the caller gave a window to draw ``p`` from (it then wins over p's default)."""
    return bool(window) and any((k.name if isinstance(k, sp.Symbol) else str(k)) == p.name for k in window)


def _rows_to_arrays(system: System, rows: list[dict]) -> dict[str, np.ndarray]:
    return {p.name: np.array([r[p.name] for r in rows], dtype=float) for p in system.params}


# ---------------------------------------------------------------------------------------------
# The result types
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StabilityCondition:
    """Exact conditions under which a fixed point (or a component of them) is linearly stable.

    Attributes
    ----------
    system : System
    fixed_point : FixedPoint
    inequalities : tuple of sympy relations
        The condition: all of them must hold. Strict inequalities; on their
        boundary the linearisation decides nothing.
    assumptions : tuple of sympy relations
        Inequalities that hold by the symbols' own assumptions (e.g.
        ``eta > 0`` for a positive learning rate); shown in :meth:`latex`,
        not needed by :attr:`condition`.
    polynomial : Expr
        The (transverse) characteristic polynomial in :attr:`variable`.
    variable : Symbol
        The variable of :attr:`polynomial` (lambda).
    neutral : int
        Number of neutral directions divided out (the dimension of the
        component; 0 for an isolated point).
    criterion : str
        ``"Jury"`` (maps) or ``"Routh-Hurwitz"`` (flows).
    at : tuple of (Symbol, Expr)
        Values substituted with :meth:`subs` (a point of a component, fixed parameters).

    Notes
    -----
    For a map, stability means every (transverse) multiplier lies strictly
    inside the unit circle; for a flow, every (transverse) eigenvalue has
    negative real part. These conditions are sufficient for asymptotic
    stability of an isolated fixed point (and, failing strictly, imply
    instability); along a component they make it normally attracting.
    """

    system: System
    fixed_point: FixedPoint
    inequalities: tuple
    assumptions: tuple
    polynomial: sp.Expr
    variable: sp.Symbol
    neutral: int
    criterion: str
    at: tuple = ()

    @property
    def condition(self) -> sp.Basic:
        """The condition as one SymPy Boolean (And of :attr:`inequalities`)."""
        return sp.And(*self.inequalities)

    @property
    def coefficients(self) -> list[sp.Expr]:
        """Coefficients of :attr:`polynomial`, highest degree first."""
        return sp.Poly(self.polynomial, self.variable).all_coeffs()

    def multipliers(self) -> list[sp.Expr]:
        """The transverse multipliers (maps) or eigenvalues (flows), exactly, with multiplicity.

        Examples
        --------
        >>> import dsanalyze as ds, sympy as sp
        >>> F = ds.models.logistic()
        >>> r = F.params[0]
        >>> stability_condition(F, FixedPoint(F, ((r - 1)/r,))).multipliers()
        [2 - r]
        """
        roots = sp.roots(sp.Poly(self.polynomial, self.variable))
        out = []
        for root, k in roots.items():
            out.extend([sp.simplify(root)] * k)
        return out

    def latex(self) -> str:
        """The condition as chained inequalities, e.g. ``0 < \\eta < \\frac{1}{4}``."""
        return latex_chain(list(self.assumptions) + list(self.inequalities))

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __str__(self) -> str:
        parts = [sp.sstr(r) for r in (*self.inequalities,)] or ["True"]
        return " and ".join(parts)

    # -- substitution and evaluation ------------------------------------------------------
    def _symbols(self) -> dict[str, sp.Symbol]:
        table = {s.name: s for s in (*self.system.state, *self.system.params, *self.fixed_point.free)}
        for rel in (*self.inequalities, *self.assumptions):
            for s in rel.free_symbols:
                table.setdefault(s.name, s)
        return table

    def subs(self, values: Mapping[Any, Any] | None = None, **by_name: Any) -> "StabilityCondition":
        """The condition with some parameters or state variables fixed (simplified again).

        On a component, give a point of it (all state variables), e.g.
        ``cond.subs(u=1, v=1)``.

        Examples
        --------
        >>> import dsanalyze as ds, sympy as sp
        >>> u, v = sp.symbols("u v", real=True)
        >>> F = ds.models.two_factor()
        >>> C = stability_condition(F, FixedPoint(F, None, (u*v - 1,), 1))
        >>> C.subs(u=1, v=1).inequalities
        (mu > 0, mu < 1)
        """
        given = _by_name(dict(values or {}, **by_name))
        table = self._symbols()
        unknown = sorted(set(given) - set(table))
        if unknown:
            raise ExtraParameterError(
                f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a symbol of the condition; "
                f"symbols: {', '.join(sorted(table))}"
            )
        sub = {table[k]: sp.sympify(v) for k, v in given.items()}
        state_given = {s for s in self.system.state if s in sub}
        if self.fixed_point.coordinates is None and state_given:
            if state_given != set(self.system.state):
                raise MissingParameterError(
                    "on a component, give a whole point of it: every state variable "
                    f"({', '.join(map(str, self.system.state))})"
                )
            params_sub = {k: v for k, v in sub.items() if k not in self.system.state}
            for eq in self.fixed_point.equations:
                value = sp.simplify(sp.sympify(eq).xreplace(sub))
                if value != 0 and (value.free_symbols or abs(complex(value)) > 1e-12):
                    if not value.free_symbols or sp.simplify(value.xreplace(params_sub)) != 0:
                        raise ParameterError(
                            f"({', '.join(f'{s} = {sub[s]}' for s in self.system.state)}) is not on the component "
                            f"{self.fixed_point.latex()}: {eq} = {value} there"
                        )
        reducer = _Reducer(self.system, FixedPoint(self.system, tuple(self.system.state)))
        relations = [r.xreplace(sub) for r in self.inequalities]
        conditions, assumed, possible = _resimplify(relations, reducer)
        kept_assumed = tuple(r for r in self.assumptions if not (r.free_symbols & set(sub)))
        if not possible:
            conditions = (sp.false,)
        return replace(
            self,
            inequalities=conditions,
            assumptions=kept_assumed + tuple(a for a in assumed if a not in kept_assumed),
            polynomial=sp.expand(self.polynomial.xreplace(sub)),
            at=tuple({**dict(self.at), **sub}.items()),
        )

    def holds(self, values: Mapping[Any, Any] | None = None, **by_name: Any) -> bool:
        """Whether the condition holds at the given values (exact when the values are exact).

        Examples
        --------
        >>> import dsanalyze as ds
        >>> F = ds.models.double_well_gd()
        >>> C = stability_condition(F, FixedPoint(F, (1,)))
        >>> C.holds(eta=0.2), C.holds(eta=0.3)
        (True, False)
        """
        given = _by_name(dict(values or {}, **by_name))
        table = self._symbols()
        unknown = sorted(set(given) - set(table))
        if unknown:
            raise ExtraParameterError(f"{', '.join(unknown)} not a symbol of the condition; symbols: {', '.join(sorted(table))}")
        sub = {table[k]: sp.sympify(v) for k, v in given.items()}
        relations = [*self.assumptions, *self.inequalities]
        needed = set().union(*(r.free_symbols for r in relations)) if relations else set()
        missing = sorted(s.name for s in needed - set(sub))
        if missing:
            raise MissingParameterError(f"no value for {', '.join(missing)}; pass them, e.g. {missing[0]}=1.0")
        if self.fixed_point.coordinates is None and set(self.system.state) & needed:
            for eq in self.fixed_point.equations:
                value = sp.sympify(eq).xreplace(sub)
                if value.free_symbols:
                    continue
                if abs(complex(value)) > 1e-9:
                    raise ParameterError(f"the values are not on the component {self.fixed_point.latex()}: {eq} = {value}")
        for rel in relations:
            value = rel.xreplace(sub)
            if value not in (sp.true, sp.false):
                value = sp.simplify(value)
            if value not in (sp.true, sp.false):
                raise ParameterError(f"cannot decide {rel} at the given values ({value})")
            if value is sp.false:
                return False
        return True

    # -- evidence ----------------------------------------------------------------------------
    def verify(self, *, samples: int = 24, seed: int = 0, window: Mapping[Any, tuple[float, float]] | None = None,
               **values: Any) -> Verdict:
        """Check the condition by simulation: samples predicted stable converge, the others leave.

        Parameters
        ----------
        samples : int
            How many samples to simulate (balanced between predicted stable
            and predicted unstable when drawn at random).
        seed : int
            Seed of the random samples and perturbations.
        window : mapping, optional
            Range ``(lo, hi)`` to draw each parameter (or free variable of a
            parametrisation) from; default (0, 4) for positive symbols, else (-4, 4).
        **values
            Parameter values: a number fixes a parameter; arrays (one value
            per sample) give the samples exactly.

        Returns
        -------
        Verdict
            basis SAMPLED; passed when no decided sample disagrees.

        Examples
        --------
        >>> import dsanalyze as ds
        >>> F = ds.models.double_well_gd()
        >>> stability_condition(F, FixedPoint(F, (1,))).verify(samples=8).passed
        True
        """
        rng = np.random.default_rng(seed)
        system = self.system
        given = _by_name(values)
        unknown = sorted(set(given) - {p.name for p in system.params})
        if unknown:
            raise ExtraParameterError(
                f"{', '.join(unknown)} not a parameter of {system.name or 'the system'}; "
                f"parameters: {', '.join(p.name for p in system.params) or 'none'}"
            )
        at = dict(self.at)
        sampler = _PointSampler(system, self.fixed_point, at)
        pool = max(samples * 20, 200)
        rows, explicit = _parameter_rows(system, given, pool, rng, window, at)
        if explicit:
            pool = len(rows)
        points, ok = sampler.points(rows, rng, window)
        sym = {s.name: s for s in (*system.params, *system.state)}
        predicted = np.zeros(len(rows), dtype=bool)
        relations = [*self.assumptions, *self.inequalities]
        for i in np.flatnonzero(ok):
            values_i = {sym[k]: v for k, v in rows[i].items()}
            values_i.update({s: points[i, j] for j, s in enumerate(system.state)})
            values_i.update({k: v for k, v in at.items() if k not in values_i and sp.sympify(v).is_number})
            try:
                predicted[i] = all(bool(rel.xreplace(values_i)) for rel in relations)
            except TypeError:
                ok[i] = False
        index = np.flatnonzero(ok)
        if index.size == 0:
            return Verdict.unchecked(f"stability condition {self}", self.condition,
                                     "no sample of the parameters gave a real fixed point to test")
        arrays = _rows_to_arrays(system, [rows[i] for i in index])
        rates = _transverse_rates(system, points[index], arrays, self.neutral)
        # Too close to the boundary to decide in a reasonable horizon: |log rho| or |max Re lambda| <= 1e-3.
        # A superstable point (a multiplier 0, rate -inf) is decided: stable.
        decided = (np.isfinite(rates) & (np.abs(rates) > 1e-3)) | (rates == -np.inf)
        chosen = index
        if not explicit:
            inside = [k for k in range(index.size) if decided[k] and predicted[index[k]]]
            outside = [k for k in range(index.size) if decided[k] and not predicted[index[k]]]
            half = samples // 2
            take_in = inside[: max(half, samples - len(outside))]
            take_out = outside[: samples - len(take_in)]
            pick = np.array(sorted(take_in + take_out), dtype=int)
            if pick.size == 0:
                return Verdict.unchecked(f"stability condition {self}", self.condition,
                                         "every drawn sample lay too close to the stability boundary")
            chosen = index[pick]
            rates = rates[pick]
            decided = decided[pick]
            arrays = _rows_to_arrays(system, [rows[i] for i in chosen])
        runs = _simulate_local(
            system, points[chosen], arrays, np.where(decided, rates, np.nan), neutral=self.neutral,
            residual=sampler.residual if self.fixed_point.coordinates is None else None,
            normal=sampler.normal if self.fixed_point.coordinates is None else None, seed=seed,
        )
        evidence = {"points": points[chosen], "rates": rates, **{f"param_{k}": v for k, v in arrays.items()}}
        claim = (f"{'component' if self.neutral else 'fixed point'} {self.fixed_point.text()} is stable "
                 f"iff {sp.sstr(self.condition)}")
        return _stability_verdict(claim, self.condition, predicted[chosen], runs, decided, evidence)


def _one_parameter_form(conditions: tuple, assumed: tuple, system: System) -> tuple[tuple, tuple]:
    """Atoms in a single parameter, merged into the bounds of one interval when they form one.

    ``0 < eta < 3/5`` and ``(eta - 1)(5 eta - 1) > 0`` become ``eta < 1/5``
    (with ``eta > 0`` assumed). Anything else is left as it is.
    """
    symbols = set().union(*(c.free_symbols for c in conditions)) if conditions else set()
    if len(symbols) != 1 or symbols & set(system.state) or len(conditions) < 2:
        return conditions, assumed
    param = symbols.pop()
    domain = domain_of(param)
    try:
        region = solve_region(sp.And(*conditions), param, domain)
    except (RegionError, ValueError, NotImplementedError):
        return conditions, assumed
    if region is sp.S.EmptySet:
        return (sp.false,), ()
    if not isinstance(region, sp.Interval):
        return conditions, assumed
    out = []
    if region.start != domain.inf or region.left_open != domain.left_open:
        if region.start != -sp.oo:
            out.append(sp.Ge(param, region.start) if not region.left_open else sp.Gt(param, region.start))
    if region.end != domain.sup or region.right_open != domain.right_open:
        if region.end != sp.oo:
            out.append(sp.Le(param, region.end) if not region.right_open else sp.Lt(param, region.end))
    if any(r in (sp.true, sp.false) for r in out):
        return conditions, assumed
    return tuple(out), assumed


@dataclass(frozen=True)
class StabilityRegion:
    """The values of one parameter for which a fixed point is stable: an exact union of intervals.

    Attributes
    ----------
    condition : StabilityCondition
        The condition it solves (after the substitutions ``at``).
    parameter : Symbol
    region : sympy Set
        A union of intervals (and points) inside :attr:`domain`.
    domain : sympy Set
        Where the parameter lives (from its assumptions unless given).
    side_conditions : sympy Boolean
        Conditions on other symbols under which the region is valid (e.g. ``L > 0``).
    basis : Basis
        PROVED when solved exactly; NUMERIC when the ends were found numerically.
    """

    condition: StabilityCondition
    parameter: sp.Symbol
    region: sp.Set
    domain: sp.Set
    side_conditions: sp.Basic = sp.true
    basis: Basis = Basis.PROVED

    def latex(self) -> str:
        """The region as chained inequalities, e.g. ``0 < \\eta < \\frac{1}{4}``."""
        text = latex_region(self.region, self.parameter)
        if self.side_conditions is not sp.true:
            args = self.side_conditions.args if isinstance(self.side_conditions, sp.And) else (self.side_conditions,)
            text += r" \quad \text{if } " + latex_chain(args)
        return text

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __contains__(self, value: Any) -> bool:
        return bool(self.region.contains(sp.sympify(value)))

    def _sample_values(self, per_interval: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """Parameter values inside each interval and just outside each finite end, with membership."""
        region = self.region
        parts = region.args if isinstance(region, sp.Union) else (region,)
        ends = []
        for part in parts:
            if isinstance(part, sp.Interval):
                ends += [e for e in (part.start, part.end) if e.is_finite]
            elif isinstance(part, sp.FiniteSet):
                ends += list(part.args)
        dom = self.domain
        dom_lo = float(dom.inf) if dom.inf.is_finite else -np.inf
        dom_hi = float(dom.sup) if dom.sup.is_finite else np.inf
        fl = sorted(float(e) for e in ends)
        scale = max([1.0] + [abs(e) for e in fl])
        values = []
        for part in parts:
            if not isinstance(part, sp.Interval):
                continue
            lo = float(part.start) if part.start.is_finite else (fl[0] - 2 * scale if fl else -scale)
            hi = float(part.end) if part.end.is_finite else (fl[-1] + 2 * scale if fl else scale)
            lo, hi = max(lo, dom_lo), min(hi, dom_hi)
            if hi <= lo:
                continue
            width = hi - lo
            values += list(rng.uniform(lo + 0.03 * width, hi - 0.03 * width, size=per_interval))
        for e in fl:
            for offset in (0.02, 0.1, 0.3, 1.0):
                for sgn in (-1, 1):
                    values.append(e + sgn * offset * max(abs(e), 0.1 * scale, 1e-3))
        if not fl and not values:
            lo, hi = (max(dom_lo, -4.0), min(dom_hi, 4.0))
            values = list(rng.uniform(lo, hi, size=per_interval))
        values = np.array([v for v in values if dom_lo < v < dom_hi], dtype=float)
        inside = np.array([bool(region.contains(sp.Float(v))) for v in values], dtype=bool)
        return values, inside

    def verify(self, *, samples: int = 6, seed: int = 0, **values: Any) -> Verdict:
        """Simulate at parameter values inside every interval and just outside every end.

        Parameters
        ----------
        samples : int
            Values drawn inside each interval (three more on each side of every end).
        seed : int
        **values
            Values of the other parameters (those not fixed by the condition's ``at``).

        Examples
        --------
        >>> import dsanalyze as ds
        >>> F = ds.models.double_well_gd()
        >>> R = stability_region(stability_condition(F, FixedPoint(F, (1,))), "eta")
        >>> R.region, R.verify().passed
        (Interval.open(0, 1/4), True)
        """
        rng = np.random.default_rng(seed)
        cond = self.condition
        system = cond.system
        given = _by_name(values)
        region = self.region
        symbols = {s.name: s for s in region.free_symbols}
        region = region.xreplace({symbols[k]: sp.sympify(v) for k, v in given.items() if k in symbols})
        left = sorted(s.name for s in region.free_symbols)
        if left:
            raise MissingParameterError(f"the region depends on {', '.join(left)}; give values, e.g. {left[0]}=1.0")
        if region != self.region:
            return replace(self, region=region).verify(samples=samples, seed=seed, **values)
        param_values, inside = self._sample_values(samples, rng)
        claim = f"{cond.fixed_point.text()} is stable iff {self.parameter} in {sp.sstr(self.region)}"
        if param_values.size == 0:
            return Verdict.unchecked(claim, self.region, "no parameter value to sample in the domain")
        name = self.parameter.name
        if name not in {p.name for p in system.params}:
            return Verdict.unchecked(claim, self.region, f"{name} is not a parameter of the system; cannot simulate")
        given[name] = param_values
        at = dict(cond.at)
        sampler = _PointSampler(system, cond.fixed_point, at)
        rows, _ = _parameter_rows(system, given, param_values.size, rng, None, at)
        missing = [p.name for p in system.params if p.name not in given and p not in at and p not in system.defaults]
        if missing:
            raise MissingParameterError(f"give values for {', '.join(missing)} (they are not fixed by the region)")
        points, ok = sampler.points(rows, rng, None)
        index = np.flatnonzero(ok)
        if index.size == 0:
            return Verdict.unchecked(claim, self.region, "the fixed point is not real at any sampled value")
        arrays = _rows_to_arrays(system, [rows[i] for i in index])
        rates = _transverse_rates(system, points[index], arrays, cond.neutral)
        decided = np.isfinite(rates) & (np.abs(rates) > 1e-4)
        runs = _simulate_local(
            system, points[index], arrays, np.where(decided, rates, np.nan), neutral=cond.neutral,
            residual=sampler.residual if cond.fixed_point.coordinates is None else None,
            normal=sampler.normal if cond.fixed_point.coordinates is None else None, seed=seed,
        )
        evidence = {"values": param_values[index], "points": points[index], "rates": rates}
        return _stability_verdict(claim, self.region, inside[index], runs, decided, evidence)


# ---------------------------------------------------------------------------------------------
# The derivations
# ---------------------------------------------------------------------------------------------
def _as_fixed_point(system: System, fixed_point: Any) -> FixedPoint:
    if isinstance(fixed_point, FixedPoint):
        if fixed_point.system is not system and fixed_point.system != system:
            raise DsAnalyzeError(
                f"the fixed point belongs to {fixed_point.system.name or 'another system'}, "
                f"not to {system.name or 'this system'}"
            )
        return fixed_point
    if isinstance(fixed_point, Mapping):
        table = {s.name: s for s in system.state}
        values = _by_name(fixed_point)
        missing = [s.name for s in system.state if s.name not in values]
        if missing or set(values) - set(table):
            raise DimensionError(f"give a value for every state variable ({', '.join(table)}), got {', '.join(values)}")
        return FixedPoint(system, tuple(sp.sympify(values[s.name]) for s in system.state))
    if isinstance(fixed_point, (sp.Basic, int, float)) and system.dim == 1:
        return FixedPoint(system, (sp.sympify(fixed_point),))
    if isinstance(fixed_point, Sequence) and not isinstance(fixed_point, str):
        return FixedPoint(system, tuple(sp.sympify(c) for c in fixed_point))
    raise TypeError(f"expected a FixedPoint, a mapping or a sequence of coordinates, got {type(fixed_point).__name__}")


def _context(system: System, fixed_point: Any, check: bool = True):
    if not isinstance(system, System):
        raise TypeError(f"expected a Map or a Flow, got {type(system).__name__}")
    fp = _as_fixed_point(system, fixed_point)
    reducer = _Reducer(system, fp)
    if check:
        _check_fixed(system, fp, reducer)
    return fp, reducer


def stability_condition(system: System, fixed_point: Any, *, timeout: float | None = None) -> StabilityCondition:
    """The exact conditions for the linear stability of a fixed point, in the parameters and the state.

    Parameters
    ----------
    system : Map or Flow
    fixed_point : FixedPoint, sequence of coordinates or mapping
        An isolated point (coordinates may contain parameters) or a component
        of fixed points given by its equations (and optionally a parametrisation).
    timeout : float, optional
        Budget in seconds; past it, :class:`~dsanalyze.errors.SymbolicTimeout`
        naming the step.

    Returns
    -------
    StabilityCondition

    Raises
    ------
    NotAFixedPointError
        If the point is not fixed (the defect is in the message).
    SymbolicTimeout
        If the derivation ran past ``timeout``.

    Examples
    --------
    The minima of gradient descent on w^4 - 2w^2:

    >>> import dsanalyze as ds
    >>> F = ds.models.double_well_gd()
    >>> C = stability_condition(F, [1])
    >>> C.inequalities, C.latex()
    ((eta < 1/4,), '0 < \\\\eta < \\\\frac{1}{4}')

    The two-factor map on its curve of fixed points uv = 1 (the neutral
    multiplier 1 along the curve is divided out):

    >>> import sympy as sp
    >>> u, v = sp.symbols("u v", real=True)
    >>> T = ds.models.two_factor()
    >>> C = stability_condition(T, FixedPoint(T, None, (u*v - 1,), 1))
    >>> C.inequalities
    (mu > 0, mu*(u**2 + v**2) < 2)
    >>> C.multipliers()
    [-mu*u**2 - mu*v**2 + 1]
    """
    label = system.name or "the system"
    with time_limit(timeout, f"stability condition of {label}"):
        fp, reducer = _context(system, fixed_point)
        lam = sp.Dummy("lambda")
        coefficients, neutral = _transverse_polynomial(system, fp, reducer, lam)
        if isinstance(system, Map):
            expressions, criterion = jury_conditions(coefficients), "Jury"
        else:
            expressions, criterion = hurwitz_conditions(coefficients), "Routh-Hurwitz"
        conditions, assumed, possible = _simplified(expressions, reducer)
        if not possible:
            conditions, assumed = (sp.false,), ()
        else:
            conditions, assumed = _one_parameter_form(conditions, assumed, system)
        taken = {s.name for s in (*system.state, *system.params)}
        name = "lambda" if "lambda" not in taken else "lambda_"
        variable = sp.Symbol(name)
        degree = len(coefficients) - 1
        polynomial = sp.expand(sum(c * variable ** (degree - i) for i, c in enumerate(coefficients)))
    return StabilityCondition(system, fp, conditions, assumed, polynomial, variable, neutral, criterion,
                              tuple(getattr(fp, "at", ())))


def stability_region(result: StabilityCondition | FixedPoint, param: sp.Symbol | str, *, domain: sp.Set | None = None,
                     at: Mapping[Any, Any] | None = None, timeout: float | None = None) -> StabilityRegion:
    """The values of one parameter for which the stability condition holds: an exact union of intervals.

    Parameters
    ----------
    result : StabilityCondition or FixedPoint
        A condition (a fixed point is turned into one first).
    param : Symbol or str
        The parameter to solve for.
    domain : Set, optional
        Where the parameter lives; default from its assumptions (a
        ``positive=True`` learning rate lives in (0, oo)), else the reals.
    at : mapping, optional
        Values substituted first: the other parameters, or a point of a
        component (every state variable).
    timeout : float, optional
        Budget in seconds for the exact solution; past it (or when SymPy
        cannot solve exactly) the ends are found numerically and the region
        has basis NUMERIC.

    Returns
    -------
    StabilityRegion

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.models.logistic()
    >>> r = F.params[0]
    >>> R = stability_region(stability_condition(F, [(r - 1)/r]), r)
    >>> R.region, R.latex()
    (Interval.open(1, 3), '1 < r < 3')

    A quadratic loss with curvature L (positive): 0 < eta < 2/L.

    >>> import sympy as sp
    >>> L = sp.Symbol("L", positive=True)
    >>> G = ds.gd_map(L*sp.Symbol("w")**2/2, "w")
    >>> stability_region(stability_condition(G, [0]), "eta").region
    Interval.open(0, 2/L)
    """
    cond = result if isinstance(result, StabilityCondition) else None
    if cond is None:
        if not isinstance(result, FixedPoint):
            raise TypeError(f"expected a StabilityCondition or a FixedPoint, got {type(result).__name__}")
        cond = stability_condition(result.system, result, timeout=timeout)
    if at:
        cond = cond.subs(at)
    if isinstance(param, str):
        table = cond._symbols()
        if param not in table:
            raise ExtraParameterError(f"{param!r} is not a symbol of the condition; symbols: {', '.join(sorted(table))}")
        param = table[param]
    if not isinstance(param, sp.Symbol):
        raise TypeError(f"param must be a Symbol or a name, got {param!r}")
    state_left = [s for s in cond.system.state if any(s in r.free_symbols for r in cond.inequalities)]
    if param in cond.system.state:
        raise ParameterError(f"{param} is a state variable; solve for a parameter")
    if state_left:
        raise MissingParameterError(
            f"the condition still depends on the state ({', '.join(map(str, state_left))}); "
            f"give a point of the component with at={{...}}, e.g. at={{{', '.join(f'{s.name!r}: 1' for s in cond.system.state)}}}"
        )
    dom = domain if domain is not None else domain_of(param)
    with_param = [r for r in cond.inequalities if param in r.free_symbols]
    side = [r for r in cond.inequalities if param not in r.free_symbols]
    # Give other symbols the signs the side conditions fix, so SymPy can compare ends.
    swap, back = {}, {}
    for rel in side:
        if isinstance(rel, (sp.StrictGreaterThan, sp.StrictLessThan)) and isinstance(rel.lhs, sp.Symbol) and rel.rhs == 0:
            s = rel.lhs
            signed = sp.Symbol(s.name, positive=True) if isinstance(rel, sp.StrictGreaterThan) else sp.Symbol(s.name, negative=True)
            swap[s], back[signed] = signed, s
    if any(r is sp.false for r in cond.inequalities):
        return StabilityRegion(cond, param, sp.S.EmptySet, dom, sp.true, Basis.PROVED)
    condition = sp.And(*(r.xreplace(swap) for r in with_param))
    basis = Basis.PROVED
    try:
        with time_limit(timeout, f"stability region in {param}"):
            region = solve_region(condition, param, dom)
    except (RegionError, SymbolicTimeout):
        region = _numeric_region(condition, param, dom)
        basis = Basis.NUMERIC
    region = region.xreplace(back)
    return StabilityRegion(cond, param, region, dom, sp.And(*side), basis)


def _numeric_region(condition: sp.Basic, param: sp.Symbol, domain: sp.Set) -> sp.Set:
    """The region located numerically: sign changes of every atom on a fine grid, refined by bisection."""
    if condition.free_symbols - {param}:
        raise RegionError(
            f"cannot solve {condition} for {param}, even numerically: it depends on "
            f"{', '.join(sorted(map(str, condition.free_symbols - {param})))}; substitute values with at={{...}}"
        )
    test = sp.lambdify(param, condition, modules=["numpy"])
    lo = float(domain.inf) if domain.inf.is_finite else -1e3
    hi = float(domain.sup) if domain.sup.is_finite else 1e3
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 20001), np.sinh(np.linspace(np.arcsinh(lo), np.arcsinh(hi), 20001))]))
    grid = grid[(grid > lo) & (grid < hi)] if domain.inf.is_finite or domain.sup.is_finite else grid
    with np.errstate(all="ignore"):
        inside = np.array([bool(test(g)) for g in grid])
    pieces = []
    start = None
    for k, flag in enumerate(inside):
        if flag and start is None:
            start = k
        if (not flag or k == len(inside) - 1) and start is not None:
            end = k - 1 if not flag else k
            a = _bisect(test, grid[start - 1], grid[start]) if start > 0 else (lo if domain.inf.is_finite else -sp.oo)
            b = _bisect(test, grid[end + 1], grid[end]) if end < len(grid) - 1 else (hi if domain.sup.is_finite else sp.oo)
            pieces.append(sp.Interval.open(sp.Float(a) if not isinstance(a, sp.Basic) else a,
                                           sp.Float(b) if not isinstance(b, sp.Basic) else b))
            start = None
    return sp.Union(*pieces) if pieces else sp.S.EmptySet


def _bisect(test, outside: float, inside: float) -> float:
    for _ in range(200):
        mid = 0.5 * (outside + inside)
        if mid in (outside, inside):
            break
        if bool(test(mid)):
            inside = mid
        else:
            outside = mid
    return inside
