/* test_embed.c — embeddings: the course's triplet loss (nn/triplet.h) with
 * its unit vectors and by finite differences, and the l2norm layer by hand
 * (its finite-difference cases are in test_faces_layers.c). */
#include <math.h>
#include <string.h>

#include "check_util.h"
#include "core/rng.h"
#include "nn/net.h"
#include "nn/triplet.h"

/* ../shared/REFERENCE.md: a=p=n=[1,1], α=5 → 5; a=p=[1,1], n=[0,0], α=3 → 1;
 * a=[1,1], p=[0,0], n=[1,1], α=0 → 2. */
START_TEST(course_vectors)
{
    const dt_real one[] = {1, 1}, zero[] = {0, 0};
    ck_assert_double_eq_tol(dt_triplet(one, one, one, 1, 2, 5, 1, NULL, NULL, NULL, NULL), 5, 1e-12);
    ck_assert_double_eq_tol(dt_triplet(one, one, zero, 1, 2, 3, 1, NULL, NULL, NULL, NULL), 1, 1e-12);
    ck_assert_double_eq_tol(dt_triplet(one, zero, one, 1, 2, 0, 1, NULL, NULL, NULL, NULL), 2, 1e-12);
    /* the three together: a sum, and all three inside the margin */
    const dt_real a[] = {1, 1, 1, 1, 1, 1}, p[] = {1, 1, 1, 1, 0, 0}, n[] = {1, 1, 0, 0, 1, 1};
    int64_t on;
    ck_assert_double_eq_tol(dt_triplet(a, p, n, 3, 2, 0, 1, NULL, NULL, NULL, &on), 0 + 0 + 2, 1e-12);
    ck_assert_int_eq(on, 1); /* at α = 0 the first is exactly on the margin (0), the second outside (−2) */
}
END_TEST

/* Central differences of J against the gradients, away from the kinks. */
START_TEST(finite_differences)
{
    enum { M = 5, D = 4 };
    dt_real a[M * D], p[M * D], n[M * D], ga[M * D] = {0}, gp[M * D] = {0}, gn[M * D] = {0};
    dt_rng r;
    dt_rng_seed(&r, 11);
    for (int i = 0; i < M * D; i++)
        a[i] = (dt_real)dt_rng_randn(&r), p[i] = (dt_real)dt_rng_randn(&r), n[i] = (dt_real)dt_rng_randn(&r);
    const double alpha = 2.0;
    int64_t on;
    dt_triplet(a, p, n, M, D, alpha, 1, ga, gp, gn, &on);
    ck_assert_int_gt(on, 0);
    ck_assert_int_lt(on, M); /* both sides of the hinge are exercised */
    dt_real *v[3] = {a, p, n}, *g[3] = {ga, gp, gn};
#ifdef DTRAIN_DOUBLE
    const double h = 1e-6, tol = 1e-7;
#else
    const double h = 1e-2, tol = 2e-2;
#endif
    for (int w = 0; w < 3; w++)
        for (int i = 0; i < M * D; i++) {
            dt_real keep = v[w][i];
            v[w][i] = (dt_real)(keep + h);
            double up = dt_triplet(a, p, n, M, D, alpha, 1, NULL, NULL, NULL, NULL);
            v[w][i] = (dt_real)(keep - h);
            double down = dt_triplet(a, p, n, M, D, alpha, 1, NULL, NULL, NULL, NULL);
            v[w][i] = keep;
            double num = (up - down) / (2 * h);
            ck_assert_msg(fabs(num - g[w][i]) <= tol * (1 + fabs(num)), "input %d[%d]: %g vs %g", w, i, num, (double)g[w][i]);
        }
}
END_TEST

/* l2norm: [3, 4] → [0.6, 0.8]; a zero row stays zero (the eps divisor). */
START_TEST(l2norm_by_hand)
{
    dt_ini *m;
    dt_net *net;
    ck_assert_int_eq(dt_ini_parse("t", "[input]\nshape = 2\n[n]\ntype = l2norm\n", &m), DT_OK);
    ck_assert_int_eq(dt_net_build(m, 2, DT_LOSS_AUTO, &net), DT_OK);
    const dt_real x[] = {3, 4, 0, 0};
    dt_pass ps = {.n = 2};
    const dt_real *y = dt_net_forward(net, x, &ps);
    ck_assert_double_eq_tol(y[0], 0.6, 1e-6);
    ck_assert_double_eq_tol(y[1], 0.8, 1e-6);
    ck_assert_double_eq_tol(y[2], 0, 1e-12);
    ck_assert_double_eq_tol(y[3], 0, 1e-12);
    dt_net_free(net);
    dt_ini_free(m);
    ck_assert_int_eq(dt_ini_parse("t", "[input]\nshape = 2\n[n]\ntype = l2norm\neps = 0\n", &m), DT_OK);
    ck_assert_int_eq(dt_net_build(m, 2, DT_LOSS_AUTO, &net), DT_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(dt_errmsg(), "eps"));
    dt_ini_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("embed");
    TCase *t = tcase_create("embed");
    tcase_add_test(t, course_vectors);
    tcase_add_test(t, finite_differences);
    tcase_add_test(t, l2norm_by_hand);
    suite_add_tcase(s, t);
    return dt_run_suite(s);
}
