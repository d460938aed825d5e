/* test_embed.c — embeddings: the course's triplet loss (nn/triplet.h) with
 * its unit vectors and by finite differences, and the l2norm layer by hand
 * (its finite-difference cases are in test_faces_layers.c). */
#include <math.h>
#include <string.h>

#include "check_util.h"
#include "core/rng.h"
#include "nn/net.h"
#include "net_check.h"
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

/* Mining by hand, 1-d embeddings: rows (value, label). */
START_TEST(mining_by_hand)
{
    const double rows[] = {0.0, 0, 0.1, 0, 0.5, 0, 0.3, 1, 2.0, 1};
    double trip[4 * 20], loss[5], dist[5];
    /* anchor 0, batch-hard: farthest positive row 2 (0.25), nearest negative row 3 (0.09): 0.25 - 0.09 + 0.2 */
    ck_assert_int_eq(dt_triplet_mine(rows, 2, 5, 1, 0, 1, 0.2, DT_MINE_BATCH_HARD, trip, 20, loss, dist), 1);
    ck_assert(trip[0] == 0 && trip[1] == 2 && trip[2] == 3 && trip[3] == 1);
    ck_assert_double_eq_tol(loss[0], 0.36, 1e-12);
    /* semi-hard: positive 1 (0.01) takes the nearest negative farther than it, row 3 (0.09): 0.12;
     * positive 2 (0.25) takes row 4 (4.0), outside the margin; each weighs 1/2 */
    ck_assert_int_eq(dt_triplet_mine(rows, 2, 5, 1, 0, 1, 0.2, DT_MINE_SEMI_HARD, trip, 20, loss, dist), 1);
    ck_assert(trip[0] == 0 && trip[1] == 1 && trip[2] == 3 && trip[3] == 0.5);
    ck_assert_double_eq_tol(loss[0], 0.06, 1e-12);
    /* anchor 4: batch-hard p = 3 (2.89), n = 2 (2.25): 0.84; semi-hard: n = 1 (3.61), outside the margin */
    ck_assert_int_eq(dt_triplet_mine(rows, 2, 5, 1, 4, 1, 0.2, DT_MINE_BATCH_HARD, trip, 20, loss, dist), 1);
    ck_assert(trip[1] == 3 && trip[2] == 2);
    ck_assert_double_eq_tol(loss[0], 0.84, 1e-12);
    ck_assert_int_eq(dt_triplet_mine(rows, 2, 5, 1, 4, 1, 0.2, DT_MINE_SEMI_HARD, trip, 20, loss, dist), 0);
    ck_assert(loss[0] == 0);
    /* all five anchors at once are the five one at a time */
    double all[4 * 20], each[5];
    int64_t nt = dt_triplet_mine(rows, 2, 5, 1, 0, 5, 0.2, DT_MINE_SEMI_HARD, all, 20, each, dist), k = 0;
    for (int a = 0; a < 5; a++) {
        int64_t m = dt_triplet_mine(rows, 2, 5, 1, a, 1, 0.2, DT_MINE_SEMI_HARD, trip, 20, loss, dist);
        ck_assert(loss[0] == each[a]);
        ck_assert(k + m <= nt && !memcmp(trip, all + 4 * k, (size_t)(4 * m) * sizeof *trip));
        k += m;
    }
    ck_assert_int_eq(k, nt);
}
END_TEST

/* The rows' gradient from mined triplets is the course formula's, row by
 * row, whichever block of rows is asked for. */
START_TEST(mined_gradients)
{
    enum { G = 10, D = 3 };
    double rows[G * (D + 1)], trip[4 * G * G], loss[G], dist[G], dE[G * D], part[G * D];
    dt_rng r;
    dt_rng_seed(&r, 3);
    for (int i = 0; i < G; i++) {
        for (int k = 0; k < D; k++) rows[i * (D + 1) + k] = dt_rng_randn(&r);
        rows[i * (D + 1) + D] = i % 3;
    }
    int64_t nt = dt_triplet_mine(rows, D + 1, G, D, 0, G, 1.0, DT_MINE_SEMI_HARD, trip, G * G, loss, dist);
    ck_assert_int_gt(nt, 3);
    double want[G * D] = {0};
    for (int64_t t = 0; t < nt; t++) {
        dt_real a[D], p[D], n[D], ga[D] = {0}, gp[D] = {0}, gn[D] = {0};
        int64_t ia = (int64_t)trip[4 * t], ip = (int64_t)trip[4 * t + 1], in = (int64_t)trip[4 * t + 2];
        for (int k = 0; k < D; k++)
            a[k] = (dt_real)rows[ia * (D + 1) + k], p[k] = (dt_real)rows[ip * (D + 1) + k], n[k] = (dt_real)rows[in * (D + 1) + k];
        dt_triplet(a, p, n, 1, D, 1.0, trip[4 * t + 3], ga, gp, gn, NULL);
        for (int k = 0; k < D; k++) want[ia * D + k] += ga[k], want[ip * D + k] += gp[k], want[in * D + k] += gn[k];
    }
    dt_triplet_grad_rows(rows, D + 1, D, trip, nt, 0, G, dE);
    dt_triplet_grad_rows(rows, D + 1, D, trip, nt, 4, 3, part); /* rows 4..6 alone */
    for (int i = 0; i < G * D; i++) ck_assert_double_eq_tol(dE[i], want[i], 1e-5);
    for (int i = 0; i < 3 * D; i++) ck_assert(part[i] == dE[4 * D + i]);
}
END_TEST

/* The triplet loss section inside a network, by finite differences (its
 * rows mined among themselves, as in evaluation). */
START_TEST(loss_layer_gradients)
{
    const char *model = "[input]\nshape = 6\n[h]\ntype = dense\nunits = 5\nactivation = tanh\n"
                        "[emb]\ntype = l2norm\n[trip]\ntype = triplet\nmargin = 0.5\nmining = %s\n";
    char text[512];
    for (int m = 0; m < 2; m++) {
        snprintf(text, sizeof text, model, dt_mining_names[m]);
        ck_assert_double_lt(gc_check(text, 6, 2, 0), GRAD_TOL);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("embed");
    TCase *t = tcase_create("embed");
    tcase_add_test(t, course_vectors);
    tcase_add_test(t, finite_differences);
    tcase_add_test(t, l2norm_by_hand);
    tcase_add_test(t, mining_by_hand);
    tcase_add_test(t, mined_gradients);
    tcase_add_test(t, loss_layer_gradients);
    suite_add_tcase(s, t);
    return dt_run_suite(s);
}
