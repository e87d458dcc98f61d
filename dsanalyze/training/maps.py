"""Gradient descent on a network's weights as a map theta <- theta - eta grad L(theta).

:class:`TrainingMap` has the feel of :class:`dsanalyze.systems.Map` for a
numeric system: ``dim``, ``step`` and ``jvp`` (the exact Jacobian-vector
product v - eta H v, by forward-over-reverse differentiation in compiled
code), plus batched training runs. With ``batch_size`` smaller than the data,
it is SGD over fixed batches of consecutive samples of a seeded permutation,
visited in a fixed cyclic order, so the map at step t is F_{t mod B}.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from .. import _training
from ..errors import DimensionError, NonFiniteInputError, TrainingError
from ..numeric.arguments import thread_count
from ..systems import Map, gd_map
from .data import Dataset
from .network import Loss, Network

__all__ = ["TrainingMap", "TrainingRun"]

#: A trajectory has diverged once some |theta_i| reaches this (or the loss is not finite).
DIVERGENCE_BOUND = 1e8


@dataclass(frozen=True)
class TrainingRun:
    """Training runs from several initial parameter vectors.

    Attributes
    ----------
    losses : (n, steps + 1) ndarray
        Loss on all the data at theta_0, ..., theta_steps (NaN after a divergence).
    theta : (n, P) ndarray
        Final parameters.
    diverged_at : (n,) int ndarray
        Step at which a run diverged, -1 where it ran through.
    lr : (n,) ndarray
        Learning rate of each run.
    distances : (n, steps + 1) ndarray or None
        Distance to the reference trajectory after every step, when asked.
    snapshots : (n, m, P) ndarray or None
        Parameters every ``snapshot_every`` steps, when asked.
    """

    losses: np.ndarray = field(repr=False)
    theta: np.ndarray = field(repr=False)
    diverged_at: np.ndarray
    lr: np.ndarray
    distances: np.ndarray | None = field(default=None, repr=False)
    snapshots: np.ndarray | None = field(default=None, repr=False)

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0


class TrainingMap:
    """Gradient descent (full batch or SGD with a fixed batch order) on a network as a map.

    Parameters
    ----------
    network : Network
    data : Dataset
        Inputs of width ``network.n_inputs`` and targets of width ``network.n_outputs``.
    lr : float
        Learning rate eta > 0.
    batch_size : int, optional
        Samples per step; None (default) is full-batch gradient descent.
    order_seed : int
        Seed of the fixed permutation that makes the SGD batches.
    threads : int, optional
        Threads for batched calls (default: every core or ``DSANALYZE_NUM_THREADS``).

    Examples
    --------
    >>> from dsanalyze.training import Network, iris
    >>> F = TrainingMap(Network((4, 10, 3)), iris(), lr=0.5)
    >>> theta = F.network.init(seed=0)
    >>> F.dim, F.step(theta).shape
    (83, (83,))
    >>> v = np.eye(83)[0]
    >>> bool(np.allclose(F.jvp(theta, v), v - 0.5 * F.hvp(theta, v)))
    True
    """

    def __init__(self, network: Network, data: Dataset, lr: float, *, batch_size: int | None = None,
                 order_seed: int = 0, threads: int | None = None):
        if not isinstance(network, Network):
            raise TrainingError(f"network must be a Network, got {type(network).__name__}")
        if not isinstance(data, Dataset):
            raise TrainingError(f"data must be a Dataset, got {type(data).__name__}")
        if data.n_inputs != network.n_inputs or data.n_outputs != network.n_outputs:
            raise DimensionError(
                f"{network} takes {network.n_inputs} inputs and gives {network.n_outputs} outputs, but the data "
                f"have {data.n_inputs} input and {data.n_outputs} target columns"
            )
        self.network = network
        self.lr = _learning_rate(lr)
        n = data.n_samples
        if batch_size is None:
            self.batch_size = n
            self.data = data
        else:
            if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
                raise TrainingError(f"batch_size must be a positive integer, got {batch_size!r}")
            self.batch_size = min(int(batch_size), n)
            # SGD: batches are consecutive samples of one seeded permutation, kept for every step.
            self.data = data if self.batch_size == n else data.subset(np.random.default_rng(order_seed).permutation(n))
        self.threads = thread_count(threads)
        # The compiled network and the data in its layout, made once (a call then costs microseconds).
        self._spec = _training._Spec(np.asarray(network.sizes, dtype=np.int64), network.activation.code,
                                     network.loss.code)
        self._args = (self._spec, _training._Samples(self._spec, self.data.X, self.data.Y))

    # ---- what the map is --------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Dimension of the state: the number of parameters."""
        return self.network.n_params

    @property
    def full_batch(self) -> bool:
        return self.batch_size == self.data.n_samples

    @property
    def n_batches(self) -> int:
        """Batches per epoch (1 for full-batch gradient descent)."""
        return -(-self.data.n_samples // self.batch_size)

    def __repr__(self) -> str:
        kind = "GD" if self.full_batch else f"SGD (batches of {self.batch_size})"
        return f"TrainingMap({self.network}, {self.data.name or 'data'}, {kind}, lr={self.lr:g})"

    def with_lr(self, lr: float) -> "TrainingMap":
        """The same map with another learning rate."""
        other = object.__new__(TrainingMap)
        other.__dict__.update(self.__dict__)
        other.lr = _learning_rate(lr)
        return other

    # ---- evaluation -------------------------------------------------------------------------
    def _theta(self, theta: Any, what: str = "theta") -> tuple[np.ndarray, bool]:
        array = np.asarray(theta, dtype=np.float64)
        single = array.ndim == 1
        array = np.ascontiguousarray(array.reshape(1, -1) if single else array)
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise DimensionError(f"{what} must have shape ({self.dim},) or (n, {self.dim}); got {np.shape(theta)}")
        if not np.all(np.isfinite(array)):
            raise NonFiniteInputError(f"{what} is not finite")
        return array, single

    def loss(self, theta: Any) -> Any:
        """Mean loss on all the data at theta (P,) -> float, or at each row of (n, P) -> (n,)."""
        return self.loss_and_gradient(theta)[0]

    def gradient(self, theta: Any) -> np.ndarray:
        """Gradient of the mean loss on all the data."""
        return self.loss_and_gradient(theta)[1]

    def loss_and_gradient(self, theta: Any) -> tuple[Any, np.ndarray]:
        array, single = self._theta(theta)
        L, G = _training.loss_grad(*self._args, array, self.threads)
        return (float(L[0]), G[0]) if single else (L, G)

    def hvp(self, theta: Any, v: Any) -> np.ndarray:
        """Exact Hessian-vector product(s) H(theta) v of the loss on all the data.

        ``theta`` (P,) with ``v`` (P,) or (k, P); or ``theta`` (n, P) with ``v`` (n, k, P).
        """
        array, single = self._theta(theta)
        V = np.asarray(v, dtype=np.float64)
        one_vector = single and V.ndim == 1
        if single:
            V = V.reshape(1, -1, self.dim) if V.ndim in (1, 2) and V.shape[-1] == self.dim else V
        if V.ndim != 3 or V.shape[0] != array.shape[0] or V.shape[2] != self.dim:
            raise DimensionError(f"v must have shape ({self.dim},), (k, {self.dim}) or (n, k, {self.dim}); got {np.shape(v)}")
        _, _, HV = _training.hvp(*self._args, array, np.ascontiguousarray(V), self.threads)
        if one_vector:
            return HV[0, 0]
        return HV[0] if single else HV

    def hessian(self, theta: Any) -> np.ndarray:
        """The full Hessian (P, P) of the loss on all the data, column by column from exact HVPs."""
        H = self.hvp(theta, np.eye(self.dim))
        return 0.5 * (H + H.T)  # symmetric up to rounding

    def step(self, theta: Any, t: int = 0) -> np.ndarray:
        """One step theta - eta grad L_b(theta), with b the batch of step t (SGD)."""
        return self.propagate(theta, None, 1, t=t)[0]

    def jvp(self, theta: Any, v: Any, t: int = 0) -> np.ndarray:
        """The Jacobian of the step at theta applied to v: v - eta H_b(theta) v (exact)."""
        V = np.asarray(v, dtype=np.float64)
        return self.propagate(theta, V, 1, t=t)[1]

    def propagate(self, theta: Any, v: Any, steps: int, *, t: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """Advance theta and tangent vector(s) v by ``steps`` steps (no renormalisation).

        Parameters
        ----------
        theta : (P,) or (n, P)
        v : (P,), (k, P), (n, k, P) or None
        steps : int
        t : int
            Index of the first step (selects the SGD batch).

        Returns
        -------
        theta_steps, v_steps (the same shapes as given; None when v is None)
        """
        array, single = self._theta(theta)
        steps = _count(steps, "steps", 0)
        n = array.shape[0]
        shape = None
        if v is None:
            V = np.zeros((n, 0, self.dim))
        else:
            V = np.asarray(v, dtype=np.float64)
            shape = V.shape
            if single and V.ndim in (1, 2):
                V = V.reshape(1, -1, self.dim) if V.shape[-1] == self.dim else V
            if V.ndim != 3 or V.shape[0] != n or V.shape[2] != self.dim:
                raise DimensionError(f"v must have shape ({self.dim},), (k, {self.dim}) or (n, k, {self.dim}); got {shape}")
        theta_out, V_out, _, _ = _training.propagate(self._spec, self._rotated(t), array, np.ascontiguousarray(V),
                                                     np.full(n, self.lr), steps, self.batch_size, self.threads)
        theta_out = theta_out[0] if single else theta_out
        return theta_out, (None if shape is None else V_out.reshape(shape))

    def _rotated(self, t: int):
        """The data (compiled layout) with the batches rotated so that step 0 of the kernel uses the batch of step t."""
        if self.full_batch or t % self.n_batches == 0:
            return self._args[1]
        start = (t % self.n_batches) * self.batch_size
        if self.data.n_samples % self.batch_size:
            raise TrainingError("starting SGD at t > 0 needs a batch size that divides the number of samples")
        order = np.roll(np.arange(self.data.n_samples), -start)
        return _training._Samples(self._spec, np.ascontiguousarray(self.data.X[order]),
                                  np.ascontiguousarray(self.data.Y[order]))

    # ---- training ---------------------------------------------------------------------------
    def train(self, theta0: Any, steps: int, *, lr: Any = None, reference: np.ndarray | None = None,
              reference_index: Any = None, norm: int = 2, snapshot_every: int = 0) -> TrainingRun:
        """Train from every row of ``theta0`` (n, P) for ``steps`` steps, in parallel.

        Parameters
        ----------
        theta0 : (P,) or (n, P)
        steps : int
        lr : float or (n,) array, optional
            Learning rate per run (default: the map's).
        reference : (m, steps + 1, P), optional
            Reference trajectories; run r records its distance to
            ``reference[reference_index[r]]`` after every step.
        norm : 1 or 2
            Norm of the distances.
        snapshot_every : int
            Keep the parameters every this many steps (0: none).
        """
        array, _ = self._theta(theta0, "theta0")
        n = array.shape[0]
        steps = _count(steps, "steps", 0)
        eta = np.full(n, self.lr) if lr is None else np.broadcast_to(
            np.asarray([_learning_rate(x) for x in np.atleast_1d(lr)], dtype=np.float64), (n,)).copy()
        if norm not in (1, 2):
            raise TrainingError(f"norm must be 1 (L1) or 2 (L2), got {norm!r}")
        if reference is None:
            ref = np.empty((0, 1, 1))
            index = np.empty(0, dtype=np.int64)
        else:
            ref = np.ascontiguousarray(np.asarray(reference, dtype=np.float64))
            if ref.ndim == 2:
                ref = ref[None]
            if ref.shape[1:] != (steps + 1, self.dim):
                raise DimensionError(f"reference must have shape (m, {steps + 1}, {self.dim}); got {ref.shape}")
            index = np.zeros(n, dtype=np.int64) if reference_index is None else np.asarray(reference_index, dtype=np.int64)
            if index.shape != (n,) or index.min() < 0 or index.max() >= ref.shape[0]:
                raise DimensionError(f"reference_index must give one reference in [0, {ref.shape[0]}) per run")
        losses, theta, dist, snaps, status, fail = _training.train(
            *self._args, array, eta, steps, self.batch_size, DIVERGENCE_BOUND,
            ref, np.ascontiguousarray(index), int(norm), _count(snapshot_every, "snapshot_every", 0), self.threads)
        return TrainingRun(losses, theta, fail, eta, dist, snaps)

    def trajectory(self, theta0: Any, steps: int) -> np.ndarray:
        """theta_0, ..., theta_steps from one initial vector: shape (steps + 1, P)."""
        array, single = self._theta(theta0, "theta0")
        if not single:
            raise DimensionError("trajectory() takes one initial vector; use train(..., snapshot_every=1) for several")
        return self.train(array, steps, snapshot_every=1).snapshots[0]

    # ---- the symbolic map, where there is one ------------------------------------------------
    def system(self) -> Map:
        """The same gradient-descent step as an exact SymPy :class:`~dsanalyze.systems.Map`.

        Only for linear regression (no hidden layer, squared loss, full batch):
        the loss is (1/2N) sum ||W x + b - y||^2 with the data as exact
        rationals (the binary values of the floats), the learning rate the
        parameter ``eta``; built with :func:`dsanalyze.gd_map`.
        """
        if len(self.network.sizes) != 2 or self.network.loss is not Loss.SQUARED or not self.full_batch:
            raise TrainingError("system() is available for linear regression only: sizes (d, m), squared loss, full batch")
        (W, b), = self.network.unflatten(np.arange(self.dim, dtype=np.float64))
        symbols = sp.symbols(f"theta0:{self.dim}", real=True)
        Ws = sp.Matrix(W.shape[0], W.shape[1], lambda i, j: symbols[int(W[i, j])])
        bs = sp.Matrix([symbols[int(i)] for i in b])
        loss = sp.Integer(0)
        for x, y in zip(self.data.X, self.data.Y):
            r = Ws * sp.Matrix([sp.Rational(float(v)) for v in x]) + bs - sp.Matrix([sp.Rational(float(v)) for v in y])
            loss += (r.T * r)[0, 0]
        loss = sp.expand(loss / (2 * self.data.n_samples))
        return gd_map(loss, symbols, "eta", name="gradient descent (linear regression)")


def _learning_rate(lr: Any) -> float:
    try:
        value = float(lr)
    except (TypeError, ValueError):
        raise TrainingError(f"learning rate must be a number, got {lr!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise TrainingError(f"learning rate must be a finite positive number, got {lr!r}")
    return value


def _count(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise TrainingError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)
