/* test_map.c — mean average precision (vision/map.h) on hand-computed cases. */
#include <math.h>

#include "check_util.h"
#include "vision/map.h"

static dt_det box(double x1, double y1, double x2, double y2, double score, int cls)
{
    return (dt_det){x1, y1, x2, y2, score, cls};
}

/* Class 0: 3 boxes in 2 images; detections TP (0.9), FP elsewhere (0.8),
 * TP at IoU 0.818 (0.7), a duplicate of the first (0.6): precision 1, 1/2,
 * 2/3, 1/2 at recall 1/3, 1/3, 2/3, 2/3; monotone 1, 2/3, 2/3, 1/2; AP =
 * 1/3·1 + 1/3·2/3 = 5/9. Class 1: one box found: AP 1. Class 2: a
 * detection but no ground truth: NaN, left out. mAP = (5/9 + 1) / 2 = 7/9. */
START_TEST(hand_computed)
{
    dt_det gt[] = {box(0, 0, 10, 10, 0, 0), box(20, 20, 30, 30, 0, 0), box(0, 0, 10, 10, 0, 1), box(0, 0, 10, 10, 0, 0)};
    int64_t gi[] = {0, 0, 0, 1};
    dt_det det[] = {box(40, 40, 50, 50, 0.8, 0), box(0, 0, 10, 10, 0.9, 0), box(1, 0, 11, 10, 0.7, 0),
                    box(0, 0, 10, 10, 0.6, 0),   box(0, 0, 10, 10, 0.5, 1), box(0, 0, 5, 5, 0.4, 2)};
    int64_t di[] = {0, 0, 1, 0, 0, 0};
    double ap[3], map;
    ck_assert_int_eq(dt_map(det, di, 6, gt, gi, 4, 3, 0.5, ap, &map), DT_OK);
    ck_assert_double_eq_tol(ap[0], 5.0 / 9, 1e-12);
    ck_assert_double_eq_tol(ap[1], 1.0, 1e-12);
    ck_assert(isnan(ap[2]));
    ck_assert_double_eq_tol(map, 7.0 / 9, 1e-12);
    /* at IoU 0.85 the shifted box (0.818) no longer counts: class 0 finds 1 of 3, AP = 1/3 */
    ck_assert_int_eq(dt_map(det, di, 6, gt, gi, 4, 3, 0.85, ap, &map), DT_OK);
    ck_assert_double_eq_tol(ap[0], 1.0 / 3, 1e-12);
    ck_assert_double_eq_tol(map, (1.0 / 3 + 1) / 2, 1e-12);
}
END_TEST

/* IoU exactly at the threshold counts; a detection in the wrong image does not. */
START_TEST(threshold_and_images)
{
    dt_det gt[] = {box(0, 0, 10, 10, 0, 0)};
    int64_t gi[] = {3};
    dt_det det[] = {box(0, 0, 10, 20, 0.9, 0)}; /* IoU 100/200 = 0.5 */
    int64_t di[] = {3}, wrong[] = {2};
    double ap[1], map;
    ck_assert_int_eq(dt_map(det, di, 1, gt, gi, 1, 1, 0.5, ap, &map), DT_OK);
    ck_assert_double_eq_tol(map, 1.0, 1e-12);
    ck_assert_int_eq(dt_map(det, wrong, 1, gt, gi, 1, 1, 0.5, ap, &map), DT_OK);
    ck_assert_double_eq_tol(map, 0.0, 1e-12);
}
END_TEST

/* Equal scores keep their input order: a false positive ranked before the
 * true one at the same score leaves precision 1/2 at recall 1 (AP 1/2);
 * ranked after it, AP = 1. No detections: AP 0; no boxes at all: NaN. */
START_TEST(ties_and_empty)
{
    dt_det gt[] = {box(0, 0, 10, 10, 0, 0)};
    int64_t gi[] = {0}, di[] = {0, 0};
    dt_det fp_first[] = {box(50, 50, 60, 60, 0.7, 0), box(0, 0, 10, 10, 0.7, 0)};
    dt_det tp_first[] = {box(0, 0, 10, 10, 0.7, 0), box(50, 50, 60, 60, 0.7, 0)};
    double ap[1], map;
    ck_assert_int_eq(dt_map(fp_first, di, 2, gt, gi, 1, 1, 0.5, ap, &map), DT_OK);
    ck_assert_double_eq_tol(map, 0.5, 1e-12);
    ck_assert_int_eq(dt_map(tp_first, di, 2, gt, gi, 1, 1, 0.5, ap, &map), DT_OK);
    ck_assert_double_eq_tol(map, 1.0, 1e-12);
    ck_assert_int_eq(dt_map(NULL, NULL, 0, gt, gi, 1, 1, 0.5, ap, &map), DT_OK);
    ck_assert_double_eq_tol(map, 0.0, 1e-12);
    ck_assert_int_eq(dt_map(NULL, NULL, 0, NULL, NULL, 0, 1, 0.5, ap, &map), DT_OK);
    ck_assert(isnan(map));
    dt_det bad[] = {box(0, 0, 1, 1, 0.5, 4)};
    ck_assert_int_eq(dt_map(bad, di, 1, gt, gi, 1, 1, 0.5, ap, &map), DT_ERR_ARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("map");
    TCase *t = tcase_create("map");
    tcase_add_test(t, hand_computed);
    tcase_add_test(t, threshold_and_images);
    tcase_add_test(t, ties_and_empty);
    suite_add_tcase(s, t);
    return dt_run_suite(s);
}
