/* ckpt.c — HDF5 checkpoints: atomic write (temp file, fsync, rename) and
 * reads that check the stored shape and type against what the caller expects.
 *
 * The file is built in memory and written with write(2), so every disk error
 * is ours to report (with its errno text) and HDF5 never sees one. HDF5's
 * automatic error printing is off: failures come back as dt_status with a
 * message that names the file. */
#include "io/ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dt_ckpt {
    hid_t file;
    char *path;
};

/* Shared with h5info.c, which declares them itself (no private header). */
dt_status dt_h5_open_readonly(const char *path, hid_t *out);
void dt_h5_type_name(hid_t type, char *buf, size_t n);
dt_status dt_h5_read_str(hid_t attr, char **out);

static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* ---- HDF5 error stack → one short cause ---------------------------------- */

typedef struct {
    char *buf;
    size_t n;
    int have_errno; /* found an "error message = '...'" (errno text) */
} cause_ctx;

/* Walked from the innermost error outwards: the innermost description is the
 * most specific one, but an errno text anywhere on the stack beats it. */
static herr_t cause_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    cause_ctx *c = data;
    if (c->have_errno || !e->desc) return 0;
    const char *m = strstr(e->desc, "error message = '");
    if (m) {
        m += strlen("error message = '");
        const char *end = strchr(m, '\'');
        int len = end ? (int)(end - m) : (int)strlen(m);
        snprintf(c->buf, c->n, "%.*s", len, m);
        c->have_errno = 1;
    } else if (n == 0) {
        snprintf(c->buf, c->n, "%s", e->desc);
    }
    return 0;
}

static const char *h5_cause(char *buf, size_t n)
{
    cause_ctx c = {buf, n, 0};
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cause_cb, &c);
    if (!buf[0]) snprintf(buf, n, "HDF5 error");
    return buf;
}

/* ---- small helpers -------------------------------------------------------- */

static hid_t mem_type(dt_arr_type t)
{
    switch (t) {
    case DT_ARR_REAL: return sizeof(dt_real) == sizeof(double) ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
    case DT_ARR_U32: return H5T_NATIVE_UINT32;
    case DT_ARR_I64: return H5T_NATIVE_INT64;
    case DT_ARR_F64: return H5T_NATIVE_DOUBLE;
    case DT_ARR_U8: return H5T_NATIVE_UINT8;
    case DT_ARR_F32: return H5T_NATIVE_FLOAT;
    }
    return -1;
}

/* Little-endian standard types on disk, whatever the host: files move. */
static hid_t file_type(dt_arr_type t)
{
    switch (t) {
    case DT_ARR_REAL: return sizeof(dt_real) == sizeof(double) ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
    case DT_ARR_U32: return H5T_STD_U32LE;
    case DT_ARR_I64: return H5T_STD_I64LE;
    case DT_ARR_F64: return H5T_IEEE_F64LE;
    case DT_ARR_U8: return H5T_STD_U8LE;
    case DT_ARR_F32: return H5T_IEEE_F32LE;
    }
    return -1;
}

/* "/params/fc1/W" for messages, whether or not the caller wrote the slash. */
static void disp_name(char *buf, size_t n, const char *p)
{
    snprintf(buf, n, "%s%s", p[0] == '/' ? "" : "/", p);
}

static void shape_str(char *buf, size_t n, int ndim, const hsize_t *dims)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

void dt_h5_type_name(hid_t t, char *buf, size_t n)
{
    switch (H5Tget_class(t)) {
    case H5T_INTEGER:
        snprintf(buf, n, "%s%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int", H5Tget_size(t) * 8);
        break;
    case H5T_FLOAT: snprintf(buf, n, "float%zu", H5Tget_size(t) * 8); break;
    case H5T_STRING: snprintf(buf, n, "string"); break;
    case H5T_COMPOUND: snprintf(buf, n, "compound"); break;
    case H5T_ENUM: snprintf(buf, n, "enum"); break;
    case H5T_ARRAY: snprintf(buf, n, "array"); break;
    case H5T_VLEN: snprintf(buf, n, "vlen"); break;
    case H5T_OPAQUE: snprintf(buf, n, "opaque"); break;
    case H5T_REFERENCE: snprintf(buf, n, "reference"); break;
    case H5T_BITFIELD: snprintf(buf, n, "bitfield"); break;
    default: snprintf(buf, n, "unknown"); break;
    }
}

/* An object exists at `p`. Checked one component at a time because
 * H5Lexists fails (rather than saying no) when an inner group is missing. */
