/* verify.c — verification by embedding distance (see verify.h). */
#include <math.h>
#include <stdlib.h>

#include "train/verify.h"

typedef struct {
    double d;
    int same;
} trial;

static int by_distance(const void *a, const void *b)
{
    double x = ((const trial *)a)->d, y = ((const trial *)b)->d;
    return (x > y) - (x < y);
}

/* Every pair of rows [a, b) of the normalised features f [n, d], sorted by distance. */
static int64_t trials(const double *f, const double *id, int64_t d, int64_t a, int64_t b, trial *t, int64_t *npos)
{
    int64_t m = 0;
    *npos = 0;
    for (int64_t i = a; i < b; i++)
        for (int64_t j = i + 1; j < b; j++) {
            double s = 0;
            for (int64_t k = 0; k < d; k++) s += (f[i * d + k] - f[j * d + k]) * (f[i * d + k] - f[j * d + k]);
            t[m].d = sqrt(s);
            t[m].same = id[i] == id[j];
            *npos += t[m++].same;
        }
    qsort(t, (size_t)m, sizeof *t, by_distance);
    return m;
}

/* AUC, and (best) the threshold of the best balanced accuracy, by one sweep
 * over the sorted trials: at each new distance, everything closer is "same". */
static double sweep(const trial *t, int64_t m, int64_t npos, double *thr, double *best)
{
    int64_t nneg = m - npos, pos = 0, neg = 0;
    double auc = 0;
    *best = -1;
    for (int64_t i = 0; i < m;) {
        int64_t j = i, p = 0, q = 0;
        for (; j < m && t[j].d == t[i].d; j++) p += t[j].same, q += !t[j].same;
        auc += (double)q * ((double)pos + 0.5 * (double)p); /* negatives here: positives closer, half the tied */
        pos += p, neg += q;
        double acc = 0.5 * ((double)pos / (double)npos + 1 - (double)neg / (double)nneg);
        if (acc > *best) *best = acc, *thr = j < m ? 0.5 * (t[i].d + t[j].d) : t[i].d;
        i = j;
    }
    return auc / ((double)npos * (double)nneg);
}

static double accuracy_at(const trial *t, int64_t m, int64_t npos, double thr)
{
    int64_t tp = 0, fp = 0;
    for (int64_t i = 0; i < m && t[i].d <= thr; i++) tp += t[i].same, fp += !t[i].same;
    return 0.5 * ((double)tp / (double)npos + 1 - (double)fp / (double)(m - npos));
}

dt_status dt_verify(const double *rows, int64_t stride, int64_t n, int64_t d, dt_verify_result *r)
{
    int64_t h = n / 2, big = n - h;
    double *f = malloc((size_t)(n * d + n + 1) * sizeof *f), *id = f ? f + n * d : NULL;
    trial *t = malloc((size_t)(big * (big - 1) / 2 + 1) * sizeof *t);
    if (!f || !t) {
        free(f), free(t);
        return dt_error(DT_ERR_NOMEM, "out of memory for the verification pairs of %lld rows", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t k = 0; k < d; k++) s += rows[i * stride + k] * rows[i * stride + k];
        s = s > 0 ? 1 / sqrt(s) : 0;
        for (int64_t k = 0; k < d; k++) f[i * d + k] = rows[i * stride + k] * s;
        id[i] = rows[i * stride + d];
    }
    int64_t npos, m = trials(f, id, d, 0, h, t, &npos);
    dt_status st = DT_OK;
    double best;
    if (npos == 0 || npos == m) st = dt_error(DT_ERR_DATA, "verification: the validation half of %lld rows needs pairs of the same and of different identities", (long long)h);
    if (!st) r->val_auc = sweep(t, m, npos, &r->thr, &best);
    if (!st) m = trials(f, id, d, h, n, t, &npos);
    if (!st && (npos == 0 || npos == m)) st = dt_error(DT_ERR_DATA, "verification: the test half of %lld rows needs pairs of the same and of different identities", (long long)big);
    if (!st) {
        double thr2;
        r->auc = sweep(t, m, npos, &thr2, &best);
        r->acc = accuracy_at(t, m, npos, r->thr);
        r->pairs = m;
    }
    free(f), free(t);
    return st;
}
