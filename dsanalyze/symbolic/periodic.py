"""Periodic orbits of maps: F^k(x) = x with the lower periods divided out, exactly.

:func:`periodic_orbits` finds the orbits of least period k of a polynomial
map of dimension 1 or 2:

- dimension 1: the numerator of F^k(x) - x is factorised over Q(parameters);
  the irreducible factors that also divide the numerator of F^d(x) - x for a
  proper divisor d of k (the fixed points, the 2-cycles inside the 4-cycles,
  ...) are dropped; what is left has exactly the points of least period k;
- dimension 2: the common factor of the two equations (curves of periodic
  points, such as the curve uv = 1 of fixed points of the two-factor map) is
  split off, the rest is eliminated with a resultant, and each irreducible
  factor of the resultant is lifted back with a lex Groebner basis; factors
  whose points have a lower period, or lie on a curve component, are dropped.

Roots are given in closed form where SymPy finds them (radicals, nested square
roots denested where possible) and grouped into orbits; which roots form an
orbit is decided on each interval of the parameter where the points are real
and distinct (there the permutation of the roots by F cannot change). The
multiplier (the product of the Jacobians along the orbit) is reduced modulo the
equations of the orbit, which gives it as a rational function of the
parameters without radicals, e.g. 4 + 2r - r^2 for the 2-cycle of the logistic
map.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DimensionError, DsAnalyzeError, ExpressionError, ParameterError
from ..systems import Map, System
from ..verify import Basis, Verdict
from .budget import time_limit
from .intervals import domain_of, latex_region, solve_region

__all__ = ["PeriodicOrbit", "periodic_orbits"]


# ---------------------------------------------------------------------------
# Helpers shared by the modules periodic, invariants and curves
# ---------------------------------------------------------------------------

class _Budget:
    """One time budget for a whole derivation, spent step by step.

    ``with budget("factorising"):`` runs the block under the time left; past
    it, :class:`~dsanalyze.errors.SymbolicTimeout` names the derivation and the step.
    """

    def __init__(self, seconds: float | None, what: str):
        self.seconds = seconds
        self.what = what
        self.deadline = None if seconds is None or seconds <= 0 else time.monotonic() + seconds

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        if self.deadline is None:
            yield
            return
        left = max(self.deadline - time.monotonic(), 1e-3)
        with time_limit(left, f"{self.what}: {step}"):
            yield


def _require(system: Any, kind: type | tuple, what: str) -> None:
    if not isinstance(system, System):
        raise TypeError(f"{what} needs a dsanalyze Map or Flow, got {type(system).__name__}")
    if not isinstance(system, kind):
        wanted = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DsAnalyzeError(f"{what} needs a {wanted}; {system.name or 'this system'} is a {system.kind}")


def _parse(system: System, expr: Any, what: str) -> sp.Expr:
    """An expression in the system's state and parameters (text parsed safely)."""
    from ..expressions import as_expression, parse_expression
    from ..systems import _unify

    known = system._symbol_map()
    if isinstance(expr, str):
        value = parse_expression(expr, known, allow_new_symbols=False)
    else:
        value = as_expression(expr, known)
    value = _unify(sp.sympify(value), known)
    extra = value.free_symbols - set(system.state) - set(system.params)
    if extra:
        from ..errors import UnknownSymbolError

        raise UnknownSymbolError(
            f"{what} uses {', '.join(sorted(map(str, extra)))}, which is neither a state variable "
            f"({', '.join(map(str, system.state))}) nor a parameter ({', '.join(map(str, system.params)) or 'none'})"
        )
    return value


def _polynomial_rhs(system: System, what: str) -> tuple[list[sp.Expr], sp.Expr]:
    """Right-hand sides as polynomials over a common denominator D (a polynomial; 1 for polynomial systems)."""
    numerators, denominators = [], []
    for r in system.rhs:
        n, d = sp.fraction(sp.together(r))
        for part in (n, d):
            if not part.is_polynomial(*system.state):
                raise ExpressionError(
                    f"{what} needs a polynomial or rational right-hand side in {', '.join(map(str, system.state))}; "
                    f"{r} is neither"
                )
        numerators.append(n)
        denominators.append(d)
    common = sp.lcm_list(denominators) if any(d.has(*system.state) for d in denominators) else sp.Integer(1)
    if common == 1:
        return [sp.expand(r) for r in system.rhs], sp.Integer(1)
    return [sp.expand(sp.cancel(r * common)) for r in system.rhs], sp.expand(common)


def _parameter_rows(system: System, values: Mapping[str, Any]) -> list[dict[sp.Symbol, float]]:
    """Parameter value sets (lists broadcast) as ``{symbol: float}`` rows; defaults fill in."""
    from ..numeric.arguments import parameter_matrix

    matrix = parameter_matrix(system, dict(values), None)
    return [dict(zip(system.params, map(float, row))) for row in matrix]


def _exact_values(row: Mapping[sp.Symbol, float]) -> dict[sp.Symbol, sp.Expr]:
    """Float parameter values as exact rationals (so SymPy evaluates without cancellation surprises)."""
    return {k: sp.Rational(repr(float(v))) if math.isfinite(v) else sp.Float(float(v)) for k, v in row.items()}


def _format_row(row: Mapping[sp.Symbol, float]) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in row.items()) or "no parameters"


