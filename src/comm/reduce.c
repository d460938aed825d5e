/* reduce.c — gradient reductions: overlapped buckets (by host), a
 * fixed-tree reduce-scatter for bitwise reproducibility, and ZeRO-1's
 * sharded halves. */
#include "comm/reduce.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "comm/comm_mpi.h"

#ifdef DTRAIN_DOUBLE
#define MPI_REAL_T MPI_DOUBLE
#else
#define MPI_REAL_T MPI_FLOAT
#endif

enum { TREE_TAG = 7001 };

struct dt_reducer {
    dt_comm *c;
    dt_real *buf, *tmp;
    int64_t n;
    dt_reducer_opts o;
    int P, rank, bits;
    int *counts, *displs;
    /* Overlap's buckets: range, start time, and the exchange between hosts
     * under way (two requests each, the stage reached and the blocks this
     * rank holds: see advance()) */
    MPI_Request *req;
    int64_t *boff, *blen;
    double *bt0;
    int *stage, *blo, *bhi;
    int nreq, cap, nbucket;
    /* between hosts: this rank's slice of a bucket is summed over xcomm
     * (xsize ranks, one per host: the host's rank of the same local index)
     * by recursive halving then doubling, the tree's pairing, when xsize is
     * 2^xbits (xbits < 0: by MPI_Iallreduce); htmp receives the halves */
    MPI_Comm xcomm;
    int xsize, xrank, xbits, xlocal;
    dt_real *htmp;
    int64_t launched; /* [launched, n) has been started */
    double wait_s;
    int overlap, nhosts; /* sum during backward; how many hosts the ranks span */
    /* Shared memory: the buffers of the ranks on this host in one window on
     * the host's communicator `node`; peer[q] = world rank q's buffer when q
     * is on this host, else NULL. Hosts hold runs of `local` = 2^lbits
     * consecutive ranks; `slice` joins the ranks of one local index on every
     * host (MPI_COMM_NULL on one host). */
    MPI_Win win;
    MPI_Comm node, slice;
    int lbits, local, hosts;
    int *hcounts, *hdispls; /* the blocks of this slice's ranks, by host */
    dt_real **peer;
    char method[384]; /* how the sum goes when hosts differ or it overlaps (else empty) */
};

#define TRY_MPI(call, what)                                                                  \
    do {                                                                                     \
        int rc_ = (call);                                                                    \
        if (rc_ != MPI_SUCCESS) return dt_comm_mpi_fail(r->c, rc_, what);                    \
    } while (0)

/* the watched wait of comm_mpi.h: a rank never blocks for ever on the others */
#define WAIT_ON(icall, what) DT_MPI_WAIT_ON(r->c, icall, what)

static int bitrev(int r, int bits)
{
    int v = 0;
    for (int k = 0; k < bits; k++) v |= ((r >> k) & 1) << (bits - 1 - k);
    return v;
}

/* Values per part when len values are cut into `parts`: ceil, rounded up to 16. */
static int64_t part_size(int64_t len, int parts) { return ((len + parts - 1) / parts + 15) / 16 * 16; }

/* Start of part j of `parts` (j may be parts: the end). */
static int64_t part_start(int64_t len, int parts, int j)
{
    int64_t s = part_size(len, parts) * j;
    return s < len ? s : len;
}

/* The ranks' blocks of a range of length len: P parts. */
static int64_t block_size(const dt_reducer *r, int64_t len) { return part_size(len, r->P); }
static int64_t block_start(const dt_reducer *r, int64_t len, int b) { return part_start(len, r->P, b); }

static int my_block(const dt_reducer *r) { return r->o.tree ? bitrev(r->rank, r->bits) : r->rank; }

/* Put the buffers of the ranks on each host in one shared-memory window:
 * the tree's levels whose partners share a host then read the partner's
 * half in place (no copy into a message and out again) and the allgather
 * inside a host is one memcpy per rank; only the levels between hosts send
 * messages. Measured on 2 cores (MLP, 940 KB of gradients per step): 177 k
 * img/s at 2 ranks against 165 k by messages (communication wait 4.5 %
 * against 11 % of the step).
 *
 * This needs hosts that hold runs of 2^a consecutive ranks, the same count
 * on each (Open MPI's default mapping by slot, Slurm's block distribution):
 * the first a levels of the tree (partners r^1 ... r^2^(a-1)) then stay
 * inside a host, and the rest cross hosts, each rank sending only its
 * share of its host's sum. Other placements use messages throughout.
 * DTRAIN_NO_SHARED_REDUCE=1 turns shared memory off. */
