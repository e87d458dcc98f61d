"""Basins of attraction: catalogue, labels, fractions and basin entropy, with real values."""
import math

import numpy as np
import pytest

import dsanalyze as ds
from dsanalyze.errors import DsAnalyzeError
from dsanalyze.numeric.basins import AttractorKind, basin_entropy, basins

W5_SIDE, W5_BOUNDED = 1000, 345674


def symmetric_axis(half: float, n: int) -> np.ndarray:
    """n (even) points on [-half, half], exactly antisymmetric (np.linspace is not, to the last bit)."""
    h = np.linspace(-half, half, n)[n // 2:]
    return np.concatenate([-h[::-1], h])


@pytest.fixture(scope="module")
def ring():
    ax = symmetric_axis(2.0, 1000)
    return ax, basins(ds.models.ring_gd(), [ax, ax], 500, eta=0.1)


def test_ring_two_attracting_minima(ring):
    _, B = ring
    attracting = B.attracting()
    assert len(attracting) == 2
    assert all(a.kind is AttractorKind.FIXED_POINT and a.period == 1 for a in attracting)
    m = math.sqrt(10) / 4
    points = sorted(tuple(a.points[0]) for a in attracting)
    np.testing.assert_allclose(points, [(-m, m), (m, -m)], atol=1e-8)
    # the minima have equal basins by symmetry; every other label is divergence or a saddle on the diagonal
    assert attracting[0].count == attracting[1].count
    assert math.isclose(B.fractions.sum(), 1.0)
    assert B.labels.shape == (1000, 1000) and B.labels.dtype == np.int16
    others = [a for a in B.attractors if not a.attracting]
    for a in others:
        if a.kind is AttractorKind.FIXED_POINT:  # the saddles +-(sqrt(6)/4)(1, 1), reached from the line b = a
            np.testing.assert_allclose(abs(a.points[0]), [math.sqrt(6) / 4] * 2, atol=1e-8)
            assert a.spectral_radius > 1 and a.fraction < 1e-3
        else:
            assert a.kind is AttractorKind.DIVERGENT


def test_ring_labels_symmetric(ring):
    _, B = ring
    # (a, b) -> (-a, -b) maps each attractor to the one at minus its points
    partner = np.empty(len(B.attractors), dtype=np.int16)
    for a in B.attractors:
        if a.points.size:
            (match,) = [b.label for b in B.attractors if b.points.size and np.allclose(b.points[0], -a.points[0])]
            partner[a.label] = match
        else:
            partner[a.label] = a.label
    assert (partner[B.labels[::-1, ::-1]] == B.labels).all()


def test_ring_entropy_small(ring):
    _, B = ring
    assert 0 < B.entropy < 0.05  # smooth boundaries: few mixed boxes
    assert 0 < B.boundary_entropy <= math.log(len(B.attractors))


def test_ring_labels_agree_with_long_iteration():
    F = ds.models.ring_gd()
    X = np.random.default_rng(1).uniform(-2, 2, size=(10_000, 2))
    B = basins(F, X, 500, eta=0.1)
    assert B.labels.shape == (10_000,)
    long = ds.iterate(F, X, 5000, {"eta": 0.1})
    m = math.sqrt(10) / 4
    expected = np.full(X.shape[0], -1)
    expected[long.bounded & (long.final[:, 0] > 0)] = +1
    expected[long.bounded & (long.final[:, 0] < 0)] = -2
    got = np.array([(-1 if a.kind is AttractorKind.DIVERGENT else (1 if a.points[0, 0] > 0 else -2))
                    for a in B.attractors])[B.labels]
    assert (got == expected).all()
    np.testing.assert_allclose(np.abs(long.final[long.bounded]), m, atol=1e-10)


def test_two_factor_bounded_set_is_inside_the_ellipse():
    mu = 1.5
    ax = np.linspace(-2, 2, W5_SIDE)
    B = basins(ds.models.two_factor(), [ax, ax], 1000, mu=mu)
    divergent = [a.label for a in B.attractors if a.kind is AttractorKind.DIVERGENT]
    bounded = B.labels != divergent[0]
    assert int(bounded.sum()) == W5_BOUNDED
    U, V = np.meshgrid(ax, ax, indexing="ij")
    inside = mu * (U**2 + V**2) - mu**2 * U * V < 4 - mu**2
    assert (bounded == inside).all()
    assert math.isclose(1 - B.attractors[divergent[0]].fraction, W5_BOUNDED / 1e6)


def test_double_well_split_at_zero():
    w = symmetric_axis(1.9, 400)
    B = basins(ds.models.double_well_gd(), [w], 500, eta=0.05)
    assert [a.kind for a in B.attractors] == [AttractorKind.FIXED_POINT] * 2
    np.testing.assert_allclose([a.points[0, 0] for a in B.attractors], [-1.0, 1.0], atol=1e-12)
    assert B.fractions.tolist() == [0.5, 0.5]
    assert (B.labels == (w > 0)).all()
    assert all(a.attracting and math.isclose(a.spectral_radius, 1 - 8 * 0.05) for a in B.attractors)
    assert B.entropy is None  # 1-D grid


def test_entropy_hand_computation():
    labels = np.array([[0, 0, 1, 1], [0, 1, 1, 1], [2, 2, 1, 1], [2, 2, 1, 1]])
    S_b, S_bb = basin_entropy(labels, eps=2)
    mixed = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert math.isclose(S_b, mixed / 4) and math.isclose(S_bb, mixed)


def test_entropy_of_a_trivially_split_basin():
    F = ds.gd_map("w**4 - 2*w**2 + v**2", "w v")
    w = symmetric_axis(1.5, 60)  # split between columns 29 and 30
    B = basins(F, [w, np.linspace(-1, 1, 60)], 300, eta=0.05, eps=4)
    assert len(B.attractors) == 2 and (B.labels == (w > 0)[:, None]).all()
    # 15 x 15 boxes of 4 x 4 cells; one column of 15 boxes straddles w = 0, half and half
    assert math.isclose(B.entropy, math.log(2) / 15) and math.isclose(B.boundary_entropy, math.log(2))
    assert math.isclose(basins(F, [w, np.linspace(-1, 1, 60)], 300, eta=0.05, eps=5).entropy, 0.0, abs_tol=0)


def test_chunking_and_cycles():
    # double well at eta = 0.28: the minima have flipped, a 2-cycle attracts; cyclic shifts are one attractor
    w = symmetric_axis(1.4, 200)
    B1 = basins(ds.models.double_well_gd(), [w], 800, eta=0.28)
    B2 = basins(ds.models.double_well_gd(), [w], 800, eta=0.28, chunk=7)
    assert (B1.labels == B2.labels).all()
    cycles = B1.of_kind(AttractorKind.CYCLE)
    assert {c.period for c in cycles} == {2} and all(c.attracting for c in cycles)
    F = ds.models.double_well_gd()
    for c in cycles:
        image = ds.evaluate_rhs(F, c.points, {"eta": 0.28})
        np.testing.assert_allclose(image, c.points[::-1], atol=1e-7)


def test_aperiodic_and_errors():
    B = basins(ds.models.logistic(), np.array([[0.3], [0.6]]), 200, r=4.0)
    assert [a.kind for a in B.attractors] == [AttractorKind.APERIODIC]
    with pytest.raises(DsAnalyzeError):
        basins(ds.models.lorenz(), [np.zeros(2)] * 3, 10)
    with pytest.raises(ValueError):
        basin_entropy(np.zeros((2, 2)), eps=3)
    with pytest.raises(ds.errors.ParameterError):
        basins(ds.models.logistic(), np.array([[0.3], [0.6]]), 10, r=[3.0, 3.5])
    with pytest.raises(ds.errors.MissingParameterError):
        basins(ds.models.logistic(), np.array([[0.3], [0.6]]), 10)


def test_continuum_of_fixed_points_is_refused():
    # two-factor map at mu = 0.5: orbits converge to points all along the curve uv = 1
    ax = np.linspace(0.5, 1.5, 40)
    with pytest.raises(DsAnalyzeError, match="continuum"):
        basins(ds.models.two_factor(), [ax, ax], 300, mu=0.5, max_attractors=20)
