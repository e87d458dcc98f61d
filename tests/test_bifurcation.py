"""Bifurcations along a parameter: exact values, normal-form coefficients, and numeric verification."""
import dataclasses

import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze import errors
from dsanalyze.symbolic.bifurcation import Bifurcation, BifurcationKind, bifurcations, first_lyapunov_coefficient
from dsanalyze.symbolic.results import FixedPoint
from dsanalyze.verify import Basis

K = BifurcationKind
x, y, z, u, v = sp.symbols("x y z u v", real=True)
A, B = sp.symbols("A B", positive=True)


def _only(found, kind, value=None, location=None):
    hits = [b for b in found if b.kind is kind and (value is None or b.value == value)
            and (location is None or b.location == location)]
    assert len(hits) == 1, [str(b) for b in found]
    return hits[0]


def _hopf_normal_form(sign):
    return ds.Flow("x y", [f"a*x - y {sign} x*(x**2 + y**2)", f"x + a*y {sign} y*(x**2 + y**2)"])


def _brusselator():
    return ds.Flow((x, y), [A - (B + 1) * x + x**2 * y, B * x - x**2 * y], (A, B), name="brusselator")


# ---- maps -------------------------------------------------------------------------------------------
def test_logistic_transcritical_at_1_and_flip_at_3():
    F = ds.models.logistic()
    r = F.params[0]
    found = bifurcations(F, r)
    exchange = _only(found, K.TRANSCRITICAL, 1)
    assert exchange.multiplier == 1
    assert exchange.location == (0,)
    assert {b.coordinates for b in exchange.extra["branches"]} == {(0,), ((r - 1) / r,)}
    flip = _only(found, K.FLIP, 3)
    assert flip.multiplier == -1
    assert flip.location == (sp.Rational(2, 3),)
    assert flip.fixed_point.coordinates == ((r - 1) / r,)
    assert flip.extra["c"] == 9 and flip.criticality == "supercritical"
    assert flip.extra["crossing"] == -1
    flip0 = _only(found, K.FLIP, -1)
    assert flip0.location == (0,)
    assert r"r = 3" in flip.latex() and r"\lambda = -1" in flip.latex()


def test_logistic_bifurcations_verify_and_a_wrong_value_fails():
    F = ds.models.logistic()
    found = bifurcations(F, "r")
    for bif in found:
        verdict = bif.verify()
        assert verdict.passed is True, str(verdict)
    flip = _only(found, K.FLIP, 3)
    verdict = flip.verify()
    assert verdict.basis is Basis.SAMPLED
    assert "2-cycle half-width" in verdict.note
    wrong = dataclasses.replace(flip, value=sp.Rational(31, 10))
    bad = wrong.verify()
    assert bad.passed is False
    wrong_c = dataclasses.replace(flip, extra=dict(flip.extra, c=sp.Integer(4)))
    assert wrong_c.verify().passed is False


def test_cubic_flip_at_mu_1_at_both_fixed_points():
    F = ds.models.cubic()
    mu = F.params[0]
    found = bifurcations(F, mu)
    for point in (1, -1):
        flip = _only(found, K.FLIP, 1, (point,))
        assert flip.multiplier == -1
        assert flip.extra["c"] == 8 and flip.criticality == "supercritical"
        verdict = flip.verify()
        assert verdict.passed is True, str(verdict)
    assert _only(found, K.FLIP, -2, (0,)).multiplier == -1


def test_neimark_sacker_of_the_delayed_logistic_map():
    D = ds.Map("x y", ["y", "r*y*(1 - x)"], name="delayed logistic")
    ns = _only(bifurcations(D, "r"), K.NEIMARK_SACKER, 2)
    assert ns.multiplier == sp.Rational(1, 2) + sp.sqrt(3) * sp.I / 2
    assert ns.location == (sp.Rational(1, 2), sp.Rational(1, 2))
    assert ns.extra["theta"] == sp.pi / 3
    assert ns.verify().passed is True
    assert dataclasses.replace(ns, value=sp.Rational(21, 10)).verify().passed is False


def test_two_factor_flip_along_the_curve_of_fixed_points():
    T = ds.models.two_factor()
    mu = T.params[0]
    found = bifurcations(T, mu, [FixedPoint(T, None, (u * v - 1,), 1)])
    flip = _only(found, K.FLIP)
    assert sp.simplify(flip.value - 2 / (u**2 + v**2)) == 0
    assert flip.location is None
    assert flip.verify(u=2.0, v=0.5).passed is True
    assert dataclasses.replace(flip, value=3 / (u**2 + v**2)).verify(u=2.0, v=0.5).passed is False
    with pytest.raises(errors.MissingParameterError, match="point"):
        flip.verify()


