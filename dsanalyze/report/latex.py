"""Text and math for the report: escaping user text, printing SymPy objects and verdict cells."""
from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np
import sympy as sp

from ..symbolic.intervals import latex_condition

__all__ = ["escape", "math_of", "cell", "tolerance_cell", "condition_latex"]

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
}
_SPECIAL_RE = re.compile(r"[\\{}$&#^_%~]")
#: Characters after which a long token may break across lines in a table cell.
_BREAK_AFTER = re.compile(r"([,*+/=;)])")

#: A cell longer than this is shortened (the full result is printed in its section).
CELL_LIMIT = 140


def escape(text: Any, *, breakable: bool = False) -> str:
    """Plain text made safe for LaTeX: every special character printed as itself.

    Parameters
    ----------
    text : any
        Converted with ``str``.
    breakable : bool
        Allow line breaks after , * + / = ; ) inside long tokens (for table cells).

    Examples
    --------
    >>> escape("50% of x_1 & {y}")
    '50\\\\% of x\\\\_1 \\\\& \\\\{y\\\\}'
    """
    out = _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], str(text))
    if breakable:
        out = _BREAK_AFTER.sub(r"\1\\allowbreak{}", out)
    return out


def condition_latex(condition: sp.Basic) -> str:
    """A Boolean as chained relations (``0 < \\mu < 1``, never a logical and), in words where it is constant."""
    if condition is sp.true:
        return r"\text{always}"
    if condition is sp.false:
        return r"\text{never}"
    if isinstance(condition, sp.Or):
        return r" \;\text{or}\; ".join(f"\\left({condition_latex(a)}\\right)" for a in condition.args)
    return latex_condition(condition)


def math_of(value: Any) -> str:
    """Inline LaTeX (without dollars) of a SymPy object."""
    if isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Set):
        return condition_latex(value)
    return sp.latex(value)


def _number(x: float) -> str:
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"
    if abs(x) >= 1e-3 and abs(x) < 1e6:
        return f"{x:.10g}"
    return f"{x:.4e}"


def tolerance_cell(value: Any) -> str:
    """A tolerance, to 3 significant digits."""
    return "--" if value is None else f"{float(value):.3g}"


def cell(value: Any) -> str:
    """A verification-table cell: SymPy as math, numbers to 10 significant digits, text escaped and breakable."""
    if value is None:
        return "--"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Real) and not isinstance(value, sp.Basic):
        return _number(float(value))
    if isinstance(value, sp.Basic):
        if value.is_number and value.is_real and not value.is_Integer and not value.is_Rational and value.free_symbols == set():
            text = math_of(value)
            return f"${text}$ $= {_number(float(value))}$" if len(text) < 60 else f"${_number(float(value))}$"
        text = math_of(value)
        if len(text) > CELL_LIMIT:
            return escape(_shorten(sp.sstr(value)), breakable=True)
        return f"${text}$"
    if isinstance(value, np.ndarray):
        value = np.array2string(value, precision=6, threshold=6)
    if isinstance(value, str) and "\\" in value:
        return "(as printed above)"  # LaTeX source of a result: printed as math in its section
    return escape(_shorten(str(value)), breakable=True)


def _shorten(text: str) -> str:
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 20] + " ... (in full above)"
