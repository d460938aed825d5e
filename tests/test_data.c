/* test_data.c — data sets: course HDF5 files, Fashion-MNIST IDX, the
 * generators against numpy/sklearn, random images, splits and sharding,
 * and the messages for broken input. Course files come from
 * $DTRAIN_DATA/course; when they are missing the tests that need them fail
 * and say so. */
#include <check.h>

#include "check_util.h"
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/data.h"

#define FMNIST "/usr/share/datasets/fashion-mnist"

#ifdef DTRAIN_DOUBLE
#define GEN_TOL 1e-12
#else
#define GEN_TOL 1e-6
#endif

/* ---- helpers ----------------------------------------------------------- */

/* Full path of a course file; fails the test with a clear message when absent. */
static const char *course(const char *name)
{
    static char path[1024];
    const char *root = getenv("DTRAIN_DATA");
    snprintf(path, sizeof path, "%s/course/%s", root && *root ? root : "../shared/data", name);
    if (access(path, R_OK) != 0)
        ck_abort_msg(
            "course data missing: %s not found (set DTRAIN_DATA to the folder that holds course/)",
            path);
    return path;
}

static const char *tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "/tmp/dtrain_test_data_%d_%s", (int)getpid(), name);
    return path;
}

/* Parse `text` as a config and load it; on success every key must have been used. */
static dt_status load(const char *text, int rank, int nranks, dt_dataset **tr, dt_dataset **te,
                      dt_sharding *mode)
{
    dt_ini *cfg;
    dt_sharding m;
    ck_assert_int_eq(dt_ini_parse("test.ini", text, &cfg), DT_OK);
    dt_errclear();
    dt_status s = dt_data_load(cfg, rank, nranks, tr, te, mode ? mode : &m);
    if (s == DT_OK)
        ck_assert_msg(dt_ini_check_unused(cfg) == DT_OK, "%s", dt_errmsg());
    else
        ck_assert(*tr == NULL && *te == NULL);
    dt_ini_free(cfg);
    return s;
}

static void load_ok(const char *text, int rank, int nranks, dt_dataset **tr, dt_dataset **te)
{
    dt_status s = load(text, rank, nranks, tr, te, NULL);
    ck_assert_msg(s == DT_OK, "load failed: %s", dt_errmsg());
}

/* Loading must fail with `code` and a message naming `needle` (and `needle2` if given). */
static void load_fails(const char *text, dt_status code, const char *needle, const char *needle2)
{
    dt_dataset *tr, *te;
    dt_status s = load(text, 0, 1, &tr, &te, NULL);
    ck_assert_msg(s == code, "status %d, expected %d (%s)", s, code, dt_errmsg());
    ck_assert_msg(strstr(dt_errmsg(), needle), "message '%s' does not name '%s'", dt_errmsg(),
                  needle);
    if (needle2)
        ck_assert_msg(strstr(dt_errmsg(), needle2), "message '%s' does not name '%s'", dt_errmsg(),
                      needle2);
    ck_assert_msg(!strchr(dt_errmsg(), '\n'), "message is not one line: %s", dt_errmsg());
}

static int64_t label_sum(const dt_dataset *d)
{
    int64_t s = 0;
    for (int64_t i = 0; i < d->n; i++) s += d->y[i];
    return s;
}

static void label_counts(const dt_dataset *d, int64_t *c, int k)
{
    memset(c, 0, (size_t)k * sizeof *c);
    for (int64_t i = 0; i < d->n; i++) {
        ck_assert(d->y[i] >= 0 && d->y[i] < k);
        c[d->y[i]]++;
    }
}

