"""Poincare sections by a hyperplane with event location in the compiled DOPRI5 integrator."""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import dsanalyze as ds
from dsanalyze.errors import DimensionError, DsAnalyzeError, IntegrationError, NonFiniteInputError
from dsanalyze.numeric.poincare import (
    STATUS_NOT_FINITE, STATUS_OK, STATUS_STEP_FAILURE, STATUS_T_MAX, PoincareSection, poincare_section,
    poincare_section_batch,
)


@pytest.fixture(scope="module")
def centre():
    return ds.Flow("x y", ["y", "-x"])


@pytest.fixture(scope="module")
def hopf():
    return ds.Flow("x y", ["x - y - x*(x**2 + y**2)", "x + y - y*(x**2 + y**2)"])


@pytest.fixture(scope="module")
def lorenz():
    return ds.models.lorenz()


# ---- linear centre: x = r cos t, y = -r sin t -------------------------------------------------------------


@pytest.mark.parametrize("direction", [+1, -1, 0])
def test_centre_crossings_at_multiples_of_pi(centre, direction):
    r = 1.5
    s = poincare_section(centre, [r, 0.0], normal=[0.0, 1.0], direction=direction, crossings=20,
                         rtol=1e-12, atol=1e-14)
    assert isinstance(s, PoincareSection) and len(s) == 20 and s.status == STATUS_OK
    # y = -r sin t: increasing through 0 at t = pi (2k - 1) (x = -r), decreasing at t = 2 pi k (x = +r);
    # the start on the plane (t = 0) is not a crossing.
    k = np.arange(1, 21)
    expected_t = {+1: (2 * k - 1) * np.pi, -1: 2 * k * np.pi, 0: k * np.pi}[direction]
    expected_x = r * np.cos(expected_t)
    np.testing.assert_allclose(s.times, expected_t, rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.points[:, 0], expected_x, rtol=0, atol=1e-9)
    assert np.all(s.points[:, 1] == 0.0)
    np.testing.assert_allclose(s.projected()[:, 0], expected_x, rtol=0, atol=1e-9)
    assert s.direction == direction


def test_centre_default_tolerances_times(centre):
    s = poincare_section(centre, [1.0, 0.0], normal=[0, 1], direction=0, crossings=10)
    np.testing.assert_allclose(s.times, np.pi * np.arange(1, 11), rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.return_times, np.pi, rtol=0, atol=1e-9)


def test_oblique_plane_and_projection(centre):
    # Plane x + y = 0 (normal not a unit vector); crossings on the line y = -x at radius r.
    r = 2.0
    s = poincare_section(centre, [r, 0.0], normal=[2.0, 2.0], direction=0, crossings=6, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s.points.sum(axis=1), 0.0, atol=1e-14)
    np.testing.assert_allclose(np.hypot(*s.points.T), r, atol=1e-9)
    # x = r cos t, y = -r sin t: x + y = 0 at t = pi/4 + k pi.
    np.testing.assert_allclose(s.times, np.pi / 4 + np.pi * np.arange(6), atol=1e-9)
    proj = s.projected()
    assert proj.shape == (6, 1)
    np.testing.assert_allclose(np.abs(proj[:, 0]), r, atol=1e-9)
    # A basis given by the user: the unit vector along (1, -1).
    np.testing.assert_allclose(s.projected([[1 / math.sqrt(2), -1 / math.sqrt(2)]])[:, 0] ** 2, r**2, atol=1e-8)
    with pytest.raises(ValueError):
        s.projected([[1.0, 0.0]])  # not in the plane
    with pytest.raises(DimensionError):
        s.projected([[1.0, -1.0, 0.0]])


def test_transient_crossings_and_t_max(centre):
    full = poincare_section(centre, [1.0, 0.0], normal=[0, 1], direction=0, crossings=10)
    later = poincare_section(centre, [1.0, 0.0], normal=[0, 1], direction=0, crossings=5, transient_crossings=5)
    np.testing.assert_array_equal(later.points, full.points[5:])
    np.testing.assert_array_equal(later.times, full.times[5:])
    short = poincare_section(centre, [1.0, 0.0], normal=[0, 1], direction=0, crossings=10, t_max=3.5 * np.pi)
    assert len(short) == 3 and short.status == STATUS_T_MAX
    assert short.t_reached == 3.5 * np.pi
    np.testing.assert_array_equal(short.points, full.points[:3])


# ---- Hopf normal form: the section y = 0, x > 0 converges to the limit cycle r = 1 --------------------------


