/* test_conv.c — conv2d and zeropad: finite-difference gradient checks of
 * small nets, the forward pass against direct loops, the course's
 * convolution vector (../shared/REFERENCE.md), output shapes, gradients that
 * add into a shared buffer, and configuration errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_check.h"

/* A layer's section followed by an output head that makes the net valid. */
#define IN(shape) "[input]\nshape = " shape "\n"
#define HEAD_SOFTMAX "[out]\ntype = dense\nunits = 3\nactivation = softmax\ninit = xavier\n"
#define HEAD_SIGMOID "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\ninit = xavier\n"

static const struct {
    const char *text;
    int classes;
} gc_models[] = {
    /* stride 1, valid, bias, relu */
    {IN("2,5,5") "[c]\ntype = conv2d\nfilters = 3\nkernel = 3\nactivation = relu\n" HEAD_SOFTMAX, 3},
    /* stride 2, same, asymmetric: 5x5, kernel 2 -> 3x3 with one row/column of padding below/right */
    {IN("2,5,5") "[c]\ntype = conv2d\nfilters = 3\nkernel = 2\nstride = 2\npadding = same\n" HEAD_SIGMOID, 2},
    /* explicit padding, rectangular kernel and stride, no bias, tanh (z kept apart) */
    {IN("2,5,5") "[c]\ntype = conv2d\nfilters = 2\nkernel = 3,2\nstride = 2,1\npadding = 1,2\nbias = 0\n"
                 "activation = tanh\n" HEAD_SOFTMAX, 3},
    /* conv -> conv: the second conv's input gradient goes through col2im */
    {IN("2,5,5") "[c1]\ntype = conv2d\nfilters = 3\nkernel = 3\npadding = same\nactivation = leaky_relu\nalpha = 0.1\n"
                 "[c2]\ntype = conv2d\nfilters = 2\nkernel = 2\nstride = 2\npadding = valid\nactivation = relu\n" HEAD_SIGMOID, 2},
    /* zeropad -> conv, and a 1x1 conv (no im2col) behind a strided one */
    {IN("2,4,5") "[pad]\ntype = zeropad\npadding = 1,0,2,1\n"
                 "[c1]\ntype = conv2d\nfilters = 3\nkernel = 3\nstride = 2\nactivation = sigmoid\n"
                 "[c2]\ntype = conv2d\nfilters = 2\nkernel = 1\nactivation = tanh\n" HEAD_SOFTMAX, 3},
    /* conv as the output layer: one unit (binary) and three (softmax), z fused with the loss */
    {IN("2,3,3") "[c]\ntype = conv2d\nfilters = 1\nkernel = 3\nactivation = sigmoid\ninit = xavier\n", 2},
    {IN("3,4,4") "[pad]\ntype = zeropad\npadding = 1\n[c]\ntype = conv2d\nfilters = 3\nkernel = 6\nstride = 3\n"
                 "activation = softmax\ninit = xavier\n", 3},
    /* a 1x1 conv as a softmax classifier over 4 features */
    {IN("4,1,1") "[c]\ntype = conv2d\nfilters = 3\nkernel = 1\nactivation = softmax\n", 3},
};

START_TEST(gradients)
{
    GC_ASSERT(gc_models[_i].text, 3, gc_models[_i].classes, 0.3);
}
END_TEST

static dt_net *build(const char *text, int64_t maxn)
{
    dt_ini *m;
    dt_net *net;
    ck_assert_msg(dt_ini_parse("m.ini", text, &m) == DT_OK, "%s", dt_errmsg());
    ck_assert_msg(dt_net_build(m, maxn, DT_LOSS_AUTO, &net) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(m);
    return net;
}

static void fill_randn(dt_rng *r, dt_real *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++) v[i] = (dt_real)dt_rng_randn(r);
}

/* conv2d layer 0 of `text` (input [C, H, W], F filters, the given stride and
 * top/left padding) on N random examples against the definition. */
