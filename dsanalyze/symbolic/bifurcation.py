"""Local bifurcations of fixed points along one parameter, with exact parameter values.

:func:`bifurcations` follows each fixed point (an exact branch x*(r), or a
component of fixed points) along a parameter r and reports where a
multiplier (maps) or an eigenvalue (flows) reaches the stability boundary:

maps
    multiplier 1: fold, transcritical or pitchfork (told apart by the normal
    form, below); multiplier -1: flip (period doubling), with the
    normal-form coefficient c (supercritical when c > 0: a stable 2-cycle is
    born); a complex pair on the unit circle: Neimark-Sacker (in 2-D
    det = 1 with |tr| < 2).
flows
    eigenvalue 0: fold, transcritical or pitchfork; a purely imaginary pair:
    Hopf (in 2-D tr = 0 with det > 0), with the first Lyapunov coefficient
    l1 (supercritical when l1 < 0).

Normal forms (Kuznetsov, *Elements of Applied Bifurcation Theory*, 3rd ed.,
2004, sections 3.4-3.5, 4.4, 5.4): with f = F - x for a map and f the
vector field of a flow, A = D_x f at the bifurcation, A q = 0, A^T p = 0,
<p, q> = 1, |q| = 1, B and C the second and third derivatives of f,

- a = <p, f_r>: a != 0 is a fold (the branch turns back);
- else b = <p, B(q, q)>: b != 0 is a transcritical bifurcation;
- else c3 = <p, C(q, q, q)> - 3 <p, B(q, h)> with A h = B(q, q), h . q = 0:
  c3 != 0 is a pitchfork, supercritical when c3 < 0 (the new branches
  coexist with the unstable old one).

The flip coefficient is c = <p, C(q,q,q)>/6 - <p, B(q, (A - I)^{-1} B(q,q))>/2
(A = D_x F, A q = -q, A^T p = -p, <p, q> = 1, |q| = 1; supercritical when
c > 0), and the first Lyapunov coefficient of a Hopf point is Kuznetsov's
formula (Section 3.5):

    l1 = Re[ <p, C(q,q,qbar)> - 2 <p, B(q, A^{-1} B(q,qbar))>
             + <p, B(qbar, (2 i w0 I - A)^{-1} B(q,q))> ] / (2 w0)

with A q = i w0 q, A^T p = -i w0 p, <p, q> = pbar . q = 1. l1 scales with
|q|^2; the convention here is <q, q> = 1/2, for which x - x0 = z q + zbar qbar
makes z = x + i y when the linear part is already the rotation
[[0, -w0], [w0, 0]]. Then the normal form on the centre manifold is
dz/dt = (beta + i w0) z + l1 w0 z|z|^2 + ..., the example
dx/dt = a x - y - x(x^2+y^2), dy/dt = x + a y - y(x^2+y^2) has l1 = -1, and
l1 * w0 is Guckenheimer and Holmes' coefficient a (Section 3.4) in those
coordinates. The unit normalisation <q, q> = 1 gives
2 l1: the sign, which decides super- (l1 < 0) or subcritical (l1 > 0), never
depends on it.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DsAnalyzeError, ExtraParameterError, MissingParameterError, UnknownSymbolError
from ..systems import Flow, Map, System
from ..verify import Basis, Verdict
from .budget import time_limit
from .results import FixedPoint
from .stability import (
    _PointSampler, _Reducer, _by_name, _check_fixed, _simulate_local, _tidy, _transverse_polynomial,
    _transverse_rates, hurwitz_conditions,
)

__all__ = ["BifurcationKind", "Bifurcation", "bifurcations", "first_lyapunov_coefficient"]


class BifurcationKind(str, Enum):
    """Kinds of codimension-one local bifurcations of fixed points, as data."""

    FOLD = "fold"
    TRANSCRITICAL = "transcritical"
    PITCHFORK = "pitchfork"
    FLIP = "flip"
    NEIMARK_SACKER = "Neimark-Sacker"
    HOPF = "Hopf"
    DEGENERATE = "degenerate"  # the critical multiplier is found, the normal form does not decide the kind


@dataclass(frozen=True)
class Bifurcation:
    """A local bifurcation of a fixed point at an exact parameter value.

    Attributes
    ----------
    kind : BifurcationKind
    parameter : Symbol
    value : Expr
        The exact parameter value (may contain the other parameters, or the
        state on a component of fixed points).
    fixed_point : FixedPoint
        The branch that bifurcates (see ``extra["branches"]`` for all
        branches meeting there).
    multiplier : Expr
        The critical multiplier (maps: 1, -1 or exp(i theta)) or eigenvalue
        (flows: 0 or i w0).
    location : tuple of Expr or None
        The state at the bifurcation (None on a component).
    criticality : str or None
        ``"supercritical"`` or ``"subcritical"`` (pitchfork, flip, Hopf) when decided.
    conditions : sympy Boolean
        What the other parameters must satisfy for it to happen (e.g. det > 0).
    extra : dict
        Normal-form data: ``"l1"`` (Hopf), ``"c"`` (flip), ``"a"``, ``"b"``,
        ``"c3"`` (multiplier 1 / eigenvalue 0), ``"crossing"`` (d lambda/dr of
        the critical multiplier, or of its real part), ``"omega"``,
        ``"q"`` (unit critical eigenvector), ``"branches"``.
    """

    kind: BifurcationKind
    parameter: sp.Symbol
    value: sp.Expr
    fixed_point: FixedPoint
    multiplier: sp.Expr
    location: tuple | None = None
    criticality: str | None = None
    conditions: sp.Basic = sp.true
    extra: dict = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        kind = f"{self.criticality} {self.kind.value}" if self.criticality else self.kind.value
        return (f"Bifurcation({kind} at {self.parameter} = {self.value}, of {self.fixed_point.text()}, "
                f"multiplier {self.multiplier})")

    def latex(self) -> str:
        """E.g. ``\\text{flip at } r = 3 \\quad (x = \\frac{2}{3},\\ \\lambda = -1)``."""
        name = {BifurcationKind.FLIP: "flip (period doubling)"}.get(self.kind, self.kind.value)
        if self.criticality:
            name = f"{self.criticality} {name}"
        where = []
        if self.location is not None:
            state = self.fixed_point.system.state
            if len(state) == 1:
                where.append(f"{sp.latex(state[0])} = {sp.latex(self.location[0])}")
            else:
                where.append(f"({', '.join(map(sp.latex, state))}) = ({', '.join(map(sp.latex, self.location))})")
        else:
            where.append(r"\text{on } " + self.fixed_point.latex())
        where.append(f"\\lambda = {sp.latex(self.multiplier)}")
        for key, symbol in (("l1", r"\ell_1"), ("c", "c")):
            if key in self.extra and self.extra[key] is not None:
                where.append(f"{symbol} = {sp.latex(self.extra[key])}")
        joined = ",\\ ".join(where)
        text = f"\\text{{{name} at }} {sp.latex(self.parameter)} = {sp.latex(self.value)} \\quad ({joined})"
        if self.conditions is not sp.true:
            text += r" \quad \text{if } " + sp.latex(self.conditions)
        return text

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __str__(self) -> str:
        crit = f"{self.criticality} " if self.criticality else ""
        return f"{crit}{self.kind.value} at {self.parameter} = {sp.sstr(self.value)} (multiplier {sp.sstr(self.multiplier)})"

    # ------------------------------------------------------------------------------------------
    def verify(self, *, tolerance: float | None = None, seed: int = 0, **values: Any) -> Verdict:
        """Locate the onset numerically and check it by simulation on both sides.

        1. Numeric location (compiled right-hand side and Jacobian, no SymPy):
           along the branch, the test function of the kind (det(J - I),
           det(J + I), prod(l_i l_j - 1) for maps; det J, prod(l_i + l_j) for
           flows) changes sign within ``tolerance`` of :attr:`value`; a fold is
           solved for as a regular zero of (f(x, r), det D_x f).
        2. Simulation (seeded): just below and above the value the fixed
           point changes stability (when it is stable on one side); for a
           flip, transcritical or pitchfork, and for a Hopf point, the size of
           the bifurcating object (2-cycle, new equilibrium, limit cycle) on
           the unstable side is measured at two distances and extrapolated; it
           must match the normal form's prediction (e.g. limit-cycle
           amplitude ~ sqrt(distance)) within 3 %. For a subcritical Hopf
           point the unstable cycle on the stable side must separate
           converging from leaving orbits at its predicted size.

        Parameters
        ----------
        tolerance : float, optional
            For the location; default 1e-6 * max(1, |value|).
        seed : int
        **values
            The other parameters (and, on a component, a point of it).

        Returns
        -------
        Verdict
            basis SAMPLED when simulations ran, else NUMERIC.

        Examples
        --------
        >>> import dsanalyze as ds, sympy as sp
        >>> F = ds.models.logistic()
        >>> r = F.params[0]
        >>> flip = [b for b in bifurcations(F, r, [FixedPoint(F, ((r - 1)/r,))]) if b.kind is BifurcationKind.FLIP][0]
        >>> flip.value, flip.verify().passed
        (3, True)
        """
        return _verify_bifurcation(self, tolerance, seed, values)


# ---------------------------------------------------------------------------------------------
# Exact derivations
# ---------------------------------------------------------------------------------------------
def _solve_for(expr: sp.Expr, param: sp.Symbol) -> list[sp.Expr] | None:
    """Real solutions of expr = 0 for param (None: expr vanishes identically)."""
    expr = sp.cancel(sp.together(expr))
    num, den = sp.fraction(expr)
    num = sp.expand(num)
    if num == 0:
        return None
    if param not in num.free_symbols:
        return []
    try:
        sols = sp.solve(num, param, dict=False)
    except NotImplementedError:
        found = sp.solveset(num, param, sp.S.Reals)
        if not isinstance(found, sp.FiniteSet):
            raise DsAnalyzeError(f"cannot solve {num} = 0 for {param} exactly") from None
        sols = list(found.args)
    out = []
    for s in sols:
        s = sp.simplify(s) if s.has(sp.Pow) else s
        if s.is_real is False or s.has(sp.I) and sp.im(s).is_zero is not True:
            continue
        if den.free_symbols and sp.simplify(den.xreplace({param: s})) == 0:
            continue
        if s not in out:
            out.append(s)
    return out


def _hessians(exprs: Sequence[sp.Expr], state: Sequence[sp.Symbol]):
    """Second and third derivative tensors (nested lists) of each expression."""
    n = len(state)
    H = [[[sp.diff(f, state[j], state[k]) for k in range(n)] for j in range(n)] for f in exprs]
    T = [[[[sp.diff(H[i][j][k], state[l]) for l in range(n)] for k in range(n)] for j in range(n)] for i in range(len(exprs))]
    return H, T


def _at(tensor, sub):
    if isinstance(tensor, list):
        return [_at(t, sub) for t in tensor]
    return _tidy(tensor.xreplace(sub))


def _B(H, x, y) -> sp.Matrix:
    n = len(x)
    return sp.Matrix([sp.expand(sum(H[i][j][k] * x[j] * y[k] for j in range(n) for k in range(n))) for i in range(len(H))])


def _C(T, x, y, z) -> sp.Matrix:
    n = len(x)
    return sp.Matrix([
        sp.expand(sum(T[i][j][k][l] * x[j] * y[k] * z[l] for j in range(n) for k in range(n) for l in range(n)))
        for i in range(len(T))
    ])


def _is_zero(expr: sp.Expr) -> bool:
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    return sp.simplify(expr) == 0


def _null_pair(A: sp.Matrix) -> tuple[sp.Matrix, sp.Matrix] | None:
    """Right and left null vectors q, p of A with p . q = 1 (real), or None."""
    right = A.nullspace(simplify=True)
    left = A.T.nullspace(simplify=True)
    if len(right) != 1 or len(left) != 1:
        return None
    q, p = right[0], left[0]
    s = sp.simplify((p.T * q)[0])
    if s == 0:
        return None
    return q, (p / s).applyfunc(sp.simplify)


def _crossing(charpoly: sp.Expr, lam: sp.Symbol, param: sp.Symbol, value: sp.Expr, root: sp.Expr) -> sp.Expr | None:
    """d lambda / d param of the root ``root`` of charpoly at param = value (None if not finite)."""
    dP_dr = sp.diff(charpoly, param).xreplace({lam: root, param: value})
    dP_dl = sp.diff(charpoly, lam).xreplace({lam: root, param: value})
    try:
        out = sp.simplify(-dP_dr / dP_dl)
    except (ZeroDivisionError, TypeError):
        return None
    if out.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None
    return out


def _steady_normal_form(f: list[sp.Expr], state, param, sub: dict, value) -> dict:
    """Lyapunov-Schmidt coefficients at a zero eigenvalue of D_x f (f the steady-state function)."""
    n = len(state)
    J = sp.Matrix(f).jacobian(sp.Matrix(state))
    A = J.xreplace(sub).applyfunc(_tidy)
    pair = _null_pair(A)
    if pair is None:
        return {"note": "the zero eigenvalue is not simple"}
    q, p = pair
    fr = sp.Matrix([sp.diff(fi, param) for fi in f]).xreplace(sub).applyfunc(_tidy)
    a = sp.simplify((p.T * fr)[0])
    H, T = _hessians(f, state)
    H, T = _at(H, sub), _at(T, sub)
    Bqq = _B(H, q, q)
    b = sp.simplify((p.T * Bqq)[0])
    qq = sp.simplify((q.T * q)[0])
    out = {"a": a, "b": b, "q": q, "p": p, "qq": qq}
    if not _is_zero(a) or not _is_zero(b):
        return out
    M = sp.Matrix(sp.BlockMatrix([[A, p], [q.T, sp.zeros(1, 1)]]))
    sol = M.LUsolve(sp.Matrix([*Bqq, 0]))
    h = sol[:n, 0]
    c3 = sp.simplify((p.T * _C(T, q, q, q))[0] - 3 * (p.T * _B(H, q, h))[0])
    out["c3"] = c3
    return out


def _flip_coefficient(F: list[sp.Expr], state, sub: dict) -> dict:
    n = len(state)
    A = sp.Matrix(F).jacobian(sp.Matrix(state)).xreplace(sub).applyfunc(_tidy)
    pair = _null_pair(A + sp.eye(n))
    if pair is None:
        return {"note": "the multiplier -1 is not simple"}
    q, p = pair
    H, T = _hessians(F, state)
    H, T = _at(H, sub), _at(T, sub)
    Bqq = _B(H, q, q)
    w = (A - sp.eye(n)).LUsolve(Bqq)
    c = sp.simplify(((p.T * _C(T, q, q, q))[0]) / 6 - ((p.T * _B(H, q, w))[0]) / 2)
    qq = sp.simplify((q.T * q)[0])
    return {"c": sp.simplify(c / qq), "q": (q / sp.sqrt(qq)).applyfunc(sp.simplify)}


def first_lyapunov_coefficient(system: Flow, point: Sequence[Any] | Mapping | FixedPoint,
                               values: Mapping[Any, Any] | None = None) -> sp.Expr:
    """The first Lyapunov coefficient l1 of a Hopf point (Kuznetsov's formula, any dimension).

    Parameters
    ----------
    system : Flow
    point : coordinates, mapping or FixedPoint
        The equilibrium at the Hopf point.
    values : mapping, optional
        Parameter values at the Hopf point (e.g. ``{"a": 0}``).

    Returns
    -------
    Expr
        l1, exact: negative for a supercritical Hopf bifurcation (a stable
        limit cycle is born), positive for a subcritical one. Convention:
        A q = i w0 q, A^T p = -i w0 p, <p, q> = 1, <q, q> = 1/2; the normal
        form on the centre manifold is dz/dt = i w0 z + l1 w0 z |z|^2 + ...
        (the unit normalisation <q, q> = 1 would give 2 l1).

    Raises
    ------
    DsAnalyzeError
        If the linearisation has no purely imaginary pair there.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> H = ds.Flow("x y", ["a*x - y - x*(x**2 + y**2)", "x + a*y - y*(x**2 + y**2)"])
    >>> first_lyapunov_coefficient(H, (0, 0), {"a": 0})
    -1
    """
    state = list(system.state)
    if isinstance(point, FixedPoint):
        point = point.coordinates
    if isinstance(point, Mapping):
        point = [_by_name(point)[s.name] for s in state]
    table = {p.name: p for p in system.params}
    sub = {}
    for k, v in _by_name(values or {}).items():
        if k not in table:
            raise UnknownSymbolError(f"{k!r} is not a parameter; parameters: {', '.join(table) or 'none'}")
        sub[table[k]] = sp.sympify(v)
    sub.update({s: sp.sympify(c).xreplace(sub) for s, c in zip(state, point)})
    f = [r.xreplace({k: v for k, v in sub.items() if k not in state}) for r in system.rhs]
    return _hopf_coefficient(f, state, sub)["l1"]


def _hopf_coefficient(f: list[sp.Expr], state, sub: dict) -> dict:
    """l1 (convention <p, q> = 1, <q, q> = 1/2) by Kuznetsov's formula, in real arithmetic.

    Complex vectors are carried as (real part, imaginary part); w stands for
    w0 (a positive symbol) and w^2 is replaced by det-like omega2 at the end.
    """
    n = len(state)
    A = sp.Matrix(f).jacobian(sp.Matrix(state)).xreplace(sub).applyfunc(_tidy)
    w = sp.Dummy("omega", positive=True)
    if n == 2:
        omega2 = _tidy(A.det())
        a11, a12, a21, a22 = A[0, 0], A[0, 1], A[1, 0], A[1, 1]
        # A q = i w q and A^T p = -i w p, using tr A = 0 and det A = w^2.
        if not _is_zero(a12):
            qr, qi = sp.Matrix([a12, -a11]), sp.Matrix([0, w])
        else:
            qr, qi = sp.Matrix([-a22, a21]), sp.Matrix([w, 0])
        if not _is_zero(a21):
            pr, pi = sp.Matrix([a21, -a11]), sp.Matrix([0, -w])
        else:
            pr, pi = sp.Matrix([-a22, a12]), sp.Matrix([-w, 0])
    else:
        lam = sp.Dummy("lambda")
        poly = sp.Poly(A.charpoly(lam).as_expr(lam), lam)
        Pw = sp.expand(poly.as_expr().xreplace({lam: sp.I * w}))
        g = sp.gcd(sp.Poly(sp.re(Pw), w), sp.Poly(sp.im(Pw), w))
        roots = [r for r in sp.roots(g, w) if r.is_positive]
        if not roots:
            raise DsAnalyzeError("no purely imaginary pair of eigenvalues at this point")
        omega = roots[0]
        omega2 = _tidy(omega**2)
        eye = sp.eye(n)
        right = sp.Matrix(sp.BlockMatrix([[A, omega * eye], [-omega * eye, A]])).nullspace(simplify=True)
        left = sp.Matrix(sp.BlockMatrix([[A.T, -omega * eye], [omega * eye, A.T]])).nullspace(simplify=True)
        if len(right) != 2 or len(left) != 2:
            raise DsAnalyzeError("the imaginary pair of eigenvalues is not simple")
        qr, qi = right[0][:n, 0], right[0][n:, 0]
        pr, pi = left[0][:n, 0], left[0][n:, 0]
        qr, qi, pr, pi = (v.xreplace({omega: w}) for v in (qr, qi, pr, pi))

    def dot(x, y):
        return sp.expand((x.T * y)[0])

    # s = <p0, q> = conj(p0) . q; p = p0 / conj(s) = p0 * s / |s|^2 (the 1/|s|^2 is applied at the end).
    s_re = dot(pr, qr) + dot(pi, qi)
    s_im = dot(pr, qi) - dot(pi, qr)
    s2 = sp.expand(s_re**2 + s_im**2)
    pr, pi = (pr * s_re - pi * s_im), (pr * s_im + pi * s_re)

    H, T = _hessians(f, state)
    H, T = _at(H, sub), _at(T, sub)

    def B(x, y):
        return _B(H, x, y)

    def C(x, y, z):
        return _C(T, x, y, z)

    def re_inner(vr, vi):
        """|s|^2 Re <p, v> = pr . vr + pi . vi."""
        return sp.expand(dot(pr, vr) + dot(pi, vi))

    a, b = qr, qi
    eye = sp.eye(n)
    # <p, C(q, q, qbar)>
    term1 = re_inner(C(a, a, a) + C(a, b, b), C(a, a, b) + C(b, b, b))
    # <p, B(q, A^{-1} B(q, qbar))>; B(q, qbar) = B(a, a) + B(b, b) is real
    v = B(a, a) + B(b, b)
    # <p, B(qbar, (2 i w I - A)^{-1} B(q, q))>; B(q, q) = B(a,a) - B(b,b) + 2 i B(a,b)
    rhs_r, rhs_i = B(a, a) - B(b, b), 2 * B(a, b)
    if n == 2:
        # Adjugates keep everything polynomial: A^{-1} = adj A / det A, and (tr A = 0)
        # (2 i w I - A)^{-1} = (adj(-A) + 2 i w I) / (det A - 4 w^2).
        h = A.adjugate() * v
        den2 = omega2
        R = (-A).adjugate()
        sr, si = R * rhs_r - 2 * w * rhs_i, R * rhs_i + 2 * w * rhs_r
        den3 = omega2 - 4 * w**2
    else:
        h, den2 = A.LUsolve(v).applyfunc(sp.cancel), sp.Integer(1)
        M = sp.Matrix(sp.BlockMatrix([[-A, -2 * w * eye], [2 * w * eye, -A]]))
        sol = M.LUsolve(sp.Matrix([*rhs_r, *rhs_i])).applyfunc(sp.cancel)
        sr, si, den3 = sol[:n, 0], sol[n:, 0], sp.Integer(1)
    term2 = re_inner(B(a, h), B(b, h))
    term3 = re_inner(B(a, sr) + B(b, si), B(a, si) - B(b, sr))
    qq = sp.expand(dot(a, a) + dot(b, b))
    total = term1 - 2 * term2 / den2 + term3 / den3
    # Convention <q, q> = 1/2: l1 scales with |q|^2, so divide by 2 <q, q>.
    l1 = total / s2 / (2 * w) / (2 * qq)
    l1 = _reduce_omega(l1, w, omega2)
    q_half = (a + sp.I * b) / sp.sqrt(2 * qq)
    return {"l1": l1, "omega": sp.sqrt(omega2), "q": q_half, "w": w, "omega2": omega2}


def _reduce_omega(expr: sp.Expr, w: sp.Symbol, omega2: sp.Expr) -> sp.Expr:
    """Replace w^2 by omega2 in a rational function of w, then w by sqrt(omega2)."""
    num, den = sp.fraction(sp.cancel(sp.together(expr)))
    rel = sp.Poly(w**2 - omega2, w)
    num = sp.Poly(num, w).rem(rel).as_expr()
    den = sp.Poly(den, w).rem(rel).as_expr()
    out = (num / den).xreplace({w: sp.sqrt(omega2)})
    return sp.factor(sp.cancel(sp.radsimp(out)))


def _fallback_fixed_points(system: System) -> list[FixedPoint]:
    eqs = [r - s for s, r in zip(system.state, system.rhs)] if isinstance(system, Map) else list(system.rhs)
    sols = sp.solve(eqs, list(system.state), dict=True)
    out = []
    for sol in sols:
        if set(sol) != set(system.state) or any(v.free_symbols & set(system.state) for v in sol.values()):
            continue
        coords = tuple(sol[s] for s in system.state)
        if any(c.is_real is False for c in coords):
            continue
        out.append(FixedPoint(system, coords))
    return out


def _points_of(system: System, fixed_points: Any, timeout: float | None) -> list[FixedPoint]:
    if fixed_points is None:
        try:
            from .equilibria import fixed_points as find  # written alongside; used when present
        except ImportError:
            find = None
        if find is not None:
            found = find(system, numeric_fallback=False)
            points = [fp for fp in found if isinstance(fp, FixedPoint)]
            skipped = [fp for fp in points if fp.coordinates is None and fp.dimension == 0]
            if skipped:
                warnings.warn(
                    f"{len(skipped)} set(s) of fixed points without a closed form were skipped: "
                    + "; ".join(fp.text() for fp in skipped), stacklevel=3)
            return [fp for fp in points if fp not in skipped]
        return _fallback_fixed_points(system)
    if isinstance(fixed_points, FixedPoint):
        return [fixed_points]
    out = []
    for fp in fixed_points:
        if not isinstance(fp, FixedPoint):
            fp = FixedPoint(system, tuple(sp.sympify(c) for c in (fp if isinstance(fp, Sequence) else (fp,))))
        out.append(fp)
    return out


def _coordinates_at(fp: FixedPoint, param: sp.Symbol, value: sp.Expr) -> tuple | None:
    if fp.coordinates is None:
        return None
    out = []
    for c in fp.coordinates:
        v = sp.sympify(c).xreplace({param: value})
        if v.has(sp.zoo, sp.nan):
            try:
                v = sp.limit(sp.sympify(c), param, value)
            except (NotImplementedError, ValueError):
                return None
        v = _tidy(v)
        if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return None
        out.append(v)
    return tuple(out)


def _root_holds(expr: sp.Expr, param: sp.Symbol, value: sp.Expr, system: System, samples: int = 12) -> bool:
    """Whether ``expr`` vanishes at ``param = value`` (not only after squaring both sides).

    Identically zero: yes. Otherwise it is evaluated at the system's default
    values of the other parameters when they are all given, else at seeded
    random values (in (0.1, 3) for positive symbols, (-3, 3) otherwise); the
    root is kept when it holds at the defaults, or at any random sample.
    """
    residual = expr.xreplace({param: value})
    if residual == 0 or sp.simplify(residual) == 0:
        return True
    others = sorted(residual.free_symbols, key=lambda x: x.name)
    if not others:
        return abs(complex(sp.N(residual))) < 1e-9
    defaults = system.defaults
    if all(o in defaults for o in others):
        trials = [{o: defaults[o] for o in others}]
    else:
        rng = np.random.default_rng(0)
        trials = [{o: (0.1 + 2.9 * rng.random()) if o.is_positive else (-3 + 6 * rng.random()) for o in others}
                  for _ in range(samples)]
    f = sp.lambdify(others, residual, "mpmath")
    for point in trials:
        try:
            r = complex(f(*[point[o] for o in others]))
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            continue
        if abs(r) <= 1e-9:
            return True
    return False


def _valid(fp: FixedPoint, location: tuple | None, param, value) -> bool:
    if location is not None and any(c.is_real is False for c in location):
        return False
    if fp.conditions not in (sp.true, True):
        cond = fp.conditions.xreplace({param: value})
        if cond is sp.false:
            return False
    return True


def _classify_steady(system, fp, param, value, location, f_exprs, charpoly, lam) -> tuple:
    """Kind, criticality and normal-form data at a multiplier 1 / eigenvalue 0."""
    state = system.state
    if location is None:
        return BifurcationKind.DEGENERATE, None, {
            "note": "critical multiplier transverse to a component of fixed points; its normal form is not computed"}
    sub = {**dict(zip(state, location)), param: value}
    nf = _steady_normal_form(f_exprs, state, param, sub, value)
    if "note" in nf:
        return BifurcationKind.DEGENERATE, None, nf
    qq = nf["qq"]
    extra = {"a": sp.simplify(nf["a"] * sp.sqrt(qq)), "b": sp.simplify(nf["b"] / sp.sqrt(qq)), "q": (nf["q"] / sp.sqrt(qq)).applyfunc(sp.simplify)}
    # charpoly is that of D_x f (f = F - x for a map), so the critical root is 0 in both cases.
    extra["crossing"] = _crossing(charpoly, lam, param, value, 0)
    if not _is_zero(nf["a"]):
        extra["b"] = sp.simplify(nf["b"] / sp.sqrt(qq))
        return BifurcationKind.FOLD, None, extra
    if extra["crossing"] is not None and _is_zero(extra["crossing"]):
        extra["note"] = "the critical eigenvalue does not cross (zero speed): not a generic bifurcation"
        return BifurcationKind.DEGENERATE, None, extra
    if not _is_zero(nf["b"]):
        return BifurcationKind.TRANSCRITICAL, None, extra
    c3 = sp.simplify(nf["c3"] / qq)
    extra["c3"] = c3
    if _is_zero(c3):
        extra["note"] = "a = b = c3 = 0: higher-order degeneracy"
        return BifurcationKind.DEGENERATE, None, extra
    crit = "supercritical" if c3.is_negative else "subcritical" if c3.is_positive else None
    return BifurcationKind.PITCHFORK, crit, extra


def _same_location(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return False
    return all(_is_zero(x - y) for x, y in zip(a, b))


def bifurcations(system: System, param: sp.Symbol | str, fixed_points: Any = None, *,
                 timeout: float | None = None) -> list[Bifurcation]:
    """The local bifurcations of fixed points along one parameter, at exact values.

    Parameters
    ----------
    system : Map or Flow
    param : Symbol or str
        The parameter varied.
    fixed_points : FixedPoint or sequence, optional
        The branches to follow (coordinates may depend on ``param``); by
        default every fixed point the system's equilibrium solver finds.
    timeout : float, optional
        Budget in seconds for the whole derivation; past it,
        :class:`~dsanalyze.errors.SymbolicTimeout` naming the step.

    Returns
    -------
    list of Bifurcation
        Where several branches meet at one bifurcation (transcritical,
        pitchfork, fold) it is reported once, with all of them in
        ``extra["branches"]``.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.Flow("x", "r*x - x**3")
    >>> [str(b) for b in bifurcations(F, "r")]
    ['supercritical pitchfork at r = 0 (multiplier 0)']
    """
    if not isinstance(system, System):
        raise TypeError(f"expected a Map or a Flow, got {type(system).__name__}")
    if isinstance(param, str):
        matches = [p for p in system.params if p.name == param]
        if not matches:
            raise UnknownSymbolError(
                f"{param!r} is not a parameter of {system.name or 'the system'}; parameters: "
                f"{', '.join(p.name for p in system.params) or 'none'}"
            )
        param = matches[0]
    elif param not in system.params:
        raise UnknownSymbolError(f"{param} is not a parameter of {system.name or 'the system'}")
    is_map = isinstance(system, Map)
    found: list[Bifurcation] = []
    with time_limit(timeout, f"bifurcations of {system.name or 'the system'} in {param}"):
        points = _points_of(system, fixed_points, None)
        f_exprs = [r - s for s, r in zip(system.state, system.rhs)] if is_map else list(system.rhs)
        for fp in points:
            if fp.basis is Basis.NUMERIC:
                warnings.warn(f"the numeric fixed point {fp.text()} was skipped: it holds at fixed parameter values only",
                              stacklevel=2)
                continue
            reducer = _Reducer(system, fp)
            _check_fixed(system, fp, reducer)
            lam = sp.Dummy("lambda")
            coefficients, neutral = _transverse_polynomial(system, fp, reducer, lam)
            m = len(coefficients) - 1
            if m < 1:
                continue
            P = sp.expand(sum(c * lam ** (m - i) for i, c in enumerate(coefficients)))
            # The full characteristic polynomial of D_x f along the branch (for crossing speeds).
            if fp.coordinates is not None:
                Jf = sp.Matrix(f_exprs).jacobian(sp.Matrix(system.state)).xreplace(reducer.substitution)
                Pf = sp.expand(sp.Matrix(Jf).charpoly(lam).as_expr(lam))
            else:
                Pf = None
            candidates: list[tuple] = []
            if is_map:
                candidates.append(("one", P.xreplace({lam: 1})))
                candidates.append(("minus", P.xreplace({lam: -1})))
                if m >= 2:
                    candidates.append(("ns", None))
            else:
                candidates.append(("zero", P.xreplace({lam: 0})))
                if m >= 2:
                    candidates.append(("hopf", None))
            for tag, expr in candidates:
                if tag in ("one", "minus", "zero"):
                    values = _solve_for(expr, param)
                    for value in values or []:
                        location = _coordinates_at(fp, param, value)
                        if not _valid(fp, location, param, value) or (fp.coordinates is not None and location is None):
                            continue
                        if fp.coordinates is not None and not _root_holds(expr, param, value, system):
                            continue  # a root that solve() brought in by squaring a square root
                        found.append(_make_steady_or_flip(system, fp, param, value, location, tag, f_exprs, Pf, lam))
                elif tag == "ns":
                    found.extend(_neimark_sacker(system, fp, param, coefficients, lam))
                else:
                    found.extend(_hopf(system, fp, param, coefficients, lam, f_exprs, Pf))
    return _merge(found)


def _make_steady_or_flip(system, fp, param, value, location, tag, f_exprs, Pf, lam) -> Bifurcation:
    value = _tidy(value)
    if tag == "minus":
        extra: dict = {}
        crit = None
        if location is not None:
            sub = {**dict(zip(system.state, location)), param: value}
            F = [r.xreplace({param: value}) for r in system.rhs]
            extra = _flip_coefficient(F, system.state, sub)
            # crossing of the multiplier of F: Pf is in f = F - x, so mu = 1 + lambda_f.
            extra["crossing"] = _crossing(Pf, lam, param, value, -2) if Pf is not None else None
            c = extra.get("c")
            if c is not None:
                crit = "supercritical" if c.is_positive else "subcritical" if c.is_negative else None
            if c is not None and c.is_zero:
                # No cubic term: no 2-cycle is born (e.g. a linear map, where every point is 2-periodic).
                extra["note"] = "multiplier -1 with a vanishing normal-form coefficient c = 0: a degenerate flip"
                return Bifurcation(BifurcationKind.DEGENERATE, param, value, fp, sp.Integer(-1), location, None,
                                   sp.true, extra)
        else:
            extra = {"note": "flip transverse to a component of fixed points; its normal form is not computed"}
        return Bifurcation(BifurcationKind.FLIP, param, value, fp, sp.Integer(-1), location, crit, sp.true, extra)
    kind, crit, extra = (
        _classify_steady(system, fp, param, value, location, f_exprs, Pf, lam) if Pf is not None
        else (BifurcationKind.DEGENERATE, None,
              {"note": "critical multiplier transverse to a component of fixed points; its normal form is not computed"})
    )
    multiplier = sp.Integer(1) if isinstance(system, Map) else sp.Integer(0)
    return Bifurcation(kind, param, value, fp, multiplier, location, crit, sp.true, extra)


def _neimark_sacker(system, fp, param, coefficients, lam) -> list[Bifurcation]:
    m = len(coefficients) - 1
    out = []
    if m == 2:
        tr, det = -coefficients[1], coefficients[2]
        values = _solve_for(det - 1, param) or []
        for value in values:
            t = _tidy(tr.xreplace({param: value}))
            inside = sp.simplify(4 - t**2)
            if inside.is_positive is False or inside == 0:
                continue
            conditions = sp.true if inside.is_positive else sp.StrictLessThan(sp.Abs(t), 2)
            location = _coordinates_at(fp, param, value)
            if not _valid(fp, location, param, value) or (fp.coordinates is not None and location is None):
                continue
            mult = sp.simplify(t / 2 + sp.I * sp.sqrt(inside) / 2)
            extra = {"theta": sp.simplify(sp.acos(t / 2)) if t.is_number else sp.acos(t / 2)}
            if t.is_number and sp.simplify(t / 2 - sp.Rational(-1, 2)) == 0:
                extra["resonance"] = "1:3 (strong)"
            elif t.is_number and sp.simplify(t) == 0:
                extra["resonance"] = "1:4 (strong)"
            out.append(Bifurcation(BifurcationKind.NEIMARK_SACKER, param, _tidy(value), fp, mult, location, None,
                                   conditions, extra))
        return out
    # m >= 3: two multipliers with product 1 (resultant of p(z) and z^m p(1/z)), then keep complex pairs.
    z = lam
    P = sum(c * z ** (m - i) for i, c in enumerate(coefficients))
    R = sp.resultant(sp.expand(P), sp.expand(z**m * P.xreplace({z: 1 / z})), z)
    for value in _solve_for(sp.factor(R), param) or []:
        if not value.is_number:
            continue
        roots = np.roots([complex(c.xreplace({param: value})) for c in coefficients])
        pairs = [r for r in roots if abs(abs(r) - 1) < 1e-9 and abs(r.imag) > 1e-9]
        if not pairs:
            continue
        location = _coordinates_at(fp, param, value)
        mult = sp.nsimplify(complex(pairs[0].real, abs(pairs[0].imag)))
        out.append(Bifurcation(BifurcationKind.NEIMARK_SACKER, param, _tidy(value), fp, mult, location, None, sp.true,
                               {"note": "multiplier located numerically on the unit circle"}))
    return out


def _hopf(system, fp, param, coefficients, lam, f_exprs, Pf) -> list[Bifurcation]:
    m = len(coefficients) - 1
    out = []
    if m == 2:
        tr, det = -coefficients[1], coefficients[2]
        values = _solve_for(tr, param) or []
        omega2_of = lambda value: _tidy(det.xreplace({param: value}))  # noqa: E731
    else:
        delta = hurwitz_conditions(coefficients)[m - 2]
        values = _solve_for(delta, param) or []
        # at Delta_{m-1} = 0 the pair is +-i w with w^2 = a_m / a_{m-1}-style; found below per value
        omega2_of = None
    for value in values:
        location = _coordinates_at(fp, param, value)
        if not _valid(fp, location, param, value) or (fp.coordinates is not None and location is None):
            continue
        if omega2_of is not None:
            omega2 = omega2_of(value)
        else:
            w = sp.Dummy("w", positive=True)
            Pv = sp.expand(sum(c.xreplace({param: value}) * (sp.I * w) ** (m - i) for i, c in enumerate(coefficients)))
            g = sp.gcd(sp.Poly(sp.re(Pv), w), sp.Poly(sp.im(Pv), w))
            roots = [r for r in sp.roots(g, w) if r.is_positive is not False and r != 0]
            if not roots:
                continue
            omega2 = _tidy(roots[0] ** 2)
        if omega2.is_positive is False or omega2 == 0:
            continue
        conditions = sp.true if omega2.is_positive else sp.StrictGreaterThan(omega2, 0)
        omega = sp.sqrt(omega2)
        extra: dict = {"omega": sp.simplify(omega)}
        crit = None
        if location is not None:
            sub = {**dict(zip(system.state, location)), param: value}
            f = [r.xreplace({param: value}) for r in system.rhs]
            try:
                hc = _hopf_coefficient(f, system.state, sub)
                l1 = hc["l1"]
                extra["l1"] = l1
                extra["q"] = hc["q"].xreplace({hc["w"]: sp.sqrt(hc["omega2"])}).applyfunc(sp.simplify)
                crit = "supercritical" if l1.is_negative else "subcritical" if l1.is_positive else None
            except DsAnalyzeError as exc:
                extra["note"] = str(exc)
            if Pf is not None:
                speed = _crossing(Pf, lam, param, value, sp.I * omega)
                extra["crossing"] = None if speed is None else sp.simplify(sp.re(speed))
        out.append(Bifurcation(BifurcationKind.HOPF, param, _tidy(value), fp, sp.I * sp.simplify(omega), location,
                               crit, conditions, extra))
    return out


def _merge(found: list[Bifurcation]) -> list[Bifurcation]:
    """One bifurcation per (kind, value, location); branches meeting there listed in extra."""
    merged: list[Bifurcation] = []
    for bif in found:
        for k, other in enumerate(merged):
            if (other.kind is bif.kind and _is_zero(other.value - bif.value)
                    and _same_location(other.location, bif.location)):
                branches = other.extra.get("branches", (other.fixed_point,)) + (bif.fixed_point,)
                keep = other
                # Prefer a branch that exists on both sides (no radicals), for numeric checks.
                if _radicals(bif.fixed_point) < _radicals(other.fixed_point):
                    keep = Bifurcation(bif.kind, bif.parameter, bif.value, bif.fixed_point, bif.multiplier,
                                       bif.location, bif.criticality or other.criticality, bif.conditions,
                                       dict(other.extra, **bif.extra))
                keep.extra["branches"] = branches
                merged[k] = keep
                break
        else:
            bif.extra.setdefault("branches", (bif.fixed_point,))
            merged.append(bif)
    return merged


def _radicals(fp: FixedPoint) -> int:
    if fp.coordinates is None:
        return 0
    return sum(sum(1 for p in sp.sympify(c).atoms(sp.Pow) if not p.exp.is_Integer) for c in fp.coordinates)


# ---------------------------------------------------------------------------------------------
# Numeric checks
# ---------------------------------------------------------------------------------------------
def _test_function(kind: BifurcationKind, J: np.ndarray, is_map: bool, neutral: int) -> float:
    ev = np.linalg.eigvals(J)
    if neutral:
        target = 1.0 if is_map else 0.0
        ev = ev[np.argsort(np.abs(ev - target))[neutral:]]
    if kind is BifurcationKind.FLIP:
        return float(np.real(np.prod(ev + 1)))
    if kind is BifurcationKind.NEIMARK_SACKER:
        n = ev.size
        return float(np.real(np.prod([ev[i] * ev[j] - 1 for i in range(n) for j in range(i + 1, n)])))
    if kind is BifurcationKind.HOPF:
        n = ev.size
        return float(np.real(np.prod([ev[i] + ev[j] for i in range(n) for j in range(i + 1, n)])))
    return float(np.real(np.prod(ev - 1))) if is_map else float(np.real(np.prod(ev)))


class _Numeric:
    """Numeric evaluation of a system along a branch (compiled kernels), for one set of other parameter values."""

    def __init__(self, bif: Bifurcation, values: Mapping[str, Any]):
        from ..numeric.orbits import evaluate_jacobian, evaluate_rhs

        self.bif = bif
        self.system = bif.fixed_point.system
        self.is_map = isinstance(self.system, Map)
        self.name = bif.parameter.name
        self._rhs, self._jac = evaluate_rhs, evaluate_jacobian
        given = dict(values)
        table = {p.name: p for p in self.system.params}
        defaults = {k.name: v for k, v in self.system.defaults.items()}
        extra_names = sorted(set(given) - set(table) - {s.name for s in self.system.state})
        if extra_names:
            raise ExtraParameterError(f"{', '.join(extra_names)} not a parameter of {self.system.name or 'the system'}")
        self.others = {}
        for p in self.system.params:
            if p.name == self.name:
                continue
            if p.name in given:
                self.others[p.name] = float(given[p.name])
            elif p.name in defaults:
                self.others[p.name] = float(defaults[p.name])
            else:
                raise MissingParameterError(f"give a value for the parameter {p.name}, e.g. {p.name}=1.0")
        self.sub = {table[k]: sp.Float(v) if not isinstance(v, sp.Basic) else v for k, v in self.others.items()}
        state_values = {s: sp.sympify(given[s.name]) for s in self.system.state if s.name in given}
        fp = bif.fixed_point
        self.neutral = fp.dimension if fp.coordinates is None else 0
        if fp.coordinates is None:
            if len(state_values) != self.system.dim:
                raise MissingParameterError(
                    "the bifurcation is on a component of fixed points: give a point of it, e.g. "
                    + ", ".join(f"{s.name}=1.0" for s in self.system.state)
                )
            self.sub.update(state_values)
            self.coords = None
            self.point_fixed = np.array([float(v) for v in state_values.values()])
        else:
            self.coords = sp.lambdify(bif.parameter, [sp.sympify(c).xreplace(self.sub) for c in fp.coordinates], "numpy")
            self.point_fixed = None
        value = sp.sympify(bif.value).xreplace(self.sub)
        if value.free_symbols:
            raise MissingParameterError(f"the value {bif.value} needs {', '.join(map(str, value.free_symbols))}")
        self.value = float(value)

    def params(self, r: float | np.ndarray) -> dict:
        out = {k: v for k, v in self.others.items()}
        out[self.name] = r
        return out

    def point(self, r: float) -> np.ndarray | None:
        if self.point_fixed is not None:
            return self.point_fixed.copy()
        with np.errstate(all="ignore"):
            x = np.asarray(self.coords(complex(r)), dtype=complex).ravel()
        if not np.all(np.isfinite(x)) or np.max(np.abs(x.imag)) > 1e-9 * max(1.0, np.max(np.abs(x))):
            return None
        x = x.real
        return self.polish(x, r)

    def f(self, x: np.ndarray, r: float) -> np.ndarray:
        out = self._rhs(self.system, x.reshape(1, -1), self.params(r), threads=1)[0]
        return out - x if self.is_map else out

    def J(self, x: np.ndarray, r: float) -> np.ndarray:
        return self._jac(self.system, x.reshape(1, -1), self.params(r), threads=1)[0]

    def polish(self, x: np.ndarray, r: float) -> np.ndarray:
        """Newton on f(x, r) = 0 with the compiled Jacobian (a no-op on an exact point)."""
        eye = np.eye(x.size)
        for _ in range(8):
            g = self.f(x, r)
            if np.linalg.norm(g) < 1e-15 * max(1.0, np.linalg.norm(x)):
                break
            A = self.J(x, r) - (eye if self.is_map else 0)
            try:
                step = np.linalg.solve(A, g)
            except np.linalg.LinAlgError:
                break
            x = x - step
        return x

    def test(self, r: float) -> float:
        x = self.point(r)
        if x is None:
            return np.nan
        kind = self.bif.kind
        if kind is BifurcationKind.DEGENERATE and self.is_map and self.bif.multiplier == -1:
            kind = BifurcationKind.FLIP  # a degenerate flip: the test function of multiplier -1
        return _test_function(kind, self.J(x, r), self.is_map, self.neutral)


def _locate(num: _Numeric, tol: float) -> tuple[float | None, str]:
    """The parameter value where the kind's test function vanishes nearest to the claimed value."""
    from scipy.optimize import brentq, root

    v = num.value
    scale = max(1.0, abs(v))
    kind = num.bif.kind
    if kind is BifurcationKind.FOLD and num.bif.location is not None:
        x0 = np.array([float(sp.sympify(c).xreplace(num.sub).xreplace({num.bif.parameter: num.bif.value})) for c in
                       num.bif.location])
        n = x0.size

        def F(z):
            x, r = z[:n], z[n]
            return np.concatenate([num.f(x, r), [np.linalg.det(num.J(x, r) - (np.eye(n) if num.is_map else 0))]])

        start = np.concatenate([x0 + 1e-3 * max(1.0, np.linalg.norm(x0)), [v + 1e-3 * scale]])
        sol = root(F, start, method="hybr", options={"xtol": 1e-14})
        if not sol.success or np.linalg.norm(F(sol.x)) > 1e-9:
            return None, f"Newton on (f, det D_x f) did not converge from near the claimed fold ({sol.message})"
        return float(sol.x[n]), "regular zero of (f(x, r), det D_x f) by Newton from a perturbed start"
    width = 0.05 * scale
    grid = np.linspace(v - width, v + width, 401)
    vals = np.array([num.test(r) for r in grid])
    signs = np.sign(vals)
    best = None
    for i in range(grid.size - 1):
        if np.isfinite(vals[i]) and np.isfinite(vals[i + 1]) and (signs[i] * signs[i + 1] <= 0):
            if vals[i] == 0:
                cand = grid[i]
            elif vals[i + 1] == 0:
                cand = grid[i + 1]
            else:
                cand = brentq(num.test, grid[i], grid[i + 1], xtol=1e-15 * scale, rtol=1e-15, maxiter=200)
            if best is None or abs(cand - v) < abs(best - v):
                best = cand
    if best is None and kind is BifurcationKind.DEGENERATE:
        # A degenerate point may touch the critical value without crossing it: check that it is reached at v.
        at_v = num.test(v)
        size = float(np.nanmax(np.abs(vals))) if np.any(np.isfinite(vals)) else np.nan
        if np.isfinite(at_v) and np.isfinite(size) and abs(at_v) <= 1e-9 * max(1.0, size):
            return float(v), ("the test function touches zero at the value without changing sign "
                              f"(|test| = {abs(at_v):.1e} there, up to {size:.2g} nearby)")
    if best is None:
        return None, f"the test function does not change sign within {v - width:.6g} .. {v + width:.6g}"
    return float(best), "sign change of the test function along the branch, refined by Brent's method"


def _side_points(num: _Numeric, delta: float):
    out = {}
    for side in (-1, 1):
        r = num.value + side * delta
        x = num.point(r)
        out[side] = (r, x)
    return out


def _stable_side(num: _Numeric, delta: float) -> tuple[dict, dict]:
    """Numeric transverse rates on both sides, and the simulated outcomes there."""
    sides = _side_points(num, delta)
    rates, outcomes = {}, {}
    for side, (r, x) in sides.items():
        if x is None:
            continue
        params = {k: np.array([v]) for k, v in num.params(r).items()}
        rate = _transverse_rates(num.system, x.reshape(1, -1), params, num.neutral)[0]
        rates[side] = rate
        residual = normal = None
        if num.neutral:
            sampler = _PointSampler(num.system, num.bif.fixed_point, {})
            residual, normal = sampler.residual, sampler.normal
        runs = _simulate_local(num.system, x.reshape(1, -1), params, np.array([rate]), neutral=num.neutral,
                               residual=residual, normal=normal, seed=0)
        outcomes[side] = int(runs.outcome[0])
    return rates, outcomes


def _settle_map(num: _Numeric, r: float, start: np.ndarray, steps: int, period: int) -> np.ndarray:
    from ..numeric.orbits import iterate

    res = iterate(num.system, start.reshape(1, -1), steps, num.params(r), record=4 * period)
    return res.recorded[0]


def _amplitude_flip(num: _Numeric, r: float, x: np.ndarray, rate: float, q: np.ndarray) -> float:
    steps = int(np.clip(60.0 / max(rate, 1e-9), 2000, 20_000_000))
    tail = _settle_map(num, r, x + 1e-4 * q, steps, 2)
    if not np.all(np.isfinite(tail)):
        return np.nan
    return float(np.mean(np.linalg.norm(tail[1:] - tail[:-1], axis=1)) / 2)


def _settle_flow(num: _Numeric, r: float, start: np.ndarray, T: float, window: float, samples: int = 400):
    from ..numeric.flows import integrate

    times = np.concatenate([[0.0], np.linspace(T - window, T, samples)])
    return integrate(num.system, start, times, rtol=1e-11, atol=1e-13, max_steps=50_000_000, **num.params(r))[1:]


def _verify_bifurcation(bif: Bifurcation, tolerance: float | None, seed: int, values: Mapping) -> Verdict:
    claim = f"{bif}"
    try:
        num = _Numeric(bif, _by_name(values))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DsAnalyzeError):
            raise
        return Verdict.unchecked(claim, sp.sstr(bif.value), f"cannot evaluate the claim numerically: {exc}")
    v = num.value
    scale = max(1.0, abs(v))
    tol = tolerance if tolerance is not None else 1e-6 * scale
    located, how = _locate(num, tol)
    notes = [how]
    evidence: dict = {}
    if located is None:
        return Verdict(claim, v, None, tol, False, Basis.NUMERIC, evidence, "; ".join(notes))
    location_ok = abs(located - v) <= tol
    notes.append(f"located at {located:.15g}")
    checks: list[tuple[str, bool]] = [("location", location_ok)]
    basis = Basis.NUMERIC
    if location_ok and bif.kind in (BifurcationKind.NEIMARK_SACKER, BifurcationKind.HOPF):
        x = num.point(located)
        ev = np.linalg.eigvals(num.J(x, located)) if x is not None else np.array([])
        if bif.kind is BifurcationKind.HOPF:
            crit = [e for e in ev if abs(e.real) < 1e-6 * max(1.0, np.max(np.abs(ev))) and abs(e.imag) > 1e-9]
        else:
            crit = [e for e in ev if abs(abs(e) - 1) < 1e-6 and abs(e.imag) > 1e-9]
        checks.append(("complex pair", len(crit) >= 2))
        if crit:
            notes.append(f"critical pair {crit[0]:.6g}")
    # Simulation: stability changes across the value.
    if location_ok and bif.kind is not BifurcationKind.FOLD:
        delta = 1e-2 * scale
        rates, outcomes = _stable_side(num, delta)
        evidence["side_rates"] = np.array([rates.get(-1, np.nan), rates.get(1, np.nan)])
        evidence["side_outcomes"] = np.array([outcomes.get(-1, 0), outcomes.get(1, 0)])
        if len(rates) == 2 and (rates[-1] < 0) != (rates[1] < 0):
            basis = Basis.SAMPLED
            expected = {s: (1 if rates[s] < 0 else -1) for s in (-1, 1)}
            ok = all(outcomes[s] == expected[s] for s in (-1, 1))
            checks.append(("stability changes", ok))
            notes.append(f"simulated at {v - delta:.6g} and {v + delta:.6g}: "
                         f"{'converges' if outcomes[-1] == 1 else 'leaves' if outcomes[-1] == -1 else 'undecided'} / "
                         f"{'converges' if outcomes[1] == 1 else 'leaves' if outcomes[1] == -1 else 'undecided'}")
            unstable_side = -1 if rates[-1] > 0 else 1
            amp = _check_size(bif, num, unstable_side, stable_side=-unstable_side, notes=notes, evidence=evidence)
            if amp is not None:
                checks.append(("size of the bifurcating object", amp))
        else:
            notes.append("no side where the fixed point is stable near the value: stability change not simulated")
    if bif.kind is BifurcationKind.FOLD and location_ok and bif.location is not None:
        exists = _fold_sides(num)
        notes.append(exists[1])
        checks.append(("branches meet", exists[0]))
    passed = all(ok for _, ok in checks)
    failed = [name for name, ok in checks if not ok]
    if failed:
        notes.append("failed: " + ", ".join(failed))
    return Verdict(claim, v, located, tol, passed, basis, evidence, "; ".join(notes))


