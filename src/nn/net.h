/* net.h — a network built from a model file: its layers in order, one flat
 * parameter buffer and one flat gradient buffer, and the loss.
 *
 * Model file: an [input] section (shape = F or C,H,W), then one section per
 * layer, named by the user, with a `type` key. The network's output layer
 * ends in sigmoid (binary cross-entropy, one unit) or softmax (softmax
 * cross-entropy, one unit per class); the loss is fused with that
 * activation, so its gradient is the stable (a - y). */
#ifndef DT_NET_H
#define DT_NET_H

#include "nn/layer.h"

typedef enum { DT_LOSS_AUTO = 0, DT_LOSS_BCE, DT_LOSS_SOFTMAX_CE } dt_loss;
extern const char *const dt_loss_names[]; /* "auto", "bce", "softmax_ce" */

typedef struct {
    int nlayers;
    dt_layer *layers;
    dt_shape in;
    int64_t maxn;        /* rows the buffers hold */
    int64_t nparams;     /* length of the flat buffers (with alignment padding) */
    int64_t nstats;      /* reals of layer statistics after the gradients: grads holds nparams + nstats */
    int64_t ncount;      /* number of real parameters */
    dt_real *params, *grads;
    int grads_borrowed;  /* grads belongs to someone else (dt_net_set_grads) */
    int64_t nbufs;       /* length of bufs: running statistics, not trained */
    dt_real *bufs;
    dt_real *buffers;    /* one block for every layer's y, dy and scratch */
    int64_t row_reals;   /* reals of `buffers` per batch row: what a larger maxn costs */
    dt_loss loss;
    int nclasses;        /* 2 for bce */
} dt_net;

/* Build from a parsed model file: layers configured, buffers allocated for
 * `maxn` rows, parameters zero (call dt_net_init). `loss` may be AUTO.
 * Errors name the model file, section and key. */
dt_status dt_net_build(dt_ini *model, int64_t maxn, dt_loss loss, dt_net **out);
void dt_net_free(dt_net *net);

/* Initial values from np.random.seed(seed), layer by layer. */
dt_status dt_net_init(dt_net *net, uint32_t seed);

/* Forward pass over p->n rows of x [n, in]; returns the output [n, out]. */
const dt_real *dt_net_forward(dt_net *net, const dt_real *x, const dt_pass *p);

/* Loss of the last forward pass against labels y [n]: adds the summed loss
 * over the rows to *loss_sum and the correct predictions to *correct. When
 * `grad_scale` is nonzero, also writes the gradient of (grad_scale · summed
 * loss) into the output layer's dy, ready for dt_net_backward. */
void dt_net_loss(dt_net *net, const int32_t *y, int64_t n, dt_real grad_scale, double *loss_sum,
                 int64_t *correct);

/* Backward pass: accumulates into grads (callers zero them per step).
 * dx, when not NULL, receives the gradient w.r.t. the input [n, in]. */
void dt_net_backward(dt_net *net, const dt_real *x, dt_real *dx, const dt_pass *p);

/* L2 penalty λ/(2m)·ΣW² over weights; adds λ/m·W to their gradients when add_grad. */
double dt_net_l2(dt_net *net, double lambda, double m, int add_grad);

/* Move the gradients and the statistics after them to buf [nparams + nstats]
 * (memory the other ranks can read, say), which the caller owns from now on;
 * the values are expected to be there already. */
void dt_net_set_grads(dt_net *net, dt_real *buf);

/* Zero the gradients and the statistics after them. */
void dt_net_zero_grads(dt_net *net);

/* Apply the step's summed layer statistics (batch-norm running statistics). */
void dt_net_commit_stats(dt_net *net);

/* Predicted class of each row of the last forward pass. */
void dt_net_predict(const dt_net *net, int64_t n, int32_t *cls, dt_real *prob);

#endif
