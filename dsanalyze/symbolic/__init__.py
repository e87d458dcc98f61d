"""Symbolic derivations: equilibria, stability, bifurcations, periodic orbits, invariants.

Every derivation returns small frozen dataclasses holding exact SymPy objects,
with ``latex()`` and ``verify(...)``; every one takes ``timeout=`` seconds.
"""
from .bifurcation import Bifurcation, BifurcationKind, bifurcations, first_lyapunov_coefficient
from .budget import can_interrupt, time_limit
from .curves import ConicParametrisation, CurveDynamics, induced_map, parametrise_conic
from .epidemic import (
    DiseaseFreeEquilibrium, EndemicEquilibrium, FinalSize, NextGenerationSplit, ReproductionNumber,
    disease_free_equilibrium, endemic_equilibria, final_size, next_generation_split, reproduction_number,
)
from .equilibria import FixedPointSet, fixed_points
from .intervals import latex_region, solve_region
from .invariants import (
    ConservedQuantity, InvarianceCertificate, InvariantCurve, LyapunovCertificate, TransformationFactor,
    conserved_quantities, find_invariant_curves, is_invariant, lyapunov_function, transformation_factor,
)
from .linearisation import Linearisation, linearise
from .network import (
    DegreeDistribution, EpidemicThreshold, NetworkFinalSize, OutbreakProbability, SISThresholds, Transmissibility,
    degree_distribution, epidemic_threshold, network_final_size, outbreak_probability, sis_thresholds,
    transmissibility,
)
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
    "next_generation_split", "disease_free_equilibrium", "reproduction_number", "endemic_equilibria", "final_size",
    "NextGenerationSplit", "DiseaseFreeEquilibrium", "ReproductionNumber", "EndemicEquilibrium", "FinalSize",
    "degree_distribution", "transmissibility", "epidemic_threshold", "network_final_size", "outbreak_probability",
    "sis_thresholds", "DegreeDistribution", "Transmissibility", "EpidemicThreshold", "NetworkFinalSize",
    "OutbreakProbability", "SISThresholds",
]