static void check_forward(const char *what, const char *text, int N, int C, int H, int W, int F, int sh, int sw, int pt,
                          int pl)
{
    dt_net *net = build(text, N);
    dt_layer *l = &net->layers[0];
    int64_t kh = l->params[0].dims[2], kw = l->params[0].dims[3], OH = l->out.h, OW = l->out.w;
    dt_real *x = malloc(sizeof(dt_real) * N * C * H * W);
    dt_rng r;
    dt_rng_seed(&r, 3);
    fill_randn(&r, x, (int64_t)N * C * H * W);
    fill_randn(&r, l->params[0].w, l->params[0].size);
    fill_randn(&r, l->params[1].w, F);
    dt_pass p = {.n = N};
    dt_net_forward(net, x, &p);
    for (int n = 0; n < N; n++)
        for (int f = 0; f < F; f++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double s = l->params[1].w[f];
                    for (int c = 0; c < C; c++)
                        for (int64_t i = 0; i < kh; i++)
                            for (int64_t j = 0; j < kw; j++) {
                                int64_t iy = oy * sh - pt + i, ix = ox * sw - pl + j;
                                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                    s += (double)x[((n * C + c) * H + iy) * W + ix] *
                                         l->params[0].w[((f * C + c) * kh + i) * kw + j];
                            }
                    dt_real got = l->y[((n * F + f) * OH + oy) * OW + ox];
                    ck_assert_msg(fabs(got - s) < 1e-4 * (1 + fabs(s)), "%s: y[%d,%d,%lld,%lld] = %g, want %g", what, n, f,
                                  (long long)oy, (long long)ox, (double)got, s);
                }
    free(x);
    dt_net_free(net);
}

/* Backward of conv2d layer 0 of `text` (input [C, H, W], F filters, stride
 * 1, top/left padding pad) on N examples against the definition: the weight,
 * bias and input gradients for a random dy. */
static void check_backward(const char *what, const char *text, int N, int C, int H, int W, int F, int pad)
{
    dt_net *net = build(text, N);
    dt_layer *l = &net->layers[0];
    int64_t kh = l->params[0].dims[2], kw = l->params[0].dims[3], OH = l->out.h, OW = l->out.w;
    int64_t nx = (int64_t)N * C * H * W, ny = (int64_t)N * F * OH * OW, nw = l->params[0].size;
    dt_real *x = malloc(sizeof(dt_real) * nx), *dx = malloc(sizeof(dt_real) * nx), *dy = malloc(sizeof(dt_real) * ny);
    double *wdx = calloc((size_t)nx, sizeof *wdx), *wdw = calloc((size_t)nw, sizeof *wdw), *wdb = calloc((size_t)F, sizeof *wdb);
    dt_rng r;
    dt_rng_seed(&r, 5);
    fill_randn(&r, x, nx);
    fill_randn(&r, l->params[0].w, nw);
    fill_randn(&r, l->params[1].w, F);
    fill_randn(&r, dy, ny);
    dt_pass p = {.n = N, .train = 1};
    dt_net_forward(net, x, &p);
    memcpy(l->dy, dy, sizeof(dt_real) * ny);
    memset(l->params[0].g, 0, sizeof(dt_real) * nw);
    memset(l->params[1].g, 0, sizeof(dt_real) * F);
    l->dx[0] = dx;
    l->dx_accum[0] = 0;
    l->ops->backward(l, &p);
    for (int n = 0; n < N; n++)
        for (int f = 0; f < F; f++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double g = dy[((n * F + f) * OH + oy) * OW + ox];
                    wdb[f] += g;
                    for (int c = 0; c < C; c++)
                        for (int64_t i = 0; i < kh; i++)
                            for (int64_t j = 0; j < kw; j++) {
                                int64_t iy = oy - pad + i, ix = ox - pad + j, wi = ((f * C + c) * kh + i) * kw + j;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                int64_t xi = ((n * C + c) * H + iy) * W + ix;
                                wdw[wi] += g * x[xi];
                                wdx[xi] += g * l->params[0].w[wi];
                            }
                }
    for (int64_t i = 0; i < nw; i++)
        ck_assert_msg(fabs(l->params[0].g[i] - wdw[i]) < 1e-4 * (1 + fabs(wdw[i])), "%s: dW[%lld] = %g, want %g", what,
                      (long long)i, (double)l->params[0].g[i], wdw[i]);
    for (int f = 0; f < F; f++)
        ck_assert_msg(fabs(l->params[1].g[f] - wdb[f]) < 1e-4 * (1 + fabs(wdb[f])), "%s: db[%d] = %g, want %g", what, f,
                      (double)l->params[1].g[f], wdb[f]);
    for (int64_t i = 0; i < nx; i++)
        ck_assert_msg(fabs(dx[i] - wdx[i]) < 1e-4 * (1 + fabs(wdx[i])), "%s: dx[%lld] = %g, want %g", what, (long long)i,
                      (double)dx[i], wdx[i]);
    l->dx[0] = NULL;
    free(x);
    free(dx);
    free(dy);
    free(wdx);
    free(wdw);
    free(wdb);
    dt_net_free(net);
}

