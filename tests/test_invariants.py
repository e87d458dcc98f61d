"""Invariant curves with cofactors, conserved quantities, transformation factors, Lyapunov functions."""
import dataclasses
import time

import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.errors import DimensionError, DsAnalyzeError, ExpressionError, SymbolicTimeout
from dsanalyze.symbolic.invariants import (
    ConservedQuantity, InvariantCurve, conserved_quantities, find_invariant_curves, is_invariant, lyapunov_function,
    transformation_factor,
)
from dsanalyze.verify import Basis

F = ds.models.two_factor()
u, v = F.state
(mu,) = F.params
FLOW = ds.gradient_flow("(u*v - 1)**2/2", "u v")
ELLIPSE = mu * (u**2 + v**2) - mu**2 * u * v - (4 - mu**2)


@pytest.fixture(scope="module")
def two_factor_curves():
    start = time.perf_counter()
    curves = find_invariant_curves(F, 2)
    return curves, time.perf_counter() - start


def _find(curves, G):
    hits = [c for c in curves if sp.expand(c.expression - G) == 0]
    assert len(hits) == 1, f"{G} not found exactly once in {[c.expression for c in curves]}"
    return hits[0]


# ---- the two-factor map ---------------------------------------------------------------

def test_two_factor_ellipse_with_its_cofactor(two_factor_curves):
    curves, seconds = two_factor_curves
    assert seconds < 5
    ellipse = _find(curves, ELLIPSE)          # exact equality after normalising
    assert sp.expand(ellipse.cofactor - (1 + mu**2 * u * v * (u * v - 1))) == 0
    assert ellipse.conditions == sp.Ne(mu, 0)
    assert ellipse.equation == sp.Eq(mu * u**2 + mu * v**2 - mu**2 * u * v, 4 - mu**2)
    # the certificate: G o F - q G is identically zero
    image = ELLIPSE.xreplace(dict(zip(F.state, F.rhs)))
    assert sp.expand(image - ellipse.cofactor * ELLIPSE) == 0
    verdict = ellipse.verify(mu=[0.5, 1.0, 1.5, 1.9])
    assert verdict.passed is True and verdict.basis is Basis.NUMERIC and verdict.measured < 1e-12


def test_two_factor_generic_curves_are_exactly_these(two_factor_curves):
    curves, _ = two_factor_curves
    generic = {c.expression for c in curves if not c.conditions.atoms(sp.Eq)}
    assert generic == {u - v, u + v, u * v - 1, sp.expand(ELLIPSE)}
    for G, q in [(u - v, 1 + mu * (u * v - 1)), (u + v, 1 - mu * (u * v - 1)),
                 (u * v - 1, 1 - mu * (u**2 + v**2) + mu**2 * u * v * (u * v - 1))]:
        curve = _find(curves, G)
        assert sp.expand(curve.cofactor - q) == 0
        assert curve.conditions is sp.true
        assert curve.verify(mu=[0.5, 1.5, 2.5]).passed is True


def test_two_factor_special_parameter_values(two_factor_curves):
    curves, _ = two_factor_curves
    special = {(c.expression, c.conditions) for c in curves if c.conditions.atoms(sp.Eq) and not c.free}
    s3 = sp.sqrt(3)
    expected = {
        (u**2 + u * v, sp.Eq(mu, -1)), (u * v + v**2, sp.Eq(mu, -1)),
        (u**2 - u * v, sp.Eq(mu, 1)), (u * v - v**2, sp.Eq(mu, 1)),
        (sp.expand((u - 1) * (v - 1)), sp.Eq(mu, 1)), (sp.expand((u + 1) * (v + 1)), sp.Eq(mu, 1)),
        (3 * u * v - s3 * u - s3 * v, sp.Eq(mu, 3)), (3 * u * v + s3 * u + s3 * v, sp.Eq(mu, 3)),
    }
    assert special == expected
    for c in curves:
        if c.conditions.atoms(sp.Eq) and not c.free:
            value = float(next(iter(c.conditions.atoms(sp.Eq))).rhs)
            assert c.verify(mu=value).passed is True
            # a special-value curve is not claimed elsewhere: checking it there is refused, not passed
            assert c.verify(mu=0.5).passed is None
    # at mu = 0 the map is the identity: every curve is invariant
    (everything,) = [c for c in curves if c.free]
    assert everything.conditions == sp.Eq(mu, 0) and "identity" in everything.note


def test_products_are_available_on_request():
    curves = find_invariant_curves(F, 2, products=True)
    for G in (u**2 - v**2, sp.expand((u - v) ** 2), sp.expand((u + v) ** 2)):
        assert _find(curves, G).verify(mu=[0.5, 1.5]).passed is True


def test_is_invariant_certificates():
    cert = is_invariant(F, u * v - 1)
    assert cert.invariant and bool(cert)
    assert sp.expand(cert.cofactor - (mu**2 * u**2 * v**2 - mu**2 * u * v - mu * u**2 - mu * v**2 + 1)) == 0
    assert cert.verify(mu=[0.3, 1.7]).passed is True
    assert "\\circ F" in cert.latex()
    not_invariant = is_invariant(F, "u**2 + v**2 - 1")
    assert not not_invariant.invariant and not_invariant.cofactor is None
    assert not_invariant.remainder != 0
    assert not_invariant.verify(mu=1.0).passed is True         # the claim "not invariant" holds
    assert is_invariant(FLOW, u**2 - v**2).cofactor == 0
    assert is_invariant(FLOW, "u*v - 1").cofactor == -u**2 - v**2


