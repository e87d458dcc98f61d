"""What an analysis holds: findings (a derived result with its verdicts), figures, and notes."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..systems import System
from ..verify import Verdict
from .window import Window

__all__ = ["SECTIONS", "Finding", "Figure", "Analysis"]

#: The sections of an analysis, in the order a report prints them.
SECTIONS = (
    "Fixed points",
    "Linearisation",
    "Stability",
    "Bifurcations",
    "Periodic orbits",
    "Invariant curves",
    "Conserved quantities",
    "Invariant subspaces",
    "Lyapunov exponents",
    "Epidemic",
)


@dataclass(frozen=True)
class Finding:
    """One derived result, how it reads, and the verdicts of its checks.

    Attributes
    ----------
    section : str
        One of :data:`SECTIONS`.
    title : str
        A plain-text headline ("fixed point (u, v) = (0, 0)").
    latex : str
        The result as display math (no dollar signs); empty for prose-only findings.
    result : object
        The derived object (FixedPoint, StabilityCondition, ...), or None.
    verdicts : tuple of Verdict
        Its checks, in the order they ran.
    text : str
        Plain prose for the reader (escaped by the report).
    """

    section: str
    title: str
    latex: str = ""
    result: Any = field(default=None, repr=False, compare=False)
    verdicts: tuple[Verdict, ...] = ()
    text: str = ""

    def __post_init__(self):
        if self.section not in SECTIONS:
            raise ValueError(f"unknown section {self.section!r}; sections are {', '.join(SECTIONS)}")


@dataclass(frozen=True)
class Figure:
    """A figure of numeric evidence: its data are computed, ``draw`` puts them on matplotlib axes.

    Attributes
    ----------
    name : str
        File stem (letters, digits, dashes), e.g. ``"orbit-diagram"``.
    caption : str
        Plain text.
    draw : callable
        ``draw(ax)`` draws the figure on an Axes.
    """

    name: str
    caption: str
    draw: Callable[[Any], None] = field(repr=False, compare=False)


@dataclass
class Analysis:
    """Everything :func:`dsanalyze.analyze` derived about a system, with the verdicts of its checks.

    Attributes
    ----------
    system : System
    window : Window
        The parameter range, fixed values and state box the checks and figures used.
    findings : list of Finding
    figures : list of Figure
    notes : list of str
        Steps that were skipped or ran out of time, and choices made.
    seconds : dict of str to float
        Wall time of each step.
    """

    system: System
    window: Window
    findings: list[Finding] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def verdicts(self) -> list[Verdict]:
        """Every verdict, in the order of the findings."""
        return [v for f in self.findings for v in f.verdicts]

    @property
    def failed(self) -> list[Verdict]:
        """The verdicts that failed."""
        return [v for v in self.verdicts if v.passed is False]

    @property
    def unchecked(self) -> list[Verdict]:
        """The claims that could not be checked."""
        return [v for v in self.verdicts if v.passed is None]

    @property
    def passed(self) -> bool:
        """True when no verdict failed (unchecked claims are listed, not counted as passed)."""
        return not self.failed

    def section(self, name: str) -> list[Finding]:
        """The findings of one section."""
        if name not in SECTIONS:
            raise ValueError(f"unknown section {name!r}; sections are {', '.join(SECTIONS)}")
        return [f for f in self.findings if f.section == name]

    def summary(self) -> str:
        """A plain-text account: findings by section, then the verdict counts."""
        lines = [f"{self.system.name or 'system'} ({self.system.kind}, dimension {self.system.dim})"]
        for name in SECTIONS:
            found = self.section(name)
            if found:
                lines.append(f"{name}:")
                lines.extend(f"  - {f.title}" for f in found)
        verdicts = self.verdicts
        lines.append(
            f"verdicts: {sum(v.passed is True for v in verdicts)} passed, {len(self.failed)} failed, "
            f"{len(self.unchecked)} unchecked"
        )
        lines.extend(f"  FAILED: {v}" for v in self.failed)
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def report(self, outdir: str | Path, *, pdf: bool = True, title: str | None = None, timeout: float = 300.0) -> Path:
        """Write ``report.tex``, the figures (PDF) and, with ``pdf=True``, ``report.pdf`` into ``outdir``.

        See :func:`dsanalyze.report.write_report`; returns the path of the
        PDF, or of the .tex when no PDF was built.
        """
        from ..report import write_report

        return write_report(self, outdir, pdf=pdf, title=title, timeout=timeout)
