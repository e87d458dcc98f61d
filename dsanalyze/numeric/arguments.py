"""Validation of the arrays and parameter values handed to the drivers."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DimensionError, ExtraParameterError, MissingParameterError, NonFiniteInputError, ParameterError
from ..systems import System

__all__ = ["states", "parameter_matrix", "thread_count"]


def states(system: System, x: Any, what: str = "x0", *, batch: bool) -> np.ndarray:
    """``x`` as a C-contiguous float64 array of shape (n, dim) (batch) or (dim,), all finite."""
    try:
        # No copy when x is already a float64 array: the drivers only read it.
        array = np.asarray(x, dtype=np.float64)
        if array.ndim == 0:
            array = array.reshape(1)
    except (TypeError, ValueError) as exc:
        raise DimensionError(f"{what} must be numbers, got {x!r}: {exc}") from None
    dim = system.dim
    if batch:
        if array.ndim == 1 and dim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2 or array.shape[1] != dim:
            raise DimensionError(
                f"{what} must have shape (n, {dim}) for the {dim} state variable(s) "
                f"{', '.join(map(str, system.state))}; got shape {array.shape}"
            )
    elif array.shape != (dim,):
        raise DimensionError(
            f"{what} must have {dim} component(s) ({', '.join(map(str, system.state))}); got shape {array.shape}"
        )
    bad = ~np.isfinite(array)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise NonFiniteInputError(f"{what} is not finite at index {tuple(int(i) for i in where)}: {array[tuple(where)]}")
    return np.ascontiguousarray(array)


def parameter_matrix(system: System, params: Any, n: int | None) -> np.ndarray:
    """Parameter values as a float64 array of shape (n, npar) or (1, npar), in ``system.params`` order.

    ``params`` is a mapping from parameter names (or symbols) to a number or an
    array of n numbers (one per state), or an array of shape (npar,) or
    (n, npar). Defaults of the system fill in parameters not given.
    """
    names = [p.name for p in system.params]
    npar = len(names)
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        try:
            array = np.array(params, dtype=np.float64, ndmin=1)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"parameter values must be numbers: {exc}") from None
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] != npar or (array.shape[0] not in (1, n) and n not in (None, 1)):
            raise DimensionError(
                f"parameter array must have shape ({npar},) or (n, {npar}) for {', '.join(names) or 'no parameters'}; "
                f"got {np.shape(params)}"
            )
        return _finite(np.ascontiguousarray(array), names)
    given = {(k.name if hasattr(k, "name") else str(k)): v for k, v in params.items()}
    extra = sorted(set(given) - set(names))
    if extra:
        raise ExtraParameterError(
            f"{', '.join(extra)} {'is not a parameter' if len(extra) == 1 else 'are not parameters'} of "
            f"{system.name or 'the system'}; its parameters: {', '.join(names) or 'none'}"
        )
    defaults = {k.name: float(v) for k, v in system.defaults.items()}
    missing = [name for name in names if name not in given and name not in defaults]
    if missing:
        raise MissingParameterError(
            f"no value for parameter(s) {', '.join(missing)} of {system.name or 'the system'}; "
            f"pass them, e.g. {missing[0]}=1.0"
        )
    rows = 1
    columns = []
    for name in names:
        try:
            value = np.array(given.get(name, defaults.get(name)), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"parameter {name} must be a number or an array of numbers: {exc}") from None
        # One state (n == 1) may be swept over any number of parameter values.
        if value.ndim > 1 or (value.ndim == 1 and n not in (None, 1) and value.shape[0] not in (1, n)):
            raise DimensionError(f"parameter {name} must be a number or have one value per state ({n}); got shape {value.shape}")
        if value.ndim == 1 and value.shape[0] != 1:
            if rows not in (1, value.shape[0]):
                raise DimensionError(f"parameter arrays have different lengths ({rows} and {value.shape[0]} for {name})")
            rows = value.shape[0]
        columns.append(value.reshape(-1))
    matrix = np.empty((rows, npar))
    for k, column in enumerate(columns):
        matrix[:, k] = column
    return _finite(matrix, names)


def _finite(matrix: np.ndarray, names: list[str]) -> np.ndarray:
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise NonFiniteInputError(f"parameter {names[col]} is not finite (row {row}: {matrix[row, col]})")
    return matrix


def thread_count(threads: int | None) -> int:
    """Threads to use: ``threads``, else ``DSANALYZE_NUM_THREADS``, else every core."""
    if threads is None:
        threads = int(os.environ.get("DSANALYZE_NUM_THREADS", "0")) or os.cpu_count() or 1
    if threads < 1:
        raise ValueError(f"threads must be positive, got {threads}")
    return int(threads)
