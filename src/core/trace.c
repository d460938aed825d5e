/* trace.c — Chrome trace JSON: spans kept in a fixed buffer, written at the end. */
#include "core/trace.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
    const char *name, *cat, *key1, *key2;
    double ts, dur;
    int64_t val1, val2;
    int tid;
} span;

static struct {
    span *ev;
    int64_t cap;
    /* Slots are claimed with fetch_add, so spans may come from several threads;
     * claims past cap are the dropped events. */
    _Atomic int64_t n;
    int rank;
    char *path, *tmp;
} T;

double dt_trace_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

int dt_trace_enabled(void) { return T.ev != NULL; }

dt_status dt_trace_open(const char *path, int rank, int64_t capacity)
{
    if (T.ev) return dt_error(DT_ERR_ARG, "%s: a trace is already open (%s)", path, T.path);
    if (rank < 0 || capacity < 0)
        return dt_error(DT_ERR_ARG, "%s: bad trace rank %d or capacity %lld", path, rank,
                        (long long)capacity);
    if (capacity == 0) capacity = (int64_t)1 << 20;
    size_t len = strlen(path);
    /* malloc, not dt_alloc: zero-filling would touch every page of a buffer
     * that a short run mostly leaves unused. */
    T.ev = malloc((size_t)capacity * sizeof *T.ev);
    T.path = malloc(len + 1);
    T.tmp = malloc(len + 5);
    if (!T.ev || !T.path || !T.tmp) {
        dt_trace_close();
        return dt_error(DT_ERR_NOMEM, "%s: out of memory for %lld trace events", path,
                        (long long)capacity);
    }
    memcpy(T.path, path, len + 1);
    snprintf(T.tmp, len + 5, "%s.tmp", path);
    /* The trace is written at the end: find out now, not after a long run,
     * that its directory is missing or read-only, or that the path is a
     * directory. The probe is the write's own temporary file, removed at once. */
    struct stat sb;
    FILE *f = NULL;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        errno = EISDIR;
    else
        f = fopen(T.tmp, "w");
    if (!f) {
        dt_status st = dt_error(DT_ERR_IO, "%s: cannot write trace: %s", path, strerror(errno));
        dt_trace_close();
        return st;
    }
    fclose(f);
    remove(T.tmp);
    T.cap = capacity;
    T.rank = rank;
    atomic_store(&T.n, 0);
    return DT_OK;
}

void dt_trace_span(const char *name, const char *cat, int tid, double t0_us, double t1_us,
                   const char *arg_key, int64_t arg_val, const char *arg2_key, int64_t arg2_val)
{
    if (!T.ev) return;
    int64_t i = atomic_fetch_add_explicit(&T.n, 1, memory_order_relaxed);
    if (i >= T.cap) return;
    T.ev[i] = (span){name, cat, arg_key, arg2_key, t0_us, t1_us > t0_us ? t1_us - t0_us : 0,
                     arg_val, arg2_val, tid};
}

/* `s` as a JSON string, quotes included; UTF-8 passes through. */
static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void put_span(FILE *f, const span *e)
{
    fputs("{\"name\":", f);
    put_str(f, e->name);
    fputs(",\"cat\":", f);
    put_str(f, e->cat);
    fprintf(f, ",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f", T.rank, e->tid,
            e->ts, e->dur);
    if (e->key1 || e->key2) {
        fputs(",\"args\":{", f);
        if (e->key1) {
            put_str(f, e->key1);
            fprintf(f, ":%lld", (long long)e->val1);
        }
        if (e->key2) {
            if (e->key1) fputc(',', f);
            put_str(f, e->key2);
            fprintf(f, ":%lld", (long long)e->val2);
        }
        fputc('}', f);
    }
    fputc('}', f);
}

dt_status dt_trace_write(void)
{
    if (!T.ev) return DT_OK;
    FILE *f = fopen(T.tmp, "w");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot write trace: %s", T.path, strerror(errno));
    int64_t n = atomic_load(&T.n), kept = n < T.cap ? n : T.cap;
    int r = T.rank;
    /* process_sort_index: files of several ranks loaded together list in rank order. */
#define META "{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":"
    fprintf(f,
            "{\"traceEvents\":[\n"
            META "\"process_name\",\"args\":{\"name\":\"rank %d\"}},\n"
            META "\"process_sort_index\",\"args\":{\"sort_index\":%d}},\n"
            META "\"thread_name\",\"args\":{\"name\":\"compute\"}},\n"
            META "\"thread_name\",\"args\":{\"name\":\"communication\"}}",
            r, 0, r, r, 0, r, r, DT_TRACE_COMPUTE, r, DT_TRACE_COMM);
#undef META
    for (int64_t i = 0; i < kept; i++) {
        fputs(",\n", f);
        put_span(f, &T.ev[i]);
    }
    fprintf(f, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"dropped_events\":%lld}}\n",
            (long long)(n - kept));
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !err) err = errno;
    if (!err && rename(T.tmp, T.path) != 0) err = errno;
    if (err) {
        remove(T.tmp);
        return dt_error(DT_ERR_IO, "%s: cannot write trace: %s", T.path, strerror(err));
    }
    return DT_OK;
}

void dt_trace_close(void)
{
    free(T.ev);
    free(T.path);
    free(T.tmp);
    T.ev = NULL;
    T.path = T.tmp = NULL;
    T.cap = 0;
    atomic_store(&T.n, 0);
}
