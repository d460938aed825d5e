/* loss_yolo.c — the YOLOv2 loss over a detection head.
 *
 * Reads the head's output [A·(5+C'), gh, gw] (channel a·(5+C')+k: tx, ty,
 * tw, th, to, then C' = classes > 1 ? classes : 0 class logits; the layout
 * vision/yolo.h decodes), against a dense target of `boxes` rows of
 * (class, x1, y1, x2, y2) per image in pixels of an `image` = W[,H] picture
 * (class < 0: no box; the layout of dtrain make-scenes).
 *
 * Each box goes to the cell of its centre and to the anchor whose shape
 * overlaps its own best (IoU of the two sizes, centres together); that
 * prediction is responsible for it (a later box taking the same cell and
 * anchor replaces an earlier one). Per image:
 *   coord  · Σ_resp (σ(tx) − x*)² + (σ(ty) − y*)² + (tw − w*)² + (th − h*)²
 *            with x* = cx·gw − j, w* = log(w·gw / anchor_w) (likewise y, h)
 *   obj    · Σ_resp (σ(to) − 1)²
 *   noobj  · Σ_other σ(to)², leaving out predictions whose decoded box
 *            overlaps a true box by IoU ≥ ignore (they are not wrong)
 *   cls    · Σ_resp −log softmax(class logits)[class]      (classes > 1)
 * The assignment depends on the image's boxes alone, so every rank count
 * trains the same model. The ignore mask is held constant in the gradient.
 * Keys: anchors (required: w,h pairs in grid cells), classes (required),
 * image (required: W or W,H pixels), boxes (5), coord (1), obj (5),
 * noobj (1), cls (1), ignore (0.6). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/loss_yolo.h"

#define MAX_ANCHORS 16

typedef struct {
    int na, nc, per, boxes;
    double anchors[2 * MAX_ANCHORS];
    double img_w, img_h, coord, obj, noobj, cls, ignore;
    /* per image, sized at configure: */
    double *box; /* [boxes, 4] the true boxes: centre x, y, w, h relative to the picture */
    int *cls_of; /* [boxes] their classes */
    int *resp;   /* [A, gh, gw] the box each prediction is responsible for, or -1 */
} yolo_priv;

/* Up to max positive numbers of key (dt_ini_reals, then the sign). */
static dt_status read_pairs(dt_ini *m, const char *sec, const char *key, int max, double *v, int *n)
{
    DT_TRY(dt_ini_reals(m, sec, key, 1, v, max, n));
    for (int i = 0; i < *n; i++)
        if (!(v[i] > 0))
            return dt_error(DT_ERR_CONFIG, "%s: [%s] %s: expected positive numbers", dt_ini_where(m, sec, key), sec, key);
    return DT_OK;
}

static dt_status yolo_configure(dt_loss_term *t, dt_ini *m, const char *sec)
{
    const dt_layer *src = t->src;
    yolo_priv q = {0};
    int n;
    DT_TRY(read_pairs(m, sec, "anchors", 2 * MAX_ANCHORS, q.anchors, &n));
    if (n == 0 || n % 2)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] anchors: expected pairs w,h (in grid cells)", dt_ini_where(m, sec, "anchors"), sec);
    q.na = n / 2;
    long classes, boxes;
    DT_TRY(dt_ini_int(m, sec, "classes", 1, 1, 1, 10000, &classes));
    DT_TRY(dt_ini_int(m, sec, "boxes", 0, 5, 1, 10000, &boxes));
    double im[2];
    DT_TRY(read_pairs(m, sec, "image", 2, im, &n));
    if (n == 0) return dt_error(DT_ERR_CONFIG, "%s: [%s] image: expected W or W,H in pixels", dt_ini_where(m, sec, "image"), sec);
    q.img_w = im[0], q.img_h = n == 2 ? im[1] : im[0];
    DT_TRY(dt_ini_real(m, sec, "coord", 0, 1, 0, 1e6, &q.coord));
    DT_TRY(dt_ini_real(m, sec, "obj", 0, 5, 0, 1e6, &q.obj));
    DT_TRY(dt_ini_real(m, sec, "noobj", 0, 1, 0, 1e6, &q.noobj));
    DT_TRY(dt_ini_real(m, sec, "cls", 0, 1, 0, 1e6, &q.cls));
    DT_TRY(dt_ini_real(m, sec, "ignore", 0, 0.6, 0, 1, &q.ignore));
    q.nc = (int)classes;
    q.per = 5 + (q.nc > 1 ? q.nc : 0);
    q.boxes = (int)boxes;
    if (src->out.c != q.na * q.per || src->act != DT_ACT_LINEAR)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] reads [%s] (%d channels, %s): expected %d anchors x (5 + %d class scores) = %d "
                        "channels with a linear activation", dt_ini_name(m), sec, src->name, src->out.c, dt_act_names[src->act],
                        q.na, q.per - 5, q.na * q.per);
    /* one block, freed by the network: the state, then the per-image arrays */
    int64_t cells = (int64_t)src->out.h * src->out.w;
    size_t head = (sizeof q + 63) / 64 * 64, nbox = (size_t)q.boxes * 4 * sizeof(double);
    char *blk = dt_alloc(head + nbox + (size_t)q.boxes * sizeof(int) + (size_t)(q.na * cells) * sizeof(int));
    if (!blk) return dt_error(DT_ERR_NOMEM, "out of memory for [%s]", sec);
    yolo_priv *p = (yolo_priv *)blk;
    *p = q;
    p->box = (double *)(blk + head);
    p->cls_of = (int *)(blk + head + nbox);
    p->resp = p->cls_of + q.boxes;
    t->priv = p;
    t->fused = 0;
    t->tlen = (int64_t)p->boxes * 5;
    t->nclasses = p->nc;
    return DT_OK;
}

