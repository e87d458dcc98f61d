/* W1 reference: orbit diagram of the logistic map x' = r x (1 - x).
 *
 * For each of n parameter values r[i] (2000 values evenly in [2.5, 4]),
 * start at x0 (0.5), discard `transient` iterates (1000) and write the next
 * `record` iterates (1000) to out[i * record + s] (row-major (n, record)).
 *
 * Build: gcc -O3 -march=native -fPIC -shared w1.c -o libw1.so  (single thread).
 *
 * Exported (called through ctypes by benchmarks/run.py):
 *     void w1_orbits(n, r, x0, transient, record, out)           fastest path for this CPU
 *     void w1_orbits_portable(n, r, x0, transient, record, out)  plain C, auto-vectorised
 *     const char *w1_variant(void)                                which path w1_orbits takes
 *
 * How it is fast:
 *  - Independent orbits (one per r) are interleaved in blocks of 16 lanes
 *    kept in registers, so each step is a SIMD multiply-multiply-subtract
 *    over the lanes: the arithmetic alone takes about 0.3 ms for the 4e6
 *    steps of W1.
 *  - The cost is writing the 16 MB output, which is transposed with respect
 *    to the lanes (lane j writes row j). Steps are computed in tiles of 8 and
 *    the 8 steps x 8 lanes tile is transposed in registers (AVX-512 path:
 *    unpack + permutex2var + shuffle_f64x2), so every store is one full
 *    64-byte vector into a row; the portable path goes through a small
 *    buffer instead. Writing one scalar per lane per step (what a naive lane
 *    loop does) is 2-3x slower.
 *  - Lanes: 16 is the sweet spot here; 32 lanes means 32 rows written at once
 *    and more registers than the tile can keep.
 *  - Arithmetic is the formula as written, r * x * (1 - x), evaluated left to
 *    right: (r * x) * (1 - x), no FMA possible.
 */
#include <stdint.h>

#define W1_LANES 16  /* orbits per block */
#define W1_TILE 8    /* steps per transposed tile */

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---------- plain C, auto-vectorised ---------- */
void w1_orbits_portable(int64_t n, const double *r, double x0, int64_t transient, int64_t record, double *out)
{
    for (int64_t first = 0; first < n; first += W1_LANES) {
        const int64_t m = imin(W1_LANES, n - first);
        double x[W1_LANES], rr[W1_LANES], tile[W1_TILE][W1_LANES];
        for (int j = 0; j < W1_LANES; ++j) {
            rr[j] = r[first + (j < m ? j : 0)]; /* padding lanes repeat orbit 0, never written */
            x[j] = x0;
        }
        for (int64_t s = 0; s < transient; ++s)
            for (int j = 0; j < W1_LANES; ++j) x[j] = rr[j] * x[j] * (1.0 - x[j]);
        double *o = out + first * record;
        int64_t s = 0;
        for (; s + W1_TILE <= record; s += W1_TILE) {
            for (int t = 0; t < W1_TILE; ++t)
                for (int j = 0; j < W1_LANES; ++j) {
                    x[j] = rr[j] * x[j] * (1.0 - x[j]);
                    tile[t][j] = x[j];
                }
            for (int64_t j = 0; j < m; ++j)
                for (int t = 0; t < W1_TILE; ++t) o[j * record + s + t] = tile[t][j];
        }
        for (; s < record; ++s) {
            for (int j = 0; j < W1_LANES; ++j) x[j] = rr[j] * x[j] * (1.0 - x[j]);
            for (int64_t j = 0; j < m; ++j) o[j * record + s] = x[j];
        }
    }
}

#if defined(__AVX512F__)
/* ---------- AVX-512: register tiles transposed 8 x 8 ---------- */
#include <immintrin.h>
#define W1_NV (W1_LANES / 8)

/* In: r[k] = step k of lanes 0..7. Out: r[j] = steps 0..7 of lane j. */
static inline void transpose8(__m512d r[8])
{
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
}

static inline __m512d logistic_step(__m512d r, __m512d x, __m512d one)
{
    return _mm512_mul_pd(_mm512_mul_pd(r, x), _mm512_sub_pd(one, x));
}

void w1_orbits(int64_t n, const double *r, double x0, int64_t transient, int64_t record, double *out)
{
    const __m512d one = _mm512_set1_pd(1.0);
    for (int64_t first = 0; first < n; first += W1_LANES) {
        const int64_t m = imin(W1_LANES, n - first);
        double rb[W1_LANES];
        for (int j = 0; j < W1_LANES; ++j) rb[j] = r[first + (j < m ? j : 0)];
        __m512d x[W1_NV], rr[W1_NV];
        for (int i = 0; i < W1_NV; ++i) {
            rr[i] = _mm512_loadu_pd(rb + 8 * i);
            x[i] = _mm512_set1_pd(x0);
        }
        for (int64_t s = 0; s < transient; ++s)
            for (int i = 0; i < W1_NV; ++i) x[i] = logistic_step(rr[i], x[i], one);
        double *o = out + first * record;
        int64_t s = 0;
        for (; s + 8 <= record; s += 8) {
            __m512d tile[W1_NV][8];
            for (int k = 0; k < 8; ++k)
                for (int i = 0; i < W1_NV; ++i) {
                    x[i] = logistic_step(rr[i], x[i], one);
                    tile[i][k] = x[i];
                }
            for (int i = 0; i < W1_NV; ++i) {
                transpose8(tile[i]);
                for (int k = 0; k < 8; ++k)
                    if (8 * i + k < m) _mm512_storeu_pd(o + (8 * i + k) * record + s, tile[i][k]);
            }
        }
        for (; s < record; ++s) {
            double xb[W1_LANES];
            for (int i = 0; i < W1_NV; ++i) {
                x[i] = logistic_step(rr[i], x[i], one);
                _mm512_storeu_pd(xb + 8 * i, x[i]);
            }
            for (int64_t j = 0; j < m; ++j) o[j * record + s] = xb[j];
        }
    }
}

const char *w1_variant(void) { return "AVX-512 intrinsics, 16 lanes, 8x8 register transpose"; }
#else
void w1_orbits(int64_t n, const double *r, double x0, int64_t transient, int64_t record, double *out)
{
    w1_orbits_portable(n, r, x0, transient, record, out);
}

const char *w1_variant(void) { return "portable C, 16 lanes, 8-step tiles"; }
#endif
