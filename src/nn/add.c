/* add.c — element-wise sum of two inputs, with an optional activation
 * (a residual block ends in add + relu).
 *
 *   x0 [N, C, H, W] + x1 [N, C, H, W] = z;  y = act(z)
 * Keys: inputs (two earlier layers, or `input`; the network resolves them),
 *       activation (linear), alpha (leaky relu slope).
 * scratch holds z [N, C·H·W] when the activation is not linear (for the
 * backward pass and the loss); a linear add writes z straight into y.
 * Both inputs may be the same layer: dx[0] and dx[1] are then one buffer
 * and dx_accum[1] is set, so the gradient lands twice, as it should. */
#include "nn/layer.h"

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
    l->scratch_len = l->act == DT_ACT_LINEAR ? 0 : dt_shape_size(a);
    return DT_OK;
}

static void add_forward(dt_layer *l, const dt_pass *ps)
{
    int64_t f = dt_shape_size(l->in), total = ps->n * f;
    const dt_real *x0 = l->x[0], *x1 = l->x[1];
    dt_real *z = l->act == DT_ACT_LINEAR ? l->y : l->scratch;
    for (int64_t i = 0; i < total; i++) z[i] = x0[i] + x1[i];
    dt_act_forward(l->act, z, l->y, ps->n, f, l->act_alpha); /* a no-op when linear */
    l->z = z;
}

static void add_backward(dt_layer *l, const dt_pass *ps)
{
    int64_t f = dt_shape_size(l->in), total = ps->n * f;
    if (!l->dx[0] && !l->dx[1]) return;
    const dt_real *z = l->act == DT_ACT_LINEAR ? l->y : l->scratch;
    if (!l->fused_output) /* dy is ours and dead after this: turn it into dz in place */
        dt_act_backward(l->act, z, l->y, l->dy, l->dy, ps->n, f, l->act_alpha);
    for (int k = 0; k < 2; k++) /* in order: with one source, k = 0 writes and k = 1 adds */
        if (l->dx[k]) dt_layer_put_dx(l->dx[k], l->dx_accum[k], l->dy, total);
}

const dt_layer_ops dt_add_ops = {"add", add_configure, NULL, add_forward, add_backward, NULL, 2, NULL, 0};