static int path_exists(hid_t file, const char *p)
{
    while (*p == '/') p++;
    if (!*p) return 1;
    char *s = strdup(p);
    if (!s) return 0;
    int ok = 1;
    for (char *q = s;; q++) {
        if (*q == '/' || *q == 0) {
            char c = *q;
            *q = 0;
            ok = H5Lexists(file, s, H5P_DEFAULT) > 0;
            *q = c;
            if (!ok || !c) break;
        }
    }
    if (ok) ok = H5Oexists_by_name(file, s, H5P_DEFAULT) > 0; /* dangling soft link */
    free(s);
    return ok;
}

/* ---- writing -------------------------------------------------------------- */

static dt_status check_args(const char *path, const dt_ckpt_array *arrays, int narrays,
                            const dt_ckpt_attr *attrs, int nattrs)
{
    if (!path || !*path) return dt_error(DT_ERR_ARG, "checkpoint: empty path");
    if (narrays < 0 || nattrs < 0 || (narrays && !arrays) || (nattrs && !attrs))
        return dt_error(DT_ERR_ARG, "%s: bad array or attribute list", path);
    for (int i = 0; i < narrays; i++) {
        const dt_ckpt_array *a = &arrays[i];
        if (!a->path || !*a->path) return dt_error(DT_ERR_ARG, "%s: array %d has no name", path, i);
        if (mem_type(a->type) < 0) return dt_error(DT_ERR_ARG, "%s: %s: bad type %d", path, a->path, (int)a->type);
        if (a->ndim < 1 || a->ndim > 4)
            return dt_error(DT_ERR_ARG, "%s: %s: rank %d is not 1..4", path, a->path, a->ndim);
        int64_t count = 1;
        for (int k = 0; k < a->ndim; k++) {
            if (a->dims[k] < 0) return dt_error(DT_ERR_ARG, "%s: %s: negative dimension", path, a->path);
            count *= a->dims[k];
        }
        if (count > 0 && !a->data) return dt_error(DT_ERR_ARG, "%s: %s: no data", path, a->path);
    }
    for (int i = 0; i < nattrs; i++) {
        const dt_ckpt_attr *t = &attrs[i];
        if (!t->name || !*t->name) return dt_error(DT_ERR_ARG, "%s: attribute %d has no name", path, i);
        if (t->type != DT_ATTR_INT && t->type != DT_ATTR_REAL && t->type != DT_ATTR_STR)
            return dt_error(DT_ERR_ARG, "%s: attribute %s: bad type %d", path, t->name, (int)t->type);
    }
    return DT_OK;
}