static dt_status setup_overlap(dt_reducer *r);

static dt_status share(dt_reducer *r, dt_real **buf)
{
    MPI_Comm node;
    int nsize = 0, nrank = 0;
    if (MPI_Comm_split_type(r->c->comm, MPI_COMM_TYPE_SHARED, r->rank, MPI_INFO_NULL, &node) != MPI_SUCCESS) return DT_OK;
    MPI_Comm_size(node, &nsize);
    MPI_Comm_rank(node, &nrank);
    int lbits = 0;
    while ((1 << lbits) < nsize) lbits++;
    /* this host's ranks: the lowest and (negated) the highest */
    int span[2] = {r->rank, -r->rank}, host[2];
    MPI_Allreduce(span, host, 2, MPI_INT, MPI_MIN, node);
    int run = -host[1] - host[0] == nsize - 1 && host[0] % nsize == 0 && (1 << lbits) == nsize && nsize <= 64;
    /* every rank must agree, or some would wait in a collective the others skip:
     * the smallest host (0 if one is no aligned run) and the largest */
    int mine[2] = {run ? nsize : 0, -nsize}, all[2];
    MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MIN, r->c->comm);
    if (all[0] < 2 || all[0] != -all[1] || getenv("DTRAIN_NO_SHARED_REDUCE")) {
        MPI_Comm_free(&node);
        return DT_OK;
    }
    r->node = node;
    r->local = nsize;
    r->lbits = lbits;
    r->hosts = r->P / nsize;
    if (r->hosts > 1) {
        snprintf(r->method, sizeof r->method,
                 "by recursive halving, in shared memory inside each of %d hosts (%d ranks each) and by messages "
                 "between them",
                 r->hosts, r->local);
        TRY_MPI(MPI_Comm_split(r->c->comm, nrank, r->rank, &r->slice), "the communicator between hosts");
        r->hcounts = calloc((size_t)r->hosts, sizeof(int));
        r->hdispls = calloc((size_t)r->hosts, sizeof(int));
        if (!r->hcounts || !r->hdispls) return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    dt_real *mine_buf;
    MPI_Aint bytes = (MPI_Aint)((r->n + 16) * (int64_t)sizeof(dt_real)), sz;
    int disp;
    TRY_MPI(MPI_Win_allocate_shared(bytes, (int)sizeof(dt_real), MPI_INFO_NULL, node, &mine_buf, &r->win),
            "shared gradient window");
    r->peer = calloc((size_t)r->P, sizeof *r->peer);
    if (!r->peer) return dt_error(DT_ERR_NOMEM, "out of memory");
    for (int q = 0; q < nsize; q++) {
        dt_real *base;
        TRY_MPI(MPI_Win_shared_query(r->win, q, &sz, &disp, &base), "shared gradient window");
        r->peer[host[0] + q] = base;
    }
    TRY_MPI(MPI_Win_lock_all(MPI_MODE_NOCHECK, r->win), "shared gradient window");
    memcpy(mine_buf, *buf, (size_t)r->n * sizeof(dt_real));
    *buf = r->buf = mine_buf;
    return DT_OK;
}

/* How many hosts c's ranks span (1 where MPI cannot tell). */
static int count_hosts(dt_comm *c)
{
    MPI_Comm node;
    int nrank = 0, heads = 1;
    if (c->size == 1 || MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node) != MPI_SUCCESS)
        return 1;
    MPI_Comm_rank(node, &nrank);
    MPI_Comm_free(&node);
    int head = nrank == 0;
    if (MPI_Allreduce(&head, &heads, 1, MPI_INT, MPI_SUM, c->comm) != MPI_SUCCESS) return 1;
    return heads;
}

