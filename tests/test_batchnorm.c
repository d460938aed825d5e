/* test_batchnorm.c — batch normalisation: finite-difference gradients (dense
 * and image inputs, whole batch and groups), forward values and running
 * statistics against direct formulas, evaluation mode, groups equal to
 * separate batches (what 2 ranks compute), synchronised statistics through
 * a fake allreduce, and configuration errors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "net_check.h"

/* ---- helpers ---------------------------------------------------------- */

static dt_net *build(const char *text, int64_t maxn)
{
    dt_ini *m;
    dt_net *net;
    ck_assert_msg(dt_ini_parse("m.ini", text, &m) == DT_OK, "%s", dt_errmsg());
    ck_assert_msg(dt_net_build(m, maxn, DT_LOSS_AUTO, &net) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(m);
    ck_assert(dt_net_init(net, 1) == DT_OK);
    return net;
}

static dt_layer *find(dt_net *net, const char *name)
{
    for (int i = 0; i < net->nlayers; i++)
        if (!strcmp(net->layers[i].name, name)) return &net->layers[i];
    ck_abort_msg("no layer %s", name);
    return NULL;
}

static void fill_randn(dt_real *v, int64_t n, uint32_t seed, double scale, double shift)
{
    dt_rng r;
    dt_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) v[i] = (dt_real)(shift + scale * dt_rng_randn(&r));
}

/* Distinct gamma and beta per channel, so a mixed-up channel shows. */
static void set_affine(dt_layer *bn)
{
    for (int64_t k = 0; k < bn->params[0].size; k++) {
        bn->params[0].w[k] = (dt_real)(0.5 + 0.25 * (double)k);
        bn->params[1].w[k] = (dt_real)(0.3 * (double)k - 0.2);
    }
}

/* Run one layer alone: forward over n rows of x, backward of dy into dx. */
static void layer_pass(dt_layer *l, const dt_real *x, const dt_real *dy, dt_real *dx, int64_t n, int train,
                       void (*allreduce)(void *, double *, int))
{
    dt_pass p = {.n = n, .train = train, .seed = 1, .allreduce = allreduce};
    int64_t f = dt_shape_size(l->in);
    l->x[0] = x;
    l->ops->forward(l, &p);
    if (train) l->ops->commit(l); /* the running update of a 1-step, 1-rank run */
    if (!dy) return;
    memcpy(l->dy, dy, (size_t)(n * f) * sizeof *dy);
    l->dx[0] = dx;
    l->dx_accum[0] = 0;
    l->ops->backward(l, &p);
}

static void zero_grads(dt_layer *l)
{
    for (int j = 0; j < l->nparams; j++)
        if (l->params[j].g) memset(l->params[j].g, 0, (size_t)l->params[j].size * sizeof(dt_real));
}

static double rel_err(double a, double b) { return fabs(a - b) / (1 + fabs(b)); }

/* ---- gradient checks --------------------------------------------------- */

START_TEST(grad_dense)
{
    static const int groups[] = {0, 2, 4};
    char text[512];
    snprintf(text, sizeof text,
             "[input]\nshape = 4\n[h]\ntype = dense\nunits = 5\ninit = normal\ninit_scale = 0.8\n"
             "[bn]\ntype = batchnorm\ngroup = %d\n[act]\ntype = activation\nactivation = tanh\n"
             "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\ninit = xavier\n",
             groups[_i]);
    GC_ASSERT(text, 6, 2, 0);
}
END_TEST

START_TEST(grad_dense_relu_softmax)
{
    static const int groups[] = {0, 2};
    char text[512];
    snprintf(text, sizeof text,
             "[input]\nshape = 4\n[h]\ntype = dense\nunits = 5\ninit = normal\ninit_scale = 0.8\n"
             "[bn]\ntype = batchnorm\ngroup = %d\nmomentum = 0.3\n[act]\ntype = activation\nactivation = relu\n"
             "[out]\ntype = dense\nunits = 3\nactivation = softmax\n",
             groups[_i]);
    GC_ASSERT(text, 6, 3, 0);
}
END_TEST

START_TEST(grad_image)
{
    static const int groups[] = {0, 2};
    char text[512];
    snprintf(text, sizeof text,
             "[input]\nshape = 3,4,4\n[bn]\ntype = batchnorm\ngroup = %d\n"
             "[out]\ntype = dense\nunits = 3\nactivation = softmax\ninit = xavier\n",
             groups[_i]);
    GC_ASSERT(text, 6, 3, 0);
}
END_TEST

