/* synth.c — small 2-D data sets drawn from numpy's legacy generator, in
 * the same order as the course code and scikit-learn draw them, so a seed
 * gives the same points as they do:
 *   planar   the course's load_planar_dataset (a flower of 2 classes)
 *   moons    sklearn.datasets.make_moons (shuffled, gaussian noise)
 *   circles  sklearn.datasets.make_circles (factor 0.8)
 *   blobs    sklearn.datasets.make_blobs (centres uniform in [-10, 10]^2, std = noise)
 *   random_images  pixels rand(n, H, W, C), then labels randint(classes, size=n): noise
 *            with a given shape and class count, to run image models without their data
 * All arithmetic is in double and rounded to dt_real at the end. Labels
 * and draw order match exactly; values match to the last bits only, since
 * numpy's vectorised sin/cos (AVX-512 builds) and libm's may differ by an ulp. */
#include "data/loaders.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.141592653589793

/* numpy.linspace: i * step + start, and the last point exactly `stop`. */
static double linspace_at(double start, double stop, int64_t num, int endpoint, int64_t i)
{
    int64_t div = endpoint ? num - 1 : num;
    if (div <= 0) return start;
    if (endpoint && i == num - 1) return stop;
    return (double)i * ((stop - start) / (double)div) + start;
}

typedef struct {
    double *x; /* [n, 2] */
    int32_t *y;
    int64_t n;
} pts;

static int planar(dt_rng *r, pts *p, double noise)
{
    const int64_t N = p->n / 2;
    double *t = malloc((size_t)(N > 0 ? N : 1) * sizeof *t);
    if (!t) return 0;
    for (int j = 0; j < 2; j++) {
        /* randn(N) for t is drawn whole before randn(N) for the radius. */
        for (int64_t i = 0; i < N; i++)
            t[i] = linspace_at(j * 3.12, (j + 1) * 3.12, N, 1, i) + dt_rng_randn(r) * noise;
        for (int64_t i = 0; i < N; i++) {
            double rad = 4.0 * sin(4.0 * t[i]) + dt_rng_randn(r) * noise;
            int64_t k = N * j + i;
            p->x[2 * k] = rad * sin(t[i]);
            p->x[2 * k + 1] = rad * cos(t[i]);
            p->y[k] = j;
        }
    }
    free(t);
    return 1;
}

/* sklearn's shuffle is RandomState.shuffle(arange(n)), i.e. permutation(n). */
static int shuffle(dt_rng *r, pts *p)
{
    int64_t *perm = malloc((size_t)p->n * sizeof *perm);
    double *x = malloc((size_t)p->n * 2 * sizeof *x);
    int32_t *y = malloc((size_t)p->n * sizeof *y);
    int ok = perm && x && y;
    if (ok) {
        dt_rng_permutation(r, perm, p->n);
        for (int64_t i = 0; i < p->n; i++) {
            x[2 * i] = p->x[2 * perm[i]];
            x[2 * i + 1] = p->x[2 * perm[i] + 1];
            y[i] = p->y[perm[i]];
        }
        for (int64_t i = 0; i < p->n; i++) {
            p->x[2 * i] = x[2 * i];
            p->x[2 * i + 1] = x[2 * i + 1];
            p->y[i] = y[i];
        }
    }
    free(perm);
    free(x);
    free(y);
    return ok;
}

/* X += normal(scale=noise, size=X.shape), row-major like numpy. */
static void add_noise(dt_rng *r, pts *p, double noise)
{
    for (int64_t i = 0; i < 2 * p->n; i++) p->x[i] += noise * dt_rng_randn(r);
}

/* moons and circles: the first n // 2 points are class 0, the rest class 1. */
static int two_curves(dt_rng *r, pts *p, double noise, int circles)
{
    const int64_t no = p->n / 2, ni = p->n - no;
    for (int64_t i = 0; i < p->n; i++) {
        int inner = i >= no;
        int64_t k = inner ? i - no : i, m = inner ? ni : no;
        double a, b;
        if (circles) {
            double t = linspace_at(0.0, 2 * PI, m, 0, k), f = inner ? 0.8 : 1.0;
            a = cos(t) * f;
            b = sin(t) * f;
        } else {
            double t = linspace_at(0.0, PI, m, 1, k);
            a = inner ? 1 - cos(t) : cos(t);
            b = inner ? 1 - sin(t) - .5 : sin(t);
        }
        p->x[2 * i] = a;
        p->x[2 * i + 1] = b;
        p->y[i] = inner;
    }
    if (!shuffle(r, p)) return 0;
    add_noise(r, p, noise);
    return 1;
}

