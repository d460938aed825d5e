/* predict.h — `dtrain predict --ckpt FILE IMAGE...` for the CLI. */
#ifndef DT_CLI_PREDICT_H
#define DT_CLI_PREDICT_H

#include <stdio.h>

/* Classify each image file (JPEG, PNG, or anything stb_image reads) with
 * the checkpoint's model; prints "IMAGE: CLASS (p = P)" per image to out
 * and one "dtrain: error:" line per failure to stderr. Returns the exit
 * code: 0, or 2 when the checkpoint or any image could not be used. */
int dt_cli_predict(const char *ckpt, char *const *images, int nimages, FILE *out);

#endif
