"""Contact networks as symmetric CSR arrays: conversion, validation, and fast random graphs.

Simulations take a :class:`CSRGraph`; :func:`as_csr` makes one from a
networkx graph, a SciPy sparse matrix, an (m, 2) array of edges or an edge
list file, and rejects graphs an epidemic cannot run on (directed, with
self-loops, negative or NaN weights, empty). :func:`erdos_renyi` and
:func:`configuration_model` build random graphs in compiled code, straight to
CSR (no networkx object on the way).

Nodes are numbered 0 .. N-1: for a networkx graph, in the order of
``G.nodes()`` (``CSRGraph.labels`` keeps the original labels).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _epidemic
from ..errors import DirectedGraphError, EdgeWeightError, EmptyGraphError, GraphError, SelfLoopError

__all__ = ["CSRGraph", "as_csr", "erdos_renyi", "configuration_model", "read_edge_list"]

_MAX_NODES = 2**31 - 1


@dataclass(frozen=True, eq=False)
class CSRGraph:
    """An undirected graph as symmetric CSR arrays.

    Attributes
    ----------
    indptr : (N + 1,) int64 ndarray
        Neighbours of node i are ``indices[indptr[i]:indptr[i + 1]]``.
    indices : (2 M,) int32 ndarray
    weights : (2 M,) float64 ndarray or None
        Edge weights (the transmission rate along an edge is tau * weight).
    labels : sequence or None
        Original node labels (networkx input), by index.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray | None = None
    labels: Any = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Number of nodes N."""
        return int(self.indptr.shape[0] - 1)

    @property
    def number_of_edges(self) -> int:
        """Number of undirected edges M."""
        return int(self.indices.shape[0] // 2)

    def degrees(self) -> np.ndarray:
        """Degree of every node."""
        return np.diff(self.indptr)

    def to_scipy(self):
        """The adjacency matrix as a SciPy CSR array (weights, or ones)."""
        import scipy.sparse as sps

        data = self.weights if self.weights is not None else np.ones(self.indices.shape[0])
        return sps.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n))

    def spectral_radius(self) -> float:
        """lambda_max of the adjacency matrix (ARPACK for large graphs, dense for small ones)."""
        A = self.to_scipy()
        if self.n <= 500:
            return float(np.max(np.linalg.eigvalsh(A.toarray())))
        import scipy.sparse.linalg as spla

        return float(spla.eigsh(A.astype(np.float64), k=1, which="LA", return_eigenvectors=False)[0])


def _check_weights(weights: np.ndarray) -> np.ndarray:
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    bad = ~np.isfinite(weights)
    if bad.any():
        raise EdgeWeightError(f"edge weights must be finite; found {weights[bad][0]} ({int(bad.sum())} such)")
    if (weights < 0).any():
        raise EdgeWeightError(f"edge weights must be >= 0; found {weights[weights < 0][0]}")
    return weights


def _from_edges(n: int, edges: np.ndarray, weights: np.ndarray | None, labels=None) -> CSRGraph:
    """Symmetric CSR from an (m, 2) array of undirected edges (each given once)."""
    if n <= 0:
        raise EmptyGraphError("the graph has no nodes")
    if n > _MAX_NODES:
        raise GraphError(f"graphs of more than {_MAX_NODES} nodes are not supported")
    edges = np.asarray(edges)
    if edges.size == 0:
        edges = edges.reshape(0, 2)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise GraphError(f"edges must have shape (m, 2), got {edges.shape}")
    if not np.issubdtype(edges.dtype, np.integer):
        if not np.all(np.isfinite(edges)) or not np.all(edges == np.round(edges)):
            raise GraphError("edges must be pairs of integer node indices")
        edges = edges.astype(np.int64)
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        raise GraphError(f"edge endpoints must be node indices in [0, {n}); found {edges.min()}..{edges.max()}")
    loops = edges[:, 0] == edges[:, 1]
    if loops.any():
        raise SelfLoopError(f"node {int(edges[loops][0, 0])} has an edge to itself ({int(loops.sum())} self-loops); "
                            "remove them (e.g. G.remove_edges_from(nx.selfloop_edges(G)))")
    src = np.concatenate([edges[:, 0], edges[:, 1]]).astype(np.int64)
    dst = np.concatenate([edges[:, 1], edges[:, 0]]).astype(np.int32)
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    w = None
    if weights is not None:
        w = _check_weights(weights)
        if w.shape != (edges.shape[0],):
            raise EdgeWeightError(f"give one weight per edge ({edges.shape[0]}), got shape {w.shape}")
        w = np.concatenate([w, w])[order]
    if src.size > 1:
        repeated = (src[1:] == src[:-1]) & (dst[1:] == dst[:-1])
        if repeated.any():
            i = int(np.argmax(repeated))
            raise GraphError(f"the edge ({src[i]}, {dst[i]}) is given twice; give each undirected edge once")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return CSRGraph(indptr, np.ascontiguousarray(dst), w, labels)


def as_csr(graph: Any, *, weight: str | None = None, n: int | None = None) -> CSRGraph:
    """A validated :class:`CSRGraph` from a networkx graph, a SciPy sparse matrix, an edge array or a file.

    Parameters
    ----------
    graph : CSRGraph, networkx.Graph, scipy.sparse matrix/array, (m, 2) array_like, or path
        An edge array lists each undirected edge once; a path names an edge
        list file (see :func:`read_edge_list`).
    weight : str, optional
        networkx: the edge attribute holding weights (default: unweighted).
    n : int, optional
        Edge array: the number of nodes (default: largest index + 1).

    Raises
    ------
    DirectedGraphError, SelfLoopError, EdgeWeightError, EmptyGraphError, GraphError

    Examples
    --------
    >>> g = as_csr([[0, 1], [1, 2]])
    >>> g.n, g.number_of_edges, g.degrees().tolist()
    (3, 2, [1, 2, 1])
    """
    if isinstance(graph, CSRGraph):
        return graph
    if isinstance(graph, (str, os.PathLike)):
        return read_edge_list(graph)
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx is a dependency
        nx = None
    if nx is not None and isinstance(graph, nx.Graph):
        if graph.is_directed():
            raise DirectedGraphError("the graph is directed; epidemics here run on undirected contacts "
                                     "(use G.to_undirected())")
        if graph.number_of_nodes() == 0:
            raise EmptyGraphError("the graph has no nodes")
        if graph.is_multigraph():
            raise GraphError("the graph is a multigraph; collapse repeated edges first (nx.Graph(G))")
        labels = list(graph.nodes())
        index = {v: i for i, v in enumerate(labels)}
        m = graph.number_of_edges()
        edges = np.fromiter((index[v] for e in graph.edges() for v in e), dtype=np.int64, count=2 * m).reshape(m, 2)
        weights = None
        if weight is not None:
            weights = np.array([d.get(weight, 1.0) for _, _, d in graph.edges(data=True)], dtype=np.float64)
        return _from_edges(len(labels), edges, weights, labels)
    if hasattr(graph, "tocsr") and hasattr(graph, "shape"):
        A = graph.tocsr()
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise GraphError(f"an adjacency matrix must be square, got shape {A.shape}")
        if A.shape[0] == 0:
            raise EmptyGraphError("the graph has no nodes")
        A.sum_duplicates()
        A.eliminate_zeros()
        data = np.asarray(A.data, dtype=np.float64)
        _check_weights(data)
        if (abs(A - A.T) > 0).nnz:
            raise DirectedGraphError("the adjacency matrix is not symmetric (a directed graph)")
        if A.diagonal().any():
            raise SelfLoopError(f"the adjacency matrix has {int(np.count_nonzero(A.diagonal()))} nonzero diagonal "
                                "entries (self-loops)")
        A.sort_indices()
        weights = None if np.all(data == 1.0) else np.ascontiguousarray(data)
        return CSRGraph(np.ascontiguousarray(A.indptr, dtype=np.int64), np.ascontiguousarray(A.indices, dtype=np.int32),
                        weights)
    try:
        edges = np.asarray(graph)
    except (TypeError, ValueError):
        raise GraphError(f"cannot read a graph from {type(graph).__name__}") from None
    if edges.dtype == object:
        raise GraphError(f"cannot read a graph from {type(graph).__name__}")
    if edges.size == 0 and n is None:
        raise EmptyGraphError("no edges and no number of nodes: the graph is empty")
    edges = edges.reshape(-1, 2) if edges.size == 0 else edges
    if n is None:
        n = int(edges.max()) + 1
    return _from_edges(int(n), edges, None)


def read_edge_list(path: Any) -> CSRGraph:
    """An undirected graph from a text file of edges, one ``u v`` (or ``u v weight``) per line.

    Nodes are integers; the graph has max(node) + 1 nodes. Lines starting with
    ``#`` are comments.
    """
    try:
        data = np.loadtxt(path, comments="#", ndmin=2)
    except (OSError, ValueError) as exc:
        raise GraphError(f"cannot read an edge list from {path}: {exc}") from None
    if data.size == 0:
        raise EmptyGraphError(f"{path} lists no edges")
    if data.shape[1] not in (2, 3):
        raise GraphError(f"{path}: each line must be 'u v' or 'u v weight', found {data.shape[1]} columns")
    edges = data[:, :2]
    if not np.all(edges == np.round(edges)) or edges.min() < 0:
        raise GraphError(f"{path}: node labels must be integers >= 0")
    edges = edges.astype(np.int64)
    return _from_edges(int(edges.max()) + 1, edges, data[:, 2] if data.shape[1] == 3 else None)


def _seed(seed: Any) -> int:
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0])
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed) % 2**64


def erdos_renyi(n: int, mean_degree: float | None = None, *, p: float | None = None, seed: int | None = None) -> CSRGraph:
    """G(n, p) built in compiled code (Batagelj & Brandes skipping), O(n + m) time.

    Parameters
    ----------
    n : int
    mean_degree : float, optional
        Sets p = mean_degree / (n - 1).
    p : float, optional
        The edge probability (give this or ``mean_degree``).
    seed : int, optional

    Examples
    --------
    >>> g = erdos_renyi(10_000, 10, seed=1)
    >>> round(g.degrees().mean())
    10
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise EmptyGraphError(f"n must be a positive integer, got {n!r}")
    if (mean_degree is None) == (p is None):
        raise ValueError("give exactly one of mean_degree and p")
    if p is None:
        p = float(mean_degree) / (n - 1) if n > 1 else 0.0
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"p must be in [0, 1], got {p}")
    indptr, indices = _epidemic.erdos_renyi(int(n), float(p), _seed(seed))
    return CSRGraph(indptr, indices)


