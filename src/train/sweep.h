/* sweep.h — dtrain sweep: random search over hyperparameters, trials side
 * by side on groups of ranks, chosen on a dev split, with asynchronous
 * successive halving (early stopping) and resume.
 *
 * The world is split into P/G groups of G ranks. Each group runs one trial
 * at a time — an ordinary training run (dt_train) on its communicator, into
 * OUT/trial-NNN — and takes the next trial number from a board shared by
 * all (comm/board.h) when it finishes, so groups never wait for each other.
 * Every trial holds out [sweep] dev_fraction of the training rows as a dev
 * split and is judged on it; the test split is read once, at the end, for
 * the chosen trial. With early stopping, a trial reaching a rung epoch
 * (first, first·eta, ...) writes its dev metric on the board and stops
 * unless it is in the top 1/eta of the results there so far.
 *
 * OUT/sweep.jsonl gets one line per finished trial (done, stopped or
 * failed, with its one-line reason); a sweep run again with the same OUT
 * skips the trials found there. World rank 0 prints the table sorted by
 * the best dev metric, writes it to OUT/table.txt and evaluates the best
 * trial on the test split. */
#ifndef DT_SWEEP_H
#define DT_SWEEP_H

#include <stdio.h>

#include "comm/comm.h"

typedef struct {
    const char *config;     /* a training config; its [sweep] section gives defaults */
    char *const *overrides; /* "section.key=value" for every trial (and sweep.KEY) */
    int noverrides;
    char *const *params;    /* --param specs (sweep_spec.h), after [sweep] params */
    int nparams;
    long trials;            /* 0: [sweep] trials */
    long ranks_per_trial;   /* 0: [sweep] ranks_per_trial (1) */
    long seed;              /* -1: [sweep] seed (0) */
    int early_stop;         /* -1: [sweep] early_stop (1) */
    const char *out_dir;    /* NULL: [sweep] out, default sweeps/<config name> */
    dt_comm *comm;
    FILE *out;              /* progress lines (group leaders) and the table (world rank 0) */
} dt_sweep_args;

dt_status dt_sweep(const dt_sweep_args *a);

#endif
