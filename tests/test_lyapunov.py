"""Lyapunov exponents of maps and flows (dsanalyze.numeric.lyapunov)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import dsanalyze as ds
from dsanalyze.errors import DimensionError, DsAnalyzeError, NonFiniteInputError
from dsanalyze.numeric.lyapunov import (
    LyapunovResult,
    flow_lyapunov_spectrum,
    flow_lyapunov_spectrum_batch,
    flow_maximal_lyapunov,
    lyapunov_spectrum,
    lyapunov_spectrum_batch,
    maximal_lyapunov,
    flow_transverse_lyapunov,
    transverse_lyapunov,
)
from dsanalyze.verify import Basis

HENON_L1 = 0.41922  # Sprott, Chaos and Time-Series Analysis (2003), table of exponents


@pytest.fixture(scope="module")
def henon_spectrum() -> LyapunovResult:
    return lyapunov_spectrum(ds.models.henon(), [0.1, 0.1], 10**6)


# ------------------------------------------------------------------------------------------------ maps


def test_henon_spectrum(henon_spectrum):
    l1, l2 = henon_spectrum.exponents
    assert abs(l1 - HENON_L1) < 0.002
    assert abs((l1 + l2) - math.log(0.3)) < 1e-6
    assert henon_spectrum.steps == 10**6
    assert np.all(henon_spectrum.standard_error < 0.002)


def test_henon_spectrum_general_qr_path_agrees():
    # renormalise_every = 2 with k = d = 2 takes the same fast path; k = 2 of a 3-D
    # embedding (a decoupled contracting z) takes the general Gram-Schmidt path.
    H3 = ds.Map("x y z", ["1 - a*x**2 + y", "b*x", "z/10"], "a b")
    r = lyapunov_spectrum(H3, [0.1, 0.1, 0.0], 2 * 10**5, a=1.4, b=0.3)
    assert abs(r.exponents[0] - HENON_L1) < 0.005
    assert abs(r.exponents[0] + r.exponents[1] - math.log(0.3)) < 1e-6
    assert abs(r.exponents[2] - math.log(0.1)) < 1e-9


def test_henon_maximal_matches_spectrum(henon_spectrum):
    r = maximal_lyapunov(ds.models.henon(), [0.1, 0.1], 10**6)
    assert r.exponents.shape == (1,)
    assert abs(r.maximal - HENON_L1) < 0.002
    # The same orbit and, after the transient, the same leading direction.
    assert abs(r.maximal - henon_spectrum.maximal) < 1e-6


def test_logistic_r4_is_ln2():
    r = lyapunov_spectrum(ds.models.logistic(), [0.3], 10**6, r=4.0)
    assert abs(r.maximal - math.log(2.0)) < 0.01


def test_linear_map_exact():
    L = ds.Map("x y", ["2*x", "y/2"])
    r = lyapunov_spectrum(L, [0.0, 0.0], 10**4)
    np.testing.assert_allclose(r.exponents, [math.log(2.0), math.log(0.5)], rtol=0, atol=1e-12)
    # The general QR path (3-D, with a shear) is exact too.
    L3 = ds.Map("x y z", ["2*x", "y/2 + x", "z/4"])
    r = lyapunov_spectrum(L3, [0.0, 0.0, 0.0], 10**4, renormalise_every=3)
    np.testing.assert_allclose(r.exponents, np.log([2.0, 0.5, 0.25]), rtol=0, atol=1e-12)


def test_tangent_growth_beyond_the_floating_point_range():
    # 16 steps of growth 1e25 (or decay 1e-25) over- or underflow a double: the
    # fused tangent kernel replays such chunks step by step, and the exponents
    # stay exact (ln 1e25 = 57.5646...).
    grow = lyapunov_spectrum(ds.Map("x y", ["x/2", "1e25*y"]), [0.0, 0.0], 10**4, transient=5)
    np.testing.assert_allclose(grow.exponents, [25 * math.log(10.0), math.log(0.5)], rtol=1e-13)
    assert not grow.diverged
    shrink = lyapunov_spectrum(ds.Map("x y", ["2*x", "1e-25*y"]), [0.0, 0.0], 10**4, transient=5)
    np.testing.assert_allclose(shrink.exponents, [math.log(2.0), -25 * math.log(10.0)], rtol=1e-13)
    one = maximal_lyapunov(ds.Map("x", ["1e-25*x"]), [1.0], 1000, transient=0)
    assert abs(one.maximal + 25 * math.log(10.0)) < 1e-12 and not one.diverged


def test_escape_and_collapse_found_at_their_exact_step():
    # x_s = 2^s leaves |x| < 1e6 at s = 20 (2^20 = 1048576), inside a chunk of the fast pass.
    r = maximal_lyapunov(ds.Map("x", ["2*x"]), [1.0], 1000, transient=3, escape=1e6)
    assert r.diverged_at == 20 and r.x_final[0] == 2.0**20 and "left the box" in r.note
    # A constant map has J = 0: the tangent vector is zero after the first step.
    r = maximal_lyapunov(ds.Map("x y", ["1/2", "1/3"]), [0.1, 0.2], 1000, transient=0, seed=1)
    assert r.diverged_at == 1 and "collapsed" in r.note


def test_running_estimate_and_standard_error(henon_spectrum):
    r = henon_spectrum
    m = r.running.shape[0]
    assert r.running.shape == (m, 2) and r.running_axis.shape == (m,)
    assert 100 <= m <= 1000
    assert r.running_axis[-1] == r.steps
    np.testing.assert_allclose(r.running[-1], r.exponents, rtol=0, atol=1e-12)
    # The error of the running estimate shrinks; the standard error is realistic.
    assert abs(r.running[m // 10, 0] - HENON_L1) < 0.01
    assert 1e-5 < r.standard_error[0] < 2e-3


def test_verify_is_sampled_and_fails_softly(henon_spectrum):
    good = henon_spectrum.verify([HENON_L1, math.log(0.3) - HENON_L1], 0.002)
    assert good.passed is True and good.basis is Basis.SAMPLED
    assert "running" in good.evidence
    bad = henon_spectrum.verify(0.5, 0.01)
    assert bad.passed is False and bad.basis is Basis.SAMPLED
    with pytest.raises(DimensionError):
        henon_spectrum.verify([1.0, 2.0, 3.0], 0.1)


def test_seed_reproducible():
    H = ds.models.henon()
    a = lyapunov_spectrum(H, [0.1, 0.1], 10**4, k=1, transient=0, seed=3)
    b = lyapunov_spectrum(H, [0.1, 0.1], 10**4, k=1, transient=0, seed=3)
    c = lyapunov_spectrum(H, [0.1, 0.1], 10**4, k=1, transient=0, seed=4)
    assert a.exponents[0] == b.exponents[0]
    assert a.exponents[0] != c.exponents[0] and abs(a.exponents[0] - c.exponents[0]) < 1e-2


def test_divergent_orbit_gives_nan_with_note():
    r = lyapunov_spectrum(ds.models.henon(), [5.0, 5.0], 1000)
    assert r.diverged and r.diverged_at == 4
    assert np.isnan(r.exponents).all() and np.isnan(r.standard_error).all()
    assert "diverged at step 4" in r.note
    assert r.verify(0.42, 1.0).passed is False
    r = maximal_lyapunov(ds.models.logistic(), [0.3], 1000, r=4.5)
    assert r.diverged and np.isnan(r.maximal)


def test_batch_sweep_matches_single_runs():
    rs = np.array([2.5, 3.2, 3.5, 4.0])
    rows = lyapunov_spectrum_batch(ds.models.logistic(), [0.3], 10**5, {"r": rs}, threads=2)
    got = np.array([row.maximal for row in rows])
    # Fixed point: ln|2 - r|; 2-cycle at 3.2: (1/2) ln|r^2(1 - 2x1)(1 - 2x2)| = ln|-r^2 + 2r + 4| / 2.
    assert abs(got[0] - math.log(0.5)) < 1e-9
    assert abs(got[1] - 0.5 * math.log(abs(-3.2**2 + 2 * 3.2 + 4))) < 1e-9
    assert got[2] < 0 and abs(got[3] - math.log(2.0)) < 0.02
    single = lyapunov_spectrum(ds.models.logistic(), [0.3], 10**5, r=4.0)
    assert single.maximal == rows[3].maximal


# ------------------------------------------------------------------------------------------------ flows


def test_lorenz_spectrum():
    r = flow_lyapunov_spectrum(ds.models.lorenz(), [1.0, 1.0, 1.0], 3000.0, dt=0.01, transient=50.0)
    l1, l2, l3 = r.exponents
    assert abs(l1 - 0.9056) < 0.02
    assert abs(l2) < 0.01
    assert abs(l3 + 14.572) < 0.05
    # The trace of the Jacobian is -(sigma + 1 + beta) everywhere.
    assert abs(r.exponents.sum() + 10 + 1 + 8 / 3) < 1e-3
    assert r.running_axis[-1] == pytest.approx(3000.0)
    assert np.all(r.standard_error < 0.01)


def test_flow_maximal_and_batch_linear():
    saddle = ds.Flow("x y", ["a*x", "-y"], "a")
    r = flow_maximal_lyapunov(saddle, [0.0, 0.0], 20.0, transient=50.0, a=0.5)
    assert abs(r.maximal - 0.5) < 1e-9
    rows = flow_lyapunov_spectrum_batch(saddle, [0.0, 0.0], 20.0, {"a": [0.5, 2.0]}, transient=50.0,
                                        renormalise_time=0.1)
    np.testing.assert_allclose(rows[0].exponents, [0.5, -1.0], atol=1e-9)
    np.testing.assert_allclose(rows[1].exponents, [2.0, -1.0], atol=1e-9)


def test_flow_divergence_is_reported():
    blowup = ds.Flow("x", "x**2")
    r = flow_lyapunov_spectrum(blowup, [1.0], 10.0, transient=0)
    assert r.diverged and np.isnan(r.maximal) and "diverged" in r.note


# ------------------------------------------------------------------------------------------------ transverse


def _cubic_transverse(mu: float, x: float, transient: int, steps: int) -> float:
    for _ in range(transient):
        x = x - mu * (x * x - 1) * x
    total = 0.0
    for _ in range(steps):
        total += math.log(abs(1 - mu * (1 - x * x)))
        x = x - mu * (x * x - 1) * x
    return total / steps


def test_transverse_to_balanced_line():
    F = ds.models.two_factor()
    # On u = v the map is the cubic map, and the multiplier normal to the line is 1 - mu (1 - x^2).
    for mu in (1.5, 1.9):
        r = transverse_lyapunov(F, [0.5, 0.5], 10**5, curve="u - v", mu=mu)
        expected = _cubic_transverse(mu, 0.5, 1000, 10**5)
        assert abs(r.maximal - expected) < max(0.01, 5 * r.standard_error[0])
        assert r.x_final[0] == r.x_final[1]
        by_field = transverse_lyapunov(F, [0.5, 0.5], 10**5, normal=["1", "-1"], mu=mu)
        assert by_field.maximal == pytest.approx(r.maximal, abs=1e-12)
    # A convergent regime has an exact answer.
    r = transverse_lyapunov(F, [0.5, 0.5], 10**4, curve="u - v", mu=0.5)
    assert abs(r.maximal) < 1e-12  # converges to the fixed point (1, 1), where the multiplier is 1


def test_transverse_to_ellipse_needs_reprojection():
    F = ds.models.two_factor()
    mu = 1.5
    G = "mu*(u**2 + v**2) - mu**2*u*v - (4 - mu**2)"
    start = [0.0, math.sqrt((4 - mu**2) / mu)]
    r = transverse_lyapunov(F, start, 10**5, curve=G, mu=mu)
    u, v = r.x_final
    assert abs(mu * (u * u + v * v) - mu**2 * u * v - (4 - mu**2)) < 1e-12
    assert r.maximal > 0.5 and r.standard_error[0] < 0.01
    # Without re-projection round-off carries the orbit off the (transversally unstable) ellipse.
    drift = transverse_lyapunov(F, start, 10**5, curve=G, mu=mu, reproject=False)
    assert drift.diverged and np.isnan(drift.maximal)


def test_flow_transverse_to_limit_cycles():
    circle = "x**2 + y**2 - 1"
    # Radially r' = r - r^3 (attracting unit circle) and r' = -r + r^3 (repelling): slopes -2 and +2.
    stable = ds.Flow("x y", ["x - y - x*(x**2 + y**2)", "x + y - y*(x**2 + y**2)"])
    r = flow_transverse_lyapunov(stable, [1.0, 0.0], 50.0, curve=circle, transient=0)
    assert abs(r.maximal + 2.0) < 1e-6  # RK4 error of the off-circle stages, O(dt^4)
    unstable = ds.Flow("x y", ["-x - y + x*(x**2 + y**2)", "x - y + y*(x**2 + y**2)"])
    r = flow_transverse_lyapunov(unstable, [0.6, 0.8], 100.0, curve=circle, transient=0)
    assert abs(r.maximal - 2.0) < 1e-6 and abs(np.hypot(*r.x_final) - 1.0) < 1e-12
    drift = flow_transverse_lyapunov(unstable, [0.6, 0.8], 100.0, curve=circle, transient=0, reproject=False)
    assert drift.diverged and np.isnan(drift.maximal)
    with pytest.raises(DsAnalyzeError):
        flow_transverse_lyapunov(ds.models.henon(), [0.1, 0.1], 1.0, curve="x")
    with pytest.raises(DsAnalyzeError):
        transverse_lyapunov(stable, [1.0, 0.0], 10, curve=circle)


def test_transverse_bad_input():
    F = ds.models.two_factor()
    with pytest.raises(ValueError):
        transverse_lyapunov(F, [0.5, 0.5], 10, mu=1.0)
    with pytest.raises(DimensionError):
        transverse_lyapunov(F, [0.5, 0.5], 10, normal=["1"], mu=1.0)
    with pytest.raises(ds.errors.ExpressionError):
        transverse_lyapunov(F, [0.5, 0.5], 10, curve="u - w", mu=1.0)


# ------------------------------------------------------------------------------------------------ bad input


def test_bad_input_raises_specific_errors():
    H = ds.models.henon()
    with pytest.raises(DimensionError):
        lyapunov_spectrum(H, [0.1, 0.1, 0.1], 10)
    with pytest.raises(NonFiniteInputError):
        lyapunov_spectrum(H, [float("nan"), 0.1], 10)
    with pytest.raises(NonFiniteInputError):
        lyapunov_spectrum(H, [0.1, 0.1], 10, a=float("inf"))
    with pytest.raises(DimensionError):
        lyapunov_spectrum(H, [0.1, 0.1], 10, k=3)
    with pytest.raises(ValueError):
        lyapunov_spectrum(H, [0.1, 0.1], 0)
    with pytest.raises(DsAnalyzeError, match="flow_lyapunov_spectrum"):
        lyapunov_spectrum(ds.models.lorenz(), [1.0, 1.0, 1.0], 10)
    with pytest.raises(DsAnalyzeError, match="lyapunov_spectrum"):
        flow_lyapunov_spectrum(H, [0.1, 0.1], 1.0)
    with pytest.raises(DsAnalyzeError):
        maximal_lyapunov(ds.models.lorenz(), [1.0, 1.0, 1.0], 10)
    with pytest.raises(DimensionError):
        flow_lyapunov_spectrum(ds.models.lorenz(), [1.0, 1.0], 1.0)
    with pytest.raises(DimensionError):
        flow_lyapunov_spectrum(ds.models.lorenz(), [1.0, 1.0, 1.0], 1.0, k=4)
    with pytest.raises(ValueError):
        flow_lyapunov_spectrum(ds.models.lorenz(), [1.0, 1.0, 1.0], 1.0, dt=-0.1)
    with pytest.raises(TypeError):
        lyapunov_spectrum("henon", [0.1, 0.1], 10)
