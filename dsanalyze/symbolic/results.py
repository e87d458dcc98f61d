"""Result types shared by the derivations.

Each result is a small frozen dataclass holding exact SymPy objects, with
``latex()`` and ``verify(...)``. This module holds the ones several
derivations use; the others live beside the derivation that makes them.

Helpers used by more than one derivation live here too:
:func:`defining_equations` (F(x) - x for a map, f(x) for a flow) and
:func:`parameter_values` (exact parameter values from names, defaults and
user input).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import sympy as sp

from ..errors import ExtraParameterError, MissingParameterError, ParameterError, SymbolicTimeout
from ..expressions import as_expression
from ..systems import Map, System
from ..verify import Basis, Verdict
from .budget import time_limit

__all__ = ["FixedPoint", "EquilibriumType", "defining_equations", "parameter_values"]

#: Residual allowed at a fixed point, relative to max(1, |x|): a double cannot do much better.
RESIDUAL_TOLERANCE = 1e-12
#: Linearisations closer than this to the stability boundary (|lambda| = 1, Re lambda = 0) decide nothing.
DECISION_MARGIN = 1e-6
#: Symbolic identity checks inside verify() stop after this many seconds (the verdict is then unchecked).
PROOF_BUDGET = 5.0


class EquilibriumType(str, Enum):
    """Classification of a fixed point of a map or an equilibrium of a flow, as data."""

    STABLE_NODE = "stable node"
    UNSTABLE_NODE = "unstable node"
    SADDLE = "saddle"
    STABLE_FOCUS = "stable focus"
    UNSTABLE_FOCUS = "unstable focus"
    CENTRE = "centre"
    STABLE = "stable"                   # attracting, in dimension > 2 or without finer type
    UNSTABLE = "unstable"
    NON_HYPERBOLIC = "non-hyperbolic"   # a multiplier on the unit circle / an eigenvalue on the imaginary axis
    DEPENDS = "depends on parameters"   # the type changes with the parameters


def defining_equations(system: System) -> tuple[sp.Expr, ...]:
    """The expressions that vanish at the fixed points: F(x) - x for a map, f(x) for a flow.

    Examples
    --------
    >>> from dsanalyze.models import logistic
    >>> defining_equations(logistic())
    (r*x*(1 - x) - x,)
    """
    if isinstance(system, Map):
        return tuple(r - s for r, s in zip(system.rhs, system.state))
    return tuple(system.rhs)


def parameter_values(system: System, given: Mapping[Any, Any] | None = None,
                     base: Any = ()) -> dict[sp.Symbol, sp.Expr]:
    """Exact values of the parameters: the system's defaults, then ``base``, then ``given``.

    Floats become the exact decimal they print as (``0.1`` is ``1/10``), so the
    exact derivations and the compiled checks see the same number.

    Parameters
    ----------
    system : System
    given : mapping, optional
        Values by name or symbol (user input, e.g. the ``**params`` of ``verify``).
    base : iterable of (Symbol, value) pairs
        Values that come with a result (the parameters a numeric point was found at).

    Raises
    ------
    ExtraParameterError
        For a name that is not a parameter of the system.
    ParameterError
        For a value that is not a number.

    Examples
    --------
    >>> from dsanalyze.models import henon
    >>> parameter_values(henon(), {"a": 1.2})
    {a: 6/5, b: 3/10}
    """
    by_name = {p.name: p for p in system.params}
    values: dict[sp.Symbol, sp.Expr] = dict(system.defaults)
    items = list(base) + list((given or {}).items())
    for key, value in items:
        name = key.name if isinstance(key, sp.Symbol) else str(key)
        if name not in by_name:
            raise ExtraParameterError(
                f"{name} is not a parameter of {system.name or 'the system'}; "
                f"its parameters: {', '.join(by_name) or 'none'}"
            )
        try:
            number = as_expression(value)
        except Exception as exc:  # ExpressionError with its own message
            raise ParameterError(f"parameter {name} must be a number, got {value!r}: {exc}") from None
        if number.free_symbols or not number.is_finite:
            raise ParameterError(f"parameter {name} must be a finite number, got {value!r}")
        values[by_name[name]] = number
    return {p: values[p] for p in system.params if p in values}


def _require_all(system: System, values: Mapping[sp.Symbol, sp.Expr], what: str) -> None:
    missing = [p.name for p in system.params if p not in values]
    if missing:
        raise MissingParameterError(
            f"{what} needs a value for every parameter of {system.name or 'the system'}; missing "
            f"{', '.join(missing)} (pass them by name, e.g. {missing[0]}=1.0)"
        )


def _kernel_params(values: Mapping[sp.Symbol, sp.Expr]) -> dict[str, float]:
    return {p.name: float(v) for p, v in values.items()}


def _where(values: Mapping[sp.Symbol, sp.Expr]) -> str:
    return ", ".join(f"{p} = {sp.sstr(v)}" for p, v in values.items())


def _at(values: Mapping[sp.Symbol, sp.Expr]) -> str:
    """`` at mu = 1/2`` (empty without parameters), for claims."""
    return f" at {_where(values)}" if values else ""


def _truth(condition: sp.Basic) -> bool | None:
    """True, False, or None when a condition cannot be decided."""
    if condition is sp.true or condition is True:
        return True
    if condition is sp.false or condition is False:
        return False
    try:
        simplified = sp.simplify(condition)
    except Exception:  # noqa: BLE001 - SymPy may fail on exotic relations; undecided then
        return None
    if simplified is sp.true:
        return True
    if simplified is sp.false:
        return False
    return None


def is_zero(expr: sp.Expr, symbols: tuple[sp.Symbol, ...] = (), *, seed: int = 0) -> bool | None:
    """Whether an exact expression is identically zero: True, False, or None (undecided).

    An expression in one ``CRootOf`` (an algebraic number without radicals) is
    decided exactly by reduction modulo its irreducible polynomial. Otherwise
    a numeric evaluation at random rational values of the free symbols (50
    digits) decides "not zero" cheaply; "zero" needs a proof by ``cancel``,
    ``radsimp`` or ``simplify``. Undecided when neither succeeds.
    """
    if expr == 0:
        return True
    expr = sp.sympify(expr)
    try:
        if expr.has(sp.CRootOf):
            normal = sp.cancel(sp.together(expr))
            if normal == 0:
                return True
            roots = normal.atoms(sp.CRootOf)
            if len(roots) == 1:
                alpha = next(iter(roots))
                a = sp.Dummy("a")
                numerator = sp.expand(sp.numer(sp.together(normal.xreplace({alpha: a}))))
                if numerator.free_symbols <= {a} and sp.Poly(numerator, a).domain in (sp.ZZ, sp.QQ):
                    minimal = alpha.poly.as_expr().xreplace({alpha.poly.gen: a})
                    return sp.rem(numerator, minimal, a) == 0
            return None  # evaluating complex CRootOf to many digits is slow; leave it undecided
        if _numerically_nonzero(expr, seed):  # cheap, and spares simplify() in the common nonzero case
            return False
        normal = sp.cancel(sp.together(expr))
        if normal == 0 or sp.radsimp(normal) == 0 or sp.simplify(normal) == 0:
            return True
    except SymbolicTimeout:
        raise
    except Exception:  # noqa: BLE001 - a failing normal form is not a proof either way
        pass
    return None


def _numerically_nonzero(expr: sp.Expr, seed: int) -> bool:
    """True if ``expr`` is clearly nonzero at some random rational values of its free symbols."""
    rng = np.random.default_rng(seed)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    for _ in range(3):
        point = {}
        for s in symbols:
            value = sp.Rational(int(rng.integers(1, 97)), int(rng.integers(1, 31)))
            if s.is_negative or s.is_nonpositive:
                value = -value
            elif not (s.is_positive or s.is_nonnegative) and rng.random() < 0.5:
                value = -value
            point[s] = value
        try:
            number = sp.N(expr.xreplace(point), 50)
        except Exception:  # noqa: BLE001
            continue
        if number.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not number.is_number:
            continue
        if abs(complex(number)) > 1e-30:
            return True
    return False


@dataclass(frozen=True)
class FixedPoint:
    """A fixed point of a map or an equilibrium of a flow, or a whole component of them.

    Attributes
    ----------
    system : System
        The system it belongs to.
    coordinates : tuple of Expr or None
        Exact coordinates of an isolated point (they may contain parameters);
        None for a positive-dimensional component (and for a finite set of
        points known only through its equations: ``dimension`` 0, no closed form).
    equations : tuple of Expr
        For a component: polynomials (in the state, maybe the parameters) whose
        common zeros form it, e.g. ``(u*v - 1,)``. Empty for a point.
    dimension : int
        0 for a point, 1 for a curve, ...
    parametrisation : tuple of Expr or None
        Optional coordinates of the component as functions of ``free``.
    free : tuple of Symbol
        The free symbols of ``parametrisation``.
    conditions : sympy Boolean
        Conditions on the parameters under which it exists (``sympy.true`` if always).
    basis : Basis
        ``PROVED`` when found exactly; ``NUMERIC`` when found by Newton's method.
    residual : float or None
        Max-norm residual of the defining equations for a numeric point.
    at : tuple of (Symbol, Expr) pairs
        The parameter values a numeric point was found at (empty for exact results).
    nonzero : tuple of Expr
        Expressions that must not vanish on a component (denominators of a
        rational system): the component is its equations' zero set minus theirs.
    """

    system: System
    coordinates: tuple[sp.Expr, ...] | None
    equations: tuple[sp.Expr, ...] = ()
    dimension: int = 0
    parametrisation: tuple[sp.Expr, ...] | None = None
    free: tuple[sp.Symbol, ...] = ()
    conditions: sp.Basic = sp.true
    basis: Basis = Basis.PROVED
    residual: float | None = None
    at: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    nonzero: tuple[sp.Expr, ...] = ()

    @property
    def is_point(self) -> bool:
        return self.coordinates is not None

    def as_dict(self) -> dict[sp.Symbol, sp.Expr]:
        """The coordinates as a substitution ``{state symbol: value}`` (points only)."""
        if self.coordinates is None:
            raise ValueError("a component has no single set of coordinates; use its equations or parametrisation")
        return dict(zip(self.system.state, self.coordinates))

    def latex(self) -> str:
        """The point as ``(x, y) = (...)``, or the component as its equations ``= 0``."""
        names = ", ".join(sp.latex(s) for s in self.system.state)
        if self.coordinates is not None:
            values = ", ".join(sp.latex(c) for c in self.coordinates)
            text = f"({names}) = ({values})" if self.system.dim > 1 else f"{names} = {values}"
        elif self.equations:
            text = r",\ ".join(f"{sp.latex(e)} = 0" for e in self.equations)
        else:
            text = r"\text{every point}"
        if self.parametrisation is not None:
            para = ", ".join(sp.latex(c) for c in self.parametrisation)
            text += rf" \quad ({names}) = ({para})"
        if self.nonzero:
            text += r" \quad (" + r",\ ".join(f"{sp.latex(e)} \\neq 0" for e in self.nonzero) + ")"
        if self.conditions is not sp.true:
            text += r" \quad \text{if } " + sp.latex(self.conditions)
        if self.at:
            text += r" \quad \text{at } " + r",\ ".join(f"{sp.latex(p)} = {sp.latex(v)}" for p, v in self.at)
        return text

    def __repr__(self) -> str:
        where = f" if {self.conditions}" if self.conditions is not sp.true else ""
        how = "" if self.basis is Basis.PROVED else f", {self.basis.value}, residual {self.residual:.1e}"
        return f"FixedPoint({self.text()}{where}{how})"

    def text(self) -> str:
        """The point or component in plain text, e.g. ``(u, v) = (0, 0)`` or ``u*v - 1 = 0``."""
        names = ", ".join(map(str, self.system.state))
        if self.coordinates is not None:
            values = ", ".join(sp.sstr(c) for c in self.coordinates)
            return f"({names}) = ({values})" if self.system.dim > 1 else f"{names} = {values}"
        if self.equations:
            return " and ".join(f"{sp.sstr(e)} = 0" for e in self.equations)
        return "every point"

    # ---- verification --------------------------------------------------------------------------
    def verify(self, *, seed: int = 0, **params: Any) -> list[Verdict]:
        """Check the claim with exact algebra, the compiled right-hand side and simulation.

        Parameters
        ----------
        seed : int
            Seed of the random perturbations and sample points.
        **params
            Parameter values by name. Defaults of the system, and for a numeric
            point the values it was found at, fill in the rest; every parameter
            needs a value.

        Returns
        -------
        list of Verdict
            In this order:

            1. ``proved`` (exact results only): the coordinates, parametrisation
               or equations satisfy the fixed-point equations identically in the
               parameters (unchecked if no proof is found within 5 s).
            2. ``numeric``: the max-norm residual of F(x) - x (map) or f(x)
               (flow), evaluated by the compiled kernel at the point, or at
               sample points of a component, is at most 1e-12 * max(1, |x|).
            3. ``sampled`` (when the residual passed and the linearisation at
               these values decides stability, i.e. no eigenvalue within 1e-6 of
               the boundary): orbits started at distance 1e-5 * max(1, |x|) in
               8 seeded random directions converge to the point iff it is
               predicted stable; for a component, the neutral directions
               tangent to it are set aside and "converge" means: settle on a
               fixed point within 100 times that distance. Unchecked otherwise,
               with the reason.

            A point that does not exist at these values (its ``conditions``
            fail) gives an unchecked verdict instead of 2 and 3.

        Raises
        ------
        MissingParameterError, ExtraParameterError, ParameterError
            For missing, unknown or malformed parameter values.

        Examples
        --------
        >>> from dsanalyze.models import logistic
        >>> import sympy as sp
        >>> x, r = logistic().state[0], logistic().params[0]
        >>> p = FixedPoint(logistic(), ((r - 1) / r,), conditions=sp.Ne(r, 0))
        >>> [v.status for v in p.verify(r=2.5)]
        ['passed', 'passed', 'passed']
        >>> wrong = FixedPoint(logistic(), (sp.Rational(1, 2),))
        >>> [v.status for v in wrong.verify(r=2.5)]
        ['FAILED', 'FAILED', 'unchecked']
        """
        system = self.system
        values = parameter_values(system, params, self.at)
        _require_all(system, values, "verify()")
        verdicts: list[Verdict] = []
        if self.basis is Basis.PROVED:
            verdicts.append(self._verify_identity(seed))
        where = _at(values)
        exists = _truth(self.conditions.xreplace(values)) if self.conditions is not sp.true else True
        if exists is False:
            verdicts.append(Verdict.unchecked(
                f"{self.text()} is fixed{where}", 0,
                f"it does not exist there: the condition {sp.sstr(self.conditions)} fails",
            ))
            return verdicts
        rng = np.random.default_rng(seed)
        X, why = self._numeric_points(values, rng)
        if X is None:
            verdicts.append(Verdict(f"{self.text()} is a real fixed point{where}", "real and finite", why,
                                    None, False, Basis.NUMERIC))
            return verdicts
        residual_verdict = _residual_verdict(self, X, values)
        verdicts.append(residual_verdict)
        if not residual_verdict.passed:
            verdicts.append(Verdict.unchecked(
                f"stability of {self.text()}{where}", None,
                "skipped: the residual check failed, so it is not a fixed point"))
            return verdicts
        verdicts.append(_stability_verdict(self, X, values, rng, seed))
        return verdicts

    def _verify_identity(self, seed: int) -> Verdict:
        """Exact check that the claim satisfies the defining equations for all parameter values."""
        system = self.system
        equations = defining_equations(system)
        claim = f"{self.text()} solves the fixed-point equations identically"
        try:
            with time_limit(PROOF_BUDGET, "exact check of a fixed point"):
                if self.coordinates is not None or self.parametrisation is not None:
                    values = self.coordinates if self.coordinates is not None else self.parametrisation
                    point = dict(zip(system.state, values))
                    residues = [e.xreplace(point) for e in equations]
                    decisions = [is_zero(r, seed=seed) for r in residues]
                    how = "substitution"
                else:
                    decisions = _ideal_membership(system, self.equations, equations)
                    residues = None
                    how = "reduction modulo a Groebner basis of the component's equations"
        except SymbolicTimeout:
            return Verdict.unchecked(claim, 0, f"no symbolic proof within {PROOF_BUDGET:g} s")
        if all(d is True for d in decisions):
            return Verdict(claim, 0, 0, None, True, Basis.PROVED, note=how)
        if any(d is False for d in decisions):
            bad = [sp.sstr(r) for r, d in zip(residues or [], decisions) if d is False]
            return Verdict(claim, 0, "; ".join(bad) or "nonzero remainder", None, False, Basis.PROVED, note=how)
        return Verdict.unchecked(claim, 0, "SymPy could not decide whether the residues vanish")

    def _numeric_points(self, values: Mapping[sp.Symbol, sp.Expr], rng: np.random.Generator):
        """Float coordinates of the point (one row) or of sample points on the component."""
        if self.coordinates is not None:
            row = []
            for c in self.coordinates:
                number = sp.N(c.xreplace(values), 30)
                if number.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not number.is_number:
                    return None, f"coordinate {sp.sstr(c)} is undefined there"
                z = complex(number)
                if abs(z.imag) > 1e-20 * max(1.0, abs(z.real)):
                    return None, f"coordinate {sp.sstr(c)} is not real there ({z})"
                row.append(z.real)
            return np.array([row]), ""
        samples = component_samples(self, values, rng, 8)
        if samples.shape[0] == 0:
            return None, "no real sample point on the component was found"
        return samples, ""


def _ideal_membership(system: System, generators: tuple[sp.Expr, ...], targets) -> list[bool | None]:
    """Whether each target's numerator lies in the ideal generated by ``generators`` (over QQ(params))."""
    state = system.state
    extra = sorted(set().union(*(sp.sympify(g).free_symbols for g in (*generators, *targets))) - set(state),
                   key=lambda s: s.name)
    domain = sp.QQ.frac_field(*extra) if extra else sp.QQ
    if not generators:
        return [is_zero(t) for t in targets]
    basis = sp.groebner([sp.numer(sp.together(g)) for g in generators], *state, order="lex", domain=domain)
    out = []
    for t in targets:
        numerator = sp.numer(sp.together(t))
        out.append(True if basis.contains(numerator) else None)
    return out


