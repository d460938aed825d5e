/* test_rng.c — numpy legacy generator vectors (REFERENCE.md) and the hash stream. */
#include <check.h>

#include "check_util.h"
#include <math.h>
#include <stdlib.h>

#include "core/rng.h"

START_TEST(randn_seed1)
{
    static const double want[] = {1.62434536, -0.61175641, -0.52817175, -1.07296862,
                                  0.86540763, -2.3015387,  1.74481176,  -0.7612069};
    dt_rng r;
    dt_rng_seed(&r, 1);
    for (int i = 0; i < 8; i++) ck_assert_double_eq_tol(dt_rng_randn(&r), want[i], 1e-8);
}
END_TEST

START_TEST(rand_seed0)
{
    /* np.random.seed(0); np.random.rand(3) */
    static const double want[] = {0.5488135039273248, 0.7151893663724195, 0.6027633760716439};
    dt_rng r;
    dt_rng_seed(&r, 0);
    for (int i = 0; i < 3; i++) ck_assert_double_eq_tol(dt_rng_double(&r), want[i], 1e-15);
}
END_TEST

START_TEST(permutation_seed11)
{
    /* np.random.seed(11); np.random.permutation(10) */
    static const int64_t want[] = {7, 8, 2, 6, 4, 5, 1, 3, 0, 9};
    int64_t p[10];
    dt_rng r;
    dt_rng_seed(&r, 11);
    dt_rng_permutation(&r, p, 10);
    for (int i = 0; i < 10; i++) ck_assert_int_eq(p[i], want[i]);
}
END_TEST

START_TEST(hash_uniform_range)
{
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = dt_hash_uniform(1, 2, (uint64_t)i, 3);
        ck_assert(u >= 0.0 && u < 1.0);
        sum += u;
    }
    ck_assert_double_eq_tol(sum / 100000, 0.5, 0.005);
    ck_assert(dt_hash_uniform(1, 2, 3, 4) == dt_hash_uniform(1, 2, 3, 4));
    ck_assert(dt_hash_uniform(1, 2, 3, 4) != dt_hash_uniform(1, 2, 3, 5));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60); /* Check's 4 s is too short under ASan on a loaded machine */
    tcase_add_test(tc, randn_seed1);
    tcase_add_test(tc, rand_seed0);
    tcase_add_test(tc, permutation_seed11);
    tcase_add_test(tc, hash_uniform_range);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