dt_status dt_reducer_create(dt_comm *c, dt_real **buf, int64_t n, const dt_reducer_opts *o, int nlayers, dt_reducer **out)
{
    *out = NULL;
    dt_reducer *r = calloc(1, sizeof *r);
    if (!r) return dt_error(DT_ERR_NOMEM, "out of memory");
    *r = (dt_reducer){.buf = *buf, .n = n, .o = *o, .P = c->size, .rank = c->rank, .win = MPI_WIN_NULL, .c = c,
                      .node = MPI_COMM_NULL, .slice = MPI_COMM_NULL, .hosts = 1,
                      .xcomm = MPI_COMM_NULL};
    while ((1 << r->bits) < r->P) r->bits++;
    if (n > INT_MAX) {
        free(r);
        return dt_error(DT_ERR_CONFIG, "the model has %lld values to reduce; MPI counts limit dtrain to %d", (long long)n, INT_MAX);
    }
    int pow2 = (1 << r->bits) == r->P;
    if (o->tree && !pow2) {
        free(r);
        return dt_error(DT_ERR_CONFIG, "deterministic mode runs on 1, 2, 4, 8, ... ranks (a power of two), not %d", c->size);
    }
    /* Measured on 2 cores (MLP, 940 KB of gradients per step), by messages:
     * this exchange by halves takes 160 k img/s where MPI_Allreduce takes
     * 144 k and MPI_Reduce_scatter 149 k, so it serves every power-of-two
     * rank count. */
    r->o.tree = pow2 && o->mode != DT_REDUCE_FLAT;
    r->nhosts = count_hosts(c);
    /* auto: overlap between hosts; measured on simulated hosts at 1 Gbit/s
     * it wins for the CNN at any placement and for the MLP with 2 ranks per
     * host (+12 %), but with one rank per host the MLP, whose first layer
     * holds 85 % of its gradients, is 16 % faster summing after backward */
    int solo = r->nhosts == r->P; /* one rank per host: no sum inside hosts to interleave */
    r->overlap = r->P > 1 && (o->mode == DT_REDUCE_OVERLAP ||
                              (o->mode == DT_REDUCE_AUTO && r->nhosts > 1 && (!solo || o->tail <= 0.5)));
    r->cap = nlayers + 2;
    /* the tree's largest receive: half the blocks of the whole range (rounding included) */
    int64_t half = (int64_t)(r->P / 2) * block_size(r, n);
    r->tmp = dt_alloc((size_t)((half < n ? half : n) + 16) * sizeof(dt_real));
    r->counts = calloc((size_t)r->P, sizeof(int));
    r->displs = calloc((size_t)r->P, sizeof(int));
    r->req = calloc((size_t)(2 * r->cap), sizeof(MPI_Request));
    r->stage = calloc((size_t)r->cap, sizeof(int));
    r->blo = calloc((size_t)r->cap, sizeof(int));
    r->bhi = calloc((size_t)r->cap, sizeof(int));
    r->boff = calloc((size_t)r->cap, sizeof(int64_t));
    r->blen = calloc((size_t)r->cap, sizeof(int64_t));
    r->bt0 = calloc((size_t)r->cap, sizeof(double));
    dt_status st = DT_OK;
    if (!r->tmp || !r->counts || !r->displs || !r->req || !r->stage || !r->blo || !r->bhi || !r->boff || !r->blen || !r->bt0)
        st = dt_error(DT_ERR_NOMEM, "out of memory for the gradient reduction");
    st = dt_comm_agree(c, st);
    if (!st && r->P > 1 && r->o.tree) st = share(r, buf);
    if (!st && r->overlap) st = setup_overlap(r);
    if (!st && !r->overlap && o->mode == DT_REDUCE_AUTO && r->nhosts > 1) { /* say why not */
        const char *base = dt_reducer_method(r);
        if (base != r->method) snprintf(r->method, sizeof r->method, "%s", base);
        size_t len = strlen(r->method);
        snprintf(r->method + len, sizeof r->method - len,
                 " (not overlapped with backward: one rank per host, and %.0f %% of the gradients are final only as it "
                 "ends)",
                 100 * o->tail);
    }
    if (st) {
        dt_reducer_free(r, 0);
        return st;
    }
    *out = r;
    return DT_OK;
}

void dt_reducer_free(dt_reducer *r, int collective)
{
    if (!r) return;
    /* a broken communicator's collectives no longer match: leave it to MPI_Finalize */
    if (collective && !dt_comm_broken(r->c)) {
        if (r->win != MPI_WIN_NULL) {
            MPI_Win_unlock_all(r->win);
            MPI_Win_free(&r->win);
        }
        if (r->slice != MPI_COMM_NULL) MPI_Comm_free(&r->slice);
        if (r->node != MPI_COMM_NULL) MPI_Comm_free(&r->node);
    }
    free(r->peer);
    free(r->hcounts);
    free(r->hdispls);
    if (dt_comm_broken(r->c)) dt_comm_keep(r->tmp); /* an abandoned receive may still land in it */
    else dt_free(r->tmp);
    free(r->counts);
    free(r->displs);
    free(r->stage);
    free(r->blo);
    free(r->bhi);
    if (dt_comm_broken(r->c)) dt_comm_keep(r->htmp);
    else dt_free(r->htmp);
    free(r->req);
    free(r->boff);
    free(r->blen);
    free(r->bt0);
    free(r);
}

