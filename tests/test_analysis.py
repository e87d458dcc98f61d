"""analyze: the derivations that apply, each with its verdicts, on models whose facts are known."""
import math

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.analysis import Analysis, Finding, resolve_window
from dsanalyze.errors import ParameterError, UnknownSymbolError
from dsanalyze.verify import Basis, Verdict


@pytest.fixture(scope="module")
def two_factor():
    return ds.analyze(ds.models.two_factor(), timeout=60)


def _results(analysis, section, kind):
    return [f.result for f in analysis.section(section) if isinstance(f.result, kind)]


def test_two_factor_every_claim_checked_and_passed(two_factor):
    assert two_factor.failed == []
    assert two_factor.unchecked == []
    assert len(two_factor.verdicts) > 100
    assert {v.basis for v in two_factor.verdicts} >= {Basis.PROVED, Basis.NUMERIC, Basis.SAMPLED}


def test_two_factor_fixed_points_and_edge_of_stability(two_factor):
    F = two_factor.system
    u, v = F.state
    (mu,) = F.params
    points = [f.result for f in two_factor.section("Fixed points") if f.title.startswith(("fixed", "component"))]
    assert [p.coordinates for p in points if p.is_point] == [(0, 0)]
    assert [sp.expand(p.equations[0] - (u * v - 1)) for p in points if not p.is_point] == [0]
    conditions = [f.result.condition for f in two_factor.section("Stability") if f.title.startswith("u*v - 1")]
    assert conditions == [sp.And(mu > 0, mu * (u**2 + v**2) < 2)]


def test_two_factor_invariant_ellipse_and_its_exponent(two_factor):
    F = two_factor.system
    u, v = F.state
    (mu,) = F.params
    ellipse = mu * (u**2 + v**2) - mu**2 * u * v - (4 - mu**2)
    curves = [f.result.expression for f in two_factor.section("Invariant curves") if hasattr(f.result, "cofactor")]
    assert any(sp.expand(c - ellipse) == 0 or sp.expand(c + ellipse) == 0 for c in curves)
    (dynamics,) = [f for f in two_factor.section("Invariant curves") if "angle tripling" in f.title]
    assert dynamics.result.lyapunov_exponent == sp.log(3)
    measured = [v.measured for v in dynamics.verdicts if v.claim.startswith("Lyapunov exponent of orbits")]
    assert len(measured) == 3
    assert all(abs(m - math.log(3)) < 1e-3 for m in measured)
    assert "transverse exponent at mu = 0.6" in dynamics.text


def test_two_factor_balanced_slice_cascade(two_factor):
    titles = [f.title for f in two_factor.section("Bifurcations")]
    assert "on v = u: supercritical flip at mu = 1 (multiplier -1)" in titles
    cycles = [f for f in two_factor.section("Periodic orbits") if f.title.startswith("on v = u")]
    assert any("1 < mu < -1 + sqrt(5)" in f.title.split("stable for")[-1] for f in cycles)


def test_two_factor_conserved_by_the_flow_and_the_factor_of_the_map(two_factor):
    F = two_factor.system
    u, v = F.state
    (mu,) = F.params
    found = two_factor.section("Conserved quantities")
    assert sp.expand(found[0].result.expression - (u**2 - v**2)) == 0
    assert sp.expand(found[1].result.factor - (1 - mu**2 * (u * v - 1) ** 2)) == 0


def test_two_factor_figures(two_factor):
    assert [f.name for f in two_factor.figures] == ["orbit-diagram", "lyapunov", "basins"]


def test_logistic_exponent_at_the_stable_point_is_ln_of_its_multiplier():
    a = ds.analyze(ds.models.logistic(), figures=False)
    (finding,) = a.section("Lyapunov exponents")
    by_r = {float(v.claim.rsplit("r = ", 1)[1]): v for v in finding.verdicts}
    assert sorted(by_r) == [1.2, 2.2]  # (r-1)/r is stable at 1.2 and 2.2, not at 3.2
    for r, verdict in by_r.items():
        assert verdict.predicted == pytest.approx(math.log(abs(2 - r)), abs=1e-12)
        assert verdict.measured == pytest.approx(math.log(abs(2 - r)), abs=1e-3)
    assert a.passed and not a.unchecked


def test_henon_spectrum_sum_and_no_spurious_flip():
    a = ds.analyze(ds.models.henon(), figures=False, timeout=30)
    (total,) = [f for f in a.section("Lyapunov exponents") if f.title.startswith("sum")]
    for verdict in total.verdicts:
        assert verdict.predicted == sp.log(sp.Rational(3, 10))
        assert verdict.measured == pytest.approx(math.log(0.3), abs=1e-6)
    flips = [f.result for f in a.section("Bifurcations") if f.result.kind.value == "flip"]
    b = a.system.params[1]
    assert [sp.expand(f.value - 3 * (1 - b) ** 2 / 4) for f in flips] == [0]
    assert a.failed == []


