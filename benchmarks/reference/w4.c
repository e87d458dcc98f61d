/* W4 reference: basins of gradient descent on the tilted ring
 *
 *     L(a, b) = (a^2 + b^2 - 1)^2 + ab,
 *     a' = a - eta (4 a (a^2 + b^2 - 1) + b),   b' = b - eta (4 b (a^2 + b^2 - 1) + a)
 *
 * over a batch of initial conditions (the 1000 x 1000 grid on [-2, 2]^2 at
 * eta = 0.1, 500 steps, escape 1e6). Each orbit gets a label:
 *     0  divergent (some state had |a| or |b| >= escape, or was not finite)
 *     1  at the minimum ( m, -m), m = sqrt(10)/4, to 1e-6 after 500 steps
 *     2  at the minimum (-m,  m)
 *     3  bounded but at neither minimum (the saddles +-(sqrt(6)/4)(1, 1), which
 *        attract the invariant diagonal b = a)
 *
 * Build: gcc -O3 -march=native -fPIC -shared w4.c -o libw4.so  (single thread).
 *
 * Exported (called through ctypes by benchmarks/run.py):
 *     void w4_labels(n, X, eta, steps, escape, labels)           fastest path for this CPU
 *     void w4_labels_portable(n, X, eta, steps, escape, labels)  plain C, auto-vectorised
 *     const char *w4_variant(void)                               which path w4_labels takes
 * X is (n, 2) row-major float64: X[2i] = a0, X[2i+1] = b0; labels is int8[n].
 *
 * How it is fast (the techniques of w5.c):
 *  - Independent orbits interleaved in blocks of 32 lanes, structure of arrays,
 *    a branch-free step that gcc turns into SIMD (zmm on AVX-512).
 *  - No per-step masking: an escaped lane keeps iterating (inf/NaN, harmless);
 *    only big = max(big, |a|, |b|) is tracked ("x > big ? x : big", so a NaN
 *    never replaces big). A NaN is sticky for this map (each new component
 *    depends on both old ones), so "final state finite and inside, and
 *    big < escape" is exactly "every state stayed inside".
 *  - The whole-block early exit is tested every 16 steps: the block stops when
 *    every lane has escaped or sits exactly on a fixed point in floating point
 *    (one more step leaves a and b bit-for-bit unchanged, so every later step
 *    would too: the labels are those of the full 500 steps). Gradient descent
 *    lands exactly on a minimum after about 160 steps (99% by 190, all of the
 *    1000 x 1000 grid but the diagonal b = a by 252), so most blocks stop early;
 *    "at most 500 steps" of the workload allows it.
 *  - The AVX-512 path computes max(|a|, |b|) with one vrangepd.
 */
#include <math.h>
#include <stdint.h>

#define W4_LANES 32
#define W4_CHECK 16
#define W4_TOL 1e-6

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

static inline int8_t classify(double a, double b, double big, double escape)
{
    const double m = 0.79056941504209483; /* sqrt(10)/4 */
    if (!(big < escape) || !(fabs(a) < escape) || !(fabs(b) < escape)) return 0;
    if (fabs(a - m) < W4_TOL && fabs(b + m) < W4_TOL) return 1;
    if (fabs(a + m) < W4_TOL && fabs(b - m) < W4_TOL) return 2;
    return 3;
}

/* ---------- plain C, auto-vectorised ---------- */
static void block_portable(const double *X, int64_t m, double eta, int64_t steps, double escape, int8_t *labels)
{
    double a[W4_LANES], b[W4_LANES], big[W4_LANES];
    for (int j = 0; j < W4_LANES; ++j) {
        const int64_t src = j < m ? j : 0; /* padding lanes copy orbit 0 and start escaped */
        a[j] = X[2 * src];
        b[j] = X[2 * src + 1];
        big[j] = j < m ? fmax(fabs(a[j]), fabs(b[j])) : INFINITY;
    }
    int alive = 1;
    for (int64_t s = 0; s < steps && alive; s += W4_CHECK) {
        const int64_t kk = imin(W4_CHECK, steps - s);
        for (int64_t k = 0; k < kk; ++k) {
            for (int j = 0; j < W4_LANES; ++j) {
                const double r = 4.0 * (a[j] * a[j] + b[j] * b[j] - 1.0);
                const double an = a[j] - eta * (r * a[j] + b[j]);
                const double bn = b[j] - eta * (r * b[j] + a[j]);
                a[j] = an;
                b[j] = bn;
                const double x = fabs(an), y = fabs(bn);
                big[j] = x > big[j] ? x : big[j];
                big[j] = y > big[j] ? y : big[j];
            }
        }
        int any = 0;
        for (int j = 0; j < W4_LANES; ++j) {
            const double r = 4.0 * (a[j] * a[j] + b[j] * b[j] - 1.0);
            const double an = a[j] - eta * (r * a[j] + b[j]);
            const double bn = b[j] - eta * (r * b[j] + a[j]);
            any |= (big[j] < escape) & !((an == a[j]) & (bn == b[j]));
        }
        alive = any;
    }
    for (int j = 0; j < m; ++j) labels[j] = classify(a[j], b[j], big[j], escape);
}

