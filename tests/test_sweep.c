/* test_sweep.c — dtrain sweep's pure parts (train/sweep_spec.h): specs,
 * their draws against numpy's generator, the log scales' distributions,
 * rungs, and successive halving's promotions on hand-made cases. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/sweep_spec.h"
#include "check_util.h"

START_TEST(parse_and_errors)
{
    dt_param_spec p;
    ck_assert_int_eq(dt_spec_parse("optim.lr=log:1e-4:1e-1", &p), DT_OK);
    ck_assert_str_eq(p.key, "optim.lr");
    ck_assert_int_eq(p.kind, DT_SPEC_LOG);
    ck_assert(p.lo == 1e-4 && p.hi == 1e-1);
    ck_assert_int_eq(dt_spec_parse("model.fc1.units=int:32:256", &p), DT_OK);
    ck_assert_str_eq(p.key, "model.fc1.units");
    ck_assert_int_eq(dt_spec_parse("optim.type=choice:adam,momentum", &p), DT_OK);
    ck_assert_int_eq(p.nchoices, 2);
    ck_assert_str_eq(p.choices[1], "momentum");
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"optim.lr", "expected KEY=KIND:ARGS"},
        {"lr=log:1e-4:1e-1", "section.key"},
        {"optim.lr=exp:1:2", "unknown kind 'exp'"},
        {"optim.lr=log:0:1", "a log scale needs A > 0"},
        {"optim.lr=log:1e-1:1e-4", "numbers A <= B"},
        {"optim.beta=1-log:0.8:1", "1-log needs B < 1"},
        {"optim.lr=uniform:a:1", "numbers A <= B"},
        {"model.fc1.units=int:3.5:9", "whole numbers"},
        {"optim.type=choice:adam,,sgd", "none empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(dt_spec_parse(bad[i].text, &p), DT_ERR_ARG);
        ck_assert_msg(strstr(dt_errmsg(), bad[i].says), "%s: '%s' lacks '%s'", bad[i].text, dt_errmsg(), bad[i].says);
        ck_assert_msg(strstr(dt_errmsg(), bad[i].text), "the message names the spec: %s", dt_errmsg());
    }
}
END_TEST

/* Printed by numpy 1.24 (Debian 12): np.random.seed(7); u = np.random.rand(3, 3),
 * then each spec's formula, "%.6g" (ints: floor). */
START_TEST(draws_match_numpy)
{
    static const char *want[3][3] = {
        {"0.000169404", "0.937682", "130"},
        {"0.0148046", "0.822015", "153"},
        {"0.00318685", "0.998535", "92"},
    };
    dt_param_spec p[3];
    ck_assert_int_eq(dt_spec_parse("optim.lr=log:1e-4:1e-1", &p[0]), DT_OK);
    ck_assert_int_eq(dt_spec_parse("optim.beta=1-log:0.8:0.999", &p[1]), DT_OK);
    ck_assert_int_eq(dt_spec_parse("model.fc1.units=int:32:256", &p[2]), DT_OK);
    double u[9], x;
    char v[64];
    dt_spec_draws(7, 3, 3, u);
    for (int t = 0; t < 3; t++) {
        for (int k = 0; k < 3; k++) {
            dt_spec_value(&p[k], u[3 * t + k], v, sizeof v, &x);
            ck_assert_str_eq(v, want[t][k]);
            ck_assert_double_eq_tol(x, strtod(want[t][k], NULL), 1e-12);
        }
    }
}
END_TEST

/* The log scales: log10 of lr (and of 1 − β) is uniform, so each decade
 * gets the same share of 30000 draws; a linear scale would give the top
 * decade 90 % of them. */
