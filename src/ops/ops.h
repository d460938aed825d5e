/* ops.h — numeric kernels over flat arrays: the one gemm wrapper, a sum,
 * and the element-wise activations. Row-major throughout. */
#ifndef DT_OPS_H
#define DT_OPS_H

#include "core/core.h"

/* C[m,n] = alpha * op(A)[m,k] · op(B)[k,n] + beta * C, op = transpose when ta/tb. */
/* Call once, before any other BLAS use: picks OpenBLAS's AVX-512 kernels on
 * CPUs its version does not recognise (see gemm.c); returns the kernel set's name. */
const char *dt_blas_init(void);
/* "OpenBLAS SkylakeX kernels" and the like, for the record of a run. */
const char *dt_blas_name(void);

void dt_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, dt_real alpha, const dt_real *a,
             int64_t lda, const dt_real *b, int64_t ldb, dt_real beta, dt_real *c, int64_t ldc);

/* Σ v[0..n) in 16 independent lanes, so it vectorises without -ffast-math
 * (the order of the additions is fixed: results are reproducible). */
dt_real dt_sum(const dt_real *v, int64_t n);

typedef enum {
    DT_ACT_LINEAR = 0,
    DT_ACT_SIGMOID,
    DT_ACT_TANH,
    DT_ACT_RELU,
    DT_ACT_LEAKY_RELU,
    DT_ACT_SOFTMAX /* over the last dimension of [rows, cols] */
} dt_act;

extern const char *const dt_act_names[]; /* NULL-terminated, indexed by dt_act */

/* y = f(z) over rows × cols (softmax needs the row structure). y may equal z. */
void dt_act_forward(dt_act f, const dt_real *z, dt_real *y, int64_t rows, int64_t cols,
                    dt_real alpha);
/* dz = dy ⊙ f'(z), with y = f(z) given too (cheaper for sigmoid and tanh).
 * dz may equal dy. Softmax's Jacobian is applied row by row. */
void dt_act_backward(dt_act f, const dt_real *z, const dt_real *y, const dt_real *dy, dt_real *dz,
                     int64_t rows, int64_t cols, dt_real alpha);

#endif