def component_samples(point: FixedPoint, values: Mapping[sp.Symbol, sp.Expr], rng: np.random.Generator,
                      count: int) -> np.ndarray:
    """Up to ``count`` real points of a component (rows), at the given parameter values.

    From the parametrisation where there is one (free values +-e^U, U uniform
    on [-1, 1], so neither 0 nor far away); otherwise by projecting random
    starts onto the zero set of the equations with Gauss-Newton steps
    (minimum-norm, vectorised over the starts).
    """
    system = point.system
    dim = system.dim
    state = system.state
    if point.parametrisation is not None:
        expressions = [sp.sympify(c).xreplace(values) for c in point.parametrisation]
        function = sp.lambdify(point.free, expressions, "numpy")
        k = 4 * count
        T = np.exp(rng.uniform(-1, 1, size=(len(point.free), k))) * rng.choice([-1.0, 1.0], size=(len(point.free), k))
        with np.errstate(all="ignore"):
            columns = function(*T)
        X = np.column_stack([np.broadcast_to(np.asarray(c, dtype=float), (k,)) for c in columns])
        X = X[np.isfinite(X).all(axis=1)]
        if point.nonzero:
            keep = np.ones(X.shape[0], bool)
            for e in point.nonzero:
                f = sp.lambdify(state, sp.sympify(e).xreplace(values), "numpy")
                with np.errstate(all="ignore"):
                    keep &= np.abs(np.broadcast_to(np.asarray(f(*X.T), float), (X.shape[0],))) > 1e-8
            X = X[keep]
        return X[:count]
    equations = [sp.sympify(e).xreplace(values) for e in point.equations]
    if not equations:  # every point
        return rng.normal(0.0, 1.0, size=(count, dim))
    g = sp.lambdify(state, equations, "numpy")
    jac = sp.lambdify(state, sp.Matrix(equations).jacobian(sp.Matrix(state)).tolist(), "numpy")
    k = 16 * count
    X = rng.normal(0.0, 1.5, size=(k, dim))
    with np.errstate(all="ignore"):
        for _ in range(60):
            G = np.stack([np.broadcast_to(np.asarray(c, float), (k,)) for c in g(*X.T)], axis=-1)
            J = np.array([[np.broadcast_to(np.asarray(c, float), (k,)) for c in row] for row in jac(*X.T)])
            J = np.moveaxis(J, (0, 1), (1, 2))  # (k, m, dim)
            good = np.isfinite(G).all(axis=1) & np.isfinite(J).all(axis=(1, 2))
            X, G, J, k = X[good], G[good], J[good], int(good.sum())
            if k == 0:
                break
            step = np.einsum("kij,kj->ki", np.linalg.pinv(J, rcond=1e-12), G)
            X = X - step
        if k == 0:
            return np.empty((0, dim))
        G = np.stack([np.broadcast_to(np.asarray(c, float), (k,)) for c in g(*X.T)], axis=-1)
    scale = np.maximum(1.0, np.abs(X).max(axis=1))
    X = X[np.isfinite(G).all(axis=1) & (np.abs(G).max(axis=1) <= 1e-13 * scale ** max(1, _degree(equations, state)))]
    return _distinct(X, 1e-6)[:count]


