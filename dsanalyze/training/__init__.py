"""Training trajectories as dynamical systems: small networks under gradient descent.

The weights of a network trained by full-batch gradient descent follow the map
theta <- theta - eta grad L(theta) (:class:`TrainingMap`). Its step and its
exact tangent map v <- v - eta H v run in compiled code; the measures here
read stability off them: Lyapunov exponents, the divergence of perturbed
copies (Danovski, Soriano & Lacasa, arXiv:2404.05782), sharpness against
2/eta (Cohen et al. 2021), and the kind of loss curve.
"""
from .data import Dataset, classification_data, iris, regression_data, split
from .maps import TrainingMap, TrainingRun
from .measures import (
    Divergence, LossCurve, SharpnessTrace, classify_loss, divergence, lyapunov_spectrum, maximal_lyapunov, sharpness,
    sharpness_along,
)
from .network import Activation, Loss, Network
from .summary import LearningRateResult, TrainingSummary, training_summary
from .sweep import RegimeRow, RegimeTable, paper_setup, sweep

__all__ = [
    "Network", "Activation", "Loss", "Dataset", "iris", "split", "regression_data", "classification_data",
    "TrainingMap", "TrainingRun", "LossCurve", "classify_loss", "lyapunov_spectrum", "maximal_lyapunov",
    "Divergence", "divergence", "sharpness", "SharpnessTrace", "sharpness_along",
    "RegimeRow", "RegimeTable", "paper_setup", "sweep", "LearningRateResult", "TrainingSummary", "training_summary",
]