/* The input of bn also feeds the add: bn's input gradient is added (dx_accum). */
START_TEST(grad_fan_out)
{
    GC_ASSERT("[input]\nshape = 2,3,3\n[h]\ntype = dense\nunits = 18\ninit = normal\ninit_scale = 0.5\n"
              "[bn]\ntype = batchnorm\n[sum]\ntype = add\ninputs = h, bn\n"
              "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n",
              5, 2, 0);
}
END_TEST

/* ---- forward values ---------------------------------------------------- */

/* Channel statistics of x [n, c, s] in double: mean and biased variance. */
static void stats(const dt_real *x, int64_t n, int64_t c, int64_t s, int64_t k, double *mean, double *var)
{
    double a = 0, b = 0;
    for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < s; j++) a += x[(r * c + k) * s + j];
    a /= (double)(n * s);
    for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < s; j++) {
            double d = x[(r * c + k) * s + j] - a;
            b += d * d;
        }
    *mean = a;
    *var = b / (double)(n * s);
}

START_TEST(forward_and_running_stats)
{
    /* dense features (s = 1) and images (s = 9) */
    static const char *texts[] = {
        "[input]\nshape = 4\n[bn]\ntype = batchnorm\n[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n",
        "[input]\nshape = 3,3,3\n[bn]\ntype = batchnorm\n[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n"};
    const int64_t n = 5;
    dt_net *net = build(texts[_i], n);
    dt_layer *bn = find(net, "bn");
    int64_t c = bn->in.c, s = (int64_t)bn->in.h * bn->in.w, f = c * s;
    const double eps = 1e-5;

    /* layout and initial values */
    ck_assert_int_eq(bn->nparams, 4);
    static const char *names[] = {"gamma", "beta", "running_mean", "running_var"};
    for (int j = 0; j < 4; j++) {
        ck_assert_str_eq(bn->params[j].name, names[j]);
        ck_assert_int_eq(bn->params[j].ndim, 1);
        ck_assert_int_eq(bn->params[j].dims[0], c);
        ck_assert_int_eq(bn->params[j].decay, 0);
        ck_assert_int_eq(bn->params[j].buffer, j >= 2);
        ck_assert(j >= 2 ? bn->params[j].g == NULL : bn->params[j].g != NULL);
        for (int64_t k = 0; k < c; k++) ck_assert(bn->params[j].w[k] == (j == 0 || j == 3 ? 1 : 0));
    }
    ck_assert(bn->params[2].w >= net->bufs && bn->params[3].w < net->bufs + net->nbufs);
    ck_assert_int_eq(net->ncount, 2 * c + f + 1);

    dt_real *x = calloc((size_t)(n * f), sizeof *x);
    fill_randn(x, n * f, 3, 2.0, 1.5);
    set_affine(bn);
    layer_pass(bn, x, NULL, NULL, n, 1, NULL);
    for (int64_t k = 0; k < c; k++) {
        double mx, vx, my, vy;
        stats(x, n, c, s, k, &mx, &vx);
        stats(bn->y, n, c, s, k, &my, &vy);
        double g = bn->params[0].w[k], b = bn->params[1].w[k];
        /* mean β, std γ·sqrt(σ²/(σ²+eps)) */
        ck_assert_msg(fabs(my - b) < 1e-5, "channel %lld: mean %g, beta %g", (long long)k, my, b);
        ck_assert_msg(rel_err(sqrt(vy), g * sqrt(vx / (vx + eps))) < 1e-5, "channel %lld: std %g", (long long)k,
                      sqrt(vy));
        ck_assert(rel_err(bn->params[2].w[k], 0.1 * mx) < 1e-6);
        ck_assert(rel_err(bn->params[3].w[k], 0.9 + 0.1 * vx * (double)(n * s) / (double)(n * s - 1)) < 1e-6);
    }

    /* evaluation: the running statistics, and they do not move */
    dt_real rm[8], rv[8];
    memcpy(rm, bn->params[2].w, (size_t)c * sizeof *rm);
    memcpy(rv, bn->params[3].w, (size_t)c * sizeof *rv);
    fill_randn(x, n * f, 4, 1.0, -0.5);
    layer_pass(bn, x, NULL, NULL, n, 0, NULL);
    for (int64_t r = 0; r < n; r++)
        for (int64_t k = 0; k < c; k++)
            for (int64_t j = 0; j < s; j++) {
                int64_t i = (r * c + k) * s + j;
                double want = bn->params[0].w[k] * (x[i] - rm[k]) / sqrt(rv[k] + eps) + bn->params[1].w[k];
                ck_assert_msg(fabs(bn->y[i] - want) < TOL * 10, "y[%lld] = %g, want %g", (long long)i, bn->y[i], want);
            }
    for (int64_t k = 0; k < c; k++) ck_assert(bn->params[2].w[k] == rm[k] && bn->params[3].w[k] == rv[k]);
    free(x);
    dt_net_free(net);
}
END_TEST

