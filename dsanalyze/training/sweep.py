"""A regime table over learning rates, from many seeded initialisations, in parallel.

For every learning rate and seed the table trains the network, classifies the
loss curve, follows one perturbed copy (two-trajectory method) and the
tangent dynamics (finite-time maximal Lyapunov exponent). Each learning rate
is one call of the compiled kernels, the seeds spread over threads.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .. import _training
from ..errors import TrainingError
from ..progress import progress
from .data import Dataset, iris, split
from .maps import TrainingMap, _count
from .measures import LossCurve, _fit_window, _orthonormal, classify_loss
from .network import Network

__all__ = ["RegimeRow", "RegimeTable", "sweep", "paper_setup"]


def paper_setup(seed: int = 0) -> tuple[Network, Dataset]:
    """The setup of Danovski, Soriano & Lacasa: a 4-10-3 sigmoid network, cross-entropy, on Iris.

    The training set is 120 of the 150 flowers, 40 per species, chosen by
    :func:`~dsanalyze.training.split` with ``seed``; inputs are the raw
    measurements in cm (not standardised).
    """
    train, _ = split(iris(), 120, seed=seed)
    return Network((4, 10, 3), "sigmoid", "cross-entropy"), train


@dataclass(frozen=True)
class RegimeRow:
    """What training at one learning rate did, over the seeds.

    Attributes
    ----------
    lr : float
    curves : dict of LossCurve to int
        How many runs gave each kind of loss curve.
    final_loss : (seeds,) ndarray
        Loss at the end of each run (NaN for a diverged run).
    exponent : float
        Slope of ln <d(t)> (mean over seeds of the distance of one perturbed
        copy per seed) over the fitted window, per step.
    window : (int, int)
        The fitted window.
    mle : (seeds,) ndarray
        Finite-time maximal Lyapunov exponent of each run over the whole run (tangent dynamics).
    mle_window : (seeds,) ndarray
        The same over the fitted window only.
    """

    lr: float
    curves: dict = field(repr=False)
    final_loss: np.ndarray = field(repr=False)
    exponent: float
    window: tuple[int, int]
    mle: np.ndarray = field(repr=False)
    mle_window: np.ndarray = field(repr=False)
    mean_distance: np.ndarray = field(repr=False)

    @property
    def regime(self) -> LossCurve:
        """The most frequent kind of loss curve."""
        return max(self.curves.items(), key=lambda kv: kv[1])[0]


@dataclass(frozen=True)
class RegimeTable:
    """Rows of :class:`RegimeRow`, one per learning rate."""

    rows: tuple[RegimeRow, ...]
    network: Network
    data_name: str
    steps: int
    seeds: int
    eps: float

    def row(self, lr: float) -> RegimeRow:
        for r in self.rows:
            if np.isclose(r.lr, lr):
                return r
        raise TrainingError(f"no row for learning rate {lr}; rows: {[r.lr for r in self.rows]}")

    def __str__(self) -> str:
        lines = [f"{'lr':>8} {'regime':>24} {'final loss':>11} {'ln<d> slope':>12} {'window':>10} {'MLE (window)':>13}"]
        for r in self.rows:
            lines.append(f"{r.lr:8.4g} {r.regime.value:>24} {np.nanmedian(r.final_loss):11.4g} {r.exponent:12.4g} "
                         f"{str(r.window):>10} {np.nanmean(r.mle_window):13.4g}")
        return "\n".join(lines)

    def latex(self) -> str:
        """A LaTeX tabular of the table."""
        head = (r"\begin{tabular}{rlrrrr}" "\n" r"$\eta$ & loss curve & final loss & slope of $\ln\langle d\rangle$ "
                r"& window & MLE (window) \\ \hline")
        body = []
        for r in self.rows:
            counts = ", ".join(f"{c.value} {n}" for c, n in r.curves.items())
            body.append(f"{r.lr:g} & {counts} & {np.nanmedian(r.final_loss):.4g} & {r.exponent:.4g} & "
                        f"{r.window[0]}--{r.window[1]} & {np.nanmean(r.mle_window):.4g} \\\\")
        return "\n".join([head, *body, r"\end{tabular}"])


def sweep(lrs: Sequence[float], network: Network | None = None, data: Dataset | None = None, *, seeds: int = 8,
          steps: int = 1000, eps: float = 1e-8, norm: int = 1, seed: int = 0, batch_size: int | None = None,
          threads: int | None = None, show_progress: bool | None = None) -> RegimeTable:
    """A regime table over learning rates.

    Parameters
    ----------
    lrs : sequence of float
    network, data : optional
        Default: :func:`paper_setup` (4-10-3 sigmoid on 120 Iris flowers).
    seeds : int
        Initialisations per learning rate (``network.init(seed + r)``, r < seeds).
    steps : int
        Steps of every run.
    eps : float
        Size of the perturbation of each run's copy (in the chosen norm).
    norm : 1 or 2
    batch_size : int, optional
        SGD batches (default full batch).

    Returns
    -------
    RegimeTable

    Examples
    --------
    >>> table = sweep([0.01, 1.0], seeds=2, steps=200)
    >>> table.row(0.01).regime.value, bool(table.row(1.0).exponent > 0.05)
    ('monotone', True)
    """
    if network is None or data is None:
        default_net, default_data = paper_setup()
        network = network or default_net
        data = data or default_data
    steps = _count(steps, "steps", 2)
    seeds = _count(seeds, "seeds", 1)
    lrs = [float(x) for x in np.atleast_1d(np.asarray(lrs, dtype=np.float64))]
    if not lrs:
        raise TrainingError("give at least one learning rate")
    theta0 = network.init(seed, n=seeds)
    rng = np.random.default_rng(seed)
    direction = rng.standard_normal(theta0.shape)
    size = np.abs(direction).sum(axis=1) if norm == 1 else np.linalg.norm(direction, axis=1)
    copies = theta0 + direction / size[:, None] * eps
    q0 = _orthonormal(network.n_params, 1, seed)
    rows = []
    for lr in progress(lrs, desc="learning rates", show=show_progress):
        F = TrainingMap(network, data, lr, batch_size=batch_size, threads=threads)
        ref = F.train(theta0, steps, snapshot_every=1)
        curves = Counter(classify_loss(L) for L in ref.losses)
        final = ref.losses[:, -1].copy()
        ok = ~ref.diverged
        if ok.any():
            pert = F.train(copies[ok], steps, reference=ref.snapshots[ok], reference_index=np.arange(int(ok.sum())),
                           norm=norm)
            good = ~pert.diverged
            mean = pert.distances[good].mean(axis=0) if good.any() else np.full(steps + 1, np.nan)
        else:
            mean = np.full(steps + 1, np.nan)
        logd = np.log(mean)
        if np.all(np.isfinite(logd)):
            t0, t1 = _fit_window(logd, 2.0, 4.0)
            t = np.arange(t0, t1 + 1)
            exponent = float(np.polyfit(t, logd[t0:t1 + 1], 1)[0])
        else:
            t0, t1, exponent = 0, steps, float("nan")
        mle = _finite_time_mle(F, theta0, steps, q0)
        mle_window = _finite_time_mle(F, theta0, max(t1, 1), q0)
        rows.append(RegimeRow(lr, {c: curves[c] for c in LossCurve if curves[c]}, final, exponent, (int(t0), int(t1)),
                              mle, mle_window, mean))
    return RegimeTable(tuple(rows), network, data.name, steps, seeds, float(eps))


def _finite_time_mle(F: TrainingMap, theta0: np.ndarray, steps: int, q0: np.ndarray) -> np.ndarray:
    logsum, _, _, status, _ = _training.lyapunov(*F._args, theta0, q0, np.full(theta0.shape[0], F.lr), 0, steps,
                                                 F.batch_size, 0, F.threads)
    out = logsum[:, 0] / steps
    out[status != _training.OK] = np.nan
    return out
