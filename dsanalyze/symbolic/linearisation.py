"""Linearisation at a fixed point, or along a component of fixed points, and its classification.

:func:`linearise` returns the exact Jacobian, the eigenvalues with their
multiplicities, eigenvectors and the type of the point as an
:class:`~dsanalyze.symbolic.results.EquilibriumType` (maps: |lambda| against
1; flows: Re lambda against 0). Along a curve of fixed points (uv = 1 of the
two-factor map) everything is computed modulo the curve's equations, so the
eigenvalues come out in closed form on the curve (1 and 1 - mu (u^2 + v^2)),
and the neutral directions (eigenvalue 1 of a map, 0 of a flow) whose
eigenvectors are tangent to the curve are identified.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import sympy as sp

from ..errors import DimensionError, DsAnalyzeError, ExtraParameterError
from ..expressions import as_expression
from ..systems import Map, System
from .budget import time_limit
from .results import EquilibriumType, FixedPoint, is_zero

__all__ = ["Linearisation", "linearise", "classify_eigenvalues", "system_linearise"]

#: The symbol of characteristic polynomials.
LAMBDA = sp.Symbol("lambda")


# ============================================================================================
# Classification from eigenvalues
# ============================================================================================
def _sign(q: sp.Expr) -> int | None:
    """-1, 0 or 1 for the sign of a real expression; None when it cannot be decided."""
    q = sp.sympify(q)
    if q.is_number:
        value = sp.N(q, 50)
        re, im = value.as_real_imag()
        if abs(im) > 1e-40 and abs(im) > 1e-30 * abs(re):
            return None
        if abs(re) > 1e-40:
            return 1 if re > 0 else -1
        zero = is_zero(q)
        return 0 if zero else None
    for candidate in (q, sp.factor(q)):
        if candidate.is_positive:
            return 1
        if candidate.is_negative:
            return -1
        if candidate.is_zero:
            return 0
    return None


@lru_cache(maxsize=256)
def _polynomial_roots(coefficients: tuple) -> tuple[complex, ...]:
    """All roots of a polynomial with exact coefficients, to 40 digits (mpmath)."""
    with mpmath.workdps(40):
        roots = mpmath.polyroots([mpmath.mpf(sp.Rational(c).p) / sp.Rational(c).q for c in coefficients],
                                 maxsteps=400, extraprec=200)
        return tuple(complex(r) for r in roots)


def _crootof_parts(lam: sp.CRootOf) -> tuple[float, float] | None:
    """A CRootOf's value from all roots of its polynomial and its isolating interval.

    Evaluating a complex CRootOf with ``evalf`` refines its rectangle with
    exact arithmetic and takes seconds; the isolating interval, known since
    its construction, picks the right root among the numeric ones instantly.
    """
    try:
        coefficients = tuple(lam.poly.all_coeffs())
        roots = _polynomial_roots(coefficients)
        interval = lam._get_interval()
    except Exception:  # noqa: BLE001 - private API or exotic coefficients: use evalf
        return None
    if lam.is_real:
        a, b = float(interval.a), float(interval.b)
        candidates = [z for z in roots if a - 1e-12 <= z.real <= b + 1e-12]
        centre = complex((a + b) / 2, 0.0)
    else:
        centre = complex(float(interval.ax + interval.bx) / 2, float(interval.ay + interval.by) / 2)
        candidates = list(roots)
    if not candidates:
        return None
    z = min(candidates, key=lambda r: abs(r - centre))
    return (z.real, 0.0) if lam.is_real else (z.real, z.imag)


def _numeric_parts(lam: sp.Expr) -> tuple[float, float]:
    """Real and imaginary part of an exact number (30 digits; CRootOf through its interval)."""
    if isinstance(lam, sp.CRootOf):
        parts = _crootof_parts(lam)
        if parts is not None:
            return parts
    z = sp.N(lam, 30)
    re, im = z.as_real_imag()
    return float(re), float(im)


def _realness(lam: sp.Expr) -> bool | None:
    if lam.is_real is not None:
        return lam.is_real
    if lam.is_number:
        re, im = _numeric_parts(lam)
        if abs(im) > 1e-20 * max(1.0, abs(re)):
            return False
        return True if is_zero(sp.im(lam)) else None
    return None


def _position(lam: sp.Expr, is_map: bool) -> int | None:
    """-1 inside (|lambda| < 1 / Re < 0), 0 on the boundary, +1 outside; None if undecided."""
    real = _realness(lam)
    if lam.is_number:
        re, im = _numeric_parts(lam)
        margin = (re * re + im * im - 1.0) if is_map else re
        if abs(margin) > 1e-9:
            return 1 if margin > 0 else -1
        # Near the boundary in double precision: decide exactly, or with 50 digits.
        if real and is_map:
            return 0 if (is_zero(lam - 1) is True or is_zero(lam + 1) is True) else _sign(sp.Abs(lam) - 1)
        if real:
            return _sign(lam)
        if lam.has(sp.CRootOf):
            return None
        exact = sp.expand(lam * sp.conjugate(lam)) - 1 if is_map else sp.re(lam)
        return _sign(exact)
    if is_map:
        if real:
            above, below = _sign(lam - 1), _sign(lam + 1)
            if above == -1 and below == 1:
                return -1
            if above == 1 or below == -1:
                return 1
            if above == 0 or below == 0:
                return 0
        return None
    if real:
        return _sign(lam)
    re = sp.re(lam)
    return _sign(re) if not re.has(sp.re, sp.im) else None


def classify_eigenvalues(eigenvalues: Mapping[sp.Expr, int], is_map: bool, dim: int | None = None):
    """(EquilibriumType, hyperbolic, stable) from eigenvalues with multiplicities.

    ``dim`` is the dimension the finer types (node, focus, centre) apply to
    (2); in other dimensions the types are stable, unstable, saddle and
    non-hyperbolic. ``hyperbolic`` and ``stable`` are None when undecided.

    Examples
    --------
    >>> import sympy as sp
    >>> classify_eigenvalues({sp.I: 1, -sp.I: 1}, is_map=False, dim=2)
    (<EquilibriumType.CENTRE: 'centre'>, False, None)
    >>> classify_eigenvalues({sp.Rational(1, 2): 1, 3: 1}, is_map=True, dim=2)[0].value
    'saddle'
    """
    positions, realness = [], []
    for lam, m in eigenvalues.items():
        lam = sp.sympify(lam)
        positions += [_position(lam, is_map)] * int(m)
        realness += [_realness(lam)] * int(m)
    if not positions:
        return EquilibriumType.DEPENDS, None, None
    if None in positions:
        return EquilibriumType.DEPENDS, None, (False if 1 in positions else None)
    hyperbolic = 0 not in positions
    stable = True if all(p == -1 for p in positions) else (False if 1 in positions else None)
    fine = dim == 2 and len(positions) == 2
    if not hyperbolic:
        if fine and all(p == 0 for p in positions) and all(r is False for r in realness):
            return EquilibriumType.CENTRE, False, None
        return EquilibriumType.NON_HYPERBOLIC, False, stable
    if all(p == -1 for p in positions) or all(p == 1 for p in positions):
        inside = positions[0] == -1
        if not fine:
            return (EquilibriumType.STABLE if inside else EquilibriumType.UNSTABLE), True, stable
        if any(r is None for r in realness):
            return EquilibriumType.DEPENDS, True, stable
        focus = all(r is False for r in realness)
        if inside:
            return (EquilibriumType.STABLE_FOCUS if focus else EquilibriumType.STABLE_NODE), True, stable
        return (EquilibriumType.UNSTABLE_FOCUS if focus else EquilibriumType.UNSTABLE_NODE), True, stable
    return EquilibriumType.SADDLE, True, False


# ============================================================================================
# The result
# ============================================================================================
@dataclass(frozen=True)
class Linearisation:
    """The linearisation of a system at a fixed point, or along a component of fixed points.

    Attributes
    ----------
    system : System
    point : FixedPoint or None
        What was linearised (None when coordinates were given directly).
    coordinates : tuple of Expr or None
        The point; None along a component.
    values : tuple of (Symbol, Expr) pairs
        Parameter values substituted (the rest stay symbolic).
    jacobian : ImmutableMatrix
        The Jacobian at the point; along a component, its normal form modulo
        the component's equations.
    characteristic_polynomial : Expr
        det(lambda I - J) in the symbol :data:`LAMBDA` (factored).
    eigenvalues : dict
        ``{eigenvalue: algebraic multiplicity}``, exact. Along a component,
        in normal form modulo its equations.
    eigenvectors : tuple
        ``((eigenvalue, multiplicity, (vector, ...)), ...)``, vectors as
        column matrices (empty where none was found in closed form).
    classification : EquilibriumType
        The type of the point; ``DEPENDS`` when it changes with the
        parameters (use :meth:`classify`); ``NON_HYPERBOLIC`` along a
        component (its tangent directions are neutral).
    hyperbolic, stable : bool or None
        None when undecided (symbolic parameters, or a non-hyperbolic point).
    neutral_directions : tuple of ImmutableMatrix
        Along a component: the eigenvectors of the neutral eigenvalue (1 for
        a map, 0 for a flow) that are tangent to the component.
    transverse_eigenvalues : dict or None
        Along a component: the eigenvalues with the tangent neutral ones set aside.
    transverse_classification : EquilibriumType or None
        Along a component: stable (normally attracting), unstable, saddle,
        non-hyperbolic or depends, from the transverse eigenvalues.
    parametrised_eigenvalues : dict or None
        Along a component with a parametrisation: the eigenvalues in its free symbols.
    eigenvalues_complete : bool
        False when a factor of the characteristic polynomial of degree >= 3
        with symbolic coefficients has no usable closed form; its roots are
        then missing from ``eigenvalues`` (the classification is ``DEPENDS``
        and :meth:`classify` uses the characteristic polynomial).
    """

    system: System
    point: FixedPoint | None
    coordinates: tuple[sp.Expr, ...] | None
    values: tuple[tuple[sp.Symbol, sp.Expr], ...]
    jacobian: sp.ImmutableMatrix
    characteristic_polynomial: sp.Expr
    eigenvalues: dict
    eigenvectors: tuple
    classification: EquilibriumType
    hyperbolic: bool | None
    stable: bool | None
    neutral_directions: tuple = ()
    transverse_eigenvalues: dict | None = None
    transverse_classification: EquilibriumType | None = None
    parametrised_eigenvalues: dict | None = None
    eigenvalues_complete: bool = True

    @property
    def is_component(self) -> bool:
        return self.coordinates is None

    def classify(self, **values: Any) -> EquilibriumType:
        """The type at given values of the parameters (and, along a component, of state or free symbols).

        For a point: the :class:`EquilibriumType` of the point at these values.
        Along a component: the type of the transverse dynamics (``STABLE``:
        normally attracting, ``UNSTABLE``, ``SADDLE``, ``NON_HYPERBOLIC``) at
        the point given by state or free-symbol values, e.g. ``u=1, v=1`` or ``t=2``.

        Floats are read as the decimal they print as (``0.1`` is ``1/10``);
        values left out keep the result ``DEPENDS`` where they matter.

        Examples
        --------
        >>> from dsanalyze.models import double_well_gd
        >>> from dsanalyze.symbolic.equilibria import fixed_points
        >>> F = double_well_gd()
        >>> lin = linearise(F, fixed_points(F)[2])          # w = 1: multiplier 1 - 8 eta
        >>> lin.classification.value, lin.classify(eta=0.1).value, lin.classify(eta=0.3).value
        ('depends on parameters', 'stable', 'unstable')
        """
        known = {s.name: s for s in (*self.system.state, *self.system.params)}
        if self.point is not None:
            known.update({s.name: s for s in self.point.free})
        substitution = {}
        for name, value in values.items():
            if name not in known:
                raise ExtraParameterError(
                    f"{name} is not a parameter{', state variable or free symbol' if self.is_component else ''} "
                    f"of {self.system.name or 'the system'}; known: {', '.join(known)}"
                )
            substitution[known[name]] = as_expression(value)
        is_map = isinstance(self.system, Map)
        if self.is_component:
            eigs = self.transverse_eigenvalues or {}
            if self.parametrised_eigenvalues is not None and set(substitution) & set(self.point.free):
                para = self.point.parametrisation
                point = dict(zip(self.system.state, para))
                eigs = {sp.sympify(k).xreplace(point): m for k, m in eigs.items()}
            eigs = _merge({sp.sympify(k).xreplace(substitution): m for k, m in eigs.items()})
            return classify_eigenvalues(eigs, is_map, None)[0]
        if self.eigenvalues_complete:
            eigs = _merge({sp.sympify(k).xreplace(substitution): m for k, m in self.eigenvalues.items()})
        else:
            eigs, complete = _eigenvalues(self.characteristic_polynomial.xreplace(substitution))
            if not complete:
                return EquilibriumType.DEPENDS
        return classify_eigenvalues(eigs, is_map, self.system.dim)[0]

    def latex(self) -> str:
        r"""The Jacobian, the eigenvalues and the type, as a LaTeX ``aligned`` block.

        Examples
        --------
        >>> import dsanalyze as ds
        >>> print(linearise(ds.Flow("x y", ["y", "-x"]), (0, 0)).latex())
        \begin{aligned}
        J &= \left[\begin{matrix}0 & 1\\-1 & 0\end{matrix}\right] \\
        \lambda &\in \left\{- i, i\right\} \\
        &\text{centre (non-hyperbolic)}
        \end{aligned}
        """
        rows = [f"J &= {sp.latex(self.jacobian)}"]
        parts = []
        for lam, m in self.eigenvalues.items():
            parts.append(sp.latex(lam) + (rf"\ (\times {m})" if m > 1 else ""))
        if self.eigenvalues and all(m == 1 for m in self.eigenvalues.values()):
            rows.append(r"\lambda &\in " + sp.latex(sp.FiniteSet(*self.eigenvalues)))
        elif self.eigenvalues:
            rows.append(r"\lambda &= " + r",\ ".join(parts))
        if not self.eigenvalues_complete:
            _, factors = sp.factor_list(self.characteristic_polynomial, LAMBDA)
            rest = sp.Mul(*[f**m for f, m in factors if sp.degree(f, LAMBDA) >= 3 and f.free_symbols - {LAMBDA}])
            lead = "and the roots of" if self.eigenvalues else r"\lambda: \text{the roots of}"
            rows.append(rf"& \text{{{lead} }} {sp.latex(rest)} = 0" if self.eigenvalues
                        else rf"& {lead}\ {sp.latex(rest)} = 0")
        kind = self.classification.value
        if self.hyperbolic is False and self.classification is not EquilibriumType.NON_HYPERBOLIC:
            kind += " (non-hyperbolic)"
        if self.is_component:
            tangent = len(self.neutral_directions)
            rows.append(rf"&\text{{{tangent} neutral direction(s) tangent to the component; transverse: "
                        rf"{(self.transverse_classification or EquilibriumType.DEPENDS).value}}}")
        else:
            rows.append(rf"&\text{{{kind}}}")
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"


def _merge(eigs: dict) -> dict:
    """Eigenvalues that became equal after a substitution, with their multiplicities added."""
    out: dict = {}
    for k, m in eigs.items():
        out[k] = out.get(k, 0) + m
    return out


# ============================================================================================
# Eigenvalues and eigenvectors
# ============================================================================================
def _quadratic_roots(a, b, c):
    disc = sp.factor(b**2 - 4 * a * c)
    if disc == 0:
        return [sp.cancel(-b / (2 * a))] * 2
    root = sp.sqrt(disc)
    if root.is_Rational:
        return [sp.cancel((-b + s * root) / (2 * a)) for s in (1, -1)]
    return [sp.cancel(-b / (2 * a)) + s * root / (2 * a) for s in (1, -1)]


def _eigenvalues(charpoly: sp.Expr) -> tuple[dict, bool]:
    """Roots of the characteristic polynomial with multiplicities; complete=False if some are missing."""
    charpoly = sp.expand(charpoly)
    algebraic = [a for a in charpoly.atoms(sp.Pow) if a.exp.is_Rational and not a.exp.is_Integer and a.is_number]
    try:
        if algebraic:
            _, factors = sp.factor_list(charpoly, LAMBDA, extension=algebraic)
        else:
            _, factors = sp.factor_list(charpoly, LAMBDA)
    except (NotImplementedError, sp.PolynomialError):
        _, factors = sp.factor_list(charpoly, LAMBDA)
    roots: dict = {}
    complete = True
    for f, m in factors:
        if LAMBDA not in f.free_symbols:
            continue
        poly = sp.Poly(f, LAMBDA)
        d = poly.degree()
        if d == 1:
            a, b = poly.all_coeffs()
            found = [sp.cancel(-b / a)]
        elif d == 2:
            found = _quadratic_roots(*poly.all_coeffs())
        elif not (f.free_symbols - {LAMBDA}) and poly.domain in (sp.ZZ, sp.QQ):
            found = list(poly.all_roots())
        elif not (f.free_symbols - {LAMBDA}) and (poly.domain.is_RR or poly.domain.is_CC):
            found = poly.nroots(n=30)  # a numeric point: numeric eigenvalues
        elif not (f.free_symbols - {LAMBDA}):
            found = sp.roots(poly, multiple=True)
            if len(found) != d:
                complete = False
                continue
        else:
            complete = False
            continue
        for r in found:
            r = _tidy_root(r)
            roots[r] = roots.get(r, 0) + m
    return roots, complete


def _tidy_root(r: sp.Expr) -> sp.Expr:
    if r.has(sp.CRootOf):
        return r
    if r.is_number:
        return sp.radsimp(r) if r.has(sp.Pow) else r
    if all(p.exp.is_Integer for p in r.atoms(sp.Pow)):
        return sp.factor(sp.cancel(r))
    return r


def _nullspace(M: sp.Matrix) -> list:
    try:
        return M.nullspace(iszerofunc=lambda e: is_zero(e) is True, simplify=False)
    except Exception:  # noqa: BLE001 - fall back to the adjugate below
        return []


def _adjugate_vector(M: sp.Matrix, reduce) -> sp.Matrix | None:
    """A nonzero column of adj(M) (an eigenvector when M = J - lambda I has rank n - 1)."""
    n = M.shape[0]
    if n == 1:
        return sp.Matrix([1])
    adj = M.adjugate()
    for j in range(n):
        column = sp.Matrix([reduce(adj[i, j]) for i in range(n)])
        if any(is_zero(e) is not True for e in column):
            return column
    return None


def _normalise_vector(v: sp.Matrix, reduce) -> sp.ImmutableMatrix:
    entries = [reduce(sp.cancel(sp.together(e))) if not e.has(sp.Pow) or e.is_polynomial() else sp.radsimp(e)
               for e in v]
    # divide by a common rational content so that vectors read simply
    try:
        numerators = [sp.numer(sp.together(e)) for e in entries]
        content = sp.gcd_list([n for n in numerators if n != 0]) if any(n != 0 for n in numerators) else 1
        if content != 0 and content != 1 and not content.has(sp.Pow):
            entries = [sp.cancel(e / content) for e in entries]
    except Exception:  # noqa: BLE001
        pass
    first = next((e for e in entries if e != 0), None)
    if first is not None and first.could_extract_minus_sign():
        entries = [-e for e in entries]
    return sp.ImmutableMatrix(entries)


# ============================================================================================
# Entry point
# ============================================================================================
def _given_values(system: System, params: Mapping[str, Any], base=()) -> dict:
    by_name = {p.name: p for p in system.params}
    values = {}
    for key, value in list(base) + list(params.items()):
        name = key.name if isinstance(key, sp.Symbol) else str(key)
        if name not in by_name:
            raise ExtraParameterError(
                f"{name} is not a parameter of {system.name or 'the system'}; its parameters: "
                f"{', '.join(by_name) or 'none'}"
            )
        values[by_name[name]] = as_expression(value)
    return values


def _as_target(system: System, point_or_component: Any) -> tuple[FixedPoint | None, tuple | None]:
    if isinstance(point_or_component, FixedPoint):
        fp = point_or_component
        if fp.system is not system and (fp.system.dim != system.dim or fp.system.state != system.state
                                        or fp.system.rhs != system.rhs):
            raise DsAnalyzeError(
                f"the fixed point belongs to {fp.system.name or 'another system'}, not to {system.name or 'this one'}")
        return fp, fp.coordinates
    names = {s.name: s for s in system.state}
    if isinstance(point_or_component, Mapping):
        values = {}
        for k, v in point_or_component.items():
            name = k.name if isinstance(k, sp.Symbol) else str(k)
            if name not in names:
                raise DimensionError(f"{name} is not a state variable; state: {', '.join(names)}")
            values[names[name]] = as_expression(v, names)
        missing = [s.name for s in system.state if s not in values]
        if missing:
            raise DimensionError(f"the point gives no value for {', '.join(missing)}")
        return None, tuple(values[s] for s in system.state)
    if isinstance(point_or_component, (str, bytes)) or not isinstance(point_or_component, (Sequence, sp.MatrixBase)):
        if system.dim == 1 and not isinstance(point_or_component, (str, bytes)):
            return None, (as_expression(point_or_component),)
        raise DimensionError(
            f"linearise needs a FixedPoint, a mapping {{state: value}} or {system.dim} coordinates; "
            f"got {point_or_component!r}")
    coords = tuple(as_expression(c, names) for c in point_or_component)
    if len(coords) != system.dim:
        raise DimensionError(f"{len(coords)} coordinates given for the {system.dim} state variables "
                             f"({', '.join(names)})")
    return None, coords


def linearise(system: System, point_or_component: Any, *, timeout: float | None = None,
              **params: Any) -> Linearisation:
    """The linearisation at a fixed point, or along a component of fixed points.

    Parameters
    ----------
    system : Map or Flow
    point_or_component : FixedPoint, mapping or sequence
        A :class:`FixedPoint` (a point or a component, e.g. from
        :func:`~dsanalyze.symbolic.equilibria.fixed_points`), or coordinates
        as ``{"x": 0, "y": 0}`` or ``(0, 0)``.
    timeout : float, optional
        Seconds for the derivation; past it, :class:`~dsanalyze.errors.SymbolicTimeout`.
    **params
        Parameter values to substitute (by name); the others stay symbolic.
        The parameter values a numeric point was found at are always used.

    Returns
    -------
    Linearisation

    Examples
    --------
    >>> import sympy as sp
    >>> import dsanalyze as ds
    >>> from dsanalyze.symbolic.equilibria import fixed_points
    >>> F = ds.models.two_factor()
    >>> lin = linearise(F, fixed_points(F)[1])           # along the curve uv = 1
    >>> u, v, mu = F.state + F.params
    >>> set(lin.eigenvalues) == {1, sp.expand(1 - mu*(u**2 + v**2))}
    True
    >>> lin.neutral_directions[0].T
    Matrix([[u**2, -1]])
    >>> linearise(ds.Flow("x y", ["y", "-x"]), (0, 0)).classification.value
    'centre'
    """
    if not isinstance(system, System):
        raise TypeError(f"linearise needs a Map or a Flow, got {type(system).__name__}")
    with time_limit(timeout, f"linearisation of {system.name or 'the system'}"):
        return _linearise(system, point_or_component, params)


def system_linearise(self: System, point_or_component: Any, **kwargs: Any) -> Linearisation:
    """The linearisation of this system at a fixed point or along a component; see :func:`linearise`.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> sorted(system_linearise(ds.models.henon(), (0, 0), a=0, b=1).eigenvalues)
    [-1, 1]
    """
    return linearise(self, point_or_component, **kwargs)


def _linearise(system: System, target: Any, params: Mapping[str, Any]) -> Linearisation:
    fp, coords = _as_target(system, target)
    values = _given_values(system, params, fp.at if fp is not None else ())
    is_map = isinstance(system, Map)
    n = system.dim
    J = sp.Matrix(system.jacobian()).xreplace(values)
    if coords is not None:
        point = dict(zip(system.state, (sp.sympify(c).xreplace(values) for c in coords)))
        J = J.xreplace(point).applyfunc(_tidy_entry)
        charpoly = J.charpoly(LAMBDA).as_expr()
        if not J.has(sp.Float):
            charpoly = sp.factor(charpoly, LAMBDA)
        eigs, complete = _eigenvalues(charpoly)
        vectors = []
        for lam, m in eigs.items():
            basis = _nullspace(J - lam * sp.eye(n))
            if not basis:
                v = _adjugate_vector(J - lam * sp.eye(n), lambda e: e)
                basis = [v] if v is not None else []
            vectors.append((lam, m, tuple(_normalise_vector(v, lambda e: e) for v in basis)))
        kind, hyperbolic, stable = classify_eigenvalues(eigs, is_map, n) if complete else (
            EquilibriumType.DEPENDS, None, None)
        return Linearisation(system, fp, tuple(point[s] for s in system.state), tuple(values.items()),
                             sp.ImmutableMatrix(J), charpoly, eigs, tuple(vectors), kind, hyperbolic, stable,
                             eigenvalues_complete=complete)
    return _linearise_component(system, fp, values, J)


def _tidy_entry(e: sp.Expr) -> sp.Expr:
    if e.has(sp.Pow) and not all(p.exp.is_Integer for p in e.atoms(sp.Pow)):
        if e.free_symbols:  # keep radicands factored, as the coordinates have them
            return e.xreplace({p: sp.Pow(sp.factor(p.base), p.exp) for p in e.atoms(sp.Pow) if not p.exp.is_Integer})
        return sp.radsimp(sp.expand(e))
    return sp.factor(sp.cancel(e)) if e.free_symbols else sp.nsimplify(e) if e.is_Float else sp.cancel(e)


def _linearise_component(system: System, fp: FixedPoint, values: dict, J: sp.Matrix) -> Linearisation:
    """Along a component: everything in normal form modulo the component's equations."""
    state = system.state
    n = system.dim
    is_map = isinstance(system, Map)
    equations = [sp.numer(sp.together(sp.sympify(e).xreplace(values))) for e in fp.equations]
    if equations:
        extra = sorted(set().union(*(e.free_symbols for e in equations), *(e.free_symbols for e in J))
                       - set(state), key=lambda s: s.name)
        domain = sp.QQ.frac_field(*extra) if extra else sp.QQ
        basis = sp.groebner(equations, *state, order="lex", domain=domain)

        def normal_form(p):
            if not (p.free_symbols & set(state)):
                return p
            try:
                return basis.reduce(sp.expand(p))[1]
            except (sp.PolynomialError, sp.polys.polyerrors.CoercionFailed, sp.polys.polyerrors.DomainError):
                return p  # coefficients outside QQ(params) (a radical): left unreduced

        def reduce(e):
            num, den = sp.fraction(sp.together(sp.sympify(e)))
            rn, rd = normal_form(num), normal_form(den)
            if rd == 0:
                raise DsAnalyzeError(f"{sp.sstr(den)} vanishes on the component; the system is undefined there")
            return sp.factor(sp.cancel(rn / rd)) if rn != 0 else sp.Integer(0)
    else:
        def reduce(e):
            return sp.factor(sp.cancel(sp.sympify(e)))
    J = J.applyfunc(reduce)
    charpoly = J.charpoly(LAMBDA).as_expr()
    coefficients = sp.Poly(charpoly, LAMBDA).all_coeffs()
    charpoly = sp.factor(sum((reduce(c) * LAMBDA ** (len(coefficients) - 1 - i) for i, c in enumerate(coefficients)),
                             sp.Integer(0)), LAMBDA)
    eigs_raw, complete = _eigenvalues(charpoly)
    eigs: dict = {}
    for lam, m in eigs_raw.items():
        lam = reduce(lam) if all(p.exp.is_Integer for p in sp.sympify(lam).atoms(sp.Pow)) else lam
        lam = sp.expand(lam) if lam.is_polynomial(*state) else lam
        eigs[lam] = eigs.get(lam, 0) + m
    neutral_value = sp.Integer(1) if is_map else sp.Integer(0)
    gradients = [sp.Matrix([sp.diff(g, s) for s in state]) for g in equations]

    def tangent(v):
        if fp.parametrisation is not None and set(fp.free) & v.free_symbols:
            point = dict(zip(state, fp.parametrisation))
            return all(is_zero(sp.cancel((g.xreplace(point).T * v)[0])) is True for g in gradients)
        return all(is_zero(reduce((g.T * v)[0])) is True for g in gradients)

    vectors, neutral = [], []
    for lam, m in eigs.items():
        M = (J - lam * sp.eye(n)).applyfunc(reduce)
        found = []
        if m == 1:
            v = _adjugate_vector(M, reduce)
            if v is not None:
                found = [v]
        if not found and fp.parametrisation is not None:
            point = dict(zip(state, fp.parametrisation))
            found = [v for v in _nullspace(M.xreplace(point).applyfunc(sp.cancel))]
        if not found and not equations:
            found = _nullspace(M)
        found = tuple(_normalise_vector(v, reduce) for v in found)
        vectors.append((lam, m, found))
        if is_zero(reduce(lam - neutral_value)) is True:
            neutral += [v for v in found if tangent(v)] if equations else list(found)
    transverse = dict(eigs)
    removed = min(len(neutral), fp.dimension)
    if removed:
        for lam in list(transverse):
            if is_zero(reduce(lam - neutral_value)) is True:
                transverse[lam] -= removed
                if transverse[lam] <= 0:
                    del transverse[lam]
                break
    transverse_kind = classify_eigenvalues(transverse, is_map, None)[0] if complete and transverse else (
        EquilibriumType.DEPENDS if transverse or not complete else None)
    if fp.dimension > 0:
        kind, hyperbolic, stable = EquilibriumType.NON_HYPERBOLIC, False, None
    else:
        kind, hyperbolic, stable = (classify_eigenvalues(eigs, is_map, n) if complete
                                    else (EquilibriumType.DEPENDS, None, None))
    parametrised = None
    if fp.parametrisation is not None:
        point = dict(zip(state, fp.parametrisation))
        parametrised = {}
        for lam, m in eigs.items():
            key = sp.expand(sp.cancel(sp.sympify(lam).xreplace(point)))
            parametrised[key] = parametrised.get(key, 0) + m
    return Linearisation(system, fp, None, tuple(values.items()), sp.ImmutableMatrix(J), charpoly, eigs,
                         tuple(vectors), kind, hyperbolic, stable, tuple(neutral), transverse, transverse_kind,
                         parametrised, complete)
