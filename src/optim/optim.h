/* optim.h — optimizers as pure functions over flat arrays, and learning-rate
 * schedules. The forms are the course's:
 *   gd        p -= lr·g
 *   momentum  v = β·v + (1-β)·g;            p -= lr·v
 *   rmsprop   s = β2·s + (1-β2)·g²;         p -= lr·g / (√s + ε)
 *   adam      v = β1·v + (1-β1)·g; s = β2·s + (1-β2)·g²;
 *             p -= lr·(v/(1-β1ᵗ)) / (√(s/(1-β2ᵗ)) + ε)   (ε outside the root)
 * State arrays (v, s) have the parameters' length and start at zero. */
#ifndef DT_OPTIM_H
#define DT_OPTIM_H

#include "core/core.h"
#include "io/ini.h"

typedef enum { DT_OPT_GD = 0, DT_OPT_MOMENTUM, DT_OPT_RMSPROP, DT_OPT_ADAM } dt_opt_kind;
typedef enum { DT_DECAY_NONE = 0, DT_DECAY_STEP, DT_DECAY_EXP, DT_DECAY_INVTIME, DT_DECAY_COSINE } dt_decay_kind;

typedef struct {
    dt_opt_kind kind;
    double lr, beta, beta1, beta2, eps, l2;
    dt_decay_kind decay;
    double decay_rate;
    long decay_every; /* epochs */
} dt_optim;

/* Reads [optim]: type, lr, beta (momentum), beta1, beta2, eps, l2,
 * decay = none|step|exponential|inverse_time|cosine, decay_rate, decay_every. */
dt_status dt_optim_read(dt_ini *cfg, dt_optim *o);
/* Number of state arrays the optimizer keeps (0, 1 or 2) and their names. */
int dt_optim_nstate(const dt_optim *o);
const char *dt_optim_state_name(const dt_optim *o, int i);

/* Learning rate at `epoch` (counted from 0), `progress` of the way through
 * the run (step / all its steps, in [0, 1]: the cosine schedule's clock). */
double dt_optim_lr(const dt_optim *o, int64_t epoch, double progress);

/* One update of n parameters; t is the 1-based update count (Adam's bias
 * correction). state[i] are the state arrays. */
void dt_optim_step(const dt_optim *o, double lr, int64_t t, dt_real *p, const dt_real *g,
                   dt_real *const *state, int64_t n);

void dt_sgd_step(dt_real *p, const dt_real *g, int64_t n, dt_real lr);
void dt_momentum_step(dt_real *p, const dt_real *g, dt_real *v, int64_t n, dt_real lr, double beta);
void dt_rmsprop_step(dt_real *p, const dt_real *g, dt_real *s, int64_t n, dt_real lr, double beta2,
                     dt_real eps);
void dt_adam_step(dt_real *p, const dt_real *g, dt_real *v, dt_real *s, int64_t n, dt_real lr,
                  double beta1, double beta2, dt_real eps, int64_t t);

#endif