double dt_reducer_wait_seconds(const dt_reducer *r) { return r->wait_s; }

const char *dt_reducer_method(const dt_reducer *r)
{
    if (r->method[0]) return r->method;
    return r->P == 1 ? "locally" : !r->o.tree ? "by MPI_Allreduce" : r->peer ? "by recursive halving in shared memory"
                                                                             : "by recursive halving over messages";
}

int dt_reducer_overlaps(const dt_reducer *r) { return r->overlap; }

void dt_reducer_block(const dt_reducer *r, int64_t len, int64_t *off, int64_t *blen)
{
    int b = my_block(r);
    *off = block_start(r, len, b);
    *blen = block_start(r, len, b + 1) - *off;
}

int64_t dt_reducer_block_max(const dt_reducer *r, int64_t len)
{
    int64_t b = block_size(r, len);
    return b < len ? b : len;
}

static dt_status fence(dt_reducer *r, const char *what);
static int slice_peer(const dt_reducer *r);

/* ---- buckets ------------------------------------------------------------- */

enum { BUCKET_TAG = 8000 }; /* + the bucket's index: buckets in flight at once never mix */

/* Where overlap's sums between hosts go, and what it does, for the run's
 * description. */
static dt_status setup_overlap(dt_reducer *r)
{
    if (r->peer) { /* shared memory inside hosts; slices between them */
        r->xlocal = r->local;
        r->xcomm = r->slice;
        r->xsize = r->hosts;
        r->xrank = r->rank / r->local;
    } else { /* every rank a host of its own, as far as sums go */
        r->xlocal = 1;
        r->xcomm = r->c->comm;
        r->xsize = r->P;
        r->xrank = r->rank;
    }
    for (r->xbits = 0; (1 << r->xbits) < r->xsize; r->xbits++) {}
    if ((1 << r->xbits) != r->xsize) r->xbits = -1;
    if (r->xcomm != MPI_COMM_NULL && r->xbits > 0 &&
        !(r->htmp = dt_alloc((size_t)(r->n + 16) * sizeof(dt_real))))
        return dt_error(DT_ERR_NOMEM, "out of memory for the gradient buckets");
    long kib = (long)(r->o.bucket * (int64_t)sizeof(dt_real) / 1024);
    const char *why = r->o.mode == DT_REDUCE_OVERLAP ? "asked for in [dist]" : "the ranks span several hosts";
    const char *how = r->xbits >= 0 ? "by recursive halving and doubling" : "by MPI_Iallreduce";
    if (r->peer && r->hosts > 1)
        snprintf(r->method, sizeof r->method,
                 "in %ld KiB buckets during backward: in shared memory inside each of %d hosts (%d ranks each), then %s "
                 "between them under the rest of backward (overlap: %s)",
                 kib, r->hosts, r->local, how, why);
    else if (r->peer)
        snprintf(r->method, sizeof r->method, "in %ld KiB buckets during backward, in shared memory (overlap: %s)", kib, why);
    else
        snprintf(r->method, sizeof r->method, "in %ld KiB buckets during backward, %s over messages (overlap: %s)", kib,
                 how, why);
    return DT_OK;
}

void dt_reducer_begin(dt_reducer *r)
{
    r->launched = r->n;
    r->nreq = 0;
    r->nbucket = 0;
}

/* This rank's slice of bucket i (absolute offsets in buf). */
static void slice_of(const dt_reducer *r, int i, int64_t *a, int64_t *b)
{
    int j = r->rank % r->xlocal;
    *a = r->boff[i] + part_start(r->blen[i], r->xlocal, j);
    *b = r->boff[i] + part_start(r->blen[i], r->xlocal, j + 1);
}

/* buf[a, b) = the sum of the host's buffers there, paired as the tree
 * pairs them (((b0 + b1) + (b2 + b3)) + ...), so that the result is the
 * tree's to the bit. */