/* Evaluation mode is affine per channel: dx = γ/sqrt(rv + eps)·dy, dγ = Σ dy·x̂, dβ = Σ dy. */
START_TEST(eval_backward)
{
    const int64_t n = 4, c = 2, s = 4, f = c * s;
    dt_net *net = build("[input]\nshape = 2,2,2\n[bn]\ntype = batchnorm\neps = 0.01\n"
                        "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n",
                        n);
    dt_layer *bn = find(net, "bn");
    set_affine(bn);
    bn->params[2].w[0] = 0.5f, bn->params[2].w[1] = -1;
    bn->params[3].w[0] = 2, bn->params[3].w[1] = 0.25f;
    dt_real x[32], dy[32], dx[32];
    fill_randn(x, n * f, 6, 1, 0);
    fill_randn(dy, n * f, 7, 1, 0);
    zero_grads(bn);
    layer_pass(bn, x, dy, dx, n, 0, NULL);
    for (int64_t k = 0; k < c; k++) {
        double is = 1 / sqrt(bn->params[3].w[k] + 0.01), sg = 0, sb = 0;
        for (int64_t r = 0; r < n; r++)
            for (int64_t j = 0; j < s; j++) {
                int64_t i = (r * c + k) * s + j;
                ck_assert(rel_err(dx[i], bn->params[0].w[k] * is * dy[i]) < TOL * 10);
                sg += dy[i] * (x[i] - bn->params[2].w[k]) * is;
                sb += dy[i];
            }
        ck_assert(rel_err(bn->params[0].g[k], sg) < TOL * 10);
        ck_assert(rel_err(bn->params[1].g[k], sb) < TOL * 10);
    }
    dt_net_free(net);
}
END_TEST

/* ---- groups = separate batches ---------------------------------------- */

#define GR 3 /* rows per group */

