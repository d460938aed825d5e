/* test_optim.c — optimizer steps against the course's vectors (REFERENCE.md)
 * and the learning-rate schedules. */
#include <math.h>

#include "check_util.h"
#include "core/rng.h"
#include "optim/optim.h"

/* seed(1), then W1(2,3), b1(2,1), W2(3,3), b2(3,1), dW1, db1, dW2, db2 in
 * that order, laid out as one flat parameter and one flat gradient array. */
enum { W1 = 0, B1 = 6, W2 = 8, B2 = 17, N = 20 };
static dt_real p[N], g[N];

static void draw(void)
{
    dt_rng r;
    dt_rng_seed(&r, 1);
    for (int i = 0; i < N; i++) p[i] = (dt_real)dt_rng_randn(&r);
    for (int i = 0; i < N; i++) g[i] = (dt_real)dt_rng_randn(&r);
}

static void expect(const dt_real *got, const double *want, int n)
{
    for (int i = 0; i < n; i++) ck_assert_double_eq_tol(got[i], want[i], TOL * 10);
}

START_TEST(gd_vector)
{
    draw();
    dt_sgd_step(p, g, N, (dt_real)0.01);
    expect(p + W1, (double[]){1.63535156, -0.62320365, -0.53718766}, 3);
    expect(p + B2, (double[]){-0.88020257, 0.02561572, 0.57539477}, 3);
}
END_TEST

START_TEST(momentum_vector)
{
    dt_real v[N] = {0};
    draw();
    dt_momentum_step(p, g, v, N, (dt_real)0.01, 0.9);
    expect(p + W1, (double[]){1.62544598, -0.61290114, -0.52907334}, 3);
    expect(v + W1, (double[]){-0.11006192, 0.11447237, 0.09015907}, 3);
}
END_TEST

START_TEST(adam_vector)
{
    dt_real v[N] = {0}, s[N] = {0};
    draw();
    dt_adam_step(p, g, v, s, N, (dt_real)0.01, 0.9, 0.999, (dt_real)1e-8, 2);
    expect(p + W1, (double[]){1.63178673, -0.61919778, -0.53561312}, 3);
    expect(p + B2, (double[]){-0.88529978, 0.03477238, 0.57537385}, 3);
    ck_assert_double_eq_tol(s[B1], 1.51020075e-05, 1e-11);
    ck_assert_double_eq_tol(s[B1 + 1], 8.75664434e-04, 1e-9);
}
END_TEST

START_TEST(rmsprop_matches_formula)
{
    dt_real s[N] = {0};
    draw();
    dt_real p0 = p[3], g0 = g[3];
    dt_rmsprop_step(p, g, s, N, (dt_real)0.01, 0.9, (dt_real)1e-8);
    double sv = 0.1 * g0 * g0;
    ck_assert_double_eq_tol(s[3], sv, 1e-6);
    ck_assert_double_eq_tol(p[3], p0 - 0.01 * g0 / (sqrt(sv) + 1e-8), 1e-6);
}
END_TEST

START_TEST(lr_schedules)
{
    dt_optim o = {.lr = 0.1, .decay_rate = 0.5, .decay_every = 2};
    o.decay = DT_DECAY_NONE;
    ck_assert_double_eq_tol(dt_optim_lr(&o, 7, 0), 0.1, 1e-15);
    o.decay = DT_DECAY_STEP;
    ck_assert_double_eq_tol(dt_optim_lr(&o, 3, 0), 0.05, 1e-15);
    ck_assert_double_eq_tol(dt_optim_lr(&o, 4, 0), 0.025, 1e-15);
    o.decay = DT_DECAY_EXP;
    ck_assert_double_eq_tol(dt_optim_lr(&o, 1, 0), 0.1 * pow(0.5, 0.5), 1e-15);
    o.decay = DT_DECAY_INVTIME; /* the course's schedule_lr_decay */
    o.decay_rate = 1;
    o.decay_every = 1000;
    ck_assert_double_eq_tol(dt_optim_lr(&o, 1999, 0), 0.05, 1e-15);
    ck_assert_double_eq_tol(dt_optim_lr(&o, 2000, 0), 0.1 / 3, 1e-15);
    o.decay = DT_DECAY_COSINE; /* by progress through the run, not by epoch */
    ck_assert_double_eq_tol(dt_optim_lr(&o, 5, 0), 0.1, 1e-15);
    ck_assert_double_eq_tol(dt_optim_lr(&o, 0, 0.25), 0.05 * (1 + sqrt(0.5)), 1e-15);
    ck_assert_double_eq_tol(dt_optim_lr(&o, 0, 0.5), 0.05, 1e-15);
    ck_assert_double_eq_tol(dt_optim_lr(&o, 0, 1), 0, 1e-15);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, gd_vector);
    tcase_add_test(tc, momentum_vector);
    tcase_add_test(tc, adam_vector);
    tcase_add_test(tc, rmsprop_matches_formula);
    tcase_add_test(tc, lr_schedules);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
