/* sgemm_peak.c — single-thread OpenBLAS sgemm throughput, the yardstick that
 * launch/bench.sh divides dtrain's achieved GFLOP/s by.
 *
 * usage: sgemm_peak [BATCH]   (BATCH: rows per rank of the MLP step, default 64)
 *
 * Prints the rate for large square products (the practical peak of this core
 * and BLAS), then the rate of the exact sequence of products that one training
 * step of the 784-256-128-10 MLP issues in dtrain (same shapes, transposes and
 * leading dimensions as src/nn/dense.c), which is the realistic ceiling for a
 * step at that batch size. Last line: "sgemm peak: X GFLOP/s". */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *rand_matrix(size_t n)
{
    float *m = malloc(n * sizeof *m);
    if (!m) {
        fprintf(stderr, "sgemm_peak: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) m[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return m;
}

/* Best rate of C = A·B for n×n matrices over `reps` timed calls (one untimed first). */
static double square(int n, int reps)
{
    size_t nn = (size_t)n * (size_t)n;
    float *a = rand_matrix(nn), *b = rand_matrix(nn), *c = rand_matrix(nn);
    double best = 0;
    for (int r = 0; r <= reps; r++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = now() - t;
        double gf = 2.0 * n * n * (double)n / t * 1e-9;
        if (r > 0 && gf > best) best = gf;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

#define NL 3
static const int dims[NL + 1] = {784, 256, 128, 10};

/* One MLP step's products, as dense.c issues them (row-major, batch rows):
 *   forward  Z[n×out]   = X[n×in] · Wᵀ          gemm(N,T, n,out,in)
 *   weights  dW[out×in] += dZᵀ[out×n] · X[n×in]  gemm(T,N, out,in,n)
 *   input    dX[n×in]   = dZ[n×out] · W         gemm(N,N, n,in,out), not for layer 1
 * Returns the best GFLOP/s over `chunks` timed runs of `iters` steps. */
static double mlp_step(int n, int iters, int chunks, double *flops_per_step)
{
    float *w[NL], *g[NL], *act[NL + 1], *dact[NL + 1];
    for (int l = 0; l <= NL; l++) {
        act[l] = rand_matrix((size_t)n * dims[l]);
        dact[l] = rand_matrix((size_t)n * dims[l]);
    }
    for (int l = 0; l < NL; l++) {
        w[l] = rand_matrix((size_t)dims[l] * dims[l + 1]);
        g[l] = rand_matrix((size_t)dims[l] * dims[l + 1]);
    }
    double f = 0;
    for (int l = 0; l < NL; l++) f += 2.0 * n * dims[l] * dims[l + 1] * (l == 0 ? 2 : 3);
    *flops_per_step = f;

    double best = 0;
    for (int c = 0; c <= chunks; c++) {
        double t = now();
        for (int it = 0; it < iters; it++) {
            for (int l = 0; l < NL; l++) {
                int in = dims[l], out = dims[l + 1];
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1, act[l], in, w[l], in, 0,
                            act[l + 1], out);
            }
            for (int l = NL - 1; l >= 0; l--) {
                int in = dims[l], out = dims[l + 1];
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1, dact[l + 1], out, act[l], in,
                            1, g[l], in);
                if (l > 0)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1, dact[l + 1], out, w[l],
                                in, 0, dact[l], in);
            }
        }
        t = now() - t;
        double gf = f * iters / t * 1e-9;
        if (c > 0 && gf > best) best = gf; /* chunk 0 warms the caches */
    }
    for (int l = 0; l <= NL; l++) {
        free(act[l]);
        free(dact[l]);
    }
    for (int l = 0; l < NL; l++) {
        free(w[l]);
        free(g[l]);
    }
    return best;
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 64;
    if (batch < 1) {
        fprintf(stderr, "usage: sgemm_peak [BATCH]\n");
        return 2;
    }
    openblas_set_num_threads(1); /* the yardstick is one core, like one dtrain rank */
    srand(1);
    double peak = 0;
    const int sizes[] = {1024, 2048};
    for (int i = 0; i < 2; i++) {
        double gf = square(sizes[i], sizes[i] > 1024 ? 3 : 5);
        printf("sgemm %dx%dx%d: %.1f GFLOP/s\n", sizes[i], sizes[i], sizes[i], gf);
        if (gf > peak) peak = gf;
    }
    double fstep;
    double gf = mlp_step(batch, 300, 5, &fstep);
    printf("sgemm MLP step products (batch %d, %.0f FLOP per example): %.1f GFLOP/s, %.0f examples/s\n", batch,
           fstep / batch, gf, gf * 1e9 / fstep * batch);
    printf("sgemm peak: %.1f GFLOP/s\n", peak);
    return 0;
}
