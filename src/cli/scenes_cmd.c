/* scenes_cmd.c — `dtrain make-scenes`: the detection data set of
 * data/scenes.h, drawn from Fashion-MNIST (Debian's dataset-fashion-mnist)
 * into one HDF5 file:
 *   train_x, test_x  uint8 [n, size, size]     grey pictures (the loader scales by 1/255)
 *   train_y, test_y  float32 [n, items, 5]     boxes: class, x1, y1, x2, y2 in pixels
 *                                              (x2, y2 exclusive); class -1: no box
 * Root attributes: kind ("dtrain scenes"), seed, size, items, min_item,
 * max_item. Train scenes use the training pictures, test scenes the test
 * pictures, from two streams of the seed. With --png DIR the first test
 * scenes are also written as DIR/test_0000.png ... (for dtrain detect). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data/scenes.h"
#include "io/ckpt.h"
#include "image.h"
#include "scenes_cmd.h"

/* n scenes of split d: pictures as bytes, boxes as they are. */
static dt_status draw(const dt_scenes_args *a, const dt_dataset *d, int64_t n, uint32_t seed, unsigned char **px,
                      float **boxes)
{
    const int64_t S = a->size, B = a->items;
    float *img = malloc((size_t)(n ? n : 1) * S * S * sizeof *img);
    *px = malloc((size_t)(n ? n : 1) * S * S);
    *boxes = malloc((size_t)(n ? n : 1) * B * 5 * sizeof **boxes);
    if (!img || !*px || !*boxes) {
        free(img);
        return dt_error(DT_ERR_NOMEM, "out of memory for %lld scenes of %lldx%lld", (long long)n, (long long)S, (long long)S);
    }
    dt_scenes_opts o = {n, a->size, a->min_item, a->max_item, a->items, seed, 0};
    dt_status st = dt_scenes_make(&o, d->x, d->y, d->n, img, *boxes);
    for (int64_t i = 0; !st && i < n * S * S; i++) (*px)[i] = (unsigned char)(img[i] * 255 + 0.5f);
    free(img);
    return st;
}

/* The first n test scenes px [n, S, S] as grey PNG files in dir. */
static dt_status write_pngs(const char *dir, const unsigned char *px, int64_t n, int S)
{
    DT_TRY(dt_make_dir(dir));
    unsigned char *rgb = malloc((size_t)S * S * 3);
    if (!rgb) return dt_error(DT_ERR_NOMEM, "out of memory");
    dt_status st = DT_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        for (int64_t k = 0; k < (int64_t)S * S; k++) rgb[3 * k] = rgb[3 * k + 1] = rgb[3 * k + 2] = px[i * S * S + k];
        char path[4200];
        snprintf(path, sizeof path, "%s/test_%04lld.png", dir, (long long)i);
        st = dt_image_write_png(path, rgb, S, S);
    }
    free(rgb);
    return st;
}

int dt_cli_make_scenes(const dt_scenes_args *a)
{
    dt_dataset *train = NULL, *test = NULL;
    unsigned char *tx = NULL, *vx = NULL;
    float *ty = NULL, *vy = NULL;
    dt_scenes_opts o = {1, a->size, a->min_item, a->max_item, a->items, a->seed, 0};
    dt_status st = dt_scenes_check(&o); /* before anything is read or allocated */
    if (!st) st = dt_scenes_items(a->fmnist, &train, &test);
    if (!st) st = draw(a, train, a->train, a->seed, &tx, &ty);
    if (!st) st = draw(a, test, a->test, DT_SCENES_TEST_SEED(a->seed), &vx, &vy);
    if (!st) {
        int64_t S = a->size, B = a->items;
        dt_ckpt_array arr[] = {
            {"train_x", DT_ARR_U8, tx, 3, {a->train, S, S}}, {"train_y", DT_ARR_F32, ty, 3, {a->train, B, 5}},
            {"test_x", DT_ARR_U8, vx, 3, {a->test, S, S}},   {"test_y", DT_ARR_F32, vy, 3, {a->test, B, 5}},
        };
        dt_ckpt_attr at[] = {
            {"kind", DT_ATTR_STR, 0, 0, "dtrain scenes"},  {"seed", DT_ATTR_INT, a->seed, 0, NULL},
            {"size", DT_ATTR_INT, a->size, 0, NULL},       {"items", DT_ATTR_INT, a->items, 0, NULL},
            {"min_item", DT_ATTR_INT, a->min_item, 0, NULL}, {"max_item", DT_ATTR_INT, a->max_item, 0, NULL},
            {"boxes", DT_ATTR_STR, 0, 0, "per scene [items, 5] rows: class, x1, y1, x2, y2 (pixels, x2 y2 exclusive); class -1: none"},
        };
        st = dt_ckpt_write(a->out, arr, 4, at, (int)(sizeof at / sizeof *at));
    }
    if (!st && a->png) st = write_pngs(a->png, vx, a->npng < a->test ? a->npng : a->test, a->size);
    if (!st) {
        int64_t boxes = 0;
        for (int64_t i = 0; i < a->train * a->items; i++) boxes += ty[i * 5] >= 0;
        printf("%lld train and %lld test scenes of %dx%d (%lld train boxes, %.2f per scene) written to %s\n",
               (long long)a->train, (long long)a->test, a->size, a->size, (long long)boxes,
               a->train ? (double)boxes / (double)a->train : 0.0, a->out);
    } else {
        fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
    }
    free(tx), free(ty), free(vx), free(vy);
    dt_dataset_free(train);
    dt_dataset_free(test);
    return st ? 2 : 0;
}
