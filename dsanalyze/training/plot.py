"""Figures of training dynamics (matplotlib; no ``plt.show``, so Agg-safe).

Every function takes ``ax=None`` (a new figure is made) and returns the Axes.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .measures import Divergence, SharpnessTrace

__all__ = ["distance_curves", "mle_against_lr", "sharpness_plot", "loss_curves"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def distance_curves(result: Divergence, ax=None, *, fit: bool = True):
    """ln <d(t)> against t for each eps, with the fitted lines over their windows.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> from dsanalyze.training import Network, TrainingMap, regression_data, divergence
    >>> F = TrainingMap(Network((2, 1), loss="squared"), regression_data(20, 2, seed=0), lr=0.1)
    >>> ax = distance_curves(divergence(F, np.zeros(3), 50, eps=[1e-8, 1e-6]))
    >>> len(ax.lines)
    4
    """
    ax = _axes(ax)
    t = np.arange(result.mean_distance.shape[1])
    for e, row, (t0, t1), slope in zip(result.eps, result.mean_distance, result.window, result.exponent):
        (line,) = ax.semilogy(t, row, label=f"eps = {e:g}")
        if fit and np.isfinite(slope):
            tt = np.arange(t0, t1 + 1)
            logd = np.log(row[t0:t1 + 1])
            c = np.mean(logd) - slope * np.mean(tt)
            ax.semilogy(tt, np.exp(c + slope * tt), "--", color=line.get_color(), lw=1,
                        label=f"slope {slope:.3g}/step")
    ax.set_xlabel("step t")
    ax.set_ylabel(f"<d(t)> (L{result.norm})")
    ax.set_title(f"perturbed copies, lr = {result.lr:g}")
    ax.legend(fontsize="small")
    return ax


def mle_against_lr(lrs: Sequence[float], mle: Any, ax=None, *, error: Any = None, label: str = "MLE"):
    """Maximal Lyapunov exponent (per step) against the learning rate (log axis)."""
    ax = _axes(ax)
    mle = np.asarray(mle, dtype=np.float64)
    if mle.ndim == 2:  # several seeds per learning rate: mean and spread
        error = mle.std(axis=1) if error is None else error
        mle = mle.mean(axis=1)
    ax.errorbar(lrs, mle, yerr=error, marker="o", capsize=3, label=label)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate eta")
    ax.set_ylabel("exponent per step")
    ax.set_title("maximal Lyapunov exponent")
    ax.legend(fontsize="small")
    return ax


def sharpness_plot(trace: SharpnessTrace, ax=None):
    """Sharpness along training against the threshold 2/eta."""
    ax = _axes(ax)
    ax.plot(trace.steps, trace.sharpness, label="sharpness (top Hessian eigenvalue)")
    ax.axhline(trace.threshold, color="k", ls="--", label=f"2/eta = {trace.threshold:.4g}")
    ax.set_xlabel("step")
    ax.set_ylabel("sharpness")
    ax.set_title(f"edge of stability, lr = {trace.lr:g}")
    ax.legend(fontsize="small")
    return ax


def loss_curves(losses: Any, labels: Sequence[str], ax=None):
    """Loss against step for several runs (rows of ``losses``), log scale."""
    ax = _axes(ax)
    for row, label in zip(np.atleast_2d(losses), labels):
        ax.semilogy(np.arange(row.size), row, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize="small")
    return ax