def _nice(expr: sp.Expr) -> sp.Expr:
    """The shorter of the expanded and the factored form of a rational function."""
    expr = sp.cancel(sp.together(expr))
    candidates = [sp.factor(expr)]
    numerator, denominator = sp.fraction(expr)
    if denominator.is_number:
        candidates.append(sp.expand(expr))
    return min(candidates, key=lambda e: (sp.count_ops(e), len(str(e))))


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodicOrbit:
    """An orbit of least period k of a map, with its multiplier(s) and where it exists.

    Attributes
    ----------
    system : Map
        The map.
    period : int
        The least period k.
    points : tuple of tuple of Expr, or None
        The k points in orbit order (``points[i+1] = F(points[i])``), exact;
        None when the roots have no closed form (then ``equations`` define them).
    multiplier : Expr or None
        For a 1-D map: the product F'(x_0) ... F'(x_{k-1}), simplified. None in 2-D.
    trace, determinant : Expr or None
        For a 2-D map: trace and determinant of the monodromy matrix
        DF(x_{k-1}) ... DF(x_0). None in 1-D.
    multipliers : tuple of Expr or None
        The eigenvalues of the monodromy matrix (1-D: ``(multiplier,)``).
    existence : sympy Boolean or None
        Condition on the parameters under which the points are real and
        distinct (and this grouping of the roots into an orbit holds); None if
        it could not be derived.
    stability : sympy Boolean or None
        Condition for every multiplier to lie inside the unit circle
        (|multiplier| < 1 in 1-D; Jury: |det| < 1 and |tr| < 1 + det in 2-D).
    equations : tuple of Expr
        Polynomials in the state (and the parameters) whose common zeros are
        the orbit together with its algebraic conjugates: the factor of
        F^k(x) - x it comes from.
    basis : Basis
        ``PROVED``: derived exactly.
    note : str
        How the result was obtained, and any caveat.

    Examples
    --------
    >>> import sympy as sp
    >>> import dsanalyze as ds
    >>> F = ds.models.logistic()
    >>> r = F.params[0]
    >>> (orbit,) = periodic_orbits(F, 2)
    >>> orbit.multiplier
    -r**2 + 2*r + 4
    >>> orbit.stability_region(r, sp.Interval.open(0, sp.oo))
    Interval.open(3, 1 + sqrt(6))
    >>> orbit.verify(r=3.2).passed
    True
    """

    system: Map
    period: int
    points: tuple[tuple[sp.Expr, ...], ...] | None
    multiplier: sp.Expr | None = None
    trace: sp.Expr | None = None
    determinant: sp.Expr | None = None
    multipliers: tuple[sp.Expr, ...] | None = None
    existence: sp.Basic | None = None
    stability: sp.Basic | None = None
    equations: tuple[sp.Expr, ...] = ()
    basis: Basis = Basis.PROVED
    note: str = ""

    # ---- regions in one parameter --------------------------------------------
    def _one_parameter(self, condition: sp.Basic, param: Any, values: Mapping[str, Any]) -> sp.Basic:
        param = self._param(param)
        fixed = {}
        for name, value in values.items():
            symbol = self.system.symbol(name)
            if symbol not in self.system.params:
                raise ParameterError(f"{name} is not a parameter of {self.system.name or 'the system'}")
            fixed[symbol] = sp.nsimplify(value) if not isinstance(value, sp.Basic) else value
        condition = condition.xreplace(fixed)
        others = condition.free_symbols - {param}
        if others:
            raise ParameterError(
                f"the condition also depends on {', '.join(sorted(map(str, others)))}; give their values, "
                f"e.g. stability_region({param}, {sorted(map(str, others))[0]}=1)"
            )
        return condition

    def _param(self, param: Any) -> sp.Symbol:
        if isinstance(param, str):
            param = self.system.symbol(param)
        if param not in self.system.params:
            raise ParameterError(
                f"{param} is not a parameter of {self.system.name or 'the system'}; "
                f"parameters: {', '.join(map(str, self.system.params)) or 'none'}"
            )
        return param

    def existence_region(self, param: Any, domain: sp.Set | None = None, **values: Any) -> sp.Set:
        """The values of ``param`` (in ``domain``, by default where its assumptions put it, e.g.
        (0, oo) for a positive symbol) where the orbit is real with distinct points.

        Other parameters are fixed by ``values``. Raises :class:`ParameterError`
        if the existence condition was not derived.
        """
        if self.existence is None:
            raise ParameterError("the existence condition of this orbit was not derived (see .note)")
        param = self._param(param)
        domain = domain_of(param) if domain is None else domain
        return solve_region(self._one_parameter(self.existence, param, values), param, domain)

    def stability_region(self, param: Any, domain: sp.Set | None = None, **values: Any) -> sp.Set:
        """The values of ``param`` (in ``domain``, by default where its assumptions put it) where
        the orbit exists and is stable, exactly.

        Solves ``stability`` and ``existence`` with
        :func:`~dsanalyze.symbolic.intervals.solve_region`.

        Examples
        --------
        >>> import sympy as sp
        >>> import dsanalyze as ds
        >>> F = ds.models.logistic()
        >>> periodic_orbits(F, 2)[0].stability_region("r")
        Union(Interval.open(3, 1 + sqrt(6)), Interval.open(1 - sqrt(6), -1))
        """
        if self.stability is None:
            raise ParameterError("the multipliers of this orbit have no closed form; no stability condition (see .note)")
        param = self._param(param)
        condition = self.stability if self.existence is None else sp.And(self.stability, self.existence)
        domain = domain_of(param) if domain is None else domain
        return solve_region(self._one_parameter(condition, param, values), param, domain)

    # ---- display ----------------------------------------------------------------
    def latex(self) -> str:
        """The orbit, its multiplier(s), and where it exists and is stable, as LaTeX."""
        names = [sp.latex(s) for s in self.system.state]
        lines = []
        if self.points is not None:
            if self.system.dim == 1:
                pts = ",\\ ".join(sp.latex(p[0]) for p in self.points)
                lines.append(f"{names[0]} \\in \\left\\{{{pts}\\right\\}}")
            else:
                pts = ",\\ ".join("\\left(" + ", ".join(sp.latex(c) for c in p) + "\\right)" for p in self.points)
                lines.append(f"({', '.join(names)}) \\in \\left\\{{{pts}\\right\\}}")
        else:
            lines.append(",\\ ".join(f"{sp.latex(e)} = 0" for e in self.equations))
        if self.multiplier is not None:
            lines.append(f"\\lambda = {sp.latex(self.multiplier)}")
        elif self.trace is not None:
            lines.append(f"\\operatorname{{tr}} M = {sp.latex(self.trace)},\\ \\det M = {sp.latex(self.determinant)}")
        if len(self.system.params) == 1:
            (p,) = self.system.params
            for label, method in (("exists", self.existence_region), ("stable", self.stability_region)):
                try:
                    region = method(p)
                except (ParameterError, ValueError, NotImplementedError):
                    continue
                lines.append(f"\\text{{{label} for no value of }} {sp.latex(p)}" if region is sp.S.EmptySet
                             else f"\\text{{{label} for }} {latex_region(region, p)}")
        body = " \\\\\n".join(lines)
        return f"\\text{{period-{self.period} orbit}} \\\\\n{body}"

    def _repr_latex_(self) -> str:
        return "$\\displaystyle \\begin{gathered}" + self.latex() + "\\end{gathered}$"

    # ---- numeric check ------------------------------------------------------------
    def numeric_points(self, **params: Any) -> np.ndarray:
        """The points at one set of parameter values, as a complex array of shape (k, dim)."""
        rows = _parameter_rows(self.system, params)
        if len(rows) != 1:
            raise ParameterError("numeric_points takes one value per parameter")
        if self.points is None:
            raise ParameterError("this orbit has no closed-form points (see .equations)")
        exact = _exact_values(rows[0])
        return np.array(
            [[complex(sp.N(c.xreplace(exact), 30)) for c in point] for point in self.points], dtype=complex
        )

    def verify(self, *, tolerance: float = 1e-12, **params: Any) -> Verdict:
        """Check the orbit with the compiled map at the given parameter values (lists allowed).

        At each parameter set where ``existence`` holds, the points must be
        real, the compiled map must carry each point to the next and return to
        the first after k steps (:func:`dsanalyze.trajectory`) within
        ``tolerance`` relative to max(1, |x|), and the product of compiled
        Jacobians along the orbit must match the multiplier (trace and
        determinant in 2-D) to 1e-9 relative. Where ``existence`` fails, the
        points must not be real and distinct. Basis NUMERIC.
        """
        from ..numeric.orbits import evaluate_jacobian, trajectory

        claim = f"period-{self.period} orbit of {self.system.name or 'the map'}"
        if self.points is None and not (self.system.dim == 1 and self.multiplier is not None and self.equations):
            return Verdict.unchecked(claim, self._predicted(), "the orbit has no closed-form points to iterate")
        rows = _parameter_rows(self.system, params)
        worst_return, worst_multiplier = 0.0, 0.0
        failures: list[str] = []
        orbit_evidence, checked = [], 0
        for row in rows:
            exact = _exact_values(row)
            claimed = None
            if self.existence is not None:
                value = self.existence.xreplace(exact)
                claimed = bool(value) if value in (sp.true, sp.false) else None
            if self.points is None:
                points = self._numeric_orbit(exact)
                if points is None:
                    if claimed:
                        failures.append(f"no real orbit with the predicted multiplier at {_format_row(row)}, where one is claimed")
                    continue
                if claimed is False:
                    failures.append(f"a real orbit with the predicted multiplier exists at {_format_row(row)}, where none is claimed")
                    continue
            else:
                try:
                    points = self.numeric_points(**{k.name: v for k, v in row.items()})
                except (ZeroDivisionError, TypeError, ValueError):
                    failures.append(f"the points are undefined at {_format_row(row)}")
                    continue
                real = bool(
                    np.all(np.isfinite(points)) and np.all(np.abs(points.imag) <= 1e-12 * np.maximum(1, np.abs(points)))
                )
                distinct = real and min(
                    (np.max(np.abs(points[i].real - points[j].real)) for i in range(len(points)) for j in range(i)),
                    default=np.inf,
                ) > 1e-9 * max(1.0, float(np.max(np.abs(points))))
                if claimed is False:
                    if real and distinct and self._is_orbit(points.real, row, tolerance):
                        failures.append(
                            f"the formulas give a real orbit at {_format_row(row)}, where the orbit is claimed not to exist"
                        )
                    continue
                if not (real and distinct):
                    failures.append(f"the points are not real and distinct at {_format_row(row)}")
                    continue
            checked += 1
            x = points.real
            scale = max(1.0, float(np.max(np.abs(x))))
            path = trajectory(self.system, x[0], self.period, **{k.name: v for k, v in row.items()})
            expected = np.vstack([x, x[:1]])
            error = float(np.max(np.abs(path - expected))) / scale if np.all(np.isfinite(path)) else np.inf
            worst_return = max(worst_return, error)
            orbit_evidence.append(path)
            if not error <= tolerance:
                failures.append(f"the compiled map misses the orbit by {error:.3g} (relative) at {_format_row(row)}")
            jacobians = evaluate_jacobian(self.system, x, {k.name: v for k, v in row.items()})
            monodromy = np.eye(self.system.dim)
            for J in jacobians:
                monodromy = J @ monodromy
            if self.system.dim == 1:
                targets = [(monodromy[0, 0], self.multiplier)]
            else:
                targets = [(np.trace(monodromy), self.trace), (np.linalg.det(monodromy), self.determinant)]
            for measured, predicted in targets:
                if predicted is None:
                    continue
                value = complex(sp.N(predicted.xreplace(exact), 30))
                gap = abs(measured - value) / max(1.0, abs(value))
                worst_multiplier = max(worst_multiplier, gap)
                if not gap <= 1e-9:
                    failures.append(
                        f"multiplier mismatch at {_format_row(row)}: compiled Jacobians give {measured:.12g}, "
                        f"predicted {value.real:.12g}"
                    )
        evidence = {"orbits": np.array(orbit_evidence)} if orbit_evidence else {}
        if checked == 0 and not failures:
            return Verdict.unchecked(claim, self._predicted(), "the orbit does not exist at any of the given parameter values")
        note = "; ".join(failures) if failures else f"checked at {checked} parameter set(s)"
        return Verdict(
            claim, self._predicted(), {"return error": worst_return, "multiplier error": worst_multiplier},
            tolerance, not failures, Basis.NUMERIC, evidence, note,
        )

    def _is_orbit(self, x: np.ndarray, row, tolerance: float) -> bool:
        from ..numeric.orbits import trajectory

        path = trajectory(self.system, x[0], self.period, **{k.name: v for k, v in row.items()})
        scale = max(1.0, float(np.max(np.abs(x))))
        return bool(np.all(np.isfinite(path)) and np.max(np.abs(path - np.vstack([x, x[:1]]))) <= tolerance * scale)

    def _numeric_orbit(self, exact: Mapping[sp.Symbol, sp.Expr]) -> np.ndarray | None:
        """1-D without closed forms: the real orbit among the roots of the factor whose multiplier is predicted."""
        import mpmath

        (x,) = self.system.state
        poly = sp.Poly(self.equations[0].xreplace(exact), x)
        if poly.degree() < 1:
            return None
        with mpmath.workdps(_DIGITS):
            try:
                roots = mpmath.polyroots([mpmath.mpf(c.p) / c.q for c in map(sp.Rational, poly.all_coeffs())],
                                         maxsteps=400, extraprec=200)
            except mpmath.libmp.libhyper.NoConvergence:
                return None
            real = [mpmath.re(z) for z in roots if abs(mpmath.im(z)) < mpmath.mpf(10) ** (-25) * max(1, abs(z))]
            step = _mp_evaluator([self.system.rhs[0], sp.diff(self.system.rhs[0], x)], (x, *self.system.params))
            parameters = [mpmath.mpf(exact[p].p) / exact[p].q for p in self.system.params]
            target = complex(sp.N(self.multiplier.xreplace(exact), _DIGITS))
            for start in real:
                point, product, orbit = start, mpmath.mpf(1), []
                for _ in range(self.period):
                    orbit.append(point)
                    image, slope = step(point, *parameters)
                    product *= slope
                    point = mpmath.re(image)
                if abs(point - start) > mpmath.mpf(10) ** (-20) * max(1, abs(start)):
                    continue
                if abs(complex(product) - target) <= 1e-9 * max(1.0, abs(target)):
                    return np.array([[complex(v)] for v in orbit])
        return None

    def _predicted(self) -> str:
        pts = "none" if self.points is None else "; ".join("(" + ", ".join(map(sp.sstr, p)) + ")" for p in self.points)
        mult = self.multiplier if self.multiplier is not None else (self.trace, self.determinant)
        return f"points {pts}; multiplier {mult}"