def _fold_sides(num: _Numeric) -> tuple[bool, str]:
    """Near a fold, Newton from the fold point finds two fixed points on one side and none on the other."""
    from scipy.optimize import root

    v = num.value
    delta = 1e-4 * max(1.0, abs(v))
    x0 = np.array([float(sp.sympify(c).xreplace(num.sub).xreplace({num.bif.parameter: num.bif.value}))
                   for c in num.bif.location])
    counts = {}
    for side in (-1, 1):
        r = v + side * delta
        sols = []
        rng = np.random.default_rng(0)
        for k in range(24):
            start = x0 + 0.05 * math.sqrt(delta) * rng.normal(size=x0.size) * (1 + k / 4)
            sol = root(lambda x: num.f(x, r), start, method="hybr", options={"xtol": 1e-14})
            if sol.success and np.linalg.norm(num.f(sol.x, r)) < 1e-12 and np.linalg.norm(sol.x - x0) < 0.5 * math.sqrt(delta) * 50:
                if not any(np.linalg.norm(sol.x - s) < 1e-8 for s in sols):
                    sols.append(sol.x)
        counts[side] = len(sols)
    ok = sorted(counts.values()) == [0, 2]
    return ok, f"fixed points near the fold at {v - delta:.6g} / {v + delta:.6g}: {counts[-1]} / {counts[1]}"


