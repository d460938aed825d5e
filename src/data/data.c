/* data.c — the [data] section: where each split comes from, which of its
 * rows this rank holds, and the class count and names both splits share. */
#include "data/data.h"
#include "data/loaders.h"
#include "data/scenes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEC "data"
#define MAX_GEN_ROWS 100000000L

enum { SRC_HDF5, SRC_IDX, SRC_PLANAR, SRC_MOONS, SRC_CIRCLES, SRC_BLOBS, SRC_RANDOM_IMAGES, SRC_SCENES };
static const char *const sources[] = {"hdf5",  "idx",           "planar", "moons", "circles",
                                      "blobs", "random_images", "scenes", NULL};
static const char *const shardings[] = {"global", "contiguous", NULL};
enum { TARGET_LABEL, TARGET_DENSE, TARGET_NONE };
static const char *const targets[] = {"label", "dense", "none", NULL};

/* ---- helpers shared with the readers ----------------------------------- */

dt_status dt_data_check_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return dt_error(DT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return dt_error(DT_ERR_IO, "%s: cannot open: is a directory", path);
    FILE *f = fopen(path, "rb");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(f);
    return DT_OK;
}

dt_status dt_data_alloc_rows(dt_dataset *d, int64_t n, int64_t features, const char *path)
{
    if (n < 0 || features < 1 || (n > 0 && features > (int64_t)(SIZE_MAX / sizeof(dt_real)) / n))
        return dt_error(DT_ERR_DATA, "%s: %lld rows of %lld values do not fit in memory", path,
                        (long long)n, (long long)features);
    d->x = dt_alloc((size_t)(n * features) * sizeof(dt_real));
    d->y = dt_alloc((size_t)n * sizeof(int32_t));
    if (!d->x || !d->y) {
        dt_free(d->x);
        dt_free(d->y);
        d->x = NULL;
        d->y = NULL;
        return dt_error(DT_ERR_NOMEM, "%s: out of memory for %lld rows of %lld values", path,
                        (long long)n, (long long)features);
    }
    d->n = n;
    d->features = features;
    return DT_OK;
}

/* ---- datasets ---------------------------------------------------------- */

