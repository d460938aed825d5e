/* scale.c — per-channel affine map with a fused activation: dlib's and
 * Caffe's "scale" layer (a batch norm folded into fixed per-channel weights).
 *
 *   x [N, C, H, W] (dense [N, F] read as [N, F, 1, 1]):
 *   z[n,c,:,:] = x[n,c,:,:] · w[c] + b[c];  y = act(z)
 * Keys: bias (1), activation (linear), alpha.
 * Params: w [C] (1), b [C] (0); neither decays, as batch norm's gamma, beta.
 * scratch: z [N, C·H·W] for sigmoid and softmax only, the activations a loss
 * can be fused with (l->z); backward takes the other derivatives from y, as
 * conv2d does. A softmax runs over each example's C·H·W values. */
#include <string.h>

#include "nn/layer.h"

typedef struct {
    int bias;
    int keep_z; /* z kept apart from y, for a loss */
} scale_priv;

enum { L = 64 / sizeof(dt_real) }; /* lanes of the reductions: one 64-byte vector */

static dt_status scale_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    long bias;
    scale_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    DT_TRY(dt_ini_int(m, sec, "bias", 0, 1, 0, 1, &bias));
    DT_TRY(dt_layer_read_act(l, m, sec, "linear"));
    p->bias = (int)bias;
    p->keep_z = l->act == DT_ACT_SIGMOID || l->act == DT_ACT_SOFTMAX;
    int64_t c = l->in.c;
    l->out = l->in;
    l->nparams = p->bias ? 2 : 1;
    l->params[0] = (dt_param){.name = "w", .ndim = 1, .dims = {c}, .size = c};
    if (p->bias) l->params[1] = (dt_param){.name = "b", .ndim = 1, .dims = {c}, .size = c};
    l->scratch_len = p->keep_z ? dt_shape_size(l->out) : 0;
    return DT_OK;
}

static dt_status scale_init(dt_layer *l, dt_rng *rng)
{
    (void)rng;
    const scale_priv *p = l->priv;
    for (int64_t c = 0; c < l->params[0].size; c++) l->params[0].w[c] = 1;
    if (p->bias) memset(l->params[1].w, 0, (size_t)l->params[1].size * sizeof(dt_real));
    return DT_OK;
}

static void scale_forward(dt_layer *l, const dt_pass *ps)
{
    const scale_priv *p = l->priv;
    int64_t C = l->in.c, S = (int64_t)l->in.h * l->in.w;
    const dt_real *w = l->params[0].w, *b = p->bias ? l->params[1].w : NULL;
    dt_real *z = p->keep_z ? l->scratch : l->y;
    for (int64_t q = 0; q < ps->n * C; q++) { /* plane q = example * C + channel */
        const dt_real *x = l->x[0] + q * S;
        dt_real *zq = z + q * S, wc = w[q % C], bc = b ? b[q % C] : 0;
        for (int64_t t = 0; t < S; t++) zq[t] = x[t] * wc + bc;
    }
    dt_act_forward(l->act, z, l->y, ps->n, C * S, l->act_alpha);
    l->z = p->keep_z || l->act == DT_ACT_LINEAR ? z : NULL;
}

/* Σ a[t] (and Σ a[t] v[t] into *av) in independent lanes, so they vectorise without -ffast-math. */
static dt_real sums(const dt_real *a, const dt_real *v, int64_t n, dt_real *av)
{
    dt_real s[L] = {0}, d[L] = {0}, s1 = 0, d1 = 0;
    int64_t t = 0;
    for (; t + L <= n; t += L)
        for (int u = 0; u < L; u++) {
            s[u] += a[t + u];
            d[u] += a[t + u] * v[t + u];
        }
    for (; t < n; t++) {
        s1 += a[t];
        d1 += a[t] * v[t];
    }
    for (int u = 0; u < L; u++) {
        s1 += s[u];
        d1 += d[u];
    }
    *av = d1;
    return s1;
}

static void scale_backward(dt_layer *l, const dt_pass *ps)
{
    const scale_priv *p = l->priv;
    int64_t C = l->in.c, S = (int64_t)l->in.h * l->in.w;
    const dt_real *w = l->params[0].w;
    dt_real *dw = l->params[0].g, *db = p->bias ? l->params[1].g : NULL; /* NULL when frozen */
    if (!l->fused_output) /* dy is ours and dead after this: dz in place; y stands in for z */
        dt_act_backward(l->act, l->y, l->y, l->dy, l->dy, ps->n, C * S, l->act_alpha);
    for (int64_t q = 0; q < ps->n * C; q++) {
        const dt_real *dz = l->dy + q * S, *x = l->x[0] + q * S;
        int64_t c = q % C;
        if (dw || db) {
            dt_real dzx, s = sums(dz, x, S, &dzx);
            if (dw) dw[c] += dzx;
            if (db) db[c] += s;
        }
        if (!l->dx[0]) continue;
        dt_real *dx = l->dx[0] + q * S, wc = w[c];
        if (l->dx_accum[0])
            for (int64_t t = 0; t < S; t++) dx[t] += dz[t] * wc;
        else
            for (int64_t t = 0; t < S; t++) dx[t] = dz[t] * wc;
    }
}

static void scale_destroy(dt_layer *l) { dt_free(l->priv); }

const dt_layer_ops dt_scale_ops = {.type = "scale",
                                   .configure = scale_configure,
                                   .init = scale_init,
                                   .forward = scale_forward,
                                   .backward = scale_backward,
                                   .destroy = scale_destroy,
                                   .ninputs = 1};
