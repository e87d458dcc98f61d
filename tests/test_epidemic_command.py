"""``dsanalyze epidemic`` (called through its own main) and the report's epidemic section."""
import sympy as sp

from dsanalyze import models
from dsanalyze.epidemic_command import SimulatedEpidemic, epidemic_section, main
from dsanalyze.symbolic.epidemic import EndemicEquilibrium, FinalSize, ReproductionNumber
from dsanalyze.symbolic.network import NetworkFinalSize


def test_er_graph_prints_threshold_prediction_and_simulation(capsys):
    assert main(["--graph", "er", "--n", "20000", "--mean-degree", "10", "--runs", "6", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "N = 20000" in out
    assert "T = tau/(tau+gamma) = 0.230769" in out
    assert "EBCM final size (rho = 0.001): 0.86" in out
    assert "passed [sampled]" in out


def test_regular_graph_predicts_26_over_27(capsys):
    assert main(["--graph", "regular", "--degree", "3", "--n", "20000", "--tau", "3", "--gamma", "1",
                 "--rho", "0.0005", "--runs", "4"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("predicted final size"))
    predicted = float(line.split(":")[1].split(";")[0])
    assert abs(predicted - 26 / 27) < 2e-4  # a few edges erased from the 3-regular pairing


def test_edge_list_file_and_sis(tmp_path, capsys):
    path = tmp_path / "ring.txt"
    n = 300
    path.write_text("\n".join(f"{i} {(i + 1) % n}\n{i} {(i + 7) % n}" for i in range(n)))
    assert main(["--edges", str(path), "--model", "sis", "--tau", "0.5", "--tmax", "10", "--rho", "0.1",
                 "--runs", "3"]) == 0
    out = capsys.readouterr().out
    assert "N = 300" in out and "<k> = 4.0000" in out
    assert "HMF <k>/<k^2> = 0.25" in out


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["--edges", str(tmp_path / "missing.txt")]) == 2
    assert main(["--tau", "-1"]) == 2
    assert main(["--n", "100", "--rho", "0.0001"]) == 2  # rounds to no infected node
    loops = tmp_path / "loops.txt"
    loops.write_text("0 1\n1 1\n")
    assert main(["--edges", str(loops)]) == 2
    assert "itself" in capsys.readouterr().err
    assert main(["--no-such-option"]) == 2


def test_section_for_a_compartmental_model():
    results = epidemic_section(models.sir_vital())
    assert isinstance(results[1], ReproductionNumber)
    beta, gamma, mu = models.sir_vital().params
    assert sp.simplify(results[1].R0 - beta / (gamma + mu)) == 0
    assert any(isinstance(r, EndemicEquilibrium) for r in results)
    assert not any(isinstance(r, FinalSize) for r in results)
    for r in results:
        assert r.latex()
    assert results[1].verify().passed


def test_section_for_a_network_verifies():
    results = epidemic_section({"graph": "regular", "n": 20_000, "degree": 3}, tau=3.0, gamma=1.0, rho=0.0005,
                               runs=6, seed=1)
    final = next(r for r in results if isinstance(r, NetworkFinalSize))
    assert abs(final.value() - 26 / 27) < 2e-4
    simulated = results[-1]
    assert isinstance(simulated, SimulatedEpidemic)
    assert simulated.verify().passed
    assert final.verify(runs=20).passed  # the graph is bound to the result
    for r in results:
        assert r.latex()