void w4_labels_portable(int64_t n, const double *X, double eta, int64_t steps, double escape, int8_t *labels)
{
    for (int64_t first = 0; first < n; first += W4_LANES)
        block_portable(X + 2 * first, imin(W4_LANES, n - first), eta, steps, escape, labels + first);
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
/* ---------- AVX-512: the same algorithm with intrinsics ---------- */
#include <immintrin.h>
#define W4_NV (W4_LANES / 8)

static void block_avx512(const double *X, int64_t m, double eta, int64_t steps, double escape, int8_t *labels)
{
    double ab[W4_LANES], bb[W4_LANES], gb[W4_LANES];
    for (int j = 0; j < W4_LANES; ++j) {
        const int64_t src = j < m ? j : 0;
        ab[j] = X[2 * src];
        bb[j] = X[2 * src + 1];
        gb[j] = j < m ? fmax(fabs(ab[j]), fabs(bb[j])) : INFINITY;
    }
    __m512d a[W4_NV], b[W4_NV], big[W4_NV];
    for (int i = 0; i < W4_NV; ++i) {
        a[i] = _mm512_loadu_pd(ab + 8 * i);
        b[i] = _mm512_loadu_pd(bb + 8 * i);
        big[i] = _mm512_loadu_pd(gb + 8 * i);
    }
    const __m512d ETA = _mm512_set1_pd(eta), FOUR = _mm512_set1_pd(4.0), MINUS1 = _mm512_set1_pd(-1.0),
                  E = _mm512_set1_pd(escape);
    __mmask8 any = 1;
    for (int64_t s = 0; s < steps && any; s += W4_CHECK) {
        const int64_t kk = imin(W4_CHECK, steps - s);
        for (int64_t k = 0; k < kk; ++k) {
            for (int i = 0; i < W4_NV; ++i) {
                const __m512d q = _mm512_fmadd_pd(a[i], a[i], _mm512_fmadd_pd(b[i], b[i], MINUS1));
                const __m512d r = _mm512_mul_pd(FOUR, q);
                const __m512d an = _mm512_fnmadd_pd(ETA, _mm512_fmadd_pd(r, a[i], b[i]), a[i]);
                const __m512d bn = _mm512_fnmadd_pd(ETA, _mm512_fmadd_pd(r, b[i], a[i]), b[i]);
                a[i] = an;
                b[i] = bn;
                big[i] = _mm512_max_pd(_mm512_range_pd(an, bn, 0xB), big[i]);
            }
        }
        any = 0;
        for (int i = 0; i < W4_NV; ++i) { /* still running: inside the box and not exactly fixed */
            const __m512d q = _mm512_fmadd_pd(a[i], a[i], _mm512_fmadd_pd(b[i], b[i], MINUS1));
            const __m512d r = _mm512_mul_pd(FOUR, q);
            const __m512d an = _mm512_fnmadd_pd(ETA, _mm512_fmadd_pd(r, a[i], b[i]), a[i]);
            const __m512d bn = _mm512_fnmadd_pd(ETA, _mm512_fmadd_pd(r, b[i], a[i]), b[i]);
            const __mmask8 fixed = _mm512_cmp_pd_mask(an, a[i], _CMP_EQ_OQ) & _mm512_cmp_pd_mask(bn, b[i], _CMP_EQ_OQ);
            any |= _mm512_cmp_pd_mask(big[i], E, _CMP_LT_OQ) & (__mmask8)~fixed;
        }
    }
    for (int i = 0; i < W4_NV; ++i) {
        _mm512_storeu_pd(ab + 8 * i, a[i]);
        _mm512_storeu_pd(bb + 8 * i, b[i]);
        _mm512_storeu_pd(gb + 8 * i, big[i]);
    }
    for (int j = 0; j < m; ++j) labels[j] = classify(ab[j], bb[j], gb[j], escape);
}

void w4_labels(int64_t n, const double *X, double eta, int64_t steps, double escape, int8_t *labels)
{
    for (int64_t first = 0; first < n; first += W4_LANES)
        block_avx512(X + 2 * first, imin(W4_LANES, n - first), eta, steps, escape, labels + first);
}

const char *w4_variant(void) { return "AVX-512 intrinsics (vrangepd), 32 lanes"; }
#else
void w4_labels(int64_t n, const double *X, double eta, int64_t steps, double escape, int8_t *labels)
{
    w4_labels_portable(n, X, eta, steps, escape, labels);
}

const char *w4_variant(void) { return "portable C, 32 lanes"; }
#endif
