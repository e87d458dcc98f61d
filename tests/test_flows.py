"""Integration of flows (dsanalyze.numeric.flows, cext/_flows.pyx) against exact and reference solutions."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.linalg import expm

import dsanalyze as ds
from dsanalyze.errors import (
    DimensionError,
    DsAnalyzeError,
    ExtraParameterError,
    IntegrationError,
    MissingParameterError,
    NonFiniteInputError,
)
from dsanalyze.numeric.flows import (
    STATUS_NOT_FINITE,
    STATUS_OK,
    STATUS_STEP_FAILURE,
    IntegrateResult,
    integrate,
    integrate_batch,
)

# ---- linear flows dx/dt = A x, exact solution expm(A t) x0 --------------------------------------
# Entries are exact rationals in the SymPy system, so the kernel and the reference use the same A.
SPIRAL = [[sp.Rational(-1, 10), 2], [-2, sp.Rational(-1, 10)]]  # eigenvalues -0.1 +- 2i
# Symmetric, so its eigenvalues are real: about -1.37, -0.38, 0.46 (one growing mode).
REAL3 = [
    [-1, sp.Rational(1, 2), sp.Rational(1, 5)],
    [sp.Rational(1, 2), sp.Rational(-3, 10), sp.Rational(1, 10)],
    [sp.Rational(1, 5), sp.Rational(1, 10), sp.Rational(2, 5)],
]


def linear_flow(matrix) -> tuple[ds.Flow, np.ndarray]:
    n = len(matrix)
    state = sp.symbols(" ".join(f"u{i}" for i in range(n)), real=True)
    rhs = [sum(matrix[i][j] * state[j] for j in range(n)) for i in range(n)]
    return ds.Flow(state, rhs, name=f"linear{n}"), np.array(matrix, dtype=float)


def exact(A: np.ndarray, x0, t) -> np.ndarray:
    return np.array([expm(A * ti) @ np.asarray(x0, float) for ti in t])


def relative_error(y: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(y - ref).max() / np.abs(ref).max())


@pytest.mark.parametrize("matrix, x0, t_end", [(SPIRAL, [1.0, 0.5], 10.0), (REAL3, [1.0, -2.0, 0.5], 5.0)])
def test_dopri5_linear_flow_matches_matrix_exponential(matrix, x0, t_end):
    flow, A = linear_flow(matrix)
    t = np.linspace(0.0, t_end, 41)
    y = integrate(flow, x0, t, rtol=1e-10, atol=1e-12)
    assert y.shape == (41, len(x0))
    np.testing.assert_array_equal(y[0], x0)
    # Global error is a small multiple of the local tolerance 1e-10.
    assert relative_error(y, exact(A, x0, t)) <= 1e-8


def test_dopri5_error_follows_the_tolerance():
    flow, A = linear_flow(SPIRAL)
    t = np.linspace(0.0, 10.0, 41)
    ref = exact(A, [1.0, 0.5], t)
    errors = [relative_error(integrate(flow, [1.0, 0.5], t, rtol=r, atol=r * 1e-2), ref) for r in (1e-5, 1e-7, 1e-9)]
    # Tolerance proportionality: 100x tighter tolerance, error at least 20x smaller (about 100x).
    assert errors[0] > 20 * errors[1] > 400 * errors[2]
    assert errors[0] < 1e-3


def test_dopri5_output_times_do_not_change_the_steps():
    """Dense output: asking for 2000 output times instead of 2 leaves the step sequence unchanged."""
    flow, A = linear_flow(SPIRAL)
    few = integrate_batch(flow, [[1.0, 0.5]], [0.0, 10.0], rtol=1e-8, atol=1e-10)
    many_t = np.linspace(0.0, 10.0, 2000)
    many = integrate_batch(flow, [[1.0, 0.5]], many_t, rtol=1e-8, atol=1e-10)
    assert few.steps[0] == many.steps[0] < 400
    np.testing.assert_array_equal(few.y[0, -1], many.y[0, -1])
    # The continuous extension is accurate between the steps too.
    assert relative_error(many.y[0], exact(A, [1.0, 0.5], many_t)) <= 1e-6


def test_rk4_linear_flow_error_is_of_order_h4():
    flow, A = linear_flow(SPIRAL)
    t = np.linspace(0.0, 10.0, 11)
    h = 1e-3
    err = np.abs(integrate(flow, [1.0, 0.5], t, method="rk4", h=h) - exact(A, [1.0, 0.5], t)).max()
    # Measured about 1.1e-12 = 1.1 h^4 (C h^4 with a constant of order 1 for this A over t <= 10).
    assert 1e-2 * h**4 < err < 1e1 * h**4


@pytest.mark.parametrize("matrix, x0", [(SPIRAL, [1.0, 0.5]), (REAL3, [1.0, -2.0, 0.5])])
def test_rk4_convergence_order(matrix, x0):
    flow, A = linear_flow(matrix)
    t = np.linspace(0.0, 4.0, 5)
    ref = exact(A, x0, t)
    e1 = np.abs(integrate(flow, x0, t, method="rk4", h=0.02) - ref).max()
    e2 = np.abs(integrate(flow, x0, t, method="rk4", h=0.01) - ref).max()
    assert 12.0 < e1 / e2 < 20.0


def test_rk4_off_grid_outputs_leave_the_grid_trajectory_alone():
    flow, A = linear_flow(SPIRAL)
    on_grid = integrate(flow, [1.0, 0.5], [0.0, 1.0], method="rk4", h=0.01)
    t = [0.0, 0.12345, 0.5, 0.777, 1.0]
    off_grid = integrate(flow, [1.0, 0.5], t, method="rk4", h=0.01)
    np.testing.assert_array_equal(on_grid[-1], off_grid[-1])
    # Off-grid values come from a shortened RK4 step: as accurate as the grid values.
    assert np.abs(off_grid - exact(A, [1.0, 0.5], t)).max() < 1e-8


# ---- Lorenz against scipy ---------------------------------------------------------------------------
def lorenz_rhs(_t, u, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    x, y, z = u
    return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]


def test_lorenz_matches_scipy_dop853():
    t = np.linspace(0.0, 2.0, 50)
    y = integrate(ds.models.lorenz(), [1.0, 1.0, 1.0], t, rtol=1e-10, atol=1e-12)
    ref = solve_ivp(lorenz_rhs, (0.0, 2.0), [1.0, 1.0, 1.0], method="DOP853", rtol=1e-12, atol=1e-12, t_eval=t)
    assert ref.success
    # Local errors of about rtol * |y| ~ 1e-10 * 50 per unit time, amplified by the chaotic
    # stretching (largest Lyapunov exponent ~0.9, e^(0.9 * 2) ~ 6, more during the transient):
    # the measured difference is ~4e-9; 1e-6 leaves a wide margin yet still detects an
    # integrator of the wrong order or a wrong dense output (errors ~1e-4 and above).
    assert np.abs(y - ref.y.T).max() < 1e-6


def test_lorenz_parameters_by_name():
    t = np.linspace(0.0, 1.0, 11)
    y = integrate(ds.models.lorenz(), [1.0, 2.0, 3.0], t, rtol=1e-10, atol=1e-12, rho=15.0, sigma=8.0)
    ref = solve_ivp(lorenz_rhs, (0.0, 1.0), [1.0, 2.0, 3.0], method="DOP853", rtol=1e-12, atol=1e-12,
                    t_eval=t, args=(8.0, 15.0))
    assert np.abs(y - ref.y.T).max() < 1e-7


# ---- batches ----------------------------------------------------------------------------------------
def test_batch_equals_row_by_row():
    lorenz = ds.models.lorenz()
    rng = np.random.default_rng(0)
    X0 = rng.uniform(-20.0, 20.0, size=(100, 3)) + [0.0, 0.0, 25.0]
    t = np.linspace(0.0, 1.0, 21)
    result = integrate_batch(lorenz, X0, t, rtol=1e-8, atol=1e-10, threads=2)
    assert isinstance(result, IntegrateResult)
    assert result.y.shape == (100, 21, 3)
    assert (result.status == STATUS_OK).all() and result.ok.all()
    np.testing.assert_array_equal(result.t_reached, 1.0)
    rows = np.array([integrate(lorenz, x0, t, rtol=1e-8, atol=1e-10) for x0 in X0])
    np.testing.assert_array_equal(result.y, rows)


def test_batch_with_parameters_per_row():
    lorenz = ds.models.lorenz()
    rho = np.array([0.5, 10.0, 28.0, 99.65])
    X0 = np.tile([1.0, 1.0, 1.0], (4, 1))
    t = np.linspace(0.0, 0.5, 6)
    result = integrate_batch(lorenz, X0, t, {"rho": rho}, method="rk4", h=1e-3)
    for i, r in enumerate(rho):
        np.testing.assert_array_equal(result.y[i], integrate(lorenz, X0[i], t, method="rk4", h=1e-3, rho=r))
    # One initial state, many parameter rows: the state is broadcast.
    broadcast = integrate_batch(lorenz, [[1.0, 1.0, 1.0]], t, {"rho": rho}, method="rk4", h=1e-3)
    np.testing.assert_array_equal(broadcast.y, result.y)


def test_one_dimensional_batch_and_single_time():
    decay = ds.Flow("x", "-k*x")
    result = integrate_batch(decay, [1.0, 2.0, 3.0], [0.0, 1.0], {"k": 0.5})
    np.testing.assert_allclose(result.y[:, -1, 0], np.array([1.0, 2.0, 3.0]) * np.exp(-0.5), rtol=1e-8)
    np.testing.assert_array_equal(integrate(decay, [4.0], [2.5], k=1.0), [[4.0]])
    assert integrate_batch(decay, np.empty((0, 1)), [0.0, 1.0], {"k": 1.0}).y.shape == (0, 2, 1)


# ---- failures ----------------------------------------------------------------------------------------
def test_blow_up_in_finite_time():
    """dx/dt = x^2, x(0) = 1 has the solution 1/(1 - t), which blows up at t = 1."""
    blow_up = ds.Flow("x", "x**2", name="blow-up")
    t = [0.0, 0.5, 2.0]
    with pytest.raises(IntegrationError, match="step size underflow") as info:
        integrate(blow_up, [1.0], t)
    assert "stopped at t = 0.99999" in str(info.value)
    assert info.value.t_reached == pytest.approx(1.0, abs=1e-6)
    assert info.value.y[1, 0] == pytest.approx(2.0, rel=1e-8)
    assert np.isnan(info.value.y[2, 0])

    result = integrate_batch(blow_up, [[1.0], [0.25]], t)
    assert result.status.tolist() == [STATUS_STEP_FAILURE, STATUS_OK]
    assert result.t_reached[0] == pytest.approx(1.0, abs=1e-6)
    assert result.y[0, 1, 0] == pytest.approx(2.0, rel=1e-8) and np.isnan(result.y[0, 2, 0])
    np.testing.assert_allclose(result.y[1, :, 0], 1.0 / (4.0 - np.array(t)), rtol=1e-8)


def test_too_many_steps():
    with pytest.raises(IntegrationError, match="too many steps"):
        integrate(ds.models.lorenz(), [1.0, 1.0, 1.0], [0.0, 10.0], max_steps=50)
    result = integrate_batch(ds.models.lorenz(), [[1.0, 1.0, 1.0]], [0.0, 10.0], max_steps=50)
    assert result.status[0] == STATUS_STEP_FAILURE and result.steps[0] == 50 and result.t_reached[0] < 10.0


def test_non_finite_state():
    # Fixed-step RK4 on dx/dt = x^2 overshoots the pole at t = 1 and overflows.
    blow_up = ds.Flow("x", "x**2")
    result = integrate_batch(blow_up, [[1.0]], [0.0, 0.5, 3.0], method="rk4", h=0.1)
    assert result.status[0] == STATUS_NOT_FINITE
    assert 1.0 <= result.t_reached[0] < 3.0 and np.isnan(result.y[0, 2]).all()
    # A right-hand side that is not finite at the initial state.
    pole = ds.Flow("x", "1/x")
    result = integrate_batch(pole, [[0.0]], [0.0, 1.0])
    assert result.status[0] == STATUS_NOT_FINITE and result.t_reached[0] == 0.0
    with pytest.raises(IntegrationError, match="stopped being finite"):
        integrate(pole, [0.0], [0.0, 1.0])


def test_wrong_state_length():
    with pytest.raises(DimensionError):
        integrate(ds.models.lorenz(), [1.0, 1.0], [0.0, 1.0])
    with pytest.raises(DimensionError):
        integrate_batch(ds.models.lorenz(), np.ones((4, 2)), [0.0, 1.0])


def test_non_finite_input():
    with pytest.raises(NonFiniteInputError):
        integrate(ds.models.lorenz(), [1.0, np.nan, 1.0], [0.0, 1.0])
    with pytest.raises(NonFiniteInputError):
        integrate(ds.models.lorenz(), [1.0, 1.0, 1.0], [0.0, np.inf])
    with pytest.raises(NonFiniteInputError):
        integrate(ds.models.lorenz(), [1.0, 1.0, 1.0], [0.0, 1.0], rho=np.nan)


def test_missing_and_extra_parameters():
    with pytest.raises(MissingParameterError):
        integrate(ds.models.sir(), [0.99, 0.01, 0.0], [0.0, 1.0], beta=0.3)
    with pytest.raises(ExtraParameterError):
        integrate(ds.models.lorenz(), [1.0, 1.0, 1.0], [0.0, 1.0], kappa=1.0)
    # With both parameters given, SIR conserves S + I + R.
    y = integrate(ds.models.sir(), [0.99, 0.01, 0.0], np.linspace(0.0, 50.0, 11), beta=0.3, gamma=0.1)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-10)


def test_a_map_is_refused():
    with pytest.raises(DsAnalyzeError, match="trajectory"):
        integrate(ds.models.henon(), [0.0, 0.0], [0.0, 1.0])
    with pytest.raises(DsAnalyzeError, match="iterate"):
        integrate_batch(ds.models.henon(), [[0.0, 0.0]], [0.0, 1.0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"t": [0.0, 2.0, 1.0]},
        {"method": "euler"},
        {"method": "rk4"},
        {"method": "rk4", "h": 0.0},
        {"method": "rk4", "h": -0.1},
        {"rtol": -1e-6},
        {"atol": -1.0},
        {"rtol": 0.0, "atol": 0.0},
        {"max_steps": 0},
    ],
)
def test_bad_settings_raise_value_error(kwargs):
    args = {"t": [0.0, 1.0], **kwargs}
    with pytest.raises(ValueError):
        integrate(ds.models.lorenz(), [1.0, 1.0, 1.0], **args)


def test_per_component_atol():
    t = np.linspace(0.0, 1.0, 5)
    lorenz = ds.models.lorenz()
    y = integrate(lorenz, [1.0, 1.0, 1.0], t, rtol=1e-10, atol=[1e-12, 1e-12, 1e-12])
    np.testing.assert_array_equal(y, integrate(lorenz, [1.0, 1.0, 1.0], t, rtol=1e-10, atol=1e-12))
    with pytest.raises(DimensionError):
        integrate(lorenz, [1.0, 1.0, 1.0], t, atol=[1e-12, 1e-12])