# ---------------------------------------------------------------------------
# The derivation
# ---------------------------------------------------------------------------

def _divisors(k: int) -> list[int]:
    return [d for d in range(1, k) if k % d == 0]


def _numerators(system: Map, k: int) -> list[sp.Expr]:
    """Numerators of F^k(x) - x, one per state variable, expanded."""
    out = []
    for image, x in zip(system.compose(k).rhs, system.state):
        numerator, _ = sp.fraction(sp.together(image - x))
        out.append(sp.expand(numerator))
    return out


def _domain(system: System):
    return sp.QQ.frac_field(*system.params) if system.params else sp.QQ


def _sample_points(condition: sp.Basic, params: Sequence[sp.Symbol], seed: int = 1):
    """Parameter values where ``condition`` holds, and for one parameter the region it holds on.

    Returns ``(samples, region)``: with one parameter, one ``({p: value}, interval)``
    per interval of the region; otherwise a few random ``(values, None)`` and
    region None.
    """
    if not params:
        return ([({}, None)] if condition is not sp.false else []), None
    if len(params) == 1:
        (p,) = params
        try:
            region = _region(condition, p)
        except (ValueError, NotImplementedError, TypeError):
            region = None
        if isinstance(region, (sp.Interval, sp.Union)) or region is sp.S.EmptySet:
            parts = region.args if isinstance(region, sp.Union) else ((region,) if isinstance(region, sp.Interval) else ())
            samples = []
            for part in parts:
                if not isinstance(part, sp.Interval) or part.measure == 0:
                    continue
                samples.append(({p: _inside(part)}, part))
            return samples, region
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(400):
        values = {p: sp.Rational(int(rng.integers(-400, 401)), 100) for p in params}
        try:
            holds = condition.xreplace(values)
        except TypeError:
            continue
        if holds is sp.true:
            found.append((values, None))
            if len(found) >= 3:
                break
    return found, None


