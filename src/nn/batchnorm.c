/* batchnorm.c — batch normalisation per channel, as PyTorch's BatchNorm1d/2d.
 *
 *   x [N, C, H, W] (dense: [N, F] is read as [N, F, 1, 1]), per channel c:
 *   x̂ = (x - μ_c) / sqrt(σ²_c + eps);  y = γ_c x̂ + β_c;  y [N, C, H, W]
 * Training: μ, σ² (biased) over (rows, H, W) of the local batch, or of each
 * group of `group` consecutive rows (the last may be smaller: 1 rank with
 * batch 2G computes what 2 ranks with batch G do), or, with sync = 1, of the
 * global batch through p->allreduce. Running statistics follow PyTorch:
 * r = (1 - momentum)·r + momentum·s, s the unbiased variance for running_var;
 * with groups s is the mean over the groups, as averaging ranks would give.
 * Evaluation: μ, σ² are the running statistics.
 * Keys: momentum (0.1), eps (1e-5), group (0: whole local batch), sync (0).
 * Params: gamma [C] (1), beta [C] (0); buffers running_mean [C] (0),
 * running_var [C] (1).
 * The network may fold a following relu or leaky relu into the layer
 * (l->act, net.c): y = act(γ x̂ + β), and backward takes dy w.r.t. that y,
 * the activation's derivative read from y's sign.
 * x̂ is not kept: backward recomputes it from x (the previous layer's output,
 * still there) with the mean and 1/std forward used, so a step streams
 * x once in forward (after the sums) and dy, y, x twice in backward.
 * scratch: fixed part: work [5C+1] doubles (forward: Σx, Σx², count, then
 * the group's mean and istd, and the running-statistic sums; backward: Σdz,
 * Σdz·x̂ and the three coefficients of dx); per example: room for the mean
 * and istd of [groups ≤ N, C]. */
#include <math.h>

#include "nn/layer.h"

typedef struct {
    double momentum, eps;
    long group;
    int sync;
    int64_t c, s;   /* channels, and values per channel per row (H·W) */
    double count;   /* global count of the last synchronised forward */
} bn_priv;

enum { GAMMA, BETA, RMEAN, RVAR };

/* Reals of the fixed part, rounded to 64 bytes so what follows stays aligned. */
static int64_t work_reals(int64_t c)
{
    int64_t bytes = (5 * c + 1) * (int64_t)sizeof(double);
    return (bytes + 63) / 64 * 64 / (int64_t)sizeof(dt_real);
}

static double *work_of(const dt_layer *l) { return (double *)(void *)l->scratch; }
/* [groups, C] each: the mean and 1/std forward normalised each group with */
static dt_real *mean_of(const dt_layer *l) { return l->scratch + work_reals(((bn_priv *)l->priv)->c); }
static dt_real *istd_of(const dt_layer *l, int64_t n) { return mean_of(l) + n * ((bn_priv *)l->priv)->c; }

/* Batch statistics: in training, unless frozen (then the running ones, as Keras does). */
static int batch_stats(const dt_layer *l, const dt_pass *ps) { return ps->train && !l->frozen; }
static int syncing(const dt_layer *l, const dt_pass *ps)
{
    return batch_stats(l, ps) && ((const bn_priv *)l->priv)->sync && ps->allreduce;
}

/* Number of groups and rows per group (*g; the last group may be smaller). */
static int64_t groups(const dt_layer *l, const dt_pass *ps, int64_t *g)
{
    const bn_priv *p = l->priv;
    int64_t n = ps->n;
    *g = batch_stats(l, ps) && p->group ? p->group : n;
    if (syncing(l, ps)) return 1; /* even of 0 rows, so every rank joins the allreduce */
    return n == 0 ? 0 : (n + *g - 1) / *g;
}