static void free_names(char **names, int n)
{
    if (!names) return;
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

static void clear_rows(dt_dataset *d)
{
    dt_free(d->x);
    dt_free(d->y);
    dt_free(d->t);
    free_names(d->class_names, d->nclasses);
}

void dt_dataset_free(dt_dataset *d)
{
    if (!d) return;
    clear_rows(d);
    free(d);
}

void dt_dataset_gather(const dt_dataset *d, const int64_t *idx, int64_t k, dt_real *x, int32_t *y)
{
    const size_t row = (size_t)d->features * sizeof(dt_real);
    for (int64_t i = 0; i < k; i++) {
        DT_ASSERT(idx[i] >= 0 && idx[i] < d->n);
        if (x) memcpy(x + i * d->features, d->x + idx[i] * d->features, row);
        if (y) y[i] = d->y[idx[i]];
    }
}

void dt_dataset_gather_dense(const dt_dataset *d, const int64_t *idx, int64_t k, dt_real *t)
{
    const size_t row = (size_t)d->tlen * sizeof(dt_real);
    for (int64_t i = 0; i < k && d->tlen; i++) memcpy(t + i * d->tlen, d->t + idx[i] * d->tlen, row);
}

/* Rows [a, a + len) of src into the empty dst, with its example shape. */
static dt_status copy_rows(const dt_dataset *src, int64_t a, int64_t len, dt_dataset *dst)
{
    DT_TRY(dt_data_alloc_rows(dst, len, src->features, "data"));
    dst->ndim = src->ndim;
    memcpy(dst->dims, src->dims, sizeof dst->dims);
    memcpy(dst->x, src->x + a * src->features, (size_t)(len * src->features) * sizeof(dt_real));
    memcpy(dst->y, src->y + a, (size_t)len * sizeof(int32_t));
    dst->labeled = src->labeled;
    if (!src->tlen) return DT_OK;
    if (!(dst->t = dt_alloc((size_t)(len * src->tlen + 1) * sizeof(dt_real))))
        return dt_error(DT_ERR_NOMEM, "out of memory for targets");
    dst->tlen = src->tlen;
    dst->tndim = src->tndim;
    memcpy(dst->tdims, src->tdims, sizeof dst->tdims);
    memcpy(dst->tsrc, src->tsrc, sizeof dst->tsrc);
    memcpy(dst->t, src->t + a * src->tlen, (size_t)(len * src->tlen) * sizeof(dt_real));
    return DT_OK;
}

/* ---- config ------------------------------------------------------------ */

/* Append where a [data] key was given to the reader's message. */
static dt_status blame(dt_status s, dt_ini *cfg, const char *key)
{
    if (s == DT_OK || !key || !dt_ini_has(cfg, SEC, key)) return s;
    char msg[768];
    snprintf(msg, sizeof msg, "%s", dt_errmsg());
    return dt_error(s, "%s ([data] %s at %s)", msg, key, dt_ini_where(cfg, SEC, key));
}

static dt_status get_root(dt_ini *cfg, const char **root)
{
    const char *env = getenv("DTRAIN_DATA");
    return dt_ini_str(cfg, SEC, "root", env && env[0] ? env : "../shared/data", root);
}

static char *resolve(const char *root, const char *p)
{
    size_t n = strlen(root) + strlen(p) + 2;
    char *s = malloc(n);
    if (!s) {
        dt_error(DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(s, n, p[0] == '/' || !root[0] ? "%s%s" : "%s/%s", p[0] == '/' ? "" : root, p);
    return s;
}

/* Optional string: NULL when absent. */
static dt_status opt_str(dt_ini *cfg, const char *key, const char **out)
{
    *out = NULL;
    return dt_ini_has(cfg, SEC, key) ? dt_ini_str(cfg, SEC, key, NULL, out) : DT_OK;
}

/* class_names = a, b, c (at least two, none empty). */
static dt_status parse_names(dt_ini *cfg, char ***out, int *n)
{
    const char *v;
    *out = NULL;
    *n = 0;
    DT_TRY(opt_str(cfg, "class_names", &v));
    if (!v) return DT_OK;
    int k = 1;
    for (const char *p = v; *p; p++) k += *p == ',';
    char **names = calloc((size_t)k, sizeof *names);
    if (!names) return dt_error(DT_ERR_NOMEM, "out of memory");
    const char *p = v;
    for (int i = 0; i < k; i++) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (a == b || k < 2) {
            free_names(names, k);
            return dt_error(
                DT_ERR_CONFIG,
                "%s: [data] class_names = '%s': expected two or more comma-separated names",
                dt_ini_where(cfg, SEC, "class_names"), v);
        }
        for (const char *c = a; c < b; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                free_names(names, k);
                return dt_error(DT_ERR_CONFIG, "%s: [data] class_names: name %d holds a control character",
                                dt_ini_where(cfg, SEC, "class_names"), i);
            }
        if (!(names[i] = malloc((size_t)(b - a) + 1))) {
            free_names(names, k);
            return dt_error(DT_ERR_NOMEM, "out of memory");
        }
        memcpy(names[i], a, (size_t)(b - a));
        names[i][b - a] = 0;
        p = end + 1;
    }
    *out = names;
    *n = k;
    return DT_OK;
}

/* ---- splits from files ------------------------------------------------- */

typedef struct {
    int src;                   /* SRC_HDF5 or SRC_IDX */
    char *file, *labels;       /* hdf5 file; or idx images and labels */
    const char *xname, *yname; /* hdf5 data sets */
    const char *key, *lkey;    /* the [data] keys that named file and labels */
    int target;                /* TARGET_* */
} file_split;

static dt_status split_rows(dt_ini *cfg, const file_split *f, int64_t *rows)
{
    dt_status s =
        f->src == SRC_HDF5 ? dt_h5_rows(f->file, f->xname, rows) : dt_idx_rows(f->file, rows);
    return blame(s, cfg, f->key);
}

static dt_status split_load(dt_ini *cfg, const file_split *f, int64_t a, int64_t len, dt_dataset *d,
                            int64_t *maxlabel)
{
    if (f->src == SRC_HDF5)
        return blame(dt_h5_load(f->file, f->xname, f->target == TARGET_NONE ? NULL : f->yname,
                                f->target == TARGET_DENSE, a, len, d, maxlabel),
                     cfg, f->key);
    dt_status s = dt_idx_load(f->file, f->labels, a, len, d, maxlabel);
    size_t ll = strlen(f->labels);
    int in_labels = s && !strncmp(dt_errmsg(), f->labels, ll) && dt_errmsg()[ll] == ':';
    return blame(s, cfg, in_labels ? f->lkey : f->key);
}

static dt_status set_file(dt_ini *cfg, const char *root, const char *key, char **out)
{
    const char *p;
    DT_TRY(dt_ini_str(cfg, SEC, key, NULL, &p));
    return (*out = resolve(root, p)) ? DT_OK : DT_ERR_NOMEM;
}

/* hdf5: train (+ train_x, train_y); test in its own file, or in the train
 * file when it holds test_x (as circles.h5 does) or test_x/test_y are given. */
static dt_status hdf5_splits(dt_ini *cfg, const char *root, file_split *tr, file_split *te,
                             int *has_te)
{
    tr->src = te->src = SRC_HDF5;
    tr->key = "train";
    DT_TRY(set_file(cfg, root, "train", &tr->file));
    DT_TRY(dt_ini_str(cfg, SEC, "train_x", "train_x", &tr->xname));
    DT_TRY(dt_ini_str(cfg, SEC, "train_y", "train_y", &tr->yname));
    int named = dt_ini_has(cfg, SEC, "test_x") || dt_ini_has(cfg, SEC, "test_y");
    DT_TRY(dt_ini_str(cfg, SEC, "test_x", "test_x", &te->xname));
    DT_TRY(dt_ini_str(cfg, SEC, "test_y", "test_y", &te->yname));
    if (dt_ini_has(cfg, SEC, "test")) {
        te->key = "test";
        DT_TRY(set_file(cfg, root, "test", &te->file));
        *has_te = 1;
    } else if (named || dt_h5_has(tr->file, te->xname)) {
        te->key = "train";
        if (!(te->file = dt_strdup(tr->file))) return DT_ERR_NOMEM;
        *has_te = 1;
    }
    return DT_OK;
}

/* idx: train_images + train_labels; optionally test_images + test_labels. */
static dt_status idx_splits(dt_ini *cfg, const char *root, file_split *tr, file_split *te,
                            int *has_te)
{
    tr->src = te->src = SRC_IDX;
    tr->key = "train_images";
    tr->lkey = "train_labels";
    DT_TRY(set_file(cfg, root, "train_images", &tr->file));
    DT_TRY(set_file(cfg, root, "train_labels", &tr->labels));
    int hi = dt_ini_has(cfg, SEC, "test_images"), hl = dt_ini_has(cfg, SEC, "test_labels");
    if (hi != hl)
        return dt_error(DT_ERR_CONFIG, "%s: [data] %s is given without %s",
                        dt_ini_where(cfg, SEC, hi ? "test_images" : "test_labels"),
                        hi ? "test_images" : "test_labels", hi ? "test_labels" : "test_images");
    if (!hi) return DT_OK;
    te->key = "test_images";
    te->lkey = "test_labels";
    DT_TRY(set_file(cfg, root, "test_images", &te->file));
    DT_TRY(set_file(cfg, root, "test_labels", &te->labels));
    *has_te = 1;
    return DT_OK;
}

static void block(int64_t total, int rank, int nranks, dt_sharding mode, int64_t *a, int64_t *len)
{
    if (mode == DT_SHARD_CONTIGUOUS) {
        dt_batch_slice(total, rank, nranks, a, len);
    } else {
        *a = 0;
        *len = total;
    }
}

/* The last `frac` of the rows; the epsilon keeps 0.29 * 100 at 29. */
static int64_t held_out(int64_t rows, double frac)
{
    return (int64_t)floor((double)rows * frac + 1e-6);
}

/* With dev > 0 the evaluation split is the last `dev` of the training rows
 * (after any test_fraction is held out) and the test split is not read:
 * choosing on it (a sweep) leaves the test split for the one final check. */
static dt_status load_files(dt_ini *cfg, const file_split *tr, const file_split *te, double frac, double dev,
                            int rank, int nranks, dt_sharding mode, dt_dataset *train,
                            dt_dataset *test, int64_t *maxlabel)
{
    int64_t rows, ntr, nte, base = 0, a, len, mtr = -1, mte = -1;
    DT_TRY(split_rows(cfg, tr, &rows));
    int64_t avail = te ? rows : rows - held_out(rows, frac); /* rows training may use */
    if (dev > 0) {
        te = NULL;
        nte = held_out(avail, dev);
        ntr = base = avail - nte;
    } else if (te) {
        ntr = rows;
        DT_TRY(split_rows(cfg, te, &nte));
    } else {
        nte = rows - avail;
        ntr = base = avail;
    }
    if (ntr < 1)
        return dt_error(DT_ERR_DATA, "%s: no training rows (%lld rows, test_fraction %g, dev_fraction %g)", tr->file,
                        (long long)rows, frac, dev);
    block(ntr, rank, nranks, mode, &a, &len);
    DT_TRY(split_load(cfg, tr, a, len, train, &mtr));
    train->offset = a;
    train->total = ntr;
    block(nte, rank, nranks, mode, &a, &len);
    if (te || nte > 0) {
        DT_TRY(split_load(cfg, te ? te : tr, base + a, len, test, &mte));
    } else {
        DT_TRY(copy_rows(train, 0, 0, test)); /* no test split: 0 rows, same shape */
    }
    test->offset = a;
    test->total = nte;
    *maxlabel = mtr > mte ? mtr : mte;
    return DT_OK;
}

/* ---- splits from generators -------------------------------------------- */

/* random_images: shape = H,W,C (or H,W, or F), as image files store them. */
static dt_status image_shape(dt_ini *cfg, dt_gen_params *g)
{
    long v[3];
    int n;
    DT_TRY(dt_ini_ints(cfg, SEC, "shape", 1, v, 3, &n));
    for (int i = 0; i < n; i++)
        if (v[i] < 1 || v[i] > 65536) {
            const char *txt;
            DT_TRY(dt_ini_str(cfg, SEC, "shape", NULL, &txt));
            return dt_error(DT_ERR_CONFIG,
                            "%s: [data] shape = '%s': expected H,W,C (or H,W, or F), each in "
                            "1..65536",
                            dt_ini_where(cfg, SEC, "shape"), txt);
        }
    g->ndim = n;
    for (int i = 0; i < n; i++) g->dims[i] = v[i];
    return DT_OK;
}

static dt_status load_gen(dt_ini *cfg, int src, double frac, double dev, int rank, int nranks, dt_sharding mode,
                          dt_dataset *train, dt_dataset *test, int64_t *maxlabel, int *mincls)
{
    /* Defaults are the course's: planar_flower.h5, moons.h5, circles.h5;
     * random_images has no noise, and no default shape. */
    static const long def_n[] = {400, 300, 300, 300, 100}, def_seed[] = {1, 3, 1, 1, 1};
    static const double def_noise[] = {0.2, 0.2, 0.05, 1.0, 0};
    const int k = src - SRC_PLANAR, images = src == SRC_RANDOM_IMAGES;
    long n, tn, seed, classes = 2;
    double noise = 0;
    DT_TRY(dt_ini_int(cfg, SEC, "n", 0, def_n[k], 2, MAX_GEN_ROWS, &n));
    DT_TRY(dt_ini_int(cfg, SEC, "test_n", 0, 0, 0, MAX_GEN_ROWS, &tn));
    if (!images) DT_TRY(dt_ini_real(cfg, SEC, "noise", 0, def_noise[k], 0.0, 1e6, &noise));
    DT_TRY(dt_ini_int(cfg, SEC, "seed", 0, def_seed[k], 0, 4294967295L, &seed));
    if (src == SRC_BLOBS || images)
        DT_TRY(dt_ini_int(cfg, SEC, "classes", 0, images ? 2 : 3, 2, 1000, &classes));
    if (tn > 0 && frac > 0)
        return dt_error(DT_ERR_CONFIG,
                        "%s: [data] test_fraction and test_n both given: expected one",
                        dt_ini_where(cfg, SEC, "test_fraction"));
    dt_gen_params g = {(dt_gen_kind)k, n, tn, noise, (uint32_t)seed, (int)classes, 0, {0}};
    if (images) DT_TRY(image_shape(cfg, &g));
    dt_dataset all = {0}, all_te = {0};
    dt_status s = dt_synth_make(&g, &all, &all_te);
    int64_t ntr = n, nte = tn, base = 0, a, len;
    const dt_dataset *ts = tn > 0 ? &all_te : &all;
    if (tn == 0) {
        nte = held_out(n, frac);
        ntr = base = n - nte;
    }
    if (dev > 0) { /* see load_files */
        ts = &all;
        nte = held_out(ntr, dev);
        ntr = base = ntr - nte;
    }
    if (!s && ntr < 1)
        s = dt_error(DT_ERR_CONFIG, "%s: [data] test_fraction = %g, dev_fraction = %g leave no training rows",
                     dt_ini_where(cfg, SEC, dev > 0 ? "dev_fraction" : "test_fraction"), frac, dev);
    if (!s) {
        block(ntr, rank, nranks, mode, &a, &len);
        s = copy_rows(&all, a, len, train);
        train->offset = a;
        train->total = ntr;
    }
    if (!s) {
        block(nte, rank, nranks, mode, &a, &len);
        s = copy_rows(ts, base + a, len, test);
        test->offset = a;
        test->total = nte;
    }
    int64_t mx = -1;
    for (int64_t i = 0; !s && i < all.n; i++) mx = all.y[i] > mx ? all.y[i] : mx;
    for (int64_t i = 0; !s && i < all_te.n; i++) mx = all_te.y[i] > mx ? all_te.y[i] : mx;
    *maxlabel = mx;
    *mincls = (int)classes;
    clear_rows(&all);
    clear_rows(&all_te);
    return s;
}

/* The scenes' default class names: Fashion-MNIST's. */
static const char *const fmnist_names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* ---- splits of generated scenes ---------------------------------------- */

/* Rows [a, a + len) of n drawn scenes (img [n, S, S], boxes [n, B, 5]) into
 * the empty dst: pixels quantised to bytes and scaled by 1/255, exactly as
 * make-scenes' file reads back; the boxes as dense targets. */
static dt_status scene_rows(const float *img, const float *boxes, int S, int B, int64_t a, int64_t len, dt_dataset *d)
{
    const int64_t F = (int64_t)S * S, T = (int64_t)B * 5;
    DT_TRY(dt_data_alloc_rows(d, len, F, "scenes"));
    if (!(d->t = dt_alloc((size_t)(len * T + 1) * sizeof(dt_real))))
        return dt_error(DT_ERR_NOMEM, "out of memory for %lld scenes' boxes", (long long)len);
    d->ndim = 2, d->dims[0] = d->dims[1] = S;
    d->tlen = T, d->tndim = 2, d->tdims[0] = B, d->tdims[1] = 5;
    snprintf(d->tsrc, sizeof d->tsrc, "[data] source = scenes");
    for (int64_t i = 0; i < len * F; i++) {
        unsigned char u = (unsigned char)(img[a * F + i] * 255 + 0.5f);
        d->x[i] = (dt_real)(u / 255.0);
    }
    for (int64_t i = 0; i < len * T; i++) d->t[i] = (dt_real)boxes[a * T + i];
    memset(d->y, 0, (size_t)len * sizeof *d->y);
    return DT_OK;
}

/* o.n scenes drawn from the pictures of `items`: *img [n, S, S], *box [n, B, 5], malloc'ed. */
static dt_status draw_scenes(const dt_scenes_opts *o, const dt_dataset *items, float **img, float **box)
{
    const int64_t n = o->n ? o->n : 1, F = (int64_t)o->size * o->size, T = (int64_t)o->max_items * 5;
    *img = malloc((size_t)(n * F) * sizeof **img);
    *box = malloc((size_t)(n * T) * sizeof **box);
    if (!*img || !*box)
        return dt_error(DT_ERR_NOMEM, "out of memory for %lld scenes of %dx%d", (long long)o->n, o->size, o->size);
    return dt_scenes_make(o, items->x, items->y, items->n, *img, *box);
}

/* source = scenes: make-scenes' data set drawn in memory. Keys n, test_n,
 * seed, size, items, min_item, max_item, fmnist; their defaults are
 * make-scenes' (4000 train and 500 test scenes of 128x128, 1-5 items of
 * 14-56 pixels, seed 1). dev_fraction takes the evaluation split from the
 * end of the training scenes, as it does for files. */
static dt_status load_scenes(dt_ini *cfg, double frac, double dev, int rank, int nranks, dt_sharding mode,
                             dt_dataset *train, dt_dataset *test)
{
    long n, tn, seed, size, items, lo, hi;
    const char *dir;
    DT_TRY(dt_ini_int(cfg, SEC, "n", 0, 4000, 1, MAX_GEN_ROWS, &n));
    DT_TRY(dt_ini_int(cfg, SEC, "test_n", 0, 500, 0, MAX_GEN_ROWS, &tn));
    DT_TRY(dt_ini_int(cfg, SEC, "seed", 0, 1, 0, 4294967295L, &seed));
    DT_TRY(dt_ini_int(cfg, SEC, "size", 0, 128, 16, 4096, &size));
    DT_TRY(dt_ini_int(cfg, SEC, "items", 0, 5, 1, 100, &items));
    DT_TRY(dt_ini_int(cfg, SEC, "min_item", 0, 14, 4, 4096, &lo));
    DT_TRY(dt_ini_int(cfg, SEC, "max_item", 0, 56, 4, 4096, &hi));
    DT_TRY(dt_ini_str(cfg, SEC, "fmnist", DT_SCENES_FMNIST, &dir));
    if (frac > 0)
        return dt_error(DT_ERR_CONFIG, "%s: [data] test_fraction: scenes have their own test split (test_n)",
                        dt_ini_where(cfg, SEC, "test_fraction"));
    dt_scenes_opts o = {1, (int)size, (int)lo, (int)hi, (int)items, (uint32_t)seed, 0};
    if (dt_scenes_check(&o)) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", dt_errmsg());
        return dt_error(DT_ERR_CONFIG, "%s: [data] source = scenes: %s", dt_ini_name(cfg), msg);
    }
    int64_t ntr = n, nte = tn, a, len;
    if (dev > 0) {
        nte = held_out(n, dev);
        ntr = n - nte;
        if (ntr < 1)
            return dt_error(DT_ERR_CONFIG, "%s: [data] dev_fraction = %g leaves no training scenes",
                            dt_ini_where(cfg, SEC, "dev_fraction"), dev);
    }
    dt_dataset *itr = NULL, *ite = NULL;
    float *img = NULL, *box = NULL;
    dt_status s = dt_scenes_items(dir, &itr, &ite);
    if (s && dt_ini_has(cfg, SEC, "fmnist")) s = blame(s, cfg, "fmnist");
    o.n = n;
    if (!s) s = draw_scenes(&o, itr, &img, &box); /* with dev > 0, the last nte are the evaluation split */
    if (!s) {
        block(ntr, rank, nranks, mode, &a, &len);
        s = scene_rows(img, box, o.size, o.max_items, a, len, train);
        train->offset = a, train->total = ntr;
    }
    int64_t base = ntr;
    if (!s && dev == 0) {
        free(img), free(box);
        img = box = NULL;
        o.n = nte, o.seed = DT_SCENES_TEST_SEED(seed), base = 0;
        s = draw_scenes(&o, ite, &img, &box);
    }
    if (!s) {
        block(nte, rank, nranks, mode, &a, &len);
        s = scene_rows(img, box, o.size, o.max_items, base + a, len, test);
        test->offset = a, test->total = nte;
    }
    free(img), free(box);
    dt_dataset_free(itr);
    dt_dataset_free(ite);
    return s;
}

/* ---- classes ----------------------------------------------------------- */

static char **copy_names(char *const *names, int n)
{
    char **c = calloc((size_t)n, sizeof *c);
    for (int i = 0; c && i < n; i++)
        if (!(c[i] = strdup(names[i]))) {
            free_names(c, i);
            c = NULL;
        }
    if (!c) dt_error(DT_ERR_NOMEM, "out of memory");
    return c;
}

static char **decimal_names(int n)
{
    char **c = calloc((size_t)n, sizeof *c);
    for (int i = 0; c && i < n; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", i);
        if (!(c[i] = strdup(buf))) {
            free_names(c, i);
            c = NULL;
        }
    }
    if (!c) dt_error(DT_ERR_NOMEM, "out of memory");
    return c;
}

/* Both splits get the same nclasses (and their own copy of the names). */
static dt_status set_classes(char **names, int nnames, const char *names_from, int64_t maxlabel,
                             int mincls, int decimal, const char *data, dt_dataset *tr,
                             dt_dataset *te)
{
    if (nnames && maxlabel >= nnames) {
        free_names(names, nnames);
        return dt_error(DT_ERR_DATA, "%s: label %lld is out of range: %s names %d classes", data,
                        (long long)maxlabel, names_from, nnames);
    }
    int nc = nnames ? nnames : (int)(maxlabel + 1 > mincls ? maxlabel + 1 : mincls);
    if (!names && decimal && !(names = decimal_names(nc))) return DT_ERR_NOMEM;
    tr->nclasses = te->nclasses = nc;
    tr->class_names = names;
    if (names && !(te->class_names = copy_names(names, nc))) return DT_ERR_NOMEM;
    return DT_OK;
}

/* list_classes of the train file, else of the test file. */
static dt_status h5_class_names(const file_split *tr, const file_split *te, char ***names, int *n,
                                const char **from)
{
    DT_TRY(dt_h5_names(tr->file, "list_classes", names, n));
    *from = tr->file;
    if (!*n && te && te->file && strcmp(te->file, tr->file)) {
        DT_TRY(dt_h5_names(te->file, "list_classes", names, n));
        *from = te->file;
    }
    if (*n == 1) {
        free_names(*names, *n);
        *names = NULL;
        return dt_error(DT_ERR_DATA, "%s: 'list_classes' has 1 name: expected 2 or more", *from);
    }
    return DT_OK;
}

/* ---- keeping some classes ----------------------------------------------- */

/* train_classes / test_classes = a list of labels and ranges ("0-6",
 * "7,8,9"); *k = 0 when the key is absent. Sets keep[label] = its position. */
static dt_status class_list(dt_ini *cfg, const char *key, int nclasses, int *keep, int *k)
{
    const char *v;
    *k = 0;
    DT_TRY(opt_str(cfg, key, &v));
    if (!v) return DT_OK;
    for (int c = 0; c < nclasses; c++) keep[c] = -1;
    const char *p = v;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p) break;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1) break;
            p = end;
        }
        while (*p == ' ' || *p == '\t') p++;
        if (a < 0 || b < a || b >= nclasses) break;
        for (long c = a; c <= b; c++) {
            if (keep[c] >= 0) goto bad;
            keep[c] = (*k)++;
        }
        if (*p == ',') p++;
        while (*p == ' ' || *p == '\t') p++;
    }
    if (!*p && *k > 0) return DT_OK;
