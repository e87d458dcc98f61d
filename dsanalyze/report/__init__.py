"""The LaTeX report of an :class:`~dsanalyze.analysis.Analysis`: report.tex, figures (PDF), report.pdf.

The .tex comes from a Jinja2 template shipped in the package; math is printed
by SymPy's LaTeX printer (conditions as chained relations, ``0 < \\mu < 1``),
every piece of user text is escaped. Everything is first written into a
temporary directory inside the output directory and moved into place only
when complete, so a failure leaves nothing half written (a LaTeX failure
keeps ``report.tex`` and ``report.log`` for inspection).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import jinja2
import sympy as sp

from ..errors import ReportBuildError, TeXNotFoundWarning
from .build import INSTALL_HINT, build_pdf, find_latex
from .latex import cell, escape, tolerance_cell

__all__ = ["write_report", "render_tex", "ReportBuildError"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("dsanalyze.report", "templates"),
    block_start_string=r"\BLOCK{", block_end_string="}",
    variable_start_string=r"\VAR{", variable_end_string="}",
    comment_start_string=r"\#{", comment_end_string="}",
    line_comment_prefix="%%#",
    trim_blocks=True, lstrip_blocks=True, autoescape=False, keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def _status(verdict) -> str:
    basis = verdict.basis.value
    word = {True: r"\passed", False: r"\failed", None: r"\unchecked"}[verdict.passed]
    return word if verdict.passed is None else f"{word} ({basis})"


def _model(analysis) -> dict[str, Any]:
    system = analysis.system
    window = analysis.window
    parts = []
    if window.param is not None:
        lo, hi = window.param_range
        parts.append(f"the parameter ${sp.latex(window.param)}$ is swept over $[{lo:g}, {hi:g}]$")
    if window.fixed:
        parts.append("fixed: " + ", ".join(f"${sp.latex(sp.Symbol(k))} = {v:g}$" for k, v in window.fixed.items()))
    samples = window.samples()
    if window.param is not None:
        parts.append("checks at $" + sp.latex(window.param) + " \\in \\{"
                     + ", ".join(f"{s[window.param.name]:g}" for s in samples) + r"\}$")
    box = ", ".join(f"${sp.latex(sp.Symbol(k))} \\in [{lo:g}, {hi:g}]$" for k, (lo, hi) in window.box.items())
    parts.append(f"orbits start in {box}")
    return {
        "description": escape(system.description or f"A {system.kind} of dimension {system.dim}."),
        "equations": system.latex(),
        "state": ", ".join(sp.latex(s) for s in system.state),
        "params": ", ".join(sp.latex(p) for p in system.params) or r"\text{none}",
        "loss": sp.latex(system.loss) if system.loss is not None else "",
        "reference": escape(system.reference),
        "window": "; ".join(parts) + ".",
    }


def render_tex(analysis, *, title: str | None = None, figure_files: dict[str, str] | None = None) -> str:
    """The text of report.tex for ``analysis`` (figures referenced by the names in ``figure_files``)."""
    from .. import __version__
    from ..analysis import SECTIONS

    rows = []
    numbers = {}
    for finding in analysis.findings:
        first = len(rows) + 1
        for verdict in finding.verdicts:
            rows.append({
                "number": len(rows) + 1,
                "claim": escape(verdict.claim, breakable=True),
                "predicted": cell(verdict.predicted),
                "measured": cell(verdict.measured),
                "tolerance": tolerance_cell(verdict.tolerance),
                "status": _status(verdict),
            })
        if finding.verdicts:
            numbers[id(finding)] = f"rows {first}--{len(rows)}" if len(rows) > first else f"row {first}"
    sections = []
    for name in SECTIONS:
        found = analysis.section(name)
        if not found:
            continue
        sections.append({"name": name, "findings": [
            {"title": escape(f.title), "latex": f.latex,
             "text": escape(f.text), "rows": numbers.get(id(f), "")}
            for f in found
        ]})
    verdicts = analysis.verdicts
    counts = {"passed": sum(v.passed is True for v in verdicts), "failed": len(analysis.failed),
              "unchecked": len(analysis.unchecked)}
    name = analysis.system.name or "a dynamical system"
    outcome = ("Every checked claim passed." if not counts["failed"]
               else f"{counts['failed']} claim(s) FAILED their checks; see the verification table.")
    summary = escape(
        f"dsanalyze derived the facts below for {name} ({analysis.system.kind}, dimension {analysis.system.dim}) "
        f"and checked each one numerically: {len(verdicts)} checks. {outcome}"
    )
    figures = [{"file": (figure_files or {}).get(f.name, f"{f.name}.pdf"), "caption": escape(f.caption)}
               for f in analysis.figures] if figure_files is not None else []
    return _ENV.get_template("report.tex.j2").render(
        version=__version__, title=escape(title or f"Analysis of {name}"), summary=summary, counts=counts,
        model=_model(analysis), sections=sections, figures=figures, rows=rows,
        notes=[escape(n) for n in analysis.notes],
    )


def _draw_figures(analysis, directory: Path) -> dict[str, str]:
    from matplotlib.figure import Figure as MplFigure

    files = {}
    for figure in analysis.figures:
        fig = MplFigure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.add_subplot()
        figure.draw(ax)
        file = f"{figure.name}.pdf"
        fig.savefig(directory / file)
        files[figure.name] = file
    return files


def _move_into(staging: Path, outdir: Path, names: list[str]) -> None:
    for name in names:
        source = staging / name
        if not source.exists():
            continue
        target = outdir / name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(source, target)


def write_report(analysis, outdir: str | os.PathLike, *, pdf: bool = True, title: str | None = None,
                 timeout: float = 300.0) -> Path:
    """Write ``report.tex``, ``figures/*.pdf`` and (``pdf=True``) ``report.pdf`` into ``outdir``.

    Parameters
    ----------
    analysis : Analysis
    outdir : path
        Created if missing; files of an earlier report there are replaced.
    pdf : bool
        Build the PDF with latexmk (or pdflatex). Without TeX installed, a
        :class:`~dsanalyze.errors.TeXNotFoundWarning` says how to install it
        and the .tex and figures are still written.
    title : str, optional
    timeout : float
        Seconds LaTeX may take before it is stopped.

    Returns
    -------
    Path
        ``report.pdf``, or ``report.tex`` when no PDF was built.

    Raises
    ------
    ReportBuildError
        LaTeX failed (the error lines of its log are in the message and in
        ``log_lines``); report.tex and report.log are kept in ``outdir``.
    """
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportBuildError(f"cannot create the output directory {outdir}: {exc}") from None
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=outdir))
    try:
        (staging / "figures").mkdir()
        files = _draw_figures(analysis, staging / "figures")
        tex = staging / "report.tex"
        tex.write_text(render_tex(analysis, title=title, figure_files=files), encoding="utf-8")
        if not pdf:
            _move_into(staging, outdir, ["figures", "report.tex"])
            return outdir / "report.tex"
        if find_latex() is None:
            _move_into(staging, outdir, ["figures", "report.tex"])
            warnings.warn(f"no LaTeX found, so no PDF: {outdir / 'report.tex'} and its figures are written; "
                          + INSTALL_HINT, TeXNotFoundWarning, stacklevel=2)
            return outdir / "report.tex"
        try:
            build_pdf(tex, timeout=timeout)
        except ReportBuildError:
            stale = outdir / "report.pdf"
            if stale.exists():
                stale.unlink()  # an older PDF must not pass for this report
            _move_into(staging, outdir, ["figures", "report.tex", "report.log"])
            raise
        _move_into(staging, outdir, ["figures", "report.tex", "report.pdf"])
        stale_log = outdir / "report.log"
        if stale_log.exists():
            stale_log.unlink()  # the log of an earlier failed build
        return outdir / "report.pdf"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
