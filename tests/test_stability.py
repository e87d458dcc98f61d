"""Exact stability conditions (Jury, Routh-Hurwitz), their regions in one parameter, and their verification."""
import dataclasses
import time

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze import errors
from dsanalyze.symbolic.results import FixedPoint
from dsanalyze.symbolic.stability import (
    NotAFixedPointError, StabilityCondition, hurwitz_conditions, jury_conditions, stability_condition,
    stability_region,
)
from dsanalyze.verify import Basis

u, v, x, y, z, w = sp.symbols("u v x y z w", real=True)
mu, r = sp.symbols("mu r", real=True)


# ---- the classical criteria ------------------------------------------------------------------
@pytest.mark.parametrize("degree", [1, 2, 3, 4, 5])
def test_jury_conditions_agree_with_the_roots(degree):
    rng = np.random.default_rng(degree)
    for _ in range(300):
        coeffs = [1.0] + list(rng.uniform(-1.5, 1.5, size=degree) * rng.choice([0.3, 1.0]))
        exact = [sp.Rational(c).limit_denominator(10**6) for c in coeffs]
        inside = max(abs(np.roots([float(c) for c in exact]))) < 1
        assert all(bool(e > 0) for e in jury_conditions(exact)) == inside


@pytest.mark.parametrize("degree", [1, 2, 3, 4, 5])
def test_hurwitz_conditions_agree_with_the_roots(degree):
    rng = np.random.default_rng(10 + degree)
    for _ in range(300):
        coeffs = [1.0] + list(rng.uniform(-1, 3, size=degree))
        exact = [sp.Rational(c).limit_denominator(10**6) for c in coeffs]
        left = max(np.roots([float(c) for c in exact]).real) < 0
        assert all(bool(e > 0) for e in hurwitz_conditions(exact)) == left


def test_jury_in_two_dimensions_is_the_trace_determinant_triangle():
    t, d = sp.symbols("t d")
    assert jury_conditions([1, -t, d]) == [d - t + 1, d + t + 1, 1 - d]
    assert hurwitz_conditions([1, -t, d]) == [-t, d]


# ---- must show: GD on the double well -----------------------------------------------------------
def test_double_well_minima_stable_iff_eta_below_a_quarter():
    F = ds.models.double_well_gd()
    eta = F.params[0]
    for minimum in (1, -1):
        C = stability_condition(F, FixedPoint(F, (sp.Integer(minimum),)))
        assert C.inequalities == (eta < sp.Rational(1, 4),)
        assert C.multipliers() == [1 - 8 * eta]
        assert C.criterion == "Jury" and C.neutral == 0
        assert C.latex() == r"0 < \eta < \frac{1}{4}"
        R = stability_region(C, eta)
        assert R.region == sp.Interval.open(0, sp.Rational(1, 4))
        assert R.basis is Basis.PROVED
        assert R.latex() == r"0 < \eta < \frac{1}{4}"
    assert C.holds(eta=sp.Rational(1, 5)) and not C.holds(eta=sp.Rational(1, 4)) and not C.holds(eta=-0.1)


def test_double_well_maximum_is_never_stable():
    F = ds.models.double_well_gd()
    C = stability_condition(F, [0])
    assert C.inequalities == (sp.false,)
    assert C.latex() == r"\text{never}"
    assert stability_region(C, "eta").region == sp.S.EmptySet


def test_double_well_verify_condition_and_region():
    F = ds.models.double_well_gd()
    C = stability_condition(F, [1])
    verdict = C.verify(samples=16, seed=1)
    assert verdict.passed is True and verdict.basis is Basis.SAMPLED
    assert int(verdict.evidence["predicted_stable"].sum()) >= 4
    assert int((~verdict.evidence["predicted_stable"]).sum()) >= 4
    assert stability_region(C, "eta").verify(seed=2).passed is True


