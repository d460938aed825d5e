/* image.c — stb_image, stb_image_resize and stb_image_write, compiled here
 * once for the CLI. */
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop
/* stb_image declares stbi_set_unpremultiply_on_load_thread static without
 * defining it; GCC reports that at the end of the file, past the pop. */
#pragma GCC diagnostic ignored "-Wunused-function"

/* A picture's header may claim any size; what a file of a given size can
 * hold is bounded: deflate (PNG) packs at most about 1032 bytes into one, a
 * 1-bit PNG 8 pixels into each of those, and GIF's LZW and JPEG's smallest
 * blocks stay under that. Checked before stb allocates anything. */
#define MAX_PIXELS_PER_BYTE (8 * 1032)

dt_status dt_image_size(const char *path, int *H, int *W)
{
    FILE *f = fopen(path, "rb");
    if (!f) return dt_error(DT_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    int n, ok = stbi_info_from_file(f, W, H, &n);
    int64_t bytes = fstat(fileno(f), &sb) == 0 ? (int64_t)sb.st_size : 0;
    fclose(f);
    if (!ok) return dt_error(DT_ERR_DATA, "%s: cannot read the image: %s", path, stbi_failure_reason());
    const int64_t px = (int64_t)*H * *W;
    if (px > DT_IMAGE_MAX_PIXELS)
        return dt_error(DT_ERR_DATA, "%s: %dx%d pixels: larger than dtrain reads (%d megapixels)", path, *H, *W,
                        DT_IMAGE_MAX_PIXELS >> 20);
    if (px > bytes * MAX_PIXELS_PER_BYTE)
        return dt_error(DT_ERR_DATA, "%s: the header claims %dx%d pixels, more than a file of %lld bytes can hold",
                        path, *H, *W, (long long)bytes);
    return DT_OK;
}

dt_status dt_image_read(const char *path, int C, int H, int W, unsigned char **px)
{
    *px = NULL;
    int w, h, n;
    DT_TRY(dt_image_size(path, &h, &w));
    FILE *f = fopen(path, "rb");
    if (!f) return dt_error(DT_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char *src = stbi_load_from_file(f, &w, &h, &n, C);
    fclose(f);
    if (!src) return dt_error(DT_ERR_DATA, "%s: cannot read the image: %s", path, stbi_failure_reason());
    unsigned char *out = malloc((size_t)C * H * W);
    int ok = out && stbir_resize_uint8(src, w, h, 0, out, W, H, 0, C);
    stbi_image_free(src);
    if (!ok) {
        free(out);
        return dt_error(out ? DT_ERR_DATA : DT_ERR_NOMEM, "%s: cannot resize the image to %dx%d", path, H, W);
    }
    *px = out;
    return DT_OK;
}

dt_status dt_image_load(const char *path, int C, int *H, int *W, unsigned char **px)
{
    *px = NULL;
    DT_TRY(dt_image_size(path, H, W));
    FILE *f = fopen(path, "rb");
    if (!f) return dt_error(DT_ERR_IO, "%s: %s", path, strerror(errno));
    int n;
    *px = stbi_load_from_file(f, W, H, &n, C);
    fclose(f);
    if (!*px) return dt_error(DT_ERR_DATA, "%s: cannot read the image: %s", path, stbi_failure_reason());
    return DT_OK;
}

dt_status dt_image_write_png(const char *path, const unsigned char *px, int H, int W)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!stbi_write_png(tmp, W, H, 3, px, W * 3)) {
        remove(tmp);
        return dt_error(DT_ERR_IO, "%s: cannot write the PNG", path);
    }
    if (rename(tmp, path)) {
        int e = errno;
        remove(tmp);
        return dt_error(DT_ERR_IO, "%s: %s", path, strerror(e));
    }
    return DT_OK;
}