/* Layers whose weight gradient outgrows the cache (F*K > 2^18) and whose
 * planes are small (K > 8P) take their backward over groups of examples;
 * the others checked here go by kernel rows (the weight gradient of 3x3
 * layers over few channels directly) or one example at a time. */
START_TEST(backward_matches_loops)
{
    check_backward("3x3, 64 -> 512 on 4x4 (groups)",
                   IN("64,4,4") "[c]\ntype = conv2d\nfilters = 512\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 3, 64,
                   4, 4, 512, 1);
    check_backward("1x1, 1024 -> 512 on 2x2 (groups)",
                   IN("1024,2,2") "[c]\ntype = conv2d\nfilters = 512\nkernel = 1\n" HEAD_SIGMOID, 3, 1024, 2, 2, 512, 0);
    /* by batch lanes (float builds with AVX-512; elsewhere the gemm) where
     * the batch fills them, channels and filters are multiples of 8 and the
     * output has 49 pixels or more: 29 examples make a full run and a short
     * one; 5x5 over 16 channels has 400 taps, so the weight gradient's last
     * tile has one */
    check_backward("3x3, 8 -> 16 on 9x7 (lanes)",
                   IN("8,9,7") "[c]\ntype = conv2d\nfilters = 16\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 29, 8, 9,
                   7, 16, 1);
    check_backward("3x3 valid, 8 -> 8 on 9x9 (lanes)",
                   IN("8,9,9") "[c]\ntype = conv2d\nfilters = 8\nkernel = 3\n" HEAD_SIGMOID, 14, 8, 9, 9, 8, 0);
    check_backward("5x5, 16 -> 8 on 7x7 (lanes)",
                   IN("16,7,7") "[c]\ntype = conv2d\nfilters = 8\nkernel = 5\npadding = same\n" HEAD_SIGMOID, 16, 16,
                   7, 7, 8, 2);
    check_backward("3x3, 8 -> 6 on 9x7 (kernel rows)",
                   IN("8,9,7") "[c]\ntype = conv2d\nfilters = 6\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 2, 8, 9, 7,
                   6, 1);
    /* 3x3 over at most 4 channels: the weight gradient directly from the
     * padded input (ops/wgrad.h), rows of 8 and a tail */
    check_backward("3x3, 1 -> 16 on 23x21 (direct weight gradient)",
                   IN("1,23,21") "[c]\ntype = conv2d\nfilters = 16\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 3, 1,
                   23, 21, 16, 1);
    check_backward("3x3 valid, 3 -> 5 on 12x19 (direct weight gradient)",
                   IN("3,12,19") "[c]\ntype = conv2d\nfilters = 5\nkernel = 3\n" HEAD_SIGMOID, 2, 3, 12, 19, 5, 0);
}
END_TEST