bad:
    return dt_error(DT_ERR_CONFIG, "%s: [data] %s = '%s': expected labels and ranges of the %d classes, each once (e.g. 0-6 or 7,8,9)",
                    dt_ini_where(cfg, SEC, key), key, v, nclasses);
}

/* Keep the rows whose label is kept, relabelled by its position in the list. */
static void keep_rows(dt_dataset *d, const int *keep, int k, char **names)
{
    int64_t m = 0;
    for (int64_t i = 0; i < d->n; i++) {
        int c = keep[d->y[i]];
        if (c < 0) continue;
        if (m != i) {
            memmove(d->x + m * d->features, d->x + i * d->features, (size_t)d->features * sizeof *d->x);
            if (d->t) memmove(d->t + m * d->tlen, d->t + i * d->tlen, (size_t)d->tlen * sizeof *d->t);
        }
        d->y[m++] = c;
    }
    d->n = d->total = m;
    d->offset = 0;
    if (d->class_names) { /* the kept names, in list order */
        for (int c = 0; c < d->nclasses; c++)
            if (keep[c] >= 0) names[keep[c]] = d->class_names[c];
            else free(d->class_names[c]);
        memcpy(d->class_names, names, (size_t)k * sizeof *names);
    }
    d->nclasses = k;
}

