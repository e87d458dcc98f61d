"""The model library: every model builds and is documented; exact facts of each model."""
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze import errors, models

NAMES = sorted(models.LIBRARY)


@pytest.mark.parametrize("name", NAMES)
def test_every_model_builds_and_is_documented(name):
    factory = models.LIBRARY[name]
    system = factory()
    assert isinstance(system, (ds.Map, ds.Flow))
    assert system.dim == len(system.rhs) >= 1
    assert system.name.replace("-", "_") == name
    assert system.description.strip()
    assert system.reference.strip()
    doc = factory.__doc__ or ""
    assert len(doc.strip()) > 40
    assert "Source:" in doc
    # the docstring gives the equations: an equals sign and every state variable by name
    assert "=" in doc
    for s in system.state:
        assert s.name in doc, (name, s.name)
    # a fresh, equal object on each call; every parameter has a name usable at run time
    assert factory() == system and factory() is not system
    assert all(p.name.isidentifier() for p in system.params)
    assert set(system.defaults) <= set(system.params)


def test_library_contents():
    assert set(NAMES) == {
        "two_factor", "cubic", "double_well_gd", "ring_gd", "logistic", "henon", "standard_map", "lorenz", "sir", "seir",
        "sis", "sir_vital", "seirs",
    }


def test_get_by_name():
    assert models.get("two-factor") == models.two_factor()
    assert models.get("two_factor").name == "two-factor"
    assert models.get(" Henon ") == models.henon()
    assert isinstance(models.get("lorenz"), ds.Flow)


def test_get_unknown_name_lists_the_library():
    with pytest.raises(errors.UnknownModelError) as info:
        models.get("rossler")
    message = str(info.value)
    assert "'rossler'" in message
    for name in NAMES:
        assert name.replace("_", "-") in message
    assert isinstance(info.value, KeyError)  # and a DsAnalyzeError
    assert isinstance(info.value, errors.DsAnalyzeError)


# ---- exact facts ---------------------------------------------------------------------------
def test_henon_jacobian_determinant_is_minus_b():
    H = models.henon()
    a, b = H.params
    assert H.jacobian().det() == -b
    assert H.defaults == {a: sp.Rational(7, 5), b: sp.Rational(3, 10)}


def test_standard_map_is_area_preserving():
    S = models.standard_map()
    assert sp.simplify(S.jacobian().det()) == 1


def test_seir_population_changes_by_births_minus_deaths():
    M = models.seir()
    S, E, I, R = M.state
    beta, sigma, gamma, mu = M.params
    assert sp.expand(sum(M.rhs) - (mu - mu * (S + E + I + R))) == 0


def test_sir_conserves_population():
    assert sp.expand(sum(models.sir().rhs)) == 0


def test_lorenz_divergence():
    L = models.lorenz()
    sigma, rho, beta = L.params
    assert sp.expand(L.jacobian().trace() - (-(sigma + 1 + beta))) == 0
    assert L.defaults == {sigma: 10, rho: 28, beta: sp.Rational(8, 3)}


def test_two_factor_is_gradient_descent_on_its_loss():
    F = models.two_factor()
    u, v = F.state
    (mu,) = F.params
    assert F.loss == (u * v - 1) ** 2 / 2
    assert F == ds.gd_map(F.loss, F.state, mu)


def test_two_factor_invariant_ellipse():
    # The docstring's claim: G = mu (u^2 + v^2) - mu^2 uv - (4 - mu^2) = 0 is invariant;
    # indeed G(F(x)) - G(x) is a multiple of G.
    F = models.two_factor()
    u, v = F.state
    (mu,) = F.params
    G = mu * (u**2 + v**2) - mu**2 * u * v - (4 - mu**2)
    GF = G.xreplace(dict(zip(F.state, F.rhs)))
    quotient, remainder = sp.div(sp.expand(GF - G), sp.expand(G), u, v)
    assert remainder == 0
    assert sp.expand(quotient - mu**2 * u * v * (u * v - 1)) == 0


def test_cubic_fixed_points_flip_at_mu_one():
    C = models.cubic()
    (x,) = C.state
    (mu,) = C.params
    assert set(sp.solve(sp.Eq(C.rhs[0], x), x)) == {-1, 0, 1}
    multiplier = C.jacobian()[0, 0].subs(x, 1)
    assert sp.solve(sp.Eq(multiplier, -1), mu) == [1]


def test_double_well_minima_stable_below_quarter():
    D = models.double_well_gd()
    (w,) = D.state
    (eta,) = D.params
    assert sp.diff(D.loss, w, 2).subs(w, 1) == 8
    multiplier = D.jacobian()[0, 0].subs(w, 1)
    assert sp.expand(multiplier - (1 - 8 * eta)) == 0  # |1 - 8 eta| < 1  <=>  0 < eta < 1/4


def test_logistic_fixed_points():
    F = models.logistic()
    (x,) = F.state
    (r,) = F.params
    fixed = sp.solve(sp.Eq(F.rhs[0], x), x)
    assert set(fixed) == {0, (r - 1) / r}


def test_ring_gd_is_gradient_descent_on_tilted_ring():
    F = models.ring_gd()
    a, b = F.state
    (eta,) = F.params
    L = (a**2 + b**2 - 1) ** 2 + a * b
    assert F.loss == L
    for s, f in zip(F.state, F.rhs):
        assert sp.expand(f - (s - eta * sp.diff(L, s))) == 0


def test_ring_gd_minima_on_the_antidiagonal():
    # The docstring's claim: two minima on b = -a, at a = +-sqrt(5/8).
    F = models.ring_gd()
    a, b = F.state
    L = F.loss
    for point in ({a: sp.sqrt(sp.Rational(5, 8)), b: -sp.sqrt(sp.Rational(5, 8))},
                  {a: -sp.sqrt(sp.Rational(5, 8)), b: sp.sqrt(sp.Rational(5, 8))}):
        assert [sp.simplify(sp.diff(L, s).subs(point)) for s in (a, b)] == [0, 0]
        hessian = sp.hessian(L, (a, b)).subs(point)
        assert all(ev > 0 for ev in hessian.eigenvals())
