"""Verdicts: what was claimed, what was measured, and whether they agree.

Every derived result has a ``verify(...)`` method that checks its claim with
the compiled kernels and returns a :class:`Verdict`. A verdict says how its
truth was established (:class:`Basis`): ``proved`` (a symbolic identity),
``numeric`` (certified numerics, residual given) or ``sampled`` (simulation
evidence, with its statistics). A claim that cannot be checked says so with
``passed=None`` and ``basis=UNCHECKED``; it never passes silently.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

__all__ = ["Basis", "Verdict"]


class Basis(str, Enum):
    """How a verdict's truth was established."""

    PROVED = "proved"
    NUMERIC = "numeric"
    SAMPLED = "sampled"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one claim.

    Attributes
    ----------
    claim : str
        What was claimed, in words a reader of the report understands.
    predicted : Any
        The predicted value (an exact SymPy object, a number or a short text).
    measured : Any
        What the check measured (a number, an array summary or a text).
    tolerance : float or None
        The tolerance the comparison used (None for exact checks).
    passed : bool or None
        True or False; None when the claim could not be checked.
    basis : Basis
        ``proved``, ``numeric``, ``sampled`` or ``unchecked``.
    evidence : mapping of str to ndarray
        Arrays behind the measurement (orbits, samples), for plots.
    note : str
        Anything a reader needs to judge the check (sample sizes, seeds, why unchecked).

    Examples
    --------
    >>> v = Verdict("x* = 1/2 is fixed", "1/2", 0.0, 1e-12, True, Basis.NUMERIC)
    >>> bool(v), v.basis.value
    (True, 'numeric')
    """

    claim: str
    predicted: Any
    measured: Any
    tolerance: float | None
    passed: bool | None
    basis: Basis
    evidence: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    note: str = ""

    def __post_init__(self):
        if self.passed is None and self.basis is not Basis.UNCHECKED:
            raise ValueError("a verdict that was not checked must have basis UNCHECKED")
        if self.passed is not None and self.basis is Basis.UNCHECKED:
            raise ValueError("an unchecked verdict cannot pass or fail")

    def __bool__(self) -> bool:
        return self.passed is True

    @classmethod
    def unchecked(cls, claim: str, predicted: Any, why: str) -> "Verdict":
        """A claim that could not be checked, and why."""
        return cls(claim, predicted, None, None, None, Basis.UNCHECKED, note=why)

    @property
    def status(self) -> str:
        """``"passed"``, ``"FAILED"`` or ``"unchecked"``."""
        return {True: "passed", False: "FAILED", None: "unchecked"}[self.passed]

    def __str__(self) -> str:
        tol = f" (tolerance {self.tolerance:g})" if self.tolerance is not None else ""
        note = f"; {self.note}" if self.note else ""
        return (
            f"{self.status} [{self.basis.value}] {self.claim}: predicted {self.predicted}, "
            f"measured {self.measured}{tol}{note}"
        )
