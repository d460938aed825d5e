/* split_train.c — independent trainings on a split of the world (test
 * helper for issue 10's communicator handles):
 *   mpiexec -np P split_train CONFIG_0 OUT_0 CONFIG_1 OUT_1 ...
 * with K config/out pairs, world rank r joins trial r % K, a communicator of
 * its own, and trains CONFIG_{r%K} into OUT_{r%K}. Rank 0 of each trial prints
 * "trial K: ..." lines: its final evaluation, or its error. A failing trial
 * ends its own ranks only; the process exits 1 then, after MPI finalizes,
 * so the other trials run to their end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "ops/ops.h"
#include "train/train.h"

typedef struct {
    int trial, rank;
} who;

static void on_event(void *user, const dt_event *ev)
{
    const who *w = user;
    if (ev->kind == DT_EV_EVAL)
        printf("trial %d: %s loss %.6f accuracy %.6f (%lld/%lld)\n", w->trial, ev->split, ev->loss, ev->accuracy,
               (long long)ev->correct, (long long)ev->count);
    if (ev->kind == DT_EV_END) printf("trial %d: done, %lld steps, checkpoint %s\n", w->trial, (long long)ev->step, ev->text);
}

int main(int argc, char **argv)
{
    dt_blas_init();
    dt_comm *world, *mine;
    if (dt_comm_init(&argc, &argv, &world)) {
        fprintf(stderr, "split_train: %s\n", dt_errmsg());
        return 1;
    }
    int k = (argc - 1) / 2;
    if (k < 1 || argc != 2 * k + 1) {
        if (dt_comm_rank(world) == 0) fprintf(stderr, "usage: split_train CONFIG OUT [CONFIG OUT ...]\n");
        dt_comm_finalize(world);
        return 2;
    }
    int r = dt_comm_rank(world), t = r % k, rc = 0;
    if (dt_comm_split(world, t, r, &mine)) {
        fprintf(stderr, "split_train: %s\n", dt_errmsg());
        dt_comm_finalize(world);
        return 1;
    }
    who w = {t, dt_comm_rank(mine)};
    dt_run_args a = {.config = argv[1 + 2 * t], .out_dir = argv[2 + 2 * t], .comm = mine,
                     .on_event = on_event, .user = &w};
    dt_status st = dt_train(&a);
    if (st) {
        /* a broken communicator has no agreement: each of its ranks says why */
        if (w.rank == 0 || dt_comm_broken(mine)) printf("trial %d: error: %s\n", t, dt_errmsg());
        rc = 1;
    }
    fflush(stdout);
    dt_comm_free(mine);
    if (dt_comm_finalize(world)) {
        printf("trial %d: %s\n", t, dt_errmsg());
        rc = 1;
    }
    return rc;
}
