/* l2norm.c — each row scaled to unit Euclidean length, the embedding
 * FaceNet's triplet loss reads (tf.nn.l2_normalize):
 *
 *   x [N, F] (any shape, F = C·H·W values per row) → y = x / sqrt(max(Σ x², eps))
 * Keys: eps (1e-10, TensorFlow's FaceNet value).
 * Backward: dx = (dy − y (y·dy)) / ‖x‖; where Σ x² ≤ eps the scale is the
 * constant 1/sqrt(eps), so dx = dy / sqrt(eps).
 * scratch: the row's divisor sqrt(max(Σ x², eps)), one real per row. */
#include <math.h>

#include "nn/layer.h"

typedef struct {
    double eps;
} l2_priv;

static dt_status l2_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    l2_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    DT_TRY(dt_ini_real(m, sec, "eps", 0, 1e-10, 1e-30, 1, &p->eps));
    l->out = l->in;
    l->scratch_len = 1;
    return DT_OK;
}

static void l2_forward(dt_layer *l, const dt_pass *ps)
{
    const l2_priv *p = l->priv;
    int64_t F = dt_shape_size(l->in);
    for (int64_t r = 0; r < ps->n; r++) {
        const dt_real *x = l->x[0] + r * F;
        dt_real *y = l->y + r * F;
        double s = 0;
        for (int64_t i = 0; i < F; i++) s += (double)x[i] * x[i];
        double d = sqrt(s > p->eps ? s : p->eps);
        l->scratch[r] = (dt_real)d;
        for (int64_t i = 0; i < F; i++) y[i] = (dt_real)(x[i] / d);
    }
    l->z = NULL;
}

static void l2_backward(dt_layer *l, const dt_pass *ps)
{
    const l2_priv *p = l->priv;
    if (!l->dx[0]) return;
    int64_t F = dt_shape_size(l->in);
    for (int64_t r = 0; r < ps->n; r++) {
        const dt_real *y = l->y + r * F, *x = l->x[0] + r * F;
        dt_real *dy = l->dy + r * F, *dx = l->dx[0] + r * F;
        double d = l->scratch[r], s = 0, yd = 0;
        for (int64_t i = 0; i < F; i++) s += (double)x[i] * x[i], yd += (double)y[i] * dy[i];
        if (s <= p->eps) yd = 0; /* the constant divisor: no term through the norm */
        for (int64_t i = 0; i < F; i++) {
            dt_real g = (dt_real)((dy[i] - y[i] * yd) / d);
            dx[i] = l->dx_accum[0] ? dx[i] + g : g;
        }
    }
}

static void l2_destroy(dt_layer *l) { dt_free(l->priv); }

const dt_layer_ops dt_l2norm_ops = {"l2norm", l2_configure, NULL, l2_forward, l2_backward, l2_destroy, 1, NULL, 0, 0};
