/* activation.c — a stand-alone activation layer: y = f(x), same shape.
 * Keys: activation (required), alpha (leaky relu slope). */
#include "nn/layer.h"

static dt_status act_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    DT_TRY(dt_layer_read_act(l, m, sec, NULL));
    l->out = l->in;
    return DT_OK;
}

static void act_forward(dt_layer *l, const dt_real *x, const dt_pass *ps)
{
    dt_act_forward(l->act, x, l->y, ps->n, dt_shape_size(l->in), l->act_alpha);
    l->z = x;
}

static void act_backward(dt_layer *l, const dt_real *x, dt_real *dx, const dt_pass *ps)
{
    if (!dx) return;
    if (l->fused_output) {
        for (int64_t i = 0; i < ps->n * dt_shape_size(l->in); i++) dx[i] = l->dy[i];
        return;
    }
    dt_act_backward(l->act, x, l->y, l->dy, dx, ps->n, dt_shape_size(l->in), l->act_alpha);
}

const dt_layer_ops dt_activation_ops = {"activation", act_configure, NULL, act_forward, act_backward,
                                        NULL};
