/* loss_style.c — neural style transfer's style cost of one layer (course
 * 4, week 4):
 *
 *   J_style = Σ (G_S − G_G)² / (4 · n_C² · (n_H·n_W)²),   G = A·Aᵀ
 *
 * per example, with A the layer's output [n_C, n_H·n_W] (an NCHW row is
 * already that matrix; the course unrolls NHWC to the same Gram) for the
 * generated image, and G_S the Gram of the style image's, captured
 * beforehand (dt_net_capture). Several layers: one section each, `weight`
 * = β · λ_layer. ∂J/∂A = 4k · (G_G − G_S) · A with k = 1/(4·n_C²·(n_H·n_W)²),
 * since G_G − G_S is symmetric. */
#include "nn/loss.h"

static dt_status style_configure(dt_loss_term *t, dt_ini *m, const char *sec)
{
    t->fused = 0;
    if (t->src->out.h * t->src->out.w < 1 || t->src->out.c < 1)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] a style loss reads a layer with channels and a map", dt_ini_name(m), sec);
    return DT_OK;
}

static int64_t style_ref_size(const dt_loss_term *t) { return (int64_t)t->src->out.c * t->src->out.c; }

/* gram[c, c] = A·Aᵀ of one row A [c, hw] */
static void gram(const dt_loss_term *t, const dt_real *a, dt_real *out)
{
    int64_t c = t->src->out.c, hw = (int64_t)t->src->out.h * t->src->out.w;
    dt_gemm(0, 1, c, c, hw, 1, a, hw, a, hw, 0, out, c);
}

static void style_capture(dt_loss_term *t) { gram(t, t->src->y, t->ref); }

static void style_forward(dt_loss_term *t, const dt_targets *tg, int64_t n, dt_real g, double *sum, int64_t *correct)
{
    (void)tg;
    (void)correct;
    int64_t c = t->src->out.c, hw = (int64_t)t->src->out.h * t->src->out.w, d = t->size;
    double k = 1.0 / (4.0 * (double)c * (double)c * (double)hw * (double)hw), ls = 0;
    dt_real *diff = t->work;
    for (int64_t r = 0; r < n; r++) {
        const dt_real *a = t->src->y + r * d;
        gram(t, a, diff);
        for (int64_t i = 0; i < c * c; i++) {
            diff[i] -= t->ref[i]; /* G_G − G_S */
            ls += (double)diff[i] * (double)diff[i];
        }
        if (g != 0) /* dy = 4k·g · (G_G − G_S)·A, written or added */
            dt_gemm(0, 0, c, hw, c, (dt_real)(4 * k) * g, diff, c, a, hw, t->dy_accum ? 1 : 0, t->src->dy + r * d, hw);
    }
    *sum += ls * k;
}

const dt_loss_ops dt_style_ops = {
    .type = "style",
    .target = DT_TARGET_NONE,
    .configure = style_configure,
    .forward = style_forward,
    .ref_size = style_ref_size,
    .capture = style_capture,
};
