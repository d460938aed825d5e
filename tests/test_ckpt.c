/* test_ckpt.c — checkpoint round trips, checked reads, atomic writes, damaged
 * files, and the `info` listing. Each test works in its own /tmp directory. */
#define _GNU_SOURCE
#include <check.h>

#include "check_util.h"
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/ckpt.h"

#define REAL_TYPE_NAME (sizeof(dt_real) == 8 ? "float64" : "float32")

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/dt_ckpt.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) { return remove(p); }
static void remove_dir(void) { nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static char *in_dir(char *buf, const char *name)
{
    snprintf(buf, 256, "%s/%s", dir, name);
    return buf;
}

static int count_tmp_files(const char *d)
{
    DIR *dp = opendir(d);
    ck_assert_ptr_nonnull(dp);
    int n = 0;
    for (struct dirent *e; (e = readdir(dp));) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(dp);
    return n;
}

#define ASSERT_MSG_HAS(s) ck_assert_msg(strstr(dt_errmsg(), (s)) != NULL, "message '%s' lacks '%s'", dt_errmsg(), (s))

/* A small checkpoint: W [3,4] and b [3] as dt_real, fill value offset `k`. */
static dt_real W[12], b[3];
static uint32_t rng[5] = {0u, 1u, 0xdeadbeefu, 0xffffffffu, 624u};
static int64_t counts[4] = {-1, 0, INT64_C(1) << 40, INT64_MAX};
static double f64[2] = {0.1, -1e300};
static const char *model_text = "[input]\nshape = 4\n\n[fc1]\ntype = dense\n";

static dt_status write_small(const char *path, dt_real k)
{
    for (int i = 0; i < 12; i++) W[i] = (dt_real)(i * 0.25 + k);
    for (int i = 0; i < 3; i++) b[i] = (dt_real)(-i - k);
    dt_ckpt_array arr[] = {
        {"params/fc1/W", DT_ARR_REAL, W, 2, {3, 4}},
        {"params/fc1/b", DT_ARR_REAL, b, 1, {3}},
        {"state/rng", DT_ARR_U32, rng, 1, {5}},
        {"state/counts", DT_ARR_I64, counts, 2, {2, 2}},
        {"/optim/fc1/m_W", DT_ARR_F64, f64, 1, {2}},
    };
    dt_ckpt_attr at[] = {
        {"step", DT_ATTR_INT, .i = 1200},
        {"lr", DT_ATTR_REAL, .r = 0.001},
        {"model", DT_ATTR_STR, .s = model_text},
        {"note", DT_ATTR_STR, .s = "h\xc3\xa9llo \"q\""},
    };
    return dt_ckpt_write(path, arr, 5, at, 4);
}

static void check_small(const char *path, dt_real k)
{
    dt_ckpt *c;
    ck_assert_int_eq(dt_ckpt_open(path, &c), DT_OK);
    dt_real w2[12], b2[3];
    uint32_t r2[5];
    int64_t c2[4];
    double f2[2];
    int64_t dW[2] = {3, 4}, db[1] = {3}, dr[1] = {5}, dc[2] = {2, 2}, df[1] = {2};
    ck_assert_int_eq(dt_ckpt_read(c, "params/fc1/W", DT_ARR_REAL, w2, 2, dW), DT_OK);
    ck_assert_int_eq(dt_ckpt_read(c, "/params/fc1/b", DT_ARR_REAL, b2, 1, db), DT_OK);
    ck_assert_int_eq(dt_ckpt_read(c, "state/rng", DT_ARR_U32, r2, 1, dr), DT_OK);
    ck_assert_int_eq(dt_ckpt_read(c, "state/counts", DT_ARR_I64, c2, 2, dc), DT_OK);
    ck_assert_int_eq(dt_ckpt_read(c, "optim/fc1/m_W", DT_ARR_F64, f2, 1, df), DT_OK);
    for (int i = 0; i < 12; i++) ck_assert(w2[i] == (dt_real)(i * 0.25 + k));
    for (int i = 0; i < 3; i++) ck_assert(b2[i] == (dt_real)(-i - k));
    ck_assert_mem_eq(r2, rng, sizeof rng);
    ck_assert_mem_eq(c2, counts, sizeof counts);
    ck_assert_mem_eq(f2, f64, sizeof f64);
    dt_ckpt_close(c);
}

START_TEST(round_trip)
{
    make_dir();
    char p[256];
    in_dir(p, "ck.h5");
    ck_assert_int_eq(write_small(p, 0.5), DT_OK);
    ck_assert_int_eq(count_tmp_files(dir), 0);
    check_small(p, 0.5);

    dt_ckpt *c;
    ck_assert_int_eq(dt_ckpt_open(p, &c), DT_OK);
    int64_t step;
    double lr, step_r;
    char *s;
    ck_assert_int_eq(dt_ckpt_attr_int(c, "step", &step), DT_OK);
    ck_assert_int_eq(step, 1200);
    ck_assert_int_eq(dt_ckpt_attr_real(c, "lr", &lr), DT_OK);
    ck_assert(lr == 0.001);
    ck_assert_int_eq(dt_ckpt_attr_real(c, "step", &step_r), DT_OK); /* integers read as reals */
    ck_assert(step_r == 1200.0);
    ck_assert_int_eq(dt_ckpt_attr_str(c, "model", &s), DT_OK);
    ck_assert_str_eq(s, model_text);
    free(s);
    ck_assert_int_eq(dt_ckpt_attr_str(c, "note", &s), DT_OK);
    ck_assert_str_eq(s, "h\xc3\xa9llo \"q\"");
    free(s);

    ck_assert(dt_ckpt_has(c, "params/fc1/W"));
    ck_assert(dt_ckpt_has(c, "/params/fc1/b"));
    ck_assert(dt_ckpt_has(c, "params"));
    ck_assert(!dt_ckpt_has(c, "params/fc2/W"));
    ck_assert(!dt_ckpt_has(c, "nothing/at/all"));
    ck_assert(!dt_ckpt_has(c, "params/fc1/W/x")); /* below a data set */

    ck_assert_int_eq(dt_ckpt_attr_int(c, "epoch", &step), DT_ERR_DATA);
    ASSERT_MSG_HAS("epoch");
    ASSERT_MSG_HAS(p);
    ck_assert_int_eq(dt_ckpt_attr_int(c, "model", &step), DT_ERR_DATA); /* wrong type */
    ASSERT_MSG_HAS("model");
    ck_assert_int_eq(dt_ckpt_attr_int(c, "lr", &step), DT_ERR_DATA);
    ck_assert_int_eq(dt_ckpt_attr_str(c, "step", &s), DT_ERR_DATA);
    ck_assert_ptr_null(s);
    dt_ckpt_close(c);
    dt_ckpt_close(NULL);
    remove_dir();
}
END_TEST

START_TEST(precision_conversion)
{
    /* A float64 array reads into dt_real and a dt_real one into double. */
    make_dir();
    char p[256];
    in_dir(p, "conv.h5");
    double d[3] = {0.5, -2.25, 1e-3};
    dt_real r[2] = {(dt_real)1.5, (dt_real)-0.125};
    dt_ckpt_array arr[] = {{"a/d", DT_ARR_F64, d, 1, {3}}, {"a/r", DT_ARR_REAL, r, 1, {2}}};
    ck_assert_int_eq(dt_ckpt_write(p, arr, 2, NULL, 0), DT_OK);
    dt_ckpt *c;
    ck_assert_int_eq(dt_ckpt_open(p, &c), DT_OK);
    dt_real rd[3];
    double dr[2];
    int64_t n3 = 3, n2 = 2;
    ck_assert_int_eq(dt_ckpt_read(c, "a/d", DT_ARR_REAL, rd, 1, &n3), DT_OK);
    for (int i = 0; i < 3; i++) ck_assert(rd[i] == (dt_real)d[i]);
    ck_assert_int_eq(dt_ckpt_read(c, "a/r", DT_ARR_F64, dr, 1, &n2), DT_OK);
    ck_assert(dr[0] == 1.5 && dr[1] == -0.125);
    dt_ckpt_close(c);
    remove_dir();
}
END_TEST

START_TEST(empty_array_and_no_attrs)
{
    make_dir();
    char p[256];
    in_dir(p, "empty.h5");
    dt_ckpt_array arr[] = {{"e", DT_ARR_REAL, NULL, 2, {0, 5}}};
    ck_assert_int_eq(dt_ckpt_write(p, arr, 1, NULL, 0), DT_OK);
    dt_ckpt *c;
    ck_assert_int_eq(dt_ckpt_open(p, &c), DT_OK);
    int64_t dims[2] = {0, 5};
    ck_assert_int_eq(dt_ckpt_read(c, "e", DT_ARR_REAL, NULL, 2, dims), DT_OK);
    dt_ckpt_close(c);
    remove_dir();
}
END_TEST

START_TEST(bad_arguments)
{
    make_dir();
    char p[256];
    in_dir(p, "bad.h5");
    float x[1] = {0};
    dt_ckpt_array rank0[] = {{"x", DT_ARR_REAL, x, 0, {0}}};
    dt_ckpt_array rank5[] = {{"x", DT_ARR_REAL, x, 5, {1, 1, 1, 1}}};
    dt_ckpt_array nodata[] = {{"x", DT_ARR_REAL, NULL, 1, {1}}};
    ck_assert_int_eq(dt_ckpt_write(p, rank0, 1, NULL, 0), DT_ERR_ARG);
    ck_assert_int_eq(dt_ckpt_write(p, rank5, 1, NULL, 0), DT_ERR_ARG);
    ck_assert_int_eq(dt_ckpt_write(p, nodata, 1, NULL, 0), DT_ERR_ARG);
    /* The same name twice is an HDF5-level failure: nothing may be left. */
    dt_ckpt_array twice[] = {{"x", DT_ARR_REAL, x, 1, {1}}, {"x", DT_ARR_REAL, x, 1, {1}}};
    ck_assert_int_eq(dt_ckpt_write(p, twice, 2, NULL, 0), DT_ERR_IO);
    ASSERT_MSG_HAS("/x");
    ck_assert_int_ne(access(p, F_OK), 0);
    ck_assert_int_eq(count_tmp_files(dir), 0);
    remove_dir();
}
END_TEST

START_TEST(shape_mismatch)
{
    make_dir();
    char p[256];
    in_dir(p, "ck.h5");
    ck_assert_int_eq(write_small(p, 0), DT_OK);
    dt_ckpt *c;
    ck_assert_int_eq(dt_ckpt_open(p, &c), DT_OK);
    dt_real buf[12];
    int64_t d43[2] = {4, 3}, d12[1] = {12};
    ck_assert_int_eq(dt_ckpt_read(c, "params/fc1/W", DT_ARR_REAL, buf, 2, d43), DT_ERR_DATA);
    ASSERT_MSG_HAS(p);
    ASSERT_MSG_HAS("/params/fc1/W has shape [3, 4], expected [4, 3]");
    ck_assert_int_eq(dt_ckpt_read(c, "params/fc1/W", DT_ARR_REAL, buf, 1, d12), DT_ERR_DATA);
    ASSERT_MSG_HAS("has shape [3, 4], expected [12]");
    /* An integer array is not silently read as reals. */
    int64_t d5[1] = {5};
    ck_assert_int_eq(dt_ckpt_read(c, "state/rng", DT_ARR_REAL, buf, 1, d5), DT_ERR_DATA);
    ASSERT_MSG_HAS("/state/rng has type uint32");
    /* A group is not an array. */
    ck_assert_int_eq(dt_ckpt_read(c, "params/fc1", DT_ARR_REAL, buf, 1, d5), DT_ERR_DATA);
    ASSERT_MSG_HAS("/params/fc1 is not a data set");
    dt_ckpt_close(c);
    remove_dir();
}
END_TEST

START_TEST(missing_array)
{
    make_dir();
    char p[256];
    in_dir(p, "ck.h5");
    ck_assert_int_eq(write_small(p, 0), DT_OK);
    dt_ckpt *c;
    ck_assert_int_eq(dt_ckpt_open(p, &c), DT_OK);
    dt_real buf[12];
    int64_t d[2] = {3, 4};
    ck_assert_int_eq(dt_ckpt_read(c, "params/fc2/W", DT_ARR_REAL, buf, 2, d), DT_ERR_DATA);
    ASSERT_MSG_HAS(p);
    ASSERT_MSG_HAS("/params/fc2/W is missing");
    ck_assert_int_eq(dt_ckpt_read(c, "params/fc1/V", DT_ARR_REAL, buf, 2, d), DT_ERR_DATA);
    ASSERT_MSG_HAS("/params/fc1/V is missing");
    dt_ckpt_close(c);
    remove_dir();
}
END_TEST

START_TEST(atomic_rename_fails)
{
    /* The target is a non-empty directory: everything is written, then the
     * rename fails. The directory must be untouched and no temp file left. */
    make_dir();
    char p[256], inner[300];
    in_dir(p, "target.h5");
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(inner, sizeof inner, "%s/keep", p);
    FILE *f = fopen(inner, "w");
    ck_assert_ptr_nonnull(f);
    fputs("keep", f);
    fclose(f);
    ck_assert_int_eq(write_small(p, 0), DT_ERR_IO);
    ASSERT_MSG_HAS(p);
    ASSERT_MSG_HAS("rename");
    ASSERT_MSG_HAS("directory");
    ck_assert_int_eq(access(inner, F_OK), 0);
    ck_assert_int_eq(count_tmp_files(dir), 0);
    remove_dir();
}
END_TEST

START_TEST(atomic_cannot_create)
{
    /* Directory missing: "cannot create", nothing created. */
    make_dir();
    char p[256], a[256];
    in_dir(p, "no/such/dir/ck.h5");
    ck_assert_int_eq(write_small(p, 0), DT_ERR_IO);
    ASSERT_MSG_HAS(p);
    ASSERT_MSG_HAS("cannot create");
    ASSERT_MSG_HAS("No such file or directory");

    /* Same path as a good checkpoint A, temp file cannot be created (a
     * directory is in its way): A stays as it was. */
    in_dir(a, "a.h5");
    ck_assert_int_eq(write_small(a, 1), DT_OK);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", a, (long)getpid());
    ck_assert_int_eq(mkdir(tmp, 0755), 0);
    ck_assert_int_eq(write_small(a, 2), DT_ERR_IO);
    ASSERT_MSG_HAS("cannot create");
    check_small(a, 1);
    ck_assert_int_eq(rmdir(tmp), 0);
    ck_assert_int_eq(count_tmp_files(dir), 0);
    remove_dir();
}
END_TEST

START_TEST(atomic_write_fails_midway)
{
    /* A file-size limit makes the data writes fail (EFBIG) after the temp
     * file exists: A must survive and the temp file must go. */
    make_dir();
    char a[256];
    in_dir(a, "a.h5");
    ck_assert_int_eq(write_small(a, 1), DT_OK);

    enum { N = 1 << 18 };
    dt_real *big = calloc(N, sizeof *big);
    ck_assert_ptr_nonnull(big);
    dt_ckpt_array arr[] = {{"params/big", DT_ARR_REAL, big, 1, {N}}};
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    dt_status st = dt_ckpt_write(a, arr, 1, NULL, 0);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    free(big);
    ck_assert_int_eq(st, DT_ERR_IO);
    ASSERT_MSG_HAS(a);
    ASSERT_MSG_HAS("File too large");
    check_small(a, 1);
    ck_assert_int_eq(count_tmp_files(dir), 0);
    remove_dir();
}
END_TEST

START_TEST(overwrite_replaces)
{
    make_dir();
    char a[256];
    in_dir(a, "a.h5");
    ck_assert_int_eq(write_small(a, 1), DT_OK);
    ck_assert_int_eq(write_small(a, 2), DT_OK);
    check_small(a, 2);
    ck_assert_int_eq(count_tmp_files(dir), 0);
    remove_dir();
}
END_TEST

START_TEST(damaged_files)
{
    make_dir();
    char p[256], t[256], m[256];
    dt_ckpt *c = (dt_ckpt *)&c;

    /* Truncated to half: refused at open, no crash. */
    in_dir(p, "trunc.h5");
    enum { N = 4096 };
    dt_real *x = calloc(N, sizeof *x);
    dt_ckpt_array arr[] = {{"params/x", DT_ARR_REAL, x, 1, {N}}};
    ck_assert_int_eq(dt_ckpt_write(p, arr, 1, NULL, 0), DT_OK);
    free(x);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq(truncate(p, sb.st_size / 2), 0);
    ck_assert_int_eq(dt_ckpt_open(p, &c), DT_ERR_IO);
    ck_assert_ptr_null(c);
    ASSERT_MSG_HAS(p);
    ASSERT_MSG_HAS("not a readable HDF5 file (truncated or corrupt?)");

    /* Truncated to a few bytes. */
    ck_assert_int_eq(truncate(p, 5), 0);
    ck_assert_int_eq(dt_ckpt_open(p, &c), DT_ERR_IO);
    ASSERT_MSG_HAS("not a readable HDF5 file");

    /* Text. */
    in_dir(t, "text.h5");
    FILE *f = fopen(t, "w");
    fputs("this is not HDF5\n", f);
    fclose(f);
    ck_assert_int_eq(dt_ckpt_open(t, &c), DT_ERR_IO);
    ASSERT_MSG_HAS(t);
    ASSERT_MSG_HAS("not a readable HDF5 file");

    /* Missing; a directory. */
    in_dir(m, "missing.h5");
    ck_assert_int_eq(dt_ckpt_open(m, &c), DT_ERR_IO);
    ASSERT_MSG_HAS(m);
    ASSERT_MSG_HAS("no such file");
    ck_assert_int_eq(dt_ckpt_open(dir, &c), DT_ERR_IO);
    ASSERT_MSG_HAS(dir);

    /* The listing reports the same errors. */
    ck_assert_int_eq(dt_h5_print_info(p, stdout), DT_ERR_IO);
    ASSERT_MSG_HAS("not a readable HDF5 file");
    ck_assert_int_eq(dt_h5_print_info(m, stdout), DT_ERR_IO);
    ASSERT_MSG_HAS("no such file");
    remove_dir();
}
END_TEST

START_TEST(print_info)
{
    make_dir();
    char p[256], want[128];
    in_dir(p, "ck.h5");
    ck_assert_int_eq(write_small(p, 0), DT_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(dt_h5_print_info(p, f), DT_OK);
    fclose(f);
    const char *lines[] = {
        "\n  @step = 1200\n",
        "\n  @lr = 0.001\n",
        "\n  @model = \"[input]\" (5 lines)\n",
        "\n  @note = \"h\xc3\xa9llo \"q\"\"\n",
        "\n/params/fc1     group\n",
        "\n/state/rng      uint32 [5]\n",
        "\n/state/counts   int64 [2, 2]\n",
        "\n/optim/fc1/m_W  float64 [2]\n",
    };
    ck_assert_msg(strncmp(text, "/               group\n", 22) == 0, "listing:\n%s", text);
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        ck_assert_msg(strstr(text, lines[i]) != NULL, "listing lacks '%s':\n%s", lines[i], text);
    snprintf(want, sizeof want, "\n/params/fc1/W   %s [3, 4]\n", REAL_TYPE_NAME);
    ck_assert_msg(strstr(text, want) != NULL, "listing lacks '%s':\n%s", want, text);
    free(text);
    remove_dir();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ckpt");
    TCase *tc = tcase_create("io");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, precision_conversion);
    tcase_add_test(tc, empty_array_and_no_attrs);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, shape_mismatch);
    tcase_add_test(tc, missing_array);
    tcase_add_test(tc, atomic_rename_fails);
    tcase_add_test(tc, atomic_cannot_create);
    tcase_add_test(tc, atomic_write_fails_midway);
    tcase_add_test(tc, overwrite_replaces);
    tcase_add_test(tc, damaged_files);
    tcase_add_test(tc, print_info);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
