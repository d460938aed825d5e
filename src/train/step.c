/* step.c — one optimizer step of data-parallel training.
 *
 * Each rank computes the gradient of its rows' summed loss, the ranks sum
 * those (with the batch-norm statistics that sit after them in the same
 * buffer), divide by the global row count and apply the same update, so
 * parameters stay identical everywhere. The ways to get there:
 *
 *  - default: the rank's rows in `accumulate` chunks (gradients add up in
 *    place), then one sum over the ranks (reduce.c: a fixed-tree
 *    reduce-scatter and allgather, in shared memory on one machine);
 *  - overlapped ([dist] reduce = overlap, or auto when the ranks span
 *    several hosts): the last chunk's backward sums gradient buckets as
 *    layers finish (in shared memory inside a host, then non-blocking
 *    allreduces between hosts that run under the rest of backward);
 *  - deterministic ([dist] deterministic = 1): the global batch is cut into
 *    fixed micro-batches; rank r computes a contiguous, equal run of them
 *    and sums their gradients in a fixed binary tree that continues across
 *    ranks (reduce.c). Every gemm sees the same micro-batch and every sum
 *    has the same pairing at 1, 2, 4 ... ranks, so parameters are bitwise
 *    the same whatever the rank count;
 *  - a triplet loss mines over the global batch: before the passes each
 *    rank computes its rows' embeddings (a forward per chunk), gathers
 *    everyone's, mines its own anchors against all of them, gathers
 *    everyone's triplets and computes its rows' share of every triplet's
 *    gradient (mine_global); the passes then run as above with that
 *    gradient fed to the loss;
 *  - ZeRO-1 ([dist] zero = 1, with either): a reduce-scatter instead of the
 *    allreduce, each rank updates only its block of the parameters with
 *    its block of optimizer state, then an allgather of the parameters.
 *    Updates are elementwise, so in deterministic mode this is bitwise the
 *    unsharded result.
 *
 * Nothing here allocates: buffers come from dt_run_step_init. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/trace.h"
#include "comm/comm.h"
#include "train/run.h"

/* Buckets when overlapping and [dist] bucket_kb is not given: small enough
 * that the MLP's 940 KB of gradients make two (its first layer, computed
 * last, holds 85 % of them), large enough for efficient messages. */
enum { OVERLAP_KB = 64 };

/* What is summed over the ranks: trained parameters' gradients, then statistics. */
static int64_t ntotal(const dt_net *net) { return net->ntrain + net->nstats; }

static void allreduce_doubles(void *ctx, double *buf, int n)
{
    run *r = ctx;
    dt_status st = dt_comm_allreduce_f64(r->s.comm, buf, n);
    if (st && !r->pass_err) r->pass_err = st;
}

