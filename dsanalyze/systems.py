"""Dynamical systems as immutable SymPy objects: :class:`Map` and :class:`Flow`.

A :class:`Map` is a discrete system x <- F(x); a :class:`Flow` is a
continuous one dx/dt = f(x). Both hold their state symbols, parameter
symbols, right-hand sides, a name, a description and a literature reference.
Constructors for the cases met most: :func:`gd_map`, :func:`gradient_flow`,
:func:`euler_map`.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import sympy as sp

from .errors import DimensionError, DsAnalyzeError, ExpressionError, NotInvariantError, UnknownSymbolError
from .expressions import as_expression, parse_expression

__all__ = ["System", "Map", "Flow", "gd_map", "gradient_flow", "euler_map"]


def _as_symbols(names: Any, what: str) -> tuple[sp.Symbol, ...]:
    """Symbols from a Symbol, a list of Symbols or names, or a space/comma separated string."""
    if isinstance(names, sp.Symbol):
        return (names,)
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    if isinstance(names, sp.MatrixBase):
        names = list(names)
    symbols = []
    for item in names:
        if isinstance(item, str):
            if not item.isidentifier() or item.startswith("_"):
                raise ExpressionError(f"{what} name {item!r} is not a valid identifier")
            item = sp.Symbol(item, real=True)
        if not isinstance(item, sp.Symbol):
            raise ExpressionError(f"{what} must be symbols or names, got {item!r}")
        symbols.append(item)
    # By name: Symbol("x") and Symbol("x", real=True) differ to SymPy but are one name to a kernel.
    if len({s.name for s in symbols}) != len(symbols):
        raise ExpressionError(f"{what} has a repeated symbol: {', '.join(map(str, symbols))}")
    return tuple(symbols)


def _unify(expr: sp.Expr, known: Mapping[str, sp.Symbol]) -> sp.Expr:
    """Replace symbols that carry the name of a known symbol but other assumptions by the known one.

    A plain ``Symbol("x")`` in a right-hand side means the state variable ``x``
    (a real symbol when made from its name); without this, SymPy would treat
    them as two variables.
    """
    swap = {
        s: known[s.name]
        for s in expr.free_symbols
        if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy) and s.name in known and s != known[s.name]
    }
    return expr.xreplace(swap) if swap else expr


def _is_zero(expr: sp.Expr) -> bool:
    """Exact test that an expression is identically zero (rational functions and beyond)."""
    if expr == 0:
        return True
    if sp.cancel(sp.together(sp.expand(expr))) == 0:
        return True
    return sp.simplify(expr) == 0


class System:
    """A dynamical system given by SymPy right-hand sides (base of :class:`Map` and :class:`Flow`).

    Parameters
    ----------
    state : Symbol, sequence of Symbol or str
        The state variables, e.g. ``"u v"`` or ``sympy.symbols("u v")``.
    rhs : expression or sequence of expressions
        One right-hand side per state variable: the image F(x) for a map, the
        velocity f(x) for a flow. Text is parsed safely (never evaluated).
    params : sequence of Symbol or str, optional
        The parameters, in the order kernels take them. By default, every
        free symbol of ``rhs`` that is not a state variable, sorted by name.
    name, description, reference : str
        What the system is called, what it models, and where it comes from.
    defaults : mapping, optional
        Values used for parameters not given at run time (e.g. Hénon's a = 1.4).
    loss : expression, optional
        The loss a gradient system descends (set by :func:`gd_map` and
        :func:`gradient_flow`).

    Notes
    -----
    Systems are immutable. Two systems compare equal when they have the same
    kind, the same parameters and right-hand sides that agree identically once
    the state variables are matched by position; name and description do not
    matter, so ``two_factor().restrict(v=u) == cubic()``.
    """

    kind: str = "system"
    __slots__ = ("_state", "_rhs", "_params", "_name", "_description", "_reference", "_defaults", "_loss",
                 "_kernel", "__weakref__")

    def __init__(
        self,
        state: Any,
        rhs: Any,
        params: Any = None,
        *,
        name: str = "",
        description: str = "",
        reference: str = "",
        defaults: Mapping[Any, Any] | None = None,
        loss: Any = None,
    ):
        state = _as_symbols(state, "state")
        if not state:
            raise DimensionError("a system needs at least one state variable")
        declared = None if params is None else _as_symbols(params, "params")
        overlap = {s.name for s in state} & {p.name for p in declared or ()}
        if overlap:
            raise ExpressionError(f"{', '.join(sorted(overlap))} cannot be both a state variable and a parameter")
        known = {s.name: s for s in (*state, *(declared or ()))}
        if isinstance(rhs, (str, sp.Basic, numbers.Number)) and not isinstance(rhs, sp.MatrixBase):
            rhs = [rhs]
        # Without declared parameters, unknown names in text become parameters.
        rhs_list = [
            _unify(self._lenient(r, known) if declared is None else as_expression(r, known), known) for r in rhs
        ]
        if len(rhs_list) != len(state):
            raise DimensionError(
                f"{len(state)} state variable(s) ({', '.join(map(str, state))}) but {len(rhs_list)} right-hand side(s)"
            )
        free = set().union(*(r.free_symbols for r in rhs_list)) - set(state)
        if declared is None:
            declared = _as_symbols(sorted(free, key=lambda s: s.name), "params")
        unknown = free - set(declared)
        if unknown:
            raise UnknownSymbolError(
                f"right-hand side uses {', '.join(sorted(map(str, unknown)))}, which is neither a state variable "
                f"({', '.join(map(str, state))}) nor a parameter ({', '.join(map(str, declared)) or 'none'})"
            )
        for r in rhs_list:
            if r.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
                raise ExpressionError(f"right-hand side {r} is not finite")
        self._state = state
        self._rhs = tuple(rhs_list)
        self._params = declared
        self._name = str(name)
        self._description = str(description)
        self._reference = str(reference)
        by_name = {p.name: p for p in declared}
        frozen = {}
        for key, value in (defaults or {}).items():
            symbol = by_name.get(key.name if isinstance(key, sp.Symbol) else str(key))
            if symbol is None:
                raise UnknownSymbolError(f"default given for {key}, which is not a parameter of {self._name or 'the system'}")
            frozen[symbol] = as_expression(value)
        self._defaults = tuple(frozen.items())
        self._loss = None if loss is None else _unify(as_expression(loss, known), known)
        object.__setattr__(self, "_kernel", None)  # the compiled kernel, filled in on first use

    @staticmethod
    def _lenient(value: Any, known: Mapping[str, sp.Symbol]) -> sp.Expr:
        """Numbers and SymPy objects pass; text may introduce parameters by name."""
        if isinstance(value, str):
            return parse_expression(value, known, allow_new_symbols=True)
        return as_expression(value, known)

    def __reduce__(self):
        # Rebuilt from its fields: the compiled kernel is process-local and not pickled.
        fields = dict(
            params=self._params, name=self._name, description=self._description, reference=self._reference,
            defaults=dict(self._defaults), loss=self._loss,
        )
        return (_rebuild, (type(self), self._state, self._rhs, fields))

    def __setattr__(self, key, value):
        if hasattr(self, "_loss"):
            raise AttributeError(f"{type(self).__name__} is immutable; use subs, restrict or replace to derive a new one")
        object.__setattr__(self, key, value)

    # ---- what the system is -------------------------------------------------
    @property
    def state(self) -> tuple[sp.Symbol, ...]:
        """State variables, in order."""
        return self._state

    @property
    def rhs(self) -> tuple[sp.Expr, ...]:
        """Right-hand sides, one per state variable."""
        return self._rhs

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        """Parameters, in the order kernels take them."""
        return self._params

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @property
    def reference(self) -> str:
        return self._reference

    @property
    def defaults(self) -> dict[sp.Symbol, sp.Expr]:
        """Default parameter values (a fresh dict; the system itself does not change)."""
        return dict(self._defaults)

    @property
    def loss(self) -> sp.Expr | None:
        """The loss of a gradient system, or None."""
        return self._loss

    @property
    def dim(self) -> int:
        """Dimension of the state space."""
        return len(self._state)

    def symbol(self, name: str) -> sp.Symbol:
        """The state variable or parameter called ``name``."""
        for s in (*self._state, *self._params):
            if s.name == name:
                return s
        raise UnknownSymbolError(
            f"{name!r} is not a symbol of {self._name or 'the system'}; "
            f"state: {', '.join(map(str, self._state))}; parameters: {', '.join(map(str, self._params)) or 'none'}"
        )

    def _symbol_map(self) -> dict[str, sp.Symbol]:
        return {s.name: s for s in (*self._state, *self._params)}

    def replace(self, **changes: Any) -> "System":
        """A copy with some fields changed (``state``, ``rhs``, ``params``, ``name``, ...)."""
        fields = dict(
            state=self._state, rhs=self._rhs, params=self._params, name=self._name,
            description=self._description, reference=self._reference,
            defaults={k: v for k, v in self._defaults}, loss=self._loss,
        )
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"replace() got unknown field(s): {', '.join(sorted(unknown))}")
        fields.update(changes)
        if "params" in changes and "defaults" not in changes:
            kept = {p.name for p in _as_symbols(fields["params"], "params")}
            fields["defaults"] = {k: v for k, v in fields["defaults"].items() if k.name in kept}
        return type(self)(fields.pop("state"), fields.pop("rhs"), fields.pop("params"), **fields)

    # ---- derived systems ----------------------------------------------------
    def jacobian(self) -> sp.ImmutableMatrix:
        """The Jacobian matrix d rhs / d state (row i: derivatives of rhs i)."""
        return sp.ImmutableMatrix(self._rhs).jacobian(sp.Matrix(self._state))

    def subs(self, values: Mapping[Any, Any] | None = None, **params: Any) -> "System":
        """Fix some parameters to values; they stop being parameters.

        Examples
        --------
        >>> from dsanalyze.models import logistic
        >>> logistic().subs(r=4).rhs
        (4*x*(1 - x),)
        """
        given = dict(values or {})
        given.update(params)
        names = {p.name: p for p in self._params}
        replacements = {}
        for key, value in given.items():
            key_name = key.name if isinstance(key, sp.Symbol) else str(key)
            if key_name not in names:
                raise UnknownSymbolError(
                    f"{key_name!r} is not a parameter of {self._name or 'the system'}; "
                    f"parameters: {', '.join(names) or 'none'}"
                )
            replacements[names[key_name]] = _unify(as_expression(value, self._symbol_map()), self._symbol_map())
        rhs = [r.xreplace(replacements) for r in self._rhs]
        kept = [p for p in self._params if p not in replacements]
        extra = set().union(*(v.free_symbols for v in replacements.values())) - set(kept) - set(self._state)
        kept += sorted(extra, key=lambda s: s.name)
        loss = None if self._loss is None else self._loss.xreplace(replacements)
        fixed = ", ".join(f"{k} = {sp.sstr(v)}" for k, v in replacements.items())
        return self.replace(rhs=rhs, params=kept, loss=loss, name=f"{self._name} ({fixed})" if self._name else "")

    def restrict(self, substitutions: Mapping[Any, Any] | None = None, *, name: str | None = None, **by_name: Any) -> "System":
        """The system on an invariant subspace given by substitutions such as ``v = u``.

        Each substitution expresses an eliminated state variable in terms of the
        remaining ones. Invariance is proved symbolically before anything is
        returned: for a map, F_v(x) = g(F_u(x)) on the subspace; for a flow,
        d(v - g(u))/dt = 0 there.

        Raises
        ------
        NotInvariantError
            With the obstruction (the expression that should vanish but does not).

        Examples
        --------
        >>> from dsanalyze.models import two_factor, cubic
        >>> two_factor().restrict(v="u") == cubic()
        True
        """
        given = dict(substitutions or {})
        given.update(by_name)
        if not given:
            raise ValueError("restrict() needs at least one substitution, e.g. restrict(v='u')")
        states = {s.name: s for s in self._state}
        sub: dict[sp.Symbol, sp.Expr] = {}
        for key, value in given.items():
            key_name = key.name if isinstance(key, sp.Symbol) else str(key)
            if key_name not in states:
                raise UnknownSymbolError(f"{key_name!r} is not a state variable; state: {', '.join(states)}")
            sub[states[key_name]] = _unify(as_expression(value, self._symbol_map()), self._symbol_map())
        kept = tuple(s for s in self._state if s not in sub)
        if not kept:
            raise DimensionError("restrict() cannot eliminate every state variable")
        for eliminated, expr in sub.items():
            bad = expr.free_symbols & set(sub)
            if bad:
                raise ExpressionError(
                    f"{eliminated} = {expr} uses eliminated variable(s) {', '.join(map(str, bad))}; "
                    "express each eliminated variable through the kept ones"
                )
        index = {s: i for i, s in enumerate(self._state)}
        on_subspace = [r.xreplace(sub) for r in self._rhs]
        for eliminated, expr in sub.items():
            obstruction = self._invariance_defect(eliminated, expr, on_subspace, index, sub)
            if not _is_zero(obstruction):
                relation = f"{eliminated} = {expr}"
                raise NotInvariantError(
                    f"the subspace {relation} is not invariant under {self._name or 'the system'}: "
                    f"on it, {self._defect_label(eliminated, expr)} = {sp.factor(obstruction)}, which is not identically 0"
                )
        rhs = [on_subspace[index[s]] for s in kept]
        relations = ", ".join(f"{k} = {v}" for k, v in sub.items())
        label = name if name is not None else (f"{self._name} on {relations}" if self._name else "")
        loss = None if self._loss is None else self._loss.xreplace(sub)
        return self.replace(state=kept, rhs=rhs, loss=loss, name=label)

    def _invariance_defect(self, eliminated, expr, on_subspace, index, sub) -> sp.Expr:
        raise NotImplementedError

    def _defect_label(self, eliminated, expr) -> str:
        raise NotImplementedError

    # ---- derivations (dsanalyze.symbolic) --------------------------------------
    def fixed_points(self, **kwargs: Any):
        """Fixed points (map) or equilibria (flow): see :func:`dsanalyze.symbolic.fixed_points`."""
        from .symbolic.equilibria import fixed_points

        return fixed_points(self, **kwargs)

    def linearise(self, point_or_component: Any, **kwargs: Any):
        """Linearisation at a point or along a component: see :func:`dsanalyze.symbolic.linearise`."""
        from .symbolic.linearisation import linearise

        return linearise(self, point_or_component, **kwargs)

    def stability(self, fixed_point: Any, *, timeout: float | None = None):
        """Exact conditions for asymptotic stability: see :func:`dsanalyze.symbolic.stability_condition`."""
        from .symbolic.stability import stability_condition

        return stability_condition(self, fixed_point, timeout=timeout)

    def stability_region(self, fixed_point: Any, param: Any, *, domain: Any = None, at: Any = None,
                         timeout: float | None = None):
        """The exact set of one parameter's values where ``fixed_point`` is stable."""
        from .symbolic.stability import stability_condition, stability_region

        condition = stability_condition(self, fixed_point, timeout=timeout)
        return stability_region(condition, param, domain=domain, at=at, timeout=timeout)

    def bifurcations(self, param: Any, fixed_points: Any = None, *, timeout: float | None = None):
        """Bifurcations of the fixed points along ``param``: see :func:`dsanalyze.symbolic.bifurcations`."""
        from .symbolic.bifurcation import bifurcations

        return bifurcations(self, param, fixed_points, timeout=timeout)

    def is_invariant(self, G: Any, *, timeout: float | None = None):
        """Whether G = 0 is invariant, with its certificate: see :func:`dsanalyze.symbolic.is_invariant`."""
        from .symbolic.invariants import is_invariant

        return is_invariant(self, G, timeout=timeout)

    def find_invariant_curves(self, degree: int, *, timeout: float | None = None, products: bool = False):
        """Every invariant algebraic curve up to ``degree``: see :func:`dsanalyze.symbolic.find_invariant_curves`."""
        from .symbolic.invariants import find_invariant_curves

        return find_invariant_curves(self, degree, timeout=timeout, products=products)

    def find_invariant_curve(self, degree: int, *, timeout: float | None = None):
        """The one invariant curve up to ``degree`` that is not a line, not made of fixed points,
        and exists for generic parameter values (e.g. the two-factor map's ellipse).

        Raises
        ------
        ValueError
            When there is no such curve, or more than one (use :meth:`find_invariant_curves`).
        """
        candidates = [
            curve for curve in self.find_invariant_curves(degree, timeout=timeout)
            if not curve.free
            and not isinstance(curve.conditions, sp.Eq)
            and sp.Poly(curve.expression, *self._state).total_degree() > 1
            and not self._made_of_fixed_points(curve.expression)
        ]
        if len(candidates) != 1:
            found = "; ".join(sp.sstr(c.expression) for c in candidates) or "none"
            raise ValueError(
                f"{len(candidates)} invariant curves of degree <= {degree} that are not lines or fixed points "
                f"({found}); use find_invariant_curves for the full list"
            )
        return candidates[0]

    def _made_of_fixed_points(self, G: sp.Expr) -> bool:
        """Whether every point of G = 0 is a fixed point (map) or an equilibrium (flow)."""
        velocity = [r - s for r, s in zip(self._rhs, self._state)] if self.kind == "map" else list(self._rhs)
        # {G} is a Groebner basis of the ideal it generates: remainder 0 iff G divides.
        return all(
            sp.reduced(sp.expand(sp.numer(sp.together(v))), [G], *self._state)[1] == 0 for v in velocity
        )

    def conserved_quantities(self, degree: int, *, timeout: float | None = None):
        """Polynomial conserved quantities up to ``degree``: see :func:`dsanalyze.symbolic.conserved_quantities`."""
        from .symbolic.invariants import conserved_quantities

        return conserved_quantities(self, degree, timeout=timeout)

    def transformation_factor(self, C: Any, *, timeout: float | None = None):
        """g with C o F = g C (map) or dC/dt = g C (flow): see :func:`dsanalyze.symbolic.transformation_factor`."""
        from .symbolic.invariants import transformation_factor

        return transformation_factor(self, C, timeout=timeout)

    # ---- comparison and display ----------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, System) or other.kind != self.kind:
            return NotImplemented if not isinstance(other, System) else False
        if self.dim != other.dim or set(self._params) != set(other._params):
            return False
        rename = dict(zip(other._state, self._state))
        return all(
            a == b.xreplace(rename) or _is_zero(a - b.xreplace(rename)) for a, b in zip(self._rhs, other._rhs)
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.dim, frozenset(self._params)))

    def _lhs_latex(self, symbol: sp.Symbol) -> str:
        raise NotImplementedError

    def latex(self) -> str:
        """The equations as a LaTeX ``aligned`` block."""
        rows = [f"{self._lhs_latex(s)} &= {sp.latex(r)}" for s, r in zip(self._state, self._rhs)]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def equations(self) -> list[str]:
        """The equations as plain text, one per state variable."""
        return [f"{self._lhs_text(s)} = {sp.sstr(r)}" for s, r in zip(self._state, self._rhs)]

    def _lhs_text(self, symbol: sp.Symbol) -> str:
        raise NotImplementedError

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __repr__(self) -> str:
        label = f"{self._name}: " if self._name else ""
        params = f"; params {', '.join(map(str, self._params))}" if self._params else ""
        return f"{type(self).__name__}({label}{'; '.join(self.equations())}{params})"


