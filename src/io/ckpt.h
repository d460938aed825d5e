/* ckpt.h — HDF5 checkpoints as a list of named arrays plus attributes.
 *
 * The file layout (readable by h5py, loadable into PyTorch):
 *   /params/<layer>/<W|b|...>   dt_real arrays in PyTorch layout (dense W is [out, in])
 *   /optim/<layer>/<m_W|v_W...> optimizer state, same shapes as the parameter
 *   /state/<name>               other arrays (generator state as uint32, ...)
 *   root attributes             step, epoch, ..., model and config text
 * The module knows nothing of networks: callers pass paths such as
 * "params/fc1/W". Arrays are stored in the build's precision (H5T_NATIVE_FLOAT
 * or _DOUBLE) and read back into either precision (HDF5 converts).
 *
 * Writing is atomic: the file is written to "<path>.tmp.<pid>", flushed,
 * fsync'ed, then renamed over <path>, so a crash or a write error never
 * damages an existing checkpoint; on error the temporary file is removed. */
#ifndef DT_CKPT_H
#define DT_CKPT_H

#include "core/core.h"

typedef enum { DT_ARR_REAL = 0, DT_ARR_U32 = 1, DT_ARR_I64 = 2, DT_ARR_F64 = 3, DT_ARR_U8 = 4, DT_ARR_F32 = 5 } dt_arr_type;

typedef struct {
    const char *path; /* "params/fc1/W": groups are created as needed */
    dt_arr_type type;
    const void *data;
    int ndim;         /* 1..4 */
    int64_t dims[4];
} dt_ckpt_array;

typedef enum { DT_ATTR_INT = 0, DT_ATTR_REAL = 1, DT_ATTR_STR = 2 } dt_attr_type;

typedef struct {
    const char *name;
    dt_attr_type type;
    int64_t i;
    double r;
    const char *s;
} dt_ckpt_attr;

dt_status dt_ckpt_write(const char *path, const dt_ckpt_array *arrays, int narrays,
                        const dt_ckpt_attr *attrs, int nattrs);

typedef struct dt_ckpt dt_ckpt; /* an open checkpoint for reading */

/* Errors name the file: missing, not HDF5, truncated. */
dt_status dt_ckpt_open(const char *path, dt_ckpt **out);
void dt_ckpt_close(dt_ckpt *c);
int dt_ckpt_has(dt_ckpt *c, const char *path);
/* The shape of the data set at path (at most max dimensions). */
dt_status dt_ckpt_shape(dt_ckpt *c, const char *path, int max, int *ndim, int64_t *dims);
/* Read an array whose shape must equal `dims` exactly (error names the
 * file, the path, the expected and the found shape). */
dt_status dt_ckpt_read(dt_ckpt *c, const char *path, dt_arr_type type, void *data, int ndim,
                       const int64_t *dims);
/* How many values the data set at `path`, or the data sets under the group
 * at `path` ("params"), hold, counting no more for each than its stored
 * bytes can hold (0 when it is absent): a bound on what a header read from
 * the file may make a reader allocate. */
dt_status dt_ckpt_values(dt_ckpt *c, const char *path, int64_t *values);
dt_status dt_ckpt_attr_int(dt_ckpt *c, const char *name, int64_t *out);
dt_status dt_ckpt_attr_real(dt_ckpt *c, const char *name, double *out);
/* Caller frees *out with free(). */
dt_status dt_ckpt_attr_str(dt_ckpt *c, const char *name, char **out);

/* `dtrain info FILE.h5`: print every group, data set (type, shape) and
 * attribute (scalars and the first line of strings) of any HDF5 file. */
dt_status dt_h5_print_info(const char *path, void *file /* FILE* */);

#endif
