/* loss_mse.c — mean squared error against a dense target.
 *
 *   loss per row = (1/D) Σ_j (y_j - t_j)²,  y, t [n, D]
 * so the batch mean equals PyTorch's MSELoss(reduction = "mean"). Reads
 * any layer's output (after its activation). */
#include "nn/loss.h"

static dt_status mse_configure(dt_loss_term *t, dt_ini *m, const char *sec)
{
    (void)m;
    (void)sec;
    t->fused = 0;
    return DT_OK;
}

static void mse_forward(dt_loss_term *t, const dt_targets *tg, int64_t n, dt_real g, double *sum, int64_t *correct)
{
    (void)correct;
    const dt_real *y = t->src->y, *tt = tg->dense;
    int64_t d = t->size;
    double ls = 0, inv = 1.0 / (double)d;
    dt_real k = (dt_real)(2 * inv) * g;
    for (int64_t i = 0; i < n * d; i++) {
        double e = (double)y[i] - (double)tt[i];
        ls += e * e;
        if (g != 0) dt_loss_put(t->src->dy, t->dy_accum, i, (y[i] - tt[i]) * k);
    }
    *sum += ls * inv;
}

const dt_loss_ops dt_mse_ops = {
    .type = "mse",
    .target = DT_TARGET_DENSE,
    .configure = mse_configure,
    .forward = mse_forward,
    .predict = NULL,
};
