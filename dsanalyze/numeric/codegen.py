"""C code generated from a System: the right-hand side, its Jacobian, block kernels.

The generated translation unit is the whole contract between a system and the
Cython drivers in ``cext/``: a handful of functions with fixed signatures
(declared in ``cext/_kernel.pxd``)::

    int     ds_abi(void);    int ds_dim(void);    int ds_npar(void);    int ds_lanes(void);
    void    ds_rhs(const double *x, const double *p, double *out);
    void    ds_jac(const double *x, const double *p, double *out);   /* row-major dim x dim */
    int64_t ds_map_block(int64_t m, double *x, const double *p, int64_t steps, double escape,
                         int64_t *esc, double *rec, int64_t rec_start,
                         int64_t lane_stride, int64_t step_stride);

``ds_map_block`` advances a block of ``DS_LANES`` independent orbits stored
lane-interleaved (``x[k * DS_LANES + j]`` is component k of orbit j): each
step is one loop over the lanes with masked updates, so the compiler emits
SIMD code, and the block stops early once every lane has escaped. The
right-hand side is written with common subexpressions eliminated and small
integer powers expanded into products.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.c import C99CodePrinter

from ..errors import CompilationError
from ..systems import System

__all__ = ["ABI_VERSION", "LANES", "generate_source"]

#: Version of the generated-code contract; bump when a signature changes.
ABI_VERSION = 1
#: Orbits advanced together by one call of the block kernel.
LANES = 32

_MAX_EXPANDED_POWER = 16


class _KernelPrinter(C99CodePrinter):
    """C99 printer that knows the kernel's variable names and avoids slow ``pow`` calls."""

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__()
        self._names = names

    def _print_Symbol(self, expr):
        try:
            return self._names[expr]
        except KeyError:
            raise CompilationError(f"symbol {expr} has no value in the generated kernel") from None

    def _print_Pow(self, expr):
        base, exponent = expr.as_base_exp()
        if exponent.is_Integer and 0 < abs(int(exponent)) <= _MAX_EXPANDED_POWER:
            b = self.parenthesize(base, 100)
            product = "*".join([b] * abs(int(exponent)))
            return f"({product})" if exponent > 0 else f"(1.0/({product}))"
        if exponent == sp.Rational(1, 2):
            return f"sqrt({self._print(base)})"
        if exponent == -sp.Rational(1, 2):
            return f"(1.0/sqrt({self._print(base)}))"
        return f"pow({self._print(base)}, {self._print(exponent)})"

    def _print_Rational(self, expr):
        return f"({expr.p}.0/{expr.q}.0)"

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        half = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        return f"(({x}) > 0.0 ? 1.0 : (({x}) < 0.0 ? 0.0 : {half}))"

    def _print_DiracDelta(self, expr):
        # The derivative of sign or Heaviside: zero wherever it is a number.
        return "0.0"

    def _print_Function(self, expr):
        raise CompilationError(f"cannot generate C for {expr.func}: not a function of the C math library")

    _print_not_supported = _print_Function


def _block(exprs: list[sp.Expr], outputs: list[str], printer: _KernelPrinter, indent: str) -> str:
    """Statements assigning ``exprs`` to ``outputs`` with common subexpressions shared."""
    temps = sp.numbered_symbols("ds_t")
    replacements, reduced = sp.cse(exprs, symbols=temps, optimizations="basic")
    lines = []
    for symbol, value in replacements:
        printer._names[symbol] = str(symbol)
        lines.append(f"{indent}const double {symbol} = {printer.doprint(value)};")
    for out, value in zip(outputs, reduced):
        lines.append(f"{indent}{out} = {printer.doprint(value)};")
    return "\n".join(lines)


def _names(system: System, state_fmt: str, param_fmt: str) -> dict[sp.Symbol, str]:
    names = {s: state_fmt.format(k=k) for k, s in enumerate(system.state)}
    names.update({q: param_fmt.format(k=k) for k, q in enumerate(system.params)})
    return names


