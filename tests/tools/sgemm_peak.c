/* sgemm_peak.c — single-thread OpenBLAS sgemm throughput, the yardstick that
 * launch/bench.sh divides dtrain's achieved GFLOP/s by.
 *
 * usage: sgemm_peak [BATCH [MODEL...]]
 *   BATCH: rows per rank of the training step, default 64
 *   MODEL: mlp (the default) and/or cnn
 *
 * Prints the rate for large square products (the practical peak of this core
 * and BLAS), then for each MODEL the rate of the exact sequence of products
 * that one training step issues in dtrain (same shapes, transposes and leading
 * dimensions as src/nn/dense.c and src/nn/conv2d.c), which is the realistic
 * ceiling for a step at that batch size if nothing but the products cost:
 *   mlp  the 784-256-128-10 MLP of configs/fmnist_mlp.ini
 *   cnn  the CNN of configs/fmnist_cnn.ini (per-example im2col products for
 *        the convolutions), with each product's share of the time
 * Last line: "sgemm peak: X GFLOP/s". */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* One product of a training step, C[m×n] = op(A)·op(B) + beta·C, row-major
 * with packed leading dimensions. per_example: issued once per example (a
 * convolution's im2col gemm), else once per batch; then the operands marked
 * in `walk` (bit 0: A, 1: B, 2: C) move on by their size per example, like
 * the activations and their gradients, while the weights and the column
 * buffer stay put. */
typedef struct {
    const char *what;
    int ta, tb, m, n, k;
    float beta;
    int per_example, walk;
} product;

enum { WA = 1, WB = 2, WC = 4 };

/* The CNN's step, in dtrain's order. conv: F filters, K = C·3·3, P = OH·OW.
 *   forward  z[F×P] = W[F×K] · col[K×P]         gemm(N,N, F,P,K) per example
 *   weights  dW[F×K] += dz[F×P] · colᵀ          gemm(N,T, F,K,P) per example
 *   input    dcol[K×P] = Wᵀ · dz[F×P]           gemm(T,N, K,P,F) per example, not for conv1
 * Dense layers as in mlp_step; N_ stands for the batch. */
#define N_ 0
static const product cnn_products[] = {
    {"conv1 fwd", 0, 0, 32, 784, 9, 0, 1, WC},
    {"conv2 fwd", 0, 0, 64, 196, 288, 0, 1, WC},
    {"fc fwd", 0, 1, N_, 128, 3136, 0, 0, 0},
    {"out fwd", 0, 1, N_, 10, 128, 0, 0, 0},
    {"out dW", 1, 0, 10, 128, N_, 1, 0, 0},
    {"out dX", 0, 0, N_, 128, 10, 0, 0, 0},
    {"fc dW", 1, 0, 128, 3136, N_, 1, 0, 0},
    {"fc dX", 0, 0, N_, 3136, 128, 0, 0, 0},
    {"conv2 dW", 0, 1, 64, 288, 196, 1, 1, WA},
    {"conv2 dcol", 1, 0, 288, 196, 64, 0, 1, WB},
    {"conv1 dW", 0, 1, 32, 9, 784, 1, 1, WA},
};
#define NP (int)(sizeof cnn_products / sizeof cnn_products[0])

/* Best GFLOP/s of the CNN step's products over `chunks` timed runs of `iters`
 * steps; share[i]: product i's fraction of the step's time in the best run. */
static double cnn_step(int batch, int iters, int chunks, double *flops_per_step, double share[NP])
{
    product p[NP];
    float *a[NP], *b[NP], *c[NP];
    double f = 0;
    for (int i = 0; i < NP; i++) {
        p[i] = cnn_products[i];
        if (p[i].m == N_) p[i].m = batch;
        if (p[i].n == N_) p[i].n = batch;
        if (p[i].k == N_) p[i].k = batch;
        size_t e = p[i].per_example ? (size_t)batch : 1;
        a[i] = rand_matrix((size_t)p[i].m * p[i].k * (p[i].walk & WA ? e : 1));
        b[i] = rand_matrix((size_t)p[i].k * p[i].n * (p[i].walk & WB ? e : 1));
        c[i] = rand_matrix((size_t)p[i].m * p[i].n * (p[i].walk & WC ? e : 1));
        f += 2.0 * p[i].m * p[i].n * p[i].k * (double)e;
    }
    *flops_per_step = f;

    double best = 0;
    for (int ch = 0; ch <= chunks; ch++) {
        double t_prod[NP] = {0}, total = 0;
        for (int it = 0; it < iters; it++)
            for (int i = 0; i < NP; i++) {
                const product *q = &p[i];
                int e = q->per_example ? batch : 1;
                size_t sa = (size_t)q->m * q->k, sb = (size_t)q->k * q->n, sc = (size_t)q->m * q->n;
                double t = now();
                for (int x = 0; x < e; x++)
                    cblas_sgemm(CblasRowMajor, q->ta ? CblasTrans : CblasNoTrans, q->tb ? CblasTrans : CblasNoTrans,
                                q->m, q->n, q->k, 1, a[i] + (q->walk & WA ? x * sa : 0), q->ta ? q->m : q->k,
                                b[i] + (q->walk & WB ? x * sb : 0), q->tb ? q->k : q->n, q->beta,
                                c[i] + (q->walk & WC ? x * sc : 0), q->n);
                t_prod[i] += now() - t;
            }
        for (int i = 0; i < NP; i++) total += t_prod[i];
        double gf = f * iters / total * 1e-9;
        if (ch > 0 && gf > best) { /* chunk 0 warms the caches */
            best = gf;
            for (int i = 0; i < NP; i++) share[i] = t_prod[i] / total;
        }
    }
    for (int i = 0; i < NP; i++) {
        free(a[i]);
        free(b[i]);
        free(c[i]);
    }
    return best;
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 64;
    int mlp = argc <= 2, cnn = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "mlp"))
            mlp = 1;
        else if (!strcmp(argv[i], "cnn"))
            cnn = 1;
        else
            batch = 0;
    }
    if (batch < 1) {
        fprintf(stderr, "usage: sgemm_peak [BATCH [mlp|cnn ...]]\n");
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
    if (mlp) {
        double gf = mlp_step(batch, 300, 5, &fstep);
        printf("sgemm MLP step products (batch %d, %.0f FLOP per example): %.1f GFLOP/s, %.0f examples/s\n", batch,
               fstep / batch, gf, gf * 1e9 / fstep * batch);
    }
    if (cnn) {
        double share[NP];
        double gf = cnn_step(batch, 20, 5, &fstep, share);
        printf("sgemm CNN step products (batch %d, %.0f FLOP per example): %.1f GFLOP/s, %.0f examples/s\n", batch,
               fstep / batch, gf, gf * 1e9 / fstep * batch);
        printf("    share of that time:");
        for (int i = 0; i < NP; i++) printf("%s %s %.0f %%", i ? "," : "", cnn_products[i].what, 100 * share[i]);
        printf("\n");
    }
    printf("sgemm peak: %.1f GFLOP/s\n", peak);
    return 0;
}
