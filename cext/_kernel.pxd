# The C-level contract between the drivers and the code generated for a system
# (dsanalyze/numeric/codegen.py). Every driver speaks only these signatures;
# Python hands the function addresses over as integers (Kernel.addresses).
from libc.stdint cimport int64_t, uintptr_t

ctypedef void (*rhs_fn)(const double *x, const double *p, double *out) noexcept nogil
ctypedef void (*jac_fn)(const double *x, const double *p, double *out) noexcept nogil
ctypedef int64_t (*map_block_fn)(int64_t m, double *x, const double *p, int64_t pstride, int64_t steps,
                                 double escape, int64_t *esc, double *rec,
                                 int64_t rec_start, int64_t rec_stride) noexcept nogil
ctypedef int64_t (*tangent_fn)(double *x, const double *p, double *v, int64_t steps, double escape,
                               int64_t *v_exp, double *det, int64_t *det_exp, int *status) noexcept nogil
