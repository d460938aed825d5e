/* test_style.c — neural style transfer's costs as loss sections (content,
 * style): values against numpy, the total against the course's vector, and
 * finite-difference checks with captured references, w.r.t. the image and
 * the parameters of the layer they read. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net_check.h"

#ifdef DTRAIN_DOUBLE
#define VAL_TOL 1e-12
#else
#define VAL_TOL 1e-5
#endif

static dt_net *build(const char *text, int64_t n)
{
    dt_ini *m;
    dt_net *net = NULL;
    ck_assert(dt_ini_parse("m.ini", text, &m) == DT_OK);
    ck_assert_msg(dt_net_build(m, n, DT_LOSS_AUTO, &net) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(m);
    ck_assert(dt_net_init(net, 1) == DT_OK);
    return net;
}

static void forward(dt_net *net, const dt_real *x, int64_t n)
{
    int64_t ids[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    dt_pass p = {.n = n, .train = 0, .sample_ids = ids};
    dt_net_forward(net, x, &p);
}

/* a_C, a_S, a_G: numpy's seed(1), randn(3, 4, 4) three times (NCHW rows);
 * numpy gives J_content 0.4486756355957317, J_style 0.005688096857161927
 * (the Gram over (n_C, n_H·n_W); the course's NHWC unrolling gives the same). */
START_TEST(costs_match_numpy)
{
    const char *text = "[input]\nshape = 3,4,4\n[d]\ntype = dropout\nkeep = 1\n"
                       "[c]\ntype = content\ninputs = d\nweight = 10\n[s]\ntype = style\ninputs = d\nweight = 40\n";
    dt_net *net = build(text, 1);
    dt_rng r;
    dt_rng_seed(&r, 1);
    dt_real a[3][48];
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 48; i++) a[k][i] = (dt_real)dt_rng_randn(&r);
    forward(net, a[0], 1);
    ck_assert(dt_net_capture(net, "c") == DT_OK);
    forward(net, a[1], 1);
    ck_assert(dt_net_capture(net, "s") == DT_OK);
    forward(net, a[2], 1);
    double sums[3] = {0};
    dt_net_loss(net, &(dt_targets){0}, 1, 0, sums, NULL);
    ck_assert_double_eq_tol(sums[1], 0.4486756355957317, VAL_TOL);
    ck_assert_double_eq_tol(sums[2], 0.005688096857161927, VAL_TOL);
    ck_assert_double_eq_tol(sums[0], 10 * 0.4486756355957317 + 40 * 0.005688096857161927, 40 * VAL_TOL);
    /* the generated image equal to the content: no content cost */
    forward(net, a[0], 1);
    memset(sums, 0, sizeof sums);
    dt_net_loss(net, &(dt_targets){0}, 1, 0, sums, NULL);
    ck_assert_double_eq_tol(sums[1], 0, 1e-12);
    ck_assert(sums[2] > 0);
    /* nor style cost with the style image itself */
    forward(net, a[1], 1);
    memset(sums, 0, sizeof sums);
    dt_net_loss(net, &(dt_targets){0}, 1, 0, sums, NULL);
    ck_assert_double_eq_tol(sums[2], 0, VAL_TOL * 1e-2);
    ck_assert_int_eq(dt_net_capture(net, "d"), DT_ERR_ARG);
    ck_assert(strstr(dt_errmsg(), "no loss named 'd'"));
    dt_net_free(net);
}
END_TEST

/* The course's total: seed(3), J_content = randn(), J_style = randn(), α 10, β 40. */
START_TEST(total_matches_the_course)
{
    dt_rng r;
    dt_rng_seed(&r, 3);
    double jc = dt_rng_randn(&r), js = dt_rng_randn(&r);
    ck_assert_double_eq_tol(10 * jc + 40 * js, 35.34667875478276, 1e-12);
}
END_TEST

/* Finite differences through a convolution, with references captured from
 * two other images, several style layers and the content loss on one. */
START_TEST(gradients_with_references)
{
    const char *text = "[input]\nshape = 2,5,5\n"
                       "[conv1]\ntype = conv2d\nfilters = 3\nkernel = 3\npadding = 1\nactivation = tanh\n"
                       "[conv2]\ntype = conv2d\nfilters = 4\nkernel = 3\nstride = 2\nactivation = relu\n"
                       "[c]\ntype = content\ninputs = conv2\nweight = 10\n"
                       "[s1]\ntype = style\ninputs = conv1\nweight = 20\n"
                       "[s2]\ntype = style\ninputs = conv2\nweight = 20\n";
    const int64_t n = 2;
    gc_ctx c = {.n = n};
    c.net = build(text, n);
    c.in = dt_shape_size(c.net->in);
    c.x = calloc((size_t)(n * c.in), sizeof *c.x);
    c.dx = calloc((size_t)(n * c.in), sizeof *c.dx);
    c.ids = calloc((size_t)n, sizeof *c.ids);
    dt_rng r;
    dt_rng_seed(&r, 9);
    for (int img = 0; img < 2; img++) { /* content, then style references */
        for (int64_t i = 0; i < c.in; i++) c.x[i] = (dt_real)dt_rng_randn(&r);
        forward(c.net, c.x, 1);
        if (img == 0) ck_assert(dt_net_capture(c.net, "c") == DT_OK);
        else ck_assert(dt_net_capture(c.net, "s1") == DT_OK && dt_net_capture(c.net, "s2") == DT_OK);
    }
    for (int64_t i = 0; i < n * c.in; i++) c.x[i] = (dt_real)dt_rng_randn(&r);
    c.ids[1] = 1;
    gc_loss(&c, 1);
    dt_net *net = c.net;
    dt_real *g = calloc((size_t)net->ntrain + 1, sizeof *g);
    memcpy(g, net->grads, (size_t)net->ntrain * sizeof *g);
    double d2 = 0, a2 = 0, n2 = 0;
    for (int64_t i = 0; i < net->ntrain; i++) gc_probe(&c, &net->params[i], g[i], &d2, &a2, &n2);
    dt_real *gx = calloc((size_t)(n * c.in), sizeof *gx);
    memcpy(gx, c.dx, (size_t)(n * c.in) * sizeof *gx);
    for (int64_t i = 0; i < n * c.in; i++) gc_probe(&c, &c.x[i], gx[i], &d2, &a2, &n2);
    double rel = sqrt(d2) / (sqrt(a2) + sqrt(n2));
    ck_assert(a2 > 0);
    ck_assert_msg(rel < GRAD_TOL, "relative difference %g", rel);
    free(g);
    free(gx);
    free(c.x);
    free(c.dx);
    free(c.ids);
    dt_net_free(net);
}
END_TEST

/* Each cost alone, through the generic check (references zero). */
START_TEST(gradients_each_alone)
{
    GC_ASSERT("[input]\nshape = 3,4,4\n[conv]\ntype = conv2d\nfilters = 2\nkernel = 3\npadding = 1\nactivation = tanh\n"
              "[c]\ntype = content\n",
              3, 2, 0);
    GC_ASSERT("[input]\nshape = 3,4,4\n[conv]\ntype = conv2d\nfilters = 2\nkernel = 3\npadding = 1\nactivation = tanh\n"
              "[s]\ntype = style\n",
              3, 2, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("style");
    TCase *tc = tcase_create("costs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, costs_match_numpy);
    tcase_add_test(tc, total_matches_the_course);
    tcase_add_test(tc, gradients_with_references);
    tcase_add_test(tc, gradients_each_alone);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