def _num(expr: Any, num: _Numeric) -> float | None:
    if expr is None:
        return None
    value = sp.sympify(expr).xreplace(num.sub).xreplace({num.bif.parameter: num.bif.value})
    try:
        return float(value)
    except TypeError:
        return None


def _check_size(bif: Bifurcation, num: _Numeric, unstable_side: int, stable_side: int, notes: list,
                evidence: dict) -> bool | None:
    """Compare the measured size of the bifurcating object with the normal form, extrapolated to distance 0."""
    if bif.location is None or num.neutral:
        return None
    v = num.value
    scale = max(1.0, abs(v))
    crossing = _num(bif.extra.get("crossing"), num)
    if crossing is None or crossing == 0:
        return None
    q = bif.extra.get("q")
    qv = None if q is None else np.array([complex(sp.sympify(c).xreplace(num.sub).xreplace({bif.parameter: bif.value}))
                                          for c in q])
    distances = np.array([2e-3, 5e-4]) * scale
    kind = bif.kind
    if kind is BifurcationKind.FLIP and bif.criticality == "supercritical":
        c = _num(bif.extra.get("c"), num)
        predicted = math.sqrt(abs(crossing) / c)  # amplitude / sqrt(distance), unit eigenvector
        measured = []
        for d in distances:
            r = v + unstable_side * d
            x = num.point(r)
            measured.append(_amplitude_flip(num, r, x, abs(crossing) * d, qv.real) / math.sqrt(d))
        what = "2-cycle half-width / sqrt(distance)"
    elif kind in (BifurcationKind.PITCHFORK, BifurcationKind.TRANSCRITICAL) and qv is not None:
        if kind is BifurcationKind.PITCHFORK:
            if bif.criticality != "supercritical":
                return None
            c3 = _num(bif.extra.get("c3"), num)
            predicted = math.sqrt(abs(6 * crossing / c3))
            what = "new equilibrium distance / sqrt(distance)"
        else:
            b = _num(bif.extra.get("b"), num)
            predicted = abs(2 * crossing / b)
            what = "other branch distance / distance"
        measured = []
        for d in distances:
            r = v + unstable_side * d
            x = num.point(r)
            if kind is BifurcationKind.PITCHFORK:
                s = math.sqrt(abs(6 * crossing * d / c3))
            else:
                s = -2 * crossing * (r - v) / _num(bif.extra.get("b"), num)
            start = x + 0.5 * s * qv.real
            if num.is_map:
                tail = _settle_map(num, r, start, int(np.clip(60 / (abs(crossing) * d), 2000, 20_000_000)), 1)
            else:
                tail = _settle_flow(num, r, start, 60 / (abs(crossing) * d), 1.0, samples=4)
            dist = float(np.linalg.norm(tail[-1] - x)) if np.all(np.isfinite(tail)) else np.nan
            measured.append(dist / (math.sqrt(d) if kind is BifurcationKind.PITCHFORK else d))
    elif kind is BifurcationKind.HOPF and qv is not None:
        l1 = _num(bif.extra.get("l1"), num)
        omega = _num(bif.extra.get("omega"), num)
        if l1 is None or omega is None or l1 == 0:
            return None
        # |w|^2 = -Re(lambda)/(l1 omega); x - x0 = 2 Re(w q): amplitude = 2 |w| sigma_max([Re q, Im q]).
        sigma = float(np.linalg.svd(np.column_stack([qv.real, qv.imag]), compute_uv=False)[0])
        if l1 < 0:
            predicted = 2 * sigma * math.sqrt(abs(crossing) / (abs(l1) * omega))
            measured = []
            for d in distances:
                r = v + unstable_side * d
                x = num.point(r)
                radius = math.sqrt(abs(crossing) * d / (abs(l1) * omega))
                start = x + 0.5 * 2 * radius * qv.real
                period = 2 * math.pi / omega
                T = 40.0 / (abs(crossing) * d)
                tail = _settle_flow(num, r, start, T, 2 * period)
                amp = float(np.max(np.linalg.norm(tail - x, axis=1))) if np.all(np.isfinite(tail)) else np.nan
                measured.append(amp / math.sqrt(d))
            what = "limit-cycle amplitude / sqrt(distance)"
        else:
            return _subcritical_hopf(bif, num, stable_side, crossing, l1, omega, qv, sigma, notes, evidence)
    else:
        return None
    measured = np.array(measured)
    extrapolated = float(2 * measured[1] - measured[0]) if distances[0] == 4 * distances[1] else float(measured[1])
    rel = abs(extrapolated - predicted) / predicted
    evidence["size_distances"] = distances
    evidence["size_measured"] = measured
    notes.append(f"{what}: predicted {predicted:.6g}, measured {measured[0]:.6g} / {measured[1]:.6g}, "
                 f"extrapolated {extrapolated:.6g} (relative error {rel:.2g}, tolerance 0.03)")
    return bool(np.isfinite(rel) and rel <= 0.03)


