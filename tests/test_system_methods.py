"""The derivations as methods of a system, on the session of DESIGN: the two-factor story."""
import sympy as sp

import dsanalyze as ds


def test_two_factor_story_through_methods():
    F = ds.models.two_factor()
    u, v = F.state
    (mu,) = F.params
    fps = F.fixed_points()
    assert fps.complete
    assert fps[0].coordinates == (0, 0)
    assert sp.expand(fps[1].equations[0] - (u * v - 1)) == 0
    stability = F.stability(fps[1])
    # stable iff mu (u^2 + v^2) < 2: at (1, 1) iff mu < 1
    assert stability.holds(mu=0.9, u=1, v=1) is True
    assert stability.holds(mu=1, u=1, v=1) is False
    assert stability.holds(mu=0.5, u=2, v=0.5) is False  # 0.5 * 4.25 > 2
    E = F.find_invariant_curve(degree=2)
    assert sp.expand(E.expression - (mu * (u**2 + v**2) - mu**2 * u * v - (4 - mu**2))) == 0
    assert sp.expand(E.cofactor - (mu**2 * u**2 * v**2 - mu**2 * u * v + 1)) == 0
    assert E.verify(mu=[0.5, 1.0, 1.5]).passed is True
    on_ellipse = F.induced_map(E)
    assert on_ellipse.lyapunov_exponent == sp.log(3)
    cubic = F.restrict(v=u)
    assert cubic == ds.models.cubic()
    cycles = cubic.periodic_orbits(2)
    assert any(sp.simplify(c.multiplier - (7 - 4 * mu - 2 * mu**2)) == 0 for c in cycles)


def test_conserved_quantity_and_transformation_factor_through_methods():
    G = ds.gradient_flow("(u*v - 1)**2/2", "u v")
    u, v = G.state
    quantities = G.conserved_quantities(2)
    assert any(sp.expand(q.expression - (u**2 - v**2)) == 0 or sp.expand(q.expression + (u**2 - v**2)) == 0
               for q in quantities)
    F = ds.models.two_factor()
    (mu,) = F.params
    factor = F.transformation_factor(F.state[0] ** 2 - F.state[1] ** 2)
    assert sp.expand(factor.factor - (1 - mu**2 * (F.state[0] * F.state[1] - 1) ** 2)) == 0


def test_find_invariant_curve_refuses_when_ambiguous_or_absent():
    import pytest

    with pytest.raises(ValueError, match="invariant curves"):
        ds.models.logistic().find_invariant_curve(degree=2)


def test_stability_region_and_bifurcations_through_methods():
    G = ds.models.double_well_gd()
    fps = G.fixed_points()
    minimum = [p for p in fps if p.coordinates == (1,)][0]
    region = G.stability_region(minimum, "eta")
    assert region.region == sp.Interval.open(0, sp.Rational(1, 4))
    flips = [b for b in ds.models.cubic().bifurcations("mu") if b.kind.value == "flip" and b.value == 1]
    assert {b.fixed_point.coordinates for b in flips} == {(1,), (-1,)}


def test_lyapunov_function_of_a_gradient_flow():
    G = ds.gradient_flow("(w - 1)**2", "w")
    certificate = G.lyapunov_function([1])
    assert certificate.verify().passed is True


def test_periodic_regions_default_to_where_the_parameter_lives():
    # eta is a positive symbol: the symmetric 2-cycle +-sqrt((2 eta + 1)/(2 eta)) exists for every eta > 0,
    # and is not claimed for eta < 0, where its points are imaginary.
    G = ds.models.double_well_gd()
    regions = [c.existence_region("eta") for c in G.periodic_orbits(2)]
    assert sorted(regions, key=str) == sorted(
        [sp.Interval.open(0, sp.oo), sp.Interval.open(sp.Rational(1, 4), sp.oo), sp.Interval.open(sp.Rational(1, 4), sp.oo)],
        key=str,
    )