static void h5_put(hid_t f, const char *name, hid_t type, int rank, const hsize_t *dims,
                   const void *v)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(d >= 0);
    ck_assert(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* ---- course HDF5 files ------------------------------------------------- */

static const char *CAT_CFG =
    "[data]\nsource = hdf5\n"
    "train = course/train_catvnoncat.h5\ntrain_x = train_set_x\ntrain_y = train_set_y\n"
    "test = course/test_catvnoncat.h5\ntest_x = test_set_x\ntest_y = test_set_y\n";

START_TEST(cat_hdf5)
{
    course("train_catvnoncat.h5");
    course("test_catvnoncat.h5");
    dt_dataset *tr, *te;
    dt_sharding mode;
    ck_assert_int_eq(load(CAT_CFG, 0, 1, &tr, &te, &mode), DT_OK);
    ck_assert_int_eq(mode, DT_SHARD_GLOBAL);
    ck_assert_int_eq(tr->n, 209);
    ck_assert_int_eq(tr->total, 209);
    ck_assert_int_eq(tr->offset, 0);
    ck_assert_int_eq(tr->features, 12288);
    ck_assert_int_eq(tr->ndim, 3);
    ck_assert(tr->dims[0] == 64 && tr->dims[1] == 64 && tr->dims[2] == 3);
    ck_assert_int_eq(te->n, 50);
    ck_assert_int_eq(te->features, 12288);
    /* h5py: train_set_x[0, 10, 20, 1] = 43 (flat (10*64+20)*3+1 = 1981), [150, 63, 63, 2] = 75 */
    ck_assert(tr->x[1981] == (dt_real)(43 / 255.0));
    ck_assert(tr->x[150 * 12288 + 12287] == (dt_real)(75 / 255.0));
    /* test_set_x[7, 31, 32, 2] = 151 */
    ck_assert(te->x[7 * 12288 + (31 * 64 + 32) * 3 + 2] == (dt_real)(151 / 255.0));
    double sum = 0;
    for (int64_t i = 0; i < tr->n * tr->features; i++) sum += tr->x[i];
    ck_assert_double_eq_tol(sum, 1037419.9098039216, 0.5);
    ck_assert_int_eq(label_sum(tr), 72);
    ck_assert_int_eq(label_sum(te), 33);
    ck_assert_int_eq(tr->nclasses, 2);
    ck_assert_int_eq(te->nclasses, 2);
    ck_assert_str_eq(tr->class_names[0], "non-cat");
    ck_assert_str_eq(tr->class_names[1], "cat");
    ck_assert_str_eq(te->class_names[1], "cat");
    dt_dataset_free(tr);
    dt_dataset_free(te);
}
END_TEST

START_TEST(cat_contiguous)
{
    course("train_catvnoncat.h5");
    course("test_catvnoncat.h5");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%ssharding = contiguous\n", CAT_CFG);
    dt_dataset *gtr, *gte, *tr, *te;
    dt_sharding mode;
    load_ok(CAT_CFG, 0, 1, &gtr, &gte);
    ck_assert_int_eq(load(cfg, 1, 2, &tr, &te, &mode), DT_OK);
    ck_assert_int_eq(mode, DT_SHARD_CONTIGUOUS);
    ck_assert_int_eq(tr->n, 105);
    ck_assert_int_eq(tr->offset, 104);
    ck_assert_int_eq(tr->total, 209);
    ck_assert(!memcmp(tr->x, gtr->x + 104 * 12288, (size_t)(105 * 12288) * sizeof(dt_real)));
    ck_assert(!memcmp(tr->y, gtr->y + 104, 105 * sizeof(int32_t)));
    ck_assert_int_eq(label_sum(tr), 41);
    ck_assert_int_eq(te->n, 25);
    ck_assert_int_eq(te->offset, 25);
    ck_assert_int_eq(te->total, 50);
    ck_assert(!memcmp(te->x, gte->x + 25 * 12288, (size_t)(25 * 12288) * sizeof(dt_real)));
    /* every rank agrees on the classes */
    ck_assert_int_eq(tr->nclasses, 2);
    ck_assert_str_eq(tr->class_names[0], "non-cat");
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* rank 0 holds the rest */
    load_ok(cfg, 0, 2, &tr, &te);
    ck_assert_int_eq(tr->n, 104);
    ck_assert_int_eq(te->n, 25);
    ck_assert(!memcmp(tr->x, gtr->x, (size_t)(104 * 12288) * sizeof(dt_real)));
    dt_dataset_free(tr);
    dt_dataset_free(te);
    dt_dataset_free(gtr);
    dt_dataset_free(gte);
}
END_TEST

/* The generators' defaults reproduce the course's files (same draws, same order). */
static void same_as_file(const char *gen_cfg, const char *file, int64_t n, int64_t n_test)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg, "[data]\nsource = hdf5\ntrain = course/%s\n", file);
    course(file);
    dt_dataset *ftr, *fte, *gtr, *gte;
    load_ok(cfg, 0, 1, &ftr, &fte);
    load_ok(gen_cfg, 0, 1, &gtr, &gte);
    ck_assert_int_eq(ftr->n, n);
    ck_assert_int_eq(fte->n, n_test);
    ck_assert_int_eq(gtr->n, n);
    ck_assert_int_eq(ftr->features, 2);
    ck_assert(ftr->ndim == 1 && ftr->dims[0] == 2);
    /* To rounding only: numpy's SIMD sin/cos (AVX-512) and libm's differ in the last bits. */
    for (int64_t i = 0; i < 2 * n; i++)
        ck_assert_msg(fabs(gtr->x[i] - ftr->x[i]) <= GEN_TOL * fmax(1.0, fabs(ftr->x[i])),
                      "%s: value %lld: %.17g != %.17g", file, (long long)i, (double)gtr->x[i],
                      (double)ftr->x[i]);
    ck_assert(!memcmp(gtr->y, ftr->y, (size_t)n * sizeof(int32_t)));
    ck_assert(ftr->class_names == NULL);
    ck_assert_int_eq(ftr->nclasses, 2);
    dt_dataset_free(ftr);
    dt_dataset_free(fte);
    dt_dataset_free(gtr);
    dt_dataset_free(gte);
}