/* n // k points per centre (the first n % k centres get one more), drawn
 * centre by centre, then shuffled. */
static int blobs(dt_rng *r, pts *p, const double *centres, int k, double std)
{
    int64_t at = 0;
    for (int c = 0; c < k; c++) {
        int64_t m = p->n / k + (c < p->n % k);
        for (int64_t i = 0; i < m; i++, at++) {
            p->x[2 * at] = centres[2 * c] + std * dt_rng_randn(r);
            p->x[2 * at + 1] = centres[2 * c + 1] + std * dt_rng_randn(r);
            p->y[at] = c;
        }
    }
    return shuffle(r, p);
}

static dt_status draw(const dt_gen_params *g, dt_rng *r, const double *centres, int64_t n,
                      dt_dataset *d)
{
    DT_TRY(dt_data_alloc_rows(d, n, 2, "generator"));
    d->ndim = 1;
    d->dims[0] = 2;
    pts p = {malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof(double)), d->y, n};
    int ok = p.x != NULL;
    if (ok && n > 0) {
        switch (g->kind) {
        case DT_GEN_PLANAR: ok = planar(r, &p, g->noise); break;
        case DT_GEN_MOONS: ok = two_curves(r, &p, g->noise, 0); break;
        case DT_GEN_CIRCLES: ok = two_curves(r, &p, g->noise, 1); break;
        case DT_GEN_BLOBS: ok = blobs(r, &p, centres, g->classes, g->noise); break;
        case DT_GEN_RANDOM_IMAGES: break; /* images() draws these */
        }
    }
    if (ok)
        for (int64_t i = 0; i < 2 * n; i++) d->x[i] = (dt_real)p.x[i];
    free(p.x);
    return ok ? DT_OK
              : dt_error(DT_ERR_NOMEM, "out of memory generating %lld points", (long long)n);
}

/* n rows of uniform pixels, H, W, C order as image files give them. */
static dt_status images(const dt_gen_params *g, dt_rng *r, int64_t n, dt_dataset *d)
{
    int64_t f = 1;
    for (int i = 0; i < g->ndim; i++) f *= g->dims[i];
    DT_TRY(dt_data_alloc_rows(d, n, f, "random_images"));
    d->ndim = g->ndim;
    memcpy(d->dims, g->dims, (size_t)g->ndim * sizeof *g->dims);
    for (int64_t i = 0; i < n * f; i++) d->x[i] = (dt_real)dt_rng_double(r);
    for (int64_t i = 0; i < n; i++) d->y[i] = (int32_t)dt_rng_interval(r, (uint64_t)g->classes - 1);
    return DT_OK;
}

dt_status dt_synth_make(const dt_gen_params *g, dt_dataset *train, dt_dataset *test)
{
    if (g->kind == DT_GEN_PLANAR && (g->n % 2 || g->test_n % 2))
        return dt_error(DT_ERR_CONFIG,
                        "planar: n = %lld, test_n = %lld: expected even counts (two petals' worth)",
                        (long long)g->n, (long long)g->test_n);
    dt_rng r;
    dt_rng_seed(&r, g->seed);
    if (g->kind == DT_GEN_RANDOM_IMAGES) {
        DT_TRY(images(g, &r, g->n, train));
        return images(g, &r, g->test_n, test);
    }
    double *centres = NULL;
    if (g->kind == DT_GEN_BLOBS) {
        centres = malloc((size_t)g->classes * 2 * sizeof *centres);
        if (!centres) return dt_error(DT_ERR_NOMEM, "out of memory");
        /* uniform(-10, 10, size=(k, 2)) */
        for (int i = 0; i < 2 * g->classes; i++) centres[i] = -10.0 + 20.0 * dt_rng_double(&r);
    }
    dt_status s = draw(g, &r, centres, g->n, train);
    if (!s) s = draw(g, &r, centres, g->test_n, test);
    free(centres);
    return s;
}