/* The forward pass against the definition, over several geometries. */
START_TEST(forward_matches_loops)
{
    static const struct {
        const char *conv;
        int sh, sw, pt, pl; /* stride and the top/left padding the keys imply */
    } cases[] = {
        {"kernel = 3\npadding = same\n", 1, 1, 1, 1},
        {"kernel = 2\nstride = 2\npadding = same\n", 2, 2, 0, 0}, /* 6x7: padding 0+0 rows, 0+1 columns */
        {"kernel = 4\nstride = 3\npadding = same\n", 3, 3, 0, 1}, /* 0+1 rows, 1+2 columns */
        {"kernel = 3,2\nstride = 2,1\npadding = 1,2\n", 2, 1, 1, 2},
        {"kernel = 2,3\nstride = 1,2\n", 1, 2, 0, 0},
        {"kernel = 5\nstride = 4\n", 4, 4, 0, 0}, /* 1x1 out: fewer pixels than filters, lowered as a batch */
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        char text[512], what[32];
        snprintf(text, sizeof text, IN("3,6,7") "[c]\ntype = conv2d\nfilters = 4\n%s" HEAD_SIGMOID, cases[t].conv);
        snprintf(what, sizeof what, "case %zu", t);
        check_forward(what, text, 2, 3, 6, 7, 4, cases[t].sh, cases[t].sw, cases[t].pt, cases[t].pl);
    }
    /* small planes behind many channels (K > 8P) go through the batch
     * lowering in groups of about 1 MiB of columns: 288 x 16 per example,
     * 56 a group, 60 examples; and 1x1 kernels (64 channels, 2x2 maps) */
    check_forward("batch lowering, 2 groups",
                  IN("32,4,4") "[c]\ntype = conv2d\nfilters = 8\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 60, 32, 4,
                  4, 8, 1, 1, 1, 1);
    check_forward("batch lowering, 1x1", IN("64,2,2") "[c]\ntype = conv2d\nfilters = 8\nkernel = 1\n" HEAD_SIGMOID, 3,
                  64, 2, 2, 8, 1, 1, 0, 0);
    /* direct convolution (ops/dconv.h, float builds with AVX-512 or AVX2), filters
     * a multiple of 8. Over padded planes where the output is most of them
     * (>= 85 %, any batch; >= 70 %, small batches): 8 channels on 30x30 take
     * 16 examples a run, so 20 make two; stride 2 over four phase planes,
     * valid (7x7), TF "same" (the extra row and column at the bottom/right)
     * and explicit padding. */
    check_forward("direct 3x3, 2 runs",
                  IN("8,30,30") "[c]\ntype = conv2d\nfilters = 8\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 20, 8,
                  30, 30, 8, 1, 1, 1, 1);
    /* one example's planes past the cache: bands of output rows a run (8
     * filters on 202-wide planes: 162 rows, then 38; stride 2, 16 filters:
     * 81-row bands of 199) */
    check_forward("direct 3x3, bands of rows",
                  IN("3,200,200") "[c]\ntype = conv2d\nfilters = 8\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 2, 3,
                  200, 200, 8, 1, 1, 1, 1);
    check_forward("direct 3x3 stride 2, bands of rows",
                  IN("3,400,400") "[c]\ntype = conv2d\nfilters = 16\nkernel = 3\nstride = 2\n" HEAD_SIGMOID, 1, 3,
                  400, 400, 16, 2, 2, 0, 0);
    check_forward("direct 7x7 stride 2", IN("3,41,41") "[c]\ntype = conv2d\nfilters = 8\nkernel = 7\nstride = 2\n" HEAD_SIGMOID,
                  3, 3, 41, 41, 8, 2, 2, 0, 0);
    check_forward("direct 3x3 stride 2 same",
                  IN("8,20,20") "[c]\ntype = conv2d\nfilters = 8\nkernel = 3\nstride = 2\npadding = same\n" HEAD_SIGMOID,
                  3, 8, 20, 20, 8, 2, 2, 0, 0);
    check_forward("direct 3x3 stride 2 padding 1",
                  IN("8,19,19") "[c]\ntype = conv2d\nfilters = 24\nkernel = 3\nstride = 2\npadding = 1\n" HEAD_SIGMOID,
                  2, 8, 19, 19, 24, 2, 2, 1, 1);
    /* by batch lanes, 16 examples a run, where the batch fills them: 45 =
     * 16 + 16 + 13, and rows of 4, 7 and 1 output pixels (tiles of 2 + 2,
     * 3 + 2 + 2 and 1) */
    check_forward("lanes 3x3, 3 runs",
                  IN("16,4,4") "[c]\ntype = conv2d\nfilters = 16\nkernel = 3\npadding = same\n" HEAD_SIGMOID, 45, 16,
                  4, 4, 16, 1, 1, 1, 1);
    check_forward("lanes 3x3 stride 2 same",
                  IN("8,13,13") "[c]\ntype = conv2d\nfilters = 8\nkernel = 3\nstride = 2\npadding = same\n" HEAD_SIGMOID,
                  14, 8, 13, 13, 8, 2, 2, 1, 1);
    check_forward("lanes 3x3 to 1x1", IN("8,3,3") "[c]\ntype = conv2d\nfilters = 8\nkernel = 3\n" HEAD_SIGMOID, 16, 8, 3,
                  3, 8, 1, 1, 0, 0);
}
END_TEST

