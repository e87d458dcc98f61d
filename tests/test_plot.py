"""Figures: each function returns an Axes with the expected artists and saves to PNG (no pixel comparisons)."""
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dsanalyze as ds  # noqa: E402
from dsanalyze import plot  # noqa: E402
from dsanalyze.numeric.diagrams import orbit_diagram  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _save(ax, tmp_path, name):
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path, dpi=60)
    assert path.stat().st_size > 1000


def test_orbit_diagram_plot(tmp_path):
    values = np.linspace(2.8, 4.0, 120)
    d = orbit_diagram(ds.models.logistic(), "r", values, transient=500, record=100)
    ax = plot.orbit_diagram(d)
    (line,) = ax.lines
    x, y = line.get_data()
    assert x.shape == (120 * 100,) and ((0 <= y) & (y <= 1)).all()
    assert ax.get_xlim() == pytest.approx((2.8, 4.0))
    assert ax.get_xlabel() == "r"
    _save(ax, tmp_path, "orbit")


def test_orbit_diagram_on_given_axes_drops_escaped_rows(tmp_path):
    d = orbit_diagram(ds.models.logistic(), "r", [3.2, 4.5], transient=100, record=10)
    fig, ax = plt.subplots()
    assert plot.orbit_diagram(d, ax=ax) is ax
    assert ax.lines[0].get_xdata().shape == (10,)        # the escaped row (r = 4.5) has no points


def test_lyapunov_plot(tmp_path):
    r = np.linspace(3.0, 4.0, 50)
    ax = plot.lyapunov_plot(r, np.full(50, math.log(2)), param="r")
    assert len(ax.lines) == 2                            # exponent and zero line
    assert ax.lines[0].get_ydata() == pytest.approx(np.full(50, math.log(2)))
    assert ax.get_xlabel() == "r" and ax.get_xlim() == pytest.approx((3.0, 4.0))
    _save(ax, tmp_path, "le")
    ax2 = plot.lyapunov_plot(r, np.column_stack([np.zeros(50), -np.ones(50)]))
    assert len(ax2.lines) == 3 and ax2.get_legend() is not None
    with pytest.raises(ds.errors.DimensionError):
        plot.lyapunov_plot(r, np.zeros(3))


def test_basin_image(tmp_path):
    labels = np.zeros((40, 60), dtype=int)
    labels[:, 30:] = 1
    attractors = [np.array([[-0.5, 0.0]]), np.array([[0.5, 0.0], [0.6, 0.1]])]
    ax = plot.basin_image(labels, (-1, 1, -1, 1), attractors=attractors)
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (40, 60)
    assert len(ax.collections) == 2
    assert ax.collections[1].get_offsets().shape == (2, 2)
    assert ax.get_xlim() == pytest.approx((-1, 1)) and ax.get_ylim() == pytest.approx((-1, 1))
    _save(ax, tmp_path, "basin")
    ax = plot.basin_image(labels, (0, 2, 0, 1), attractors=np.array([[0.5, 0.5], [1.5, 0.5]]))
    assert len(ax.collections) == 1
    with pytest.raises(ds.errors.DimensionError):
        plot.basin_image(np.zeros(5), (0, 1, 0, 1))


def test_phase_portrait(tmp_path):
    oscillator = ds.Flow("x v", ["v", "-w**2*x"], params="w")
    ax = plot.phase_portrait(oscillator, (-2, 2), (-3, 3), trajectories=[(1.0, 0.0), (0.5, 0.0)],
                             t_max=2 * math.pi / 1.5, density=12, w=1.5)
    assert len(ax.lines) == 2
    assert len(ax.collections) == 1                      # the quiver
    assert ax.collections[0].U.shape == (144,)
    # One full period of x'' = -w^2 x: the trajectory closes on itself, on the ellipse x^2 + v^2/w^2 = 1.
    x, v = ax.lines[0].get_data()
    assert (x[-1], v[-1]) == pytest.approx((1.0, 0.0), abs=1e-6)
    assert x**2 + (v / 1.5) ** 2 == pytest.approx(np.ones_like(x), abs=1e-6)
    assert ax.get_xlim() == pytest.approx((-2, 2)) and ax.get_ylim() == pytest.approx((-3, 3))
    _save(ax, tmp_path, "phase")
    with pytest.raises(ds.errors.DimensionError):
        plot.phase_portrait(ds.models.lorenz(), (0, 1), (0, 1))


def test_cobweb(tmp_path):
    r = 2.8
    ax = plot.cobweb(ds.models.logistic(), 0.2, 200, r=r)
    graph, diagonal, web = ax.lines
    x, y = graph.get_data()
    assert y == pytest.approx(r * x * (1 - x))
    assert diagonal.get_ydata() == pytest.approx(diagonal.get_xdata())
    wx, wy = web.get_data()
    assert wx.shape == (401,)              # 2 * steps + 1 corners
    assert (wx[-1], wy[-1]) == pytest.approx((1 - 1 / r, 1 - 1 / r), abs=1e-12)  # converges to the fixed point
    _save(ax, tmp_path, "cobweb")
    with pytest.raises(ds.errors.DimensionError):
        plot.cobweb(ds.models.henon(), 0.1, 5)


def test_regime_diagram_plot(tmp_path):
    from dsanalyze.numeric.regimes import Regime

    etas = np.array([0.05, 0.24, 0.28, 0.6])
    D = ds.regime_diagram(ds.models.double_well_gd(), "eta", etas, [0.9, 1.1, 1.3], 600)
    ax = plot.regime_diagram(D)
    (image,) = ax.images
    assert image.get_array().shape == (3, 4)             # initial conditions up, parameter across
    assert (np.asarray(image.get_array()) == D.regime.T).all()
    assert image.get_extent() == pytest.approx((0.05 - 0.095, 0.6 + 0.16, 0.8, 1.4))
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert names == [Regime.MONOTONE.label, Regime.CATAPULT.label, Regime.PERIODIC.label, Regime.DIVERGENT.label]
    assert ax.get_xlabel() == "eta"
    # one fixed colour per regime, whatever regimes occur
    colours = [tuple(p.get_facecolor()) for p in ax.get_legend().get_patches()]
    assert colours[0] == matplotlib.colors.to_rgba(plot.REGIME_COLOURS[0])
    assert colours[3] == matplotlib.colors.to_rgba(plot.REGIME_COLOURS[5])
    _save(ax, tmp_path, "regimes")
    fig, ax2 = plt.subplots()
    assert plot.regime_diagram(D, ax=ax2) is ax2
