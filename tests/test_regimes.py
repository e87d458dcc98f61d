"""Regime diagrams of gradient descent, with real values (double well: w' = w - eta (4w^3 - 4w))."""
import math

import numpy as np
import pytest

import dsanalyze as ds
from dsanalyze.errors import DsAnalyzeError
from dsanalyze.numeric.regimes import Regime, regime_diagram

FLIP = 0.25  # minima +-1 have curvature 8: stable for eta < 2/8
PERIOD4 = (math.sqrt(5) - 1) / 4  # the 2-cycle flips here


@pytest.fixture(scope="module")
def diagram():
    etas = np.array([0.02, 0.1, 0.2, 0.24, 0.26, 0.28, 0.30, 0.40, 0.70, 1.0])
    x0s = np.array([0.95, 1.05, 1.3, -1.3, 1.45])
    return regime_diagram(ds.models.double_well_gd(), "eta", etas, x0s, 1000)


def row(D, eta):
    return D.regime[np.flatnonzero(np.isclose(D.values, eta))[0]]


def test_converges_below_one_quarter(diagram):
    D = diagram
    below = D.values < FLIP
    assert np.isin(D.regime[below], [Regime.MONOTONE, Regime.CATAPULT]).all()
    assert (D.period[below] == 1).all()
    np.testing.assert_allclose(np.abs(D.final[below][..., 0]), 1.0, atol=1e-9)
    # small step from near a minimum: the loss only goes down
    assert (row(D, 0.02) == Regime.MONOTONE).all()
    assert (row(D, 0.1)[:2] == Regime.MONOTONE).all()
    # close to 1/4 from far: the loss rises before it converges
    assert row(D, 0.24)[2] == Regime.CATAPULT


def test_period_two_between_flips(diagram):
    D = diagram
    band = (D.values > FLIP) & (D.values < PERIOD4)
    assert band.sum() == 3
    assert (D.regime[band] == Regime.PERIODIC).all() and (D.period[band] == 2).all()
    F = ds.models.double_well_gd()
    for eta, finals in zip(D.values[band], D.final[band]):
        # the final state lies on a true 2-cycle: F(F(w)) = w, F(w) != w
        once = ds.evaluate_rhs(F, finals, {"eta": eta})
        twice = ds.evaluate_rhs(F, once, {"eta": eta})
        np.testing.assert_allclose(twice, finals, atol=1e-7)
        assert (np.abs(once - finals) > 0.1).all()


def test_chaos_and_divergence(diagram):
    D = diagram
    assert (row(D, 0.40) == Regime.CHAOTIC).all()
    i = np.flatnonzero(np.isclose(D.values, 0.40))[0]
    assert (D.lyapunov[i] > 0.3).all()
    for eta in (0.70, 1.0):
        assert (row(D, eta) == Regime.DIVERGENT).all()
    assert np.isnan(D.final[D.regime == Regime.DIVERGENT]).all()
    counts = D.counts()
    assert sum(counts.values()) == D.regime.size


def test_catapult_on_the_two_factor_map():
    # two-factor map (loss (uv-1)^2/2) from an unbalanced start at mu = 1.5: the loss spikes, then converges
    # to the flat part of uv = 1 with mu (u^2 + v^2) < 2 (Lewkowycz et al. 2020); at mu = 0.1 it just descends
    D = regime_diagram(ds.models.two_factor(), "mu", [0.1, 0.6], [[0.1, 2.0]], 3000)
    assert D.regime[0, 0] == Regime.MONOTONE
    u, v = D.final[0, 0]
    assert math.isclose(u * v, 1.0, abs_tol=1e-8)
    # at mu = 0.6 the start is too sharp (mu (u^2 + v^2) = 2.406 > 2): catapult to a flatter minimum
    assert D.regime[1, 0] == Regime.CATAPULT
    u, v = D.final[1, 0]
    assert math.isclose(u * v, 1.0, abs_tol=1e-8) and 0.6 * (u**2 + v**2) < 2


def test_errors():
    with pytest.raises(DsAnalyzeError, match="loss"):
        regime_diagram(ds.models.logistic(), "r", [3.2], [0.5], 100)
    with pytest.raises(DsAnalyzeError, match="not a parameter"):
        regime_diagram(ds.models.double_well_gd(), "mu", [0.1], [0.5], 100)
    with pytest.raises(ValueError):
        regime_diagram(ds.models.double_well_gd(), "eta", [0.1], [0.5], 10)


def test_chunks_agree(diagram):
    D = diagram
    D2 = regime_diagram(ds.models.double_well_gd(), "eta", D.values, D.x0s, 1000, chunk=7)
    assert (D2.regime == D.regime).all() and (D2.period == D.period).all()



def test_slow_oscillating_convergence_just_below_the_flip_is_convergence():
    # At eta = 0.2484 the multiplier at the minima is 1 - 8 eta = -0.987: orbits converge, oscillating
    # slowly; they are not period 2 (the 2-cycle exists only for eta > 1/4).
    G = ds.models.double_well_gd()
    D = ds.numeric.regime_diagram(G, "eta", [0.2484], np.linspace(0.6, 1.4, 9), steps=1000)
    assert set(D.period.ravel().tolist()) == {1}
    assert np.allclose(np.abs(D.final[..., 0]), 1.0, atol=1e-6)
