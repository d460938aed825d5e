/* gap.c — placeholder: being written. */
#include "nn/layer.h"

static dt_status todo(dt_layer *l, dt_ini *m, const char *sec) { return dt_error(DT_ERR_CONFIG, "%s: [%s] layer type not implemented yet", dt_ini_name(m), sec); }
const dt_layer_ops dt_global_avgpool_ops = {"global_avgpool", todo, NULL, NULL, NULL, NULL, 1};
