/* image.h — picture files for the CLI (predict, style): any format
 * stb_image reads (PNG, JPEG, BMP, GIF, ...), resized with stb_image_resize,
 * and PNG out with stb_image_write (Debian's libstb-dev). */
#ifndef DT_CLI_IMAGE_H
#define DT_CLI_IMAGE_H

#include "core/core.h"

/* Read `path` as C channels (1: grey, 3: RGB) resized to H×W: px gets
 * [H, W, C] bytes (malloc'ed). A one-line error names the file. */
dt_status dt_image_read(const char *path, int C, int H, int W, unsigned char **px);
/* The size of the picture in `path` without decoding it; a size over
 * DT_IMAGE_MAX_PIXELS, or more than the file can hold, is an error. */
dt_status dt_image_size(const char *path, int *H, int *W);
#define DT_IMAGE_MAX_PIXELS (1 << 28)
/* Read `path` as C channels at its own size: *px gets [*H, *W, C] bytes
 * (free with free()); sizes are checked as dt_image_size does. */
dt_status dt_image_load(const char *path, int C, int *H, int *W, unsigned char **px);
/* Write [H, W, 3] bytes as a PNG, through a temporary file renamed into place. */
dt_status dt_image_write_png(const char *path, const unsigned char *px, int H, int W);

#endif
