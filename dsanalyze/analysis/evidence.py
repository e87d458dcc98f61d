"""Numeric evidence of an analysis: exponents against exact predictions, and the figures.

The checks here compare a number the derivation predicts exactly with one the
compiled kernels measure: the Lyapunov exponent of an orbit on an invariant
conic against the induced map's ln|n|; the exponent at a stable fixed point
against ln max|lambda| (maps) or max Re lambda (flows); the sum of a spectrum
against ln|det J| or tr J where those are constant.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ..errors import DsAnalyzeError
from ..numeric.lyapunov import (
    flow_lyapunov_spectrum, lyapunov_spectrum, lyapunov_spectrum_batch, maximal_lyapunov, transverse_lyapunov,
)
from ..numeric.orbits import evaluate_jacobian, evaluate_rhs
from ..symbolic.invariants import _points_on_curve as points_on_curve
from ..systems import Flow, Map, System
from ..verify import Basis, Verdict
from .findings import Figure, Finding
from .window import Window

__all__ = ["point_at", "curve_lyapunov", "transverse_exponent", "exponent_sum_verdicts", "build_figures"]


def _where(values: dict[str, float]) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in values.items())


def _start(window: Window, system: System, fraction: float = 0.37) -> np.ndarray:
    """A generic start inside the box (off the symmetric centre, where fixed points often sit)."""
    return np.array([lo + fraction * (hi - lo) for lo, hi in window.box_of(system)])


def point_at(fp: Any, values: dict[str, float]) -> np.ndarray | None:
    """The coordinates of an isolated fixed point at these parameter values; None where not real and finite."""
    subs = {p: sp.nsimplify(values[p.name]) for p in fp.system.params if p.name in values}
    try:
        x = np.array([complex(sp.N(c.subs(subs))) for c in fp.coordinates])
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not np.all(np.isfinite(x)) or np.any(np.abs(x.imag) > 1e-12):
        return None
    return x.real


def _points_on_curve(system: System, G: sp.Expr, values: dict[str, float], n: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Up to ``n`` points with G = 0 (the invariant-curve checks' own search, at these parameter values)."""
    return points_on_curve(system, G, [values[p.name] for p in system.params], rng, n)


def curve_lyapunov(system: Map, curve: Any, dynamics: Any, values: dict[str, float], *, seed: int = 0,
                   orbits: int = 64, steps: int = 4000, transient: int = 100) -> Verdict:
    """The exponent of orbits on an invariant conic, measured with the 2-D map, against the induced map's.

    Orbits of the compiled map are put back on G = 0 after each step (a
    Newton step along grad G, so round-off cannot carry them off a repelling
    curve); a tangent vector is carried by the compiled Jacobian and projected
    on the curve's tangent. The exponent is the mean log stretch; its
    standard error comes from the spread over ``orbits`` orbits. The claim
    passes when |measured - exact| <= max(5 standard errors, 1e-3).
    """
    G = curve.expression
    exact = dynamics.lyapunov_exponent
    claim = f"Lyapunov exponent of orbits on {sp.sstr(G)} = 0 at {_where(values)}"
    rng = np.random.default_rng(seed)
    X = _points_on_curve(system, G, values, orbits, rng)
    if len(X) < 4:
        return Verdict.unchecked(claim, exact, "fewer than 4 points of the curve found at these values")
    subs = {p: values[p.name] for p in system.params if p.name in values}
    state = system.state
    g = sp.lambdify(state, G.subs(subs), "numpy")
    grad = [sp.lambdify(state, sp.diff(G, s).subs(subs), "numpy") for s in state]
    P = {p.name: values[p.name] for p in system.params}
    n = X.shape[0]

    def tangent_and_project(X):
        cols = X.T
        dG = np.stack([np.asarray(d(*cols), dtype=float) * np.ones(n) for d in grad], axis=1)
        norm2 = np.sum(dG * dG, axis=1)
        gv = np.asarray(g(*cols), dtype=float) * np.ones(n)
        X = X - (gv / norm2)[:, None] * dG
        tangent = np.stack([-dG[:, 1], dG[:, 0]], axis=1) / np.sqrt(norm2)[:, None]
        return X, tangent

    X, w = tangent_and_project(X)
    logs = np.zeros(n)
    for k in range(transient + steps):
        J = evaluate_jacobian(system, X, P, threads=1)
        image = np.einsum("nij,nj->ni", J, w)
        X, tangent = tangent_and_project(evaluate_rhs(system, X, P, threads=1))
        stretch = np.sum(image * tangent, axis=1)
        if k >= transient:
            logs += np.log(np.abs(stretch))
        w = tangent * np.sign(stretch)[:, None]
    if not np.all(np.isfinite(logs)):
        return Verdict.unchecked(claim, exact, "an orbit left the curve or the box")
    per_orbit = logs / steps
    measured = float(per_orbit.mean())
    se = float(per_orbit.std(ddof=1) / np.sqrt(n))
    tolerance = max(5 * se, 1e-3)
    passed = abs(measured - float(exact)) <= tolerance
    return Verdict(claim, exact, measured, tolerance, passed, Basis.SAMPLED,
                   evidence={"exponents": per_orbit},
                   note=f"{n} orbits x {steps} steps on the curve (after {transient}), re-projected onto it each step; "
                        f"standard error {se:.1e}; seed {seed}")


