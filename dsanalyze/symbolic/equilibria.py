"""Fixed points of maps and equilibria of flows: exact where possible, numeric (and said so) where not.

:func:`fixed_points` solves F(x) = x (a :class:`~dsanalyze.systems.Map`) or
f(x) = 0 (a :class:`~dsanalyze.systems.Flow`). For right-hand sides that are
rational functions of the state it works exactly:

1. Denominators are cleared (where they vanish is recorded and excluded) and
   each numerator is made primitive in the state: a factor that holds only
   parameters (the learning rate of a gradient map, mu of the two-factor map)
   is set aside as a candidate special value.
2. A lexicographic Groebner basis over QQ(parameters) is computed and split
   whenever one of its elements factors (a factorising Groebner algorithm), so
   the fixed-point set comes out as a union of irreducible pieces; pieces
   contained in others are dropped.
3. Zero-dimensional pieces are solved by back substitution through their
   triangular basis (linear and quadratic factors in radicals, higher-degree
   factors with numeric coefficients as exact ``CRootOf``); only real points
   are kept, with the conditions (radicands >= 0, denominators != 0) under
   which they exist. Positive-dimensional pieces come back as components with
   their equations, dimension and a rational parametrisation when one exists.
4. Parameter values where the solution set changes are found from candidates
   (parameter factors of the equations, of the bases and of the coordinates,
   collisions of points) and confirmed by solving the specialised system
   again; each is reported with its reason.

When the system is not rational in the state, or exact solving runs past the
budget, a numeric fallback (multi-start damped Newton with deflation on the
compiled right-hand side and Jacobian) reports the points it found, with
residuals, as "found n" (``complete=False``), never as "all".

SymPy's ``nonlinsolve`` loses the origin of the two-factor map's fixed-point
set; nothing here relies on it.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DsAnalyzeError, ExpressionError, MissingParameterError, SymbolicTimeout
from ..systems import Map, System
from ..verify import Basis, Verdict
from .budget import time_limit
from .results import (
    FixedPoint, _distinct, _kernel_params, _require_all, _truth, _where, defining_equations, is_zero,
    parameter_values,
)

__all__ = ["FixedPointSet", "fixed_points", "system_fixed_points"]


# ============================================================================================
# The result
# ============================================================================================
@dataclass(frozen=True)
class FixedPointSet(Sequence):
    """The fixed points (or equilibria) of a system: points and components, and how complete that is.

    Behaves like a sequence of :class:`~dsanalyze.symbolic.results.FixedPoint`
    (index, ``len``, iteration): isolated points with coordinates first, then
    points known by their equations only, then components by dimension.

    Attributes
    ----------
    points : tuple of FixedPoint
    complete : bool
        True when these are all the (real) fixed points, for every parameter
        value except the special ones; False for a numeric search ("found n").
    special_values : dict
        ``{parameter: {value: reason}}``: parameter values where the solution
        set changes (points collide or become undefined, a curve of fixed
        points appears, every point becomes fixed). ``list(s.special_values[r])``
        gives the values.
    method : str
        How the set was obtained, in words.
    system : System
        The system solved.
    """

    points: tuple[FixedPoint, ...]
    complete: bool
    special_values: dict = field(default_factory=dict)
    method: str = ""
    system: System | None = None

    def __getitem__(self, index):
        return self.points[index]

    def __len__(self) -> int:
        return len(self.points)

    def __repr__(self) -> str:
        name = self.system.name if self.system is not None and self.system.name else "system"
        what = "all" if self.complete else "found"
        items = "; ".join(p.text() for p in self.points)
        return f"FixedPointSet({name}: {what} {len(self.points)}: {items})"

    def latex(self) -> str:
        """The points and components, one per line, with the special parameter values.

        Examples
        --------
        >>> from dsanalyze.models import logistic
        >>> print(fixed_points(logistic()).latex())
        \\begin{aligned}
        & x = 0 \\\\
        & x = \\frac{r - 1}{r} \\quad \\text{if } r \\neq 0 \\\\
        & \\text{special values: } r = 0\\ (\\text{x = (r - 1)/r is undefined; 1 fixed point instead of 2}),\\ r = 1\\ (\\text{x = 0 and x = (r - 1)/r coincide; 1 fixed point instead of 2})
        \\end{aligned}
        """
        rows = []
        for p in self.points:
            line = p.latex()
            if p.coordinates is None and p.dimension > 0:
                line += rf" \quad (\text{{{_dimension_word(p.dimension)} of fixed points}})"
            rows.append(f"& {line}")
        if not self.points:
            rows.append(r"& \text{no fixed points}" if self.complete else r"& \text{none found}")
        if not self.complete:
            rows.append(rf"& \text{{found {len(self.points)} numerically (not necessarily all)}}")
        if self.special_values:
            parts = []
            for param, entries in self.special_values.items():
                for value, reason in entries.items():
                    parts.append(rf"{sp.latex(param)} = {sp.latex(value)}\ (\text{{{_latex_text(reason)}}})")
            rows.append(r"& \text{special values: } " + r",\ ".join(parts))
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def verify(self, *, seed: int = 0, **params: Any) -> list[Verdict]:
        """Verify every point (see :meth:`FixedPoint.verify`) and, for a complete set, completeness.

        The completeness check (basis ``sampled``) runs multi-start Newton from
        seeded starts around the claimed points at these parameter values and
        fails if it finds a fixed point that is neither one of the points nor
        on one of the components. A numeric set claims only what it found and
        gets no completeness check.

        Returns
        -------
        list of Verdict
            The verdicts of the points in order, then the completeness verdict.

        Examples
        --------
        >>> from dsanalyze.models import double_well_gd
        >>> verdicts = fixed_points(double_well_gd()).verify(eta=0.1)
        >>> all(v.passed for v in verdicts if v.passed is not None), verdicts[-1].basis.value
        (True, 'sampled')
        """
        verdicts: list[Verdict] = []
        for p in self.points:
            verdicts.extend(p.verify(seed=seed, **params))
        if self.complete and self.system is not None:
            verdicts.append(_completeness_verdict(self, params, seed))
        return verdicts


def _latex_text(text: str) -> str:
    """Plain text made safe inside \\text{...}."""
    text = text.replace("\\", "").replace("{", "").replace("}", "")
    for char in "_&%#$":
        text = text.replace(char, "\\" + char)
    return text.replace("**", "^").replace("^", r"\^{}")


def _dimension_word(d: int) -> str:
    return {1: "a curve", 2: "a surface"}.get(d, f"a {d}-dimensional set")


# ============================================================================================
# Entry point
# ============================================================================================
def fixed_points(
    system: System,
    *,
    timeout: float | None = None,
    numeric_fallback: bool = True,
    seed: int = 0,
    params: Mapping[Any, Any] | None = None,
    box: float | Sequence[float] | None = None,
    starts: int | None = None,
) -> FixedPointSet:
    """All fixed points of a map (F(x) = x) or equilibria of a flow (f(x) = 0), exactly where possible.

    Parameters
    ----------
    system : Map or Flow
    timeout : float, optional
        Seconds for the exact derivation (None: no limit). Past it, the
        numeric fallback runs, or :class:`~dsanalyze.errors.SymbolicTimeout`
        is raised when ``numeric_fallback`` is False. The search for special
        parameter values gets what is left of the budget.
    numeric_fallback : bool
        Whether to fall back to a numeric search when exact solving fails
        (a right-hand side that is not rational in the state) or times out.
    seed : int
        Seed of the numeric search's random starts.
    params : mapping, optional
        Parameter values for the numeric fallback (defaults of the system fill
        in the rest). Exact solving keeps the parameters symbolic.
    box : float or sequence of float, optional
        Numeric search region: starts are drawn in [-box, box] per coordinate
        (default 10).
    starts : int, optional
        Number of starts of the numeric search (default 128 per dimension).

    Returns
    -------
    FixedPointSet
        ``complete=True`` with exact points (basis ``proved``) and components,
        or ``complete=False`` with numeric points (basis ``numeric``, with
        ``residual`` and the parameter values in ``at``).

    Raises
    ------
    SymbolicTimeout
        When exact solving runs past ``timeout`` and ``numeric_fallback`` is False.
    ExpressionError
        When the system is not rational in the state and ``numeric_fallback`` is False.
    MissingParameterError
        When the numeric fallback needs parameter values that were not given.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> fps = fixed_points(ds.models.logistic())
    >>> [p.coordinates for p in fps]
    [(0,), ((r - 1)/r,)]
    >>> fps.special_values
    {r: {0: 'x = (r - 1)/r is undefined; 1 fixed point instead of 2', 1: 'x = 0 and x = (r - 1)/r coincide; 1 fixed point instead of 2'}}
    >>> curve = fixed_points(ds.models.two_factor())[1]
    >>> curve.equations, curve.parametrisation
    ((u*v - 1,), (t, 1/t))
    """
    if not isinstance(system, System):
        raise TypeError(f"fixed_points needs a Map or a Flow, got {type(system).__name__}")
    label = system.name or "the system"
    step = f"fixed points of {label}"
    started = time.monotonic()
    failure = None
    try:
        with time_limit(timeout, step):
            try:
                problem = _prepare(system)
                solved = _solve(problem)
                points = _to_fixed_points(system, problem, solved[0])
                _check_hidden_constants(problem, solved[1])
            except _SYMPY_FAILURES as exc:
                raise _NoClosedForm(f"SymPy could not complete the algebra ({type(exc).__name__}: {exc})") from None
    except SymbolicTimeout as exc:
        if exc.step != step or not numeric_fallback:
            raise
        failure = f"exact solving ran past the budget of {timeout:g} s"
        timeout_error = exc
    except _NoClosedForm as exc:
        if not numeric_fallback:
            raise ExpressionError(
                f"cannot solve for the fixed points of {label} exactly: {exc}; "
                "pass numeric_fallback=True (and parameter values in params=) for a numeric search"
            ) from None
        failure = f"exact solving is not possible: {exc}"
        timeout_error = None
    if failure is not None:
        values = parameter_values(system, params)
        missing = [p.name for p in system.params if p not in values]
        if missing:
            error = MissingParameterError(
                f"{failure}; the numeric fallback needs values for {', '.join(missing)} "
                f"(pass params={{{missing[0]!r}: ...}})"
            )
            raise error from timeout_error
        return _numeric_set(system, values, seed=seed, box=box, starts=starts, why=failure)

    pieces, candidates, notes = solved
    special: dict = {}
    remaining = None if timeout is None else timeout - (time.monotonic() - started)
    special_step = f"special parameter values of the fixed points of {label}"
    if system.params and (remaining is None or remaining > 0):
        try:
            with time_limit(remaining, special_step):
                _special_values(system, problem, points, candidates, notes, special)
        except SymbolicTimeout as exc:
            if exc.step != special_step:
                raise
            notes.append("the search for special parameter values stopped at the time budget (may be incomplete)")
        except (_NoClosedForm, *_SYMPY_FAILURES) as exc:
            notes.append(f"the search for special parameter values failed ({type(exc).__name__}); may be incomplete")
        special = _sorted_special(special, problem.params)
    elif system.params:
        notes.append("no time was left to search for special parameter values")
    domain = (f"QQ({', '.join(sp.sstr(problem.hidden.get(c, c)) for c in problem.coefficients)})"
              if problem.coefficients else "QQ")
    counts = _count_text(points)
    method = f"exact: lexicographic Groebner bases over {domain}, split by factorisation; {counts}"
    if notes:
        method += "; " + "; ".join(dict.fromkeys(notes))
    return FixedPointSet(tuple(points), True, special, method, system)


def system_fixed_points(self: System, **kwargs: Any) -> FixedPointSet:
    """The fixed points (map) or equilibria (flow) of this system; see :func:`fixed_points`.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> len(system_fixed_points(ds.models.lorenz()))
    3
    """
    return fixed_points(self, **kwargs)


def _count_text(points) -> str:
    n_points = sum(1 for p in points if p.coordinates is not None)
    implicit = sum(1 for p in points if p.coordinates is None and p.dimension == 0)
    components = [p.dimension for p in points if p.coordinates is None and p.dimension > 0]
    parts = [f"{n_points} point{'s' if n_points != 1 else ''}"]
    if implicit:
        parts.append(f"{implicit} finite set(s) given by equations (no closed form)")
    if components:
        parts.append(", ".join(f"a {d}-dimensional component" for d in components))
    return ", ".join(parts)


# ============================================================================================
# Exact solving
# ============================================================================================
class _NoClosedForm(Exception):
    """Exact solving is not possible for this system (the message says why)."""


#: Errors SymPy raises when an algebraic step is beyond it; they become "no closed form", never a traceback.
_SYMPY_FAILURES = (sp.PolynomialError, sp.polys.polyerrors.CoercionFailed, sp.polys.polyerrors.DomainError,
                   sp.polys.polyerrors.GeneratorsError, NotImplementedError, RecursionError)


@dataclass
class _Problem:
    state: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    coefficients: tuple[sp.Symbol, ...]       # symbols of the coefficient field: parameters and hidden constants
    hidden: dict                               # placeholder symbol -> the constant it stands for
    numerators: list                           # primitive numerators of the defining equations
    denominators: list                         # denominators that involve the state or parameters
    domain: Any
    is_map: bool


@dataclass
class _Piece:
    basis: list                                # reduced lex Groebner basis (expressions)
    dimension: int
    points: list | None = None                 # list of coordinate tuples for a solved zero-dimensional piece
    parametrisation: tuple | None = None
    free: tuple = ()


def _hide_constants(expr: sp.Expr, state: set, hidden: dict, reverse: dict) -> sp.Expr:
    """Replace subexpressions free of the state that are not rational (exp(k), sqrt(2), pi) by symbols."""
    if expr.is_Symbol or expr.is_Rational:
        return expr
    if not (expr.free_symbols & state):
        if expr.is_Float:
            return sp.Rational(repr(float(expr)))
        if expr.is_Add or expr.is_Mul:
            return expr.func(*(_hide_constants(a, state, hidden, reverse) for a in expr.args))
        if expr.is_Pow and expr.exp.is_Integer:
            return _hide_constants(expr.base, state, hidden, reverse) ** expr.exp
        if expr in reverse:
            return reverse[expr]
        symbol = sp.Dummy(f"c{len(hidden)}", real=expr.is_real, positive=expr.is_positive)
        hidden[symbol] = expr
        reverse[expr] = symbol
        return symbol
    if expr.is_Add or expr.is_Mul:
        return expr.func(*(_hide_constants(a, state, hidden, reverse) for a in expr.args))
    if expr.is_Pow and expr.exp.is_Integer:
        return _hide_constants(expr.base, state, hidden, reverse) ** expr.exp
    return expr  # x**(1/2), sin(x): found not rational below


def _prepare(system: System) -> _Problem:
    """Cleared, primitive numerators of the defining equations, and the denominators."""
    state = system.state
    state_set = set(state)
    hidden: dict = {}
    reverse: dict = {}
    numerators, denominators = [], []
    for eq in defining_equations(system):
        eq = _hide_constants(sp.sympify(eq), state_set, hidden, reverse)
        eq = sp.together(eq)
        num, den = sp.fraction(eq)
        for part in (num, den):
            try:
                sp.Poly(part, *state)
            except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError):
                raise _NoClosedForm(
                    f"the right-hand side is not a rational function of the state ({sp.sstr(eq)})") from None
        num = sp.expand(num)
        if den.free_symbols:
            denominators.append(den)
        if num != 0:
            numerators.append(num)
    coefficients = tuple(sorted(
        set().union(*(e.free_symbols for e in (*numerators, *denominators))) - state_set,
        key=lambda s: (s in hidden, s.name),
    ))
    unknown = [s for s in coefficients if s not in system.params and s not in hidden]
    if unknown:  # cannot happen for a valid System, but keep the message clear
        raise _NoClosedForm(f"unexpected symbols {unknown}")
    domain = sp.QQ.frac_field(*coefficients) if coefficients else sp.QQ
    return _Problem(state, system.params, coefficients, hidden, numerators, denominators, domain,
                    isinstance(system, Map))


def _param_factors(expr: sp.Expr, state) -> list[sp.Expr]:
    """Irreducible factors of the numerator and denominator of expr that involve no state variable."""
    expr = sp.sympify(expr)
    if expr == 0 or not expr.free_symbols:
        return []
    out = []
    for part in sp.fraction(sp.together(expr)):
        if not part.free_symbols:
            continue
        _, factors = sp.factor_list(part)
        for f, _ in factors:
            if f.free_symbols and not (f.free_symbols & set(state)):
                out.append(f)
    return out


def _split_content(num: sp.Expr, state) -> tuple[sp.Expr, list[sp.Expr]]:
    """``num`` without its factors free of the state, and those factors."""
    if not (num.free_symbols - set(state)):
        poly = sp.Poly(num, *state)
        return poly.primitive()[1].as_expr(), []
    content, factors = sp.factor_list(num)
    kept, dropped = sp.Integer(1), []
    for f, m in factors:
        if f.free_symbols & set(state):
            kept *= f ** m
        else:
            dropped.append(f)
    return sp.expand(kept), dropped


def _state_factors(expr: sp.Expr, state) -> tuple[list[tuple[sp.Expr, int]], list[sp.Expr]]:
    """Irreducible factors (with multiplicity) of a numerator that involve the state; the others apart."""
    num = sp.numer(sp.together(expr))
    _, factors = sp.factor_list(num)
    with_state = [(f, m) for f, m in factors if f.free_symbols & set(state)]
    without = [f for f, m in factors if f.free_symbols and not (f.free_symbols & set(state))]
    return with_state, without


def _groebner(polys, problem: _Problem):
    return sp.groebner(polys, *problem.state, order="lex", domain=problem.domain)


def _basis_candidates(basis_exprs, problem: _Problem) -> list[sp.Expr]:
    """Parameter factors of the coefficients of a basis over QQ(params), denominators cleared.

    Where one of them vanishes the basis may not specialise: these are the
    candidates for special parameter values (each is confirmed separately).
    """
    out = []
    if not problem.coefficients:
        return out
    for g in basis_exprs:
        num, den = sp.fraction(sp.together(g))
        out += _param_factors(den, problem.state)
        try:
            coefficients = sp.Poly(num, *problem.state).coeffs()
        except sp.PolynomialError:
            continue
        for c in coefficients:
            out += _param_factors(sp.sympify(c), problem.state)
    return out


def _decompose(polys, problem: _Problem, candidates: list, depth: int = 0) -> list:
    """Reduced lex Groebner bases of the pieces of V(polys), split wherever a basis element factors."""
    basis = _groebner(polys, problem)
    exprs = list(basis.exprs)
    if exprs == [1] or any(not (sp.sympify(g).free_symbols & set(problem.state)) and g != 0 for g in exprs):
        return []
    candidates += _basis_candidates(exprs, problem)
    for g in exprs:
        factors, params_only = _state_factors(g, problem.state)
        candidates += params_only
        if len(factors) > 1 or (factors and factors[0][1] > 1):
            out = []
            for f, _ in factors:
                out += _decompose(exprs + [f], problem, candidates, depth + 1)
            return out
    return [basis]


def _leading_exponents(basis) -> list[tuple[int, ...]]:
    return [p.monoms(order="lex")[0] for p in basis.polys]


def _independent_sets(basis, n: int) -> list[tuple[int, ...]]:
    """Largest sets of variable indices that support no leading monomial (first the earliest variables)."""
    leads = _leading_exponents(basis)
    supports = [frozenset(i for i, e in enumerate(m) if e) for m in leads]
    for size in range(n, -1, -1):
        found = [c for c in itertools.combinations(range(n), size) if not any(s <= set(c) for s in supports)]
        if found:
            return found
    return [()]


def _solve(problem: _Problem):
    """(pieces, candidate parameter factors, notes) of the fixed-point set."""
    state = problem.state
    candidates: list = []
    notes: list = []
    primitive = []
    for num in problem.numerators:
        kept, dropped = _split_content(num, state)
        candidates += dropped
        if kept.free_symbols & set(state):
            primitive.append(kept)
        elif kept != 0:
            # A nonzero constant equation: no fixed points except where its parameter factors vanish.
            return [], candidates, notes
    if not primitive:
        pieces = [_Piece([], len(state))]
    else:
        bases = _decompose(primitive, problem, candidates)
        bases = _drop_contained(bases)
        pieces = []
        for basis in bases:
            sets = _independent_sets(basis, len(state))
            dim = len(sets[0])
            piece = _Piece(list(basis.exprs), dim)
            if dim == 0:
                piece.points = _best_solution(piece.basis, problem)
            else:
                piece.parametrisation, piece.free = _parametrise(piece.basis, sets, problem)
            pieces.append(piece)
    # Pieces on which a denominator vanishes identically are not fixed points of the system.
    kept_pieces = []
    for piece in pieces:
        if problem.denominators and piece.basis:
            basis = _groebner(piece.basis, problem)
            if any(basis.contains(d) for d in problem.denominators):
                notes.append("a piece where the right-hand side is undefined was removed")
                continue
        kept_pieces.append(piece)
    return kept_pieces, candidates, notes


def _drop_contained(bases: list) -> list:
    """Remove duplicate pieces and pieces contained in another (ideal containment)."""
    unique = []
    for b in bases:
        if not any(set(b.exprs) == set(u.exprs) for u in unique):
            unique.append(b)
    kept = []
    for i, a in enumerate(unique):
        contained = False
        for j, b in enumerate(unique):
            if i != j and all(a.contains(g) for g in b.exprs) and not all(b.contains(g) for g in a.exprs):
                contained = True  # V(a) is inside V(b)
                break
        if not contained:
            kept.append(a)
    return kept


def _univariate_roots(poly_expr: sp.Expr, var: sp.Symbol, problem: _Problem) -> list | None:
    """Exact roots of a polynomial in ``var`` (coefficients exact), or None when they have no usable closed form."""
    poly_expr = sp.expand(sp.numer(sp.together(poly_expr)))  # integer coefficients read better in the formula
    if poly_expr == 0:
        return None
    others = poly_expr.free_symbols - {var}
    if var not in poly_expr.free_symbols:
        return []
    roots = []
    try:
        _, factors = sp.factor_list(poly_expr, var, *sorted(others, key=lambda s: s.name)) if others \
            else sp.factor_list(poly_expr, var)
    except (sp.PolynomialError, NotImplementedError):
        factors = [(poly_expr, 1)]
    for f, _ in factors:
        if var not in f.free_symbols:
            continue
        degree = sp.degree(f, var)
        if degree == 1:
            a, b = sp.Poly(f, var).all_coeffs()
            roots.append(sp.cancel(-b / a))
        elif degree == 2:
            a, b, c = sp.Poly(f, var).all_coeffs()
            disc = sp.factor(b**2 - 4 * a * c)
            for sign in (1, -1):
                roots.append((-b + sign * sp.sqrt(disc)) / (2 * a))
        else:
            if f.free_symbols == {var} and not f.has(sp.CRootOf) and sp.Poly(f, var).domain in (sp.ZZ, sp.QQ):
                roots.extend(sp.Poly(f, var).real_roots())
            else:
                return None
    return roots


def _best_solution(basis_exprs, problem: _Problem) -> list | None:
    """Points of a zero-dimensional piece, solved in the variable order that gives the simplest closed form.

    The lexicographic order decides which variable is found from a univariate
    polynomial and which by back substitution; for Henon's map, solving for y
    first gives x = y/b, undefined at b = 0 although the points exist there.
    The state order and its reverse are tried; the answer with the fewest
    parameter factors in denominators, then the fewest operations, wins.
    """
    state = problem.state
    orders = [state] if len(state) == 1 else [state, tuple(reversed(state))]
    best, best_score = None, None
    for order in orders:
        exprs = basis_exprs if order == state else list(
            sp.groebner(basis_exprs, *order, order="lex", domain=problem.domain).exprs)
        points = _solve_zero_dimensional(exprs, problem, order)
        if points is None:
            continue
        denominators = set()
        for coords in points:
            for c in coords:
                denominators.update(_param_factors(sp.denom(sp.together(c)), state))
        score = (len(denominators), sum(sp.count_ops(c) for coords in points for c in coords))
        if best_score is None or score < best_score:
            best, best_score = points, score
        if not denominators:
            break  # defined for every parameter value already
    return best


def _solve_zero_dimensional(basis_exprs, problem: _Problem, order: tuple) -> list | None:
    """The real points of a zero-dimensional piece by back substitution in ``order``, or None (no closed form).

    ``basis_exprs`` is a lexicographic Groebner basis for ``order`` (first
    variable largest); coordinates come back in the state order.
    """
    state = order
    partial = [dict()]
    for k in range(len(state) - 1, -1, -1):
        var = state[k]
        relevant = [g for g in basis_exprs if var in g.free_symbols and not (g.free_symbols & set(state[:k]))]
        extended = []
        for sol in partial:
            polys = [sp.expand(g.xreplace(sol)) for g in relevant]
            polys = [p for p in polys if is_zero(p) is not True]
            if not polys:
                return None  # var would be free: not zero-dimensional after all
            polys.sort(key=lambda p: (sp.degree(p, var) if var in p.free_symbols else 0, sp.count_ops(p)))
            first = polys[0]
            if var not in first.free_symbols:
                if is_zero(first) is False:
                    continue  # inconsistent at this partial solution
                return None
            roots = _univariate_roots(first, var, problem)
            if roots is None:
                return None
            for root in roots:
                root = _tidy(root)
                if root.is_real is False:
                    continue
                checks = [is_zero(p.xreplace({var: root})) for p in polys[1:]]
                if any(c is None for c in checks):
                    return None
                if all(checks):
                    extended.append({**sol, var: root})
        partial = extended
    return [tuple(_tidy(sol[s]) for s in problem.state) for sol in partial]


def _tidy(expr: sp.Expr) -> sp.Expr:
    """A compact exact form: rational functions cancelled and factored, radicals left alone."""
    expr = sp.sympify(expr)
    if expr.is_number:
        if expr.has(sp.CRootOf):
            return expr
        return sp.radsimp(sp.nsimplify(expr)) if expr.is_Add or expr.is_Mul else expr
    if not expr.has(sp.Pow) or all(p.exp.is_Integer for p in expr.atoms(sp.Pow)):
        return sp.factor(sp.cancel(expr))
    # Radicals: keep the quadratic formula's form, with factored radicands.
    powers = {p: sp.Pow(sp.factor(p.base), p.exp) for p in expr.atoms(sp.Pow) if not p.exp.is_Integer}
    return expr.xreplace(powers)


def _free_names(problem: _Problem, count: int) -> tuple[sp.Symbol, ...]:
    taken = {s.name for s in (*problem.state, *problem.params)}
    if count == 1:
        for name in ("t", "s", "tau", "t_1"):
            if name not in taken:
                return (sp.Symbol(name, real=True),)
    names = []
    k = 1
    while len(names) < count:
        name = f"t{k}"
        if name not in taken:
            names.append(sp.Symbol(name, real=True))
        k += 1
    return tuple(names)


def _parametrise(basis_exprs, independent_sets, problem: _Problem):
    """A rational parametrisation of a component by one of its independent sets of variables, or (None, ())."""
    state = problem.state
    for free_idx in independent_sets:
        free_vars = [state[i] for i in free_idx]
        dependent = [s for s in state if s not in free_vars]
        if not dependent:
            continue
        basis = sp.groebner(basis_exprs, *dependent, *free_vars, order="lex", domain=problem.domain)
        solution = {}
        ok = True
        for k in range(len(dependent) - 1, -1, -1):
            var = dependent[k]
            found = None
            for g in basis.exprs:
                lead_vars = g.free_symbols & set(dependent)
                if var not in lead_vars or lead_vars & set(dependent[:k]):
                    continue
                if sp.degree(g, var) == 1:
                    a, b = sp.Poly(g, var).all_coeffs()
                    found = sp.cancel((-b / a).xreplace(solution))
                    break
            if found is None:
                ok = False
                break
            solution[var] = found
        if not ok:
            continue
        free = _free_names(problem, len(free_vars))
        rename = dict(zip(free_vars, free))
        para = tuple(sp.cancel((solution[s] if s in solution else s).xreplace(rename)) for s in state)
        point = dict(zip(state, para))
        if all(sp.cancel(sp.together(g.xreplace(point))) == 0 for g in basis_exprs):
            return para, free
    return None, ()


# ============================================================================================
# Exact pieces -> FixedPoint results
# ============================================================================================
def _radicands(expr: sp.Expr):
    for p in sp.sympify(expr).atoms(sp.Pow):
        if p.exp.is_Rational and not p.exp.is_Integer and p.exp.q % 2 == 0 and p.base.free_symbols:
            yield p.base


def _point_conditions(coords, problem: _Problem) -> sp.Basic | None:
    """Conditions under which a parametric point is real and defined; None if it never is."""
    relations = []
    for c in coords:
        for base in _radicands(c):
            relations.append(sp.Ge(sp.factor(base), 0))
        den = sp.denom(sp.together(c))
        if den.free_symbols:
            for f in _param_factors(sp.factor(den), problem.state) or [den]:
                relations.append(sp.Ne(f, 0))
    point = dict(zip(problem.state, coords))
    for d in problem.denominators:
        value = sp.together(d.xreplace(point))
        zero = is_zero(value)
        if zero is True:
            return None
        if value.free_symbols:
            relations.append(sp.Ne(sp.factor(sp.numer(value)), 0))
    kept = []
    for rel in relations:
        if rel is sp.true or rel == sp.true:
            continue
        if rel is sp.false or rel == sp.false:
            return None
        if rel not in kept:
            kept.append(rel)
    return sp.And(*kept) if kept else sp.true


def _sort_key(coords):
    try:
        numbers = [float(sp.N(c)) for c in coords]
        return (0, numbers, "")
    except (TypeError, ValueError):
        return (1, [], sp.sstr(coords))


def _to_fixed_points(system: System, problem: _Problem, pieces: list) -> list[FixedPoint]:
    back = problem.hidden
    restore = (lambda e: sp.sympify(e).xreplace(back)) if back else (lambda e: e)
    points, implicit, components = [], [], []
    seen = []
    for piece in pieces:
        if piece.dimension == 0 and piece.points is not None:
            for coords in piece.points:
                coords = tuple(restore(c) for c in coords)
                condition = _point_conditions(coords, problem)
                if condition is None:
                    continue
                if any(all(is_zero(a - b) is True for a, b in zip(coords, other)) for other in seen):
                    continue
                seen.append(coords)
                points.append(FixedPoint(system, coords, conditions=condition))
        else:
            equations = tuple(_primitive(restore(g), problem) for g in piece.basis)
            nonzero = tuple(restore(d) for d in problem.denominators if d.free_symbols & set(problem.state))
            para = None if piece.parametrisation is None else tuple(restore(c) for c in piece.parametrisation)
            fp = FixedPoint(system, None, equations=equations, dimension=piece.dimension, parametrisation=para,
                            free=piece.free if para is not None else (), nonzero=nonzero)
            (implicit if piece.dimension == 0 else components).append(fp)
    points.sort(key=lambda p: _sort_key(p.coordinates))
    components.sort(key=lambda p: p.dimension)
    return points + implicit + components


def _primitive(expr: sp.Expr, problem: _Problem) -> sp.Expr:
    """A basis element without denominators and content: e.g. u*v - 1, not (u*v - 1)/2."""
    num = sp.numer(sp.together(expr))
    kept, _ = _split_content(sp.expand(num), problem.state)
    poly = sp.Poly(kept, *problem.state)
    if poly.LC(order="lex").could_extract_minus_sign():
        kept = -kept
    return sp.expand(kept)


# ============================================================================================
# Special parameter values
# ============================================================================================
def _zero_factors(expr: sp.Expr, state) -> list[sp.Expr]:
    """Parameter factors whose vanishing makes ``expr`` vanish (one square root is rationalised)."""
    expr = sp.together(sp.sympify(expr))
    num = sp.numer(expr)
    roots = [p for p in num.atoms(sp.Pow) if p.exp == sp.Rational(1, 2)]
    if len(roots) == 1:
        r = roots[0]
        a_sym = sp.Dummy("s")
        collected = sp.expand(num.xreplace({r: a_sym}))
        poly = sp.Poly(collected, a_sym)
        coeffs = poly.all_coeffs()
        if len(coeffs) == 2:
            b, a = coeffs  # b*s + a
            num = sp.expand(a**2 - b**2 * r.base)
        elif len(coeffs) == 1:
            num = coeffs[0]
        else:
            return []
    elif roots:
        return []
    num = sp.numer(sp.together(num))
    if num.free_symbols & set(state):
        return []
    return _param_factors(num, state)


def _values_from_factor(factor: sp.Expr, params: tuple) -> list[tuple[sp.Symbol, sp.Expr]]:
    """(parameter, value) pairs where an irreducible parameter factor vanishes."""
    present = [p for p in params if p in factor.free_symbols]
    try:
        if not present or sp.Poly(factor, *present).domain not in (sp.ZZ, sp.QQ):
            return []  # exp(k) - 2 and the like: not solved here
    except sp.PolynomialError:
        return []
    for p in present:
        if sp.degree(factor, p) == 1:
            a, b = sp.Poly(factor, p).all_coeffs()
            return [(p, sp.factor(-b / a))]
    if len(present) == 1:
        p = present[0]
        poly = sp.Poly(factor, p)
        if poly.degree() == 2:
            return [(p, r) for r in sp.roots(poly, p) if r.is_real]
        if poly.domain in (sp.ZZ, sp.QQ):
            return [(p, r) for r in poly.real_roots()]
    return []


def _allowed(param: sp.Symbol, value: sp.Expr) -> bool:
    """Whether ``value`` is compatible with the assumptions on ``param`` (boundary values like 0 are kept)."""
    if (param.is_positive or param.is_nonnegative) and value.is_negative:
        return False
    if (param.is_negative or param.is_nonpositive) and value.is_positive:
        return False
    if param.is_real and value.is_real is False:
        return False
    return True


def _check_hidden_constants(problem: _Problem, candidates: list) -> None:
    """Constants treated as symbols (sqrt(2), exp(k)) must not sit where the generic solution degenerates."""
    for f in candidates:
        if f.free_symbols and f.free_symbols <= set(problem.hidden):
            if is_zero(f.xreplace(problem.hidden)) is not False:
                raise _NoClosedForm(
                    f"the constant relation {sp.sstr(f.xreplace(problem.hidden))} = 0 "
                    "makes the generic solution invalid")


def _has_no_real_zero(f: sp.Expr) -> bool:
    """True for factors such as beta**2 + 1 that vanish nowhere on the reals (so they are not special)."""
    try:
        return bool(f.is_positive) or bool((-f).is_positive) or bool(sp.factor(f).is_positive)
    except Exception:  # noqa: BLE001
        return False


def _sorted_special(special: dict, params: tuple) -> dict:
    return {p: dict(sorted(v.items(), key=lambda kv: _value_key(kv[0])))
            for p, v in sorted(special.items(), key=lambda kv: params.index(kv[0]))}


def _special_values(system: System, problem: _Problem, points: list[FixedPoint], candidates: list,
                    notes: list, special: dict) -> None:
    """Fill ``special`` with {param: {value: reason}} (in place, so a timeout keeps what was found)."""
    state = problem.state
    factors = list(candidates)
    exact_points = [p for p in points if p.coordinates is not None]
    for p in exact_points:
        for c in p.coordinates:
            factors += _param_factors(sp.factor(sp.denom(sp.together(c))), state)
            for base in _radicands(c):
                factors += _zero_factors(base, state)
    for a, b in itertools.combinations(exact_points, 2):
        for ca, cb in zip(a.coordinates, b.coordinates):
            difference = ca - cb
            if difference.free_symbols and is_zero(difference) is not True:
                factors += _zero_factors(difference, state)
                break
    for p in exact_points:
        for comp in points:
            if comp.coordinates is None and comp.equations:
                for g in comp.equations:
                    factors += _zero_factors(g.xreplace(p.as_dict()), state)
    pairs = []
    seen = set()
    for f in factors:
        f = sp.factor(f)
        if f in seen or -f in seen:
            continue
        seen.add(f)
        if f.free_symbols & set(problem.hidden) or not f.free_symbols:
            continue
        found = _values_from_factor(f, problem.params)
        if not found and not _has_no_real_zero(f):
            notes.append(f"the parameter relation {sp.sstr(f)} = 0 may be special too (not solved for a parameter)")
        for param, value in found:
            if _allowed(param, value) and (param, value) not in pairs:
                pairs.append((param, value))
    generic = _signature(points)
    if generic[2]:
        # Sets without a closed form: their points cannot be counted, so only new components are reported.
        # In one variable, a repeated root (discriminant zero) is a collision of fixed points.
        for piece in points:
            if piece.coordinates is None and piece.dimension == 0 and system.dim == 1 and len(piece.equations) == 1:
                p = piece.equations[0]
                disc = sp.discriminant(p, state[0])
                for f in _param_factors(sp.factor(disc), state):
                    for param, value in _values_from_factor(f, problem.params):
                        if _allowed(param, value) and value.is_real is not False:
                            kind = "fixed points" if isinstance(system, Map) else "equilibria"
                            special.setdefault(param, {})[value] = (
                                f"{sp.sstr(p)} = 0 has a repeated root: two {kind} collide")
        notes.append("special values where points without a closed form collide are found only in one variable")
    for param, value in pairs:
        try:
            specialised = system.subs({param: value})
        except DsAnalyzeError:
            continue
        try:
            sub_problem = _prepare(specialised)
            sub_pieces, _, _ = _solve(sub_problem)
            sub_points = _to_fixed_points(specialised, sub_problem, sub_pieces)
            reason = _reason(system, points, sub_points, param, value, generic)
        except (_NoClosedForm, *_SYMPY_FAILURES):
            notes.append(f"{param} = {sp.sstr(value)} could not be checked")
            continue
        if generic[2] and not reason.startswith(("every point", "a ")) and "component appears" not in reason:
            continue
        if reason:
            special.setdefault(param, {})[value] = reason


def _value_key(value):
    try:
        return (0, float(value), "")
    except TypeError:
        return (1, 0.0, sp.sstr(value))


def _signature(points) -> tuple[int, tuple[int, ...], int]:
    n_points = sum(1 for p in points if p.coordinates is not None)
    implicit = sum(1 for p in points if p.coordinates is None and p.dimension == 0)
    dims = tuple(sorted(p.dimension for p in points if p.coordinates is None and p.dimension > 0))
    return n_points, dims, implicit


def _label(point: FixedPoint, index: int) -> str:
    text = point.text()
    return text if len(text) <= 60 else f"point {index + 1} of the list"


def _reason(system, generic_points, special_points, param, value, generic) -> str:
    """Why the fixed-point set at ``param = value`` differs from the generic one ('' if it does not)."""
    n = system.dim
    is_map = isinstance(system, Map)
    word, words = ("fixed point", "fixed points") if is_map else ("equilibrium", "equilibria")
    g_points, g_dims, g_implicit = generic
    s_points, s_dims, s_implicit = _signature(special_points)
    if s_dims and max(s_dims) > max(g_dims, default=-1):
        d = max(s_dims)
        if d == n:
            return f"every point is {'fixed' if is_map else 'an equilibrium'}"
        comp = next(p for p in special_points if p.coordinates is None and p.dimension == d)
        return f"a {d}-dimensional set of {words} appears ({comp.text()})"
    details = []
    generic_components = [
        {sp.expand(sp.numer(sp.together(e.xreplace({param: value})))) for e in p.equations}
        for p in generic_points if p.coordinates is None and p.dimension > 0
    ]
    for p in special_points:
        if p.coordinates is None and p.dimension > 0:
            eqs = {sp.expand(e) for e in p.equations}
            if not any(eqs == g or {sp.expand(-e) for e in eqs} == g for g in generic_components):
                details.append(f"a new {p.dimension}-dimensional component appears ({p.text()})")
    if (s_points, s_dims, s_implicit) == generic and not details:
        return ""
    exact = [p for p in generic_points if p.coordinates is not None]
    substituted = []
    for k, p in enumerate(exact):
        undefined = any(is_zero(sp.denom(sp.together(c)).xreplace({param: value})) is True for c in p.coordinates)
        if undefined:
            details.append(f"{_label(p, k)} is undefined")
            substituted.append(None)
        else:
            substituted.append([sp.together(c).xreplace({param: value}) for c in p.coordinates])
    clusters: list[list[int]] = []
    for i, a in enumerate(substituted):
        if a is None:
            continue
        for cluster in clusters:
            b = substituted[cluster[0]]
            if all(is_zero(x - y) is True for x, y in zip(a, b)):
                cluster.append(i)
                break
        else:
            clusters.append([i])
    for cluster in clusters:
        if len(cluster) > 1:
            names = [_label(exact[i], i) for i in cluster]
            details.append(f"{', '.join(names[:-1])} and {names[-1]} coincide")
    if s_points != g_points:
        details.append(f"{s_points} {word if s_points == 1 else words} instead of {g_points}")
    return "; ".join(details) if details else f"the set of {words} changes"


# ============================================================================================
# Numeric fallback: damped Newton with deflation on the compiled kernels
# ============================================================================================
def _defect_functions(system: System, kernel_params: dict[str, float]):
    from ..numeric.orbits import evaluate_jacobian, evaluate_rhs

    is_map = isinstance(system, Map)
    identity = np.eye(system.dim)

    def G(X):
        with np.errstate(all="ignore"):
            out = evaluate_rhs(system, X, kernel_params, threads=1)
            return out - X if is_map else out

    def J(X):
        with np.errstate(all="ignore"):
            out = evaluate_jacobian(system, X, kernel_params, threads=1)
            return out - identity if is_map else out

    return G, J


def _start_points(dim: int, count: int, box: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half uniform in the box, half at log-uniform radii in random directions (small and large roots)."""
    half = count // 2
    uniform = rng.uniform(-1.0, 1.0, size=(half, dim)) * box
    directions = rng.normal(size=(count - half, dim))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = np.exp(rng.uniform(np.log(1e-3), 0.0, size=(count - half, 1)))
    return np.vstack([uniform, directions * radii * box])


