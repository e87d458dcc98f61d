#!/usr/bin/env python
"""Benchmark the compiled training step and its exact tangent map against plain NumPy (and numba, PyTorch).

    python benchmarks/training.py [--repeat 7] [--steps 2000]

Workloads (float64, one thread unless stated; a 4-10-3 sigmoid network with the
softmax cross-entropy loss on the 120 Iris training flowers of
``dsanalyze.training.paper_setup()``, full-batch gradient descent, eta = 0.1):

- T1: ``--steps`` gradient-descent steps of one trajectory (per-step time).
- T2: the same with one tangent vector, v <- v - eta H v (exact Hessian-vector
  product): the step plus its JVP.
- T3: 64 trajectories of ``--steps`` steps, one and two threads (dsanalyze only;
  the NumPy figure is T1 times 64).
- T4: the full Hessian (83 x 83) at the initial weights from 83 exact
  Hessian-vector products (time per HVP; PyTorch: ``torch.autograd.functional.hessian``).

Each implementation runs once to warm up (numba's JIT and PyTorch's first call
are reported separately), then ``--repeat`` times round-robin; the table gives
medians in microseconds per step and the ratio to dsanalyze. Results are
checked: every implementation's final weights (and tangent vector) must agree
with dsanalyze's to 1e-9 relative, else the row says FAILED and the exit status is 1.
numba and PyTorch rows appear only if they import (install them into the
benchmark environment only; they are not dependencies).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# One thread for NumPy's BLAS too (its idle threads spin and take the cores from the other rows).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsanalyze.training import TrainingMap, paper_setup  # noqa: E402

ETA = 0.1  # a regular (non-chaotic) regime, so that implementations can be compared to 1e-9 after many steps


# ---------------------------------------------------------------------------------------------- plain NumPy

def numpy_unflatten(theta):
    W1 = theta[:40].reshape(10, 4)
    b1 = theta[40:50]
    W2 = theta[50:80].reshape(3, 10)
    b2 = theta[80:83]
    return W1, b1, W2, b2


def numpy_forward_backward(theta, X, Y):
    """Gradient of the mean softmax cross-entropy of a 4-10-3 sigmoid network, as a user would write it."""
    W1, b1, W2, b2 = numpy_unflatten(theta)
    H = 1.0 / (1.0 + np.exp(-(X @ W1.T + b1)))
    Z = H @ W2.T + b2
    Z = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    N = X.shape[0]
    G = (P - Y) / N
    dH = (G @ W2) * H * (1 - H)
    grad = np.concatenate([(dH.T @ X).ravel(), dH.sum(0), (G.T @ H).ravel(), G.sum(0)])
    return grad, (H, P, G, dH)


def numpy_hvp(theta, v, X, Y, cache):
    """Pearlmutter's R-operator in NumPy (forward-over-reverse by hand)."""
    W1, b1, W2, b2 = numpy_unflatten(theta)
    V1, c1, V2, c2 = numpy_unflatten(v)
    H, P, G, dH = cache
    N = X.shape[0]
    S = H * (1 - H)
    RZ1 = X @ V1.T + c1
    RH = S * RZ1
    RZ2 = H @ V2.T + RH @ W2.T + c2
    RG = P * (RZ2 - (P * RZ2).sum(axis=1, keepdims=True)) / N
    RdH = (RG @ W2 + G @ V2) * S + (G @ W2) * S * (1 - 2 * H) * RZ1
    return np.concatenate([(RdH.T @ X).ravel(), RdH.sum(0), (RG.T @ H + G.T @ RH).ravel(), RG.sum(0)])


def numpy_hessian(theta, X, Y):
    _, cache = numpy_forward_backward(theta, X, Y)
    return np.array([numpy_hvp(theta, e, X, Y, cache) for e in np.eye(theta.size)])


def numpy_train(theta, X, Y, steps):
    for _ in range(steps):
        grad, _ = numpy_forward_backward(theta, X, Y)
        theta = theta - ETA * grad
    return theta


def numpy_train_tangent(theta, v, X, Y, steps):
    for _ in range(steps):
        grad, cache = numpy_forward_backward(theta, X, Y)
        v = v - ETA * numpy_hvp(theta, v, X, Y, cache)
        theta = theta - ETA * grad
    return theta, v


# ---------------------------------------------------------------------------------------------- peers, if installed

def numba_impl():
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=False, fastmath=False)
    def train(theta, X, Y, steps):
        theta = theta.copy()
        N = X.shape[0]
        grad = np.empty(83)
        h = np.empty(10)
        z = np.empty(3)
        p = np.empty(3)
        dh = np.empty(10)
        for _ in range(steps):
            grad[:] = 0.0
            for s in range(N):
                for i in range(10):
                    acc = theta[40 + i]
                    for j in range(4):
                        acc += theta[i * 4 + j] * X[s, j]
                    h[i] = 1.0 / (1.0 + np.exp(-acc))
                m = -1e300
                for i in range(3):
                    acc = theta[80 + i]
                    for j in range(10):
                        acc += theta[50 + i * 10 + j] * h[j]
                    z[i] = acc
                    m = max(m, acc)
                tot = 0.0
                for i in range(3):
                    p[i] = np.exp(z[i] - m)
                    tot += p[i]
                for j in range(10):
                    dh[j] = 0.0
                for i in range(3):
                    g = p[i] / tot - Y[s, i]
                    grad[80 + i] += g
                    for j in range(10):
                        grad[50 + i * 10 + j] += g * h[j]
                        dh[j] += g * theta[50 + i * 10 + j]
                for i in range(10):
                    d = dh[i] * h[i] * (1 - h[i])
                    grad[40 + i] += d
                    for j in range(4):
                        grad[i * 4 + j] += d * X[s, j]
            for k in range(83):
                theta[k] -= ETA * grad[k] / N
        return theta

    return train


