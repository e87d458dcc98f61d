"""Acceptance: the generated C kernels compute exactly what SymPy derived.

For every model of the library, at 10^4 random points (random states *and*
random parameter values, one per row), the compiled right-hand side and
Jacobian must agree with ``sympy.lambdify`` (numpy backend) of ``system.rhs``
and ``system.jacobian()`` to 1e-13, relative.

Error measure, per point: ``max|a - b| <= 1e-13 * max(max|b|, 1)`` where the
maxima run over that point's whole vector (rhs) or matrix (Jacobian). A
componentwise relative error is meaningless when a component cancels to about
0 (e.g. u - mu (uv - 1) v near a fixed point, or a Jacobian entry
1 + K cos(theta) near K cos(theta) = -1): both sides then carry an absolute
rounding error of a few ulps of the *terms*, which is huge relative to the
tiny result. Scaling by the largest entry of the point's vector or matrix
measures the error against the size of the numbers actually computed there,
and the floor of 1 turns it into an absolute error for points where
everything is small. Both evaluators round differently (the kernel shares
common subexpressions, expands small integer powers into products, and may
fuse multiply-adds), so equality is not expected, only agreement to a few ulps.
"""
import math
import os
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze import models

N_POINTS = 10_000
RTOL = 1e-13

# Per model: a box for every state variable and a range for every parameter, by name.
# Boxes are where the models live (or somewhat beyond): probabilities in [0, 1] for the
# epidemics, the Lorenz attractor's extent, |u|, |v| <= 2.5 for the training maps.
BOXES = {
    "two_factor": ({"u": (-2.5, 2.5), "v": (-2.5, 2.5)}, {"mu": (0.0, 3.0)}),
    "cubic": ({"x": (-2.5, 2.5)}, {"mu": (0.0, 3.0)}),
    "double_well_gd": ({"w": (-2.0, 2.0)}, {"eta": (0.0, 0.5)}),
    "ring_gd": ({"a": (-2.0, 2.0), "b": (-2.0, 2.0)}, {"eta": (0.0, 0.5)}),
    "logistic": ({"x": (0.0, 1.0)}, {"r": (0.0, 4.0)}),
    "henon": ({"x": (-2.0, 2.0), "y": (-2.0, 2.0)}, {"a": (0.0, 2.0), "b": (-1.0, 1.0)}),
    "standard_map": ({"p": (-10.0, 10.0), "theta": (-10.0, 10.0)}, {"K": (0.0, 5.0)}),
    "lorenz": (
        {"x": (-25.0, 25.0), "y": (-30.0, 30.0), "z": (0.0, 55.0)},
        {"sigma": (1.0, 20.0), "rho": (0.0, 50.0), "beta": (0.5, 4.0)},
    ),
    "sir": ({"S": (0.0, 1.0), "I": (0.0, 1.0), "R": (0.0, 1.0)}, {"beta": (0.0, 5.0), "gamma": (0.0, 2.0)}),
    "seir": (
        {"S": (0.0, 1.0), "E": (0.0, 1.0), "I": (0.0, 1.0), "R": (0.0, 1.0)},
        {"beta": (0.0, 5.0), "sigma": (0.0, 2.0), "gamma": (0.0, 2.0), "mu": (0.0, 0.1)},
    ),
    "sis": ({"S": (0.0, 1.0), "I": (0.0, 1.0)}, {"beta": (0.0, 5.0), "gamma": (0.0, 2.0)}),
    "sir_vital": (
        {"S": (0.0, 1.0), "I": (0.0, 1.0), "R": (0.0, 1.0)}, {"beta": (0.0, 5.0), "gamma": (0.0, 2.0), "mu": (0.0, 0.1)},
    ),
    "seirs": (
        {"S": (0.0, 1.0), "E": (0.0, 1.0), "I": (0.0, 1.0), "R": (0.0, 1.0)},
        {"beta": (0.0, 5.0), "sigma": (0.0, 2.0), "gamma": (0.0, 2.0), "mu": (0.0, 0.1), "omega": (0.0, 1.0)},
    ),
}

#: Largest error seen per system (printed at the end of the module with ``pytest -s``).
MAX_ERRORS: dict[str, tuple[float, float]] = {}


