/* test_faces_layers.c — the layers the face networks need: dwconv2d
 * (depthwise convolution), scale (per-channel affine) and zeropad's
 * appended zero channels. Forward and backward against direct loops over
 * many geometries (TF `same` at strides 1, 2 and 3, odd and even sizes,
 * valid, explicit padding wider than the kernel, the vector paths and their
 * row tails), small cases worked by hand, finite-difference checks of
 * parameters and inputs, gradients that add into a shared buffer, and
 * configuration errors that name the key. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_check.h"

#define IN(shape) "[input]\nshape = " shape "\n"
#define HEAD_SOFTMAX "[out]\ntype = dense\nunits = 3\nactivation = softmax\ninit = xavier\n"
#define HEAD_SIGMOID "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\ninit = xavier\n"

#ifdef DTRAIN_DOUBLE
#define FWD_TOL 1e-10
#else
#define FWD_TOL 1e-4
#endif

static dt_net *build(const char *text, int64_t maxn)
{
    dt_ini *m;
    dt_net *net;
    ck_assert_msg(dt_ini_parse("m.ini", text, &m) == DT_OK, "%s", dt_errmsg());
    ck_assert_msg(dt_net_build(m, maxn, DT_LOSS_AUTO, &net) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(m);
    ck_assert(dt_net_init(net, 1) == DT_OK);
    return net;
}

static void fill_randn(dt_rng *r, dt_real *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++) v[i] = (dt_real)dt_rng_randn(r);
}

/* ---- dwconv2d against direct loops ---- */

/* Input shape, keys, and the stride and top/left padding the keys imply. */
static const struct {
    const char *shape, *keys;
    int sh, sw, pt, pl;
} dw_cases[] = {
    {"3,6,8", "kernel = 3\npadding = same\n", 1, 1, 1, 1},                 /* even */
    {"3,7,9", "kernel = 3\npadding = same\n", 1, 1, 1, 1},                 /* odd */
    {"3,6,8", "kernel = 3\nstride = 2\npadding = same\n", 2, 2, 0, 0},     /* padding 0+1 rows, 0+1 columns */
    {"3,7,9", "kernel = 3\nstride = 2\npadding = same\n", 2, 2, 1, 1},     /* 1+1 each */
    {"3,7,9", "kernel = 3\n", 1, 1, 0, 0},                                 /* valid */
    {"2,5,6", "kernel = 3\nstride = 2\npadding = valid\n", 2, 2, 0, 0},
    {"2,5,6", "kernel = 3\npadding = 2,1\n", 1, 1, 2, 1},                  /* explicit */
    {"2,4,5", "kernel = 3\npadding = 3\n", 1, 1, 3, 3},                    /* wider than k - 1: border outputs see only padding */
    {"2,6,7", "kernel = 5\npadding = same\n", 1, 1, 2, 2},                 /* the tap-by-tap path */
    {"2,6,7", "kernel = 3,2\nstride = 2,1\npadding = 1,2\n", 2, 1, 1, 2},  /* rectangular */
    {"2,7,9", "kernel = 3\nstride = 3\npadding = same\n", 3, 3, 1, 0},     /* stride 3: 1+1 rows, 0+0 columns */
    {"2,5,5", "kernel = 1\nstride = 2\n", 2, 2, 0, 0},
    {"2,5,37", "kernel = 3\npadding = same\n", 1, 1, 1, 1},                /* vector rows with an overlapping tail */
    {"2,4,32", "kernel = 3\npadding = same\n", 1, 1, 1, 1},                /* whole vectors */
    {"2,5,37", "kernel = 3\nstride = 2\npadding = same\n", 2, 2, 1, 1},    /* 19 columns out */
    {"2,5,66", "kernel = 3\nstride = 2\npadding = same\n", 2, 2, 1, 0},    /* 33 columns out, 0+1 padding */
    {"2,5,40", "kernel = 3\n", 1, 1, 0, 0},                                /* valid: x read in place */
    {"2,5,41", "kernel = 3\nstride = 2\n", 2, 2, 0, 0},                    /* likewise, stride 2, 20 out */
};
#define NDW (int)(sizeof dw_cases / sizeof *dw_cases)

/* Forward (y), then backward for a random dy (dW, db, dx), on two examples,
 * against the definition. */
