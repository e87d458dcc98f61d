"""Dynamics on an invariant curve: parametrise a conic (or a line) and compute the induced map.

:func:`parametrise_conic` writes G(x, y) = 0, G of degree <= 2, as

- an ellipse: x = c + alpha cos(t) e1 + beta sin(t) e2 (centre c, principal
  axes e1, e2 of the quadratic form, semi-axes alpha, beta);
- a hyperbola branch: x = c + s (alpha cosh(t) e1 + beta sinh(t) e2), s = +-1;
- a parabola: x = t w + r(t) w_perp (r rational in t);
- a line: x = p + t d.

:func:`induced_map` restricts a map to an invariant curve and returns the
induced circle map (ellipse) or interval map (line, parabola, hyperbola
branch) in the curve parameter t. On an ellipse it substitutes
cos t = (w + 1/w)/2, sin t = (w - 1/w)/(2i): the image point has
cos t' + i sin t' = Z(w), a Laurent polynomial in w. When Z(w) = c w^n
(|c| = 1) the induced map is t -> arg(c) + n t exactly: a rotation (n = 1,
rotation number arg(c)/2 pi, Lyapunov exponent 0), a reflection (n = -1) or
an expanding map of degree n with Lyapunov exponent ln |n|. The two-factor
map's ellipse mu(u^2+v^2) - mu^2 uv = 4 - mu^2 gives t -> pi - 3t for every
0 < mu < 2: angle tripling with a reflection, exponent ln 3.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DimensionError, ExpressionError, ParameterError
from ..systems import Map, System
from ..verify import Basis, Verdict
from .intervals import latex_condition
from .invariants import InvariantCurve, is_invariant
from .periodic import _Budget, _exact_values, _format_row, _parameter_rows, _parse, _require

__all__ = ["ConicParametrisation", "CurveDynamics", "parametrise_conic", "induced_map"]


def _tidy_sqrt(value: sp.Expr) -> sp.Expr:
    """sqrt of a factored rational function (one radical, not a product of several)."""
    return sp.sqrt(sp.factor(sp.cancel(sp.together(value))))


@dataclass(frozen=True)
class ConicParametrisation:
    """A parametrisation x = X(t) of a conic (or a line) G = 0.

    Attributes
    ----------
    state : tuple of Symbol
        The two coordinates.
    equation : Expr
        G.
    kind : str
        ``"ellipse"``, ``"hyperbola"`` (one branch), ``"parabola"`` or ``"line"``.
    parameter : Symbol
        t.
    coordinates : tuple of Expr
        X(t), exact.
    inverse : tuple of Expr
        For an ellipse: (cos t, sin t) as functions of the point; for a
        hyperbola branch: (cosh t, sinh t); for a line or a parabola: (t,).
    centre : tuple of Expr or None
    axes : tuple of tuple of Expr, or None
        Unnormalised orthogonal principal directions (e1, e2).
    semi_axes : tuple of Expr or None
        alpha, beta: X(t) = c + alpha cos t e1/|e1| + beta sin t e2/|e2| for an ellipse.
    conditions : sympy Boolean
        Where the conic is of this kind with real points (e.g. ``(0 < mu) & (mu < 2)``).
    branch : int
        For a hyperbola, which branch (+1 or -1).

    Examples
    --------
    >>> import sympy as sp
    >>> u, v, mu = sp.symbols("u v mu", real=True)
    >>> E = parametrise_conic(mu*(u**2 + v**2) - mu**2*u*v - (4 - mu**2), (u, v))
    >>> E.kind, E.coordinates
    ('ellipse', (sqrt((mu + 2)/mu)*cos(t) + sqrt(-(mu - 2)/mu)*sin(t), sqrt((mu + 2)/mu)*cos(t) - sqrt(-(mu - 2)/mu)*sin(t)))
    >>> E.conditions
    (0 < mu) & (mu < 2)
    """

    state: tuple[sp.Symbol, ...]
    equation: sp.Expr
    kind: str
    parameter: sp.Symbol
    coordinates: tuple[sp.Expr, ...]
    inverse: tuple[sp.Expr, ...]
    centre: tuple[sp.Expr, ...] | None = None
    axes: tuple[tuple[sp.Expr, ...], ...] | None = None
    semi_axes: tuple[sp.Expr, ...] | None = None
    conditions: sp.Basic = sp.true
    branch: int = 1

    @property
    def periodic(self) -> bool:
        """Whether t lives on a circle (t mod 2 pi)."""
        return self.kind == "ellipse"

    def latex(self) -> str:
        t = sp.latex(self.parameter)
        rows = ",\\ ".join(f"{sp.latex(x)} = {sp.latex(c)}" for x, c in zip(self.state, self.coordinates))
        where = f"{t} \\in [0, 2\\pi)" if self.periodic else f"{t} \\in \\mathbb{{R}}"
        text = f"\\text{{{self.kind}}}:\\ {rows},\\quad {where}"
        if self.conditions is not sp.true:
            text += r" \quad \text{if } " + latex_condition(self.conditions)
        return text

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def verify(self, *, samples: int = 64, seed: int = 0, tolerance: float = 1e-12, **params: Any) -> Verdict:
        """G(X(t)) = 0 at seeded sample values of t, relative to the size of the terms of G. Basis NUMERIC."""
        claim = f"X(t) parametrises {sp.sstr(self.equation)} = 0 ({self.kind})"
        symbols = sorted((self.equation.free_symbols | set().union(*(c.free_symbols for c in self.coordinates)))
                         - set(self.state) - {self.parameter}, key=str)
        rows = _rows(symbols, params)
        rng = np.random.default_rng(seed)
        G = sp.lambdify([*self.state, *symbols], [self.equation, _size(self.equation, self.state)], "numpy")
        X = sp.lambdify([self.parameter, *symbols], list(self.coordinates), "numpy")
        worst, used, skipped = 0.0, 0, []
        for row in rows:
            if _holds(self.conditions, row) is not True:
                skipped.append(row)
                continue
            ts = rng.uniform(0, 2 * np.pi, samples) if self.periodic else rng.uniform(-2, 2, samples)
            values = list(row.values())
            points = [np.broadcast_to(np.asarray(c, dtype=float), ts.shape) for c in X(ts, *values)]
            g, size = (np.broadcast_to(np.asarray(c, dtype=float), ts.shape) for c in G(*points, *values))
            worst = max(worst, float(np.max(np.abs(g) / np.maximum(size, np.finfo(float).tiny))))
            used += 1
        if used == 0:
            return Verdict.unchecked(claim, self.kind, f"the conditions {self.conditions} fail at every given parameter set")
        note = f"{samples} values of t at {used} parameter set(s), seed {seed}"
        if skipped:
            note += f"; skipped where the conditions fail: {', '.join(_format_row(r) for r in skipped)}"
        return Verdict(claim, self.kind, worst, tolerance, worst <= tolerance, Basis.NUMERIC, {}, note)


def _rows(symbols: Sequence[sp.Symbol], params: Mapping[str, Any]) -> list[dict[sp.Symbol, float]]:
    """Rows of parameter values for free symbols (lists broadcast)."""
    by_name = {s.name: s for s in symbols}
    extra = set(params) - set(by_name)
    if extra:
        raise ParameterError(f"{', '.join(sorted(extra))} is not a symbol of the curve; its symbols: "
                             f"{', '.join(by_name) or 'none'}")
    missing = [n for n in by_name if n not in params]
    if missing:
        raise ParameterError(f"give a value for {', '.join(missing)}, e.g. {missing[0]}=1.0")
    arrays = {by_name[k]: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in params.items()}
    n = max((len(a) for a in arrays.values()), default=1)
    return [{s: float(a[i] if len(a) > 1 else a[0]) for s, a in arrays.items()} for i in range(n)] or [{}]


def _holds(condition: sp.Basic, row: Mapping[sp.Symbol, float]) -> bool | None:
    value = condition.xreplace(_exact_values(row)) if condition not in (sp.true, sp.false) else condition
    return True if value is sp.true else False if value is sp.false else None


def _size(expr: sp.Expr, state) -> sp.Expr:
    poly = sp.Poly(sp.expand(expr), *state)
    return sp.Add(*[sp.Abs(c) * sp.Mul(*[sp.Abs(x) ** e for x, e in zip(state, m)]) for m, c in poly.terms()])


def _simplified_condition(condition: sp.Basic) -> sp.Basic:
    """For one free symbol, the condition as its exact region (``(0 < mu) & (mu < 2)``)."""
    from .intervals import solve_region
    from .periodic import _relational

    symbols = condition.free_symbols
    if len(symbols) != 1 or condition in (sp.true, sp.false):
        return condition
    (p,) = symbols
    try:
        return _relational(solve_region(condition, p), p)
    except (ValueError, NotImplementedError, TypeError):
        return condition


def parametrise_conic(curve: Any, state: Any = None, *, parameter: str = "t", kind: str | None = None,
                      branch: int = 1, timeout: float | None = None) -> ConicParametrisation:
    """A parametrisation of the conic (or line) G = 0.

    Parameters
    ----------
    curve : InvariantCurve or expression
        G, of total degree 1 or 2 in the two state variables.
    state : System or pair of Symbol, optional
        The coordinates (taken from the curve's system when it is an InvariantCurve).
    parameter : str
        Name of the curve parameter.
    kind : str, optional
        ``"ellipse"`` or ``"hyperbola"`` when the type depends on parameters
        (default: what the discriminant says where it is a number, else ellipse).
    branch : int
        Which branch of a hyperbola (+1 or -1).
    timeout : float, optional
        Seconds; past it :class:`~dsanalyze.errors.SymbolicTimeout`.

    Raises
    ------
    ExpressionError
        If G has degree > 2, splits into lines (parametrise each factor), or
        is empty over the reals.
    """
    with _Budget(timeout, "parametrising a conic")("the principal axes and the parametrisation"):
        return _parametrise(curve, state, parameter, kind, branch)


def _parametrise(curve, state, parameter, kind, branch) -> ConicParametrisation:
    if isinstance(curve, InvariantCurve):
        state = curve.system.state
        G = curve.expression
    else:
        if isinstance(state, System):
            state, G = state.state, _parse(state, curve, "the curve")
        elif state is None:
            raise DimensionError("give the state variables: parametrise_conic(G, (x, y)) or parametrise_conic(G, system)")
        else:
            state = tuple(state)
            G = sp.sympify(curve)
    if len(state) != 2:
        raise DimensionError(f"a conic lives in the plane; got {len(state)} state variables")
    G = sp.expand(G)
    t = sp.Symbol(parameter, real=True)
    x, y = state
    try:
        poly = sp.Poly(G, x, y)
    except sp.PolynomialError:
        raise ExpressionError(f"{G} is not a polynomial in {x}, {y}") from None
    degree = poly.total_degree()
    if degree == 1:
        return _line(G, state, t)
    if degree != 2:
        raise ExpressionError(f"parametrise_conic needs degree 1 or 2; {G} has degree {degree}")
    _, factors = sp.factor_list(G, x, y)
    pieces = [f for f, m in factors if f.has(x, y) for _ in range(m)]
    if len(pieces) > 1:
        raise ExpressionError(
            f"{G} splits into {' * '.join(f'({sp.sstr(f)})' for f in pieces)}: parametrise each line on its own"
        )
    p, r, s = poly.coeff_monomial(x**2), poly.coeff_monomial(x * y) / 2, poly.coeff_monomial(y**2)
    bx, by = poly.coeff_monomial(x), poly.coeff_monomial(y)
    A = sp.Matrix([[p, r], [r, s]])
    det = sp.factor(A.det())
    if det == 0:
        return _parabola(G, state, t, A)
    centre = A.solve(-sp.Matrix([bx, by]) / 2).applyfunc(sp.cancel)
    k = sp.cancel(G.xreplace({x: centre[0], y: centre[1]}))        # G = (x - c)^T A (x - c) + k
    e1, e2, l1, l2 = _principal_axes(A)
    if kind is None:
        kind = "hyperbola" if (det.is_number and det < 0) else "ellipse"
    if kind == "ellipse":
        conditions = sp.And(sp.StrictGreaterThan(det, 0), sp.StrictLessThan(sp.factor((p + s) * k), 0))
        alpha2 = sp.cancel(-k / (l1 * _norm2(e1)))
        beta2 = sp.cancel(-k / (l2 * _norm2(e2)))
        a, b = _tidy_sqrt(alpha2), _tidy_sqrt(beta2)
        coordinates = tuple(sp.expand(centre[i] + a * sp.cos(t) * e1[i] + b * sp.sin(t) * e2[i], deep=False) for i in range(2))
        shifted = [x - centre[0], y - centre[1]]
        cos_t = sp.cancel((e1[0] * shifted[0] + e1[1] * shifted[1]) / _norm2(e1)) / a
        sin_t = sp.cancel((e2[0] * shifted[0] + e2[1] * shifted[1]) / _norm2(e2)) / b
        return ConicParametrisation(
            tuple(state), G, "ellipse", t, coordinates, (cos_t, sin_t), tuple(centre), (tuple(e1), tuple(e2)),
            (sp.sqrt(sp.factor(sp.cancel(-k / l1))), sp.sqrt(sp.factor(sp.cancel(-k / l2)))),
            _simplified_condition(conditions),
        )
    if kind != "hyperbola":
        raise ValueError(f"kind must be 'ellipse' or 'hyperbola', got {kind!r}")
    if branch not in (1, -1):
        raise ValueError(f"branch must be 1 or -1, got {branch!r}")
    # the axis through the vertices is the one where lambda has the sign of -k
    conditions = sp.StrictLessThan(det, 0)
    if sp.factor(l1 * k).is_positive or (sp.factor(l2 * k).is_negative and not sp.factor(l1 * k).is_negative):
        e1, e2, l1, l2 = e2, e1, l2, l1
    alpha2 = sp.cancel(-k / (l1 * _norm2(e1)))
    beta2 = sp.cancel(k / (l2 * _norm2(e2)))
    conditions = sp.And(conditions, sp.StrictGreaterThan(sp.factor(alpha2), 0), sp.StrictGreaterThan(sp.factor(beta2), 0))
    a, b = _tidy_sqrt(alpha2), _tidy_sqrt(beta2)
    coordinates = tuple(
        sp.expand(centre[i] + branch * a * sp.cosh(t) * e1[i] + b * sp.sinh(t) * e2[i], deep=False) for i in range(2)
    )
    shifted = [x - centre[0], y - centre[1]]
    cosh_t = branch * sp.cancel((e1[0] * shifted[0] + e1[1] * shifted[1]) / _norm2(e1)) / a
    sinh_t = sp.cancel((e2[0] * shifted[0] + e2[1] * shifted[1]) / _norm2(e2)) / b
    return ConicParametrisation(
        tuple(state), G, "hyperbola", t, coordinates, (cosh_t, sinh_t), tuple(centre), (tuple(e1), tuple(e2)),
        (sp.sqrt(sp.factor(sp.cancel(-k / l1))), sp.sqrt(sp.factor(sp.cancel(k / l2)))),
        _simplified_condition(conditions), branch,
    )


def _norm2(e) -> sp.Expr:
    return sp.cancel(e[0] ** 2 + e[1] ** 2)


def _principal_axes(A: sp.Matrix):
    """Orthogonal eigenvectors (unnormalised, no radicals when possible) and eigenvalues of a symmetric 2x2 matrix."""
    p, r, s = A[0, 0], A[0, 1], A[1, 1]
    if sp.simplify(r) == 0:
        return [1, 0], [0, 1], p, s
    if sp.simplify(p - s) == 0:
        return [1, 1], [1, -1], sp.cancel(p + r), sp.cancel(p - r)
    h = sp.sqrt(sp.factor((p - s) ** 2 + 4 * r**2))
    l1, l2 = (p + s + h) / 2, (p + s - h) / 2
    e1 = [r, sp.simplify(l1 - p)]
    e2 = [sp.simplify(-(l1 - p)), r]
    return e1, e2, l1, l2


def _line(G, state, t) -> ConicParametrisation:
    x, y = state
    a, b = sp.diff(G, x), sp.diff(G, y)
    c = sp.expand(G - a * x - b * y)
    norm = sp.cancel(a**2 + b**2)
    point = [sp.cancel(-c * a / norm), sp.cancel(-c * b / norm)]
    direction = [-b, a]
    coordinates = tuple(sp.expand(point[i] + t * direction[i]) for i in range(2))
    inverse = (sp.cancel((direction[0] * (x - point[0]) + direction[1] * (y - point[1])) / norm),)
    conditions = sp.Ne(sp.factor(norm), 0) if norm.free_symbols else sp.true
    return ConicParametrisation(tuple(state), G, "line", t, coordinates, inverse, tuple(point),
                                (tuple(direction),), None, conditions)


def _parabola(G, state, t, A) -> ConicParametrisation:
    x, y = state
    p, r, s = A[0, 0], A[0, 1], A[1, 1]
    # A = lambda w w^T / |w|^2 with A w_perp = 0
    w = [p, r] if sp.simplify(p) != 0 or sp.simplify(r) != 0 else [r, s]
    w_perp = [-w[1], w[0]]
    rho = sp.Symbol("_rho")
    on = sp.expand(G.xreplace({x: t * w[0] + rho * w_perp[0], y: t * w[1] + rho * w_perp[1]}))
    poly = sp.Poly(on, rho)
    if poly.degree() != 1:
        raise ExpressionError(f"{G} is a degenerate parabola (parallel lines or empty)")
    a, b = poly.all_coeffs()
    r_t = sp.cancel(-b / a)
    coordinates = tuple(sp.expand(t * w[i] + r_t * w_perp[i]) for i in range(2))
    inverse = (sp.cancel((w[0] * x + w[1] * y) / _norm2(w)),)
    return ConicParametrisation(tuple(state), G, "parabola", t, coordinates, inverse, None,
                                (tuple(w), tuple(w_perp)), None, sp.Ne(sp.factor(a), 0) if a.free_symbols else sp.true)


# ---------------------------------------------------------------------------
# The induced map
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CurveDynamics:
    """The map induced on an invariant conic, in the curve parameter t.

    Attributes
    ----------
    system : Map
    parametrisation : ConicParametrisation
    induced : Expr
        t' as a function of t (mod 2 pi on an ellipse). Exact; for a
        non-linear circle map, ``atan2(sin t', cos t')`` of the image.
    linear : bool
        Whether t' = shift + degree * t.
    degree : int or None
        n in t' = a + n t (the degree of the circle map).
    shift : Expr or None
        a.
    lyapunov_exponent : Expr or None
        ln |n| for a linear induced map (0 for rotations and reflections,
        -oo for a constant map); None otherwise.
    rotation_number : Expr or None
        a / (2 pi) mod 1 for a rotation (n = 1).
    description : str
        In words: "rotation by ...", "angle tripling with reflection: t -> pi - 3t", ...
    conditions : sympy Boolean
        Where the curve is this conic and invariant.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.models.two_factor()
    >>> u, v = F.state; mu, = F.params
    >>> D = induced_map(F, mu*(u**2 + v**2) - mu**2*u*v - (4 - mu**2))
    >>> D.induced, D.lyapunov_exponent
    (pi - 3*t, log(3))
    >>> D.verify(mu=[0.5, 1.0, 1.5]).passed
    True
    """

    system: Map
    parametrisation: ConicParametrisation
    induced: sp.Expr
    linear: bool
    degree: int | None
    shift: sp.Expr | None
    lyapunov_exponent: sp.Expr | None
    rotation_number: sp.Expr | None
    description: str
    conditions: sp.Basic = sp.true

    @property
    def parameter(self) -> sp.Symbol:
        return self.parametrisation.parameter

    def latex(self) -> str:
        t = sp.latex(self.parameter)
        mod = r" \pmod{2\pi}" if self.parametrisation.periodic else ""
        text = f"{t} \\mapsto {sp.latex(self.induced)}{mod}"
        if self.lyapunov_exponent is not None:
            text += f",\\quad \\lambda = {sp.latex(self.lyapunov_exponent)}"
        if self.rotation_number is not None:
            text += f",\\quad \\rho = {sp.latex(self.rotation_number)}"
        text += f" \\quad \\text{{({self.description})}}"
        if self.conditions is not sp.true:
            text += r" \quad \text{if } " + latex_condition(self.conditions)
        return text

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def verify(self, *, samples: int = 64, steps: int = 6, seed: int = 0, tolerance: float = 1e-10,
               **params: Any) -> Verdict:
        """Check the induced map with the compiled map (basis NUMERIC).

        At seeded values of t: one step of the compiled map carries X(t) to
        X(t') with t' the induced map (mod 2 pi on an ellipse); the tangent
        X'(t) is carried to (dt'/dt) X'(t') (so log|dt'/dt| = the claimed
        exponent when the map is linear); and a short orbit of
        :func:`dsanalyze.trajectory` (``steps`` steps) follows X(t_k).
        """
        from ..numeric.orbits import evaluate_jacobian, evaluate_rhs, trajectory

        system, par = self.system, self.parametrisation
        t = par.parameter
        claim = f"on {sp.sstr(par.equation)} = 0, {system.name or 'the map'} induces t -> {sp.sstr(self.induced)}"
        rows = _parameter_rows(system, params)
        rng = np.random.default_rng(seed)
        symbols = list(system.params)
        X = sp.lambdify([t, *symbols], list(par.coordinates), "numpy")
        dX = sp.lambdify([t, *symbols], [sp.diff(c, t) for c in par.coordinates], "numpy")
        step = sp.lambdify([t, *symbols], self.induced, "numpy")
        slope = sp.lambdify([t, *symbols], sp.diff(self.induced, t), "numpy")
        worst_point, worst_tangent, worst_orbit, used, skipped = 0.0, 0.0, 0.0, 0, []
        for row in rows:
            if _holds(self.conditions, row) is not True:
                skipped.append(row)
                continue
            values = list(row.values())
            named = {k.name: v for k, v in row.items()}
            ts = rng.uniform(0, 2 * np.pi, samples) if par.periodic else rng.uniform(-1, 1, samples)
            points = np.column_stack([np.broadcast_to(np.asarray(c, dtype=float), ts.shape) for c in X(ts, *values)])
            images = evaluate_rhs(system, points, named)
            t_next = np.broadcast_to(np.asarray(step(ts, *values), dtype=float), ts.shape)
            predicted = np.column_stack(
                [np.broadcast_to(np.asarray(c, dtype=float), ts.shape) for c in X(t_next, *values)]
            )
            scale = np.maximum(1.0, np.linalg.norm(points, axis=1))
            worst_point = max(worst_point, float(np.max(np.linalg.norm(images - predicted, axis=1) / scale)))
            J = evaluate_jacobian(system, points, named)
            tangent = np.column_stack([np.broadcast_to(np.asarray(c, dtype=float), ts.shape) for c in dX(ts, *values)])
            carried = np.einsum("nij,nj->ni", J, tangent)
            factor = np.broadcast_to(np.asarray(slope(ts, *values), dtype=float), ts.shape)
            expected = factor[:, None] * np.column_stack(
                [np.broadcast_to(np.asarray(c, dtype=float), ts.shape) for c in dX(t_next, *values)]
            )
            worst_tangent = max(worst_tangent, float(np.max(
                np.linalg.norm(carried - expected, axis=1) / np.maximum(1.0, np.linalg.norm(carried, axis=1)))))
            start = float(ts[0])
            path = trajectory(system, points[0], steps, **named)
            s = start
            for k in range(1, steps + 1):
                s = float(np.asarray(step(s, *values), dtype=float))
                target = np.array([float(np.asarray(c, dtype=float)) for c in X(s, *values)])
                gap = float(np.linalg.norm(path[k] - target)) / max(1.0, float(np.linalg.norm(target)))
                worst_orbit = max(worst_orbit, gap / (max(3.0, abs(self.degree or 3)) ** k))
            used += 1
        if used == 0:
            return Verdict.unchecked(claim, sp.sstr(self.induced), f"the conditions {self.conditions} fail at every given parameter set")
        measured = {"image": worst_point, "tangent": worst_tangent, "orbit (per step growth removed)": worst_orbit}
        passed = worst_point <= tolerance and worst_tangent <= tolerance and worst_orbit <= tolerance
        note = f"{samples} values of t and a {steps}-step trajectory at {used} parameter set(s), seed {seed}"
        if skipped:
            note += f"; skipped where the conditions fail: {', '.join(_format_row(r) for r in skipped)}"
        return Verdict(claim, sp.sstr(self.induced), measured, tolerance, passed, Basis.NUMERIC, {}, note)


def induced_map(system: Map, curve: Any, *, kind: str | None = None, branch: int = 1,
                timeout: float | None = None) -> CurveDynamics:
    """The map induced by ``system`` on the invariant conic (or line) ``curve``, in the curve parameter.

    Parameters
    ----------
    system : Map
    curve : InvariantCurve, ConicParametrisation or expression
        The invariant curve G = 0 (its invariance is proved first).
    kind, branch
        Passed to :func:`parametrise_conic`.
    timeout : float, optional
        Seconds for the derivation.

    Returns
    -------
    CurveDynamics
        With the exact Lyapunov exponent when the induced map is linear in t.

    Raises
    ------
    NotInvariantError
        If the curve is not invariant under the map.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> squaring = ds.Map("x y", ["x**2 - y**2", "2*x*y"])
    >>> D = induced_map(squaring, "x**2 + y**2 - 1")
    >>> D.induced, D.lyapunov_exponent, D.description
    (2*t, log(2), 'angle doubling: t -> 2*t')
    """
    from ..errors import NotInvariantError

    _require(system, Map, "induced_map")
    if system.dim != 2:
        raise DimensionError("induced_map works on planar maps")
    budget = _Budget(timeout, f"the map induced by {system.name or 'the map'} on a curve")
    if isinstance(curve, ConicParametrisation):
        par = curve
    else:
        with budget("parametrising the curve"):
            par = parametrise_conic(curve if isinstance(curve, InvariantCurve) else _parse(system, curve, "the curve"),
                                    system, kind=kind, branch=branch)
    with budget("proving the curve invariant"):
        certificate = is_invariant(system, par.equation)
    if not certificate.invariant:
        raise NotInvariantError(
            f"{sp.sstr(par.equation)} = 0 is not invariant under {system.name or 'the map'}: "
            f"the remainder of G o F modulo G is {sp.sstr(sp.factor(certificate.remainder))}"
        )
    conditions = sp.And(par.conditions, certificate.conditions)
    image = [sp.expand(r.xreplace(dict(zip(system.state, par.coordinates)))) for r in system.rhs]
    if par.kind in ("line", "parabola"):
        with budget("the induced interval map"):
            induced = sp.expand(sp.cancel(par.inverse[0].xreplace(dict(zip(system.state, image)))))
        return _interval_dynamics(system, par, induced, conditions)
    with budget("the induced circle map"):
        return _circle_dynamics(system, par, image, conditions)


def _interval_dynamics(system, par, induced, conditions) -> CurveDynamics:
    t = par.parameter
    poly = sp.Poly(induced, t) if induced.is_polynomial(t) else None
    if poly is not None and poly.degree() <= 1:
        a = poly.coeff_monomial(t)
        shift = poly.coeff_monomial(1)
        exponent = sp.log(sp.Abs(a)) if a != 0 else -sp.oo
        description = f"affine map t -> {sp.sstr(induced)}"
        return CurveDynamics(system, par, induced, True, None, shift, sp.simplify(exponent), None, description,
                             conditions)
    return CurveDynamics(system, par, induced, False, None, None, None, None,
                         f"{'polynomial' if poly is not None else 'rational'} interval map t -> {sp.sstr(induced)}",
                         conditions)


def _circle_dynamics(system, par, image, conditions) -> CurveDynamics:
    """The induced map of an ellipse (or a hyperbola branch) through z = e^{it} (or e^t)."""
    t = par.parameter
    w = sp.Symbol("_w")
    elliptic = par.kind == "ellipse"
    if elliptic:
        to_w = {sp.cos(t): (w + 1 / w) / 2, sp.sin(t): (w - 1 / w) / (2 * sp.I)}
    else:
        to_w = {sp.cosh(t): (w + 1 / w) / 2, sp.sinh(t): (w - 1 / w) / 2}
    first, second = par.inverse                     # cos t', sin t' (or cosh, sinh) of the image point
    on_image = dict(zip(par.state, image))
    Z = first.xreplace(on_image) + (sp.I if elliptic else 1) * second.xreplace(on_image)
    radicals = sorted({p for p in sp.preorder_traversal(Z) if isinstance(p, sp.Pow) and p.exp == sp.Rational(1, 2)},
                      key=sp.default_sort_key)
    names = [sp.Symbol(f"_r{i}", positive=True) for i in range(len(radicals))]
    squares = {n: r.base for n, r in zip(names, radicals)}
    Zs = Z.xreplace(dict(zip(radicals, names))).xreplace(to_w)
    Zs = sp.expand(Zs.subs({sp.cos(t): to_w.get(sp.cos(t), sp.cos(t))}))
    coefficients = _laurent(Zs, w, squares)
    nonzero = {k: c for k, c in coefficients.items() if not _vanishes(c, names, radicals)}
    back = dict(zip(names, radicals))
    if len(nonzero) == 1:
        ((n, c),) = nonzero.items()
        c = sp.simplify(sp.radsimp(c.xreplace(back)))
        if elliptic:
            if sp.simplify(sp.Abs(c) - 1) == 0 or sp.simplify(c * sp.conjugate(c) - 1) == 0:
                shift = sp.arg(c) if not c.is_number else sp.nsimplify(sp.arg(c))
                shift = sp.simplify(shift)
                induced = shift + n * t
                return _linear_circle(system, par, induced, n, shift, conditions)
        else:
            if c.is_positive is not False:
                shift = sp.simplify(sp.log(c))
                induced = shift + n * t
                exponent = sp.log(sp.Abs(n)) if n != 0 else -sp.oo
                return CurveDynamics(system, par, induced, True, int(n), shift, exponent, None,
                                     f"linear map of the branch parameter: t -> {sp.sstr(induced)}", conditions)
    # not linear in the angle: t' = atan2(sin t', cos t') of the image
    if elliptic:
        induced = sp.atan2(second.xreplace(on_image), first.xreplace(on_image))
        return CurveDynamics(system, par, induced, False, None, None, None, None,
                             "circle map, not linear in the angle", conditions)
    induced = sp.asinh(second.xreplace(on_image))
    return CurveDynamics(system, par, induced, False, None, None, None, None,
                         "map of the branch parameter, not linear", conditions)


def _laurent(expr: sp.Expr, w: sp.Symbol, squares: Mapping[sp.Symbol, sp.Expr]) -> dict[int, sp.Expr]:
    """Coefficients of a Laurent polynomial in w, radical symbols r reduced with r^2 = squares[r]."""
    out: dict[int, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        powers = term.as_powers_dict()
        k = int(powers.get(w, 0))
        coefficient = term / w**k if k else term
        for r, base in squares.items():
            e = coefficient.as_powers_dict().get(r, 0)
            if e and e.is_Integer and abs(e) >= 2:
                reduced = (e % 2)
                coefficient = coefficient / r**e * r**reduced * base ** ((e - reduced) // 2)
        out[k] = out.get(k, 0) + coefficient
    return {k: sp.expand(c) for k, c in out.items()}


def _vanishes(c: sp.Expr, names, radicals) -> bool:
    """Exact test that a coefficient (a polynomial in the radical symbols) is zero."""
    if c == 0:
        return True
    grouped = sp.Poly(c, *names) if names else None
    if grouped is not None and all(sp.cancel(sp.together(k)) == 0 for k in grouped.coeffs()):
        return True
    value = c.xreplace(dict(zip(names, radicals)))
    return sp.simplify(sp.radsimp(sp.together(value))) == 0


def _linear_circle(system, par, induced, n, shift, conditions) -> CurveDynamics:
    n = int(n)
    if n == 1:
        rotation = sp.Mod(shift / (2 * sp.pi), 1)
        return CurveDynamics(system, par, induced, True, 1, shift, sp.Integer(0), rotation,
                             f"rotation by {sp.sstr(shift)}: rotation number {sp.sstr(rotation)}", conditions)
    if n == -1:
        return CurveDynamics(system, par, induced, True, -1, shift, sp.Integer(0), None,
                             f"reflection t -> {sp.sstr(induced)}: every orbit has period 1 or 2", conditions)
    if n == 0:
        return CurveDynamics(system, par, induced, True, 0, shift, -sp.oo, None,
                             "constant map: the curve collapses to one point", conditions)
    names = {2: "doubling", 3: "tripling", 4: "quadrupling"}
    word = f"angle {names.get(abs(n), f'multiplication by {abs(n)}')}"
    if n < 0:
        word += " with reflection"
    return CurveDynamics(system, par, induced, True, n, shift, sp.log(abs(n)), None,
                         f"{word}: t -> {sp.sstr(induced)}", conditions)
