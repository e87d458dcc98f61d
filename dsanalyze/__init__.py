"""dsanalyze: SymPy derives the analytic facts of a dynamical system, compiled kernels verify them."""
from . import errors, models, plot, training
from .analysis import Analysis, analyze
from .modelfile import load_model
from .numeric import (
    basin_entropy, basins, compile_system, evaluate_jacobian, evaluate_rhs, find_cycles, flow_lyapunov_spectrum,
    integrate, integrate_batch, iterate, lyapunov_spectrum, maximal_lyapunov, orbit_diagram,
    period_doubling_points, poincare_section, regime_diagram, trajectory, transverse_lyapunov,
)
from .numeric import simulate_sir, simulate_sis
from .symbolic import final_size, network_final_size, reproduction_number
from .symbolic import (
    bifurcations, conserved_quantities, find_invariant_curves, fixed_points, induced_map, is_invariant, linearise,
    lyapunov_function, periodic_orbits, stability_condition, stability_region, transformation_factor,
)
from .systems import Flow, Map, System, euler_map, gd_map, gradient_flow
from .verify import Basis, Verdict

__version__ = "0.1.0"

__all__ = ["analyze", "Analysis", "load_model", "System", "Map", "Flow", "gd_map", "gradient_flow", "euler_map", "models", "errors", "plot",
    "compile_system", "iterate", "trajectory", "evaluate_rhs", "evaluate_jacobian", "integrate", "integrate_batch",
    "fixed_points", "linearise", "stability_condition", "stability_region", "bifurcations", "periodic_orbits",
    "is_invariant", "find_invariant_curves", "conserved_quantities", "transformation_factor", "lyapunov_function",
    "induced_map", "Verdict", "Basis", "orbit_diagram", "period_doubling_points", "find_cycles",
    "lyapunov_spectrum", "maximal_lyapunov", "flow_lyapunov_spectrum", "transverse_lyapunov",
    "basins", "basin_entropy", "regime_diagram", "poincare_section", "training",
    "reproduction_number", "final_size", "network_final_size", "simulate_sir", "simulate_sis",
]
