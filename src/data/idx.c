/* idx.c — MNIST-style IDX files, gzip-compressed or plain (zlib reads
 * both): uint8 images [N, rows, cols] (magic 0x00000803) and uint8 labels
 * [N] (magic 0x00000801). Big-endian header, then the values. */
#include "data/loaders.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_IMAGES 0x00000803u
#define IDX_LABELS 0x00000801u
#define READ_CHUNK (1u << 20)
/* deflate stores at most 1032 bytes in one (zlib's FAQ: 258-byte matches
 * in 2 bits), which bounds what a .gz file of a given size can hold */
#define GZ_MAX_RATIO 1032u

/* Why a read came up short: a damaged gzip stream, or a file that ends early
 * (a short plain file, or a gzip stream cut off, which zlib calls Z_BUF_ERROR). */
static dt_status short_read(gzFile gz, const char *path, const char *what)
{
    int err = Z_OK;
    const char *msg = gzerror(gz, &err);
    if (err != Z_OK && err != Z_BUF_ERROR)
        return dt_error(DT_ERR_DATA, "%s: gz error: %s", path, msg && *msg ? msg : "read failed");
    return dt_error(DT_ERR_DATA, "%s: truncated IDX file: it ends inside the %s", path, what);
}

static dt_status read_exact(gzFile gz, const char *path, void *buf, size_t len, const char *what)
{
    unsigned char *p = buf;
    while (len > 0) {
        unsigned want = len > READ_CHUNK ? READ_CHUNK : (unsigned)len;
        int got = gzread(gz, p, want);
        if (got < 0 || (unsigned)got < want) return short_read(gz, path, what);
        p += got;
        len -= (size_t)got;
    }
    return DT_OK;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The values the header claims must fit in the file, checked before anything
 * is allocated for them: a plain file holds them byte for byte after the
 * header, and a gzip file at most GZ_MAX_RATIO bytes per byte. */
static dt_status check_size(gzFile gz, const char *path, int ndim, const int64_t dims[3])
{
    struct stat st;
    if (stat(path, &st) != 0) return dt_error(DT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* dims[0] < 2^32 and rows * cols < 2^31: the product fits */
    const uint64_t values = ndim == 3 ? (uint64_t)dims[0] * (uint64_t)(dims[1] * dims[2]) : (uint64_t)dims[0];
    const uint64_t size = (uint64_t)st.st_size, head = 4 + 4 * (uint64_t)ndim;
    const uint64_t room = gzdirect(gz) ? size - head : size * GZ_MAX_RATIO;
    if (values <= room) return DT_OK;
    return dt_error(DT_ERR_DATA, "%s: the IDX header claims %llu %s (%llu bytes), more than %s of %llu bytes can hold",
                    path, (unsigned long long)dims[0], ndim == 3 ? "images" : "labels",
                    (unsigned long long)values, gzdirect(gz) ? "a file" : "a gzip file",
                    (unsigned long long)size);
}

/* Open and check the header: magic, then ndim sizes into dims. */
static dt_status idx_open(const char *path, uint32_t magic, int64_t dims[3], gzFile *out)
{
    const int ndim = (int)(magic & 0xff);
    *out = NULL;
    DT_TRY(dt_data_check_file(path));
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return dt_error(DT_ERR_IO, "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "out of memory");
    gzbuffer(gz, 1u << 17);
    unsigned char h[16];
    dt_status s = read_exact(gz, path, h, 4, "header");
    uint32_t m = s ? 0 : be32(h);
    if (!s && m != magic)
        s = dt_error(DT_ERR_DATA, "%s: bad IDX magic number 0x%08x: expected 0x%08x (%s)", path, m,
                     magic, magic == IDX_IMAGES ? "images" : "labels");
    if (!s) s = read_exact(gz, path, h + 4, 4 * (size_t)ndim, "header");
    for (int i = 0; !s && i < ndim; i++) dims[i] = be32(h + 4 + 4 * i);
    /* rows * cols must be a sane row length (each is up to 2^32 - 1). */
    if (!s && ndim == 3 &&
        (dims[1] == 0 || dims[2] == 0 || (uint64_t)dims[1] * (uint64_t)dims[2] > INT32_MAX))
        s = dt_error(DT_ERR_DATA,
                     "%s: IDX image size %lld x %lld: expected positive sizes and fewer "
                     "than 2^31 pixels",
                     path, (long long)dims[1], (long long)dims[2]);
    if (!s) s = check_size(gz, path, ndim, dims);
    if (s) {
        gzclose(gz);
        return s;
    }
    *out = gz;
    return DT_OK;
}

dt_status dt_idx_rows(const char *images, int64_t *rows)
{
    int64_t dims[3];
    gzFile gz;
    DT_TRY(idx_open(images, IDX_IMAGES, dims, &gz));
    gzclose(gz);
    *rows = dims[0];
    return DT_OK;
}

/* All labels are read (they are small) so every rank checks the same ones. */
static dt_status load_labels(const char *path, int64_t rows, int64_t start, int64_t count,
                             int32_t *y, int64_t *maxlabel)
{
    int64_t dims[3];
    gzFile gz;
    DT_TRY(idx_open(path, IDX_LABELS, dims, &gz));
    const int64_t n = dims[0];
    if (n != rows) {
        gzclose(gz);
        return dt_error(DT_ERR_DATA, "%s: %lld labels, but the images file has %lld rows", path,
                        (long long)n, (long long)rows);
    }
    unsigned char *buf = malloc((size_t)(n > 0 ? n : 1));
    if (!buf) {
        gzclose(gz);
        return dt_error(DT_ERR_NOMEM, "%s: out of memory", path);
    }
    dt_status s = read_exact(gz, path, buf, (size_t)n, "labels");
    gzclose(gz);
    if (!s) {
        int64_t mx = -1;
        for (int64_t i = 0; i < n; i++)
            if (buf[i] > mx) mx = buf[i];
        for (int64_t i = 0; i < count; i++) y[i] = buf[start + i];
        *maxlabel = mx;
    }
    free(buf);
    return s;
}

dt_status dt_idx_load(const char *images, const char *labels, int64_t start, int64_t count,
                      dt_dataset *d, int64_t *maxlabel)
{
    int64_t dims[3];
    gzFile gz;
    DT_TRY(idx_open(images, IDX_IMAGES, dims, &gz));
    const int64_t feat = dims[1] * dims[2];
    dt_status s = DT_OK;
    unsigned char *buf = NULL;
    if (start < 0 || count < 0 || start + count > dims[0])
        s = dt_error(DT_ERR_DATA, "%s: %lld images: rows %lld..%lld requested", images,
                     (long long)dims[0], (long long)start, (long long)(start + count - 1));
    if (!s) s = dt_data_alloc_rows(d, count, feat, images);
    if (!s) {
        d->ndim = 2;
        d->dims[0] = dims[1];
        d->dims[1] = dims[2];
        /* A contiguous block: skip the rows before it (zlib decompresses through them). */
        if (start > 0 && gzseek(gz, (z_off_t)(16 + start * feat), SEEK_SET) < 0)
            s = short_read(gz, images, "images");
    }
    const size_t chunk = count * feat < READ_CHUNK ? (size_t)(count * feat) : READ_CHUNK;
    if (!s && count > 0 && !(buf = malloc(chunk)))
        s = dt_error(DT_ERR_NOMEM, "%s: out of memory", images);
    for (int64_t done = 0, total = count * feat; !s && done < total;) {
        size_t len = total - done > (int64_t)chunk ? chunk : (size_t)(total - done);
        s = read_exact(gz, images, buf, len, "image data");
        for (size_t i = 0; !s && i < len; i++) d->x[done + (int64_t)i] = (dt_real)(buf[i] / 255.0);
        done += (int64_t)len;
    }
    free(buf);
    gzclose(gz);
    if (!s) s = load_labels(labels, dims[0], start, count, d->y, maxlabel);
    return s;
}
