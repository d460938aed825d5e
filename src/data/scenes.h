/* scenes.h — a detection data set that needs no download: Fashion-MNIST
 * items scaled and placed on textured canvases (dtrain make-scenes).
 *
 * Each scene is a size × size grey picture (values 0..1): a smooth random
 * background (three random waves and a little pixel noise, dark), then 1 to
 * max_items items, each a Fashion-MNIST picture scaled to s × s pixels, s
 * uniform in [min_item, max_item], at a uniform position, drawn over the
 * background by the brighter of the two. A new item whose box overlaps an
 * earlier one by IoU > 0.3 is drawn again elsewhere (20 tries, then left
 * out), so items may overlap a little. Its box is the tight box of its
 * visible pixels (> 0.1 after scaling), in pixels: x1, y1 inclusive, x2, y2
 * exclusive. Everything is drawn from `seed`: the same options give the same
 * scenes.
 *
 * Boxes are stored per scene as a fixed [max_items, 5] block of rows
 * (class, x1, y1, x2, y2), in the order drawn; unused rows have class −1 and
 * zero coordinates. That is the HDF5 layout of `dtrain make-scenes`
 * (train_y, test_y: [n, max_items, 5]), which a user's own detection data
 * can follow. */
#ifndef DT_SCENES_H
#define DT_SCENES_H

#include "core/core.h"
#include "data/data.h"

/* Where Debian's dataset-fashion-mnist puts its IDX files. */
#define DT_SCENES_FMNIST "/usr/share/datasets/fashion-mnist"
/* The test split's seed: a second stream of the scenes' seed. */
#define DT_SCENES_TEST_SEED(seed) ((uint32_t)(seed) ^ 0x5bd1e995u)

typedef struct {
    int64_t n;          /* scenes */
    int size;           /* canvas side, pixels */
    int min_item, max_item; /* item side, pixels */
    int max_items;      /* items per scene: 1..max_items */
    uint32_t seed;
    int flat;           /* tests: a black background, so boxes can be checked against pixels */
} dt_scenes_opts;

/* Whether the options are in range (DT_ERR_ARG naming the one that is not). */
dt_status dt_scenes_check(const dt_scenes_opts *o);
/* Draw o->n scenes from m items (items [m, 28·28] in 0..1, labels [m]):
 * img [n, size, size], boxes [n, max_items, 5]. Options out of range are
 * errors (DT_ERR_ARG) naming them. */
dt_status dt_scenes_make(const dt_scenes_opts *o, const dt_real *items, const int32_t *labels, int64_t m, float *img,
                         float *boxes);

/* The Fashion-MNIST pictures scenes are drawn from: dir's four IDX files
 * (train and test), checked to be 28 x 28. */
dt_status dt_scenes_items(const char *dir, dt_dataset **train, dt_dataset **test);

#endif
