/* fuzz_image.c — pictures for `dtrain predict`, `detect` and `style`: the
 * size without decoding, the picture resized to 28×28 grey and 16×16 RGB
 * (predict), and at its own size (style, detect). Input: the file. */
#include "fuzz.h"

#include <stdlib.h>

#include "cli/image.h"

void dt_fuzz_setup(void) {}

dt_status dt_fuzz_one(const uint8_t *data, size_t size)
{
    const char *p = dt_fuzz_path(0, "picture");
    dt_fuzz_write(p, data, size, 0);
    int H, W;
    unsigned char *px = NULL;
    DT_TRY(dt_image_size(p, &H, &W));
    /* a larger picture takes the same paths, only slower (the bounds above it are dt_image_size's) */
    if ((int64_t)H * W > 1 << 16) return DT_OK;
    DT_TRY(dt_image_read(p, 1, 28, 28, &px));
    free(px);
    px = NULL;
    DT_TRY(dt_image_read(p, 3, 16, 16, &px));
    free(px);
    px = NULL;
    DT_TRY(dt_image_load(p, 3, &H, &W, &px));
    free(px);
    return DT_OK;
}
