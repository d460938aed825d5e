/* comm.c — MPI through communicator handles: init, split, broadcasts,
 * sums, agreement on failure, waits that time out, and leaving together. */
#include "comm/comm_mpi.h"

#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The world, a duplicate of it that only the leaving handshake uses (no
 * other message can match its messages), and the world ranks this process
 * suspects of hanging: the other ranks of a communicator that broke. */
enum { END_TAG = 7002, ALIVE_TAG = 7003 };
static dt_comm *g_world;
static MPI_Comm g_end = MPI_COMM_NULL;
static unsigned char *g_suspect;
static double g_suspect_wait; /* how long to wait for them at the end */

/* Every world rank's host name, HOSTLEN bytes each (learnt at init), and
 * the note of the wait under way for the SIGTERM handler (g_note_on while
 * it applies): written with its length zeroed first, so that a handler
 * that interrupts the writing sees no note rather than half of one, and
 * only when the wait differs from the last one. */
enum { HOSTLEN = 64 };
static char *g_hosts;
static char g_note[256];
static volatile sig_atomic_t g_note_len, g_note_on;
static char g_fail[640]; /* " after an error (<why>)": the first communicator this process saw break */
static volatile sig_atomic_t g_fail_len;
static void (*g_wait_hook)(void); /* called as each wait begins (dt_comm_set_wait_hook) */
static const dt_comm *g_note_c; /* what g_note says, so it is written only when that changes */
static int g_note_peer = -1;
static const char *g_note_what;

static int world_rank(const dt_comm *c, int q) { return c->world ? c->world[q] : q; }

const char *dt_comm_host(const dt_comm *c, int rank)
{
    if (!g_hosts || !g_world || rank < 0 || rank >= c->size || (c != g_world && !c->world)) return "?";
    int w = world_rank(c, rank);
    return w >= 0 && w < g_world->size ? g_hosts + (size_t)w * HOSTLEN : "?";
}

const char *dt_comm_wait_note(int *len)
{
    if (g_note_on) {
        *len = g_note_len;
        return g_note;
    }
    *len = g_fail_len;
    return g_fail;
}

/* c->hosts: the hosts its ranks run on, in rank order, when more than one. */
static void name_hosts(dt_comm *c)
{
    char list[sizeof c->hosts];
    int len = 0, count = 0;
    c->hosts[0] = 0;
    for (int q = 0; q < c->size; q++) {
        const char *h = dt_comm_host(c, q);
        int seen = 0;
        for (int p = 0; p < q && !seen; p++) seen = !strcmp(h, dt_comm_host(c, p));
        if (seen) continue;
        if (count++ < 4 && len < (int)sizeof list - 1)
            len += snprintf(list + len, sizeof list - (size_t)len, "%s%s", count > 1 ? ", " : "", h);
    }
    if (count < 2) return;
    if (count > 4) snprintf(c->hosts, sizeof c->hosts, " (on %d hosts: %.60s, ...)", count, list);
    else snprintf(c->hosts, sizeof c->hosts, " (on hosts %.80s)", list);
}

void dt_comm_waiting(dt_comm *c, int peer, const char *what)
{
    c->peer = peer;
    if (c != g_note_c || peer != g_note_peer || what != g_note_what) {
        g_note_len = 0;
        int n = peer < 0 ? snprintf(g_note, sizeof g_note, " while waiting in %s for the other ranks%s", what, c->hosts)
                         : snprintf(g_note, sizeof g_note, " while waiting in %s for rank %d on host %s", what, peer,
                                    dt_comm_host(c, peer));
        g_note_c = c, g_note_peer = peer, g_note_what = what;
        g_note_len = n > 0 && (size_t)n < sizeof g_note ? n : 0;
    }
    g_note_on = 1;
    if (g_wait_hook) g_wait_hook();
}

void dt_comm_set_wait_hook(void (*hook)(void)) { g_wait_hook = hook; }

