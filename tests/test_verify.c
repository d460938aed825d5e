/* test_verify.c — verification by embedding distance (train/verify.h), by
 * hand: unit vectors at known angles, so every distance and rank is known. */
#include <math.h>

#include "check_util.h"
#include "train/verify.h"

/* A row: the unit vector at `deg` degrees, scaled (normalisation undoes it), and an identity. */
static void row(double *r, double deg, double scale, double id)
{
    r[0] = scale * cos(deg * M_PI / 180), r[1] = scale * sin(deg * M_PI / 180), r[2] = id;
}

static double chord(double deg) { return 2 * sin(deg * M_PI / 360); }

START_TEST(by_hand)
{
    double rows[8 * 3];
    /* validation half: identity 0 at 0 and 10 degrees, identity 1 at 90 and 100: same pairs 10 apart,
     * different ones 80 to 100 apart, so AUC 1 and the threshold halfway between 10 and 80 */
    row(rows + 0, 0, 1, 0), row(rows + 3, 10, 3, 0), row(rows + 6, 90, 0.5, 1), row(rows + 9, 100, 2, 1);
    /* test half: identity 0 at 0 and 50, identity 1 at 40 and 130. Same pairs 50 and 90 apart,
     * different ones 40, 130, 10 and 80: a same pair is closer than a different one in 3 of 8
     * comparisons (50 < 80, 50 < 130, 90 < 130); under the threshold (42.8 degrees) are only the
     * different pairs 10 and 40 apart: TPR 0, TNR 2/4 */
    row(rows + 12, 0, 1, 0), row(rows + 15, 50, 1, 0), row(rows + 18, 40, 1, 1), row(rows + 21, 130, 1, 1);
    dt_verify_result v;
    ck_assert_int_eq(dt_verify(rows, 3, 8, 2, &v), DT_OK);
    ck_assert_double_eq_tol(v.val_auc, 1, 1e-12);
    ck_assert_double_eq_tol(v.thr, 0.5 * (chord(10) + chord(80)), 1e-9);
    ck_assert_double_eq_tol(v.auc, 3.0 / 8, 1e-12);
    ck_assert_double_eq_tol(v.acc, 0.25, 1e-12);
    ck_assert_int_eq(v.pairs, 6);
    /* one identity in a half: no different pairs to tell apart */
    for (int i = 0; i < 4; i++) rows[i * 3 + 2] = 0;
    ck_assert_int_eq(dt_verify(rows, 3, 8, 2, &v), DT_ERR_DATA);
}
END_TEST

/* Ties count half: identical features for every row. */
START_TEST(ties)
{
    double rows[6 * 3];
    for (int i = 0; i < 6; i++) row(rows + 3 * i, 30, 1, i % 2);
    dt_verify_result v;
    ck_assert_int_eq(dt_verify(rows, 3, 6, 2, &v), DT_OK);
    ck_assert_double_eq_tol(v.auc, 0.5, 1e-12);
    ck_assert_double_eq_tol(v.acc, 0.5, 1e-12);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("verify");
    TCase *t = tcase_create("verify");
    tcase_add_test(t, by_hand);
    tcase_add_test(t, ties);
    suite_add_tcase(s, t);
    return dt_run_suite(s);
}
