/* layer.h — what every layer type provides, and what the network gives it.
 *
 * A layer reads [N, in] (its input's output) and writes [N, out] into y.
 * Shapes are per example, {c, h, w}; dense data uses {features, 1, 1}.
 * The network owns all buffers, sized for the largest batch at build time,
 * so nothing is allocated in the training step:
 *   y, dy      [maxn, out]  output and the gradient w.r.t. it
 *   scratch    layer-specific (pre-activations, dropout masks), `scratch_len` reals
 *   params[i]  views into the network's flat parameter and gradient buffers
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

typedef struct {
    char name[16];   /* "W", "b" */
    int ndim;
    int64_t dims[4]; /* PyTorch layout */
    int64_t size;
    dt_real *w, *g;  /* views into the flat buffers */
    int decay;       /* the L2 penalty applies (weights, not biases) */
} dt_param;

/* What one forward or backward pass needs to know beyond the data. */
typedef struct {
    int64_t n;                 /* rows in this batch */
    int train;                 /* training mode: dropout active */
    uint64_t seed;             /* dropout stream */
    uint64_t step;
    const int64_t *sample_ids; /* [n] global index of each row, keys the dropout masks */
} dt_pass;

typedef struct dt_layer dt_layer;

typedef struct {
    const char *type;
    /* Read the layer's keys from its section, set out shape, params' shapes
     * and scratch_len. l->in is already set. */
    dt_status (*configure)(dt_layer *l, dt_ini *model, const char *sec);
    /* Draw initial values, in the course's order (W then b, layer by layer). */
    dt_status (*init)(dt_layer *l, dt_rng *rng);
    void (*forward)(dt_layer *l, const dt_real *x, const dt_pass *p);
    /* Accumulate parameter gradients (+=); write dx when it is not NULL. */
    void (*backward)(dt_layer *l, const dt_real *x, dt_real *dx, const dt_pass *p);
    void (*destroy)(dt_layer *l); /* frees l->priv; may be NULL */
} dt_layer_ops;

struct dt_layer {
    char name[64];
    const dt_layer_ops *ops;
    int index;
    dt_shape in, out;
    int nparams;
    dt_param params[DT_MAX_PARAMS];
    int64_t scratch_len; /* reals per example */
    dt_real *y, *dy, *scratch;
    /* The layer's output activation; the network fuses a sigmoid or softmax
     * output with its loss, and then sets fused_output so backward takes dy
     * as the gradient w.r.t. the pre-activation. */
    dt_act act;
    dt_real act_alpha;
    int fused_output;
    const dt_real *z; /* pre-activation of the last forward, for the loss */
    void *priv;
};

/* Layer types, looked up by the `type` key of a model section. */
const dt_layer_ops *dt_layer_find(const char *type);
extern const dt_layer_ops dt_dense_ops, dt_dropout_ops, dt_activation_ops;

/* Shared by layers that take an `activation` key (and `alpha` for leaky relu). */
dt_status dt_layer_read_act(dt_layer *l, dt_ini *model, const char *sec, const char *def);

#endif
