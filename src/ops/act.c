/* act.c — element-wise activations and their derivatives. */
#include <math.h>

#include "ops/ops.h"

const char *const dt_act_names[] = {"linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", NULL};

#ifdef DTRAIN_DOUBLE
#define EXP exp
#define TANH tanh
#else
#define EXP expf
#define TANH tanhf
#endif

void dt_act_forward(dt_act f, const dt_real *z, dt_real *y, int64_t rows, int64_t cols,
                    dt_real alpha)
{
    int64_t n = rows * cols;
    switch (f) {
    case DT_ACT_LINEAR:
        if (y != z)
            for (int64_t i = 0; i < n; i++) y[i] = z[i];
        break;
    case DT_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++) y[i] = (dt_real)1 / ((dt_real)1 + EXP(-z[i]));
        break;
    case DT_ACT_TANH:
        for (int64_t i = 0; i < n; i++) y[i] = TANH(z[i]);
        break;
    case DT_ACT_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = z[i] > 0 ? z[i] : 0;
        break;
    case DT_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = z[i] > 0 ? z[i] : alpha * z[i];
        break;
    case DT_ACT_SOFTMAX:
        for (int64_t r = 0; r < rows; r++) {
            const dt_real *zr = z + r * cols;
            dt_real *yr = y + r * cols, mx = zr[0], s = 0;
            for (int64_t j = 1; j < cols; j++) mx = zr[j] > mx ? zr[j] : mx;
            for (int64_t j = 0; j < cols; j++) s += (yr[j] = EXP(zr[j] - mx));
            for (int64_t j = 0; j < cols; j++) yr[j] /= s;
        }
        break;
    }
}

void dt_act_backward(dt_act f, const dt_real *z, const dt_real *y, const dt_real *dy, dt_real *dz,
                     int64_t rows, int64_t cols, dt_real alpha)
{
    int64_t n = rows * cols;
    switch (f) {
    case DT_ACT_LINEAR:
        if (dz != dy)
            for (int64_t i = 0; i < n; i++) dz[i] = dy[i];
        break;
    case DT_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++) dz[i] = dy[i] * y[i] * ((dt_real)1 - y[i]);
        break;
    case DT_ACT_TANH:
        for (int64_t i = 0; i < n; i++) dz[i] = dy[i] * ((dt_real)1 - y[i] * y[i]);
        break;
    case DT_ACT_RELU:
        for (int64_t i = 0; i < n; i++) dz[i] = z[i] > 0 ? dy[i] : 0;
        break;
    case DT_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++) dz[i] = z[i] > 0 ? dy[i] : alpha * dy[i];
        break;
    case DT_ACT_SOFTMAX:
        for (int64_t r = 0; r < rows; r++) {
            const dt_real *yr = y + r * cols, *dyr = dy + r * cols;
            dt_real *dzr = dz + r * cols, dot = 0;
            for (int64_t j = 0; j < cols; j++) dot += dyr[j] * yr[j];
            for (int64_t j = 0; j < cols; j++) dzr[j] = yr[j] * (dyr[j] - dot);
        }
        break;
    }
}

dt_real dt_sum(const dt_real *v, int64_t n)
{
    enum { L = 16 };
    dt_real acc[L] = {0}, s = 0;
    int64_t i = 0;
    for (; i + L <= n; i += L)
        for (int k = 0; k < L; k++) acc[k] += v[i + k];
    for (; i < n; i++) s += v[i];
    for (int k = 0; k < L; k++) s += acc[k];
    return s;
}
