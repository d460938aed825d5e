/* deteval.c — mAP at evaluation (see deteval.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/loss_yolo.h"
#include "train/deteval.h"
#include "vision/map.h"

#define SCORE 0.005
#define NMS_IOU 0.45
#define PER_IMAGE 100

int dt_deteval_init(dt_deteval *e, const dt_net *net)
{
    memset(e, 0, sizeof *e);
    for (int j = 0; j < net->nlosses; j++) {
        const dt_loss_term *t = &net->losses[j];
        if (dt_loss_yolo_head(t, &e->h.nanchors, e->h.anchors, &e->h.nclasses, &e->img_w, &e->img_h)) {
            e->t = t;
            e->h.every_class = 1;
            return 1;
        }
    }
    return 0;
}

/* Room for k more values in *v (held *n, capacity *cap). */
static dt_status grow(double **v, int64_t n, int64_t k, int64_t *cap)
{
    if (n + k <= *cap) return DT_OK;
    int64_t c = *cap ? *cap : 1024;
    while (c < n + k) c *= 2;
    double *p = realloc(*v, (size_t)c * sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory for %lld detections", (long long)(c / 7));
    *v = p;
    *cap = c;
    return DT_OK;
}

dt_status dt_deteval_add(dt_deteval *e, const dt_dataset *d, int64_t r0, int64_t n)
{
    const dt_layer *src = e->t->src;
    int gh = src->out.h, gw = src->out.w;
    int64_t cap = (int64_t)gh * gw * e->h.nanchors * e->h.nclasses, per = e->t->tlen / 5;
    if (cap > e->wcap) {
        dt_det *w = realloc(e->work, (size_t)cap * sizeof *w);
        if (!w) return dt_error(DT_ERR_NOMEM, "out of memory for %lld boxes", (long long)cap);
        e->work = w;
        e->wcap = cap;
    }
    for (int64_t i = 0; i < n; i++) {
        double img = (double)(d->offset + r0 + i);
        int k = dt_yolo_decode(&e->h, src->y + i * e->t->size, gh, gw, SCORE, e->work, (int)cap);
        k = dt_nms(e->work, k, NMS_IOU);
        k = k < PER_IMAGE ? k : PER_IMAGE;
        DT_TRY(grow(&e->det, e->nd, 7 * (int64_t)k, &e->dcap));
        for (int q = 0; q < k; q++) {
            const dt_det *b = &e->work[q];
            double v[7] = {img, b->cls, b->score, b->x1 * e->img_w, b->y1 * e->img_h, b->x2 * e->img_w, b->y2 * e->img_h};
            memcpy(e->det + e->nd, v, sizeof v);
            e->nd += 7;
        }
        const dt_real *tb = d->t + (r0 + i) * d->tlen;
        DT_TRY(grow(&e->gt, e->ng, 6 * per, &e->gcap));
        for (int64_t b = 0; b < per; b++) {
            const dt_real *r = tb + 5 * b;
            if (r[0] < 0 || r[3] <= r[1] || r[4] <= r[2]) continue;
            double v[6] = {img, r[0] < e->h.nclasses ? r[0] : e->h.nclasses - 1, r[1], r[2], r[3], r[4]};
            memcpy(e->gt + e->ng, v, sizeof v);
            e->ng += 6;
        }
    }
    return DT_OK;
}

/* Rank 0: mAP of the gathered rows; ap gets the first `keep` classes' APs. */
static dt_status score(const double *det, int64_t nd, const double *gt, int64_t ng, int nc, int keep, double *ap, double *map)
{
    double *all = malloc((size_t)nc * sizeof *all);
    if (!all) return dt_error(DT_ERR_NOMEM, "out of memory for mAP");
    dt_det *D = malloc((size_t)(nd ? nd : 1) * sizeof *D), *G = malloc((size_t)(ng ? ng : 1) * sizeof *G);
    int64_t *di = malloc((size_t)(nd ? nd : 1) * sizeof *di), *gi = malloc((size_t)(ng ? ng : 1) * sizeof *gi);
    dt_status st = D && G && di && gi ? DT_OK : dt_error(DT_ERR_NOMEM, "out of memory for mAP");
    for (int64_t k = 0; !st && k < nd; k++) {
        const double *v = det + 7 * k;
        di[k] = (int64_t)v[0];
        D[k] = (dt_det){v[3], v[4], v[5], v[6], v[2], (int)v[1]};
    }
    for (int64_t k = 0; !st && k < ng; k++) {
        const double *v = gt + 6 * k;
        gi[k] = (int64_t)v[0];
        G[k] = (dt_det){v[2], v[3], v[4], v[5], 1, (int)v[1]};
    }
    if (!st) st = dt_map(D, di, nd, G, gi, ng, nc, 0.5, all, map);
    if (!st) memcpy(ap, all, (size_t)keep * sizeof *ap);
    free(D), free(G), free(di), free(gi), free(all);
    return st;
}

dt_status dt_deteval_finish(dt_deteval *e, dt_comm *c, dt_eval_result *r)
{
    double *det = NULL, *gt = NULL;
    int64_t nd = 0, ng = 0;
    int nc = e->h.nclasses < DT_EVAL_MAX_CLASSES ? e->h.nclasses : DT_EVAL_MAX_CLASSES;
    double res[1 + DT_EVAL_MAX_CLASSES];
    dt_status st = dt_comm_gatherv_f64(c, e->det, e->nd, &det, &nd);
    if (!st) st = dt_comm_gatherv_f64(c, e->gt, e->ng, &gt, &ng);
    if (!st) { /* the others wait while rank 0 scores: no timeout for that */
        dt_comm_patient(c, 1);
        dt_status s0 = dt_comm_rank(c) == 0 ? score(det, nd / 7, gt, ng / 6, e->h.nclasses, nc, res + 1, res) : DT_OK;
        st = dt_comm_agree(c, s0);
        dt_comm_patient(c, 0);
    }
    free(det);
    free(gt);
    if (!st) st = dt_comm_bcast(c, res, (int64_t)(1 + nc) * (int64_t)sizeof *res, 0);
    if (st) return st;
    r->has_map = 1;
    r->map50 = res[0];
    r->nclasses = nc;
    if (r->ap) memcpy(r->ap, res + 1, (size_t)nc * sizeof *res);
    return DT_OK;
}

void dt_deteval_free(dt_deteval *e)
{
    free(e->det);
    free(e->gt);
    free(e->work);
    memset(e, 0, sizeof *e);
}
