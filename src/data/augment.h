/* augment.h — training-time image augmentation: a random crop of the image
 * padded with zeros, and a random horizontal flip. Each example's draw is a
 * pure function of (seed, epoch, sample index), so it is the same whichever
 * rank holds the example and whatever the rank count. Detection targets
 * (boxes in pixels) move with their pixels. */
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

/* Move the boxes of the same n images as dt_augment_batch moved their
 * pixels (same ids and epoch): t [n, nbox, 5] rows of class, x1, y1, x2, y2
 * in pixels of the w × h picture (x2, y2 exclusive; class < 0: no box).
 * A moved box is clipped to the picture; one that keeps less than half of
 * its area becomes "no box" (class −1, zeros). */
void dt_augment_boxes(const dt_augment *a, dt_real *t, int nbox, const int64_t *ids, int64_t n, int64_t epoch);

#endif
