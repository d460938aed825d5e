/* args.c — command-line argument helpers (see args.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int dt_cli_usage_error(int rank, const char *msg, const char *arg, const char *usage)
{
    char cmd[64] = "";
    sscanf(usage, "usage: dtrain %63[a-z-]", cmd);
    if (rank == 0)
        fprintf(stderr, "dtrain: error: %s%s%s%s (see dtrain %s%s--help)\n", msg, arg ? " '" : "", arg ? arg : "",
                arg ? "'" : "", strcmp(cmd, "COMMAND") ? cmd : "", strcmp(cmd, "COMMAND") ? " " : "");
    return 2;
}

int dt_cli_whole(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < lo || n > hi) return 0;
    *out = n;
    return 1;
}

int dt_cli_real(const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (*end || end == v || !(x >= lo && x <= hi)) return 0;
    *out = x;
    return 1;
}
