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
