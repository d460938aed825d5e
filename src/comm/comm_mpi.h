/* comm_mpi.h — the inside of a dt_comm, for comm.c and reduce.c alone. */
#ifndef DT_COMM_MPI_H
#define DT_COMM_MPI_H

#include <mpi.h>

#include "comm/comm.h"

struct dt_comm {
    MPI_Comm comm;
    int rank, size;
    int owned; /* made by a split: MPI_Comm_free it */
};

/* "rank R: WHAT failed: MPI's message" as a dt_status. */
dt_status dt_comm_mpi_fail(const dt_comm *c, int rc, const char *what);

#endif
