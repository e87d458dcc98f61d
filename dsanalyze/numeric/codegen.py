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
    int64_t ds_tangent(double *x, const double *p, double *v, int64_t steps, double escape,
                       int64_t *v_exp, double *det, int64_t *det_exp, int *status);

``ds_map_block`` advances up to ``DS_LANES`` independent orbits, the rows
``x[j * DS_DIM + k]`` of the caller's array (parameters ``p[j * pstride + k]``,
``pstride`` 0 for one set shared by all), in place. Inside, the orbits are held
lane-interleaved so that a step is one loop over the lanes that the compiler
turns into SIMD code, and the block stops early once every lane has escaped. The
right-hand side is written with common subexpressions eliminated and small
integer powers expanded into products.

``ds_tangent`` (maps only) advances one orbit of a map together with one tangent vector
(``v <- J(x) v``), the state, Jacobian and product in one loop body with the
subexpressions of F and J shared, for the maximal Lyapunov exponent (see its
comment for the scaling by powers of two that keeps logarithms off the loop).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.printing.c import C99CodePrinter

from ..errors import CompilationError
from ..systems import Map, System

__all__ = ["ABI_VERSION", "LANES", "CHUNK", "generate_source"]

#: Version of the generated-code contract; bump when a signature changes.
ABI_VERSION = 5
#: Orbits advanced together by one call of the block kernel.
LANES = 32
#: Steps a block takes between checks for escaped lanes (see ``ds_map_block``).
#: 32 rather than 16: half the per-chunk work (W5 and W1 about 2-5% faster);
#: a multiple of 8 for the 8 x 8 transposes of the recorded tile.
CHUNK = 32

#: Steps of ``ds_tangent`` between the checks of the state and the rescalings of v.
TANGENT_CHUNK = 16

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

    _print_Dummy = _print_Symbol

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

    def _print_Add(self, expr):
        # A common numeric factor is taken out (SymPy distributes 4*(a + b) into
        # 4*a + 4*b: one product instead of two), and the number goes first, so
        # that every product that follows can fuse with the running sum into an FMA.
        content, primitive = expr.as_content_primitive()
        if content != 1 and primitive.is_Add:
            return f"{self._print(content)}*({self._print_Add(primitive)})"
        terms = sorted(expr.as_ordered_terms(), key=lambda term: not term.is_Number)
        text = self._print(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                text += f" - {self.parenthesize(-term, 50)}"
            else:
                text += f" + {self.parenthesize(term, 50)}"
        return text

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


def _block(exprs: list[sp.Expr], outputs: list[str], printer: _KernelPrinter, indent: str,
           ctype: str = "double") -> str:
    """Statements assigning ``exprs`` to ``outputs`` with common subexpressions shared.

    With ``ctype="ds_vec"`` (a GCC vector of doubles), a value that is a
    number is broadcast with ``ds_splat``: C has no implicit scalar-to-vector
    conversion in an initialisation, only in arithmetic.
    """
    replacements, reduced = _cse(tuple(exprs))

    def value_text(value: sp.Expr) -> str:
        text = printer.doprint(value)
        return f"ds_splat({text})" if ctype != "double" and not value.free_symbols else text

    lines = []
    for symbol, value in replacements:
        printer._names[symbol] = str(symbol)
        lines.append(f"{indent}const {ctype} {symbol} = {value_text(value)};")
    for out, value in zip(outputs, reduced):
        lines.append(f"{indent}{out} = {value_text(value)};")
    return "\n".join(lines)


@lru_cache(maxsize=64)
def _cse(exprs: tuple) -> tuple:
    """SymPy's common subexpressions of ``exprs`` (temporaries ds_t0, ds_t1, ...).

    Cached: one source prints the right-hand side three times (``ds_rhs``,
    the lane loop, the vector pass), and the source is generated again in
    every process that compiles the system, before the kernel cache is looked up.
    """
    return sp.cse(list(exprs), symbols=sp.numbered_symbols("ds_t"), optimizations="basic")


def _is_rational(expr: sp.Expr) -> bool:
    """Whether ``expr`` is built from +, -, *, / and small integer powers only.

    Such an expression prints as C arithmetic that also applies to GCC vector
    types (the vector fast pass of ``ds_map_block``).
    """
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow):
            exponent = node.exp
            if not (exponent.is_Integer and 0 < abs(int(exponent)) <= _MAX_EXPANDED_POWER):
                return False
        elif not isinstance(node, (sp.Add, sp.Mul, sp.Symbol, sp.Number)):
            return False
    return True


