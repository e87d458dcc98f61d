"""The dsanalyze command: listing and showing models, exit codes."""
import subprocess
import sys

from dsanalyze.cli import main
from dsanalyze.models import LIBRARY


def test_models_lists_every_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == len(LIBRARY)
    assert lines[0].split()[:2] == ["two-factor", "map"]
    assert any(line.split()[:2] == ["lorenz", "flow"] for line in lines)


def test_show_prints_text_and_latex(capsys):
    assert main(["show", "two-factor"]) == 0
    out = capsys.readouterr().out
    assert "u' = -mu*v*(u*v - 1) + u" in out
    assert "v' = -mu*u*(u*v - 1) + v" in out
    assert "u' &= - \\mu v \\left(u v - 1\\right) + u" in out
    assert "parameters: mu" in out


def test_show_gives_defaults(capsys):
    assert main(["show", "henon"]) == 0
    assert "a (default 7/5), b (default 3/10)" in capsys.readouterr().out


def test_unknown_model_exits_2_with_the_library_listed(capsys):
    assert main(["show", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert "no model called 'no-such-model'" in err and "two-factor" in err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "dsanalyze", "show", "logistic"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "x' = r*x*(1 - x)" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "dsanalyze", "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2


# ---- dsanalyze report ---------------------------------------------------------------------
import pathlib  # noqa: E402

import pytest  # noqa: E402

from dsanalyze.analysis import Analysis, Finding, resolve_window  # noqa: E402
from dsanalyze.report.build import find_latex  # noqa: E402
from dsanalyze.verify import Basis, Verdict  # noqa: E402

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def test_report_of_a_library_model(tmp_path, capsys):
    assert main(["report", "logistic", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    built = "report.pdf" if find_latex() else "report.tex"
    assert f"{built}: 37 checks: 37 passed, 0 failed, 0 unchecked" in out
    assert (tmp_path / built).exists()


@pytest.mark.parametrize("name", ["double-well-gd", "henon", "sir"])
def test_report_works_on_library_models(name, tmp_path, capsys):
    assert main(["report", name, "-o", str(tmp_path), "--no-pdf"]) == 0
    assert "0 failed" in capsys.readouterr().out
    assert "\\section{Verification}" in (tmp_path / "report.tex").read_text()


@pytest.mark.slow
def test_report_of_ring_gd(tmp_path, capsys):
    assert main(["report", "ring-gd", "-o", str(tmp_path)]) == 0


def test_report_of_a_model_file_with_a_loss(tmp_path, capsys):
    assert main(["report", str(EXAMPLES / "quartic_loss.toml"), "-o", str(tmp_path), "--range", "0.1", "1.3"]) == 0
    out = capsys.readouterr().out
    assert "0 failed, 0 unchecked" in out
    tex = (tmp_path / "report.tex").read_text()
    assert "swept over $[0.1, 1.3]$" in tex


def test_report_refuses_a_hostile_model_file_with_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostile = tmp_path / "evil.toml"
    hostile.write_text('name = "e"\nkind = "map"\nstate = ["x"]\n[equations]\n'
                       'x = "__import__(\'os\').system(\'touch PWNED\')"\n')
    assert main(["report", str(hostile), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "field 'equations.x', line 5: call of" in err
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, message", [
    (["report", "no-such-model", "-o", "x"], "no model called 'no-such-model'"),
    (["report", "missing.toml", "-o", "x"], "cannot read the model file missing.toml"),
    (["report", "logistic", "-o", "x", "--param", "q"], "q is not a parameter"),
    (["report", "logistic", "-o", "x", "--range", "2", "1"], "lo <= hi"),
    (["report", "logistic", "-o", "x", "--timeout", "-1"], "--timeout must be a positive"),
])
def test_report_bad_input_exits_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def _failing_analysis(*args, **kwargs):
    system = args[0]
    bad = Verdict("x = 2 is fixed", 0.0, 1.0, 1e-12, False, Basis.NUMERIC)
    return Analysis(system, resolve_window(system), [Finding("Fixed points", "x = 2", "x = 2", None, (bad,))])


def test_report_exits_1_when_a_verdict_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("dsanalyze.analysis.analyze", _failing_analysis)
    assert main(["report", "logistic", "-o", str(tmp_path), "--no-pdf"]) == 1
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.skipif(find_latex() is None, reason="TeX Live is not installed")
def test_report_exits_3_when_latex_fails(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        a = _failing_analysis(*args)
        a.findings[0] = Finding("Fixed points", "x", r"\undefinedmacro", None, ())
        return a

    monkeypatch.setattr("dsanalyze.analysis.analyze", broken)
    assert main(["report", "logistic", "-o", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "Undefined control sequence" in err and (tmp_path / "report.tex").exists()


def test_epidemic_command_is_wired(capsys):
    assert main(["epidemic", "--graph", "regular", "--degree", "3", "--n", "2000", "--tau", "3", "--gamma", "1",
                 "--runs", "2"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("predicted final size"))
    assert abs(float(line.split(":")[1].split(";")[0]) - 26 / 27) < 2e-3
    assert main(["epidemic", "--graph", "er", "--n", "-5"]) == 2