START_TEST(group_equals_halves)
{
    static const char *fmt = "[input]\nshape = 2,2,3\n[bn]\ntype = batchnorm\ngroup = %d\n"
                             "[out]\ntype = dense\nunits = 3\nactivation = softmax\n";
    char tg[256], t0[256];
    snprintf(tg, sizeof tg, fmt, GR);
    snprintf(t0, sizeof t0, fmt, 0);
    dt_net *a = build(tg, 2 * GR);                                  /* one rank, batch 2G */
    dt_net *h[2] = {build(t0, GR), build(t0, GR)};                  /* two ranks, batch G */
    dt_layer *la = find(a, "bn"), *lh[2] = {find(h[0], "bn"), find(h[1], "bn")};
    int64_t f = dt_shape_size(la->in);
    for (int q = 0; q < 2; q++) {
        set_affine(la);
        set_affine(lh[q]);
        memcpy(h[q]->params, a->params, (size_t)a->nparams * sizeof(dt_real));
    }
    dt_real x[2 * GR * 12], dy[2 * GR * 12], dxa[2 * GR * 12], dxh[2 * GR * 12];
    fill_randn(x, 2 * GR * f, 8, 1.5, 0.7);
    fill_randn(dy, 2 * GR * f, 9, 1, 0);

    /* the layer alone: bitwise */
    zero_grads(la);
    layer_pass(la, x, dy, dxa, 2 * GR, 1, NULL);
    dt_real ya[2 * GR * 12];
    memcpy(ya, la->y, sizeof ya);
    for (int q = 0; q < 2; q++) {
        zero_grads(lh[q]);
        layer_pass(lh[q], x + q * GR * f, dy + q * GR * f, dxh + q * GR * f, GR, 1, NULL);
        for (int64_t i = 0; i < GR * f; i++) ck_assert_msg(lh[q]->y[i] == ya[q * GR * f + i], "y differs at row %d", q);
    }
    for (int64_t i = 0; i < 2 * GR * f; i++) ck_assert_msg(dxa[i] == dxh[i], "dx differs at %lld", (long long)i);
    for (int64_t k = 0; k < la->in.c; k++)
        for (int j = 0; j < 2; j++)
            ck_assert(la->params[j].g[k] == lh[0]->params[j].g[k] + lh[1]->params[j].g[k]);
    /* running statistics: the mean of the two ranks' (what averaging buffers gives) */
    for (int64_t k = 0; k < la->in.c; k++)
        for (int j = 2; j < 4; j++)
            ck_assert(rel_err(la->params[j].w[k], 0.5 * (lh[0]->params[j].w[k] + lh[1]->params[j].w[k])) < TOL);

    /* the whole network: the same loss gradients (to rounding: gemm sums rows in one go) */
    int32_t y[2 * GR];
    for (int i = 0; i < 2 * GR; i++) y[i] = i % 3;
    dt_pass p = {.n = 2 * GR, .train = 1};
    double la_sum[2] = {0}, lh_sum[2] = {0}; /* objective, the one loss */
    int64_t ok = 0;
    dt_net_zero_grads(a);
    dt_net_forward(a, x, &p);
    dt_net_loss(a, &(dt_targets){.labels = y}, 2 * GR, 1, la_sum, &ok);
    dt_net_backward(a, x, dxa, &p);
    p.n = GR;
    dt_real *gh = calloc((size_t)a->nparams, sizeof *gh);
    for (int q = 0; q < 2; q++) {
        dt_net_zero_grads(h[q]);
        dt_net_forward(h[q], x + q * GR * f, &p);
        dt_net_loss(h[q], &(dt_targets){.labels = y + q * GR}, GR, 1, lh_sum, &ok);
        dt_net_backward(h[q], x + q * GR * f, dxh + q * GR * f, &p);
        for (int64_t i = 0; i < a->nparams; i++) gh[i] += h[q]->grads[i];
    }
    ck_assert(rel_err(la_sum[0], lh_sum[0]) < TOL * 10);
    for (int64_t i = 0; i < a->nparams; i++)
        ck_assert_msg(rel_err(a->grads[i], gh[i]) < TOL * 10, "grad %lld: %g vs %g", (long long)i, a->grads[i], gh[i]);
    for (int64_t i = 0; i < 2 * GR * f; i++) ck_assert(rel_err(dxa[i], dxh[i]) < TOL * 10);
    free(gh);
    dt_net_free(a);
    dt_net_free(h[0]);
    dt_net_free(h[1]);
}
END_TEST

/* ---- synchronised statistics ------------------------------------------ */

static int ncalls, lens[8];

/* Two identical ranks: every sum doubles. */
static void twice(void *ctx, double *buf, int n)
{
    lens[ncalls++ & 7] = n;
    for (int i = 0; i < n; i++) buf[i] *= 2;
}

