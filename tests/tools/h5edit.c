/* h5edit.c — small edits of HDF5 files, to make bad data for the tests:
 *   h5edit set FILE DSET INDEX VALUE   element INDEX (row-major, flat) of a real data set becomes VALUE
 *   h5edit graft FILE DSET FROM        DSET of FILE is replaced by DSET of the file FROM
 * Exit 0 on success, 1 with a message otherwise. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "h5edit: %s %s %s\n", what, a, b);
    return 1;
}

static int set(const char *file, const char *name, long long at, double v)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return fail("cannot open", file, "");
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return fail("no data set", name, file);
    hid_t sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    if (at < 0 || at >= n) return fail("index out of range in", name, file);
    double *buf = malloc((size_t)n * sizeof *buf);
    if (!buf || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) return fail("cannot read", name, file);
    buf[at] = v;
    if (H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) return fail("cannot write", name, file);
    free(buf);
    H5Sclose(sp), H5Dclose(d), H5Fclose(f);
    return 0;
}

static int graft(const char *file, const char *name, const char *from)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT), g = H5Fopen(from, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0 || g < 0) return fail("cannot open", file, from);
    if (H5Lexists(f, name, H5P_DEFAULT) > 0 && H5Ldelete(f, name, H5P_DEFAULT) < 0) return fail("cannot delete", name, file);
    if (H5Ocopy(g, name, f, name, H5P_DEFAULT, H5P_DEFAULT) < 0) return fail("cannot copy", name, from);
    H5Fclose(g), H5Fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "set")) return set(argv[2], argv[3], atoll(argv[4]), atof(argv[5]));
    if (argc == 5 && !strcmp(argv[1], "graft")) return graft(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: h5edit set FILE DSET INDEX VALUE | h5edit graft FILE DSET FROM\n");
    return 1;
}