def test_hopf_limit_cycle(hopf):
    # theta' = 1, so y = r sin(theta) increases through 0 exactly on the positive x axis, period 2 pi.
    s = poincare_section(hopf, [0.1, 0.0], normal=[0, 1], direction=+1, crossings=30)
    x = s.points[:, 0]
    assert np.all(x > 0) and np.all(np.diff(x) >= -1e-10)  # monotone approach from inside (up to the integration error)
    np.testing.assert_allclose(x[-10:], 1.0, atol=1e-9)
    np.testing.assert_allclose(s.return_times[-10:], 2 * np.pi, atol=1e-8)
    # From outside too, and exactly one crossing per turn.
    s = poincare_section(hopf, [3.0, 0.0], normal=[0, 1], direction=+1, crossings=20)
    np.testing.assert_allclose(s.times, 2 * np.pi * np.arange(1, 21), atol=1e-8)
    np.testing.assert_allclose(s.points[-5:, 0], 1.0, atol=1e-9)


# ---- Lorenz -----------------------------------------------------------------------------------------------


def _lorenz_rhs(t, u, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    x, y, z = u
    return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]


def test_lorenz_section_on_plane_and_attractor(lorenz):
    s = poincare_section(lorenz, [1.0, 1.0, 20.0], normal=[0, 0, 1], offset=27.0, direction=-1,
                         crossings=500, transient_crossings=5)
    assert len(s) == 500 and s.status == STATUS_OK
    np.testing.assert_allclose(s.points[:, 2], 27.0, rtol=0, atol=1e-10)
    assert np.all(np.abs(s.points[:, :2]) < 30)
    assert np.all(np.diff(s.times) > 0)
    # Downward crossings of z = 27: dz/dt = x y - beta z < 0 there.
    x, y, z = s.points.T
    assert np.all(x * y - 8.0 / 3.0 * z < 0)
    np.testing.assert_array_equal(s.projected(), s.points[:, :2])


def test_lorenz_matches_scipy_dop853_events(lorenz):
    x0 = [1.0, 1.0, 20.0]
    s = poincare_section(lorenz, x0, normal=[0, 0, 1], offset=27.0, direction=-1, crossings=10)

    def event(t, u):
        return u[2] - 27.0

    event.direction = -1
    ref = solve_ivp(_lorenz_rhs, (0.0, s.times[-1] + 1.0), x0, method="DOP853", rtol=1e-12, atol=1e-12,
                    events=event, dense_output=True)
    t_ref, y_ref = ref.t_events[0][:10], ref.y_events[0][:10]
    assert t_ref.shape == (10,)
    # Both runs carry local errors of about 1e-10 (ours: rtol 1e-10; the reference: 1e-12) that the
    # flow amplifies roughly like exp(0.906 t) (the maximal Lyapunov exponent) over the ~7.4 time
    # units of 10 crossings, a factor of ~1e3, with transient bursts above that: the two sections can
    # agree to about 1e-7..1e-6 (observed: 1e-8 in time, 3e-7 in state at the 10th crossing), not to
    # round-off. 2e-5 leaves a margin of ~50 while still ruling out a missed or misplaced crossing
    # (those differ by O(1)). Beyond ~20 crossings the separation reaches 1e-3 and comparison is moot.
    np.testing.assert_allclose(s.times, t_ref, rtol=0, atol=2e-6)
    np.testing.assert_allclose(s.points, y_ref, rtol=0, atol=2e-5)
    # The early crossings, before chaos amplifies much, agree much more closely.
    np.testing.assert_allclose(s.points[:3], y_ref[:3], rtol=0, atol=1e-7)


# ---- batch ------------------------------------------------------------------------------------------------


def test_batch_matches_single_and_per_row_status(lorenz):
    rng = np.random.default_rng(7)
    X = rng.uniform(-10, 10, (16, 3)) + [0, 0, 25]
    b = poincare_section_batch(lorenz, X, normal=[0, 0, 1], offset=27.0, direction=-1, crossings=50, threads=4)
    assert b.points.shape == (16, 50, 3) and b.times.shape == (16, 50)
    assert b.ok.all() and (b.count == 50).all()
    for r in (0, 9, 15):
        single = poincare_section(lorenz, X[r], normal=[0, 0, 1], offset=27.0, direction=-1, crossings=50)
        np.testing.assert_array_equal(b.points[r], single.points)
        np.testing.assert_array_equal(b.times[r], single.times)
        np.testing.assert_array_equal(b.row(r).points, single.points)
    assert b.projected().shape == (16, 50, 2)


def test_batch_parameters_per_row(centre, lorenz):
    # rho < 1: the origin attracts everything, so z = 27 is never crossed again -> t_max.
    b = poincare_section_batch(lorenz, [[1.0, 1.0, 30.0]], {"rho": [28.0, 0.5]}, normal=[0, 0, 1], offset=27.0,
                               direction=-1, crossings=5, t_max=50.0)
    assert b.status.tolist() == [STATUS_OK, STATUS_T_MAX]
    assert b.count.tolist() == [5, 1]  # the second row falls through z = 27 once, from z = 30
    assert np.isnan(b.points[1, 1:]).all() and np.isnan(b.times[1, 1:]).all()
    assert b.t_reached[1] == 50.0