dt_status dt_run_step_init(run *r)
{
    dt_net *net = r->s.net;
    int64_t n = ntotal(net);
    /* deterministic mode and ZeRO-1 sum after backward (ZeRO-1 may ask for
     * flat); otherwise [dist] reduce decides (auto: overlap when the ranks
     * span hosts), with buckets of bucket_kb, or OVERLAP_KB when not given;
     * bucket_kb alone asks for overlap */
    int mode = r->t.reduce;
    if (r->t.deterministic || (r->t.zero && mode == DT_REDUCE_AUTO)) mode = DT_REDUCE_AFTER;
    if (mode == DT_REDUCE_AUTO && r->t.bucket_kb) mode = DT_REDUCE_OVERLAP;
    int64_t kb = r->t.bucket_kb ? r->t.bucket_kb : OVERLAP_KB;
    /* the first layers' gradients (before the first layer boundary past 0) are final only as backward ends */
    int64_t tail = n;
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].goff > 0 && net->layers[i].goff < tail) tail = net->layers[i].goff;
    dt_reducer_opts ro = {.tree = (int)r->t.deterministic, .mode = mode, .bucket = kb * 1024 / (int64_t)sizeof(dt_real),
                          .tail = n ? (double)tail / (double)n : 0};
    dt_real *g = net->grads;
    DT_TRY(dt_reducer_create(r->s.comm, &g, n, &ro, net->nlayers, &r->red));
    dt_net_set_grads(net, g); /* on one machine: where the other ranks can read them */
    if (r->t.deterministic && r->pl.nmicro > 1) {
        while ((1L << r->tree_depth) < r->pl.nmicro) r->tree_depth++;
        r->tree_depth++;
        r->tree = calloc((size_t)r->tree_depth, sizeof *r->tree);
        if (!r->tree) return dt_error(DT_ERR_NOMEM, "out of memory");
        for (int d = 0; d < r->tree_depth; d++)
            if (!(r->tree[d] = dt_alloc((size_t)n * sizeof(dt_real))))
                return dt_error(DT_ERR_NOMEM, "out of memory for the micro-batch sums");
    }
    if ((r->mined = dt_loss_triplet_find(net))) {
        dt_loss_triplet_info(r->mined, &r->m_dim, &r->m_margin, &r->m_mode);
        int64_t L = r->pl.local_max, G = L * r->s.nranks, d = r->m_dim;
        r->m_cap = r->m_mode == DT_MINE_BATCH_HARD ? G : G * (G > 1 ? G - 1 : 1);
        r->m_rows = dt_alloc((size_t)(L * (d + 1)) * sizeof(double));
        r->m_all = dt_alloc((size_t)(G * (d + 1)) * sizeof(double));
        r->m_trip = dt_alloc((size_t)(4 * r->m_cap) * sizeof(double));
        r->m_trips = dt_alloc((size_t)(4 * r->m_cap) * sizeof(double));
        r->m_dE = dt_alloc((size_t)(L * d) * sizeof(double));
        r->m_loss = dt_alloc((size_t)L * sizeof(double));
        r->m_dist = dt_alloc((size_t)G * sizeof(double));
        if (!r->m_rows || !r->m_all || !r->m_trip || !r->m_trips || !r->m_dE || !r->m_loss || !r->m_dist)
            return dt_error(DT_ERR_NOMEM, "out of memory for mining triplets over a batch of %lld rows", (long long)G);
    }
    r->opt_off = 0;
    r->opt_len = net->ntrain;
    if (r->t.zero) dt_reducer_block(r->red, net->ntrain, &r->opt_off, &r->opt_len);
    int64_t slen = r->t.zero ? dt_reducer_block_max(r->red, net->ntrain) : net->ntrain;
    r->sums = calloc((size_t)(4 + net->nlosses), sizeof *r->sums);
    r->sums_again = calloc((size_t)(4 + net->nlosses), sizeof *r->sums);
    r->pass_sums = calloc((size_t)(1 + net->nlosses), sizeof *r->sums);
    r->loss_each = calloc((size_t)net->nlosses + 1, sizeof *r->loss_each);
    if (!r->sums || !r->sums_again || !r->pass_sums || !r->loss_each) return dt_error(DT_ERR_NOMEM, "out of memory");
    for (int k = 0; k < dt_optim_nstate(&r->o); k++)
        if (!(r->state[k] = dt_alloc((size_t)(slen > 0 ? slen : 1) * sizeof(dt_real))))
            return dt_error(DT_ERR_NOMEM, "out of memory for optimizer state");
    dt_comm_set_timeout(r->s.comm, r->t.timeout);
    return DT_OK;
}

void dt_run_step_free(run *r, int collective)
{
    free(r->sums);
    free(r->sums_again);
    free(r->pass_sums);
    free(r->loss_each);
    r->sums = r->sums_again = r->pass_sums = r->loss_each = NULL;
    for (int d = 0; r->tree && d < r->tree_depth; d++) dt_free(r->tree[d]);
    free(r->tree);
    r->tree = NULL;
    for (int k = 0; k < 2; k++) {
        dt_free(r->state[k]);
        r->state[k] = NULL;
    }
    dt_reducer_free(r->red, collective);
    r->red = NULL;
    if (collective) { /* a broken communicator may still write into the gathered buffers */
        dt_free(r->m_rows), dt_free(r->m_all), dt_free(r->m_trip), dt_free(r->m_trips);
        r->m_rows = r->m_all = r->m_trip = r->m_trips = NULL;
    }
    dt_free(r->m_dE), dt_free(r->m_loss), dt_free(r->m_dist);
    r->m_dE = r->m_loss = r->m_dist = NULL;
}

