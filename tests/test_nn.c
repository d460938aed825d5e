/* test_nn.c — finite-difference gradient checks of every layer and loss,
 * and the network's bookkeeping (flat buffers, PyTorch layouts, init).
 * Exact in the double build (relative difference < 1e-7); in the float
 * build finite differences are coarse and the bound is 2e-2. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <malloc.h>

#include "net_check.h"
#include "optim/optim.h"

static void check_net(const char *text, int in, int classes, double l2)
{
    (void)in;
    GC_ASSERT(text, 5, classes, l2);
}

START_TEST(dense_activations_bce)
{
    static const char *acts[] = {"linear", "sigmoid", "tanh", "relu", "leaky_relu"};
    char text[512];
    snprintf(text, sizeof text,
             "[input]\nshape = 4\n[h]\ntype = dense\nunits = 6\nactivation = %s\ninit = normal\ninit_scale = 0.5\n"
             "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\ninit = xavier\n",
             acts[_i]);
    check_net(text, 4, 2, 0);
}
END_TEST

START_TEST(softmax_cross_entropy)
{
    check_net("[input]\nshape = 3\n[h]\ntype = dense\nunits = 5\nactivation = tanh\ninit = he\n"
              "[out]\ntype = dense\nunits = 4\nactivation = softmax\ninit = scaled\n",
              3, 4, 0);
}
END_TEST

START_TEST(dropout_and_l2)
{
    check_net("[input]\nshape = 4\n[h]\ntype = dense\nunits = 8\nactivation = tanh\ninit = normal\ninit_scale = 0.7\n"
              "[drop]\ntype = dropout\nkeep = 0.7\n"
              "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n",
              4, 2, 0.7);
}
END_TEST

START_TEST(activation_layer_and_no_bias)
{
    check_net("[input]\nshape = 3\n[h]\ntype = dense\nunits = 4\nbias = 0\ninit = normal\ninit_scale = 0.8\n"
              "[act]\ntype = activation\nactivation = tanh\n"
              "[z]\ntype = dense\nunits = 3\n[out]\ntype = activation\nactivation = softmax\n",
              3, 3, 0);
}
END_TEST

START_TEST(layout_and_course_init)
{
    /* cat_deep's first layer: W = randn(20, 12288) / sqrt(12288) after seed(1), [out, in] */
    dt_ini *m;
    dt_net *net;
    ck_assert(dt_ini_parse("t.ini", "[input]\nshape = 12288\n[fc1]\ntype = dense\nunits = 20\nactivation = relu\ninit = scaled\n"
                           "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n", &m) == DT_OK);
    ck_assert(dt_net_build(m, 4, DT_LOSS_AUTO, &net) == DT_OK);
    ck_assert(dt_net_init(net, 1) == DT_OK);
    dt_param *W = &net->layers[0].params[0];
    ck_assert_int_eq(W->dims[0], 20);
    ck_assert_int_eq(W->dims[1], 12288);
    ck_assert_double_eq_tol(W->w[0], 1.62434536 / sqrt(12288.0), 1e-7);
    ck_assert_double_eq_tol(W->w[1], -0.61175641 / sqrt(12288.0), 1e-7);
    ck_assert_int_eq(net->ncount, 20 * 12288 + 20 + 20 + 1);
    ck_assert_int_eq((uintptr_t)W->w % 64, 0);
    ck_assert_int_eq((uintptr_t)net->layers[1].params[0].w % 64, 0);
    ck_assert_int_eq(net->nlosses, 1);
    ck_assert_str_eq(net->losses[0].ops->type, "bce");
    ck_assert_int_eq(net->losses[0].fused, 1);
    dt_net_free(net);
    dt_ini_free(m);
}
END_TEST

