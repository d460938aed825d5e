/* args.h — command-line argument helpers shared by the CLI's commands. */
#ifndef DT_CLI_ARGS_H
#define DT_CLI_ARGS_H

/* "dtrain: error: MSG 'ARG' (see dtrain CMD --help)" on rank 0, the command
 * taken from usage's first line; returns 2, the exit code of bad usage. */
int dt_cli_usage_error(int rank, const char *msg, const char *arg, const char *usage);
/* Whether v is a whole number in [lo, hi] (then *out) or a real one. */
int dt_cli_whole(const char *v, long lo, long hi, long *out);
int dt_cli_real(const char *v, double lo, double hi, double *out);

#endif
