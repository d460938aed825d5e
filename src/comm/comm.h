/* comm.h — everything dtrain asks of MPI, through communicator handles.
 * The only module (with reduce.c) that includes <mpi.h>; a lone process
 * (no mpirun) is a 1-rank world.
 *
 * A dt_comm wraps one MPI communicator with its rank and size. The world
 * handle comes from dt_comm_init, the one place that names MPI_COMM_WORLD;
 * its ranks are in host order (each host's ranks consecutive, rank 0 the
 * launcher's rank 0), which is the launcher's order wherever each host
 * holds a run of ranks, so that reductions sum inside hosts first;
 * dt_comm_split cuts it into independent groups (trials of a sweep), and
 * everything else takes the handle it works on.
 *
 * Errors: MPI is set to return error codes, and a failure anywhere becomes
 * a dt_status. dt_comm_agree() is how the ranks of one communicator learn
 * of each other's failures at phase boundaries: every rank passes its own
 * status and gets back the first failing rank's status and message, so the
 * ranks of that communicator stop together with the same explanation
 * instead of hanging in the next collective, and ranks outside it go on.
 *
 * Never hang: every wait on other ranks polls, and one that lasts longer
 * than the communicator's timeout returns DT_ERR_DIST ("waited N s in the
 * gradient allreduce ...", naming the rank and its host when the wait was
 * for one rank: across hosts, that names the host that was lost or cut
 * off) instead of blocking for ever. The communicator
 * is then broken (its collectives no longer match): every later call on it
 * fails at once with the same message, so this rank's run unwinds and
 * reports, while ranks outside it go on. dt_comm_finalize then makes sure
 * that a rank that hangs ends with the job and not before the others.
 *
 * One way out reaches further, because no MPI call can end only some of
 * the processes of a job: dt_comm_abort (MPI_Abort: Open MPI ends the whole
 * job), for callers that ask for it. */
#ifndef DT_COMM_H
#define DT_COMM_H

#include "core/core.h"

typedef struct dt_comm dt_comm;

/* Start MPI (once per process) and return the world's handle. */
dt_status dt_comm_init(int *argc, char ***argv, dt_comm **world);
/* Free the world handle and finalize MPI, once every process of the world
 * has got here: the launcher ends the whole job when one process leaves
 * without finalizing, so none may leave early. A process whose
 * communicator broke waits for that communicator's other ranks for one
 * timeout only; if one never comes (it hangs), this returns DT_ERR_DIST
 * without finalizing, after every other process is done, and the caller
 * exits: the launcher then ends the one that hangs. */
dt_status dt_comm_finalize(dt_comm *world);
/* Collective over c: the ranks passing the same color form a new
 * communicator, ranked by key. Free it with dt_comm_free. */
dt_status dt_comm_split(dt_comm *c, int color, int key, dt_comm **out);
void dt_comm_free(dt_comm *c);

int dt_comm_rank(const dt_comm *c);
int dt_comm_size(const dt_comm *c);
/* Whether a wait on c timed out or MPI failed on it: no call on c works
 * any more, and each of its ranks reports for itself (there is no one left
 * to agree with). */
int dt_comm_broken(const dt_comm *c);
/* DT_OK, or the error that broke c (its message in dt_errmsg()). */
dt_status dt_comm_check(dt_comm *c);
/* Keep p allocated (and reachable) for good instead of freeing it: memory
 * that a request abandoned on a broken communicator may still write into. */
void dt_comm_keep(void *p);
/* End now, for failures that cannot be agreed on (MPI_Abort on c: under
 * Open MPI that ends the whole job, whatever the communicator). */
void dt_comm_abort(dt_comm *c, int code) __attribute__((noreturn));

dt_status dt_comm_bcast(dt_comm *c, void *buf, int64_t bytes, int root);
dt_status dt_comm_bcast_real(dt_comm *c, dt_real *buf, int64_t n, int root);
/* Broadcast a string from root; on other ranks *s is replaced by a malloc'ed copy. */
dt_status dt_comm_bcast_str(dt_comm *c, char **s, int root);
/* In-place sums over the ranks of c. */
dt_status dt_comm_allreduce_f64(dt_comm *c, double *buf, int n);
dt_status dt_comm_allreduce_i64(dt_comm *c, int64_t *buf, int n);

/* Combine the status of every rank of c; on failure, the lowest failing
 * rank's status is returned on every rank and dt_errmsg() holds "rank R:
 * <its message>" (just "<message>" with one rank, or when all failed alike). */
dt_status dt_comm_agree(dt_comm *c, dt_status local);

/* Whether every rank holds bitwise the same n values as rank 0 (*equal is
 * the same on every rank). A self-check of data parallelism, run at the end. */
dt_status dt_comm_replicas_equal(dt_comm *c, const dt_real *buf, int64_t n, int *equal);

/* Rank r's value lands in all[r] on rank 0 (all has dt_comm_size() entries there). */
dt_status dt_comm_gather_f64(dt_comm *c, double v, double *all);

/* Rank r's n doubles (n may differ by rank), concatenated in rank order,
 * into *all (malloc'ed) with *total values on rank 0; NULL and 0 elsewhere.
 * Collective: a rank that fails (memory) fails every rank. */
dt_status dt_comm_gatherv_f64(dt_comm *c, const double *mine, int64_t n, double **all, int64_t *total);

/* Rank r's n doubles (n may differ by rank), concatenated in rank order,
 * into all (room for cap values) on every rank; *total gets the count and
 * *first where this rank's values start. For the training step, so nothing
 * is allocated: mine and all must stay allocated while c lives (a timed-out
 * wait leaves MPI writing into them). More than cap values in all is an error. */
dt_status dt_comm_allgatherv_f64(dt_comm *c, const double *mine, int64_t n, double *all, int64_t cap, int64_t *total,
                                 int64_t *first);

/* The name of the host rank `rank` of c runs on (MPI_Get_processor_name,
 * learnt by every process at dt_comm_init); "?" if unknown. */
const char *dt_comm_host(const dt_comm *c, int rank);
/* For a signal handler (only reads memory): what this process waits for
 * now, as " while waiting in the tree reduction for rank 2 on host h1"
 * (or "... for the other ranks"); when it does not wait, the first error
 * that broke a communicator (" after an error (...)"), or ""; *len gets
 * its length. */
const char *dt_comm_wait_note(int *len);

/* hook() is called as each wait on other ranks begins, after the note
 * above says what it waits for (the CLI ends there a rank the launcher
 * asked to end while it was computing). */
void dt_comm_set_wait_hook(void (*hook)(void));

/* Seconds on MPI's clock. */
double dt_comm_time(void);

/* Seconds one wait on c's other ranks may last before it fails and breaks
 * c; 0 (the default) waits for ever. */
void dt_comm_set_timeout(dt_comm *c, double seconds);
/* While patient (1), waits on c have no limit: ranks waiting for rank 0's
 * file I/O (checkpoints) may wait as long as that takes. */
void dt_comm_patient(dt_comm *c, int on);

#endif
