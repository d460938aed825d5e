/* init.c — weight initialisers over the numpy-compatible generator. */
#include "nn/init.h"

#include <math.h>

static const char *const kinds[] = {"zeros", "normal", "scaled", "xavier", "he", NULL};

dt_status dt_init_read(dt_ini *model, const char *sec, const char *def, dt_init *out)
{
    int k;
    DT_TRY(dt_ini_enum(model, sec, "init", def, kinds, &k));
    out->kind = (dt_init_kind)k;
    return dt_ini_real(model, sec, "init_scale", 0, 0.01, 0, 1e6, &out->scale);
}

void dt_init_fill(const dt_init *in, dt_rng *rng, int64_t fan_in, int64_t fan_out, dt_real *w,
                  int64_t n)
{
    double s = 0;
    switch (in->kind) {
    case DT_INIT_ZEROS:
        for (int64_t i = 0; i < n; i++) w[i] = 0;
        return;
    case DT_INIT_NORMAL: s = in->scale; break;
    case DT_INIT_SCALED: s = 1.0 / sqrt((double)fan_in); break;
    case DT_INIT_XAVIER: s = sqrt(2.0 / (double)(fan_in + fan_out)); break;
    case DT_INIT_HE: s = sqrt(2.0 / (double)fan_in); break;
    }
    /* The course divides by sqrt(fan_in) rather than multiplying by its inverse. */
    if (in->kind == DT_INIT_SCALED) {
        double d = sqrt((double)fan_in);
        for (int64_t i = 0; i < n; i++) w[i] = (dt_real)(dt_rng_randn(rng) / d);
        return;
    }
    for (int64_t i = 0; i < n; i++) w[i] = (dt_real)(dt_rng_randn(rng) * s);
}
