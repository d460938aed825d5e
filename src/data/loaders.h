/* loaders.h — private interface between data.c and the per-format readers.
 *
 * A reader fills rows [start, start + count) of one source into a zeroed
 * dt_dataset: n, features, ndim, dims, x, y. data.c sets total, offset,
 * nclasses and class_names. Labels are checked over the WHOLE source and
 * the largest is returned in *maxlabel, so that every rank of a
 * contiguous run agrees on the class count whatever block it holds. */
#ifndef DT_DATA_LOADERS_H
#define DT_DATA_LOADERS_H

#include "data/data.h"

/* Largest accepted class label + 1: a bigger label is a broken file, not a task. */
#define DT_MAX_CLASSES 1000000

/* "PATH: cannot open: <reason>" unless path is a readable file. */
dt_status dt_data_check_file(const char *path);
/* Set d->n and d->features and allocate x [n, features] and y [n]; names path on failure. */
dt_status dt_data_alloc_rows(dt_dataset *d, int64_t n, int64_t features, const char *path);

/* HDF5: X has examples along its first dimension; Y any integer shape with as many values. */
int dt_h5_has(const char *path,
              const char *name); /* 1 when `name` exists; 0 otherwise, errors included */
dt_status dt_h5_rows(const char *path, const char *xname, int64_t *rows);
/* Rows [start, start + count) of X, and of Y: class labels, or with `dense`
 * a tensor per row into d->t (any shape, rows first); yname NULL: no targets. */
dt_status dt_h5_load(const char *path, const char *xname, const char *yname, int dense, int64_t start,
                     int64_t count, dt_dataset *d, int64_t *maxlabel);
/* Strings of data set `name`, malloc'ed; *n = 0 and *names = NULL when it is absent. */
dt_status dt_h5_names(const char *path, const char *name, char ***names, int *n);

/* IDX (plain or gzip): uint8 images [N, rows, cols] and uint8 labels [N]. */
dt_status dt_idx_rows(const char *images, int64_t *rows);
dt_status dt_idx_load(const char *images, const char *labels, int64_t start, int64_t count,
                      dt_dataset *d, int64_t *maxlabel);

/* Generators. The defaults reproduce the course's planar_flower.h5,
 * moons.h5 and circles.h5 training sets (to the last bits of sin/cos). */
typedef enum {
    DT_GEN_PLANAR,
    DT_GEN_MOONS,
    DT_GEN_CIRCLES,
    DT_GEN_BLOBS,
    DT_GEN_RANDOM_IMAGES
} dt_gen_kind;

typedef struct {
    dt_gen_kind kind;
    int64_t n, test_n;
    double noise;
    uint32_t seed;
    int classes;     /* blobs, random_images */
    int ndim;        /* random_images: example shape, e.g. {64, 64, 3} (H, W, C) */
    int64_t dims[3];
} dt_gen_params;

/* Whole splits: train gets n rows, then test gets test_n rows drawn from
 * the same generator stream (and, for blobs, the same centres).
 * random_images: pixels uniform in [0, 1], labels uniform in [0, classes),
 * as np.random.seed(seed); rand(n, *dims); randint(classes, size=n) draws them. */
dt_status dt_synth_make(const dt_gen_params *p, dt_dataset *train, dt_dataset *test);

#endif
