/* loss_bce.c — binary cross-entropy against labels 0 and 1.
 *
 *   loss per row = -(t log σ(z) + (1 - t) log(1 - σ(z))),  z [n, 1]
 * Reads one unit with activation = sigmoid (fused: the gradient a - t goes
 * to the pre-activation) or linear (a logit). Written so it never overflows. */
#include <math.h>

#include "nn/loss.h"

static dt_status bce_configure(dt_loss_term *t, dt_ini *m, const char *sec)
{
    const dt_layer *src = t->src;
    if (t->size != 1 || (src->act != DT_ACT_SIGMOID && src->act != DT_ACT_LINEAR))
        return dt_error(DT_ERR_CONFIG, "%s: [%s] bce reads one unit of a layer with activation = sigmoid or linear (a logit); "
                                       "'%s' has %lld with activation = %s",
                        dt_ini_name(m), sec, src->name, (long long)t->size, dt_act_names[src->act]);
    t->fused = src->act == DT_ACT_SIGMOID;
    t->nclasses = 2;
    return DT_OK;
}

static const dt_real *logits(const dt_loss_term *t) { return t->fused ? t->src->z : t->src->y; }

/* σ(z): the layer's output when fused. */
static dt_real prob1(const dt_loss_term *t, int64_t r)
{
    return t->fused ? t->src->y[r] : (dt_real)(1 / (1 + exp(-(double)t->src->y[r])));
}

static void bce_forward(dt_loss_term *t, const dt_targets *tg, int64_t n, dt_real g, double *sum, int64_t *correct)
{
    const dt_real *z = logits(t);
    double ls = 0;
    int64_t ok = 0;
    for (int64_t r = 0; r < n; r++) {
        double zz = z[r], y = tg->labels[r];
        ls += (zz > 0 ? zz : 0) - zz * y + log1p(exp(-fabs(zz)));
        dt_real a = prob1(t, r);
        ok += (a > (dt_real)0.5) == (tg->labels[r] == 1);
        if (g != 0) dt_loss_put(t->src->dy, t->dy_accum, r, (a - (dt_real)y) * g);
    }
    *sum += ls;
    if (correct) *correct += ok;
}

static void bce_predict(const dt_loss_term *t, int64_t n, int32_t *cls, dt_real *prob)
{
    for (int64_t r = 0; r < n; r++) {
        dt_real a = prob1(t, r);
        cls[r] = a > (dt_real)0.5;
        if (prob) prob[r] = cls[r] ? a : 1 - a;
    }
}

const dt_loss_ops dt_bce_ops = {
    .type = "bce",
    .target = DT_TARGET_LABEL,
    .configure = bce_configure,
    .forward = bce_forward,
    .predict = bce_predict,
};
