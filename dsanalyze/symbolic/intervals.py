"""Exact solution sets of one-parameter conditions, and their printing.

``solve_region(condition, param)`` turns a condition in one real symbol (a
relation, ``Abs`` of a rational function against a bound, or an And/Or of
them) into an exact union of intervals. SymPy's ``reduce_inequalities`` is not
used on the whole: it fails on ``|1 - mu (u^2 + v^2)| < 1`` and with several
symbols; each atom is solved on its own with ``solveset`` over the reals and
the sets are combined, intersections of intervals with symbolic ends are
decided end by end (``solveset`` leaves ``Intersection((-oo, 2/L), (0, oo))``
unevaluated even for a positive ``L``).

``latex_region`` prints such a set the way a paper does: ``0 < \\eta < 1/4``,
never a logical And.
"""
from __future__ import annotations

import sympy as sp

from ..errors import RegionError

__all__ = ["solve_region", "domain_of", "latex_region", "latex_chain", "latex_condition", "RegionError"]


def _expand_abs(rel: sp.Rel) -> sp.Basic:
    """``|f| < c`` as ``-c < f < c`` (and the like), so each atom is a plain inequality."""
    lhs, rhs = rel.lhs - rel.rhs, sp.Integer(0)
    if isinstance(rel.lhs, sp.Abs) and rel.rhs.is_number and rel.rhs >= 0:
        f, c = rel.lhs.args[0], rel.rhs
        if isinstance(rel, (sp.StrictLessThan, sp.LessThan)):
            return sp.And(type(rel)(-c, f), type(rel)(f, c))
        if isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)):
            flipped = sp.StrictLessThan if isinstance(rel, sp.StrictGreaterThan) else sp.LessThan
            return sp.Or(flipped(c, f), flipped(f, -c))
    if isinstance(rel.rhs, sp.Abs) and rel.lhs.is_number and not isinstance(rel.lhs, sp.Abs):
        return _expand_abs(rel.reversed)
    return type(rel)(lhs, rhs) if not isinstance(rel, (sp.Eq, sp.Ne)) else rel


def _decided(rel: sp.Basic) -> bool | None:
    """True or False when a comparison of two ends is decided, else None.

    Beyond SymPy's own evaluation, the sign of the factored difference of
    the two sides is asked of the symbols' assumptions.
    """
    if rel in (sp.true, sp.false):
        return bool(rel)
    if not isinstance(rel, sp.Rel) or rel.lhs.has(sp.oo, -sp.oo) or rel.rhs.has(sp.oo, -sp.oo):
        return None
    try:
        diff = sp.factor(sp.cancel(sp.together(rel.lhs - rel.rhs)))
    except (sp.PolynomialError, NotImplementedError):
        return None
    positive, negative, zero = diff.is_positive, diff.is_negative, diff.is_zero
    if isinstance(rel, sp.StrictGreaterThan):
        return True if positive else False if (negative or zero) else None
    if isinstance(rel, sp.GreaterThan):
        return True if (positive or zero) else False if negative else None
    if isinstance(rel, sp.StrictLessThan):
        return True if negative else False if (positive or zero) else None
    if isinstance(rel, sp.LessThan):
        return True if (negative or zero) else False if positive else None
    return None


def _linear(rel: sp.Rel, param: sp.Symbol, domain: sp.Set) -> sp.Set | None:
    """``a*param + b`` against 0 when a's sign is known from assumptions (SymPy's solveset gives up there)."""
    if isinstance(rel, (sp.Eq, sp.Ne)):
        return None
    expr = sp.expand(rel.lhs - rel.rhs)
    try:
        poly = sp.Poly(expr, param)
    except sp.PolynomialError:
        return None
    if poly.degree() != 1:
        return None
    a, b = poly.all_coeffs()
    a = sp.factor(a)
    if a.is_positive:
        sign = 1
    elif a.is_negative:
        sign = -1
    else:
        return None
    root = sp.factor(sp.cancel(-b / a))
    strict = isinstance(rel, (sp.StrictGreaterThan, sp.StrictLessThan))
    above = isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)) == (sign > 0)
    interval = sp.Interval(root, sp.oo, strict, True) if above else sp.Interval(-sp.oo, root, True, strict)
    return _tidy(sp.Intersection(interval, domain, evaluate=False))