START_TEST(generators_match_course_files)
{
    same_as_file("[data]\nsource = planar\n", "planar_flower.h5", 400, 0);
    same_as_file("[data]\nsource = moons\n", "moons.h5", 300, 0);
    /* circles.h5 holds test_x/test_y too: one file, both splits */
    same_as_file("[data]\nsource = circles\n", "circles.h5", 300, 100);
}
END_TEST

START_TEST(football_test_split_in_same_file)
{
    course("football.h5");
    dt_dataset *tr, *te;
    load_ok("[data]\nsource = hdf5\ntrain = course/football.h5\n", 0, 1, &tr, &te);
    ck_assert_int_eq(tr->n, 211);
    ck_assert_int_eq(te->n, 200);
    ck_assert_int_eq(te->total, 200);
    dt_dataset_free(tr);
    dt_dataset_free(te);
}
END_TEST

/* ---- generators -------------------------------------------------------- */

START_TEST(planar_numpy)
{
    /* np.random.seed(1); the course's load_planar_dataset() */
    static const struct {
        int i;
        double x0, x1;
        int y;
    } want[] = {
        {0, 1.2044422922543192, 3.576114148128845, 0},
        {1, 0.15870990398255375, -1.4821709003683443, 0},
        {199, -0.5858464101358457, -3.091259938950624, 0},
        {200, -1.0704958072229525, 3.682524609580073, 1},
        {399, 0.7307808250007515, 3.0683292081876554, 1},
    };
    dt_dataset *tr, *te;
    load_ok("[data]\nsource = planar\n", 0, 1, &tr, &te);
    ck_assert_int_eq(tr->n, 400);
    ck_assert_int_eq(tr->features, 2);
    ck_assert_int_eq(te->n, 0);
    ck_assert_int_eq(te->features, 2);
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        ck_assert_double_eq_tol(tr->x[2 * want[k].i], want[k].x0, GEN_TOL * 4);
        ck_assert_double_eq_tol(tr->x[2 * want[k].i + 1], want[k].x1, GEN_TOL * 4);
        ck_assert_int_eq(tr->y[want[k].i], want[k].y);
    }
    int64_t c[2];
    label_counts(tr, c, 2);
    ck_assert(c[0] == 200 && c[1] == 200);
    ck_assert_int_eq(tr->nclasses, 2);
    ck_assert(tr->class_names == NULL);
    dt_dataset_free(tr);
    dt_dataset_free(te);
}
END_TEST

START_TEST(moons_circles)
{
    dt_dataset *tr, *te;
    int64_t c[2];
    /* np.random.seed(3); make_moons(300, noise=.2), then make_moons(100, noise=.2) */
    load_ok("[data]\nsource = moons\ntest_n = 100\n", 0, 1, &tr, &te);
    ck_assert_int_eq(tr->n, 300);
    ck_assert_int_eq(te->n, 100);
    ck_assert_double_eq_tol(tr->x[0], -0.21687013460912397, GEN_TOL);
    ck_assert_double_eq_tol(tr->x[1], 1.0154493742029873, GEN_TOL);
    ck_assert_double_eq_tol(te->x[0], 1.4646738345428207, GEN_TOL);
    ck_assert_double_eq_tol(te->x[1], -0.18664033633644728, GEN_TOL);
    ck_assert(te->y[0] == 1 && te->y[1] == 1 && te->y[2] == 1 && te->y[3] == 0);
    label_counts(tr, c, 2);
    ck_assert(c[0] == 150 && c[1] == 150);
    label_counts(te, c, 2);
    ck_assert(c[0] == 50 && c[1] == 50);
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* np.random.seed(1); make_circles(300, noise=.05) */
    load_ok("[data]\nsource = circles\nn = 301\nseed = 1\nnoise = 0.05\n", 0, 1, &tr, &te);
    ck_assert_int_eq(tr->n, 301);
    label_counts(tr, c, 2);
    ck_assert(c[0] == 150 && c[1] == 151);
    dt_dataset_free(tr);
    dt_dataset_free(te);
    load_ok("[data]\nsource = circles\n", 0, 1, &tr, &te);
    ck_assert_double_eq_tol(tr->x[0], -0.07741354010048114, GEN_TOL);
    ck_assert_double_eq_tol(tr->x[1], 0.8526022642742743, GEN_TOL);
    for (int64_t i = 0; i < tr->n; i++) {
        double r = hypot(tr->x[2 * i], tr->x[2 * i + 1]);
        ck_assert(r < (tr->y[i] ? 0.8 : 1.0) + 0.3);
    }
    dt_dataset_free(tr);
    dt_dataset_free(te);
}
END_TEST

