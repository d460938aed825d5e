/* hdf5.c — examples and labels from HDF5 files (the course's .h5 files and
 * anything shaped like them), read by hyperslab so a rank can load just
 * its block of rows. */
#include "data/loaders.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef DTRAIN_DOUBLE
#define H5T_NATIVE_REAL H5T_NATIVE_DOUBLE
#else
#define H5T_NATIVE_REAL H5T_NATIVE_FLOAT
#endif

/* Values read per H5Dread call for uint8 images and labels: bounds the
 * scratch memory however large the data set is. */
#define CHUNK_VALUES ((int64_t)1 << 22)

/* HDF5 prints its error stack by default; we report through dt_error instead.
 * The previous handler is restored so other modules keep their choice. */
typedef struct {
    H5E_auto2_t func;
    void *data;
} quiet;

static void quiet_on(quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void quiet_off(const quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

static void close_id(hid_t id, herr_t (*fn)(hid_t))
{
    if (id >= 0) fn(id);
}

static dt_status open_file(const char *path, hid_t *f)
{
    *f = H5I_INVALID_HID;
    DT_TRY(dt_data_check_file(path));
    htri_t is = H5Fis_hdf5(path);
    if (is == 0) return dt_error(DT_ERR_DATA, "%s: not an HDF5 file", path);
    *f = is > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : H5I_INVALID_HID;
    if (*f < 0)
        return dt_error(DT_ERR_DATA, "%s: cannot open HDF5 file (truncated or corrupt file?)",
                        path);
    return DT_OK;
}

/* Root group members, comma-separated, for "no data set" messages. */
typedef struct {
    char buf[320];
} name_list;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    name_list *l = op;
    size_t used = strlen(l->buf);
    if (used + strlen(name) + 8 >= sizeof l->buf) {
        if (used + 5 < sizeof l->buf) strcat(l->buf, ", ...");
        return 1; /* stop */
    }
    if (used) strcat(l->buf, ", ");
    strcat(l->buf, name);
    return 0;
}

static dt_status open_dset(hid_t f, const char *path, const char *name, hid_t *d)
{
    *d = H5I_INVALID_HID;
    if (!name[0] || H5Lexists(f, name, H5P_DEFAULT) <= 0) {
        name_list l = {{0}};
        H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, list_cb, &l);
        return dt_error(DT_ERR_DATA, "%s: no data set '%s' (the file has: %s)", path, name,
                        l.buf[0] ? l.buf : "nothing");
    }
    *d = H5Dopen2(f, name, H5P_DEFAULT);
    if (*d < 0) return dt_error(DT_ERR_DATA, "%s: '%s' is not a data set", path, name);
    return DT_OK;
}

static dt_status read_fail(const char *path, const char *name)
{
    return dt_error(DT_ERR_DATA, "%s: cannot read HDF5 data set '%s' (truncated or corrupt file?)",
                    path, name);
}

int dt_h5_has(const char *path, const char *name)
{
    quiet q;
    quiet_on(&q);
    int has = 0;
    hid_t f = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : H5I_INVALID_HID;
    if (f >= 0 && name[0]) has = H5Lexists(f, name, H5P_DEFAULT) > 0;
    close_id(f, H5Fclose);
    quiet_off(&q);
    return has;
}

/* ---- examples ---------------------------------------------------------- */

typedef struct {
    hid_t d, space, type;
    int rank;
    hsize_t dims[H5S_MAX_RANK];
    int64_t features;
    int is_u8; /* uint8 pixels, scaled by 1/255 */
} xinfo;

static void xinfo_close(xinfo *x)
{
    close_id(x->type, H5Tclose);
    close_id(x->space, H5Sclose);
    close_id(x->d, H5Dclose);
}

/* A data set's header may claim any shape; its values must be in the file:
 * as they are, or compressed (deflate packs at most about 1032 bytes into
 * one). Checked before anything is allocated from the shape. Data sets
 * whose values were never written (fill values) are refused too. */
