/* loss.c — loss types by name. */
#include <string.h>

#include "nn/loss.h"

const char *const dt_target_names[] = {"none", "label", "dense", NULL};

extern const dt_loss_ops dt_softmax_ce_ops, dt_bce_ops, dt_mse_ops, dt_content_ops, dt_style_ops, dt_yolo_ops,
    dt_triplet_ops;

static const dt_loss_ops *const types[] = {&dt_softmax_ce_ops, &dt_bce_ops,   &dt_mse_ops,  &dt_content_ops,
                                           &dt_style_ops,      &dt_yolo_ops, &dt_triplet_ops};

const dt_loss_ops *dt_loss_find(const char *type)
{
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(types[i]->type, type)) return types[i];
    return NULL;
}

const char *dt_loss_type_list(void)
{
    static char list[256];
    if (!list[0])
        for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
            if (i) strcat(list, ", ");
            strcat(list, types[i]->type);
        }
    return list;
}