def _degree(equations, state) -> int:
    try:
        return max(sp.Poly(sp.numer(sp.together(e)), *state).total_degree() for e in equations)
    except Exception:  # noqa: BLE001
        return 1


def _distinct(X: np.ndarray, tol: float) -> np.ndarray:
    """Rows of ``X`` with near-duplicates (relative distance below ``tol``) removed."""
    kept = []
    remaining = X
    while remaining.shape[0]:
        first = remaining[0]
        kept.append(first)
        scale = max(1.0, float(np.abs(first).max()))
        remaining = remaining[np.abs(remaining - first).max(axis=1) > tol * scale]
    return np.array(kept).reshape(-1, X.shape[1])


def _residuals(system: System, X: np.ndarray, kernel_params: dict[str, float]) -> np.ndarray:
    """Max-norm of F(x) - x (map) or f(x) (flow) at every row, from the compiled kernel."""
    from ..numeric.orbits import evaluate_rhs

    with np.errstate(all="ignore"):
        out = evaluate_rhs(system, X, kernel_params, threads=1)
        if isinstance(system, Map):
            out = out - X
        r = np.abs(out).max(axis=1)
    return np.where(np.isfinite(r), r, np.inf)


def _residual_verdict(point: FixedPoint, X: np.ndarray, values) -> Verdict:
    residual = _residuals(point.system, X, _kernel_params(values))
    scale = float(max(1.0, np.abs(X).max()))
    tolerance = RESIDUAL_TOLERANCE * scale
    measured = float(residual.max())
    what = "F(x) - x" if isinstance(point.system, Map) else "f(x)"
    where = f" at {len(X)} sample points" if point.coordinates is None else ""
    return Verdict(
        f"{point.text()} is fixed{_at(values)}: max |{what}|{where} (compiled kernel)",
        0.0, measured, tolerance, bool(measured <= tolerance), Basis.NUMERIC,
        evidence={"points": X, "residual": residual},
    )


