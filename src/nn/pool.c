/* pool.c — placeholder: being written. */
#include "nn/layer.h"

static dt_status todo(dt_layer *l, dt_ini *m, const char *sec) { return dt_error(DT_ERR_CONFIG, "%s: [%s] layer type not implemented yet", dt_ini_name(m), sec); }
const dt_layer_ops dt_maxpool_ops = {"maxpool", todo, NULL, NULL, NULL, NULL, 1};
const dt_layer_ops dt_avgpool_ops = {"avgpool", todo, NULL, NULL, NULL, NULL, 1};