static dt_status check_stored(hid_t f, const char *path, const char *name, const xinfo *x)
{
    hsize_t fsize = 0, stored = H5Dget_storage_size(x->d);
    if (H5Fget_filesize(f, &fsize) < 0) return read_fail(path, name);
    if (stored > fsize) stored = fsize;
    hid_t dcpl = H5Dget_create_plist(x->d);
    int nfilters = dcpl < 0 ? -1 : H5Pget_nfilters(dcpl);
    close_id(dcpl, H5Pclose);
    size_t tsize = H5Tget_size(x->type);
    if (nfilters < 0 || tsize == 0) return read_fail(path, name);
    /* in doubles: the product of a fuzzed shape may not fit in 64 bits */
    double claimed = (double)x->dims[0] * (double)x->features * (double)tsize;
    double room = (double)stored * (nfilters > 0 ? 1032.0 : 1.0);
    if (claimed > room)
        return dt_error(DT_ERR_DATA, "%s: data set '%s' claims %.0f bytes of values, but the file holds %llu bytes%s of it "
                                     "(truncated, or written without its values?)",
                        path, name, claimed, (unsigned long long)stored, nfilters > 0 ? " (compressed)" : "");
    return DT_OK;
}

static dt_status xinfo_open(hid_t f, const char *path, const char *name, xinfo *x)
{
    x->space = x->type = H5I_INVALID_HID;
    DT_TRY(open_dset(f, path, name, &x->d));
    x->space = H5Dget_space(x->d);
    x->type = H5Dget_type(x->d);
    x->rank = x->space < 0 ? -1 : H5Sget_simple_extent_ndims(x->space);
    if (x->type < 0 || x->rank < 0 || H5Sget_simple_extent_dims(x->space, x->dims, NULL) < 0)
        return read_fail(path, name);
    if (x->rank < 1 || x->rank > 5)
        return dt_error(DT_ERR_DATA,
                        "%s: data set '%s' has %d dimensions: expected 1 to 5 (examples first)",
                        path, name, x->rank);
    H5T_class_t cls = H5Tget_class(x->type);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        return dt_error(DT_ERR_DATA, "%s: data set '%s': expected numbers (uint8 pixels or floats)",
                        path, name);
    /* uint8 means pixels; other integers are taken as the values they are. */
    x->is_u8 =
        cls == H5T_INTEGER && H5Tget_size(x->type) == 1 && H5Tget_sign(x->type) == H5T_SGN_NONE;
    x->features = 1;
    for (int i = 1; i < x->rank; i++) {
        if (x->dims[i] == 0 || x->dims[i] > (hsize_t)INT64_MAX / (hsize_t)x->features / 64)
            return dt_error(DT_ERR_DATA,
                            "%s: data set '%s': bad example shape (dimension %d is %llu)", path,
                            name, i, (unsigned long long)x->dims[i]);
        x->features *= (int64_t)x->dims[i];
    }
    if (x->dims[0] > (hsize_t)INT64_MAX / 64)
        return dt_error(DT_ERR_DATA, "%s: data set '%s': too many rows", path, name);
    return check_stored(f, path, name, x);
}

