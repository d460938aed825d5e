/* evalcheck.c — `dtrain eval` (a checkpoint over both splits, and for 2-D
 * data its predictions on a grid) and `dtrain gradcheck` (analytic against
 * finite-difference gradients). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "io/ckpt.h"
#include "train/run.h"
#include "train/checkpoint.h"
#include "train/train.h"

/* stb_image_write from Debian's libstb-dev, compiled here as static
 * functions: no link dependency, and no clash with the CLI's stb_image. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

static void emit(const dt_run_args *a, const dt_setup *s, dt_event ev)
{
    if (s->rank == 0 && a->on_event) a->on_event(a->user, &ev);
}

static dt_status write_close(FILE *f, const char *path)
{
    int bad = ferror(f);
    int err = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    return bad ? dt_error(DT_ERR_IO, "%s: cannot write: %s", path, strerror(err)) : DT_OK;
}

/* The training points beside the grid: OUT.csv gives OUT.points.csv. */
static void points_path(const char *grid, char *buf, size_t len)
{
    size_t n = strlen(grid);
    if (n > 4 && !strcmp(grid + n - 4, ".csv")) n -= 4;
    snprintf(buf, len, "%.*s.points.csv", (int)n, grid);
}

/* Predictions over an N x N grid covering the training points' bounding box
 * plus a 10 % margin, for decision-boundary plots: rows x,y,p with p the
 * probability of class 1 (two classes) or x,y,class (more), x fastest; and
 * the training points as x,y,label. Rank 0 alone computes and writes: an
 * evaluation-mode pass has no collectives. */
static dt_status write_grid(const dt_run_args *a, dt_setup *s)
{
    const dt_dataset *d = s->train;
    int64_t N = a->grid_size ? a->grid_size : 200;
    if (s->rank != 0 || d->n == 0) return DT_OK;

    double lo[2] = {d->x[0], d->x[1]}, hi[2] = {d->x[0], d->x[1]};
    for (int64_t r = 0; r < d->n; r++)
        for (int k = 0; k < 2; k++) {
            lo[k] = fmin(lo[k], d->x[2 * r + k]);
            hi[k] = fmax(hi[k], d->x[2 * r + k]);
        }
    for (int k = 0; k < 2; k++) {
        double m = hi[k] > lo[k] ? 0.1 * (hi[k] - lo[k]) : 1;
        lo[k] -= m;
        hi[k] += m;
    }

    dt_net *net = s->net;
    int K = net->nclasses, binary = K == 2;
    int cls_bce = !strcmp(net->losses[net->classifier].ops->type, "bce");
    char ppath[4200];
    points_path(a->grid, ppath, sizeof ppath);
    FILE *f = fopen(a->grid, "w");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot create: %s", a->grid, strerror(errno));
    fputs(binary ? "x,y,p\n" : "x,y,class\n", f);
    dt_real *x = dt_alloc((size_t)net->maxn * 2 * sizeof *x);
    int32_t *cls = dt_alloc((size_t)net->maxn * sizeof *cls);
    if (!x || !cls) {
        dt_free(x);
        dt_free(cls);
        fclose(f);
        return dt_error(DT_ERR_NOMEM, "out of memory for the grid");
    }
    dt_pass p = {.train = 0};
    for (int64_t i0 = 0; i0 < N * N; i0 += net->maxn) {
        p.n = N * N - i0 < net->maxn ? N * N - i0 : net->maxn;
        for (int64_t r = 0; r < p.n; r++) {
            int64_t i = i0 + r;
            x[2 * r] = (dt_real)(lo[0] + (hi[0] - lo[0]) * (double)(i % N) / (double)(N - 1));
            x[2 * r + 1] = (dt_real)(lo[1] + (hi[1] - lo[1]) * (double)(i / N) / (double)(N - 1));
        }
        const dt_real *out = dt_net_forward(net, x, &p);
        dt_net_predict(net, p.n, cls, NULL);
        for (int64_t r = 0; r < p.n; r++) {
            /* BCE has one output unit, p(class 1); a 2-way softmax has two */
            double v = !binary ? cls[r] : cls_bce ? out[r] : out[2 * r + 1];
            fprintf(f, "%.6g,%.6g,%.6g\n", (double)x[2 * r], (double)x[2 * r + 1], v);
        }
    }
    dt_free(x);
    dt_free(cls);
    DT_TRY(write_close(f, a->grid));

    if (!(f = fopen(ppath, "w"))) return dt_error(DT_ERR_IO, "%s: cannot create: %s", ppath, strerror(errno));
    fputs("x,y,label\n", f);
    for (int64_t r = 0; r < d->n; r++)
        fprintf(f, "%.9g,%.9g,%d\n", (double)d->x[2 * r], (double)d->x[2 * r + 1], (int)d->y[r]);
    DT_TRY(write_close(f, ppath));

    char line[9000];
    snprintf(line, sizeof line, "grid: %lld x %lld %s over x [%.4g, %.4g], y [%.4g, %.4g] in %s; training points in %s",
             (long long)N, (long long)N, binary ? "probabilities of class 1" : "predicted classes", lo[0], hi[0],
             lo[1], hi[1], a->grid, ppath);
    emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = line});
    return DT_OK;
}