def _subcritical_hopf(bif, num, stable_side, crossing, l1, omega, qv, sigma, notes, evidence) -> bool:
    """On the stable side, orbits started inside the predicted unstable cycle converge, outside they leave."""
    v = num.value
    d = 2e-3 * max(1.0, abs(v))
    r = v + stable_side * d
    x = num.point(r)
    radius = math.sqrt(abs(crossing) * d / (abs(l1) * omega))
    amplitude = 2 * sigma * radius
    outcomes = []
    for factor in (0.6, 1.6):
        start = x + factor * 2 * radius * qv.real
        T = 40.0 / (abs(crossing) * d)
        try:
            tail = _settle_flow(num, r, start, T, 2 * math.pi / omega, samples=20)
            end = float(np.max(np.linalg.norm(tail - x, axis=1)))
        except DsAnalyzeError:
            end = np.inf
        outcomes.append(end)
    ok = outcomes[0] < 0.05 * amplitude and (not np.isfinite(outcomes[1]) or outcomes[1] > 3 * amplitude)
    evidence["subcritical_ends"] = np.array(outcomes)
    notes.append(f"unstable cycle of predicted amplitude {amplitude:.4g} at distance {d:g}: from 0.6x it ends at "
                 f"{outcomes[0]:.3g}, from 1.6x at {outcomes[1]:.3g}")
    return bool(ok)
