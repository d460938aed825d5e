/* test_det.c — the YOLOv2 loss (nn/loss_yolo.c): values by hand on a
 * one-cell head, finite differences through a small network with boxes of
 * several classes and anchors, and bad keys. */
#include <math.h>
#include <string.h>

#include "check_util.h"
#include "net_check.h"
#include "nn/net.h"
#include "vision/anchors.h"

/* A 1x1 grid, one anchor, one class: a zero head gives σ = 0.5 everywhere. */
static double one_cell_loss(const dt_real *boxes)
{
    dt_ini *m;
    dt_net *net;
    const char *text = "[input]\nshape = 1,1,1\n[head]\ntype = conv2d\nfilters = 5\nkernel = 1\n"
                       "[det]\ntype = yolo\nanchors = 1,1\nclasses = 1\nimage = 32\nboxes = 2\n";
    ck_assert_int_eq(dt_ini_parse("t", text, &m), DT_OK);
    ck_assert_msg(dt_net_build(m, 1, DT_LOSS_AUTO, &net) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(m);
    ck_assert_int_eq(net->target_len, 10);
    memset(net->params, 0, (size_t)net->nparams * sizeof *net->params); /* the head outputs 0 */
    dt_real x[1] = {1};
    dt_pass p = {.n = 1};
    dt_net_forward(net, x, &p);
    double sums[4] = {0};
    dt_targets tg = {.dense = boxes};
    dt_net_loss(net, &tg, 1, 0, sums, NULL);
    dt_net_free(net);
    return sums[0];
}

START_TEST(by_hand)
{
    /* a box over the whole picture: centre 0.5 = σ(0), size 1 cell = anchor: only (σ(to) − 1)² · obj 5 = 1.25 */
    const dt_real whole[] = {0, 0, 0, 32, 32, -1, 0, 0, 0, 0};
    ck_assert_double_eq_tol(one_cell_loss(whole), 1.25, 1e-6);
    /* no box: the prediction is a false alarm, σ(to)² · noobj 1 = 0.25 */
    const dt_real none[] = {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0};
    ck_assert_double_eq_tol(one_cell_loss(none), 0.25, 1e-6);
    /* an empty box counts as none */
    const dt_real empty[] = {0, 5, 5, 5, 9, -1, 0, 0, 0, 0};
    ck_assert_double_eq_tol(one_cell_loss(empty), 0.25, 1e-6);
    /* a box of half the picture centred at (8, 8): x* = 0.25, w* = log 0.5:
     * (0.5 − 0.25)²·2 + (log 2)²·2 + 1.25 */
    const dt_real quarter[] = {0, 0, 0, 16, 16, -1, 0, 0, 0, 0};
    ck_assert_double_eq_tol(one_cell_loss(quarter), 2 * 0.0625 + 2 * log(2) * log(2) + 1.25, 1e-6);
}
END_TEST

/* Two anchors, a zero head: anchor 0 (1x1 cell) is responsible for a box
 * filling the cell; anchor 1 (w x w cells) decodes to a box of side w/1
 * around the same centre, IoU 1/w² with it. At ignore 0.6: w = 1.2 (IoU
 * 0.69) is not penalised, w = 1.4 (IoU 0.51) pays noobj · σ(0)² = 0.25. */
static double two_anchor_loss(double w)
{
    char text[512];
    snprintf(text, sizeof text,
             "[input]\nshape = 1,1,1\n[head]\ntype = conv2d\nfilters = 10\nkernel = 1\n"
             "[det]\ntype = yolo\nanchors = 1,1, %g,%g\nclasses = 1\nimage = 32\nboxes = 1\n",
             w, w);
    dt_ini *m;
    dt_net *net;
    ck_assert_int_eq(dt_ini_parse("t", text, &m), DT_OK);
    ck_assert_msg(dt_net_build(m, 1, DT_LOSS_AUTO, &net) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(m);
    memset(net->params, 0, (size_t)net->nparams * sizeof *net->params);
    dt_real x[1] = {1};
    const dt_real box[] = {0, 0, 0, 32, 32};
    dt_pass p = {.n = 1};
    dt_net_forward(net, x, &p);
    double sums[4] = {0};
    dt_targets tg = {.dense = box};
    dt_net_loss(net, &tg, 1, 0, sums, NULL);
    dt_net_free(net);
    return sums[0];
}

START_TEST(ignore_threshold)
{
    ck_assert_double_eq_tol(two_anchor_loss(1.2), 1.25, 1e-6);        /* responsible anchor's obj term only */
    ck_assert_double_eq_tol(two_anchor_loss(1.4), 1.25 + 0.25, 1e-6); /* plus the other's no-object term */
}
END_TEST

/* Finite differences through a 1x1 conv head on a 4x4 grid: two anchors,
 * three classes, boxes in several cells (two in one cell, other anchors),
 * a row without boxes; ignore = 1 keeps the loss smooth. */
START_TEST(gradients)
{
    static const dt_real boxes[] = {
        1, 2, 3, 14, 20,  2, 20, 20, 30, 31, 0, 0, 0, 31, 31, /* image 0 */
        -1, 0, 0, 0, 0,   -1, 0, 0, 0, 0,   -1, 0, 0, 0, 0,   /* image 1: nothing */
        2, 10, 5, 12, 9,  1, 24, 2, 31, 30, -1, 0, 0, 0, 0,   /* image 2 */
    };
    gc_fixed_targets = boxes;
    const char *text = "[input]\nshape = 3,4,4\n[head]\ntype = conv2d\nfilters = 16\nkernel = 1\n"
                       "[det]\ntype = yolo\nanchors = 1,1, 2,3\nclasses = 3\nimage = 32\nboxes = 3\nignore = 1\n";
    GC_ASSERT(text, 3, 3, 0);
    /* the same with one class (no class logits) and the default weights */
    const char *one = "[input]\nshape = 2,4,4\n[head]\ntype = conv2d\nfilters = 10\nkernel = 1\n"
                      "[det]\ntype = yolo\nanchors = 1,1, 2,3\nclasses = 1\nimage = 32\nboxes = 3\nignore = 1\n";
    GC_ASSERT(one, 3, 2, 0);
    gc_fixed_targets = NULL;
}
END_TEST

START_TEST(bad_keys)
{
    static const char *bad[][2] = {
        {"anchors = 1,1, 2\nclasses = 1\nimage = 32\n", "anchors"},
        {"anchors = 1,-1\nclasses = 1\nimage = 32\n", "anchors"},
        {"anchors = 1,1\nclasses = 3\nimage = 32\n", "expected 1 anchors x (5 + 3 class scores) = 8 channels"},
        {"anchors = 1,1\nclasses = 1\n", "image"},
        {"anchors = 1,1\nclasses = 1\nimage = 32\nignore = 2\n", "ignore"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        snprintf(text, sizeof text, "[input]\nshape = 1,2,2\n[head]\ntype = conv2d\nfilters = 5\nkernel = 1\n[det]\ntype = yolo\n%s",
                 bad[i][0]);
        dt_ini *m;
        dt_net *net = NULL;
        ck_assert_int_eq(dt_ini_parse("t.ini", text, &m), DT_OK);
        ck_assert_int_eq(dt_net_build(m, 1, DT_LOSS_AUTO, &net), DT_ERR_CONFIG);
        ck_assert_msg(strstr(dt_errmsg(), bad[i][1]) && !strchr(dt_errmsg(), '\n'), "case %zu: %s", i, dt_errmsg());
        dt_ini_free(m);
    }
}
END_TEST

/* k-means of box shapes: two clean clusters are found exactly; IoU of
 * shapes by hand; too few boxes is an error. */
START_TEST(anchors_kmeans)
{
    double wh[2 * 12], out[4], iou;
    for (int i = 0; i < 12; i++) wh[2 * i] = i % 3 ? 1 : 4, wh[2 * i + 1] = i % 3 ? 2 : 4; /* 8 of 1x2, 4 of 4x4 */
    ck_assert_int_eq(dt_anchors_kmeans(wh, 12, 2, out, &iou), DT_OK);
    ck_assert(out[0] == 1 && out[1] == 2 && out[2] == 4 && out[3] == 4); /* sorted by area */
    ck_assert(iou == 1);
    /* one anchor 2x2 for them all: 1x2 in 2x2 is 2/4, 4x4 over 2x2 is 4/16 -> (8 * 0.5 + 4 * 0.25) / 12 */
    double one[2] = {2, 2};
    ck_assert_double_eq_tol(dt_anchors_mean_iou(wh, 12, one, 1), 5.0 / 12, 1e-15);
    /* k = 1: the mean shape (2, 2.6667) */
    ck_assert_int_eq(dt_anchors_kmeans(wh, 12, 1, out, &iou), DT_OK);
    ck_assert_double_eq_tol(out[0], 2, 1e-12);
    ck_assert_double_eq_tol(out[1], 8.0 / 3, 1e-12);
    ck_assert_int_eq(dt_anchors_kmeans(wh, 1, 2, out, &iou), DT_ERR_ARG);
    wh[0] = 0;
    ck_assert_int_eq(dt_anchors_kmeans(wh, 12, 2, out, &iou), DT_ERR_ARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("det");
    TCase *t = tcase_create("det");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, by_hand);
    tcase_add_test(t, ignore_threshold);
    tcase_add_test(t, gradients);
    tcase_add_test(t, bad_keys);
    tcase_add_test(t, anchors_kmeans);
    suite_add_tcase(s, t);
    return dt_run_suite(s);
}