def test_window_from_the_library_and_from_ranges():
    w = resolve_window(ds.models.henon())
    assert (w.param.name, w.param_range, w.fixed) == ("a", (0.0, 1.4), {"b": 0.3})
    assert w.samples() == [{"b": 0.3, "a": 0.42}, {"b": 0.3, "a": 0.77}, {"b": 0.3, "a": 1.12}]
    w = resolve_window(ds.models.henon(), "b", {"b": (0, 1), "x": (-1, 1)})
    assert (w.param.name, w.fixed["a"], w.box["x"]) == ("b", 1.4, (-1.0, 1.0))


@pytest.mark.parametrize("param, ranges, error, text", [
    ("q", None, UnknownSymbolError, "q is not a parameter"),
    (None, {"z": (0, 1)}, UnknownSymbolError, "not a state variable or parameter"),
    (None, {"r": (2, 1)}, ParameterError, "lo <= hi"),
    (None, {"r": (0, float("nan"))}, ParameterError, "finite"),
    (None, {"r": "ab"}, ParameterError, "two numbers"),
])
def test_window_refuses_bad_ranges(param, ranges, error, text):
    with pytest.raises(error, match=text):
        ds.analyze(ds.models.logistic(), param, ranges, figures=False)


def test_an_analysis_with_a_failed_verdict_does_not_pass():
    system = ds.models.logistic()
    bad = Verdict("x = 2 is fixed at r = 1", 0.0, 1.0, 1e-12, False, Basis.NUMERIC)
    a = Analysis(system, resolve_window(system), [Finding("Fixed points", "x = 2", "x = 2", None, (bad,))])
    assert not a.passed and a.failed == [bad]
    assert "FAILED" in a.summary()


def test_curve_exponent_check_fails_on_a_wrong_claim(two_factor):
    from dsanalyze.analysis.evidence import curve_lyapunov

    (finding,) = [f for f in two_factor.section("Invariant curves") if "angle tripling" in f.title]
    dynamics = finding.result
    wrong = type("Claim", (), {"lyapunov_exponent": sp.log(2)})()
    curve = [f.result for f in two_factor.section("Invariant curves")
             if hasattr(f.result, "cofactor") and f.result.expression.has(two_factor.system.params[0])
             and f.result.conditions is not sp.false][0]
    verdict = curve_lyapunov(two_factor.system, curve, wrong, {"mu": 1.1})
    assert verdict.passed is False and verdict.measured == pytest.approx(np.log(3), abs=1e-3)
    assert curve_lyapunov(two_factor.system, curve, dynamics, {"mu": 1.1}).passed


def test_sir_threshold_and_conserved_population():
    a = ds.analyze(ds.models.sir(), figures=False)
    S, I, R = a.system.state
    beta, gamma = a.system.params
    assert [f.result.expression for f in a.section("Conserved quantities")] == [S + I + R]
    (disease_free,) = [f.result for f in a.section("Stability")]
    assert disease_free.condition == (gamma > beta * S)  # R0 = beta S / gamma < 1
    assert a.passed and not a.unchecked


def test_sir_epidemic_section():
    a = ds.analyze(ds.models.sir(), figures=False)
    beta, gamma = a.system.params
    titles = [f.title for f in a.section("Epidemic")]
    assert titles == ["disease free equilibrium", "reproduction number", "final size"]
    (r0,) = [f.result for f in a.section("Epidemic") if f.title == "reproduction number"]
    assert sp.simplify(r0.R0 - beta / gamma) == 0
    (final,) = [f for f in a.section("Epidemic") if f.title == "final size"]
    assert len(final.verdicts) == 3 and all(v.passed for v in final.verdicts)


@pytest.mark.parametrize("system", [
    ds.Flow("x y", ["A - (B + 1)*x + x**2*y", "B*x - x**2*y"], name="brusselator"),  # two parameters, no defaults
    ds.Map("x", "x/2 + 1", name="contraction"),                                        # no parameter
    ds.gd_map("a*w**4 - w**2", "w", lr="eta"),                                          # two parameters
], ids=["brusselator", "contraction", "gd-two-params"])
def test_systems_without_suggested_ranges(system):
    a = ds.analyze(system, timeout=20)
    assert a.failed == [] and a.findings
    assert any("no range given" in n for n in a.notes)  # the guesses are stated


def test_contraction_fixed_point_and_exponent():
    a = ds.analyze(ds.Map("x", "x/2 + 1"), figures=False)
    assert [f.result.coordinates for f in a.section("Fixed points") if f.title.startswith("fixed point")] == [(2,)]
    (exponent,) = a.section("Lyapunov exponents")
    assert exponent.verdicts[0].measured == pytest.approx(math.log(0.5), abs=1e-9)
