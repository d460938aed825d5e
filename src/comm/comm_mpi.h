/* comm_mpi.h — the inside of a dt_comm, for comm.c and reduce.c alone. */
#ifndef DT_COMM_MPI_H
#define DT_COMM_MPI_H

#include <mpi.h>

#include "comm/comm.h"

struct dt_comm {
    MPI_Comm comm;
    int rank, size;
    int owned;      /* made by a split: MPI_Comm_free it */
    double timeout; /* seconds one wait may last; 0: no limit */
    int patient;    /* waits have no limit for now (rank 0's file I/O) */
    int broken;     /* no call may be made on it any more: a wait timed out
                       or MPI failed, so its collectives no longer match */
    char why[512];  /* the error that broke it */
    int peer;       /* the one rank the wait under way is for (a partner
                       of the tree), or -1: the timeout's message names it */
    int *world;     /* world rank of each rank (NULL: c is the world) */
    char hosts[96]; /* " (on hosts h0, h1)" where its ranks span hosts, else "" */
    /* Small collectives go through this buffer, owned by the handle: a wait
     * that times out leaves its request to complete whenever the late rank
     * comes, and MPI must then write into memory nobody reuses (a broken
     * handle and its stage are never freed). */
    char *stage;
};

enum { DT_COMM_STAGE = 1 << 20 };


/* Marks c broken and returns "rank R: WHAT failed: MPI's message". */
dt_status dt_comm_mpi_fail(dt_comm *c, int rc, const char *what);
/* Complete n requests on c (from `peer`, a rank of c, when they are
 * all with one rank, else -1), polling so that a wait longer than c's
 * timeout returns (c broken) instead of blocking for ever. */
dt_status dt_comm_wait(dt_comm *c, MPI_Request *req, int n, const char *what);
dt_status dt_comm_wait_peer(dt_comm *c, MPI_Request *req, int n, int peer, const char *what);
/* A non-blocking MPI call on c (its request is named rq_), then the
 * watched wait; returns from the caller on failure. */
#define DT_MPI_WAIT_ON(c, icall, what)                                                       \
    do {                                                                                     \
        DT_TRY(dt_comm_check(c));                                                            \
        MPI_Request rq_;                                                                     \
        int rc_ = (icall);                                                                   \
        if (rc_ != MPI_SUCCESS) return dt_comm_mpi_fail(c, rc_, what);                       \
        DT_TRY(dt_comm_wait(c, &rq_, 1, what));                                              \
    } while (0)

/* For a wait that polls by itself, started at t0 (dt_comm_time()) and set
 * up by dt_comm_waiting: DT_OK while it may go on, the timeout's error (c
 * broken) once it may not. */
dt_status dt_comm_waited(dt_comm *c, double t0, const char *what);
/* This process now waits in `what` on c, for rank `peer` of c (-1: for
 * several); dt_comm_done_waiting when it no longer does. What the launcher's
 * SIGTERM handler says (dt_comm_wait_note) comes from here. */
void dt_comm_waiting(dt_comm *c, int peer, const char *what);
void dt_comm_done_waiting(dt_comm *c);

#endif
