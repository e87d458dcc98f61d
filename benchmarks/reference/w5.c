/* W5 reference: count the bounded orbits of the two-factor map
 *
 *     u' = u - mu (uv - 1) v,    v' = v - mu (uv - 1) u
 *
 * over a batch of initial conditions (the 1000 x 1000 grid on [-2, 2]^2 at
 * mu = 1.5, 1000 steps, escape 1e6: 345674 bounded). An orbit is bounded when
 * every state it reaches has |u| < escape and |v| < escape; NaN or inf counts
 * as escaped.
 *
 * Build: gcc -O3 -march=native -fPIC -shared w5.c -o libw5.so  (single thread).
 *
 * Exported (called through ctypes by benchmarks/run.py):
 *     int64_t w5_count(n, X, mu, steps, escape)          fastest path for this CPU
 *     int64_t w5_count_portable(n, X, mu, steps, escape) plain C, auto-vectorised
 *     const char *w5_variant(void)                        which path w5_count takes
 * X is (n, 2) row-major float64: X[2i] = u0, X[2i+1] = v0.
 *
 * How it is fast:
 *  - Independent orbits are interleaved in fixed-width blocks of lanes (32),
 *    stored structure-of-arrays, so one step is a branch-free loop over the
 *    lanes that the compiler turns into SIMD (zmm with -march=native on an
 *    AVX-512 machine); the state of a block lives in registers.
 *  - No per-step masking or freezing: a lane that escapes keeps iterating
 *    (its values go to inf/NaN, harmless) and only the largest magnitude it
 *    has reached, big = max(big, |u|, |v|), is tracked. That costs 2 ops a
 *    step in the AVX-512 path (vrangepd + vmaxpd) and 4 in plain C
 *    (2 fabs + 2 max) instead of compares, mask merges and blends.
 *  - The whole-block early exit ("every lane has escaped") is tested every
 *    16 steps, not every step (a horizontal reduction is costly).
 *  - Exactness: the max is written "a > big ? a : big", so a NaN never
 *    replaces big, and an inf sets it to inf. For this map a NaN is sticky (u
 *    or v NaN => both NaN at every later step), so the final state being
 *    finite and inside the box, together with big < escape, is exactly "every
 *    state stayed inside": the count equals the one from a per-step test.
 *  - Arithmetic is the formula as written; gcc contracts uv - 1 and u - c v
 *    into FMAs (GNU C's default -ffp-contract=fast), as in dsanalyze's kernels.
 */
#include <math.h>
#include <stdint.h>

#define W5_LANES 32   /* orbits per block */
#define W5_CHECK 16   /* steps between whole-block exit tests */

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---------- plain C, auto-vectorised ---------- */
static int64_t block_portable(const double *X, int64_t m, double mu, int64_t steps, double escape)
{
    double u[W5_LANES], v[W5_LANES], big[W5_LANES];
    for (int j = 0; j < W5_LANES; ++j) {
        const int64_t src = j < m ? j : 0; /* padding lanes copy orbit 0 and start escaped */
        u[j] = X[2 * src];
        v[j] = X[2 * src + 1];
        big[j] = j < m ? fmax(fabs(u[j]), fabs(v[j])) : INFINITY;
    }
    for (int64_t s = 0; s < steps; s += W5_CHECK) {
        const int64_t kk = imin(W5_CHECK, steps - s);
        for (int64_t k = 0; k < kk; ++k) {
            for (int j = 0; j < W5_LANES; ++j) {
                const double c = mu * (u[j] * v[j] - 1.0);
                const double un = u[j] - c * v[j];
                const double vn = v[j] - c * u[j];
                u[j] = un;
                v[j] = vn;
                const double a = fabs(un), b = fabs(vn);
                big[j] = a > big[j] ? a : big[j];
                big[j] = b > big[j] ? b : big[j];
            }
        }
        int any = 0;
        for (int j = 0; j < W5_LANES; ++j) any |= big[j] < escape;
        if (!any) return 0;
    }
    int64_t count = 0;
    for (int j = 0; j < W5_LANES; ++j)
        count += (big[j] < escape) & (fabs(u[j]) < escape) & (fabs(v[j]) < escape);
    return count;
}

