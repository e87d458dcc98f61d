"""Compartmental epidemic models: DFE, R0 by the next-generation matrix, endemic equilibria, final size."""
import math

import pytest
import sympy as sp

from dsanalyze import models
from dsanalyze.symbolic.epidemic import (
    EpidemicModelError, disease_free_equilibrium, endemic_equilibria, final_size,
    reproduction_number,
)


def test_seir_with_births_and_deaths_R0_exact():
    M = models.seir()
    beta, sigma, gamma, mu = M.params
    R = reproduction_number(M)
    assert sp.simplify(R.R0 - beta * sigma / ((sigma + mu) * (gamma + mu))) == 0
    assert R.split.infected == (M.symbol("E"), M.symbol("I"))
    assert R.dfe.coordinates == (1, 0, 0, 0)
    # F and V of van den Driessche & Watmough's SEIR example
    assert R.F == sp.Matrix([[0, beta], [0, 0]])
    assert R.V == sp.Matrix([[sigma + mu, 0], [-sigma, gamma + mu]])


@pytest.mark.parametrize("name, expected", [
    ("sir", "beta/gamma"), ("sis", "beta/gamma"), ("sir_vital", "beta/(gamma + mu)"),
    ("seirs", "beta*sigma/((sigma + mu)*(gamma + mu))"),
])
def test_R0_of_the_library_models(name, expected):
    M = models.get(name)
    R = reproduction_number(M)
    want = sp.sympify(expected, locals={p.name: p for p in M.params})
    assert sp.simplify(R.R0 - want) == 0


def test_given_split_agrees_with_derived():
    M = models.seir()
    given = reproduction_number(M, infected=["E", "I"], new_infections={"E": "beta*S*I"})
    assert sp.simplify(given.R0 - reproduction_number(M).R0) == 0
    assert not given.split.derived


def test_sir_without_births_has_a_family_of_dfes_normalised_to_everyone_susceptible():
    D = disease_free_equilibrium(models.sir())
    assert D.normalised and D.coordinates == (1, 0, 0)
    assert D.verify().passed


def test_not_an_epidemic_model():
    with pytest.raises(EpidemicModelError):
        reproduction_number(models.lorenz())


@pytest.mark.parametrize("name", ["sir", "seir"])
def test_R0_verified_by_growth_at_threshold(name):
    v = reproduction_number(models.get(name)).verify(seed=3)
    assert v.passed, str(v)
    assert "R0 = 0.8" in v.measured and "R0 = 1.25" in v.measured


def test_sis_endemic_equilibrium_and_stability():
    M = models.sis()
    beta, gamma = M.params
    (E,) = endemic_equilibria(M)
    assert E.coordinates == (gamma / beta, (beta - gamma) / beta)
    assert E.conditions == sp.StrictGreaterThan(beta / gamma, 1)
    assert E.verify(beta=3.0, gamma=1.0).passed
    # the only eigenvalue off the conserved direction is gamma - beta
    assert E.eigenvalues(beta=3.0, gamma=1.0) == pytest.approx([-2.0])


def test_sir_vital_endemic_equilibrium():
    M = models.sir_vital()
    beta, gamma, mu = M.params
    (E,) = endemic_equilibria(M)
    S, I, R = E.coordinates
    assert sp.simplify(S - (gamma + mu) / beta) == 0
    assert sp.simplify(I - mu * (beta / (gamma + mu) - 1) / beta) == 0
    assert E.verify(beta=4.0, gamma=1.0, mu=0.2).passed


def test_sir_has_no_endemic_equilibrium():
    assert endemic_equilibria(models.sir()) == []


def test_final_size_at_R0_2():
    F = final_size(2)
    assert abs(F.value() - 0.796812130) < 1e-9
    assert abs(F.numeric() - 0.79681213002002) < 1e-13
    # the relation holds exactly at the Lambert W root
    z = F.z
    assert abs(sp.N(z - 1 + sp.exp(-2 * z), 50)) < 1e-45
    assert F.verify().passed


def test_final_size_symbolic_and_below_threshold():
    F = final_size()
    R0 = F.R0
    assert F.z == 1 + sp.LambertW(-R0 * sp.exp(-R0)) / R0
    assert final_size(sp.Rational(1, 2)).z == 0
    z3 = final_size(3).value()
    assert math.isclose(z3, 0.9405, abs_tol=5e-5)  # the textbook value at R0 = 3
    assert abs(z3 - 1 + math.exp(-3 * z3)) < 1e-15


def test_final_size_from_R0_result():
    R = reproduction_number(models.sir())
    F = final_size(R)
    assert F.value(beta=2, gamma=1) == pytest.approx(0.796812130020, abs=1e-11)
