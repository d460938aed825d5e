/* map.c — mean average precision (see map.h). */
#include <math.h>
#include <stdlib.h>

#include "vision/map.h"

typedef struct {
    double score;
    int64_t i; /* index into det */
} ranked;

/* Highest score first; equal scores in input order (qsort is not stable). */
static int by_score(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Ground-truth boxes by image: byimg lists their indices sorted by image,
 * so one image's boxes are a range found by binary search. */
static const int64_t *g_img; /* for the qsort below */
static int by_image(const void *a, const void *b)
{
    int64_t x = g_img[*(const int64_t *)a], y = g_img[*(const int64_t *)b];
    if (x != y) return x < y ? -1 : 1;
    return (*(const int64_t *)a > *(const int64_t *)b) - (*(const int64_t *)a < *(const int64_t *)b);
}

/* [*lo, *hi) of byimg whose boxes belong to image img. */
static void image_range(const int64_t *byimg, const int64_t *gt_img, int64_t ng, int64_t img, int64_t *lo, int64_t *hi)
{
    int64_t a = 0, b = ng;
    while (a < b) {
        int64_t m = a + (b - a) / 2;
        if (gt_img[byimg[m]] < img) a = m + 1;
        else b = m;
    }
    *lo = a;
    for (b = a; b < ng && gt_img[byimg[b]] == img; b++) {}
    *hi = b;
}

/* AP of class c. order: this class's detections, ranked; used: scratch [ng]. */
static double class_ap(const dt_det *det, const int64_t *det_img, const ranked *order, int64_t nc, const dt_det *gt,
                       const int64_t *gt_img, const int64_t *byimg, int64_t ng, int c, double iou_thr, char *used)
{
    int64_t npos = 0;
    for (int64_t g = 0; g < ng; g++) {
        used[g] = 0;
        npos += gt[g].cls == c;
    }
    if (npos == 0) return NAN;
    /* precision at each rank, then the monotone envelope from the right */
    double *prec = malloc((size_t)(nc ? nc : 1) * sizeof *prec), *rec = malloc((size_t)(nc ? nc : 1) * sizeof *rec);
    if (!prec || !rec) {
        free(prec);
        free(rec);
        return NAN; /* with ground truth present: the caller reports running out of memory */
    }
    int64_t tp = 0;
    for (int64_t k = 0; k < nc; k++) {
        const dt_det *d = &det[order[k].i];
        int64_t best = -1, lo, hi;
        double bo = -1;
        image_range(byimg, gt_img, ng, det_img[order[k].i], &lo, &hi);
        for (int64_t q = lo; q < hi; q++) { /* this image's boxes, in input order */
            int64_t g = byimg[q];
            if (gt[g].cls != c) continue;
            double o = dt_iou(d, &gt[g]);
            if (o > bo) bo = o, best = g;
        }
        if (best >= 0 && bo >= iou_thr && !used[best]) { /* VOC: the best box, if still free */
            used[best] = 1;
            tp++;
        }
        prec[k] = (double)tp / (double)(k + 1);
        rec[k] = (double)tp / (double)npos;
    }
    for (int64_t k = nc - 2; k >= 0; k--) prec[k] = fmax(prec[k], prec[k + 1]);
    double ap = 0, r0 = 0;
    for (int64_t k = 0; k < nc; k++) {
        ap += (rec[k] - r0) * prec[k];
        r0 = rec[k];
    }
    free(prec);
    free(rec);
    return ap;
}

dt_status dt_map(const dt_det *det, const int64_t *det_img, int64_t nd, const dt_det *gt, const int64_t *gt_img,
                 int64_t ng, int nclasses, double iou_thr, double *ap, double *map)
{
    for (int64_t i = 0; i < nd; i++)
        if (det[i].cls < 0 || det[i].cls >= nclasses)
            return dt_error(DT_ERR_ARG, "detection %lld has class %d; expected 0..%d", (long long)i, det[i].cls, nclasses - 1);
    for (int64_t g = 0; g < ng; g++)
        if (gt[g].cls < 0 || gt[g].cls >= nclasses)
            return dt_error(DT_ERR_ARG, "ground-truth box %lld has class %d; expected 0..%d", (long long)g, gt[g].cls,
                            nclasses - 1);
    ranked *order = malloc((size_t)(nd ? nd : 1) * sizeof *order);
    char *used = malloc((size_t)(ng ? ng : 1));
    int64_t *byimg = malloc((size_t)(ng ? ng : 1) * sizeof *byimg);
    if (!order || !used || !byimg) {
        free(order);
        free(used);
        free(byimg);
        return dt_error(DT_ERR_NOMEM, "out of memory for mAP over %lld detections", (long long)nd);
    }
    for (int64_t g = 0; g < ng; g++) byimg[g] = g;
    g_img = gt_img;
    qsort(byimg, (size_t)ng, sizeof *byimg, by_image);
    double sum = 0;
    int counted = 0;
    dt_status st = DT_OK;
    for (int c = 0; c < nclasses && !st; c++) {
        int64_t nc = 0;
        for (int64_t i = 0; i < nd; i++)
            if (det[i].cls == c) order[nc++] = (ranked){det[i].score, i};
        qsort(order, (size_t)nc, sizeof *order, by_score);
        int64_t npos = 0;
        for (int64_t g = 0; g < ng; g++) npos += gt[g].cls == c;
        ap[c] = class_ap(det, det_img, order, nc, gt, gt_img, byimg, ng, c, iou_thr, used);
        if (npos > 0 && isnan(ap[c])) st = dt_error(DT_ERR_NOMEM, "out of memory for mAP");
        if (npos > 0 && !st) sum += ap[c], counted++;
    }
    free(order);
    free(used);
    free(byimg);
    *map = counted ? sum / counted : NAN;
    return st;
}