def configuration_model(degrees: Any, *, seed: int | None = None) -> CSRGraph:
    """A configuration-model graph with the given degree sequence, built in compiled code.

    Stubs are paired uniformly at random; self-loops and repeated edges are
    erased (a vanishing fraction for bounded degrees: O(1) edges in all), so
    a few nodes may end with a smaller degree.

    Examples
    --------
    >>> g = configuration_model([3] * 1000, seed=2)
    >>> g.n, int(g.degrees().max())
    (1000, 3)
    """
    return _configuration(degrees, seed)[0]


def _configuration(degrees: Any, seed: Any) -> tuple[CSRGraph, int]:
    d = np.asarray(degrees)
    if d.ndim != 1 or d.size == 0:
        raise EmptyGraphError("the degree sequence is empty")
    if not np.issubdtype(d.dtype, np.integer):
        if not np.all(d == np.round(d)):
            raise GraphError("degrees must be integers")
    d = np.ascontiguousarray(d, dtype=np.int64)
    if (d < 0).any():
        raise GraphError("degrees must be >= 0")
    if int(d.sum()) % 2:
        raise GraphError(f"the degrees sum to {int(d.sum())}, an odd number: stubs cannot all be paired")
    indptr, indices, erased = _epidemic.configuration_model(d, _seed(seed))
    return CSRGraph(indptr, indices), int(erased)