def _region(condition: sp.Basic, param: sp.Symbol, memo: dict | None = None) -> sp.Set:
    """:func:`solve_region` on each distinct atom once, combined with set operations."""
    memo = {} if memo is None else memo
    if condition in (sp.true, sp.false):
        return sp.S.Reals if condition is sp.true else sp.S.EmptySet
    if isinstance(condition, sp.And):
        result = sp.S.Reals
        for arg in sorted(condition.args, key=sp.default_sort_key):
            result = sp.Intersection(result, _region(arg, param, memo))
            if result is sp.S.EmptySet:
                break
        return result
    if isinstance(condition, sp.Or):
        return sp.Union(*(_region(arg, param, memo) for arg in condition.args))
    if condition not in memo:
        memo[condition] = solve_region(condition, param)
    return memo[condition]


def _relational(region: sp.Set, param: sp.Symbol) -> sp.Basic:
    """A union of intervals and points as a condition, without the infinite ends (r > 3, not r < oo)."""
    if region is sp.S.EmptySet:
        return sp.false
    parts = region.args if isinstance(region, sp.Union) else (region,)
    pieces = []
    for part in parts:
        if isinstance(part, sp.Interval):
            terms = []
            if part.start != -sp.oo:
                terms.append((sp.StrictLessThan if part.left_open else sp.LessThan)(part.start, param))
            if part.end != sp.oo:
                terms.append((sp.StrictLessThan if part.right_open else sp.LessThan)(param, part.end))
            pieces.append(sp.And(*terms) if terms else sp.true)
        elif isinstance(part, sp.FiniteSet):
            pieces.extend(sp.Eq(param, v) for v in part.args)
        else:
            return region.as_relational(param)
    return sp.Or(*pieces)


def _inside(interval: sp.Interval) -> sp.Rational:
    """A simple rational number strictly inside an open interval."""
    lo, hi = interval.start, interval.end
    if lo == -sp.oo and hi == sp.oo:
        return sp.Rational(1, 3)
    if lo == -sp.oo:
        return sp.floor(hi) - 1
    if hi == sp.oo:
        return sp.floor(lo) + 1
    a, b = float(lo), float(hi)
    for denominator in (1, 2, 4, 8, 16, 64, 256, 4096, 2**20, 2**40):
        candidate = sp.Rational(math.floor((a + b) / 2 * denominator), denominator)
        if interval.contains(candidate) is sp.true and candidate != lo and candidate != hi:
            return candidate
    return sp.nsimplify((a + b) / 2, rational=True)


def _radicands(expr: sp.Expr) -> list[sp.Pow]:
    """The square roots (and their odd powers) inside an expression."""
    return [
        p for p in sp.preorder_traversal(expr)
        if isinstance(p, sp.Pow) and p.exp.is_Rational and p.exp.q == 2
    ]


def _positive(expr: sp.Expr) -> sp.Basic:
    """``expr > 0`` without radicals when expr = a + b*sqrt(c) (a, b, c free of radicals), else as is.

    For c >= 0: a + b sqrt(c) > 0 iff (a > 0 and b >= 0) or (a > 0 and a^2 > b^2 c)
    or (b > 0 and b^2 c > a^2).
    """
    expr = sp.radsimp(sp.together(expr))
    roots = [sp.sqrt(p.base) for p in _radicands(expr)]
    if not roots:
        return sp.StrictGreaterThan(sp.factor(expr), 0)
    inner = {r for r in roots if not any(q != r and r.has(q) for q in roots)}
    if len(inner) != 1 or any(_radicands(r.base) for r in inner):
        return sp.StrictGreaterThan(expr, 0)
    (root,) = inner
    s = sp.Dummy("s")
    linear = sp.expand(sp.together(expr.subs(root, s)))
    numerator, denominator = sp.fraction(sp.together(linear))
    if sp.Poly(numerator, s).degree() > 1 or denominator.has(s):
        return sp.StrictGreaterThan(expr, 0)
    b, a = sp.Poly(numerator, s).all_coeffs() if sp.Poly(numerator, s).degree() == 1 else (sp.Integer(0), numerator)
    c = root.base
    # sign of the denominator: multiply through by it squared
    a, b = sp.expand(a * denominator), sp.expand(b * denominator)
    first = sp.And(sp.StrictGreaterThan(a, 0), sp.GreaterThan(b, 0))
    second = sp.And(sp.StrictGreaterThan(a, 0), sp.StrictGreaterThan(sp.factor(a**2 - b**2 * c), 0))
    third = sp.And(sp.StrictGreaterThan(b, 0), sp.StrictGreaterThan(sp.factor(b**2 * c - a**2), 0))
    return sp.Or(first, second, third)


def _reality_conditions(points: Sequence[Sequence[sp.Expr]]) -> list[sp.Basic]:
    """Conditions for every square root in the points to be real (radicands > 0)."""
    conditions = []
    seen = set()
    for point in points:
        for coordinate in point:
            for root in _radicands(coordinate):
                if root.base in seen:
                    continue
                seen.add(root.base)
                conditions.append(_positive(root.base))
            for atom in sp.preorder_traversal(coordinate):
                if isinstance(atom, sp.Pow) and atom.exp.is_Rational and not atom.exp.is_integer and atom.exp.q != 2:
                    raise _NoReality()
                if atom.has(sp.I) or isinstance(atom, (sp.CRootOf, sp.RootSum)):
                    raise _NoReality()
    return conditions


class _NoReality(Exception):
    """The points involve radicals other than square roots: reality is not read off radicands."""


