"""The derivation steps of :func:`dsanalyze.analyze`, each deriving results and checking them.

Every step takes a :class:`_Context` and appends findings to its analysis. A
step that runs out of its time budget, or that SymPy cannot do, leaves a note
and the others go on: a report says what it could not derive rather than
stopping.
"""
from __future__ import annotations

import inspect
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..errors import DsAnalyzeError, NotInvariantError, SymbolicTimeout
from ..symbolic.equilibria import _completeness_verdict
from ..symbolic.intervals import latex_region
from ..symbolic.results import FixedPoint
from ..systems import Flow, Map, System, gradient_flow
from ..verify import Basis, Verdict
from .evidence import curve_lyapunov, exponent_sum_verdicts, point_at, transverse_exponent
from .findings import Analysis, Finding
from .window import Window

__all__ = ["Context", "STEPS"]


@dataclass
class Context:
    """What the steps share: the system, the window, the budget, and what earlier steps derived."""

    system: System
    window: Window
    analysis: Analysis
    timeout: float | None
    seed: int = 0
    degree: int = 2
    max_period: int = 2
    prefix: str = ""  # "on v = u: " for the findings of a restriction
    fixed_points: Any = None
    curves: list = field(default_factory=list)
    slices: list = field(default_factory=list)  # (label, restricted system)

    @property
    def samples(self) -> list[dict[str, float]]:
        return self.window.samples()

    def add(self, section: str, title: str, latex: str = "", result: Any = None, verdicts: Any = (),
            text: str = "") -> None:
        self.analysis.findings.append(Finding(section, self.prefix + title, latex, result, tuple(verdicts), text))

    def note(self, text: str) -> None:
        self.analysis.notes.append(self.prefix + text)


def _attempt(ctx: Context, what: str, fn: Callable[[], Any]) -> Any:
    """Run one derivation; on a timeout or a refusal, note it and return None."""
    try:
        return fn()
    except SymbolicTimeout as exc:
        ctx.note(f"{what}: {exc}")
    except Exception as exc:  # noqa: BLE001 - one derivation SymPy cannot do must not stop the others
        ctx.note(f"{what}: not derived ({type(exc).__name__}: {exc})")
    return None


def _check(ctx: Context, claim: str, fn: Callable[[], Any]) -> list[Verdict]:
    """Run one verification; an error becomes an unchecked verdict that says why."""
    try:
        out = fn()
    except (DsAnalyzeError, ValueError, ArithmeticError) as exc:
        return [Verdict.unchecked(claim, None, f"the check could not run: {type(exc).__name__}: {exc}")]
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _component_point(fp: FixedPoint, ctx: Context, value_of: sp.Expr | None = None) -> dict[str, float] | None:
    """A point of a parametrised component (as ``{state name: value}``), inside the box.

    Free symbols that are state variables take values inside the box, others
    a few values around 1. With ``value_of`` (an expression in the state,
    e.g. a bifurcation value 2/(u^2 + v^2)), prefer a point where it falls
    inside the parameter range.
    """
    if fp.parametrisation is None or not fp.free:
        return None
    box = dict(zip(ctx.system.state, ctx.window.box_of(ctx.system)))
    fixed = {p: ctx.window.fixed[p.name] for p in ctx.system.params if p.name in ctx.window.fixed}

    def trial_values(symbol):
        if symbol in box:
            lo, hi = box[symbol]
            return [lo + f * (hi - lo) for f in (0.37, 0.6, 0.2, 0.8)]
        return [1.2, 0.8, 1.5, 0.6, 0.3, 2.0, -1.2, -0.8]

    candidates = []
    for combo in itertools.islice(itertools.product(*(trial_values(f) for f in fp.free)), 64):
        at = {**fixed, **dict(zip(fp.free, combo))}
        try:
            coords = [complex(sp.N(c.xreplace(at))) for c in fp.parametrisation]
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if any(abs(c.imag) > 1e-12 or not np.isfinite(c.real) for c in coords):
            continue
        point = {s.name: c.real for s, c in zip(ctx.system.state, coords)}
        if not all(lo <= point[s.name] <= hi for s, (lo, hi) in box.items()):
            continue
        if value_of is not None and ctx.window.param_range is not None:
            try:
                value = float(value_of.xreplace({s: point[s.name] for s in ctx.system.state}).xreplace(fixed))
            except (TypeError, ValueError):
                continue
            lo, hi = ctx.window.param_range
            if not lo < value < hi:
                candidates.append(point)
                continue
        return point
    return candidates[0] if candidates else None