static dt_status write_array(hid_t file, hid_t lcpl, const char *path, const dt_ckpt_array *a)
{
    char name[512], cause[256];
    disp_name(name, sizeof name, a->path);
    hsize_t dims[4];
    int64_t count = 1;
    for (int k = 0; k < a->ndim; k++) {
        dims[k] = (hsize_t)a->dims[k];
        count *= a->dims[k];
    }
    hid_t sp = H5Screate_simple(a->ndim, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(file, a->path, file_type(a->type), sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : 0;
    if (ds >= 0 && count > 0) rc = H5Dwrite(ds, mem_type(a->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, a->data);
    dt_status st = DT_OK;
    if (rc < 0)
        st = dt_error(DT_ERR_IO, "%s: cannot %s %s: %s", path, ds < 0 ? "create" : "write", name,
                      h5_cause(cause, sizeof cause));
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return st;
}

static dt_status write_attr(hid_t root, const char *path, const dt_ckpt_attr *t)
{
    char cause[256];
    hid_t sp = H5Screate(H5S_SCALAR), ftype, mtype, a = -1, str = -1;
    const void *buf;
    const char *s = t->s ? t->s : "";
    switch (t->type) {
    case DT_ATTR_INT: ftype = H5T_STD_I64LE; mtype = H5T_NATIVE_INT64; buf = &t->i; break;
    case DT_ATTR_REAL: ftype = H5T_IEEE_F64LE; mtype = H5T_NATIVE_DOUBLE; buf = &t->r; break;
    default:
        /* Variable-length UTF-8: h5py reads it as str, and it lives in the
         * global heap, so long texts (model, config) escape the 64 KiB limit
         * on attribute messages. */
        str = H5Tcopy(H5T_C_S1);
        H5Tset_size(str, H5T_VARIABLE);
        H5Tset_cset(str, H5T_CSET_UTF8);
        ftype = mtype = str;
        buf = &s;
        break;
    }
    herr_t rc = -1;
    if (sp >= 0 && ftype >= 0) a = H5Acreate2(root, t->name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) rc = H5Awrite(a, mtype, buf);
    dt_status st = DT_OK;
    if (rc < 0)
        st = dt_error(DT_ERR_IO, "%s: cannot write attribute %s: %s", path, t->name, h5_cause(cause, sizeof cause));
    if (a >= 0) H5Aclose(a);
    if (str >= 0) H5Tclose(str);
    if (sp >= 0) H5Sclose(sp);
    return st;
}

/* Build the whole file in memory (HDF5's core driver, no backing store) and
 * hand back a copy of its image. HDF5 then never writes to disk itself: in
 * HDF5 < 1.14.1 a failed H5Fclose (disk full during the final flush) leaves
 * a file ID that crashes the process at exit, and we must survive a failed
 * checkpoint. The cost is two transient copies of the checkpoint in memory. */
static dt_status build_image(const char *path, const char *tmp, const dt_ckpt_array *arrays, int narrays,
                             const dt_ckpt_attr *attrs, int nattrs, void **img, size_t *len)
{
    char cause[256];
    *img = NULL;
    *len = 0;
    size_t est = 1 << 16; /* metadata; the core driver grows by this much */
    for (int i = 0; i < narrays; i++) {
        size_t n = H5Tget_size(file_type(arrays[i].type));
        for (int k = 0; k < arrays[i].ndim; k++) n *= (size_t)arrays[i].dims[k];
        est += n + 1024;
    }
    for (int i = 0; i < nattrs; i++) est += (attrs[i].type == DT_ATTR_STR && attrs[i].s ? strlen(attrs[i].s) : 0) + 256;

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, est, 0);
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (file < 0) return dt_error(DT_ERR_IO, "%s: cannot create %s: %s", path, tmp, h5_cause(cause, sizeof cause));

    dt_status st = DT_OK;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    for (int i = 0; i < narrays && st == DT_OK; i++) st = write_array(file, lcpl, path, &arrays[i]);
    H5Pclose(lcpl);

    if (st == DT_OK && nattrs > 0) {
        hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
        if (root < 0) st = dt_error(DT_ERR_IO, "%s: cannot open root group: %s", path, h5_cause(cause, sizeof cause));
        for (int i = 0; i < nattrs && st == DT_OK; i++) st = write_attr(root, path, &attrs[i]);
        if (root >= 0) H5Gclose(root);
    }
    ssize_t n = -1;
    if (st == DT_OK && H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0) n = H5Fget_file_image(file, NULL, 0);
    if (st == DT_OK && n > 0) {
        *img = malloc((size_t)n);
        if (!*img) st = dt_error(DT_ERR_NOMEM, "%s: out of memory (%zd bytes)", path, n);
        else if (H5Fget_file_image(file, *img, (size_t)n) != n) n = -1;
    }
    if (st == DT_OK && n <= 0)
        st = dt_error(DT_ERR_IO, "%s: cannot build the file image: %s", path, h5_cause(cause, sizeof cause));
    H5Fclose(file); /* in memory: nothing left that can fail on disk */
    if (st != DT_OK) {
        free(*img);
        *img = NULL;
        return st;
    }
    *len = (size_t)n;
    return DT_OK;
}

static dt_status write_all(const char *path, const char *tmp, int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return dt_error(DT_ERR_IO, "%s: cannot write %s: %s", path, tmp, strerror(errno));
        buf += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0) return dt_error(DT_ERR_IO, "%s: cannot sync %s: %s", path, tmp, strerror(errno));
    return DT_OK;
}

/* fsync the directory so that the rename itself is durable. Some file
 * systems cannot sync a directory (EINVAL); nothing to do there. */
static dt_status sync_dir(const char *path, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return dt_error(DT_ERR_IO, "%s: written, but cannot open %s to sync it: %s", path, dir, strerror(errno));
    int rc = fsync(fd), err = errno;
    close(fd);
    if (rc != 0 && err != EINVAL && err != ENOTSUP)
        return dt_error(DT_ERR_IO, "%s: written, but cannot sync %s: %s", path, dir, strerror(err));
    return DT_OK;
}

dt_status dt_ckpt_write(const char *path, const dt_ckpt_array *arrays, int narrays,
                        const dt_ckpt_attr *attrs, int nattrs)
{
    DT_TRY(check_args(path, arrays, narrays, attrs, nattrs));
    h5_quiet();
    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen), *dir = strdup(path);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return dt_error(DT_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    char *slash = strrchr(dir, '/');
    if (!slash) strcpy(dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;

    void *img = NULL;
    size_t len = 0;
    dt_status st = DT_OK;
    /* Create the temp file first: a bad directory fails before any work. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) {
        st = dt_error(DT_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        goto done;
    }
    st = build_image(path, tmp, arrays, narrays, attrs, nattrs, &img, &len);
    if (st == DT_OK) st = write_all(path, tmp, fd, img, len);
    if (close(fd) != 0 && st == DT_OK) /* NFS may report write errors only here */
        st = dt_error(DT_ERR_IO, "%s: cannot write %s: %s", path, tmp, strerror(errno));
    if (st == DT_OK && rename(tmp, path) != 0)
        st = dt_error(DT_ERR_IO, "%s: cannot rename %s to it: %s", path, tmp, strerror(errno));
    if (st != DT_OK) {
        unlink(tmp);
        goto done;
    }
    st = sync_dir(path, dir);
done:
    free(img);
    free(tmp);
    free(dir);
    return st;
}

/* ---- reading -------------------------------------------------------------- */

dt_status dt_h5_open_readonly(const char *path, hid_t *out)
{
    *out = -1;
    h5_quiet();
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return dt_error(DT_ERR_IO, "%s: no such file", path);
        return dt_error(DT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    if (S_ISDIR(sb.st_mode)) return dt_error(DT_ERR_IO, "%s: is a directory", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return dt_error(DT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    close(fd);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) return dt_error(DT_ERR_IO, "%s: not a readable HDF5 file (truncated or corrupt?)", path);
    *out = f;
    return DT_OK;
}

dt_status dt_ckpt_open(const char *path, dt_ckpt **out)
{
    *out = NULL;
    dt_ckpt *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return dt_error(DT_ERR_NOMEM, "%s: out of memory", path);
    }
    dt_status st = dt_h5_open_readonly(path, &c->file);
    if (st != DT_OK) {
        free(c->path);
        free(c);
        return st;
    }
    *out = c;
    return DT_OK;
}

/* What the values of the data sets under a group can be, each at most
 * what its stored bytes hold (deflate packs about 1032 bytes into one). */
typedef struct {
    hsize_t fsize;
    double values;
} values_ctx;

/* Add what dataset o's stored bytes can hold to x->values. */
static herr_t dataset_values(hid_t o, values_ctx *x)
{
    hid_t sp = H5Dget_space(o), ty = H5Dget_type(o), dcpl = H5Dget_create_plist(o);
    hssize_t n = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    size_t ts = ty < 0 ? 0 : H5Tget_size(ty);
    int nf = dcpl < 0 ? -1 : H5Pget_nfilters(dcpl);
    hsize_t stored = H5Dget_storage_size(o);
    if (stored > x->fsize) stored = x->fsize;
    if (sp >= 0) H5Sclose(sp);
    if (ty >= 0) H5Tclose(ty);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (n < 0 || ts == 0 || nf < 0) return -1;
    double held = (double)stored * (nf > 0 ? 1032.0 : 1.0) / (double)ts;
    x->values += (double)n < held ? (double)n : held;
    return 0;
}

static herr_t values_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    if (info->type != H5L_TYPE_HARD) return 0;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) return -1;
    herr_t rc = H5Iget_type(o) == H5I_DATASET ? dataset_values(o, data) : 0;
    H5Oclose(o);
    return rc;
}

dt_status dt_ckpt_values(dt_ckpt *c, const char *path, int64_t *values)
{
    values_ctx x = {0, 0};
    *values = 0;
    if (!path_exists(c->file, path)) return DT_OK;
    hid_t o = H5Fget_filesize(c->file, &x.fsize) < 0 ? H5I_INVALID_HID : H5Oopen(c->file, path, H5P_DEFAULT);
    herr_t rc = o < 0                              ? -1
                : H5Iget_type(o) == H5I_DATASET ? dataset_values(o, &x)
                                                 : H5Lvisit(o, H5_INDEX_NAME, H5_ITER_INC, values_cb, &x);
    if (o >= 0) H5Oclose(o);
    if (rc < 0) return dt_error(DT_ERR_DATA, "%s: cannot list /%s (corrupt file?)", c->path, path);
    *values = x.values > 9e18 ? INT64_MAX : (int64_t)x.values;
    return DT_OK;
}

void dt_ckpt_close(dt_ckpt *c)
{
    if (!c) return;
    if (c->file >= 0) H5Fclose(c->file);
    free(c->path);
    free(c);
}

int dt_ckpt_has(dt_ckpt *c, const char *path) { return path_exists(c->file, path); }

dt_status dt_ckpt_shape(dt_ckpt *c, const char *path, int max, int *ndim, int64_t *dims)
{
    char name[512], cause[256];
    disp_name(name, sizeof name, path);
    if (!path_exists(c->file, path)) return dt_error(DT_ERR_DATA, "%s: %s is missing", c->path, name);
    hid_t ds = H5Dopen2(c->file, path, H5P_DEFAULT);
    if (ds < 0) return dt_error(DT_ERR_DATA, "%s: %s is not a data set", c->path, name);
    hid_t sp = H5Dget_space(ds);
    hsize_t fd[H5S_MAX_RANK];
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    dt_status st = DT_OK;
    if (nd < 0 || H5Sget_simple_extent_dims(sp, fd, NULL) < 0)
        st = dt_error(DT_ERR_IO, "%s: cannot read %s: %s", c->path, name, h5_cause(cause, sizeof cause));
    else if (nd > max)
        st = dt_error(DT_ERR_DATA, "%s: %s has %d dimensions, expected at most %d", c->path, name, nd, max);
    else {
        *ndim = nd;
        for (int k = 0; k < nd; k++) dims[k] = fd[k] > (hsize_t)INT64_MAX ? INT64_MAX : (int64_t)fd[k];
    }
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(ds);
    return st;
}

dt_status dt_ckpt_read(dt_ckpt *c, const char *path, dt_arr_type type, void *data, int ndim,
                       const int64_t *dims)
{
    char name[512], found[256], want[256], tname[32], cause[256];
    disp_name(name, sizeof name, path);
    hid_t mt = mem_type(type);
    if (mt < 0 || ndim < 0 || ndim > H5S_MAX_RANK)
        return dt_error(DT_ERR_ARG, "%s: %s: bad type or rank", c->path, name);
    if (!path_exists(c->file, path)) return dt_error(DT_ERR_DATA, "%s: %s is missing", c->path, name);
    hid_t ds = H5Dopen2(c->file, path, H5P_DEFAULT);
    if (ds < 0) return dt_error(DT_ERR_DATA, "%s: %s is not a data set", c->path, name);

    dt_status st = DT_OK;
    hid_t ft = H5Dget_type(ds), sp = H5Dget_space(ds);
    int want_float = type == DT_ARR_REAL || type == DT_ARR_F64 || type == DT_ARR_F32;
    H5T_class_t cls = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    hsize_t fd[H5S_MAX_RANK], wd[H5S_MAX_RANK];
    if (nd < 0 || H5Sget_simple_extent_dims(sp, fd, NULL) < 0) {
        st = dt_error(DT_ERR_IO, "%s: cannot read %s: %s", c->path, name, h5_cause(cause, sizeof cause));
        goto done;
    }
    if (cls != (want_float ? H5T_FLOAT : H5T_INTEGER)) {
        dt_h5_type_name(ft, tname, sizeof tname);
        st = dt_error(DT_ERR_DATA, "%s: %s has type %s, expected %s", c->path, name, tname,
                      want_float ? "a float type" : "an integer type");
        goto done;
    }
    int same = nd == ndim;
    hsize_t count = 1;
    for (int k = 0; k < ndim; k++) {
        wd[k] = dims[k] < 0 ? 0 : (hsize_t)dims[k];
        if (same && fd[k] != wd[k]) same = 0;
        count *= wd[k];
    }
    if (!same) {
        shape_str(found, sizeof found, nd, fd);
        shape_str(want, sizeof want, ndim, wd);
        st = dt_error(DT_ERR_DATA, "%s: %s has shape %s, expected %s", c->path, name, found, want);
        goto done;
    }
    /* libhdf5 1.10 copies what the shape claims even where the file stores
     * less (a damaged compact data set): check first */
    values_ctx vx = {0, 0};
    if (count > 0 && (H5Fget_filesize(c->file, &vx.fsize) < 0 || dataset_values(ds, &vx) < 0 || vx.values < (double)count)) {
        st = dt_error(DT_ERR_DATA, "%s: %s claims %llu values, more than the file stores of it (truncated or corrupt)",
                      c->path, name, (unsigned long long)count);
        goto done;
    }
    /* HDF5 converts float32 <-> float64 (and integer widths) on the way in. */
    if (count > 0 && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        st = dt_error(DT_ERR_IO, "%s: cannot read %s: %s", c->path, name, h5_cause(cause, sizeof cause));
done:
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(ds);
    return st;
}

/* Open root attribute `name`, which must hold exactly one value: a string,
 * an integer, or (want_float) an integer or a float. */
static dt_status attr_open(dt_ckpt *c, const char *name, int want_float, int want_str, hid_t *out)
{
    *out = -1;
    if (H5Aexists_by_name(c->file, ".", name, H5P_DEFAULT) <= 0)
        return dt_error(DT_ERR_DATA, "%s: attribute %s is missing", c->path, name);
    hid_t a = H5Aopen_by_name(c->file, ".", name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return dt_error(DT_ERR_IO, "%s: cannot open attribute %s", c->path, name);
    hid_t sp = H5Aget_space(a), ft = H5Aget_type(a);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    H5T_class_t cls = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    int ok = want_str ? cls == H5T_STRING : cls == H5T_INTEGER || (want_float && cls == H5T_FLOAT);
    dt_status st = DT_OK;
    if (np != 1) {
        st = dt_error(DT_ERR_DATA, "%s: attribute %s is not a single value", c->path, name);
    } else if (!ok) {
        char tname[32];
        dt_h5_type_name(ft, tname, sizeof tname);
        st = dt_error(DT_ERR_DATA, "%s: attribute %s has type %s, expected %s", c->path, name, tname,
                      want_str ? "a string" : want_float ? "a number" : "an integer");
    }
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (st != DT_OK) {
        H5Aclose(a);
        return st;
    }
    *out = a;
    return DT_OK;
}

dt_status dt_ckpt_attr_int(dt_ckpt *c, const char *name, int64_t *out)
{
    hid_t a;
    DT_TRY(attr_open(c, name, 0, 0, &a));
    herr_t rc = H5Aread(a, H5T_NATIVE_INT64, out);
    H5Aclose(a);
    return rc < 0 ? dt_error(DT_ERR_IO, "%s: cannot read attribute %s", c->path, name) : DT_OK;
}

dt_status dt_ckpt_attr_real(dt_ckpt *c, const char *name, double *out)
{
    hid_t a;
    DT_TRY(attr_open(c, name, 1, 0, &a));
    herr_t rc = H5Aread(a, H5T_NATIVE_DOUBLE, out);
    H5Aclose(a);
    return rc < 0 ? dt_error(DT_ERR_IO, "%s: cannot read attribute %s", c->path, name) : DT_OK;
}

/* One string from a string attribute, variable-length (ours, h5py's str) or
 * fixed-length (h5py's bytes, other writers). */
dt_status dt_h5_read_str(hid_t a, char **out)
{
    *out = NULL;
    hid_t ft = H5Aget_type(a), mt = -1;
    if (ft < 0) return dt_error(DT_ERR_IO, "cannot read string attribute");
    herr_t rc = -1;
    char *s = NULL;
    if (H5Tis_variable_str(ft) > 0) {
        char *p = NULL;
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        rc = H5Aread(a, mt, &p);
        if (rc >= 0) {
            s = strdup(p ? p : "");
            H5free_memory(p);
        }
    } else {
        size_t n = H5Tget_size(ft);
        s = calloc(n + 1, 1);
        mt = H5Tcopy(ft);
        if (s) rc = H5Aread(a, mt, s);
        if (rc >= 0 && s && H5Tget_strpad(ft) == H5T_STR_SPACEPAD)
            for (size_t k = strlen(s); k > 0 && s[k - 1] == ' '; k--) s[k - 1] = 0;
    }
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(ft);
    if (rc < 0) {
        free(s);
        return dt_error(DT_ERR_IO, "cannot read string attribute");
    }
    if (!s) return dt_error(DT_ERR_NOMEM, "out of memory");
    *out = s;
    return DT_OK;
}

dt_status dt_ckpt_attr_str(dt_ckpt *c, const char *name, char **out)
{
    *out = NULL;
    hid_t a;
    DT_TRY(attr_open(c, name, 0, 1, &a));
    dt_status st = dt_h5_read_str(a, out);
    H5Aclose(a);
    if (st == DT_ERR_IO) return dt_error(DT_ERR_IO, "%s: cannot read attribute %s", c->path, name);
    return st;
}