def _rebuild(cls: type, state: tuple, rhs: tuple, fields: dict) -> System:
    """Unpickle a system (see ``System.__reduce__``)."""
    return cls(state, rhs, **fields)


class Map(System):
    """A discrete-time system x <- F(x).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.Map("x", "r*x*(1 - x)", name="logistic")
    >>> F.params
    (r,)
    >>> F.compose(2).rhs[0].subs({F.params[0]: 2, F.state[0]: sp.Rational(1, 4)})
    15/32
    """

    kind = "map"
    __slots__ = ()

    def compose(self, k: int) -> "Map":
        """The k-th iterate F^k as a map (exact, unexpanded)."""
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"compose(k) needs a positive integer k, got {k!r}")
        current = list(self._state)
        for _ in range(k):
            step = dict(zip(self._state, current))
            current = [r.xreplace(step) for r in self._rhs]
        label = f"{self._name}^{k}" if self._name else ""
        return self.replace(rhs=current, name=label)

    def periodic_orbits(self, k: int, *, timeout: float | None = None):
        """The orbits of exact period k: see :func:`dsanalyze.symbolic.periodic_orbits`."""
        from .symbolic.periodic import periodic_orbits

        return periodic_orbits(self, k, timeout=timeout)

    def induced_map(self, curve: Any, *, kind: str | None = None, branch: int = 1, timeout: float | None = None):
        """The map induced on an invariant conic: see :func:`dsanalyze.symbolic.induced_map`."""
        from .symbolic.curves import induced_map

        return induced_map(self, curve, kind=kind, branch=branch, timeout=timeout)

    def _invariance_defect(self, eliminated, expr, on_subspace, index, sub):
        # The image must satisfy the same relation: F_v = g(F_u) on the subspace.
        image = {s: on_subspace[index[s]] for s in self._state}
        return on_subspace[index[eliminated]] - expr.xreplace(image)

    def _defect_label(self, eliminated, expr):
        return f"{eliminated}' - ({expr})'"

    def _lhs_latex(self, symbol):
        return f"{sp.latex(symbol)}'"

    def _lhs_text(self, symbol):
        return f"{symbol}'"