START_TEST(blobs)
{
    dt_dataset *tr, *te;
    int64_t c[7];
    /* np.random.seed(1); make_blobs(300, centers=3, cluster_std=1.0) */
    load_ok("[data]\nsource = blobs\nseed = 1\n", 0, 1, &tr, &te);
    ck_assert_int_eq(tr->n, 300);
    ck_assert_int_eq(tr->nclasses, 3);
    ck_assert_double_eq_tol(tr->x[0], -11.01959844829441, GEN_TOL * 10);
    ck_assert_double_eq_tol(tr->x[1], -3.1588203077621224, GEN_TOL * 10);
    ck_assert_double_eq_tol(tr->x[598], -7.24251437964129, GEN_TOL * 10);
    ck_assert(tr->y[0] == 1 && tr->y[1] == 2 && tr->y[2] == 1 && tr->y[3] == 0);
    label_counts(tr, c, 3);
    ck_assert(c[0] == 100 && c[1] == 100 && c[2] == 100);
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* 50 // 7 = 7 each, the first 50 % 7 = 1 centre gets one more; nclasses
     * stays 7 even when a class is absent from the test split */
    load_ok("[data]\nsource = blobs\nclasses = 7\nn = 50\ntest_n = 3\nnoise = 0.5\n", 0, 1, &tr,
            &te);
    label_counts(tr, c, 7);
    ck_assert(c[0] == 8 && c[1] == 7 && c[6] == 7);
    ck_assert_int_eq(te->n, 3);
    ck_assert_int_eq(te->nclasses, 7);
    dt_dataset_free(tr);
    dt_dataset_free(te);
}
END_TEST

START_TEST(random_images)
{
    dt_dataset *tr, *te, *tr2, *te2;
    int64_t c[6];
    const char *cfg =
        "[data]\nsource = random_images\nshape = 4,5,3\nclasses = 6\nn = 50\ntest_n = 7\n";
    load_ok(cfg, 0, 1, &tr, &te);
    ck_assert(tr->n == 50 && tr->total == 50 && te->n == 7 && tr->features == 60);
    ck_assert(tr->ndim == 3 && tr->dims[0] == 4 && tr->dims[1] == 5 && tr->dims[2] == 3);
    ck_assert(te->ndim == 3 && te->features == 60 && tr->nclasses == 6 && te->nclasses == 6);
    /* np.random.seed(1); rand(3): the first pixels of row 0 */
    ck_assert_double_eq_tol(tr->x[0], 0.417022004702574, GEN_TOL);
    ck_assert_double_eq_tol(tr->x[1], 0.7203244934421581, GEN_TOL);
    ck_assert_double_eq_tol(tr->x[2], 0.00011437481734488664, GEN_TOL);
    for (int64_t i = 0; i < tr->n * tr->features; i++) ck_assert(tr->x[i] >= 0 && tr->x[i] <= 1);
    label_counts(tr, c, 6); /* asserts every label is in [0, 6) */
    int seen = 0;
    for (int k = 0; k < 6; k++) seen += c[k] > 0;
    ck_assert_int_ge(seen, 4); /* 50 uniform draws miss more than 2 of 6 classes with p < 1e-4 */
    label_counts(te, c, 6);
    /* the same seed gives the same rows; the test split does not change train */
    load_ok("[data]\nsource = random_images\nshape = 4,5,3\nclasses = 6\nn = 50\nseed = 1\n", 0, 1,
            &tr2, &te2);
    ck_assert_int_eq(te2->n, 0);
    ck_assert(!memcmp(tr->x, tr2->x, 50 * 60 * sizeof(dt_real)));
    ck_assert(!memcmp(tr->y, tr2->y, 50 * sizeof(int32_t)));
    dt_dataset_free(tr2);
    dt_dataset_free(te2);
    load_ok("[data]\nsource = random_images\nshape = 4,5,3\nclasses = 6\nn = 50\nseed = 2\n", 0, 1,
            &tr2, &te2);
    ck_assert(memcmp(tr->x, tr2->x, 50 * 60 * sizeof(dt_real)));
    dt_dataset_free(tr2);
    dt_dataset_free(te2);
    /* contiguous sharding: rank 1 of 2 holds rows [25, 50) */
    load_ok("[data]\nsource = random_images\nshape = 4,5,3\nclasses = 6\nn = 50\nsharding = "
            "contiguous\n",
            1, 2, &tr2, &te2);
    ck_assert(tr2->n == 25 && tr2->offset == 25 && tr2->total == 50);
    ck_assert(!memcmp(tr2->x, tr->x + 25 * 60, 25 * 60 * sizeof(dt_real)));
    ck_assert(!memcmp(tr2->y, tr->y + 25, 25 * sizeof(int32_t)));
    dt_dataset_free(tr2);
    dt_dataset_free(te2);
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* H,W (one channel) and F; classes defaults to 2, test_fraction holds out the end */
    load_ok("[data]\nsource = random_images\nshape = 28,28\ntest_fraction = 0.2\n", 0, 1, &tr, &te);
    ck_assert(tr->ndim == 2 && tr->dims[0] == 28 && tr->dims[1] == 28 && tr->features == 784);
    ck_assert(tr->n == 80 && te->n == 20 && tr->nclasses == 2);
    dt_dataset_free(tr);
    dt_dataset_free(te);
    load_ok("[data]\nsource = random_images\nshape = 7\nn = 2\n", 0, 1, &tr, &te);
    ck_assert(tr->ndim == 1 && tr->features == 7 && tr->n == 2);
    dt_dataset_free(tr);
    dt_dataset_free(te);
}
END_TEST