/* ---- --mistakes --------------------------------------------------------- */

/* Ten distinct colours (matplotlib's tab10): class k gets colour k % 10. */
static const unsigned char palette[10][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

static const char *class_name(const dt_dataset *d, int k, char *buf, size_t len)
{
    if (d->class_names && k < d->nclasses) return d->class_names[k];
    snprintf(buf, len, "class %d", k);
    return buf;
}

/* OUT.png gives OUT.txt. */
static void list_path(const char *png, char *buf, size_t len)
{
    size_t n = strlen(png);
    if (n > 4 && !strcmp(png + n - 4, ".png")) n -= 4;
    snprintf(buf, len, "%.*s.txt", (int)n, png);
}

/* Height, width and channels of one example; 0 when the rows are not images. */
static int image_geometry(const dt_dataset *d, int64_t *H, int64_t *W, int64_t *C)
{
    if (d->ndim < 2 || d->ndim > 3) return 0;
    *H = d->dims[0];
    *W = d->dims[1];
    *C = d->ndim == 3 ? d->dims[2] : 1;
    return (*C == 1 || *C == 3) && *H * *W * *C == d->features;
}

/* Class numbers on the strips: a 3x5 pixel font for the digits, drawn at
 * twice its size in black, so the grid says true and predicted label
 * without a font library. */
static const unsigned short digit_font[10] = {
    /* rows top to bottom, 3 bits each (left bit first) */
    075557, 022222, 071747, 071717, 055711, 074717, 074757, 071111, 075757, 075717};

static void draw_number(unsigned char *img, int64_t PW, int64_t x0, int64_t y0, int v, int64_t width)
{
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%d", v);
    if (n * 8 > width) return; /* no room in the cell */
    for (int k = 0; k < n; k++) {
        unsigned short g = digit_font[buf[k] - '0'];
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 3; c++) {
                if (!((g >> (3 * (4 - r) + (2 - c))) & 1)) continue;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        memset(img + ((y0 + 2 * r + dy) * PW + x0 + k * 8 + 2 * c + dx) * 3, 0, 3);
            }
    }
}

#define MISTAKES_MAX 64  /* images in the grid; the list names every one */
#define MISTAKES_COLS 8
#define CELL_STRIP 12    /* px of the true (top) and predicted (bottom) strips: colour and class number */
#define CELL_GAP 2       /* px of white between cells */