def condition_text(condition: sp.Basic) -> str:
    """A Boolean in words: ``mu > 0 and mu*(u**2 + v**2) < 2``."""
    if isinstance(condition, sp.And):
        return " and ".join(condition_text(a) for a in condition.args)
    if isinstance(condition, sp.Or):
        return " or ".join(f"({condition_text(a)})" for a in condition.args)
    return sp.sstr(condition)


def region_text(region: sp.Set, param: sp.Symbol) -> str:
    """A union of intervals in words: ``1 < mu < -1 + sqrt(5)``, ``mu > 3``, ``no value``."""
    if region is sp.S.EmptySet:
        return "no value"
    pieces = region.args if isinstance(region, sp.Union) else (region,)
    out = []
    for piece in pieces:
        if isinstance(piece, sp.Interval):
            lo = "" if piece.start == -sp.oo else f"{sp.sstr(piece.start)} {'<=' if not piece.left_open else '<'} "
            hi = "" if piece.end == sp.oo else f" {'<=' if not piece.right_open else '<'} {sp.sstr(piece.end)}"
            out.append(f"{lo}{param}{hi}" if lo or hi else f"every {param}")
        elif isinstance(piece, sp.FiniteSet):
            out.append(f"{param} in {{{', '.join(map(sp.sstr, piece.args))}}}")
        else:
            out.append(f"{param} in {sp.sstr(piece)}")
    return " or ".join(out)


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------
def fixed_points_step(ctx: Context) -> None:
    """Fixed points (equilibria), each checked at the sample values; completeness of the set."""
    fps = _attempt(ctx, "fixed points", lambda: ctx.system.fixed_points(timeout=ctx.timeout, seed=ctx.seed))
    ctx.fixed_points = fps
    if fps is None:
        return
    word = "equilibrium" if isinstance(ctx.system, Flow) else "fixed point"
    for fp in fps:
        what = word if fp.is_point else f"component of {word}s"
        verdicts = []
        for values in ctx.samples:
            verdicts += _check(ctx, f"{fp.text()} is a {word}", lambda: fp.verify(seed=ctx.seed, **values))
        text = "" if fp.basis is Basis.PROVED else f"found numerically (residual {fp.residual:.1e})"
        ctx.add("Fixed points", f"{what} {fp.text()}", fp.latex(), fp, verdicts, text)
    if fps.complete:
        verdicts = []
        for values in ctx.samples:
            verdicts += _check(ctx, "the fixed points are complete",
                               lambda: _completeness_verdict(fps, values, ctx.seed))
        ctx.add("Fixed points", f"these are all the {word} sets", "", fps, verdicts,
                f"{len(fps)} {word} set(s), derived exactly")
    else:
        ctx.add("Fixed points", f"{word}s found numerically", "", fps, (),
                "the exact derivation did not finish; the list holds what Newton's method found")