def _denest(expr: sp.Expr, sample: Mapping[sp.Symbol, sp.Expr], piece: sp.Interval | None, param) -> sp.Expr:
    """Denest sqrt(a + b sqrt(c)) = sqrt((a + d)/2) + sgn(b) sqrt((a - d)/2), d = sqrt(a^2 - b^2 c).

    Only where d is a rational function h (a^2 - b^2 c a perfect square) and
    neither h nor b has a zero or a pole on ``piece`` (an interval of the one
    parameter ``param``): there the signs taken at ``sample`` hold throughout.
    """
    if piece is None:
        return expr

    def constant_sign(f: sp.Expr) -> bool:
        numerator, denominator = sp.fraction(sp.together(f))
        for part in (numerator, denominator):
            if part.has(param) and sp.solveset(part, param, piece) is not sp.S.EmptySet:
                return False
        return True

    def rewrite(node):
        if isinstance(node, sp.Pow) and node.exp == sp.Rational(1, 2):
            inner = set(_radicands(node.base))
            if len(inner) == 1:
                (root,) = inner
                s = sp.Dummy("s")
                linear = sp.expand(node.base.subs(root, s))
                if root.exp == sp.Rational(1, 2) and linear.is_polynomial(s) and sp.Poly(linear, s).degree() == 1:
                    b, a = sp.Poly(linear, s).all_coeffs()
                    h = _square_root_rational(sp.factor(a**2 - b**2 * root.base), sample)
                    if h is not None and constant_sign(h) and constant_sign(b):
                        sign_b = sp.sign(sp.N(b.xreplace(sample)))
                        return sp.sqrt(sp.factor((a + h) / 2)) + sign_b * sp.sqrt(sp.factor((a - h) / 2))
        return node

    return _tidy(_bottom_up(expr, rewrite))


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Square roots of factored radicands, expanded: sqrt(1 + 2/mu) -> sqrt((mu + 2)/mu)."""
    def rewrite(node):
        if isinstance(node, sp.Pow) and node.exp.is_Rational and node.exp.q == 2:
            return sp.Pow(sp.factor(sp.together(node.base)), node.exp)
        return node

    rewritten = _bottom_up(expr, rewrite)
    return min((rewritten, sp.expand_mul(rewritten, deep=False)), key=sp.count_ops)


def _bottom_up(expr: sp.Expr, rewrite) -> sp.Expr:
    if not expr.args:
        return expr
    rebuilt = expr.func(*[_bottom_up(a, rewrite) for a in expr.args])
    return rewrite(rebuilt)


def _square_root_rational(square: sp.Expr, sample: Mapping[sp.Symbol, sp.Expr]) -> sp.Expr | None:
    """A rational function h with h^2 = square and h > 0 at ``sample``, or None."""
    numerator, denominator = sp.fraction(sp.factor(square))
    roots = []
    for part in (numerator, denominator):
        coefficient, factors = sp.factor_list(part)
        if coefficient <= 0 or not sp.sqrt(coefficient).is_Rational or any(m % 2 for _, m in factors):
            return None
        roots.append(sp.sqrt(coefficient) * sp.Mul(*[f ** (m // 2) for f, m in factors]))
    h = roots[0] / roots[1]
    value = sp.N(h.xreplace(sample))
    if value == 0:
        return None
    return h if value > 0 else -h


_DIGITS = 40


def _mp_evaluator(exprs: Sequence[sp.Expr], symbols: Sequence[sp.Symbol]):
    """A function of mpmath numbers evaluating ``exprs`` (complex arithmetic, {_DIGITS} digits)."""
    import mpmath

    function = sp.lambdify(list(symbols), list(exprs), modules="mpmath")

    def evaluate(*values):
        with mpmath.workdps(_DIGITS):
            return [mpmath.mpc(v) for v in function(*[mpmath.mpc(x) for x in values])]

    return evaluate


def _mp_points(points, params: Sequence[sp.Symbol], sample: Mapping[sp.Symbol, sp.Expr]):
    """The points at ``sample`` as lists of mpmath complex numbers."""
    import mpmath

    flat = [c for p in points for c in p]
    with mpmath.workdps(_DIGITS):
        values = _mp_evaluator(flat, params)(*[mpmath.mpf(sp.Rational(sample[p]).p) / sample[p].q for p in params])
    dim = len(points[0])
    return [values[i * dim:(i + 1) * dim] for i in range(len(points))]


def _mp_images(system: Map, numbers, sample):
    import mpmath

    evaluate = _mp_evaluator(system.rhs, (*system.state, *system.params))
    with mpmath.workdps(_DIGITS):
        params = [mpmath.mpf(sp.Rational(sample[p]).p) / sample[p].q for p in system.params]
        return [evaluate(*point, *params) for point in numbers]


def _distance(a, b) -> float:
    return max(float(abs(x - y)) for x, y in zip(a, b))


def _orbit_cycles(system: Map, points: Sequence[Sequence[sp.Expr]], sample: Mapping[sp.Symbol, sp.Expr], k: int):
    """The cycles of the permutation F induces on ``points`` at ``sample`` (lists of indices), or None."""
    values = _mp_points(points, system.params, sample)
    separation = min(
        (_distance(values[i], values[j]) for i in range(len(values)) for j in range(i)), default=1.0
    )
    if not separation > 1e-20:
        return None
    image_of = {}
    for i, image in enumerate(_mp_images(system, values, sample)):
        distances = [_distance(image, values[j]) for j in range(len(points))]
        j = int(np.argmin(distances))
        if not distances[j] < 1e-25 * max(1.0, max(float(abs(z)) for z in values[j])):
            return None
        image_of[i] = j
    cycles, seen = [], set()
    for start in range(len(points)):
        if start in seen:
            continue
        cycle = [start]
        seen.add(start)
        nxt = image_of[start]
        while nxt != start:
            if nxt in seen:
                return None
            cycle.append(nxt)
            seen.add(nxt)
            nxt = image_of[nxt]
        if len(cycle) != k:
            return None
        cycles.append(tuple(cycle))
    return cycles


@dataclass
class _Component:
    """An irreducible piece of the period-k set: a lex Groebner basis and its closed-form points."""

    equations: list[sp.Expr]
    points: list[tuple[sp.Expr, ...]] | None
    conditions: list[sp.Basic]          # polynomial conditions for distinct points (Ne(...)), radical-free
    multiplier: sp.Expr | None = None   # 1-D, when the same for every orbit of the component
    multiplier_polynomial: sp.Expr | None = None   # 1-D: its roots (in t) are the multipliers of the orbits
    t: sp.Symbol | None = None
    trace: sp.Expr | None = None
    determinant: sp.Expr | None = None


def _roots(poly_expr: sp.Expr, x: sp.Symbol) -> list[sp.Expr] | None:
    """All roots (with multiplicity collapsed) in closed form, or None."""
    poly = sp.Poly(poly_expr, x)
    if poly.degree() > 4 and not _is_biquadratic(poly):
        return None
    found = sp.roots(poly, multiple=False)
    if sum(found.values()) != poly.degree():
        return None
    roots = list(found)
    if any(r.has(sp.CRootOf) for r in roots):
        return None
    return roots


def _is_biquadratic(poly: sp.Poly) -> bool:
    return all(m[0] % 2 == 0 for m in poly.monoms())


def _components_1d(system: Map, k: int, budget: _Budget) -> list[_Component]:
    (x,) = system.state
    with budget(f"the numerators of F^d(x) - x, d | {k}"):
        numerators = {d: _numerators(system, d)[0] for d in (*_divisors(k), k)}
    with budget(f"factorising F^{k}(x) - x"):
        _, factors = sp.factor_list(numerators[k], x, *system.params)
    components = []
    _, denominator = sp.fraction(sp.together(system.compose(k).rhs[0]))
    for factor, multiplicity in factors:
        if not factor.has(x):
            continue
        with budget("dividing out the lower periods"):
            lower = [d for d in _divisors(k) if sp.Poly(sp.gcd(numerators[d], factor), x).degree() > 0]
            if lower or (denominator.has(x) and sp.Poly(sp.gcd(denominator, factor), x).degree() > 0):
                continue
        poly = sp.Poly(factor, x)
        conditions = [sp.Ne(sp.factor(poly.LC()), 0)] if poly.LC().free_symbols else []
        if poly.degree() > 1:
            with budget("discriminants and resultants"):
                disc = sp.factor(sp.discriminant(factor, x))
                conditions.append(sp.Ne(disc, 0))
                for d in _divisors(k):
                    res = sp.factor(sp.resultant(factor, numerators[d], x))
                    if res.free_symbols:
                        conditions.append(sp.Ne(res, 0))
        with budget(f"closed-form roots of a degree-{poly.degree()} factor"):
            roots = _roots(factor, x)
        component = _Component([factor], None if roots is None else [(r,) for r in roots], conditions)
        with budget("the multiplier"):
            derivative = sp.diff(system.compose(k).rhs[0], x)
            if sp.fraction(sp.together(derivative))[1].has(x):
                reduced = None
            else:
                K = _domain(system)
                reduced = sp.Poly(sp.expand(derivative), x, domain=K).rem(sp.Poly(factor, x, domain=K)).as_expr()
            if reduced is not None and not reduced.has(x):
                component.multiplier = _nice(reduced)
            elif reduced is not None:
                # prod over the roots of (t - (F^k)'(x_i)) = c * prod over the orbits of (t - m)^k
                t = sp.Dummy("t")
                resultant = sp.resultant(factor, t - reduced, x)
                _, parts = sp.sqf_list(resultant, t)
                parts = [(g, m) for g, m in parts if g.has(t)]
                if parts and all(m % k == 0 for _, m in parts):
                    component.multiplier_polynomial = sp.Mul(*[g ** (m // k) for g, m in parts])
                    component.t = t
        components.append(component)
    return components


def _components_2d(system: Map, k: int, budget: _Budget) -> tuple[list[_Component], list[sp.Expr]]:
    x, y = system.state
    K = _domain(system)
    with budget(f"the numerators of F^d - id, d | {k}"):
        numerators = {d: _numerators(system, d) for d in (*_divisors(k), k)}
    P1, P2 = numerators[k]
    if P1 == 0 and P2 == 0:
        raise DsAnalyzeError(
            f"every point of the plane has period dividing {k} (F^{k} is the identity); there are no isolated orbits"
        )
    with budget("splitting off curves of periodic points"):
        common = sp.gcd(P1, P2)
        curves = [f for f, _ in sp.factor_list(common, x, y, *system.params)[1] if f.has(x) or f.has(y)]
        Q1, Q2 = sp.cancel(P1 / common), sp.cancel(P2 / common)
        curve_components = []
        for curve in curves:
            lower = any(
                all(sp.Poly(p, x, y, domain=K).rem(sp.Poly(curve, x, y, domain=K)).is_zero for p in numerators[d])
                for d in _divisors(k)
            )
            if not lower:
                curve_components.append(curve)
    with budget(f"eliminating {y} with a resultant"):
        resultant = sp.resultant(Q1, Q2, y)
    with budget("factorising the resultant"):
        _, factors = sp.factor_list(resultant, x, *system.params)
    components = []
    for factor, _ in factors:
        if not factor.has(x):
            continue
        with budget("a lex Groebner basis for each factor"):
            basis = sp.groebner([Q1, Q2, factor], y, x, order="lex", domain=K)
        if basis.exprs == [1]:
            continue
        with budget("dividing out the lower periods"):
            def vanishes(p):
                return basis.reduce(p)[1] == 0

            if any(all(vanishes(p) for p in numerators[d]) for d in _divisors(k)):
                continue
            if common.has(x) or common.has(y):
                if any(vanishes(c) for c in curves):
                    continue
            partly_lower = any(
                not all(vanishes(p) for p in numerators[d])
                and sp.groebner([*basis.exprs, *numerators[d]], y, x, order="lex", domain=K).exprs != [1]
                for d in _divisors(k)
            )
        equations = list(basis.exprs)
        univariate = [e for e in equations if not e.has(y)]
        (r,) = univariate if len(univariate) == 1 else (None,)
        shape = [e for e in equations if e.has(y) and sp.Poly(e, y).degree() == 1 and not sp.Poly(e, y).LC().has(x)]
        points = None
        conditions: list[sp.Basic] = []
        if r is not None:
            poly = sp.Poly(r, x)
            if poly.LC().free_symbols:
                conditions.append(sp.Ne(sp.factor(poly.LC()), 0))
            with budget(f"closed-form roots of a degree-{poly.degree()} factor"):
                roots = _roots(r, x)
            if shape and len(equations) == 2:
                a, b = sp.Poly(shape[0], y).all_coeffs()
                solution = sp.expand(-b / a)
                if poly.degree() > 1:
                    conditions.append(sp.Ne(sp.factor(sp.discriminant(r, x)), 0))
                for den in {sp.fraction(sp.together(c))[1] for c in sp.Poly(solution, x).coeffs()}:
                    if den.free_symbols:
                        conditions.append(sp.Ne(sp.factor(den), 0))
                if roots is not None:
                    points = [(root, sp.radsimp(sp.expand(solution.xreplace({x: root})))) for root in roots]
            elif roots is not None:
                points = _lift_points(system, equations, roots, budget)
        if points is not None and partly_lower:
            points = [p for p in points if not _has_lower_period(system, p, k)]
        component = _Component(equations, points, conditions)
        with budget("the monodromy trace and determinant"):
            J = sp.Matrix(system.compose(k).rhs).jacobian(sp.Matrix(system.state))
            trace, det = sp.expand(J.trace()), sp.expand(J.det(method="berkowitz"))
            if not any(sp.fraction(sp.together(e))[1].has(x, y) for e in (trace, det)):
                t_red, d_red = basis.reduce(trace)[1], basis.reduce(det)[1]
                if not t_red.has(x, y) and not d_red.has(x, y):
                    component.trace, component.determinant = _nice(t_red), _nice(d_red)
        components.append(component)
    return components, curve_components


def _lift_points(system: Map, equations: list[sp.Expr], roots: list[sp.Expr], budget: _Budget):
    """Points over each root x of a non-shape lex basis: roots in y of the other equations, checked exactly."""
    x, y = system.state
    points = []
    for root in roots:
        polys = [sp.expand(e.xreplace({x: root})) for e in equations if e.has(y)]
        polys = [p for p in polys if p != 0]
        if not polys:
            return None
        lowest = min(polys, key=lambda p: sp.Poly(p, y).degree())
        found = _roots(lowest, y)
        if found is None:
            return None
        for value in found:
            if all(_is_zero_exact(p.xreplace({y: value})) for p in polys):
                points.append((root, value))
    return points


def _is_zero_exact(expr: sp.Expr) -> bool:
    if expr == 0:
        return True
    simplified = sp.radsimp(sp.expand(expr))
    if simplified == 0:
        return True
    return sp.simplify(simplified) == 0


def _has_lower_period(system: Map, point: Sequence[sp.Expr], k: int) -> bool:
    for d in _divisors(k):
        image = point
        for _ in range(d):
            image = [r.xreplace(dict(zip(system.state, image))) for r in system.rhs]
        if all(_is_zero_exact(a - b) for a, b in zip(image, point)):
            return True
    return False


def _stability(multiplier, trace, determinant) -> sp.Basic | None:
    if multiplier is not None:
        return sp.StrictLessThan(sp.Abs(multiplier), 1)
    if trace is not None and determinant is not None:
        # Jury conditions for a 2 x 2 matrix: |det| < 1 and |tr| < 1 + det.
        return sp.And(
            sp.StrictLessThan(determinant, 1), sp.StrictGreaterThan(determinant, -1),
            sp.StrictLessThan(trace, 1 + determinant), sp.StrictLessThan(-trace, 1 + determinant),
        )
    return None


def _eigenvalues(multiplier, trace, determinant) -> tuple[sp.Expr, ...] | None:
    if multiplier is not None:
        return (multiplier,)
    if trace is not None:
        root = sp.sqrt(sp.factor(trace**2 - 4 * determinant))
        return (sp.together(trace / 2 - root / 2), sp.together(trace / 2 + root / 2))
    return None


def _orbits_of(system: Map, k: int, component: _Component, budget: _Budget) -> list[PeriodicOrbit]:
    """Group a component's closed-form points into orbits, on each piece of the parameter where they exist."""
    dim = system.dim
    equations = tuple(component.equations)
    if component.points is None:
        return _without_points(system, k, component)
    try:
        reality = _reality_conditions(component.points)
        existence = sp.And(*reality, *component.conditions)
    except _NoReality:
        existence = None
    samples, region = _sample_points(
        existence if existence is not None else sp.And(*component.conditions), system.params
    )
    if existence is not None and not samples:
        # Never real: group at a generic (complex) parameter value so the orbits are still reported.
        samples = [({p: sp.Rational(7, 3) + i for i, p in enumerate(system.params)}, None)]
        existence = sp.false
    param = system.params[0] if len(system.params) == 1 else None
    candidates: dict[tuple, tuple] = {}
    groupings = set()
    for sample, piece in samples:
        with budget("grouping the roots into orbits"):
            cycles = _orbit_cycles(system, component.points, sample, k)
        if cycles is None:
            continue
        groupings.add(frozenset(frozenset(c) for c in cycles))
        for cycle in cycles:
            points = tuple(component.points[i] for i in cycle)
            with budget("denesting square roots"):
                denested = tuple(tuple(_denest(c, sample, piece, param) for c in p) for p in points)
            if _numerically_equal(points, denested, sample, system.params):
                points = denested
            candidates.setdefault(_canonical_rotation(points), (sample, piece))
    if (param is None or existence is None) and len(groupings) > 1:
        return _without_points(
            system, k, component, "the grouping of the roots into orbits changes with the parameters; no closed forms given"
        )
    orbits = []
    for points, (origin, origin_piece) in candidates.items():
        note = "exact points; the orbit relation F(x_i) = x_(i+1) checked to 40 digits on each piece where it is claimed"
        condition = existence
        if existence not in (None, sp.false) and region is not None and origin_piece is not None:
            with budget("where each orbit's formulas hold"):
                valid = [piece for _, piece in samples if piece is origin_piece or _valid_on(system, points, piece, param)]
            condition = _relational(sp.Union(*valid), param)
        multiplier, trace, determinant = component.multiplier, component.trace, component.determinant
        if dim == 1 and multiplier is None:
            with budget("the multiplier along the orbit"):
                multiplier = _orbit_product(system, points)
        if dim == 2 and trace is None:
            with budget("the monodromy along the orbit"):
                trace, determinant = _orbit_monodromy(system, points)
        orbits.append(PeriodicOrbit(
            system, k, points,
            multiplier=multiplier if dim == 1 else None,
            trace=trace if dim == 2 else None, determinant=determinant if dim == 2 else None,
            multipliers=_eigenvalues(multiplier if dim == 1 else None, trace, determinant),
            existence=condition, stability=_stability(multiplier if dim == 1 else None, trace, determinant),
            equations=equations, basis=Basis.PROVED, note=note,
        ))
    if not orbits:
        return _without_points(system, k, component, "the roots could not be grouped into orbits")
    return orbits


