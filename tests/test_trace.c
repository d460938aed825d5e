/* test_trace.c — Chrome trace JSON: events, metadata, escaping, drops, errors. */
#include <check.h>

#include "check_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/trace.h"

static char path[64];

static void make_path(void)
{
    strcpy(path, "/tmp/dt_trace.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

/* Brackets balance outside strings, strings close and hold no raw control
 * characters or unknown escapes: enough to catch what a writer gets wrong. */
static int json_looks_valid(const char *s)
{
    char stack[64];
    int depth = 0, in_str = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (in_str) {
            if (c < 0x20) return 0;
            if (c == '"') in_str = 0;
            if (c == '\\' && !strchr("\"\\/bfnrtu", *++s)) return 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (depth == (int)sizeof stack) return 0;
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (depth == 0 || stack[--depth] != c) return 0;
        }
    }
    return depth == 0 && !in_str;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static char *read_trace(void)
{
    char *text;
    ck_assert_int_eq(dt_read_text(path, &text, NULL), DT_OK);
    ck_assert_msg(json_looks_valid(text), "not valid JSON:\n%s", text);
    ck_assert(strncmp(text, "{\"traceEvents\":[", 16) == 0);
    return text;
}

#define HAS(text, s) ck_assert_msg(strstr(text, s), "missing %s in:\n%s", s, text)

START_TEST(spans_and_metadata)
{
    make_path();
    ck_assert_int_eq(dt_trace_open(path, 3, 0), DT_OK);
    ck_assert(dt_trace_enabled());
    dt_trace_span("forward", "compute", DT_TRACE_COMPUTE, 1000.5, 1010.25, "layer", 2, "batch",
                  64);
    dt_trace_span("allreduce", "comm", DT_TRACE_COMM, 1010.25, 1100, "bytes", 4096, NULL, 0);
    dt_trace_span("step", "compute", 0, 900, 1200, NULL, 0, NULL, 0);
    dt_trace_span("only2", "compute", 0, 5, 4, NULL, 0, "k", -7); /* t1 < t0: dur 0 */
    dt_trace_span("q\"b\\n\n\x01", "compute", 0, 1, 2, NULL, 0, NULL, 0);
    ck_assert_int_eq(dt_trace_write(), DT_OK);
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_ne(access(tmp, F_OK), 0);

    char *t = read_trace();
    ck_assert_int_eq(count(t, "\"ph\":\"X\""), 5);
    ck_assert_int_eq(count(t, "\"ph\":\"M\""), 4);
    HAS(t, "{\"name\":\"forward\",\"cat\":\"compute\",\"ph\":\"X\",\"pid\":3,\"tid\":0,"
           "\"ts\":1000.500,\"dur\":9.750,\"args\":{\"layer\":2,\"batch\":64}}");
    HAS(t, "{\"name\":\"allreduce\",\"cat\":\"comm\",\"ph\":\"X\",\"pid\":3,\"tid\":1,"
           "\"ts\":1010.250,\"dur\":89.750,\"args\":{\"bytes\":4096}}");
    HAS(t, "{\"name\":\"step\",\"cat\":\"compute\",\"ph\":\"X\",\"pid\":3,\"tid\":0,"
           "\"ts\":900.000,\"dur\":300.000}");
    HAS(t, "\"name\":\"only2\",\"cat\":\"compute\",\"ph\":\"X\",\"pid\":3,\"tid\":0,"
           "\"ts\":5.000,\"dur\":0.000,\"args\":{\"k\":-7}}");
    HAS(t, "\"name\":\"q\\\"b\\\\n\\u000a\\u0001\"");
    HAS(t, "\"pid\":3,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"rank 3\"}}");
    HAS(t, "\"pid\":3,\"tid\":0,\"name\":\"process_sort_index\",\"args\":{\"sort_index\":3}}");
    HAS(t, "\"pid\":3,\"tid\":0,\"name\":\"thread_name\",\"args\":{\"name\":\"compute\"}}");
    HAS(t, "\"pid\":3,\"tid\":1,\"name\":\"thread_name\",\"args\":{\"name\":\"communication\"}}");
    HAS(t, "],\"displayTimeUnit\":\"ms\",\"otherData\":{\"dropped_events\":0}}\n");
    free(t);
    dt_trace_close();
    ck_assert(!dt_trace_enabled());
    unlink(path);
}
END_TEST

START_TEST(not_open_does_nothing)
{
    ck_assert(!dt_trace_enabled());
    dt_trace_span("x", "compute", 0, 1, 2, "a", 1, NULL, 0);
    ck_assert_int_eq(dt_trace_write(), DT_OK);
    dt_trace_close();
    /* Spans before open are not kept either. */
    make_path();
    ck_assert_int_eq(dt_trace_open(path, 0, 4), DT_OK);
    ck_assert_int_eq(dt_trace_write(), DT_OK);
    char *t = read_trace();
    ck_assert_int_eq(count(t, "\"ph\":\"X\""), 0);
    HAS(t, "\"dropped_events\":0}");
    free(t);
    dt_trace_close();
    unlink(path);
}
END_TEST

START_TEST(full_buffer_drops)
{
    make_path();
    ck_assert_int_eq(dt_trace_open(path, 1, 2), DT_OK);
    dt_trace_span("a", "compute", 0, 1, 2, NULL, 0, NULL, 0);
    dt_trace_span("b", "compute", 0, 2, 3, NULL, 0, NULL, 0);
    dt_trace_span("c", "compute", 0, 3, 4, NULL, 0, NULL, 0);
    ck_assert_int_eq(dt_trace_write(), DT_OK);
    char *t = read_trace();
    ck_assert_int_eq(count(t, "\"ph\":\"X\""), 2);
    ck_assert_ptr_null(strstr(t, "\"name\":\"c\""));
    HAS(t, "\"dropped_events\":1}");
    free(t);
    dt_trace_close();
    unlink(path);
}
END_TEST

START_TEST(errors)
{
    /* a missing directory is found at open, before the run, not at the write */
    const char *bad = "/nonexistent-dt-dir/trace.json";
    ck_assert_int_eq(dt_trace_open(bad, 0, 8), DT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(dt_errmsg(), bad));
    ck_assert_ptr_nonnull(strstr(dt_errmsg(), "cannot write trace"));
    ck_assert(!dt_trace_enabled());
    ck_assert_int_eq(dt_trace_open("/tmp", 0, 8), DT_ERR_IO); /* a directory where the file would go */
    ck_assert_ptr_nonnull(strstr(dt_errmsg(), "Is a directory"));
    /* one that goes away during the run: the write reports it */
    char dir[] = "/tmp/dt-trace-XXXXXX", gone[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(gone, sizeof gone, "%s/trace.json", dir);
    ck_assert_int_eq(dt_trace_open(gone, 0, 8), DT_OK);
    ck_assert_int_eq(dt_trace_open(gone, 0, 8), DT_ERR_ARG); /* one trace per process */
    ck_assert_int_eq(rmdir(dir), 0);                          /* the probe left nothing behind */
    ck_assert_int_eq(dt_trace_write(), DT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(dt_errmsg(), gone));
    dt_trace_close();
    ck_assert_int_eq(dt_trace_open(bad, -1, 8), DT_ERR_ARG);
    ck_assert_int_eq(dt_trace_open(bad, 0, -1), DT_ERR_ARG);
    ck_assert(!dt_trace_enabled());
}
END_TEST

START_TEST(clock_monotonic)
{
    double a = dt_trace_now(), b = dt_trace_now();
    ck_assert(a > 0 && b >= a);
    usleep(2000);
    ck_assert_double_ge(dt_trace_now() - b, 1000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, spans_and_metadata);
    tcase_add_test(tc, not_open_does_nothing);
    tcase_add_test(tc, full_buffer_drops);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, clock_monotonic);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
