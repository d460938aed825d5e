/* dist.h — everything dtrain asks of MPI. The only module that includes
 * <mpi.h>; a lone process (no mpirun) is a 1-rank run.
 *
 * Errors: MPI is set to return error codes, and a failure anywhere becomes
 * a dt_status. dt_dist_agree() is how ranks learn of each other's failures
 * at phase boundaries: every rank passes its own status and gets back the
 * first failing rank's status and message, so all ranks stop together with
 * the same explanation instead of hanging in the next collective. */
#ifndef DT_DIST_H
#define DT_DIST_H

#include "core/core.h"

dt_status dt_dist_init(int *argc, char ***argv);
void dt_dist_finalize(void);
int dt_dist_rank(void);
int dt_dist_size(void);
/* End every rank now (for failures that cannot be agreed on). */
void dt_dist_abort(int code) __attribute__((noreturn));

dt_status dt_dist_bcast(void *buf, int64_t bytes, int root);
dt_status dt_dist_bcast_real(dt_real *buf, int64_t n, int root);
/* Broadcast a string from root; on other ranks *s is replaced by a malloc'ed copy. */
dt_status dt_dist_bcast_str(char **s, int root);
/* In-place sums over all ranks. */
dt_status dt_dist_allreduce_f64(double *buf, int n);
dt_status dt_dist_allreduce_i64(int64_t *buf, int n);

/* Combine every rank's status; on failure, the lowest failing rank's status
 * is returned on every rank and dt_errmsg() holds "rank R: <its message>"
 * (just "<message>" in a 1-rank run, or when all ranks failed alike). */
dt_status dt_dist_agree(dt_status local);

/* Whether every rank holds bitwise the same n values as rank 0 (*equal is
 * the same on every rank). A self-check of data parallelism, run at the end. */
dt_status dt_dist_replicas_equal(const dt_real *buf, int64_t n, int *equal);

/* Rank r's value lands in all[r] on rank 0 (all has dt_dist_size() entries there). */
dt_status dt_dist_gather_f64(double v, double *all);

double dt_dist_time(void);

/* Never hang: a watchdog thread ends this process (and so, through the
 * launcher, the job) when one blocking wait for the other ranks lasts more
 * than timeout_s seconds, naming what it waited in. The launcher usually
 * ends the job first when a rank dies; this covers a rank that hangs, or a
 * launcher that does not. 0 turns it off. */
dt_status dt_dist_watchdog(double timeout_s);
/* Bracket a blocking wait on other ranks (what: "the gradient allreduce"). */
void dt_dist_wait_begin(const char *what);
void dt_dist_wait_end(void);
/* While paused (1) the watchdog does not fire: ranks waiting for rank 0's
 * file I/O (checkpoints) may wait as long as that takes. */
void dt_dist_watch_pause(int on);

#endif
