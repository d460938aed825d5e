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

void dt_augment_batch(const dt_augment *a, dt_real *x, const int64_t *ids, int64_t n, int64_t epoch)
{
    int64_t hw = (int64_t)a->h * a->w, size = a->c * hw;
    int span = 2 * a->crop_pad + 1;
    for (int64_t r = 0; r < n; r++) {
        uint64_t id = (uint64_t)ids[r];
        int dy = a->crop_pad ? (int)(dt_hash_uniform(a->seed, (uint64_t)epoch, id, 0xA1) * span) - a->crop_pad : 0;
        int dx = a->crop_pad ? (int)(dt_hash_uniform(a->seed, (uint64_t)epoch, id, 0xA2) * span) - a->crop_pad : 0;
        int fl = a->flip && dt_hash_uniform(a->seed, (uint64_t)epoch, id, 0xA3) < 0.5;
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
