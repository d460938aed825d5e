/* run.h — a training run's state, shared by the loop (train.c), one
 * optimizer step (step.c) and checkpoints (train.c). Private to src/train. */
#ifndef DT_RUN_H
#define DT_RUN_H

#include "data/augment.h"
#include "nn/loss_triplet.h"
#include "comm/reduce.h"
#include "io/metrics.h"
#include "train/checkpoint.h"
#include "train/train.h"

typedef struct {
    long epochs, global_batch, batch_per_rank, log_every, eval_every, eval_train, ckpt_every, max_steps;
    long seed, accumulate, ckpt_steps, keep, warmup, base_batch;
    int shuffle, nonfinite_skip, lr_linear;
    const char *out;
    const char *weights; /* [model] weights: start from this checkpoint's parameters, or NULL */
    /* [dist] */
    long deterministic, micro_batch, zero, bucket_kb;
    int reduce; /* DT_REDUCE_*: how gradients are summed ([dist] reduce) */
    double timeout;
    /* [debug] fault injection for tests: rank nan_rank's input rows hold a NaN at step nan_step;
     * rank hang_rank stops answering at step hang_step, for hang_seconds (0: until it is killed) */
    long nan_step, nan_rank, hang_step, hang_rank;
    double hang_seconds;
    /* [data] augment: 0 none, 1 crop, 2 flip, 3 crop_flip; crop_pad pixels */
    int augment_kind;
    long crop_pad;
} train_cfg;

/* Read and check every key training reads beyond the model and the data
 * loader: [train], [optim], [dist], [debug] and [data] augment, crop_pad.
 * eval and gradcheck call it too, so every command accepts the same keys
 * and rejects the same misspelt ones. */
dt_status dt_train_read_keys(dt_ini *c, train_cfg *t, dt_optim *o);

/* How the training split is cut into steps. */
typedef struct {
    int64_t steps;      /* per epoch */
    int64_t gbatch;     /* global batch (global sharding) */
    int64_t rbatch;     /* per-rank batch (contiguous sharding) */
    int64_t global;     /* rows per step over all ranks, either way */
    int64_t local_max;  /* most rows one rank handles in a step */
    int64_t fwd_max;    /* most rows in one forward pass */
    int64_t micro;      /* deterministic mode: rows per micro-batch */
    int64_t nmicro;     /* deterministic: micro-batches per rank per step; else accumulation steps */
} plan;

typedef struct run {
    dt_setup s;
    train_cfg t;
    plan pl;
    dt_optim o;
    dt_real *state[2]; /* optimizer state: the whole model, or this rank's block under ZeRO-1 */
    int64_t opt_off, opt_len;  /* the parameters this rank updates */
    dt_reducer *red;
    dt_real **tree;    /* deterministic: partial sums of the micro-batch tree, one per level */
    int tree_depth;
    dt_sampler smp;
    dt_real *xb;
    int32_t *yb;
    dt_real *tb;       /* dense targets of the batch [local_max, target_len], or NULL */
    double *sums;      /* a step's sums over ranks: see dt_run_step */
    double *sums_again; /* the same, for recomputing a bad step's local share */
    double *pass_sums; /* one pass's dt_net_loss sums [1 + nlosses] */
    double *loss_each; /* the last step's mean of each loss, unweighted [nlosses] */
    double *ep_each, *eval_each; /* [nlosses]: the epoch's sums, an evaluation's means */
    int64_t *ids;
    dt_metrics *metrics;
    dt_augment aug;
    int augment;
    /* a triplet loss, mined over the global batch each step (step.c), or NULL */
    dt_loss_term *mined;
    int64_t m_dim, m_cap;  /* embedding size; triplets room in m_trips */
    double m_margin;
    dt_mining m_mode;
    double *m_rows, *m_all; /* [local_max, d + 1] this rank's embeddings and labels; [global, d + 1] everyone's */
    double *m_trip, *m_trips; /* (a, p, n, weight) of this rank's anchors' triplets; everyone's */
    double *m_dE, *m_loss;  /* [local_max, d] gradient of this rank's rows; [local_max] its anchors' losses */
    double *m_dist;         /* [global] an anchor's distances */
    int aug_boxes;     /* boxes per target row that move with the pixels (a yolo loss), or 0 */
    char out[4096], ckpt[4200];
    const dt_run_args *a;
    dt_status io_err;  /* rank 0's metrics write failure, reported at the next agreement */
    dt_event last_eval; /* the last evaluation of the test (or dev) split, for after_eval */
    dt_status pass_err; /* a collective inside a pass failed (its communicator broke): the pass
                           runs to its end without them, then the step returns this */
    double scale;      /* linear learning-rate scaling factor (1: off) */
    double sums_wait;  /* seconds blocked in the per-step loss sum (where slow ranks show) */
} run;

/* Rows of rank r's contiguous shard of `total` rows at p ranks. */
static inline int64_t dt_shard_rows(int64_t total, int r, int p) { return total * (r + 1) / p - total * r / p; }

/* What one step measured. */
typedef struct {
    double loss;    /* the objective's mean over the global batch (with the L2 term) */
    const double *each; /* each loss's mean over the global batch, unweighted [nlosses] */
    double correct; /* the classifier's, over the global batch (NaN without one) */
    int64_t count;  /* rows in the global batch */
    int skipped;    /* non-finite values and [train] nonfinite = skip: no update */
} step_result;

/* One optimizer step on rows [st·batch, ...) of epoch e's order, at learning rate lr. */
dt_status dt_run_step(run *r, int64_t st, int64_t e, int64_t step, double lr, step_result *res);
/* Allocate what the step needs (reducer, tree buffers, optimizer state). */
dt_status dt_run_step_init(run *r);
/* collective: every rank frees now (the run ended alike everywhere). */
void dt_run_step_free(run *r, int collective);

#endif