static dt_status bn_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    long sync;
    bn_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    DT_TRY(dt_ini_real(m, sec, "momentum", 0, 0.1, 0, 1, &p->momentum));
    DT_TRY(dt_ini_real(m, sec, "eps", 0, 1e-5, -HUGE_VAL, HUGE_VAL, &p->eps));
    if (!(p->eps > 0 && p->eps <= 1))
        return dt_error(DT_ERR_CONFIG, "%s: [%s] eps = %g: expected a number in (0, 1]",
                        dt_ini_where(m, sec, "eps"), sec, p->eps);
    DT_TRY(dt_ini_int(m, sec, "group", 0, 0, 0, 1L << 30, &p->group));
    DT_TRY(dt_ini_int(m, sec, "sync", 0, 0, 0, 1, &sync));
    p->sync = (int)sync;
    if (p->sync && p->group)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] group = %ld: must be 0 with sync = 1 (statistics over the global batch)",
                        dt_ini_where(m, sec, "group"), sec, p->group);
    p->c = l->in.c;
    p->s = (int64_t)l->in.h * l->in.w;
    int64_t c = p->c;
    l->out = l->in;
    l->nparams = 4;
    l->params[GAMMA] = (dt_param){.name = "gamma", .ndim = 1, .dims = {c}, .size = c};
    l->params[BETA] = (dt_param){.name = "beta", .ndim = 1, .dims = {c}, .size = c};
    l->params[RMEAN] = (dt_param){.name = "running_mean", .ndim = 1, .dims = {c}, .size = c, .buffer = 1};
    l->params[RVAR] = (dt_param){.name = "running_var", .ndim = 1, .dims = {c}, .size = c, .buffer = 1};
    l->scratch_len = 2 * c;
    l->scratch_fixed = work_reals(c);
    l->nstats = 2 * c + 1;
    return DT_OK;
}

static dt_status bn_init(dt_layer *l, dt_rng *rng)
{
    (void)rng; /* draws nothing, so the course's initialisation order is kept */
    for (int64_t i = 0; i < l->params[GAMMA].size; i++) {
        l->params[GAMMA].w[i] = 1;
        l->params[BETA].w[i] = 0;
        l->params[RMEAN].w[i] = 0;
        l->params[RVAR].w[i] = 1;
    }
    return DT_OK;
}

/* *s1 += Σ a, *s2 += Σ a·b over m values, in double. Eight independent
 * partial sums: one serial chain of double additions waits on each add's
 * latency, eight lanes vectorise. */
static void lane_sums(const dt_real *a, const dt_real *b, int64_t m, double *s1, double *s2)
{
    enum { L = 8 };
    double u[L] = {0}, v[L] = {0}, us = 0, vs = 0;
    int64_t j = 0;
    for (; j + L <= m; j += L)
        for (int q = 0; q < L; q++) {
            u[q] += a[j + q];
            v[q] += (double)a[j + q] * b[j + q];
        }
    for (; j < m; j++) {
        us += a[j];
        vs += (double)a[j] * b[j];
    }
    for (int q = 0; q < L; q++) us += u[q], vs += v[q];
    *s1 += us;
    *s2 += vs;
}

/* s1[k] = Σ x, s2[k] = Σ x² per channel over `rows` rows of [rows, C, S],
 * row by row, channel by channel, as the data lies. (Going channel-outer to
 * keep a channel in L2 between the passes was slower: the prefetcher
 * restarts at every plane.) */
static void x_sums(const dt_real *x, int64_t rows, int64_t c, int64_t s, double *s1, double *s2)
{
    for (int64_t k = 0; k < c; k++) s1[k] = s2[k] = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < c; k++) lane_sums(x + (r * c + k) * s, x + (r * c + k) * s, s, &s1[k], &s2[k]);
}

/* The activation folded in, as a slope for negative values: linear 1,
 * relu 0, leaky relu alpha (>= 0). */
static dt_real neg_slope(const dt_layer *l)
{
    return l->act == DT_ACT_RELU ? 0 : l->act == DT_ACT_LEAKY_RELU ? l->act_alpha : 1;
}

/* The pre-activation z = γ x̂ + β, x̂ = (x - mu)·is: forward and backward
 * compute it alike, so backward finds z's sign from x without reading y. */
#define BN_Z(xv) (g * (((xv) - mu) * is) + b)

/* y = act(z) over `rows` rows; mean and istd [C] as forward keeps them. */
static void normalise(const dt_real *x, dt_real *y, int64_t rows, int64_t c, int64_t s, const dt_real *mean,
                      const dt_real *istd, const dt_real *gamma, const dt_real *beta, dt_real slope)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < c; k++) {
            const dt_real *px = x + (r * c + k) * s, mu = mean[k], is = istd[k], g = gamma[k], b = beta[k];
            dt_real *py = y + (r * c + k) * s;
            if (slope == 1)
                for (int64_t j = 0; j < s; j++) py[j] = BN_Z(px[j]);
            else if (slope == 0)
                for (int64_t j = 0; j < s; j++) {
                    dt_real v = BN_Z(px[j]);
                    py[j] = v > 0 ? v : 0;
                }
            else
                for (int64_t j = 0; j < s; j++) {
                    dt_real v = BN_Z(px[j]);
                    py[j] = v > 0 ? v : slope * v;
                }
        }
}

