/* loss.h — the terms of a network's training objective.
 *
 * A loss is a section of the model file, like a layer:
 *   [xent]
 *   type = softmax_ce        (softmax_ce, bce, mse, content, style, yolo)
 *   inputs = fc3             (the layer it reads; default: the section above)
 *   weight = 1               (its factor in the objective)
 * The objective is Σ weight · (mean over the batch of the loss per row); a
 * network may have several losses, on any layers, or none (headless).
 *
 * A loss reads its layer's output y [n, size] and the batch's targets, and
 * writes grad_scale · weight · ∂loss/∂y into the layer's dy before backward
 * runs (or adds, when another loss on the same layer wrote first). Softmax
 * and sigmoid outputs are fused with their cross-entropy (the stable a - t
 * into the pre-activation gradient); a linear layer's output is read as logits.
 *
 * Adding a loss: a file loss_<type>.c defining a dt_loss_ops, listed in
 * loss.c's table; test it with a finite-difference check in test_loss.c. */
#ifndef DT_LOSS_H
#define DT_LOSS_H

#include "nn/layer.h"

/* What a loss compares its input with, per row of the data. */
typedef enum {
    DT_TARGET_NONE = 0, /* nothing: the loss is a function of the network alone */
    DT_TARGET_LABEL,    /* a class index (int32) */
    DT_TARGET_DENSE     /* a tensor of the input's size (reals) */
} dt_target_kind;
extern const char *const dt_target_names[]; /* "none", "label", "dense" */

/* A batch's targets, rows first; either may be NULL when no loss reads it. */
typedef struct {
    const int32_t *labels; /* [n] */
    const dt_real *dense;  /* [n, dense_len] */
} dt_targets;

typedef struct dt_loss_term dt_loss_term;

typedef struct {
    const char *type;
    dt_target_kind target;
    /* Read the section's own keys and check the layer it reads (t->src is
     * set); set t->fused to take the pre-activation gradient of src. */
    dt_status (*configure)(dt_loss_term *t, dt_ini *m, const char *sec);
    /* Add the loss summed over n rows to *sum and, for classifiers, the
     * correct predictions to *correct (may be NULL). When g != 0 write (or
     * add, t->dy_accum) g · ∂(summed loss)/∂y into t->src->dy. */
    void (*forward)(dt_loss_term *t, const dt_targets *tg, int64_t n, dt_real g, double *sum, int64_t *correct);
    /* Classifiers: predicted class of each row and its probability (prob may be NULL). */
    void (*predict)(const dt_loss_term *t, int64_t n, int32_t *cls, dt_real *prob);
    /* Losses against a reference taken from the network itself (style
     * transfer's content and style costs), else NULL: how many reals it
     * holds, and how to take it from src's output for one example (row 0
     * of the last forward). Until captured the reference is zeros. */
    int64_t (*ref_size)(const dt_loss_term *t);
    void (*capture)(dt_loss_term *t);
    /* Dense targets with rules of their own (boxes), else NULL: check n rows
     * of targets tg, the first being row `first` of `src` (for messages). */
    dt_status (*check)(const dt_loss_term *t, const dt_real *tg, int64_t n, int64_t first, const char *src);
} dt_loss_ops;

struct dt_loss_term {
    char name[64];
    const dt_loss_ops *ops;
    int input;     /* index of the layer it reads */
    dt_layer *src; /* that layer */
    double weight;
    int64_t size;  /* reals of src's output per row */
    int nclasses;  /* label losses: classes it tells apart (2 for bce) */
    int fused;     /* src's sigmoid or softmax is folded into the gradient */
    int dy_accum;  /* another loss wrote src->dy first: add into it */
    dt_real *ref;  /* [ops->ref_size]: the captured reference, or NULL */
    dt_real *work; /* [ops->ref_size]: the same quantity for the row being compared */
    int64_t tlen;  /* dense targets: reals per row (size, unless configure says otherwise) */
    int64_t maxn;  /* rows the network's buffers hold */
    void *priv;    /* the loss's own state, dt_alloc'ed by configure, dt_free'd with the network */
};

const dt_loss_ops *dt_loss_find(const char *type);
const char *dt_loss_type_list(void); /* "softmax_ce, bce, mse" */

/* dy = v or dy += v (accum), for the losses' gradients. */
static inline void dt_loss_put(dt_real *dy, int accum, int64_t i, dt_real v)
{
    dy[i] = accum ? dy[i] + v : v;
}

#endif
