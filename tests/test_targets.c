/* test_targets.c — what a data set compares each row with: class labels,
 * dense target tensors of any shape ([data] target = dense), or nothing
 * (target = none), through HDF5 files written here; sharding and gathering
 * treat dense targets as they treat rows; and the errors for bad targets. */
#include <check.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "data/data.h"

static const char *tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "/tmp/dtrain_test_targets_%d_%s", (int)getpid(), name);
    return path;
}

static void write_f64(hid_t f, const char *name, const double *v, int nd, const hsize_t *dims)
{
    hid_t sp = H5Screate_simple(nd, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(d >= 0 && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
}

static void write_u8(hid_t f, const char *name, const unsigned char *v, int nd, const hsize_t *dims)
{
    hid_t sp = H5Screate_simple(nd, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_STD_U8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(d >= 0 && H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
}

/* 6 rows of x [6, 2] = (r, -r); y [6, 2, 3] = 10 r + j; z [5, 2] (a row short);
 * img [6, 2, 2] uint8 = 51 (r % 5): 0.2·(r % 5) once scaled. */
static const char *write_file(void)
{
    const char *path = tmp_path("t.h5");
    double x[12], y[36], z[10];
    unsigned char img[24];
    for (int r = 0; r < 6; r++) {
        x[2 * r] = r;
        x[2 * r + 1] = -r;
        for (int j = 0; j < 6; j++) y[6 * r + j] = 10 * r + j;
        for (int j = 0; j < 4; j++) img[4 * r + j] = (unsigned char)(51 * (r % 5));
    }
    for (int i = 0; i < 10; i++) z[i] = i;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(f >= 0);
    write_f64(f, "x", x, 2, (hsize_t[]){6, 2});
    write_f64(f, "y", y, 3, (hsize_t[]){6, 2, 3});
    write_f64(f, "z", z, 2, (hsize_t[]){5, 2});
    write_u8(f, "img", img, 3, (hsize_t[]){6, 2, 2});
    H5Fclose(f);
    return path;
}

static dt_status load(const char *text, int rank, int nranks, dt_dataset **tr, dt_dataset **te)
{
    dt_ini *cfg;
    dt_sharding m;
    ck_assert_int_eq(dt_ini_parse("test.ini", text, &cfg), DT_OK);
    dt_status s = dt_data_load(cfg, rank, nranks, tr, te, &m);
    if (!s) ck_assert_msg(dt_ini_check_unused(cfg) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(cfg);
    return s;
}

START_TEST(dense_targets_of_any_shape)
{
    const char *path = write_file();
    char text[1024];
    snprintf(text, sizeof text, "[data]\nsource = hdf5\ntrain = %s\ntrain_x = x\ntrain_y = y\ntarget = dense\n", path);
    dt_dataset *tr, *te;
    ck_assert_msg(load(text, 0, 1, &tr, &te) == DT_OK, "%s", dt_errmsg());
    ck_assert_int_eq(tr->n, 6);
    ck_assert_int_eq(tr->tlen, 6);
    ck_assert_int_eq(tr->tndim, 2);
    ck_assert_int_eq(tr->tdims[0], 2);
    ck_assert_int_eq(tr->tdims[1], 3);
    ck_assert_int_eq(tr->labeled, 0);
    for (int r = 0; r < 6; r++)
        for (int j = 0; j < 6; j++) ck_assert(tr->t[6 * r + j] == (dt_real)(10 * r + j));
    int64_t idx[3] = {4, 0, 5};
    dt_real t[18], x[6];
    dt_dataset_gather(tr, idx, 3, x, NULL);
    dt_dataset_gather_dense(tr, idx, 3, t);
    for (int i = 0; i < 3; i++) {
        ck_assert(x[2 * i] == (dt_real)idx[i]);
        for (int j = 0; j < 6; j++) ck_assert(t[6 * i + j] == (dt_real)(10 * idx[i] + j));
    }
    ck_assert_int_eq(te->n, 0);
    ck_assert_int_eq(te->tlen, 6); /* the empty test split keeps the shape */
    dt_dataset_free(tr);
    dt_dataset_free(te);

    /* contiguous shards: rank 1 of 2 holds rows 3..5, targets with them */
    snprintf(text, sizeof text, "[data]\nsource = hdf5\ntrain = %s\ntrain_x = x\ntrain_y = y\ntarget = dense\nsharding = contiguous\n",
             path);
    ck_assert_msg(load(text, 1, 2, &tr, &te) == DT_OK, "%s", dt_errmsg());
    ck_assert_int_eq(tr->n, 3);
    ck_assert_int_eq(tr->offset, 3);
    ck_assert_int_eq(tr->total, 6);
    for (int r = 0; r < 3; r++) {
        ck_assert(tr->x[2 * r] == (dt_real)(r + 3));
        ck_assert(tr->t[6 * r] == (dt_real)(10 * (r + 3)));
    }
    dt_dataset_free(tr);
    dt_dataset_free(te);

    /* uint8 targets are pixels, scaled as the inputs are; a held-out test split keeps its targets */
    snprintf(text, sizeof text, "[data]\nsource = hdf5\ntrain = %s\ntrain_x = x\ntrain_y = img\ntarget = dense\ntest_fraction = 0.5\n", path);
    ck_assert_msg(load(text, 0, 1, &tr, &te) == DT_OK, "%s", dt_errmsg());
    ck_assert_int_eq(tr->n, 3);
    ck_assert_int_eq(te->n, 3);
    ck_assert_double_eq_tol(tr->t[4], 0.2, 1e-6);
    ck_assert_double_eq_tol(te->t[0], 0.6, 1e-6); /* row 3 */
    ck_assert_double_eq_tol(te->t[4 * 2], 0.0, 1e-12); /* row 5: 51 · 0 */
    dt_dataset_free(tr);
    dt_dataset_free(te);
    unlink(path);
}
END_TEST

START_TEST(no_targets)
{
    const char *path = write_file();
    char text[1024];
    /* no train_y at all: target = none reads none */
    snprintf(text, sizeof text, "[data]\nsource = hdf5\ntrain = %s\ntrain_x = x\ntrain_y = nothing_here\ntarget = none\n", path);
    dt_dataset *tr, *te;
    ck_assert_msg(load(text, 0, 1, &tr, &te) == DT_OK, "%s", dt_errmsg());
    ck_assert_int_eq(tr->n, 6);
    ck_assert_int_eq(tr->labeled, 0);
    ck_assert_int_eq(tr->tlen, 0);
    ck_assert(tr->t == NULL);
    dt_dataset_free(tr);
    dt_dataset_free(te);
    unlink(path);
}
END_TEST

START_TEST(target_errors)
{
    const char *path = write_file();
    static const struct {
        const char *keys, *want;
    } cases[] = {
        {"train_y = z\ntarget = dense\n", "targets 'z' have 5 rows but 'x' has 6"},
        {"train_y = nope\ntarget = dense\n", "nope"},
        {"train_y = y\ntarget = boxes\n", "test.ini:6: [data] target = 'boxes': expected one of label, dense, none"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[1024];
        snprintf(text, sizeof text, "[data]\nsource = hdf5\ntrain = %s\ntrain_x = x\n%s", path, cases[i].keys);
        dt_dataset *tr = NULL, *te = NULL;
        ck_assert_int_ne(load(text, 0, 1, &tr, &te), DT_OK);
        ck_assert_msg(strstr(dt_errmsg(), cases[i].want), "case %zu: got '%s', want '%s'", i, dt_errmsg(), cases[i].want);
        ck_assert(tr == NULL && te == NULL);
    }
    dt_dataset *tr = NULL, *te = NULL;
    ck_assert_int_ne(load("[data]\nsource = moons\ntarget = dense\n", 0, 1, &tr, &te), DT_OK);
    ck_assert_msg(strstr(dt_errmsg(), "test.ini:3: [data] target = dense needs source = hdf5"), "%s", dt_errmsg());
    unlink(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("targets");
    TCase *tc = tcase_create("targets");
    tcase_add_test(tc, dense_targets_of_any_shape);
    tcase_add_test(tc, no_targets);
    tcase_add_test(tc, target_errors);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
