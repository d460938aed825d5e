/* augment.h — training-time image augmentation: a random crop of the image
 * padded with zeros, and a random horizontal flip. Each example's draw is a
 * pure function of (seed, epoch, sample index), so it is the same whichever
 * rank holds the example and whatever the rank count. */
#ifndef DT_AUGMENT_H
#define DT_AUGMENT_H

#include "core/core.h"

typedef struct {
    int crop_pad; /* shift by up to ± crop_pad pixels (0: no crop) */
    int flip;     /* flip left-right with probability 1/2 */
    int c, h, w;  /* image shape, CHW */
    uint64_t seed;
    dt_real *tmp; /* one image, allocated by dt_augment_init */
} dt_augment;

dt_status dt_augment_init(dt_augment *a, int crop_pad, int flip, int c, int h, int w, uint64_t seed);
void dt_augment_destroy(dt_augment *a);
/* Augment n images x [n, c*h*w] in place; ids are their global indices. */
void dt_augment_batch(const dt_augment *a, dt_real *x, const int64_t *ids, int64_t n, int64_t epoch);

#endif
