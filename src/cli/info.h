/* info.h — `dtrain info FILE [--input C,H,W]` for the CLI. */
#ifndef DT_CLI_INFO_H
#define DT_CLI_INFO_H

#include <stdio.h>

#include "core/core.h"

/* FILE.ini: the model's summary; a checkpoint: summary, progress, last
 * metrics and the HDF5 listing; any other HDF5 file: the listing. */
dt_status dt_cli_info(const char *file, const char *input, FILE *out);

#endif
