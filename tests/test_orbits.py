"""Iteration drivers: exact agreement with plain Python loops, escape semantics, batching."""
import numpy as np
import pytest

import dsanalyze as ds
from dsanalyze.models import henon, logistic, two_factor


def python_orbit(step, x, n):
    xs = [tuple(x)]
    for _ in range(n):
        x = step(*x)
        xs.append(tuple(x))
    return np.array(xs)


def henon_step(x, y, a=1.4, b=0.3):
    return (1.0 - a * x * x + y, b * x)


def two_factor_step(mu):
    def step(u, v):
        t = mu * (u * v - 1.0)
        return (u - t * v, v - t * u)
    return step


def test_trajectory_matches_python_loop_on_henon():
    got = ds.trajectory(henon(), [0.1, 0.1], 200)
    want = python_orbit(henon_step, (0.1, 0.1), 200)
    assert got.shape == (201, 2)
    # Hénon is chaotic (lambda = 0.42 per step): a one-ulp difference (the kernel
    # may fuse multiply-adds) grows like exp(0.42 k), so compare the first 15 steps.
    np.testing.assert_allclose(got[:15], want[:15], rtol=0, atol=1e-12)
    assert np.all(np.abs(got) < 2)  # stays on the attractor, no NaN


def test_trajectory_defaults_and_override():
    base = ds.trajectory(henon(), [0.0, 0.0], 3)
    np.testing.assert_allclose(base[1], [1.0, 0.0], atol=0)
    np.testing.assert_allclose(base[2], [1.0 - 1.4, 0.3], rtol=1e-15)
    other = ds.trajectory(henon(), [0.0, 0.0], 2, a=1.0, b=0.5)
    np.testing.assert_allclose(other[2], [0.0, 0.5], atol=1e-15)


def test_trajectory_of_divergent_orbit_is_nan_after_escape():
    out = ds.trajectory(two_factor(), [3.0, 3.0], 10, mu=2.5)
    assert out.shape == (11, 2)
    np.testing.assert_allclose(out[1], [-57.0, -57.0])
    np.testing.assert_allclose(out[2], [462783.0, 462783.0])
    assert np.isfinite(out[:5]).all()  # finite until the orbit overflows a double
    assert np.isnan(out[-1]).all()


def test_iterate_reports_escape_step_and_leaves_bounded_rows_alone():
    X0 = np.array([[3.0, 3.0], [0.5, 0.5], [1.0, 1.0], [0.2, -0.3]])
    mu = np.array([2.5, 0.5, 2.5, 0.5])
    result = ds.iterate(two_factor(), X0, 500, {"mu": mu})
    assert result.escape_step.tolist() == [3, -1, -1, -1]
    np.testing.assert_array_equal(result.bounded, [False, True, True, True])
    assert np.isfinite(result.final).all()
    # The escaped row keeps its last state inside the box (step 2).
    np.testing.assert_allclose(result.final[0], [462783.0, 462783.0])
    # Bounded rows: equal to iterating each alone and to a Python loop.
    for i in (1, 2, 3):
        alone = ds.iterate(two_factor(), X0[i:i + 1], 500, {"mu": mu[i]})
        np.testing.assert_array_equal(alone.final[0], result.final[i])
        want = python_orbit(two_factor_step(mu[i]), X0[i], 500)[-1]
        np.testing.assert_allclose(result.final[i], want, rtol=1e-12, atol=1e-12)
    # (1, 1) lies on uv = 1: an exact fixed point even where it is unstable.
    np.testing.assert_array_equal(result.final[2], [1.0, 1.0])


def test_escape_threshold_and_step_count_are_exact():
    # x' = 2x from 1: |x| reaches 2^k; with escape = 1000 the first step outside is 10.
    doubling = ds.Map("x", "2*x")
    result = ds.iterate(doubling, [[1.0], [-1.0], [0.0]], 50, escape=1000.0)
    assert result.escape_step.tolist() == [10, 10, -1]
    np.testing.assert_array_equal(result.final[:, 0], [512.0, -512.0, 0.0])


