/* net.h — a network built from a model file: its layers in order, its
 * losses, one flat parameter buffer and one flat gradient buffer.
 *
 * Model file: an [input] section (shape = F or C,H,W), then one section per
 * layer or loss, named by the user, with a `type` key (loss.h). A model
 * without loss sections whose last layer ends in sigmoid or softmax gets the
 * matching cross-entropy on that layer (named "loss"): the older spelling,
 * with [model] loss = auto | bce | softmax_ce in the config. Any other model
 * without losses is headless: it runs forward only (features, inference).
 *
 * Side sections describe how commands use the network and are not layers:
 * [preprocess] (how a picture becomes the input: detect, faces), [yolo] (how
 * the output decodes into boxes) and [tfjs] (which TensorFlow.js weight
 * fills each parameter: dtrain import tfjs). The network skips them.
 *
 * Every layer section takes `trainable = 0` to freeze its parameters: they
 * get no gradient, no optimizer state, and sit after the trained ones in
 * the flat buffer, outside the prefix [0, ntrain) that is reduced and updated. */
#ifndef DT_NET_H
#define DT_NET_H

#include "nn/layer.h"
#include "nn/loss.h"

typedef enum { DT_LOSS_AUTO = 0, DT_LOSS_BCE, DT_LOSS_SOFTMAX_CE } dt_loss;
extern const char *const dt_loss_names[]; /* "auto", "bce", "softmax_ce": [model] loss */

typedef struct {
    int nlayers;
    dt_layer *layers;
    int nlosses;
    dt_loss_term *losses;
    const char **loss_names; /* [nlosses]: the losses' names, for logs */
    int implicit_loss;   /* its one loss is the older spelling's, named "loss" */
    dt_shape in;
    int64_t maxn;        /* rows the buffers hold */
    int64_t nparams;     /* length of the flat parameter buffer (with alignment padding) */
    int64_t ntrain;      /* its trained prefix: grads holds ntrain + nstats */
    int64_t nstats;      /* reals of layer statistics after the gradients */
    int64_t ncount;      /* number of real parameters */
    int64_t nfrozen;     /* of which frozen */
    dt_real *params, *grads;
    int grads_borrowed;  /* grads belongs to someone else (dt_net_set_grads) */
    int64_t nbufs;       /* length of bufs: running statistics, not trained */
    dt_real *bufs;
    dt_real *buffers;    /* one block for every layer's y, dy and scratch */
    int64_t row_reals;   /* reals of `buffers` per batch row: what a larger maxn costs */
    int classifier;      /* the first loss with class labels (accuracy, predictions), or -1 */
    int nclasses;        /* its class count (2 for bce); 0 without one */
    dt_target_kind target; /* what the losses read from the data */
    int64_t target_len;  /* DT_TARGET_DENSE: reals per row */
    int input_grad;      /* backward is planned to write the input gradient */
    int *writers;        /* [nlayers + 1] planning scratch */
    double *times;       /* NULL, or seconds added up per layer: see dt_net_time_into */
    int64_t max_params;  /* dt_net_build_within's bound (0: none) */
    const char *weights_src; /* and the file it comes from, for the message */
} dt_net;

/* Build from a parsed model file: layers configured, buffers allocated for
 * `maxn` rows, parameters zero (call dt_net_init). `loss` is the config's
 * [model] loss for models without loss sections (AUTO otherwise).
 * Errors name the model file, section and key. */
dt_status dt_net_build(dt_ini *model, int64_t maxn, dt_loss loss, dt_net **out);
/* The same, refusing a model of more than max_params parameters before
 * anything is allocated for them: a model text read from the file `src`
 * whose weights hold only that many values (the error names src). */
dt_status dt_net_build_within(dt_ini *model, int64_t maxn, dt_loss loss, int64_t max_params, const char *src,
                              dt_net **out);
void dt_net_free(dt_net *net);
/* Whether a model section of this name is a side section (see above). */
int dt_net_side_section(const char *sec);

/* Initial values from np.random.seed(seed), layer by layer. */
dt_status dt_net_init(dt_net *net, uint32_t seed);

