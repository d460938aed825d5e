/* anchors_cmd.h — `dtrain anchors`: a detector's anchors by k-means over its
 * training boxes. */
#ifndef DT_CLI_ANCHORS_CMD_H
#define DT_CLI_ANCHORS_CMD_H

#include "comm/comm.h"

extern const char *const dt_cli_anchors_usage;
/* Parse argv (dtrain anchors CONFIG ...) and run on every rank of world; the exit code. */
int dt_cli_anchors(int argc, char **argv, dt_comm *world);

#endif
