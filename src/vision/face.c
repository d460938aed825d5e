/* face.c — face-api's face geometry; see face.h. */
#include <math.h>

#include "vision/face.h"
#include "vision/jsmath.h"

/* face-api's arithmetic is unfused JavaScript doubles (and float32 tensors). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

void dt_face_roundtrip(double box[4], int img_w, int img_h, int trips)
{
    /* Box.rescale(dims.reverse()) then rescale(dims): x, y, width, height each */
    double iw = 1.0 / img_w, ih = 1.0 / img_h;
    for (int t = 0; t < trips; t++) {
        box[0] = box[0] * iw * img_w;
        box[1] = box[1] * ih * img_h;
        box[2] = box[2] * iw * img_w;
        box[3] = box[3] * ih * img_h;
    }
}

void dt_face_det_box(const dt_det *d, int img_w, int img_h, int trips, double box[4])
{
    /* new Box(BoundingBox(x1, y1, x2, y2)) keeps width = x2 - x1, then rescale(W, H) */
    box[0] = d->x1 * img_w;
    box[1] = d->y1 * img_h;
    box[2] = (d->x2 - d->x1) * img_w;
    box[3] = (d->y2 - d->y1) * img_h;
    dt_face_roundtrip(box, img_w, img_h, trips);
}

void dt_face_landmarks(const dt_real *out, int n, int input_size, int crop_w, int crop_h, double sx, double sy,
                       double *pts)
{
    /* postProcess: scaled (unrounded) size of the crop in the net's input,
     * and the padding it assumes: half the difference on each side */
    double scale = (double)input_size / (crop_h > crop_w ? crop_h : crop_w);
    double sw = crop_w * scale, sh = crop_h * scale;
    double px = sw < sh ? fabs(sw - sh) / 2 : 0, py = sh < sw ? fabs(sw - sh) / 2 : 0;
    float fs = (float)input_size, fpx = (float)px, fpy = (float)py, fsw = (float)sw, fsh = (float)sh;
    for (int i = 0; i < n; i++) {
        float rx = ((float)out[2 * i] * fs - fpx) / fsw;
        float ry = ((float)out[2 * i + 1] * fs - fpy) / fsh;
        /* FaceLandmarks(rel, crop) then shiftBy(sx, sy): rel·size + 0, back to
         * relative through (p - 0)/size, then ·size + shift */
        double x0 = (double)rx * crop_w + 0.0, y0 = (double)ry * crop_h + 0.0;
        pts[2 * i] = (x0 - 0.0) / crop_w * crop_w + sx;
        pts[2 * i + 1] = (y0 - 0.0) / crop_h * crop_h + sy;
    }
}

void dt_face_align_box(const double *pts, int n, double *x, double *y, double *w, double *h)
{
    /* minBbox: reduce from Infinity for the minima but from 0 for the maxima */
    double minx = INFINITY, miny = INFINITY, maxx = 0, maxy = 0;
    for (int i = 0; i < n; i++) {
        double px = pts[2 * i], py = pts[2 * i + 1];
        minx = px < minx ? px : minx;
        miny = py < miny ? py : miny;
        maxx = maxx < px ? px : maxx;
        maxy = maxy < py ? py : maxy;
    }
    double bw = maxx - minx, bh = maxy - miny;
    double padx = bw * 0.2, pady = bh * 0.2; /* Box.pad(width·0.2, height·0.2) */
    *x = minx - padx / 2;
    *y = miny - pady / 2;
    *w = bw + padx;
    *h = bh + pady;
}

/* getCenterPoint: the sum from (0, 0), then divided by the count */
static void centre(const double *pts, int from, int to, double c[2])
{
    double sx = 0, sy = 0;
    for (int i = from; i < to; i++) sx = sx + pts[2 * i], sy = sy + pts[2 * i + 1];
    c[0] = sx / (to - from);
    c[1] = sy / (to - from);
}

int dt_face_align_dlib(const double *pts, int img_w, int img_h, double *x, double *y, double *w, double *h)
{
    double le[2], re[2], mo[2];
    centre(pts, 36, 42, le);
    centre(pts, 42, 48, re);
    centre(pts, 48, 68, mo);
    /* (mouth - eye).magnitude(): sqrt(dx ** 2 + dy ** 2), and ** 2 is x * x in V8 */
    double dl = sqrt((mo[0] - le[0]) * (mo[0] - le[0]) + (mo[1] - le[1]) * (mo[1] - le[1]));
    double dr = sqrt((mo[0] - re[0]) * (mo[0] - re[0]) + (mo[1] - re[1]) * (mo[1] - re[1]));
    double size = floor(((dl + dr) / 2) / 0.45);
    double rx = ((0 + le[0]) + re[0] + mo[0]) / 3, ry = ((0 + le[1]) + re[1] + mo[1]) / 3;
    double bx = floor(dt_js_max(0, rx - 0.5 * size)), by = floor(dt_js_max(0, ry - 0.43 * size));
    *x = bx;
    *y = by;
    *w = dt_js_min(size, img_w + bx);
    *h = dt_js_min(size, img_h + by);
    /* Rect(x, y, w, h) throws on non-finite or negative sizes */
    return isfinite(*x) && isfinite(*y) && isfinite(*w) && isfinite(*h) && *w >= 0 && *h >= 0;
}
