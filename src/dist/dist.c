/* dist.c — MPI: init, broadcasts, sums, agreement on failure. */
#include "dist/dist.h"

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_rank, g_size = 1;

static dt_status mpi_fail(int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return dt_error(DT_ERR_DIST, "rank %d: %s failed: %s", g_rank, what, msg);
}

/* A blocking MPI call, watched by the watchdog. */
#define MPI_TRY(call, what)                                                                  \
    do {                                                                                     \
        dt_dist_wait_begin(what);                                                            \
        int rc_ = (call);                                                                    \
        dt_dist_wait_end();                                                                  \
        if (rc_ != MPI_SUCCESS) return mpi_fail(rc_, what);                                  \
    } while (0)

/* ---- watchdog ------------------------------------------------------------ */

static atomic_llong g_wait_since; /* ms on the monotonic clock; 0: not waiting */
static const char *_Atomic g_wait_what;
static atomic_llong g_timeout_ms;
static atomic_int g_paused;
static int g_watching;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

void dt_dist_wait_begin(const char *what)
{
    atomic_store(&g_wait_what, what);
    atomic_store(&g_wait_since, now_ms());
}

void dt_dist_wait_end(void) { atomic_store(&g_wait_since, 0); }

void dt_dist_watch_pause(int on) { atomic_store(&g_paused, on); }

static void *watch(void *arg)
{
    (void)arg;
    for (;;) {
        usleep(200000);
        long long since = atomic_load(&g_wait_since), limit = atomic_load(&g_timeout_ms);
        if (!since || limit <= 0 || atomic_load(&g_paused) || now_ms() - since < limit) continue;
        /* the main thread is stuck inside MPI: say why and leave without it */
        fprintf(stderr, "dtrain: error: rank %d: waited %.0f s in %s for the other ranks: one of them has died or hangs "
                        "([dist] timeout = %g); stopping\n",
                g_rank, (double)(now_ms() - since) / 1000, atomic_load(&g_wait_what), (double)limit / 1000);
        fflush(stderr);
        _exit(3);
    }
    return NULL;
}

dt_status dt_dist_watchdog(double timeout_s)
{
    atomic_store(&g_timeout_ms, (long long)(timeout_s * 1000));
    if (timeout_s <= 0 || g_size == 1 || g_watching) return DT_OK;
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &at, watch, NULL);
    pthread_attr_destroy(&at);
    if (rc) return dt_error(DT_ERR_DIST, "cannot start the watchdog thread");
    g_watching = 1;
    return DT_OK;
}

dt_status dt_dist_init(int *argc, char ***argv)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(argc, argv) != MPI_SUCCESS)
        return dt_error(DT_ERR_DIST, "MPI_Init failed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return DT_OK;
}

void dt_dist_finalize(void)
{
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (inited && !fin) MPI_Finalize();
}

int dt_dist_rank(void) { return g_rank; }
int dt_dist_size(void) { return g_size; }

void dt_dist_abort(int code)
{
    MPI_Abort(MPI_COMM_WORLD, code);
    abort(); /* not reached: MPI_Abort does not return */
}

/* MPI counts are int: move large buffers in chunks. */
#define CHUNK (1 << 30)

dt_status dt_dist_bcast(void *buf, int64_t bytes, int root)
{
    for (int64_t off = 0; off < bytes; off += CHUNK) {
        int64_t n = bytes - off < CHUNK ? bytes - off : CHUNK;
        MPI_TRY(MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root, MPI_COMM_WORLD), "broadcast");
    }
    return DT_OK;
}

dt_status dt_dist_bcast_real(dt_real *buf, int64_t n, int root)
{
    return dt_dist_bcast(buf, n * (int64_t)sizeof(dt_real), root);
}

dt_status dt_dist_bcast_str(char **s, int root)
{
    int64_t len = g_rank == root ? (int64_t)strlen(*s) + 1 : 0;
    DT_TRY(dt_dist_bcast(&len, sizeof len, root));
    if (g_rank != root) {
        *s = malloc((size_t)len);
        if (!*s) return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    return dt_dist_bcast(*s, len, root);
}

dt_status dt_dist_allreduce_f64(double *buf, int n)
{
    if (g_size == 1) return DT_OK;
    MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "allreduce");
    return DT_OK;
}

dt_status dt_dist_allreduce_i64(int64_t *buf, int n)
{
    if (g_size == 1) return DT_OK;
    MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "allreduce");
    return DT_OK;
}

dt_status dt_dist_agree(dt_status local)
{
    if (g_size == 1) return local;
    /* lowest failing rank, or g_size when all succeeded */
    int mine = local ? g_rank : g_size, first = g_size, nfail = 0, f = local != DT_OK;
    MPI_TRY(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "agreement");
    if (first == g_size) return DT_OK;
    MPI_TRY(MPI_Allreduce(&f, &nfail, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), "agreement");
    int code = local;
    char msg[1024];
    strncpy(msg, dt_errmsg(), sizeof msg - 1);
    msg[sizeof msg - 1] = 0;
    MPI_TRY(MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD), "agreement");
    MPI_TRY(MPI_Bcast(msg, sizeof msg, MPI_CHAR, first, MPI_COMM_WORLD), "agreement");
    if (nfail == g_size || !strncmp(msg, "rank ", 5))
        dt_error((dt_status)code, "%s", msg);
    else
        dt_error((dt_status)code, "rank %d: %s", first, msg);
    return (dt_status)code;
}

double dt_dist_time(void) { return MPI_Wtime(); }

dt_status dt_dist_replicas_equal(const dt_real *buf, int64_t n, int *equal)
{
    *equal = 1;
    if (g_size == 1) return DT_OK;
    enum { PIECE = 1 << 20 };
    dt_real *tmp = malloc(PIECE * sizeof *tmp);
    if (!tmp) return dt_error(DT_ERR_NOMEM, "out of memory");
    int same = 1;
    dt_status st = DT_OK;
    for (int64_t off = 0; off < n && !st; off += PIECE) {
        int64_t k = n - off < PIECE ? n - off : PIECE;
        memcpy(tmp, buf + off, (size_t)k * sizeof *tmp);
        st = dt_dist_bcast_real(tmp, k, 0);
        if (!st && memcmp(tmp, buf + off, (size_t)k * sizeof *tmp)) same = 0;
    }
    free(tmp);
    DT_TRY(st);
    MPI_TRY(MPI_Allreduce(&same, equal, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "replica check");
    return DT_OK;
}

dt_status dt_dist_gather_f64(double v, double *all)
{
    if (g_size == 1) {
        all[0] = v;
        return DT_OK;
    }
    MPI_TRY(MPI_Gather(&v, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD), "gather");
    return DT_OK;
}
