/* image.c — stb_image, stb_image_resize and stb_image_write, compiled here
 * once for the CLI. */
#include "image.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
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
/* zeroed: stb_image 2.27 reads its JPEG decoder's state before writing all
 * of it (Huffman tables a scan names but no segment defined), and shifted
 * by what it found there (UBSan, fuzzing) */
#define STBI_MALLOC(sz) calloc(1, sz)
#define STBI_REALLOC(p, newsz) realloc(p, newsz)
#define STBI_FREE(p) free(p)
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

/* stb's reason for a failure; some of its paths leave a pointer to bytes
 * that are no message (seen by the fuzzer: "\x1a\n"), which an error line must not print. */
static const char *reason(void)
{
    const char *r = stbi_failure_reason();
    if (!r || !*r) return "broken data";
    for (const char *c = r; *c; c++)
        if (!isprint((unsigned char)*c)) return "broken data";
    return r;
}

/* The whole file: every check below and stb then read the same bytes, once
 * (stb takes an int length). */
static dt_status slurp(const char *path, unsigned char **buf, int *len)
{
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return dt_error(DT_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    size_t cap = fstat(fileno(f), &sb) == 0 && sb.st_size > 0 ? (size_t)sb.st_size + 1 : 1 << 16, n = 0;
    unsigned char *b = NULL;
    for (;;) {
        if (cap > (size_t)INT_MAX + 1) cap = (size_t)INT_MAX + 1;
        unsigned char *nb = realloc(b, cap);
        if (!nb) {
            free(b);
            fclose(f);
            return dt_error(DT_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, cap);
        }
        b = nb;
        n += fread(b + n, 1, cap - n, f);
        if (n < cap || cap > (size_t)INT_MAX) break; /* end of file, or past what stb takes */
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (err || n > (size_t)INT_MAX) {
        free(b);
        return err ? dt_error(DT_ERR_IO, "%s: read error", path)
                   : dt_error(DT_ERR_DATA, "%s: over 2 GiB: larger than dtrain reads as a picture", path);
    }
    *buf = b;
    *len = (int)n;
    return DT_OK;
}

/* stb_image 2.27 reads a PNM header's numbers into an int without a check
 * (undefined behaviour past INT_MAX), and converts the channels of a 16-bit
 * PNM as if it were 8-bit, then reads twice the bytes it has (a heap
 * overflow): P5/P6 headers are read here first, numbers of at most 9 digits
 * and a maximum value up to 255. Returns 0 (too long), 16 (16-bit) or 1. */
static int pnm_header_ok(const unsigned char *b, size_t n)
{
    if (n > 256) n = 256;
    if (n < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return 1;
    size_t i = 2;
    for (int k = 0; k < 3; k++) { /* width, height, maximum value */
        while (i < n && (isspace(b[i]) || b[i] == '#'))
            if (b[i++] == '#')
                while (i < n && b[i] != '\n' && b[i] != '\r') i++;
        size_t d = 0;
        long v = 0;
        while (i < n && isdigit(b[i]) && d <= 9) v = v * 10 + (b[i++] - '0'), d++;
        if (d > 9) return 0;
        if (k == 2 && v > 255) return 16;
    }
    return 1;
}

/* stb_image 2.27 builds a JPEG Huffman table from counts that may add up
 * to more than its 256 slots and writes past them (2.28 checks): every
 * DHT segment of a JPEG is read here first. A valid JPEG has 0xFF 0xC4 only
 * at its DHT markers (entropy-coded 0xFF bytes are followed by 0x00). */
static int jpeg_tables_ok(const unsigned char *b, size_t n)
{
    /* stb takes any run of 0xFF and then 0xD8 for a JPEG's start */
    if (n <= 4 || b[0] != 0xFF) return 1;
    for (size_t i = 0; i + 4 <= n; i++) {
        if (b[i] != 0xFF || b[i + 1] != 0xC4) continue;
        /* as stb reads it: tables while the length left is positive, each a
         * class/destination byte, 16 counts and the symbols; 0 past the end */
        long left = ((long)b[i + 2] << 8 | b[i + 3]) - 2;
        size_t p = i + 4;
        while (left > 0) {
            long sum = 0;
            for (size_t k = p + 1; k <= p + 16; k++) sum += k < n ? b[k] : 0;
            if (sum > 256) return 0;
            p += 17 + (size_t)sum;
            left -= 17 + sum;
        }
    }
    return 1;
}

/* stb_image 2.27 grows its buffer for a PNG's IDAT chunks to the length
 * a chunk claims before it reads the chunk (a 121-byte file asked for 148 MB
 * under the fuzzer): every chunk must fit in what the file has left.
 * Returns 0 when one does not. */
static int png_chunks_ok(const unsigned char *b, size_t n)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 8 || memcmp(b, sig, 8) != 0) return 1;
    for (size_t i = 8; i + 8 <= n;) {
        uint64_t len = (uint64_t)b[i] << 24 | (uint64_t)b[i + 1] << 16 | (uint64_t)b[i + 2] << 8 | b[i + 3];
        if (len > n - i - 8) return 0;
        if (!memcmp(b + i + 4, "IEND", 4)) break;
        i += 12 + (size_t)len; /* length, type, data, CRC */
    }
    return 1;
}

/* The file's bytes (*buf, free() them) and the picture's size, checked
 * before stb decodes or allocates anything. */
static dt_status checked(const char *path, unsigned char **buf, int *len, int *H, int *W)
{
    DT_TRY(slurp(path, buf, len));
    const unsigned char *b = *buf;
    const size_t n = (size_t)*len;
    const char *bad = NULL;
    int pnm = pnm_header_ok(b, n), ok = 0, comp;
    if (pnm != 1)
        bad = pnm ? "a 16-bit PNM (maximum value over 255), which stb_image 2.27 misreads"
                  : "a PNM header number is too large";
    else if (!jpeg_tables_ok(b, n))
        bad = "a JPEG Huffman table has more than 256 codes";
    else if (!png_chunks_ok(b, n))
        bad = "a PNG chunk claims more bytes than the file has left";
    else if (!(ok = stbi_info_from_memory(b, *len, W, H, &comp)))
        bad = reason();
    dt_status st = DT_OK;
    if (bad)
        st = dt_error(DT_ERR_DATA, "%s: cannot read the image: %s", path, bad);
    else if (*H < 1 || *W < 1) /* stb reads some empty or negative sizes from broken headers */
        st = dt_error(DT_ERR_DATA, "%s: the header claims %dx%d pixels: not a picture", path, *H, *W);
    else if ((int64_t)*H * *W > DT_IMAGE_MAX_PIXELS)
        st = dt_error(DT_ERR_DATA, "%s: %dx%d pixels: larger than dtrain reads (%d megapixels)", path, *H, *W,
                      DT_IMAGE_MAX_PIXELS >> 20);
    else if ((int64_t)*H * *W > (int64_t)n * MAX_PIXELS_PER_BYTE)
        st = dt_error(DT_ERR_DATA, "%s: the header claims %dx%d pixels, more than a file of %zu bytes can hold",
                      path, *H, *W, n);
    if (st) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}

dt_status dt_image_size(const char *path, int *H, int *W)
{
    unsigned char *buf;
    int len;
    DT_TRY(checked(path, &buf, &len, H, W));
    free(buf);
    return DT_OK;
}

dt_status dt_image_load(const char *path, int C, int *H, int *W, unsigned char **px)
{
    *px = NULL;
    unsigned char *buf;
    int len, n;
    DT_TRY(checked(path, &buf, &len, H, W));
    const int hh = *H, ww = *W;
    *px = stbi_load_from_memory(buf, len, W, H, &n, C);
    free(buf);
    if (!*px) return dt_error(DT_ERR_DATA, "%s: cannot read the image: %s", path, reason());
    if (*W != ww || *H != hh) {
        stbi_image_free(*px);
        *px = NULL;
        return dt_error(DT_ERR_DATA, "%s: cannot read the image: its header and its data disagree on the size", path);
    }
    return DT_OK;
}

dt_status dt_image_read(const char *path, int C, int H, int W, unsigned char **px)
{
    *px = NULL;
    int w, h;
    unsigned char *src;
    DT_TRY(dt_image_load(path, C, &h, &w, &src));
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
