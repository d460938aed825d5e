/* test_pool.c — pooling, flatten, global average pooling and add:
 * finite-difference gradient checks of small networks built from model
 * text, forward values worked by hand (TF `same` padding, ties), the
 * course's pooling-backward vectors, and model errors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "net_check.h"

#define OUT_BCE "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n"
#define OUT_SOFTMAX "[out]\ntype = dense\nunits = 3\nactivation = softmax\n"

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

/* Input shape and pooling keys; each runs as maxpool and as avgpool. */
static const struct {
    const char *shape, *keys;
} pool_cases[] = {
    {"2,5,4", "kernel = 2\n"},                                  /* stride = kernel; row 4 falls off */
    {"2,5,4", "kernel = 2,3\nstride = 1\n"},                    /* overlapping windows */
    {"2,5,3", "kernel = 3\nstride = 2\npadding = same\n"},      /* odd sizes, one cell each side */
    {"2,5,4", "kernel = 2\nstride = 1\npadding = same\n"},      /* all padding below and right */
    {"2,5,4", "kernel = 3,2\nstride = 2,1\npadding = 1,1\n"},   /* explicit */
    {"1,3,5", "kernel = 4\nstride = 1,2\npadding = same\n"},    /* kernel taller than the input */
    {"2,5,11", "kernel = 2\n"},                                 /* maxpool's vector path: 5 columns out */
};
#define NPOOL (int)(sizeof pool_cases / sizeof *pool_cases)

START_TEST(pool_gradients)
{
    int c = _i % NPOOL, avg = _i / NPOOL, softmax = c % 2;
    char text[512];
    snprintf(text, sizeof text, "[input]\nshape = %s\n[pool]\ntype = %s\n%s%s", pool_cases[c].shape,
             avg ? "avgpool" : "maxpool", pool_cases[c].keys, softmax ? OUT_SOFTMAX : OUT_BCE);
    GC_ASSERT(text, 3, softmax ? 3 : 2, 0);
}
END_TEST

START_TEST(flatten_gap_gradients)
{
    GC_ASSERT("[input]\nshape = 2,3,2\n[p]\ntype = avgpool\nkernel = 2,1\nstride = 1\n[f]\ntype = flatten\n" OUT_SOFTMAX, 3, 3, 0);
    GC_ASSERT("[input]\nshape = 2,5,4\n[p]\ntype = maxpool\nkernel = 2\nstride = 1\n[f]\ntype = flatten\n" OUT_BCE, 3, 2, 0);
    GC_ASSERT("[input]\nshape = 3,4,5\n[g]\ntype = global_avgpool\n" OUT_SOFTMAX, 3, 3, 0);
    /* two consumers of the input: gap writes its gradient, the pooling adds */
    GC_ASSERT("[input]\nshape = 2,3,3\n[g]\ntype = global_avgpool\n[p]\ntype = maxpool\nkernel = 3\ninputs = input\n"
              "[s]\ntype = add\ninputs = g, p\n" OUT_BCE, 3, 2, 0);
}
END_TEST

START_TEST(add_gradients)
{
    /* residual: d2 reads d1, the sum reads both */
    GC_ASSERT("[input]\nshape = 3\n[d1]\ntype = dense\nunits = 4\nactivation = tanh\n"
              "[d2]\ntype = dense\nunits = 4\nactivation = tanh\n"
              "[sum]\ntype = add\ninputs = d1, d2\nactivation = relu\n" OUT_BCE, 3, 2, 0);
    /* a layer added to itself: one gradient buffer written then added */
    GC_ASSERT("[input]\nshape = 3\n[d1]\ntype = dense\nunits = 4\nactivation = tanh\n"
              "[sum]\ntype = add\ninputs = d1, d1\nactivation = tanh\n" OUT_SOFTMAX, 3, 3, 0);
    /* skip connection from the network input, image-shaped */
    GC_ASSERT("[input]\nshape = 2,4,3\n[p]\ntype = avgpool\nkernel = 3\nstride = 1\npadding = same\n"
              "[sum]\ntype = add\ninputs = input, p\nactivation = leaky_relu\nalpha = 0.1\n" OUT_BCE, 3, 2, 0);
    /* input added to itself */
    GC_ASSERT("[input]\nshape = 4\n[sum]\ntype = add\ninputs = input, input\n" OUT_SOFTMAX, 3, 3, 0);
    /* add as the output layer: its activation is fused with the loss */
    GC_ASSERT("[input]\nshape = 3\n[d1]\ntype = dense\nunits = 1\n[d2]\ntype = dense\nunits = 1\ninputs = input\n"
              "[sum]\ntype = add\ninputs = d1, d2\nactivation = sigmoid\n", 3, 2, 0);
    GC_ASSERT("[input]\nshape = 3\n[d1]\ntype = dense\nunits = 3\nactivation = tanh\n[d2]\ntype = dense\nunits = 3\n"
              "[sum]\ntype = add\ninputs = d2, d1\nactivation = softmax\n", 3, 3, 0);
}
END_TEST

