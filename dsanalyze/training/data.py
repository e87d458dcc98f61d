"""Data sets for training: the Iris data shipped with the package, and seeded synthetic sets.

Nothing is downloaded: :func:`iris` reads ``data/iris.csv`` beside this
module (Fisher 1936, public domain; 150 samples, 50 per species, the values
of scikit-learn's bundled copy).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from ..errors import TrainingError

__all__ = ["Dataset", "iris", "split", "regression_data", "classification_data"]

IRIS_SPECIES = ("setosa", "versicolor", "virginica")


@dataclass(frozen=True)
class Dataset:
    """Inputs and targets of a supervised task.

    Attributes
    ----------
    X : (N, n_in) ndarray
        Inputs.
    Y : (N, n_out) ndarray
        Targets: one-hot rows for classification, values for regression.
    name : str
    labels : (N,) int ndarray or None
        Class of each sample (classification only).
    classes : tuple of str
        Class names (classification only).
    """

    X: np.ndarray = field(repr=False)
    Y: np.ndarray = field(repr=False)
    name: str = ""
    labels: np.ndarray | None = field(default=None, repr=False)
    classes: tuple[str, ...] = ()

    def __post_init__(self):
        X = np.ascontiguousarray(np.asarray(self.X, dtype=np.float64))
        Y = np.asarray(self.Y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        Y = np.ascontiguousarray(Y)
        if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] < 1:
            raise TrainingError(f"X must be (N, n_in) and Y (N, n_out) with N >= 1; got {X.shape} and {Y.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
            raise TrainingError(f"data set {self.name or ''} has values that are not finite")
        X.setflags(write=False)
        Y.setflags(write=False)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", Y)

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.X.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.Y.shape[1]

    def subset(self, index: Any, name: str | None = None) -> "Dataset":
        """The samples at ``index``, in that order."""
        index = np.asarray(index)
        labels = None if self.labels is None else self.labels[index]
        return Dataset(self.X[index], self.Y[index], self.name if name is None else name, labels, self.classes)

    def standardised(self, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> "Dataset":
        """Inputs shifted and scaled to mean 0 and standard deviation 1 (or by the given mean and std)."""
        mean = self.X.mean(axis=0) if mean is None else np.asarray(mean, dtype=np.float64)
        std = self.X.std(axis=0) if std is None else np.asarray(std, dtype=np.float64)
        if np.any(std <= 0):
            raise TrainingError("cannot standardise a constant input column")
        return Dataset((self.X - mean) / std, self.Y, f"{self.name} (standardised)", self.labels, self.classes)


def iris() -> Dataset:
    """The Iris data (Fisher 1936): 150 flowers, 4 measurements in cm, 3 species (one-hot targets).

    Examples
    --------
    >>> d = iris()
    >>> d.X.shape, d.Y.shape, d.classes[0]
    ((150, 4), (150, 3), 'setosa')
    >>> d.X.mean(axis=0).round(3).tolist()
    [5.843, 3.057, 3.758, 1.199]
    """
    text = resources.files("dsanalyze.training").joinpath("data/iris.csv").read_text()
    lines = text.strip().splitlines()[1:]
    X = np.array([[float(v) for v in line.split(",")[:4]] for line in lines])
    labels = np.array([IRIS_SPECIES.index(line.split(",")[4]) for line in lines])
    return Dataset(X, np.eye(3)[labels], "Iris (Fisher 1936)", labels, IRIS_SPECIES)


def split(data: Dataset, n_train: int, *, seed: int = 0, stratify: bool = True) -> tuple[Dataset, Dataset]:
    """A seeded train/test split.

    With ``stratify`` (and labels), every class gives the same share of its
    samples to the training set (``n_train`` must then divide evenly, e.g. 120
    of Iris's 150 is 40 per species). Training samples are ordered by class,
    then by the random permutation; the test set holds the rest.

    Examples
    --------
    >>> train, test = split(iris(), 120, seed=0)
    >>> train.n_samples, test.n_samples, np.bincount(train.labels).tolist()
    (120, 30, [40, 40, 40])
    """
    n = data.n_samples
    if not isinstance(n_train, (int, np.integer)) or not 1 <= n_train < n:
        raise TrainingError(f"n_train must be an integer in [1, {n - 1}], got {n_train!r}")
    rng = np.random.default_rng(seed)
    if stratify and data.labels is not None:
        classes = np.unique(data.labels)
        per, rest = divmod(int(n_train), len(classes))
        counts = np.bincount(data.labels)
        if rest or np.any(counts[classes] < per):
            raise TrainingError(f"a stratified split needs n_train divisible by {len(classes)} classes "
                                f"and at most the smallest class size per class; got {n_train}")
        chosen = np.concatenate([rng.permutation(np.flatnonzero(data.labels == c))[:per] for c in classes])
    else:
        chosen = rng.permutation(n)[:n_train]
    others = np.setdiff1d(np.arange(n), chosen)
    return data.subset(chosen, f"{data.name} train"), data.subset(others, f"{data.name} test")


def regression_data(n: int = 50, n_inputs: int = 2, n_outputs: int = 1, *, noise: float = 0.1,
                    nonlinear: bool = False, seed: int = 0) -> Dataset:
    """A seeded regression set: Gaussian inputs, targets linear (or a smooth nonlinear function) plus noise.

    Linear targets are y = X A + c + noise with A, c standard normal; with
    ``nonlinear``, y = sin(X A) + c + noise.

    Examples
    --------
    >>> d = regression_data(20, 3, seed=1)
    >>> d.X.shape, d.Y.shape
    ((20, 3), (20, 1))
    """
    if n < 1 or n_inputs < 1 or n_outputs < 1:
        raise TrainingError("n, n_inputs and n_outputs must be positive")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_inputs))
    A = rng.standard_normal((n_inputs, n_outputs))
    c = rng.standard_normal(n_outputs)
    Z = X @ A
    Y = (np.sin(Z) if nonlinear else Z) + c + noise * rng.standard_normal((n, n_outputs))
    return Dataset(X, Y, f"synthetic regression (n = {n}, seed {seed})")


def classification_data(n: int = 60, n_inputs: int = 2, classes: int = 3, *, spread: float = 1.0,
                        seed: int = 0) -> Dataset:
    """A seeded classification set: Gaussian blobs around random centres, n // classes samples each.

    Examples
    --------
    >>> d = classification_data(60, 2, 3, seed=0)
    >>> np.bincount(d.labels).tolist()
    [20, 20, 20]
    """
    if classes < 2 or n < classes or n_inputs < 1:
        raise TrainingError("need at least two classes, one sample per class and one input")
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((classes, n_inputs))
    per = n // classes
    labels = np.repeat(np.arange(classes), per)
    X = centres[labels] + spread * rng.standard_normal((labels.size, n_inputs))
    return Dataset(X, np.eye(classes)[labels], f"synthetic blobs ({classes} classes, seed {seed})", labels,
                   tuple(f"class {c}" for c in range(classes)))
