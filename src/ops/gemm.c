/* gemm.c — every matrix product in dtrain goes through here, so precision
 * (float/double) and the BLAS are chosen in one place. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* OpenBLAS 0.3.21 (Debian 12's) predates AMD Zen 4: on such a CPU it runs
 * its AVX2 kernels ("Haswell") although the CPU has AVX-512, and sgemm is
 * about 45 % slower than with its AVX-512 ("SkylakeX") kernels. Where the
 * library was built with every kernel (DYNAMIC_ARCH: the re-selection
 * entry points exist), the user has not chosen (OPENBLAS_CORETYPE unset)
 * and the CPU has the AVX-512 subsets those kernels use, choose them. */
extern char *openblas_get_corename(void);
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

const char *dt_blas_init(void)
{
    const char *core = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return core;
    if (strcmp(core, "Haswell") && strcmp(core, "Zen")) return core;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl") ||
        !__builtin_cpu_supports("avx512cd"))
        return core;
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1); /* read by the re-selection */
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    return openblas_get_corename();
}

const char *dt_blas_name(void)
{
    static char name[64];
    snprintf(name, sizeof name, "OpenBLAS %s kernels", openblas_get_corename());
    return name;
}
