/* fuzz_boxes.c — detection data (the layout of `dtrain make-scenes`):
 * grey pictures train_x [n, 8, 8] and boxes train_y [n, 3, 5] (class, x1,
 * y1, x2, y2 in pixels; class -1: no box), read as dense targets and
 * checked by a YOLO loss the way training checks them before its first
 * step. Input: the HDF5 file. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#include "data/loaders.h"
#include "io/ini.h"
#include "nn/net.h"

static const char model_text[] = "[input]\nshape = 1,8,8\n"
                                 "[head]\ntype = conv2d\nfilters = 16\nkernel = 1\n"
                                 "[det]\ntype = yolo\nanchors = 1,1, 2,2\nclasses = 3\nimage = 8\nboxes = 3\n";
static dt_net *net;

void dt_fuzz_setup(void)
{
    dt_fuzz_hdf5_lists();
    net = dt_fuzz_net("boxes.ini", model_text);
}

dt_status dt_fuzz_one(const uint8_t *data, size_t size)
{
    const char *p = dt_fuzz_path(0, "scenes.h5");
    dt_fuzz_write(p, data, size, 0);
    int64_t rows = 0;
    DT_TRY(dt_h5_rows(p, "train_x", &rows));
    dt_dataset d = {0};
    int64_t maxlabel = -1;
    dt_status st = dt_h5_load(p, "train_x", "train_y", 1, 0, rows, &d, &maxlabel);
    if (!st && d.tlen != net->target_len)
        st = dt_error(DT_ERR_DATA, "%s: %lld target values per row, the detector reads %lld", d.tsrc,
                      (long long)d.tlen, (long long)net->target_len);
    for (int j = 0; !st && j < net->nlosses; j++)
        if (net->losses[j].ops->check) st = net->losses[j].ops->check(&net->losses[j], d.t, d.n, 0, d.tsrc);
    dt_free(d.x);
    dt_free(d.y);
    dt_free(d.t);
    return st;
}
