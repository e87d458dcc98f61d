"""Symbolic derivations: equilibria, stability, bifurcations, periodic orbits, invariants.

Every derivation returns small frozen dataclasses holding exact SymPy objects,
with ``latex()`` and ``verify(...)``; every one takes ``timeout=`` seconds.
"""
from .bifurcation import Bifurcation, BifurcationKind, bifurcations, first_lyapunov_coefficient
from .budget import can_interrupt, time_limit
from .curves import ConicParametrisation, CurveDynamics, induced_map, parametrise_conic
from .equilibria import FixedPointSet, fixed_points
from .intervals import latex_region, solve_region
from .invariants import (
    ConservedQuantity, InvarianceCertificate, InvariantCurve, LyapunovCertificate, TransformationFactor,
    conserved_quantities, find_invariant_curves, is_invariant, lyapunov_function, transformation_factor,
)
from .linearisation import Linearisation, linearise
from .periodic import PeriodicOrbit, periodic_orbits
from .results import EquilibriumType, FixedPoint
from .stability import StabilityCondition, StabilityRegion, stability_condition, stability_region

__all__ = [
    "fixed_points", "FixedPoint", "FixedPointSet", "EquilibriumType",
    "linearise", "Linearisation",
    "stability_condition", "stability_region", "StabilityCondition", "StabilityRegion",
    "bifurcations", "Bifurcation", "BifurcationKind", "first_lyapunov_coefficient",
    "periodic_orbits", "PeriodicOrbit",
    "is_invariant", "find_invariant_curves", "conserved_quantities", "transformation_factor", "lyapunov_function",
    "InvarianceCertificate", "InvariantCurve", "ConservedQuantity", "TransformationFactor", "LyapunovCertificate",
    "parametrise_conic", "induced_map", "ConicParametrisation", "CurveDynamics",
    "solve_region", "latex_region", "time_limit", "can_interrupt",
]