/* Gather this rank's rows of step `st`; returns their count, *count gets the global one. */
static int64_t batch_rows(run *r, int64_t st, int64_t *count)
{
    const dt_dataset *d = r->s.train;
    int64_t start, len;
    if (r->s.sharding == DT_SHARD_GLOBAL) {
        int64_t b0 = st * r->pl.gbatch;
        *count = d->total - b0 < r->pl.gbatch ? d->total - b0 : r->pl.gbatch;
        if (r->t.deterministic) { /* whole micro-batches: rank q holds [q·L·m, (q+1)·L·m) */
            int64_t span = r->pl.nmicro * r->pl.micro, a = span * r->s.rank, b = a + span;
            start = a < *count ? a : *count;
            len = (b < *count ? b : *count) - start;
        } else
            dt_batch_slice(*count, r->s.rank, r->s.nranks, &start, &len);
        const int64_t *idx = r->smp.perm + b0 + start;
        dt_dataset_gather(d, idx, len, r->xb, r->yb);
        if (r->tb) dt_dataset_gather_dense(d, idx, len, r->tb);
        memcpy(r->ids, idx, (size_t)len * sizeof *idx);
        return len;
    }
    *count = 0; /* every rank knows every shard's size, so the count is local arithmetic */
    for (int q = 0; q < r->s.nranks; q++) {
        int64_t n = dt_shard_rows(d->total, q, r->s.nranks), left = n - st * r->pl.rbatch;
        *count += left <= 0 ? 0 : left < r->pl.rbatch ? left : r->pl.rbatch;
    }
    start = st * r->pl.rbatch;
    len = d->n - start;
    len = len <= 0 ? 0 : len < r->pl.rbatch ? len : r->pl.rbatch;
    dt_dataset_gather(d, r->smp.perm + start, len, r->xb, r->yb);
    if (r->tb) dt_dataset_gather_dense(d, r->smp.perm + start, len, r->tb);
    for (int64_t i = 0; i < len; i++) r->ids[i] = d->offset + r->smp.perm[start + i];
    return len;
}

/* Whether some value is NaN or infinite (x - x is 0 exactly for finite x):
 * an OR-reduction, so it vectorises without -ffast-math. */
static int nonfinite(const dt_real *g, int64_t n)
{
    int bad = 0;
    for (int64_t i = 0; i < n; i++) bad |= g[i] - g[i] != 0;
    return bad;
}

/* Backward hook of the overlapped mode: let the reducer start a bucket if
 * enough gradients are final. */
static void on_ready(void *ctx, int64_t from)
{
    run *r = ctx;
    dt_status st = dt_reducer_ready(r->red, from);
    if (st && !r->pass_err) r->pass_err = st;
}

/* Forward, loss and backward of local rows [off, off + len); gradients add
 * into net->grads, sums[0] gets the objective summed over the rows, sums[1]
 * the correct predictions and sums[4 + k] loss k. */
static void pass(run *r, int64_t off, int64_t len, int64_t step, int overlap, double *sums)
{
    dt_net *net = r->s.net;
    int64_t F = r->s.train->features, correct = 0;
    dt_targets tg = {.labels = r->yb + off, .dense = r->tb ? r->tb + off * net->target_len : NULL};
    double *ls = r->pass_sums;
    memset(ls, 0, (size_t)dt_net_nsums(net) * sizeof *ls);
    const dt_real *x = r->xb + off * F;
    if (r->mined) dt_loss_triplet_at(r->mined, off);
    dt_pass p = {.n = len, .train = 1, .seed = (uint64_t)r->t.seed, .step = (uint64_t)step, .sample_ids = r->ids + off,
                 .allreduce = r->s.nranks > 1 && !r->t.deterministic ? allreduce_doubles : NULL,
                 .grads_ready = overlap ? on_ready : NULL, .ctx = r};
    double t0 = dt_trace_now();
    /* even with no rows: synchronised batch norm joins its collectives on every rank */
    dt_net_forward(net, x, &p);
    dt_net_loss(net, &tg, len, 1, ls, &correct);
    sums[0] += ls[0];
    for (int k = 0; k < net->nlosses; k++) sums[4 + k] += ls[1 + k];
    double t1 = dt_trace_now();
    dt_trace_span("forward", "compute", DT_TRACE_COMPUTE, t0, t1, "rows", len, NULL, 0);
    dt_net_backward(net, x, NULL, &p);
    dt_trace_span("backward", "compute", DT_TRACE_COMPUTE, t1, dt_trace_now(), "rows", len, NULL, 0);
    sums[1] += (double)correct;
}

