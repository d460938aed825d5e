/* loss_content.c — neural style transfer's content cost (course 4, week 4):
 *
 *   J_content = Σ (a_C − a_G)² / (4 · n_H · n_W · n_C)
 *
 * per example, with a_G the layer's output for the generated image and a_C
 * the same layer's output for the content image, captured beforehand
 * (dt_net_capture). The sum runs over every value, so the layout (NCHW
 * here, NHWC in the course) does not change it. ∂J/∂a_G = (a_G − a_C) / (2·D)
 * with D = n_H·n_W·n_C. */
#include <string.h>

#include "nn/loss.h"

static dt_status content_configure(dt_loss_term *t, dt_ini *m, const char *sec)
{
    (void)m;
    (void)sec;
    t->fused = 0;
    return DT_OK;
}

static int64_t content_ref_size(const dt_loss_term *t) { return t->size; }

static void content_capture(dt_loss_term *t) { memcpy(t->ref, t->src->y, (size_t)t->size * sizeof(dt_real)); }

static void content_forward(dt_loss_term *t, const dt_targets *tg, int64_t n, dt_real g, double *sum, int64_t *correct)
{
    (void)tg;
    (void)correct;
    int64_t d = t->size;
    double inv = 1.0 / (4.0 * (double)d), ls = 0;
    dt_real k = (dt_real)(2 * inv) * g;
    for (int64_t r = 0; r < n; r++) {
        const dt_real *y = t->src->y + r * d;
        for (int64_t i = 0; i < d; i++) {
            double e = (double)y[i] - (double)t->ref[i];
            ls += e * e;
            if (g != 0) dt_loss_put(t->src->dy, t->dy_accum, r * d + i, (y[i] - t->ref[i]) * k);
        }
    }
    *sum += ls * inv;
}

const dt_loss_ops dt_content_ops = {
    .type = "content",
    .target = DT_TARGET_NONE,
    .configure = content_configure,
    .forward = content_forward,
    .ref_size = content_ref_size,
    .capture = content_capture,
};
