/* gap.c — global average pooling: the mean of each channel's plane.
 *
 *   x [N, C, H, W] → y [N, C] (out shape {C, 1, 1}), y = Σ_hw x / (H·W)
 * No keys. Backward spreads dy / (H·W) over the plane. */
#include "nn/layer.h"

static dt_status gap_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    l->out = (dt_shape){l->in.c, 1, 1};
    return DT_OK;
}

static void gap_forward(dt_layer *l, const dt_pass *ps)
{
    int64_t hw = (int64_t)l->in.h * l->in.w, planes = ps->n * l->in.c;
    dt_real inv = (dt_real)(1.0 / (double)hw);
    for (int64_t pl = 0; pl < planes; pl++) {
        const dt_real *x = l->x[0] + pl * hw;
        dt_real s = 0;
        for (int64_t i = 0; i < hw; i++) s += x[i];
        l->y[pl] = s * inv;
    }
}

static void gap_backward(dt_layer *l, const dt_pass *ps)
{
    dt_real *dx = l->dx[0];
    if (!dx) return;
    int64_t hw = (int64_t)l->in.h * l->in.w, planes = ps->n * l->in.c;
    dt_real inv = (dt_real)(1.0 / (double)hw);
    for (int64_t pl = 0; pl < planes; pl++) {
        dt_real g = l->dy[pl] * inv, *d = dx + pl * hw;
        if (l->dx_accum[0])
            for (int64_t i = 0; i < hw; i++) d[i] += g;
        else
            for (int64_t i = 0; i < hw; i++) d[i] = g;
    }
}

const dt_layer_ops dt_global_avgpool_ops = {"global_avgpool", gap_configure, NULL, gap_forward, gap_backward,
                                            NULL, 1, NULL, 0, 0};