static void host_sum(dt_reducer *r, int64_t a, int64_t b)
{
    dt_real *const *p = r->peer + (r->rank - r->rank % r->local), *d = r->buf;
    if (r->local == 2) {
        for (int64_t i = a; i < b; i++) d[i] = p[0][i] + p[1][i];
        return;
    }
    dt_real v[64] = {0}; /* local <= 64: see share() */
    for (int64_t i = a; i < b; i++) {
        for (int j = 0; j < r->local; j++) v[j] = p[j][i];
        for (int s = 1; s < r->local; s *= 2)
            for (int j = 0; j < r->local; j += 2 * s) v[j] += v[j + s];
        d[i] = v[0];
    }
}

/* Stage `stage` of bucket i's exchange between hosts. Stages 0 .. xbits-1
 * halve (the partner host differs in bit k; this rank keeps the half of
 * its blocks [blo, bhi) on its side of that bit, sends the other half and
 * receives the partner's values for the kept one), stages xbits ..
 * 2 xbits-1 double back (send the blocks held, receive the partner's half
 * of the range twice as large, in place). Blocks are parts of the slice
 * [a, b): H = xsize of them. */
typedef struct {
    int partner;        /* rank of xcomm */
    int klo, khi;       /* blocks received: kept (halving) or the partner's (doubling) */
    int slo, shi;       /* blocks sent */
    int64_t a, b;       /* the slice */
} stage_plan;

static stage_plan plan(const dt_reducer *r, int i)
{
    int st = r->stage[i], H = r->xsize, h = r->xbits, lo = r->blo[i], hi = r->bhi[i];
    int k = st < h ? st : 2 * h - 1 - st;
    stage_plan p = {.partner = r->xrank ^ (1 << k)};
    if (st < h) { /* keep one half, send the other */
        int mid = (lo + hi) / 2, upper = (r->xrank >> k) & 1;
        p.klo = upper ? mid : lo, p.khi = upper ? hi : mid;
        p.slo = upper ? lo : mid, p.shi = upper ? mid : hi;
    } else { /* the partner holds the other half of the range of size H >> k around ours */
        int size = H >> k, plo = lo & ~(size - 1), mid = plo + size / 2;
        p.slo = lo, p.shi = hi;
        p.klo = lo == plo ? mid : plo, p.khi = lo == plo ? plo + size : mid;
    }
    slice_of(r, i, &p.a, &p.b);
    return p;
}

static dt_status post(dt_reducer *r, int i)
{
    stage_plan p = plan(r, i);
    int64_t len = p.b - p.a, H = r->xsize;
    int64_t ka = part_start(len, (int)H, p.klo), kb = part_start(len, (int)H, p.khi);
    int64_t sa = part_start(len, (int)H, p.slo), sb = part_start(len, (int)H, p.shi);
    dt_real *into = r->stage[i] < r->xbits ? r->htmp : r->buf;
    TRY_MPI(MPI_Irecv(into + p.a + ka, (int)(kb - ka), MPI_REAL_T, p.partner, BUCKET_TAG + i, r->xcomm, &r->req[2 * i]),
            "gradient exchange between hosts");
    TRY_MPI(MPI_Isend(r->buf + p.a + sa, (int)(sb - sa), MPI_REAL_T, p.partner, BUCKET_TAG + i, r->xcomm,
                      &r->req[2 * i + 1]),
            "gradient exchange between hosts");
    return DT_OK;
}

/* Move bucket i's exchange on as far as the messages that arrived allow;
 * *done: it is complete. */
static dt_status advance(dt_reducer *r, int i, int *done)
{
    int nst = r->xbits > 0 ? 2 * r->xbits : 1;
    while (r->stage[i] < nst) {
        int fin = 0, rc = MPI_Testall(2, &r->req[2 * i], &fin, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) { /* name the partner of this stage (of the world: the same local index) */
            if (r->xbits > 0) r->c->peer = plan(r, i).partner * r->xlocal + r->rank % r->xlocal;
            dt_status e = dt_comm_mpi_fail(r->c, rc, "the gradient exchange between hosts");
            r->c->peer = -1;
            return e;
        }
        if (!fin) break;
        if (r->xbits > 0) {
            stage_plan p = plan(r, i);
            if (r->stage[i] < r->xbits) { /* add the partner's half to the kept one */
                int64_t len = p.b - p.a, ka = part_start(len, r->xsize, p.klo), kb = part_start(len, r->xsize, p.khi);
                dt_real *d = r->buf + p.a, *t = r->htmp + p.a;
                for (int64_t j = ka; j < kb; j++) d[j] += t[j]; /* the tree's pairing; a + b == b + a */
                r->blo[i] = p.klo, r->bhi[i] = p.khi;
            } else { /* the range doubles back */
                r->blo[i] = p.klo < p.slo ? p.klo : p.slo;
                r->bhi[i] = p.khi > p.shi ? p.khi : p.shi;
            }
        }
        if (++r->stage[i] < nst) DT_TRY(post(r, i));
        else dt_trace_span("allreduce bucket", "comm", DT_TRACE_COMM, r->bt0[i], dt_trace_now(), "bucket", i, "values", r->blen[i]);
    }
    *done = r->stage[i] >= nst;
    return DT_OK;
}

