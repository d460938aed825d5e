/* comm.c — MPI through communicator handles: init, split, broadcasts,
 * sums, agreement on failure, and the watchdog. */
#include "comm/comm_mpi.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

dt_status dt_comm_mpi_fail(const dt_comm *c, int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return dt_error(DT_ERR_DIST, "rank %d: %s failed: %s", c->rank, what, msg);
}

/* A blocking MPI call on c, watched by the watchdog. */
#define MPI_TRY(call, what)                                                                  \
    do {                                                                                     \
        dt_comm_wait_begin(what);                                                            \
        int rc_ = (call);                                                                    \
        dt_comm_wait_end();                                                                  \
        if (rc_ != MPI_SUCCESS) return dt_comm_mpi_fail(c, rc_, what);                       \
    } while (0)

/* ---- watchdog ------------------------------------------------------------ */

static atomic_llong g_wait_since; /* ms on the monotonic clock; 0: not waiting */
static const char *_Atomic g_wait_what;
static atomic_llong g_timeout_ms;
static atomic_int g_paused;
static int g_watching;
static atomic_int g_watch_rank; /* the rank the watchdog names */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

void dt_comm_wait_begin(const char *what)
{
    atomic_store(&g_wait_what, what);
    atomic_store(&g_wait_since, now_ms());
}

void dt_comm_wait_end(void) { atomic_store(&g_wait_since, 0); }

void dt_comm_watch_pause(int on) { atomic_store(&g_paused, on); }

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
                atomic_load(&g_watch_rank), (double)(now_ms() - since) / 1000, atomic_load(&g_wait_what), (double)limit / 1000);
        fflush(stderr);
        _exit(3);
    }
    return NULL;
}

dt_status dt_comm_watchdog(const dt_comm *c, double timeout_s)
{
    atomic_store(&g_timeout_ms, (long long)(timeout_s * 1000));
    atomic_store(&g_watch_rank, c->rank);
    if (timeout_s <= 0 || c->size == 1 || g_watching) return DT_OK;
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

dt_status dt_comm_init(int *argc, char ***argv, dt_comm **world)
{
    int inited = 0;
    *world = NULL;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(argc, argv) != MPI_SUCCESS) return dt_error(DT_ERR_DIST, "MPI_Init failed");
    dt_comm *c = calloc(1, sizeof *c);
    if (!c) return dt_error(DT_ERR_NOMEM, "out of memory");
    c->comm = MPI_COMM_WORLD; /* the one place that names it */
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    *world = c;
    return DT_OK;
}

void dt_comm_finalize(dt_comm *world)
{
    dt_comm_free(world);
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (inited && !fin) MPI_Finalize();
}

dt_status dt_comm_split(dt_comm *c, int color, int key, dt_comm **out)
{
    *out = NULL;
    dt_comm *n = calloc(1, sizeof *n);
    if (!n) return dt_error(DT_ERR_NOMEM, "out of memory");
    int rc = MPI_Comm_split(c->comm, color, key, &n->comm);
    if (rc != MPI_SUCCESS) {
        free(n);
        return dt_comm_mpi_fail(c, rc, "splitting the communicator");
    }
    MPI_Comm_set_errhandler(n->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(n->comm, &n->rank);
    MPI_Comm_size(n->comm, &n->size);
    n->owned = 1;
    *out = n;
    return DT_OK;
}

void dt_comm_free(dt_comm *c)
{
    if (!c) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (c->owned && !fin) MPI_Comm_free(&c->comm);
    free(c);
}

int dt_comm_rank(const dt_comm *c) { return c->rank; }
int dt_comm_size(const dt_comm *c) { return c->size; }

void dt_comm_abort(dt_comm *c, int code)
{
    MPI_Abort(c->comm, code);
    abort(); /* not reached: MPI_Abort does not return */
}

/* MPI counts are int: move large buffers in chunks. */
#define CHUNK (1 << 30)

dt_status dt_comm_bcast(dt_comm *c, void *buf, int64_t bytes, int root)
{
    for (int64_t off = 0; off < bytes; off += CHUNK) {
        int64_t n = bytes - off < CHUNK ? bytes - off : CHUNK;
        MPI_TRY(MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root, c->comm), "broadcast");
    }
    return DT_OK;
}

