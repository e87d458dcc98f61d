"""Small fully connected networks on a flat parameter vector.

A :class:`Network` is its layer sizes n_0, ..., n_L, one activation for the
hidden layers and a loss on the affine output layer. Its parameters are one
flat vector: for each layer l in turn, the weights W_l (n_{l+1} x n_l,
row-major) and then the biases b_l. The compiled kernels
(``cext/_training.pyx``) use exactly this layout.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from ..errors import DimensionError, TrainingError

__all__ = ["Activation", "Loss", "Network"]


class Activation(str, Enum):
    """Activation of the hidden layers."""

    SIGMOID = "sigmoid"
    TANH = "tanh"
    RELU = "relu"

    @property
    def code(self) -> int:
        return {"sigmoid": 0, "tanh": 1, "relu": 2}[self.value]


class Loss(str, Enum):
    """Loss on the network's (affine) outputs, averaged over the samples.

    ``CROSS_ENTROPY``: softmax of the outputs, then -sum_c y_c log p_c.
    ``SQUARED``: (1/2) ||f(x) - y||^2.
    """

    CROSS_ENTROPY = "cross-entropy"
    SQUARED = "squared"

    @property
    def code(self) -> int:
        return {"cross-entropy": 0, "squared": 1}[self.value]


def _enum(kind: type[Enum], value: Any, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in kind)
        raise TrainingError(f"unknown {what} {value!r}; use one of {allowed}") from None


@dataclass(frozen=True)
class Network:
    """A fully connected network: layer sizes, hidden activation and loss.

    Parameters
    ----------
    sizes : sequence of int
        n_0 (inputs), the hidden widths, n_L (outputs). ``(4, 10, 3)`` is one
        hidden layer of 10 units; ``(d, 1)`` with the squared loss is linear
        regression.
    activation : Activation or str
        ``"sigmoid"``, ``"tanh"`` or ``"relu"`` (hidden layers only).
    loss : Loss or str
        ``"cross-entropy"`` (softmax) or ``"squared"``.

    Examples
    --------
    >>> net = Network((4, 10, 3), "sigmoid", "cross-entropy")
    >>> net.n_params
    83
    >>> [W.shape for W, b in net.unflatten(net.init(seed=0))]
    [(10, 4), (3, 10)]
    """

    sizes: tuple[int, ...]
    activation: Activation = Activation.SIGMOID
    loss: Loss = Loss.CROSS_ENTROPY

    def __post_init__(self):
        try:
            sizes = tuple(int(s) for s in self.sizes)
        except (TypeError, ValueError):
            raise TrainingError(f"sizes must be a sequence of positive integers, got {self.sizes!r}") from None
        if len(sizes) < 2 or min(sizes) < 1 or any(int(s) != s for s in self.sizes):
            raise TrainingError(f"sizes must be at least two positive integers (inputs, ..., outputs), got {self.sizes!r}")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "activation", _enum(Activation, self.activation, "activation"))
        object.__setattr__(self, "loss", _enum(Loss, self.loss, "loss"))
        if self.loss is Loss.CROSS_ENTROPY and sizes[-1] < 2:
            raise TrainingError("the cross-entropy loss needs at least two outputs (one per class)")

    @property
    def n_params(self) -> int:
        """Length of the flat parameter vector."""
        return sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    def init(self, seed: int = 0, n: int | None = None) -> np.ndarray:
        """Initial parameters: every weight and bias uniform on (-1/sqrt(n_in), 1/sqrt(n_in)).

        This is the common default of deep-learning libraries for affine layers.

        Parameters
        ----------
        seed : int
            Seed of the random draws (a row r of a batch uses seed ``seed + r``).
        n : int, optional
            Number of independent parameter vectors; None gives one vector (P,).

        Returns
        -------
        ndarray, shape (P,) or (n, P)
        """
        rows = []
        for r in range(1 if n is None else int(n)):
            rng = np.random.default_rng(seed + r)
            parts = []
            for a, b in zip(self.sizes[:-1], self.sizes[1:]):
                k = 1.0 / np.sqrt(a)
                parts += [rng.uniform(-k, k, a * b), rng.uniform(-k, k, b)]
            rows.append(np.concatenate(parts))
        return rows[0] if n is None else np.array(rows)

    def unflatten(self, theta: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (W_l, b_l) of each layer, as views of ``theta``."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.n_params,):
            raise DimensionError(f"theta must have shape ({self.n_params},) for {self}; got {theta.shape}")
        layers, p = [], 0
        for a, b in zip(self.sizes[:-1], self.sizes[1:]):
            W = theta[p:p + a * b].reshape(b, a)
            p += a * b
            layers.append((W, theta[p:p + b]))
            p += b
        return layers

    def __str__(self) -> str:
        return f"{'-'.join(map(str, self.sizes))} {self.activation.value} network, {self.loss.value} loss"

    def latex(self) -> str:
        """A one-line description for a report."""
        return (f"{'--'.join(map(str, self.sizes))} network, {self.activation.value} hidden units, "
                f"{self.loss.value} loss, $P = {self.n_params}$ parameters")