/* The chunks local_grads cuts this rank's n rows into: deterministic
 * micro-batches, or `accumulate` slices. */
static int64_t nchunks(const run *r) { return r->t.deterministic ? (r->pl.nmicro > 1 ? r->pl.nmicro : 1) : r->pl.nmicro; }
static void chunk(const run *r, int64_t n, int64_t j, int64_t *a, int64_t *len)
{
    if (r->t.deterministic && r->pl.nmicro > 1) {
        int64_t m = r->pl.micro;
        *a = j * m < n ? j * m : n;
        *len = n - *a < m ? n - *a : m;
    } else {
        dt_batch_slice(n, (int)j, (int)nchunks(r), a, len);
    }
}

/* Deterministic mode: the sum over micro-batches [lo, lo + len) of this rank
 * (of n local rows) into r->tree[d], split as the global tree is: halves,
 * the left one floor(len/2) long. Deeper levels use r->tree[d+1 ...]. */
static void tree_sum(run *r, int64_t lo, int64_t len, int d, int64_t n, int64_t step, double *sums)
{
    dt_net *net = r->s.net;
    int64_t nt = ntotal(net);
    if (len == 1) {
        int64_t a, rows;
        chunk(r, n, lo, &a, &rows);
        dt_net_zero_grads(net);
        if (rows > 0) pass(r, a, rows, step, 0, sums);
        memcpy(r->tree[d], net->grads, (size_t)nt * sizeof(dt_real));
        return;
    }
    int64_t h = len / 2;
    tree_sum(r, lo, h, d, n, step, sums);
    tree_sum(r, lo + h, len - h, d + 1, n, step, sums);
    dt_real *a = r->tree[d];
    const dt_real *b = r->tree[d + 1];
    for (int64_t i = 0; i < nt; i++) a[i] += b[i];
}

/* Triplets over the global batch (see the top of the file): the forwards of
 * this rank's chunks give its embeddings; then two gathers, of embeddings
 * with labels and of triplets; then the loss is fed this rank's rows'
 * gradient and its anchors' losses. The gathers are in rank order, which is
 * the global batch's order, so at any rank count every rank mines the same
 * triplets from the same rows and adds their gradients in the same order. */
static dt_status mine_global(run *r, int64_t n, int64_t step)
{
    dt_net *net = r->s.net;
    const int64_t F = r->s.train->features, d = r->m_dim, s = d + 1;
    const dt_layer *src = r->mined->src;
    double t0 = dt_trace_now();
    for (int64_t j = 0; j < nchunks(r); j++) {
        int64_t a, len;
        chunk(r, n, j, &a, &len);
        if (len == 0 && r->t.deterministic) continue;
        dt_pass p = {.n = len, .train = 1, .seed = (uint64_t)r->t.seed, .step = (uint64_t)step, .sample_ids = r->ids + a,
                     .allreduce = r->s.nranks > 1 && !r->t.deterministic ? allreduce_doubles : NULL, .ctx = r};
        dt_net_forward(net, r->xb + a * F, &p);
        for (int64_t i = 0; i < len; i++) {
            for (int64_t k = 0; k < d; k++) r->m_rows[(a + i) * s + k] = src->y[i * d + k];
            r->m_rows[(a + i) * s + d] = r->yb[a + i];
        }
    }
    double t1 = dt_trace_now();
    dt_trace_span("embeddings", "compute", DT_TRACE_COMPUTE, t0, t1, "rows", n, NULL, 0);
    if (r->pass_err) return r->pass_err;
    int64_t total, first, nt, tt, f2;
    DT_TRY(dt_comm_allgatherv_f64(r->s.comm, r->m_rows, n * s, r->m_all, r->pl.local_max * r->s.nranks * s, &total, &first));
    double t2 = dt_trace_now();
    dt_trace_span("gather embeddings", "comm", DT_TRACE_COMM, t1, t2, "values", total, NULL, 0);
    nt = dt_triplet_mine(r->m_all, s, total / s, d, first / s, n, r->m_margin, r->m_mode, r->m_trip, r->m_cap, r->m_loss, r->m_dist);
    double t3 = dt_trace_now();
    DT_TRY(dt_comm_allgatherv_f64(r->s.comm, r->m_trip, 4 * nt, r->m_trips, 4 * r->m_cap, &tt, &f2));
    double t4 = dt_trace_now();
    dt_trace_span("gather triplets", "comm", DT_TRACE_COMM, t3, t4, "triplets", tt / 4, NULL, 0);
    dt_triplet_grad_rows(r->m_all, s, d, r->m_trips, tt / 4, first / s, n, r->m_dE);
    dt_trace_span("mine triplets", "compute", DT_TRACE_COMPUTE, t2, dt_trace_now(), "triplets", tt / 4, NULL, 0);
    dt_loss_triplet_feed(r->mined, r->m_dE, r->m_loss);
    return DT_OK;
}