def _newton(G, J, X: np.ndarray, roots: np.ndarray, *, max_iter: int = 60, limit: float = 1e12,
            sigma: float = 1.0, power: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton (minimum-norm steps) on a batch, deflated by ``roots``; (X, converged mask).

    A row stops when its residual is at the level of rounding, when a step no
    longer moves it, when it leaves ``|x| < limit``, or after three iterations
    in a row without a decrease of the (deflated) residual.
    """
    X = X.copy()
    n = X.shape[0]
    active = np.ones(n, bool)
    converged = np.zeros(n, bool)
    stalls = np.zeros(n, int)

    def merit(Y, g):
        value = np.abs(g).max(axis=1)
        if roots.shape[0]:
            d2 = ((Y[:, None, :] - roots[None, :, :]) ** 2).sum(axis=-1)
            with np.errstate(all="ignore"):
                value = value * np.prod(1.0 / np.maximum(d2, 1e-300) ** (power / 2) + sigma, axis=1)
        return value

    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        x = X[idx]
        g = G(x)
        j = J(x)
        finite = np.isfinite(g).all(axis=1) & np.isfinite(j).all(axis=(1, 2))
        active[idx[~finite]] = False
        idx, x, g, j = idx[finite], x[finite], g[finite], j[finite]
        if idx.size == 0:
            break
        scale = np.maximum(1.0, np.abs(x).max(axis=1))
        done = np.abs(g).max(axis=1) <= 1e-14 * scale
        if done.any():
            converged[idx[done]] = True
            active[idx[done]] = False
            keep = ~done
            idx, x, g, j = idx[keep], x[keep], g[keep], j[keep]
            if idx.size == 0:
                break
        step = -np.einsum("kij,kj->ki", np.linalg.pinv(j, rcond=1e-13), g)
        if roots.shape[0]:
            diff = x[:, None, :] - roots[None, :, :]
            d2 = np.maximum((diff**2).sum(axis=-1), 1e-300)
            inv = d2 ** (-power / 2)
            grad_log = (-power * diff * (d2 ** (-power / 2 - 1))[..., None] / (inv + sigma)[..., None]).sum(axis=1)
            with np.errstate(all="ignore"):
                tau = 1.0 / (1.0 - (grad_log * step).sum(axis=1))
            tau = np.where(np.isfinite(tau), tau, 1.0)
            step = step * tau[:, None]
        current = merit(x, g)
        alpha = np.ones(idx.size)
        accepted = np.zeros(idx.size, bool)
        candidate = x + step
        for _ in range(8):
            todo = np.flatnonzero(~accepted)
            if todo.size == 0:
                break
            trial = x[todo] + alpha[todo, None] * step[todo]
            ok_rows = np.isfinite(trial).all(axis=1) & (np.abs(trial).max(axis=1) < limit)
            new_merit = np.full(todo.size, np.inf)
            if ok_rows.any():
                gt = G(trial[ok_rows])
                new_merit[ok_rows] = np.where(np.isfinite(gt).all(axis=1), merit(trial[ok_rows], gt), np.inf)
            good = new_merit < (1.0 - 1e-4 * alpha[todo]) * current[todo]
            candidate[todo[good]] = trial[good]
            accepted[todo[good]] = True
            alpha[todo[~good]] *= 0.5
        # No decrease even with a tiny step: take the tiny step anyway (a chance to leave a flat spot).
        stuck = ~accepted
        candidate[stuck] = x[stuck] + alpha[stuck, None] * step[stuck]
        stalls[idx[accepted]] = 0
        stalls[idx[stuck]] += 1
        active[idx[stalls[idx] >= 3]] = False
        small = np.abs(candidate - x).max(axis=1) <= 1e-15 * np.maximum(1.0, np.abs(x).max(axis=1))
        X[idx] = candidate
        bad = ~np.isfinite(candidate).all(axis=1) | (np.abs(candidate).max(axis=1) >= limit)
        active[idx[bad]] = False
        # A step that no longer moves the point ends the iteration; the polish decides.
        converged[idx[small & ~bad]] = True
        active[idx[small & ~bad]] = False
    return X, converged


def _polish(G, J, X: np.ndarray, steps: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A few plain Newton steps; (X, max-norm residuals)."""
    for _ in range(steps):
        if X.shape[0] == 0:
            break
        g = G(X)
        j = J(X)
        finite = np.isfinite(g).all(axis=1) & np.isfinite(j).all(axis=(1, 2))
        X = X[finite]
        g, j = g[finite], j[finite]
        step = np.einsum("kij,kj->ki", np.linalg.pinv(j, rcond=1e-13), g)
        trial = X - step
        gt = G(trial) if trial.shape[0] else g
        better = np.isfinite(gt).all(axis=1) & (np.abs(gt).max(axis=1) <= np.abs(g).max(axis=1))
        X = np.where(better[:, None], trial, X)
    residual = np.abs(G(X)).max(axis=1) if X.shape[0] else np.empty(0)
    return X, residual


def numeric_roots(system: System, kernel_params: dict[str, float], *, seed: int = 0,
                  box: float | Sequence[float] | None = None, starts: int | None = None,
                  deflation: bool = True, rounds: int = 6) -> tuple[np.ndarray, np.ndarray, dict]:
    """Fixed points found by multi-start damped Newton with deflation; (points, residuals, info).

    Every start runs in one vectorised batch on the compiled right-hand side
    and Jacobian; each round deflates the roots found so far (Farrell, Birkisson
    & Funke, SIAM J. Sci. Comput. 37, A2026 (2015): M(x) = prod_j
    (|x - r_j|^-2 + 1)) and starts again from the same points, until a round
    finds nothing new. Roots are polished with plain Newton steps, kept when
    their residual is at most 1e-12 * max(1, |x|) and merged when closer than
    1e-8 * max(1, |x|).
    """
    dim = system.dim
    rng = np.random.default_rng(seed)
    box_array = np.broadcast_to(np.asarray(10.0 if box is None else box, dtype=float), (dim,)).copy()
    count = int(starts) if starts is not None else 128 * dim
    G, J = _defect_functions(system, kernel_params)
    X0 = _start_points(dim, count, box_array, rng)
    roots = np.empty((0, dim))
    residuals = np.empty(0)
    singular = 0
    done_rounds = 0
    for round_index in range(rounds if deflation else 1):
        done_rounds += 1
        X, ok = _newton(G, J, X0, roots if deflation else np.empty((0, dim)), limit=1e3 * float(box_array.max()))
        X, residual = _polish(G, J, X[ok])
        scale = np.maximum(1.0, np.abs(X).max(axis=1)) if X.shape[0] else np.empty(0)
        good = residual <= 1e-12 * scale
        new = _distinct(X[good], 1e-8) if good.any() else np.empty((0, dim))
        if roots.shape[0] and new.shape[0]:
            distance = np.abs(new[:, None, :] - roots[None, :, :]).max(axis=-1)
            fresh = (distance > 1e-8 * np.maximum(1.0, np.abs(new).max(axis=1))[:, None]).all(axis=1)
            new = new[fresh]
        if new.shape[0] == 0:
            break
        roots = np.vstack([roots, new])
    if roots.shape[0]:
        roots, residuals = _polish(G, J, roots, steps=2)
        jac = J(roots)
        sv = np.linalg.svd(jac, compute_uv=False)
        singular = int((sv[:, -1] <= 1e-8 * np.maximum(1.0, sv[:, 0])).sum())
        order = np.lexsort(roots.T[::-1])
        roots, residuals = roots[order], residuals[order]
    info = {"starts": count, "box": box_array, "rounds": done_rounds, "singular": singular}
    return roots, residuals, info


def _numeric_set(system: System, values: dict, *, seed: int, box, starts, why: str) -> FixedPointSet:
    _require_all(system, values, "the numeric search for fixed points")
    kp = _kernel_params(values)
    roots, residuals, info = numeric_roots(system, kp, seed=seed, box=box, starts=starts)
    at = tuple((p, values[p]) for p in system.params)
    points = tuple(
        FixedPoint(system, tuple(sp.Float(float(c)) for c in row), basis=Basis.NUMERIC, residual=float(res), at=at)
        for row, res in zip(roots, residuals)
    )
    box_text = ", ".join(f"{b:g}" for b in np.unique(info["box"]))
    singular = (f" ({info['singular']} with a singular Jacobian: maybe on a curve of fixed points)"
                if info["singular"] else "")
    method = (
        f"numeric: damped Newton with deflation from {info['starts']} starts in [-{box_text}, {box_text}]^{system.dim} "
        f"(seed {seed}, {info['rounds']} round(s)) at {_where(values) or 'no parameters'}; found {len(points)}"
        f"{singular}; "
        f"max residual {float(residuals.max()) if len(points) else 0.0:.3g}; {why}"
    )
    return FixedPointSet(points, False, {}, method, system)


def _completeness_verdict(fps: FixedPointSet, params: Mapping, seed: int) -> Verdict:
    system = fps.system
    values = parameter_values(system, params)
    _require_all(system, values, "verify()")
    kp = _kernel_params(values)
    claim = f"these are all the fixed points of {system.name or 'the system'} at {_where(values) or 'these values'}"
    claimed = []
    for p in fps.points:
        if p.coordinates is None:
            continue
        if _truth(p.conditions.xreplace(values)) is False:
            continue
        try:
            row = [complex(sp.N(c.xreplace(values), 30)) for c in p.coordinates]
        except (TypeError, ValueError):
            continue
        if all(abs(z.imag) <= 1e-20 * max(1.0, abs(z.real)) for z in row):
            claimed.append([z.real for z in row])
    claimed = np.array(claimed).reshape(-1, system.dim)
    scale = max(10.0, 2.0 * float(np.abs(claimed).max()) if claimed.size else 0.0)
    roots, _, info = numeric_roots(system, kp, seed=seed, box=scale, starts=64 * system.dim, deflation=False)
    explained = np.zeros(roots.shape[0], bool)
    if claimed.shape[0] and roots.shape[0]:
        distance = np.abs(roots[:, None, :] - claimed[None, :, :]).max(axis=-1)
        explained |= (distance <= 1e-6 * np.maximum(1.0, np.abs(roots).max(axis=1))[:, None]).any(axis=1)
    for p in fps.points:
        if p.coordinates is not None or not roots.shape[0]:
            continue
        if not p.equations:
            explained[:] = True
            continue
        funcs = [sp.lambdify(system.state, sp.sympify(e).xreplace(values), "numpy") for e in p.equations]
        with np.errstate(all="ignore"):
            residual = np.max([np.abs(np.broadcast_to(np.asarray(f(*roots.T), float), (roots.shape[0],)))
                               for f in funcs], axis=0)
        scale_rows = np.maximum(1.0, np.abs(roots).max(axis=1)) ** 4
        explained |= residual <= 1e-7 * scale_rows
    unexplained = roots[~explained]
    return Verdict(
        claim, f"{len(claimed)} point(s) and {sum(1 for p in fps.points if p.coordinates is None)} component(s)",
        f"{roots.shape[0]} numeric root(s), {unexplained.shape[0]} not among the claimed",
        1e-6, bool(unexplained.shape[0] == 0), Basis.SAMPLED,
        evidence={"roots": roots, "unexplained": unexplained},
        note=(f"multi-start Newton from {info['starts']} seeded starts in [-{scale:g}, {scale:g}]^{system.dim} "
              f"(seed {seed})"),
    )
