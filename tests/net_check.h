/* net_check.h — finite-difference gradient check of a whole network built
 * from model text (for the layer suites). Every parameter and every input
 * value is perturbed (frozen parameters are not: they have no gradient);
 * dense targets, where the losses read them, are drawn. The result is ||g - g_num|| / (||g|| + ||g_num||).
 * Exact in the double build (< 1e-7); coarse in float (< 2e-2). */
#ifndef DT_NET_CHECK_H
#define DT_NET_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check_util.h"
#include "core/rng.h"
#include "nn/net.h"

#ifdef DTRAIN_DOUBLE
#define GC_EPS 1e-6
#define GRAD_TOL 1e-7
#else
#define GC_EPS 1e-2
#define GRAD_TOL 2e-2
#endif

typedef struct {
    dt_net *net;
    int64_t n, in;
    dt_real *x, *dx;
    int32_t *y;
    dt_real *t; /* dense targets, for models whose losses read them */
    int64_t *ids;
    double l2;
    void (*allreduce)(void *ctx, double *buf, int n);
} gc_ctx;

static double gc_loss(gc_ctx *c, int grad)
{
    dt_pass p = {.n = c->n, .train = 1, .seed = 7, .step = 3, .sample_ids = c->ids, .allreduce = c->allreduce};
    double sums[8] = {0};
    dt_targets tg = {.labels = c->y, .dense = c->t};
    dt_net_forward(c->net, c->x, &p);
    dt_net_loss(c->net, &tg, c->n, grad ? (dt_real)(1.0 / (double)c->n) : 0, sums, NULL);
    if (grad) {
        dt_net_zero_grads(c->net);
        dt_net_backward(c->net, c->x, c->dx, &p);
    }
    return sums[0] / (double)c->n + (c->l2 > 0 ? dt_net_l2(c->net, c->l2, (double)c->n, grad) : 0);
}

/* Perturb v[i] both ways; accumulate into the three norms. */
static void gc_probe(gc_ctx *c, dt_real *v, double g, double *d2, double *a2, double *n2)
{
    dt_real keep = *v;
    *v = (dt_real)(keep + GC_EPS);
    double lp = gc_loss(c, 0);
    *v = (dt_real)(keep - GC_EPS);
    double lm = gc_loss(c, 0);
    *v = keep;
    double gn = (lp - lm) / (2 * GC_EPS);
    *d2 += (g - gn) * (g - gn);
    *a2 += g * g;
    *n2 += gn * gn;
}

/* Dense targets to use instead of drawn ones (losses that need sensible
 * targets, such as boxes), [n, target_len]; NULL: drawn. */
static const dt_real *gc_fixed_targets;

/* Build the model, draw inputs (seed 5) and labels (i mod classes), and
 * return the relative difference over parameters and inputs. */
static double gc_check(const char *model_text, int64_t n, int classes, double l2)
{
    dt_ini *m;
    gc_ctx c = {.n = n, .l2 = l2};
    ck_assert_msg(dt_ini_parse("test.ini", model_text, &m) == DT_OK, "%s", dt_errmsg());
    ck_assert_msg(dt_net_build(m, n, DT_LOSS_AUTO, &c.net) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(m);
    ck_assert(dt_net_init(c.net, 1) == DT_OK);
    dt_net *net = c.net;
    /* biases start at zero; move them so their gradients are exercised */
    for (int i = 0; i < net->nlayers; i++)
        for (int j = 0; j < net->layers[i].nparams; j++) {
            dt_param *p = &net->layers[i].params[j];
            if (!p->decay && !p->buffer)
                for (int64_t t = 0; t < p->size; t++) p->w[t] += (dt_real)(0.1 * (t % 3) - 0.05);
        }
    c.in = dt_shape_size(net->in);
    c.x = calloc((size_t)(n * c.in), sizeof *c.x);
    c.dx = calloc((size_t)(n * c.in), sizeof *c.dx);
    c.y = calloc((size_t)n, sizeof *c.y);
    c.ids = calloc((size_t)n, sizeof *c.ids);
    c.t = calloc((size_t)(n * net->target_len + 1), sizeof *c.t);
    dt_rng r;
    dt_rng_seed(&r, 5);
    for (int64_t i = 0; i < n * c.in; i++) c.x[i] = (dt_real)dt_rng_randn(&r);
    for (int64_t i = 0; i < n * net->target_len; i++) c.t[i] = (dt_real)dt_rng_randn(&r);
    if (gc_fixed_targets) memcpy(c.t, gc_fixed_targets, (size_t)(n * net->target_len) * sizeof *c.t);
    for (int64_t i = 0; i < n; i++) {
        c.y[i] = (int32_t)(i % classes);
        c.ids[i] = i;
    }
    gc_loss(&c, 1);
    dt_real *g = calloc((size_t)net->ntrain + 1, sizeof *g);
    memcpy(g, net->grads, (size_t)net->ntrain * sizeof *g);
    double d2 = 0, a2 = 0, n2 = 0;
    for (int64_t i = 0; i < net->ntrain; i++) gc_probe(&c, &net->params[i], g[i], &d2, &a2, &n2);
    for (int64_t i = 0; i < n * c.in; i++) gc_probe(&c, &c.x[i], c.dx[i], &d2, &a2, &n2);
    ck_assert(a2 > 0);
    free(g);
    free(c.x);
    free(c.dx);
    free(c.y);
    free(c.ids);
    free(c.t);
    dt_net_free(net);
    return sqrt(d2) / (sqrt(a2) + sqrt(n2));
}

/* Assert the check passes for a model. */
#define GC_ASSERT(text, n, classes, l2)                                                  \
    do {                                                                                 \
        double gc_d_ = gc_check(text, n, classes, l2);                                   \
        ck_assert_msg(gc_d_ < GRAD_TOL, "relative difference %g for\n%s", gc_d_, text); \
    } while (0)

#endif
