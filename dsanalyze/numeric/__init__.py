"""Numeric work on compiled kernels: orbits of maps, integration of flows."""
from .compile import Kernel, compile_system
from .basins import Attractor, AttractorKind, Basins, basin_entropy, basins
from .cycles import NumericCycle, cycle_newton, find_cycles
from .diagrams import OrbitDiagram, detect_period, orbit_diagram, period_doubling_points
from .flows import IntegrateResult, integrate, integrate_batch
from .graphs import CSRGraph, as_csr, configuration_model, erdos_renyi, read_edge_list
from .lyapunov import (
    LyapunovResult, flow_lyapunov_spectrum, flow_maximal_lyapunov, flow_lyapunov_spectrum_batch,
    flow_transverse_lyapunov, lyapunov_spectrum, lyapunov_spectrum_batch, maximal_lyapunov, transverse_lyapunov,
)
from .network import EpidemicEnsemble, simulate_sir, simulate_sir_discrete, simulate_sis
from .network_odes import EBCMSolution, ebcm, ebcm_solve, hmf_sir, hmf_sis, nimfa_sir, nimfa_sis, pairwise_sir
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
    "CSRGraph", "as_csr", "erdos_renyi", "configuration_model", "read_edge_list",
    "EpidemicEnsemble", "simulate_sir", "simulate_sis", "simulate_sir_discrete",
    "EBCMSolution", "ebcm", "ebcm_solve", "hmf_sir", "hmf_sis", "pairwise_sir", "nimfa_sis", "nimfa_sir",
]
