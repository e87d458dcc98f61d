"""Map and Flow: construction, exact derivations, restriction, equality, display, bad input."""
import math

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze import errors
from dsanalyze.models import cubic, logistic, two_factor

x, y, u, v, w, r, mu, a, b = sp.symbols("x y u v w r mu a b", real=True)


# ---- construction --------------------------------------------------------------------------
def test_construction_from_symbols():
    F = ds.Map((u, v), (u + a * v, b * u), (a, b))
    assert F.state == (u, v)
    assert F.rhs == (u + a * v, b * u)
    assert F.params == (a, b)
    assert F.dim == 2
    assert F.kind == "map"


def test_construction_from_text_infers_sorted_parameters():
    F = ds.Map("x y", ["zeta*x + b*y", "alpha*x*y"])
    assert [s.name for s in F.state] == ["x", "y"]
    assert [p.name for p in F.params] == ["alpha", "b", "zeta"]  # sorted by name
    X, Y = F.state
    alpha, bb, zeta = F.params
    assert F.rhs == (zeta * X + bb * Y, alpha * X * Y)
    # Names become real symbols, consistent with the library's models.
    assert all(s.is_real for s in (*F.state, *F.params))


def test_construction_text_keeps_declared_parameter_order():
    F = ds.Flow("x", "c*x + a", params="c a")
    assert [p.name for p in F.params] == ["c", "a"]


def test_text_decimals_become_exact_rationals():
    F = ds.Map("x", "0.1*x + 2.5")
    X = F.state[0]
    assert F.rhs[0] == sp.Rational(1, 10) * X + sp.Rational(5, 2)


def test_plain_sympy_symbols_are_the_state_variables_of_the_same_name():
    # Symbol("x") (no assumptions) and the real x made from the name "x" are one variable.
    xp = sp.Symbol("x")
    F = ds.Map("x", 2 * xp)
    assert F.params == ()
    assert F.rhs == (2 * F.state[0],)
    G = ds.gd_map(xp**4, "x")
    X = G.state[0]
    eta = G.params[0]
    assert sp.expand(G.rhs[0] - (X - eta * 4 * X**3)) == 0


def test_number_as_single_right_hand_side():
    G = ds.Flow("x", 1)
    assert G.rhs == (sp.Integer(1),)
    assert ds.Flow("x", 0.25).rhs == (sp.Rational(1, 4),)


def test_immutable():
    F = logistic()
    for attr, value in [("_rhs", ()), ("name", "other"), ("kind", "flow"), ("new_attribute", 1)]:
        with pytest.raises(AttributeError):
            setattr(F, attr, value)
    assert F.rhs == (r * x * (1 - x),)  # untouched
    # defaults hands out a copy
    H = ds.models.henon()
    H.defaults.clear()
    assert H.defaults == {a: sp.Rational(7, 5), b: sp.Rational(3, 10)}


# ---- derivations ---------------------------------------------------------------------------
def test_jacobian_exact():
    F = two_factor()
    J = F.jacobian()
    expected = sp.Matrix([[1 - mu * v**2, -mu * (2 * u * v - 1)], [-mu * (2 * u * v - 1), 1 - mu * u**2]])
    assert sp.expand(J - expected) == sp.zeros(2, 2)
    assert isinstance(J, sp.ImmutableMatrix)
    G = ds.Flow("x y", ["y", "-sin(x) - c*y"])
    X, Y = G.state
    (c,) = G.params
    assert G.jacobian() == sp.Matrix([[0, 1], [-sp.cos(X), -c]])


def test_subs_removes_parameter_and_substitutes_exactly():
    F = two_factor().subs(mu=0.5)
    assert F.params == ()
    half = sp.Rational(1, 2)
    expected = (u - half * (u * v - 1) * v, v - half * (u * v - 1) * u)
    assert all(sp.expand(g - e) == 0 for g, e in zip(F.rhs, expected))
    assert not any(g.has(sp.Float) for g in F.rhs)  # 0.5 became the exact 1/2
    assert logistic().subs(r=4).rhs == (4 * x * (1 - x),)
    assert logistic().subs({r: sp.Rational(7, 2)}).rhs == (sp.Rational(7, 2) * x * (1 - x),)
    # partial substitution keeps the other parameter and its default
    H = ds.models.henon().subs(a="2/3")
    assert H.params == (b,)
    assert H.rhs[0] == 1 - sp.Rational(2, 3) * x**2 + y
    assert H.defaults == {b: sp.Rational(3, 10)}


def test_compose_logistic_twice_exact():
    F2 = logistic().compose(2)
    assert F2.rhs[0] == r * (r * x * (1 - x)) * (1 - r * x * (1 - x))
    assert sp.expand(F2.rhs[0] - r * (r * x * (1 - x)) * (1 - r * x * (1 - x))) == 0
    assert F2.params == (r,)
    assert logistic().compose(1) == logistic()
    with pytest.raises(ValueError):
        logistic().compose(0)