/* [data] train_classes, test_classes: each split keeps those classes (a
 * verification config trains on some identities and tests on others). */
static dt_status keep_classes(dt_ini *cfg, dt_sharding mode, dt_dataset *tr, dt_dataset *te)
{
    int nc = tr->nclasses, k[2];
    int *keep = malloc((size_t)nc * 2 * sizeof *keep);
    char **names = malloc((size_t)nc * sizeof *names);
    dt_status s = keep && names ? DT_OK : dt_error(DT_ERR_NOMEM, "out of memory");
    const char *keys[2] = {"train_classes", "test_classes"};
    for (int i = 0; i < 2 && !s; i++) {
        s = class_list(cfg, keys[i], nc, keep + i * nc, &k[i]);
        if (!s && k[i] && (!tr->labeled || mode != DT_SHARD_GLOBAL))
            s = dt_error(DT_ERR_CONFIG, "%s: [data] %s needs class labels and sharding = global", dt_ini_where(cfg, SEC, keys[i]),
                         keys[i]);
    }
    if (!s && k[0]) keep_rows(tr, keep, k[0], names);
    if (!s && k[0] && tr->n == 0)
        s = dt_error(DT_ERR_DATA, "%s: [data] train_classes leaves no training rows", dt_ini_where(cfg, SEC, keys[0]));
    /* without a list of its own the test split keeps the training classes, which the model knows */
    if (!s && (k[1] || k[0])) keep_rows(te, k[1] ? keep + nc : keep, k[1] ? k[1] : k[0], names);
    free(keep);
    free(names);
    return s;
}

