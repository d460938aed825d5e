/* dropout.c — inverted dropout.
 *
 *   y = x ⊙ mask / keep in training, y = x in evaluation.
 * Keys: keep (keep probability, in (0, 1]).
 * The mask comes from a counter-based stream keyed by (seed, layer, step,
 * global sample index, unit), so it is the same whichever rank holds the
 * sample. scratch holds the scaled mask [N, features]. */
#include "nn/layer.h"

typedef struct {
    double keep;
} dropout_priv;

static dt_status dropout_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    dropout_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    DT_TRY(dt_ini_real(m, sec, "keep", 1, 0, 1e-6, 1, &p->keep));
    l->out = l->in;
    l->scratch_len = dt_shape_size(l->in);
    return DT_OK;
}

static void dropout_forward(dt_layer *l, const dt_pass *ps)
{
    const dt_real *x = l->x[0];
    const dropout_priv *p = l->priv;
    int64_t f = dt_shape_size(l->in), n = ps->n;
    if (!ps->train || p->keep >= 1) {
        for (int64_t i = 0; i < n * f; i++) l->y[i] = x[i];
        return;
    }
    dt_real scale = (dt_real)(1.0 / p->keep);
    for (int64_t r = 0; r < n; r++) {
        uint64_t id = (uint64_t)ps->sample_ids[r];
        for (int64_t j = 0; j < f; j++) {
            double u = dt_hash_uniform(ps->seed, (uint64_t)l->index, ps->step, id * (uint64_t)f + (uint64_t)j);
            dt_real m = u < p->keep ? scale : 0;
            l->scratch[r * f + j] = m;
            l->y[r * f + j] = x[r * f + j] * m;
        }
    }
}

static void dropout_backward(dt_layer *l, const dt_pass *ps)
{
    const dropout_priv *p = l->priv;
    int64_t total = dt_shape_size(l->in) * ps->n;
    dt_real *dx = l->dx[0];
    if (!dx) return;
    if (!ps->train || p->keep >= 1) {
        dt_layer_put_dx(dx, l->dx_accum[0], l->dy, total);
        return;
    }
    for (int64_t i = 0; i < total; i++) l->dy[i] *= l->scratch[i]; /* dy is ours and dead after this */
    dt_layer_put_dx(dx, l->dx_accum[0], l->dy, total);
}

static void dropout_destroy(dt_layer *l) { dt_free(l->priv); }

const dt_layer_ops dt_dropout_ops = {"dropout", dropout_configure, NULL, dropout_forward,
                                     dropout_backward, dropout_destroy, 1, NULL, 0, 0};
