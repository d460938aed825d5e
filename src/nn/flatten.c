/* flatten.c — images to feature vectors.
 *
 *   x [N, C, H, W] → y [N, C·H·W] (out shape {C·H·W, 1, 1})
 * Features come in C, H, W order, which is already the memory order, so
 * both passes are copies. No keys. */
#include "nn/layer.h"

static dt_status flatten_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    int64_t f = dt_shape_size(l->in);
    if (f > INT32_MAX)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] input of %lld values is too large to flatten", dt_ini_name(m), sec,
                        (long long)f);
    l->out = (dt_shape){(int)f, 1, 1};
    return DT_OK;
}

static void flatten_forward(dt_layer *l, const dt_pass *ps)
{
    const dt_real *x = l->x[0];
    dt_real *y = l->y;
    int64_t total = ps->n * dt_shape_size(l->in);
    for (int64_t i = 0; i < total; i++) y[i] = x[i];
}

static void flatten_backward(dt_layer *l, const dt_pass *ps)
{
    if (l->dx[0]) dt_layer_put_dx(l->dx[0], l->dx_accum[0], l->dy, ps->n * dt_shape_size(l->in));
}

const dt_layer_ops dt_flatten_ops = {"flatten", flatten_configure, NULL, flatten_forward, flatten_backward,
                                     NULL, 1, NULL, 0, 0};