dt_status dt_data_load(dt_ini *cfg, int rank, int nranks, dt_dataset **train, dt_dataset **test,
                       dt_sharding *mode)
{
    DT_ASSERT(nranks >= 1 && rank >= 0 && rank < nranks);
    *train = *test = NULL;
    int src, shard, target, nnames = 0, has_te = 0, mincls = 2;
    double frac, dev;
    char **names = NULL;
    DT_TRY(dt_ini_enum(cfg, SEC, "source", NULL, sources, &src));
    DT_TRY(dt_ini_enum(cfg, SEC, "sharding", "global", shardings, &shard));
    DT_TRY(dt_ini_real(cfg, SEC, "test_fraction", 0, 0.0, 0.0, 1.0, &frac));
    DT_TRY(dt_ini_real(cfg, SEC, "dev_fraction", 0, 0.0, 0.0, 1.0, &dev));
    DT_TRY(parse_names(cfg, &names, &nnames));
    DT_TRY(dt_ini_enum(cfg, SEC, "target", src == SRC_SCENES ? "dense" : "label", targets, &target));
    if (src == SRC_SCENES && target != TARGET_DENSE)
        return dt_error(DT_ERR_CONFIG, "%s: [data] target = %s: scenes give boxes (target = dense)",
                        dt_ini_where(cfg, SEC, "target"), targets[target]);
    if (target != TARGET_LABEL && src != SRC_HDF5 && src != SRC_SCENES)
        return dt_error(DT_ERR_CONFIG, "%s: [data] target = %s needs source = hdf5 (this source gives class labels)",
                        dt_ini_where(cfg, SEC, "target"), targets[target]);
    *mode = (dt_sharding)shard;

    char where_names[600], data[600];
    const char *names_from = where_names;
    snprintf(where_names, sizeof where_names, "[data] class_names (%s)",
             nnames ? dt_ini_where(cfg, SEC, "class_names") : "");
    snprintf(data, sizeof data, "%s: [data] source = %s", dt_ini_name(cfg), sources[src]);

    dt_dataset *tr = calloc(1, sizeof *tr), *te = calloc(1, sizeof *te);
    file_split fs[2] = {{0}, {0}};
    int64_t maxlabel = -1;
    dt_status s = tr && te ? DT_OK : dt_error(DT_ERR_NOMEM, "out of memory");
    if (!s && (src == SRC_HDF5 || src == SRC_IDX)) {
        const char *root;
        s = get_root(cfg, &root);
        fs[0].target = fs[1].target = target;
        if (!s)
            s = (src == SRC_HDF5 ? hdf5_splits : idx_splits)(cfg, root, &fs[0], &fs[1], &has_te);
        if (!s && has_te && frac > 0)
            s = dt_error(DT_ERR_CONFIG,
                         "%s: [data] test_fraction = %g: the data already has a test split",
                         dt_ini_where(cfg, SEC, "test_fraction"), frac);
        if (!s)
            s = load_files(cfg, &fs[0], has_te ? &fs[1] : NULL, frac, dev, rank, nranks, *mode, tr, te,
                           &maxlabel);
        if (!s) snprintf(data, sizeof data, "%s", fs[0].file);
        if (!s && !names && src == SRC_HDF5) {
            s = h5_class_names(&fs[0], has_te ? &fs[1] : NULL, &names, &nnames, &names_from);
            if (!s && names) {
                snprintf(where_names, sizeof where_names, "%s 'list_classes'", names_from);
                names_from = where_names;
            }
        }
    } else if (!s && src == SRC_SCENES) {
        s = load_scenes(cfg, frac, dev, rank, nranks, *mode, tr, te);
        if (!s && !names) nnames = 10, names = copy_names((char *const *)fmnist_names, 10);
        if (!s && !names) s = DT_ERR_NOMEM;
    } else if (!s) {
        s = load_gen(cfg, src, frac, dev, rank, nranks, *mode, tr, te, &maxlabel, &mincls);
    }
    if (!s) tr->labeled = te->labeled = target == TARGET_LABEL;
    if (!s && target != TARGET_LABEL) maxlabel = -1; /* no classes: set_classes leaves its minimum */
    if (!s) {
        s = set_classes(names, nnames, names_from, maxlabel, mincls, src == SRC_IDX, data, tr, te);
        names = NULL; /* owned by tr now, or freed */
    }
    if (!s) s = keep_classes(cfg, *mode, tr, te);
    free_names(names, nnames);
    for (int i = 0; i < 2; i++) {
        free(fs[i].file);
        free(fs[i].labels);
    }
    if (s) {
        dt_dataset_free(tr);
        dt_dataset_free(te);
        return s;
    }
    *train = tr;
    *test = te;
    return DT_OK;
}
