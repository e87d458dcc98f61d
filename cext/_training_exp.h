/* exp(x) for x <= 0 as a branch-free inline function, so that gcc vectorises the loops that call it.
 *
 * x = k ln 2 + r with k = round(x / ln 2) (found by adding 1.5 * 2^52, which also puts k in the low bits),
 * |r| <= ln(2)/2, ln 2 split in a high part with trailing zeros (k * LN2_HI is exact) and a low part;
 * e^r by its Taylor polynomial of degree 13 (truncation below 1e-17 relative), then times 2^k built in the
 * exponent bits. Relative error a few units in the last place. Inputs below -708 are clamped to -708
 * (e^-708 = 3.3e-308; the callers only add such values to numbers of order 1).
 */
#ifndef DSANALYZE_TRAINING_EXP_H
#define DSANALYZE_TRAINING_EXP_H
#include <stdint.h>
#include <string.h>
#include <math.h>

/* Floating-point exceptions are never read here: without trapping math gcc may if-convert the selects
 * below and vectorise the loops (it would not otherwise). */
#if defined(__GNUC__) && !defined(__clang__)
#define DS_NO_TRAPS __attribute__((optimize("no-trapping-math")))
#else
#define DS_NO_TRAPS
#endif

static inline __attribute__((always_inline)) double ds_exp_nonpositive(double x)
{
    const double shifter = 6755399441055744.0;          /* 1.5 * 2^52 */
    const double log2e = 1.4426950408889634074;
    const double ln2_hi = 6.93147180369123816490e-01;    /* 0x3FE62E42FEE00000 */
    const double ln2_lo = 1.90821492927058770002e-10;
    double t, kd, r, p, scale;
    uint64_t bits;
    x = x < -708.0 ? -708.0 : x;
    t = x * log2e + shifter;
    kd = t - shifter;
    r = (x - kd * ln2_hi) - kd * ln2_lo;
    p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52;                         /* the low bits of t hold k */
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* The loops that call exp come in two builds, one for x86-64-v3 (AVX2 + FMA: four lanes) and a portable
 * one, chosen when the module loads (gcc function multiversioning). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DS_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DS_CLONES
#endif

/* a = sigma(z), d1 = sigma'(z), d2 = sigma''(z) over n values (restrict: the arrays do not overlap). */
static DS_CLONES DS_NO_TRAPS void ds_sigmoid_block(const double *restrict z, double *restrict a, double *restrict d1,
                                            double *restrict d2, int64_t n)
{
    int64_t s;
    for (s = 0; s < n; s++) {
        double e = ds_exp_nonpositive(-fabs(z[s]));    /* e^{-|z|} <= 1 never overflows */
        double num = z[s] >= 0.0 ? 1.0 : e;             /* sigma(z) = 1/(1+e) for z >= 0, e/(1+e) below */
        double v = num / (1.0 + e);
        a[s] = v;
        d1[s] = v * (1.0 - v);
        d2[s] = v * (1.0 - v) * (1.0 - 2.0 * v);
    }
}

/* a = tanh(z), d1 = 1 - a^2, d2 = -2 a (1 - a^2) over n values, branch-free (both branches computed, one kept).
 * |z| >= 0.55: e = exp(-2|z|) <= 0.34, tanh|z| = (1 - e)/(1 + e) and 1 - a^2 = 4e/(1 + e)^2, no cancellation.
 * |z| < 0.55: u = expm1(-2|z|) by its Taylor series in y = -2|z| (|y| < 1.1, degree 20: truncation below
 * 3e-18 relative), tanh|z| = -u/(2 + u), no cancellation either. */
static DS_CLONES DS_NO_TRAPS void ds_tanh_block(const double *restrict z, double *restrict a, double *restrict d1,
                                                double *restrict d2, int64_t n)
{
    int64_t s;
    for (s = 0; s < n; s++) {
        double x = z[s], ax = fabs(x);
        double e = ds_exp_nonpositive(-2.0 * ax);
        double big = (1.0 - e) / (1.0 + e);
        double big_d1 = 4.0 * e / ((1.0 + e) * (1.0 + e));
        double y = -2.0 * (ax < 0.55 ? ax : 0.0);
        double q = 1.0 / 51090942171709440000.0;             /* 1/21! */
        q = q * y + 1.0 / 2432902008176640000.0;
        q = q * y + 1.0 / 121645100408832000.0;
        q = q * y + 1.0 / 6402373705728000.0;
        q = q * y + 1.0 / 355687428096000.0;
        q = q * y + 1.0 / 20922789888000.0;
        q = q * y + 1.0 / 1307674368000.0;
        q = q * y + 1.0 / 87178291200.0;
        q = q * y + 1.0 / 6227020800.0;
        q = q * y + 1.0 / 479001600.0;
        q = q * y + 1.0 / 39916800.0;
        q = q * y + 1.0 / 3628800.0;
        q = q * y + 1.0 / 362880.0;
        q = q * y + 1.0 / 40320.0;
        q = q * y + 1.0 / 5040.0;
        q = q * y + 1.0 / 720.0;
        q = q * y + 1.0 / 120.0;
        q = q * y + 1.0 / 24.0;
        q = q * y + 1.0 / 6.0;
        q = q * y + 0.5;
        q = q * y + 1.0;                                     /* expm1(y) / y */
        double u = y * q;
        double small = -u / (2.0 + u);
        double t = ax < 0.55 ? small : big;
        double t_d1 = ax < 0.55 ? 1.0 - small * small : big_d1;
        double v = x < 0.0 ? -t : t;
        a[s] = v;
        d1[s] = t_d1;
        d2[s] = -2.0 * v * t_d1;
    }
}

/* Softmax cross-entropy of nb samples: z and p are (nout x nb) rows, y rows of stride ystride.
 * Fills p (the probabilities), sy (sum of each sample's targets); m and t are scratch (nb).
 * Returns the summed loss  sum_s [ sy_s logsumexp(z_s) - y_s . z_s ]. */
static DS_CLONES DS_NO_TRAPS double ds_softmax_block(const double *restrict z, const double *restrict y, int64_t ystride,
                                              double *restrict p, double *restrict sy, double *restrict m,
                                              double *restrict t, int64_t nout, int64_t nb)
{
    int64_t i, s;
    double total = 0.0;
    for (s = 0; s < nb; s++) {
        m[s] = z[s];
        t[s] = 0.0;
        sy[s] = 0.0;
    }
    for (i = 1; i < nout; i++)
        for (s = 0; s < nb; s++)
            m[s] = z[i * nb + s] > m[s] ? z[i * nb + s] : m[s];
    for (i = 0; i < nout; i++)
        for (s = 0; s < nb; s++) {
            double e = ds_exp_nonpositive(z[i * nb + s] - m[s]);
            p[i * nb + s] = e;
            t[s] += e;
            sy[s] += y[i * ystride + s];
        }
    for (i = 0; i < nout; i++)
        for (s = 0; s < nb; s++)
            total -= y[i * ystride + s] * (z[i * nb + s] - m[s]);
    for (s = 0; s < nb; s++) {
        total += sy[s] * log(t[s]);
        t[s] = 1.0 / t[s];
    }
    for (i = 0; i < nout; i++)
        for (s = 0; s < nb; s++)
            p[i * nb + s] *= t[s];
    return total;
}

#endif