def generate_source(system: System) -> str:
    """The C translation unit of ``system`` (see the module docstring for its contract).

    Examples
    --------
    >>> from dsanalyze.models import logistic
    >>> "ds_map_block" in generate_source(logistic())
    True
    """
    dim, npar = system.dim, len(system.params)
    rhs = list(system.rhs)
    jac = list(system.jacobian())

    scalar = _KernelPrinter(_names(system, "x[{k}]", "p[{k}]"))
    rhs_body = _block(rhs, [f"out[{k}]" for k in range(dim)], scalar, "    ")
    scalar = _KernelPrinter(_names(system, "x[{k}]", "p[{k}]"))
    jac_body = _block(jac, [f"out[{k}]" for k in range(dim * dim)], scalar, "    ")

    lane = _KernelPrinter(_names(system, "ds_s{k}", "ds_p{k}"))
    step_body = _block(rhs, [f"const double ds_n{k}" for k in range(dim)], lane, "            ")
    loads = "\n".join(f"            const double ds_s{k} = xs[{k}][j];" for k in range(dim))
    loads += "".join(f"\n            const double ds_p{k} = ps[{k}][j];" for k in range(npar))
    inside = " & ".join(f"(fabs(ds_n{k}) < escape)" for k in range(dim))
    stores = "\n".join(
        f"            xs[{k}][j] = ds_n{k};\n            kept[{k}][j] = ok ? ds_n{k} : kept[{k}][j];" for k in range(dim)
    )
    param_decl = "const double *restrict p" if npar else "const double *restrict p __attribute__((unused))"

    return f"""/* Generated by dsanalyze from the system {system.name or "(unnamed)"!r}. Do not edit. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define DS_DIM {dim}
#define DS_NPAR {npar}
#define DS_LANES {LANES}

int ds_abi(void) {{ return {ABI_VERSION}; }}
int ds_dim(void) {{ return DS_DIM; }}
int ds_npar(void) {{ return DS_NPAR; }}
int ds_lanes(void) {{ return DS_LANES; }}

void ds_rhs(const double *restrict x, {param_decl}, double *restrict out)
{{
{rhs_body}
}}

void ds_jac(const double *restrict x, {param_decl}, double *restrict out)
{{
{jac_body}
}}

/* Advance up to DS_LANES orbits by `steps` steps. A lane whose next state leaves
   the box |x_k| < escape (or is not finite: NaN fails every comparison) keeps
   its last state inside and records the step in esc[j]; esc[j] < 0 means alive.
   With rec != NULL, the state after step s > rec_start goes to
   rec[j*lane_stride + (s-rec_start-1)*step_stride + k] (NaN once escaped).
   Returns the number of lanes still alive. */
static inline __attribute__((always_inline)) int64_t
map_block(int64_t m, double *restrict x, {param_decl}, int64_t steps,
          double escape, int64_t *restrict esc, double *restrict rec,
          int64_t rec_start, int64_t lane_stride, int64_t step_stride)
{{
    /* Local copies of the block; masks are 64-bit integers (the width of a
       double lane), so the lane loop has no control flow and the compiler
       vectorises it. The orbits in xs run unmasked (an escaped lane may go to
       inf or NaN, seen by no other lane) and the last state inside the box is
       kept on the side, so the masks stay off the step-to-step dependency
       chain. life[j] counts the steps lane j survived. */
    double xs[DS_DIM][DS_LANES], kept[DS_DIM][DS_LANES];
    double ps[DS_NPAR > 0 ? DS_NPAR : 1][DS_LANES];
    int64_t alive[DS_LANES], life[DS_LANES];
    for (int j = 0; j < DS_LANES; ++j) {{
        for (int k = 0; k < DS_DIM; ++k) xs[k][j] = kept[k][j] = x[k * DS_LANES + j];
        for (int k = 0; k < DS_NPAR; ++k) ps[k][j] = p[k * DS_LANES + j];
        alive[j] = (j < m) & (esc[j] < 0);
        life[j] = 0;
    }}
    int64_t s = 1;
    for (; s <= steps; ++s) {{
        int64_t any = 0;
        for (int j = 0; j < DS_LANES; ++j) {{
{loads}
{step_body}
            const int64_t ok = alive[j] & {inside};
{stores}
            alive[j] = ok;
            life[j] += ok;
            any |= ok;
        }}
        if (rec && s > rec_start) {{
            double *row = rec + (s - rec_start - 1) * step_stride;
            for (int64_t j = 0; j < m; ++j)
                for (int k = 0; k < DS_DIM; ++k)
                    row[j * lane_stride + k] = alive[j] ? kept[k][j] : NAN;
        }}
        if (!any) break;
    }}
    if (rec) {{
        for (++s; s <= steps; ++s) {{
            if (s <= rec_start) continue;
            double *row = rec + (s - rec_start - 1) * step_stride;
            for (int64_t j = 0; j < m; ++j)
                for (int k = 0; k < DS_DIM; ++k)
                    row[j * lane_stride + k] = NAN;
        }}
    }}
    int64_t alive_count = 0;
    for (int j = 0; j < DS_LANES; ++j) {{
        for (int k = 0; k < DS_DIM; ++k) x[k * DS_LANES + j] = kept[k][j];
        if (j < m && esc[j] < 0 && !alive[j]) esc[j] = life[j] + 1;
        alive_count += (j < m) & alive[j];
    }}
    return alive_count;
}}

/* The common case, nothing recorded, gets its own copy of the loop, in which
   the recording branch is gone and the block stays in registers. */
int64_t ds_map_block(int64_t m, double *restrict x, {param_decl}, int64_t steps,
                     double escape, int64_t *restrict esc, double *restrict rec,
                     int64_t rec_start, int64_t lane_stride, int64_t step_stride)
{{
    if (rec == NULL)
        return map_block(m, x, p, steps, escape, esc, NULL, 0, 0, 0);
    return map_block(m, x, p, steps, escape, esc, rec, rec_start, lane_stride, step_stride);
}}
"""
