/* W2 and W3 reference: Lyapunov exponents of the Henon map
 *
 *     x' = 1 - a x^2 + y,    y' = b x          (a = 1.4, b = 0.3)
 *
 * with Jacobian J(x) = [[-2 a x, 1], [b, 0]] (det J = -b, so
 * lambda1 + lambda2 = ln b = ln 0.3 exactly).
 *
 * W2: the maximal exponent along one orbit, 10^7 steps after a transient, from
 *     one tangent vector v <- J(x) v.
 * W3: both exponents by the QR method (Benettin et al. 1980) on two tangent
 *     vectors, 10^6 steps after a transient.
 *
 * Build: gcc -O3 -march=native -fPIC -shared w23.c -o libw23.so  (single thread).
 *
 * Exported (called through ctypes by benchmarks/run.py):
 *     double w2_maximal(x0, y0, a, b, transient, steps)
 *     void   w3_spectrum(x0, y0, a, b, transient, steps, out[2])
 *     const char *w23_variant(void)
 *
 * How it is fast (one orbit is a serial dependency chain: it cannot be
 * vectorised across orbits, so the work is keeping the chain short):
 *  - Deferred logarithms. W2 never normalises by the Euclidean norm: every 16
 *    steps the tangent vector is rescaled by a power of two (frexp on its
 *    largest component; exact, no rounding), and the integer exponents are
 *    summed; the only logarithm is taken once at the end,
 *    lambda1 = (E ln 2 + ln |v_N|) / N. No sqrt, division or log on the
 *    per-step chain, and 16 steps of growth (|J| < 4 on the attractor) cannot
 *    overflow. The rescale is off the critical path of the state update.
 *  - W3 does modified Gram-Schmidt every 4 steps (the two vectors align at
 *    rate e^{(lambda1 - lambda2) 4} ~ 700, which costs about 3 of 16 digits in
 *    the orthogonalisation, well inside the checks); the diagonal entries r11,
 *    r22 are multiplied into two running products whose binary exponents are
 *    peeled off with frexp every QR, and the logarithms are taken once at the
 *    end. The sum lambda1 + lambda2 is then ln|det| of the product of the
 *    Jacobians, ln 0.3 to round-off.
 *  - Arithmetic is the formula as written; gcc contracts 1 - a x^2 + y and
 *    the tangent products into FMAs (-ffp-contract=fast, GNU C's default), as
 *    in dsanalyze's kernels.
 */
#include <math.h>
#include <stdint.h>

const char *w23_variant(void) {
    return "scalar C, power-of-two rescaling every 16 steps (W2), Gram-Schmidt every 4 steps (W3), "
           "logarithms deferred to the end";
}

static inline void henon(double *x, double *y, double a, double b) {
    double xn = 1.0 - a * (*x) * (*x) + (*y);
    *y = b * (*x);
    *x = xn;
}

double w2_maximal(double x0, double y0, double a, double b, int64_t transient, int64_t steps) {
    double x = x0, y = y0;
    for (int64_t i = 0; i < transient; i++) henon(&x, &y, a, b);
    double vx = 1.0, vy = 0.0;   /* fixed start; the transient of v is negligible over 10^7 steps */
    int64_t E = 0;               /* sum of the binary exponents peeled off */
    int64_t i = 0;
    while (i < steps) {
        int64_t block = steps - i < 16 ? steps - i : 16;
        for (int64_t j = 0; j < block; j++) {
            double nvx = -2.0 * a * x * vx + vy;   /* v <- J(x) v, at the current state */
            double nvy = b * vx;
            vx = nvx;
            vy = nvy;
            henon(&x, &y, a, b);
        }
        i += block;
        double m = fabs(vx) > fabs(vy) ? fabs(vx) : fabs(vy);
        int e;
        frexp(m, &e);
        vx = ldexp(vx, -e);   /* exact */
        vy = ldexp(vy, -e);
        E += e;
    }
    return ((double)E * M_LN2 + 0.5 * log(vx * vx + vy * vy)) / (double)steps;
}

void w3_spectrum(double x0, double y0, double a, double b, int64_t transient, int64_t steps, double *out) {
    double x = x0, y = y0;
    for (int64_t i = 0; i < transient; i++) henon(&x, &y, a, b);
    double ux = 1.0, uy = 0.0, wx = 0.0, wy = 1.0;   /* the two tangent vectors */
    double p1 = 1.0, p2 = 1.0;                       /* running products of r11, r22 (mantissas) */
    int64_t e1 = 0, e2 = 0;                          /* their binary exponents */
    int64_t i = 0;
    while (i < steps) {
        int64_t block = steps - i < 4 ? steps - i : 4;
        for (int64_t j = 0; j < block; j++) {
            double c = -2.0 * a * x;
            double nux = c * ux + uy, nuy = b * ux;
            double nwx = c * wx + wy, nwy = b * wx;
            ux = nux; uy = nuy; wx = nwx; wy = nwy;
            henon(&x, &y, a, b);
        }
        i += block;
        /* modified Gram-Schmidt: u = r11 q1, w = r12 q1 + r22 q2 */
        double r11 = sqrt(ux * ux + uy * uy);
        double inv = 1.0 / r11;
        ux *= inv; uy *= inv;
        double r12 = ux * wx + uy * wy;
        wx -= r12 * ux; wy -= r12 * uy;
        double r22 = sqrt(wx * wx + wy * wy);
        inv = 1.0 / r22;
        wx *= inv; wy *= inv;
        int e;
        p1 = frexp(p1 * r11, &e); e1 += e;
        p2 = frexp(p2 * r22, &e); e2 += e;
    }
    out[0] = ((double)e1 * M_LN2 + log(p1)) / (double)steps;
    out[1] = ((double)e2 * M_LN2 + log(p2)) / (double)steps;
}