def test_nonfinite_step_counts_as_escape():
    # log of a negative number is NaN: escape at the first step, not an exception.
    F = ds.Map("x", "log(x)")
    result = ds.iterate(F, [[-1.0], [1e300]], 3, escape=np.inf)
    assert result.escape_step[0] == 1
    assert result.final[0, 0] == -1.0


def test_batch_larger_than_a_block_and_threads_agree():
    rng = np.random.default_rng(7)
    X0 = rng.uniform(-2, 2, size=(1000, 2))
    mu = rng.uniform(0.1, 1.0, size=1000)  # non-chaotic range: Python loop comparable
    one = ds.iterate(two_factor(), X0, 300, {"mu": mu}, threads=1)
    two = ds.iterate(two_factor(), X0, 300, {"mu": mu}, threads=2)
    np.testing.assert_array_equal(one.final, two.final)
    np.testing.assert_array_equal(one.escape_step, two.escape_step)
    for i in rng.choice(1000, size=25, replace=False):
        step = two_factor_step(mu[i])
        x = tuple(X0[i])
        escaped = -1
        for k in range(1, 301):
            nx = step(*x)
            if not all(abs(c) < 1e6 for c in nx):
                escaped = k
                break
            x = nx
        assert one.escape_step[i] == escaped
        if escaped < 0:
            np.testing.assert_allclose(one.final[i], x, rtol=1e-9, atol=1e-9)


def test_record_keeps_last_iterates_and_period_two_split_at_three():
    r = np.array([2.8, 2.95, 3.05, 3.2, 3.4])
    result = ds.iterate(logistic(), np.full(5, 0.5), 3000, {"r": r}, record=100)
    assert result.recorded.shape == (5, 100, 1)
    np.testing.assert_array_equal(result.recorded[:, -1, :], result.final)
    fixed = (r - 1) / r
    for i in range(2):  # below r = 3: the fixed point (r - 1)/r
        np.testing.assert_allclose(result.recorded[i, :, 0], fixed[i], atol=1e-6)
    for i in range(2, 5):  # above: a 2-cycle, the roots of r^2 x^2 - r(r+1) x + (r+1) = 0
        rr = r[i]
        cycle = np.sort(np.roots([rr * rr, -rr * (rr + 1), rr + 1]).real)
        tail = result.recorded[i, -2:, 0]
        np.testing.assert_allclose(np.sort(tail), cycle, atol=1e-5)


def test_record_of_escaped_orbit_is_nan():
    result = ds.iterate(two_factor(), [[3.0, 3.0]], 6, {"mu": 2.5}, record=6)
    rec = result.recorded[0]
    np.testing.assert_allclose(rec[0], [-57.0, -57.0])
    assert np.isnan(rec[2:]).all()


def test_broadcast_state_over_parameter_sweep():
    r = np.linspace(0.5, 2.5, 7)
    result = ds.iterate(logistic(), [[0.3]], 2000, {"r": r})
    want = np.where(r > 1, (r - 1) / r, 0.0)
    np.testing.assert_allclose(result.final[:, 0], want, atol=1e-8)


def test_parameter_array_forms_agree():
    X0 = np.array([[0.1, 0.2], [0.3, -0.1]])
    a = ds.iterate(henon(), X0, 20, {"a": 1.2, "b": 0.3})
    b = ds.iterate(henon(), X0, 20, [1.2, 0.3])
    c = ds.iterate(henon(), X0, 20, np.array([[1.2, 0.3], [1.2, 0.3]]))
    np.testing.assert_array_equal(a.final, b.final)
    np.testing.assert_array_equal(a.final, c.final)


def test_zero_steps_and_empty_batch():
    result = ds.iterate(henon(), [[0.1, 0.2]], 0)
    np.testing.assert_array_equal(result.final, [[0.1, 0.2]])
    assert result.escape_step.tolist() == [-1]
    empty = ds.iterate(henon(), np.empty((0, 2)), 10)
    assert empty.final.shape == (0, 2)


