/* invert.h — optimising a network's input instead of its parameters.
 *
 * Style transfer and feature inversion move an image x so that the
 * network's losses on it fall, through a network whose parameters stay
 * fixed. This is the training step with x in the place of the parameters:
 * forward, the losses against the targets, backward into dx, one update of
 * x by any of the optimizers (dt_optim), with its own state. */
#ifndef DT_INVERT_H
#define DT_INVERT_H

#include "nn/net.h"
#include "optim/optim.h"

typedef struct {
    dt_net *net;      /* frozen by dt_invert_init */
    dt_optim o;
    int64_t n, len;   /* rows of x, and its reals */
    dt_real *x;       /* [n, in]: the caller's, updated in place */
    dt_real *dx;      /* [n, in] */
    dt_real *state[2];
    int64_t t;        /* updates so far */
    double *sums;     /* [dt_net_nsums] */
} dt_invert;

/* Freeze the network and allocate what the steps need; n ≤ net->maxn. */
dt_status dt_invert_init(dt_invert *v, dt_net *net, const dt_optim *o, dt_real *x, int64_t n);
/* One update of x at learning rate lr; *loss gets the objective's mean over
 * the rows before the update. Allocates nothing. */
void dt_invert_step(dt_invert *v, const dt_targets *t, double lr, double *loss);
void dt_invert_free(dt_invert *v);

#endif
