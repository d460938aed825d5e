/* gemm.c — every matrix product in dtrain goes through here, so precision
 * (float/double) and the BLAS are chosen in one place. */
#include <cblas.h>

#include "ops/ops.h"

void dt_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, dt_real alpha, const dt_real *a,
             int64_t lda, const dt_real *b, int64_t ldb, dt_real beta, dt_real *c, int64_t ldc)
{
    if (m == 0 || n == 0) return;
#ifdef DTRAIN_DOUBLE
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
#else
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
#endif
}
