/* sweep_spec.h — what dtrain sweep samples and how it stops trials early:
 * parameter specs, their values for trial t, and successive halving's
 * rungs and promotion rule. Pure functions (no MPI, no files).
 *
 * Specs (KEY is any config key "section.key" or model key
 * "model.layer.key"):
 *   KEY=log:A:B       log-uniform in [A, B] (A > 0), e.g. a learning rate
 *   KEY=1-log:A:B     1 − log-uniform in [1 − B, 1 − A]: β of momentum or
 *                     Adam, whose scale is 1/(1 − β)
 *   KEY=uniform:A:B   uniform in [A, B]
 *   KEY=int:A:B       a whole number in [A, B], each equally likely
 *   KEY=choice:X,Y,Z  one of the listed values, each equally likely
 *
 * Trial t's draw for parameter p is number t·P + p (P parameters) of
 * numpy's legacy generator seeded with the sweep's seed, so
 * np.random.seed(S); np.random.rand(T, P) gives every trial's draws. */
#ifndef DT_SWEEP_SPEC_H
#define DT_SWEEP_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef enum { DT_SPEC_LOG, DT_SPEC_ONE_MINUS_LOG, DT_SPEC_UNIFORM, DT_SPEC_INT, DT_SPEC_CHOICE } dt_spec_kind;

enum { DT_SPEC_MAX_CHOICES = 32 };

typedef struct {
    char key[160];
    dt_spec_kind kind;
    double lo, hi;
    int nchoices;
    char choices[DT_SPEC_MAX_CHOICES][64];
} dt_param_spec;

/* "optim.lr=log:1e-4:1e-1" → *out; a one-line DT_ERR_ARG error otherwise. */
dt_status dt_spec_parse(const char *text, dt_param_spec *out);
/* The value of a draw u in [0, 1): as text for an override ("%.6g" for
 * real numbers) and as a number (a choice: its index). */
void dt_spec_value(const dt_param_spec *p, double u, char *text, size_t n, double *x);
/* Every trial's draws: u[t·np + p] for trials [0, ntrials) (see above). */
void dt_spec_draws(uint32_t seed, int64_t ntrials, int np, double *u);
/* Whether a spec is drawn on a log scale (plots use log axes for it). */
int dt_spec_is_log(const dt_param_spec *p);

/* Rung epochs first, first·eta, first·eta², ... below `epochs`, rounded;
 * returns how many (at most max). */
int dt_rungs(int64_t first, double eta, int64_t epochs, int64_t *rung, int max);
/* Successive halving, asynchronous: a trial at a rung goes on when its
 * metric (higher is better) is at least the (1 − 1/eta) quantile, linearly
 * interpolated as numpy.percentile does, of the n metrics recorded at that
 * rung so far, its own included. NaN entries are ignored. */
int dt_asha_continue(const double *recorded, int n, double mine, double eta);

#endif
