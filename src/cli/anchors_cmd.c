/* anchors_cmd.c — `dtrain anchors CONFIG [--k N] [section.key=value ...]`:
 * the config's data and model are set up as for training; the training
 * split's boxes (every rank's, gathered on rank 0) are measured in the yolo
 * loss's grid cells and clustered (vision/anchors.h); rank 0 prints the
 * anchors line to paste into the model file, and how well they and the
 * model's own anchors fit the boxes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchors_cmd.h"
#include "args.h"
#include "train/deteval.h"
#include "train/setup.h"
#include "vision/anchors.h"

const char *const dt_cli_anchors_usage =
    "usage: dtrain anchors CONFIG [--k N] [section.key=value ...]\n"
    "\n"
    "Anchor shapes for the detector of CONFIG (a model with a yolo loss): k-means\n"
    "with distance 1 - IoU over the training split's boxes, measured in the\n"
    "loss's grid cells, as YOLOv2 chose its anchors. Prints the mean best IoU of\n"
    "the boxes with the new anchors and with the model's own, and the line\n"
    "  anchors = w1,h1, w2,h2, ...\n"
    "to put in the model file's yolo section. --k: how many (default: as many as\n"
    "the model has; the head's channels must then be changed to match).\n";

/* This rank's share of the training boxes, as (w, h) in grid cells. */
static dt_status box_shapes(const dt_setup *s, const dt_deteval *e, double **wh, int64_t *n)
{
    const dt_dataset *d = s->train;
    const int nb = (int)(d->tlen / 5);
    const double gw = e->t->src->out.w, gh = e->t->src->out.h;
    *n = 0;
    *wh = malloc((size_t)(d->n * nb + 1) * 2 * sizeof **wh);
    if (!*wh) return dt_error(DT_ERR_NOMEM, "out of memory for %lld boxes", (long long)(d->n * nb));
    /* every rank holds every row in global sharding: rank 0 alone gives them */
    if (s->sharding == DT_SHARD_GLOBAL && s->rank != 0) return DT_OK;
    for (int64_t i = 0; i < d->n * nb; i++) {
        const dt_real *b = d->t + i * 5;
        if (b[0] < 0) continue;
        (*wh)[2 * *n] = (b[3] - b[1]) / e->img_w * gw;
        (*wh)[2 * *n + 1] = (b[4] - b[2]) / e->img_h * gh;
        ++*n;
    }
    return DT_OK;
}

/* Set up as training does and take this rank's box shapes (any rank may fail). */
static dt_status anchors_setup(dt_setup *s, dt_comm *world, const char *config, char **over, int nover, dt_deteval *e,
                               double **wh, int64_t *n)
{
    DT_TRY(dt_setup_config(s, world, config, over, nover));
    DT_TRY(dt_setup_data(s));
    DT_TRY(dt_setup_net(s, 1));
    if (!dt_deteval_init(e, s->net))
        return dt_error(DT_ERR_CONFIG, "%s: the model has no yolo loss: anchors are for detectors", s->model_path);
    return box_shapes(s, e, wh, n);
}

/* Every rank's boxes on rank 0, clustered and printed there. */
static dt_status anchors_print(dt_comm *world, const dt_deteval *e, const double *wh, int64_t n, long k)
{
    double *all = NULL, out[2 * 64], mine, got;
    int64_t total = 0;
    DT_TRY(dt_comm_gatherv_f64(world, wh, 2 * n, &all, &total));
    if (dt_comm_rank(world) != 0) return DT_OK;
    int kk = k ? (int)k : e->h.nanchors;
    dt_status st = dt_anchors_kmeans(all, total / 2, kk, out, &got);
    if (!st) {
        mine = dt_anchors_mean_iou(all, total / 2, e->h.anchors, e->h.nanchors);
        printf("k-means (distance 1 - IoU) of %lld training boxes in %dx%d grid cells:\n", (long long)(total / 2),
               e->t->src->out.w, e->t->src->out.h);
        printf("mean best IoU %.4f with these %d anchors; %.4f with the model's %d\n", got, kk, mine, e->h.nanchors);
        printf("anchors = ");
        for (int j = 0; j < kk; j++) printf("%s%.2f,%.2f", j ? ", " : "", out[2 * j], out[2 * j + 1]);
        printf("\n");
    }
    free(all);
    return st;
}

int dt_cli_anchors(int argc, char **argv, dt_comm *world)
{
    int rank = dt_comm_rank(world), nover = 0;
    const char *config = NULL;
    long k = 0;
    char **over = calloc((size_t)argc + 1, sizeof *over);
    if (!over) return dt_cli_usage_error(rank, "out of memory", NULL, dt_cli_anchors_usage);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int bad = 0;
        if (!strcmp(a, "--k")) bad = i + 1 >= argc || !dt_cli_whole(argv[++i], 1, 64, &k);
        else if (a[0] == '-') bad = 1;
        else if (!config) config = a;
        else if (strchr(a, '=')) over[nover++] = argv[i];
        else bad = 1;
        if (bad) {
            free(over);
            return dt_cli_usage_error(rank, !strcmp(a, "--k") ? "--k wants a whole number from 1 to 64 after" : "unexpected argument",
                                      a, dt_cli_anchors_usage);
        }
    }
    if (!config) {
        free(over);
        return dt_cli_usage_error(rank, "missing CONFIG", NULL, dt_cli_anchors_usage);
    }
    dt_setup s = {0};
    dt_deteval e;
    double *wh = NULL;
    int64_t n = 0;
    dt_status st = dt_comm_agree(world, anchors_setup(&s, world, config, over, nover, &e, &wh, &n));
    if (!st) st = dt_comm_agree(world, anchors_print(world, &e, wh, n, k));
    free(wh);
    dt_setup_free(&s);
    free(over);
    if (st && rank == 0) fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
    return !st ? 0 : st == DT_ERR_CONFIG || st == DT_ERR_ARG || st == DT_ERR_DATA || st == DT_ERR_IO ? 2 : 1;
}
