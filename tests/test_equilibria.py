"""Fixed points and equilibria: exact sets (with components and special values), numeric fallback, verify."""
import time

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import fsolve, root

import dsanalyze as ds
from dsanalyze import errors, models
from dsanalyze.symbolic.equilibria import FixedPointSet, fixed_points, numeric_roots, system_fixed_points
from dsanalyze.symbolic.results import FixedPoint, defining_equations
from dsanalyze.verify import Basis


def same(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def same_point(p, q) -> bool:
    return len(p) == len(q) and all(same(a, b) for a, b in zip(p, q))


def matches(points, expected) -> bool:
    """Every expected point is among ``points`` exactly once and nothing else is."""
    remaining = list(points)
    for q in expected:
        hit = [p for p in remaining if same_point(p, q)]
        if len(hit) != 1:
            return False
        remaining.remove(hit[0])
    return not remaining


def all_passed(verdicts) -> bool:
    return all(v.passed is not False for v in verdicts) and any(v.passed for v in verdicts)


# ---------------------------------------------------------------------------------------------
# Exact sets
# ---------------------------------------------------------------------------------------------
def test_logistic_fixed_points_exact():
    F = models.logistic()
    (x,), (r,) = F.state, F.params
    fps = fixed_points(F)
    assert isinstance(fps, FixedPointSet) and fps.complete and len(fps) == 2
    assert matches([p.coordinates for p in fps], [(0,), ((r - 1) / r,)])
    assert all(p.basis is Basis.PROVED and p.dimension == 0 for p in fps)
    # (r - 1)/r exists only for r != 0; the special values are r = 0 and r = 1 (collision)
    assert fps[1].conditions == sp.Ne(r, 0)
    assert set(fps.special_values) == {r}
    assert list(fps.special_values[r]) == [0, 1]
    assert "undefined" in fps.special_values[r][0] and "coincide" in fps.special_values[r][1]


def test_two_factor_origin_and_curve():
    F = models.two_factor()
    u, v = F.state
    (mu,) = F.params
    start = time.perf_counter()
    fps = fixed_points(F)
    assert time.perf_counter() - start < 5
    assert fps.complete and len(fps) == 2
    origin, curve = fps
    assert origin.coordinates == (0, 0)  # the point nonlinsolve loses
    assert curve.coordinates is None and curve.dimension == 1
    assert len(curve.equations) == 1
    ratio = sp.cancel(curve.equations[0] / (u * v - 1))
    assert ratio.is_number and ratio != 0
    (t,) = curve.free
    assert curve.parametrisation == (t, 1 / t)
    assert fps.special_values == {mu: {0: "every point is fixed"}}
    assert "exact" in fps.method


def test_sequence_behaviour_and_latex():
    fps = fixed_points(models.two_factor())
    assert len(list(fps)) == 2 and fps[-1] is fps.points[-1] and fps.index(fps[1]) == 1
    assert fps[0] in fps
    text = fps.latex()
    assert r"u v - 1 = 0" in text and "(0, 0)" in text and r"\mu = 0" in text and "every point is fixed" in text
    assert "curve" in text
    assert "all 2" in repr(fps)


def test_double_well_fixed_points():
    F = models.double_well_gd()
    fps = fixed_points(F)
    assert [p.coordinates for p in fps] == [(-1,), (0,), (1,)]
    (eta,) = F.params
    assert fps.special_values == {eta: {0: "every point is fixed"}}


def test_ring_gd_critical_points_against_scipy():
    F = models.ring_gd()
    a, b = F.state
    fps = fixed_points(F)
    assert fps.complete and len(fps) == 5
    assert all(p.is_point for p in fps)
    s10, s6 = sp.sqrt(10) / 4, sp.sqrt(6) / 4
    assert matches([p.coordinates for p in fps], [(0, 0), (s10, -s10), (-s10, s10), (s6, s6), (-s6, -s6)])
    # the minima: Hessian positive definite there, and they lie on b = -a
    hessian = sp.hessian(F.loss, (a, b))
    minima = [p for p in fps if all(ev > 0 for ev in hessian.subs(p.as_dict()).eigenvals())]
    assert len(minima) == 2 and all(sp.simplify(p.coordinates[0] + p.coordinates[1]) == 0 for p in minima)
    # scipy.optimize root finding on the gradient from many starts finds exactly these points
    grad = sp.lambdify([(a, b)], [sp.diff(F.loss, a), sp.diff(F.loss, b)], "numpy")
    exact = np.array([[float(c) for c in p.coordinates] for p in fps])
    found = set()
    rng = np.random.default_rng(3)
    for start in rng.uniform(-2, 2, size=(60, 2)):
        sol = root(lambda z: grad(z), start, tol=1e-14)
        if sol.success and np.abs(grad(sol.x)).max() < 1e-10:
            distance = np.abs(exact - sol.x).max(axis=1)
            assert distance.min() < 1e-9, sol.x
            found.add(int(distance.argmin()))
    assert found == set(range(5))


def test_lorenz_equilibria_exact():
    L = models.lorenz()
    sigma, rho, beta = L.params
    fps = fixed_points(L)
    c = sp.sqrt(beta * (rho - 1))
    assert matches([p.coordinates for p in fps], [(0, 0, 0), (c, c, rho - 1), (-c, -c, rho - 1)])
    for p in fps[1:]:
        assert p.conditions == (beta * (rho - 1) >= 0)
    assert set(fps.special_values) == {sigma, rho, beta}
    assert list(fps.special_values[rho]) == [1] and "1 equilibrium instead of 3" in fps.special_values[rho][1]
    assert "1-dimensional set of equilibria" in fps.special_values[beta][0]


def test_seir_disease_free_and_endemic():
    M = models.seir()
    S, E, I, R = M.state
    beta, sigma, gamma, mu = M.params
    fps = fixed_points(M)
    R0 = beta * sigma / ((sigma + mu) * (gamma + mu))
    I_star = mu * (R0 - 1) / beta
    endemic = (1 / R0, (gamma + mu) * I_star / sigma, I_star, gamma * I_star / mu)
    assert matches([p.coordinates for p in fps], [(1, 0, 0, 0), endemic])
    # the two meet at R0 = 1: beta = (sigma + mu)(gamma + mu)/sigma
    threshold = (sigma + mu) * (gamma + mu) / sigma
    assert any(same(value, threshold) and "coincide" in why for value, why in fps.special_values[beta].items())
    assert "2-dimensional" in fps.special_values[mu][0]


def test_sir_plane_of_equilibria():
    M = models.sir()
    S, I, R = M.state
    fps = fixed_points(M)
    assert len(fps) == 1 and fps[0].dimension == 2 and fps[0].equations == (I,)
    t1, t2 = fps[0].free
    assert fps[0].parametrisation == (t1, 0, t2)


def test_henon_points_defined_at_b_zero():
    H = models.henon()
    a, b = H.params
    fps = fixed_points(H)
    assert len(fps) == 2
    disc = 4 * a + (1 - b) ** 2
    expected = [((b - 1 + sp.sqrt(disc)) / (2 * a), b * (b - 1 + sp.sqrt(disc)) / (2 * a)),
                ((b - 1 - sp.sqrt(disc)) / (2 * a), b * (b - 1 - sp.sqrt(disc)) / (2 * a))]
    assert matches([p.coordinates for p in fps], expected)
    # solved for x first: no division by b
    assert all(not _has_denominator_factor(c, b) for p in fps for c in p.coordinates)
    assert list(fps.special_values[a]) == [0, -(b - 1) ** 2 / 4]


def _has_denominator_factor(expr, symbol):
    return symbol in sp.denom(sp.together(expr)).free_symbols


def test_rational_map_excludes_poles():
    x = sp.Symbol("x", real=True)
    F = ds.Map([x], [x + (x**2 - 1) / (x + 1)])  # x = -1 solves the numerator but is a pole
    fps = fixed_points(F)
    assert [p.coordinates for p in fps] == [(1,)]
    G = ds.Map([x], [2 * x / (1 + x)])
    assert [p.coordinates for p in fixed_points(G)] == [(0,), (1,)]


def test_irrational_constants_are_kept_exact():
    x = sp.Symbol("x", real=True)
    F = ds.Map([x], [sp.sqrt(2) * x * (1 - x)])
    fps = fixed_points(F)
    assert matches([p.coordinates for p in fps], [(0,), (1 - 1 / sp.sqrt(2),)])


def test_system_method_helper():
    assert len(system_fixed_points(models.cubic())) == 3


def test_no_fixed_points():
    x = sp.Symbol("x", real=True)
    fps = fixed_points(ds.Map([x], [x + 1]))
    assert fps.complete and len(fps) == 0
    fps = fixed_points(ds.Flow([x], [x**2 + 1]))  # no real equilibria
    assert fps.complete and len(fps) == 0


# ---------------------------------------------------------------------------------------------
# Numeric fallback
# ---------------------------------------------------------------------------------------------
def _fsolve_roots(f, box, count, seed):
    rng = np.random.default_rng(seed)
    roots = []
    for start in rng.uniform(-box, box, size=(count, 2)):
        z, _, ier, _ = fsolve(f, start, full_output=True, xtol=1e-13)
        if ier == 1 and np.abs(f(z)).max() < 1e-10 and np.abs(z).max() <= box:
            if not any(np.abs(z - q).max() < 1e-7 for q in roots):
                roots.append(z)
    return np.array(roots)


def test_transcendental_map_falls_back_to_numeric():
    x, y = sp.symbols("x y", real=True)
    F = ds.Map((x, y), [x + sp.sin(x) * sp.cos(y) - sp.Rational(3, 10) * y, y + x**2 + y**2 - 4])
    fps = fixed_points(F, box=5)
    assert not fps.complete and "found 2" in fps.method and "not a rational function" in fps.method
    assert all(p.basis is Basis.NUMERIC and p.residual < 1e-12 for p in fps)
    ours = np.array([[float(c) for c in p.coordinates] for p in fps])
    f = lambda z: np.array([np.sin(z[0]) * np.cos(z[1]) - 0.3 * z[1], z[0] ** 2 + z[1] ** 2 - 4])  # noqa: E731
    reference = _fsolve_roots(f, 5, 400, seed=1)
    assert len(reference) == len(ours) == 2
    for z in reference:
        assert np.abs(ours - z).max(axis=1).min() < 1e-9
    assert all(all_passed(p.verify()) for p in fps)
    with pytest.raises(errors.ExpressionError, match="not a rational function"):
        fixed_points(F, numeric_fallback=False)


def _degree_seven():
    x, y = sp.symbols("x y", real=True)
    P1 = x**7 - 7 * x**5 + 14 * x**3 - 7 * x + y**2 - sp.Rational(1, 3)
    P2 = y**7 - 6 * y**5 + 9 * y**3 - 2 * y + x * y - x**2 + sp.Rational(1, 5)
    return ds.Flow((x, y), [P1, P2], name="degree seven"), (x, y), (P1, P2)


def test_degree_seven_system_times_out_then_numeric():
    G, state, polys = _degree_seven()
    start = time.perf_counter()
    with pytest.raises(errors.SymbolicTimeout, match="fixed points of degree seven"):
        fixed_points(G, timeout=0.5, numeric_fallback=False)
    # Unbudgeted, the exact solve runs for minutes; the budget stops it (generous bound for loaded machines).
    assert time.perf_counter() - start < 60
    fps = fixed_points(G, timeout=0.5, box=3)
    assert not fps.complete and "budget" in fps.method and f"found {len(fps)}" in fps.method
    assert all(p.residual < 1e-12 for p in fps)
    ours = np.array([[float(c) for c in p.coordinates] for p in fps])
    f = sp.lambdify([state], list(polys), "numpy")
    reference = _fsolve_roots(lambda z: np.array(f(z)), 3, 1500, seed=2)
    assert len(reference) >= 15
    for z in reference:  # every root fsolve finds in the box is among ours
        assert np.abs(ours - z).max(axis=1).min() < 1e-8, z
    assert len(ours) == len(reference)


def test_numeric_fallback_needs_parameter_values():
    x, k = sp.symbols("x k", real=True)
    F = ds.Flow([x], [sp.sin(x) - k * x], [k])
    with pytest.raises(errors.MissingParameterError, match="params="):
        fixed_points(F)
    fps = fixed_points(F, params={"k": 0.5}, box=4)
    assert not fps.complete and fps[0].at == ((k, sp.Rational(1, 2)),)
    values = sorted(float(p.coordinates[0]) for p in fps)
    assert len(values) == 3 and abs(values[1]) < 1e-14 and abs(values[2] - 1.895494267033981) < 1e-12
    assert all(all_passed(p.verify()) for p in fps)


def test_numeric_roots_is_reproducible():
    G, _, _ = _degree_seven()
    a, _, _ = numeric_roots(G, {}, seed=5, box=3, starts=64)
    b, _, _ = numeric_roots(G, {}, seed=5, box=3, starts=64)
    assert np.array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params", [
    ("logistic", {"r": 2.5}),
    ("two_factor", {"mu": 0.5}),
    ("double_well_gd", {"eta": 0.1}),
    ("ring_gd", {"eta": 0.1}),
    ("lorenz", {}),
    ("seir", {"beta": 3, "sigma": 1, "gamma": 0.5, "mu": 0.1}),
    ("henon", {}),
])
def test_verify_passes(name, params):
    fps = fixed_points(getattr(models, name)())
    verdicts = fps.verify(**params)
    assert all(v.passed is True for v in verdicts), [str(v) for v in verdicts if not v.passed]
    bases = {v.basis for v in verdicts}
    assert {Basis.PROVED, Basis.NUMERIC, Basis.SAMPLED} <= bases


