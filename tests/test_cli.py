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
