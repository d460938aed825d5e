/* registry.c — layer types by name, and keys several layer types share. */
#include <string.h>

#include "nn/layer.h"

extern const dt_layer_ops dt_dense_ops, dt_dropout_ops, dt_activation_ops, dt_conv2d_ops, dt_zeropad_ops,
    dt_maxpool_ops, dt_avgpool_ops, dt_batchnorm_ops, dt_flatten_ops, dt_global_avgpool_ops, dt_add_ops,
    dt_dwconv2d_ops, dt_scale_ops, dt_l2norm_ops;

static const dt_layer_ops *const types[] = {
    &dt_dense_ops,   &dt_dropout_ops,   &dt_activation_ops, &dt_conv2d_ops,           &dt_zeropad_ops, &dt_maxpool_ops,
    &dt_avgpool_ops, &dt_batchnorm_ops, &dt_flatten_ops,    &dt_global_avgpool_ops, &dt_add_ops,     &dt_dwconv2d_ops,
    &dt_scale_ops,   &dt_l2norm_ops};

const dt_layer_ops *dt_layer_find(const char *type)
{
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(types[i]->type, type)) return types[i];
    return NULL;
}

const char *dt_layer_type_list(void)
{
    static char list[512];
    if (!list[0])
        for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
            if (i) strcat(list, ", ");
            strcat(list, types[i]->type);
        }
    return list;
}

dt_status dt_layer_read_act(dt_layer *l, dt_ini *model, const char *sec, const char *def)
{
    int a;
    double alpha;
    DT_TRY(dt_ini_enum(model, sec, "activation", def, dt_act_names, &a));
    DT_TRY(dt_ini_real(model, sec, "alpha", 0, 0.01, 0, 1, &alpha));
    l->act = (dt_act)a;
    l->act_alpha = (dt_real)alpha;
    return DT_OK;
}

/* "a" or "a,b" of positive integers (b defaults to a). */
static dt_status read_pair(dt_ini *m, const char *sec, const char *key, int required, long def, int out[2])
{
    long v[2] = {def, def};
    int n;
    DT_TRY(dt_ini_ints(m, sec, key, required, v, 2, &n));
    if (n == 1) v[1] = v[0];
    for (int i = 0; i < 2; i++)
        if (v[i] < 1 || v[i] > (1L << 20)) {
            const char *s;
            DT_TRY(dt_ini_str(m, sec, key, "", &s));
            return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = '%s': expected one or two positive integers",
                            dt_ini_where(m, sec, key), sec, key, s);
        }
    out[0] = (int)v[0];
    out[1] = (int)v[1];
    return DT_OK;
}

dt_status dt_layer_read_window(dt_ini *m, const char *sec, int in_h, int in_w, dt_window *w)
{
    int k[2] = {0, 0}, st[2] = {1, 1};
    DT_TRY(read_pair(m, sec, "kernel", 1, 0, k));
    DT_TRY(read_pair(m, sec, "stride", 0, 1, st));
    *w = (dt_window){.kh = k[0], .kw = k[1], .sh = st[0], .sw = st[1]};
    const char *s;
    DT_TRY(dt_ini_str(m, sec, "padding", "valid", &s));
    if (!strcmp(s, "same")) {
        int oh = (in_h + w->sh - 1) / w->sh, ow = (in_w + w->sw - 1) / w->sw;
        int64_t th = (int64_t)(oh - 1) * w->sh + w->kh - in_h, tw = (int64_t)(ow - 1) * w->sw + w->kw - in_w;
        th = th > 0 ? th : 0;
        tw = tw > 0 ? tw : 0;
        w->pt = (int)(th / 2), w->pb = (int)(th - th / 2);
        w->pl = (int)(tw / 2), w->pr = (int)(tw - tw / 2);
    } else {
        long v[2] = {0, 0};
        int n = 1;
        if (strcmp(s, "valid") && (dt_ini_ints(m, sec, "padding", 1, v, 2, &n) || v[0] < 0 || v[n - 1] < 0 ||
                                   v[0] > (1L << 20) || v[n - 1] > (1L << 20)))
            return dt_error(DT_ERR_CONFIG, "%s: [%s] padding = '%s': expected same, valid, p or ph,pw (p >= 0)",
                            dt_ini_where(m, sec, "padding"), sec, s);
        w->pt = w->pb = (int)v[0];
        w->pl = w->pr = (int)v[n - 1];
    }
    int64_t ph = (int64_t)in_h + w->pt + w->pb, pw = (int64_t)in_w + w->pl + w->pr;
    if (ph < w->kh || pw < w->kw) {
        const char *ks;
        DT_TRY(dt_ini_str(m, sec, "kernel", "", &ks));
        return dt_error(DT_ERR_CONFIG, "%s: [%s] kernel = %s: larger than the padded input (%lldx%lld)",
                        dt_ini_where(m, sec, "kernel"), sec, ks, (long long)ph, (long long)pw);
    }
    w->oh = (int)((ph - w->kh) / w->sh + 1);
    w->ow = (int)((pw - w->kw) / w->sw + 1);
    return DT_OK;
}