START_TEST(random_images_errors)
{
    const char *base = "[data]\nsource = random_images\n";
    char cfg[256];
    /* each fails with one line that names the key */
    static const char *const bad[][2] = {
        {"", "missing required key 'shape'"},
        {"shape = 64,0,3\n", "[data] shape = '64,0,3'"},
        {"shape = 64,64,3,1\n", "[data] shape = '64,64,3,1'"},
        {"shape = 64,x\n", "[data] shape = '64,x'"},
        {"shape = 65537\n", "[data] shape = '65537'"},
        {"shape = 8\nclasses = 1\n", "[data] classes"},
        {"shape = 8\nclasses = many\n", "[data] classes"},
        {"shape = 8\nn = 1\n", "[data] n "},
        {"shape = 8\ntest_n = -1\n", "[data] test_n"},
        {"shape = 8\nseed = -1\n", "[data] seed"},
        {"shape = 8\ntest_n = 5\ntest_fraction = 0.5\n", "test_fraction"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cfg, sizeof cfg, "%s%s", base, bad[i][0]);
        load_fails(cfg, DT_ERR_CONFIG, bad[i][1], NULL);
    }
    /* noise belongs to the 2-D generators: here it is an unknown key */
    dt_ini *ini;
    dt_dataset *tr, *te;
    dt_sharding m;
    const char *noisy = "[data]\nsource = random_images\nshape = 8\nnoise = 0.1\n";
    ck_assert_int_eq(dt_ini_parse("test.ini", noisy, &ini), DT_OK);
    ck_assert_int_eq(dt_data_load(ini, 0, 1, &tr, &te, &m), DT_OK);
    ck_assert_int_eq(dt_ini_check_unused(ini), DT_ERR_CONFIG);
    ck_assert_msg(strstr(dt_errmsg(), "unknown key 'noise'"), "%s", dt_errmsg());
    dt_dataset_free(tr);
    dt_dataset_free(te);
    dt_ini_free(ini);
}
END_TEST

START_TEST(test_fraction_and_sharding)
{
    dt_dataset *all, *none, *tr, *te;
    load_ok("[data]\nsource = planar\n", 0, 1, &all, &none);
    load_ok("[data]\nsource = planar\ntest_fraction = 0.25\n", 0, 1, &tr, &te);
    ck_assert_int_eq(tr->n, 300);
    ck_assert_int_eq(te->n, 100);
    ck_assert_int_eq(te->total, 100);
    ck_assert(!memcmp(te->x, all->x + 600, 200 * sizeof(dt_real)));
    ck_assert(!memcmp(te->y, all->y + 300, 100 * sizeof(int32_t)));
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* rank 2 of 3: train rows [200, 300), test rows [66, 100) of the held-out 100 */
    load_ok("[data]\nsource = planar\ntest_fraction = 0.25\nsharding = contiguous\n", 2, 3, &tr,
            &te);
    ck_assert_int_eq(tr->n, 100);
    ck_assert_int_eq(tr->offset, 200);
    ck_assert_int_eq(tr->total, 300);
    ck_assert(!memcmp(tr->x, all->x + 400, 200 * sizeof(dt_real)));
    ck_assert_int_eq(te->n, 34);
    ck_assert_int_eq(te->offset, 66);
    ck_assert(!memcmp(te->x, all->x + 2 * 366, 68 * sizeof(dt_real)));
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* more ranks than rows: a rank may hold nothing, and that is fine */
    load_ok("[data]\nsource = moons\nn = 2\nsharding = contiguous\n", 0, 4, &tr, &te);
    ck_assert_int_eq(tr->n, 0);
    ck_assert_int_eq(tr->total, 2);
    ck_assert_int_eq(tr->nclasses, 2);
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* gather */
    int64_t idx[3] = {5, 0, 399};
    dt_real x[6];
    int32_t y[3];
    dt_dataset_gather(all, idx, 3, x, y);
    ck_assert(x[0] == all->x[10] && x[1] == all->x[11] && x[2] == all->x[0] && x[5] == all->x[799]);
    ck_assert(y[0] == all->y[5] && y[2] == all->y[399]);
    dt_dataset_free(all);
    dt_dataset_free(none);
    dt_dataset_free(NULL);
}
END_TEST

/* ---- Fashion-MNIST IDX ------------------------------------------------- */

static const char *FM_CFG =
    "[data]\nsource = idx\nroot = " FMNIST "\n"
    "train_images = train-images-idx3-ubyte.gz\ntrain_labels = train-labels-idx1-ubyte.gz\n"
    "test_images = t10k-images-idx3-ubyte.gz\ntest_labels = t10k-labels-idx1-ubyte.gz\n";