def _linearisation_verdict(ctx: Context, lin: Any, fp: FixedPoint, values: dict[str, float]) -> Verdict:
    """The exact eigenvalues against those of the compiled Jacobian at one parameter set."""
    from ..numeric.orbits import evaluate_jacobian

    system = ctx.system
    claim = f"eigenvalues of the Jacobian at {fp.text()}"
    subs = {p: sp.nsimplify(values[p.name]) for p in system.params if p.name in values}
    if fp.is_point:
        x = point_at(fp, values)
        if x is None:
            return Verdict.unchecked(claim, None, "the point is not real and finite at these values")
        point = dict(zip((s.name for s in system.state), x))
    else:
        point = _component_point(fp, ctx)
        if point is None:
            return Verdict.unchecked(claim, None, "no real point of the component in the box")
    at = {**subs, **{s: point[s.name] for s in system.state}}
    x = np.array([[point[s.name] for s in system.state]])
    P = {p.name: values[p.name] for p in system.params}
    J = evaluate_jacobian(system, x, P)[0]
    where = ", ".join(f"{k} = {v:g}" for k, v in values.items())
    predicted = []
    for ev, mult in lin.eigenvalues.items():
        predicted += [complex(sp.N(ev.subs(at)))] * int(mult)
    if not lin.eigenvalues_complete or len(predicted) != system.dim:
        # No closed form for every root: compare the characteristic polynomial's coefficients instead.
        from ..symbolic.linearisation import LAMBDA

        poly = sp.Poly(sp.expand(lin.characteristic_polynomial), LAMBDA)
        exact = np.array([complex(sp.N(c.subs(at))) for c in poly.all_coeffs()])
        exact = exact / exact[0]
        numeric = np.poly(J)
        error = float(np.max(np.abs(exact - numeric)) / max(1.0, float(np.max(np.abs(numeric)))))
        return Verdict(f"characteristic polynomial of the Jacobian at {fp.text()} at {where}",
                       _format_complex(exact), _format_complex(numeric), 1e-10, error <= 1e-10, Basis.NUMERIC,
                       note=f"coefficients of det(lambda I - J), compiled Jacobian; relative error {error:.1e}")
    measured = np.linalg.eigvals(J)
    pred = np.sort_complex(np.array(predicted))
    meas = np.sort_complex(measured)
    error = float(np.max(np.abs(pred - meas)) / max(1.0, float(np.max(np.abs(meas)))))
    return Verdict(f"{claim} at {where}", _format_complex(pred), _format_complex(meas), 1e-10, error <= 1e-10,
                   Basis.NUMERIC, note=f"compiled Jacobian at ({', '.join(f'{point[s.name]:.6g}' for s in system.state)})"
                   f"; relative error {error:.1e}")


def _format_complex(values: np.ndarray) -> str:
    def one(z: complex) -> str:
        return f"{z.real:.10g}" if abs(z.imag) < 1e-13 else f"{z.real:.10g}{z.imag:+.10g}i"
    return ", ".join(one(z) for z in values)


def linearisation_step(ctx: Context) -> None:
    """The Jacobian and its exact eigenvalues at every fixed point, checked against the compiled Jacobian."""
    if not ctx.fixed_points:
        return
    for fp in ctx.fixed_points:
        lin = _attempt(ctx, f"linearisation at {fp.text()}", lambda: ctx.system.linearise(fp, timeout=ctx.timeout))
        if lin is None:
            continue
        verdicts = [_linearisation_verdict(ctx, lin, fp, values) for values in ctx.samples]
        ctx.add("Linearisation", f"at {fp.text()}: {lin.classification.value}", lin.latex(), lin, verdicts)


def stability_step(ctx: Context) -> None:
    """Exact stability conditions (Jury / Routh-Hurwitz), and the stable interval of the swept parameter."""
    if not ctx.fixed_points:
        return
    w = ctx.window
    for fp in ctx.fixed_points:
        cond = _attempt(ctx, f"stability of {fp.text()}", lambda: ctx.system.stability(fp, timeout=ctx.timeout))
        if cond is None:
            continue
        # A constant verdict is checked at each sample; a condition in the swept parameter draws it from its range.
        if cond.condition in (sp.true, sp.false) or w.param is None:
            runs = [(values, None) for values in ctx.samples]
        else:
            runs = [(w.fixed, {w.param.name: w.param_range})]
        verdicts = []
        for values, window in runs:
            verdicts += _check(ctx, f"{fp.text()} is stable iff {cond.condition}",
                               lambda: cond.verify(seed=ctx.seed, window=window, **values))
        title = {sp.true: "is always stable", sp.false: "is never stable"}.get(
            cond.condition, f"is stable iff {condition_text(cond.condition)}")
        ctx.add("Stability", f"{fp.text()} {title}", cond.latex(), cond, verdicts)
        if w.param is None or fp.coordinates is None or cond.condition in (sp.true, sp.false):
            continue
        at = {sp.Symbol(k): sp.nsimplify(v) for k, v in w.fixed.items()}
        region = _attempt(ctx, f"stable interval of {fp.text()} in {w.param}",
                          lambda: ctx.system.stability_region(fp, w.param, at=at or None, timeout=ctx.timeout))
        if region is None:
            continue
        verdicts = _check(ctx, f"{fp.text()} is stable iff {w.param} in {region.region}",
                          lambda: region.verify(seed=ctx.seed))
        ctx.add("Stability", f"{fp.text()} is stable for {region_text(region.region, w.param)}",
                latex_region(region.region, w.param), region, verdicts)