def _numerically_equal(a, b, sample, params) -> bool:
    first, second = _mp_points(a, params, sample), _mp_points(b, params, sample)
    return all(_distance(p, q) < 1e-25 * max(1.0, max(float(abs(z)) for z in p)) for p, q in zip(first, second))


def _canonical_rotation(points: tuple) -> tuple:
    """The cyclic rotation of an orbit that sorts first (so one orbit has one key)."""
    rotations = [points[i:] + points[:i] for i in range(len(points))]
    return min(rotations, key=lambda r: [sp.default_sort_key(c) for p in r for c in p])


def _probes(interval: sp.Interval) -> list[sp.Rational]:
    """Three rational numbers strictly inside an open interval."""
    middle = _inside(interval)
    lo, hi = interval.start, interval.end
    out = [middle]
    for t in (sp.Rational(1, 7), sp.Rational(5, 6)):
        if lo == -sp.oo and hi == sp.oo:
            value = middle + (-3 if t < sp.Rational(1, 2) else 5)
        elif lo == -sp.oo:
            value = middle - (1 + 10 * t)
        elif hi == sp.oo:
            value = middle + (1 + 10 * t)
        else:
            value = sp.nsimplify(float(lo + t * (hi - lo)), rational=True, tolerance=1e-6 * float(hi - lo))
        if interval.contains(value) is sp.true and value not in out:
            out.append(value)
    return out