/* The misclassified test rows as a PNG grid (each image scaled to at least
 * 56 px, a strip above in the true class's colour and one below in the
 * predicted class's), every mistake as "index<TAB>true<TAB>predicted" in
 * OUT.txt, and the confusion matrix (rows true, columns predicted) as notes.
 * Rank 0 alone: an evaluation-mode pass has no collectives. */
static dt_status write_mistakes(const dt_run_args *a, dt_setup *s)
{
    const dt_dataset *d = s->test;
    dt_net *net = s->net;
    if (s->rank != 0) return DT_OK;
    int64_t H = 1, W = 1, C = 1, F = d->features;
    image_geometry(d, &H, &W, &C); /* checked in eval_run */
    int K = net->nclasses;
    int64_t *conf = calloc((size_t)K * (size_t)K, sizeof *conf);
    int64_t *wrong = dt_alloc((size_t)(d->n ? d->n : 1) * sizeof *wrong);
    int32_t *cls = dt_alloc((size_t)net->maxn * sizeof *cls), *pred = dt_alloc((size_t)(d->n ? d->n : 1) * sizeof *pred);
    dt_status st = DT_OK;
    if (!conf || !wrong || !cls || !pred) {
        st = dt_error(DT_ERR_NOMEM, "out of memory for --mistakes");
        goto done;
    }
    int64_t m = 0;
    dt_pass p = {.train = 0};
    for (int64_t r0 = 0; r0 < d->n; r0 += net->maxn) {
        p.n = d->n - r0 < net->maxn ? d->n - r0 : net->maxn;
        dt_net_forward(net, d->x + r0 * F, &p);
        dt_net_predict(net, p.n, cls, NULL);
        for (int64_t r = 0; r < p.n; r++) {
            int t = d->y[r0 + r], q = cls[r];
            pred[r0 + r] = q;
            conf[(int64_t)t * K + q]++;
            if (t != q) wrong[m++] = r0 + r;
        }
    }

        /* the list */
    char txt[4200], n1[32], n2[32];
    list_path(a->mistakes, txt, sizeof txt);
    FILE *f = fopen(txt, "w");
    if (!f) {
        st = dt_error(DT_ERR_IO, "%s: cannot create: %s", txt, strerror(errno));
        goto done;
    }
    for (int64_t i = 0; i < m; i++)
        fprintf(f, "%lld\t%s\t%s\n", (long long)wrong[i], class_name(d, d->y[wrong[i]], n1, sizeof n1),
                class_name(d, pred[wrong[i]], n2, sizeof n2));
    if ((st = write_close(f, txt))) goto done;

    /* the grid: white background, cells row by row in the order of the list */
    int64_t shown = m < MISTAKES_MAX ? m : MISTAKES_MAX;
    int64_t S = H >= 28 ? 2 : (56 + H - 1) / H; /* scale */
    int64_t cw = W * S, ch = H * S + 2 * CELL_STRIP;
    int64_t cols = shown < MISTAKES_COLS ? (shown ? shown : 1) : MISTAKES_COLS, rows = shown ? (shown + cols - 1) / cols : 1;
    int64_t PW = cols * cw + (cols + 1) * CELL_GAP, PH = rows * ch + (rows + 1) * CELL_GAP;
    unsigned char *img = malloc((size_t)(PW * PH * 3));
    if (!img) {
        st = dt_error(DT_ERR_NOMEM, "out of memory for --mistakes");
        goto done;
    }
    memset(img, 255, (size_t)(PW * PH * 3));
    for (int64_t i = 0; i < shown; i++) {
        const dt_real *row = d->x + wrong[i] * F;
        int64_t x0 = CELL_GAP + (i % cols) * (cw + CELL_GAP), y0 = CELL_GAP + (i / cols) * (ch + CELL_GAP);
        const unsigned char *top = palette[d->y[wrong[i]] % 10], *bot = palette[pred[wrong[i]] % 10];
        for (int64_t y = 0; y < ch; y++)
            for (int64_t x = 0; x < cw; x++) {
                unsigned char *px = img + ((y0 + y) * PW + x0 + x) * 3;
                int64_t h = (y - CELL_STRIP) / S, w = x / S;
                for (int64_t c = 0; c < 3; c++) {
                    if (y < CELL_STRIP) px[c] = top[c];
                    else if (y >= ch - CELL_STRIP) px[c] = bot[c];
                    else {
                        int64_t cc = C == 1 ? 0 : c; /* grey images repeat their one channel */
                        double v = s->chw ? row[(cc * H + h) * W + w] : row[(h * W + w) * C + cc];
                        px[c] = (unsigned char)(v <= 0 ? 0 : v >= 1 ? 255 : v * 255 + 0.5);
                    }
                }
            }
        draw_number(img, PW, x0 + 2, y0 + 1, d->y[wrong[i]], cw - 2);
        draw_number(img, PW, x0 + 2, y0 + ch - CELL_STRIP + 1, pred[wrong[i]], cw - 2);
    }
    int okw = stbi_write_png(a->mistakes, (int)PW, (int)PH, 3, img, (int)(PW * 3));
    free(img);
    if (!okw) {
        st = dt_error(DT_ERR_IO, "%s: cannot write the PNG", a->mistakes);
        goto done;
    }

    char line[9000];
    snprintf(line, sizeof line,
             "mistakes: %lld of %lld test images misclassified; %lld shown in %s (strip above: true class number and colour, below: "
             "predicted; colours by class index, tab10 palette); list (index, true, predicted) in %s",
             (long long)m, (long long)d->n, (long long)shown, a->mistakes, txt);
    emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = line});
    emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = "confusion matrix (rows: true class, columns: predicted class):"});
    int n = snprintf(line, sizeof line, "%16s", "");
    for (int q = 0; q < K && n < 8000; q++) n += snprintf(line + n, sizeof line - (size_t)n, " %7d", q);
    emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = line});
    for (int t = 0; t < K; t++) {
        n = snprintf(line, sizeof line, "%2d %-13.13s", t, class_name(d, t, n1, sizeof n1));
        for (int q = 0; q < K && n < 8000; q++)
            n += snprintf(line + n, sizeof line - (size_t)n, " %7lld", (long long)conf[(int64_t)t * K + q]);
        emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = line});
    }
