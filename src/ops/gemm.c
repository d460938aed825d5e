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

/* OpenBLAS 0.3.21 (Debian 12's) predates some CPUs: on AMD Zen 4 it runs its
 * AVX2 kernels ("Haswell") although the CPU has AVX-512, and on Intel CPUs
 * newer than it knows (Sapphire Rapids) it falls back to its SSE3 kernels
 * ("Prescott"), several times slower. Where the library was built with
 * every kernel (DYNAMIC_ARCH: the re-selection entry points exist) and the
 * user has not chosen (OPENBLAS_CORETYPE unset), pick by what the CPU
 * supports: the AVX-512 kernels ("SkylakeX") where it has the subsets they
 * use, else the AVX2 ones ("Haswell") where it has AVX2 and FMA. */
extern char *openblas_get_corename(void);
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

/* Kernel sets OpenBLAS falls back to, or picks for CPUs it half knows. */
static int fallback_core(const char *core)
{
    static const char *const names[] = {"Haswell", "Zen", "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                        "Sandybridge", "Katmai", "Coppermine", "Northwood", "Banias", NULL};
    for (int i = 0; names[i]; i++)
        if (!strcmp(core, names[i])) return 1;
    return 0;
}

const char *dt_blas_init(void)
{
    const char *core = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return core;
    if (!fallback_core(core)) return core;
    __builtin_cpu_init();
    const char *want = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512cd"))
        want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "Haswell";
    if (!want || !strcmp(core, want)) return core;
    setenv("OPENBLAS_CORETYPE", want, 1); /* read by the re-selection */
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
