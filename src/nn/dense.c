/* dense.c — fully connected layer with a fused activation.
 *
 *   x [N, in] · W[out, in]ᵀ + b[out] = z [N, out];  y = act(z)
 * Keys: units (required), activation (linear), alpha (leaky relu slope),
 *       init (he), init_scale (for init = normal), bias (1).
 * scratch holds z [N, out] for the backward pass and the loss. */
#include "nn/init.h"
#include "nn/layer.h"

typedef struct {
    dt_init init;
    int bias;
} dense_priv;

static dt_status dense_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    long units, bias;
    dense_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    DT_TRY(dt_ini_int(m, sec, "units", 1, 0, 1, 1L << 24, &units));
    DT_TRY(dt_ini_int(m, sec, "bias", 0, 1, 0, 1, &bias));
    DT_TRY(dt_layer_read_act(l, m, sec, "linear"));
    DT_TRY(dt_init_read(m, sec, "he", &p->init));
    p->bias = (int)bias;
    int64_t in = dt_shape_size(l->in);
    l->out = (dt_shape){(int)units, 1, 1};
    l->nparams = p->bias ? 2 : 1;
    dt_param *W = &l->params[0], *b = &l->params[1];
    *W = (dt_param){.name = "W", .ndim = 2, .dims = {units, in}, .size = units * in, .decay = 1};
    if (p->bias) *b = (dt_param){.name = "b", .ndim = 1, .dims = {units}, .size = units};
    l->scratch_len = units;
    return DT_OK;
}

static dt_status dense_init(dt_layer *l, dt_rng *rng)
{
    dense_priv *p = l->priv;
    dt_param *W = &l->params[0];
    dt_init_fill(&p->init, rng, W->dims[1], W->dims[0], W->w, W->size);
    if (p->bias)
        for (int64_t i = 0; i < l->params[1].size; i++) l->params[1].w[i] = 0;
    return DT_OK;
}

static void dense_forward(dt_layer *l, const dt_pass *ps)
{
    const dt_real *x = l->x[0];
    const dense_priv *p = l->priv;
    int64_t n = ps->n, out = l->params[0].dims[0], in = l->params[0].dims[1];
    dt_real *z = l->scratch;
    if (p->bias) {
        const dt_real *b = l->params[1].w;
        for (int64_t r = 0; r < n; r++)
            for (int64_t j = 0; j < out; j++) z[r * out + j] = b[j];
    }
    dt_gemm(0, 1, n, out, in, 1, x, in, l->params[0].w, in, p->bias ? 1 : 0, z, out);
    dt_act_forward(l->act, z, l->y, n, out, l->act_alpha);
    l->z = z;
}

static void dense_backward(dt_layer *l, const dt_pass *ps)
{
    const dt_real *x = l->x[0];
    dt_real *dx = l->dx[0];
    const dense_priv *p = l->priv;
    int64_t n = ps->n, out = l->params[0].dims[0], in = l->params[0].dims[1];
    dt_real *dz = l->dy; /* dy is ours and dead after this: turn it into dz in place */
    if (!l->fused_output) dt_act_backward(l->act, l->scratch, l->y, l->dy, dz, n, out, l->act_alpha);
    if (!l->frozen) dt_gemm(1, 0, out, in, n, 1, dz, out, x, in, 1, l->params[0].g, in);
    if (p->bias && !l->frozen) {
        dt_real *db = l->params[1].g;
        for (int64_t r = 0; r < n; r++)
            for (int64_t j = 0; j < out; j++) db[j] += dz[r * out + j];
    }
    if (dx) dt_gemm(0, 0, n, in, out, 1, dz, out, l->params[0].w, in, l->dx_accum[0] ? 1 : 0, dx, in);
}

static void dense_destroy(dt_layer *l) { dt_free(l->priv); }

const dt_layer_ops dt_dense_ops = {"dense", dense_configure, dense_init, dense_forward,
                                   dense_backward, dense_destroy, 1, NULL, .init_keys = 1, .folds_act = 1};