dt_status dt_comm_bcast_real(dt_comm *c, dt_real *buf, int64_t n, int root)
{
    return dt_comm_bcast(c, buf, n * (int64_t)sizeof(dt_real), root);
}

dt_status dt_comm_bcast_str(dt_comm *c, char **s, int root)
{
    int64_t len = c->rank == root ? (int64_t)strlen(*s) + 1 : 0;
    DT_TRY(dt_comm_bcast(c, &len, sizeof len, root));
    if (c->rank != root) {
        *s = malloc((size_t)len);
        if (!*s) return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    return dt_comm_bcast(c, *s, len, root);
}

dt_status dt_comm_allreduce_f64(dt_comm *c, double *buf, int n)
{
    if (c->size == 1) return DT_OK;
    MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, c->comm), "allreduce");
    return DT_OK;
}

dt_status dt_comm_allreduce_i64(dt_comm *c, int64_t *buf, int n)
{
    if (c->size == 1) return DT_OK;
    MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_INT64_T, MPI_SUM, c->comm), "allreduce");
    return DT_OK;
}

dt_status dt_comm_agree(dt_comm *c, dt_status local)
{
    if (c->size == 1) return local;
    /* lowest failing rank, or size when all succeeded */
    int mine = local ? c->rank : c->size, first = c->size, nfail = 0, f = local != DT_OK;
    MPI_TRY(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm), "agreement");
    if (first == c->size) return DT_OK;
    MPI_TRY(MPI_Allreduce(&f, &nfail, 1, MPI_INT, MPI_SUM, c->comm), "agreement");
    int code = local;
    char msg[1024];
    strncpy(msg, dt_errmsg(), sizeof msg - 1);
    msg[sizeof msg - 1] = 0;
    MPI_TRY(MPI_Bcast(&code, 1, MPI_INT, first, c->comm), "agreement");
    MPI_TRY(MPI_Bcast(msg, sizeof msg, MPI_CHAR, first, c->comm), "agreement");
    if (nfail == c->size || !strncmp(msg, "rank ", 5))
        dt_error((dt_status)code, "%s", msg);
    else
        dt_error((dt_status)code, "rank %d: %s", first, msg);
    return (dt_status)code;
}

double dt_comm_time(void) { return MPI_Wtime(); }

dt_status dt_comm_replicas_equal(dt_comm *c, const dt_real *buf, int64_t n, int *equal)
{
    *equal = 1;
    if (c->size == 1) return DT_OK;
    enum { PIECE = 1 << 20 };
    dt_real *tmp = malloc(PIECE * sizeof *tmp);
    if (!tmp) return dt_error(DT_ERR_NOMEM, "out of memory");
    int same = 1;
    dt_status st = DT_OK;
    for (int64_t off = 0; off < n && !st; off += PIECE) {
        int64_t k = n - off < PIECE ? n - off : PIECE;
        memcpy(tmp, buf + off, (size_t)k * sizeof *tmp);
        st = dt_comm_bcast_real(c, tmp, k, 0);
        if (!st && memcmp(tmp, buf + off, (size_t)k * sizeof *tmp)) same = 0;
    }
    free(tmp);
    DT_TRY(st);
    MPI_TRY(MPI_Allreduce(&same, equal, 1, MPI_INT, MPI_MIN, c->comm), "replica check");
    return DT_OK;
}

dt_status dt_comm_gather_f64(dt_comm *c, double v, double *all)
{
    if (c->size == 1) {
        all[0] = v;
        return DT_OK;
    }
    MPI_TRY(MPI_Gather(&v, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, c->comm), "gather");
    return DT_OK;
}
