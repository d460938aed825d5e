/* scenes.c — Fashion-MNIST items on textured canvases (see scenes.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/scenes.h"

#define ITEM 28         /* Fashion-MNIST pictures are 28 x 28 */
#define VISIBLE 0.1     /* a scaled item's pixel brighter than this is part of its box */
#define MAX_OVERLAP 0.3 /* IoU above which a new item is placed again */
#define TRIES 20

static double iou(const float *a, const float *b) /* x1, y1, x2, y2 */
{
    double w = fmin(a[2], b[2]) - fmax(a[0], b[0]), h = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (w <= 0 || h <= 0) return 0;
    double in = w * h, ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - in;
    return ua > 0 ? in / ua : 0;
}

/* The item scaled to s x s (bilinear, pixel centres aligned) into out [s, s]. */
static void scale_item(const dt_real *item, int s, float *out)
{
    for (int y = 0; y < s; y++) {
        double fy = (y + 0.5) * ITEM / s - 0.5;
        int y0 = (int)floor(fy);
        double wy = fy - y0;
        for (int x = 0; x < s; x++) {
            double fx = (x + 0.5) * ITEM / s - 0.5;
            int x0 = (int)floor(fx);
            double wx = fx - x0, v = 0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    int yy = y0 + dy, xx = x0 + dx;
                    if (yy < 0 || yy >= ITEM || xx < 0 || xx >= ITEM) continue; /* black border */
                    v += (dy ? wy : 1 - wy) * (dx ? wx : 1 - wx) * item[yy * ITEM + xx];
                }
            out[y * s + x] = (float)v;
        }
    }
}

/* Dark smooth texture: three random plane waves and a little pixel noise. */
static void background(dt_rng *r, int S, float *img)
{
    double fx[3], fy[3], ph[3], amp[3];
    for (int k = 0; k < 3; k++) {
        double ang = 2 * M_PI * dt_rng_double(r), freq = (1 + 5 * dt_rng_double(r)) * 2 * M_PI / S;
        fx[k] = freq * cos(ang), fy[k] = freq * sin(ang);
        ph[k] = 2 * M_PI * dt_rng_double(r);
        amp[k] = 0.03 + 0.05 * dt_rng_double(r);
    }
    double base = 0.1 + 0.15 * dt_rng_double(r);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double v = base + 0.02 * dt_rng_randn(r);
            for (int k = 0; k < 3; k++) v += amp[k] * sin(fx[k] * x + fy[k] * y + ph[k]);
            img[y * S + x] = (float)fmin(1, fmax(0, v));
        }
}

dt_status dt_scenes_check(const dt_scenes_opts *o)
{
    if (o->size < 16 || o->size > 4096) return dt_error(DT_ERR_ARG, "scenes: --size %d: expected 16 to 4096", o->size);
    if (o->min_item < 4 || o->max_item < o->min_item || o->max_item > o->size)
        return dt_error(DT_ERR_ARG, "scenes: item sizes %d..%d: expected 4 <= min <= max <= the canvas (%d)", o->min_item,
                        o->max_item, o->size);
    if (o->max_items < 1 || o->max_items > 100)
        return dt_error(DT_ERR_ARG, "scenes: %d items per scene: expected 1 to 100", o->max_items);
    return DT_OK;
}

dt_status dt_scenes_make(const dt_scenes_opts *o, const dt_real *items, const int32_t *labels, int64_t m, float *img,
                         float *boxes)
{
    DT_TRY(dt_scenes_check(o));
    if (m < 1) return dt_error(DT_ERR_ARG, "scenes: no items to place");
    const int S = o->size, B = o->max_items;
    float *it = malloc((size_t)o->max_item * o->max_item * sizeof *it);
    if (!it) return dt_error(DT_ERR_NOMEM, "out of memory");
    dt_rng r;
    dt_rng_seed(&r, o->seed);
    for (int64_t i = 0; i < o->n; i++) {
        float *pic = img + i * (int64_t)S * S, *bx = boxes + i * (int64_t)B * 5;
        if (o->flat) memset(pic, 0, (size_t)S * S * sizeof *pic);
        else background(&r, S, pic);
        for (int b = 0; b < B; b++) bx[b * 5] = -1, bx[b * 5 + 1] = bx[b * 5 + 2] = bx[b * 5 + 3] = bx[b * 5 + 4] = 0;
        int want = 1 + (int)(dt_rng_double(&r) * B), have = 0;
        want = want <= B ? want : B;
        for (int k = 0; k < want || (have == 0 && k < want + 100); k++) { /* at least one item */
            int64_t src = (int64_t)(dt_rng_double(&r) * (double)m);
            src = src < m ? src : m - 1;
            int s = o->min_item + (int)(dt_rng_double(&r) * (o->max_item - o->min_item + 1));
            s = s <= o->max_item ? s : o->max_item;
            scale_item(items + src * ITEM * ITEM, s, it);
            int lx = s, ly = s, hx = -1, hy = -1; /* the visible pixels' box within the item */
            for (int y = 0; y < s; y++)
                for (int x = 0; x < s; x++)
                    if (it[y * s + x] > VISIBLE) lx = x < lx ? x : lx, hx = x > hx ? x : hx, ly = y < ly ? y : ly, hy = y > hy ? y : hy;
            if (hx < 0) continue; /* an all-dark item: nothing to find */
            for (int t = 0; t < TRIES; t++) {
                int px = (int)(dt_rng_double(&r) * (S - s + 1)), py = (int)(dt_rng_double(&r) * (S - s + 1));
                float box[5] = {(float)labels[src], (float)(px + lx), (float)(py + ly), (float)(px + hx + 1), (float)(py + hy + 1)};
                int clash = 0;
                for (int b = 0; b < have && !clash; b++) clash = iou(box + 1, bx + b * 5 + 1) > MAX_OVERLAP;
                if (clash) continue;
                for (int y = 0; y < s; y++)
                    for (int x = 0; x < s; x++) {
                        float *p = &pic[(py + y) * S + px + x];
                        *p = fmaxf(*p, it[y * s + x]);
                    }
                memcpy(bx + have * 5, box, sizeof box);
                have++;
                break;
            }
        }
    }
    free(it);
    return DT_OK;
}

dt_status dt_scenes_items(const char *dir, dt_dataset **train, dt_dataset **test)
{
    char text[5000];
    snprintf(text, sizeof text,
             "[data]\nsource = idx\nroot = %s\ntrain_images = train-images-idx3-ubyte.gz\n"
             "train_labels = train-labels-idx1-ubyte.gz\ntest_images = t10k-images-idx3-ubyte.gz\n"
             "test_labels = t10k-labels-idx1-ubyte.gz\n",
             dir);
    dt_ini *cfg;
    dt_sharding mode;
    DT_TRY(dt_ini_parse("scenes", text, &cfg));
    dt_status st = dt_data_load(cfg, 0, 1, train, test, &mode);
    dt_ini_free(cfg);
    if (!st && ((*train)->features != ITEM * ITEM || (*test)->features != ITEM * ITEM))
        st = dt_error(DT_ERR_DATA, "%s: expected 28x28 Fashion-MNIST pictures", dir);
    if (st) {
        dt_dataset_free(*train), dt_dataset_free(*test);
        *train = *test = NULL;
    }
    return st;
}