def _linear_prediction(system: System, x: np.ndarray, kernel_params, neutral: int):
    """("stable" | "unstable" | None, kept eigenvalues, margins) from the compiled Jacobian at x."""
    from ..numeric.orbits import evaluate_jacobian

    J = evaluate_jacobian(system, x[None, :], kernel_params, threads=1)[0]
    lam = np.linalg.eigvals(J)
    is_map = isinstance(system, Map)
    if neutral:
        closeness = np.abs(lam - 1.0) if is_map else np.abs(lam)
        lam = lam[np.argsort(closeness)[neutral:]]
    margins = (np.abs(lam) - 1.0) if is_map else lam.real
    if margins.size == 0:  # a full-dimensional component: no transverse direction to predict anything about
        return None, lam, margins
    if (margins > DECISION_MARGIN).any():
        return "unstable", lam, margins
    if (margins < -DECISION_MARGIN).all():
        return "stable", lam, margins
    return None, lam, margins


def _stability_verdict(point: FixedPoint, X: np.ndarray, values, rng: np.random.Generator, seed: int) -> Verdict:
    """Sampled check: nearby orbits converge iff the linearisation predicts stability."""
    system = point.system
    is_map = isinstance(system, Map)
    kp = _kernel_params(values)
    neutral = point.dimension if point.coordinates is None else 0
    bases = X[:3]
    claim_base = f"orbits near {point.text()}{_at(values)}"
    predictions = [_linear_prediction(system, x, kp, neutral) for x in bases]
    decided = [(x, p) for x, p in zip(bases, predictions) if p[0] is not None]
    if not decided and predictions[0][1].size == 0:
        return Verdict.unchecked(claim_base + " stay", None,
                                 "no transverse direction: every point near it is fixed as well")
    if not decided:
        lam = predictions[0][1]
        return Verdict.unchecked(
            claim_base + " converge iff linearly stable", None,
            "the linearisation does not decide stability (an eigenvalue on or within 1e-6 of "
            f"{'the unit circle' if is_map else 'the imaginary axis'}: {np.round(lam, 8).tolist()})",
        )
    k = 8
    dim = system.dim
    starts, finals, distances, converged, expected = [], [], [], [], []
    notes = []
    for x, (kind, lam, margins) in decided:
        scale = max(1.0, float(np.abs(x).max()))
        eps = 1e-5 * scale
        directions = rng.normal(size=(k, dim))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        X0 = x + eps * directions
        if is_map:
            moduli = np.abs(lam)
            if kind == "stable":
                rho = max(float(moduli.max()) if moduli.size else 0.0, 1e-3)
                steps = math.ceil(math.log(1e-4) / math.log(rho)) + 10
            else:
                gamma = float(moduli.max())
                steps = math.ceil(math.log(1e4) / math.log(gamma)) + 10
            if steps > 2_000_000:
                return Verdict.unchecked(claim_base + " converge iff linearly stable", kind,
                                         f"too close to the stability boundary to sample ({steps} steps needed)")
            from ..numeric.orbits import iterate

            result = iterate(system, X0, steps, kp, escape=1e6 * scale, threads=1)
            final = result.final
            failed = ~result.bounded
            notes.append(f"{steps} steps")
        else:
            rate = float(np.min(-margins)) if kind == "stable" else float(np.max(margins))
            T = math.log(1e4) / rate
            if T * max(1.0, float(np.abs(lam).max())) > 1e7:
                return Verdict.unchecked(claim_base + " converge iff linearly stable", kind,
                                         f"too close to the stability boundary to sample (time {T:g} needed)")
            from ..numeric.flows import integrate_batch

            result = integrate_batch(system, X0, [0.0, T], kp, rtol=1e-11, atol=1e-14 * scale, threads=1)
            final = result.y[:, -1, :]
            failed = ~result.ok
            notes.append(f"time {T:.4g}")
        with np.errstate(all="ignore"):
            distance = np.linalg.norm(final - x, axis=1)
        distance = np.where(failed | ~np.isfinite(distance), np.inf, distance)
        if neutral:
            safe = np.where(np.isfinite(final).all(axis=1)[:, None], final, 0.0)
            settled = _residuals(system, safe, kp) <= 1e-2 * eps
            ok = (distance <= 100 * eps) & settled & ~failed
        else:
            ok = distance <= 1e-2 * eps
        starts.append(X0)
        finals.append(final)
        distances.append(distance)
        converged.append(ok)
        expected.append(np.full(k, kind == "stable"))
    converged_all = np.concatenate(converged)
    expected_all = np.concatenate(expected)
    passed = bool((converged_all == expected_all).all())
    kinds = sorted({p[0] for _, p in decided})
    radius = max(float(np.abs(np.concatenate([p[1] for _, p in decided])).max()), 0.0)
    if is_map:
        summary = f"max |lambda| = {radius:.6g}"
    else:
        summary = f"max Re lambda = {max(float(p[1].real.max()) for _, p in decided):.6g}"
    neutral_note = (f" (transverse to the component; {neutral} tangent neutral direction(s) set aside)"
                    if neutral else "")
    predicted = " / ".join(f"{kd}: orbits {'converge' if kd == 'stable' else 'do not converge'}" for kd in kinds)
    measured = "; ".join(
        f"{kd}{' base points' if neutral else ''}: {int(converged_all[expected_all == (kd == 'stable')].sum())}/"
        f"{int((expected_all == (kd == 'stable')).sum())} converged" for kd in kinds)
    return Verdict(
        claim_base + f" converge iff linearly stable ({summary}{neutral_note})",
        predicted,
        measured,
        None,
        passed,
        Basis.SAMPLED,
        evidence={"start": np.concatenate(starts), "final": np.concatenate(finals),
                  "distance": np.concatenate(distances), "converged": converged_all},
        note=(f"{k} starts per base point at relative distance 1e-5; converged = within 1e-2 of that distance "
              f"{'of a fixed point near the base point' if neutral else 'of the point'} at the end; seed {seed}; "
              f"{', '.join(notes)}"),
    )