START_TEST(fashion_mnist)
{
    if (access(FMNIST "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("fashion_mnist: SKIPPED: " FMNIST "/train-images-idx3-ubyte.gz is absent "
               "(install dataset-fashion-mnist)\n");
        return;
    }
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "%sclass_names = T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, "
             "Bag, Ankle boot\n",
             FM_CFG);
    dt_dataset *tr, *te;
    load_ok(cfg, 0, 1, &tr, &te);
    ck_assert_int_eq(tr->n, 60000);
    ck_assert_int_eq(tr->features, 784);
    ck_assert(tr->ndim == 2 && tr->dims[0] == 28 && tr->dims[1] == 28);
    ck_assert_int_eq(te->n, 10000);
    ck_assert_int_eq(tr->nclasses, 10);
    ck_assert_str_eq(tr->class_names[0], "T-shirt/top");
    ck_assert_str_eq(tr->class_names[9], "Ankle boot");
    ck_assert_str_eq(te->class_names[9], "Ankle boot");
    int64_t c[10];
    label_counts(tr, c, 10);
    for (int k = 0; k < 10; k++) ck_assert_int_eq(c[k], 6000);
    label_counts(te, c, 10);
    ck_assert_int_eq(c[3], 1000);
    ck_assert(tr->y[0] == 9 && tr->y[1] == 0 && te->y[0] == 9 && te->y[1] == 2);
    ck_assert(tr->x[59999 * 784 + 400] == (dt_real)(129 / 255.0));
    ck_assert(tr->x[30000 * 784 + 350] == (dt_real)(219 / 255.0));
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* rank 1 of 3 reads rows [20000, 40000) only; names default to "0".."9" */
    snprintf(cfg, sizeof cfg, "%ssharding = contiguous\n", FM_CFG);
    load_ok(cfg, 1, 3, &tr, &te);
    ck_assert_int_eq(tr->n, 20000);
    ck_assert_int_eq(tr->offset, 20000);
    ck_assert_int_eq(tr->y[0], 7);
    double s = 0;
    for (int i = 0; i < 784; i++) s += tr->x[i] * 255.0;
    ck_assert_double_eq_tol(s, 29399, 1e-2);
    ck_assert_int_eq(te->n, 3333);
    ck_assert_int_eq(tr->nclasses, 10);
    ck_assert_str_eq(tr->class_names[7], "7");
    dt_dataset_free(tr);
    dt_dataset_free(te);
}
END_TEST

/* ---- files we write ---------------------------------------------------- */

START_TEST(hdf5_shapes_and_types)
{
    /* float X of rank 1, labels shaped (1, 5) as the course's y sometimes is,
     * variable-length class names */
    const char *path = tmp_path("shapes.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(f >= 0);
    double x[5] = {0.5, -1, 2, 3.25, 4};
    int16_t y[5] = {0, 2, 1, 2, 0};
    const char *names[3] = {"a", "bee", "sea"};
    hsize_t d5 = 5, d15[2] = {1, 5}, d3 = 3;
    hid_t vs = H5Tcopy(H5T_C_S1);
    H5Tset_size(vs, H5T_VARIABLE);
    h5_put(f, "train_x", H5T_NATIVE_DOUBLE, 1, &d5, x);
    h5_put(f, "train_y", H5T_NATIVE_INT16, 2, d15, y);
    h5_put(f, "list_classes", vs, 1, &d3, names);
    H5Tclose(vs);
    H5Fclose(f);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "[data]\nsource = hdf5\ntrain = %s\ntest_fraction = 0.4\n", path);
    dt_dataset *tr, *te;
    load_ok(cfg, 0, 1, &tr, &te);
    ck_assert_int_eq(tr->n, 3);
    ck_assert_int_eq(te->n, 2);
    ck_assert(tr->features == 1 && tr->ndim == 1 && tr->dims[0] == 1);
    ck_assert(tr->x[1] == -1 && te->x[0] == (dt_real)3.25 && te->y[0] == 2);
    ck_assert_int_eq(tr->nclasses, 3);
    ck_assert_str_eq(tr->class_names[1], "bee");
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* class_names in the config must cover every label */
    snprintf(cfg, sizeof cfg, "[data]\nsource = hdf5\ntrain = %s\nclass_names = a, b\n", path);
    load_fails(cfg, DT_ERR_DATA, path, "class_names");
    unlink(path);
}
END_TEST