void dt_comm_done_waiting(dt_comm *c)
{
    c->peer = -1;
    g_note_on = 0;
}

/* c can no longer be used: keep why, and suspect its other ranks. */
static void mark_broken(dt_comm *c, const char *why)
{
    if (c->broken) return;
    c->broken = 1;
    snprintf(c->why, sizeof c->why, "%s", why);
    if (!g_fail_len) { /* the first failure, for a SIGTERM that comes while this rank unwinds */
        int n = snprintf(g_fail, sizeof g_fail, " after an error (%s)", why);
        g_fail_len = n > 0 && (size_t)n < sizeof g_fail ? n : 0;
    }
    /* one timeout for a slow rank to come back, one for it to time out itself */
    if (2 * c->timeout > g_suspect_wait) g_suspect_wait = 2 * c->timeout;
    if (!g_world || !g_suspect) return;
    MPI_Group mine, world;
    MPI_Comm_group(c->comm, &mine);
    MPI_Comm_group(g_world->comm, &world);
    for (int q = 0; q < c->size; q++) {
        int w = MPI_UNDEFINED;
        MPI_Group_translate_ranks(mine, 1, &q, world, &w);
        if (q == c->rank || w == MPI_UNDEFINED) continue;
        g_suspect[w] = 1;
        /* and tell it that this rank lives: a rank whose own wait timed out
         * is alive, and its partners need not give up on it at the end */
        static int alive = 1;
        MPI_Request rq;
        if (MPI_Isend(&alive, 1, MPI_INT, w, ALIVE_TAG, g_end, &rq) == MPI_SUCCESS) MPI_Request_free(&rq);
    }
    MPI_Group_free(&mine);
    MPI_Group_free(&world);
}

void dt_comm_keep(void *p)
{
    static void **kept;
    static int n, cap;
    if (!p) return;
    if (n == cap) {
        void **k = realloc(kept, (size_t)(cap ? 2 * cap : 16) * sizeof *k);
        if (!k) return; /* still allocated, only no longer reachable */
        kept = k;
        cap = cap ? 2 * cap : 16;
    }
    kept[n++] = p;
}

dt_status dt_comm_mpi_fail(dt_comm *c, int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    dt_status st = c->peer >= 0 ? dt_error(DT_ERR_DIST, "rank %d: %s with rank %d on host %s failed: %s", c->rank, what,
                                           c->peer, dt_comm_host(c, c->peer), msg)
                                : dt_error(DT_ERR_DIST, "rank %d: %s failed: %s", c->rank, what, msg);
    mark_broken(c, dt_errmsg());
    return st;
}

dt_status dt_comm_check(dt_comm *c)
{
    return c->broken ? dt_error(DT_ERR_DIST, "%s", c->why) : DT_OK;
}

int dt_comm_broken(const dt_comm *c) { return c->broken; }

void dt_comm_set_timeout(dt_comm *c, double seconds) { c->timeout = seconds > 0 ? seconds : 0; }

void dt_comm_patient(dt_comm *c, int on) { c->patient = on; }

dt_status dt_comm_waited(dt_comm *c, double t0, const char *what)
{
    if (c->timeout <= 0 || c->patient) return DT_OK;
    double s = MPI_Wtime() - t0;
    if (s <= c->timeout) return DT_OK;
    char msg[512];
    if (c->peer >= 0)
        snprintf(msg, sizeof msg,
                 "rank %d: waited %.3g s in %s for rank %d on host %s: it has died or hangs, or host %s is "
                 "lost or cut off ([dist] timeout = %g); stopping",
                 c->rank, s, what, c->peer, dt_comm_host(c, c->peer), dt_comm_host(c, c->peer), c->timeout);
    else
        snprintf(msg, sizeof msg,
                 "rank %d: waited %.3g s in %s for the other ranks%s: one of them has died or hangs "
                 "([dist] timeout = %g); stopping",
                 c->rank, s, what, c->hosts, c->timeout);
    mark_broken(c, msg);
    return dt_error(DT_ERR_DIST, "%s", msg);
}