static dt_status launch(dt_reducer *r, int64_t from)
{
    int64_t len = r->launched - from;
    if (len <= 0) return DT_OK;
    DT_TRY(dt_comm_check(r->c));
    int i = r->nreq++;
    r->boff[i] = from;
    r->blen[i] = len;
    r->bt0[i] = dt_trace_now();
    r->launched = from;
    r->req[2 * i] = r->req[2 * i + 1] = MPI_REQUEST_NULL;
    r->stage[i] = 0, r->blo[i] = 0, r->bhi[i] = r->xsize;
    int64_t a, b;
    slice_of(r, i, &a, &b);
    if (r->peer) {
        /* every rank of the host has this bucket final: sum this rank's
         * slice of it over the host */
        double t0 = dt_comm_time();
        DT_TRY(fence(r, "the gradient buckets"));
        host_sum(r, a, b);
        r->wait_s += dt_comm_time() - t0;
        if (r->xcomm == MPI_COMM_NULL) { /* one host: done */
            r->stage[i] = 1;
            dt_trace_span("allreduce bucket", "comm", DT_TRACE_COMM, r->bt0[i], dt_trace_now(), "bucket", i, "values", len);
            return DT_OK;
        }
        dt_trace_span("host sum", "comm", DT_TRACE_COMPUTE, r->bt0[i], dt_trace_now(), "bucket", i, "values", len);
    }
    /* then between hosts, under the rest of backward */
    if (r->xbits > 0) return post(r, i);
    TRY_MPI(MPI_Iallreduce(MPI_IN_PLACE, r->buf + a, (int)(b - a), MPI_REAL_T, MPI_SUM, r->xcomm, &r->req[2 * i]),
            "gradient allreduce");
    return DT_OK;
}

/* Advance every bucket; *left: how many are not complete. */
static dt_status advance_all(dt_reducer *r, int *left)
{
    *left = 0;
    for (int i = 0; i < r->nreq; i++) {
        int done = 0;
        DT_TRY(advance(r, i, &done));
        *left += !done;
    }
    return DT_OK;
}

dt_status dt_reducer_ready(dt_reducer *r, int64_t from)
{
    if (r->P == 1) return DT_OK;
    /* the last slot is kept for finish's final bucket */
    if (r->o.bucket > 0 && r->launched - from >= r->o.bucket && r->nreq < r->cap - 1) DT_TRY(launch(r, from));
    if (r->nreq == 0) return DT_OK;
    DT_TRY(dt_comm_check(r->c));
    /* MPI moves messages on inside MPI calls: give it some between layers */
    int left;
    return advance_all(r, &left);
}

/* After the buckets' sums between hosts: every rank copies the other
 * slices of every bucket from the host's rank that holds them. */
static dt_status host_gather(dt_reducer *r)
{
    const int me = r->rank % r->local, first = r->rank - me;
    DT_TRY(fence(r, "the gradient buckets"));
    for (int i = 0; i < r->nreq; i++)
        for (int j = 0; j < r->local; j++) {
            int64_t a = part_start(r->blen[i], r->local, j), b = part_start(r->blen[i], r->local, j + 1);
            if (j != me && b > a)
                memcpy(r->buf + r->boff[i] + a, r->peer[first + j] + r->boff[i] + a, (size_t)(b - a) * sizeof(dt_real));
        }
    /* nobody changes its buffer (the next backward) until all have copied */
    return fence(r, "the gradient buckets");
}