done:
    free(conf);
    dt_free(wrong);
    dt_free(cls);
    dt_free(pred);
    return st;
}

/* ---- --features --------------------------------------------------------- */

/* The activations of one layer over a whole split, written by rank 0 alone
 * (a forward pass in evaluation mode has no collectives) as
 *   /features [rows, C, H, W] or [rows, F]   the layer's output, dt_real
 *   /labels   [rows] int64                    when the data has labels
 *   /targets  [rows, ...]                     when it has dense targets
 * with attributes layer, split, checkpoint and model_text. Atomic, as checkpoints are. */
static dt_status write_features(const dt_run_args *a, dt_setup *s, const dt_dataset *d, const char *split)
{
    dt_net *net = s->net;
    int li = dt_net_find(net, a->features_layer);
    if (li < 0)
        return dt_error(DT_ERR_ARG, "--features: '%s' is not a layer of %s", a->features_layer, s->model_path);
    if (s->rank != 0) return DT_OK;
    dt_net_unfold(net, li); /* its own output, not the activation after it */
    const dt_layer *l = &net->layers[li];
    int64_t f = dt_shape_size(l->out), rows = d->n;
    dt_real *out = dt_alloc((size_t)(rows * f + 1) * sizeof *out);
    int64_t *labels = d->labeled ? dt_alloc((size_t)(rows + 1) * sizeof *labels) : NULL;
    if (!out || (d->labeled && !labels)) {
        dt_free(out);
        dt_free(labels);
        return dt_error(DT_ERR_NOMEM, "--features: out of memory for %lld rows of %lld values", (long long)rows, (long long)f);
    }
    dt_pass p = {.train = 0};
    for (int64_t r0 = 0; r0 < rows; r0 += net->maxn) {
        p.n = rows - r0 < net->maxn ? rows - r0 : net->maxn;
        dt_net_forward(net, d->x + r0 * d->features, &p);
        memcpy(out + r0 * f, l->y, (size_t)(p.n * f) * sizeof *out);
    }
    for (int64_t r = 0; labels && r < rows; r++) labels[r] = d->y[r];
    int flat = l->out.h == 1 && l->out.w == 1;
    dt_ckpt_array arr[3] = {{"features", DT_ARR_REAL, out, flat ? 2 : 4, {rows, l->out.c, l->out.h, l->out.w}}};
    int narr = 1;
    if (labels) arr[narr++] = (dt_ckpt_array){"labels", DT_ARR_I64, labels, 1, {rows}};
    if (d->tlen) arr[narr++] = (dt_ckpt_array){"targets", DT_ARR_REAL, d->t, 2, {rows, d->tlen}};
    dt_ckpt_attr at[] = {{"layer", DT_ATTR_STR, 0, 0, l->name}, {"split", DT_ATTR_STR, 0, 0, split},
                         {"checkpoint", DT_ATTR_STR, 0, 0, a->ckpt}, {"model_text", DT_ATTR_STR, 0, 0, dt_ini_text(s->model)}};
    dt_status st = dt_ckpt_write(a->features, arr, narr, at, 4);
    dt_free(out);
    dt_free(labels);
    DT_TRY(st);
    char line[9000];
    snprintf(line, sizeof line, "features: layer '%s' (%lld values per row) over the %s split, %lld rows, in %s",
             l->name, (long long)f, split, (long long)rows, a->features);
    emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = line});
    return DT_OK;
}

