"""Training trajectories as dynamical systems: kernels checked against independent computations."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.errors import DimensionError, NonFiniteInputError, TrainingError
from dsanalyze.training import (
    LossCurve, Network, TrainingMap, classification_data, classify_loss, divergence, iris, lyapunov_spectrum,
    maximal_lyapunov, paper_setup, regression_data, sharpness, sharpness_along, split, sweep, training_summary,
)
from dsanalyze.training import plot as tplot

ACTIVATIONS = ["sigmoid", "tanh", "relu"]
LOSSES = ["cross-entropy", "squared"]


# ---------------------------------------------------------------------------------------------- independent NumPy model

def numpy_loss(net: Network, theta, X, Y):
    """Plain NumPy forward pass: the mean loss, written independently of the kernel."""
    act = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}
    a = X
    layers = net.unflatten(theta)
    for i, (W, b) in enumerate(layers):
        z = a @ W.T + b
        a = act[net.activation.value](z) if i < len(layers) - 1 else z
    if net.loss.value == "squared":
        return 0.5 * np.mean(np.sum((a - Y) ** 2, axis=1))
    m = a.max(axis=1, keepdims=True)
    logp = a - m - np.log(np.exp(a - m).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def _setup(act, loss, seed=0):
    net = Network((3, 5, 4, 2), act, loss)
    data = classification_data(24, 3, 2, seed=seed) if loss == "cross-entropy" else regression_data(24, 3, 2, seed=seed)
    F = TrainingMap(net, data, lr=0.3)
    theta = net.init(seed=seed) + 0.3 * np.random.default_rng(seed).standard_normal(net.n_params)
    return net, data, F, theta


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_loss_and_gradient_match_numpy_finite_differences(act, loss):
    net, data, F, theta = _setup(act, loss)
    value, grad = F.loss_and_gradient(theta)
    assert value == pytest.approx(numpy_loss(net, theta, data.X, data.Y), rel=1e-13)
    h = 1e-6
    fd = np.array([(numpy_loss(net, theta + h * e, data.X, data.Y) - numpy_loss(net, theta - h * e, data.X, data.Y))
                   / (2 * h) for e in np.eye(net.n_params)])
    assert np.max(np.abs(fd - grad)) <= 1e-7 * np.max(np.abs(grad))


def test_gradient_and_hessian_match_sympy_exactly_derived():
    """A 2-2-2 sigmoid network with cross-entropy: SymPy differentiates the loss symbolically."""
    net = Network((2, 2, 2), "sigmoid", "cross-entropy")
    data = classification_data(4, 2, 2, seed=3)
    F = TrainingMap(net, data, lr=0.1)
    theta = net.init(seed=5)
    w = sp.symbols(f"w0:{net.n_params}", real=True)
    W1, b1 = sp.Matrix(2, 2, w[0:4]), sp.Matrix(w[4:6])
    W2, b2 = sp.Matrix(2, 2, w[6:10]), sp.Matrix(w[10:12])
    L = 0
    for x, y in zip(data.X, data.Y):
        h = (W1 * sp.Matrix(x) + b1).applyfunc(lambda z: 1 / (1 + sp.exp(-z)))
        z = W2 * h + b2
        L += -sum(yc * (zc - sp.log(sp.exp(z[0]) + sp.exp(z[1]))) for yc, zc in zip(y, z))
    L = L / data.n_samples
    point = dict(zip(w, theta))
    grad = np.array([float(sp.diff(L, s).evalf(subs=point)) for s in w])
    assert np.max(np.abs(grad - F.gradient(theta))) <= 1e-12
    row = np.array([float(sp.diff(L, w[0], s).evalf(subs=point)) for s in w])
    assert np.max(np.abs(row - F.hessian(theta)[0])) <= 1e-12


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_hvp_matches_finite_differences_of_the_gradient(act, loss):
    net, data, F, theta = _setup(act, loss, seed=1)
    v = np.random.default_rng(7).standard_normal((3, net.n_params))
    HV = F.hvp(theta, v)
    h = 1e-5
    for j in range(3):
        fd = (F.gradient(theta + h * v[j]) - F.gradient(theta - h * v[j])) / (2 * h)
        assert np.max(np.abs(fd - HV[j])) <= 1e-6 * np.max(np.abs(HV[j]))
    H = F.hvp(theta, np.eye(net.n_params))
    assert np.max(np.abs(H - H.T)) <= 1e-12 * np.max(np.abs(H))  # exact HVPs of a symmetric Hessian


def test_batched_calls_equal_single_calls():
    net, data, F, theta = _setup("tanh", "cross-entropy", seed=2)
    thetas = np.stack([theta, theta + 0.1, theta - 0.2])
    L, G = F.loss_and_gradient(thetas)
    for r in range(3):
        assert L[r] == F.loss(thetas[r])
        assert np.array_equal(G[r], F.gradient(thetas[r]))
    assert np.array_equal(F.train(thetas, 20).theta[1], F.trajectory(thetas[1], 20)[-1])


@pytest.mark.parametrize("batch_size", [None, 40])
def test_tangent_dynamics_agree_with_finite_difference_growth_over_10_steps(batch_size):
    net, train = paper_setup()
    F = TrainingMap(net, train, lr=1.0, batch_size=batch_size)
    theta = F.train(net.init(seed=0), 50).theta[0]  # inside the chaotic stretch
    v = np.random.default_rng(0).standard_normal(net.n_params)
    v /= np.linalg.norm(v)
    _, tangent = F.propagate(theta, v, 10)
    h = 1e-6
    plus, _ = F.propagate(theta + h * v, None, 10)
    minus, _ = F.propagate(theta - h * v, None, 10)
    fd = (plus - minus) / (2 * h)
    assert np.linalg.norm(tangent) > 1.0  # the perturbation grew
    assert np.linalg.norm(fd - tangent) <= 1e-6 * np.linalg.norm(tangent)
    # One step: the JVP is v - eta H_b v, with H_b the Hessian of the loss on the batch of step 0 (eta = 1).
    batch = F if batch_size is None else TrainingMap(net, F.data.subset(np.arange(batch_size)), lr=1.0)
    assert np.allclose(F.jvp(theta, v), v - batch.hvp(theta, v), rtol=0, atol=1e-13)


def test_sgd_uses_fixed_consecutive_batches():
    net = Network((2, 3, 1), "tanh", "squared")
    data = regression_data(12, 2, seed=4)
    F = TrainingMap(net, data, lr=0.2, batch_size=4, order_seed=9)
    order = np.random.default_rng(9).permutation(12)
    theta = net.init(seed=0)
    manual = theta.copy()
    for t in range(6):
        rows = order[4 * (t % 3): 4 * (t % 3) + 4]
        G = TrainingMap(net, data.subset(rows), lr=0.2)
        manual = manual - 0.2 * G.gradient(manual)
    assert np.allclose(F.propagate(theta, None, 6)[0], manual, rtol=0, atol=1e-14)
    assert np.allclose(F.step(manual, t=6), TrainingMap(net, data.subset(order[:4]), lr=0.2).step(manual), atol=1e-15)


# ---------------------------------------------------------------------------------------------- linear regression

def test_linear_regression_spectrum_is_log_of_one_minus_eta_times_hessian_eigenvalues():
    data = regression_data(25, 3, seed=2)
    net = Network((3, 1), loss="squared")
    eta = 0.45
    F = TrainingMap(net, data, lr=eta)
    # The exact map from SymPy (dsanalyze.gd_map): its Jacobian is I - eta H with H exact.
    system = F.system()
    H = -(system.jacobian() - sp.eye(4)) / sp.Symbol("eta", positive=True)
    H = sp.simplify(H)
    assert not H.free_symbols
    lam = np.linalg.eigvalsh(np.array(H.evalf(30), dtype=np.float64))
    expected = np.sort(np.log(np.abs(1 - eta * lam)))[::-1]
    theta0 = np.zeros(4)
    result = lyapunov_spectrum(F, theta0, 400, k=4, transient=600)
    assert np.max(np.abs(result.exponents - expected)) <= 1e-10
    # The compiled step equals the symbolic map evaluated by the generic kernels.
    x = np.random.default_rng(1).standard_normal(4)
    assert np.allclose(ds.evaluate_rhs(system, [x], {"eta": eta})[0], F.step(x), rtol=0, atol=1e-13)
    # Sharpness by Lanczos on HVPs is the top eigenvalue of the exact Hessian.
    assert sharpness(F, x) == pytest.approx(lam[-1], rel=1e-10)


# ---------------------------------------------------------------------------------------------- the paper's regimes

@pytest.fixture(scope="module")
def iris_setup():
    return paper_setup(seed=0)


def test_iris_data_shipped_with_the_package():
    d = iris()
    assert d.X.shape == (150, 4) and np.bincount(d.labels).tolist() == [50, 50, 50]
    assert np.allclose(d.X.mean(axis=0), [5.843, 3.057, 3.758, 1.199], atol=5e-4)
    train, test = split(d, 120, seed=0)
    assert np.bincount(train.labels).tolist() == [40, 40, 40] and test.n_samples == 30
    assert not set(map(tuple, train.X.tolist())) >= set(map(tuple, test.X.tolist()))


def test_iris_small_learning_rate_no_exponential_divergence(iris_setup):
    net, train = iris_setup
    F = TrainingMap(net, train, lr=0.01)
    d = divergence(F, net.init(seed=0), 1000, eps=[1e-8, 1e-6], copies=8)
    assert tuple(d.window[0]) == (0, 1000)
    assert np.all(np.abs(d.exponent) <= 1e-3)
    assert classify_loss(d.losses) is LossCurve.MONOTONE
    assert abs(maximal_lyapunov(F, net.init(seed=0), 1000).maximal) <= 1e-3


def test_iris_edge_learning_rate_positive_finite_time_exponent(iris_setup):
    net, train = iris_setup
    F = TrainingMap(net, train, lr=1.0)
    for seed in (0, 1, 2):
        theta0 = net.init(seed=seed)
        d = divergence(F, theta0, 1000, eps=[1e-8], copies=8)
        t0, t1 = d.window[0]
        assert 0.1 <= d.exponent[0] <= 0.5
        assert np.log(d.saturation[0] / 1e-8) > 15  # it grew by more than e^15, then saturated
        assert d.mean_distance[0, -1] < 3 * d.saturation[0]
        mle = maximal_lyapunov(F, theta0, int(t1)).maximal
        assert 0.1 <= mle <= 0.5
        assert mle == pytest.approx(d.exponent[0], rel=0.1)


def test_iris_large_learning_rate_loss_does_not_converge(iris_setup):
    net, train = iris_setup
    F = TrainingMap(net, train, lr=5.0)
    run = F.train(net.init(seed=0, n=10), 3000)
    assert not run.diverged.any()
    assert [classify_loss(L) for L in run.losses] == [LossCurve.NON_CONVERGENT] * 10
    assert np.all(run.losses[:, -1] > 1.0)  # chance level is ln 3 = 1.0986; never learnt, or unlearnt
    assert np.all(TrainingMap(net, train, lr=1.0).train(net.init(seed=0, n=5), 1000).losses[:, -1] < 0.2)


def test_edge_of_stability_plateau():
    data = regression_data(20, 2, seed=0, nonlinear=True)
    net = Network((2, 10, 10, 1), "tanh", "squared")
    F = TrainingMap(net, data, lr=1 / 3)
    trace = sharpness_along(F, net.init(seed=0), 4000, every=10)
    assert trace.sharpness[0] < 0.7 * trace.threshold  # starts well below 2/eta = 6
    verdict = trace.verify(0.1)
    assert verdict.passed, str(verdict)
    assert 100 <= trace.reached_at() <= 2000
    assert trace.losses[-1] < 0.01 * trace.losses[0]


# ---------------------------------------------------------------------------------------------- tables, summary, plots

def test_sweep_is_reproducible_and_thread_independent():
    a = sweep([0.01, 1.0], seeds=3, steps=300, threads=1)
    b = sweep([0.01, 1.0], seeds=3, steps=300, threads=2)
    for ra, rb in zip(a.rows, b.rows):
        assert np.array_equal(ra.final_loss, rb.final_loss)
        assert np.array_equal(ra.mle, rb.mle) and ra.exponent == rb.exponent
    assert a.row(0.01).regime is LossCurve.MONOTONE
    assert abs(a.row(0.01).exponent) < 1e-3 and 0.1 < a.row(1.0).exponent < 0.5
    assert r"\begin{tabular}" in a.latex()


def test_training_summary_verdicts():
    s = training_summary(steps=600, copies=4)
    assert [r.lr for r in s.results] == [0.01, 1.0, 5.0]
    regimes = [v for v in s.verdicts if "slope of ln<d(t)>" in v.claim]
    assert len(regimes) == 3 and all(v.passed for v in regimes)
    assert s.results[0].sharpness_final < 2 / 0.01
    tex = s.latex()
    assert tex.count(r"\\") >= 3 and r"\item[" in tex


def test_plots_draw():
    F = TrainingMap(Network((2, 1), loss="squared"), regression_data(20, 2, seed=0), lr=0.1)
    d = divergence(F, np.zeros(3), 40, eps=[1e-8, 1e-6])
    assert len(tplot.distance_curves(d).lines) == 4
    ax = tplot.mle_against_lr([0.1, 1.0], [[0.0, 0.01], [0.2, 0.3]])
    assert ax.get_xscale() == "log"
    data = regression_data(20, 2, seed=0, nonlinear=True)
    G = TrainingMap(Network((2, 4, 1), "tanh", "squared"), data, lr=0.1)
    trace = sharpness_along(G, G.network.init(seed=0), 40, every=10)
    ax = tplot.sharpness_plot(trace)
    assert ax.lines[1].get_ydata()[0] == pytest.approx(20.0)


# ---------------------------------------------------------------------------------------------- bad input

def test_bad_input_raises_clear_errors():
    with pytest.raises(TrainingError, match="sizes"):
        Network((4,))
    with pytest.raises(TrainingError, match="activation"):
        Network((4, 3), "softplus")
    with pytest.raises(TrainingError, match="two outputs"):
        Network((4, 1), loss="cross-entropy")
    net, train = paper_setup()
    with pytest.raises(DimensionError, match="inputs"):
        TrainingMap(Network((3, 3)), train, 0.1)
    with pytest.raises(TrainingError, match="learning rate"):
        TrainingMap(net, train, -1.0)
    with pytest.raises(TrainingError, match="batch_size"):
        TrainingMap(net, train, 0.1, batch_size=0)
    F = TrainingMap(net, train, 0.1)
    with pytest.raises(DimensionError, match="83"):
        F.step(np.zeros(5))
    with pytest.raises(NonFiniteInputError):
        F.step(np.full(83, np.nan))
    with pytest.raises(TrainingError, match="eps"):
        divergence(F, np.zeros(83), 10, eps=[-1.0])
    with pytest.raises(TrainingError, match="linear regression"):
        F.system()
    with pytest.raises(TrainingError, match="diverged"):
        divergence(TrainingMap(Network((3, 1), loss="squared"), regression_data(10, 3), 100.0), np.zeros(4), 200)


def test_kernel_exp_and_tanh_are_accurate_to_a_few_ulp():
    import mpmath

    from dsanalyze import _training

    rng = np.random.default_rng(0)
    x = -np.concatenate([rng.uniform(0, 708, 10**5), rng.uniform(0, 1e-3, 10**4), [0.0, 5e-324, 1e-300, 708.0]])
    e = _training.exp_nonpositive(x)
    assert np.max(np.abs(e - np.exp(x)) / np.spacing(np.exp(x))) <= 2
    z = np.concatenate([rng.uniform(-30, 30, 10**5), rng.uniform(-0.6, 0.6, 10**5), 10.0 ** rng.uniform(-300, -1, 10**4),
                        [0.55, -0.55, np.nextafter(0.55, 0), 400.0, -800.0]])
    a, d1 = _training.tanh_block(z)
    assert np.max(np.abs(a - np.tanh(z)) / np.spacing(np.abs(np.tanh(z)))) <= 4
    sample = z[rng.integers(0, z.size, 500)]
    exact = np.array([float(mpmath.sech(mpmath.mpf(float(v))) ** 2) for v in sample])
    assert np.max(np.abs(_training.tanh_block(sample)[1] - exact) / np.spacing(exact)) <= 4