# ---- flows: fold, transcritical, pitchfork -----------------------------------------------------
def test_flow_pitchfork_supercritical_and_subcritical():
    found = bifurcations(ds.Flow("x", "r*x - x**3"), "r")
    assert len(found) == 1
    pitchfork = found[0]
    assert pitchfork.kind is K.PITCHFORK and pitchfork.value == 0 and pitchfork.multiplier == 0
    assert pitchfork.criticality == "supercritical" and pitchfork.extra["c3"] == -6
    assert len(pitchfork.extra["branches"]) == 3
    verdict = pitchfork.verify()
    assert verdict.passed is True and "new equilibrium" in verdict.note
    sub = bifurcations(ds.Flow("x", "r*x + x**3"), "r")
    assert [(b.kind, b.criticality, b.extra["c3"]) for b in sub] == [(K.PITCHFORK, "subcritical", 6)]
    assert sub[0].verify().passed is True


def test_flow_transcritical():
    found = bifurcations(ds.Flow("x", "r*x - x**2"), "r")
    assert len(found) == 1
    tc = found[0]
    assert tc.kind is K.TRANSCRITICAL and tc.value == 0 and tc.extra["b"] == -2 and tc.extra["a"] == 0
    assert tc.verify().passed is True
    assert dataclasses.replace(tc, value=sp.Rational(1, 10)).verify().passed is False


def test_flow_fold():
    found = bifurcations(ds.Flow("x", "r + x**2"), "r")
    assert len(found) == 1
    fold = found[0]
    assert fold.kind is K.FOLD and fold.value == 0 and fold.extra["a"] == 1 and fold.extra["b"] == 2
    assert len(fold.extra["branches"]) == 2
    verdict = fold.verify()
    assert verdict.passed is True and verdict.basis is Basis.NUMERIC
    assert "2 / 0" in verdict.note
    assert dataclasses.replace(fold, value=sp.Rational(1, 10)).verify().passed is False


# ---- flows: Hopf -----------------------------------------------------------------------------------
def test_hopf_normal_form_supercritical_l1_minus_one():
    H = _hopf_normal_form("-")
    found = bifurcations(H, "a", [FixedPoint(H, (0, 0))])
    hopf = _only(found, K.HOPF, 0)
    assert hopf.multiplier == sp.I
    assert hopf.extra["l1"] == -1 and hopf.extra["omega"] == 1
    assert hopf.criticality == "supercritical"
    verdict = hopf.verify()
    assert verdict.passed is True and "limit-cycle amplitude" in verdict.note
    assert first_lyapunov_coefficient(H, (0, 0), {"a": 0}) == -1


def test_hopf_normal_form_subcritical_l1_plus_one():
    H = _hopf_normal_form("+")
    hopf = _only(bifurcations(H, "a", [FixedPoint(H, (0, 0))]), K.HOPF, 0)
    assert hopf.extra["l1"] == 1 and hopf.criticality == "subcritical"
    verdict = hopf.verify()
    assert verdict.passed is True and "unstable cycle" in verdict.note


def test_hopf_wrong_claims_fail():
    H = _hopf_normal_form("-")
    hopf = _only(bifurcations(H, "a", [FixedPoint(H, (0, 0))]), K.HOPF, 0)
    assert dataclasses.replace(hopf, value=sp.Rational(1, 100)).verify().passed is False
    assert dataclasses.replace(hopf, extra=dict(hopf.extra, l1=sp.Integer(-2))).verify().passed is False
    sub = dataclasses.replace(hopf, criticality="subcritical", extra=dict(hopf.extra, l1=sp.Integer(1)))
    assert sub.verify().passed is False


def test_hopf_in_three_dimensions_with_a_stable_direction():
    H3 = ds.Flow("x y z", ["a*x - y - x*(x**2 + y**2)", "x + a*y - y*(x**2 + y**2)", "-z + x*y"])
    hopf = _only(bifurcations(H3, "a", [FixedPoint(H3, (0, 0, 0))]), K.HOPF, 0)
    assert hopf.extra["l1"] == -1
    assert hopf.verify().passed is True


