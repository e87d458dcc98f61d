"""The safe expression parser: what it accepts, what it refuses, and that it never evaluates Python."""
import time

import pytest
import sympy as sp

import dsanalyze as ds
from dsanalyze import errors
from dsanalyze.expressions import (
    CONSTANTS,
    FUNCTIONS,
    MAX_LENGTH,
    MAX_NODES,
    as_expression,
    parse_expression,
)

x, y, r = sp.symbols("x y r", real=True)
KNOWN = [x, y, r]


def parse(text, **kwargs):
    return parse_expression(text, KNOWN, **kwargs)


# ---- accepted ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("r*x*(1 - x)", r * x * (1 - x)),
        ("x + y - r", x + y - r),
        ("x/y", x / y),
        ("-x", -x),
        ("+x", x),
        ("x**3", x**3),
        ("x^3", x**3),  # ^ is power, not xor
        ("2^-1", sp.Rational(1, 2)),
        ("(x + 1)^2 - x^2", (x + 1) ** 2 - x**2),
        ("7/2", sp.Rational(7, 2)),
        ("3", sp.Integer(3)),
        ("pi*x", sp.pi * x),
        ("E**x", sp.exp(x)),
    ],
)
def test_arithmetic(text, expected):
    assert parse(text) == expected


def test_whitelisted_functions():
    assert parse("sin(x) + cos(y)") == sp.sin(x) + sp.cos(y)
    assert parse("exp(-x**2)*tanh(y)") == sp.exp(-(x**2)) * sp.tanh(y)
    assert parse("sqrt(1 + x^2)") == sp.sqrt(1 + x**2)
    assert parse("abs(x) + Abs(y)") == sp.Abs(x) + sp.Abs(y)
    assert parse("max(x, y) - min(x, 0)") == sp.Max(x, y) - sp.Min(x, 0)
    assert parse("atan2(y, x)") == sp.atan2(y, x)
    assert parse("log(x)") == sp.log(x)
    assert parse("heaviside(x)") == sp.Heaviside(x)
    # every whitelisted name is callable through the parser
    for name, func in FUNCTIONS.items():
        args = "x, y" if name in ("atan2", "min", "max", "Min", "Max") else "x"
        got = parse(f"{name}({args})")
        want = func(x, y) if args == "x, y" else func(x)
        assert got == want, name
    assert set(CONSTANTS) == {"pi", "E"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0.1", sp.Rational(1, 10)),
        ("0.1*x", sp.Rational(1, 10) * x),
        ("2.5", sp.Rational(5, 2)),
        ("1e-5", sp.Rational(1, 100000)),
        ("1.25e3", sp.Integer(1250)),
    ],
)
def test_decimals_become_exact_rationals(text, expected):
    got = parse(text)
    assert got == expected
    assert not got.has(sp.Float)


def test_as_expression_numbers_are_exact():
    assert as_expression(0.1) == sp.Rational(1, 10)
    assert as_expression(3) == sp.Integer(3)
    assert as_expression(x + 1) == x + 1
    with pytest.raises(errors.ExpressionError):
        as_expression(float("nan"))
    with pytest.raises(errors.ExpressionError):
        as_expression(True)
    with pytest.raises(errors.ExpressionError):
        as_expression([1, 2])


def test_new_symbols_only_when_allowed():
    with pytest.raises(errors.UnknownSymbolError) as info:
        parse("x + q")
    assert "'q'" in str(info.value) and "known symbols: r, x, y" in str(info.value)
    q = parse("x + q", allow_new_symbols=True) - x
    assert isinstance(q, sp.Symbol) and q.name == "q" and q.is_real


