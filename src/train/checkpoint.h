/* checkpoint.h — the checkpoint format: the one module that writes and
 * reads it (on top of io/ckpt.h, which knows HDF5 and nothing of networks).
 *
 * What a checkpoint holds (HDF5; h5py reads it, PyTorch layouts):
 *   /params/<layer>/<name>       every parameter of every layer, frozen ones
 *                                included, and the batch-norm buffers
 *                                (running_mean, running_var): W [out, in] for
 *                                dense, [out_c, in_c, kh, kw] for conv2d,
 *                                gamma, beta, b [c]; in the build's precision
 *   /optim/<layer>/<state>_<name>  optimizer state of the trained parameters
 *                                (state v and s: momentum and Adam's v, RMSprop's
 *                                and Adam's s), whole also under ZeRO-1
 * Root attributes: step, epoch, epoch_step (steps done in that epoch), ranks,
 * global_batch, init_seed (integers); dtype ("float" or "double"),
 * model_file, model (the model text), config (the config with overrides
 * applied, INI), optimizer (gd, momentum, rmsprop, adam or none), and
 * class_names (comma-joined) when the data names its classes.
 * Written by rank 0 atomically (temporary file, fsync, rename); loadable at
 * any rank count. */
#ifndef DT_CHECKPOINT_H
#define DT_CHECKPOINT_H

#include "train/setup.h"

typedef struct {
    int64_t step, epoch, epoch_step;
    int64_t global_batch; /* rows per step when written (0: unknown, an older checkpoint) */
    int64_t ranks;        /* rank count when written (read only) */
} dt_progress;

/* On rank 0: write the run's network, optimizer state (opt_state[k], each
 * of net->ntrain reals) and progress. */
dt_status dt_ckpt_save_run(const char *path, const dt_setup *s, const dt_optim *o,
                           dt_real *const *opt_state, const dt_progress *pr);
/* Collective: rank 0 reads parameters (and optimizer state and progress,
 * where the pointers are given) into s->net, then every rank gets them. */
dt_status dt_ckpt_load_run(const char *path, dt_setup *s, const dt_optim *o, dt_real *const *opt_state,
                           dt_progress *pr);
/* What dt_ckpt_load_run does on rank 0, on this process alone: read into
 * net (and opt_state, pr where given). */
dt_status dt_ckpt_read_run(const char *path, dt_net *net, const dt_optim *o, dt_real *const *opt_state,
                           dt_progress *pr);

/* A network's parameters alone (no optimizer, progress 0), with its model
 * text, as a checkpoint that dt_net_load, predict and train --init read;
 * `source` says where the weights came from (an imported file). */
dt_status dt_ckpt_save_net(const char *path, const dt_net *net, const char *model_file, const char *model_text,
                           const char *source);

/* A network with its weights, on this process alone (predict, tools):
 * built from model_text, or when NULL from the model text the checkpoint
 * holds (with the [model] loss of its config), for batches of maxn rows;
 * parameters and statistics read. *class_names, when the pointer is given,
 * gets the comma-joined class names (malloc'ed) or NULL. Errors name the file. */
dt_status dt_net_load(const char *path, const char *model_text, int64_t maxn, dt_net **out, char **class_names);

#endif