int64_t w5_count_portable(int64_t n, const double *X, double mu, int64_t steps, double escape)
{
    int64_t total = 0;
    for (int64_t first = 0; first < n; first += W5_LANES)
        total += block_portable(X + 2 * first, imin(W5_LANES, n - first), mu, steps, escape);
    return total;
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
/* ---------- AVX-512: the same algorithm with intrinsics ---------- */
#include <immintrin.h>
#define W5_NV (W5_LANES / 8)

static int64_t block_avx512(const double *X, int64_t m, double mu, int64_t steps, double escape)
{
    double ub[W5_LANES], vb[W5_LANES], bb[W5_LANES];
    for (int j = 0; j < W5_LANES; ++j) {
        const int64_t src = j < m ? j : 0;
        ub[j] = X[2 * src];
        vb[j] = X[2 * src + 1];
        bb[j] = j < m ? fmax(fabs(ub[j]), fabs(vb[j])) : INFINITY;
    }
    __m512d u[W5_NV], v[W5_NV], big[W5_NV];
    for (int i = 0; i < W5_NV; ++i) {
        u[i] = _mm512_loadu_pd(ub + 8 * i);
        v[i] = _mm512_loadu_pd(vb + 8 * i);
        big[i] = _mm512_loadu_pd(bb + 8 * i);
    }
    const __m512d MU = _mm512_set1_pd(mu), MINUS1 = _mm512_set1_pd(-1.0), E = _mm512_set1_pd(escape);
    for (int64_t s = 0; s < steps; s += W5_CHECK) {
        const int64_t kk = imin(W5_CHECK, steps - s);
        for (int64_t k = 0; k < kk; ++k) {
            for (int i = 0; i < W5_NV; ++i) {
                const __m512d c = _mm512_mul_pd(MU, _mm512_fmadd_pd(u[i], v[i], MINUS1));
                const __m512d un = _mm512_fnmadd_pd(c, v[i], u[i]);
                const __m512d vn = _mm512_fnmadd_pd(c, u[i], v[i]);
                u[i] = un;
                v[i] = vn;
                /* vrangepd imm 0xB: max(|un|, |vn|), sign cleared (NaN in -> NaN out) */
                const __m512d a = _mm512_range_pd(un, vn, 0xB);
                /* vmaxpd returns its second operand when either is NaN: NaN keeps big */
                big[i] = _mm512_max_pd(a, big[i]);
            }
        }
        __mmask8 any = 0;
        for (int i = 0; i < W5_NV; ++i) any |= _mm512_cmp_pd_mask(big[i], E, _CMP_LT_OQ);
        if (!any) return 0;
    }
    int64_t count = 0;
    for (int i = 0; i < W5_NV; ++i) {
        const __m512d last = _mm512_range_pd(u[i], v[i], 0xB);
        const __mmask8 ok = _mm512_cmp_pd_mask(big[i], E, _CMP_LT_OQ) & _mm512_cmp_pd_mask(last, E, _CMP_LT_OQ);
        count += __builtin_popcount((unsigned)ok);
    }
    return count;
}

int64_t w5_count(int64_t n, const double *X, double mu, int64_t steps, double escape)
{
    int64_t total = 0;
    for (int64_t first = 0; first < n; first += W5_LANES)
        total += block_avx512(X + 2 * first, imin(W5_LANES, n - first), mu, steps, escape);
    return total;
}

const char *w5_variant(void) { return "AVX-512 intrinsics (vrangepd), 32 lanes"; }
#else
int64_t w5_count(int64_t n, const double *X, double mu, int64_t steps, double escape)
{
    return w5_count_portable(n, X, mu, steps, escape);
}

const char *w5_variant(void) { return "portable C, 32 lanes"; }
#endif
