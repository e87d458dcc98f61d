"""Numeric work on compiled kernels: orbits of maps, integration of flows."""
from .compile import Kernel, compile_system
from .basins import Attractor, AttractorKind, Basins, basin_entropy, basins
from .cycles import NumericCycle, cycle_newton, find_cycles
from .diagrams import OrbitDiagram, detect_period, orbit_diagram, period_doubling_points
from .flows import IntegrateResult, integrate, integrate_batch
from .lyapunov import (
    LyapunovResult, flow_lyapunov_spectrum, flow_maximal_lyapunov, flow_lyapunov_spectrum_batch,
    flow_transverse_lyapunov, lyapunov_spectrum, lyapunov_spectrum_batch, maximal_lyapunov, transverse_lyapunov,
)
from .orbits import IterateResult, evaluate_jacobian, evaluate_rhs, iterate, trajectory
from .poincare import PoincareBatch, PoincareSection, poincare_section, poincare_section_batch
from .regimes import Regime, RegimeDiagram, regime_diagram

__all__ = [
    "Kernel", "compile_system", "IterateResult", "iterate", "trajectory", "evaluate_rhs", "evaluate_jacobian",
    "IntegrateResult", "integrate", "integrate_batch",
    "OrbitDiagram", "orbit_diagram", "detect_period", "period_doubling_points",
    "NumericCycle", "find_cycles", "cycle_newton",
    "LyapunovResult", "lyapunov_spectrum", "maximal_lyapunov", "lyapunov_spectrum_batch", "transverse_lyapunov",
    "flow_lyapunov_spectrum", "flow_maximal_lyapunov", "flow_lyapunov_spectrum_batch", "flow_transverse_lyapunov",
    "Basins", "Attractor", "AttractorKind", "basins", "basin_entropy", "Regime", "RegimeDiagram", "regime_diagram",
    "PoincareSection", "PoincareBatch", "poincare_section", "poincare_section_batch",
]