/* Layer 0's output for x = 1..9 as one 3x3 image. */
static void pool3x3(const char *type, const char *keys, int oh, int ow, const double *want)
{
    char text[512];
    snprintf(text, sizeof text, "[input]\nshape = 1,3,3\n[p]\ntype = %s\n%s" OUT_BCE, type, keys);
    dt_net *net = build(text, 1);
    dt_real x[9];
    for (int i = 0; i < 9; i++) x[i] = (dt_real)(i + 1);
    dt_pass p = {.n = 1};
    dt_net_forward(net, x, &p);
    dt_layer *l = &net->layers[0];
    ck_assert_int_eq(l->out.c, 1);
    ck_assert_int_eq(l->out.h, oh);
    ck_assert_int_eq(l->out.w, ow);
    for (int i = 0; i < oh * ow; i++)
        ck_assert_msg(fabs(l->y[i] - want[i]) < 1e-6, "%s %s: y[%d] = %g, want %g", type, keys, i, (double)l->y[i], want[i]);
    dt_net_free(net);
}

START_TEST(pool_forward_same_padding)
{
    /* 1 2 3 / 4 5 6 / 7 8 9. kernel 2, stride 2, same: out 2x2, the one
     * padding row and column go below and right; averages count real cells */
    pool3x3("maxpool", "kernel = 2\npadding = same\n", 2, 2, (double[]){5, 6, 8, 9});
    pool3x3("avgpool", "kernel = 2\npadding = same\n", 2, 2, (double[]){3, 4.5, 7.5, 9});
    /* kernel 3, stride 1, same: one cell each side */
    pool3x3("maxpool", "kernel = 3\nstride = 1\npadding = same\n", 3, 3, (double[]){5, 6, 6, 8, 9, 9, 8, 9, 9});
    pool3x3("avgpool", "kernel = 3\nstride = 1\npadding = same\n", 3, 3,
            (double[]){3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7});
    /* valid, and explicit padding 1 with kernel 2 stride 2: windows {-1,0}, {1,2} */
    pool3x3("avgpool", "kernel = 2\nstride = 1\n", 2, 2, (double[]){3, 4, 6, 7});
    pool3x3("maxpool", "kernel = 2\npadding = 1\n", 2, 2, (double[]){1, 3, 7, 9});
    pool3x3("avgpool", "kernel = 2\npadding = 1\n", 2, 2, (double[]){1, 2.5, 5.5, 7});
}
END_TEST

START_TEST(maxpool_ties_go_to_first)
{
    /* constant 2x3 image, kernel 2, stride 1: windows cols {0,1} and {1,2};
     * each sends its gradient to its first cell in row-major order */
    dt_net *net = build("[input]\nshape = 1,2,3\n[p]\ntype = maxpool\nkernel = 2\nstride = 1\n" OUT_BCE, 1);
    dt_real x[6] = {0}, dx[6];
    dt_pass p = {.n = 1};
    dt_net_forward(net, x, &p);
    dt_layer *l = &net->layers[0];
    l->dy[0] = 3;
    l->dy[1] = 5;
    l->dx[0] = dx;
    l->dx_accum[0] = 0;
    for (int i = 0; i < 6; i++) dx[i] = 100; /* must be overwritten */
    l->ops->backward(l, &p);
    dt_real want[6] = {3, 5, 0, 0, 0, 0};
    for (int i = 0; i < 6; i++) ck_assert_msg(dx[i] == want[i], "dx[%d] = %g", i, (double)dx[i]);
    l->dx[0] = NULL; /* nobody wants it: nothing to do */
    l->ops->backward(l, &p);
    dt_net_free(net);
}
END_TEST

