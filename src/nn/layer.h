/* layer.h — what every layer type provides, and what the network gives it.
 *
 * Tensors are batch first: dense activations [N, F], images NCHW. A layer's
 * shapes are per example, {c, h, w}; dense data uses {features, 1, 1}.
 * A layer reads one input (two for `add`), each the output of an earlier
 * layer or the network's input, and writes [N, out] into y.
 * The network owns all buffers, sized for the largest batch at build time,
 * so nothing is allocated in the training step:
 *   y, dy      [maxn, out]  output and the gradient w.r.t. it
 *   scratch    layer-specific (pre-activations, masks, im2col, arg-max indices stored
 *              as int32), scratch_len reals per example plus scratch_fixed reals per
 *              layer; 64-byte aligned
 *   x[k], dx[k] the inputs and where their gradients go (dx[k] NULL: not wanted);
 *              when dx_accum[k] is set another consumer wrote first, so add into it
 *   params[i]  views into the flat parameter and gradient buffers (g NULL when frozen); buffers
 *              (batch-norm running statistics) live in a separate flat array,
 *              have no gradient, are checkpointed and identical on all ranks
 *   stats      per-step sums (batch-norm group statistics) placed after the
 *              gradients in the same flat buffer, so the gradient reduction
 *              sums them over ranks too; commit() then applies them
 */
#ifndef DT_LAYER_H
#define DT_LAYER_H

#include "core/core.h"
#include "core/rng.h"
#include "io/ini.h"
#include "ops/ops.h"

typedef struct {
    int c, h, w;
} dt_shape;

static inline int64_t dt_shape_size(dt_shape s) { return (int64_t)s.c * s.h * s.w; }

#define DT_MAX_PARAMS 4
#define DT_MAX_INPUTS 2

typedef struct {
    char name[24];   /* "W", "b", "gamma", "running_mean" */
    int ndim;
    int64_t dims[4]; /* PyTorch layout */
    int64_t size;
    dt_real *w, *g;  /* views into the flat buffers; g is NULL for a buffer */
    int decay;       /* the L2 penalty applies (weights, not biases) */
    int buffer;      /* not trained: running statistics */
} dt_param;

/* What one forward or backward pass needs to know beyond the data. */
typedef struct {
    int64_t n;                 /* rows in this batch */
    int train;                 /* training mode: dropout active, batch statistics */
    int no_backward;           /* no backward follows: layers may skip what only it reads (arg-maxes) */
    uint64_t seed;             /* dropout stream */
    uint64_t step;
    const int64_t *sample_ids; /* [n] global index of each row, keys the dropout masks */
    /* Sum n doubles over all ranks in place (synchronised batch norm), given
     * ctx; NULL when the pass is local. */
    void (*allreduce)(void *ctx, double *buf, int n);
    /* Backward calls this after each layer (last to first) with the offset in
     * the flat gradient buffer from which every gradient is final, so that
     * their reduction can start while earlier layers still compute; may be NULL. */
    void (*grads_ready)(void *ctx, int64_t from);
    void *ctx;
} dt_pass;

typedef struct dt_layer dt_layer;

typedef struct {
    const char *type;
    /* Read the layer's keys from its section; set out shape, params' shapes
     * and scratch sizes. l->in (and in2 for two inputs) are already set. */
    dt_status (*configure)(dt_layer *l, dt_ini *model, const char *sec);
    /* Draw initial values, in the course's order (W then b, layer by layer). */
    dt_status (*init)(dt_layer *l, dt_rng *rng);
    void (*forward)(dt_layer *l, const dt_pass *p);
    /* Accumulate parameter gradients (+=); write (or add) the input gradients. */
    void (*backward)(dt_layer *l, const dt_pass *p);
    void (*destroy)(dt_layer *l); /* frees l->priv; may be NULL */
    int ninputs;                  /* 1, or 2 for add */
    /* Apply the statistics that training forwards summed into l->stats (over
     * every micro-batch and rank of the step), then clear them; may be NULL. */
    void (*commit)(dt_layer *l);
    int init_keys; /* reads `init` and `init_scale` (dt_init_read), which [model] init overrides */
    /* forward applies l->act to its output and backward takes dy w.r.t. that,
     * the derivative of relu and leaky relu read from y's sign: a following
     * activation layer can be folded into it (net.c) */
    int folds_act;
} dt_layer_ops;

struct dt_layer {
    char name[64];
    const dt_layer_ops *ops;
    int index;
    int inputs[DT_MAX_INPUTS]; /* layer indices; -1 is the network's input */
    dt_shape in, in2, out;
    int nparams;
    dt_param params[DT_MAX_PARAMS];
    int64_t scratch_len;   /* reals per example */
    int64_t scratch_fixed; /* reals per layer */
    dt_real *y, *dy, *scratch;
    const dt_real *x[DT_MAX_INPUTS];
    dt_real *dx[DT_MAX_INPUTS];
    int dx_accum[DT_MAX_INPUTS];
    /* The layer's output activation; a cross-entropy loss fuses with a
     * sigmoid or softmax output, and then sets fused_output so backward takes
     * dy as the gradient w.r.t. the pre-activation. */
    dt_act act;
    dt_real act_alpha;
    int fused_output;
    /* trainable = 0: backward computes no parameter gradients (params[i].g
     * is NULL) and batch norm keeps its running statistics (as Keras does) */
    int frozen;
    int runs_backward; /* planned by the network: a loss's gradient reaches it and is wanted */
    int folded;        /* an activation the network folded into its input layer: y and dy are that
                        * layer's, and forward and backward are skipped */
    const dt_real *z; /* pre-activation of the last forward, for the loss */
    const dt_real *res; /* [n, out] added before the activation: a residual add folded in for inference */
    int64_t goff;     /* offset of this layer's first gradient in the flat buffer */
    int64_t nstats;   /* reals of per-step statistics (batch norm), set by configure */
    dt_real *stats;   /* [nstats], summed over ranks with the gradients */
    void *priv;
};

/* Layer types, looked up by the `type` key of a model section. */
const dt_layer_ops *dt_layer_find(const char *type);
/* "dense, dropout, ..." for error messages. */
const char *dt_layer_type_list(void);

/* A sliding window's geometry over an input plane in_h x in_w (conv2d,
 * dwconv2d): keys kernel ("k" or "kh,kw", required), stride (1) and
 * padding = valid | same | "p" | "ph,pw" (valid). `same` is TensorFlow's:
 * OH = ceil(H / SH), total padding max((OH-1)·SH + KH − H, 0), the odd row
 * (column) at the bottom (right). Errors name the key; a kernel larger than
 * the padded input is one. */
typedef struct {
    int kh, kw, sh, sw;
    int pt, pb, pl, pr; /* zero padding above, below, left, right */
    int oh, ow;
} dt_window;
dt_status dt_layer_read_window(dt_ini *model, const char *sec, int in_h, int in_w, dt_window *w);

/* Shared by layers that take an `activation` key (and `alpha` for leaky relu). */
dt_status dt_layer_read_act(dt_layer *l, dt_ini *model, const char *sec, const char *def);

/* dx = v, or dx += v when another consumer wrote first (n reals). */
static inline void dt_layer_put_dx(dt_real *dx, int accum, const dt_real *v, int64_t n)
{
    if (accum)
        for (int64_t i = 0; i < n; i++) dx[i] += v[i];
    else
        for (int64_t i = 0; i < n; i++) dx[i] = v[i];
}

#endif