def transverse_exponent(system: Map, curve: Any, values: dict[str, float], *, seed: int = 0) -> str:
    """The measured exponent normal to an invariant curve at one parameter set, as a sentence ('' if none)."""
    rng = np.random.default_rng(seed)
    X = _points_on_curve(system, curve.expression, values, 1, rng)
    if len(X) == 0:
        return ""
    try:
        r = transverse_lyapunov(system, X[0], 20000, curve=curve.expression, transient=200,
                                **{p.name: values[p.name] for p in system.params})
    except DsAnalyzeError:
        return ""
    value = float(r.maximal)
    if not np.isfinite(value):
        return ""
    word = "repelling" if value > 0 else "attracting"
    return (f"transverse exponent at {_where(values)}: {value:+.4f} per step "
            f"(standard error {float(r.standard_error[0]):.1e}; {word})")


# ---------------------------------------------------------------------------------------------
# Exponents against exact predictions
# ---------------------------------------------------------------------------------------------
def _stable_point_verdicts(ctx: Any) -> list[Finding]:
    """At each sample value and each stable isolated fixed point: measured exponent = ln max|lambda| (maps)."""
    system = ctx.system
    if not isinstance(system, Map) or not ctx.fixed_points:
        return []
    findings = []
    for fp in ctx.fixed_points:
        if not fp.is_point:
            continue
        verdicts = []
        for values in ctx.samples:
            x = point_at(fp, values)
            if x is None:
                continue
            P = {p.name: values[p.name] for p in system.params}
            eig = np.linalg.eigvals(evaluate_jacobian(system, x[None, :], P)[0])
            radius = float(np.max(np.abs(eig)))
            if not (1e-6 < radius < 1 - 1e-3):
                continue  # not stable, or superstable (exponent -inf)
            predicted = float(np.log(radius))
            claim = f"Lyapunov exponent at the stable {fp.text()}, {_where(values)}"
            start = x + 1e-4 * (1 + np.abs(x))
            r = maximal_lyapunov(system, start, 20000, transient=2000, **P)
            measured = float(r.maximal)
            passed = bool(np.isfinite(measured) and abs(measured - predicted) <= 1e-3)
            verdicts.append(Verdict(claim, predicted, measured, 1e-3, passed, Basis.SAMPLED,
                                    note=f"predicted ln max|lambda| = ln {radius:.6g}; orbit from 1e-4 away, "
                                         f"2000 + 20000 steps"))
        if verdicts:
            findings.append(Finding("Lyapunov exponents", ctx.prefix + f"exponent at the stable {fp.text()}",
                                    "", fp, tuple(verdicts),
                                    "an orbit attracted to a stable fixed point has exponent ln max|lambda|"))
    return findings


def _constant(expr: sp.Expr, state: tuple) -> sp.Expr | None:
    expr = sp.simplify(expr)
    return None if expr.free_symbols & set(state) else expr