def _valid_on(system: Map, points: tuple, piece: sp.Interval, param: sp.Symbol) -> bool:
    """Whether the formulas give a real orbit (F(x_i) = x_(i+1), distinct points) at probes of ``piece``."""
    for value in _probes(piece):
        sample = {param: value}
        numbers = _mp_points(points, system.params, sample)
        if any(float(abs(z.imag)) > 1e-25 * max(1.0, float(abs(z))) for p in numbers for z in p):
            return False
        for i, image in enumerate(_mp_images(system, numbers, sample)):
            target = numbers[(i + 1) % len(numbers)]
            if _distance(image, target) > 1e-25 * max(1.0, max(float(abs(z)) for z in target)):
                return False
        separation = min(
            (_distance(numbers[i], numbers[j]) for i in range(len(numbers)) for j in range(i)), default=1.0
        )
        if not separation > 1e-20:
            return False
    return True


def _orbit_product(system: Map, points) -> sp.Expr | None:
    derivative = sp.diff(system.rhs[0], system.state[0])
    product = sp.Mul(*[derivative.xreplace({system.state[0]: p[0]}) for p in points])
    value = sp.simplify(sp.radsimp(sp.expand(product)))
    return _nice(value) if not _radicands(value) else value


def _orbit_monodromy(system: Map, points):
    J = system.jacobian()
    M = sp.eye(system.dim)
    for p in points:
        M = J.xreplace(dict(zip(system.state, p))) * M
    return sp.simplify(sp.radsimp(sp.expand(M.trace()))), sp.simplify(sp.radsimp(sp.expand(M.det())))


