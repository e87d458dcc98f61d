"""Numeric work on compiled kernels: orbits of maps, integration of flows."""
from .compile import Kernel, compile_system
from .cycles import NumericCycle, cycle_newton, find_cycles
from .diagrams import OrbitDiagram, detect_period, orbit_diagram, period_doubling_points
from .flows import IntegrateResult, integrate, integrate_batch
from .orbits import IterateResult, evaluate_jacobian, evaluate_rhs, iterate, trajectory

__all__ = [
    "Kernel", "compile_system", "IterateResult", "iterate", "trajectory", "evaluate_rhs", "evaluate_jacobian",
    "IntegrateResult", "integrate", "integrate_batch",
    "OrbitDiagram", "orbit_diagram", "detect_period", "period_doubling_points",
    "NumericCycle", "find_cycles", "cycle_newton",
]
