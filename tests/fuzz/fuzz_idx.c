/* fuzz_idx.c — IDX image and label files, plain or gzip-compressed, read as
 * `[data] source = idx` reads them: the row count, then every row, then the
 * second half alone (a rank's block in contiguous mode).
 *
 * Input: one flag byte (bit 0: gzip the images, bit 1: gzip the labels,
 * so the fuzzer reaches past gzip's framing), then the labels file behind
 * a 2-byte length (fuzz.h), then the images file. */
#include "fuzz.h"

#include "data/loaders.h"

void dt_fuzz_setup(void) {}

static dt_status load(const char *img, const char *lab, int64_t start, int64_t count)
{
    dt_dataset d = {0};
    int64_t maxlabel = -1;
    dt_status st = dt_idx_load(img, lab, start, count, &d, &maxlabel);
    dt_free(d.x);
    dt_free(d.y);
    return st;
}

dt_status dt_fuzz_one(const uint8_t *data, size_t size)
{
    int flags = size ? data[0] : 0;
    const uint8_t *lab, *img;
    size_t nlab, nimg;
    dt_fuzz_split(data + (size ? 1 : 0), size ? size - 1 : 0, &lab, &nlab, &img, &nimg);
    const char *ip = dt_fuzz_path(0, "images-idx3-ubyte.gz"), *lp = dt_fuzz_path(1, "labels-idx1-ubyte.gz");
    dt_fuzz_write(ip, img, nimg, flags & 1);
    dt_fuzz_write(lp, lab, nlab, flags & 2);
    int64_t rows = 0;
    DT_TRY(dt_idx_rows(ip, &rows));
    DT_TRY(load(ip, lp, 0, rows));
    return rows > 1 ? load(ip, lp, rows / 2, rows - rows / 2) : DT_OK;
}