def torch_impl():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)

    def loss_fn(theta, X, Y):
        W1 = theta[:40].reshape(10, 4)
        W2 = theta[50:80].reshape(3, 10)
        H = torch.sigmoid(X @ W1.T + theta[40:50])
        Z = H @ W2.T + theta[80:83]
        return -(Y * torch.log_softmax(Z, dim=1)).sum(dim=1).mean()

    def train(theta, X, Y, steps):
        t = torch.tensor(theta, dtype=torch.float64)
        Xt, Yt = torch.tensor(X), torch.tensor(Y)
        for _ in range(steps):
            t.requires_grad_(True)
            (g,) = torch.autograd.grad(loss_fn(t, Xt, Yt), t)
            t = (t - ETA * g).detach()
        return t.numpy()

    def hessian(theta, X, Y):
        t = torch.tensor(theta, dtype=torch.float64)
        Xt, Yt = torch.tensor(X), torch.tensor(Y)
        return torch.autograd.functional.hessian(lambda p: loss_fn(p, Xt, Yt), t).numpy()

    def train_tangent(theta, v, X, Y, steps):
        t = torch.tensor(theta, dtype=torch.float64)
        vt = torch.tensor(v, dtype=torch.float64)
        Xt, Yt = torch.tensor(X), torch.tensor(Y)
        for _ in range(steps):
            t.requires_grad_(True)
            (g,) = torch.autograd.grad(loss_fn(t, Xt, Yt), t, create_graph=True)
            (hv,) = torch.autograd.grad(g, t, grad_outputs=vt)  # reverse-over-reverse HVP
            t = (t - ETA * g).detach()
            vt = (vt - ETA * hv).detach()
        return t.numpy(), vt.numpy()

    return train, train_tangent, hessian


# ---------------------------------------------------------------------------------------------- harness

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    repeat = max(5, args.repeat)
    steps = args.steps
    net, train = paper_setup()
    X, Y = train.X, train.Y
    theta0 = net.init(seed=0)
    v0 = np.random.default_rng(1).standard_normal(net.n_params)
    v0 /= np.linalg.norm(v0)
    F1 = TrainingMap(net, train, ETA, threads=1)
    F2 = TrainingMap(net, train, ETA, threads=2)
    many = net.init(seed=0, n=64)

    impls = {
        "T1": {"dsanalyze": lambda: F1.train(theta0, steps).theta[0],
               "NumPy": lambda: numpy_train(theta0.copy(), X, Y, steps)},
        "T2": {"dsanalyze": lambda: F1.propagate(theta0, v0, steps),
               "NumPy": lambda: numpy_train_tangent(theta0.copy(), v0.copy(), X, Y, steps)},
        "T3": {"dsanalyze 1 thread": lambda: F1.train(many, steps).theta,
               "dsanalyze 2 threads": lambda: F2.train(many, steps).theta},
        "T4": {"dsanalyze": lambda: F1.hvp(theta0, np.eye(net.n_params)),
               "NumPy": lambda: numpy_hessian(theta0, X, Y)},
    }
    per_step = {"T1": steps, "T2": steps, "T3": steps, "T4": net.n_params}
    nb = numba_impl()
    if nb is not None:
        impls["T1"]["numba (naive loops)"] = lambda: nb(theta0, X, Y, steps)
    tc = torch_impl()
    if tc is not None:
        impls["T1"]["PyTorch CPU"] = lambda: tc[0](theta0, X, Y, steps)
        impls["T2"]["PyTorch CPU (double backward)"] = lambda: tc[1](theta0, v0, X, Y, steps)
        impls["T4"]["PyTorch CPU (functional.hessian)"] = lambda: tc[2](theta0, X, Y)

    failed = False
    print(f"4-10-3 sigmoid network, cross-entropy, {X.shape[0]} samples, eta = {ETA}, {steps} steps, "
          f"medians of {repeat} runs (us per step; T3: per step of all 64 trajectories)")
    for workload, rows in impls.items():
        first, times, results = {}, {name: [] for name in rows}, {}
        for name, fn in rows.items():
            t = time.perf_counter()
            results[name] = fn()
            first[name] = time.perf_counter() - t
        for _ in range(repeat):
            for name, fn in rows.items():
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        ref_name = next(iter(rows))
        ref = results[ref_name]
        base = statistics.median(times[ref_name])
        unit = "us/HVP" if workload == "T4" else "us/step"
        print(f"\n{workload}")
        print(f"  {'implementation':32} {unit:>10} {'ratio':>8} {'first call s':>13}  check")
        for name in rows:
            med = statistics.median(times[name])
            got = results[name]
            pairs = zip(ref, got) if isinstance(ref, tuple) else [(ref, got)]
            err = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(a))) for a, b in pairs)
            ok = err <= 1e-9
            failed |= not ok
            print(f"  {name:32} {med / per_step[workload] * 1e6:10.2f} {med / base:8.2f} {first[name]:13.3f}  "
                  f"{'ok' if ok else 'FAILED'} (max rel. difference {err:.1e})")
    if nb is None:
        print("\n(numba not installed: its row is skipped)")
    if tc is None:
        print("(PyTorch not installed: its rows are skipped)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