def test_verify_flags_wrong_claims():
    F = models.logistic()
    (r,) = F.params
    wrong = FixedPoint(F, (sp.Rational(1, 2),))
    proved, residual, stability = wrong.verify(r=2.5)
    assert proved.passed is False and proved.basis is Basis.PROVED
    assert residual.passed is False and residual.basis is Basis.NUMERIC
    assert stability.passed is None
    # a parametric claim that is wrong
    proved, residual, _ = FixedPoint(F, (1 / r,)).verify(r=3)
    assert proved.passed is False and residual.passed is False
    # a wrong curve for the two-factor map
    T = models.two_factor()
    u, v = T.state
    t = sp.Symbol("t", real=True)
    curve = FixedPoint(T, None, equations=(u * v - 2,), dimension=1, parametrisation=(t, 2 / t), free=(t,))
    verdicts = curve.verify(mu=0.5)
    assert verdicts[0].passed is False and verdicts[1].passed is False
    curve = FixedPoint(T, None, equations=(u * v - 2,), dimension=1)  # no parametrisation: Groebner and sampling
    verdicts = curve.verify(mu=0.5)
    assert verdicts[0].passed is not True and verdicts[1].passed is False
    # an incomplete set claimed complete: the origin left out
    fps = fixed_points(T)
    partial = FixedPointSet((fps[1],), True, {}, "hand-made", T)
    assert partial.verify(mu=0.5)[-1].passed is False


