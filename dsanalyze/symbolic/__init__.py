"""Symbolic derivations: equilibria, stability, bifurcations, periodic orbits, invariants."""
from .budget import can_interrupt, time_limit

__all__ = ["time_limit", "can_interrupt"]
