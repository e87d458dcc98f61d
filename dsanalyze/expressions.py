"""Safe parsing of expression text into SymPy.

Text from users and model files is never handed to ``eval`` or to an
unrestricted ``sympify``: it is parsed by Python's :mod:`ast` into a syntax
tree, every node is checked against a whitelist (numbers, names, arithmetic,
calls of known functions) and the SymPy expression is built from the tree
directly. Nothing is evaluated as Python.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

import sympy as sp

from .errors import ExpressionError, UnknownSymbolError

__all__ = ["parse_expression", "as_expression", "FUNCTIONS", "CONSTANTS"]

#: Functions an expression may call, by name.
FUNCTIONS: dict[str, object] = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "atan2": sp.atan2,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs, "Abs": sp.Abs,
    "sign": sp.sign, "min": sp.Min, "max": sp.Max, "Min": sp.Min, "Max": sp.Max,
    "heaviside": sp.Heaviside, "Heaviside": sp.Heaviside,
}

#: Named constants an expression may use.
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

MAX_LENGTH = 10_000
MAX_NODES = 2_000
MAX_EXPONENT = 1_000
#: Powers nested in powers (x**y**z ...): SymPy's time grows steeply with the depth.
MAX_POWER_NESTING = 8
#: Bits an exact number built inside an expression may have (a double holds ~1024).
MAX_NUMBER_BITS = 100_000

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def parse_expression(
    text: str,
    symbols: Mapping[str, sp.Symbol] | Iterable[sp.Symbol] | None = None,
    *,
    allow_new_symbols: bool = False,
) -> sp.Expr:
    """Parse ``text`` into a SymPy expression without evaluating any Python.

    Parameters
    ----------
    text : str
        The expression, in Python syntax: ``+ - * / **`` (``^`` is read as
        power), parentheses, numbers, names and calls of the functions in
        :data:`FUNCTIONS`.
    symbols : mapping or iterable of Symbol, optional
        The names the expression may use. A name that is not among them (nor a
        function or a constant) raises :class:`UnknownSymbolError`.
    allow_new_symbols : bool
        Create a real symbol for any unknown name instead of refusing it.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> import sympy as sp
    >>> x, r = sp.symbols("x r")
    >>> parse_expression("r*x*(1 - x)", [x, r])
    r*x*(1 - x)
    >>> parse_expression("__import__('os')", [x])
    Traceback (most recent call last):
    ...
    dsanalyze.errors.ExpressionError: ...
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected expression text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise ExpressionError("empty expression")
    if symbols is None:
        names: dict[str, sp.Symbol] = {}
    elif isinstance(symbols, Mapping):
        names = dict(symbols)
    else:
        names = {s.name: s for s in symbols}
    try:
        tree = ast.parse(text.replace("^", "**").strip(), mode="eval")
        n_nodes = sum(1 for _ in ast.walk(tree))
        if n_nodes > MAX_NODES:
            raise ExpressionError(f"expression has {n_nodes} syntax nodes; the limit is {MAX_NODES}")
        depth = _power_nesting(tree.body)
        if depth > MAX_POWER_NESTING:
            raise ExpressionError(f"powers are nested {depth} deep in {text[:200]!r}; the limit is {MAX_POWER_NESTING}")
        return _Builder(text, names, allow_new_symbols).build(tree.body)
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc.msg} at column {exc.offset}") from None
    except RecursionError:  # e.g. a chain of a thousand unary minus signs
        raise ExpressionError(f"expression {text[:60]!r}... is nested too deeply") from None


def _power_nesting(node: ast.AST) -> int:
    """How deeply powers nest inside powers (exponents and bases) in a syntax tree."""
    deepest, stack = 0, [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, ast.BinOp) and isinstance(current.op, ast.Pow):
            depth += 1
            deepest = max(deepest, depth)
        stack.extend((child, depth) for child in ast.iter_child_nodes(current))
    return deepest


