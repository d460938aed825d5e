/* data.h — data sets held in memory, and the order in which they are visited.
 *
 * A dt_dataset holds rows [offset, offset + n) of a split of `total` rows:
 * the whole split in global sharding mode, or one rank's contiguous block
 * in contiguous mode. Each row is one example flattened to `features`
 * values; images keep the source order H, W, C (what the course's
 * reshape(m, -1) gives) and are scaled to [0, 1]. Labels are class indices.
 *
 * The [data] section of a config says where the data comes from:
 *   source     = hdf5 | idx | planar | moons | circles | blobs | random_images | scenes
 *   root       = directory for relative paths (default $DTRAIN_DATA, else ../shared/data)
 *   train, test            file paths (hdf5: one file may hold both splits)
 *   train_x, train_y, test_x, test_y   HDF5 data set names
 *   train_images, train_labels, test_images, test_labels   IDX(.gz) paths
 *   n, test_n, noise, seed, classes    generator parameters
 *   shape      random_images: H,W,C (or H,W, or F) of each example
 *   size, items, min_item, max_item, fmnist   scenes: the detection scenes of
 *              data/scenes.h drawn in memory (n train, test_n test scenes), as
 *              dtrain make-scenes writes them; boxes are the dense targets
 *   test_fraction          hold out the last fraction of train as test when no test split exists
 *   train_classes, test_classes   keep only these classes in that split
 *              ("0-6", "7,8,9"), relabelled 0, 1, ... in list order (global
 *              sharding): identities to verify, unseen in training
 *   sharding   = global | contiguous
 *   target     = label | dense | none: what each row is compared with --
 *                a class index, a tensor (hdf5: train_y of any shape, rows
 *                first, read as reals), or nothing (hdf5 only for the last two)
 */
#ifndef DT_DATA_H
#define DT_DATA_H

#include "core/core.h"
#include "core/rng.h"
#include "io/ini.h"

typedef struct {
    int64_t n;        /* rows held here */
    int64_t total;    /* rows in the whole split, over all ranks */
    int64_t offset;   /* global index of row 0 here */
    int64_t features; /* values per row */
    int ndim;         /* source shape of one example, e.g. {64, 64, 3} (H, W, C) or {2} */
    int64_t dims[4];
    dt_real *x;       /* [n, features], dt_alloc'ed */
    int32_t *y;       /* [n] class index in [0, nclasses); zeros when the data has no labels */
    int labeled;      /* y holds real labels ([data] target = label) */
    int64_t tlen;     /* [data] target = dense: reals of each row's target tensor; else 0 */
    int tndim;        /* its shape */
    int64_t tdims[4];
    dt_real *t;       /* [n, tlen], or NULL */
    char tsrc[320];   /* where the dense targets come from, for messages: "FILE: 'NAME'" */
    int nclasses;
    char **class_names; /* nclasses names, or NULL */
} dt_dataset;

typedef enum { DT_SHARD_GLOBAL = 0, DT_SHARD_CONTIGUOUS = 1 } dt_sharding;

/* Read the [data] section (marking the keys it knows as used) and load
 * both splits. In contiguous mode each rank loads only its block of rows
 * (an HDF5 hyperslab); in global mode every rank loads everything. */
dt_status dt_data_load(dt_ini *cfg, int rank, int nranks, dt_dataset **train, dt_dataset **test,
                       dt_sharding *mode);
void dt_dataset_free(dt_dataset *d);

/* Rows `idx` (local row numbers) copied into x [k, features] and y [k]. */
void dt_dataset_gather(const dt_dataset *d, const int64_t *idx, int64_t k, dt_real *x, int32_t *y);
/* Their dense targets into t [k, tlen] (nothing when tlen is 0). */
void dt_dataset_gather_dense(const dt_dataset *d, const int64_t *idx, int64_t k, dt_real *t);

/* ---- visiting order ---------------------------------------------------
 * shuffle = none | seeded | course
 *   none:   0, 1, 2, ...
 *   seeded: a permutation from numpy's legacy generator seeded by a hash of (seed, epoch)
 *   course: the course's random_mini_batches: np.random.seed(seed + epoch + 1), permutation(n)
 *           (epoch counted from 0, so the first epoch uses seed + 1 = 11 for seed 10)
 */
typedef enum { DT_SHUFFLE_NONE = 0, DT_SHUFFLE_SEEDED = 1, DT_SHUFFLE_COURSE = 2 } dt_shuffle;

typedef struct {
    int64_t n;
    int64_t *perm; /* [n] */
    dt_shuffle mode;
    uint64_t seed;
    dt_rng rng; /* scratch, re-seeded every epoch */
} dt_sampler;

dt_status dt_sampler_init(dt_sampler *s, int64_t n, dt_shuffle mode, uint64_t seed);
void dt_sampler_epoch(dt_sampler *s, int64_t epoch); /* fills perm; allocates nothing */
void dt_sampler_destroy(dt_sampler *s);

/* Where rank r's part of a global batch of `count` rows starts, and how
 * many it has: ranks take consecutive, nearly equal slices. */
void dt_batch_slice(int64_t count, int rank, int nranks, int64_t *start, int64_t *len);

#endif
