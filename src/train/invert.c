/* invert.c — gradient steps on a network's input (see invert.h). */
#include "train/invert.h"

#include <stdlib.h>
#include <string.h>

dt_status dt_invert_init(dt_invert *v, dt_net *net, const dt_optim *o, dt_real *x, int64_t n)
{
    memset(v, 0, sizeof *v);
    if (n < 1 || n > net->maxn)
        return dt_error(DT_ERR_ARG, "an input of %lld rows: the network holds 1 to %lld", (long long)n, (long long)net->maxn);
    if (net->nlosses == 0) return dt_error(DT_ERR_CONFIG, "the network has no loss to lower");
    dt_net_freeze_all(net);
    v->net = net;
    v->o = *o;
    v->n = n;
    v->len = n * dt_shape_size(net->in);
    v->x = x;
    v->dx = dt_alloc((size_t)v->len * sizeof(dt_real));
    v->sums = calloc((size_t)dt_net_nsums(net), sizeof *v->sums);
    int ok = v->dx && v->sums;
    for (int k = 0; k < dt_optim_nstate(o); k++) ok = ok && (v->state[k] = dt_alloc((size_t)v->len * sizeof(dt_real)));
    if (!ok) {
        dt_invert_free(v);
        return dt_error(DT_ERR_NOMEM, "out of memory for the input's optimizer");
    }
    return DT_OK;
}

void dt_invert_step(dt_invert *v, const dt_targets *t, double lr, double *loss)
{
    dt_pass p = {.n = v->n, .train = 0};
    memset(v->sums, 0, (size_t)dt_net_nsums(v->net) * sizeof *v->sums);
    dt_net_forward(v->net, v->x, &p);
    /* the mean over the rows, as training takes it */
    dt_net_loss(v->net, t, v->n, (dt_real)(1.0 / (double)v->n), v->sums, NULL);
    dt_net_backward(v->net, v->x, v->dx, &p);
    dt_optim_step(&v->o, lr, ++v->t, v->x, v->dx, v->state, v->len);
    if (loss) *loss = v->sums[0] / (double)v->n;
}

void dt_invert_free(dt_invert *v)
{
    dt_free(v->dx);
    free(v->sums);
    for (int k = 0; k < 2; k++) dt_free(v->state[k]);
    memset(v, 0, sizeof *v);
}
