/* yolo.c — YOLO decoding, IoU and NMS; see yolo.h for whose rules apply. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/jsmath.h"
#include "vision/yolo.h"

/* face-api's sums and products are JavaScript doubles, never fused. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* face-api's iou(): Box keeps x and width = right - left and gives back
 * right = x + width, which may differ from x2 in the last bit. NaN when the
 * union is 0. */
static double fa_iou(const dt_det *a, const dt_det *b)
{
    double aw = a->x2 - a->x1, ah = a->y2 - a->y1, bw = b->x2 - b->x1, bh = b->y2 - b->y1;
    double w = dt_js_max(0.0, dt_js_min(a->x1 + aw, b->x1 + bw) - dt_js_max(a->x1, b->x1));
    double h = dt_js_max(0.0, dt_js_min(a->y1 + ah, b->y1 + bh) - dt_js_max(a->y1, b->y1));
    double inter = w * h;
    return inter / (aw * ah + bw * bh - inter);
}

double dt_iou(const dt_det *a, const dt_det *b)
{
    double v = fa_iou(a, b);
    return v > 0 ? v : 0; /* NaN (no area) and touching boxes: 0 */
}

static int decode(const dt_yolo *h, const dt_real *y, int gh, int gw, double thr, double cfx, double cfy,
                  dt_det *out, int max)
{
    int C = h->nclasses > 1 ? h->nclasses : 0, enc = 5 + C, n = 0;
    size_t plane = (size_t)gh * gw;
    for (int row = 0; row < gh; row++)
        for (int col = 0; col < gw; col++)
            for (int a = 0; a < h->nanchors; a++) {
                const dt_real *p = y + (size_t)a * enc * plane + (size_t)row * gw + col;
                double obj = dt_js_sigmoid((double)p[4 * plane]), score = obj, mx = -INFINITY, sum = 0;
                int cls = 0, last = 0;
                if (C) {
                    /* the course: softmax, then the first class with the largest conf × prob */
                    double best = -INFINITY;
                    for (int k = 0; k < C; k++) mx = fmax(mx, (double)p[(5 + k) * plane]);
                    for (int k = 0; k < C; k++) sum += exp((double)p[(5 + k) * plane] - mx);
                    for (int k = 0; k < C; k++) {
                        double s = obj * (exp((double)p[(5 + k) * plane] - mx) / sum);
                        if (s > best) best = s, cls = k;
                    }
                    score = best;
                    if (!(score >= thr)) continue;
                    if (h->every_class) cls = 0, last = C - 1;
                    else last = cls;
                } else if (!(thr == 0 || isnan(thr) || score > thr)) {
                    continue; /* face-api: `!scoreThreshold || score > scoreThreshold` */
                }
                /* face-api's expressions, in its order (cf 1 for a square input) */
                double ctx = ((col + dt_js_sigmoid((double)p[0])) / gw) * cfx;
                double cty = ((row + dt_js_sigmoid((double)p[plane])) / gh) * cfy;
                double bw = ((dt_js_exp((double)p[2 * plane]) * h->anchors[2 * a]) / gw) * cfx;
                double bh = ((dt_js_exp((double)p[3 * plane]) * h->anchors[2 * a + 1]) / gh) * cfy;
                double x = ctx - bw / 2, yy = cty - bh / 2;
                for (int k = cls; k <= last; k++) {
                    double s = h->every_class && C ? obj * (exp((double)p[(5 + k) * plane] - mx) / sum) : score;
                    if (h->every_class && C && !(s >= thr)) continue;
                    if (n == max) return n;
                    out[n++] = (dt_det){x, yy, x + bw, yy + bh, s, k};
                }
            }
    return n;
}

int dt_yolo_decode(const dt_yolo *h, const dt_real *y, int gh, int gw, double thr, dt_det *out, int max)
{
    return decode(h, y, gh, gw, thr, 1.0, 1.0, out, max);
}

int dt_yolo_decode_image(const dt_yolo *h, const dt_real *y, int gh, int gw, double thr, int input_size,
                         int img_w, int img_h, dt_det *out, int max)
{
    /* NetInput.getReshapedInputDimensions → computeReshapedDimensions, then extractBoxes */
    double scale = (double)input_size / (img_h > img_w ? img_h : img_w);
    double rw = dt_js_round(img_w * scale), rh = dt_js_round(img_h * scale);
    double s = rw > rh ? rw : rh;
    return decode(h, y, gh, gw, thr, s / rw, s / rh, out, max);
}

/* Order for NMS: score descending, NaN last; ties keep their order, which
 * the caller has reversed (face-api pops the later of equal scores first). */
static int before(const dt_det *a, const dt_det *b)
{
    if (isnan(b->score)) return !isnan(a->score);
    return a->score > b->score;
}

/* Stable: merge sort with a buffer, or insertion sort in place when no
 * buffer can be had (same result, slower). */
static void sort_dets(dt_det *d, int n)
{
    dt_det *tmp = n > 16 ? malloc((size_t)n * sizeof *tmp) : NULL;
    if (!tmp) {
        for (int i = 1; i < n; i++) {
            dt_det v = d[i];
            int j = i;
            while (j > 0 && before(&v, &d[j - 1])) d[j] = d[j - 1], j--;
            d[j] = v;
        }
        return;
    }
    for (int w = 1; w < n; w *= 2) {
        for (int lo = 0; lo < n; lo += 2 * w) {
            int mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = before(&d[j], &d[i]) ? d[j++] : d[i++];
            while (i < mid) tmp[k++] = d[i++];
            while (j < hi) tmp[k++] = d[j++];
        }
        memcpy(d, tmp, (size_t)n * sizeof *d);
    }
    free(tmp);
}

int dt_nms(dt_det *d, int n, double iou_thr)
{
    for (int i = 0, j = n - 1; i < j; i++, j--) {
        dt_det t = d[i];
        d[i] = d[j];
        d[j] = t;
    }
    sort_dets(d, n);
    /* Greedy: a box survives when no kept box of its class overlaps it by
     * more than iou_thr; face-api keeps `iou <= thr`, so NaN drops. */
    int kept = 0;
    for (int i = 0; i < n; i++) {
        int keep = 1;
        for (int k = 0; k < kept && keep; k++)
            if (d[k].cls == d[i].cls && !(fa_iou(&d[k], &d[i]) <= iou_thr)) keep = 0;
        if (keep) d[kept++] = d[i];
    }
    return kept;
}