/* The split --features reads: --split, else test, else train when there is no test split. */
static dt_status features_split(const dt_run_args *a, const dt_setup *s, const dt_dataset **d, const char **name)
{
    int test = a->split ? !strcmp(a->split, "test") : s->test->total > 0;
    if (a->split && !test && strcmp(a->split, "train"))
        return dt_error(DT_ERR_ARG, "--split wants train or test, not '%s'", a->split);
    if (s->sharding != DT_SHARD_GLOBAL)
        return dt_error(DT_ERR_ARG, "--features needs [data] sharding = global, where rank 0 holds every row");
    *d = test ? s->test : s->train;
    *name = test ? "test" : "train";
    if ((*d)->total == 0) return dt_error(DT_ERR_ARG, "--features: %s has no %s split", a->config, *name);
    return DT_OK;
}

static dt_status eval_run(const dt_run_args *a, dt_setup *s)
{
    train_cfg t; /* training's keys, read as training reads them (unused here) */
    dt_optim o;
    DT_TRY(dt_setup_config(s, a->comm, a->config, a->overrides, a->noverrides));
    DT_TRY(dt_train_read_keys(s->cfg, &t, &o));
    DT_TRY(dt_setup_data(s));
    if (a->grid && s->train->features != 2) /* before the checkpoint and the evaluation */
        return dt_error(DT_ERR_ARG, "--grid needs a data set of 2 features (points in the plane); %s has %lld",
                        a->config, (long long)s->train->features);
    if (a->grid && s->sharding != DT_SHARD_GLOBAL)
        return dt_error(DT_ERR_ARG, "--grid needs [data] sharding = global, where rank 0 holds every training point");
    if (a->mistakes) {
        int64_t H, W, C;
        if (s->test->total == 0) return dt_error(DT_ERR_ARG, "--mistakes needs a test split; %s has none", a->config);
        if (!image_geometry(s->test, &H, &W, &C))
            return dt_error(DT_ERR_ARG, "--mistakes needs image data (H x W, 1 or 3 channels); %s has rows of %lld values",
                            a->config, (long long)s->test->features);
        if (s->sharding != DT_SHARD_GLOBAL)
            return dt_error(DT_ERR_ARG, "--mistakes needs [data] sharding = global, where rank 0 holds every test image");
    }
    DT_TRY(dt_setup_net_sized(s, 64, 1024));
    if ((a->grid || a->mistakes) && s->net->classifier < 0)
        return dt_error(DT_ERR_ARG, "%s needs a classifier (a softmax_ce or bce loss); %s has none", a->grid ? "--grid" : "--mistakes",
                        s->model_path);
    DT_TRY(dt_ini_check_unused(s->cfg));
    const dt_dataset *fd = NULL;
    const char *fname = NULL;
    if (a->features) DT_TRY(features_split(a, s, &fd, &fname));
    DT_TRY(dt_ckpt_load_run(a->ckpt, s, NULL, NULL, NULL));
    const char *names[2] = {"train", s->test_name};
    const dt_dataset *sets[2] = {s->train, s->test};
    const dt_net *net = s->net;
    double *each = calloc((size_t)net->nlosses + 1, sizeof *each);
    dt_status st = each ? DT_OK : dt_error(DT_ERR_NOMEM, "out of memory");
    static double ap[DT_EVAL_MAX_CLASSES];
    for (int i = 0; i < 2 && !st; i++) {
        dt_eval_result e = {.each = each, .ap = ap};
        if (sets[i]->total == 0 || net->nlosses == 0) continue; /* headless: nothing to measure */
        if ((st = dt_evaluate(s, sets[i], &e))) break;
        double acc = net->classifier < 0 || e.has_verify ? NAN : e.count ? (double)e.correct / (double)e.count : 0;
        emit(a, s, (dt_event){.kind = DT_EV_EVAL, .split = names[i], .loss = e.loss, .accuracy = acc,
                              .correct = e.correct, .count = e.count, .nlosses = dt_net_named_losses(net),
                              .loss_names = net->loss_names, .losses = each, .has_map = e.has_map, .map50 = e.map50,
                              .has_verify = e.has_verify, .verify_auc = e.v.auc, .verify_acc = e.v.acc,
                              .verify_thr = e.v.thr});
        if (e.has_map && s->rank == 0) { /* the detector's per-class table */
            printf("%s: average precision at IoU 0.5 per class (mAP %.4f)\n", names[i], e.map50);
            for (int k = 0; k < e.nclasses; k++) {
                const char *cn = sets[i]->class_names && k < sets[i]->nclasses ? sets[i]->class_names[k] : NULL;
                if (isnan(ap[k])) printf("  %3d %-20s  -  (no boxes)\n", k, cn ? cn : "");
                else printf("  %3d %-20s %.4f\n", k, cn ? cn : "", ap[k]);
            }
        }
    }
    free(each);
    DT_TRY(st);
    if (a->grid) DT_TRY(write_grid(a, s));
    if (fd) DT_TRY(dt_comm_agree(s->comm, write_features(a, s, fd, fname)));
    return a->mistakes ? write_mistakes(a, s) : DT_OK;
}