START_TEST(sync_identical_ranks)
{
    static const char *fmt = "[input]\nshape = 3,2,2\n[bn]\ntype = batchnorm\nsync = %d\n"
                             "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n";
    char t1[256], t0[256];
    snprintf(t1, sizeof t1, fmt, 1);
    snprintf(t0, sizeof t0, fmt, 0);
    const int64_t n = 5;
    dt_net *s = build(t1, n), *u = build(t0, n);
    dt_layer *ls = find(s, "bn"), *lu = find(u, "bn");
    int64_t f = dt_shape_size(ls->in), c = ls->in.c;
    set_affine(ls);
    set_affine(lu);
    dt_real x[60], dy[60], dxs[60], dxu[60];
    fill_randn(x, n * f, 10, 1.2, -0.3);
    fill_randn(dy, n * f, 11, 1, 0);
    zero_grads(ls);
    zero_grads(lu);
    ncalls = 0;
    layer_pass(ls, x, dy, dxs, n, 1, twice);
    ck_assert_int_eq(ncalls, 2); /* (Σx, Σx², count), then (Σdy, Σdy·x̂) */
    ck_assert_int_eq(lens[0], 2 * c + 1);
    ck_assert_int_eq(lens[1], 2 * c);
    layer_pass(lu, x, dy, dxu, n, 1, twice); /* sync = 0: no collective (statistics travel in l->stats) */
    ck_assert_int_eq(ncalls, 2);
    /* doubling sums and count is exact, so the statistics are bitwise the same */
    for (int64_t i = 0; i < n * f; i++) {
        ck_assert(ls->y[i] == lu->y[i]);
        ck_assert(dxs[i] == dxu[i]);
    }
    for (int64_t k = 0; k < c; k++) {
        for (int j = 0; j < 3; j++) ck_assert(ls->params[j].w[k] == lu->params[j].w[k]);
        /* the unbiased variance is of the global batch: m/(m-1) becomes 2m/(2m-1) */
        double m = (double)(n * f / c), vb = (lu->params[3].w[k] - 0.9) / 0.1 * (m - 1) / m;
        ck_assert(rel_err(ls->params[3].w[k], 0.9 + 0.1 * vb * 2 * m / (2 * m - 1)) < TOL * 10);
    }
    for (int j = 0; j < 2; j++) /* each rank adds only its own share of dγ, dβ */
        for (int64_t k = 0; k < c; k++) ck_assert(ls->params[j].g[k] == lu->params[j].g[k]);

    /* evaluation and 1-rank passes (allreduce NULL) never reduce */
    layer_pass(ls, x, dy, dxs, n, 0, twice);
    ck_assert_int_eq(ncalls, 2);
    /* a rank without rows still joins the forward reduction */
    layer_pass(ls, x, NULL, NULL, 0, 1, twice);
    ck_assert_int_eq(ncalls, 3);
    dt_net_free(s);
    dt_net_free(u);
}
END_TEST

/* Two ranks with different data, played in turn: the callback adds the other
 * rank's recorded local sums. Each rank then sees the statistics of the whole
 * batch, as one rank with group = 0 does. */
static double peer[64], mine[64];

static void add_peer(void *ctx, double *buf, int n)
{
    memcpy(mine, buf, (size_t)n * sizeof *buf);
    for (int i = 0; i < n; i++) buf[i] += peer[i];
}