static void local_grads_fed(run *r, int64_t n, int64_t step, int overlap, double *sums);

/* This rank's gradient (of its rows' summed loss) into net->grads; with
 * `overlap`, the last pass starts bucket reductions as layers finish. */
static void local_grads(run *r, int64_t n, int64_t step, int overlap, double *sums)
{
    if (r->mined) {
        dt_status st = mine_global(r, n, step);
        if (st) {
            if (!r->pass_err) r->pass_err = st;
            return;
        }
    }
    local_grads_fed(r, n, step, overlap, sums);
    if (r->mined) dt_loss_triplet_feed(r->mined, NULL, NULL); /* evaluation mines its own rows */
}

/* local_grads, the mined triplets (if any) fed to their loss. */
static void local_grads_fed(run *r, int64_t n, int64_t step, int overlap, double *sums)
{
    dt_net *net = r->s.net;
    if (r->t.deterministic && r->pl.nmicro > 1) {
        tree_sum(r, 0, r->pl.nmicro, 0, n, step, sums);
        memcpy(net->grads, r->tree[0], (size_t)ntotal(net) * sizeof(dt_real));
        return;
    }
    const int64_t A = nchunks(r);
    dt_net_zero_grads(net);
    for (int64_t j = 0; j < A; j++) {
        int64_t a, len;
        chunk(r, n, j, &a, &len);
        if (len > 0 || !r->t.deterministic) pass(r, a, len, step, overlap && j == A - 1, sums);
    }
}

/* This rank's gradient, summed over the ranks into net->grads (the stats
 * after them too; under ZeRO only this rank's block of the gradients). */
static dt_status local_and_reduce(run *r, int64_t n, int64_t step, double *sums)
{
    dt_net *net = r->s.net;
    int64_t nt = ntotal(net), np = net->ntrain;
    int overlap = r->s.nranks > 1 && dt_reducer_overlaps(r->red);
    if (overlap) dt_reducer_begin(r->red);
    local_grads(r, n, step, overlap, sums);
    if (overlap) on_ready(r, 0);
    /* the communicator broke mid-pass: the calls after the first failed at once */
    if (r->pass_err) return dt_comm_check(r->s.comm);
    if (overlap) {
        double t0 = dt_trace_now();
        DT_TRY(dt_reducer_finish(r->red));
        dt_trace_span("wait for gradients", "comm", DT_TRACE_COMPUTE, t0, dt_trace_now(), NULL, 0, NULL, 0);
        return DT_OK;
    }
    if (r->t.zero) {
        DT_TRY(dt_reducer_reduce_scatter(r->red, 0, np));
        return dt_reducer_allreduce(r->red, np, nt);
    }
    return dt_reducer_allreduce(r->red, 0, nt);
}

/* The summed gradient is not finite: find the ranks whose own share is not.
 * Parameters are unchanged and the batch still loaded, so every rank
 * computes its local gradient again (no reduction); this costs a step only
 * when it happens, where checking every step would cost a pass over the
 * gradients each time. */
static int local_share_bad(run *r, int64_t n, int64_t step)
{
    double *sums = r->sums_again;
    memset(sums, 0, (size_t)(4 + r->s.net->nlosses) * sizeof *sums);
    local_grads(r, n, step, 0, sums);
    return !isfinite(sums[0]) || nonfinite(r->s.net->grads, ntotal(r->s.net));
}