START_TEST(log_scales_are_uniform_in_the_exponent)
{
    dt_param_spec lr, beta;
    ck_assert_int_eq(dt_spec_parse("optim.lr=log:1e-4:1e-1", &lr), DT_OK);
    ck_assert_int_eq(dt_spec_parse("optim.beta=1-log:0.9:0.999", &beta), DT_OK);
    enum { N = 30000 };
    int dec_lr[3] = {0}, dec_b[2] = {0};
    static double u[2 * N];
    double x, y, mean_e = 0;
    char v[64];
    dt_spec_draws(11, N, 2, u);
    for (int t = 0; t < N; t++) {
        dt_spec_value(&lr, u[2 * t], v, sizeof v, &x);
        dt_spec_value(&beta, u[2 * t + 1], v, sizeof v, &y);
        ck_assert(x >= 1e-4 && x <= 1e-1 && y >= 0.9 && y <= 0.999);
        int d = (int)floor(log10(x) + 4);
        dec_lr[d > 2 ? 2 : d]++;
        dec_b[y < 0.99 ? 0 : 1]++; /* 1 − β in [0.01, 0.1] or [0.001, 0.01] */
        mean_e += log10(x) / N;
    }
    /* each share within 3 % of 1/3 (binomial sd 0.27 %), 1/2 for β */
    for (int d = 0; d < 3; d++) ck_assert_double_eq_tol(dec_lr[d] / (double)N, 1.0 / 3, 0.03);
    for (int d = 0; d < 2; d++) ck_assert_double_eq_tol(dec_b[d] / (double)N, 0.5, 0.03);
    ck_assert_double_eq_tol(mean_e, -2.5, 0.02);
}
END_TEST

START_TEST(rungs)
{
    int64_t r[16];
    ck_assert_int_eq(dt_rungs(1, 3, 10, r, 16), 3); /* 1, 3, 9 */
    ck_assert_int_eq(dt_rungs(1, 3, 9, r, 16), 2);  /* 9 is the end, not a rung */
    int n = dt_rungs(1, 3, 30, r, 16);
    ck_assert_int_eq(n, 4);
    ck_assert(r[0] == 1 && r[1] == 3 && r[2] == 9 && r[3] == 27);
    n = dt_rungs(2, 2, 17, r, 16);
    ck_assert_int_eq(n, 4);
    ck_assert(r[0] == 2 && r[1] == 4 && r[2] == 8 && r[3] == 16);
    ck_assert_int_eq(dt_rungs(5, 3, 5, r, 16), 0); /* no rung before the end */
}
END_TEST

/* Hand-made: the cut is numpy.percentile(v, 100·(1 − 1/eta)). */
START_TEST(asha_promotions)
{
    const double five[] = {0.5, 0.9, 0.7, 0.2, 0.8}; /* cut 0.7667 at eta 3 */
    ck_assert(dt_asha_continue(five, 5, 0.9, 3));
    ck_assert(dt_asha_continue(five, 5, 0.8, 3));
    ck_assert(!dt_asha_continue(five, 5, 0.7, 3));
    ck_assert(!dt_asha_continue(five, 5, 0.2, 3));
    const double first[] = {NAN, 0.4, NAN}; /* alone at its rung: it goes on */
    ck_assert(dt_asha_continue(first, 3, 0.4, 3));
    const double two[] = {0.5, 0.9}; /* cut 0.7667: the worse of two stops */
    ck_assert(!dt_asha_continue(two, 2, 0.5, 3));
    ck_assert(dt_asha_continue(two, 2, 0.9, 3));
    const double nan_mine[] = {0.5, NAN}; /* a diverged trial (NaN metric) stops */
    ck_assert(!dt_asha_continue(nan_mine, 2, NAN, 3));
    /* eta 2: the top half of 4 */
    const double four[] = {0.1, 0.2, 0.3, 0.4}; /* cut 0.25 */
    ck_assert(dt_asha_continue(four, 4, 0.3, 2));
    ck_assert(!dt_asha_continue(four, 4, 0.2, 2));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("specs");
    tcase_add_test(tc, parse_and_errors);
    tcase_add_test(tc, draws_match_numpy);
    tcase_add_test(tc, log_scales_are_uniform_in_the_exponent);
    tcase_add_test(tc, rungs);
    tcase_add_test(tc, asha_promotions);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