def exponent_sum_verdicts(ctx: Any) -> list[Finding]:
    """Findings of the Lyapunov section: exponents at stable points; spectrum sums where J has constant det or trace."""
    system = ctx.system
    findings = _stable_point_verdicts(ctx)
    if ctx.prefix:
        return findings
    J = system.jacobian()
    if isinstance(system, Map) and system.dim >= 2:
        det = _constant(J.det(), system.state)
        if det is None:
            return findings
        verdicts = []
        for values in ctx.samples:
            P = {p.name: values[p.name] for p in system.params}
            exact = sp.log(sp.Abs(det.subs({p: sp.nsimplify(v) for p, v in zip(system.params, P.values())})))
            claim = f"sum of the Lyapunov exponents at {_where(values)}"
            result = _bounded_spectrum(system, ctx.window, P)
            if result is None:
                verdicts.append(Verdict.unchecked(claim, exact, "no bounded orbit from 16 starts in the box"))
                continue
            total = float(np.sum(result.exponents))
            verdicts.append(Verdict(claim, exact, total, 1e-6, abs(total - float(exact)) <= 1e-6, Basis.SAMPLED,
                                    note=f"exponents {', '.join(f'{e:.6f}' for e in result.exponents)} over "
                                         f"{result.steps} steps; det J = {sp.sstr(det)} is constant"))
        findings.append(Finding("Lyapunov exponents", "sum of the exponents = ln|det J|",
                                rf"\lambda_1 + \dots + \lambda_{system.dim} = \ln\left|{sp.latex(det)}\right|",
                                None, tuple(verdicts)))
    elif isinstance(system, Flow) and system.dim >= 3:
        trace = _constant(J.trace(), system.state)
        if trace is None:
            return findings
        P = {p.name: ctx.window.fixed.get(p.name, ctx.samples[0].get(p.name)) for p in system.params}
        if ctx.window.param is not None:
            P[ctx.window.param.name] = ctx.samples[-1][ctx.window.param.name]
        exact = trace.subs({p: sp.nsimplify(P[p.name]) for p in system.params})
        claim = f"sum of the Lyapunov exponents at {_where(P)}"
        try:
            # RK4 at dt = 1e-3 keeps the integrator's error in log det well below the tolerance.
            r = flow_lyapunov_spectrum(system, _start(ctx.window, system), 200.0, dt=1e-3, transient=20.0, **P)
            total = float(np.sum(r.exponents))
            verdict = Verdict(claim, exact, total, 1e-6, abs(total - float(exact)) <= 1e-6, Basis.SAMPLED,
                              note=f"exponents {', '.join(f'{e:.4f}' for e in r.exponents)} over t = 200 (RK4, dt = 0.001); "
                                   f"tr J = {sp.sstr(trace)} is constant")
        except DsAnalyzeError as exc:
            verdict = Verdict.unchecked(claim, exact, f"integration failed: {exc}")
        findings.append(Finding("Lyapunov exponents", "sum of the exponents = tr J",
                                rf"\lambda_1 + \dots + \lambda_{system.dim} = {sp.latex(trace)}", None, (verdict,)))
    return findings


