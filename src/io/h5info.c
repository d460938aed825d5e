/* h5info.c — `dtrain info FILE.h5`: list every group, data set (element type,
 * shape) and attribute of any HDF5 file, one object per line:
 *
 *   /                 group
 *     @step = 1200
 *     @model = "[input]" (42 lines)
 *   /params/fc1/W     float32 [256, 784]
 */
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ckpt.h"

/* Defined in ckpt.c (no private header in io/ yet), so that both report a
 * missing or corrupt file and name types the same way. */
dt_status dt_h5_open_readonly(const char *path, hid_t *out);
void dt_h5_type_name(hid_t type, char *buf, size_t n);
dt_status dt_h5_read_str(hid_t attr, char **out);

enum { NAME_COL_MAX = 48, STR_SHOW = 60 };

typedef struct {
    FILE *out;
    int pass; /* 0: measure names, 1: print */
    int width;
} info_ctx;

static void print_shape(FILE *out, hid_t sp)
{
    hsize_t d[H5S_MAX_RANK];
    switch (H5Sget_simple_extent_type(sp)) {
    case H5S_SCALAR: fputs("scalar", out); return;
    case H5S_NULL: fputs("empty", out); return;
    default: break;
    }
    int nd = H5Sget_simple_extent_ndims(sp);
    if (nd < 0 || H5Sget_simple_extent_dims(sp, d, NULL) < 0) {
        fputs("[?]", out);
        return;
    }
    fputc('[', out);
    for (int k = 0; k < nd; k++) fprintf(out, "%s%llu", k ? ", " : "", (unsigned long long)d[k]);
    fputc(']', out);
}

/* First line, quoted and cut short, then the length in lines if more. */
static void print_str(FILE *out, const char *s)
{
    size_t len = strcspn(s, "\n"), show = len;
    if (show > STR_SHOW) {
        show = STR_SHOW;
        while (show > 0 && ((unsigned char)s[show] & 0xC0) == 0x80) show--; /* whole UTF-8 chars */
    }
    fputc('"', out);
    for (size_t k = 0; k < show; k++) fputc((unsigned char)s[k] < 0x20 ? ' ' : s[k], out);
    fputs(show < len ? "...\"" : "\"", out);
    size_t lines = 0, n = strlen(s);
    for (size_t k = 0; k < n; k++) lines += s[k] == '\n';
    if (n && s[n - 1] != '\n') lines++;
    if (lines > 1) fprintf(out, " (%zu lines)", lines);
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *ainfo, void *data)
{
    info_ctx *x = data;
    FILE *out = x->out;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a), sp = a < 0 ? -1 : H5Aget_space(a);
    fprintf(out, "  @%s = ", name);
    if (t < 0 || sp < 0) {
        fputs("(unreadable)\n", out);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(t);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    int ok = 1;
    if (np == 1 && cls == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_NONE) {
        uint64_t v;
        if ((ok = H5Aread(a, H5T_NATIVE_UINT64, &v) >= 0)) fprintf(out, "%" PRIu64, v);
    } else if (np == 1 && cls == H5T_INTEGER) {
        int64_t v;
        if ((ok = H5Aread(a, H5T_NATIVE_INT64, &v) >= 0)) fprintf(out, "%" PRId64, v);
    } else if (np == 1 && cls == H5T_FLOAT) {
        double v;
        if ((ok = H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0)) fprintf(out, "%.10g", v);
    } else if (np == 1 && cls == H5T_STRING) {
        char *s;
        if ((ok = dt_h5_read_str(a, &s) == DT_OK)) print_str(out, s);
        free(s);
    } else if (np == 1 && cls == H5T_ENUM) { /* h5py's bool: print FALSE/TRUE */
        hid_t nt = H5Tget_native_type(t, H5T_DIR_DEFAULT);
        unsigned char v[16];
        char nm[64];
        ok = nt >= 0 && H5Tget_size(nt) <= sizeof v && H5Aread(a, nt, v) >= 0 &&
             H5Tenum_nameof(nt, v, nm, sizeof nm) >= 0;
        if (ok) fputs(nm, out);
        if (nt >= 0) H5Tclose(nt);
    } else if (np > 1 && np <= 8 && H5Sget_simple_extent_ndims(sp) == 1 && cls == H5T_FLOAT) {
        double v[8];
        if ((ok = H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0))
            for (int k = 0; k < np; k++) fprintf(out, "%s%.10g%s", k ? ", " : "[", v[k], k == np - 1 ? "]" : "");
    } else if (np > 1 && np <= 8 && H5Sget_simple_extent_ndims(sp) == 1 && cls == H5T_INTEGER &&
               (H5Tget_sign(t) != H5T_SGN_NONE || H5Tget_size(t) < 8)) { /* fits int64 */
        int64_t v[8];
        if ((ok = H5Aread(a, H5T_NATIVE_INT64, v) >= 0))
            for (int k = 0; k < np; k++) fprintf(out, "%s%" PRId64 "%s", k ? ", " : "[", v[k], k == np - 1 ? "]" : "");
    } else {
        char tn[32];
        dt_h5_type_name(t, tn, sizeof tn);
        fprintf(out, "%s ", tn);
        print_shape(out, sp);
    }
    fputs(ok ? "\n" : "(unreadable)\n", out);
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return 0;
}