def _names(system: System, state_fmt: str, param_fmt: str) -> dict[sp.Symbol, str]:
    names = {s: state_fmt.format(k=k) for k, s in enumerate(system.state)}
    names.update({q: param_fmt.format(k=k) for k, q in enumerate(system.params)})
    return names


def _tangent_source(system: System) -> str:
    """C of ``ds_tangent``: the map, its Jacobian and the tangent product fused in one loop."""
    dim, npar = system.dim, len(system.params)
    names = _names(system, "ds_s{k}", "ds_p{k}")
    tangent = [sp.Dummy(f"v{k}") for k in range(dim)]
    names.update({t: f"ds_v{k}" for k, t in enumerate(tangent)})
    jac = system.jacobian()
    # J v and det J as expressions, so that zero and unit entries drop out and
    # their subexpressions are shared with F's.
    products = list(jac * sp.Matrix(tangent))
    det = [sp.Abs(jac.det())] if dim == 2 else [sp.Float(1.0)]
    indent = " " * 12
    body = _block(
        list(system.rhs) + products + det,
        [f"const double ds_n{k}" for k in range(dim)] + [f"const double ds_w{k}" for k in range(dim)]
        + ["const double ds_det"],
        _KernelPrinter(names),
        indent,
    )
    advance = "\n".join(f"{indent}ds_s{k} = ds_n{k}; ds_v{k} = ds_w{k};" for k in range(dim))
    magnitude = " + ".join(f"fabs(ds_n{k})" for k in range(dim))
    inside = " && ".join(f"fabs(ds_s{k}) < escape" for k in range(dim))
    # The sum of |v_k| rather than the largest: NaN and inf carry through a sum.
    size_v = " + ".join(f"fabs(ds_v{k})" for k in range(dim))
    load = "\n".join(f"    double ds_s{k} = x[{k}], ds_v{k} = v[{k}];" for k in range(dim))
    load += "".join(f"\n    const double ds_p{k} = p[{k}];" for k in range(npar))
    save = " ".join(f"ds_s0{k} = ds_s{k}; ds_v0{k} = ds_v{k};" for k in range(dim))
    restore = " ".join(f"ds_s{k} = ds_s0{k}; ds_v{k} = ds_v0{k};" for k in range(dim))
    saved_decl = ", ".join(f"ds_s0{k}, ds_v0{k}" for k in range(dim))
    store = "\n".join(f"    x[{k}] = ds_s{k}; v[{k}] = ds_v{k};" for k in range(dim))
    scale_fast = " ".join(f"ds_v{k} *= scale;" for k in range(dim))
    scale_exact = " ".join(f"ds_v{k} = ldexp(ds_v{k}, -e);" for k in range(dim))
    param_decl = "const double *restrict p" if npar else "const double *restrict p __attribute__((unused))"
    return f"""
/* Advance one orbit x of the map and one tangent vector v (v <- J(x) v, then
   x <- F(x)) by up to `steps` steps, for the maximal Lyapunov exponent. v is
   rescaled only by powers of two (exact: no rounding, so the result is that of
   the unscaled product), the exponents taken out summed into *v_exp: the
   growth is v_exp ln 2 + ln |v| with no logarithm, square root or division in
   the loop. With det != NULL (two dimensions), |det J| is multiplied into the
   product *det, kept in [0.5, 1) the same way with its exponents in *det_exp.

   The loop runs in chunks of DS_TCHUNK steps with no test inside: after a
   chunk the state must have stayed in the box |x_k| < escape throughout (the
   largest |x_0| + ... + |x_(d-1)| is tracked as in ds_map_block) and v and the
   determinant product must be normal numbers; then they are rescaled once. A
   chunk that fails this is replayed from its start step by step with the
   checks and rescalings after every step, which pins down the exact step of
   an escape (status 1: x is the first state outside, or not finite) or of a
   tangent vector or determinant that is zero or not finite (status 2), or
   just completes the chunk when the fast pass had only over- or underflowed.
   Returns the steps taken; *status is 0 when all `steps` were. */
#define DS_TCHUNK {TANGENT_CHUNK}

static inline __attribute__((always_inline)) int normal_exponent(double a)
{{
    /* The binary exponent e of a = f 2^e, f in [0.5, 1), when a is a normal
       number whose 2^-e is normal too; otherwise 0 (caller replays). */
    const int64_t field = (bits_of(a) >> 52) & 0x7ff;
    return field >= 1 && field <= 2044 ? (int)field - 1022 : 0;
}}

static inline __attribute__((always_inline)) double power_of_two(int e)
{{
    const int64_t b = (int64_t)(e + 1023) << 52;
    double r;
    memcpy(&r, &b, sizeof r);
    return r;
}}

static inline __attribute__((always_inline)) int64_t
tangent(double *restrict x, {param_decl}, double *restrict v, int64_t steps, double escape,
        int64_t *restrict v_exp, double *restrict det, int64_t *restrict det_exp, int *restrict status,
        const int with_det)
{{
{load}
    double ds_d = with_det ? *det : 1.0, ds_d0;
    double {saved_decl};
    const int64_t escape_bits = bits_of(escape);
    int64_t done = 0;
    *status = 0;
    while (done < steps) {{
        const int64_t chunk = steps - done < DS_TCHUNK ? steps - done : DS_TCHUNK;
        {save} ds_d0 = ds_d;
        int64_t largest = 0;
        for (int64_t q = 0; q < chunk; ++q) {{
{body}
{advance}
            if (with_det) ds_d *= ds_det;
            {{ const int64_t b = bits_of({magnitude}); largest = b > largest ? b : largest; }}
        }}
        const int ve = normal_exponent({size_v}), de = with_det ? normal_exponent(ds_d) : 1;
        if (largest < escape_bits && ve != 0 && de != 0) {{
            const double scale = power_of_two(-ve);
            {scale_fast}
            *v_exp += ve;
            if (with_det) {{ ds_d *= power_of_two(-de); *det_exp += de; }}
            done += chunk;
            continue;
        }}
        {restore} ds_d = ds_d0;
        for (int64_t q = 0; q < chunk; ++q) {{
{body}
{advance}
            done += 1;
            if (!({inside})) {{ *status = 1; goto out; }}
            const double size = {size_v};
            if (!(size > 0.0) || !isfinite(size)) {{ *status = 2; goto out; }}
            int e;
            frexp(size, &e);
            {scale_exact}
            *v_exp += e;
            if (with_det) {{
                ds_d *= ds_det;
                if (!(ds_d > 0.0) || !isfinite(ds_d)) {{ *status = 2; goto out; }}
                ds_d = frexp(ds_d, &e);
                *det_exp += e;
            }}
        }}
    }}
out:
{store}
    if (with_det) *det = ds_d;
    return done;
}}

int64_t ds_tangent(double *restrict x, {param_decl}, double *restrict v, int64_t steps, double escape,
                   int64_t *restrict v_exp, double *restrict det, int64_t *restrict det_exp, int *restrict status)
{{
    if (det != NULL && DS_DIM == 2)
        return tangent(x, p, v, steps, escape, v_exp, det, det_exp, status, 1);
    return tangent(x, p, v, steps, escape, v_exp, NULL, NULL, status, 0);
}}
"""


