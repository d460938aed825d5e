/* scenes_cmd.h — `dtrain make-scenes` (data/scenes.h, the file layout in scenes_cmd.c). */
#ifndef DT_CLI_SCENES_H
#define DT_CLI_SCENES_H

#include <stdint.h>

typedef struct {
    const char *out, *fmnist; /* fmnist: the directory of the IDX files */
    int64_t train, test;      /* scenes per split */
    int size, items, min_item, max_item;
    uint32_t seed;
    const char *png;          /* or NULL: a directory for the first `npng` test scenes as PNG files */
    int npng;
} dt_scenes_args;

/* Returns the exit code: 0, or 2 after one "dtrain: error:" line. */
int dt_cli_make_scenes(const dt_scenes_args *a);

#endif