START_TEST(error_missing_file_and_data_set)
{
    course("train_catvnoncat.h5");
    load_fails("[data]\nsource = hdf5\ntrain = course/no_such_file.h5\n", DT_ERR_IO,
               "course/no_such_file.h5", "test.ini:3");
    load_fails("[data]\nsource = hdf5\ntrain = course/train_catvnoncat.h5\ntrain_x = train_set_q\n",
               DT_ERR_DATA, "train_catvnoncat.h5", "train_set_q");
    load_fails("[data]\nsource = hdf5\ntrain = course/train_catvnoncat.h5\ntrain_x = train_set_x\n"
               "train_y = nope_y\n",
               DT_ERR_DATA, "train_catvnoncat.h5", "nope_y");
    /* the test file is missing, the train file is fine */
    load_fails("[data]\nsource = hdf5\ntrain = course/train_catvnoncat.h5\ntrain_x = train_set_x\n"
               "train_y = train_set_y\ntest = course/gone.h5\n",
               DT_ERR_IO, "course/gone.h5", NULL);
    load_fails("[data]\nsource = hdf5\n", DT_ERR_CONFIG, "train", NULL);
    load_fails("[data]\nsource = csv\n", DT_ERR_CONFIG, "source", "hdf5");
    load_fails("[data]\nsource = moons\ntest_n = 10\ntest_fraction = 0.5\n", DT_ERR_CONFIG,
               "test_fraction", NULL);
    load_fails("[data]\nsource = planar\nn = 401\n", DT_ERR_CONFIG, "planar", "even");
}
END_TEST

START_TEST(error_truncated_and_not_hdf5)
{
    const char *src = course("train_catvnoncat.h5");
    FILE *in = fopen(src, "rb");
    ck_assert(in != NULL);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, in); /* first 1 MiB of 2.5 */
    fclose(in);
    const char *path = tmp_path("truncated.h5");
    write_bytes(path, buf, n);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "[data]\nsource = hdf5\ntrain = %s\ntrain_x = train_set_x\ntrain_y = train_set_y\n",
             path);
    load_fails(cfg, DT_ERR_DATA, path, "truncated");
    write_bytes(path, "not hdf5 at all\n", 16);
    load_fails(cfg, DT_ERR_DATA, path, "not an HDF5 file");
    write_bytes(path, "", 0);
    load_fails(cfg, DT_ERR_DATA, path, "not an HDF5 file");
    unlink(path);
}
END_TEST

START_TEST(error_labels)
{
    const char *path = tmp_path("labels.h5");
    uint8_t x[10] = {0, 255, 1, 2, 3, 4, 5, 6, 7, 8};
    int8_t y[5] = {0, 1, -1, 1, 0};
    hsize_t dx[2] = {5, 2}, d4 = 4, d5 = 5;
    char cfg[512];
    snprintf(cfg, sizeof cfg, "[data]\nsource = hdf5\ntrain = %s\n", path);
    /* 4 labels for 5 rows */
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_put(f, "train_x", H5T_NATIVE_UINT8, 2, dx, x);
    h5_put(f, "train_y", H5T_NATIVE_UINT8, 1, &d4, y);
    H5Fclose(f);
    load_fails(cfg, DT_ERR_DATA, path, "4 values");
    /* a negative label */
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_put(f, "train_x", H5T_NATIVE_UINT8, 2, dx, x);
    h5_put(f, "train_y", H5T_NATIVE_INT8, 1, &d5, y);
    H5Fclose(f);
    load_fails(cfg, DT_ERR_DATA, path, "out of range");
    /* fractional labels */
    double fy[5] = {0, 1, 0.5, 1, 0};
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_put(f, "train_x", H5T_NATIVE_UINT8, 2, dx, x);
    h5_put(f, "train_y", H5T_NATIVE_DOUBLE, 1, &d5, fy);
    H5Fclose(f);
    load_fails(cfg, DT_ERR_DATA, path, "row 2");
    /* integral float labels are fine, and uint8 pixels are scaled */
    fy[2] = 1;
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_put(f, "train_x", H5T_NATIVE_UINT8, 2, dx, x);
    h5_put(f, "train_y", H5T_NATIVE_DOUBLE, 1, &d5, fy);
    H5Fclose(f);
    dt_dataset *tr, *te;
    load_ok(cfg, 0, 1, &tr, &te);
    ck_assert(tr->x[1] == 1 && tr->x[2] == (dt_real)(1 / 255.0) && tr->y[2] == 1);
    ck_assert(tr->class_names == NULL && tr->nclasses == 2);
    ck_assert_int_eq(te->n, 0);
    dt_dataset_free(tr);
    dt_dataset_free(te);
    unlink(path);
}
END_TEST

static void write_idx(const char *path, int gz, uint32_t magic, const uint32_t *dims, int nd,
                      const uint8_t *v, size_t n)
{
    uint8_t h[16];
    for (int i = 0; i <= nd; i++) {
        uint32_t w = i ? dims[i - 1] : magic;
        h[4 * i] = (uint8_t)(w >> 24), h[4 * i + 1] = (uint8_t)(w >> 16);
        h[4 * i + 2] = (uint8_t)(w >> 8), h[4 * i + 3] = (uint8_t)w;
    }
    if (!gz) {
        FILE *f = fopen(path, "wb");
        ck_assert(f != NULL);
        fwrite(h, 1, 4 * (size_t)(nd + 1), f);
        fwrite(v, 1, n, f);
        fclose(f);
        return;
    }
    gzFile g = gzopen(path, "wb");
    ck_assert(g != NULL);
    gzwrite(g, h, 4 * (unsigned)(nd + 1));
    if (n) gzwrite(g, v, (unsigned)n);
    gzclose(g);
}