def bifurcation_step(ctx: Context) -> None:
    """Local bifurcations in the swept parameter, each located numerically and simulated on both sides."""
    w = ctx.window
    if w.param is None or not ctx.fixed_points:
        return
    found = _attempt(ctx, f"bifurcations in {w.param}",
                     lambda: ctx.system.bifurcations(w.param, ctx.fixed_points, timeout=ctx.timeout))
    if found is None and w.fixed:
        # With the other parameters at their fixed values the algebra is often within reach.
        at = {k: sp.nsimplify(v) for k, v in w.fixed.items()}
        system = ctx.system.subs(at)
        where = ", ".join(f"{k} = {v}" for k, v in at.items())
        points = _attempt(ctx, f"fixed points at {where}", lambda: system.fixed_points(timeout=ctx.timeout))
        if points:
            found = _attempt(ctx, f"bifurcations in {w.param} at {where}",
                             lambda: system.bifurcations(w.param, points, timeout=ctx.timeout))
            if found:
                ctx.note(f"bifurcations in {w.param} derived at {where}")
    for b in found or ():
        values = {k: v for k, v in w.fixed.items() if k in {p.name for p in b.fixed_point.system.params}}
        if b.fixed_point.coordinates is None:
            point = _component_point(b.fixed_point, ctx, b.value)
            if point is None:
                verdicts = [Verdict.unchecked(str(b), b.value, "no real point of the component in the box")]
                ctx.add("Bifurcations", str(b), b.latex(), b, verdicts)
                continue
            values.update(point)
        verdicts = _check(ctx, str(b), lambda: b.verify(seed=ctx.seed, **values))
        ctx.add("Bifurcations", str(b), b.latex(), b, verdicts)


def periodic_step(ctx: Context) -> None:
    """Orbits of least period 2..max_period of maps of dimension 1 and 2, checked by the compiled map."""
    if not isinstance(ctx.system, Map) or ctx.system.dim > 2:
        return
    w = ctx.window
    for k in range(2, ctx.max_period + 1):
        orbits = _attempt(ctx, f"orbits of period {k}",
                          lambda: ctx.system.periodic_orbits(k, timeout=ctx.timeout))
        for orbit in orbits or ():
            values = {**w.fixed}
            text = ""
            if w.param is not None:
                values[w.param.name] = [v[w.param.name] for v in ctx.samples]
                exists = _attempt(ctx, f"where the {k}-cycle exists",
                                  lambda: orbit.existence_region(w.param, **w.fixed))
                if exists is sp.S.EmptySet:
                    ctx.note(f"a {k}-cycle that is real for no value of {w.param} is left out: {orbit.text()}"
                             if hasattr(orbit, "text") else f"a {k}-cycle that is real for no value of {w.param} is left out")
                    continue
                if exists is not None:
                    values[w.param.name] = _inside(exists, *w.param_range) or values[w.param.name]
                region = _attempt(ctx, f"stable interval of the {k}-cycle",
                                  lambda: orbit.stability_region(w.param, **w.fixed))
                if exists is not None:
                    text = f"exists for {region_text(exists, w.param)}"
                if region is not None:
                    text += f", stable for {region_text(region, w.param)}" if region is not sp.S.EmptySet \
                        else ", never stable"
            verdicts = _check(ctx, f"{k}-cycle", lambda: orbit.verify(**values))
            ctx.add("Periodic orbits", f"{k}-cycle" + (f": {text}" if text else ""), orbit.latex(), orbit, verdicts)


