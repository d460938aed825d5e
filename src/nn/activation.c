/* activation.c — a stand-alone activation layer: y = f(x), same shape.
 * Keys: activation (required), alpha (leaky relu slope). */
#include "nn/layer.h"

static dt_status act_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    DT_TRY(dt_layer_read_act(l, m, sec, NULL));
    l->out = l->in;
    return DT_OK;
}

static void act_forward(dt_layer *l, const dt_pass *ps)
{
    dt_act_forward(l->act, l->x[0], l->y, ps->n, dt_shape_size(l->in), l->act_alpha);
    l->z = l->x[0];
}

static void act_backward(dt_layer *l, const dt_pass *ps)
{
    int64_t n = ps->n * dt_shape_size(l->in);
    if (!l->dx[0]) return;
    if (!l->fused_output) /* dy is ours and dead after this: turn it into dz in place */
        dt_act_backward(l->act, l->x[0], l->y, l->dy, l->dy, ps->n, dt_shape_size(l->in), l->act_alpha);
    dt_layer_put_dx(l->dx[0], l->dx_accum[0], l->dy, n);
}

const dt_layer_ops dt_activation_ops = {"activation", act_configure, NULL, act_forward, act_backward,
                                        NULL, 1, NULL, 0, 0};