START_TEST(idx_files)
{
    char img[256], lab[256], cfg[1024];
    snprintf(img, sizeof img, "%s", tmp_path("img.gz"));
    snprintf(lab, sizeof lab, "%s", tmp_path("lab"));
    snprintf(cfg, sizeof cfg,
             "[data]\nsource = idx\ntrain_images = %s\ntrain_labels = %s\nsharding = contiguous\n",
             img, lab);
    uint8_t pix[6 * 2 * 3], labels[6] = {0, 1, 2, 3, 1, 0};
    for (int i = 0; i < 36; i++) pix[i] = (uint8_t)(7 * i);
    uint32_t di[3] = {6, 2, 3}, dl[1] = {6};
    write_idx(img, 1, 0x803, di, 3, pix, 36);
    write_idx(lab, 0, 0x801, dl, 1, labels, 6);
    dt_dataset *tr, *te;
    load_ok(cfg, 1, 2, &tr, &te); /* rows 3..5, from a gzip and a plain file */
    ck_assert(tr->n == 3 && tr->offset == 3 && tr->features == 6 && tr->dims[0] == 2 &&
              tr->dims[1] == 3);
    ck_assert(tr->x[0] == (dt_real)(126 / 255.0) && tr->y[0] == 3 && tr->y[2] == 0);
    ck_assert_int_eq(tr->nclasses, 4); /* from all labels, not just this block */
    ck_assert_str_eq(tr->class_names[3], "3");
    dt_dataset_free(tr);
    dt_dataset_free(te);
    /* bad magic: a labels file given as images */
    write_idx(img, 1, 0x801, dl, 1, labels, 6);
    load_fails(cfg, DT_ERR_DATA, img, "magic");
    /* truncated image data: gzip, and plain (known short from its size) */
    write_idx(img, 1, 0x803, di, 3, pix, 30);
    load_fails(cfg, DT_ERR_DATA, img, "truncated");
    write_idx(img, 0, 0x803, di, 3, pix, 30);
    load_fails(cfg, DT_ERR_DATA, img, "claims 6 images (36 bytes), more than a file of 46 bytes");
    /* a tiny file claiming a huge size is refused before any allocation */
    uint32_t huge[3] = {4000000000u, 28, 28};
    write_idx(img, 1, 0x803, huge, 3, pix, 0);
    load_fails(cfg, DT_ERR_DATA, img, "claims 4000000000 images (3136000000000 bytes), more than a gzip file of");
    write_idx(img, 0, 0x803, huge, 3, pix, 0);
    load_fails(cfg, DT_ERR_DATA, img, "more than a file of 16 bytes");
    write_idx(img, 1, 0x803, di, 3, pix, 36);
    write_idx(lab, 0, 0x801, huge, 1, labels, 6);
    load_fails(cfg, DT_ERR_DATA, lab, "claims 4000000000 labels");
    /* a gzip stream cut in half */
    write_idx(img, 1, 0x803, di, 3, pix, 36);
    FILE *g = fopen(img, "rb");
    static uint8_t gzb[4096];
    size_t gn = fread(gzb, 1, sizeof gzb, g);
    fclose(g);
    write_bytes(img, gzb, gn / 2);
    load_fails(cfg, DT_ERR_DATA, img, "truncated");
    /* a corrupt gzip stream */
    write_idx(img, 1, 0x803, di, 3, pix, 36);
    for (size_t i = 12; i < gn - 8; i++) gzb[i] ^= 0x5a;
    write_bytes(img, gzb, gn);
    load_fails(cfg, DT_ERR_DATA, img, "gz");
    /* label count differs from the image count */
    write_idx(img, 1, 0x803, di, 3, pix, 36);
    dl[0] = 5;
    write_idx(lab, 0, 0x801, dl, 1, labels, 5);
    load_fails(cfg, DT_ERR_DATA, lab, "5 labels");
    /* missing labels file */
    unlink(lab);
    load_fails(cfg, DT_ERR_IO, lab, "train_labels");
    unlink(img);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cat_hdf5);
    tcase_add_test(tc, cat_contiguous);
    tcase_add_test(tc, generators_match_course_files);
    tcase_add_test(tc, football_test_split_in_same_file);
    tcase_add_test(tc, planar_numpy);
    tcase_add_test(tc, moons_circles);
    tcase_add_test(tc, blobs);
    tcase_add_test(tc, random_images);
    tcase_add_test(tc, random_images_errors);
    tcase_add_test(tc, test_fraction_and_sharding);
    tcase_add_test(tc, fashion_mnist);
    tcase_add_test(tc, hdf5_shapes_and_types);
    tcase_add_test(tc, error_missing_file_and_data_set);
    tcase_add_test(tc, error_truncated_and_not_hdf5);
    tcase_add_test(tc, error_labels);
    tcase_add_test(tc, idx_files);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
