"""C code generated from a System: the right-hand side, its Jacobian, block kernels.

The generated translation unit is the whole contract between a system and the
Cython drivers in ``cext/``: a handful of functions with fixed signatures
(declared in ``cext/_kernel.pxd``)::

    int     ds_abi(void);    int ds_dim(void);    int ds_npar(void);    int ds_lanes(void);
    void    ds_rhs(const double *x, const double *p, double *out);
    void    ds_jac(const double *x, const double *p, double *out);   /* row-major dim x dim */
    int64_t ds_map_block(int64_t m, double *x, const double *p, int64_t pstride, int64_t steps,
                         double escape, int64_t *esc, double *rec, int64_t rec_start,
                         int64_t row_stride);

``ds_map_block`` advances up to ``DS_LANES`` independent orbits, the rows
``x[j * DS_DIM + k]`` of the caller's array (parameters ``p[j * pstride + k]``,
``pstride`` 0 for one set shared by all), in place. Inside, the orbits are held
lane-interleaved so that a step is one loop over the lanes that the compiler
turns into SIMD code, and the block stops early once every lane has escaped. The
right-hand side is written with common subexpressions eliminated and small
integer powers expanded into products.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.c import C99CodePrinter

from ..errors import CompilationError
from ..systems import System

__all__ = ["ABI_VERSION", "LANES", "CHUNK", "generate_source"]

#: Version of the generated-code contract; bump when a signature changes.
ABI_VERSION = 3
#: Orbits advanced together by one call of the block kernel.
LANES = 32
#: Steps a block takes between checks for escaped lanes (see ``ds_map_block``).
CHUNK = 16

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
    indent = " " * 16
    step_body = _block(rhs, [f"const double ds_n{k}" for k in range(dim)], lane, indent)
    loads = "\n".join(f"{indent}const double ds_s{k} = xs[{k}][j];" for k in range(dim))
    loads += "".join(f"\n{indent}const double ds_p{k} = ps[{k}][j];" for k in range(npar))
    inside = " & ".join(f"(fabs(ds_n{k}) < escape)" for k in range(dim))
    fast_stores = "\n".join(
        f"{indent}xs[{k}][j] = ds_n{k};\n{indent}if (rec) tile[q - 1][{k}][j] = ds_n{k};" for k in range(dim)
    )
    largest_update = "\n".join(
        f"{indent}{{ const int64_t b = abs_bits(ds_n{k}); largest[j] = b > largest[j] ? b : largest[j]; }}"
        for k in range(dim)
    )
    checked_stores = "\n".join(
        f"{indent}    xs[{k}][j] = ds_n{k};\n{indent}    kept[{k}][j] = ok ? ds_n{k} : kept[{k}][j];" for k in range(dim)
    )
    param_decl = "const double *restrict p" if npar else "const double *restrict p __attribute__((unused))"

    return f"""/* Generated by dsanalyze from the system {system.name or "(unnamed)"!r}. Do not edit. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
   rec[(s-rec_start-1)*row_stride + j*DS_DIM + k] (NaN once escaped): one row of
   the output per step, the block's lanes side by side in it.
   Returns the number of lanes still alive.

   How: the block advances in chunks of DS_CHUNK steps. A chunk first runs
   fast: every lane steps unmasked (an escaped lane may go to inf or NaN, seen
   by no other lane) and only an "ever outside" flag per lane is kept, so the
   compiler emits SIMD code with little beyond the map itself. If a lane that
   was alive left the box during the chunk, the chunk is replayed from its
   saved start step by step, which finds the exact escape step and the last
   state inside. Escapes are rare events, so replays cost little. */
#define DS_CHUNK {CHUNK}

/* |v| as the bits of a double read as an integer: for non-negative doubles the
   integer order is the numeric order, and NaN lies above inf, so one integer
   max tracks "ever outside the box, or not finite" exactly. */
static inline __attribute__((always_inline)) int64_t abs_bits(double v)
{{
    int64_t b;
    memcpy(&b, &v, sizeof b);
    return b & INT64_MAX;
}}

static inline __attribute__((always_inline)) void
record_row(double *restrict rec, int64_t s, int64_t m, int64_t rec_start, int64_t row_stride,
           const int64_t *alive, double xs[DS_DIM][DS_LANES])
{{
    double *row = rec + (s - rec_start - 1) * row_stride;
    for (int64_t j = 0; j < m; ++j)
        for (int k = 0; k < DS_DIM; ++k)
            row[j * DS_DIM + k] = alive[j] ? xs[k][j] : NAN;
}}