def _intersect_intervals(a: sp.Interval, b: sp.Interval) -> sp.Set | None:
    """The intersection of two intervals with possibly symbolic ends, or None when undecidable."""
    lo_cmp = _decided(sp.Ge(a.start, b.start)) if a.start != b.start else True
    hi_cmp = _decided(sp.Le(a.end, b.end)) if a.end != b.end else True
    if lo_cmp is None or hi_cmp is None:
        return None
    if a.start == b.start:
        start, left_open = a.start, a.left_open or b.left_open
    elif lo_cmp:
        start, left_open = a.start, a.left_open
    else:
        start, left_open = b.start, b.left_open
    if a.end == b.end:
        end, right_open = a.end, a.right_open or b.right_open
    elif hi_cmp:
        end, right_open = a.end, a.right_open
    else:
        end, right_open = b.end, b.right_open
    empty = _decided(sp.Gt(start, end)) if start != end else (left_open or right_open)
    if empty is None:
        return None
    if empty:
        return sp.S.EmptySet
    if start == end:
        return sp.FiniteSet(start)
    return sp.Interval(start, end, left_open, right_open)


def _tidy(region: sp.Set) -> sp.Set:
    """Evaluate intersections of intervals whose ends SymPy would not compare."""
    if isinstance(region, sp.Intersection):
        parts = [_tidy(arg) for arg in region.args]
        intervals = [p for p in parts if isinstance(p, sp.Interval)]
        others = [p for p in parts if not isinstance(p, sp.Interval)]
        if intervals:
            current: sp.Set = intervals[0]
            for nxt in intervals[1:]:
                if not isinstance(current, sp.Interval):
                    current = sp.Intersection(current, nxt)
                    continue
                merged = _intersect_intervals(current, nxt)
                current = merged if merged is not None else sp.Intersection(current, nxt, evaluate=False)
            if not others:
                return current
            return sp.Intersection(current, *others)
        return region
    if isinstance(region, sp.Union):
        return sp.Union(*(_tidy(arg) for arg in region.args))
    return region


def domain_of(param: sp.Symbol) -> sp.Set:
    """Where a parameter lives, from its SymPy assumptions: (0, oo) for a positive symbol, and so on.

    Examples
    --------
    >>> import sympy as sp
    >>> domain_of(sp.Symbol("eta", positive=True))
    Interval.open(0, oo)
    """
    if param.is_positive:
        return sp.Interval.open(0, sp.oo)
    if param.is_nonnegative:
        return sp.Interval(0, sp.oo)
    if param.is_negative:
        return sp.Interval.open(-sp.oo, 0)
    if param.is_nonpositive:
        return sp.Interval(-sp.oo, 0)
    return sp.S.Reals