def sample(system, boxes, seed, n=N_POINTS):
    """Random states (n, dim) and per-row parameter arrays {name: (n,)}."""
    state_box, param_box = boxes
    assert set(state_box) == {s.name for s in system.state}, "the box must name every state variable"
    assert set(param_box) == {p.name for p in system.params}, "give a range for every parameter"
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(*state_box[s.name], size=n) for s in system.state])
    P = {p.name: rng.uniform(*param_box[p.name], size=n) for p in system.params}
    return X, P


def lambdified(system, exprs, X, P):
    """numpy evaluation of SymPy expressions at the rows of X with per-row parameters: (n, len(exprs))."""
    symbols = (*system.state, *system.params)
    columns = [X[:, k] for k in range(system.dim)] + [P[p.name] for p in system.params]
    out = np.empty((X.shape[0], len(exprs)))
    for k, expr in enumerate(exprs):
        f = sp.lambdify(symbols, expr, modules="numpy")
        out[:, k] = np.broadcast_to(np.asarray(f(*columns), dtype=np.float64), (X.shape[0],))
    return out


def normwise_error(got, want):
    """Per point: max|got - want| / max(max|want|, 1) over the point's vector or matrix."""
    n = want.shape[0]
    got, want = got.reshape(n, -1), want.reshape(n, -1)
    assert np.all(np.isfinite(want)), "the reference must be finite on the sampled box"
    scale = np.maximum(np.max(np.abs(want), axis=1), 1.0)
    return np.max(np.abs(got - want), axis=1) / scale


def check_against_sympy(label, system, X, P):
    n = X.shape[0]
    rhs = ds.evaluate_rhs(system, X, P)
    jac = ds.evaluate_jacobian(system, X, P)
    assert rhs.shape == (n, system.dim)
    assert jac.shape == (n, system.dim, system.dim)
    rhs_ref = lambdified(system, list(system.rhs), X, P)
    # NumPy has no DiracDelta (the derivative of sign, Heaviside): it is 0 away from the jumps.
    jacobian = [entry.replace(sp.DiracDelta, lambda *args: sp.Integer(0)) for entry in system.jacobian()]
    jac_ref = lambdified(system, jacobian, X, P).reshape(n, system.dim, system.dim)
    rhs_err = normwise_error(rhs, rhs_ref)
    jac_err = normwise_error(jac, jac_ref)
    MAX_ERRORS[label] = (float(rhs_err.max()), float(jac_err.max()))
    worst = int(np.argmax(rhs_err))
    assert rhs_err.max() <= RTOL, f"rhs of {label} off by {rhs_err.max():.3g} at {X[worst]}"
    worst = int(np.argmax(jac_err))
    assert jac_err.max() <= RTOL, f"Jacobian of {label} off by {jac_err.max():.3g} at {X[worst]}"
    # The comparison is not vacuous: the sampled values are not all ~0.
    assert np.max(np.abs(rhs_ref)) > 0.1


def test_every_library_model_has_a_box():
    assert set(BOXES) == set(models.LIBRARY)


@pytest.mark.parametrize("name", sorted(models.LIBRARY))
def test_library_kernels_agree_with_sympy(name):
    system = models.LIBRARY[name]()
    assert name in BOXES, f"add a sampling box for the new model {name!r} to BOXES"
    X, P = sample(system, BOXES[name], seed=sorted(models.LIBRARY).index(name))
    check_against_sympy(name, system, X, P)


def test_non_polynomial_functions():
    system = ds.Flow(
        "x y",
        [
            "exp(-c*x**2)*tanh(y) + sqrt(1 + x**2) - Abs(x - y)",
            "Max(x, y)*y + sin(x)*cos(c*y) + log(1 + y**2) - atan(x)*Min(x, y)",
        ],
    )
    X, P = sample(system, ({"x": (-3.0, 3.0), "y": (-3.0, 3.0)}, {"c": (0.1, 2.0)}), seed=101)
    check_against_sympy("non-polynomial flow", system, X, P)
    # the Jacobian of Abs and Max involves sign and Heaviside: all of them went through C
    text = str(system.jacobian())
    assert "sign" in text and "Heaviside" in text


def test_rational_function_of_the_state():
    system = ds.Map(
        "x y",
        ["x/(1 + x**2 + y**2) - c*y", "(x*y - 1)/(x**2 + 2) + y**3/(1 + y**2) + 1/(c + x**2)"],
    )
    X, P = sample(system, ({"x": (-4.0, 4.0), "y": (-4.0, 4.0)}, {"c": (0.5, 3.0)}), seed=102)
    check_against_sympy("rational map", system, X, P)


