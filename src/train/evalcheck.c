/* evalcheck.c — `dtrain eval` (a checkpoint over both splits, and for 2-D
 * data its predictions on a grid) and `dtrain gradcheck` (analytic against
 * finite-difference gradients). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "train/setup.h"
#include "train/train.h"

static void emit(const dt_run_args *a, const dt_setup *s, dt_event ev)
{
    if (s->rank == 0 && a->on_event) a->on_event(a->user, &ev);
}

/* Keys that matter only to training are accepted so any train config evaluates. */
static void accept_train_keys(dt_ini *c)
{
    int ns = dt_ini_nsections(c);
    for (int i = 0; i < ns; i++) {
        const char *sec = dt_ini_section(c, i);
        if (strcmp(sec, "train") && strcmp(sec, "optim")) continue;
        static const char *const keys[] = {"epochs", "global_batch", "batch_per_rank", "log_every",
                                           "eval_every", "eval_train", "checkpoint_every", "max_steps", "seed",
                                           "shuffle", "out", "type", "lr", "beta", "beta1", "beta2",
                                           "eps", "l2", "decay", "decay_rate", "decay_every", NULL};
        const char *v;
        for (int k = 0; keys[k]; k++) dt_ini_str(c, sec, keys[k], "", &v);
    }
}

static dt_status write_close(FILE *f, const char *path)
{
    int bad = ferror(f);
    int err = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    return bad ? dt_error(DT_ERR_IO, "%s: cannot write: %s", path, strerror(err)) : DT_OK;
}

/* The training points beside the grid: OUT.csv gives OUT.points.csv. */
static void points_path(const char *grid, char *buf, size_t len)
{
    size_t n = strlen(grid);
    if (n > 4 && !strcmp(grid + n - 4, ".csv")) n -= 4;
    snprintf(buf, len, "%.*s.points.csv", (int)n, grid);
}

/* Predictions over an N x N grid covering the training points' bounding box
 * plus a 10 % margin, for decision-boundary plots: rows x,y,p with p the
 * probability of class 1 (two classes) or x,y,class (more), x fastest; and
 * the training points as x,y,label. Rank 0 alone computes and writes: an
 * evaluation-mode pass has no collectives. */
static dt_status write_grid(const dt_run_args *a, dt_setup *s)
{
    const dt_dataset *d = s->train;
    int64_t N = a->grid_size ? a->grid_size : 200;
    if (s->rank != 0 || d->n == 0) return DT_OK;

    double lo[2] = {d->x[0], d->x[1]}, hi[2] = {d->x[0], d->x[1]};
    for (int64_t r = 0; r < d->n; r++)
        for (int k = 0; k < 2; k++) {
            lo[k] = fmin(lo[k], d->x[2 * r + k]);
            hi[k] = fmax(hi[k], d->x[2 * r + k]);
        }
    for (int k = 0; k < 2; k++) {
        double m = hi[k] > lo[k] ? 0.1 * (hi[k] - lo[k]) : 1;
        lo[k] -= m;
        hi[k] += m;
    }

    dt_net *net = s->net;
    int K = net->nclasses, binary = K == 2;
    char ppath[4200];
    points_path(a->grid, ppath, sizeof ppath);
    FILE *f = fopen(a->grid, "w");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot create: %s", a->grid, strerror(errno));
    fputs(binary ? "x,y,p\n" : "x,y,class\n", f);
    dt_real *x = dt_alloc((size_t)net->maxn * 2 * sizeof *x);
    int32_t *cls = dt_alloc((size_t)net->maxn * sizeof *cls);
    if (!x || !cls) {
        dt_free(x);
        dt_free(cls);
        fclose(f);
        return dt_error(DT_ERR_NOMEM, "out of memory for the grid");
    }
    dt_pass p = {.train = 0};
    for (int64_t i0 = 0; i0 < N * N; i0 += net->maxn) {
        p.n = N * N - i0 < net->maxn ? N * N - i0 : net->maxn;
        for (int64_t r = 0; r < p.n; r++) {
            int64_t i = i0 + r;
            x[2 * r] = (dt_real)(lo[0] + (hi[0] - lo[0]) * (double)(i % N) / (double)(N - 1));
            x[2 * r + 1] = (dt_real)(lo[1] + (hi[1] - lo[1]) * (double)(i / N) / (double)(N - 1));
        }
        const dt_real *out = dt_net_forward(net, x, &p);
        dt_net_predict(net, p.n, cls, NULL);
        for (int64_t r = 0; r < p.n; r++) {
            /* BCE has one output unit, p(class 1); a 2-way softmax has two */
            double v = !binary ? cls[r] : net->loss == DT_LOSS_BCE ? out[r] : out[2 * r + 1];
            fprintf(f, "%.6g,%.6g,%.6g\n", (double)x[2 * r], (double)x[2 * r + 1], v);
        }
    }
    dt_free(x);
    dt_free(cls);
    DT_TRY(write_close(f, a->grid));

    if (!(f = fopen(ppath, "w"))) return dt_error(DT_ERR_IO, "%s: cannot create: %s", ppath, strerror(errno));
    fputs("x,y,label\n", f);
    for (int64_t r = 0; r < d->n; r++)
        fprintf(f, "%.9g,%.9g,%d\n", (double)d->x[2 * r], (double)d->x[2 * r + 1], (int)d->y[r]);
    DT_TRY(write_close(f, ppath));

    char line[9000];
    snprintf(line, sizeof line, "grid: %lld x %lld %s over x [%.4g, %.4g], y [%.4g, %.4g] in %s; training points in %s",
             (long long)N, (long long)N, binary ? "probabilities of class 1" : "predicted classes", lo[0], hi[0],
             lo[1], hi[1], a->grid, ppath);
    emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = line});
    return DT_OK;
}