def solve_region(condition: sp.Basic, param: sp.Symbol, domain: sp.Set = sp.S.Reals) -> sp.Set:
    """The set of values of ``param`` in ``domain`` where ``condition`` holds, exactly.

    Parameters
    ----------
    condition : sympy Boolean
        Relations in ``param`` combined with And, Or and Not. Other symbols may
        appear when the answer does not need their sign or when their
        assumptions decide it (e.g. ``eta*L < 2`` with ``L`` positive);
        otherwise substitute them first.
    param : Symbol
    domain : Set
        Where ``param`` lives (e.g. ``sympy.Interval.open(0, sympy.oo)`` for a
        learning rate).

    Returns
    -------
    sympy Set
        A union of intervals and points.

    Raises
    ------
    RegionError
        When SymPy cannot solve an atom exactly (it returns a ConditionSet),
        e.g. a transcendental inequality or one whose answer depends on the
        unknown sign of another symbol.

    Examples
    --------
    >>> import sympy as sp
    >>> eta = sp.Symbol("eta", positive=True)
    >>> solve_region(sp.Abs(1 - 8*eta) < 1, eta, sp.Interval.open(0, sp.oo))
    Interval.open(0, 1/4)
    >>> L = sp.Symbol("L", positive=True)
    >>> solve_region(eta*L < 2, eta, sp.Interval.open(0, sp.oo))
    Interval.open(0, 2/L)
    """
    if condition in (sp.true, sp.false):
        return domain if condition is sp.true else sp.S.EmptySet
    if isinstance(condition, sp.And):
        result = domain
        for arg in condition.args:
            result = _tidy(sp.Intersection(result, solve_region(arg, param, domain)))
        return result
    if isinstance(condition, sp.Or):
        return _tidy(sp.Union(*(solve_region(arg, param, domain) for arg in condition.args)))
    if isinstance(condition, sp.Not):
        return _tidy(sp.Complement(domain, solve_region(condition.args[0], param, domain)))
    if isinstance(condition, sp.Rel):
        if param not in condition.free_symbols:
            raise RegionError(
                f"the atom {condition} does not depend on {param}; it is a side condition, not part of a region in {param}"
            )
        expanded = _expand_abs(condition)
        if expanded != condition and not isinstance(expanded, sp.Rel):
            return solve_region(expanded, param, domain)
        linear = _linear(expanded, param, domain) if expanded.free_symbols - {param} else None
        if linear is not None and not linear.has(sp.Intersection):
            return linear
        try:
            solved = sp.solveset(expanded, param, domain)
        except (NotImplementedError, ValueError, TypeError) as exc:
            raise RegionError(f"SymPy cannot solve {condition} for {param}: {exc}") from None
        solved = _tidy(solved)
        if solved.has(sp.ConditionSet) and linear is not None:
            return linear
        if solved.has(sp.ConditionSet):
            others = condition.free_symbols - {param}
            hint = (f"substitute {', '.join(sorted(map(str, others)))} or give them sign assumptions" if others
                    else "it is not an algebraic inequality; stability_region then finds the ends numerically")
            raise RegionError(f"SymPy cannot solve {condition} for {param} exactly (it returned {solved}); {hint}")
        return solved
    raise RegionError(f"cannot solve the condition {condition} for {param}")


def _latex_interval(part: sp.Interval, name: str) -> str:
    lo, hi = part.start, part.end
    left_op = "<" if part.left_open else r"\leq"
    right_op = "<" if part.right_open else r"\leq"
    left = "" if lo == -sp.oo else f"{sp.latex(lo)} {left_op} "
    right = "" if hi == sp.oo else f" {right_op} {sp.latex(hi)}"
    if not left and not right:
        return f"{name} \\in \\mathbb{{R}}"
    if not right:  # read as a lower bound: mu > 2
        op = ">" if part.left_open else r"\geq"
        return f"{name} {op} {sp.latex(lo)}"
    return f"{left}{name}{right}"