START_TEST(model_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[input]\nshape = 4\n[h]\ntype = conv9\n", "m.ini:4: [h] type = 'conv9': unknown layer type"},
        {"[input]\nshape = 4\n[h]\ntype = dense\n", "m.ini: [h] missing required key 'units'"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\ncolour = red\nactivation = sigmoid\n", "m.ini:6: [h] unknown key 'colour'"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\nactivation = sigmoid\n",
         "binary cross-entropy needs one output unit"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 1\nactivation = swish\n", "m.ini:6: [h] activation = 'swish': expected one of"},
        {"[h]\ntype = dense\nunits = 1\n", "m.ini: missing [input] section"},
        {"[input]\nshape = 4\n[h]\nunits = 1\n", "m.ini:3: [h] missing required key 'type'"},
        {"[input]\nshape = 4\n[h]\ntype = dropout\nkeep = 1.5\n", "m.ini:5: [h] keep = 1.5: expected a number in"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dt_ini *m;
        dt_net *net = NULL;
        ck_assert(dt_ini_parse("m.ini", cases[i].text, &m) == DT_OK);
        ck_assert_int_ne(dt_net_build(m, 4, DT_LOSS_AUTO, &net), DT_OK);
        ck_assert_msg(strstr(dt_errmsg(), cases[i].want), "case %zu: got '%s', want '%s'", i, dt_errmsg(), cases[i].want);
        ck_assert(net == NULL);
        dt_ini_free(m);
    }
}
END_TEST

/* Count every heap allocation (not under ASan, which owns malloc). */
static long n_allocs;
#if !defined(__SANITIZE_ADDRESS__)
extern void *__libc_malloc(size_t), *__libc_calloc(size_t, size_t), *__libc_realloc(void *, size_t),
    *__libc_memalign(size_t, size_t);
void *malloc(size_t n) { n_allocs++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { n_allocs++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { n_allocs++; return __libc_realloc(p, n); }
void *aligned_alloc(size_t a, size_t n) { n_allocs++; return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { n_allocs++; return __libc_memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n)
{
    n_allocs++;
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}
#endif

/* The training step allocates nothing: after a first step (lazy library
 * set-up), forward, loss, backward and the optimizer make no heap call. */
START_TEST(step_allocates_nothing)
{
    const char *text = "[input]\nshape = 3,12,12\n[c1]\ntype = conv2d\nfilters = 8\nkernel = 3\npadding = same\n"
                       "[bn]\ntype = batchnorm\n[r]\ntype = activation\nactivation = relu\n[p]\ntype = maxpool\nkernel = 2\n"
                       "[c2]\ntype = conv2d\nfilters = 8\nkernel = 1\n[sum]\ntype = add\ninputs = p, c2\nactivation = relu\n"
                       "[g]\ntype = global_avgpool\n[d]\ntype = dropout\nkeep = 0.8\n[out]\ntype = dense\nunits = 4\nactivation = softmax\n";
    enum { B = 16 };
    dt_ini *m;
    dt_net *net;
    ck_assert(dt_ini_parse("a.ini", text, &m) == DT_OK);
    ck_assert_msg(dt_net_build(m, B, DT_LOSS_AUTO, &net) == DT_OK, "%s", dt_errmsg());
    ck_assert(dt_net_init(net, 1) == DT_OK);
    dt_real *x = calloc(B * 3 * 144, sizeof *x), *v = calloc((size_t)net->nparams, sizeof *v),
            *sq = calloc((size_t)net->nparams, sizeof *sq);
    int32_t y[B];
    int64_t ids[B];
    for (int i = 0; i < B * 3 * 144; i++) x[i] = (dt_real)((i * 7919) % 13 - 6) / 6;
    for (int i = 0; i < B; i++) y[i] = i % 4, ids[i] = i;
    dt_optim o = {.kind = DT_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    dt_real *state[2] = {v, sq};
    size_t before = 0;
    for (int step = 0; step < 4; step++) {
        if (step == 1) {
            before = mallinfo2().uordblks;
            n_allocs = 0;
        }
        dt_pass p = {.n = B, .train = 1, .seed = 1, .step = (uint64_t)step, .sample_ids = ids};
        double loss[2] = {0};
        int64_t ok = 0;
        dt_net_zero_grads(net);
        dt_net_forward(net, x, &p);
        dt_net_loss(net, &(dt_targets){.labels = y}, B, (dt_real)(1.0 / B), loss, &ok);
        dt_net_backward(net, x, NULL, &p);
        dt_optim_step(&o, o.lr, step + 1, net->params, net->grads, state, net->nparams);
    }
    long allocs = n_allocs;
    size_t after = mallinfo2().uordblks;
    void *probe = malloc(8); /* the counter itself works (Check's asserts allocate, so count first) */
    long probed = n_allocs - allocs;
    free(probe);
    (void)probed; /* unused under ASan */
    ck_assert_uint_eq(after, before);
    ck_assert_int_eq(allocs, 0);
#if !defined(__SANITIZE_ADDRESS__)
    ck_assert_int_eq(probed, 1);
#endif
    free(x);
    free(v);
    free(sq);
    dt_net_free(net);
    dt_ini_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, dense_activations_bce, 0, 5);
    tcase_add_test(tc, softmax_cross_entropy);
    tcase_add_test(tc, dropout_and_l2);
    tcase_add_test(tc, activation_layer_and_no_bias);
    tcase_add_test(tc, layout_and_course_init);
    tcase_add_test(tc, model_errors);
    tcase_add_test(tc, step_allocates_nothing);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