static inline __attribute__((always_inline)) int64_t
map_block(int64_t m, double *restrict x, {param_decl}, int64_t pstride, int64_t steps,
          double escape, int64_t *restrict esc, double *restrict rec,
          int64_t rec_start, int64_t row_stride)
{{
    /* Masks are 64-bit integers (the width of a double lane) so the lane loops
       have no control flow. life[j] counts the steps lane j survived. */
    double xs[DS_DIM][DS_LANES], saved[DS_DIM][DS_LANES], kept[DS_DIM][DS_LANES];
    double tile[DS_CHUNK][DS_DIM][DS_LANES]; /* a chunk's states, written out lane by lane */
    double ps[DS_NPAR > 0 ? DS_NPAR : 1][DS_LANES];
    int64_t alive[DS_LANES], life[DS_LANES], largest[DS_LANES];
    const int64_t escape_bits = abs_bits(escape);
    for (int j = 0; j < DS_LANES; ++j) {{
        const int64_t src = j < m ? j : 0; /* padding lanes copy the first orbit, dead */
        for (int k = 0; k < DS_DIM; ++k) xs[k][j] = kept[k][j] = x[src * DS_DIM + k];
        for (int k = 0; k < DS_NPAR; ++k) ps[k][j] = p[src * pstride + k];
        alive[j] = j < m ? esc[j] < 0 : 0;
        life[j] = 0;
    }}
    for (int j = 0; j < m; ++j) {{  /* a start outside the box has escaped at step 0 */
        int64_t start_inside = 1;
        for (int k = 0; k < DS_DIM; ++k) start_inside &= fabs(xs[k][j]) < escape;
        if (alive[j] && !start_inside) {{
            alive[j] = 0;
            esc[j] = 0;
        }}
    }}
    int64_t done = 0;
    while (done < steps) {{
        const int64_t chunk = steps - done < DS_CHUNK ? steps - done : DS_CHUNK;
        for (int j = 0; j < DS_LANES; ++j) {{
            for (int k = 0; k < DS_DIM; ++k) saved[k][j] = xs[k][j];
            largest[j] = 0;
        }}
        for (int64_t q = 1; q <= chunk; ++q) {{
            for (int j = 0; j < DS_LANES; ++j) {{
{loads}
{step_body}
{fast_stores}
{largest_update}
            }}
        }}
        int64_t escaped = 0;
        for (int j = 0; j < DS_LANES; ++j) escaped |= alive[j] & (largest[j] >= escape_bits);
        if (escaped) {{
            for (int j = 0; j < DS_LANES; ++j)
                for (int k = 0; k < DS_DIM; ++k) {{
                    xs[k][j] = saved[k][j];
                    kept[k][j] = alive[j] ? saved[k][j] : kept[k][j];
                }}
            for (int64_t q = 1; q <= chunk; ++q) {{
                for (int j = 0; j < DS_LANES; ++j) {{
{loads}
{step_body}
                    const int64_t ok = alive[j] & {inside};
{checked_stores}
                    alive[j] = ok;
                    life[j] += ok;
                }}
                if (rec && done + q > rec_start)
                    record_row(rec, done + q, m, rec_start, row_stride, alive, kept);
            }}
        }} else {{
            for (int j = 0; j < DS_LANES; ++j) life[j] += alive[j] * chunk;
            if (rec && done + chunk > rec_start) {{
                const int64_t q0 = done >= rec_start ? 1 : rec_start - done + 1;
                for (int64_t q = q0; q <= chunk; ++q) {{
                    double *row = rec + (done + q - rec_start - 1) * row_stride;
                    for (int64_t j = 0; j < m; ++j)
                        for (int k = 0; k < DS_DIM; ++k)
                            row[j * DS_DIM + k] = alive[j] ? tile[q - 1][k][j] : NAN;
                }}
            }}
        }}
        done += chunk;
        int64_t any = 0;
        for (int j = 0; j < DS_LANES; ++j) any |= alive[j];
        if (!any) break;
    }}
    if (rec) {{
        for (int64_t s = done + 1; s <= steps; ++s)
            if (s > rec_start) record_row(rec, s, m, rec_start, row_stride, alive, kept);
    }}
    int64_t alive_count = 0;
    for (int j = 0; j < m; ++j) {{
        for (int k = 0; k < DS_DIM; ++k) x[j * DS_DIM + k] = alive[j] ? xs[k][j] : kept[k][j];
        if (esc[j] < 0 && !alive[j]) esc[j] = life[j] + 1;
        alive_count += alive[j];
    }}
    return alive_count;
}}

/* The common case, nothing recorded, gets its own copy of the loop, in which
   the recording branch is gone. */
int64_t ds_map_block(int64_t m, double *restrict x, {param_decl}, int64_t pstride, int64_t steps,
                     double escape, int64_t *restrict esc, double *restrict rec,
                     int64_t rec_start, int64_t row_stride)
{{
    if (rec == NULL)
        return map_block(m, x, p, pstride, steps, escape, esc, NULL, 0, 0);
    return map_block(m, x, p, pstride, steps, escape, esc, rec, rec_start, row_stride);
}}
"""