/* Every activation (softmax spans an example's F*P values) and the bias
 * give the same output by direct convolution as by the other paths: 16
 * examples take batch lanes, 2 take the padded planes (12x12: 73 % output)
 * or the gemm lowering (8x8: 64 %). Float builds with AVX-512 or AVX2; elsewhere
 * all go by the gemm and agree trivially. */
START_TEST(direct_paths_match)
{
    static const char *acts[] = {"relu", "leaky_relu\nalpha = 0.1", "sigmoid", "tanh", "softmax", "linear"};
    for (int size = 8; size <= 12; size += 4) {
        char text[512];
        snprintf(text, sizeof text,
                 "[input]\nshape = 8,%d,%d\n[c]\ntype = conv2d\nfilters = 8\nkernel = 3\npadding = same\n"
                 "activation = %s\n" HEAD_SIGMOID,
                 size, size, acts[_i]);
        dt_net *lanes = build(text, 16), *few = build(text, 2);
        dt_rng r;
        dt_rng_seed(&r, 11);
        for (int j = 0; j < 2; j++) {
            fill_randn(&r, lanes->layers[0].params[j].w, lanes->layers[0].params[j].size);
            memcpy(few->layers[0].params[j].w, lanes->layers[0].params[j].w,
                   sizeof(dt_real) * lanes->layers[0].params[j].size);
        }
        int64_t nx = 16 * 8 * size * size, ny = 2 * 8 * size * size;
        dt_real *x = malloc(sizeof(dt_real) * nx);
        fill_randn(&r, x, nx);
        dt_pass p16 = {.n = 16}, p2 = {.n = 2};
        dt_net_forward(lanes, x, &p16);
        dt_net_forward(few, x, &p2);
        for (int64_t i = 0; i < ny; i++) {
            dt_real a = lanes->layers[0].y[i], b = few->layers[0].y[i];
            ck_assert_msg(fabs(a - b) < 1e-5 * (1 + fabs(b)), "%s on %dx%d: y[%lld] = %g by lanes, %g by 2 examples",
                          acts[_i], size, size, (long long)i, (double)a, (double)b);
        }
        free(x);
        dt_net_free(lanes);
        dt_net_free(few);
    }
}
END_TEST