def _condition_values(ctx: Context, conditions: sp.Basic) -> dict[str, float] | None:
    """Parameter values where a special-value curve exists (``Eq(mu, 3)``); None when it exists generically."""
    eqs = [a for a in (conditions.args if isinstance(conditions, sp.And) else (conditions,)) if isinstance(a, sp.Eq)]
    if not eqs:
        return None
    values = dict(ctx.window.fixed)
    param = ctx.window.param
    for eq in eqs:
        relation = eq.lhs - eq.rhs
        free = sorted(relation.free_symbols, key=lambda s: s.name)
        # Solve for the swept parameter given the fixed ones; else for the one symbol left.
        target = param if param in free else (free[0] if len(free) == 1 else None)
        if target is None:
            continue
        known = {s: values[s.name] for s in free if s is not target and s.name in values}
        try:
            roots = [r for r in sp.solve(relation.subs(known), target) if r.is_real]
        except (NotImplementedError, TypeError, ValueError):
            roots = []
        if roots:
            values[target.name] = float(roots[0])
    return values


def _inside(region: sp.Set, lo: float, hi: float) -> list[float]:
    """Up to three parameter values inside ``region``, preferring those inside (lo, hi)."""
    pieces = region.args if isinstance(region, sp.Union) else (region,)
    inside, outside = [], []
    for piece in pieces:
        if not isinstance(piece, sp.Interval):
            continue
        a, b = piece.start, piece.end
        a_in, b_in = max(float(a), lo) if a.is_finite else lo, min(float(b), hi) if b.is_finite else hi
        if a_in < b_in:
            inside += [a_in + f * (b_in - a_in) for f in (0.3, 0.7)]
        else:
            a_f = float(a) if a.is_finite else float(b) - 2
            b_f = float(b) if b.is_finite else a_f + 2
            outside.append((a_f + b_f) / 2)
    return [round(v, 12) for v in (inside or outside)[:3]]


def invariant_curves_step(ctx: Context) -> None:
    """Invariant algebraic curves up to ``degree`` (planar systems), the map induced on conics, and exponents."""
    if ctx.system.dim != 2:
        return
    curves = _attempt(ctx, f"invariant curves of degree <= {ctx.degree}",
                      lambda: ctx.system.find_invariant_curves(ctx.degree, timeout=ctx.timeout))
    outside = []
    for curve in curves or ():
        special = _condition_values(ctx, curve.conditions)
        if special is not None and not _in_window(ctx.window, special):
            outside.append(f"{sp.sstr(curve.expression)} = 0 when {sp.sstr(curve.conditions)}")
            continue
        samples = [special] if special is not None else ctx.samples
        verdicts = []
        for values in samples:
            verdicts += _check(ctx, f"{sp.sstr(curve.expression)} = 0 is invariant",
                               lambda: curve.verify(seed=ctx.seed, **values))
        where = "" if special is None else " at " + ", ".join(f"{k} = {v:g}" for k, v in special.items())
        ctx.add("Invariant curves", f"{sp.sstr(curve.expression)} = 0 is invariant{where}", curve.latex(), curve,
                verdicts)
        ctx.curves.append(curve)
        if isinstance(ctx.system, Map) and special is None and curve.degree == 2 and not curve.free \
                and not ctx.system._made_of_fixed_points(curve.expression):
            _induced_map(ctx, curve)
    if outside:
        ctx.note(f"{len(outside)} invariant curve(s) exist only at special parameter values outside the window "
                 f"and are not checked here: " + "; ".join(outside))


def _in_window(window: Window, values: dict[str, float]) -> bool:
    """Whether special parameter values lie inside the swept range (ends excluded) and agree with the fixed values."""
    for name, value in values.items():
        if window.param is not None and name == window.param.name:
            lo, hi = window.param_range
            if not lo < value < hi:
                return False
        elif name in window.fixed and abs(window.fixed[name] - value) > 1e-12 * max(1.0, abs(value)):
            return False
    return True


