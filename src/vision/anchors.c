/* anchors.c — k-means of box shapes under 1 − IoU (see anchors.h). */
#include <stdlib.h>
#include <string.h>

#include "vision/anchors.h"

static double shape_iou(const double *a, const double *b)
{
    double w = a[0] < b[0] ? a[0] : b[0], h = a[1] < b[1] ? a[1] : b[1];
    return w * h / (a[0] * a[1] + b[0] * b[1] - w * h);
}

static int nearest(const double *box, const double *c, int k, double *iou)
{
    int best = 0;
    double bo = -1;
    for (int j = 0; j < k; j++) {
        double o = shape_iou(box, c + 2 * j);
        if (o > bo) bo = o, best = j;
    }
    if (iou) *iou = bo;
    return best;
}

double dt_anchors_mean_iou(const double *wh, int64_t n, const double *anchors, int k)
{
    double s = 0, o;
    for (int64_t i = 0; i < n; i++) {
        nearest(wh + 2 * i, anchors, k, &o);
        s += o;
    }
    return n ? s / (double)n : 0;
}

static const double *g_wh; /* qsort has no context argument */
static int by_area(const void *a, const void *b)
{
    const double *p = g_wh + 2 * *(const int64_t *)a, *q = g_wh + 2 * *(const int64_t *)b;
    double x = p[0] * p[1], y = q[0] * q[1];
    if (x != y) return x < y ? -1 : 1;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b; /* ties: input order, so every qsort agrees */
    return (i > j) - (i < j);
}

static int cmp_area(const void *a, const void *b)
{
    const double *p = a, *q = b;
    double x = p[0] * p[1], y = q[0] * q[1];
    return (x > y) - (x < y);
}

dt_status dt_anchors_kmeans(const double *wh, int64_t n, int k, double *out, double *mean_iou)
{
    if (k < 1 || n < k) return dt_error(DT_ERR_ARG, "k-means of %lld boxes into %d anchors: expected at least as many boxes as anchors",
                                        (long long)n, k);
    for (int64_t i = 0; i < n; i++)
        if (!(wh[2 * i] > 0) || !(wh[2 * i + 1] > 0))
            return dt_error(DT_ERR_ARG, "k-means: box %lld has an empty shape", (long long)i);
    int64_t *order = malloc((size_t)n * sizeof *order);
    int *of = malloc((size_t)n * sizeof *of);
    double *sum = malloc((size_t)k * 3 * sizeof *sum);
    if (!order || !of || !sum) {
        free(order), free(of), free(sum);
        return dt_error(DT_ERR_NOMEM, "out of memory for k-means of %lld boxes", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) order[i] = i, of[i] = -1;
    g_wh = wh;
    qsort(order, (size_t)n, sizeof *order, by_area);
    for (int j = 0; j < k; j++) memcpy(out + 2 * j, wh + 2 * order[(int64_t)((j + 0.5) * (double)n / k)], 2 * sizeof *out);
    for (int round = 0; round < 1000; round++) {
        int changed = 0;
        memset(sum, 0, (size_t)k * 3 * sizeof *sum);
        for (int64_t i = 0; i < n; i++) {
            int j = nearest(wh + 2 * i, out, k, NULL);
            changed += j != of[i];
            of[i] = j;
            sum[3 * j] += wh[2 * i], sum[3 * j + 1] += wh[2 * i + 1], sum[3 * j + 2] += 1;
        }
        if (!changed) break;
        for (int j = 0; j < k; j++)
            if (sum[3 * j + 2] > 0) out[2 * j] = sum[3 * j] / sum[3 * j + 2], out[2 * j + 1] = sum[3 * j + 1] / sum[3 * j + 2];
    }
    qsort(out, (size_t)k, 2 * sizeof *out, cmp_area);
    *mean_iou = dt_anchors_mean_iou(wh, n, out, k);
    free(order), free(of), free(sum);
    return DT_OK;
}