def test_wrong_region_fails_verification_without_raising():
    F = ds.models.double_well_gd()
    R = stability_region(stability_condition(F, [1]), "eta")
    wrong = dataclasses.replace(R, region=sp.Interval.open(0, sp.Rational(1, 3)))
    verdict = wrong.verify()
    assert verdict.passed is False
    wrong_condition = dataclasses.replace(R.condition, inequalities=(F.params[0] < sp.Rational(1, 3),))
    assert wrong_condition.verify(samples=24).passed is False


# ---- must show: the two-factor map on uv = 1 ---------------------------------------------------
def _curve(T):
    return FixedPoint(T, None, (u * v - 1,), 1)


def test_two_factor_curve_transverse_condition_exact():
    T = ds.models.two_factor()
    started = time.perf_counter()
    C = stability_condition(T, _curve(T))
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert C.neutral == 1
    assert C.inequalities == (mu > 0, mu * (u**2 + v**2) < 2)
    # The transverse multiplier is 1 - mu(u^2 + v^2); the neutral one (1) was divided out.
    assert C.multipliers() == [1 - mu * u**2 - mu * v**2]
    assert sp.simplify(C.polynomial - (C.variable - 1 + mu * (u**2 + v**2))) == 0
    assert C.latex() == r"\mu > 0,\quad \mu \left(u^{2} + v^{2}\right) < 2"
    assert r"\wedge" not in C.latex()


def test_two_factor_curve_condition_agrees_with_eigenvalues_at_sample_points():
    T = ds.models.two_factor()
    C = stability_condition(T, _curve(T))
    J = T.jacobian()
    rng = np.random.default_rng(0)
    for _ in range(40):
        t = float(rng.uniform(0.3, 3.0)) * rng.choice([-1, 1])
        m = float(rng.uniform(-1, 2))
        point = {u: t, v: 1 / t, mu: m}
        ev = np.linalg.eigvals(np.array(J.subs(point), dtype=float))
        transverse = ev[np.argmax(np.abs(ev - 1))]
        if abs(abs(transverse) - 1) < 1e-9:
            continue
        assert C.holds(u=t, v=1 / t, mu=m) == (abs(transverse) < 1)


def test_two_factor_curve_from_the_equilibrium_solver_gives_the_same_condition():
    from dsanalyze.symbolic.equilibria import fixed_points

    T = ds.models.two_factor()
    curve = [p for p in fixed_points(T) if p.coordinates is None][0]
    C = stability_condition(T, curve)
    assert C.inequalities == (mu > 0, mu * (u**2 + v**2) < 2)
    origin = [p for p in fixed_points(T) if p.coordinates is not None][0]
    assert stability_condition(T, origin).inequalities == (sp.false,)  # multipliers 1 +- mu


def test_two_factor_curve_verify_passes_and_a_wrong_condition_fails():
    T = ds.models.two_factor()
    C = stability_condition(T, _curve(T))
    verdict = C.verify(samples=24, seed=0)
    assert verdict.passed is True, str(verdict)
    assert verdict.basis is Basis.SAMPLED
    wrong = dataclasses.replace(C, inequalities=(mu > 0, mu * (u**2 + v**2) < 3))
    bad = wrong.verify(samples=24, seed=0)
    assert bad.passed is False


def test_two_factor_region_at_a_point_of_the_curve():
    T = ds.models.two_factor()
    C = stability_condition(T, _curve(T))
    sub = C.subs(u=1, v=1)
    assert sub.inequalities == (mu > 0, mu < 1)
    R = stability_region(C, mu, at={"u": 2, "v": sp.Rational(1, 2)})
    assert R.region == sp.Interval.open(0, sp.Rational(8, 17))
    assert R.latex() == r"0 < \mu < \frac{8}{17}"
    assert R.verify(seed=3).passed is True