def _guckenheimer_holmes_l1(flow, point, values):
    """Independent check: GH's coefficient a in normal coordinates, divided by w0 (our convention)."""
    sub = {**{p: sp.sympify(values[p.name]) for p in flow.params}}
    f = sp.Matrix([e.xreplace(sub) for e in flow.rhs])
    X = sp.Matrix(flow.state)
    at = dict(zip(flow.state, point))
    J = f.jacobian(X).xreplace(at)
    w0 = sp.sqrt(J.det())
    q = (J - sp.I * w0 * sp.eye(2)).nullspace()[0]
    q = q / sp.sqrt(sp.simplify(2 * (q.H * q)[0]))  # <q, q> = 1/2
    P = sp.Matrix.hstack(2 * q.applyfunc(sp.re), -2 * q.applyfunc(sp.im)).applyfunc(sp.simplify)
    xi, eta = sp.symbols("xi eta", real=True)
    g = (P.inv() * f.xreplace({s: c + d for s, c, d in zip(flow.state, point, P * sp.Matrix([xi, eta]))})).applyfunc(sp.expand)
    lin = g.jacobian([xi, eta]).xreplace({xi: 0, eta: 0}).applyfunc(sp.simplify)
    assert lin == sp.Matrix([[0, -w0], [w0, 0]])
    F, G = g
    d = lambda e, *s: sp.diff(e, *s).xreplace({xi: 0, eta: 0})  # noqa: E731
    a = (d(F, xi, xi, xi) + d(F, xi, eta, eta) + d(G, xi, xi, eta) + d(G, eta, eta, eta)) / 16 + (
        d(F, xi, eta) * (d(F, xi, xi) + d(F, eta, eta)) - d(G, xi, eta) * (d(G, xi, xi) + d(G, eta, eta))
        - d(F, xi, xi) * d(G, xi, xi) + d(F, eta, eta) * d(G, eta, eta)) / (16 * w0)
    return sp.simplify(a / w0)


def test_brusselator_hopf_at_1_plus_A_squared_supercritical():
    Br = _brusselator()
    found = bifurcations(Br, B)
    hopf = _only(found, K.HOPF)
    assert hopf.value == 1 + A**2
    assert hopf.location == (A, A + 1 / A) or sp.simplify(hopf.location[1] - (1 + A**2) / A) == 0
    assert hopf.multiplier == sp.I * A and hopf.extra["omega"] == A
    l1 = hopf.extra["l1"]
    assert sp.simplify(l1 - (-(A**2 + 2) / (4 * A * (2 * A**2 + 1)))) == 0
    assert l1.is_negative and hopf.criticality == "supercritical"
    for a_value in (1, 2):
        gh = _guckenheimer_holmes_l1(Br, (sp.Integer(a_value), sp.Integer(1 + a_value**2) / a_value),
                                     {"A": a_value, "B": 1 + a_value**2})
        assert sp.simplify(gh - l1.subs(A, a_value)) == 0
    verdict = hopf.verify(A=1)
    assert verdict.passed is True, str(verdict)
    assert dataclasses.replace(hopf, value=A**2 + sp.Rational(11, 10)).verify(A=1).passed is False


def test_guckenheimer_holmes_agrees_on_the_normal_form():
    H = _hopf_normal_form("-")
    assert _guckenheimer_holmes_l1(H, (0, 0), {"a": 0}) == -1


# ---- budgets and errors -------------------------------------------------------------------------
@pytest.mark.skipif(not ds.symbolic.can_interrupt(), reason="budgets need SIGALRM in the main thread")
def test_bifurcations_timeout_names_the_step():
    with pytest.raises(errors.SymbolicTimeout, match="bifurcations of brusselator in B"):
        bifurcations(_brusselator(), "B", timeout=1e-4)


def test_unknown_parameter_and_missing_values():
    with pytest.raises(errors.UnknownSymbolError, match="not a parameter"):
        bifurcations(ds.models.logistic(), "q")
    hopf = _only(bifurcations(_brusselator(), B), K.HOPF)
    with pytest.raises(errors.MissingParameterError, match="A"):
        hopf.verify()


def test_bifurcation_is_a_frozen_dataclass():
    flip = _only(bifurcations(ds.models.logistic(), "r"), K.FLIP, 3)
    assert isinstance(flip, Bifurcation)
    with pytest.raises(dataclasses.FrozenInstanceError):
        flip.value = 4