START_TEST(dw_matches_loops)
{
    enum { N = 2 };
    char text[512];
    snprintf(text, sizeof text, "[input]\nshape = %s\n[dw]\ntype = dwconv2d\n%s" HEAD_SIGMOID, dw_cases[_i].shape,
             dw_cases[_i].keys);
    dt_net *net = build(text, N);
    dt_layer *l = &net->layers[0];
    int64_t C = l->in.c, H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
    int64_t kh = l->params[0].dims[2], kw = l->params[0].dims[3], sh = dw_cases[_i].sh, sw = dw_cases[_i].sw;
    int64_t pt = dw_cases[_i].pt, pl = dw_cases[_i].pl, nx = N * C * H * W, ny = N * C * OH * OW;
    ck_assert_int_eq(l->out.c, C);
    ck_assert(l->params[0].ndim == 4 && l->params[0].dims[0] == C && l->params[0].dims[1] == 1);
    ck_assert(l->params[1].ndim == 1 && l->params[1].dims[0] == C);
    dt_real *x = malloc(sizeof(dt_real) * nx), *dx = malloc(sizeof(dt_real) * nx), *dy = malloc(sizeof(dt_real) * ny);
    double *dx_ref = calloc((size_t)nx, sizeof *dx_ref), *dw_ref = calloc((size_t)(C * kh * kw), sizeof *dw_ref);
    double *db_ref = calloc((size_t)C, sizeof *db_ref);
    dt_real *w = l->params[0].w, *b = l->params[1].w;
    dt_rng r;
    dt_rng_seed(&r, 3);
    fill_randn(&r, x, nx);
    fill_randn(&r, dy, ny);
    fill_randn(&r, w, l->params[0].size);
    fill_randn(&r, b, C);
    dt_pass p = {.n = N, .train = 1};
    dt_net_zero_grads(net);
    l->x[0] = x;
    l->dx[0] = dx;
    l->dx_accum[0] = 0;
    l->ops->forward(l, &p);
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    int64_t o = ((n * C + c) * OH + oy) * OW + ox;
                    double s = b[c];
                    db_ref[c] += dy[o];
                    for (int64_t i = 0; i < kh; i++)
                        for (int64_t j = 0; j < kw; j++) {
                            int64_t iy = oy * sh - pt + i, ix = ox * sw - pl + j;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                            int64_t xi = ((n * C + c) * H + iy) * W + ix, wi = (c * kh + i) * kw + j;
                            s += (double)x[xi] * w[wi];
                            dw_ref[wi] += (double)dy[o] * x[xi];
                            dx_ref[xi] += (double)dy[o] * w[wi];
                        }
                    ck_assert_msg(fabs(l->y[o] - s) < FWD_TOL * (1 + fabs(s)), "case %d: y[%lld] = %.9g, want %.9g", _i,
                                  (long long)o, (double)l->y[o], s);
                }
    memcpy(l->dy, dy, sizeof(dt_real) * ny);
    l->ops->backward(l, &p);
    for (int64_t i = 0; i < nx; i++)
        ck_assert_msg(fabs(dx[i] - dx_ref[i]) < FWD_TOL * (1 + fabs(dx_ref[i])), "case %d: dx[%lld] = %.9g, want %.9g",
                      _i, (long long)i, (double)dx[i], dx_ref[i]);
    for (int64_t i = 0; i < C * kh * kw; i++)
        ck_assert_msg(fabs(l->params[0].g[i] - dw_ref[i]) < FWD_TOL * (1 + fabs(dw_ref[i])),
                      "case %d: dW[%lld] = %.9g, want %.9g", _i, (long long)i, (double)l->params[0].g[i], dw_ref[i]);
    for (int64_t c = 0; c < C; c++)
        ck_assert_msg(fabs(l->params[1].g[c] - db_ref[c]) < FWD_TOL * (1 + fabs(db_ref[c])), "case %d: db[%lld]", _i,
                      (long long)c);
    free(x);
    free(dx);
    free(dy);
    free(dx_ref);
    free(dw_ref);
    free(db_ref);
    dt_net_free(net);
}
END_TEST

/* By hand: x = 1..9 in two channels, 3x3, same padding. Channel 0's kernel
 * sums the 2x2 block below and to the right, channel 1's takes the
 * upper-left neighbour; then dy = 1 everywhere. */