/* 2x2 `same` on an odd width: no padding above or left, but the last
 * window of a row is half padding, so not the vector path's (which would
 * read the next row): 1..27 as one 3x9 image. */
START_TEST(maxpool_2x2_same_odd)
{
    dt_net *net = build("[input]\nshape = 1,3,9\n[p]\ntype = maxpool\nkernel = 2\npadding = same\n" OUT_BCE, 1);
    dt_real x[27];
    for (int i = 0; i < 27; i++) x[i] = (dt_real)(i + 1);
    dt_pass p = {.n = 1};
    dt_net_forward(net, x, &p);
    dt_layer *l = &net->layers[0];
    ck_assert(l->out.h == 2 && l->out.w == 5);
    const double want[10] = {11, 13, 15, 17, 18, 20, 22, 24, 26, 27};
    for (int i = 0; i < 10; i++) ck_assert_msg(l->y[i] == want[i], "y[%d] = %g, want %g", i, (double)l->y[i], want[i]);
    dt_net_free(net);
}
END_TEST

/* The 2x2 stride-2 max pool's vector path (8 or 4 outputs at a time, the
 * last of a row overlapping in forward when the width is not a multiple of
 * the vector's, a scalar tail in backward) against
 * a plain row-major search, on inputs drawn from a few values (NaN among
 * them) so that most windows hold ties: outputs and where backward sends
 * each gradient. */
START_TEST(maxpool_2x2_vector_path)
{
    static const int shapes[][3] = {{2, 8, 8},  {3, 14, 14}, {2, 9, 15}, {1, 4, 10}, {2, 6, 9},
                                    {1, 4, 18}, {2, 7, 19},  {1, 4, 32}, {2, 5, 34}, {1, 3, 41}};
    static const dt_real values[] = {-1, 0, 0.5, 1, 2, NAN}; /* NaN loses every comparison, as in the search */
    enum { N = 3 };
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
        int C = shapes[t][0], H = shapes[t][1], W = shapes[t][2], OH = H / 2, OW = W / 2;
        char text[256];
        snprintf(text, sizeof text, "[input]\nshape = %d,%d,%d\n[p]\ntype = maxpool\nkernel = 2\n" OUT_BCE, C, H, W);
        dt_net *net = build(text, N);
        dt_layer *l = &net->layers[0];
        ck_assert(l->out.h == OH && l->out.w == OW);
        int64_t nx = (int64_t)N * C * H * W;
        dt_real *x = dt_alloc((size_t)nx * sizeof *x), *dx = dt_alloc((size_t)nx * sizeof *dx);
        double *want_dx = dt_alloc((size_t)nx * sizeof *want_dx);
        dt_rng r;
        dt_rng_seed(&r, (uint64_t)t + 7);
        for (int64_t i = 0; i < nx; i++) x[i] = values[(int)(dt_rng_double(&r) * 6) % 6];
        dt_pass p = {.n = N};
        dt_net_forward(net, x, &p);
        for (int64_t i = 0; i < nx; i++) want_dx[i] = 0;
        for (int64_t pl = 0; pl < (int64_t)N * C; pl++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    int64_t o = (pl * OH + oh) * OW + ow, best = -1;
                    for (int i = 0; i < 2; i++)
                        for (int j = 0; j < 2; j++) {
                            int64_t at = (pl * H + 2 * oh + i) * W + 2 * ow + j;
                            if (best < 0 || x[at] > x[best]) best = at;
                        }
                    ck_assert_msg(l->y[o] == x[best] || (isnan(l->y[o]) && isnan(x[best])),
                                  "%dx%dx%d: y[%lld] = %g, want %g", C, H, W, (long long)o,
                                  (double)l->y[o], (double)x[best]);
                    l->dy[o] = (dt_real)(o + 1);
                    want_dx[best] += (double)(o + 1);
                }
        /* written over stale values (every cell, those in no window too), then added onto */
        l->dx[0] = dx;
        for (int acc = 0; acc <= 1; acc++) {
            for (int64_t i = 0; i < nx; i++) dx[i] = acc ? 1 : 100;
            l->dx_accum[0] = acc;
            l->ops->backward(l, &p);
            for (int64_t i = 0; i < nx; i++)
                ck_assert_msg(dx[i] == want_dx[i] + acc, "%dx%dx%d, accumulate %d: dx[%lld] = %g, want %g", C, H, W, acc,
                              (long long)i, (double)dx[i], want_dx[i] + acc);
        }
        dt_free(x);
        dt_free(dx);
        dt_free(want_dx);
        l->dx[0] = NULL;
        dt_net_free(net);
    }
}
END_TEST

