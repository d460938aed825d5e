/* test_metrics.c — metrics.jsonl: exact lines, NaN left out, escaping, append. */
#include <check.h>

#include "check_util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/metrics.h"

static char path[64];

static void make_path(void)
{
    strcpy(path, "/tmp/dt_metrics.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void assert_file_is(const char *want)
{
    char *text;
    ck_assert_int_eq(dt_read_text(path, &text, NULL), DT_OK);
    ck_assert_str_eq(text, want);
    free(text);
}

static const char *line1 =
    "{\"step\": 120, \"epoch\": 2, \"split\": \"train\", \"loss\": 0.4312, \"accuracy\": 0.85, "
    "\"lr\": 0.001, \"time\": 3.2}\n";
static const char *line2 = "{\"step\": 121, \"epoch\": 2, \"split\": \"test\", \"loss\": 0.123456789}\n";

static void log_two(dt_metrics *m)
{
    ck_assert_int_eq(dt_metrics_log(m, 120, 2, "train", 0.4312, 0.85, 0.001, 3.2), DT_OK);
    /* Only the 9 significant digits %.9g keeps; NaN fields are left out. */
    ck_assert_int_eq(dt_metrics_log(m, 121, 2, "test", 0.1234567891234, NAN, NAN, NAN), DT_OK);
}

START_TEST(two_lines)
{
    make_path();
    dt_metrics *m;
    ck_assert_int_eq(dt_metrics_open(path, 0, &m), DT_OK);
    log_two(m);
    /* Flushed after each line: readable before close. */
    char want[512];
    snprintf(want, sizeof want, "%s%s", line1, line2);
    assert_file_is(want);
    dt_metrics_close(m);
    dt_metrics_close(NULL);
    assert_file_is(want);
    unlink(path);
}
END_TEST

START_TEST(nan_escape_inf)
{
    make_path();
    dt_metrics *m;
    ck_assert_int_eq(dt_metrics_open(path, 0, &m), DT_OK);
    ck_assert_int_eq(dt_metrics_log(m, 0, 0, "a\"b\\c\nd\t\x01", NAN, NAN, NAN, NAN), DT_OK);
    ck_assert_int_eq(dt_metrics_log(m, -1, 3, NULL, INFINITY, 1, 1e-5, -INFINITY), DT_OK);
    dt_metrics_close(m);
    assert_file_is("{\"step\": 0, \"epoch\": 0, \"split\": \"a\\\"b\\\\c\\nd\\t\\u0001\"}\n"
                   "{\"step\": -1, \"epoch\": 3, \"loss\": 1e999, \"accuracy\": 1, \"lr\": 1e-05, "
                   "\"time\": -1e999}\n");
    unlink(path);
}
END_TEST

START_TEST(append_keeps_lines)
{
    make_path();
    dt_metrics *m;
    ck_assert_int_eq(dt_metrics_open(path, 0, &m), DT_OK);
    ck_assert_int_eq(dt_metrics_log(m, 120, 2, "train", 0.4312, 0.85, 0.001, 3.2), DT_OK);
    dt_metrics_close(m);
    ck_assert_int_eq(dt_metrics_open(path, 1, &m), DT_OK);
    ck_assert_int_eq(dt_metrics_log(m, 121, 2, "test", 0.1234567891234, NAN, NAN, NAN), DT_OK);
    dt_metrics_close(m);
    char want[512];
    snprintf(want, sizeof want, "%s%s", line1, line2);
    assert_file_is(want);

    /* Not appending starts afresh. */
    ck_assert_int_eq(dt_metrics_open(path, 0, &m), DT_OK);
    ck_assert_int_eq(dt_metrics_log(m, 121, 2, "test", 0.1234567891234, NAN, NAN, NAN), DT_OK);
    dt_metrics_close(m);
    assert_file_is(line2);
    unlink(path);
}
END_TEST

START_TEST(append_after_partial_line)
{
    /* A crash mid-line: the next run's lines still start on their own line. */
    make_path();
    FILE *f = fopen(path, "w");
    fputs("{\"step\": 1", f);
    fclose(f);
    dt_metrics *m;
    ck_assert_int_eq(dt_metrics_open(path, 1, &m), DT_OK);
    ck_assert_int_eq(dt_metrics_log(m, 121, 2, "test", 0.1234567891234, NAN, NAN, NAN), DT_OK);
    dt_metrics_close(m);
    char want[512];
    snprintf(want, sizeof want, "{\"step\": 1\n%s", line2);
    assert_file_is(want);
    unlink(path);
}
END_TEST

START_TEST(append_to_new_file)
{
    make_path();
    unlink(path);
    dt_metrics *m;
    ck_assert_int_eq(dt_metrics_open(path, 1, &m), DT_OK);
    log_two(m);
    dt_metrics_close(m);
    char want[512];
    snprintf(want, sizeof want, "%s%s", line1, line2);
    assert_file_is(want);
    unlink(path);
}
END_TEST

START_TEST(bad_directory)
{
    const char *p = "/tmp/dt-no-such-dir-4711/metrics.jsonl";
    dt_metrics *m = (dt_metrics *)&m;
    ck_assert_int_eq(dt_metrics_open(p, 0, &m), DT_ERR_IO);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(dt_errmsg(), p));
    ck_assert_int_eq(dt_metrics_open(p, 1, &m), DT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(dt_errmsg(), p));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("io");
    tcase_add_test(tc, two_lines);
    tcase_add_test(tc, nan_escape_inf);
    tcase_add_test(tc, append_keeps_lines);
    tcase_add_test(tc, append_after_partial_line);
    tcase_add_test(tc, append_to_new_file);
    tcase_add_test(tc, bad_directory);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