/* Polling costs what MPI_Wait costs (Open MPI's waits poll too); the clock
 * is read every 64 polls. */
dt_status dt_comm_wait_peer(dt_comm *c, MPI_Request *req, int n, int peer, const char *what)
{
    double t0 = MPI_Wtime();
    dt_status st = DT_OK;
    dt_comm_waiting(c, peer, what);
    for (unsigned spin = 1;; spin++) {
        int done = 0, rc = MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) {
            st = dt_comm_mpi_fail(c, rc, what);
            break;
        }
        if (done) break;
        if (!(spin & 63) && (st = dt_comm_waited(c, t0, what))) break;
    }
    dt_comm_done_waiting(c);
    return st;
}

dt_status dt_comm_wait(dt_comm *c, MPI_Request *req, int n, const char *what) { return dt_comm_wait_peer(c, req, n, -1, what); }

#define MPI_WAIT_ON(icall, what) DT_MPI_WAIT_ON(c, icall, what)

/* The world's ranks in host order: each host's ranks together, the hosts
 * in the order of their lowest world rank (world rank 0 stays rank 0), and
 * inside a host by world rank. The gradient tree pairs consecutive ranks
 * first (reduce.c), so whichever way the launcher dealt the ranks out
 * (round-robin over the hosts, say) it then sums inside each host before
 * anything crosses the network; where each host holds a run of ranks
 * already, this order is the launcher's. w itself where it cannot be made. */
static MPI_Comm by_host(MPI_Comm w, int rank, int size)
{
    MPI_Comm node, out;
    if (MPI_Comm_split_type(w, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) != MPI_SUCCESS) return w;
    int lead = rank;
    int rc = MPI_Allreduce(MPI_IN_PLACE, &lead, 1, MPI_INT, MPI_MIN, node);
    MPI_Comm_free(&node);
    if (rc != MPI_SUCCESS || (int64_t)size * size > INT_MAX) return w;
    if (MPI_Comm_split(w, 0, lead * size + rank, &out) != MPI_SUCCESS) return w;
    MPI_Comm_set_errhandler(out, MPI_ERRORS_RETURN);
    return out;
}

dt_status dt_comm_init(int *argc, char ***argv, dt_comm **world)
{
    int inited = 0;
    *world = NULL;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(argc, argv) != MPI_SUCCESS) return dt_error(DT_ERR_DIST, "MPI_Init failed");
    dt_comm *c = calloc(1, sizeof *c);
    if (!c || !(c->stage = malloc(DT_COMM_STAGE))) {
        free(c);
        return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    c->comm = MPI_COMM_WORLD; /* the one place that names it */
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    if (c->size > 1) {
        c->comm = by_host(c->comm, c->rank, c->size);
        MPI_Comm_rank(c->comm, &c->rank);
        g_suspect = calloc((size_t)c->size, 1);
        if (!g_suspect || MPI_Comm_dup(c->comm, &g_end) != MPI_SUCCESS) {
            free(c->stage);
            free(c);
            return dt_error(DT_ERR_DIST, "cannot set up the world communicator");
        }
        MPI_Comm_set_errhandler(g_end, MPI_ERRORS_RETURN);
    }
    c->peer = -1;
    /* every rank's host, for messages that name the host a lost rank ran on */
    char name[MPI_MAX_PROCESSOR_NAME] = "?";
    int len = 0;
    MPI_Get_processor_name(name, &len);
    name[HOSTLEN - 1] = 0;
    if ((g_hosts = calloc((size_t)c->size, HOSTLEN))) {
        strcpy(g_hosts + (size_t)c->rank * HOSTLEN, name);
        if (c->size > 1 && MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, g_hosts, HOSTLEN, MPI_CHAR, c->comm) != MPI_SUCCESS) {
            free(g_hosts);
            g_hosts = NULL;
        }
    }
    g_world = c;
    name_hosts(c);
    *world = c;
    return DT_OK;
}

