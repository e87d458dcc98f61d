"""Orbit diagrams and period-doubling points of the logistic and Henon maps."""
import math

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.numeric.diagrams import OrbitDiagram, detect_period, orbit_diagram, period_doubling_points

LOGISTIC_DOUBLINGS = [3.0, 1 + math.sqrt(6), 3.544090360, 3.564407266]


def test_logistic_diagram_periods_and_values():
    F = ds.models.logistic()
    values = [0.5, 2.5, 3.2, 3.5, 3.55, 3.83, 4.0, 4.5]
    d = orbit_diagram(F, "r", values, transient=5000, record=256)
    assert isinstance(d, OrbitDiagram) and d.param == "r"
    assert d.points.shape == (8, 256, 1) and d.values.tolist() == values
    # r = 3.83 sits in the period-3 window; r = 4 is chaotic; r = 4.5 escapes from x0 = 0.5.
    assert d.period.tolist() == [1, 1, 2, 4, 8, 3, 0, -1]
    assert d.points[0, -1, 0] == pytest.approx(0.0, abs=1e-12)
    assert d.points[1, -1, 0] == pytest.approx(1 - 1 / 2.5, abs=1e-12)
    r = 3.2
    two_cycle = sorted(((r + 1) + s * math.sqrt((r - 3) * (r + 1))) / (2 * r) for s in (-1, 1))
    assert sorted(d.points[2, -2:, 0]) == pytest.approx(two_cycle, abs=1e-10)
    assert np.isnan(d.points[7]).all()
    assert d.escaped.tolist() == [False] * 7 + [True]


def test_many_initial_conditions_stack():
    F = ds.models.logistic()
    d = orbit_diagram(F, "r", [2.9, 3.3], x0=[[0.2], [0.7], [0.4]], transient=3000, record=50)
    assert d.points.shape == (6, 50, 1)
    assert d.values.tolist() == [2.9, 2.9, 2.9, 3.3, 3.3, 3.3]
    assert d.period.tolist() == [1, 1, 1, 2, 2, 2]
    x, y = d.scatter_data()
    assert x.shape == y.shape == (300,)


def test_henon_diagram_other_parameter_fixed():
    H = ds.models.henon()
    d = orbit_diagram(H, "a", np.array([0.2, 0.5, 1.0, 1.4]), x0=[0.1, 0.1], transient=5000, record=200, b=0.3)
    # The Henon fixed point flips at a = 3(1-b)^2/4 = 0.3675, the 2-cycle at a = (5 - 6b + 5b^2)/4 = 0.9125
    # (see test_henon_period_doubling_points): 0.2 -> 1, 0.5 -> 2, 1.0 -> 4, 1.4 chaotic.
    assert d.period.tolist()[:2] == [1, 2]
    assert d.period[2] == 4
    assert d.period[3] == 0
    a, b = 0.2, 0.3
    xstar = (-(1 - b) + math.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a)
    assert d.points[0, -1].tolist() == pytest.approx([xstar, b * xstar], abs=1e-10)


def test_detect_period_vectorised():
    t = np.arange(40)
    tail = np.stack([np.sin(2 * np.pi * t / 5), np.cos(2 * np.pi * t / 7), np.sqrt(2) * t % 1.0])[:, :, None]
    assert detect_period(tail, max_period=16).tolist() == [5, 7, 0]
    tail[0, 3] = np.nan
    assert detect_period(tail, max_period=16)[0] == -1


def test_logistic_period_doubling_points():
    points = period_doubling_points(ds.models.logistic(), "r", 2.5, 3.567, 4)
    assert points == pytest.approx(LOGISTIC_DOUBLINGS, abs=1e-4)
    # The multiplier criterion makes them far better than the required 1e-4.
    assert np.abs(points - LOGISTIC_DOUBLINGS).max() < 1e-7
    # Feigenbaum ratios of the first doublings (they tend to 4.669...): 4.7514, 4.6562.
    assert (points[1] - points[0]) / (points[2] - points[1]) == pytest.approx(4.7514, abs=1e-3)
    assert (points[2] - points[1]) / (points[3] - points[2]) == pytest.approx(4.6562, abs=1e-3)


def test_logistic_doublings_near_accumulation():
    # r_5 and r_6 (16 -> 32, 32 -> 64), published: 3.5687594, 3.5696916; the scan re-zooms as windows shrink.
    points = period_doubling_points(ds.models.logistic(), "r", 3.56, 3.5699, 2, first_period=16)
    assert points == pytest.approx([3.5687594, 3.5696916], abs=1e-7)


def test_henon_period_doubling_points_match_symbolic_multipliers():
    # Fixed point: flip at a = 3(1-b)^2/4. 2-cycle: the symbolic monodromy has trace -4a + 4b^2 - 6b + 4 and
    # determinant b^2; the flip (trace = -(1 + det)) is at a = (5 - 6b + 5b^2)/4.
    H = ds.models.henon()
    (orbit,) = ds.periodic_orbits(H, 2)
    a, b = H.params
    flip = sp.solve(sp.Eq(orbit.trace, -(1 + orbit.determinant)), a)[0]
    for bv in (0.3, 0.5):
        points = period_doubling_points(H, "a", 0.05, 1.0, 2, x0=[0.1, 0.1], b=bv)
        exact = [3 * (1 - bv) ** 2 / 4, float(flip.subs(b, bv))]
        assert points == pytest.approx(exact, abs=1e-7)


def test_bad_arguments():
    F = ds.models.logistic()
    with pytest.raises(ds.errors.ParameterError):
        orbit_diagram(F, "mu", [1.0])
    with pytest.raises(ds.errors.DimensionError):
        orbit_diagram(F, "r", [1.0], x0=[[0.1, 0.2]])
    with pytest.raises(TypeError):
        orbit_diagram(ds.models.lorenz(), "rho", [1.0])
    with pytest.raises(ValueError):
        period_doubling_points(F, "r", 3.5, 3.0, 2)



def test_period_doubling_points_are_not_captured_by_windows_inside_the_chaos():
    # The cubic map's cascade: 1, sqrt(5) - 1, then 1.28803 and 1.29923 (Feigenbaum-spaced); a search
    # range reaching into the chaos (with periodic windows up to 2.2) must still find them.
    points = period_doubling_points(ds.models.cubic(), "mu", 0.5, 2.2, 3, x0=[0.5])
    np.testing.assert_allclose(points[:2], [1.0, np.sqrt(5) - 1], atol=1e-8)
    assert abs(points[2] - 1.28803) < 1e-4
