"""Model files: a system described in TOML, read without evaluating anything.

A model file gives either equations or a loss::

    name = "tilted-ring"
    kind = "map"                 # "map" (x <- F(x)) or "flow" (dx/dt = f(x))
    description = "gradient descent on a tilted ring"
    reference = "my notes"
    state = ["a", "b"]

    [parameters]
    eta = { default = 0.1, range = [0.0, 0.3], positive = true }

    loss = "(a^2 + b^2 - 1)^2 + a*b"   # gradient descent a <- a - eta dL/da, ...
    learning_rate = "eta"              # the parameter that is the step size (default "eta")

    # or, instead of loss:
    # [equations]
    # a = "a - eta*(4*a*(a^2 + b^2 - 1) + b)"
    # b = "..."

    [ranges]                           # where orbits start (state variables)
    a = [-2, 2]

    [analysis]
    param = "eta"                      # the parameter to sweep

Expressions are parsed by :mod:`dsanalyze.expressions` (a whitelist of
arithmetic and named functions over the declared symbols; no attribute
access, no calls of anything else, size limits). Every error names the field
and, where it can, the line.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sympy as sp

from .errors import DsAnalyzeError, ModelFileError
from .expressions import as_expression
from .systems import Flow, Map, System, gd_map, gradient_flow

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Model", "load_model", "parse_model", "MAX_FILE_BYTES"]

#: Largest model file read (a model is a few lines; anything bigger is refused unread).
MAX_FILE_BYTES = 256 * 1024

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_KNOWN_KEYS = {"name", "kind", "description", "reference", "state", "parameters", "equations", "loss",
               "learning_rate", "ranges", "analysis"}


@dataclass(frozen=True)
class Model:
    """A model read from a file: the system and the analysis settings it asks for.

    Attributes
    ----------
    system : Map or Flow
    param : str or None
        The parameter to sweep (``[analysis] param``).
    ranges : dict of str to (float, float)
        Ranges of parameters and state variables.
    path : str
        Where it was read from ("<string>" for text).
    """

    system: System
    param: str | None = None
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    path: str = "<string>"


def _line_of(text: str, key: str, table: str | None = None) -> int | None:
    """The line (1-based) where ``key = ...`` is set, inside ``[table]`` when given."""
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]$", stripped)
        if header:
            current = header.group(1)
            continue
        if current == table and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return None


class _Reader:
    """Field access with errors that name the field and the line."""

    def __init__(self, data: dict, text: str, path: str):
        self.data, self.text, self.path = data, text, path

    def fail(self, message: str, key: str, table: str | None = None) -> ModelFileError:
        line = _line_of(self.text, key, table)
        where = f"{table}.{key}" if table else key
        at = f", line {line}" if line else ""
        return ModelFileError(f"{self.path}: field '{where}'{at}: {message}")

    def string(self, key: str, *, required: bool = False, default: str = "") -> str:
        if key not in self.data:
            if required:
                raise ModelFileError(f"{self.path}: the field '{key}' is missing")
            return default
        value = self.data[key]
        if not isinstance(value, str):
            raise self.fail(f"must be a string, got {type(value).__name__}", key)
        return value

    def expression(self, text: Any, symbols: dict, key: str, table: str | None = None) -> sp.Expr:
        if not isinstance(text, (str, int, float)) or isinstance(text, bool):
            raise self.fail(f"must be an expression in quotes, got {type(text).__name__}", key, table)
        try:
            return as_expression(str(text), symbols)
        except DsAnalyzeError as exc:
            raise self.fail(str(exc), key, table) from None


def _range(reader: _Reader, value: Any, key: str, table: str) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise reader.fail(f"a range must be two numbers [lo, hi], got {value!r}", key, table)
    lo, hi = float(value[0]), float(value[1])
    if not (lo == lo and hi == hi) or lo > hi or abs(lo) == float("inf") or abs(hi) == float("inf"):
        raise reader.fail(f"a range needs finite lo <= hi, got [{lo}, {hi}]", key, table)
    return lo, hi


def parse_model(text: str, path: str = "<string>") -> Model:
    """Read a model from TOML text.

    Examples
    --------
    >>> m = parse_model('''
    ... name = "double-well"
    ... kind = "map"
    ... state = ["w"]
    ... loss = "w^4 - 2*w^2"
    ... [parameters]
    ... eta = { default = 0.1, range = [0.0, 0.35] }
    ... ''')
    >>> m.system.rhs
    (-eta*(4*w**3 - 4*w) + w,)
    >>> m.ranges
    {'eta': (0.0, 0.35)}
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise ModelFileError(f"{path}: larger than {MAX_FILE_BYTES // 1024} kB; a model file holds a few lines")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelFileError(f"{path}: not valid TOML: {exc}") from None
    reader = _Reader(data, text, path)
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise reader.fail(f"unknown field; a model file has {', '.join(sorted(_KNOWN_KEYS))}", unknown[0])

    name = reader.string("name", required=True)
    kind = reader.string("kind", required=True)
    if kind not in ("map", "flow"):
        raise reader.fail(f"must be \"map\" or \"flow\", got {kind!r}", "kind")
    state_names = data.get("state")
    if state_names is None:
        raise ModelFileError(f"{path}: the field 'state' is missing (a list of variable names, e.g. [\"x\", \"y\"])")
    if not isinstance(state_names, list) or not state_names or not all(isinstance(s, str) for s in state_names):
        raise reader.fail("must be a non-empty list of variable names", "state")

    declared: dict[str, dict] = {}
    params_table = data.get("parameters", {})
    if not isinstance(params_table, dict):
        raise reader.fail("must be a table: [parameters]", "parameters")
    for pname, spec in params_table.items():
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            spec = {"default": spec}
        if not isinstance(spec, dict):
            raise reader.fail("must be a number (the default) or a table {default = ..., range = [lo, hi]}",
                              pname, "parameters")
        extra = set(spec) - {"default", "range", "positive"}
        if extra:
            raise reader.fail(f"unknown key(s) {', '.join(sorted(extra))}; use default, range, positive",
                              pname, "parameters")
        declared[pname] = spec
    for symbol_name in [*state_names, *declared]:
        if not _NAME.match(symbol_name) or symbol_name.startswith("_"):
            raise ModelFileError(f"{path}: {symbol_name!r} is not a valid symbol name (letters, digits, _)")
    clash = set(state_names) & set(declared)
    if clash:
        raise ModelFileError(f"{path}: {', '.join(sorted(clash))} is both a state variable and a parameter")
    if len(set(state_names)) != len(state_names):
        raise reader.fail("names a variable twice", "state")

    state = tuple(sp.Symbol(s, real=True) for s in state_names)
    params = tuple(sp.Symbol(p, positive=True) if declared[p].get("positive") is True else sp.Symbol(p, real=True)
                   for p in declared)
    symbols = {s.name: s for s in (*state, *params)}
    defaults: dict[sp.Symbol, Any] = {}
    ranges: dict[str, tuple[float, float]] = {}
    for p in params:
        spec = declared[p.name]
        if "default" in spec:
            value = spec["default"]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
                raise reader.fail(f"default must be a number, got {value!r}", p.name, "parameters")
            defaults[p] = value
        if "range" in spec:
            ranges[p.name] = _range(reader, spec["range"], p.name, "parameters")

    state_ranges = data.get("ranges", {})
    if not isinstance(state_ranges, dict):
        raise reader.fail("must be a table: [ranges]", "ranges")
    for key, value in state_ranges.items():
        if key not in symbols:
            raise reader.fail(f"{key} is not a state variable or parameter", key, "ranges")
        ranges[key] = _range(reader, value, key, "ranges")

    description = reader.string("description")
    reference = reader.string("reference")
    has_loss, has_equations = "loss" in data, "equations" in data
    if has_loss == has_equations:
        raise ModelFileError(f"{path}: give exactly one of 'loss' (gradient descent or flow) or [equations]")
    if has_loss:
        loss = reader.expression(data["loss"], symbols, "loss")
        if kind == "map":
            lr_name = reader.string("learning_rate", default="eta")
            if lr_name not in declared:
                raise reader.fail(f"{lr_name!r} is not declared under [parameters]", "learning_rate")
            system = gd_map(loss, state, symbols[lr_name], name=name, description=description, reference=reference)
            if set(system.params) != set(params):
                unused = sorted(p.name for p in params if p not in system.params)
                raise ModelFileError(f"{path}: parameter(s) {', '.join(unused)} appear in neither the loss nor "
                                     "as the learning rate")
            system = system.replace(defaults={p: v for p, v in defaults.items()})
        else:
            system = gradient_flow(loss, state, name=name, description=description, reference=reference)
            system = system.replace(defaults=defaults)
    else:
        table = data["equations"]
        if not isinstance(table, dict):
            raise reader.fail("must be a table: [equations] with one entry per state variable", "equations")
        missing = [s for s in state_names if s not in table]
        if missing:
            raise reader.fail(f"no equation for {', '.join(missing)}", "equations")
        extra = [k for k in table if k not in state_names]
        if extra:
            raise reader.fail(f"{extra[0]} is not a state variable", extra[0], "equations")
        rhs = [reader.expression(table[s], symbols, s, "equations") for s in state_names]
        cls = Map if kind == "map" else Flow
        try:
            system = cls(state, rhs, params, name=name, description=description, reference=reference,
                         defaults=defaults)
        except DsAnalyzeError as exc:
            raise reader.fail(str(exc), "equations") from None

    analysis = data.get("analysis", {})
    if not isinstance(analysis, dict) or set(analysis) - {"param"}:
        raise reader.fail("must be a table with param = \"name\"", "analysis")
    param = analysis.get("param")
    if param is not None and param not in declared:
        raise reader.fail(f"{param!r} is not declared under [parameters]", "param", "analysis")
    return Model(system, param, ranges, path)


def load_model(path: str | os.PathLike) -> Model:
    """Read a model file (see the module docstring for the format).

    Raises
    ------
    ModelFileError
        Unreadable, too large, not TOML, or a field that is missing or malformed.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelFileError(f"cannot read the model file {path}: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise ModelFileError(f"{path}: {size} bytes, larger than {MAX_FILE_BYTES // 1024} kB; "
                             "a model file holds a few lines")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"cannot read the model file {path}: {exc}") from None
    return parse_model(text, str(path))