def test_iterate_refuses_flows_and_bad_arguments():
    with pytest.raises(ds.errors.DsAnalyzeError, match="integrate"):
        ds.iterate(ds.models.lorenz(), [[1.0, 1.0, 1.0]], 10)
    with pytest.raises(ValueError, match="record"):
        ds.iterate(henon(), [[0.0, 0.0]], 5, record=6)
    with pytest.raises(ValueError, match="steps"):
        ds.iterate(henon(), [[0.0, 0.0]], -1)
    with pytest.raises(ds.errors.DimensionError, match=r"\(n, 2\)"):
        ds.iterate(henon(), [[0.0, 0.0, 0.0]], 5)
    with pytest.raises(ds.errors.DimensionError):
        ds.iterate(logistic(), [[0.1], [0.2]], 5, {"r": [3.0, 3.1, 3.2]})


def test_an_excursion_outside_the_box_is_an_escape_even_if_the_orbit_returns():
    # The 2-cycle {0.5, 2e6}: outside at odd steps, back inside at even ones, in
    # the middle of a chunk of steps as well as at its end.
    F = ds.Map("x", "2000000.5 - x")
    result = ds.iterate(F, [[0.5], [3.0]], 100, escape=1e6)
    assert result.escape_step.tolist() == [1, 1]
    np.testing.assert_array_equal(result.final[:, 0], [0.5, 3.0])
    # An orbit that first leaves late, inside a chunk: x' = x + 1 leaves |x| < 20.5 at step 20.
    G = ds.Map("x", "x + 1")
    late = ds.iterate(G, [[0.5], [-100.0]], 100, escape=20.6)
    assert late.escape_step.tolist() == [21, 0]  # a start outside the box escaped at step 0
    np.testing.assert_array_equal(late.final[:, 0], [20.5, -100.0])


@pytest.mark.parametrize("record", [0, 50])
def test_a_state_that_becomes_nan_through_arithmetic_has_escaped_at_that_step(record):
    # x' = (y - 3)/(z - 3) is 0/0 = NaN one step after y = z = 3, with every value
    # finite before: lane k starts at y = z = 3 - k and is NaN at step k + 1, early or
    # late in a chunk of steps; lanes starting at 3.5 - k never meet 0/0.
    F = ds.Map("x y z", ["(y - 3)/(z - 3)", "y + 1", "z + 1"])
    k = np.arange(40.0)
    start = np.where(k % 2 == 0, 3.0 - k, 3.5 - k)
    X0 = np.column_stack([np.full(40, 0.25), start, start])
    result = ds.iterate(F, X0, 100, escape=1e6, record=record)
    expected = np.where(k % 2 == 0, k + 1, -1).astype(int)
    assert result.escape_step.tolist() == expected.tolist()
    escaped = expected > 0
    # The last state inside: y = 3 (x = 1, or the start for k = 0).
    np.testing.assert_array_equal(result.final[escaped, 1], 3.0)
    np.testing.assert_array_equal(result.final[~escaped, 1], start[~escaped] + 100)
    np.testing.assert_array_equal(result.final[~escaped, 0], 1.0)


@pytest.mark.parametrize("exponent", [15, 16, 17, 18, 32, 33, 34])
def test_final_state_is_the_last_inside_at_every_position_in_a_chunk(exponent):
    # x' = 2x from 1 leaves |x| < 2^e at step e: the last state inside is 2^(e-1),
    # whatever the position of step e among the kernel's chunks of steps.
    F = ds.Map("x", "2*x")
    result = ds.iterate(F, [[1.0], [0.0]], 100, escape=2.0**exponent, record=100)
    assert result.escape_step.tolist() == [exponent, -1]
    assert result.final[0, 0] == 2.0 ** (exponent - 1)
    rec = result.recorded[0, :, 0]
    np.testing.assert_array_equal(rec[: exponent - 1], 2.0 ** np.arange(1, exponent))
    assert np.isnan(rec[exponent - 1:]).all()


def test_components_inside_whose_magnitudes_sum_past_the_box_have_not_escaped():
    # The fast pass flags |x| + |y| >= escape; here every state has |x| = |y| = 0.75
    # inside |.| < 1 while the sum is 1.5: a false alarm the exact replay must clear.
    F = ds.Map(("x", "y"), ("-x", "-y"))
    result = ds.iterate(F, [[0.75, 0.75], [0.75, -0.75]], 50, escape=1.0, record=50)
    assert result.escape_step.tolist() == [-1, -1]
    np.testing.assert_array_equal(result.final, [[0.75, 0.75], [0.75, -0.75]])  # 50 steps: even
    assert np.isfinite(result.recorded).all()