/* A forward that no backward follows (inference: no arg-maxes kept) gives
 * the same maxima, NaN and ties included, at strides 1, 2 and 3 with and
 * without padding. */
START_TEST(maxpool_inference_path)
{
    static const char *keys[] = {"kernel = 3\nstride = 2\n", "kernel = 3\nstride = 1\npadding = same\n",
                                 "kernel = 2,3\nstride = 3\npadding = 1\n", "kernel = 3\nstride = 2\npadding = same\n"};
    static const dt_real values[] = {-1, 0, 0.5, 1, 2, NAN};
    enum { N = 2, C = 3, H = 11, W = 13 };
    for (size_t t = 0; t < sizeof keys / sizeof *keys; t++) {
        char text[256];
        snprintf(text, sizeof text, "[input]\nshape = %d,%d,%d\n[p]\ntype = maxpool\n%s" OUT_BCE, C, H, W, keys[t]);
        dt_net *net = build(text, N);
        dt_layer *l = &net->layers[0];
        int64_t nx = (int64_t)N * C * H * W, ny = N * dt_shape_size(l->out);
        dt_real x[N * C * H * W], want[N * C * H * W];
        dt_rng r;
        dt_rng_seed(&r, (uint64_t)t + 3);
        for (int64_t i = 0; i < nx; i++) x[i] = values[(int)(dt_rng_double(&r) * 6) % 6];
        dt_pass p = {.n = N};
        dt_net_forward(net, x, &p);
        memcpy(want, l->y, (size_t)ny * sizeof *want);
        p.no_backward = 1;
        for (int64_t i = 0; i < ny; i++) l->y[i] = 42;
        dt_net_forward(net, x, &p);
        for (int64_t i = 0; i < ny; i++)
            ck_assert_msg(l->y[i] == want[i] || (isnan(l->y[i]) && isnan(want[i])), "%s: y[%lld] = %g, want %g", keys[t],
                          (long long)i, (double)l->y[i], (double)want[i]);
        dt_net_free(net);
    }
}
END_TEST

