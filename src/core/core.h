/* core.h — the types every module shares: dt_real, dt_status and the error
 * message, aligned allocation, DT_ASSERT.
 *
 * Library functions return a dt_status and, on failure, leave a one-line
 * message (naming the file, line or key where it applies) that dt_errmsg()
 * returns. They never print and never exit; the CLI does both. */
#ifndef DT_CORE_H
#define DT_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef DTRAIN_DOUBLE
typedef double dt_real;
#define DT_REAL_NAME "double"
#else
typedef float dt_real;
#define DT_REAL_NAME "float"
#endif

typedef enum {
    DT_OK = 0,
    DT_ERR_ARG,     /* bad argument or value (CLI, config value out of range) */
    DT_ERR_CONFIG,  /* config or model file: unknown key, bad type, missing key */
    DT_ERR_IO,      /* file missing, unreadable, unwritable */
    DT_ERR_DATA,    /* data file malformed or not matching the model */
    DT_ERR_NOMEM,
    DT_ERR_NUMERIC, /* non-finite loss or gradient */
    DT_ERR_DIST     /* another rank failed or MPI reported an error */
} dt_status;

/* Record a printf-style message and return `code`, so callers can write
 * `return dt_error(DT_ERR_IO, "%s: cannot open", path);`. */
dt_status dt_error(dt_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *dt_errmsg(void);
void dt_errclear(void);

/* 64-byte aligned, zero-filled; NULL on failure (size 0 gives a valid block). */
void *dt_alloc(size_t bytes);
void dt_free(void *p);
/* strdup that reports failure through dt_error. */
char *dt_strdup(const char *s);

/* Read a whole file into a NUL-terminated buffer (caller frees with free()). */
dt_status dt_read_text(const char *path, char **out, size_t *len);
/* mkdir -p. */
dt_status dt_make_dir(const char *path);

#define DT_ASSERT(c)                                                         \
    do {                                                                     \
        if (!(c)) dt_assert_fail(#c, __FILE__, __LINE__);                    \
    } while (0)
void dt_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

#define DT_TRY(expr)                                                         \
    do {                                                                     \
        dt_status dt_try_s_ = (expr);                                        \
        if (dt_try_s_ != DT_OK) return dt_try_s_;                            \
    } while (0)

#endif