/* REFERENCE.md: seed(1); A = randn(10,5,7,4) NHWC; W = randn(3,3,4,8); b = randn(1,1,1,8); pad 1, stride 2. */
START_TEST(course_vector)
{
    enum { M = 10, H = 5, W = 7, C = 4, F = 8, K = 3 };
    static const double want_row[F] = {-1.28912231, 2.27650251, 6.61941931, 0.95527176,
                                       8.25132576,  2.31329639, 13.00689405, 2.34576051};
#ifdef DTRAIN_DOUBLE
    const double rel = 1e-9;
#else
    const double rel = 1e-5;
#endif
    double *a = malloc(sizeof(double) * M * H * W * C), w[K * K * C * F], b[F];
    dt_rng r;
    dt_rng_seed(&r, 1);
    for (int i = 0; i < M * H * W * C; i++) a[i] = dt_rng_randn(&r);
    for (int i = 0; i < K * K * C * F; i++) w[i] = dt_rng_randn(&r);
    for (int i = 0; i < F; i++) b[i] = dt_rng_randn(&r);
    dt_net *net = build(IN("4,5,7") "[conv]\ntype = conv2d\nfilters = 8\nkernel = 3\nstride = 2\npadding = 1\n" HEAD_SIGMOID, M);
    dt_layer *l = &net->layers[0];
    ck_assert_int_eq(l->out.c, F);
    ck_assert_int_eq(l->out.h, 3);
    ck_assert_int_eq(l->out.w, 4);
    dt_real *x = malloc(sizeof(dt_real) * M * H * W * C);
    for (int n = 0; n < M; n++) /* NHWC -> NCHW */
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++)
                for (int c = 0; c < C; c++) x[((n * C + c) * H + y) * W + xx] = (dt_real)a[((n * H + y) * W + xx) * C + c];
    for (int i = 0; i < K; i++) /* (f, f, Cin, Cout) -> [Cout, Cin, f, f] */
        for (int j = 0; j < K; j++)
            for (int c = 0; c < C; c++)
                for (int f = 0; f < F; f++) l->params[0].w[((f * C + c) * K + i) * K + j] = (dt_real)w[((i * K + j) * C + c) * F + f];
    for (int f = 0; f < F; f++) l->params[1].w[f] = (dt_real)b[f];
    dt_pass p = {.n = M};
    dt_net_forward(net, x, &p);
    double mean = 0;
    for (int i = 0; i < M * F * 3 * 4; i++) mean += l->y[i];
    mean /= M * F * 3 * 4;
    ck_assert_msg(fabs(mean - 0.692360880758) <= rel * 0.692360880758, "mean(Z) = %.12f", mean);
    for (int f = 0; f < F; f++) {
        double got = l->y[((3 * F + f) * 3 + 2) * 4 + 1];
        /* the reference prints 8 decimals: allow their rounding on top of rel */
        ck_assert_msg(fabs(got - want_row[f]) <= rel * fabs(want_row[f]) + 5e-9, "Z[3,2,1,%d] = %.9f, want %.8f", f,
                      got, want_row[f]);
    }
    free(a);
    free(x);
    dt_net_free(net);
}
END_TEST

