/* optim.c — gd, momentum, rmsprop, adam, and learning-rate decay. */
#include "optim/optim.h"

#ifdef DTRAIN_DOUBLE
#define SQRT sqrt
#else
#define SQRT sqrtf
#endif

#include <math.h>
#include <string.h>

static const char *const kinds[] = {"gd", "momentum", "rmsprop", "adam", NULL};
static const char *const decays[] = {"none", "step", "exponential", "inverse_time", "cosine", NULL};

dt_status dt_optim_read(dt_ini *c, dt_optim *o)
{
    int k = 0, d = 0;
    const char *type;
    /* "sgd" is what people coming from PyTorch write for plain gradient descent */
    DT_TRY(dt_ini_str(c, "optim", "type", "gd", &type));
    if (!strcmp(type, "sgd")) k = DT_OPT_GD;
    else DT_TRY(dt_ini_enum(c, "optim", "type", "gd", kinds, &k));
    o->kind = (dt_opt_kind)k;
    DT_TRY(dt_ini_real(c, "optim", "lr", 1, 0, 0, 1e6, &o->lr));
    DT_TRY(dt_ini_real(c, "optim", "beta", 0, 0.9, 0, 1, &o->beta));
    DT_TRY(dt_ini_real(c, "optim", "beta1", 0, 0.9, 0, 1, &o->beta1));
    DT_TRY(dt_ini_real(c, "optim", "beta2", 0, 0.999, 0, 1, &o->beta2));
    DT_TRY(dt_ini_real(c, "optim", "eps", 0, 1e-8, 0, 1, &o->eps));
    DT_TRY(dt_ini_real(c, "optim", "l2", 0, 0, 0, 1e6, &o->l2));
    DT_TRY(dt_ini_enum(c, "optim", "decay", "none", decays, &d));
    o->decay = (dt_decay_kind)d;
    DT_TRY(dt_ini_real(c, "optim", "decay_rate", 0, 1, 0, 1e6, &o->decay_rate));
    DT_TRY(dt_ini_int(c, "optim", "decay_every", 0, 1, 1, 1L << 30, &o->decay_every));
    if (o->kind == DT_OPT_RMSPROP && !dt_ini_has(c, "optim", "beta2")) o->beta2 = 0.9;
    return DT_OK;
}

int dt_optim_nstate(const dt_optim *o)
{
    return o->kind == DT_OPT_ADAM ? 2 : o->kind == DT_OPT_GD ? 0 : 1;
}

const char *dt_optim_state_name(const dt_optim *o, int i)
{
    if (o->kind == DT_OPT_RMSPROP) return "s";
    return i == 0 ? "v" : "s";
}

double dt_optim_lr(const dt_optim *o, int64_t epoch, double progress)
{
    double e = (double)epoch, every = (double)o->decay_every;
    switch (o->decay) {
    case DT_DECAY_NONE: break;
    case DT_DECAY_STEP: return o->lr * pow(o->decay_rate, floor(e / every));
    case DT_DECAY_EXP: return o->lr * pow(o->decay_rate, e / every);
    case DT_DECAY_INVTIME: return o->lr / (1.0 + o->decay_rate * floor(e / every));
    /* step by step from lr to 0 over the whole run (SGDR without restarts) */
    case DT_DECAY_COSINE: return o->lr * 0.5 * (1.0 + cos(M_PI * fmin(fmax(progress, 0), 1)));
    }
    return o->lr;
}

void dt_sgd_step(dt_real *p, const dt_real *g, int64_t n, dt_real lr)
{
    for (int64_t i = 0; i < n; i++) p[i] -= lr * g[i];
}

void dt_momentum_step(dt_real *p, const dt_real *g, dt_real *v, int64_t n, dt_real lr, double beta)
{
    /* 1 - β in double: β = 0.999 rounded to float first would be off by 1e-5 */
    dt_real b = (dt_real)beta, b1 = (dt_real)(1.0 - beta);
    for (int64_t i = 0; i < n; i++) {
        v[i] = b * v[i] + b1 * g[i];
        p[i] -= lr * v[i];
    }
}

void dt_rmsprop_step(dt_real *p, const dt_real *g, dt_real *s, int64_t n, dt_real lr, double beta2,
                     dt_real eps)
{
    dt_real b = (dt_real)beta2, b2 = (dt_real)(1.0 - beta2);
    for (int64_t i = 0; i < n; i++) {
        s[i] = b * s[i] + b2 * g[i] * g[i];
        p[i] -= lr * g[i] / (SQRT(s[i]) + eps);
    }
}

void dt_adam_step(dt_real *p, const dt_real *g, dt_real *v, dt_real *s, int64_t n, dt_real lr,
                  double beta1, double beta2, dt_real eps, int64_t t)
{
    /* bias corrections in double: β^t underflows differently in float */
    dt_real c1 = (dt_real)(1.0 / (1.0 - pow(beta1, (double)t)));
    dt_real c2 = (dt_real)(1.0 / (1.0 - pow(beta2, (double)t)));
    dt_real a1 = (dt_real)beta1, a2 = (dt_real)beta2;
    dt_real b1 = (dt_real)(1.0 - beta1), b2 = (dt_real)(1.0 - beta2);
    for (int64_t i = 0; i < n; i++) {
        v[i] = a1 * v[i] + b1 * g[i];
        s[i] = a2 * s[i] + b2 * g[i] * g[i];
        p[i] -= lr * (v[i] * c1) / (SQRT(s[i] * c2) + eps);
    }
}

void dt_optim_step(const dt_optim *o, double lr, int64_t t, dt_real *p, const dt_real *g,
                   dt_real *const *state, int64_t n)
{
    switch (o->kind) {
    case DT_OPT_GD: dt_sgd_step(p, g, n, (dt_real)lr); break;
    case DT_OPT_MOMENTUM: dt_momentum_step(p, g, state[0], n, (dt_real)lr, o->beta); break;
    case DT_OPT_RMSPROP:
        dt_rmsprop_step(p, g, state[0], n, (dt_real)lr, o->beta2, (dt_real)o->eps);
        break;
    case DT_OPT_ADAM:
        dt_adam_step(p, g, state[0], state[1], n, (dt_real)lr, o->beta1, o->beta2,
                     (dt_real)o->eps, t);
        break;
    }
}