static dt_status eval_run(const dt_run_args *a, dt_setup *s)
{
    DT_TRY(dt_setup_config(s, a->config, a->overrides, a->noverrides));
    accept_train_keys(s->cfg);
    DT_TRY(dt_setup_data(s));
    if (a->grid && s->train->features != 2) /* before the checkpoint and the evaluation */
        return dt_error(DT_ERR_ARG, "--grid needs a data set of 2 features (points in the plane); %s has %lld",
                        a->config, (long long)s->train->features);
    if (a->grid && s->sharding != DT_SHARD_GLOBAL)
        return dt_error(DT_ERR_ARG, "--grid needs [data] sharding = global, where rank 0 holds every training point");
    DT_TRY(dt_setup_net_sized(s, 64, 1024));
    DT_TRY(dt_ini_check_unused(s->cfg));
    DT_TRY(dt_ckpt_load_run(a->ckpt, s, NULL, NULL, NULL));
    const char *names[2] = {"train", "test"};
    const dt_dataset *sets[2] = {s->train, s->test};
    for (int i = 0; i < 2; i++) {
        dt_eval_result e;
        if (sets[i]->total == 0) continue;
        DT_TRY(dt_evaluate(s, sets[i], &e));
        emit(a, s, (dt_event){.kind = DT_EV_EVAL, .split = names[i], .loss = e.loss,
                              .accuracy = e.count ? (double)e.correct / (double)e.count : 0,
                              .correct = e.correct, .count = e.count});
    }
    return a->grid ? write_grid(a, s) : DT_OK;
}

dt_status dt_eval(const dt_run_args *a)
{
    dt_setup s = {0};
    dt_status st = dt_dist_agree(eval_run(a, &s));
    dt_setup_free(&s);
    return st;
}

/* Mean loss over the rows (with the L2 term), optionally leaving gradients. */
static double batch_loss(dt_setup *s, const dt_real *x, const int32_t *y, int64_t n, double l2, int grad)
{
    dt_net *net = s->net;
    dt_pass p = {.n = n, .train = 1, .seed = 1, .step = 0, .sample_ids = NULL};
    static int64_t ids[64];
    for (int64_t i = 0; i < n; i++) ids[i] = i;
    p.sample_ids = ids;
    double sum = 0;
    int64_t ok = 0;
    dt_net_forward(net, x, &p);
    dt_net_loss(net, y, n, grad ? (dt_real)(1.0 / (double)n) : 0, &sum, &ok);
    if (grad) {
        dt_net_zero_grads(net);
        dt_net_backward(net, x, NULL, &p);
    }
    return sum / (double)n + (l2 > 0 ? dt_net_l2(net, l2, (double)n, grad) : 0);
}

static dt_status grad_run(const dt_run_args *a, dt_setup *s, double *max_rel)
{
    dt_optim o;
    DT_TRY(dt_setup_config(s, a->config, a->overrides, a->noverrides));
    accept_train_keys(s->cfg);
    DT_TRY(dt_optim_read(s->cfg, &o));
    DT_TRY(dt_setup_data(s));
    DT_TRY(dt_setup_net(s, 64));
    DT_TRY(dt_ini_check_unused(s->cfg));
    DT_TRY(dt_net_init(s->net, s->init_seed));
    dt_net *net = s->net;
    int64_t n = s->train->n < 8 ? s->train->n : 8;
    const dt_real *x = s->train->x;
    const int32_t *y = s->train->y;
#ifdef DTRAIN_DOUBLE
    const double eps = 1e-7;
#else
    const double eps = 1e-2;
#endif
    batch_loss(s, x, y, n, o.l2, 1);
    dt_real *g = dt_alloc((size_t)net->nparams * sizeof(dt_real));
    if (!g) return dt_error(DT_ERR_NOMEM, "out of memory");
    memcpy(g, net->grads, (size_t)net->nparams * sizeof(dt_real));
    double num2 = 0, g2 = 0, d2 = 0;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        for (int j = 0; j < l->nparams; j++) {
            dt_param *pr = &l->params[j];
            int64_t stride = pr->size > 200 ? pr->size / 200 : 1; /* sample large tensors */
            double pn = 0, pg = 0, pd = 0;
            for (int64_t t = 0; t < pr->size; t += stride) {
                dt_real keep = pr->w[t];
                pr->w[t] = (dt_real)(keep + eps);
                double lp = batch_loss(s, x, y, n, o.l2, 0);
                pr->w[t] = (dt_real)(keep - eps);
                double lm = batch_loss(s, x, y, n, o.l2, 0);
                pr->w[t] = keep;
                double gn = (lp - lm) / (2 * eps), ga = g[pr->w - net->params + t];
                pn += gn * gn;
                pg += ga * ga;
                pd += (gn - ga) * (gn - ga);
            }
            double rel = sqrt(pd) / (sqrt(pn) + sqrt(pg) + 1e-300);
            char line[256];
            snprintf(line, sizeof line, "%-12s %-2s relative difference %.3e", l->name, pr->name, rel);
            emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = line, .loss = rel});
            num2 += pn;
            g2 += pg;
            d2 += pd;
        }
    }
    dt_free(g);
    *max_rel = sqrt(d2) / (sqrt(num2) + sqrt(g2) + 1e-300);
    return DT_OK;
}

dt_status dt_gradcheck(const dt_run_args *a, double *max_rel)
{
    dt_setup s = {0};
    *max_rel = 0;
    dt_status st = dt_dist_agree(grad_run(a, &s, max_rel));
    dt_setup_free(&s);
    return st;
}