@pytest.mark.parametrize("record", [0, 37, 100])
def test_lanes_escaping_early_in_a_chunk_leave_the_other_lanes_exact(record):
    # x' = 2x, y' = y/2 is exact in floating point. Lane i starts at x = 2^-i (escapes
    # |x| < 2 at step i + 1, early or late in a chunk); lanes with x = 0 never escape
    # and must end, and record, exactly as if no lane had escaped.
    F = ds.Map(("x", "y"), ("2*x", "y/2"))
    k = np.arange(80)  # escapes at steps 1 .. 80: before and inside the record
    X0 = np.column_stack([np.where(k % 3 == 0, 0.0, 2.0 ** -k.astype(float)), np.ones(80)])
    steps = 100
    result = ds.iterate(F, X0, steps, escape=2.0, record=record)
    esc = np.where(k % 3 == 0, -1, k + 1)
    esc[esc > steps] = -1
    assert result.escape_step.tolist() == esc.tolist()
    alive = esc < 0
    np.testing.assert_array_equal(result.final[alive, 1], 2.0**-steps)
    np.testing.assert_array_equal(result.final[~alive, 0], 1.0)  # the last state inside
    np.testing.assert_array_equal(result.final[~alive, 1], 2.0 ** -(esc[~alive] - 1.0))
    if record:
        s = np.arange(steps - record + 1, steps + 1)  # the recorded steps
        expected_y = np.where(s[None, :] < np.where(alive, steps + 1, esc)[:, None], 2.0 ** -s[None, :].astype(float), np.nan)
        np.testing.assert_array_equal(result.recorded[:, :, 1], expected_y)


def test_lanes_resting_exactly_on_a_fixed_point_end_the_block_early_with_the_same_result():
    # x' = x/2 + 1 reaches its fixed point 2 exactly (in floating point) within ~60 steps; once
    # every live lane of a block rests on a fixed point the block stops, with the same result.
    F = ds.Map("x", "a*x + 1")
    settled = ds.iterate(F, [[0.0], [5.0]], 10**9, {"a": 0.5})   # 10^9 steps: only fast if it stops
    assert settled.escape_step.tolist() == [-1, -1]
    np.testing.assert_array_equal(settled.final[:, 0], [2.0, 2.0])
    # A lane still moving (the 2-cycle -3 -> 4 -> -3 of x' = 1 - x) keeps its block going.
    mixed = ds.iterate(F, [[0.0], [-3.0]], 10**5 + 1, {"a": [0.5, -1.0]})
    np.testing.assert_array_equal(mixed.final[:, 0], [2.0, 4.0])


@pytest.mark.parametrize("model, params, box", [(two_factor(), {"mu": 1.5}, 2.0), (ds.models.henon(), {}, 1.5)])
def test_an_orbit_is_bit_for_bit_the_same_whatever_its_neighbours_in_a_block_do(model, params, box):
    # Orbits share a block of lanes; a neighbour that escapes sends the block's chunk of
    # steps through the step-by-step replay, whose states are recorded. The other lanes'
    # records and final states must not depend on it, to the last bit, for orbits whose
    # arithmetic rounds (chaotic Henon, the two-factor map off its invariant ellipse).
    rng = np.random.default_rng(5)
    candidates = rng.uniform(-box, box, size=(20000, 2))
    probe = ds.iterate(model, candidates, 200, params)
    late = candidates[probe.escape_step >= 8]
    bounded = candidates[probe.escape_step < 0][:400]
    assert len(late) >= 200 and len(bounded) == 400
    mixed = bounded.copy()
    mixed[::2] = late[:200]
    alone = ds.iterate(model, bounded, 200, params, threads=1, record=200)
    together = ds.iterate(model, mixed, 200, params, threads=1, record=200)
    assert (together.escape_step[::2] >= 8).all()
    np.testing.assert_array_equal(together.recorded[1::2], alone.recorded[1::2])
    np.testing.assert_array_equal(together.final[1::2], alone.final[1::2])