class Flow(System):
    """A continuous-time system dx/dt = f(x).

    Examples
    --------
    >>> import dsanalyze as ds
    >>> G = ds.Flow("x y", ["y", "-x"], name="rotation")
    >>> G.jacobian()
    Matrix([
    [ 0, 1],
    [-1, 0]])
    """

    kind = "flow"
    __slots__ = ()

    def lyapunov_function(self, equilibrium: Any, degree: int = 2, *, timeout: float | None = None):
        """A Lyapunov function with its certificate: see :func:`dsanalyze.symbolic.lyapunov_function`."""
        from .symbolic.invariants import lyapunov_function

        return lyapunov_function(self, equilibrium, degree, timeout=timeout)

    def _invariance_defect(self, eliminated, expr, on_subspace, index, sub):
        # d/dt (v - g(u)) = f_v - grad g . f_u must vanish on the subspace.
        derivative = sum(
            (sp.diff(expr, s) * on_subspace[index[s]] for s in self._state if s not in sub), sp.Integer(0)
        )
        return on_subspace[index[eliminated]] - derivative

    def _defect_label(self, eliminated, expr):
        return f"d/dt({eliminated} - ({expr}))"

    def _lhs_latex(self, symbol):
        return f"\\dot{{{sp.latex(symbol)}}}"

    def _lhs_text(self, symbol):
        return f"d{symbol}/dt"


