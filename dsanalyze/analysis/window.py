"""The window an analysis looks through: the swept parameter, its range, the state box.

Derivations are exact in every parameter; verification and figures need
numbers. The window says which: the parameter ``param`` is swept over
``param_range``, every other parameter sits at a fixed value, and orbits start
in the state ``box``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..errors import ParameterError, UnknownSymbolError
from ..models.ranges import SUGGESTED
from ..systems import System

__all__ = ["Window", "resolve_window"]

#: Where in the parameter range the verification samples sit (fractions of the range).
SAMPLE_FRACTIONS = (0.3, 0.55, 0.8)


@dataclass(frozen=True)
class Window:
    """Numbers for the checks and figures of one analysis.

    Attributes
    ----------
    param : Symbol or None
        The swept parameter.
    param_range : (float, float) or None
        Its range.
    fixed : dict of str to float
        Values of the other parameters.
    box : dict of str to (float, float)
        Range of every state variable, in the order of the state.
    notes : tuple of str
        Choices made without the caller's say (e.g. a range guessed from the
        parameter's sign), for the report.
    """

    param: sp.Symbol | None
    param_range: tuple[float, float] | None
    fixed: dict[str, float]
    box: dict[str, tuple[float, float]]
    notes: tuple[str, ...] = field(default=())

    def samples(self, fractions: tuple[float, ...] = SAMPLE_FRACTIONS) -> list[dict[str, float]]:
        """Parameter values for verification: the fixed ones plus ``param`` at fractions of its range.

        Examples
        --------
        >>> import dsanalyze as ds
        >>> resolve_window(ds.models.logistic()).samples()
        [{'r': 1.2}, {'r': 2.2}, {'r': 3.2}]
        """
        if self.param is None:
            return [dict(self.fixed)]
        lo, hi = self.param_range
        return [{**self.fixed, self.param.name: round(lo + f * (hi - lo), 12)} for f in fractions]

    def sweep(self, count: int) -> np.ndarray:
        """``count`` values of ``param`` across its range, ends excluded (they are often degenerate)."""
        lo, hi = self.param_range
        return np.linspace(lo, hi, count + 2)[1:-1]

    def restricted_to(self, system: System) -> "Window":
        """The same window for a restriction of the system (its state variables only)."""
        box = {s.name: self.box.get(s.name, (-2.0, 2.0)) for s in system.state}
        return Window(self.param, self.param_range, dict(self.fixed), box, ())

    def box_of(self, system: System) -> list[tuple[float, float]]:
        """The box as a list in the order of ``system.state``."""
        return [self.box[s.name] for s in system.state]


def _pair(name: str, value: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"the range of {name} must be two numbers (lo, hi), got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise ParameterError(f"the range of {name} must be finite with lo <= hi, got ({lo}, {hi})")
    return lo, hi


def resolve_window(system: System, param: Any = None, ranges: Mapping[str, Any] | None = None) -> Window:
    """The window for ``system``: given ranges first, then the library's suggestion, then a guess.

    Parameters
    ----------
    system : System
    param : str or Symbol, optional
        The parameter to sweep. Default: the library's suggestion for a library
        model, the only parameter when there is one, else none.
    ranges : mapping of name to (lo, hi), optional
        Ranges of parameters and state variables. A parameter given a range
        with lo == hi is fixed at that value.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> w = resolve_window(ds.models.two_factor())
    >>> w.param, w.param_range, w.box
    (mu, (0.0, 2.0), {'u': (-2.0, 2.0), 'v': (-2.0, 2.0)})
    """
    suggested_param, suggested = SUGGESTED.get(system.name, (None, {}))
    by_name = {s.name: s for s in (*system.state, *system.params)}
    given = {}
    for key, value in (ranges or {}).items():
        name = key.name if isinstance(key, sp.Symbol) else str(key)
        if name not in by_name:
            raise UnknownSymbolError(
                f"a range was given for {name}, which is not a state variable or parameter of "
                f"{system.name or 'the system'} (it has {', '.join(by_name)})"
            )
        given[name] = _pair(name, value)
    merged = {**suggested, **given}
    notes = []

    if param is None:
        swept = suggested_param if suggested_param in by_name else (
            system.params[0].name if len(system.params) == 1 else None)
    else:
        swept = param.name if isinstance(param, sp.Symbol) else str(param)
        if swept not in {p.name for p in system.params}:
            raise UnknownSymbolError(
                f"{swept} is not a parameter of {system.name or 'the system'} "
                f"(parameters: {', '.join(p.name for p in system.params) or 'none'})"
            )
    defaults = {p.name: float(v) for p, v in system.defaults.items()}

    def guess(symbol: sp.Symbol) -> tuple[float, float]:
        if symbol.name in defaults:
            d = defaults[symbol.name]
            span = (0.0, 2 * d) if d > 0 else (2 * d, 0.0) if d < 0 else (-1.0, 1.0)
        else:
            span = (0.0, 2.0) if symbol.is_positive or symbol.is_nonnegative else (-2.0, 2.0)
        notes.append(f"no range given for {symbol.name}; used ({span[0]:g}, {span[1]:g})")
        return span

    param_symbol = by_name[swept] if swept else None
    param_range = None
    if param_symbol is not None:
        param_range = merged[swept] if swept in merged else guess(param_symbol)
        if param_range[0] == param_range[1]:
            raise ParameterError(f"the swept parameter {swept} needs a range with lo < hi, got {param_range}")
    fixed = {}
    for p in system.params:
        if p is param_symbol:
            continue
        if p.name in given:
            lo, hi = given[p.name]
            fixed[p.name] = (lo + hi) / 2
        elif p.name in defaults:
            fixed[p.name] = defaults[p.name]
        elif p.name in merged:
            lo, hi = merged[p.name]
            fixed[p.name] = (lo + hi) / 2
        else:
            lo, hi = guess(p)
            fixed[p.name] = lo + 0.75 * (hi - lo)  # off the middle, where a guessed range puts 0
            notes.append(f"{p.name} fixed at {fixed[p.name]:g}")
    box = {}
    for s in system.state:
        if s.name in merged:
            box[s.name] = merged[s.name]
        else:
            box[s.name] = (-2.0, 2.0)
            notes.append(f"no range given for {s.name}; orbits start in (-2, 2)")
        if box[s.name][0] == box[s.name][1]:
            raise ParameterError(f"the state variable {s.name} needs a range with lo < hi, got {box[s.name]}")
    return Window(param_symbol, param_range, fixed, box, tuple(notes))