START_TEST(output_shapes)
{
    static const struct {
        const char *in, *keys;
        int oh, ow;
    } cases[] = {
        {"1,28,28", "kernel = 3\npadding = same\n", 28, 28},
        {"1,28,28", "kernel = 3\n", 26, 26},
        {"1,28,28", "kernel = 3\nstride = 2\npadding = same\n", 14, 14},
        {"2,5,5", "kernel = 2\nstride = 2\npadding = same\n", 3, 3},
        {"2,7,5", "kernel = 3\nstride = 2\npadding = same\n", 4, 3},
        {"4,5,7", "kernel = 3\nstride = 2\npadding = 1\n", 3, 4},
        {"1,6,6", "kernel = 3,1\nstride = 2,3\npadding = valid\n", 2, 2},
        {"1,4,4", "kernel = 2\npadding = 1,0\n", 5, 3},
        {"3,14,14", "kernel = 1\nstride = 2\n", 7, 7},
        {"3,4,4", "kernel = 7\nstride = 2\npadding = same\n", 2, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[512];
        snprintf(text, sizeof text, "[input]\nshape = %s\n[c]\ntype = conv2d\nfilters = 5\n%s" HEAD_SIGMOID, cases[i].in,
                 cases[i].keys);
        dt_net *net = build(text, 2);
        dt_shape o = net->layers[0].out;
        ck_assert_msg(o.c == 5 && o.h == cases[i].oh && o.w == cases[i].ow, "case %zu: got %dx%dx%d, want 5x%dx%d", i,
                      o.c, o.h, o.w, cases[i].oh, cases[i].ow);
        ck_assert_int_eq(net->layers[0].params[0].dims[1], net->in.c);
        dt_net_free(net);
    }
    dt_net *net = build(IN("2,3,4") "[pad]\ntype = zeropad\npadding = 1,2,3,4\n" HEAD_SIGMOID, 2);
    ck_assert(net->layers[0].out.c == 2 && net->layers[0].out.h == 6 && net->layers[0].out.w == 11);
    dt_net_free(net);
}
END_TEST

/* A second consumer adds into the input gradient instead of overwriting it
 * (layers with linear activation, so dy passes through unchanged). */
START_TEST(input_gradient_accumulates)
{
    static const char *models[] = {
        IN("2,5,5") "[c]\ntype = conv2d\nfilters = 3\nkernel = 3\nstride = 2\npadding = same\n" HEAD_SIGMOID,
        IN("2,5,5") "[c]\ntype = conv2d\nfilters = 3\nkernel = 1\n" HEAD_SIGMOID,
        IN("2,5,5") "[c]\ntype = zeropad\npadding = 2,1\n" HEAD_SIGMOID,
    };
    enum { N = 2, IN_SZ = 2 * 5 * 5 };
    for (size_t t = 0; t < sizeof models / sizeof *models; t++) {
        dt_net *net = build(models[t], N);
        ck_assert(dt_net_init(net, 1) == DT_OK);
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

START_TEST(config_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 2\nkernel = 7\n" HEAD_SIGMOID,
         "m.ini:6: [conv1] kernel = 7: larger than the padded input (4x4)"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 2\nkernel = 4,6\npadding = 1,0\n" HEAD_SIGMOID,
         "m.ini:6: [conv1] kernel = 4,6: larger than the padded input (6x4)"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 2\nkernel = 3\npadding = sometimes\n" HEAD_SIGMOID,
         "m.ini:7: [conv1] padding = 'sometimes': expected same, valid"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 2\nkernel = 3\npadding = -1\n" HEAD_SIGMOID,
         "m.ini:7: [conv1] padding = '-1': expected"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 2\nkernel = 3\npadding = 1,2,3\n" HEAD_SIGMOID,
         "m.ini:7: [conv1] padding = '1,2,3': expected"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 2\nkernel = 0\n" HEAD_SIGMOID,
         "m.ini:6: [conv1] kernel = '0': expected one or two positive integers"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 2\nkernel = 3\nstride = 1,-2\n" HEAD_SIGMOID,
         "m.ini:7: [conv1] stride = '1,-2': expected one or two positive integers"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 0\nkernel = 3\n" HEAD_SIGMOID, "m.ini:5: [conv1] filters"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nkernel = 3\n" HEAD_SIGMOID, "m.ini: [conv1] missing required key 'filters'"},
        {IN("1,4,4") "[conv1]\ntype = conv2d\nfilters = 2\n" HEAD_SIGMOID, "m.ini: [conv1] missing required key 'kernel'"},
        {IN("1,4,4") "[pad]\ntype = zeropad\npadding = 1,2,3\n" HEAD_SIGMOID,
         "m.ini:5: [pad] padding = '1,2,3': expected p, ph,pw or top,bottom,left,right"},
        {IN("1,4,4") "[pad]\ntype = zeropad\npadding = 1,-1\n" HEAD_SIGMOID, "m.ini:5: [pad] padding = '1,-1': expected"},
        {IN("1,4,4") "[pad]\ntype = zeropad\n" HEAD_SIGMOID, "m.ini: [pad] missing required key 'padding'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dt_ini *m;
        dt_net *net = NULL;
        ck_assert(dt_ini_parse("m.ini", cases[i].text, &m) == DT_OK);
        ck_assert_int_eq(dt_net_build(m, 4, DT_LOSS_AUTO, &net), DT_ERR_CONFIG);
        ck_assert_msg(strstr(dt_errmsg(), cases[i].want), "case %zu: got '%s', want '%s'", i, dt_errmsg(), cases[i].want);
        ck_assert(net == NULL);
        dt_ini_free(m);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = tcase_create("conv");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, gradients, 0, sizeof gc_models / sizeof *gc_models);
    tcase_add_test(tc, forward_matches_loops);
    tcase_add_test(tc, backward_matches_loops);
    tcase_add_loop_test(tc, direct_paths_match, 0, 6);
    tcase_add_test(tc, course_vector);
    tcase_add_test(tc, output_shapes);
    tcase_add_test(tc, input_gradient_accumulates);
    tcase_add_test(tc, config_errors);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
