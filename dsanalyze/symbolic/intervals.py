"""Exact solution sets of one-parameter conditions, and their printing.

``solve_region(condition, param)`` turns a condition in one real symbol (a
relation, ``Abs`` of a rational function against a bound, or an And/Or of
them) into an exact union of intervals. SymPy's ``reduce_inequalities`` is not
used on the whole: it fails on ``|1 - mu (u^2 + v^2)| < 1`` and with several
symbols; each atom is solved on its own with ``solveset`` over the reals and
the sets are combined.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["solve_region", "latex_region"]


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
    return type(rel)(lhs, rhs) if not isinstance(rel, (sp.Eq, sp.Ne)) else rel


def solve_region(condition: sp.Basic, param: sp.Symbol, domain: sp.Set = sp.S.Reals) -> sp.Set:
    """The set of values of ``param`` in ``domain`` where ``condition`` holds, exactly.

    Parameters
    ----------
    condition : sympy Boolean
        Relations in ``param`` only (other symbols must be substituted first),
        combined with And, Or and Not.
    param : Symbol
    domain : Set
        Where ``param`` lives (e.g. ``sympy.Interval.open(0, sympy.oo)`` for a
        learning rate).

    Returns
    -------
    sympy Set
        A union of intervals and points.

    Examples
    --------
    >>> import sympy as sp
    >>> eta = sp.Symbol("eta", positive=True)
    >>> solve_region(sp.Abs(1 - 8*eta) < 1, eta, sp.Interval.open(0, sp.oo))
    Interval.open(0, 1/4)
    """
    extra = condition.free_symbols - {param}
    if extra:
        raise ValueError(
            f"the condition depends on {', '.join(sorted(map(str, extra)))} besides {param}; substitute them first"
        )
    if condition in (sp.true, sp.false):
        return domain if condition is sp.true else sp.S.EmptySet
    if isinstance(condition, sp.And):
        result = domain
        for arg in condition.args:
            result = sp.Intersection(result, solve_region(arg, param, domain))
        return sp.simplify(result) if not isinstance(result, sp.Interval) else result
    if isinstance(condition, sp.Or):
        return sp.Union(*(solve_region(arg, param, domain) for arg in condition.args))
    if isinstance(condition, sp.Not):
        return sp.Complement(domain, solve_region(condition.args[0], param, domain))
    if isinstance(condition, sp.Rel):
        expanded = _expand_abs(condition)
        if expanded != condition and not isinstance(expanded, sp.Rel):
            return solve_region(expanded, param, domain)
        return sp.solveset(expanded, param, domain)
    raise ValueError(f"cannot solve the condition {condition} for {param}")


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
    """
    name = sp.latex(param)
    parts = region.args if isinstance(region, sp.Union) else (region,)
    pieces = []
    for part in parts:
        if isinstance(part, sp.Interval):
            lo, hi = part.start, part.end
            left_op = "<" if part.left_open else r"\leq"
            right_op = "<" if part.right_open else r"\leq"
            left = "" if lo == -sp.oo else f"{sp.latex(lo)} {left_op} "
            right = "" if hi == sp.oo else f" {right_op} {sp.latex(hi)}"
            if not left and not right:
                pieces.append(f"{name} \\in \\mathbb{{R}}")
            elif not right:  # read as a lower bound: mu > 2
                op = ">" if part.left_open else r"\geq"
                pieces.append(f"{name} {op} {sp.latex(lo)}")
            else:
                pieces.append(f"{left}{name}{right}")
        elif isinstance(part, sp.FiniteSet):
            pieces.extend(f"{name} = {sp.latex(v)}" for v in part.args)
        elif part is sp.S.EmptySet:
            continue
        else:
            pieces.append(f"{name} \\in {sp.latex(part)}")
    return r" \;\text{or}\; ".join(pieces) if pieces else r"\text{never}"
