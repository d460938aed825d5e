/* core.c — error message, aligned allocation, small file helpers. */
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static _Thread_local char errbuf[1024];

dt_status dt_error(dt_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return code;
}

const char *dt_errmsg(void) { return errbuf[0] ? errbuf : "unknown error"; }
void dt_errclear(void) { errbuf[0] = 0; }

void *dt_alloc(size_t bytes)
{
    size_t n = (bytes + 63) / 64 * 64;
    if (n == 0) n = 64;
    void *p = aligned_alloc(64, n);
    if (p) memset(p, 0, n);
    return p;
}

void dt_free(void *p) { free(p); }

char *dt_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) dt_error(DT_ERR_NOMEM, "out of memory");
    return d;
}

dt_status dt_read_text(const char *path, char **out, size_t *len)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) { fclose(f); return dt_error(DT_ERR_NOMEM, "%s: out of memory", path); }
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) free(buf);
        buf = nb;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); return dt_error(DT_ERR_IO, "%s: read error", path); }
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return DT_OK;
}

void dt_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "dtrain: internal error: %s (%s:%d)\n", expr, file, line);
    abort();
}
dt_status dt_make_dir(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) && errno != EEXIST)
            return dt_error(DT_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return dt_error(DT_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
    return DT_OK;
}