static void forward_eval(dt_layer *l, const dt_pass *ps)
{
    const bn_priv *p = l->priv;
    dt_real *mean = mean_of(l), *istd = istd_of(l, ps->n);
    for (int64_t k = 0; k < p->c; k++) {
        mean[k] = l->params[RMEAN].w[k];
        istd[k] = (dt_real)(1 / sqrt((double)l->params[RVAR].w[k] + p->eps));
    }
    normalise(l->x[0], l->y, ps->n, p->c, p->s, mean, istd, l->params[GAMMA].w, l->params[BETA].w, neg_slope(l));
}

static void bn_forward(dt_layer *l, const dt_pass *ps)
{
    bn_priv *p = l->priv;
    if (!batch_stats(l, ps)) {
        forward_eval(l, ps);
        return;
    }
    int64_t n = ps->n, c = p->c, cs = c * p->s;
    int sy = syncing(l, ps);
    int64_t g, ng = groups(l, ps, &g);
    double *w = work_of(l), *acc_m = w + 2 * c + 1, *acc_v = acc_m + c;
    const dt_real *rm = l->params[RMEAN].w, *rv = l->params[RVAR].w;
    for (int64_t k = 0; k < c; k++) acc_m[k] = acc_v[k] = 0;
    for (int64_t q = 0; q < ng; q++) {
        int64_t r0 = q * g, rows = n - r0 < g ? n - r0 : g;
        dt_real *mean = mean_of(l) + q * c, *istd = istd_of(l, n) + q * c;
        x_sums(l->x[0] + r0 * cs, rows, c, p->s, w, w + c);
        w[2 * c] = (double)(rows * p->s);
        if (sy) ps->allreduce(ps->ctx, w, (int)(2 * c + 1));
        double cnt = w[2 * c];
        if (sy) p->count = cnt;
        for (int64_t k = 0; k < c; k++) {
            double mu = cnt > 0 ? w[k] / cnt : 0, var = cnt > 0 ? w[c + k] / cnt - mu * mu : 0;
            if (var < 0) var = 0; /* rounding in Σx² - mean² */
            /* a group too small for a statistic leaves that running value as it was */
            acc_m[k] += cnt > 0 ? mu : rm[k];
            acc_v[k] += cnt > 1 ? var * cnt / (cnt - 1) : rv[k];
            mean[k] = (dt_real)mu;
            istd[k] = (dt_real)(1 / sqrt(var + p->eps));
        }
        normalise(l->x[0] + r0 * cs, l->y + r0 * cs, rows, c, p->s, mean, istd, l->params[GAMMA].w,
                  l->params[BETA].w, neg_slope(l));
    }
    /* The running statistics change once per step, from the mean over every
     * group of the step (all micro-batches, all ranks): forwards add their
     * groups' statistics to l->stats, the gradient reduction sums those over
     * ranks, and bn_commit applies them. So every rank updates identically. */
    dt_real *st = l->stats;
    for (int64_t k = 0; k < c; k++) {
        st[k] += (dt_real)acc_m[k];
        st[c + k] += (dt_real)acc_v[k];
    }
    st[2 * c] += (dt_real)ng;
}

static void bn_commit(dt_layer *l)
{
    const bn_priv *p = l->priv;
    int64_t c = p->c;
    dt_real *st = l->stats, *rm = l->params[RMEAN].w, *rv = l->params[RVAR].w;
    double ngroups = st[2 * c], mo = p->momentum;
    if (ngroups > 0)
        for (int64_t k = 0; k < c; k++) {
            rm[k] = (dt_real)((1 - mo) * rm[k] + mo * st[k] / ngroups);
            rv[k] = (dt_real)((1 - mo) * rv[k] + mo * st[c + k] / ngroups);
        }
    for (int64_t k = 0; k < 2 * c + 1; k++) st[k] = 0;
}

/* dz = dy through the folded activation, its sign z's (BN_Z of x); no
 * shortcut for linear (slope 1 gives dy either way): a branch in the loop
 * would keep it from vectorising. */
#define BN_DZ(j) (BN_Z(px[j]) > 0 ? pd[j] : slope * pd[j])

/* Per channel over `rows` rows: s1[k] = Σ dz, s2[k] = Σ dz·x̂, x̂ recomputed
 * from x as forward made it. dz and x̂ go through a small buffer first: the
 * element-wise part vectorises as a plain loop, the sums as lane_sums. */
