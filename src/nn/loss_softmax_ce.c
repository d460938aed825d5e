/* loss_softmax_ce.c — softmax cross-entropy against class labels.
 *
 *   loss per row = -log softmax(z)[t],  z [n, K] the logits, t the label
 * Reads a layer with activation = softmax (then fused: the gradient a - onehot(t)
 * goes to the pre-activation) or a linear layer (logits; the same gradient,
 * with the softmax computed here). K ≥ 2. */
#include <math.h>

#include "nn/loss.h"

static dt_status ce_configure(dt_loss_term *t, dt_ini *m, const char *sec)
{
    const dt_layer *src = t->src;
    if (t->size < 2 || (src->act != DT_ACT_SOFTMAX && src->act != DT_ACT_LINEAR))
        return dt_error(DT_ERR_CONFIG, "%s: [%s] softmax_ce reads two or more units of a layer with activation = softmax "
                                       "or linear (logits); '%s' has %lld with activation = %s",
                        dt_ini_name(m), sec, src->name, (long long)t->size, dt_act_names[src->act]);
    t->fused = src->act == DT_ACT_SOFTMAX;
    t->nclasses = (int)t->size;
    return DT_OK;
}

/* The row's logits: the pre-activation of a softmax layer, else its output. */
static const dt_real *logits(const dt_loss_term *t) { return t->fused ? t->src->z : t->src->y; }

/* The predicted class: the largest output, as the course compares probabilities. */
static int64_t argmax(const dt_loss_term *t, int64_t r)
{
    int64_t k = t->size, best = 0;
    const dt_real *v = t->src->y + r * k; /* probabilities when fused, else logits */
    for (int64_t j = 1; j < k; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

static void ce_forward(dt_loss_term *t, const dt_targets *tg, int64_t n, dt_real g, double *sum, int64_t *correct)
{
    const dt_real *z = logits(t);
    dt_real *dy = t->src->dy;
    int64_t k = t->size, ok = 0;
    double ls = 0;
    for (int64_t r = 0; r < n; r++) {
        const dt_real *zr = z + r * k;
        int32_t y = tg->labels[r];
        double mx = zr[0], s = 0;
        int64_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (zr[j] > mx) mx = zr[j];
        best = argmax(t, r);
        for (int64_t j = 0; j < k; j++) s += exp(zr[j] - mx);
        ls += log(s) + mx - zr[y];
        ok += best == y;
        if (g == 0) continue;
        const dt_real *ar = t->fused ? t->src->y + r * k : NULL;
        for (int64_t j = 0; j < k; j++) {
            dt_real a = ar ? ar[j] : (dt_real)(exp(zr[j] - mx) / s);
            dt_loss_put(dy, t->dy_accum, r * k + j, (a - (j == y ? (dt_real)1 : 0)) * g);
        }
    }
    *sum += ls;
    if (correct) *correct += ok;
}

static void ce_predict(const dt_loss_term *t, int64_t n, int32_t *cls, dt_real *prob)
{
    const dt_real *z = logits(t);
    int64_t k = t->size;
    for (int64_t r = 0; r < n; r++) {
        const dt_real *zr = z + r * k;
        int64_t best = argmax(t, r);
        cls[r] = (int32_t)best;
        if (!prob) continue;
        if (t->fused) {
            prob[r] = t->src->y[r * k + best];
            continue;
        }
        double s = 0;
        for (int64_t j = 0; j < k; j++) s += exp(zr[j] - zr[best]);
        prob[r] = (dt_real)(1 / s);
    }
}

const dt_loss_ops dt_softmax_ce_ops = {
    .type = "softmax_ce",
    .target = DT_TARGET_LABEL,
    .configure = ce_configure,
    .forward = ce_forward,
    .predict = ce_predict,
};
