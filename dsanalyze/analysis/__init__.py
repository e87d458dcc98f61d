"""analyze -> verify: derive everything that applies to a system and check every claim.

:func:`analyze` runs the derivations that apply (fixed points, linearisation,
stability conditions, bifurcations in the swept parameter, low periods,
invariant curves, conserved quantities, restrictions to invariant subspaces,
Lyapunov exponents), checks each result with the compiled kernels, computes
the figures of evidence, and returns an :class:`Analysis`; its
:meth:`~Analysis.report` writes the LaTeX report.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import DsAnalyzeError
from ..progress import progress_bar
from ..systems import System
from .derive import STEPS, Context, run_steps
from .evidence import build_figures
from .findings import SECTIONS, Analysis, Figure, Finding
from .window import Window, resolve_window

__all__ = ["analyze", "Analysis", "Finding", "Figure", "Window", "SECTIONS"]


def analyze(system: System, param: Any = None, ranges: Mapping[str, Any] | None = None, timeout: float | None = None,
            *, degree: int = 2, max_period: int = 2, seed: int = 0, figures: bool = True,
            show_progress: bool | None = None) -> Analysis:
    """Derive what applies to ``system``, verify every result, and collect the evidence.

    Parameters
    ----------
    system : Map or Flow
    param : str or Symbol, optional
        The parameter to sweep (bifurcations, orbit diagrams, exponents).
        Default: the library's suggestion for a library model, the only
        parameter when there is one.
    ranges : mapping of name to (lo, hi), optional
        Ranges of parameters and state variables for checks and figures
        (see :func:`~dsanalyze.analysis.window.resolve_window`).
    timeout : float, optional
        Seconds for each symbolic derivation (None: no limit). A derivation
        past it is noted in :attr:`Analysis.notes` and the rest goes on.
    degree : int
        Highest degree of invariant curves and conserved quantities sought.
    max_period : int
        Highest period of the periodic orbits derived (maps of dimension <= 2).
    seed : int
        Seed of every random sample the checks draw.
    figures : bool
        Compute the figures of evidence.
    show_progress : bool, optional
        A progress bar over the steps (default: only on a terminal).

    Returns
    -------
    Analysis

    Examples
    --------
    >>> import dsanalyze as ds
    >>> a = ds.analyze(ds.models.logistic(), figures=False)
    >>> [f.title for f in a.section("Bifurcations")]
    ['transcritical at r = 1 (multiplier 1)', 'supercritical flip at r = -1 (multiplier -1)', 'supercritical flip at r = 3 (multiplier -1)']
    >>> a.passed
    True
    """
    if not isinstance(system, System):
        raise TypeError(f"analyze needs a Map or a Flow, got {type(system).__name__}")
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise DsAnalyzeError(f"degree must be an integer >= 1, got {degree!r}")
    if isinstance(max_period, bool) or not isinstance(max_period, int) or max_period < 1:
        raise DsAnalyzeError(f"max_period must be an integer >= 1, got {max_period!r}")
    window = resolve_window(system, param, ranges)
    analysis = Analysis(system, window, notes=list(window.notes))
    ctx = Context(system, window, analysis, timeout, seed, degree, max_period)
    with progress_bar(total=len(STEPS) + int(figures), desc="analysis", unit="step", show=show_progress) as bar:
        run_steps(ctx, bar)
        if figures:
            bar.set_description("figures")
            analysis.figures.extend(build_figures(ctx))
            bar.update(1)
    return analysis