def test_region_of_a_component_needs_a_point():
    T = ds.models.two_factor()
    C = stability_condition(T, _curve(T))
    with pytest.raises(errors.MissingParameterError, match="at="):
        stability_region(C, mu)
    with pytest.raises(errors.ParameterError, match="not on the component"):
        C.subs(u=1, v=2)
    with pytest.raises(errors.ParameterError, match="not on the component"):
        C.holds(u=1, v=2, mu=0.5)


# ---- logistic, quadratic GD, Euler ------------------------------------------------------------
def test_logistic_nonzero_fixed_point_stable_for_r_between_1_and_3():
    F = ds.models.logistic()
    r_ = F.params[0]
    C = stability_condition(F, [(r_ - 1) / r_])
    assert C.inequalities == (r_ > 1, r_ < 3)
    assert C.latex() == "1 < r < 3"
    R = stability_region(C, r_)
    assert R.region == sp.Interval.open(1, 3)
    assert R.verify(seed=0).passed is True
    assert stability_region(stability_condition(F, [0]), "r").region == sp.Interval.open(-1, 1)


def test_gd_on_a_quadratic_with_curvature_L():
    L = sp.Symbol("L", positive=True)
    G = ds.gd_map(L * w**2 / 2, [w])
    R = stability_region(stability_condition(G, [0]), "eta")
    assert R.region == sp.Interval.open(0, 2 / L)
    assert R.latex() == r"0 < \eta < \frac{2}{L}"
    assert R.verify(L=3.0).passed is True
    # A real (not declared positive) curvature: the region holds if L > 0.
    Lr = sp.Symbol("L", real=True)
    Gr = ds.gd_map(Lr * w**2 / 2, [w])
    Cr = stability_condition(Gr, [0])
    assert set(Cr.inequalities) == {Lr > 0, Lr * Gr.params[-1] < 2} or set(Cr.inequalities) == {Lr > 0, Gr.params[0] * Lr < 2}
    Rr = stability_region(Cr, "eta")
    assert Rr.region == sp.Interval.open(0, 2 / Lr)
    assert Rr.side_conditions == (Lr > 0)


def test_euler_on_decay_stable_iff_step_below_two():
    E = ds.euler_map(ds.Flow("y", "-y"))
    R = stability_region(stability_condition(E, [0]), "h")
    assert R.region == sp.Interval.open(0, 2)
    assert R.verify().passed is True


# ---- flows: Routh-Hurwitz ---------------------------------------------------------------------
def test_flow_conditions_one_two_three_dimensions():
    P = ds.Flow("x", "r*x - x**3")
    r_ = P.params[0]
    assert stability_condition(P, [0]).inequalities == (r_ < 0,)
    assert stability_condition(P, [sp.sqrt(r_)]).inequalities == (r_ > 0,)
    A, B = sp.symbols("A B", positive=True)
    brusselator = ds.Flow((x, y), [A - (B + 1) * x + x**2 * y, B * x - x**2 * y], (A, B))
    C = stability_condition(brusselator, [A, B / A])
    assert C.criterion == "Routh-Hurwitz"
    assert C.inequalities == (B < A**2 + 1,)
    assert stability_region(C, B).region == sp.Interval.open(0, A**2 + 1)
    s, rho, b = sp.symbols("sigma rho beta", positive=True)
    lorenz = ds.Flow((x, y, z), (s * (y - x), x * (rho - z) - y, x * y - b * z), (s, rho, b))
    CL = stability_condition(lorenz, [0, 0, 0])
    assert (rho < 1) in CL.inequalities
    assert stability_region(CL, rho).region == sp.Interval.open(0, 1)
    assert stability_region(CL, rho, at={"sigma": 10, "beta": sp.Rational(8, 3)}).region == sp.Interval.open(0, 1)


def test_flow_verify_uses_integration():
    A, B = sp.symbols("A B", positive=True)
    brusselator = ds.Flow((x, y), [A - (B + 1) * x + x**2 * y, B * x - x**2 * y], (A, B))
    R = stability_region(stability_condition(brusselator, [A, B / A]), "B", at={"A": 1})
    assert R.region == sp.Interval.open(0, 2)
    verdict = R.verify(seed=0)
    assert verdict.passed is True, str(verdict)
    assert "time units" in verdict.note


