/* augment.c — random crop with zero padding and horizontal flip, keyed by
 * (seed, epoch, sample) through the counter-based hash. */
#include "data/augment.h"

#include <string.h>

#include "core/rng.h"

dt_status dt_augment_init(dt_augment *a, int crop_pad, int flip, int c, int h, int w, uint64_t seed)
{
    *a = (dt_augment){crop_pad, flip, c, h, w, seed, NULL};
    a->tmp = dt_alloc((size_t)c * h * w * sizeof(dt_real));
    return a->tmp ? DT_OK : dt_error(DT_ERR_NOMEM, "out of memory");
}

void dt_augment_destroy(dt_augment *a)
{
    dt_free(a->tmp);
    a->tmp = NULL;
}

/* Sample id's draw: out(i, j) = in(i + dy, j' + dx), j' = j or flipped. */
static void draw(const dt_augment *a, int64_t epoch, int64_t sample, int *dy, int *dx, int *fl)
{
    uint64_t id = (uint64_t)sample;
    int span = 2 * a->crop_pad + 1;
    *dy = a->crop_pad ? (int)(dt_hash_uniform(a->seed, (uint64_t)epoch, id, 0xA1) * span) - a->crop_pad : 0;
    *dx = a->crop_pad ? (int)(dt_hash_uniform(a->seed, (uint64_t)epoch, id, 0xA2) * span) - a->crop_pad : 0;
    *fl = a->flip && dt_hash_uniform(a->seed, (uint64_t)epoch, id, 0xA3) < 0.5;
}

void dt_augment_batch(const dt_augment *a, dt_real *x, const int64_t *ids, int64_t n, int64_t epoch)
{
    int64_t hw = (int64_t)a->h * a->w, size = a->c * hw;
    for (int64_t r = 0; r < n; r++) {
        int dy, dx, fl;
        draw(a, epoch, ids[r], &dy, &dx, &fl);
        if (!dy && !dx && !fl) continue;
        dt_real *img = x + r * size;
        memcpy(a->tmp, img, (size_t)size * sizeof *img);
        /* out(i, j) = in(i + dy, j' + dx), j' = flipped j; outside the image is zero padding */
        for (int c = 0; c < a->c; c++)
            for (int i = 0; i < a->h; i++) {
                int si = i + dy;
                dt_real *o = img + c * hw + (int64_t)i * a->w;
                const dt_real *src = a->tmp + c * hw + (int64_t)si * a->w;
                for (int j = 0; j < a->w; j++) {
                    int sj = (fl ? a->w - 1 - j : j) + dx;
                    o[j] = si >= 0 && si < a->h && sj >= 0 && sj < a->w ? src[sj] : 0;
                }
            }
    }
}

void dt_augment_boxes(const dt_augment *a, dt_real *t, int nbox, const int64_t *ids, int64_t n, int64_t epoch)
{
    for (int64_t r = 0; r < n; r++) {
        int dy, dx, fl;
        draw(a, epoch, ids[r], &dy, &dx, &fl);
        for (int b = 0; b < nbox; b++) {
            dt_real *bx = t + (r * nbox + b) * 5;
            if (!(bx[0] >= 0)) continue;
            /* source columns [x1, x2) land on [x1 - dx, x2 - dx), or flipped on [w - x2 + dx, w - x1 + dx) */
            double x1 = fl ? a->w - bx[3] + dx : bx[1] - dx, x2 = fl ? a->w - bx[1] + dx : bx[3] - dx;
            double y1 = bx[2] - dy, y2 = bx[4] - dy, area = (x2 - x1) * (y2 - y1);
            double cx1 = x1 > 0 ? x1 : 0, cy1 = y1 > 0 ? y1 : 0;
            double cx2 = x2 < a->w ? x2 : a->w, cy2 = y2 < a->h ? y2 : a->h;
            if (cx2 > cx1 && cy2 > cy1 && (cx2 - cx1) * (cy2 - cy1) >= 0.5 * area) {
                bx[1] = (dt_real)cx1, bx[2] = (dt_real)cy1, bx[3] = (dt_real)cx2, bx[4] = (dt_real)cy2;
            } else {
                bx[0] = -1, bx[1] = bx[2] = bx[3] = bx[4] = 0;
            }
        }
    }
}
