/* reduce.h — how a step's gradients are summed over the ranks.
 *
 * Four ways, chosen by [dist] reduce in the config (auto by default):
 *  - after: once backward is done, a reduce-scatter by recursive halving
 *    whose pairing follows a fixed binary tree over the ranks (rank r meets
 *    r^1, then r^2, ...), then an allgather; used at every power-of-two
 *    rank count (other counts use MPI_Allreduce / MPI_Reduce_scatter).
 *    Deterministic mode requires it: with every rank holding a whole
 *    subtree of the step's micro-batches, the sum is the same binary tree
 *    whatever the rank count, so results are bitwise equal;
 *  - overlap: buckets of gradients summed during the backward pass as soon
 *    as they are final (last layer first): inside a host in shared memory,
 *    then each rank's slice of the host's sum between hosts by
 *    non-blocking recursive halving and doubling (the tree's pairing;
 *    MPI_Iallreduce where the host count is no power of two) that runs
 *    under the rest of backward;
 *  - flat: MPI_Allreduce after backward, blind to hosts (for comparison);
 *  - auto: overlap when the ranks span several hosts (the network is slow
 *    enough for hiding it to pay), unless each host has one rank and most
 *    gradients are final only as backward ends (little to hide, and more
 *    rounds of messages); after otherwise (on one machine); deterministic
 *    mode and ZeRO-1 always sum after.
 * Sharded (ZeRO-1): only the reduce-scatter (tree or MPI's), each rank
 * updating its own block of the parameters, then an allgather of them.
 *
 * Blocks: the n values are cut into P blocks of ceil(n/P) rounded up to 16
 * (the last blocks short or empty: sizes that do not divide are padded by
 * shortening, never by copying). Rank r owns block r, or block
 * bitreverse(r) in tree mode (where recursive halving leaves it).
 *
 * Inside a host the tree reads the other ranks' buffers in a shared-memory
 * window instead of exchanging messages; only its levels between hosts send
 * messages (see share() in reduce.c). Sums inside a host pair the ranks as
 * the tree does, in both after and overlap, so on two hosts the two give
 * bitwise the same result.
 *
 * Nothing here allocates after dt_reducer_create. */
#ifndef DT_REDUCE_H
#define DT_REDUCE_H

#include "comm/comm.h"

typedef struct dt_reducer dt_reducer;

enum { DT_REDUCE_AUTO, DT_REDUCE_AFTER, DT_REDUCE_OVERLAP, DT_REDUCE_FLAT };

typedef struct {
    int tree;          /* deterministic: the fixed tree is required (power-of-two rank counts only) */
    int mode;          /* DT_REDUCE_*; AUTO and OVERLAP only where the step may overlap (not deterministic, not ZeRO-1) */
    int64_t bucket;    /* values per bucket when overlapping */
    double tail;       /* the share of the values that are final only as backward ends (the first
                          layer's): overlap cannot hide their sum, so with one rank per host auto
                          does not choose it when they are more than half */
} dt_reducer_opts;

/* *buf [n] is summed in place over the ranks of c (which must outlive the
 * reducer); `nlayers` bounds the number of buckets.
 * When the ranks share hosts in runs the tree can use (see share() in
 * reduce.c), it reads the buffers of the ranks on the same host directly
 * instead of copying them through messages: *buf is then replaced by memory
 * those ranks can read (its values copied), and the caller must use that
 * from now on. */
dt_status dt_reducer_create(dt_comm *c, dt_real **buf, int64_t n, const dt_reducer_opts *o, int nlayers, dt_reducer **out);
/* `collective`: every rank calls this now (shared memory is released
 * together); otherwise it is left to the end of the process. */
void dt_reducer_free(dt_reducer *r, int collective);

/* Whether the step should sum during backward (overlap, chosen or by auto). */
int dt_reducer_overlaps(const dt_reducer *r);

/* Overlap, within one step: begin, then ready(from) as the values
 * [from, n) become final (from only decreases), then finish, which starts
 * what is left and waits for everything. */
void dt_reducer_begin(dt_reducer *r);
dt_status dt_reducer_ready(dt_reducer *r, int64_t from);
dt_status dt_reducer_finish(dt_reducer *r);

/* Sum buf[lo, hi) over the ranks now, by the configured method (tree or MPI_Allreduce). */
dt_status dt_reducer_allreduce(dt_reducer *r, int64_t lo, int64_t hi);

/* Sharded: after reduce_scatter(lo, hi) this rank's block of [lo, hi)
 * (see block) holds the sum; allgather(v, lo, hi) copies every rank's block
 * of v[lo, hi) to all ranks (v may be another array laid out like buf). */
dt_status dt_reducer_reduce_scatter(dt_reducer *r, int64_t lo, int64_t hi);
dt_status dt_reducer_allgather(dt_reducer *r, dt_real *v, int64_t lo, int64_t hi);
/* Rank 0 receives every rank's block of a range of length len into v (its
 * own block already in place there); the others send `mine`, their block. */
dt_status dt_reducer_gather(dt_reducer *r, const dt_real *mine, dt_real *v, int64_t len);
/* This rank's block of a range of length len: offset (from the range start) and length. */
void dt_reducer_block(const dt_reducer *r, int64_t len, int64_t *off, int64_t *blen);
int64_t dt_reducer_block_max(const dt_reducer *r, int64_t len);

/* How the sum is done, for the run's description. */
const char *dt_reducer_method(const dt_reducer *r);

/* Seconds this process spent blocked waiting on the reductions (finish and
 * the blocking calls), since creation. */
double dt_reducer_wait_seconds(const dt_reducer *r);

#endif
