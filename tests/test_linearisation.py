"""Linearisation: exact Jacobians, eigenvalues, eigenvectors, classification; along curves of fixed points."""
import time

import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze import errors, models
from dsanalyze.symbolic.equilibria import fixed_points
from dsanalyze.symbolic.linearisation import LAMBDA, Linearisation, classify_eigenvalues, linearise, system_linearise
from dsanalyze.symbolic.results import EquilibriumType as T


def same(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def same_eigenvalues(found: dict, expected: dict) -> bool:
    remaining = dict(found)
    for value, m in expected.items():
        hit = [k for k in remaining if same(k, value)]
        if len(hit) != 1 or remaining[hit[0]] != m:
            return False
        del remaining[hit[0]]
    return not remaining


def vanishes(e) -> bool:
    e = sp.expand(e)
    if e.is_number:  # nested radicals: 60 digits tell faster than simplify
        return abs(complex(sp.N(e, 60))) < 1e-45
    return sp.simplify(e) == 0


def check_eigenvectors(lin: Linearisation):
    J = sp.Matrix(lin.jacobian)
    for lam, _, vectors in lin.eigenvectors:
        assert vectors, lam
        for v in vectors:
            assert any(e != 0 for e in v)
            assert all(vanishes(e) for e in (J * v - lam * v)), (lam, v)


# ---------------------------------------------------------------------------------------------
# The two-factor map along uv = 1
# ---------------------------------------------------------------------------------------------
def test_two_factor_along_the_curve():
    F = models.two_factor()
    u, v = F.state
    (mu,) = F.params
    start = time.perf_counter()
    fps = fixed_points(F)
    lin = linearise(F, fps[1])
    elapsed = time.perf_counter() - start
    assert elapsed < 5
    assert lin.is_component and lin.classification is T.NON_HYPERBOLIC
    # eigenvalues exactly 1 and 1 - mu (u^2 + v^2) on the curve
    assert same_eigenvalues(lin.eigenvalues, {1: 1, 1 - mu * (u**2 + v**2): 1})
    (t,) = fps[1].free
    assert same_eigenvalues(lin.parametrised_eigenvalues, {1: 1, 1 - mu * (t**2 + 1 / t**2): 1})
    # the eigenvector of eigenvalue 1 is tangent to uv = 1 (and an eigenvector there)
    (w,) = lin.neutral_directions
    on_curve = {u: t, v: 1 / t}
    gradient = sp.Matrix([v, u])
    assert sp.simplify((gradient.T * w)[0].xreplace(on_curve)) == 0
    J = F.jacobian().xreplace(on_curve)
    assert all(sp.simplify(e) == 0 for e in (J * w.xreplace(on_curve) - w.xreplace(on_curve)))
    # the transverse multiplier decides normal stability
    assert same_eigenvalues(lin.transverse_eigenvalues, {1 - mu * (u**2 + v**2): 1})
    assert lin.transverse_classification is T.DEPENDS
    assert lin.classify(mu=0.5, u=1, v=1) is T.STABLE                 # multiplier 0
    assert lin.classify(mu=0.5, t=2) is T.UNSTABLE                    # 1 - 0.5 * 4.25 = -1.125
    assert lin.classify(mu=1, t=1) is T.NON_HYPERBOLIC                # multiplier -1
    assert "neutral" in lin.latex()


def test_two_factor_origin():
    F = models.two_factor()
    (mu,) = F.params
    lin = linearise(F, fixed_points(F)[0])
    assert same_eigenvalues(lin.eigenvalues, {1 + mu: 1, 1 - mu: 1})
    assert lin.classification is T.DEPENDS
    assert lin.classify(mu=0.5) is T.SADDLE
    check_eigenvectors(lin)


# ---------------------------------------------------------------------------------------------
# Points with parameters
# ---------------------------------------------------------------------------------------------
def test_double_well_multipliers():
    F = models.double_well_gd()
    (eta,) = F.params
    fps = fixed_points(F)
    lins = [linearise(F, p) for p in fps]
    assert lins[0].eigenvalues == {1 - 8 * eta: 1} and lins[2].eigenvalues == {1 - 8 * eta: 1}
    assert lins[1].eigenvalues == {1 + 4 * eta: 1}
    assert lins[1].classification is T.UNSTABLE and lins[1].stable is False   # for every eta > 0
    minimum = lins[2]
    assert minimum.classification is T.DEPENDS and minimum.stable is None
    assert minimum.classify(eta=0.1) is T.STABLE
    assert minimum.classify(eta=sp.Rational(1, 4)) is T.NON_HYPERBOLIC      # multiplier -1
    assert minimum.classify(eta=0.3) is T.UNSTABLE
    fixed = linearise(F, fps[2], eta=sp.Rational(1, 10))
    assert fixed.eigenvalues == {sp.Rational(1, 5): 1} and fixed.classification is T.STABLE


def test_logistic_nontrivial_point():
    F = models.logistic()
    (r,) = F.params
    lin = linearise(F, fixed_points(F)[1])
    assert lin.eigenvalues == {2 - r: 1}
    assert [lin.classify(r=value) for value in (2.5, 3, 3.5)] == [T.STABLE, T.NON_HYPERBOLIC, T.UNSTABLE]


def test_henon_saddles_at_classic_values():
    H = models.henon()
    a, b = H.params
    for p in fixed_points(H):
        lin = linearise(H, p, a=sp.Rational(7, 5), b=sp.Rational(3, 10))
        assert lin.classification is T.SADDLE and lin.hyperbolic is True and lin.stable is False
        product = sp.Mul(*[k**m for k, m in lin.eigenvalues.items()])
        assert same(product, -sp.Rational(3, 10))  # det J = -b
        check_eigenvectors(lin)


def test_lorenz_origin_and_cubic_factor():
    L = models.lorenz()
    sigma, rho, beta = L.params
    fps = fixed_points(L)
    origin = linearise(L, fps[0])
    disc = (sigma + 1) ** 2 - 4 * sigma * (1 - rho)
    assert same_eigenvalues(origin.eigenvalues, {
        -beta: 1, (-(sigma + 1) + sp.sqrt(disc)) / 2: 1, (-(sigma + 1) - sp.sqrt(disc)) / 2: 1})
    assert origin.classify(sigma=10, rho=28, beta=sp.Rational(8, 3)) is T.SADDLE
    assert origin.classify(sigma=10, rho=sp.Rational(1, 2), beta=sp.Rational(8, 3)) is T.STABLE
    # C+: the cubic factor has no usable closed form with symbolic parameters
    c_plus = linearise(L, fps[2])
    assert not c_plus.eigenvalues_complete and c_plus.classification is T.DEPENDS
    assert c_plus.classify(sigma=10, rho=28, beta=sp.Rational(8, 3)) is T.SADDLE   # unstable saddle-focus
    assert c_plus.classify(sigma=10, rho=10, beta=sp.Rational(8, 3)) is T.STABLE
    exact = linearise(L, fps[2], sigma=10, rho=28, beta=sp.Rational(8, 3))
    assert exact.eigenvalues_complete and exact.classification is T.SADDLE
    assert sum(exact.eigenvalues.values()) == 3


# ---------------------------------------------------------------------------------------------
# Classification examples
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("matrix, expected", [
    ([[-1, 2], [-2, -1]], T.STABLE_FOCUS),
    ([[1, 2], [-2, 1]], T.UNSTABLE_FOCUS),
    ([[-2, 0], [0, -1]], T.STABLE_NODE),
    ([[3, 1], [0, 2]], T.UNSTABLE_NODE),
    ([[0, 1], [1, 0]], T.SADDLE),
    ([[0, 1], [-1, 0]], T.CENTRE),
    ([[0, 0], [0, -1]], T.NON_HYPERBOLIC),
])
def test_linear_flows(matrix, expected):
    x, y = sp.symbols("x y", real=True)
    A = sp.Matrix(matrix)
    flow = ds.Flow((x, y), list(A * sp.Matrix([x, y])))
    lin = linearise(flow, (0, 0))
    assert lin.classification is expected
    assert lin.hyperbolic is (expected not in (T.CENTRE, T.NON_HYPERBOLIC))
    assert lin.jacobian == A
    check_eigenvectors(lin)


def test_rotation_flow_is_a_non_hyperbolic_centre():
    lin = linearise(ds.Flow("x y", ["y", "-x"]), {"x": 0, "y": 0})
    assert lin.classification is T.CENTRE and lin.hyperbolic is False and lin.stable is None
    assert lin.eigenvalues == {sp.I: 1, -sp.I: 1}
    assert "centre" in lin.latex()


@pytest.mark.parametrize("matrix, expected", [
    ([[sp.Rational(1, 2), 0], [0, 2]], T.SADDLE),
    ([[0, -1], [1, 0]], T.CENTRE),
    ([[sp.Rational(1, 2), -sp.Rational(1, 2)], [sp.Rational(1, 2), sp.Rational(1, 2)]], T.STABLE_FOCUS),
    ([[sp.Rational(1, 3), 0], [0, -sp.Rational(1, 2)]], T.STABLE_NODE),
    ([[2, 1], [-1, 2]], T.UNSTABLE_FOCUS),
    ([[-1, 0], [0, sp.Rational(1, 2)]], T.NON_HYPERBOLIC),
])
def test_linear_maps(matrix, expected):
    x, y = sp.symbols("x y", real=True)
    A = sp.Matrix(matrix)
    F = ds.Map((x, y), list(A * sp.Matrix([x, y])))
    assert linearise(F, (0, 0)).classification is expected


def test_classify_eigenvalues_dimensions():
    assert classify_eigenvalues({-1: 3}, False, 3)[0] is T.STABLE
    assert classify_eigenvalues({-1: 2, 1: 1}, False, 3)[0] is T.SADDLE
    assert classify_eigenvalues({2: 1}, True, 1)[0] is T.UNSTABLE
    eta = sp.Symbol("eta", positive=True)
    assert classify_eigenvalues({1 - 8 * eta: 1}, True, 1) == (T.DEPENDS, None, None)
    assert classify_eigenvalues({1 + 2 * eta: 1, 1 - 6 * eta: 1}, True, 2) == (T.DEPENDS, None, False)


def test_numeric_point_linearisation():
    x, y = sp.symbols("x y", real=True)
    F = ds.Map((x, y), [x + sp.sin(x) * sp.cos(y) - sp.Rational(3, 10) * y, y + x**2 + y**2 - 4])
    fps = fixed_points(F, box=5)
    for p in fps:
        lin = linearise(F, p)
        assert lin.classification in set(T) - {T.DEPENDS}


# ---------------------------------------------------------------------------------------------
# Errors, budget, helpers
# ---------------------------------------------------------------------------------------------
def test_errors():
    F = models.two_factor()
    with pytest.raises(errors.DimensionError):
        linearise(F, (0, 0, 0))
    with pytest.raises(errors.DimensionError):
        linearise(F, {"u": 0})
    with pytest.raises(errors.ExtraParameterError):
        linearise(F, (0, 0), nu=1)
    lin = linearise(F, (0, 0))
    with pytest.raises(errors.ExtraParameterError):
        lin.classify(nu=1)


def test_timeout():
    M = models.seir()
    beta, sigma, gamma, mu = M.params
    R0 = beta * sigma / ((sigma + mu) * (gamma + mu))
    I_star = mu * (R0 - 1) / beta
    endemic = (1 / R0, (gamma + mu) * I_star / sigma, I_star, gamma * I_star / mu)
    start = time.perf_counter()
    with pytest.raises(errors.SymbolicTimeout, match="linearisation of seir"):
        linearise(M, endemic, timeout=1e-3)
    assert time.perf_counter() - start < 1


def test_system_method_helper_and_characteristic_polynomial():
    lin = system_linearise(models.henon(), (0, 0), a=0, b=1)
    assert lin.eigenvalues == {1: 1, -1: 1}
    assert sp.expand(lin.characteristic_polynomial - (LAMBDA**2 - 1)) == 0


def test_gradient_flow_along_its_curve_of_minima():
    G = ds.gradient_flow("(u*v - 1)**2/2", "u v")
    u, v = G.state
    fps = fixed_points(G)
    lin = linearise(G, fps[1])
    assert same_eigenvalues(lin.eigenvalues, {0: 1, -(u**2 + v**2): 1})
    assert len(lin.neutral_directions) == 1
    assert lin.classify(t=1) is T.STABLE and lin.classify(u=2, v=sp.Rational(1, 2)) is T.STABLE
    assert all(verdict.passed is not False for verdict in fps.verify())


def test_every_point_fixed():
    F = models.two_factor().subs(mu=0)
    (everything,) = fixed_points(F)
    assert everything.dimension == 2 and everything.equations == ()
    lin = linearise(F, everything)
    assert lin.eigenvalues == {1: 2} and len(lin.neutral_directions) == 2 and lin.transverse_eigenvalues == {}
    verdicts = everything.verify()
    assert [v.status for v in verdicts] == ["passed", "passed", "unchecked"]