def test_verify_point_that_does_not_exist_there():
    L = models.lorenz()
    fps = fixed_points(L)
    verdicts = fps[1].verify(rho=0.5)  # beta (rho - 1) < 0: no real point
    assert verdicts[0].passed is True and verdicts[1].passed is None and "does not exist" in verdicts[1].note


def test_verify_needs_parameters():
    fps = fixed_points(models.logistic())
    with pytest.raises(errors.MissingParameterError):
        fps[0].verify()
    with pytest.raises(errors.ExtraParameterError):
        fps[0].verify(r=2, q=1)


def test_verify_centre_is_unchecked_not_passed():
    rotation = ds.Flow("x y", ["y", "-x"])
    (origin,) = fixed_points(rotation)
    verdicts = origin.verify()
    assert verdicts[-1].passed is None and "does not decide" in verdicts[-1].note


def test_defining_equations():
    F = models.logistic()
    (x,), (r,) = F.state, F.params
    assert defining_equations(F) == (r * x * (1 - x) - x,)
    assert defining_equations(models.lorenz()) == models.lorenz().rhs


def test_points_without_closed_form_stay_exact_as_equations():
    x, a = sp.symbols("x a", real=True)
    F = ds.Flow([x], [x**3 - a * x - 1], [a])  # irreducible cubic with a parameter
    fps = fixed_points(F)
    assert fps.complete and len(fps) == 1
    (piece,) = fps
    assert piece.coordinates is None and piece.dimension == 0 and piece.equations == (x**3 - a * x - 1,)
    # the fold where two equilibria collide: discriminant 4 a^3 - 27 = 0
    (value,) = fps.special_values[a]
    assert same(value**3, sp.Rational(27, 4)) and "repeated root" in fps.special_values[a][value]
    verdicts = fps.verify(a=2)  # x^3 - 2x - 1 = (x + 1)(x^2 - x - 1): three equilibria sampled
    assert all(v.passed is True for v in verdicts)
    assert verdicts[1].evidence["points"].shape == (3, 1)


def test_transcendental_parameter_coefficients():
    x, k = sp.symbols("x k", real=True)
    F = ds.Map([x], [sp.exp(k) * x * (1 - x)], [k])
    fps = fixed_points(F)
    assert fps.complete and matches([p.coordinates for p in fps], [(0,), (1 - sp.exp(-k),)])
    assert "exp(k)" in fps.method
    assert all(v.passed for v in fps.verify(k=1))


def test_latex_of_reasons_is_safe_text():
    text = fixed_points(models.lorenz()).latex()
    assert "**" not in text and r"\^{}" in text
