/* zeropad.c — pad images with zeros, around and (optionally) as extra channels.
 *
 *   x [N, C, H, W] -> y [N, C+K, T+H+B, L+W+R], x in the middle of the first
 *   C channels, zeros around and in the K appended channels; backward crops
 *   dy back to [N, C, H, W] (the appended channels get no gradient).
 * Keys: padding: "p" (all sides), "ph,pw" (top and bottom ph, left and
 *       right pw) or "top,bottom,left,right", each >= 0; required unless
 *       channels is given (then 0).
 *       channels (0): K, the zero channels appended after the input's (a
 *       ResNet shortcut that widens: avgpool, then zero channels, as dlib's). */
#include <string.h>

#include "nn/layer.h"

typedef struct {
    int t, b, l, r;
    int k; /* appended channels */
} zeropad_priv;

static dt_status zeropad_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    long v[4], k;
    int n;
    zeropad_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    DT_TRY(dt_ini_int(m, sec, "channels", 0, 0, 0, 1L << 20, &k));
    dt_status s = dt_ini_ints(m, sec, "padding", k == 0, v, 4, &n);
    if (s == DT_OK && n == 3) s = DT_ERR_CONFIG;
    for (int i = 0; s == DT_OK && i < n; i++)
        if (v[i] < 0 || v[i] > (1L << 20)) s = DT_ERR_CONFIG;
    if (s != DT_OK) {
        const char *txt;
        if (!dt_ini_has(m, sec, "padding")) return s; /* "missing required key" stands */
        DT_TRY(dt_ini_str(m, sec, "padding", NULL, &txt));
        return dt_error(DT_ERR_CONFIG, "%s: [%s] padding = '%s': expected p, ph,pw or top,bottom,left,right (each >= 0)",
                        dt_ini_where(m, sec, "padding"), sec, txt);
    }
    *p = (zeropad_priv){0, 0, 0, 0, (int)k}; /* no padding key: channels only */
    if (n == 1) *p = (zeropad_priv){(int)v[0], (int)v[0], (int)v[0], (int)v[0], (int)k};
    if (n == 2) *p = (zeropad_priv){(int)v[0], (int)v[0], (int)v[1], (int)v[1], (int)k};
    if (n == 4) *p = (zeropad_priv){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)k};
    l->out = (dt_shape){l->in.c + p->k, l->in.h + p->t + p->b, l->in.w + p->l + p->r};
    return DT_OK;
}

static void zeropad_forward(dt_layer *l, const dt_pass *ps)
{
    const zeropad_priv *p = l->priv;
    int64_t C = l->in.c, H = l->in.h, W = l->in.w, OW = l->out.w, OP = l->out.h * OW;
    for (int64_t e = 0; e < ps->n; e++) {
        dt_real *ye = l->y + e * l->out.c * OP;
        for (int64_t c = 0; c < C; c++) {
            const dt_real *x = l->x[0] + (e * C + c) * H * W;
            dt_real *y = ye + c * OP;
            memset(y, 0, (size_t)(p->t * OW + p->l) * sizeof *y);
            y += p->t * OW + p->l;
            for (int64_t i = 0; i < H; i++, y += OW) {
                memcpy(y, x + i * W, (size_t)W * sizeof *y);
                /* right pad of this row, left pad of the next (or the bottom rows) */
                memset(y + W, 0, (size_t)(i + 1 < H ? p->r + p->l : p->r + p->b * OW) * sizeof *y);
            }
        }
        memset(ye + C * OP, 0, (size_t)(p->k * OP) * sizeof *ye);
    }
}

static void zeropad_backward(dt_layer *l, const dt_pass *ps)
{
    const zeropad_priv *p = l->priv;
    if (!l->dx[0]) return;
    int64_t C = l->in.c, H = l->in.h, W = l->in.w, OW = l->out.w, OP = l->out.h * OW;
    for (int64_t e = 0; e < ps->n; e++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < H; i++)
                dt_layer_put_dx(l->dx[0] + ((e * C + c) * H + i) * W, l->dx_accum[0],
                                l->dy + (e * l->out.c + c) * OP + (p->t + i) * OW + p->l, W);
}

static void zeropad_destroy(dt_layer *l) { dt_free(l->priv); }

const dt_layer_ops dt_zeropad_ops = {"zeropad", zeropad_configure, NULL, zeropad_forward,
                                     zeropad_backward, zeropad_destroy, 1, NULL, 0, 0};
