/* init.h — weight initialisers. Values are drawn from numpy's legacy
 * generator in row-major order, so W = randn(out, in) * scale as the course
 * writes it comes out bit for bit (in double; rounded once in float). */
#ifndef DT_INIT_H
#define DT_INIT_H

#include "core/rng.h"
#include "io/ini.h"

typedef enum {
    DT_INIT_ZEROS = 0,
    DT_INIT_NORMAL, /* randn * init_scale */
    DT_INIT_SCALED, /* randn / sqrt(fan_in) */
    DT_INIT_XAVIER, /* randn * sqrt(2 / (fan_in + fan_out)), Glorot normal */
    DT_INIT_HE      /* randn * sqrt(2 / fan_in) */
} dt_init_kind;

typedef struct {
    dt_init_kind kind;
    double scale;
} dt_init;

/* Reads `init` and `init_scale` from a layer's section. */
dt_status dt_init_read(dt_ini *model, const char *sec, const char *def, dt_init *out);
void dt_init_fill(const dt_init *in, dt_rng *rng, int64_t fan_in, int64_t fan_out, dt_real *w,
                  int64_t n);

#endif