def _gradient(loss: Any, state: Any) -> tuple[sp.Expr, tuple[sp.Symbol, ...], sp.Expr]:
    symbols = _as_symbols(state, "state")
    if isinstance(loss, str):
        loss = parse_expression(loss, {s.name: s for s in symbols}, allow_new_symbols=True)
    loss = _unify(as_expression(loss), {s.name: s for s in symbols})
    return loss, symbols, [sp.diff(loss, s) for s in symbols]


def _as_parameter(value: Any, default_name: str) -> sp.Expr:
    if value is None:
        return sp.Symbol(default_name, positive=True)
    if isinstance(value, str):
        if value.isidentifier():
            return sp.Symbol(value, positive=True)
        return parse_expression(value, allow_new_symbols=True)
    return as_expression(value)


def gd_map(loss: Any, state: Any, lr: Any = "eta", *, name: str = "", description: str = "", reference: str = "") -> Map:
    """Gradient descent theta <- theta - lr * grad L(theta) as a :class:`Map`.

    Parameters
    ----------
    loss : expression or str
        The loss L. Names in text that are not state variables become parameters.
    state : symbols or str
        The variables descended on.
    lr : Symbol, str or number
        The learning rate; a name (default ``"eta"``) makes it a parameter.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> F = ds.gd_map("w**4 - 2*w**2", "w")
    >>> F.rhs
    (-eta*(4*w**3 - 4*w) + w,)
    >>> F.loss
    w**4 - 2*w**2
    """
    loss, symbols, grad = _gradient(loss, state)
    eta = _as_parameter(lr, "eta")
    rhs = [s - eta * g for s, g in zip(symbols, grad)]
    return Map(symbols, rhs, name=name or "gradient descent", description=description or f"gradient descent on L = {sp.sstr(loss)}",
               reference=reference, loss=loss)


