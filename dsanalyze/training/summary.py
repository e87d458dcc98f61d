"""What a report section on a training setup shows: regimes over learning rates, with verdicts.

:func:`training_summary` runs, for each learning rate, the two-trajectory
method, the tangent-dynamics exponent over the same window, the loss-curve
class and the sharpness at the end against 2/eta, and states the checks a
reader can rely on as :class:`~dsanalyze.verify.Verdict` objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import TrainingError
from ..verify import Basis, Verdict
from .data import Dataset
from .maps import TrainingMap
from .measures import Divergence, LossCurve, classify_loss, divergence, maximal_lyapunov, sharpness
from .network import Network
from .sweep import paper_setup

__all__ = ["LearningRateResult", "TrainingSummary", "training_summary", "PAPER_EXPECTATIONS"]

#: Shortest fitted window (steps) over which the tangent and two-trajectory exponents are compared.
AGREEMENT_WINDOW = 100

#: The regimes of Danovski, Soriano & Lacasa (arXiv:2404.05782) on Iris, as checks:
#: lr -> (lowest, highest fitted slope of ln<d(t)> per step, loss curves allowed).
PAPER_EXPECTATIONS: dict[float, tuple[float, float, tuple[LossCurve, ...]]] = {
    0.01: (-1e-3, 1e-3, (LossCurve.MONOTONE,)),
    1.0: (0.1, 0.5, (LossCurve.MONOTONE, LossCurve.NON_MONOTONE_CONVERGENT, LossCurve.NON_CONVERGENT)),
    5.0: (-np.inf, np.inf, (LossCurve.NON_CONVERGENT, LossCurve.DIVERGED)),
}


@dataclass(frozen=True)
class LearningRateResult:
    """The measures at one learning rate (one initialisation)."""

    lr: float
    divergence: Divergence = field(repr=False)
    curve: LossCurve
    final_loss: float
    mle_window: float
    sharpness_final: float

    @property
    def exponent(self) -> float:
        """Fitted slope of ln <d(t)> for the smallest eps."""
        return float(self.divergence.exponent[0])


@dataclass(frozen=True)
class TrainingSummary:
    """Results over learning rates with their verdicts; ``latex()`` gives a table and the checks."""

    network: Network
    data_name: str
    steps: int
    seed: int
    results: tuple[LearningRateResult, ...]
    verdicts: tuple[Verdict, ...] = field(repr=False)

    @property
    def passed(self) -> bool:
        return all(v.passed is not False for v in self.verdicts)

    def latex(self) -> str:
        """A LaTeX table (one row per learning rate) followed by the verdicts as an itemised list."""
        lines = [
            f"% {self.network}, {self.data_name}, {self.steps} steps, initialisation seed {self.seed}",
            r"\begin{tabular}{rrlrrrrr}",
            r"$\eta$ & $2/\eta$ & loss curve & final loss & slope of $\ln\langle d(t)\rangle$ & window & "
            r"MLE (tangent) & $\lambda_{\max}(H)$ at the end \\ \hline",
        ]
        for r in self.results:
            w = r.divergence.window[0]
            lines.append(f"{r.lr:g} & {2 / r.lr:.4g} & {r.curve.value} & {r.final_loss:.4g} & "
                         f"{r.exponent:.4g} $\\pm$ {r.divergence.exponent_error[0]:.2g} & {w[0]}--{w[1]} & "
                         f"{r.mle_window:.4g} & {r.sharpness_final:.4g} \\\\")
        lines.append(r"\end{tabular}")
        lines.append(r"\begin{itemize}")
        for v in self.verdicts:
            lines.append(f"\\item[{v.status}] {_escape(v.claim)}: measured {_escape(_short(v.measured))} "
                         f"({v.basis.value}; {_escape(v.note)})")
        lines.append(r"\end{itemize}")
        return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


def _escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("<", r"$<$"), (">", r"$>$")):
        text = text.replace(a, b)
    return text


def training_summary(lrs: Sequence[float] = (0.01, 1.0, 5.0), network: Network | None = None,
                     data: Dataset | None = None, *, steps: int = 1000, seed: int = 0,
                     eps: Sequence[float] = (1e-8, 1e-6), copies: int = 8, norm: int = 1,
                     expectations: Mapping[float, tuple[float, float, tuple[LossCurve, ...]]] | None = None,
                     threads: int | None = None) -> TrainingSummary:
    """Stability of training over learning rates, with verdicts for a report.

    Parameters
    ----------
    lrs : sequence of float
    network, data : optional
        Default: the paper's setup (:func:`~dsanalyze.training.sweep.paper_setup`).
    steps, seed, eps, copies, norm
        As in :func:`~dsanalyze.training.divergence`; ``seed`` is the initialisation.
    expectations : mapping, optional
        lr -> (lowest, highest slope of ln<d(t)>, allowed loss curves); default
        :data:`PAPER_EXPECTATIONS` for the paper's setup, none otherwise.

    Returns
    -------
    TrainingSummary
        ``results`` per learning rate; ``verdicts``: the expected regimes (if
        any) and the agreement of the tangent-dynamics exponent with the
        two-trajectory slope where perturbations grow over at least
        ``AGREEMENT_WINDOW`` steps (unchecked, with the reason, where they
        saturate sooner). The sharpness at the last step is reported against
        2/eta in the table, without a verdict: training that settles while
        the sharpness exceeds 2/eta is not at a stable fixed point.

    Examples
    --------
    >>> s = training_summary(lrs=[0.01], steps=200, copies=2)
    >>> s.results[0].curve.value, s.passed
    ('monotone', True)
    """
    paper = network is None and data is None
    if network is None or data is None:
        default_net, default_data = paper_setup()
        network = network or default_net
        data = data or default_data
    if expectations is None:
        expectations = PAPER_EXPECTATIONS if paper else {}
    theta0 = network.init(seed)
    results, verdicts = [], []
    for lr in lrs:
        F = TrainingMap(network, data, lr, threads=threads)
        try:
            div = divergence(F, theta0, steps, eps=eps, copies=copies, norm=norm, seed=seed)
        except TrainingError as exc:
            verdicts.append(Verdict.unchecked(f"two-trajectory divergence at lr {lr:g}", None, str(exc)))
            continue
        curve = classify_loss(div.losses)
        t1 = int(div.window[0][1])
        mle = maximal_lyapunov(F, theta0, max(t1, 1)).maximal
        final_theta = F.train(theta0, steps).theta[0]
        top = sharpness(F, final_theta)
        result = LearningRateResult(lr, div, curve, float(div.losses[-1]), mle, top)
        results.append(result)
        if lr in expectations:
            low, high, allowed = expectations[lr]
            ok = bool(low <= result.exponent <= high and curve in allowed)
            verdicts.append(Verdict(
                f"lr {lr:g}: slope of ln<d(t)> in [{low:g}, {high:g}] and loss curve "
                f"{' or '.join(c.value for c in allowed)}",
                [low, high], [result.exponent, curve.value], None, ok, Basis.SAMPLED,
                {"mean_distance": div.mean_distance, "losses": div.losses},
                note=f"{copies} copies at eps {', '.join(f'{e:g}' for e in div.eps)}, window "
                     f"{tuple(int(x) for x in div.window[0])}"))
        grew = np.log(div.saturation[0] / div.eps[0]) > 4.0
        claim = f"lr {lr:g}: tangent-dynamics exponent over steps 0-{t1} agrees with the two-trajectory slope"
        if grew and t1 >= AGREEMENT_WINDOW:
            rel = abs(mle - result.exponent) / max(abs(result.exponent), 1e-12)
            verdicts.append(Verdict(claim, result.exponent, mle, 0.25, bool(rel <= 0.25), Basis.SAMPLED,
                                    note=f"relative difference {rel:.3g} (finite-time exponents of one trajectory)"))
        elif grew:
            verdicts.append(Verdict.unchecked(
                claim, result.exponent, f"the distance saturates within {t1} steps (< {AGREEMENT_WINDOW}): "
                f"finite perturbations leave the linear regime too soon to compare"))
    return TrainingSummary(network, data.name, steps, seed, tuple(results), tuple(verdicts))