def _induced_map(ctx: Context, curve: Any) -> None:
    dynamics = _attempt(ctx, f"map induced on {sp.sstr(curve.expression)} = 0",
                        lambda: ctx.system.induced_map(curve, timeout=ctx.timeout))
    if dynamics is None:
        return
    verdicts = []
    for values in ctx.samples:
        verdicts += _check(ctx, "induced map", lambda: dynamics.verify(seed=ctx.seed, **values))
    texts = []
    if dynamics.lyapunov_exponent is not None and dynamics.lyapunov_exponent.is_finite:
        for values in ctx.samples:
            verdicts += _check(ctx, "Lyapunov exponent on the curve",
                               lambda: curve_lyapunov(ctx.system, curve, dynamics, values, seed=ctx.seed))
    for values in ctx.samples:
        text = transverse_exponent(ctx.system, curve, values, seed=ctx.seed)
        if text:
            texts.append(text)
    ctx.add("Invariant curves", f"on {sp.sstr(curve.expression)} = 0 the map is {dynamics.description}",
            dynamics.latex(), dynamics, verdicts, "; ".join(texts))


def conserved_step(ctx: Context) -> None:
    """Conserved quantities (flows), and for a gradient-descent map those of its gradient flow with their factors."""
    system = ctx.system
    if isinstance(system, Flow):
        found = _attempt(ctx, "conserved quantities",
                         lambda: system.conserved_quantities(ctx.degree, timeout=ctx.timeout))
        for c in _independent(found or (), system.state):
            special = _condition_values(ctx, c.conditions)
            if special is not None and not _in_window(ctx.window, special):
                ctx.note(f"{sp.sstr(c.expression)} is conserved only when {sp.sstr(c.conditions)}, "
                         "outside the window: not checked here")
                continue
            verdicts = []
            for values in ([special] if special is not None else ctx.samples):
                verdicts += _check(ctx, f"{sp.sstr(c.expression)} is conserved",
                                   lambda: c.verify(seed=ctx.seed, **values))
            ctx.add("Conserved quantities", f"{sp.sstr(c.expression)} is conserved", c.latex(), c, verdicts)
        return
    if system.loss is None:
        return
    flow = gradient_flow(system.loss, system.state, name=f"gradient flow of {system.name}")
    found = _attempt(ctx, "conserved quantities of the gradient flow",
                     lambda: flow.conserved_quantities(ctx.degree, timeout=ctx.timeout))
    flow_values = [{k: v for k, v in s.items() if k in {p.name for p in flow.params}} for s in ctx.samples][:1]
    for c in found or ():
        verdicts = []
        for values in flow_values:
            verdicts += _check(ctx, f"{sp.sstr(c.expression)} is conserved by the gradient flow",
                               lambda: c.verify(seed=ctx.seed, **values))
        ctx.add("Conserved quantities", f"{sp.sstr(c.expression)} is conserved by the gradient flow",
                c.latex(), c, verdicts)
        factor = _attempt(ctx, f"transformation factor of {sp.sstr(c.expression)}",
                          lambda: system.transformation_factor(c.expression, timeout=ctx.timeout))
        if factor is None:
            continue
        verdicts = []
        for values in ctx.samples:
            verdicts += _check(ctx, "transformation factor", lambda: factor.verify(seed=ctx.seed, **values))
        ctx.add("Conserved quantities", f"the map multiplies {sp.sstr(c.expression)} by {sp.sstr(factor.factor)}",
                factor.latex(), factor, verdicts)


def _independent(quantities, state) -> list:
    """The quantities by degree, without powers of earlier ones ((S + I + R)^2 after S + I + R)."""
    ordered = sorted(quantities, key=lambda c: sp.Poly(c.expression, *state).total_degree())
    kept = []
    for c in ordered:
        degree = sp.Poly(c.expression, *state).total_degree()
        if any(sp.expand(c.expression - k.expression ** n) == 0 or sp.expand(c.expression + k.expression ** n) == 0
               for k in kept for n in range(2, degree + 1)):
            continue
        kept.append(c)
    return kept


def _candidate_subspaces(system: System) -> list[tuple[str, dict]]:
    state = system.state
    out = []
    for a, b in itertools.combinations(state, 2):
        out.append((f"{b} = {a}", {b: a}))
        out.append((f"{b} = -{a}", {b: -a}))
    for a in state:
        out.append((f"{a} = 0", {a: sp.Integer(0)}))
    return out