def _bounded_spectrum(system: Map, window: Window, P: dict[str, float]):
    rng = np.random.default_rng(0)
    box = window.box_of(system)
    for _ in range(16):
        x0 = np.array([lo + (hi - lo) * rng.random() for lo, hi in box])
        r = lyapunov_spectrum(system, x0, 100000, transient=1000, **P)
        if np.all(np.isfinite(r.exponents)):
            return r
    return None


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------
def build_figures(ctx: Any) -> list[Figure]:
    """The figures of evidence that fit the system: orbit diagram and exponents, basins or regimes, portraits."""
    from .. import plot
    from ..numeric.basins import basins
    from ..numeric.diagrams import orbit_diagram
    from ..numeric.flows import integrate
    from ..numeric.regimes import regime_diagram

    system, window = ctx.system, ctx.window
    figures: list[Figure] = []
    param = window.param
    one_d = [(None, system)] if isinstance(system, Map) and system.dim == 1 else []
    one_d += [(label, s) for label, s in ctx.slices if s.dim == 1]
    if param is not None and isinstance(system, Map) and system.dim == 2 and not one_d:
        one_d = [(None, system)]
    for label, m in one_d[:1] if param is not None else ():
        values = window.sweep(800)
        x0 = _start(window.restricted_to(m), m)
        fixed = {k: v for k, v in window.fixed.items()}
        diagram = orbit_diagram(m, param.name, values, x0=x0, transient=1000, record=200, **fixed)
        where = f" on {label}" if label else ""
        def draw_diagram(ax, d=diagram, name=str(m.state[0])):
            plot.orbit_diagram(d, ax)
            ax.set_ylabel(name)

        figures.append(Figure("orbit-diagram", f"Orbit diagram{where}: {m.state[0]} after 1000 transient steps, "
                              f"200 recorded, against {param}", draw_diagram))
        rows = lyapunov_spectrum_batch(m, x0, 4000, {param.name: values, **{k: np.full(len(values), v)
                                                                           for k, v in fixed.items()}},
                                       k=1, transient=500)
        exponents = np.array([r.maximal for r in rows])
        figures.append(Figure("lyapunov", f"Maximal Lyapunov exponent{where} against {param} (4000 steps)",
                              lambda ax, v=values, e=exponents, p=str(param): plot.lyapunov_plot(v, e, ax, param=p)))
    if isinstance(system, Map) and system.dim == 2:
        values = ctx.samples[-1]
        box = window.box_of(system)
        axes = [np.linspace(lo, hi, 300) for lo, hi in box]
        result = basins(system, axes, 500, show_progress=False, seed=ctx.seed, **values)
        curves = [c for c in ctx.curves if c.conditions is sp.true and not c.free]
        extent = (*box[0], *box[1])

        def draw(ax, result=result, curves=curves, values=values, extent=extent):
            points = [a.points for a in result.attractors if a.points is not None and len(a.points)]
            plot.basin_image(result.labels.T, extent, points or None, ax)
            _overlay(ax, system, curves, values, extent)

        fractions = ", ".join(f"{a.kind.value} {a.fraction:.3f}" for a in result.attractors)
        figures.append(Figure("basins", f"Basins at {_where(values)} on a 300 x 300 grid, 500 steps "
                              f"({fractions}); invariant curves drawn in white", draw))
    if isinstance(system, Map) and system.dim == 1 and system.loss is not None and param is not None:
        lo, hi = window.box_of(system)[0]
        diagram = regime_diagram(system, param.name, window.sweep(200), np.linspace(lo, hi, 200), 600,
                                 show_progress=False, seed=ctx.seed)
        figures.append(Figure("regimes", f"Regimes of gradient descent over ({param}, initial {system.state[0]})",
                              lambda ax, d=diagram: plot.regime_diagram(d, ax)))
    if isinstance(system, Flow):
        values = ctx.samples[-1]
        if system.dim == 2:
            box = window.box_of(system)
            starts = [_start(window, system, f) for f in (0.2, 0.37, 0.6, 0.8)]
            figures.append(Figure("portrait", f"Phase portrait at {_where(values)}",
                                  lambda ax: plot.phase_portrait(system, box[0], box[1], trajectories=starts, ax=ax,
                                                                 **values)))
        else:
            t = np.linspace(0, 50, 2001)
            x0 = _start(window, system)
            try:
                path = integrate(system, x0, t, **values)
            except DsAnalyzeError:
                path = None
            if path is not None:
                def draw(ax, t=t, path=path):
                    for i, s in enumerate(system.state):
                        ax.plot(t, path[:, i], label=str(s), lw=1)
                    ax.set_xlabel("t")
                    ax.legend()
                figures.append(Figure("trajectory", f"A trajectory from ({', '.join(f'{v:g}' for v in x0)}) "
                                      f"at {_where(values)}", draw))
    return figures


def _overlay(ax, system: System, curves: list, values: dict[str, float], extent: tuple) -> None:
    """Zero sets of the invariant curves, drawn as contours."""
    if not curves:
        return
    xs = np.linspace(extent[0], extent[1], 400)
    ys = np.linspace(extent[2], extent[3], 400)
    XX, YY = np.meshgrid(xs, ys)
    subs = {p: values[p.name] for p in system.params if p.name in values}
    for c in curves:
        f = sp.lambdify(system.state, c.expression.subs(subs), "numpy")
        Z = np.asarray(f(XX, YY), dtype=float) * np.ones_like(XX)
        if np.nanmin(Z) < 0 < np.nanmax(Z):
            ax.contour(XX, YY, Z, levels=[0.0], colors="white", linewidths=0.8)