def gradient_flow(loss: Any, state: Any, *, name: str = "", description: str = "", reference: str = "") -> Flow:
    """Gradient flow d theta/dt = -grad L(theta) as a :class:`Flow`.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> ds.gradient_flow("(u*v - 1)**2/2", "u v").rhs
    (-v*(u*v - 1), -u*(u*v - 1))
    """
    loss, symbols, grad = _gradient(loss, state)
    return Flow(symbols, [-g for g in grad], name=name or "gradient flow",
                description=description or f"gradient flow of L = {sp.sstr(loss)}", reference=reference, loss=loss)


def euler_map(flow: Flow, h: Any = "h", *, name: str = "") -> Map:
    """The explicit Euler step x <- x + h f(x) of a flow, as a :class:`Map`.

    Euler's method on a gradient flow is gradient descent with learning rate h;
    a residual network is the Euler discretisation of an ODE.

    Examples
    --------
    >>> import dsanalyze as ds
    >>> ds.euler_map(ds.Flow("y", "-y")).rhs
    (-h*y + y,)
    """
    if not isinstance(flow, Flow):
        raise DsAnalyzeError(f"euler_map needs a Flow, got {type(flow).__name__}")
    step = _as_parameter(h, "h")
    taken = {s.name for s in (*flow.state, *flow.params)}
    if isinstance(step, sp.Symbol) and step.name in taken:
        raise ExpressionError(
            f"step size {step} is already a state variable or parameter of the flow; "
            f"name the step otherwise, e.g. euler_map(flow, 'dt')"
        )
    rhs = [s + step * f for s, f in zip(flow.state, flow.rhs)]
    params = list(flow.params) + sorted(step.free_symbols - set(flow.params), key=lambda s: s.name)
    return Map(flow.state, rhs, params, name=name or (f"Euler step of {flow.name}" if flow.name else "Euler step"),
               description=f"explicit Euler discretisation of {flow.name or 'a flow'}", reference=flow.reference,
               defaults=flow.defaults, loss=flow.loss)
