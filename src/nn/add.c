/* add.c — element-wise sum of two inputs, with an optional activation
 * (a residual block ends in add + relu).
 *
 *   x0 [N, C, H, W] + x1 [N, C, H, W] = z;  y = act(z)
 * Keys: inputs (two earlier layers, or `input`; the network resolves them),
 *       activation (linear), alpha (leaky relu slope).
 * One pass each way: forward writes y = act(x0 + x1) straight; backward
 * reads dz from dy and y (relu and leaky relu: y's sign is z's) and writes
 * both input gradients. Other activations keep z in scratch [N, C·H·W]
 * for their derivative.
 * Both inputs may be the same layer: dx[0] and dx[1] are then one buffer
 * and dx_accum[1] is set, so the gradient lands twice, as it should. */
#include "nn/layer.h"

/* Whether dz comes from y's sign (linear, relu, leaky relu with alpha >= 0),
 * and then the slope of negative values. */
static int by_sign(const dt_layer *l)
{
    return l->act == DT_ACT_LINEAR || l->act == DT_ACT_RELU || (l->act == DT_ACT_LEAKY_RELU && l->act_alpha >= 0);
}
static dt_real neg_slope(const dt_layer *l)
{
    return l->act == DT_ACT_RELU ? 0 : l->act == DT_ACT_LEAKY_RELU ? l->act_alpha : 1;
}

static dt_status add_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    dt_shape a = l->in, b = l->in2;
    if (a.c != b.c || a.h != b.h || a.w != b.w) {
        const char *v;
        DT_TRY(dt_ini_str(m, sec, "inputs", "", &v));
        return dt_error(DT_ERR_CONFIG, "%s: [%s] inputs = '%s': shapes %dx%dx%d and %dx%dx%d differ",
                        dt_ini_where(m, sec, "inputs"), sec, v, a.c, a.h, a.w, b.c, b.h, b.w);
    }
    DT_TRY(dt_layer_read_act(l, m, sec, "linear"));
    l->out = a;
    l->scratch_len = by_sign(l) ? 0 : dt_shape_size(a);
    return DT_OK;
}

static void add_forward(dt_layer *l, const dt_pass *ps)
{
    int64_t f = dt_shape_size(l->in), total = ps->n * f;
    const dt_real *x0 = l->x[0], *x1 = l->x[1];
    dt_real *y = l->y, slope = neg_slope(l);
    if (!by_sign(l)) {
        for (int64_t i = 0; i < total; i++) l->scratch[i] = x0[i] + x1[i];
        dt_act_forward(l->act, l->scratch, y, ps->n, f, l->act_alpha);
        l->z = l->scratch;
        return;
    }
    if (slope == 1)
        for (int64_t i = 0; i < total; i++) y[i] = x0[i] + x1[i];
    else if (slope == 0)
        for (int64_t i = 0; i < total; i++) {
            dt_real v = x0[i] + x1[i];
            y[i] = v > 0 ? v : 0;
        }
    else
        for (int64_t i = 0; i < total; i++) {
            dt_real v = x0[i] + x1[i];
            y[i] = v > 0 ? v : slope * v;
        }
    l->z = l->act == DT_ACT_LINEAR ? y : NULL; /* a loss fuses with sigmoid or softmax only */
}

static void add_backward(dt_layer *l, const dt_pass *ps)
{
    int64_t f = dt_shape_size(l->in), total = ps->n * f;
    if (!l->dx[0] && !l->dx[1]) return;
    if (!by_sign(l) || l->fused_output || !l->dx[0] || !l->dx[1] || l->dx[0] == l->dx[1]) {
        /* dy is ours and dead after this: turn it into dz in place, then hand it on */
        if (!l->fused_output) dt_act_backward(l->act, by_sign(l) ? l->y : l->scratch, l->y, l->dy, l->dy, ps->n, f, l->act_alpha);
        for (int k = 0; k < 2; k++) /* in order: with one source, k = 0 writes and k = 1 adds */
            if (l->dx[k]) dt_layer_put_dx(l->dx[k], l->dx_accum[k], l->dy, total);
        return;
    }
    /* the usual residual add: dz from y's sign, to both inputs in one pass */
    const dt_real *dy = l->dy, *y = l->y, slope = neg_slope(l);
    dt_real *d0 = l->dx[0], *d1 = l->dx[1];
    int a0 = l->dx_accum[0], a1 = l->dx_accum[1];
    for (int64_t i = 0; i < total; i++) {
        dt_real dz = slope == 1 || y[i] > 0 ? dy[i] : slope * dy[i];
        d0[i] = a0 ? d0[i] + dz : dz;
        d1[i] = a1 ? d1[i] + dz : dz;
    }
}

const dt_layer_ops dt_add_ops = {"add", add_configure, NULL, add_forward, add_backward, NULL, 2, NULL, 0, 0};
