/* import_cmd.c — `dtrain import tfjs MANIFEST --model MODEL.ini --out OUT.h5`:
 * TensorFlow.js weights into an ordinary dtrain checkpoint.
 *
 * The model file says which manifest weight fills each parameter, in a
 * [tfjs] side section of `LAYER.PARAM = manifest/name` entries. Every
 * parameter must be named there and every manifest weight used, so a
 * mapping mistake is an error, not a silently random layer. Layouts move
 * from TensorFlow's to PyTorch's as the layer type says:
 *   conv2d W   [kh, kw, in, out] → [out, in, kh, kw]
 *   dwconv2d W [kh, kw, c, 1]    → [c, 1, kh, kw]
 *   dense W    [in, out]         → [out, in]
 *   vectors (biases, scale w and b) as they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_cmd.h"
#include "io/ini.h"
#include "io/tfjs.h"
#include "nn/net.h"
#include "train/checkpoint.h"

/* "[a, b, c]" */
static const char *fmt_dims(const int64_t *d, int n, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < n && at < len; i++) at += (size_t)snprintf(buf + at, len - at, "%s%lld", i ? ", " : "", (long long)d[i]);
    if (at < len) snprintf(buf + at, len - at, "]");
    return buf;
}

/* TensorFlow's shape for parameter p of layer l, and whether it is the
 * HWIO filter layout (4-d) or a transposed matrix (2-d). */
static void tf_shape(const dt_layer *l, const dt_param *p, int64_t *d)
{
    const int64_t *q = p->dims;
    if (p->ndim == 4 && !strcmp(l->ops->type, "dwconv2d")) d[0] = q[2], d[1] = q[3], d[2] = q[0], d[3] = q[1];
    else if (p->ndim == 4) d[0] = q[2], d[1] = q[3], d[2] = q[1], d[3] = q[0];
    else if (p->ndim == 2) d[0] = q[1], d[1] = q[0];
    else memcpy(d, q, (size_t)p->ndim * sizeof *d);
}

/* dst (PyTorch layout of p) from src (TensorFlow's). */
static void convert(const dt_layer *l, const dt_param *p, const float *src, dt_real *dst)
{
    const int64_t *q = p->dims;
    if (p->ndim == 4) {
        int dw = !strcmp(l->ops->type, "dwconv2d");
        int64_t O = q[0], I = q[1], KH = q[2], KW = q[3];
        for (int64_t o = 0; o < O; o++)
            for (int64_t i = 0; i < I; i++)
                for (int64_t y = 0; y < KH; y++)
                    for (int64_t x = 0; x < KW; x++) {
                        /* HWIO, or for depthwise HW(C)(1): channel o, multiplier i */
                        int64_t s = dw ? ((y * KW + x) * O + o) * I + i : ((y * KW + x) * I + i) * O + o;
                        dst[((o * I + i) * KH + y) * KW + x] = (dt_real)src[s];
                    }
    } else if (p->ndim == 2) {
        for (int64_t o = 0; o < q[0]; o++)
            for (int64_t i = 0; i < q[1]; i++) dst[o * q[1] + i] = (dt_real)src[i * q[0] + o];
    } else {
        for (int64_t i = 0; i < p->size; i++) dst[i] = (dt_real)src[i];
    }
}

/* Fill every parameter of net from t through the model's [tfjs] section. */
static dt_status fill(dt_net *net, dt_ini *m, const char *manifest, const dt_tfjs *t, char *used)
{
    if (!dt_ini_has_section(m, "tfjs"))
        return dt_error(DT_ERR_CONFIG, "%s: no [tfjs] section: it maps each LAYER.PARAM to a weight of the manifest",
                        dt_ini_name(m));
    char key[128], a[96], b[96];
    for (int i = 0; i < net->nlayers; i++) {
        const dt_layer *l = &net->layers[i];
        for (int j = 0; j < l->nparams; j++) {
            const dt_param *p = &l->params[j];
            const char *wname;
            snprintf(key, sizeof key, "%s.%s", l->name, p->name);
            if (!dt_ini_has(m, "tfjs", key))
                return dt_error(DT_ERR_CONFIG, "%s: [tfjs] has no entry %s (which weight of %s fills it?)",
                                dt_ini_name(m), key, manifest);
            DT_TRY(dt_ini_str(m, "tfjs", key, NULL, &wname));
            const dt_tfjs_weight *w = dt_tfjs_find(t, wname);
            if (!w)
                return dt_error(DT_ERR_CONFIG, "%s: [tfjs] %s = %s: %s has no weight of that name",
                                dt_ini_where(m, "tfjs", key), key, wname, manifest);
            int64_t want[4];
            tf_shape(l, p, want);
            if (w->ndim != p->ndim || memcmp(w->dims, want, (size_t)p->ndim * sizeof *want))
                return dt_error(DT_ERR_CONFIG, "%s: [tfjs] %s = %s: the weight's shape is %s, the layer needs %s (TensorFlow layout)",
                                dt_ini_where(m, "tfjs", key), key, wname, fmt_dims(w->dims, w->ndim, a, sizeof a),
                                fmt_dims(want, p->ndim, b, sizeof b));
            convert(l, p, w->data, p->w);
            used[w - t->w] = 1;
        }
    }
    for (int k = 0; k < t->n; k++)
        if (!used[k])
            return dt_error(DT_ERR_CONFIG, "%s: weight '%s' of %s is not used: map it in [tfjs] (LAYER.PARAM = %s)",
                            dt_ini_name(m), t->w[k].name, manifest, t->w[k].name);
    return dt_ini_check_unused_section(m, "tfjs");
}

int dt_cli_import_tfjs(const char *manifest, const char *model_path, const char *out)
{
    dt_ini *m = NULL;
    dt_net *net = NULL;
    dt_tfjs *t = NULL;
    char *used = NULL;
    dt_status st = dt_tfjs_load(manifest, &t);
    if (!st) st = dt_ini_load(model_path, &m);
    if (!st) st = dt_net_build(m, 1, DT_LOSS_AUTO, &net);
    if (!st && !(used = calloc((size_t)t->n + 1, 1))) st = dt_error(DT_ERR_NOMEM, "out of memory");
    if (!st) st = fill(net, m, manifest, t, used);
    if (!st) st = dt_ckpt_save_net(out, net, model_path, dt_ini_text(m), manifest);
    if (!st)
        printf("imported %d weights (%lld parameters) from %s into %s\n", t->n, (long long)net->ncount, manifest, out);
    else
        fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
    free(used);
    dt_net_free(net);
    dt_ini_free(m);
    dt_tfjs_free(t);
    return st ? 2 : 0;
}