dt_status dt_reducer_finish(dt_reducer *r)
{
    if (r->P == 1) return DT_OK;
    DT_TRY(launch(r, 0));
    DT_TRY(dt_comm_check(r->c));
    double t0 = dt_comm_time();
    dt_status st = DT_OK;
    /* with two hosts the exchanges between hosts wait for one rank */
    dt_comm_waiting(r->c, r->peer ? slice_peer(r) : r->P == 2 ? 1 - r->rank : -1, "the gradient buckets");
    for (unsigned spin = 1;; spin++) {
        int left = 0;
        if ((st = advance_all(r, &left)) || !left) break;
        if (!(spin & 63) && (st = dt_comm_waited(r->c, t0, "the gradient buckets"))) break;
    }
    dt_comm_done_waiting(r->c);
    if (!st && r->peer) st = host_gather(r);
    r->wait_s += dt_comm_time() - t0;
    r->nreq = 0;
    return st;
}

/* ---- the fixed tree and the sharded halves ---------------------------- */

/* The one rank a wait between hosts is for, when there are two hosts (the
 * rank of this local index on the other host), to name it on a timeout. */
static int slice_peer(const dt_reducer *r) { return r->hosts == 2 ? r->rank ^ r->local : -1; }

/* The shared buffers of this host's ranks are consistent up to here (the
 * window's memory barrier around a barrier of the host). */
static dt_status fence(dt_reducer *r, const char *what)
{
    MPI_Win_sync(r->win);
    WAIT_ON(MPI_Ibarrier(r->node, &rq_), what);
    MPI_Win_sync(r->win);
    return DT_OK;
}

/* Recursive halving over buf[0, len) (buf at offset lo of the reducer's
 * range): at level k rank r meets r ^ 2^k and keeps the lower half of its
 * current range if bit k of r is 0; it ends holding block bitreverse(r)
 * summed over all ranks. A partner on this host (the first lbits levels)
 * is read in place; one on another host sends its half by message. */
static dt_status tree_reduce_scatter(dt_reducer *r, int64_t lo, int64_t len)
{
    dt_real *buf = r->buf + lo;
    int blo = 0, bhi = r->P;
    const int shared = r->peer ? r->lbits : 0;
    if (shared) DT_TRY(fence(r, "the tree reduction"));
    for (int k = 0; k < r->bits; k++) {
        int partner = r->rank ^ (1 << k), mid = (blo + bhi) / 2;
        int upper = (r->rank >> k) & 1;
        int klo = upper ? mid : blo, khi = upper ? bhi : mid;
        int slo = upper ? blo : mid, shi = upper ? mid : bhi;
        int64_t ko = block_start(r, len, klo), kn = block_start(r, len, khi) - ko;
        int64_t so = block_start(r, len, slo), sn = block_start(r, len, shi) - so;
        const dt_real *theirs = r->tmp;
        if (k < shared) {
            if (k) DT_TRY(fence(r, "the tree reduction"));
            theirs = r->peer[partner] + lo + ko;
        } else {
            MPI_Request rq[2];
            TRY_MPI(MPI_Irecv(r->tmp, (int)kn, MPI_REAL_T, partner, TREE_TAG, r->c->comm, &rq[0]), "tree reduction");
            TRY_MPI(MPI_Isend(buf + so, (int)sn, MPI_REAL_T, partner, TREE_TAG, r->c->comm, &rq[1]), "tree reduction");
            DT_TRY(dt_comm_wait_peer(r->c, rq, 2, partner, "the tree reduction"));
        }
        /* a + b == b + a in IEEE arithmetic: only the pairing matters, and it is the tree's */
        dt_real *d = buf + ko;
        for (int64_t i = 0; i < kn; i++) d[i] += theirs[i];
        blo = klo;
        bhi = khi;
    }
    return DT_OK;
}

static void fill_counts(dt_reducer *r, int64_t len)
{
    for (int q = 0; q < r->P; q++) {
        int b = r->o.tree ? bitrev(q, r->bits) : q;
        r->displs[q] = (int)block_start(r, len, b);
        r->counts[q] = (int)(block_start(r, len, b + 1) - r->displs[q]);
    }
}