START_TEST(sync_two_ranks)
{
    static const char *fmt = "[input]\nshape = 2,2,2\n[bn]\ntype = batchnorm\nsync = %d\n"
                             "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n";
    char t1[256], t0[256];
    snprintf(t1, sizeof t1, fmt, 1);
    snprintf(t0, sizeof t0, fmt, 0);
    const int64_t na = 3, nb = 4, n = na + nb;
    dt_net *ra = build(t1, na), *rb = build(t1, nb), *ref = build(t0, n);
    dt_layer *la = find(ra, "bn"), *lb = find(rb, "bn"), *lr = find(ref, "bn");
    int64_t f = dt_shape_size(la->in), c = la->in.c;
    set_affine(la), set_affine(lb), set_affine(lr);
    dt_real x[56], dy[56], dx[56], dxr[56], ya[56];
    fill_randn(x, n * f, 12, 1.0, 0.4);
    fill_randn(dy, n * f, 13, 1, 0);
    dt_real *xa = x, *xb = x + na * f, *dya = dy, *dyb = dy + na * f;
    double fa[64], fb[64], ba[64], bb[64];

    /* forward: record b's sums, then a sees a+b, then b sees b+a */
    memset(peer, 0, sizeof peer);
    layer_pass(lb, xb, NULL, NULL, nb, 1, add_peer);
    memcpy(fb, mine, sizeof fb);
    memcpy(peer, fb, sizeof peer);
    layer_pass(la, xa, NULL, NULL, na, 1, add_peer);
    memcpy(fa, mine, sizeof fa);
    memcpy(ya, la->y, (size_t)(na * f) * sizeof *ya);
    memcpy(peer, fa, sizeof peer);
    /* b's second forward redoes its running update; rebuild nothing, just compare a's */
    dt_pass p = {.n = nb, .train = 1, .allreduce = add_peer};
    lb->x[0] = xb;
    lb->ops->forward(lb, &p);
    memcpy(ya + na * f, lb->y, (size_t)(nb * f) * sizeof *ya);

    /* backward: the same dance with (Σdy, Σdy·x̂) */
    zero_grads(la), zero_grads(lb), zero_grads(lr);
    memset(peer, 0, sizeof peer);
    p.n = nb;
    memcpy(lb->dy, dyb, (size_t)(nb * f) * sizeof *dy);
    lb->dx[0] = dx + na * f, lb->dx_accum[0] = 0;
    lb->ops->backward(lb, &p);
    memcpy(bb, mine, sizeof bb);
    memcpy(peer, bb, sizeof peer);
    p.n = na;
    memcpy(la->dy, dya, (size_t)(na * f) * sizeof *dy);
    la->dx[0] = dx, la->dx_accum[0] = 0;
    la->ops->backward(la, &p);
    memcpy(ba, mine, sizeof ba);
    zero_grads(lb);
    memcpy(peer, ba, sizeof peer);
    p.n = nb;
    memcpy(lb->dy, dyb, (size_t)(nb * f) * sizeof *dy);
    lb->ops->backward(lb, &p);

    /* one rank over the whole batch */
    layer_pass(lr, x, dy, dxr, n, 1, NULL);
    for (int64_t i = 0; i < n * f; i++) {
        ck_assert_msg(rel_err(ya[i], lr->y[i]) < TOL * 10, "y[%lld] %g vs %g", (long long)i, ya[i], lr->y[i]);
        ck_assert_msg(rel_err(dx[i], dxr[i]) < TOL * 10, "dx[%lld] %g vs %g", (long long)i, dx[i], dxr[i]);
    }
    for (int j = 0; j < 2; j++)
        for (int64_t k = 0; k < c; k++)
            ck_assert(rel_err(la->params[j].g[k] + lb->params[j].g[k], lr->params[j].g[k]) < TOL * 10);
    for (int j = 2; j < 4; j++)
        for (int64_t k = 0; k < c; k++) ck_assert(rel_err(la->params[j].w[k], lr->params[j].w[k]) < TOL * 10);
    dt_net_free(ra);
    dt_net_free(rb);
    dt_net_free(ref);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

START_TEST(config_errors)
{
    static const struct {
        const char *keys, *want;
    } cases[] = {
        {"sync = 1\ngroup = 4\n", "m.ini:6: [bn] group = 4: must be 0 with sync = 1"},
        {"eps = -1e-5\n", "m.ini:5: [bn] eps = -1e-05: expected a number in (0, 1]"},
        {"eps = 0\n", "m.ini:5: [bn] eps = 0: expected a number in (0, 1]"},
        {"momentum = 1.5\n", "m.ini:5: [bn] momentum = 1.5: expected a number in [0, 1]"},
        {"group = -2\n", "m.ini:5: [bn] group = -2"},
        {"sync = 2\n", "m.ini:5: [bn] sync = 2"},
        {"eps = tiny\n", "m.ini:5: [bn] eps = 'tiny': expected a number"},
        {"gamma = 1\n", "m.ini:5: [bn] unknown key 'gamma'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "[input]\nshape = 4\n[bn]\ntype = batchnorm\n%s[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n",
                 cases[i].keys);
        dt_ini *m;
        dt_net *net = NULL;
        ck_assert(dt_ini_parse("m.ini", text, &m) == DT_OK);
        ck_assert_int_ne(dt_net_build(m, 4, DT_LOSS_AUTO, &net), DT_OK);
        ck_assert_msg(strstr(dt_errmsg(), cases[i].want), "case %zu: got '%s', want '%s'", i, dt_errmsg(),
                      cases[i].want);
        ck_assert(net == NULL);
        dt_ini_free(m);
    }
}
END_TEST

/* ---- folded activations -------------------------------------------------- */

/* conv, batch norm, relu; conv, batch norm, leaky relu; a relu add of both. */
static const char *fold_text =
    "[input]\nshape = 2,5,5\n[c1]\ntype = conv2d\nfilters = 4\nkernel = 3\npadding = same\n"
    "[bn1]\ntype = batchnorm\n[r1]\ntype = activation\nactivation = relu\n"
    "[c2]\ntype = conv2d\nfilters = 4\nkernel = 1\n[bn2]\ntype = batchnorm\ngroup = 2\n"
    "[r2]\ntype = activation\nactivation = leaky_relu\nalpha = 0.1\n"
    "[sum]\ntype = add\ninputs = r1, r2\nactivation = relu\n"
    "[out]\ntype = dense\nunits = 3\nactivation = softmax\n";

/* Forward, loss and backward on 6 rows; the output and input gradient. */
static void fold_run(dt_net *net, const dt_real *x, dt_real *dx, dt_real *out)
{
    int64_t n = 6, ids[6] = {0, 1, 2, 3, 4, 5};
    int32_t y[6] = {0, 1, 2, 0, 1, 2};
    double sums[4] = {0};
    dt_pass p = {.n = n, .train = 1, .sample_ids = ids};
    dt_targets tg = {.labels = y};
    dt_net_zero_grads(net);
    memcpy(out, dt_net_forward(net, x, &p), (size_t)(n * 3) * sizeof *out);
    dt_net_loss(net, &tg, n, (dt_real)(1.0 / n), sums, NULL);
    dt_net_backward(net, x, dx, &p);
}

/* Folding relu and leaky relu into batch norm changes no value: the same
 * output, gradients and input gradient as the layers one by one; and a
 * folded layer unfolded gives its own output (pre-activation) again. */
START_TEST(fold_equals_unfolded)
{
    enum { N = 6, IN = 50 };
    dt_net *net[2];
    dt_real x[N * IN], dx[2][N * IN], out[2][N * 3];
    fill_randn(x, N * IN, 3, 1, 0.5);
    for (int f = 0; f < 2; f++) {
        dt_net_set_folding(f);
        net[f] = build(fold_text, N);
        ck_assert(dt_net_init(net[f], 1) == DT_OK);
        for (int k = 0; k < 2; k++) set_affine(find(net[f], k ? "bn2" : "bn1"));
        fold_run(net[f], x, dx[f], out[f]);
    }
    dt_net_set_folding(1);
    ck_assert(find(net[1], "r1")->folded && find(net[1], "r2")->folded);
    ck_assert(!find(net[0], "r1")->folded && !find(net[0], "r2")->folded);
    for (int i = 0; i < N * 3; i++) ck_assert_double_eq_tol(out[1][i], out[0][i], 1e-6);
    for (int i = 0; i < N * IN; i++) ck_assert_msg(rel_err(dx[1][i], dx[0][i]) < 1e-5, "dx[%d] %g vs %g", i, dx[1][i], dx[0][i]);
    for (int64_t i = 0; i < net[0]->ntrain; i++)
        ck_assert_msg(rel_err(net[1]->grads[i], net[0]->grads[i]) < 1e-5, "grad %lld: %g vs %g", (long long)i,
                      net[1]->grads[i], net[0]->grads[i]);
    /* unfolded: bn1 has its own output again, with its negative values */
    int b1 = dt_net_find(net[1], "bn1");
    dt_net_unfold(net[1], b1);
    ck_assert(!find(net[1], "r1")->folded && find(net[1], "r2")->folded);
    fold_run(net[1], x, dx[1], out[1]);
    const dt_layer *bn1 = find(net[1], "bn1"), *r1 = find(net[1], "r1");
    int neg = 0;
    for (int i = 0; i < N * 4 * 25; i++) {
        neg += bn1->y[i] < 0;
        ck_assert(r1->y[i] == (bn1->y[i] > 0 ? bn1->y[i] : 0));
    }
    ck_assert(neg > 0);
    for (int i = 0; i < N * 3; i++) ck_assert_double_eq_tol(out[1][i], out[0][i], 1e-6);
    dt_net_free(net[0]);
    dt_net_free(net[1]);
}
END_TEST

/* Finite differences through batch norm with relu and leaky relu folded in. */
START_TEST(grad_folded)
{
    GC_ASSERT(fold_text, 6, 3, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batchnorm");
    TCase *tc = tcase_create("batchnorm");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, grad_dense, 0, 3);
    tcase_add_loop_test(tc, grad_dense_relu_softmax, 0, 2);
    tcase_add_loop_test(tc, grad_image, 0, 2);
    tcase_add_test(tc, grad_fan_out);
    tcase_add_loop_test(tc, forward_and_running_stats, 0, 2);
    tcase_add_test(tc, eval_backward);
    tcase_add_test(tc, group_equals_halves);
    tcase_add_test(tc, sync_identical_ranks);
    tcase_add_test(tc, sync_two_ranks);
    tcase_add_test(tc, config_errors);
    tcase_add_test(tc, fold_equals_unfolded);
    tcase_add_test(tc, grad_folded);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