static double sig(double x) { return 1 / (1 + exp(-x)); }

static double iou_c(double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh)
{
    double w = fmin(ax + aw / 2, bx + bw / 2) - fmax(ax - aw / 2, bx - bw / 2);
    double h = fmin(ay + ah / 2, by + bh / 2) - fmax(ay - ah / 2, by - bh / 2);
    if (w <= 0 || h <= 0) return 0;
    return w * h / (aw * ah + bw * bh - w * h);
}

/* One image: y its head output, tb its boxes; adds the loss, writes g · gradient into dy. */
static double image_loss(yolo_priv *p, const dt_real *y, const dt_real *tb, int gh, int gw, dt_real g, dt_real *dy,
                         int accum)
{
    const int A = p->na, P = p->per, HW = gh * gw;
    double (*box)[4] = (double (*)[4])p->box;
    int *cls = p->cls_of, *resp = p->resp, nb = 0;
    for (int b = 0; b < p->boxes; b++) {
        const dt_real *r = tb + 5 * b;
        if (!(r[0] >= 0) || !(r[3] > r[1]) || !(r[4] > r[2]) || !isfinite(r[3] - r[1]) || !isfinite(r[4] - r[2]))
            continue; /* no box, an empty one, or not numbers */
        double x1 = r[1] / p->img_w, y1 = r[2] / p->img_h, x2 = r[3] / p->img_w, y2 = r[4] / p->img_h;
        box[nb][0] = (x1 + x2) / 2, box[nb][1] = (y1 + y2) / 2, box[nb][2] = x2 - x1, box[nb][3] = y2 - y1;
        cls[nb] = r[0] < p->nc ? (int)r[0] : p->nc - 1;
        nb++;
    }
    for (int q = 0; q < A * HW; q++) resp[q] = -1;
    for (int b = 0; b < nb; b++) {
        double cj = floor(box[b][0] * gw), ci = floor(box[b][1] * gh); /* clamped before conversion */
        int j = cj < 0 ? 0 : cj >= gw ? gw - 1 : (int)cj, i = ci < 0 ? 0 : ci >= gh ? gh - 1 : (int)ci, best = 0;
        double bo = -1;
        for (int a = 0; a < A; a++) {
            double o = iou_c(0, 0, box[b][2] * gw, box[b][3] * gh, 0, 0, p->anchors[2 * a], p->anchors[2 * a + 1]);
            if (o > bo) bo = o, best = a;
        }
        resp[best * HW + i * gw + j] = b;
    }
    double L = 0;
    for (int a = 0; a < A; a++)
        for (int i = 0; i < gh; i++)
            for (int j = 0; j < gw; j++) {
                int64_t at = (int64_t)a * P * HW + i * gw + j; /* channel a*P + k at at + k*HW */
                double tx = y[at], ty = y[at + HW], tw = y[at + 2 * HW], th = y[at + 3 * HW], to = y[at + 4 * HW];
                double sx = sig(tx), sy = sig(ty), so = sig(to), d[5] = {0, 0, 0, 0, 0};
                int b = resp[a * HW + i * gw + j];
                if (b >= 0) {
                    double xs = box[b][0] * gw - j, ys = box[b][1] * gh - i;
                    double ws = log(box[b][2] * gw / p->anchors[2 * a]), hs = log(box[b][3] * gh / p->anchors[2 * a + 1]);
                    L += p->coord * ((sx - xs) * (sx - xs) + (sy - ys) * (sy - ys) + (tw - ws) * (tw - ws) + (th - hs) * (th - hs));
                    L += p->obj * (so - 1) * (so - 1);
                    d[0] = p->coord * 2 * (sx - xs) * sx * (1 - sx);
                    d[1] = p->coord * 2 * (sy - ys) * sy * (1 - sy);
                    d[2] = p->coord * 2 * (tw - ws);
                    d[3] = p->coord * 2 * (th - hs);
                    d[4] = p->obj * 2 * (so - 1) * so * (1 - so);
                    if (P > 5) { /* softmax cross-entropy over the class logits */
                        double mx = -INFINITY, s = 0;
                        for (int c = 0; c < p->nc; c++) mx = fmax(mx, y[at + (5 + c) * HW]);
                        for (int c = 0; c < p->nc; c++) s += exp(y[at + (5 + c) * HW] - mx);
                        L += p->cls * (log(s) + mx - y[at + (5 + cls[b]) * HW]);
                        for (int c = 0; c < p->nc && g != 0; c++) {
                            double pr = exp(y[at + (5 + c) * HW] - mx) / s - (c == cls[b]);
                            dt_loss_put(dy, accum, at + (5 + c) * HW, (dt_real)(g * p->cls * pr));
                        }
                    }
                } else {
                    /* decoded box against every true box: close enough is not penalised */
                    double px = (j + sx) / gw, py = (i + sy) / gh, pw = exp(tw) * p->anchors[2 * a] / gw,
                           ph = exp(th) * p->anchors[2 * a + 1] / gh, best = 0;
                    for (int k = 0; k < nb; k++)
                        best = fmax(best, iou_c(px, py, pw, ph, box[k][0], box[k][1], box[k][2], box[k][3]));
                    if (best < p->ignore) {
                        L += p->noobj * so * so;
                        d[4] = p->noobj * 2 * so * so * (1 - so);
                    }
                    for (int c = 0; P > 5 && c < p->nc && g != 0; c++) dt_loss_put(dy, accum, at + (5 + c) * HW, 0);
                }
                for (int k = 0; k < 5 && g != 0; k++) dt_loss_put(dy, accum, at + k * HW, (dt_real)(g * d[k]));
            }
    return L;
}