class _Builder:
    """Turn a checked syntax tree into SymPy, node by node."""

    def __init__(self, text: str, names: dict[str, sp.Symbol], allow_new: bool):
        self.text = text
        self.names = names
        self.allow_new = allow_new

    def refuse(self, node: ast.AST, what: str) -> ExpressionError:
        col = getattr(node, "col_offset", None)
        where = f" at column {col + 1}" if col is not None else ""
        return ExpressionError(f"{what}{where} in {self.text!r} is not allowed in an expression")

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.refuse(node, f"the constant {value!r}")
            # Decimal text becomes an exact rational: 0.1 means 1/10, not a binary float.
            if isinstance(value, float) and not abs(value) < float("inf"):
                raise ExpressionError(f"the number in {self.text!r} overflows a double")
            return sp.Integer(value) if isinstance(value, int) else sp.Rational(repr(value))
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.build(node.left), self.build(node.right)
            if isinstance(node.op, ast.Pow) and right.is_number and abs(right) > MAX_EXPONENT:
                raise ExpressionError(f"exponent {right} in {self.text!r} exceeds the limit {MAX_EXPONENT}")
            if isinstance(node.op, ast.Pow) and left.is_Rational and right.is_Rational:
                # An exact power of a number is computed at once: ((10**1000)**1000)**1000 would not finish.
                bits = int(abs(right) * max(abs(left.p).bit_length(), left.q.bit_length()))
                if bits > MAX_NUMBER_BITS:
                    raise ExpressionError(
                        f"a power of a number in {self.text[:200]!r} would have about {bits} bits "
                        f"(base of {max(abs(left.p).bit_length(), left.q.bit_length())} bits, exponent {right}); "
                        f"the limit is {MAX_NUMBER_BITS}"
                    )
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            raise self.refuse(node, "attribute access")
        raise self.refuse(node, f"the construct {type(node).__name__}")

    def name(self, node: ast.Name) -> sp.Expr:
        ident = node.id
        if ident in self.names:
            return self.names[ident]
        if ident in CONSTANTS:
            return CONSTANTS[ident]
        if ident in FUNCTIONS:
            raise ExpressionError(f"{ident!r} is a function; call it, e.g. {ident}(x), in {self.text!r}")
        if ident.startswith("_"):
            raise self.refuse(node, f"the name {ident!r}")
        if self.allow_new:
            symbol = sp.Symbol(ident, real=True)
            self.names[ident] = symbol
            return symbol
        known = ", ".join(sorted(self.names)) or "none"
        raise UnknownSymbolError(f"unknown symbol {ident!r} in {self.text!r}; known symbols: {known}")

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else "a computed function"
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"call of {what!r} in {self.text!r} is not allowed; functions: {allowed}")
        if node.keywords:
            raise self.refuse(node, "a keyword argument")
        args = [self.build(arg) for arg in node.args]
        try:
            return FUNCTIONS[node.func.id](*args)
        except (TypeError, ValueError) as exc:
            raise ExpressionError(f"bad arguments to {node.func.id} in {self.text!r}: {exc}") from None


def as_expression(value, symbols: Mapping[str, sp.Symbol] | Iterable[sp.Symbol] | None = None) -> sp.Expr:
    """Return ``value`` as a SymPy expression: text is parsed safely, numbers made exact.

    SymPy objects pass through unchanged; Python floats become exact rationals
    of their decimal representation (``0.1`` is ``1/10``).
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        return parse_expression(value, symbols)
    if isinstance(value, bool):
        raise ExpressionError(f"expected an expression, got the boolean {value!r}")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ExpressionError(f"expected a finite number, got {value!r}")
        return sp.Rational(repr(value))
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return as_expression(value.item(), symbols)
    except ImportError:  # pragma: no cover
        pass
    raise ExpressionError(f"expected an expression (SymPy object, number or text), got {type(value).__name__}")
