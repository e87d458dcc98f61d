"""Model files: TOML read by the safe parser; hostile or broken files refused with the field named."""
import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze.errors import ModelFileError
from dsanalyze.modelfile import load_model, parse_model

BASE = '''name = "m"
kind = "map"
state = ["x"]

[parameters]
r = { default = 3.2, range = [0, 4] }

[equations]
x = "%s"
'''


def test_equations_file():
    m = parse_model(BASE % "r*x*(1 - x)")
    x, r = m.system.state[0], m.system.params[0]
    assert m.system == ds.models.logistic()
    assert m.system.defaults == {r: sp.Rational(16, 5)}
    assert m.ranges == {"r": (0.0, 4.0)} and m.param is None


def test_loss_file_gives_gradient_descent():
    m = load_model("examples/quartic_loss.toml")
    (w,), (eta,) = m.system.state, m.system.params
    assert sp.expand(m.system.rhs[0] - (w - eta * w * (w**2 - 1))) == 0
    assert sp.expand(m.system.loss - (w**2 - 1) ** 2 / 4) == 0
    assert eta.is_positive and m.param == "eta" and m.ranges == {"eta": (0.0, 1.4), "w": (-1.8, 1.8)}


def test_a_flow_from_a_loss_is_the_gradient_flow():
    m = parse_model('name = "g"\nkind = "flow"\nstate = ["u", "v"]\nloss = "(u*v - 1)^2/2"\n')
    u, v = m.system.state
    assert m.system.rhs == (-v * (u * v - 1), -u * (u * v - 1))


@pytest.mark.parametrize("expression, message", [
    ("__import__('os').system('touch PWNED')", "field 'equations.x', line 9: call of"),
    ("x.__class__", "field 'equations.x', line 9: attribute access"),
    ("foo(x)", "call of 'foo'"),
    ("r*x*(1 - y)", "unknown symbol 'y'"),
    ("x" * 20000, "the limit is 10000"),
    ("lambda: 1", "field 'equations.x'"),
])
def test_hostile_or_broken_expressions_are_refused(expression, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelFileError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_model(BASE % expression)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("text, message", [
    ('kind = "map"\nstate = ["x"]\n[equations]\nx = "x"\n', "the field 'name' is missing"),
    ('name = "a"\nkind = "map"\n[equations]\nx = "x"\n', "the field 'state' is missing"),
    ('name = "a"\nkind = "ode"\nstate = ["x"]\n[equations]\nx = "x"\n', "field 'kind', line 2: must be"),
    ('name = "a"\nkind = "map"\nstate = ["x"]\n', "exactly one of 'loss'"),
    ('name = "a"\nkind = "map"\nstate = ["x", "y"]\n[equations]\nx = "x"\n', "no equation for y"),
    ('name = "a"\nkind = "map"\nstate = ["x"\n', "not valid TOML"),
    ('name = "a"\nkind = "map"\nstate = ["x"]\nloss = "x^2"\n', "'eta' is not declared"),
    ('name = "a"\nkind = "map"\nstate = ["x"]\nimport = 1\n[equations]\nx = "x"\n', "field 'import', line 4"),
    ('name = "a"\nkind = "map"\nstate = ["x"]\n[parameters]\nr = { range = [1, 0] }\n[equations]\nx = "r*x"\n',
     "field 'parameters.r', line 5: a range needs finite lo <= hi"),
])
def test_malformed_files_name_the_field(text, message):
    with pytest.raises(ModelFileError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_model(text)


def test_huge_or_unreadable_files_are_refused_unread(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text('name = "a"\nkind = "map"\nstate = ["x"]\n[equations]\nx = "' + "x+" * 5_000_000 + 'x"\n')
    with pytest.raises(ModelFileError, match="larger than 256 kB"):
        load_model(big)
    with pytest.raises(ModelFileError, match="cannot read the model file"):
        load_model(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(ModelFileError, match="cannot read the model file"):
        load_model(binary)
