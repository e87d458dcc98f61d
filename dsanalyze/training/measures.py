"""Stability measures of training trajectories.

- :func:`lyapunov_spectrum` / :func:`maximal_lyapunov`: the k leading Lyapunov
  exponents of the training map from its exact tangent dynamics
  V <- (I - eta H) V, re-orthonormalised by modified Gram-Schmidt every step,
  logarithms deferred (compiled, ``cext/_training.pyx``). Results are
  :class:`dsanalyze.numeric.lyapunov.LyapunovResult`, as for any map.
- :func:`divergence`: the two-trajectory method of Danovski, Soriano & Lacasa
  (arXiv:2404.05782): copies of the initial weights perturbed at scale eps,
  the mean distance <d(t)> (L1 or L2) to the reference trajectory, and the
  slope of ln <d(t)> over a fitted window.
- :func:`sharpness` and :func:`sharpness_along`: the top Hessian eigenvalue by
  Lanczos (``scipy.sparse.linalg.eigsh``) on exact Hessian-vector products,
  and its course along training against 2/eta (edge of stability, Cohen,
  Kaur, Li, Kolter & Talwalkar, ICLR 2021).
- :func:`classify_loss`: monotone, non-monotone convergent, non-convergent
  (or diverged), as a :class:`LossCurve`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Sequence

import numpy as np

from .. import _training
from ..errors import DimensionError, TrainingError
from ..numeric.lyapunov import LyapunovResult, _batch_se
from ..verify import Basis, Verdict
from .maps import TrainingMap, _count

__all__ = [
    "LossCurve", "classify_loss", "lyapunov_spectrum", "maximal_lyapunov", "Divergence", "divergence",
    "sharpness", "SharpnessTrace", "sharpness_along",
]

#: Largest number of samples of a running estimate kept by default.
SAMPLES = 1000


# ---------------------------------------------------------------------------------------------- loss curves


class LossCurve(str, Enum):
    """How the training loss behaved, as data."""

    MONOTONE = "monotone"                                   # never rises
    NON_MONOTONE_CONVERGENT = "non-monotone convergent"     # rises at times, then settles
    NON_CONVERGENT = "non-convergent"                       # keeps fluctuating (bounded)
    DIVERGED = "diverged"                                   # the loss or the weights blew up


def classify_loss(losses: Any, *, tail: float = 0.25, settle: float = 0.1, progress: float = 0.5,
                  rise: float = 1e-12) -> LossCurve:
    """Classify a loss curve L_0, ..., L_T.

    Parameters
    ----------
    losses : array_like
    tail : float
        Fraction of the run, at its end, that must have settled.
    settle : float
        The curve has settled when the spread (max - min) of its tail is at
        most ``settle`` times the total decrease L_0 - min(tail).
    progress : float
        A settled curve has converged only if its tail lies below
        ``(1 - progress) L_0``: a loss frozen on a high plateau (saturated
        units predicting chance, e.g. ln 3 for three balanced classes) has
        not converged in the sense of training.
    rise : float
        Relative rise per step still counted as not rising (rounding).

    Returns
    -------
    LossCurve
        ``MONOTONE`` if no step raises the loss by more than ``rise`` times
        its size; else ``NON_MONOTONE_CONVERGENT`` if the tail settled below
        ``(1 - progress) L_0``; else ``NON_CONVERGENT``; ``DIVERGED`` if a
        value is not finite.

    Examples
    --------
    >>> classify_loss([1.0, 0.5, 0.25, 0.2])
    <LossCurve.MONOTONE: 'monotone'>
    >>> classify_loss([1.0, 0.5, 0.6, 0.3, 0.31, 0.3, 0.3, 0.3])
    <LossCurve.NON_MONOTONE_CONVERGENT: 'non-monotone convergent'>
    >>> classify_loss([1.0, 2.0, 0.5, 3.0, 0.4, 2.5, 0.7, 3.1])
    <LossCurve.NON_CONVERGENT: 'non-convergent'>
    >>> classify_loss([1.2, 2.0, 1.1, 1.1, 1.1, 1.1])      # stuck on a plateau
    <LossCurve.NON_CONVERGENT: 'non-convergent'>
    """
    L = np.asarray(losses, dtype=np.float64)
    if L.ndim != 1 or L.size < 2:
        raise DimensionError(f"losses must be a 1-D curve of at least two values; got shape {L.shape}")
    if not 0 < tail <= 1:
        raise TrainingError(f"tail must lie in (0, 1], got {tail}")
    if not np.all(np.isfinite(L)):
        return LossCurve.DIVERGED
    steps = np.diff(L)
    if np.all(steps <= rise * np.maximum(np.abs(L[:-1]), 1e-300)):
        return LossCurve.MONOTONE
    end = L[-max(2, int(math.ceil(tail * L.size))):]
    decrease = L[0] - end.min()
    if decrease > 0 and end.max() - end.min() <= settle * decrease and end.max() <= (1 - progress) * L[0]:
        return LossCurve.NON_MONOTONE_CONVERGENT
    return LossCurve.NON_CONVERGENT


# ---------------------------------------------------------------------------------------------- Lyapunov exponents


def _orthonormal(P: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((P, k)))
    return np.ascontiguousarray(q.T)


def lyapunov_spectrum(F: TrainingMap, theta0: Any, steps: int, *, k: int = 1, transient: int = 0, seed: int = 0,
                      samples: int | None = None) -> LyapunovResult | list[LyapunovResult]:
    """The k leading Lyapunov exponents (per step) of the training map along the trajectory from theta0.

    The tangent vectors follow the exact tangent map V <- (I - eta H(theta_t)) V
    (Hessian-vector products by forward-over-reverse differentiation) and are
    re-orthonormalised by modified Gram-Schmidt after every step.

    Parameters
    ----------
    F : TrainingMap
    theta0 : (P,) or (n, P)
        Initial parameters; several rows run in parallel.
    steps : int
        Steps measured (after ``transient`` steps discarded). Training is
        transient by nature: the exponents over a finite run are finite-time
        exponents of that stretch of the trajectory.
    k : int
        Number of exponents.
    seed : int
        Seed of the random initial tangent vectors.
    samples : int, optional
        About how many samples of the running estimate to keep (default: up to 1000).

    Returns
    -------
    LyapunovResult, or a list of them for several rows
        A diverged trajectory gives NaN exponents with a note.

    Examples
    --------
    >>> from dsanalyze.training import Network, TrainingMap, regression_data
    >>> F = TrainingMap(Network((2, 1), loss="squared"), regression_data(30, 2, seed=0), lr=0.5)
    >>> r = lyapunov_spectrum(F, np.zeros(3), 200, k=3, transient=300)
    >>> H = F.hessian(np.zeros(3))
    >>> bool(np.allclose(r.exponents, np.sort(np.log(np.abs(1 - 0.5 * np.linalg.eigvalsh(H))))[::-1]))
    True
    """
    array, single = F._theta(theta0, "theta0")
    steps = _count(steps, "steps", 1)
    transient = _count(transient, "transient", 0)
    k = _count(k, "k", 1)
    if k > F.dim:
        raise DimensionError(f"k = {k} exponents asked, but the map has only dim = {F.dim}")
    samples = SAMPLES if samples is None else _count(samples, "samples", 1)
    every = max(1, steps // samples)
    n = array.shape[0]
    logsum, running, theta, status, fail = _training.lyapunov(
        *F._args, array, _orthonormal(F.dim, k, seed), np.full(n, F.lr), transient, steps,
        F.batch_size, every, F.threads)
    m = running.shape[1]
    axis = (np.arange(1, m + 1) * every).astype(np.float64)
    note = f"exact tangent dynamics, Gram-Schmidt every step, k = {k}, transient {transient}, lr {F.lr:g}"
    results = []
    for r in range(n):
        if status[r] != _training.OK:
            what = "the weights diverged" if status[r] == _training.DIVERGED else "a tangent vector collapsed"
            results.append(LyapunovResult(np.full(k, np.nan), np.full(k, np.nan), np.full((m, k), np.nan), axis,
                                          steps, theta[r].copy(), f"{what} at step {int(fail[r])}; exponents are NaN",
                                          int(fail[r])))
        else:
            results.append(LyapunovResult(logsum[r] / steps, _batch_se(running[r], axis), running[r] / axis[:, None],
                                          axis, steps, theta[r].copy(), note))
    return results[0] if single else results


def maximal_lyapunov(F: TrainingMap, theta0: Any, steps: int, **kwargs: Any) -> LyapunovResult | list[LyapunovResult]:
    """The maximal Lyapunov exponent: :func:`lyapunov_spectrum` with k = 1."""
    return lyapunov_spectrum(F, theta0, steps, k=1, **kwargs)


# ---------------------------------------------------------------------------------------------- two trajectories


@dataclass(frozen=True)
class Divergence:
    """Mean distance between a reference trajectory and perturbed copies, and its exponential rate.

    Attributes
    ----------
    eps : (e,) ndarray
        Perturbation sizes (the norm of each initial perturbation).
    mean_distance : (e, steps + 1) ndarray
        <d(t)> over the copies, per eps.
    exponent : (e,) ndarray
        Slope of ln <d(t)> over the fitted window, per step.
    exponent_error : (e,) ndarray
        Standard error of the slope (least squares).
    window : (e, 2) int ndarray
        First and last step of each fit.
    saturation : (e,) ndarray
        The level <d> saturates at (median over the last tenth of the run).
    norm : int
        1 (L1) or 2 (L2).
    copies : int
    lr : float
    losses : (steps + 1,) ndarray
        Loss of the reference trajectory.
    """

    eps: np.ndarray
    mean_distance: np.ndarray = field(repr=False)
    exponent: np.ndarray
    exponent_error: np.ndarray
    window: np.ndarray
    saturation: np.ndarray
    norm: int
    copies: int
    lr: float
    losses: np.ndarray = field(repr=False)

    @property
    def steps(self) -> int:
        return self.mean_distance.shape[1] - 1

    def verify(self, low: float, high: float) -> Verdict:
        """Check that every fitted exponent lies in [low, high]: a SAMPLED verdict.

        Examples
        --------
        >>> from dsanalyze.training import Network, TrainingMap, regression_data
        >>> F = TrainingMap(Network((2, 1), loss="squared"), regression_data(30, 2, seed=0), lr=0.1)
        >>> d = divergence(F, np.zeros(3), 100, eps=[1e-6])
        >>> d.verify(-1.0, -1e-3).passed      # gradient descent on a convex loss contracts
        True
        """
        got = self.exponent
        passed = bool(np.all(np.isfinite(got)) and np.all((got >= low) & (got <= high)))
        return Verdict(
            claim=f"ln<d(t)> grows at a rate in [{low:g}, {high:g}] per step (lr {self.lr:g})",
            predicted=[low, high], measured=got.tolist(), tolerance=None, passed=passed, basis=Basis.SAMPLED,
            evidence={"mean_distance": self.mean_distance, "eps": self.eps},
            note=(f"{self.copies} perturbed copies per eps, L{self.norm} distance, fitted windows "
                  f"{[tuple(int(x) for x in w) for w in self.window]}, standard errors "
                  f"{', '.join(f'{e:.2g}' for e in self.exponent_error)}"),
        )


def _fit_window(logd: np.ndarray, margin: float, rise: float) -> tuple[int, int]:
    """The stretch of ln <d(t)> to fit: from t = 0 until it comes within ``margin`` of its saturation level.

    Without a rise of more than ``rise`` above its start (no saturation in
    sight), the whole run is fitted.
    """
    T = logd.size - 1
    finite = np.isfinite(logd)
    last = T if finite.all() else int(np.argmin(finite)) - 1
    tail = logd[max(0, last - max(1, (last + 1) // 10)):last + 1]
    level = float(np.median(tail))
    if level - logd[0] <= rise:
        return 0, last
    above = np.flatnonzero(logd[: last + 1] >= level - margin)
    end = int(above[0]) if above.size else last
    return 0, max(end, 2)


def divergence(F: TrainingMap, theta0: Any, steps: int, *, eps: Sequence[float] = (1e-8,), copies: int = 8,
               norm: int = 1, seed: int = 0, window: tuple[int, int] | None = None, margin: float = 2.0,
               rise: float = 4.0) -> Divergence:
    """The two-trajectory method: perturbed copies of theta0, their mean distance and its growth rate.

    Each copy starts at theta0 + delta, with delta a random direction scaled
    to ``||delta|| = eps`` in the chosen norm; reference and copies train in
    parallel. ln <d(t)> is fitted by least squares over ``window`` (steps),
    by default from t = 0 until ln <d(t)> comes within ``margin`` (natural
    log units) of its saturation level, or over the whole run when
    ln <d(t)> never rises more than ``rise`` above ln eps.

    Parameters
    ----------
    F : TrainingMap
    theta0 : (P,)
    steps : int
    eps : sequence of float
        Perturbation sizes.
    copies : int
        Perturbed copies per eps.
    norm : 1 or 2
        L1 (as in the paper) or L2 distance.
    seed : int
        Seed of the perturbation directions.

    Returns
    -------
    Divergence
    """
    theta, single = F._theta(theta0, "theta0")
    if not single:
        raise DimensionError("divergence() takes one reference vector theta0 (P,)")
    steps = _count(steps, "steps", 2)
    copies = _count(copies, "copies", 1)
    eps = np.atleast_1d(np.asarray(eps, dtype=np.float64))
    if eps.ndim != 1 or eps.size == 0 or not np.all((eps > 0) & np.isfinite(eps)):
        raise TrainingError(f"eps must be positive finite perturbation sizes, got {eps!r}")
    reference = F.train(theta, steps, snapshot_every=1)
    if reference.diverged[0]:
        raise TrainingError(f"the reference trajectory diverged at step {int(reference.diverged_at[0])} "
                            f"(lr {F.lr:g}); lower the learning rate or the number of steps")
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((eps.size * copies, F.dim))
    scale = np.abs(directions).sum(axis=1) if norm == 1 else np.linalg.norm(directions, axis=1)
    starts = theta + directions / scale[:, None] * np.repeat(eps, copies)[:, None]
    run = F.train(starts, steps, reference=reference.snapshots, norm=norm)
    d = run.distances.reshape(eps.size, copies, steps + 1)
    mean = d.mean(axis=1) if not run.diverged.any() else np.where(
        run.diverged.reshape(eps.size, copies).any(axis=1)[:, None], np.nan, d.mean(axis=1))
    exps, errs, wins, sats = [], [], [], []
    for row in mean:
        logd = np.log(row)
        t0, t1 = window if window is not None else _fit_window(logd, margin, rise)
        if not 0 <= t0 < t1 <= steps:
            raise TrainingError(f"window must satisfy 0 <= t0 < t1 <= {steps}, got {(t0, t1)}")
        t = np.arange(t0, t1 + 1, dtype=np.float64)
        y = logd[t0:t1 + 1]
        if not np.all(np.isfinite(y)):
            exps.append(np.nan)
            errs.append(np.nan)
        else:
            A = np.vstack([t, np.ones_like(t)]).T
            coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
            resid = y - A @ coef
            dof = max(1, t.size - 2)
            se = math.sqrt(float(resid @ resid) / dof / float(((t - t.mean()) ** 2).sum()))
            exps.append(float(coef[0]))
            errs.append(se)
        wins.append((t0, t1))
        tail = row[-max(1, steps // 10):]
        sats.append(float(np.median(tail)))
    return Divergence(eps, mean, np.array(exps), np.array(errs), np.array(wins, dtype=np.int64), np.array(sats),
                      int(norm), copies, F.lr, reference.losses[0])


# ---------------------------------------------------------------------------------------------- sharpness


def sharpness(F: TrainingMap, theta: Any, *, tol: float = 1e-10, seed: int = 0) -> float:
    """The largest eigenvalue of the Hessian of the loss at theta (Lanczos on exact Hessian-vector products).

    Examples
    --------
    >>> from dsanalyze.training import Network, TrainingMap, regression_data
    >>> F = TrainingMap(Network((2, 1), loss="squared"), regression_data(30, 2, seed=0), lr=0.1)
    >>> bool(abs(sharpness(F, np.zeros(3)) - np.linalg.eigvalsh(F.hessian(np.zeros(3)))[-1]) < 1e-10)
    True
    """
    theta, single = F._theta(theta)
    if not single:
        raise DimensionError("sharpness() takes one parameter vector (P,)")
    P = F.dim
    if P <= 3:
        return float(np.linalg.eigvalsh(F.hessian(theta[0]))[-1])
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh  # imported here, as elsewhere

    args, threads = F._args, 1
    point = theta

    def matvec(v):
        V = np.ascontiguousarray(np.asarray(v, dtype=np.float64).reshape(1, 1, P))
        return _training.hvp(*args, point, V, threads)[2][0, 0]

    operator = LinearOperator((P, P), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(P)
    try:
        values = eigsh(operator, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)
    except ArpackNoConvergence as exc:  # fall back on the dense Hessian (P is small here)
        if P > 2000:
            raise TrainingError(f"Lanczos did not converge for the top Hessian eigenvalue: {exc}") from None
        return float(np.linalg.eigvalsh(F.hessian(theta[0]))[-1])
    return float(values[0])


@dataclass(frozen=True)
class SharpnessTrace:
    """Sharpness (top Hessian eigenvalue) along a training run, against the stability threshold 2/eta.

    Attributes
    ----------
    steps : (m,) int ndarray
        Steps at which it was measured.
    sharpness : (m,) ndarray
    losses : (T + 1,) ndarray
        Loss after every step.
    lr : float
    """

    steps: np.ndarray
    sharpness: np.ndarray = field(repr=False)
    losses: np.ndarray = field(repr=False)
    lr: float

    @property
    def threshold(self) -> float:
        """2/eta: gradient descent on a quadratic with this curvature is neutrally stable."""
        return 2.0 / self.lr

    def reached_at(self) -> int | None:
        """First measured step at which the sharpness is at least 2/eta, or None."""
        hit = np.flatnonzero(self.sharpness >= self.threshold)
        return int(self.steps[hit[0]]) if hit.size else None

    def verify(self, tolerance: float = 0.1) -> Verdict:
        """Edge of stability: the sharpness rises to 2/eta and from then on stays within ``tolerance`` (relative) of it.

        Returns a SAMPLED verdict; it fails when 2/eta is never reached.
        """
        reached = self.reached_at()
        claim = f"sharpness rises to 2/eta = {self.threshold:.6g} and stays within {100 * tolerance:g}% of it"
        evidence = {"steps": self.steps, "sharpness": self.sharpness}
        if reached is None:
            return Verdict(claim, self.threshold, float(np.nanmax(self.sharpness)), tolerance, False, Basis.SAMPLED,
                           evidence, note=f"the sharpness never reached 2/eta (largest {np.nanmax(self.sharpness):.6g})")
        after = self.sharpness[self.steps >= reached] / self.threshold - 1.0
        worst = float(np.max(np.abs(after)))
        return Verdict(claim, self.threshold, worst, tolerance, bool(np.all(np.isfinite(after)) and worst <= tolerance),
                       Basis.SAMPLED, evidence,
                       note=(f"initial sharpness {self.sharpness[0]:.4g}; reached 2/eta at step {reached}; largest "
                             f"relative deviation afterwards {worst:.3g} over {after.size} measurements up to step "
                             f"{int(self.steps[-1])}"))


def sharpness_along(F: TrainingMap, theta0: Any, steps: int, *, every: int = 10, tol: float = 1e-8) -> SharpnessTrace:
    """Train from theta0 and measure the sharpness every ``every`` steps.

    Raises
    ------
    TrainingError
        If the trajectory diverges.
    """
    steps = _count(steps, "steps", 1)
    every = _count(every, "every", 1)
    run = F.train(theta0, steps, snapshot_every=every)
    if run.diverged[0]:
        raise TrainingError(f"training diverged at step {int(run.diverged_at[0])} (lr {F.lr:g})")
    snaps = run.snapshots[0]
    values = np.array([sharpness(F, s, tol=tol) for s in snaps])
    return SharpnessTrace(np.arange(snaps.shape[0]) * every, values, run.losses[0], F.lr)