dt_status dt_reducer_reduce_scatter(dt_reducer *r, int64_t lo, int64_t hi)
{
    if (r->P == 1 || hi <= lo) return DT_OK;
    double t0 = dt_comm_time(), tt = dt_trace_now();
    DT_TRY(dt_comm_check(r->c));
    if (r->o.tree) DT_TRY(tree_reduce_scatter(r, lo, hi - lo));
    else {
        fill_counts(r, hi - lo);
        WAIT_ON(MPI_Ireduce_scatter(MPI_IN_PLACE, r->buf + lo, r->counts, MPI_REAL_T, MPI_SUM, r->c->comm, &rq_),
                "the gradient reduce-scatter");
        /* in place, MPI leaves this rank's block at the start of the buffer */
        if (r->displs[r->rank])
            memmove(r->buf + lo + r->displs[r->rank], r->buf + lo, (size_t)r->counts[r->rank] * sizeof(dt_real));
    }
    r->wait_s += dt_comm_time() - t0;
    dt_trace_span("reduce-scatter", "comm", DT_TRACE_COMM, tt, dt_trace_now(), "values", hi - lo, NULL, 0);
    return DT_OK;
}

dt_status dt_reducer_allgather(dt_reducer *r, dt_real *v, int64_t lo, int64_t hi)
{
    if (r->P == 1 || hi <= lo) return DT_OK;
    double t0 = dt_comm_time(), tt = dt_trace_now();
    DT_TRY(dt_comm_check(r->c));
    fill_counts(r, hi - lo);
    if (r->peer && v == r->buf) {
        /* between hosts: the blocks of the ranks of this local index (by
         * message); then every other block from the buffer of the rank on
         * this host that holds it. Nobody may change its buffer (the next
         * step's backward) until all have copied. */
        const int first = r->rank - r->rank % r->local;
        if (r->slice != MPI_COMM_NULL) {
            for (int j = 0; j < r->hosts; j++) {
                int q = j * r->local + r->rank % r->local;
                r->hcounts[j] = r->counts[q];
                r->hdispls[j] = r->displs[q];
            }
            MPI_Request rq;
            TRY_MPI(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v + lo, r->hcounts, r->hdispls, MPI_REAL_T,
                                    r->slice, &rq),
                    "the allgather between hosts");
            DT_TRY(dt_comm_wait_peer(r->c, &rq, 1, slice_peer(r), "the allgather between hosts"));
        }
        dt_status st = fence(r, "the allgather");
        for (int q = 0; q < r->P && !st; q++) {
            int holder = first + q % r->local;
            if (holder != r->rank)
                memcpy(v + lo + r->displs[q], r->peer[holder] + lo + r->displs[q], (size_t)r->counts[q] * sizeof(dt_real));
        }
        if (!st) st = fence(r, "the allgather");
        r->wait_s += dt_comm_time() - t0;
        dt_trace_span("allgather", "comm", DT_TRACE_COMM, tt, dt_trace_now(), "values", hi - lo, NULL, 0);
        return st;
    }
    WAIT_ON(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v + lo, r->counts, r->displs, MPI_REAL_T, r->c->comm,
                            &rq_),
            "the allgather");
    r->wait_s += dt_comm_time() - t0;
    dt_trace_span("allgather", "comm", DT_TRACE_COMM, tt, dt_trace_now(), "values", hi - lo, NULL, 0);
    return DT_OK;
}

dt_status dt_reducer_allreduce(dt_reducer *r, int64_t lo, int64_t hi)
{
    if (r->P == 1 || hi <= lo) return DT_OK;
    if (r->o.tree) {
        DT_TRY(dt_reducer_reduce_scatter(r, lo, hi));
        return dt_reducer_allgather(r, r->buf, lo, hi);
    }
    double t0 = dt_comm_time(), tt = dt_trace_now();
    DT_TRY(dt_comm_check(r->c));
    WAIT_ON(MPI_Iallreduce(MPI_IN_PLACE, r->buf + lo, (int)(hi - lo), MPI_REAL_T, MPI_SUM, r->c->comm, &rq_),
            "the allreduce");
    r->wait_s += dt_comm_time() - t0;
    dt_trace_span("allreduce", "comm", DT_TRACE_COMM, tt, dt_trace_now(), "values", hi - lo, NULL, 0);
    return DT_OK;
}

dt_status dt_reducer_gather(dt_reducer *r, const dt_real *mine, dt_real *v, int64_t len)
{
    if (r->P == 1) return DT_OK;
    fill_counts(r, len);
    int me = r->rank;
    DT_TRY(dt_comm_check(r->c));
    WAIT_ON(me == 0 ? MPI_Igatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v, r->counts, r->displs, MPI_REAL_T, 0, r->c->comm, &rq_)
                    : MPI_Igatherv(mine, r->counts[me], MPI_REAL_T, NULL, NULL, NULL, MPI_REAL_T, 0, r->c->comm, &rq_),
            "the optimizer-state gather");
    return DT_OK;
}
