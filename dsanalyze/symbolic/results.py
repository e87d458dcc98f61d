"""Result types shared by the derivations.

Each result is a small frozen dataclass holding exact SymPy objects, with
``latex()`` and ``verify(...)``. This module holds the ones several
derivations use; the others live beside the derivation that makes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import sympy as sp

from ..systems import System
from ..verify import Basis

__all__ = ["FixedPoint", "EquilibriumType"]


class EquilibriumType(str, Enum):
    """Classification of a fixed point of a map or an equilibrium of a flow, as data."""

    STABLE_NODE = "stable node"
    UNSTABLE_NODE = "unstable node"
    SADDLE = "saddle"
    STABLE_FOCUS = "stable focus"
    UNSTABLE_FOCUS = "unstable focus"
    CENTRE = "centre"
    STABLE = "stable"                   # attracting, in dimension > 2 or without finer type
    UNSTABLE = "unstable"
    NON_HYPERBOLIC = "non-hyperbolic"   # a multiplier on the unit circle / an eigenvalue on the imaginary axis
    DEPENDS = "depends on parameters"   # the type changes with the parameters


@dataclass(frozen=True)
class FixedPoint:
    """A fixed point of a map or an equilibrium of a flow, or a whole component of them.

    Attributes
    ----------
    system : System
        The system it belongs to.
    coordinates : tuple of Expr or None
        Exact coordinates of an isolated point (they may contain parameters);
        None for a positive-dimensional component.
    equations : tuple of Expr
        For a component: polynomials (in the state, maybe the parameters) whose
        common zeros form it, e.g. ``(u*v - 1,)``. Empty for a point.
    dimension : int
        0 for a point, 1 for a curve, ...
    parametrisation : tuple of Expr or None
        Optional coordinates of the component as functions of ``free``.
    free : tuple of Symbol
        The free symbols of ``parametrisation``.
    conditions : sympy Boolean
        Conditions on the parameters under which it exists (``sympy.true`` if always).
    basis : Basis
        ``PROVED`` when found exactly; ``NUMERIC`` when found by Newton's method.
    residual : float or None
        Max-norm residual of the defining equations for a numeric point.
    """

    system: System
    coordinates: tuple[sp.Expr, ...] | None
    equations: tuple[sp.Expr, ...] = ()
    dimension: int = 0
    parametrisation: tuple[sp.Expr, ...] | None = None
    free: tuple[sp.Symbol, ...] = ()
    conditions: sp.Basic = sp.true
    basis: Basis = Basis.PROVED
    residual: float | None = None

    @property
    def is_point(self) -> bool:
        return self.coordinates is not None

    def as_dict(self) -> dict[sp.Symbol, sp.Expr]:
        """The coordinates as a substitution ``{state symbol: value}`` (points only)."""
        if self.coordinates is None:
            raise ValueError("a component has no single set of coordinates; use its equations or parametrisation")
        return dict(zip(self.system.state, self.coordinates))

    def latex(self) -> str:
        """The point as ``(x, y) = (...)``, or the component as its equations ``= 0``."""
        names = ", ".join(sp.latex(s) for s in self.system.state)
        if self.coordinates is not None:
            values = ", ".join(sp.latex(c) for c in self.coordinates)
            text = f"({names}) = ({values})" if self.system.dim > 1 else f"{names} = {values}"
        else:
            text = r",\ ".join(f"{sp.latex(e)} = 0" for e in self.equations)
        if self.conditions is not sp.true:
            text += r" \quad \text{if } " + sp.latex(self.conditions)
        return text