/* The layer called `name`, or -1. */
int dt_net_find(const dt_net *net, const char *name);
/* Give layer idx its own output again where the activation after it was
 * folded into it (a relu or leaky relu read by nothing else: the network
 * does this as it builds), for callers that read that layer's y. */
void dt_net_unfold(dt_net *net, int idx);
/* For inference only, two folds that save a pass over the activations each:
 * - each scale layer into the convolution before it (its only reader, with
 *   a bias and no activation of its own): W and b take the scale, the
 *   convolution the scale's activation;
 * - each residual add one of whose sides is a convolution (or a scale folded
 *   into one) read by nothing else, computed after the other side: the
 *   convolution adds the other side in its output pass and takes the add's
 *   activation. Same sums in the same order.
 * The folded layers are skipped. The parameters are no longer the
 * checkpoint's and backward does not know the folds, so such a network must
 * not be trained or saved. Returns how many layers were folded. */
int dt_net_fold_inference(dt_net *net);
/* Whether networks built from now on fold activations (1, the default;
 * 0 for comparisons). */
void dt_net_set_folding(int on);

/* Forward pass over p->n rows of x [n, in]; returns the last layer's output [n, out]. */
const dt_real *dt_net_forward(dt_net *net, const dt_real *x, const dt_pass *p);

/* How many losses logs show by name: all of them, or none when the one
 * loss is the implicit "loss" (its value is then the loss itself). */
static inline int dt_net_named_losses(const dt_net *net) { return net->implicit_loss ? 0 : net->nlosses; }

/* Reals dt_net_loss sums into: the objective, then each loss (unweighted). */
static inline int dt_net_nsums(const dt_net *net) { return 1 + net->nlosses; }

/* The losses of the last forward pass against the targets of its n rows:
 * sums[0] += Σ weight · (loss summed over the rows), sums[1 + k] += loss k
 * summed over the rows, and *correct += the classifier's correct
 * predictions (may be NULL). When `grad_scale` is nonzero, also writes the
 * gradient of grad_scale · sums[0] into the layers' dy, ready for backward. */
void dt_net_loss(dt_net *net, const dt_targets *t, int64_t n, dt_real grad_scale, double *sums, int64_t *correct);
/* Take loss `loss`'s reference (content and style losses) from its layer's
 * output for row 0 of the last forward pass: forward the content image,
 * capture the content loss; forward the style image, capture the style losses. */
dt_status dt_net_capture(dt_net *net, const char *loss);

/* Backward pass: accumulates into grads (callers zero them per step).
 * Layers run only where a loss's gradient reaches them and something at or
 * before them wants one (trained parameters, or the input). dx, when not
 * NULL, receives the gradient w.r.t. the input [n, in]. */
void dt_net_backward(dt_net *net, const dt_real *x, dt_real *dx, const dt_pass *p);

/* L2 penalty λ/(2m)·ΣW² over trained weights; adds λ/m·W to their gradients when add_grad. */
double dt_net_l2(dt_net *net, double lambda, double m, int add_grad);

/* Move the gradients and the statistics after them to buf [ntrain + nstats]
 * (memory the other ranks can read, say), which the caller owns from now on;
 * the values are expected to be there already. */
void dt_net_set_grads(dt_net *net, dt_real *buf);

/* Zero the gradients and the statistics after them. */
void dt_net_zero_grads(dt_net *net);

/* Apply the step's summed layer statistics (batch-norm running statistics). */
void dt_net_commit_stats(dt_net *net);

/* Freeze every layer now (no parameter gradients from here on; buffers
 * stay as they are): for optimising an input through a fixed network. */
void dt_net_freeze_all(dt_net *net);

/* Add the seconds each layer spends to secs [2 * nlayers + 1]: forward of
 * layer i at i, its backward at nlayers + i, the losses (forward and
 * gradient) at 2 * nlayers; NULL stops. For `dtrain bench`. */
void dt_net_time_into(dt_net *net, double *secs);

/* Multiply-adds of a layer with weights per example, counted as 2 FLOPs
 * each (its forward; backward is about twice that); 0 for the others. */
double dt_layer_flops(const dt_layer *l);

/* Predicted class of each row of the last forward pass (needs a classifier). */
void dt_net_predict(const dt_net *net, int64_t n, int32_t *cls, dt_real *prob);

#endif