def _without_points(system: Map, k: int, component: _Component, why: str = "") -> list[PeriodicOrbit]:
    """Orbits whose points have no closed form: one per multiplier when those are known (1-D)."""
    note = why or "the roots have no closed form; the orbit(s) are among the common zeros of .equations"
    equations = tuple(component.equations)
    if system.dim == 1 and component.multiplier is None and component.multiplier_polynomial is not None:
        t = component.t
        g = component.multiplier_polynomial
        degree = sp.Poly(g, t).degree()
        roots = _roots(g, t) if degree <= 2 else None
        orbits_in_factor = sp.Poly(equations[0], system.state[0]).degree() // k
        if roots is not None and len(roots) == degree == orbits_in_factor:
            existence = None
            if k % 2 == 1 and degree <= 2:
                # Distinct real multipliers: each orbit is its own complex conjugate, and an orbit
                # of odd length that is its own conjugate contains a real point, hence is real.
                distinct = _distinct_conditions(system, k, equations[0])
                real = [sp.StrictGreaterThan(sp.factor(sp.discriminant(g, t)), 0)] if degree == 2 else []
                existence = sp.And(*real, *distinct)
                if len(system.params) == 1:
                    try:
                        existence = _relational(solve_region(existence, system.params[0]), system.params[0])
                    except (ValueError, NotImplementedError, TypeError):
                        pass
            return [
                PeriodicOrbit(
                    system, k, None, multiplier=_nice(m) if not _radicands(m) else m, multipliers=(m,),
                    existence=existence, stability=_stability(m, None, None), equations=equations,
                    basis=Basis.PROVED,
                    note=note + "; the multiplier is a root of the resultant of the factor and t - (F^k)'(x)",
                )
                for m in roots
            ]
    if component.multiplier_polynomial is not None:
        lam = sp.Symbol("lambda")
        note += f"; the multipliers of its orbits are the roots of {sp.sstr(sp.factor(component.multiplier_polynomial.xreplace({component.t: lam})))} = 0"
    multiplier = component.multiplier if system.dim == 1 else None
    return [PeriodicOrbit(
        system, k, None, multiplier=multiplier,
        trace=component.trace, determinant=component.determinant,
        multipliers=_eigenvalues(multiplier, component.trace, component.determinant),
        existence=None, stability=_stability(multiplier, component.trace, component.determinant),
        equations=equations, basis=Basis.PROVED, note=note,
    )]


def _distinct_conditions(system: Map, k: int, factor: sp.Expr) -> list[sp.Basic]:
    (x,) = system.state
    poly = sp.Poly(factor, x)
    conditions = [sp.Ne(sp.factor(poly.LC()), 0)] if poly.LC().free_symbols else []
    conditions.append(sp.Ne(sp.factor(sp.discriminant(factor, x)), 0))
    for d in _divisors(k):
        res = sp.factor(sp.resultant(factor, _numerators(system, d)[0], x))
        if res.free_symbols:
            conditions.append(sp.Ne(res, 0))
    return conditions


def periodic_orbits(system: Map, k: int, *, timeout: float | None = None) -> list[PeriodicOrbit]:
    """The orbits of least period ``k`` of a map of dimension 1 or 2, exactly.

    Parameters
    ----------
    system : Map
        A polynomial (or rational, in 1-D) map.
    k : int
        The least period (1 gives the fixed points as 1-orbits).
    timeout : float, optional
        Seconds for the whole derivation; past it
        :class:`~dsanalyze.errors.SymbolicTimeout` names the step it was in.

    Returns
    -------
    list of PeriodicOrbit
        One per orbit of closed-form points (on each piece of the parameter
        where its grouping holds), and one per factor without closed-form roots
        (``points=None``, its ``equations`` define the orbits).

    Raises
    ------
    DsAnalyzeError
        If ``system`` is not a map, or F^k is the identity.
    DimensionError
        For maps of dimension 3 or more.
    ExpressionError
        If the map is not rational in the state.

    Notes
    -----
    Existence is "the points are real and distinct and these formulas form
    an orbit": for one parameter it is an exact union of intervals (each
    interval checked for the grouping of the roots; see the module notes).
    The multiplier of a 1-D orbit is (F^k)'(x) reduced modulo the orbit's
    polynomial, so it is free of the radicals of the points; in 2-D the trace
    and determinant of the monodromy matrix are reduced the same way modulo
    the orbit's lex Groebner basis.

    Examples
    --------
    The balanced slice of the two-factor map: the 2-cycle x -> -x, and the
    pair of 2-cycles born in the flip of x = +-1 at mu = 1 (stable up to
    mu = sqrt(5) - 1):

    >>> import dsanalyze as ds
    >>> for o in periodic_orbits(ds.models.cubic(), 2):
    ...     print(o.points, "|", o.multiplier, "|", o.existence)
    ((-sqrt((mu + 2)/mu),), (sqrt((mu + 2)/mu),)) | (2*mu + 5)**2 | (0 < mu) | (mu < -2)
    ((-sqrt((mu - 1)/mu)/2 - sqrt((mu + 3)/mu)/2,), (sqrt((mu - 1)/mu)/2 - sqrt((mu + 3)/mu)/2,)) | -2*mu**2 - 4*mu + 7 | (1 < mu) | (mu < -3)
    ((-sqrt((mu - 1)/mu)/2 + sqrt((mu + 3)/mu)/2,), (sqrt((mu - 1)/mu)/2 + sqrt((mu + 3)/mu)/2,)) | -2*mu**2 - 4*mu + 7 | (1 < mu) | (mu < -3)
    >>> import sympy as sp
    >>> o.stability_region("mu", sp.Interval.open(0, sp.oo))
    Interval.open(1, -1 + sqrt(5))
    """
    _require(system, Map, "periodic_orbits")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"the period k must be a positive integer, got {k!r}")
    k = int(k)
    if system.dim > 2:
        raise DimensionError(
            f"periodic_orbits handles maps of dimension 1 and 2; {system.name or 'this map'} has dimension {system.dim}"
        )
    _polynomial_rhs(system, "periodic_orbits")
    budget = _Budget(timeout, f"periodic orbits of period {k} of {system.name or 'the map'}")
    if system.dim == 1:
        components = _components_1d(system, k, budget)
        curves: list[sp.Expr] = []
    else:
        components, curves = _components_2d(system, k, budget)
    orbits: list[PeriodicOrbit] = []
    for curve in curves:
        orbits.append(PeriodicOrbit(
            system, k, None, existence=None, stability=None, equations=(curve,), basis=Basis.PROVED,
            note=f"a curve of points of period {k}: {sp.sstr(curve)} = 0",
        ))
    for component in components:
        orbits.extend(_orbits_of(system, k, component, budget))
    return orbits