START_TEST(dw_by_hand)
{
    dt_net *net = build(IN("2,3,3") "[dw]\ntype = dwconv2d\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 1);
    dt_layer *l = &net->layers[0];
    static const double want_y[18] = {12.5, 16.5, 9.5, 24.5, 28.5, 15.5, 15.5, 17.5, 9.5,
                                      -1,   -1,   -1,  -1,   0,    1,    -1,   3,    4};
    static const double want_dx[18] = {1, 2, 2, 2, 4, 4, 2, 4, 4, /* channel 1: */ 1, 1, 0, 1, 1, 0, 0, 0, 0};
    static const double want_dw[18] = {12, 21, 16, 27, 45, 33, 24, 39, 28, 12, 21, 16, 27, 45, 33, 24, 39, 28};
    dt_real x[18], dx[18];
    for (int i = 0; i < 18; i++) x[i] = (dt_real)(i % 9 + 1);
    /* tap by tap: GCC 12.2 at -O2/-O3 with -march=native (AVX-512) miscompiles
     * the copy of a constant double[18] {0,0,0,0,1,1,0,1,1,1,0,...} (loop or
     * memcpy): elements 8..15 are all stored as 1 */
    dt_real *k = l->params[0].w;
    for (int i = 0; i < 18; i++) k[i] = 0;
    k[4] = k[5] = k[7] = k[8] = 1;
    k[9] = 1;
    l->params[1].w[0] = (dt_real)0.5;
    l->params[1].w[1] = -1;
    dt_pass p = {.n = 1, .train = 1};
    dt_net_zero_grads(net);
    l->x[0] = x;
    l->dx[0] = dx;
    l->ops->forward(l, &p);
    for (int i = 0; i < 18; i++) ck_assert_msg(l->y[i] == want_y[i], "y[%d] = %g, want %g", i, (double)l->y[i], want_y[i]);
    for (int i = 0; i < 18; i++) l->dy[i] = 1;
    l->ops->backward(l, &p);
    for (int i = 0; i < 18; i++) {
        ck_assert_msg(dx[i] == want_dx[i], "dx[%d] = %g, want %g", i, (double)dx[i], want_dx[i]);
        ck_assert_msg(l->params[0].g[i] == want_dw[i], "dW[%d] = %g, want %g", i, (double)l->params[0].g[i], want_dw[i]);
    }
    ck_assert(l->params[1].g[0] == 9 && l->params[1].g[1] == 9);
    dt_net_free(net);
}
END_TEST

/* He initialisation with fan_in = KH*KW (not C*KH*KW), biases zero. */
START_TEST(dw_init)
{
    dt_net *net = build(IN("512,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 1);
    dt_param *W = &net->layers[0].params[0];
    double s2 = 0;
    for (int64_t i = 0; i < W->size; i++) s2 += (double)W->w[i] * W->w[i];
    double sd = sqrt(s2 / (double)W->size);
    ck_assert_msg(fabs(sd - sqrt(2.0 / 9)) < 0.03, "sd %g, want %g", sd, sqrt(2.0 / 9));
    for (int64_t c = 0; c < 512; c++) ck_assert(net->layers[0].params[1].w[c] == 0);
    dt_net_free(net);
}
END_TEST

/* ---- finite differences ---- */

static const struct {
    const char *text;
    int classes;
} gc_models[] = {
    /* dwconv2d */
    {IN("2,5,6") "[dw]\ntype = dwconv2d\nkernel = 3\npadding = same\nactivation = leaky_relu\nalpha = 0.1\n" HEAD_SOFTMAX, 3},
    {IN("3,5,5") "[dw]\ntype = dwconv2d\nkernel = 3\nstride = 2\npadding = same\nactivation = relu\n" HEAD_SIGMOID, 2},
    {IN("2,6,6") "[dw]\ntype = dwconv2d\nkernel = 3\nstride = 2\npadding = same\nbias = 0\nactivation = tanh\n" HEAD_SOFTMAX, 3},
    {IN("2,5,6") "[dw]\ntype = dwconv2d\nkernel = 3,2\nstride = 2,1\npadding = 1,2\nactivation = sigmoid\n" HEAD_SOFTMAX, 3},
    {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\npadding = 3\n" HEAD_SOFTMAX, 3},
    {IN("2,5,7") "[dw]\ntype = dwconv2d\nkernel = 3\nstride = 3\npadding = same\nactivation = leaky_relu\nalpha = 0.1\n"
                 HEAD_SIGMOID, 2},
    /* a depthwise-separable block: 5x5 depthwise, then a pointwise conv */
    {IN("2,6,5") "[dw]\ntype = dwconv2d\nkernel = 5\npadding = same\nactivation = relu\n"
                 "[pw]\ntype = conv2d\nfilters = 3\nkernel = 1\nactivation = leaky_relu\nalpha = 0.1\n" HEAD_SIGMOID, 2},
    /* vector rows and their tails: 18 and 17 columns out */
    {IN("1,3,18") "[dw]\ntype = dwconv2d\nkernel = 3\npadding = same\nactivation = leaky_relu\nalpha = 0.1\n" HEAD_SOFTMAX, 3},
    {IN("1,2,34") "[dw]\ntype = dwconv2d\nkernel = 3\nstride = 2\npadding = same\nactivation = relu\n" HEAD_SIGMOID, 2},
    /* as the output layer, the activation fused with the loss */
    {IN("1,3,3") "[dw]\ntype = dwconv2d\nkernel = 3\nactivation = sigmoid\ninit = xavier\n", 2},
    {IN("3,3,3") "[dw]\ntype = dwconv2d\nkernel = 3\nactivation = softmax\ninit = xavier\n", 3},
    /* frozen: no parameter gradients, the input gradient still flows */
    {IN("2,5,5") "[dw]\ntype = dwconv2d\nkernel = 3\npadding = same\ntrainable = 0\nactivation = tanh\n" HEAD_SOFTMAX, 3},
    /* scale */
    {IN("3,4,4") "[s]\ntype = scale\nactivation = leaky_relu\nalpha = 0.1\n" HEAD_SOFTMAX, 3},
    {IN("3,4,4") "[c]\ntype = conv2d\nfilters = 2\nkernel = 3\npadding = same\nbias = 0\n"
                 "[s]\ntype = scale\nactivation = relu\n" HEAD_SIGMOID, 2},
    {IN("5") "[d]\ntype = dense\nunits = 4\n[s]\ntype = scale\nbias = 0\nactivation = tanh\n" HEAD_SOFTMAX, 3},
    {IN("3") "[s]\ntype = scale\nactivation = softmax\n", 3},
    {IN("2,3,3") "[s]\ntype = scale\ntrainable = 0\nactivation = sigmoid\n" HEAD_SIGMOID, 2},
    /* zeropad channels: dlib's down-sampling residual block, shortcut = avgpool + zero channels */
    {IN("2,4,4") "[c1]\ntype = conv2d\nfilters = 4\nkernel = 3\nstride = 2\npadding = same\nactivation = relu\n"
                 "[p]\ntype = avgpool\nkernel = 2\ninputs = input\n[z]\ntype = zeropad\nchannels = 2\n"
                 "[a]\ntype = add\ninputs = c1, z\nactivation = relu\n" HEAD_SOFTMAX, 3},
    {IN("2,3,3") "[z]\ntype = zeropad\npadding = 1,0,2,1\nchannels = 1\n"
                 "[c]\ntype = conv2d\nfilters = 2\nkernel = 2\nactivation = relu\n" HEAD_SIGMOID, 2},
    /* l2norm: an embedding normalised, then a classifier on it; on images, over all C·H·W values */
    {IN("6") "[e]\ntype = dense\nunits = 5\n[n]\ntype = l2norm\n" HEAD_SOFTMAX, 3},
    {IN("2,3,3") "[n]\ntype = l2norm\n[c]\ntype = conv2d\nfilters = 2\nkernel = 2\nactivation = tanh\n" HEAD_SIGMOID, 2},
};

START_TEST(gradients)
{
    GC_ASSERT(gc_models[_i].text, 3, gc_models[_i].classes, 0.3);
}
END_TEST

/* ---- scale and zeropad by hand ---- */

START_TEST(scale_by_hand)
{
    static const struct {
        const char *act;
        double want[4];
    } cases[] = {
        {"relu", {2.5, 0, 0, 5}},
        {"leaky_relu\nalpha = 0.1", {2.5, -0.35, -0.2, 5}},
        {"linear", {2.5, -3.5, -2, 5}},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        char text[256];
        snprintf(text, sizeof text, IN("2,1,2") "[s]\ntype = scale\nactivation = %s\n" HEAD_SIGMOID, cases[t].act);
        dt_net *net = build(text, 1);
        dt_layer *l = &net->layers[0];
        ck_assert(!strcmp(l->params[0].name, "w") && !strcmp(l->params[1].name, "b"));
        ck_assert(l->params[0].w[0] == 1 && l->params[0].w[1] == 1 && l->params[1].w[0] == 0 && l->params[1].w[1] == 0);
        ck_assert(l->out.c == 2 && l->out.h == 1 && l->out.w == 2);
        dt_real x[4] = {1, -2, 3, -4}, dx[4];
        l->params[0].w[0] = 2, l->params[0].w[1] = -1;
        l->params[1].w[0] = (dt_real)0.5, l->params[1].w[1] = 1;
        dt_pass p = {.n = 1, .train = 1};
        l->x[0] = x;
        l->dx[0] = dx;
        l->ops->forward(l, &p);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(fabs(l->y[i] - cases[t].want[i]) < 1e-6, "%s: y[%d] = %g", cases[t].act, i, (double)l->y[i]);
        if (t == 2) { /* linear: dw = Σ dy x, db = Σ dy, dx = dy w */
            dt_net_zero_grads(net);
            dt_real dy[4] = {1, 2, 3, 4};
            memcpy(l->dy, dy, sizeof dy);
            l->ops->backward(l, &p);
            ck_assert(l->params[0].g[0] == 1 - 4 && l->params[0].g[1] == 9 - 16);
            ck_assert(l->params[1].g[0] == 3 && l->params[1].g[1] == 7);
            ck_assert(dx[0] == 2 && dx[1] == 4 && dx[2] == -3 && dx[3] == -4);
        }
        dt_net_free(net);
    }
}
END_TEST

START_TEST(zeropad_channels_by_hand)
{
    dt_net *net = build(IN("2,1,2") "[z]\ntype = zeropad\npadding = 0,1\nchannels = 2\n" HEAD_SIGMOID, 2);
    dt_layer *l = &net->layers[0];
    ck_assert(l->out.c == 4 && l->out.h == 1 && l->out.w == 4);
    dt_real x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, dx[8];
    static const dt_real want[32] = {0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0, 5, 6, 0, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    dt_pass p = {.n = 2, .train = 1};
    for (int i = 0; i < 32; i++) l->y[i] = 99; /* every value is written */
    l->x[0] = x;
    l->dx[0] = dx;
    l->ops->forward(l, &p);
    for (int i = 0; i < 32; i++) ck_assert_msg(l->y[i] == want[i], "y[%d] = %g", i, (double)l->y[i]);
    for (int i = 0; i < 32; i++) l->dy[i] = (dt_real)i;
    l->ops->backward(l, &p);
    static const dt_real want_dx[8] = {1, 2, 5, 6, 17, 18, 21, 22};
    for (int i = 0; i < 8; i++) ck_assert_msg(dx[i] == want_dx[i], "dx[%d] = %g", i, (double)dx[i]);
    dt_net_free(net);
    /* channels alone: padding may be left out; the old spellings keep their shapes */
    net = build(IN("3,2,2") "[z]\ntype = zeropad\nchannels = 5\n" HEAD_SIGMOID, 1);
    ck_assert(net->layers[0].out.c == 8 && net->layers[0].out.h == 2 && net->layers[0].out.w == 2);
    dt_net_free(net);
    net = build(IN("3,2,2") "[z]\ntype = zeropad\npadding = 1,2,3,4\nchannels = 0\n" HEAD_SIGMOID, 1);
    ck_assert(net->layers[0].out.c == 3 && net->layers[0].out.h == 5 && net->layers[0].out.w == 9);
    dt_net_free(net);
}
END_TEST

/* A second consumer adds into the input gradient instead of overwriting it. */
START_TEST(input_gradient_accumulates)
{
    static const char *models[] = {
        IN("2,5,19") "[l]\ntype = dwconv2d\nkernel = 3\npadding = same\n" HEAD_SIGMOID,
        IN("2,5,19") "[l]\ntype = dwconv2d\nkernel = 3\nstride = 2\npadding = same\n" HEAD_SIGMOID,
        IN("2,5,19") "[l]\ntype = dwconv2d\nkernel = 2,3\nstride = 3\npadding = 1\n" HEAD_SIGMOID,
        IN("2,5,19") "[l]\ntype = scale\n" HEAD_SIGMOID,
        IN("2,5,19") "[l]\ntype = zeropad\npadding = 1\nchannels = 3\n" HEAD_SIGMOID,
    };
    enum { N = 2, IN_SZ = 2 * 5 * 19 };
    for (size_t t = 0; t < sizeof models / sizeof *models; t++) {
        dt_net *net = build(models[t], N);
        dt_layer *l = &net->layers[0];
        int64_t out = N * dt_shape_size(l->out);
        dt_real x[N * IN_SZ], first[N * IN_SZ], second[N * IN_SZ], *dy = malloc(sizeof(dt_real) * out);
        dt_rng r;
        dt_rng_seed(&r, 9);
        fill_randn(&r, x, N * IN_SZ);
        fill_randn(&r, dy, out);
        dt_pass p = {.n = N, .train = 1};
        l->x[0] = x;
        l->ops->forward(l, &p);
        for (int pass = 0; pass < 2; pass++) {
            memcpy(l->dy, dy, sizeof(dt_real) * out);
            for (int i = 0; i < N * IN_SZ; i++) second[i] = (dt_real)(i % 5);
            l->dx[0] = pass ? second : first;
            l->dx_accum[0] = pass;
            l->ops->backward(l, &p);
        }
        for (int i = 0; i < N * IN_SZ; i++)
            ck_assert_msg(fabs(second[i] - (first[i] + i % 5)) < 1e-5, "model %zu, dx[%d]", t, i);
        free(dy);
        dt_net_free(net);
    }
}
END_TEST

/* Folding for inference keeps the outputs: a residual block as the face
 * recogniser has them (each scale into its convolution, the add with its
 * relu into the second convolution), a scale with a relu, one without
 * bias, and one that cannot fold (its convolution has no bias). */
/* Folding keeps the outputs: with 4 filters and 3 examples through the
 * gemm lowering, with 8 filters and 16 examples through direct convolution
 * by batch lanes where the build has it (the residual added in the lanes'
 * output pass, a filter at a time). */
START_TEST(fold_scales_keeps_outputs)
{
    static const struct {
        int filters, n;
    } cases[] = {{4, 3}, {8, 16}};
    int F = cases[_i].filters, N = cases[_i].n, NX = N * 3 * 6 * 6;
    char text[1024];
    snprintf(text, sizeof text,
             "[input]\nshape = 3,6,6\n"
             "[c1]\ntype = conv2d\nfilters = %d\nkernel = 3\npadding = same\n"
             "[s1]\ntype = scale\nactivation = relu\n"
             "[c2]\ntype = conv2d\nfilters = %d\nkernel = 3\npadding = same\n"
             "[s2]\ntype = scale\nbias = 0\n"
             "[sum]\ntype = add\ninputs = s2,s1\nactivation = relu\n"
             "[c3]\ntype = conv2d\nfilters = 4\nkernel = 1\nbias = 0\n"
             "[s3]\ntype = scale\n"
             "[g]\ntype = global_avgpool\n"
             "[out]\ntype = dense\nunits = 3\nactivation = softmax\n",
             F, F);
    dt_net *net = build(text, N);
    dt_rng r;
    dt_rng_seed(&r, 5);
    for (int i = 0; i < net->nlayers; i++)
        for (int j = 0; j < net->layers[i].nparams; j++) fill_randn(&r, net->layers[i].params[j].w, net->layers[i].params[j].size);
    dt_real *x = malloc(sizeof(dt_real) * NX), *want = malloc(sizeof(dt_real) * N * 3);
    fill_randn(&r, x, NX);
    dt_pass p = {.n = N};
    memcpy(want, dt_net_forward(net, x, &p), sizeof(dt_real) * N * 3);
    ck_assert_int_eq(dt_net_fold_inference(net), 3);
    ck_assert(net->layers[dt_net_find(net, "s1")].folded && net->layers[dt_net_find(net, "s2")].folded);
    ck_assert(net->layers[dt_net_find(net, "sum")].folded); /* into c2, which adds s1 (= c1) in its output pass */
    ck_assert(!net->layers[dt_net_find(net, "s3")].folded);
    const dt_real *got = dt_net_forward(net, x, &p);
    for (int i = 0; i < N * 3; i++)
        ck_assert_msg(fabs(got[i] - want[i]) < 1e-5, "%d filters, output %d: %g folded, %g not", F, i, (double)got[i],
                      (double)want[i]);
    free(x);
    free(want);
    dt_net_free(net);
}
END_TEST

START_TEST(config_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 0\n" HEAD_SIGMOID,
         "m.ini:5: [dw] kernel = '0': expected one or two positive integers"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3,-1\n" HEAD_SIGMOID,
         "m.ini:5: [dw] kernel = '3,-1': expected one or two positive integers"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\n" HEAD_SIGMOID, "m.ini: [dw] missing required key 'kernel'"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 5\n" HEAD_SIGMOID,
         "m.ini:5: [dw] kernel = 5: larger than the padded input (4x4)"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\nstride = 0\n" HEAD_SIGMOID,
         "m.ini:6: [dw] stride = '0': expected one or two positive integers"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\npadding = full\n" HEAD_SIGMOID,
         "m.ini:6: [dw] padding = 'full': expected same, valid, p or ph,pw (p >= 0)"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\npadding = -1\n" HEAD_SIGMOID, "m.ini:6: [dw] padding = '-1': expected"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\nbias = 2\n" HEAD_SIGMOID,
         "m.ini:6: [dw] bias = 2: expected an integer in [0, 1]"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\nactivation = swish\n" HEAD_SIGMOID,
         "m.ini:6: [dw] activation = 'swish': expected one of"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\nfilters = 4\n" HEAD_SIGMOID, "m.ini:6: [dw] unknown key 'filters'"},
        {IN("2,4,4") "[dw]\ntype = dwconv2d\nkernel = 3\ninit = lecun\n" HEAD_SIGMOID, "m.ini:6: [dw] init = 'lecun'"},
        {IN("2,4,4") "[s]\ntype = scale\nbias = -1\n" HEAD_SIGMOID, "m.ini:5: [s] bias = -1: expected an integer in [0, 1]"},
        {IN("2,4,4") "[s]\ntype = scale\nactivation = gelu\n" HEAD_SIGMOID, "m.ini:5: [s] activation = 'gelu': expected one of"},
        {IN("2,4,4") "[s]\ntype = scale\nalpha = 2\n" HEAD_SIGMOID, "m.ini:5: [s] alpha = 2: expected a number in [0, 1]"},
        {IN("2,4,4") "[s]\ntype = scale\nkernel = 3\n" HEAD_SIGMOID, "m.ini:5: [s] unknown key 'kernel'"},
        {IN("2,4,4") "[z]\ntype = zeropad\nchannels = -1\n" HEAD_SIGMOID,
         "m.ini:5: [z] channels = -1: expected an integer in [0, 1048576]"},
        {IN("2,4,4") "[z]\ntype = zeropad\npadding = 1\nchannels = two\n" HEAD_SIGMOID,
         "m.ini:6: [z] channels = 'two': expected an integer"},
        {IN("2,4,4") "[z]\ntype = zeropad\nchannels = 0\n" HEAD_SIGMOID, "m.ini: [z] missing required key 'padding'"},
        {IN("2,4,4") "[z]\ntype = zeropad\n" HEAD_SIGMOID, "m.ini: [z] missing required key 'padding'"},
        {IN("2,4,4") "[z]\ntype = zeropad\nchannels = 2\npadding = 1,2,3\n" HEAD_SIGMOID,
         "m.ini:6: [z] padding = '1,2,3': expected p, ph,pw or top,bottom,left,right"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dt_ini *m;
        dt_net *net = NULL;
        ck_assert(dt_ini_parse("m.ini", cases[i].text, &m) == DT_OK);
        ck_assert_int_eq(dt_net_build(m, 4, DT_LOSS_AUTO, &net), DT_ERR_CONFIG);
        ck_assert_msg(strstr(dt_errmsg(), cases[i].want), "case %zu: got '%s', want '%s'", i, dt_errmsg(), cases[i].want);
        ck_assert_msg(!strchr(dt_errmsg(), '\n'), "case %zu: not one line: '%s'", i, dt_errmsg());
        ck_assert(net == NULL);
        dt_ini_free(m);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faces_layers");
    TCase *tc = tcase_create("faces_layers");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, dw_matches_loops, 0, NDW);
    tcase_add_test(tc, dw_by_hand);
    tcase_add_test(tc, dw_init);
    tcase_add_loop_test(tc, gradients, 0, sizeof gc_models / sizeof *gc_models);
    tcase_add_test(tc, scale_by_hand);
    tcase_add_test(tc, zeropad_channels_by_hand);
    tcase_add_test(tc, input_gradient_accumulates);
    tcase_add_loop_test(tc, fold_scales_keeps_outputs, 0, 2);
    tcase_add_test(tc, config_errors);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