def test_restrict_two_factor_to_diagonal_is_cubic():
    R = two_factor().restrict(v=u)
    assert R == cubic()
    assert two_factor().restrict(v="u") == cubic()
    assert R.state == (u,)
    assert R.params == (mu,)
    assert sp.expand(R.rhs[0] - (u - mu * (u**2 - 1) * u)) == 0
    # the anti-diagonal v = -u is invariant as well
    A = two_factor().restrict(v=-u)
    assert sp.expand(A.rhs[0] - (u - mu * (-u**2 - 1) * (-u))) == 0


@pytest.mark.parametrize(
    "relation, obstruction",
    [
        (2 * u, 3 * mu * u * (2 * u**2 - 1)),  # F_v - 2 F_u on v = 2u
        (u + 1, mu * (u**2 + u - 1)),  # F_v - (F_u + 1) on v = u + 1
    ],
)
def test_restrict_to_non_invariant_subspace_names_the_obstruction(relation, obstruction):
    with pytest.raises(errors.NotInvariantError) as info:
        two_factor().restrict(v=relation)
    message = str(info.value)
    assert "not invariant" in message
    assert f"v = {relation}" in message
    assert str(sp.factor(obstruction)) in message


def test_restrict_gradient_flow_of_two_factor_loss():
    G = ds.gradient_flow("(u*v - 1)**2/2", "u v")
    U, V = G.state
    on_diag = G.restrict(v="u")
    assert isinstance(on_diag, ds.Flow)
    assert on_diag.state == (U,)
    assert sp.expand(on_diag.rhs[0] - (-U * (U**2 - 1))) == 0
    on_anti = G.restrict(v="-u")
    assert sp.expand(on_anti.rhs[0] - (-U * (U**2 + 1))) == 0
    assert on_diag.loss == (U**2 - 1) ** 2 / 2
    with pytest.raises(errors.NotInvariantError):
        G.restrict(v="u + 1")


def test_gd_map_keeps_loss_and_descends_it():
    F = ds.gd_map("w**4 - 2*w**2", "w")
    (W,) = F.state
    (eta,) = F.params
    assert eta.name == "eta"
    assert F.loss == W**4 - 2 * W**2
    assert sp.expand(F.rhs[0] - (W - eta * (4 * W**3 - 4 * W))) == 0
    # the library model is the same map
    assert F == ds.models.double_well_gd()


def test_gradient_flow_is_minus_gradient():
    L = (u * v - 1) ** 2 / 2 + a * u**2
    G = ds.gradient_flow(L, (u, v))
    assert G.loss == L
    assert G.params == (a,)
    for s, f in zip((u, v), G.rhs):
        assert sp.expand(f + sp.diff(L, s)) == 0


def test_euler_map():
    E = ds.euler_map(ds.Flow("y", "-y"))
    (Y,) = E.state
    (h,) = E.params
    assert h.name == "h"
    assert sp.expand(E.rhs[0] - (Y - h * Y)) == 0
    assert isinstance(E, ds.Map)


def test_euler_of_gradient_flow_is_gradient_descent():
    h = sp.Symbol("h", positive=True)
    L = "(a**2 + b**2 - 1)**2 + a*b"
    E = ds.euler_map(ds.gradient_flow(L, "a b"), h)
    D = ds.gd_map(L, "a b", h)
    assert E == D
    assert E.params == D.params == (h,)
    for e, d in zip(E.rhs, D.rhs):
        assert sp.expand(e - d) == 0
    assert E.loss == D.loss


def test_euler_step_name_clash_is_refused():
    with pytest.raises(errors.ExpressionError, match="step size h"):
        ds.euler_map(ds.Flow("y", "-h*y"))
    E = ds.euler_map(ds.Flow("y", "-h*y"), "dt")
    assert [p.name for p in E.params] == ["h", "dt"]


# ---- equality ------------------------------------------------------------------------------
def test_equality_semantics():
    assert ds.Map("x", "r*x*(1 - x)") == ds.Map("z", "r*z - r*z**2")  # renamed state, expanded form
    assert ds.Map("p q", ["q", "p"]) == ds.Map("a b", ["b", "a"])
    assert ds.Map("x", "r*x") != ds.Map("x", "s*x")  # different parameters
    assert ds.Map("x", "r*x") != ds.Map("x", "r*x + 1")
    assert ds.Map("x y", ["x", "y"]) != ds.Map("x", "x")
    assert ds.Map("x", "-x") != ds.Flow("x", "-x")  # a map never equals a flow
    assert ds.Flow("x", "-x") != ds.Map("x", "-x")
    assert logistic() != "logistic"
    assert hash(ds.Map("x", "r*x*(1 - x)")) == hash(ds.Map("z", "r*z - r*z**2"))


# ---- display -------------------------------------------------------------------------------
def test_repr_latex_and_equations():
    latex_map = two_factor()._repr_latex_()
    assert latex_map.startswith("$") and latex_map.endswith("$")
    assert "u'" in latex_map and "v'" in latex_map
    assert r"\mu" in latex_map
    latex_flow = ds.models.lorenz()._repr_latex_()
    assert r"\dot{x}" in latex_flow and r"\dot{z}" in latex_flow
    assert two_factor().equations() == ["u' = -mu*v*(u*v - 1) + u", "v' = -mu*u*(u*v - 1) + v"]
    assert ds.Flow("x", "-x").equations() == ["dx/dt = -x"]
    assert "logistic" in repr(logistic()) and "params r" in repr(logistic())


