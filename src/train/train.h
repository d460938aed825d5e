/* train.h — the training loop, evaluation of a checkpoint, gradient check.
 *
 * These run on every rank. They report through a callback (rank 0 only),
 * so the library prints nothing and the CLI decides how progress looks. */
#ifndef DT_TRAIN_H
#define DT_TRAIN_H

#include "comm/comm.h"

/* DT_EV_EPOCH closes a whole epoch, after its evaluation (if any) and before
 * its checkpoint: epoch = epochs done, loss and accuracy = means over the
 * epoch's training batches, step_seconds and images_per_s = its time in
 * training steps and its rate. */
typedef enum { DT_EV_START, DT_EV_STEP, DT_EV_EVAL, DT_EV_CKPT, DT_EV_END, DT_EV_NOTE, DT_EV_EPOCH } dt_event_kind;

typedef struct {
    dt_event_kind kind;
    int64_t step, epoch, epochs, steps_per_epoch;
    const char *split;  /* DT_EV_EVAL: "train" or "test" */
    double loss, accuracy, lr, images_per_s, seconds;
    double step_seconds; /* DT_EV_END: time spent in training steps alone */
    double comm_wait_s;  /* DT_EV_END: of which blocked waiting for other ranks (reductions) */
    int64_t correct, count;
    const char *text;   /* DT_EV_START / DT_EV_NOTE / DT_EV_CKPT: a line to show */
    /* For the progress display; 0 where the emitter does not know them. */
    int64_t total_steps; /* DT_EV_START / DT_EV_STEP: steps the run will end at (max_steps counted) */
    int64_t log_every;   /* DT_EV_START: [train] log_every */
    int live_only;       /* DT_EV_STEP: extra event for a live display, not a log_every step */
    /* DT_EV_STEP, DT_EV_EPOCH, DT_EV_EVAL: each loss's mean (unweighted), when the
     * model names its losses; nlosses 0 otherwise. accuracy is NaN without a classifier. */
    int nlosses;
    const char *const *loss_names;
    const double *losses;
    /* DT_EV_EVAL of a detector: mean average precision at IoU 0.5 */
    int has_map;
    double map50;
    /* DT_EV_EVAL of a [train] verify run's test split: ROC AUC, balanced
     * accuracy at the validation half's threshold, that threshold */
    int has_verify;
    double verify_auc, verify_acc, verify_thr;
} dt_event;

typedef void (*dt_event_fn)(void *user, const dt_event *ev);

typedef struct {
    const char *config;
    char *const *overrides; /* "section.key=value" */
    int noverrides;
    const char *out_dir;    /* NULL: [train] out, default runs/<config name> */
    const char *resume;     /* checkpoint to continue from, or NULL */
    const char *ckpt;       /* eval: checkpoint to evaluate */
    const char *grid;       /* eval: write predictions on a grid over 2-D data here (CSV), or NULL */
    int grid_size;          /* eval: points per side of that grid (0: 200) */
    const char *mistakes;   /* eval: PNG grid of the misclassified test images (list in .txt beside it), or NULL */
    const char *features;   /* eval: write the activations of layer features_layer for a split to this HDF5 file, or NULL */
    const char *features_layer;
    const char *split;      /* eval --features: "train" or "test" (NULL: test, or train when there is no test split) */
    int live_steps;         /* train: a live display wants DT_EV_STEP between log_every steps too */
    const char *trace;      /* train: Chrome-trace JSON timeline, one file per rank (FILE.rank<R>.json), or NULL */
    dt_comm *comm;          /* the ranks that run it (the world, or a split of it) */
    /* train: called on every rank after each evaluation of the test (or
     * dev) split before the last epoch, with that DT_EV_EVAL; *stop = 1 ends
     * the run there as if it were the last epoch. Every rank must set the
     * same (dtrain sweep's early stopping decides on one rank and broadcasts). */
    dt_status (*after_eval)(void *user, const dt_event *ev, int *stop);
    dt_event_fn on_event;
    void *user;
} dt_run_args;

dt_status dt_train(const dt_run_args *a);
dt_status dt_eval(const dt_run_args *a);
/* Finite-difference check of every parameter's gradient on a few training
 * rows; *max_rel gets the worst relative difference. */
dt_status dt_gradcheck(const dt_run_args *a, double *max_rel);

struct dt_setup_s;
/* For a configured setup whose data is loaded: check every key training
 * reads (an unknown one is an error, as for train) and give the rows of
 * one forward pass on this rank, as training would run them. */
dt_status dt_train_pass_rows(struct dt_setup_s *s, int64_t *rows);

#endif
