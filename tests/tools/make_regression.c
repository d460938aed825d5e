/* make_regression.c — writes a small regression data set (test helper):
 *   make_regression OUT.h5 [N]
 * train_x [N, 3] and test_x [N/4, 3] uniform in [-1, 1] from a fixed LCG;
 * train_y / test_y [rows, 2] = (sin(2 x0) + x1·x2, x0 - 0.5·x1²), doubles.
 * A dense target for an mse loss, with no download and no Python. */
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t lcg = 12345;
static double uniform(void)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg >> 11) / 9007199254740992.0 * 2 - 1;
}

static int write2(hid_t f, const char *name, const double *v, hsize_t rows, hsize_t cols)
{
    hsize_t dims[2] = {rows, cols};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = d >= 0 && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return ok;
}

static int split(hid_t f, const char *xname, const char *yname, long n)
{
    double *x = malloc((size_t)n * 3 * sizeof *x), *y = malloc((size_t)n * 2 * sizeof *y);
    if (!x || !y) return 0;
    for (long i = 0; i < n; i++) {
        double *r = x + 3 * i;
        for (int k = 0; k < 3; k++) r[k] = uniform();
        y[2 * i] = sin(2 * r[0]) + r[1] * r[2];
        y[2 * i + 1] = r[0] - 0.5 * r[1] * r[1];
    }
    int ok = write2(f, xname, x, (hsize_t)n, 3) && write2(f, yname, y, (hsize_t)n, 2);
    free(x);
    free(y);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_regression OUT.h5 [N]\n");
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 2000;
    hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int ok = f >= 0 && split(f, "train_x", "train_y", n) && split(f, "test_x", "test_y", n / 4);
    if (f >= 0) H5Fclose(f);
    if (!ok) fprintf(stderr, "make_regression: cannot write %s\n", argv[1]);
    return ok ? 0 : 1;
}
