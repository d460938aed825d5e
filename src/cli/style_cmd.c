/* style_cmd.c — `dtrain style`: neural style transfer on pictures, each
 * (content, style) pair optimised by one rank (train/style.h). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "image.h"
#include "style_cmd.h"
#include "train/style.h"

/* A picture in the network's pixel scale (train/style.h). */
static dt_status load(const dt_style *s, const char *path, int H, int W, dt_real *x)
{
    unsigned char *px;
    DT_TRY(dt_image_read(path, 3, H, W, &px));
    for (int c = 0; c < 3; c++)
        for (int64_t i = 0; i < (int64_t)H * W; i++)
            x[c * (int64_t)H * W + i] = (dt_real)((px[i * 3 + c] - s->mean[c]) / s->divide);
    free(px);
    return DT_OK;
}

static dt_status save(const dt_style *s, const char *path, const dt_real *x, int H, int W)
{
    unsigned char *px = malloc((size_t)H * W * 3);
    if (!px) return dt_error(DT_ERR_NOMEM, "out of memory");
    for (int c = 0; c < 3; c++)
        for (int64_t i = 0; i < (int64_t)H * W; i++) {
            double v = x[c * (int64_t)H * W + i] * s->divide + s->mean[c] + 0.5;
            px[i * 3 + c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    dt_status st = dt_image_write_png(path, px, H, W);
    free(px);
    return st;
}

/* OUT.png for one picture; OUT-<content name>.png for several; "-iterN" for saves along the way. */
static void out_name(const char *out, const char *content, int several, long iter, char *buf, size_t n)
{
    const char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
    int stem = dot && (!slash || dot > slash) ? (int)(dot - out) : (int)strlen(out);
    char cbuf[4096], part[600] = "";
    snprintf(cbuf, sizeof cbuf, "%s", content);
    const char *cb = basename(cbuf);
    if (several) snprintf(part, sizeof part, "-%.*s", (int)strcspn(cb, "."), cb);
    if (iter >= 0) snprintf(part + strlen(part), sizeof part - strlen(part), "-iter%ld", iter);
    snprintf(buf, n, "%.*s%s.png", stem, out, part);
}

/* One (content, style) pair on this rank. */
static dt_status one(dt_style *s, const dt_style_cli *a, const char *content, int several, FILE *log)
{
    int H = a->o.height, W = a->o.width;
    int64_t len = 3 * (int64_t)H * W;
    dt_real *c = dt_alloc((size_t)len * sizeof *c), *st = dt_alloc((size_t)len * sizeof *st);
    dt_status r = c && st ? DT_OK : dt_error(DT_ERR_NOMEM, "out of memory");
    if (!r) r = load(s, content, H, W, c);
    if (!r) r = load(s, a->style, H, W, st);
    if (!r) r = dt_style_start(s, c, st);
    dt_free(c);
    dt_free(st);
    DT_TRY(r);
    char path[4400];
    double t0 = dt_comm_time(), j0 = 0, jc0 = 0, js0 = 0;
    long every = a->iters >= 10 ? a->iters / 10 : 1;
    for (long it = 0; it < a->iters; it++) {
        dt_style_step(s);
        if (it == 0) j0 = s->j, jc0 = s->jc, js0 = s->js;
        if (it % every == 0 || it + 1 == a->iters)
            fprintf(log, "style: %s: iteration %ld/%ld: J %.6g (J_content %.6g, J_style %.6g), %.2f it/s\n", content, it + 1,
                    a->iters, s->j, s->jc, s->js, (double)(it + 1) / (dt_comm_time() - t0));
        if (a->save_every > 0 && (it + 1) % a->save_every == 0 && it + 1 < a->iters) {
            out_name(a->out, content, several, it + 1, path, sizeof path);
            DT_TRY(save(s, path, s->x, H, W));
        }
        fflush(log);
    }
    double secs = dt_comm_time() - t0;
    out_name(a->out, content, several, -1, path, sizeof path);
    DT_TRY(save(s, path, s->x, H, W));
    dt_style_measure(s); /* the final image's costs (a step reports those before its update) */
    fprintf(log, "style: %s + %s -> %s: J %.6g -> %.6g, J_content %.6g -> %.6g, J_style %.6g -> %.6g; %ld iterations in %.1f s (%.2f it/s)\n",
            content, a->style, path, j0, s->j, jc0, s->jc, js0, s->js, a->iters, secs, (double)a->iters / secs);
    fflush(log);
    return DT_OK;
}

int dt_cli_style(const dt_style_cli *a, dt_comm *world, FILE *log)
{
    int rank = dt_comm_rank(world), P = dt_comm_size(world), nc = 0, failed = 0;
    enum { MAX_PICTURES = 4096 };
    char *buf = strdup(a->contents), **items = calloc(MAX_PICTURES, sizeof *items);
    dt_status st = buf && items ? DT_OK : dt_error(DT_ERR_NOMEM, "out of memory");
    for (char *save = NULL, *t = st ? NULL : strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (nc == MAX_PICTURES) {
            st = dt_error(DT_ERR_ARG, "--content: more than %d pictures", MAX_PICTURES);
            break;
        }
        items[nc++] = t;
    }
    /* several pictures write OUT-<name>.png: two of the same name would write one file */
    for (int i = 0; !st && nc > 1 && i < nc; i++)
        for (int j = 0; !st && j < i; j++) {
            char a1[4400], a2[4400];
            out_name(a->out, items[i], 1, -1, a1, sizeof a1);
            out_name(a->out, items[j], 1, -1, a2, sizeof a2);
            if (!strcmp(a1, a2))
                st = dt_error(DT_ERR_ARG, "--content: %s and %s would both be written to %s: rename one", items[j], items[i], a1);
        }
    dt_style s;
    int ready = 0;
    if (!st) st = dt_style_init(&s, &a->o);
    ready = !st;
    if (st) { /* options: the same on every rank, so rank 0 says it; a failure of this rank alone: it says it */
        if (rank == 0 || st == DT_ERR_NOMEM || st == DT_ERR_IO) fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
        failed = 1;
    }
    for (int i = rank; !st && i < nc; i += P) {
        dt_status r = one(&s, a, items[i], nc > 1, log);
        if (r) { /* this picture only: the others go on */
            if (P > 1) fprintf(stderr, "dtrain: error: rank %d: %s\n", rank, dt_errmsg());
            else fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
            failed++;
        }
    }
    if (ready) dt_style_free(&s);
    free(buf);
    free(items);
    int64_t f[2] = {failed, st != DT_OK && st != DT_ERR_NOMEM && st != DT_ERR_IO}; /* failures; bad options */
    if (dt_comm_allreduce_i64(world, f, 2)) return 1;
    return f[1] ? 2 : f[0] ? 1 : 0;
}
