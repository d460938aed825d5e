/* bench_cmd.h — `dtrain bench`: per-layer timing of a config's training step. */
#ifndef DT_CLI_BENCH_CMD_H
#define DT_CLI_BENCH_CMD_H

#include "comm/comm.h"

extern const char *const dt_cli_bench_usage;
/* Parse argv (dtrain bench CONFIG ...) and run on every rank of world; the exit code. */
int dt_cli_bench(int argc, char **argv, dt_comm *world);

#endif
