"""The LaTeX report: escaping, math, the PDF build, its failures, and nothing half written."""
import shutil
import subprocess
import time

import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.analysis import Analysis, Figure, Finding, resolve_window
from dsanalyze.errors import ReportBuildError, TeXNotFoundWarning
from dsanalyze.report import render_tex
from dsanalyze.report.build import find_latex
from dsanalyze.report.latex import cell, condition_latex, escape
from dsanalyze.verify import Basis, Verdict

needs_tex = pytest.mark.skipif(find_latex() is None, reason="TeX Live is not installed")


def _small_analysis(latex="x = 0", name="logistic", description="the logistic map"):
    system = ds.models.logistic().replace(name=name, description=description)
    verdict = Verdict("x = 0 is fixed", 0, 0.0, 1e-12, True, Basis.NUMERIC)
    finding = Finding("Fixed points", "fixed point x = 0", latex, None, (verdict,))
    return Analysis(system, resolve_window(system), [finding])


def test_escape_prints_every_special_character_as_itself():
    assert escape(r"a_b & 50% #1 $x$ {y} ~z ^w \v") == (
        r"a\_b \& 50\% \#1 \$x\$ \{y\} \textasciitilde{}z \^{}w \textbackslash{}v")


def test_conditions_print_as_chained_inequalities():
    mu, u, v = sp.symbols("mu u v", real=True)
    text = condition_latex(sp.And(mu > 0, mu < 1))
    assert text == r"0 < \mu < 1"
    assert "wedge" not in condition_latex(sp.And(mu > 0, mu * (u**2 + v**2) < 2))


def test_cells_show_sympy_as_math_and_numbers_to_ten_digits():
    assert cell(sp.log(3)) == r"$\log{\left(3 \right)}$ $= 1.098612289$"
    assert cell(0.1234567890123) == "0.123456789"
    assert cell(None) == "--"
    assert cell("a_b") == r"a\_b"


def test_user_text_is_escaped_in_the_tex():
    tex = render_tex(_small_analysis(name="my_model & co", description="50% of \\input{/etc/passwd}"))
    assert r"my\_model \& co" in tex
    assert r"50\% of \textbackslash{}input\{/etc/passwd\}" in tex
    assert r"\input{/etc" not in tex


@needs_tex
def test_two_factor_report_pdf(tmp_path):
    analysis = ds.analyze(ds.models.two_factor(), timeout=60)
    start = time.perf_counter()
    pdf = analysis.report(tmp_path / "out")
    assert pdf == tmp_path / "out" / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert time.perf_counter() - start < 120
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == [
        "basins.pdf", "lyapunov.pdf", "orbit-diagram.pdf"]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".report-")]
    tex = (tmp_path / "out" / "report.tex").read_text()
    assert r"- \mu^{2} u v + \mu^{2} + \mu u^{2} + \mu v^{2} - 4" in tex  # the invariant ellipse
    assert r"\mu \left(u^{2} + v^{2}\right) < 2" in tex  # stability on uv = 1
    assert r"\failed" not in tex.split(r"\section{Verification}")[1]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "-mu**2*u*v + mu**2 + mu*u**2 + mu*v**2 - 4 = 0 is invariant" in text
        assert "u*v - 1 = 0 is stable iff" in text
        assert "Every checked claim passed" in text


@needs_tex
def test_a_latex_failure_raises_with_the_log_lines_and_keeps_the_tex(tmp_path):
    broken = _small_analysis(latex=r"\undefinedmacro{x}")
    start = time.perf_counter()
    with pytest.raises(ReportBuildError) as info:
        broken.report(tmp_path, timeout=60)
    assert time.perf_counter() - start < 60
    assert any("Undefined control sequence" in line for line in info.value.log_lines)
    assert (tmp_path / "report.tex").exists() and (tmp_path / "report.log").exists()
    assert not (tmp_path / "report.pdf").exists()


def test_without_tex_the_tex_and_figures_are_written(tmp_path, monkeypatch):
    monkeypatch.setattr("dsanalyze.report.find_latex", lambda: None)
    with pytest.warns(TeXNotFoundWarning, match="apt-get install"):
        path = _small_analysis().report(tmp_path)
    assert path == tmp_path / "report.tex" and path.exists()
    assert not (tmp_path / "report.pdf").exists()


def test_a_failing_figure_leaves_nothing_written(tmp_path):
    analysis = _small_analysis()

    def draw(ax):
        raise RuntimeError("no data")

    analysis.figures.append(Figure("broken", "a figure that fails", draw))
    with pytest.raises(RuntimeError, match="no data"):
        analysis.report(tmp_path / "out", pdf=False)
    assert list((tmp_path / "out").iterdir()) == []
