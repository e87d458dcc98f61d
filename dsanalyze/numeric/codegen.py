"""C code generated from a System: the right-hand side, its Jacobian, block kernels.

The generated translation unit is the whole contract between a system and the
Cython drivers in ``cext/``: a handful of functions with fixed signatures
(declared in ``cext/_kernel.pxd``)::

    int     ds_abi(void);    int ds_dim(void);    int ds_npar(void);    int ds_lanes(void);
    void    ds_rhs(const double *x, const double *p, double *out);
    void    ds_jac(const double *x, const double *p, double *out);   /* row-major dim x dim */
    int64_t ds_map_block(int64_t m, double *x, const double *p, int64_t pstride, int64_t steps,
                         double escape, int64_t *esc, double *rec, int64_t rec_start,
                         int64_t rec_stride);

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
ABI_VERSION = 4
#: Orbits advanced together by one call of the block kernel.
LANES = 32
#: Steps a block takes between checks for escaped lanes (see ``ds_map_block``).
#: 32 rather than 16: half the per-chunk work (W5 and W1 about 2-5% faster);
#: a multiple of 8 for the 8 x 8 transposes of the recorded tile.
CHUNK = 32

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
    moved = " | ".join(f"(bits_of(ds_n{k}) != bits_of(ds_s{k}))" for k in range(dim))
    fast_stores = "\n".join(
        f"{indent}xs[{k}][j] = ds_n{k};\n{indent}if (rec) tile[q - 1][{k}][j] = ds_n{k};" for k in range(dim)
    )
    magnitude = " + ".join(f"fabs(ds_n{k})" for k in range(dim))
    largest_update = (
        f"{indent}{{ const int64_t b = bits_of({magnitude}); largest[j] = b > largest[j] ? b : largest[j]; }}"
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
   rec[j*rec_stride + (s-rec_start-1)*DS_DIM + k] (NaN once escaped): each
   lane's recorded states are one contiguous run, so a block is recorded in
   one call and a chunk's states of a lane are one short contiguous write
   (step-major rows, one per step with the lanes side by side, cost W1 about
   1 ms more: a call per few steps to keep them in cache, and rows n*dim*8
   bytes apart that all fall in the same cache sets).
   Returns the number of lanes still alive.

   How: the block advances in chunks of DS_CHUNK steps. A chunk first runs
   fast: every lane steps unmasked (an escaped lane may go to inf or NaN, seen
   by no other lane) and only an "ever outside" flag per lane is kept, so the
   compiler emits SIMD code with little beyond the map itself. If a lane that
   was alive left the box during the chunk, the chunk is replayed from its
   saved start step by step, which finds the exact escape step and the last
   state inside. Escapes are rare events, so replays cost little. */
#define DS_CHUNK {CHUNK}

/* The fast pass tracks, per lane, the largest sum of the magnitudes of the
   components |x_0| + ... + |x_{{d-1}}| it has seen, as the bits of that double
   read as an integer: for non-negative doubles the integer order is the
   numeric order, and NaN lies above inf, so one integer max per step tracks
   "ever outside the box, or not finite" with no false negative (the sum is at
   least every |x_k|, and is NaN when one is). It can flag a lane whose sum
   reached `escape` while every component stayed inside; the replay is exact,
   so that costs time near the box's edge, never a wrong result. One sum and
   one max per step are cheaper than a max per component (W5: 0.098 s ->
   0.087 s), and an integer max, unlike a floating-point one, keeps NaN. */
static inline __attribute__((always_inline)) int64_t bits_of(double v)
{{
    int64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}}

static inline __attribute__((always_inline)) void
record_row(double *restrict rec, int64_t s, int64_t m, int64_t rec_start, int64_t rec_stride,
           const int64_t *alive, double xs[DS_DIM][DS_LANES])
{{
    double *at = rec + (s - rec_start - 1) * DS_DIM;
    for (int64_t j = 0; j < m; ++j)
        for (int k = 0; k < DS_DIM; ++k)
            at[j * rec_stride + k] = alive[j] ? xs[k][j] : NAN;
}}

#if defined(__AVX512F__)
#include <immintrin.h>
/* In: r[i] = row i of an 8 x 8 block of doubles. Out: r[i] = column i. */
static inline __attribute__((always_inline)) void transpose8(__m512d r[8])
{{
    const __m512d t0 = _mm512_unpacklo_pd(r[0], r[1]), t1 = _mm512_unpackhi_pd(r[0], r[1]);
    const __m512d t2 = _mm512_unpacklo_pd(r[2], r[3]), t3 = _mm512_unpackhi_pd(r[2], r[3]);
    const __m512d t4 = _mm512_unpacklo_pd(r[4], r[5]), t5 = _mm512_unpackhi_pd(r[4], r[5]);
    const __m512d t6 = _mm512_unpacklo_pd(r[6], r[7]), t7 = _mm512_unpackhi_pd(r[6], r[7]);
    const __m512i lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    const __m512i hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    const __m512d u0 = _mm512_permutex2var_pd(t0, lo, t2), u1 = _mm512_permutex2var_pd(t1, lo, t3);
    const __m512d u2 = _mm512_permutex2var_pd(t0, hi, t2), u3 = _mm512_permutex2var_pd(t1, hi, t3);
    const __m512d u4 = _mm512_permutex2var_pd(t4, lo, t6), u5 = _mm512_permutex2var_pd(t5, lo, t7);
    const __m512d u6 = _mm512_permutex2var_pd(t4, hi, t6), u7 = _mm512_permutex2var_pd(t5, hi, t7);
    r[0] = _mm512_shuffle_f64x2(u0, u4, 0x44); r[4] = _mm512_shuffle_f64x2(u0, u4, 0xEE);
    r[1] = _mm512_shuffle_f64x2(u1, u5, 0x44); r[5] = _mm512_shuffle_f64x2(u1, u5, 0xEE);
    r[2] = _mm512_shuffle_f64x2(u2, u6, 0x44); r[6] = _mm512_shuffle_f64x2(u2, u6, 0xEE);
    r[3] = _mm512_shuffle_f64x2(u3, u7, 0x44); r[7] = _mm512_shuffle_f64x2(u3, u7, 0xEE);
}}

/* A whole chunk recorded with AVX-512: the tile's rows (step, component) are
   transposed 8 x 8 in registers, so that every store is 8 consecutive doubles
   of one lane's record (one cache line's worth) rather than 8 scalars. A
   store that fills an aligned cache line is non-temporal: the records are
   written once and are usually far larger than the cache, and a normal store
   would first read the line from memory (the driver aligns the output). */
static inline __attribute__((always_inline)) void
record_chunk_avx512(double *restrict at, int64_t m, int64_t rec_stride, const int64_t *alive,
                    double tile[DS_CHUNK][DS_DIM][DS_LANES])
{{
    const double *t = &tile[0][0][0];
    const __m512d nan = _mm512_set1_pd(NAN);
    for (int64_t j0 = 0; j0 < m; j0 += 8)
        for (int r0 = 0; r0 < DS_CHUNK * DS_DIM; r0 += 8) {{
            __m512d v[8];
            for (int i = 0; i < 8; ++i) v[i] = _mm512_loadu_pd(t + (r0 + i) * DS_LANES + j0);
            transpose8(v);
            for (int64_t i = 0; i < 8 && j0 + i < m; ++i) {{
                double *dst = at + (j0 + i) * rec_stride + r0;
                const __m512d value = alive[j0 + i] ? v[i] : nan;
                if (((uintptr_t)dst & 63) == 0)
                    _mm512_stream_pd(dst, value); /* a whole line: no read of it first */
                else
                    _mm512_storeu_pd(dst, value);
            }}
        }}
}}
#endif

/* The states of steps q_from..chunk of the chunk after step `done`, from the
   fast pass's tile, to the records of the recorded steps among them, lane by
   lane: one contiguous run per lane. */
static inline __attribute__((always_inline)) void
record_tile(double *restrict rec, int64_t done, int64_t q_from, int64_t chunk, int64_t m,
            int64_t rec_start, int64_t rec_stride, const int64_t *alive,
            double tile[DS_CHUNK][DS_DIM][DS_LANES])
{{
    const int64_t q0 = done + q_from > rec_start ? q_from : rec_start - done + 1;
    if (q0 > chunk)
        return;
#if defined(__AVX512F__) && DS_CHUNK % 8 == 0 && DS_LANES % 8 == 0
    if (q0 == 1 && chunk == DS_CHUNK) {{
        record_chunk_avx512(rec + (done - rec_start) * DS_DIM, m, rec_stride, alive, tile);
        return;
    }}
#endif
    for (int64_t j = 0; j < m; ++j) {{
        double *at = rec + j * rec_stride + (done - rec_start - 1) * DS_DIM;
        if (alive[j]) {{
            for (int64_t q = q0; q <= chunk; ++q)
                for (int k = 0; k < DS_DIM; ++k) at[q * DS_DIM + k] = tile[q - 1][k][j];
        }} else {{
            for (int64_t q = q0; q <= chunk; ++q)
                for (int k = 0; k < DS_DIM; ++k) at[q * DS_DIM + k] = NAN;
        }}
    }}
}}

static inline __attribute__((always_inline)) int64_t
map_block(int64_t m, double *restrict x, {param_decl}, int64_t pstride, int64_t steps,
          double escape, int64_t *restrict esc, double *restrict rec,
          int64_t rec_start, int64_t rec_stride)
{{
    /* Masks are 64-bit integers (the width of a double lane) so the lane loops
       have no control flow. life[j] counts the steps lane j survived. */
    double xs[DS_DIM][DS_LANES], saved[DS_DIM][DS_LANES], kept[DS_DIM][DS_LANES], fast_end[DS_DIM][DS_LANES];
    double tile[DS_CHUNK][DS_DIM][DS_LANES]; /* a chunk's states, written out lane by lane */
    double ps[DS_NPAR > 0 ? DS_NPAR : 1][DS_LANES];
    int64_t alive[DS_LANES], life[DS_LANES], largest[DS_LANES];
    const int64_t escape_bits = bits_of(escape);
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
            /* Replay only until every lane that left the box in the fast pass
               has been pinned down; the other lanes then take the fast pass's
               end state, which the replay would only have recomputed. */
            int64_t leaving[DS_LANES];
            for (int j = 0; j < DS_LANES; ++j) {{
                leaving[j] = alive[j] & (largest[j] >= escape_bits);
                for (int k = 0; k < DS_DIM; ++k) {{
                    fast_end[k][j] = xs[k][j];
                    xs[k][j] = saved[k][j];
                    kept[k][j] = alive[j] ? saved[k][j] : kept[k][j];
                }}
            }}
            int64_t q = 1;
            for (; q <= chunk; ++q) {{
                for (int j = 0; j < DS_LANES; ++j) {{
{loads}
{step_body}
                    const int64_t ok = alive[j] & {inside};
{checked_stores}
                    alive[j] = ok;
                    life[j] += ok;
                }}
                if (rec && done + q > rec_start)
                    record_row(rec, done + q, m, rec_start, rec_stride, alive, kept);
                int64_t pending = 0;
                for (int j = 0; j < DS_LANES; ++j) pending |= leaving[j] & alive[j];
                if (!pending) break;
            }}
            if (q < chunk) {{
                for (int j = 0; j < DS_LANES; ++j) {{
                    life[j] += alive[j] * (chunk - q);
                    for (int k = 0; k < DS_DIM; ++k) xs[k][j] = alive[j] ? fast_end[k][j] : xs[k][j];
                }}
                if (rec) record_tile(rec, done, q + 1, chunk, m, rec_start, rec_stride, alive, tile);
            }}
        }} else {{
            for (int j = 0; j < DS_LANES; ++j) life[j] += alive[j] * chunk;
            if (rec) record_tile(rec, done, 1, chunk, m, rec_start, rec_stride, alive, tile);
        }}
        done += chunk;
        int64_t any = 0;
        for (int j = 0; j < DS_LANES; ++j) any |= alive[j];
        if (!any) break;
        if (!rec && done < steps) {{
            /* Every live lane exactly (bit for bit) on a fixed point stays there
               for good: the remaining steps change nothing, so skip them. */
            int64_t moving = 0;
            for (int j = 0; j < DS_LANES; ++j) {{
{loads}
{step_body}
                moving |= alive[j] & ({moved});
            }}
            if (!moving) {{
                for (int j = 0; j < DS_LANES; ++j) life[j] += alive[j] * (steps - done);
                done = steps;
                break;
            }}
        }}
    }}
    if (rec) {{
        for (int64_t s = done + 1; s <= steps; ++s)
            if (s > rec_start) record_row(rec, s, m, rec_start, rec_stride, alive, kept);
    }}
#if defined(__AVX512F__)
    if (rec)
        _mm_sfence(); /* order the non-temporal stores before the caller reads */
#endif
    int64_t alive_count = 0;
    for (int j = 0; j < m; ++j) {{
        for (int k = 0; k < DS_DIM; ++k) x[j * DS_DIM + k] = alive[j] ? xs[k][j] : kept[k][j];
        if (esc[j] < 0 && !alive[j]) esc[j] = life[j] + 1;
        alive_count += alive[j];
    }}
    return alive_count;
}}

/* The common case, nothing recorded, gets its own copy of the loop, in which
   the recording branch is gone. With a record, the steps before it run in that
   copy too, and the recorded steps after them in chunks that start with the
   record (whole chunks are recorded with whole-line stores). */
int64_t ds_map_block(int64_t m, double *restrict x, {param_decl}, int64_t pstride, int64_t steps,
                     double escape, int64_t *restrict esc, double *restrict rec,
                     int64_t rec_start, int64_t rec_stride)
{{
    if (rec == NULL)
        return map_block(m, x, p, pstride, steps, escape, esc, NULL, 0, 0);
    if (rec_start > 0)
        map_block(m, x, p, pstride, rec_start, escape, esc, NULL, 0, 0);
    int64_t alive_before[DS_LANES];
    for (int64_t j = 0; j < m; ++j) alive_before[j] = esc[j] < 0;
    const int64_t alive = map_block(m, x, p, pstride, steps - rec_start, escape, esc, rec, 0, rec_stride);
    for (int64_t j = 0; j < m; ++j) /* escape steps counted from the start of this call */
        if (alive_before[j] && esc[j] >= 0) esc[j] += rec_start;
    return alive;
}}
"""