dt_status dt_run_step(run *r, int64_t st, int64_t e, int64_t step, double lr, step_result *res)
{
    dt_net *net = r->s.net;
    double t0 = dt_trace_now();
    int64_t count, n = batch_rows(r, st, &count);
    if (r->augment) dt_augment_batch(&r->aug, r->xb, r->ids, n, e);
    if (r->aug_boxes) dt_augment_boxes(&r->aug, r->tb, r->aug_boxes, r->ids, n, e);
    if (step == r->t.nan_step && r->s.rank == r->t.nan_rank && n > 0) r->xb[0] = NAN;
    if (step == r->t.hang_step && r->s.rank == r->t.hang_rank) { /* a rank that hangs, for tests of the timeout */
        if (r->t.hang_seconds > 0) usleep((useconds_t)(r->t.hang_seconds * 1e6));
        else for (;;) pause();
    }
    dt_trace_span("data", "data", DT_TRACE_COMPUTE, t0, dt_trace_now(), "rows", n, NULL, 0);

    /* objective, correct, ranks whose loss is not finite, ranks whose summed block is not, each loss */
    int nsum = 4 + net->nlosses;
    double *sums = r->sums;
    memset(sums, 0, (size_t)nsum * sizeof *sums);
    DT_TRY(local_and_reduce(r, n, step, sums));
    int loss_bad = !isfinite(sums[0]);
    sums[2] = loss_bad;
    /* the mean over the global batch, taken after the sum as the course does
     * (1/m · dZ·Aᵀ); the same pass checks the sum for NaN and infinity */
    dt_real inv = (dt_real)(1.0 / (double)count), *g = net->grads + r->opt_off;
    int sum_bad = 0;
    for (int64_t i = 0; i < r->opt_len; i++) {
        g[i] *= inv;
        sum_bad |= g[i] - g[i] != 0;
    }
    sums[3] = sum_bad;
    double tw = dt_trace_now();
    DT_TRY(dt_comm_allreduce_f64(r->s.comm, sums, nsum));
    r->sums_wait += (dt_trace_now() - tw) * 1e-6;
    for (int k = 0; k < net->nlosses; k++) r->loss_each[k] = sums[4 + k] / (double)count;
    *res = (step_result){.count = count, .correct = net->classifier >= 0 ? sums[1] : NAN, .each = r->loss_each};
    if (sums[2] > 0 || sums[3] > 0) {
        if (r->t.nonfinite_skip) { /* every rank knows: all skip alike */
            res->skipped = 1;
            res->loss = NAN;
            dt_net_zero_grads(net); /* the statistics too: this step never happened */
            return DT_OK;
        }
        /* name the ranks whose own loss or gradient is not finite (the lowest reports) */
        int grad_bad = !loss_bad && sums[2] == 0 && local_share_bad(r, n, step);
        dt_status bad = DT_OK;
        if (loss_bad || grad_bad)
            bad = dt_error(DT_ERR_NUMERIC, "step %lld (epoch %lld): the %s is not finite on this rank's rows; "
                                           "lower [optim] lr, check the data, or set [train] nonfinite = skip",
                           (long long)step, (long long)e, loss_bad ? "training loss" : "gradient");
        DT_TRY(dt_comm_agree(r->s.comm, bad));
        /* every share finite: their sum overflowed */
        return dt_error(DT_ERR_NUMERIC, "step %lld (epoch %lld): the gradient summed over the ranks overflows; "
                                        "lower [optim] lr or set [train] nonfinite = skip",
                        (long long)step, (long long)e);
    }
    double to = dt_trace_now();
    dt_net_commit_stats(net);
    res->loss = sums[0] / (double)count;
    if (r->o.l2 > 0) res->loss += dt_net_l2(net, r->o.l2, (double)count, 1);
    dt_optim_step(&r->o, lr, step + 1, net->params + r->opt_off, g, r->state, r->opt_len);
    dt_trace_span("optimizer", "compute", DT_TRACE_COMPUTE, to, dt_trace_now(), NULL, 0, NULL, 0);
    if (r->t.zero) DT_TRY(dt_reducer_allgather(r->red, net->params, 0, net->ntrain));
    return DT_OK;
}
