/* ckpt_diff.c — largest absolute difference between the /params arrays of
 * two checkpoints (test helper), or those under GROUP ("/" for every array
 * of a file): ckpt_diff A.h5 B.h5 [TOL [GROUP]]. Prints "max_abs_diff X" and
 * exits 0 when X <= TOL (default 0), 1 when larger, 2 on a missing or
 * mismatched array. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hid_t other;
    const char *group;
    double max;
    int bad;
} visit_state;

static double *read_all(hid_t f, const char *name, hssize_t *n)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return NULL;
    hid_t sp = H5Dget_space(d);
    *n = H5Sget_simple_extent_npoints(sp);
    double *v = malloc((size_t)(*n > 0 ? *n : 1) * sizeof *v);
    if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        free(v);
        v = NULL;
    }
    H5Sclose(sp);
    H5Dclose(d);
    return v;
}

static herr_t visit(hid_t g, const char *name, const H5O_info_t *info, void *op)
{
    visit_state *st = op;
    if (info->type != H5O_TYPE_DATASET) return 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", strcmp(st->group, "/") ? st->group : "", name);
    hssize_t na, nb;
    double *a = read_all(g, name, &na), *b = read_all(st->other, path, &nb);
    if (!a || !b || na != nb) {
        fprintf(stderr, "ckpt_diff: %s missing or of a different size\n", path);
        st->bad = 1;
    } else {
        for (hssize_t i = 0; i < na; i++) {
            double d = fabs(a[i] - b[i]);
            if (d > st->max || isnan(d)) st->max = isnan(d) ? INFINITY : d;
        }
    }
    free(a);
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ckpt_diff A.h5 B.h5 [TOL [GROUP]]\n");
        return 2;
    }
    double tol = argc > 3 ? atof(argv[3]) : 0;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t a = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT), b = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (a < 0 || b < 0) {
        fprintf(stderr, "ckpt_diff: cannot open %s\n", a < 0 ? argv[1] : argv[2]);
        return 2;
    }
    visit_state st = {b, argc > 4 ? argv[4] : "/params", 0, 0};
    hid_t g = H5Gopen2(a, st.group, H5P_DEFAULT);
    if (g < 0 || H5Ovisit(g, H5_INDEX_NAME, H5_ITER_NATIVE, visit, &st) < 0) st.bad = 1;
    printf("max_abs_diff %.3e\n", st.max);
    return st.bad ? 2 : st.max <= tol ? 0 : 1;
}