# ---- refused -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, error, words",
    [
        ("__import__('os')", errors.ExpressionError, ["__import__", "not allowed"]),
        ("__import__('os').system('echo hi')", errors.ExpressionError, ["not allowed"]),
        ("x.__class__", errors.ExpressionError, ["attribute access"]),
        ("x.real", errors.ExpressionError, ["attribute access"]),
        ("(lambda: 1)()", errors.ExpressionError, ["not allowed"]),
        ("lambda t: t", errors.ExpressionError, ["Lambda"]),
        ("[t for t in (1, 2)]", errors.ExpressionError, ["ListComp"]),
        ("sum(t for t in (1, 2))", errors.ExpressionError, ["'sum'"]),
        ("x[0]", errors.ExpressionError, ["Subscript"]),
        ("'x'", errors.ExpressionError, ["constant 'x'"]),
        ("sin('x')", errors.ExpressionError, ["constant 'x'"]),
        ("b'x'", errors.ExpressionError, ["constant b'x'"]),
        ("True", errors.ExpressionError, ["constant True"]),
        ("None", errors.ExpressionError, ["constant None"]),
        ("sin(x=1)", errors.ExpressionError, ["keyword argument"]),
        ("foo(x)", errors.ExpressionError, ["'foo'", "not allowed", "sin"]),
        ("eval('1')", errors.ExpressionError, ["'eval'"]),
        ("open('f', 'w')", errors.ExpressionError, ["'open'"]),
        ("getattr(x, 'y')", errors.ExpressionError, ["'getattr'"]),
        ("sin", errors.ExpressionError, ["function", "sin(x)"]),
        ("_x", errors.ExpressionError, ["'_x'"]),
        ("x if y else r", errors.ExpressionError, ["IfExp"]),
        ("x < y", errors.ExpressionError, ["Compare"]),
        ("x and y", errors.ExpressionError, ["BoolOp"]),
        ("x // y", errors.ExpressionError, ["BinOp"]),
        ("~x", errors.ExpressionError, ["UnaryOp"]),
        ("{1: 2}", errors.ExpressionError, ["Dict"]),
        ("(x, y)", errors.ExpressionError, ["Tuple"]),
        ("sin(*[x])", errors.ExpressionError, ["Starred"]),
        ("f'{x}'", errors.ExpressionError, ["JoinedStr"]),
        ("(y := 1)", errors.ExpressionError, ["NamedExpr"]),
        ("x**10000", errors.ExpressionError, ["exponent 10000", "limit"]),
        ("x**-10000", errors.ExpressionError, ["exponent -10000", "limit"]),
        ("2**10**10", errors.ExpressionError, ["exponent", "limit"]),
        ("x**1e5", errors.ExpressionError, ["exponent 100000"]),
        ("1e999", errors.ExpressionError, ["overflows"]),
        ("x +", errors.ExpressionError, ["cannot parse"]),
        ("x = 1", errors.ExpressionError, ["cannot parse"]),
        ("import os", errors.ExpressionError, ["cannot parse"]),
        ("   ", errors.ExpressionError, ["empty"]),
        ("atan2(x)", errors.ExpressionError, ["bad arguments to atan2"]),
        ("q*x", errors.UnknownSymbolError, ["unknown symbol 'q'"]),
    ],
)
def test_refused(text, error, words):
    with pytest.raises(error) as info:
        parse(text)
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    assert isinstance(info.value, errors.DsAnalyzeError)


def test_refused_even_with_new_symbols_allowed():
    for text in ["__import__('os')", "x.__class__", "_secret", "__builtins__", "exec('1')"]:
        with pytest.raises(errors.ExpressionError):
            parse(text, allow_new_symbols=True)


def test_exponent_at_the_limit_is_accepted():
    assert parse("x**1000") == x**1000
    assert parse("x**-1000") == x**-1000


def test_huge_exact_numbers_refused_quickly():
    # ((10**1000)**1000)**1000 would be a 3.3-billion-bit integer: refused before it is computed.
    start = time.perf_counter()
    with pytest.raises(errors.ExpressionError, match="bits"):
        parse("((10**1000)**1000)**1000")
    with pytest.raises(errors.ExpressionError, match="bits"):
        parse("((10**1000)**(999/2))**(999/2)")
    assert time.perf_counter() - start < 2.0
    assert parse("10**300") == sp.Integer(10) ** 300  # moderate exact numbers are fine


def test_overlong_text():
    text = "x + " * (MAX_LENGTH // 4) + "x"
    assert len(text) > MAX_LENGTH
    with pytest.raises(errors.ExpressionError, match=f"the limit is {MAX_LENGTH}"):
        parse(text)


def test_too_many_nodes():
    text = "+".join(["x"] * 1000)  # < MAX_LENGTH characters, but ~4000 syntax nodes
    assert len(text) < MAX_LENGTH
    with pytest.raises(errors.ExpressionError, match=f"syntax nodes; the limit is {MAX_NODES}"):
        parse(text)
    assert parse("+".join(["x"] * 100)) == 100 * x  # a modest sum is fine


def test_deep_nesting_is_an_expression_error():
    # Under the node limit, but deep enough to exhaust Python's recursion limit.
    with pytest.raises(errors.ExpressionError, match="nested too deeply"):
        parse("-" * 995 + "x")
    with pytest.raises(errors.ExpressionError):
        parse("(" * 300 + "x" + ")" * 300)


def test_not_a_string():
    with pytest.raises(errors.ExpressionError, match="expected expression text"):
        parse_expression(123)


# ---- nothing is evaluated ------------------------------------------------------------------
def test_payloads_are_never_evaluated(tmp_path):
    target = tmp_path / "pwned"
    payloads = [
        f"open({str(target)!r}, 'w')",
        f"__import__('pathlib').Path({str(target)!r}).touch()",
        f"__import__('os').system('touch {target}')",
        f"(lambda: open({str(target)!r}, 'w'))()",
        f"[open({str(target)!r}, 'w') for _ in (1,)]",
        f"x.__class__.__mro__[-1].__subclasses__() and open({str(target)!r}, 'w')",
    ]
    for text in payloads:
        with pytest.raises(errors.DsAnalyzeError):
            parse(text, allow_new_symbols=True)
        # also through every public entry point that takes text
        with pytest.raises(errors.DsAnalyzeError):
            ds.Map("x", text)
        with pytest.raises(errors.DsAnalyzeError):
            ds.gd_map(text, "x")
        with pytest.raises(errors.DsAnalyzeError):
            ds.models.logistic().subs(r=text)
        with pytest.raises(errors.DsAnalyzeError):
            ds.models.two_factor().restrict(v=text)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