def _nan_persists(system: System) -> bool:
    """Whether a NaN in the state of this rational map stays in it for good.

    Arithmetic carries NaN from an argument to the result, so a NaN in x_j
    reaches, one step later, every component whose update reads x_j. When
    every component is read by some update, the set of NaN components never
    empties: a NaN at any step is still in the state at the end of a chunk.
    """
    used = set().union(*(f.free_symbols for f in system.rhs))
    return all(s in used for s in system.state)


def _fast_chunk_source(system: System, loads: str, step_body: str, stores: str, largest_update: str) -> str:
    """C of ``fast_chunk``: the unchecked steps of a chunk of ``ds_map_block``.

    Every system gets the loop over lanes that the compiler vectorises. A
    rational system (see :func:`_is_rational`) on a machine with AVX-512
    gets, in its place, the same arithmetic written on GCC vectors of 8
    doubles, the lanes' states held in registers for the whole chunk (the
    plain loop stores and reloads them every step), and the escape tracking
    kept in the floating-point domain: on AMD Zen 4 an integer max on
    doubles' bits costs W5 about 35%. The running largest |x_k| is taken with
    ``vrangepd``, which ignores a NaN operand; so where a NaN persists
    (:func:`_nan_persists`) one is looked for in the chunk's last state, and
    elsewhere the magnitudes are summed instead (a sum keeps NaN, and is at
    least every term: a larger sum only costs more replays).
    """
    dim, npar = system.dim, len(system.params)
    signature = (
        "static inline __attribute__((always_inline)) void\n"
        "fast_chunk(int64_t chunk, double xs[DS_DIM][DS_LANES], double ps[DS_NPAR > 0 ? DS_NPAR : 1][DS_LANES],\n"
        "           int64_t largest[DS_LANES], double tile[DS_CHUNK][DS_DIM][DS_LANES], const int record,\n"
        "           int64_t moved[DS_LANES])"
    )
    plain = f"""#define DS_FAST_CHUNK_MOVED 0 /* moved[] is not filled: ds_map_block takes a step to see */
{signature}
{{
    (void)moved;
    for (int64_t q = 1; q <= chunk; ++q) {{
        for (int j = 0; j < DS_LANES; ++j) {{
{loads}
{step_body}
{stores}
{largest_update}
        }}
    }}
}}"""
    if not all(_is_rational(e) for e in system.rhs):
        return plain
    groups = LANES // 8
    printer = _KernelPrinter(_names(system, "ds_s{k}", "ds_p{k}"))
    indent = " " * 12
    body = _block(list(system.rhs), [f"const ds_vec ds_n{k}" for k in range(dim)], printer, indent, "ds_vec")
    persists = _nan_persists(system)
    if persists:
        largest = "L_{g}"
        for k in range(dim):
            largest = f"_mm512_range_pd({largest}, ds_n{k}, 0xB)"
        update = f"L_{{g}} = {largest};"
    else:
        update = "L_{g} = L_{g} + " + " + ".join(f"_mm512_abs_pd(ds_n{k})" for k in range(dim)) + ";"
    declare = []
    for g in range(groups):
        for k in range(dim):
            declare.append(f"    ds_vec S{k}_{g}, R{k}_{g}; memcpy(&S{k}_{g}, &xs[{k}][{8 * g}], 64); R{k}_{g} = S{k}_{g};")
        for k in range(npar):
            declare.append(f"    ds_vec P{k}_{g}; memcpy(&P{k}_{g}, &ps[{k}][{8 * g}], 64);")
        declare.append(f"    ds_vec L_{g} = ds_splat(0.0);")
    steps = []
    for g in range(groups):
        lines = [f"        {{ /* lanes {8 * g}-{8 * g + 7} */"]
        lines += [f"{indent}const ds_vec ds_s{k} = S{k}_{g}; R{k}_{g} = ds_s{k};" for k in range(dim)]
        lines += [f"{indent}const ds_vec ds_p{k} = P{k}_{g};" for k in range(npar)]
        lines.append(body)
        lines += [f"{indent}S{k}_{g} = ds_n{k};" for k in range(dim)]
        lines += [f"{indent}if (record) memcpy(&tile[q - 1][{k}][{8 * g}], &ds_n{k}, 64);" for k in range(dim)]
        lines.append(indent + update.format(g=g))
        lines.append("        }")
        steps.append("\n".join(lines))
    write_back = []
    for g in range(groups):
        if persists:  # x - x is NaN exactly when x is NaN or infinite
            write_back.append(f"    L_{g} = L_{g} + " + " + ".join(f"(S{k}_{g} - S{k}_{g})" for k in range(dim)) + ";")
        write_back += [f"    memcpy(&xs[{k}][{8 * g}], &S{k}_{g}, 64);" for k in range(dim)]
        changed = " | ".join(f"((ds_bits)S{k}_{g} != (ds_bits)R{k}_{g})" for k in range(dim))
        write_back.append(f"    {{ const ds_bits c = {changed}; memcpy(&moved[{8 * g}], &c, 64); }}")
        write_back.append(f"    {{ double m[8]; memcpy(m, &L_{g}, 64); "
                          f"for (int j = 0; j < 8; ++j) largest[{8 * g} + j] = bits_of(fabs(m[j])); }}")
    newline = "\n"
    return f"""#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>
typedef double ds_vec __attribute__((vector_size(64)));
typedef int64_t ds_bits __attribute__((vector_size(64)));
#define DS_FAST_CHUNK_MOVED 1 /* moved[j]: whether the chunk's last step changed lane j (bits) */

static inline __attribute__((always_inline)) ds_vec ds_splat(double c)
{{
    return (ds_vec){{c, c, c, c, c, c, c, c}};
}}

/* vrangepd with imm 0xB: max(|a|, |b|), the sign cleared; with one operand
   NaN it returns the other. {"A NaN that arises in a chunk is still in its last state (every component feeds some update), where x - x finds it." if persists else "A component can leave NaN behind here (not every component feeds an update), so the magnitudes are summed: NaN stays in a sum."} */
{signature}
{{
{newline.join(declare)}
    for (int64_t q = 1; q <= chunk; ++q) {{
{newline.join(steps)}
    }}
{newline.join(write_back)}
}}
#else
{plain}
#endif"""


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
        f"{indent}xs[{k}][j] = ds_n{k};\n{indent}if (record) tile[q - 1][{k}][j] = ds_n{k};" for k in range(dim)
    )
    magnitude = " + ".join(f"fabs(ds_n{k})" for k in range(dim))
    largest_update = (
        f"{indent}{{ const int64_t b = bits_of({magnitude}); largest[j] = b > largest[j] ? b : largest[j]; }}"
    )
    checked_stores = "\n".join(
        f"{indent}    xs[{k}][j] = ds_n{k};\n{indent}    kept[{k}][j] = ok ? ds_n{k} : kept[{k}][j];" for k in range(dim)
    )
    param_decl = "const double *restrict p" if npar else "const double *restrict p __attribute__((unused))"
    fast_chunk = _fast_chunk_source(system, loads, step_body, fast_stores, largest_update)

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

{fast_chunk}

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
    int64_t alive[DS_LANES], life[DS_LANES], largest[DS_LANES], moved[DS_LANES];
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
        fast_chunk(chunk, xs, ps, largest, tile, rec != NULL, moved);
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
#if DS_FAST_CHUNK_MOVED
            /* The fast pass saw the last step (a replay, if any, made the same
               steps bit for bit): x_s = x_(s-1) means x_s is a fixed point. */
            for (int j = 0; j < DS_LANES; ++j) moving |= alive[j] & moved[j];
#else
            for (int j = 0; j < DS_LANES; ++j) {{
{loads}
{step_body}
                moving |= alive[j] & ({moved});
            }}
#endif
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
""" + (_tangent_source(system) if isinstance(system, Map) else "")