START_TEST(flatten_gap_add_forward)
{
    dt_net *net = build("[input]\nshape = 2,2,3\n[f]\ntype = flatten\n[g]\ntype = global_avgpool\ninputs = input\n"
                        "[s]\ntype = add\ninputs = g, g\nactivation = relu\n[t]\ntype = add\ninputs = f, f\n"
                        "[h]\ntype = dense\nunits = 2\ninputs = t\n"
                        "[o]\ntype = add\ninputs = s, h\nactivation = sigmoid\n[d]\ntype = dense\nunits = 1\nactivation = sigmoid\n", 2);
    dt_real x[24];
    for (int i = 0; i < 24; i++) x[i] = (dt_real)(i - 8);
    dt_pass p = {.n = 2};
    dt_net_forward(net, x, &p);
    const dt_layer *f = &net->layers[0], *g = &net->layers[1], *s = &net->layers[2];
    ck_assert(f->out.c == 12 && f->out.h == 1 && f->out.w == 1);
    ck_assert(g->out.c == 2 && g->out.h == 1 && g->out.w == 1);
    for (int i = 0; i < 24; i++) ck_assert(f->y[i] == x[i]);
    /* channel means: rows of 6 consecutive values starting at -8, -2, 4, 10 */
    double means[4] = {-5.5, 0.5, 6.5, 12.5};
    for (int i = 0; i < 4; i++) {
        ck_assert_double_eq_tol(g->y[i], means[i], 1e-6);
        ck_assert_double_eq_tol(s->y[i], means[i] > 0 ? 2 * means[i] : 0, 1e-5);
    }
    /* a relu add keeps no z (backward reads y's sign); a sigmoid add keeps it for its loss */
    const dt_layer *o = &net->layers[5];
    ck_assert(s->z == NULL && o->z != NULL);
    for (int i = 0; i < 4; i++) ck_assert_double_eq_tol(o->y[i], 1 / (1 + exp(-(double)o->z[i])), 1e-6);
    dt_net_free(net);
}
END_TEST

/* The course's pool_backward check: seed(1); A = randn(5,5,3,2) (m, nH,
 * nW, nC); f = 2, stride 1; dA = randn(5,4,2,2); want dA_prev[1,1] (example
 * 1, row 1, every column and channel). NHWC there, NCHW here. */
static void course_pool_backward(const char *type, const double want[3][2])
{
    enum { M = 5, H = 5, W = 3, C = 2, OH = 4, OW = 2 };
    char text[256];
    snprintf(text, sizeof text, "[input]\nshape = 2,5,3\n[pool]\ntype = %s\nkernel = 2\nstride = 1\n" OUT_BCE, type);
    dt_net *net = build(text, M);
    dt_layer *l = &net->layers[0];
    ck_assert(l->out.c == C && l->out.h == OH && l->out.w == OW);
    static dt_real x[M * C * H * W], dx[M * C * H * W];
    dt_rng r;
    dt_rng_seed(&r, 1);
    for (int n = 0; n < M; n++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++)
                for (int c = 0; c < C; c++) x[((n * C + c) * H + h) * W + w] = (dt_real)dt_rng_randn(&r);
    dt_pass p = {.n = M};
    dt_net_forward(net, x, &p);
    for (int n = 0; n < M; n++)
        for (int h = 0; h < OH; h++)
            for (int w = 0; w < OW; w++)
                for (int c = 0; c < C; c++) l->dy[((n * C + c) * OH + h) * OW + w] = (dt_real)dt_rng_randn(&r);
    l->dx[0] = dx;
    for (int pass = 1; pass <= 2; pass++) { /* the second pass adds onto the first */
        l->dx_accum[0] = pass == 2;
        l->ops->backward(l, &p);
        for (int w = 0; w < W; w++)
            for (int c = 0; c < C; c++) {
                double got = dx[((1 * C + c) * H + 1) * W + w];
                ck_assert_msg(fabs(got - pass * want[w][c]) < 5 * TOL, "%s pass %d: dA_prev[1,1,%d,%d] = %.9f, want %.9f",
                              type, pass, w, c, got, pass * want[w][c]);
            }
    }
    dt_net_free(net);
}

START_TEST(course_pool_backward_vectors)
{
    static const double max_want[3][2] = {{0, 0}, {5.05844394, -1.68282702}, {0, 0}};
    static const double avg_want[3][2] = {{0.08485462, 0.2787552}, {1.26461098, -0.25749373}, {1.17975636, -0.53624893}};
    course_pool_backward("maxpool", max_want);
    course_pool_backward("avgpool", avg_want);
}
END_TEST

/* layers p (2x2x2) and q (2x1x1) from a 2x4x4 input, then an add at line 12 */
#define TWO_POOLS "[input]\nshape = 2,4,4\n[p]\ntype = maxpool\nkernel = 2\n[q]\ntype = maxpool\nkernel = 4\ninputs = input\n"

