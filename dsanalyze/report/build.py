"""Turning report.tex into report.pdf with latexmk (or pdflatex), never waiting on input."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..errors import ReportBuildError

__all__ = ["find_latex", "build_pdf", "INSTALL_HINT"]

INSTALL_HINT = (
    "install TeX Live (Debian/Ubuntu: sudo apt-get install --no-install-recommends texlive-latex-base "
    "texlive-latex-recommended lmodern latexmk) and run `latexmk -pdf report.tex` in the output directory"
)


def find_latex() -> list[str] | None:
    """The command that builds a PDF: latexmk when installed, else pdflatex; None without TeX."""
    latexmk = shutil.which("latexmk")
    pdflatex = shutil.which("pdflatex")
    if latexmk and pdflatex:
        return [latexmk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "-norc"]
    if pdflatex:
        return [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]
    return None


def _error_lines(log: str, context: int = 3) -> list[str]:
    """The lines of a LaTeX log that say what went wrong: each '!' or 'file:line:' error and what follows."""
    lines = log.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("!") or (":" in line and line.split(":")[1].strip().isdigit() and "error" in line.lower()) \
                or line.startswith("./report.tex:"):
            for extra in lines[i: i + context + 1]:
                if extra not in picked:
                    picked.append(extra)
    return picked[:40]


def build_pdf(tex: Path, *, timeout: float = 300.0) -> Path:
    """Build ``tex`` into a PDF in its own directory; return the PDF's path.

    Raises
    ------
    ReportBuildError
        When LaTeX fails or runs past ``timeout`` seconds, with the error lines of its log.
    FileNotFoundError
        When no LaTeX is installed (see :func:`find_latex`).
    """
    command = find_latex()
    if command is None:
        raise FileNotFoundError("no LaTeX found; " + INSTALL_HINT)
    tex = Path(tex)
    env = dict(os.environ, TEXINPUTS=f".{os.pathsep}", max_print_line="1000")
    runs = 1 if "latexmk" in Path(command[0]).name else 2  # pdflatex twice for the table of contents
    for _ in range(runs):
        try:
            result = subprocess.run([*command, tex.name], cwd=tex.parent, stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, errors="replace", timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise ReportBuildError(f"LaTeX ran past {timeout:g} s building {tex} and was stopped") from None
        log_file = tex.with_suffix(".log")
        log = log_file.read_text(errors="replace") if log_file.exists() else result.stdout
        if result.returncode != 0:
            lines = _error_lines(log) or result.stdout.splitlines()[-15:]
            raise ReportBuildError(f"LaTeX failed on {tex} (exit code {result.returncode}); from its log:", lines)
    pdf = tex.with_suffix(".pdf")
    if not pdf.exists():
        raise ReportBuildError(f"LaTeX finished but wrote no {pdf.name}", _error_lines(log))
    return pdf