# ---- bad input -----------------------------------------------------------------------------
def test_unknown_symbol_in_text_with_declared_params():
    with pytest.raises(errors.UnknownSymbolError, match="'q'"):
        ds.Map("x", "r*x + q", params="r")


def test_rhs_count_must_match_state_count():
    with pytest.raises(errors.DimensionError, match="2 state variable"):
        ds.Map("x y", ["x"])
    with pytest.raises(errors.DimensionError):
        ds.Flow("x", ["x", "x"])


def test_symbol_both_state_and_parameter():
    with pytest.raises(errors.ExpressionError, match="both a state variable and a parameter"):
        ds.Map("x", "r*x", params="r x")
    with pytest.raises(errors.ExpressionError, match="both a state variable and a parameter"):
        ds.Map([sp.Symbol("x")], "2*x", params=["x"])  # same name, different assumptions


def test_repeated_state_or_parameter_names():
    with pytest.raises(errors.ExpressionError, match="repeated"):
        ds.Map("x x", ["x", "x"])
    with pytest.raises(errors.ExpressionError, match="repeated"):
        ds.Map("x", [sp.Symbol("r") * x + sp.Symbol("r", positive=True)])


def test_restrict_by_unknown_name():
    with pytest.raises(errors.UnknownSymbolError, match="'w' is not a state variable"):
        two_factor().restrict(w="u")
    with pytest.raises(errors.UnknownSymbolError):
        two_factor().restrict(mu="u")  # a parameter is not a state variable


def test_subs_of_non_parameter():
    with pytest.raises(errors.UnknownSymbolError, match="'nu' is not a parameter"):
        two_factor().subs(nu=1)
    with pytest.raises(errors.UnknownSymbolError):
        two_factor().subs(u=1)  # a state variable is not a parameter


def test_non_finite_rhs_refused():
    with pytest.raises(errors.ExpressionError, match="not finite"):
        ds.Map("x", "x/0")


# ---- bad input at run time -----------------------------------------------------------------
def test_run_time_wrong_dimension_of_initial_states():
    F = two_factor()
    with pytest.raises(errors.DimensionError, match=r"shape \(n, 2\)"):
        ds.iterate(F, np.zeros((4, 3)), 5, {"mu": 1.0})
    with pytest.raises(errors.DimensionError):
        ds.iterate(F, [1.0, 2.0, 3.0], 5, {"mu": 1.0})
    with pytest.raises(errors.DimensionError, match="2 component"):
        ds.trajectory(F, [1.0, 2.0, 3.0], 5, mu=1.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_run_time_non_finite_initial_state(bad):
    F = two_factor()
    with pytest.raises(errors.NonFiniteInputError):
        ds.trajectory(F, [0.5, bad], 5, mu=1.0)
    with pytest.raises(errors.NonFiniteInputError, match=r"index \(1, 0\)"):
        ds.iterate(F, [[0.5, 0.5], [bad, 0.5]], 5, {"mu": 1.0})


def test_run_time_parameter_errors():
    F = two_factor()
    X = np.full((2, 2), 0.5)
    with pytest.raises(errors.MissingParameterError, match="mu"):
        ds.iterate(F, X, 5)
    with pytest.raises(errors.MissingParameterError):
        ds.trajectory(F, [0.5, 0.5], 5)
    with pytest.raises(errors.ExtraParameterError, match="nu"):
        ds.iterate(F, X, 5, {"mu": 1.0, "nu": 2.0})
    with pytest.raises(errors.ExtraParameterError):
        ds.trajectory(F, [0.5, 0.5], 5, mu=1.0, nu=2.0)
    with pytest.raises(errors.NonFiniteInputError, match="mu"):
        ds.iterate(F, X, 5, {"mu": math.nan})
    with pytest.raises(errors.NonFiniteInputError):
        ds.iterate(F, X, 5, {"mu": np.array([1.0, np.inf])})
    with pytest.raises(errors.DimensionError, match="mu"):
        ds.iterate(F, X, 5, {"mu": np.ones(3)})
    with pytest.raises(errors.DimensionError):
        ds.iterate(F, X, 5, np.ones((2, 2)))  # two parameter columns for one parameter
    # all of them are DsAnalyzeError and ValueError
    assert issubclass(errors.MissingParameterError, errors.DsAnalyzeError)
    assert issubclass(errors.NonFiniteInputError, ValueError)


def test_defaults_fill_in_missing_parameters():
    H = ds.models.henon()
    got = ds.evaluate_rhs(H, [[0.5, 0.25]])
    np.testing.assert_allclose(got, [[1 - 1.4 * 0.25 + 0.25, 0.3 * 0.5]], rtol=1e-15)