def latex_region(region: sp.Set, param: sp.Symbol) -> str:
    """A union of intervals as chained inequalities: ``0 < \\eta < \\frac{1}{4}``.

    SymPy prints ``And(0 < x, x < 1)`` as a logical and; readers of a paper
    expect ``0 < x < 1``.

    Examples
    --------
    >>> import sympy as sp
    >>> r = sp.Symbol("r")
    >>> latex_region(sp.Interval.open(3, 1 + sp.sqrt(6)), r)
    '3 < r < 1 + \\\\sqrt{6}'
    >>> latex_region(sp.Union(sp.Interval.open(-2, -1), sp.Interval(1, 2)), r)
    '-2 < r < -1 \\\\;\\\\text{or}\\\\; 1 \\\\leq r \\\\leq 2'
    """
    name = sp.latex(param)
    parts = region.args if isinstance(region, sp.Union) else (region,)
    pieces = []
    for part in parts:
        if isinstance(part, sp.Interval):
            pieces.append(_latex_interval(part, name))
        elif isinstance(part, sp.FiniteSet):
            pieces.extend(f"{name} = {sp.latex(v)}" for v in part.args)
        elif part is sp.S.EmptySet:
            continue
        elif isinstance(part, sp.Complement) and isinstance(part.args[0], sp.Interval) \
                and isinstance(part.args[1], sp.FiniteSet):
            holes = ", ".join(sp.latex(v) for v in part.args[1].args)
            pieces.append(f"{_latex_interval(part.args[0], name)},\\ {name} \\neq {holes}")
        else:
            pieces.append(f"{name} \\in {sp.latex(part)}")
    return r" \;\text{or}\; ".join(pieces) if pieces else r"\text{never}"


_LOWER = (sp.StrictGreaterThan, sp.GreaterThan)
_UPPER = (sp.StrictLessThan, sp.LessThan)


def latex_chain(relations, separator: str = r",\quad ") -> str:
    """Relations printed as chains: ``r > 1`` and ``r < 3`` become ``1 < r < 3``.

    Relations whose left-hand sides agree and whose right-hand sides are
    bounds are merged into one chained inequality; the rest are printed as
    they are, joined by ``separator``. A logical And is never printed.

    Examples
    --------
    >>> import sympy as sp
    >>> r, mu, u = sp.symbols("r mu u")
    >>> latex_chain([r > 1, r < 3])
    '1 < r < 3'
    >>> latex_chain([mu > 0, mu*u**2 < 2])
    '\\\\mu > 0,\\\\quad \\\\mu u^{2} < 2'
    """
    relations = list(relations)
    if any(r is sp.false for r in relations):
        return r"\text{never}"
    relations = [r for r in relations if r is not sp.true]
    if not relations:
        return r"\text{always}"
    groups: dict = {}
    order = []
    for rel in relations:
        if isinstance(rel, _LOWER + _UPPER) and rel.rhs.is_number:
            key = rel.lhs
        elif isinstance(rel, _LOWER + _UPPER) and rel.lhs.is_number:
            rel = rel.reversed
            key = rel.lhs
        else:
            key = rel
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(rel)
    pieces = []
    for key in order:
        rels = groups[key]
        if len(rels) == 1 and not isinstance(rels[0], _LOWER + _UPPER):
            pieces.append(sp.latex(rels[0]))
            continue
        lowers = [r for r in rels if isinstance(r, _LOWER)]
        uppers = [r for r in rels if isinstance(r, _UPPER)]
        if len(lowers) <= 1 and len(uppers) <= 1:
            expr = sp.latex(key)
            if lowers and uppers:
                lo, hi = lowers[0], uppers[0]
                lo_op = "<" if isinstance(lo, sp.StrictGreaterThan) else r"\leq"
                hi_op = "<" if isinstance(hi, sp.StrictLessThan) else r"\leq"
                pieces.append(f"{sp.latex(lo.rhs)} {lo_op} {expr} {hi_op} {sp.latex(hi.rhs)}")
            else:
                pieces.append(sp.latex(rels[0]))
        else:
            pieces.extend(sp.latex(r) for r in rels)
    return separator.join(pieces)


def latex_condition(condition: sp.Basic) -> str:
    """A condition as LaTeX: in one symbol as chained inequalities (0 < mu < 2), never a logical and."""
    symbols = condition.free_symbols
    orders = (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)
    if len(symbols) == 1 and not condition.atoms(sp.Eq) and any(condition.atoms(k) for k in orders):
        (p,) = symbols
        try:
            return latex_region(solve_region(condition, p), p)
        except (ValueError, NotImplementedError, TypeError):
            pass
    if isinstance(condition, sp.And):
        return r",\ ".join(latex_condition(a) for a in condition.args)
    return sp.latex(condition)
