/* board.c — a table of doubles on rank 0, read and changed one-sidedly. */
#include "comm/board.h"

#include <stdlib.h>
#include <string.h>

#include "comm/comm_mpi.h"

struct dt_board {
    dt_comm *c;
    MPI_Win win;
    int64_t n;
};

/* A failed one-sided call is this rank's error alone: it does not break
 * the communicator (the other groups' collectives are not involved). */
static dt_status rma_fail(int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return dt_error(DT_ERR_DIST, "%s failed: %s", what, msg);
}

#define TRY_RMA(call, what)                                                                  \
    do {                                                                                     \
        int rc_ = (call);                                                                    \
        if (rc_ != MPI_SUCCESS) return rma_fail(rc_, what);                                  \
    } while (0)

dt_status dt_board_create(dt_comm *c, int64_t n, const double *init, dt_board **out)
{
    *out = NULL;
    DT_TRY(dt_comm_check(c));
    if (n < 1 || n > (1 << 26)) return dt_error(DT_ERR_ARG, "a board of %lld values", (long long)n);
    dt_board *b = calloc(1, sizeof *b);
    if (!b) return dt_error(DT_ERR_NOMEM, "out of memory");
    b->c = c;
    b->n = n;
    double *base = NULL;
    MPI_Aint bytes = c->rank == 0 ? (MPI_Aint)(n * (int64_t)sizeof(double)) : 0;
    int rc = MPI_Win_allocate(bytes, (int)sizeof(double), MPI_INFO_NULL, c->comm, &base, &b->win);
    if (rc != MPI_SUCCESS) {
        free(b);
        return dt_comm_mpi_fail(c, rc, "creating the shared board");
    }
    MPI_Win_set_errhandler(b->win, MPI_ERRORS_RETURN);
    if (c->rank == 0) {
        if (init) memcpy(base, init, (size_t)n * sizeof(double));
        else memset(base, 0, (size_t)n * sizeof(double));
    }
    /* nobody reads the board before rank 0 has filled it */
    dt_status st = dt_comm_agree(c, DT_OK);
    if (st) {
        free(b);
        return st;
    }
    *out = b;
    return DT_OK;
}

void dt_board_free(dt_board *b) { free(b); }

dt_status dt_board_lock(dt_board *b)
{
    TRY_RMA(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, b->win), "locking the shared board");
    return DT_OK;
}

dt_status dt_board_unlock(dt_board *b)
{
    TRY_RMA(MPI_Win_unlock(0, b->win), "unlocking the shared board");
    return DT_OK;
}

dt_status dt_board_get(dt_board *b, int64_t off, int64_t n, double *out)
{
    if (off < 0 || n < 0 || off + n > b->n) return dt_error(DT_ERR_ARG, "board values [%lld, %lld) of %lld", (long long)off, (long long)(off + n), (long long)b->n);
    TRY_RMA(MPI_Get(out, (int)n, MPI_DOUBLE, 0, (MPI_Aint)off, (int)n, MPI_DOUBLE, b->win), "reading the shared board");
    TRY_RMA(MPI_Win_flush(0, b->win), "reading the shared board");
    return DT_OK;
}

dt_status dt_board_put(dt_board *b, int64_t off, int64_t n, const double *in)
{
    if (off < 0 || n < 0 || off + n > b->n) return dt_error(DT_ERR_ARG, "board values [%lld, %lld) of %lld", (long long)off, (long long)(off + n), (long long)b->n);
    TRY_RMA(MPI_Put(in, (int)n, MPI_DOUBLE, 0, (MPI_Aint)off, (int)n, MPI_DOUBLE, b->win), "writing the shared board");
    TRY_RMA(MPI_Win_flush(0, b->win), "writing the shared board");
    return DT_OK;
}