dt_status dt_eval(const dt_run_args *a)
{
    dt_setup s = {0};
    dt_status st = dt_comm_agree(a->comm, eval_run(a, &s));
    dt_setup_free(&s);
    return st;
}

/* Mean loss over the rows (with the L2 term), optionally leaving gradients. */
static double batch_loss(dt_setup *s, double *sums, const dt_real *x, const int32_t *y, int64_t n, double l2, int grad)
{
    dt_net *net = s->net;
    dt_pass p = {.n = n, .train = 1, .seed = 1, .step = 0, .sample_ids = NULL};
    static int64_t ids[64];
    for (int64_t i = 0; i < n; i++) ids[i] = i;
    p.sample_ids = ids;
    memset(sums, 0, (size_t)dt_net_nsums(net) * sizeof *sums);
    dt_targets tg = {.labels = y, .dense = s->train->t};
    dt_net_forward(net, x, &p);
    dt_net_loss(net, &tg, n, grad ? (dt_real)(1.0 / (double)n) : 0, sums, NULL);
    if (grad) {
        dt_net_zero_grads(net);
        dt_net_backward(net, x, NULL, &p);
    }
    return sums[0] / (double)n + (l2 > 0 ? dt_net_l2(net, l2, (double)n, grad) : 0);
}

static dt_status grad_run(const dt_run_args *a, dt_setup *s, double *max_rel)
{
    train_cfg t;
    dt_optim o;
    DT_TRY(dt_setup_config(s, a->comm, a->config, a->overrides, a->noverrides));
    DT_TRY(dt_train_read_keys(s->cfg, &t, &o));
    DT_TRY(dt_setup_data(s));
    DT_TRY(dt_setup_net(s, 64));
    DT_TRY(dt_ini_check_unused(s->cfg));
    DT_TRY(dt_net_init(s->net, s->init_seed));
    dt_net *net = s->net;
    if (net->nlosses == 0)
        return dt_error(DT_ERR_CONFIG, "%s: gradcheck needs a model with a loss; this one is headless", s->model_path);
    int64_t n = s->train->n < 8 ? s->train->n : 8;
    const dt_real *x = s->train->x;
    const int32_t *y = s->train->y;
#ifdef DTRAIN_DOUBLE
    const double eps = 1e-7;
#else
    const double eps = 1e-2;
#endif
    double *sums = calloc((size_t)dt_net_nsums(net), sizeof *sums);
    dt_real *g = dt_alloc((size_t)(net->ntrain + 1) * sizeof(dt_real));
    if (!g || !sums) {
        free(sums);
        dt_free(g);
        return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    batch_loss(s, sums, x, y, n, o.l2, 1);
    memcpy(g, net->grads, (size_t)net->ntrain * sizeof(dt_real));
    double num2 = 0, g2 = 0, d2 = 0;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        for (int j = 0; j < l->nparams; j++) {
            dt_param *pr = &l->params[j];
            if (!pr->g) continue; /* running statistics and frozen parameters: no gradient to check */
            int64_t stride = pr->size > 200 ? pr->size / 200 : 1; /* sample large tensors */
            double pn = 0, pg = 0, pd = 0;
            for (int64_t t = 0; t < pr->size; t += stride) {
                dt_real keep = pr->w[t];
                pr->w[t] = (dt_real)(keep + eps);
                double lp = batch_loss(s, sums, x, y, n, o.l2, 0);
                pr->w[t] = (dt_real)(keep - eps);
                double lm = batch_loss(s, sums, x, y, n, o.l2, 0);
                pr->w[t] = keep;
                double gn = (lp - lm) / (2 * eps), ga = g[pr->w - net->params + t];
                pn += gn * gn;
                pg += ga * ga;
                pd += (gn - ga) * (gn - ga);
            }
            double rel = sqrt(pd) / (sqrt(pn) + sqrt(pg) + 1e-300);
            char line[256];
            snprintf(line, sizeof line, "%-12s %-2s relative difference %.3e", l->name, pr->name, rel);
            emit(a, s, (dt_event){.kind = DT_EV_NOTE, .text = line, .loss = rel});
            num2 += pn;
            g2 += pg;
            d2 += pd;
        }
    }
    dt_free(g);
    free(sums);
    *max_rel = sqrt(d2) / (sqrt(num2) + sqrt(g2) + 1e-300);
    return DT_OK;
}

dt_status dt_gradcheck(const dt_run_args *a, double *max_rel)
{
    dt_setup s = {0};
    *max_rel = 0;
    dt_status st = dt_comm_agree(a->comm, grad_run(a, &s, max_rel));
    dt_setup_free(&s);
    return st;
}