/* Select rows [r0, r0 + nr) of x in its file space; memory is flat. */
static hid_t select_rows(const xinfo *x, int64_t r0, int64_t nr)
{
    hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
    memcpy(count, x->dims, sizeof count);
    start[0] = (hsize_t)r0;
    count[0] = (hsize_t)nr;
    if (H5Sselect_hyperslab(x->space, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
        return H5I_INVALID_HID;
    hsize_t flat = (hsize_t)(nr * x->features);
    return H5Screate_simple(1, &flat, NULL);
}

static dt_status read_rows(const xinfo *x, const char *path, const char *name, int64_t start,
                           int64_t count, dt_real *out)
{
    if (count == 0) return DT_OK;
    if (!x->is_u8) {
        /* HDF5 converts float/double/int to dt_real itself. */
        hid_t mem = select_rows(x, start, count);
        herr_t e = mem < 0 ? -1 : H5Dread(x->d, H5T_NATIVE_REAL, mem, x->space, H5P_DEFAULT, out);
        close_id(mem, H5Sclose);
        if (e < 0) return read_fail(path, name);
        for (int64_t i = 0; i < count * x->features; i++)
            if (!isfinite(out[i]))
                return dt_error(DT_ERR_DATA, "%s: data set '%s': row %lld has a non-finite value",
                                path, name, (long long)(start + i / x->features));
        return DT_OK;
    }
    int64_t step = CHUNK_VALUES / x->features;
    if (step < 1) step = 1;
    if (step > count) step = count;
    uint8_t *buf = malloc((size_t)(step * x->features));
    if (!buf) return dt_error(DT_ERR_NOMEM, "%s: out of memory reading '%s'", path, name);
    for (int64_t r = 0; r < count; r += step) {
        int64_t nr = count - r < step ? count - r : step;
        hid_t mem = select_rows(x, start + r, nr);
        herr_t e = mem < 0 ? -1 : H5Dread(x->d, H5T_NATIVE_UINT8, mem, x->space, H5P_DEFAULT, buf);
        close_id(mem, H5Sclose);
        if (e < 0) {
            free(buf);
            return read_fail(path, name);
        }
        dt_real *o = out + r * x->features;
        for (int64_t i = 0; i < nr * x->features; i++) o[i] = (dt_real)(buf[i] / 255.0);
    }
    free(buf);
    return DT_OK;
}

dt_status dt_h5_rows(const char *path, const char *xname, int64_t *rows)
{
    quiet q;
    quiet_on(&q);
    hid_t f;
    xinfo x = {.d = H5I_INVALID_HID, .space = H5I_INVALID_HID, .type = H5I_INVALID_HID};
    dt_status s = open_file(path, &f);
    if (!s) s = xinfo_open(f, path, xname, &x);
    if (!s) *rows = (int64_t)x.dims[0];
    xinfo_close(&x);
    close_id(f, H5Fclose);
    quiet_off(&q);
    return s;
}

/* ---- labels ------------------------------------------------------------ */

/* Checks every label of `name` (rows values, any shape) and copies those
 * of rows [start, start + count) into y. Rank-1 labels are read in chunks;
 * other shapes, like the course's (1, m), are small and read whole. */
static dt_status read_labels(hid_t f, const char *path, const char *name, const char *xname,
                             int64_t rows, int64_t start, int64_t count, int32_t *y,
                             int64_t *maxlabel)
{
    hid_t d, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int64_t *buf = NULL;
    double *fbuf = NULL;
    DT_TRY(open_dset(f, path, name, &d));
    dt_status s = DT_OK;
    space = H5Dget_space(d);
    type = H5Dget_type(d);
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    hssize_t npts = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    H5T_class_t cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    if (rank < 0 || npts < 0 || type < 0) {
        s = read_fail(path, name);
        goto done;
    }
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        s = dt_error(DT_ERR_DATA, "%s: labels '%s': expected integer class indices", path, name);
        goto done;
    }
    if ((int64_t)npts != rows) {
        s = dt_error(DT_ERR_DATA, "%s: labels '%s' have %lld values but '%s' has %lld rows", path,
                     name, (long long)npts, xname, (long long)rows);
        goto done;
    }
    int64_t step = rank == 1 ? CHUNK_VALUES : rows;
    if (step > rows) step = rows;
    if (step < 1) step = 1;
    buf = malloc((size_t)step * sizeof *buf);
    fbuf = cls == H5T_FLOAT ? malloc((size_t)step * sizeof *fbuf) : NULL;
    if (!buf || (cls == H5T_FLOAT && !fbuf)) {
        s = dt_error(DT_ERR_NOMEM, "%s: out of memory reading '%s'", path, name);
        goto done;
    }
    int64_t mx = -1;
    for (int64_t r = 0; r < rows; r += step) {
        int64_t nr = rows - r < step ? rows - r : step;
        hid_t mem = H5S_ALL, fsel = H5S_ALL;
        if (rank == 1) {
            hsize_t st = (hsize_t)r, ct = (hsize_t)nr;
            fsel = space;
            mem = H5Sselect_hyperslab(space, H5S_SELECT_SET, &st, NULL, &ct, NULL) < 0
                      ? H5I_INVALID_HID
                      : H5Screate_simple(1, &ct, NULL);
        }
        herr_t e = mem < 0 ? -1
                   : fbuf  ? H5Dread(d, H5T_NATIVE_DOUBLE, mem, fsel, H5P_DEFAULT, fbuf)
                           : H5Dread(d, H5T_NATIVE_INT64, mem, fsel, H5P_DEFAULT, buf);
        if (rank == 1) close_id(mem, H5Sclose);
        if (e < 0) {
            s = read_fail(path, name);
            goto done;
        }
        for (int64_t i = 0; i < nr; i++) {
            if (fbuf) {
                double v = fbuf[i];
                buf[i] = v == floor(v) && v >= 0 && v < DT_MAX_CLASSES ? (int64_t)v : -1;
            }
            if (buf[i] < 0 || buf[i] >= DT_MAX_CLASSES) {
                s = dt_error(DT_ERR_DATA,
                             "%s: labels '%s': value at row %lld is out of range: expected a class "
                             "index in [0, %d)",
                             path, name, (long long)(r + i), DT_MAX_CLASSES);
                goto done;
            }
            if (buf[i] > mx) mx = buf[i];
            int64_t at = r + i - start;
            if (at >= 0 && at < count) y[at] = (int32_t)buf[i];
        }
    }
    *maxlabel = mx;
done:
    free(buf);
    free(fbuf);
    close_id(type, H5Tclose);
    close_id(space, H5Sclose);
    close_id(d, H5Dclose);
    return s;
}

/* Dense targets: rows [start, start + count) of `name`, which has as many rows
 * as X (uint8 ones are pixels scaled to [0, 1], as X's are). */
static dt_status read_dense(hid_t f, const char *path, const char *name, const char *xname, int64_t rows,
                            int64_t start, int64_t count, dt_dataset *d)
{
    xinfo y = {.d = H5I_INVALID_HID, .space = H5I_INVALID_HID, .type = H5I_INVALID_HID};
    dt_status s = xinfo_open(f, path, name, &y);
    if (!s && (int64_t)y.dims[0] != rows)
        s = dt_error(DT_ERR_DATA, "%s: targets '%s' have %llu rows but '%s' has %lld", path, name,
                     (unsigned long long)y.dims[0], xname, (long long)rows);
    if (!s && !(d->t = dt_alloc((size_t)(count * y.features + 1) * sizeof(dt_real))))
        s = dt_error(DT_ERR_NOMEM, "%s: out of memory for the targets '%s'", path, name);
    if (!s) {
        snprintf(d->tsrc, sizeof d->tsrc, "%s: '%s'", path, name);
        d->tlen = y.features;
        d->tndim = y.rank > 1 ? y.rank - 1 : 1;
        for (int i = 0; i < 4; i++) d->tdims[i] = i + 1 < y.rank ? (int64_t)y.dims[i + 1] : 0;
        if (y.rank == 1) d->tdims[0] = 1;
        s = read_rows(&y, path, name, start, count, d->t);
    }
    xinfo_close(&y);
    return s;
}

dt_status dt_h5_load(const char *path, const char *xname, const char *yname, int dense, int64_t start,
                     int64_t count, dt_dataset *d, int64_t *maxlabel)
{
    quiet q;
    quiet_on(&q);
    hid_t f;
    xinfo x = {.d = H5I_INVALID_HID, .space = H5I_INVALID_HID, .type = H5I_INVALID_HID};
    dt_status s = open_file(path, &f);
    if (!s) s = xinfo_open(f, path, xname, &x);
    if (!s && (start < 0 || count < 0 || start + count > (int64_t)x.dims[0]))
        s = dt_error(DT_ERR_DATA, "%s: data set '%s' has %llu rows: rows %lld..%lld requested",
                     path, xname, (unsigned long long)x.dims[0], (long long)start,
                     (long long)(start + count - 1));
    if (!s) s = dt_data_alloc_rows(d, count, x.features, path);
    if (!s) {
        d->ndim = x.rank > 1 ? x.rank - 1 : 1;
        for (int i = 0; i < 4; i++) d->dims[i] = i + 1 < x.rank ? (int64_t)x.dims[i + 1] : 0;
        if (x.rank == 1) d->dims[0] = 1;
        s = read_rows(&x, path, xname, start, count, d->x);
    }
    if (!s && yname && dense) s = read_dense(f, path, yname, xname, (int64_t)x.dims[0], start, count, d);
    else if (!s && yname)
        s = read_labels(f, path, yname, xname, (int64_t)x.dims[0], start, count, d->y, maxlabel);
    xinfo_close(&x);
    close_id(f, H5Fclose);
    quiet_off(&q);
    return s;
}

/* ---- class names ------------------------------------------------------- */

static dt_status read_strings(hid_t d, const char *path, const char *name, char **out, int n)
{
    hid_t ft = H5Dget_type(d), mt = H5Tcopy(H5T_C_S1);
    dt_status s = DT_OK;
    if (ft < 0 || mt < 0) {
        s = read_fail(path, name);
    } else if (H5Tget_class(ft) != H5T_STRING) {
        s = dt_error(DT_ERR_DATA, "%s: '%s': expected class names as strings", path, name);
    } else if (H5Tis_variable_str(ft) > 0) {
        char **v = calloc((size_t)n, sizeof *v);
        hid_t sp = H5Dget_space(d);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        if (!v || sp < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
            s = v ? read_fail(path, name) : dt_error(DT_ERR_NOMEM, "out of memory");
        } else {
            for (int i = 0; i < n && !s; i++)
                if (!(out[i] = dt_strdup(v[i] ? v[i] : ""))) s = DT_ERR_NOMEM;
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
        }
        close_id(sp, H5Sclose);
        free(v);
    } else {
        /* Fixed length (h5py's bytes, as in the course files): let HDF5 add the NUL. */
        size_t len = H5Tget_size(ft) + 1;
        char *buf = calloc((size_t)n, len);
        H5Tset_size(mt, len);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        H5Tset_cset(mt, H5Tget_cset(ft));
        if (!buf || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            s = buf ? read_fail(path, name) : dt_error(DT_ERR_NOMEM, "out of memory");
        } else {
            for (int i = 0; i < n && !s; i++)
                if (!(out[i] = dt_strdup(buf + (size_t)i * len))) s = DT_ERR_NOMEM;
        }
        free(buf);
    }
    close_id(mt, H5Tclose);
    close_id(ft, H5Tclose);
    return s;
}

dt_status dt_h5_names(const char *path, const char *name, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    quiet q;
    quiet_on(&q);
    hid_t f, d = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    dt_status s = open_file(path, &f);
    if (s || H5Lexists(f, name, H5P_DEFAULT) <= 0) goto done;
    if ((s = open_dset(f, path, name, &d))) goto done;
    sp = H5Dget_space(d);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    if (np < 0) {
        s = read_fail(path, name);
        goto done;
    }
    if (np > DT_MAX_CLASSES) {
        s = dt_error(DT_ERR_DATA, "%s: '%s' has %lld class names: expected at most %d", path, name,
                     (long long)np, DT_MAX_CLASSES);
        goto done;
    }
    if (np == 0) goto done;
    char **v = calloc((size_t)np, sizeof *v);
    if (!v) {
        s = dt_error(DT_ERR_NOMEM, "out of memory");
        goto done;
    }
    s = read_strings(d, path, name, v, (int)np);
    /* checkpoints keep the names comma-joined and reports print one per line */
    for (hssize_t i = 0; !s && i < np; i++)
        for (const unsigned char *c = (const unsigned char *)v[i]; !s && *c; c++)
            if (*c == ',' || *c < 0x20 || *c == 0x7f)
                s = dt_error(DT_ERR_DATA, "%s: '%s': class name %lld holds a %s: expected names without commas or "
                                          "control characters", path, name, (long long)i,
                             *c == ',' ? "comma" : "control character");
    if (s) {
        for (hssize_t i = 0; i < np; i++) free(v[i]);
        free(v);
    } else {
        *names = v;
        *n = (int)np;
    }
done:
    close_id(sp, H5Sclose);
    close_id(d, H5Dclose);
    close_id(f, H5Fclose);
    quiet_off(&q);
    return s;
}
