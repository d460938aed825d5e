/* style_cmd.h — `dtrain style`. */
#ifndef DT_CLI_STYLE_H
#define DT_CLI_STYLE_H

#include <stdio.h>

#include "comm/comm.h"
#include "train/style.h"

typedef struct {
    dt_style_opts o;
    const char *contents; /* comma-separated pictures, shared among the ranks */
    const char *style;
    const char *out;      /* OUT.png */
    long iters, save_every;
} dt_style_cli;

/* Returns the exit status: 0, 1 when a picture failed (its rank said why;
 * the others' results are written), 2 for bad options. */
int dt_cli_style(const dt_style_cli *a, dt_comm *world, FILE *log);

#endif