# ---- budgets, fallbacks, errors ---------------------------------------------------------------
def test_numeric_fallback_for_a_transcendental_region():
    N = ds.Map("x", "(r - sin(r))*x")
    R = stability_region(stability_condition(N, [0]), "r")
    assert R.basis is Basis.NUMERIC
    assert isinstance(R.region, sp.Interval)
    # r - sin r = 1 at r = 1.934563210752024...
    assert abs(float(R.region.end) - 1.9345632107520242) < 1e-9
    assert abs(float(R.region.start) + 1.9345632107520242) < 1e-9
    assert R.verify().passed is True


@pytest.mark.skipif(not ds.symbolic.can_interrupt(), reason="budgets need SIGALRM in the main thread")
def test_timeout_raises_symbolic_timeout_naming_the_step():
    T = ds.models.two_factor()
    with pytest.raises(errors.SymbolicTimeout, match="stability condition of two-factor"):
        stability_condition(T, _curve(T), timeout=1e-4)


def test_not_a_fixed_point_is_refused_with_the_defect():
    F = ds.models.logistic()
    with pytest.raises(NotAFixedPointError, match="not a fixed point"):
        stability_condition(F, [sp.Rational(1, 2)])
    assert issubclass(NotAFixedPointError, errors.DsAnalyzeError)


def test_holds_needs_every_symbol_and_only_known_ones():
    F = ds.models.logistic()
    C = stability_condition(F, [(F.params[0] - 1) / F.params[0]])
    with pytest.raises(errors.MissingParameterError):
        C.holds()
    with pytest.raises(errors.ExtraParameterError):
        C.holds(r=2, q=1)
    assert C.holds(r=2) is True and C.holds(r=3) is False


def test_condition_is_a_frozen_dataclass_with_a_boolean_view():
    F = ds.models.logistic()
    C = stability_condition(F, [(F.params[0] - 1) / F.params[0]])
    assert isinstance(C, StabilityCondition)
    with pytest.raises(dataclasses.FrozenInstanceError):
        C.neutral = 3
    assert C.condition == sp.And(F.params[0] > 1, F.params[0] < 3)


# ---- more models: a 2-D Jury case and a plane of equilibria -----------------------------------
def test_ring_gd_minima_stable_iff_eta_below_a_fifth():
    F = ds.models.ring_gd()
    eta = F.params[0]
    C = stability_condition(F, [-sp.sqrt(10) / 4, sp.sqrt(10) / 4])
    # The Jury atoms (0 < eta < 3/5 and (eta - 1)(5 eta - 1) > 0) merge into one interval.
    assert C.inequalities == (eta < sp.Rational(1, 5),)
    assert stability_region(C, eta).region == sp.Interval.open(0, sp.Rational(1, 5))
    assert C.verify(samples=16).passed is True
    assert stability_condition(F, [0, 0]).inequalities == (sp.false,)


def test_sir_plane_of_disease_free_equilibria_attracts_iff_S_below_gamma_over_beta():
    F = ds.models.sir()
    S, I, R = F.state
    beta, gamma = F.params
    C = stability_condition(F, FixedPoint(F, None, (I,), 2, parametrisation=(sp.Symbol("s"), 0, sp.Symbol("q")),
                                          free=(sp.Symbol("s"), sp.Symbol("q"))))
    assert C.neutral == 2 and C.criterion == "Routh-Hurwitz"
    assert C.inequalities == (gamma > S * beta,)
    assert stability_region(C, beta, at={"S": sp.Rational(1, 2), "I": 0, "R": sp.Rational(1, 2)}).region == \
        sp.Interval.open(0, 2 * gamma)
    assert C.verify(samples=16).passed is True
