"""Matplotlib figures: orbit diagrams, Lyapunov exponents against a parameter, basin images,
phase portraits of planar flows, cobweb diagrams of 1-D maps, regime diagrams of gradient descent.

Every function takes ``ax=None`` (a new figure and Axes are made when it is
None) and returns the Axes it drew on. Nothing here calls ``plt.show``, so the
module works under the non-interactive Agg backend.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import DimensionError
from .systems import Flow, Map

__all__ = ["orbit_diagram", "lyapunov_plot", "basin_image", "phase_portrait", "cobweb", "regime_diagram"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def orbit_diagram(diagram, ax=None, *, component: int = 0, markersize: float = 0.2, color: str = "k"):
    """Scatter the recorded tails of an :class:`~dsanalyze.numeric.diagrams.OrbitDiagram`.

    Parameters
    ----------
    diagram : OrbitDiagram
    ax : matplotlib Axes, optional
    component : int
        The state component on the vertical axis.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, dsanalyze as ds
    >>> from dsanalyze.numeric.diagrams import orbit_diagram as diagram
    >>> d = diagram(ds.models.logistic(), "r", np.linspace(2.8, 4, 50), record=100)
    >>> ax = orbit_diagram(d)
    >>> ax.get_xlabel()
    'r'
    """
    ax = _axes(ax)
    x, y = diagram.scatter_data(component)
    ax.plot(x, y, ",", color=color, markersize=markersize, linestyle="none", rasterized=True)
    if x.size:
        ax.set_xlim(float(np.min(diagram.values)), float(np.max(diagram.values)))
    ax.set_xlabel(diagram.param)
    ax.set_ylabel(f"x[{component}]" if diagram.points.shape[2] > 1 else "x")
    ax.set_title("orbit diagram")
    return ax


def lyapunov_plot(values: Any, exponents: Any, ax=None, *, param: str = "parameter", labels: Sequence[str] | None = None):
    """Lyapunov exponent(s) against a parameter, with the zero line.

    Parameters
    ----------
    values : (n,) array_like
        Parameter values.
    exponents : (n,) or (n, m) array_like
        One exponent per value, or m exponents (one line each).
    ax : matplotlib Axes, optional
    param : str
        Label of the horizontal axis.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> ax = lyapunov_plot(np.linspace(0, 1, 5), np.linspace(-1, 1, 5))
    >>> len(ax.lines)     # the exponent and the zero line
    2
    """
    ax = _axes(ax)
    v = np.asarray(values, dtype=float).ravel()
    e = np.asarray(exponents, dtype=float)
    if e.ndim == 1:
        e = e[:, None]
    if e.shape[0] != v.shape[0]:
        raise DimensionError(f"exponents must have one row per parameter value ({v.shape[0]}); got shape {e.shape}")
    for j in range(e.shape[1]):
        label = labels[j] if labels is not None else (f"$\\lambda_{j + 1}$" if e.shape[1] > 1 else "$\\lambda$")
        ax.plot(v, e[:, j], lw=0.8, label=label)
    ax.axhline(0.0, color="0.5", lw=0.6, ls="--")
    ax.set_xlim(float(v.min()), float(v.max()))
    ax.set_xlabel(param)
    ax.set_ylabel("Lyapunov exponent")
    if e.shape[1] > 1:
        ax.legend()
    return ax


def basin_image(labels: Any, extent: Sequence[float], attractors: Any = None, ax=None, *, cmap: str = "tab10"):
    """A basin image: one colour per attractor label, with the attractors marked.

    Parameters
    ----------
    labels : (ny, nx) array_like of int
        Attractor label of each grid point (row 0 at the bottom, y = extent[2]).
    extent : (xmin, xmax, ymin, ymax)
    attractors : sequence of (m_i, 2) arrays or an (m, 2) array, optional
        Points to mark (one scatter per attractor).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> ax = basin_image(np.array([[0, 1], [1, 0]]), (0, 1, 0, 1), attractors=[[[0.25, 0.25]], [[0.75, 0.25]]])
    >>> len(ax.images), len(ax.collections)
    (1, 2)
    """
    ax = _axes(ax)
    L = np.asarray(labels)
    if L.ndim != 2:
        raise DimensionError(f"labels must be a 2-D array; got shape {L.shape}")
    if len(extent) != 4:
        raise ValueError(f"extent must be (xmin, xmax, ymin, ymax); got {extent!r}")
    ax.imshow(L, origin="lower", extent=tuple(float(e) for e in extent), cmap=cmap, interpolation="nearest",
              aspect="auto")
    if attractors is not None:
        groups = attractors
        arr = None
        try:
            arr = np.asarray(attractors, dtype=float)
        except (TypeError, ValueError):
            pass
        if arr is not None and arr.ndim == 2:
            groups = [arr]
        for i, g in enumerate(groups):
            g = np.asarray(g, dtype=float).reshape(-1, 2)
            ax.scatter(g[:, 0], g[:, 1], marker="x", s=40, color="k", zorder=3, label=f"attractor {i}")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    return ax


def phase_portrait(flow: Flow, xlim: Sequence[float], ylim: Sequence[float], *, trajectories: Any = (),
                   t_max: float = 10.0, density: int = 20, samples: int = 400, ax=None, **params: Any):
    """Vector field (normalised arrows) and trajectories of a planar flow.

    Parameters
    ----------
    flow : Flow
        A flow with two state variables.
    xlim, ylim : (lo, hi)
    trajectories : sequence of (2,) initial states
        Each is integrated forward to ``t_max`` and drawn as a line.
    t_max : float
        Integration time of the trajectories.
    density : int
        Arrows per axis.
    samples : int
        Output times per trajectory.
    ax : matplotlib Axes, optional
    **params
        Parameter values of the flow.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import dsanalyze as ds
    >>> pendulum = ds.Flow("x v", ["v", "-sin(x)"])
    >>> ax = phase_portrait(pendulum, (-3, 3), (-2, 2), trajectories=[(1.0, 0.0)])
    >>> len(ax.lines), tuple(map(float, ax.get_xlim()))
    (1, (-3.0, 3.0))
    """
    from .numeric.flows import integrate_batch
    from .numeric.orbits import evaluate_rhs

    if not isinstance(flow, Flow):
        raise TypeError(f"phase_portrait draws flows; got {type(flow).__name__}")
    if flow.dim != 2:
        raise DimensionError(f"phase_portrait needs a planar flow (2 state variables); this one has {flow.dim}")
    ax = _axes(ax)
    gx = np.linspace(xlim[0], xlim[1], density)
    gy = np.linspace(ylim[0], ylim[1], density)
    X, Y = np.meshgrid(gx, gy)
    V = evaluate_rhs(flow, np.column_stack([X.ravel(), Y.ravel()]), params or None)
    U, W = V[:, 0].reshape(X.shape), V[:, 1].reshape(X.shape)
    with np.errstate(all="ignore"):
        norm = np.hypot(U, W)
        norm[norm == 0] = 1.0
    ax.quiver(X, Y, U / norm, W / norm, norm, cmap="Greys", alpha=0.7, pivot="mid")
    starts = np.asarray(trajectories, dtype=float).reshape(-1, 2)
    if starts.shape[0]:
        t = np.linspace(0.0, float(t_max), int(samples))
        result = integrate_batch(flow, starts, t, params or None, rtol=1e-7, atol=1e-9)
        for row in result.y:
            ax.plot(row[:, 0], row[:, 1], lw=1.0)
    ax.set_xlim(float(xlim[0]), float(xlim[1]))
    ax.set_ylim(float(ylim[0]), float(ylim[1]))
    ax.set_xlabel(str(flow.state[0]))
    ax.set_ylabel(str(flow.state[1]))
    return ax


def cobweb(map_1d: Map, x0: float, steps: int, ax=None, *, xlim: Sequence[float] | None = None, **params: Any):
    """Cobweb diagram of a 1-D map: the graph of F, the diagonal and the orbit's staircase.

    Parameters
    ----------
    map_1d : Map
        A map with one state variable.
    x0 : float
    steps : int
    ax : matplotlib Axes, optional
    xlim : (lo, hi), optional
        Range of the graph (default: the orbit's range, padded).
    **params
        Parameter values.

    Returns
    -------
    matplotlib Axes
        Lines: the graph of F, the diagonal, the cobweb (in that order).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import dsanalyze as ds
    >>> ax = cobweb(ds.models.logistic(), 0.2, 20, r=2.8)
    >>> len(ax.lines)
    3
    """
    from .numeric.orbits import evaluate_rhs, trajectory

    if not isinstance(map_1d, Map) or map_1d.dim != 1:
        raise DimensionError("cobweb draws 1-D maps (a Map with one state variable)")
    ax = _axes(ax)
    orbit = trajectory(map_1d, [float(x0)], int(steps), **params)[:, 0]
    orbit = orbit[np.isfinite(orbit)]
    if xlim is None:
        lo, hi = float(orbit.min()), float(orbit.max())
        pad = 0.1 * (hi - lo) if hi > lo else 0.5
        xlim = (lo - pad, hi + pad)
    xs = np.linspace(xlim[0], xlim[1], 400)
    ys = evaluate_rhs(map_1d, xs.reshape(-1, 1), params or None)[:, 0]
    ax.plot(xs, ys, color="C0", lw=1.2, label="F(x)")
    ax.plot(xs, xs, color="0.5", lw=0.8, ls="--", label="x")
    # Staircase: (x0, x0) -> (x0, x1) -> (x1, x1) -> (x1, x2) -> ...
    sx = np.repeat(orbit, 2)[:-1]
    sy = np.repeat(orbit, 2)[1:]
    ax.plot(sx, sy, color="C3", lw=0.8, label="orbit")
    ax.set_xlim(float(xlim[0]), float(xlim[1]))
    ax.set_xlabel(str(map_1d.state[0]))
    ax.set_ylabel(f"F({map_1d.state[0]})")
    return ax


#: One colour per :class:`~dsanalyze.numeric.regimes.Regime` code (0..5).
REGIME_COLOURS = ("#1f77b4", "#17becf", "#2ca02c", "#d62728", "#9467bd", "#7f7f7f")


def regime_diagram(diagram, ax=None, *, component: int = 0):
    """An image of the regimes of a :class:`~dsanalyze.numeric.regimes.RegimeDiagram`.

    The parameter runs along the horizontal axis, the initial condition along
    the vertical one (its ``component``-th coordinate when the initial
    conditions are increasing in it, else their index); each cell is coloured
    by its :class:`~dsanalyze.numeric.regimes.Regime` code, one fixed colour
    per regime, with a legend of the regimes that occur.

    Parameters
    ----------
    diagram : RegimeDiagram
    ax : matplotlib Axes, optional
    component : int
        The coordinate of the initial conditions on the vertical axis.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import dsanalyze as ds
    >>> from dsanalyze.numeric.regimes import regime_diagram as regimes
    >>> D = regimes(ds.models.double_well_gd(), "eta", [0.05, 0.28, 0.6], [0.9, 1.3], 300)
    >>> ax = regime_diagram(D)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['monotone convergence', 'periodic', 'divergent']
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from .numeric.regimes import Regime

    ax = _axes(ax)
    codes = np.asarray(diagram.regime)
    if codes.ndim != 2:
        raise DimensionError(f"the regime array must be 2-D (values x initial conditions); got shape {codes.shape}")
    values = np.asarray(diagram.values, dtype=float).ravel()
    x0s = np.asarray(diagram.x0s, dtype=float).reshape(codes.shape[1], -1)

    def edges(c: np.ndarray) -> tuple[float, float]:
        if c.size == 1:
            return float(c[0]) - 0.5, float(c[0]) + 0.5
        return float(c[0] - (c[1] - c[0]) / 2), float(c[-1] + (c[-1] - c[-2]) / 2)

    column = x0s[:, component] if x0s.shape[1] > component else np.arange(codes.shape[1], dtype=float)
    if column.size > 1 and not np.all(np.diff(column) > 0):
        column = np.arange(codes.shape[1], dtype=float)
        ylabel = "initial condition (index)"
    else:
        ylabel = f"initial {component}" if x0s.shape[1] > 1 else "initial condition"
    if values.size > 1 and not np.all(np.diff(values) > 0):
        values = np.arange(codes.shape[0], dtype=float)
    cmap = ListedColormap(REGIME_COLOURS, name="regimes")
    ax.imshow(codes.T, origin="lower", extent=(*edges(values), *edges(column)), cmap=cmap, vmin=-0.5,
              vmax=len(REGIME_COLOURS) - 0.5, interpolation="nearest", aspect="auto")
    present = [r for r in Regime if np.any(codes == int(r))]
    handles = [Patch(facecolor=REGIME_COLOURS[int(r)], label=r.label) for r in present]
    ax.legend(handles=handles, loc="best", fontsize="small")
    ax.set_xlabel(diagram.param)
    ax.set_ylabel(ylabel)
    ax.set_title("regime diagram")
    return ax
