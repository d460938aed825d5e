/* fuzz_hdf5.c — HDF5 data sets, read as `[data] source = hdf5` reads them:
 * the rows of train_set_x, then its rows with the labels train_set_y, then
 * with train_set_y as dense targets, then the second half alone (a rank's
 * block in contiguous mode), and the class names list_classes.
 * Input: the HDF5 file. */
#include "fuzz.h"

#include <stdlib.h>

#include "data/loaders.h"

void dt_fuzz_setup(void) { dt_fuzz_hdf5_lists(); }

static dt_status load(const char *p, int dense, int64_t start, int64_t count)
{
    dt_dataset d = {0};
    int64_t maxlabel = -1;
    dt_status st = dt_h5_load(p, "train_set_x", "train_set_y", dense, start, count, &d, &maxlabel);
    dt_free(d.x);
    dt_free(d.y);
    dt_free(d.t);
    return st;
}

dt_status dt_fuzz_one(const uint8_t *data, size_t size)
{
    const char *p = dt_fuzz_path(0, "data.h5");
    dt_fuzz_write(p, data, size, 0);
    int64_t rows = 0;
    DT_TRY(dt_h5_rows(p, "train_set_x", &rows));
    dt_status st = load(p, 0, 0, rows);
    dt_status st2 = load(p, 1, 0, rows);
    if (!st && rows > 1) st = load(p, 0, rows / 2, rows - rows / 2);
    char **names = NULL;
    int n = 0;
    dt_status st3 = dt_h5_names(p, "list_classes", &names, &n);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return st ? st : st2 ? st2 : st3;
}