def subspace_step(ctx: Context) -> None:
    """Invariant linear subspaces x_j = x_i, x_j = -x_i, x_i = 0: proved, checked, and the restricted map analysed."""
    system = ctx.system
    if system.dim < 2 or ctx.prefix:
        return
    for label, substitution in _candidate_subspaces(system):
        try:
            restricted = system.restrict(substitution, name=f"{system.name} on {label}")
        except NotInvariantError:
            continue
        except (DsAnalyzeError, ValueError) as exc:
            ctx.note(f"restriction to {label}: {exc}")
            continue
        (var, value), = substitution.items()
        certificate = _attempt(ctx, f"invariance of {label}", lambda: system.is_invariant(var - value))
        verdicts = []
        if certificate is not None:
            for values in ctx.samples:
                verdicts += _check(ctx, f"{label} is invariant", lambda: certificate.verify(seed=ctx.seed, **values))
        trivial = all(sp.simplify(r) == 0 for r in restricted.rhs) if isinstance(restricted, Flow) else \
            all(sp.simplify(r - s) == 0 for r, s in zip(restricted.rhs, restricted.state))
        ctx.add("Invariant subspaces", f"{label} is invariant", restricted.latex(), restricted, verdicts,
                "the dynamics on it are trivial (every point is fixed)" if trivial else "")
        if isinstance(restricted, Map) and not trivial:
            ctx.slices.append((label, restricted))
    for label, restricted in ctx.slices:
        sub = Context(restricted, ctx.window.restricted_to(restricted), ctx.analysis, ctx.timeout, ctx.seed,
                      ctx.degree, ctx.max_period, prefix=f"on {label}: ")
        for step in (fixed_points_step, stability_step, bifurcation_step, periodic_step):
            step(sub)


def lyapunov_step(ctx: Context) -> None:
    """Lyapunov exponents: the measured spectrum, and its sum against ln|det J| (maps) or tr J (flows) when constant."""
    for finding in exponent_sum_verdicts(ctx):
        ctx.analysis.findings.append(finding)


def epidemic_step(ctx: Context) -> None:
    """For a compartmental epidemic model (a flow with S and I): R0 by the next-generation matrix, and what follows."""
    from ..epidemic_command import epidemic_section

    system = ctx.system
    names = {s.name for s in system.state}
    if not isinstance(system, Flow) or not {"S", "I"} <= names or ctx.prefix:
        return
    items = _attempt(ctx, "the epidemic section", lambda: epidemic_section(system, timeout=ctx.timeout))
    for item in items or ():
        # Results stated in the model's parameters (R0, final size) are checked at the sample values.
        takes_values = any(p.kind is inspect.Parameter.VAR_KEYWORD
                           for p in inspect.signature(item.verify).parameters.values())
        if takes_values and getattr(item, "R0", None) is not None and item.R0.free_symbols:
            verdicts = [v for values in ctx.samples
                        for v in _check(ctx, type(item).__name__, lambda: item.verify(**values))]
        else:
            verdicts = _check(ctx, type(item).__name__, item.verify)
        title = re.sub(r"(?<!^)(?=[A-Z])", " ", type(item).__name__).lower()
        ctx.add("Epidemic", title, item.latex(), item, verdicts)


#: The steps, in order, with the names the progress bar shows.
STEPS: tuple[tuple[str, Callable[[Context], None]], ...] = (
    ("fixed points", fixed_points_step),
    ("linearisation", linearisation_step),
    ("stability", stability_step),
    ("bifurcations", bifurcation_step),
    ("periodic orbits", periodic_step),
    ("invariant curves", invariant_curves_step),
    ("conserved quantities", conserved_step),
    ("invariant subspaces", subspace_step),
    ("Lyapunov exponents", lyapunov_step),
    ("epidemic", epidemic_step),
)


def run_steps(ctx: Context, progress: Any = None) -> None:
    """Run every step, timing each."""
    for name, step in STEPS:
        if progress is not None:
            progress.set_description(name)
        start = time.perf_counter()
        step(ctx)
        ctx.analysis.seconds[name] = time.perf_counter() - start
        if progress is not None:
            progress.update(1)
