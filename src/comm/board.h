/* board.h — a small table of doubles, kept on rank 0 of a communicator,
 * that any of its ranks reads and changes without the others taking part
 * (MPI one-sided communication under an exclusive lock). dtrain sweep's
 * groups share the next trial's number and each trial's result at each
 * rung this way while every group trains at its own pace.
 *
 * On one machine this needs nothing of rank 0 (shared memory); across
 * machines Open MPI may progress a lock request only while rank 0 is inside
 * an MPI call, which a training run on several ranks makes every step. */
#ifndef DT_BOARD_H
#define DT_BOARD_H

#include "comm/comm.h"

typedef struct dt_board dt_board;

/* Collective over c: a board of n values, set to init[0, n) (rank 0's;
 * NULL: zeros). */
dt_status dt_board_create(dt_comm *c, int64_t n, const double *init, dt_board **out);
/* Frees this rank's handle. The window itself goes with MPI_Finalize:
 * freeing it is collective, and a rank of a broken group may never come. */
void dt_board_free(dt_board *b);

/* Between lock and unlock no other rank reads or changes the board. */
dt_status dt_board_lock(dt_board *b);
dt_status dt_board_get(dt_board *b, int64_t off, int64_t n, double *out);
dt_status dt_board_put(dt_board *b, int64_t off, int64_t n, const double *in);
dt_status dt_board_unlock(dt_board *b);

#endif