def test_high_powers_and_exact_rational_coefficients():
    # x**16 is expanded into products in C, x**17 goes to pow(); 1/3 and 0.1 are exact rationals.
    system = ds.Map("x", "x**16/3 - 0.1*x**17 + x**-3")
    X, P = sample(system, ({"x": (0.5, 1.5)}, {}), seed=103)
    check_against_sympy("powers map", system, X, P)


def test_sign_and_heaviside_compile():
    # Their derivative, DiracDelta, is zero at every sample point (none lands on a jump).
    system = ds.Map("x", "sign(x)*x**2 + heaviside(x - 1)")
    X, P = sample(system, ({"x": (-2.0, 2.0)}, {}), seed=104)
    check_against_sympy("sign map", system, X, P)


def test_kernels_live_in_the_test_cache(_private_kernel_cache):
    from platformdirs import user_cache_dir

    assert os.environ["DSANALYZE_CACHE"] == str(_private_kernel_cache)
    path = ds.compile_system(models.logistic()).path
    assert path.exists()
    assert not path.resolve().is_relative_to(Path(user_cache_dir("dsanalyze")).resolve())


# ---- orbits against plain Python -----------------------------------------------------------
def test_logistic_trajectory_matches_python_loop():
    got = ds.trajectory(models.logistic(), [0.1], 50, r=3.2)
    want = [0.1]
    for _ in range(50):
        want.append(3.2 * want[-1] * (1.0 - want[-1]))
    assert got.shape == (51, 1)
    # r x (1 - x) is evaluated in the same order in C; allow one rounding of difference at most.
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-15, atol=0)
    # period 2 of the logistic map at r = 3.2: x = (r + 1 -+ sqrt((r + 1)(r - 3))) / (2 r)
    cycle = sorted([(4.2 - math.sqrt(4.2 * 0.2)) / 6.4, (4.2 + math.sqrt(4.2 * 0.2)) / 6.4])
    np.testing.assert_allclose(sorted(got[-2:, 0]), cycle, rtol=1e-9)


def python_two_factor(u, v, mu, steps, escape=1e6):
    """Plain Python iteration; returns (final state, escape step or -1)."""
    for k in range(1, steps + 1):
        t = mu * (u * v - 1.0)
        nu, nv = u - t * v, v - t * u
        if not (abs(nu) < escape and abs(nv) < escape):
            return (u, v), k
        u, v = nu, nv
    return (u, v), -1


def test_iterate_two_factor_escape_and_bounded_rows():
    F = models.two_factor()
    X0 = np.array([[3.0, 3.0], [0.5, 0.5]])
    mu = np.array([2.5, 0.5])
    result = ds.iterate(F, X0, 100, {"mu": mu}, record=5)
    # (3, 3) at mu = 2.5: -57, then 462783 (still inside 1e6), then about 1.2e17: escapes at step 3.
    (u_esc, v_esc), k_esc = python_two_factor(3.0, 3.0, 2.5, 100)
    assert k_esc == 3
    assert result.escape_step.tolist() == [3, -1]
    assert result.bounded.tolist() == [False, True]
    np.testing.assert_array_equal(result.final[0], [462783.0, 462783.0])  # last state inside the box
    assert np.all(np.isnan(result.recorded[0]))
    # The bounded row: no NaN, same as iterating it alone and as the Python loop.
    assert np.all(np.isfinite(result.final[1])) and np.all(np.isfinite(result.recorded[1]))
    alone = ds.iterate(F, X0[1:], 100, {"mu": 0.5}, record=5)
    np.testing.assert_array_equal(result.final[1], alone.final[0])
    np.testing.assert_array_equal(result.recorded[1], alone.recorded[0])
    assert alone.escape_step.tolist() == [-1]
    (u_b, v_b), k_b = python_two_factor(0.5, 0.5, 0.5, 100)
    assert k_b == -1
    np.testing.assert_allclose(result.final[1], [u_b, v_b], rtol=0, atol=1e-14)
    np.testing.assert_allclose(result.final[1], [1.0, 1.0], atol=1e-14)  # converged onto uv = 1 at (1, 1)
    single = ds.trajectory(F, [0.5, 0.5], 100, mu=0.5)
    np.testing.assert_array_equal(single[-1], result.final[1])


def teardown_module(module):
    if MAX_ERRORS:
        print("\nmax normwise relative error (rhs, Jacobian):")
        for label, (e_rhs, e_jac) in MAX_ERRORS.items():
            print(f"  {label:22s} {e_rhs:.3e}  {e_jac:.3e}")