# ---- conserved quantities and transformation factors ------------------------------------

def test_u2_minus_v2_is_conserved_by_the_gradient_flow():
    (c,) = conserved_quantities(FLOW, 2)
    assert c.expression == u**2 - v**2 and c.conditions is sp.true
    verdict = c.verify(time=20.0)
    assert verdict.passed is True and verdict.basis is Basis.SAMPLED
    assert transformation_factor(FLOW, u**2 - v**2).factor == 0


def test_u2_minus_v2_is_multiplied_by_the_map():
    t = transformation_factor(F, u**2 - v**2)
    assert sp.expand(t.factor - (1 - mu**2 * (u * v - 1) ** 2)) == 0
    assert t.factor == 1 - mu**2 * (u * v - 1) ** 2          # written through the residual uv - 1
    assert t.verify(mu=[0.5, 1.0, 1.5]).passed is True
    assert "\\left(u^{2} - v^{2}\\right) \\circ F" in t.latex()
    assert conserved_quantities(F, 2) == []                 # nothing polynomial is conserved by the map


def test_conserved_quantities_of_a_rotation_and_sir():
    rotation = ds.Flow("x y", ["y", "-x"])
    (c,) = conserved_quantities(rotation, 2)
    x, y = rotation.state
    assert c.expression == x**2 + y**2
    assert c.verify().passed is True
    S, I, R = ds.models.sir().state
    found = {q.expression for q in conserved_quantities(ds.models.sir(), 1)}
    assert found == {S + I + R}


# ---- Lyapunov functions ---------------------------------------------------------------------

def test_lyapunov_function_of_the_gradient_flow_is_the_loss():
    cert = lyapunov_function(FLOW, (1, 1))
    assert cert.origin == "loss" and cert.form == "sum of squares"
    assert sp.expand(cert.function - (u * v - 1) ** 2 / 2) == 0
    assert sp.expand(cert.derivative + (u**2 + v**2) * (u * v - 1) ** 2) == 0
    assert sp.expand(cert.derivative + sum(w * e**2 for w, e in cert.terms)) == 0
    assert cert.positive_definite is False            # the minimum is the whole curve uv = 1
    assert cert.verify().passed is True
    assert "\\le 0" in cert.latex()


def test_lyapunov_quadratic_candidates():
    damped = ds.Flow("x y", ["y", "-x - y**3"])
    x, y = damped.state
    cert = lyapunov_function(damped, {"x": 0, "y": 0})
    assert cert.derivative == -y**4 and cert.form == "sum of squares"
    assert cert.verify().passed is True
    linear = ds.Flow("x y", ["-x + y", "-x - 2*y"])
    cert = lyapunov_function(linear, (0, 0))
    assert sp.expand(cert.derivative + sum(w * e**2 for w, e in cert.terms)) == 0
    assert all(w > 0 for w, _ in cert.terms)
    assert cert.verify().passed is True
    local = lyapunov_function(ds.Flow("x y", ["-x + y**2", "-y"]), (0, 0))
    assert local.form == "local" and local.verify(radius=0.3).passed is True


# ---- wrong claims fail, they do not raise -----------------------------------------------------

def test_wrong_claims_fail():
    circle = InvariantCurve(F, u**2 + v**2 - 2, sp.Integer(1))
    assert circle.verify(mu=1.0).passed is False
    assert circle.certificate.verify(mu=1.0).passed is False          # a certificate that is not one
    claimed_not = dataclasses.replace(is_invariant(F, u - v), invariant=False, cofactor=None)
    assert claimed_not.verify(mu=1.0).passed is False                   # "u - v is not invariant" is wrong
    t = transformation_factor(F, u**2 - v**2)
    assert dataclasses.replace(t, factor=1 - mu * (u * v - 1) ** 2).verify(mu=1.5).passed is False
    assert ConservedQuantity(FLOW, u * v).verify().passed is False
    cert = lyapunov_function(FLOW, (1, 1))
    wrong = dataclasses.replace(cert, function=-cert.function)
    assert wrong.verify().passed is False
    curves = find_invariant_curves(F, 1)
    wrong_cofactor = dataclasses.replace(curves[0], cofactor=curves[0].cofactor + 1)
    assert wrong_cofactor.verify(mu=1.0).passed is False


# ---- errors and budgets --------------------------------------------------------------------------

def test_bad_input_and_budget():
    with pytest.raises(ValueError, match="positive integer"):
        find_invariant_curves(F, 0)
    with pytest.raises(DimensionError):
        find_invariant_curves(ds.models.logistic(), 2)
    with pytest.raises(ExpressionError, match="polynomial"):
        find_invariant_curves(ds.models.standard_map(), 2)
    with pytest.raises(ExpressionError, match="constant"):
        is_invariant(F, "mu")
    with pytest.raises(DsAnalyzeError, match="needs a Flow"):
        lyapunov_function(F, (1, 1))
    with pytest.raises(DsAnalyzeError, match="not an equilibrium"):
        lyapunov_function(FLOW, (0, 1))
    with pytest.raises(SymbolicTimeout, match="invariant curves of degree <= 3"):
        find_invariant_curves(F, 3, timeout=0.05)