def test_batch_failure_rows():
    blow = ds.Flow("x y", ["x**2", "1"])  # x = 1/(1/x0 - t) blows up at t = 1/x0
    b = poincare_section_batch(blow, [[1.0, -0.5], [1.0, -2.0]], normal=[0, 1], offset=0.0, crossings=1)
    # Row 0 crosses y = 0 at t = 0.5 (x = 2) before the blow-up; row 1 would cross at t = 2.
    assert b.status[0] == STATUS_OK
    np.testing.assert_allclose(b.points[0, 0], [2.0, 0.0], atol=1e-8)
    assert b.status[1] in (STATUS_STEP_FAILURE, STATUS_NOT_FINITE) and b.count[1] == 0
    assert b.t_reached[1] < 1.0 + 1e-6
    with pytest.raises(IntegrationError) as info:
        poincare_section(blow, [1.0, -2.0], normal=[0, 1], crossings=1)
    assert len(info.value.section) == 0 and info.value.t_reached < 1.0 + 1e-6
    b = poincare_section_batch(blow, [[1.0, -0.5]], normal=[0, 1], crossings=1, max_steps=5)
    assert b.status[0] == STATUS_STEP_FAILURE and b.steps[0] == 5


# ---- bad input --------------------------------------------------------------------------------------------


def test_bad_input(centre, lorenz):
    with pytest.raises(DimensionError):
        poincare_section(lorenz, [1.0, 1.0, 1.0], normal=[0, 1])
    with pytest.raises(DimensionError):
        poincare_section(centre, [1.0, 0.0], normal=[[0, 1]])
    with pytest.raises(ValueError, match="zero"):
        poincare_section(centre, [1.0, 0.0], normal=[0, 0])
    with pytest.raises(NonFiniteInputError):
        poincare_section(centre, [1.0, 0.0], normal=[0, np.nan])
    with pytest.raises(DsAnalyzeError):
        poincare_section(ds.models.henon(), [0.1, 0.1], normal=[0, 1])
    with pytest.raises(NonFiniteInputError):
        poincare_section(centre, [np.nan, 0.0], normal=[0, 1])
    with pytest.raises(NonFiniteInputError):
        poincare_section_batch(centre, [[1.0, 0.0], [0.0, np.inf]], normal=[0, 1])
    with pytest.raises(ValueError, match="direction"):
        poincare_section(centre, [1.0, 0.0], normal=[0, 1], direction=2)
    with pytest.raises(ValueError):
        poincare_section(centre, [1.0, 0.0], normal=[0, 1], crossings=0)
    with pytest.raises(ValueError):
        poincare_section(centre, [1.0, 0.0], normal=[0, 1], transient_crossings=-1)
    with pytest.raises(ValueError):
        poincare_section(centre, [1.0, 0.0], normal=[0, 1], t_max=0.0)
    with pytest.raises(ValueError):
        poincare_section(centre, [1.0, 0.0], normal=[0, 1], max_step=-1.0)
    with pytest.raises(DimensionError):
        poincare_section(centre, [1.0, 0.0, 0.0], normal=[0, 1])
    with pytest.raises(TypeError):
        poincare_section("not a system", [1.0, 0.0], normal=[0, 1])


def test_root_finder_precision_on_exact_interpolant():
    # x = t - 3, y = x^3 - 3x: a cubic in t, which DOPRI5 and its 4th-order continuous extension
    # reproduce exactly (up to rounding), so the crossing times measure the root finder alone.
    # y = 0 at x = -sqrt(3) (y increasing), 0 (decreasing), +sqrt(3) (increasing).
    cubic = ds.Flow("x y", ["1", "3*x**2 - 3"])
    # The error estimate vanishes, so without max_step the step grows tenfold each time and jumps over
    # the crossings (two in one step leave the sign unchanged).
    s = poincare_section(cubic, [-3.0, -18.0], normal=[0, 1], direction=0, crossings=3, max_step=0.5)
    roots = np.array([-math.sqrt(3.0), 0.0, math.sqrt(3.0)])
    np.testing.assert_allclose(s.times, 3.0 + roots, rtol=0, atol=1e-13)
    np.testing.assert_allclose(s.points[:, 0], roots, rtol=0, atol=1e-13)
    up = poincare_section(cubic, [-3.0, -18.0], normal=[0, 1], direction=+1, crossings=2, max_step=0.5)
    np.testing.assert_allclose(up.times, 3.0 + roots[[0, 2]], rtol=0, atol=1e-13)
    down = poincare_section(cubic, [-3.0, -18.0], normal=[0, 1], direction=-1, crossings=2, t_max=10.0,
                            max_step=0.5)
    assert len(down) == 1 and down.status == STATUS_T_MAX
    np.testing.assert_allclose(down.times, [3.0], rtol=0, atol=1e-13)