/* One object: its name, then what it is, then its attributes. */
static void print_object(info_ctx *x, hid_t loc, const char *name)
{
    FILE *out = x->out;
    int root = strcmp(name, ".") == 0;
    fprintf(out, "/%-*s  ", x->width - 1, root ? "" : name);
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    if (o < 0) {
        fputs("(unreadable)\n", out);
        return;
    }
    H5I_type_t it = H5Iget_type(o);
    if (it == H5I_GROUP) {
        fputs("group\n", out);
    } else if (it == H5I_DATASET) {
        hid_t t = H5Dget_type(o), sp = H5Dget_space(o);
        char tn[32] = "?";
        if (t >= 0) dt_h5_type_name(t, tn, sizeof tn);
        fprintf(out, "%s ", tn);
        if (sp >= 0) print_shape(out, sp);
        fputc('\n', out);
        if (sp >= 0) H5Sclose(sp);
        if (t >= 0) H5Tclose(t);
    } else if (it == H5I_DATATYPE) {
        fputs("datatype\n", out);
    } else {
        fputs("(unknown object)\n", out);
    }
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_cb, x);
    H5Oclose(o);
}

/* H5Lvisit (rather than H5Ovisit) so that soft and external links show too;
 * it still enters each group once, so hard-link cycles end. */
static herr_t visit_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    info_ctx *x = data;
    int len = (int)strlen(name) + 1;
    if (x->pass == 0) {
        if (len > x->width && len <= NAME_COL_MAX) x->width = len;
        return 0;
    }
    if (info->type == H5L_TYPE_HARD) {
        print_object(x, g, name);
        return 0;
    }
    char val[512] = "";
    const char *file = NULL, *obj = val;
    size_t n = info->u.val_size < sizeof val ? info->u.val_size : sizeof val;
    if (H5Lget_val(g, name, val, n, H5P_DEFAULT) < 0) val[0] = 0;
    val[sizeof val - 1] = 0;
    if (info->type == H5L_TYPE_EXTERNAL && H5Lunpack_elink_val(val, n, NULL, &file, &obj) < 0) obj = "?";
    fprintf(x->out, "/%-*s  -> %s%s%s\n", x->width - 1, name, file ? file : "", file ? ":" : "", obj);
    return 0;
}

dt_status dt_h5_print_info(const char *path, void *file)
{
    hid_t f;
    DT_TRY(dt_h5_open_readonly(path, &f));
    info_ctx x = {file, 0, 1};
    herr_t rc = 0;
    rc = H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &x);
    x.pass = 1;
    if (rc >= 0) {
        print_object(&x, f, ".");
        rc = H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &x);
    }
    H5Fclose(f);
    if (rc < 0) return dt_error(DT_ERR_IO, "%s: cannot list its contents (corrupt?)", path);
    if (fflush(x.out) != 0 || ferror(x.out)) return dt_error(DT_ERR_IO, "%s: cannot write the listing", path);
    return DT_OK;
}