static void yolo_forward(dt_loss_term *t, const dt_targets *tg, int64_t n, dt_real g, double *sum, int64_t *correct)
{
    (void)correct;
    yolo_priv *p = t->priv;
    const dt_layer *src = t->src;
    for (int64_t r = 0; r < n; r++)
        *sum += image_loss(p, src->y + r * t->size, tg->dense + r * t->tlen, src->out.h, src->out.w, g,
                           g != 0 ? src->dy + r * t->size : NULL, t->dy_accum);
}

/* Every box row is "no box" (class -1) or a known class with a box of
 * positive size inside the picture; the first that is not names its row
 * (the global example index), box and field. */
static dt_status yolo_check(const dt_loss_term *t, const dt_real *tg, int64_t n, int64_t first, const char *src)
{
    static const char *const field[] = {"class", "x1", "y1", "x2", "y2"};
    const yolo_priv *p = t->priv;
    for (int64_t r = 0; r < n; r++)
        for (int b = 0; b < p->boxes; b++) {
            const dt_real *v = tg + (r * p->boxes + b) * 5;
            const char *why = NULL;
            int k = 0;
            if (v[0] == -1) continue;
            if (!(v[0] >= 0 && v[0] < p->nc && v[0] == floor(v[0]))) {
                why = "is not a class of the model (expected -1 for no box, or 0";
            } else {
                for (k = 1; k < 5 && !why; k++)
                    if (!isfinite(v[k])) why = "is not a number";
                    else if (v[k] < 0 || v[k] > (k % 2 ? p->img_w : p->img_h)) why = "is outside the picture";
                k--;
                if (!why && !(v[3] > v[1])) why = "makes an empty box (expected x1 < x2)", k = 3;
                if (!why && !(v[4] > v[2])) why = "makes an empty box (expected y1 < y2)", k = 4;
            }
            if (!why) continue;
            char extra[96] = "";
            if (k == 0) snprintf(extra, sizeof extra, " to %d)", p->nc - 1);
            else if (!strcmp(why, "is outside the picture"))
                snprintf(extra, sizeof extra, " (expected 0 to %g)", k % 2 ? p->img_w : p->img_h);
            return dt_error(DT_ERR_DATA, "%s: row %lld, box %d: %s = %g %s%s ([%s] classes = %d, image = %gx%g)",
                            src[0] ? src : "targets", (long long)(first + r), b, field[k], (double)v[k], why, extra,
                            t->name, p->nc, p->img_w, p->img_h);
        }
    return DT_OK;
}

const dt_loss_ops dt_yolo_ops = {
    .type = "yolo",
    .target = DT_TARGET_DENSE,
    .configure = yolo_configure,
    .forward = yolo_forward,
    .predict = NULL,
    .check = yolo_check,
};

int dt_loss_yolo_head(const dt_loss_term *t, int *na, double *anchors, int *nclasses, double *img_w, double *img_h)
{
    if (t->ops != &dt_yolo_ops) return 0;
    const yolo_priv *p = t->priv;
    *na = p->na;
    memcpy(anchors, p->anchors, (size_t)(2 * p->na) * sizeof *anchors);
    *nclasses = p->nc;
    *img_w = p->img_w, *img_h = p->img_h;
    return 1;
}