static void dz_sums(const dt_real *dy, const dt_real *x, int64_t rows, int64_t c, int64_t s, const dt_real *mean,
                    const dt_real *istd, const dt_real *gamma, const dt_real *beta, dt_real slope, double *s1,
                    double *s2)
{
    enum { B = 256 };
    dt_real dz[B], xh[B];
    for (int64_t k = 0; k < c; k++) s1[k] = s2[k] = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < c; k++) {
            const dt_real mu = mean[k], is = istd[k], g = gamma[k], b = beta[k];
            for (int64_t j0 = 0; j0 < s; j0 += B) {
                const dt_real *pd = dy + (r * c + k) * s + j0, *px = x + (r * c + k) * s + j0;
                int64_t m = s - j0 < B ? s - j0 : B;
                for (int64_t j = 0; j < m; j++) {
                    xh[j] = (px[j] - mu) * is;
                    dz[j] = BN_DZ(j);
                }
                lane_sums(dz, xh, m, &s1[k], &s2[k]);
            }
        }
}

/* dx = ca·dz + cb + cc·x̂ per channel over `rows` rows (dx += ... when accum). */
static void put_dx(dt_real *dx, int accum, const dt_real *dy, const dt_real *x, int64_t rows, int64_t c, int64_t s,
                   const dt_real *mean, const dt_real *istd, const dt_real *gamma, const dt_real *beta,
                   dt_real slope, const double *a, const double *bb, const double *cx)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < c; k++) {
            const dt_real *pd = dy + (r * c + k) * s, *px = x + (r * c + k) * s;
            const dt_real mu = mean[k], is = istd[k], g = gamma[k], b = beta[k];
            const dt_real ca = (dt_real)a[k], cb = (dt_real)bb[k], cc = (dt_real)cx[k];
            dt_real *pdx = dx + (r * c + k) * s;
            if (accum)
                for (int64_t j = 0; j < s; j++) pdx[j] += ca * BN_DZ(j) + cb + cc * ((px[j] - mu) * is);
            else
                for (int64_t j = 0; j < s; j++) pdx[j] = ca * BN_DZ(j) + cb + cc * ((px[j] - mu) * is);
        }
}

static void bn_backward(dt_layer *l, const dt_pass *ps)
{
    bn_priv *p = l->priv;
    int64_t n = ps->n, c = p->c, cs = c * p->s;
    int sy = syncing(l, ps);
    int64_t g, ng = groups(l, ps, &g);
    double *s1 = work_of(l), *s2 = s1 + c, *a = s2 + c, *b = a + c, *cx = b + c;
    const dt_real *gamma = l->params[GAMMA].w, *beta = l->params[BETA].w, slope = neg_slope(l);
    dt_real *dgamma = l->params[GAMMA].g, *dbeta = l->params[BETA].g, *dx = l->dx[0];
    for (int64_t q = 0; q < ng; q++) {
        int64_t r0 = q * g, rows = n - r0 < g ? n - r0 : g;
        const dt_real *dy = l->dy + r0 * cs, *x = l->x[0] + r0 * cs;
        const dt_real *mean = mean_of(l) + q * c, *istd = istd_of(l, n) + q * c;
        dz_sums(dy, x, rows, c, p->s, mean, istd, gamma, beta, slope, s1, s2);
        /* each rank adds its own share: the trainer sums parameter gradients */
        for (int64_t k = 0; dgamma && k < c; k++) { /* NULL when frozen */
            dbeta[k] += (dt_real)s1[k];
            dgamma[k] += (dt_real)s2[k];
        }
        /* dx NULL is the same on every rank (the network's input), so skipping
         * the collective then keeps the ranks in step */
        if (!dx) continue;
        if (!batch_stats(l, ps)) { /* fixed statistics: dx = γ·istd·dz */
            for (int64_t k = 0; k < c; k++) {
                a[k] = gamma[k] * (double)istd[k];
                b[k] = cx[k] = 0;
            }
        } else {
            /* dx = γ·istd·(dz - Σdz/m - x̂·Σ(dz·x̂)/m), sums over the group (all ranks when synced) */
            if (sy) ps->allreduce(ps->ctx, s1, (int)(2 * c));
            double m = sy ? p->count : (double)(rows * p->s);
            for (int64_t k = 0; k < c; k++) {
                a[k] = gamma[k] * (double)istd[k];
                b[k] = m > 0 ? -a[k] * s1[k] / m : 0;
                cx[k] = m > 0 ? -a[k] * s2[k] / m : 0;
            }
        }
        put_dx(dx + r0 * cs, l->dx_accum[0], dy, x, rows, c, p->s, mean, istd, gamma, beta, slope, a, b, cx);
    }
}

static void bn_destroy(dt_layer *l) { dt_free(l->priv); }

const dt_layer_ops dt_batchnorm_ops = {"batchnorm", bn_configure, bn_init, bn_forward,
                                       bn_backward, bn_destroy, 1, bn_commit, 0, .folds_act = 1};
