"""dsanalyze: SymPy derives the analytic facts of a dynamical system, compiled kernels verify them."""
from . import errors, models
from .numeric import (
    compile_system, evaluate_jacobian, evaluate_rhs, integrate, integrate_batch, iterate, trajectory,
)
from .systems import Flow, Map, System, euler_map, gd_map, gradient_flow

__version__ = "0.1.0"

__all__ = ["System", "Map", "Flow", "gd_map", "gradient_flow", "euler_map", "models", "errors",
    "compile_system", "iterate", "trajectory", "evaluate_rhs", "evaluate_jacobian", "integrate", "integrate_batch",
]