START_TEST(model_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[input]\nshape = 2,3,3\n[p]\ntype = maxpool\nkernel = 4\n" OUT_BCE,
         "m.ini:5: [p] kernel 4x4 is larger than the padded input 3x3"},
        {"[input]\nshape = 2,3,3\n[p]\ntype = avgpool\nkernel = 3,6\npadding = 1\n" OUT_BCE,
         "m.ini:5: [p] kernel 3x6 is larger than the padded input 5x5"},
        {"[input]\nshape = 2,3,3\n[p]\ntype = avgpool\n" OUT_BCE, "m.ini: [p] missing required key 'kernel'"},
        {"[input]\nshape = 2,3,3\n[p]\ntype = avgpool\nkernel = 0\n" OUT_BCE, "m.ini:5: [p] kernel: expected one or two integers >= 1"},
        {"[input]\nshape = 2,3,3\n[p]\ntype = maxpool\nkernel = 2\nstride = 1,0\n" OUT_BCE, "m.ini:6: [p] stride: expected"},
        {"[input]\nshape = 2,3,3\n[p]\ntype = maxpool\nkernel = 2\npadding = full\n" OUT_BCE,
         "m.ini:6: [p] padding = 'full': expected valid, same, N or \"ph,pw\""},
        {"[input]\nshape = 2,3,3\n[p]\ntype = maxpool\nkernel = 2\npadding = 1,2\n" OUT_BCE,
         "m.ini:6: [p] padding = '1,2': must be smaller than the kernel (2x2)"},
        {TWO_POOLS "[add1]\ntype = add\ninputs = p, q\n" OUT_BCE, "m.ini:12: [add1] inputs = 'p, q': shapes 2x2x2 and 2x1x1 differ"},
        {TWO_POOLS "[add1]\ntype = add\ninputs = p, nosuch\n" OUT_BCE, "m.ini:12: [add1] inputs: 'nosuch' is not an earlier layer"},
        {TWO_POOLS "[add1]\ntype = add\ninputs = p, out\n" OUT_BCE, "m.ini:12: [add1] inputs: 'out' is not an earlier layer"},
        {TWO_POOLS "[add1]\ntype = add\ninputs = add1, p\n" OUT_BCE, "m.ini:12: [add1] inputs: 'add1' is not an earlier layer"},
        {TWO_POOLS "[add1]\ntype = add\ninputs = p\n" OUT_BCE, "m.ini:12: [add1] inputs = 'p': expected 2 layer names"},
        {TWO_POOLS "[add1]\ntype = add\n" OUT_BCE, "m.ini: [add1] missing required key 'inputs'"},
        {TWO_POOLS "[add1]\ntype = add\ninputs = p, p\nactivation = gelu\n" OUT_BCE, "m.ini:13: [add1] activation = 'gelu'"},
        {"[input]\nshape = 2,3,3\n[f]\ntype = flatten\nkernel = 2\n" OUT_BCE, "m.ini:5: [f] unknown key 'kernel'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dt_ini *m;
        dt_net *net = NULL;
        ck_assert(dt_ini_parse("m.ini", cases[i].text, &m) == DT_OK);
        ck_assert_msg(dt_net_build(m, 4, DT_LOSS_AUTO, &net) != DT_OK, "case %zu built", i);
        ck_assert_msg(strstr(dt_errmsg(), cases[i].want), "case %zu: got '%s', want '%s'", i, dt_errmsg(), cases[i].want);
        ck_assert(net == NULL);
        dt_ini_free(m);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, pool_gradients, 0, 2 * NPOOL);
    tcase_add_test(tc, flatten_gap_gradients);
    tcase_add_test(tc, add_gradients);
    tcase_add_test(tc, pool_forward_same_padding);
    tcase_add_test(tc, maxpool_ties_go_to_first);
    tcase_add_test(tc, maxpool_2x2_same_odd);
    tcase_add_test(tc, maxpool_2x2_vector_path);
    tcase_add_test(tc, maxpool_inference_path);
    tcase_add_test(tc, flatten_gap_add_forward);
    tcase_add_test(tc, course_pool_backward_vectors);
    tcase_add_test(tc, model_errors);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