/* leave_together's buffers, when it leaves requests pending; volatile, or the
 * compiler drops these write-only stores and LeakSanitizer calls them leaks */
static void *volatile g_pending[3];

/* Suspects that said they live (mark_broken) are suspects no more. */
static void drain_alive(void)
{
    for (;;) {
        int flag = 0, v;
        MPI_Status s;
        if (MPI_Iprobe(MPI_ANY_SOURCE, ALIVE_TAG, g_end, &flag, &s) != MPI_SUCCESS || !flag) return;
        MPI_Recv(&v, 1, MPI_INT, s.MPI_SOURCE, ALIVE_TAG, g_end, MPI_STATUS_IGNORE);
        g_suspect[s.MPI_SOURCE] = 0;
    }
}

/* Every process tells every other that it is done and hears from each. The
 * others are waited for without limit (they may be training still), the
 * suspects (see mark_broken) for g_suspect_wait seconds more once all the
 * others are in: DT_ERR_DIST names the first that never came. Polls every millisecond, so that a finished
 * process leaves the cores to those still working. */
static dt_status leave_together(dt_comm *w)
{
    static int one = 1; /* what is sent: it must outlive a send left pending */
    int P = w->size, me = w->rank, n = 0;
    MPI_Request *req = malloc((size_t)(2 * P) * sizeof *req);
    int *in = malloc((size_t)P * sizeof *in), *idx = malloc((size_t)(2 * P) * sizeof *idx);
    dt_status st = DT_OK;
    if (!req || !in || !idx) {
        st = dt_error(DT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int q = 0; q < P; q++) /* req[q]: the message from q */
        if (q == me || MPI_Irecv(&in[q], 1, MPI_INT, q, END_TAG, g_end, &req[q]) != MPI_SUCCESS) req[q] = MPI_REQUEST_NULL;
    n = P;
    for (int q = 0; q < P; q++)
        if (q != me && MPI_Isend(&one, 1, MPI_INT, q, END_TAG, g_end, &req[n]) == MPI_SUCCESS) n++;
    double t_others = 0; /* when the last process that is not a suspect came */
    const struct timespec ms = {0, 1000000};
    for (;;) {
        int k = 0;
        drain_alive();
        if (MPI_Testsome(n, req, &k, idx, MPI_STATUSES_IGNORE) != MPI_SUCCESS || k == MPI_UNDEFINED) break;
        int others = 0, missing = -1;
        for (int q = 0; q < P; q++)
            if (req[q] != MPI_REQUEST_NULL) {
                if (g_suspect[q]) missing = missing < 0 ? q : missing;
                else others = 1;
            }
        if (others) t_others = 0;
        else if (!t_others) t_others = MPI_Wtime();
        if (!others && missing >= 0 && MPI_Wtime() - t_others > g_suspect_wait) {
            /* requests stay pending: their buffers stay allocated (and reachable) */
            g_pending[0] = req, g_pending[1] = in, g_pending[2] = idx;
            return dt_error(DT_ERR_DIST, "rank %d: world rank %d never finished (it hangs or died); leaving "
                                         "without it, which ends it with the job", me, missing);
        }
        nanosleep(&ms, NULL);
    }
    drain_alive();
out:
    free(req);
    free(in);
    free(idx);
    return st;
}

dt_status dt_comm_finalize(dt_comm *world)
{
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    dt_status st = DT_OK;
    if (inited && !fin && world && world->size > 1) st = leave_together(world);
    if (!st && inited && !fin) {
        if (g_end != MPI_COMM_NULL) MPI_Comm_free(&g_end);
        MPI_Finalize();
    }
    dt_comm_free(world);
    g_world = NULL;
    free(g_suspect);
    g_suspect = NULL;
    if (!st) {
        free(g_hosts);
        g_hosts = NULL;
    }
    return st;
}

dt_status dt_comm_split(dt_comm *c, int color, int key, dt_comm **out)
{
    *out = NULL;
    DT_TRY(dt_comm_check(c));
    dt_comm *n = calloc(1, sizeof *n);
    if (!n || !(n->stage = malloc(DT_COMM_STAGE))) {
        free(n);
        return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    int rc = MPI_Comm_split(c->comm, color, key, &n->comm);
    if (rc != MPI_SUCCESS) {
        free(n->stage);
        free(n);
        return dt_comm_mpi_fail(c, rc, "splitting the communicator");
    }
    MPI_Comm_set_errhandler(n->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(n->comm, &n->rank);
    MPI_Comm_size(n->comm, &n->size);
    n->owned = 1;
    n->timeout = c->timeout;
    n->peer = -1;
    /* its ranks' world ranks, to name their hosts */
    MPI_Group mine, world;
    if (g_world && (n->world = malloc((size_t)n->size * sizeof *n->world))) {
        if (MPI_Comm_group(n->comm, &mine) == MPI_SUCCESS && MPI_Comm_group(g_world->comm, &world) == MPI_SUCCESS) {
            for (int q = 0; q < n->size; q++) MPI_Group_translate_ranks(mine, 1, &q, world, &n->world[q]);
            MPI_Group_free(&mine);
            MPI_Group_free(&world);
        } else {
            free(n->world);
            n->world = NULL; /* hosts then unnamed ("?"): see dt_comm_host */
        }
    }
    name_hosts(n);
    *out = n;
    return DT_OK;
}

void dt_comm_free(dt_comm *c)
{
    if (!c) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (c->broken) { /* requests may still complete into its stage: keep it, and leave the rest to MPI_Finalize */
        dt_comm_keep(c);
        return;
    }
    if (c->owned && !fin) MPI_Comm_free(&c->comm);
    free(c->world);
    free(c->stage);
    free(c);
}

int dt_comm_rank(const dt_comm *c) { return c->rank; }
int dt_comm_size(const dt_comm *c) { return c->size; }

void dt_comm_abort(dt_comm *c, int code)
{
    MPI_Abort(c->comm, code);
    abort(); /* not reached: MPI_Abort does not return */
}

dt_status dt_comm_bcast(dt_comm *c, void *buf, int64_t bytes, int root)
{
    for (int64_t off = 0; off < bytes; off += DT_COMM_STAGE) {
        int64_t n = bytes - off < DT_COMM_STAGE ? bytes - off : DT_COMM_STAGE;
        if (c->rank == root) memcpy(c->stage, (char *)buf + off, (size_t)n);
        MPI_WAIT_ON(MPI_Ibcast(c->stage, (int)n, MPI_BYTE, root, c->comm, &rq_), "broadcast");
        if (c->rank != root) memcpy((char *)buf + off, c->stage, (size_t)n);
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

/* In-place sums of n values of `size` bytes, through the stage. */
static dt_status staged_sum(dt_comm *c, void *buf, int n, int size, MPI_Datatype type)
{
    if (c->size == 1) return DT_OK;
    int per = DT_COMM_STAGE / size;
    for (int off = 0; off < n; off += per) {
        int k = n - off < per ? n - off : per;
        memcpy(c->stage, (char *)buf + (size_t)off * size, (size_t)k * size);
        MPI_WAIT_ON(MPI_Iallreduce(MPI_IN_PLACE, c->stage, k, type, MPI_SUM, c->comm, &rq_), "an allreduce");
        memcpy((char *)buf + (size_t)off * size, c->stage, (size_t)k * size);
    }
    return DT_OK;
}

dt_status dt_comm_allreduce_f64(dt_comm *c, double *buf, int n) { return staged_sum(c, buf, n, sizeof(double), MPI_DOUBLE); }

dt_status dt_comm_allreduce_i64(dt_comm *c, int64_t *buf, int n) { return staged_sum(c, buf, n, sizeof(int64_t), MPI_INT64_T); }

dt_status dt_comm_agree(dt_comm *c, dt_status local)
{
    if (c->size == 1) return local;
    DT_TRY(dt_comm_check(c)); /* broken: no one to agree with, and this is why */
    /* lowest failing rank (or size when all succeeded), and how many failed */
    int *mine = (int *)c->stage, *all = mine + 2; /* the stage: see comm_mpi.h */
    mine[0] = local ? c->rank : c->size;
    mine[1] = local != DT_OK;
    MPI_Request rq[2];
    int rc = MPI_Iallreduce(&mine[0], &all[0], 1, MPI_INT, MPI_MIN, c->comm, &rq[0]);
    if (rc == MPI_SUCCESS) rc = MPI_Iallreduce(&mine[1], &all[1], 1, MPI_INT, MPI_SUM, c->comm, &rq[1]);
    if (rc != MPI_SUCCESS) return dt_comm_mpi_fail(c, rc, "agreement");
    DT_TRY(dt_comm_wait(c, rq, 2, "agreement"));
    int first = all[0], nfail = all[1];
    if (first == c->size) return DT_OK;
    int code = local;
    char msg[1024];
    strncpy(msg, dt_errmsg(), sizeof msg - 1);
    msg[sizeof msg - 1] = 0;
    DT_TRY(dt_comm_bcast(c, &code, sizeof code, first));
    DT_TRY(dt_comm_bcast(c, msg, sizeof msg, first));
    if (nfail == c->size || !strncmp(msg, "rank ", 5))
        dt_error((dt_status)code, "%s", msg);
    else
        dt_error((dt_status)code, "rank %d: %s", first, msg);
    return (dt_status)code;
}

dt_status dt_comm_gatherv_f64(dt_comm *c, const double *mine, int64_t n, double **all, int64_t *total)
{
    *all = NULL;
    *total = 0;
    /* every rank takes part in every collective below, whatever failed locally */
    dt_status st = DT_OK;
    if (n < 0 || n > INT_MAX) st = dt_error(DT_ERR_ARG, "gathering %lld values from one rank: too many", (long long)n);
    double *count = c->rank == 0 ? malloc((size_t)c->size * sizeof *count) : NULL;
    if (!st && c->rank == 0 && !count) st = dt_error(DT_ERR_NOMEM, "out of memory");
    if (c->size > 1) st = dt_comm_agree(c, st);
    if (st) {
        free(count);
        return st;
    }
    st = dt_comm_gather_f64(c, (double)n, count);
    int *cnt = NULL, *at = NULL;
    double *buf = NULL;
    /* rank 0 sizes the result; every rank then learns whether it could */
    if (!st && c->rank == 0) {
        int64_t sum = 0;
        for (int r = 0; r < c->size; r++) sum += (int64_t)count[r];
        cnt = malloc((size_t)c->size * sizeof *cnt);
        at = malloc((size_t)c->size * sizeof *at);
        buf = malloc((size_t)(sum ? sum : 1) * sizeof *buf);
        if (sum > INT_MAX || !cnt || !at || !buf) st = dt_error(DT_ERR_NOMEM, "out of memory for %lld gathered values", (long long)sum);
        for (int r = 0, o = 0; !st && r < c->size; o += cnt[r], r++) cnt[r] = (int)count[r], at[r] = o;
        *total = sum;
    }
    double *send = malloc((size_t)(n ? n : 1) * sizeof *send); /* ours, not the caller's: see below */
    if (!st && !send) st = dt_error(DT_ERR_NOMEM, "out of memory");
    if (send) memcpy(send, mine, (size_t)n * sizeof *send);
    if (c->size > 1) st = dt_comm_agree(c, st);
    free(count);
    if (st) {
        free(cnt), free(at), free(buf), free(send);
        *total = 0;
        return st;
    }
    if (c->size == 1) memcpy(buf, mine, (size_t)n * sizeof *buf), free(send);
    else {
        /* a wait that times out leaves the request posted: its buffers must outlive it */
        dt_status w = DT_OK;
        MPI_Request rq;
        int rc = MPI_Igatherv(send, (int)n, MPI_DOUBLE, buf, cnt, at, MPI_DOUBLE, 0, c->comm, &rq);
        if (rc != MPI_SUCCESS) w = dt_comm_mpi_fail(c, rc, "gatherv");
        else w = dt_comm_wait(c, &rq, 1, "gatherv");
        if (w && dt_comm_broken(c)) {
            dt_comm_keep(send), dt_comm_keep(buf), dt_comm_keep(cnt), dt_comm_keep(at);
        } else {
            free(send);
            if (w) free(buf), free(cnt), free(at);
        }
        if (w) {
            *total = 0;
            return w;
        }
    }
    free(cnt);
    free(at);
    if (c->rank == 0) *all = buf;
    else free(buf);
    return DT_OK;
}

dt_status dt_comm_allgatherv_f64(dt_comm *c, const double *mine, int64_t n, double *all, int64_t cap, int64_t *total,
                                 int64_t *first)
{
    if (c->size == 1) {
        if (n > cap) return dt_error(DT_ERR_ARG, "gathering %lld values into room for %lld", (long long)n, (long long)cap);
        if (all != mine) memmove(all, mine, (size_t)n * sizeof *all);
        *total = n, *first = 0;
        return DT_OK;
    }
    DT_TRY(dt_comm_check(c));
    if ((size_t)(c->size + 1) * 2 * sizeof(int64_t) > DT_COMM_STAGE)
        return dt_error(DT_ERR_ARG, "%d ranks: too many for a gather of varying counts", c->size);
    /* the counts travel through the stage, and the int counts and offsets MPI wants sit after them */
    int64_t *mine_n = (int64_t *)c->stage, *cnt64 = mine_n + 1;
    int *cnt = (int *)(cnt64 + c->size), *at = cnt + c->size;
    *mine_n = n;
    MPI_WAIT_ON(MPI_Iallgather(mine_n, 1, MPI_INT64_T, cnt64, 1, MPI_INT64_T, c->comm, &rq_), "allgather");
    int64_t sum = 0;
    for (int r = 0; r < c->size; r++) {
        if (r == c->rank) *first = sum;
        sum += cnt64[r];
    }
    *total = sum;
    /* every rank sees the same counts, so every rank takes the same branch */
    if (sum > cap || sum > INT_MAX)
        return dt_error(DT_ERR_ARG, "gathering %lld values into room for %lld", (long long)sum, (long long)cap);
    for (int r = 0, o = 0; r < c->size; o += (int)cnt64[r], r++) cnt[r] = (int)cnt64[r], at[r] = o;
    MPI_WAIT_ON(MPI_Iallgatherv(mine, (int)n, MPI_DOUBLE, all, cnt, at, MPI_DOUBLE, c->comm, &rq_), "allgatherv");
    return DT_OK;
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
    int *stage = (int *)c->stage;
    stage[0] = same;
    MPI_WAIT_ON(MPI_Iallreduce(MPI_IN_PLACE, stage, 1, MPI_INT, MPI_MIN, c->comm, &rq_), "replica check");
    *equal = stage[0];
    return DT_OK;
}

dt_status dt_comm_gather_f64(dt_comm *c, double v, double *all)
{
    if (c->size == 1) {
        all[0] = v;
        return DT_OK;
    }
    double *stage = (double *)c->stage; /* [0]: this rank's value; [1, 1 + size): rank 0's result */
    if ((int64_t)(c->size + 1) * (int64_t)sizeof(double) > DT_COMM_STAGE)
        return dt_error(DT_ERR_ARG, "gathering from %d ranks: more than the stage holds", c->size);
    stage[0] = v;
    MPI_WAIT_ON(MPI_Igather(stage, 1, MPI_DOUBLE, stage + 1, 1, MPI_DOUBLE, 0, c->comm, &rq_), "gather");
    if (c->rank == 0) memcpy(all, stage + 1, (size_t)c->size * sizeof(double));
    return DT_OK;
}
