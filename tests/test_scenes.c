/* test_scenes.c — the generated detection scenes (data/scenes.h) on
 * synthetic items: counts, boxes inside the canvas and tight around bright
 * pixels, overlaps bounded, the same seed giving the same scenes, bad options. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "data/scenes.h"

enum { M = 4, S = 64, B = 4, N = 30 };

/* Items: a bright 14x20 block in the middle of the 28x28 picture, item k brighter with k. */
static void make_items(dt_real *items, int32_t *labels)
{
    for (int k = 0; k < M; k++) {
        labels[k] = 7 - k;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                items[k * 784 + y * 28 + x] = (y >= 4 && y < 24 && x >= 7 && x < 21) ? (dt_real)(0.6 + 0.1 * k) : 0;
    }
}

static double iou(const float *a, const float *b)
{
    double w = fmin(a[2], b[2]) - fmax(a[0], b[0]), h = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (w <= 0 || h <= 0) return 0;
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h);
}

/* Whether one of n pixels from `at`, `step` apart, is visible. */
static int edge_visible(const float *p, int at, int step, int n)
{
    for (int i = 0; i < n; i++)
        if (p[at + i * step] > 0.1f) return 1;
    return 0;
}

/* Whether pixel (x, y) lies in a box of the scene other than box `self`. */
static int covered(const float *bx, int nb, int self, int x, int y)
{
    for (int b = 0; b < nb; b++)
        if (b != self && bx[b * 5] >= 0 && x >= bx[b * 5 + 1] && x < bx[b * 5 + 3] && y >= bx[b * 5 + 2] && y < bx[b * 5 + 4])
            return 1;
    return 0;
}

START_TEST(scenes_are_sound)
{
    dt_real items[M * 784];
    int32_t labels[M];
    make_items(items, labels);
    float *img = malloc(sizeof(float) * N * S * S), *box = malloc(sizeof(float) * N * B * 5);
    dt_scenes_opts o = {N, S, 14, 40, B, 5, 1}; /* black background: boxes checkable against pixels */
    ck_assert_int_eq(dt_scenes_make(&o, items, labels, M, img, box), DT_OK);
    int total = 0;
    for (int i = 0; i < N; i++) {
        const float *bx = box + i * B * 5, *p = img + i * S * S;
        int n = 0;
        for (int b = 0; b < B; b++) {
            const float *r = bx + b * 5;
            if (r[0] < 0) { /* unused rows come last and are zero */
                ck_assert(r[1] == 0 && r[2] == 0 && r[3] == 0 && r[4] == 0);
                continue;
            }
            ck_assert_int_eq(b, n); /* no gaps */
            n++;
            ck_assert(r[0] == 4 || r[0] == 5 || r[0] == 6 || r[0] == 7);
            ck_assert(r[1] >= 0 && r[2] >= 0 && r[3] <= S && r[4] <= S && r[3] > r[1] && r[4] > r[2]);
            /* tight: its first and last rows and columns each hold a visible pixel (> 0.1), its centre is bright */
            int x1 = (int)r[1], y1 = (int)r[2], x2 = (int)r[3], y2 = (int)r[4];
            ck_assert(edge_visible(p, y1 * S + x1, 1, x2 - x1) && edge_visible(p, (y2 - 1) * S + x1, 1, x2 - x1));
            ck_assert(edge_visible(p, y1 * S + x1, S, y2 - y1) && edge_visible(p, y1 * S + x2 - 1, S, y2 - y1));
            /* and nothing visible just outside it, but where another box lies */
            for (int x = x1; x < x2; x++) {
                if (y1 > 0) ck_assert(p[(y1 - 1) * S + x] <= 0.1f || covered(bx, B, b, x, y1 - 1));
                if (y2 < S) ck_assert(p[y2 * S + x] <= 0.1f || covered(bx, B, b, x, y2));
            }
            for (int y = y1; y < y2; y++) {
                if (x1 > 0) ck_assert(p[y * S + x1 - 1] <= 0.1f || covered(bx, B, b, x1 - 1, y));
                if (x2 < S) ck_assert(p[y * S + x2] <= 0.1f || covered(bx, B, b, x2, y));
            }
            ck_assert_float_gt(p[(int)((r[2] + r[4]) / 2) * S + (int)((r[1] + r[3]) / 2)], 0.55f);
            for (int c = 0; c < b; c++) ck_assert_double_le(iou(r + 1, bx + c * 5 + 1), 0.3 + 1e-9);
        }
        ck_assert_int_ge(n, 1);
        total += n;
        for (int q = 0; q < S * S; q++) ck_assert(p[q] >= 0 && p[q] <= 1);
    }
    ck_assert_int_gt(total, N); /* more than one item per scene on average */
    /* the same seed, the same scenes; another seed, others */
    float *img2 = malloc(sizeof(float) * N * S * S), *box2 = malloc(sizeof(float) * N * B * 5);
    ck_assert_int_eq(dt_scenes_make(&o, items, labels, M, img2, box2), DT_OK);
    ck_assert(!memcmp(img, img2, sizeof(float) * N * S * S) && !memcmp(box, box2, sizeof(float) * N * B * 5));
    o.seed = 6;
    ck_assert_int_eq(dt_scenes_make(&o, items, labels, M, img2, box2), DT_OK);
    ck_assert(memcmp(box, box2, sizeof(float) * N * B * 5));
    free(img), free(box), free(img2), free(box2);
}
END_TEST

START_TEST(bad_options)
{
    dt_real items[M * 784];
    int32_t labels[M];
    make_items(items, labels);
    float img[S * S], box[B * 5];
    dt_scenes_opts o = {1, S, 14, 80, B, 1, 0}; /* items larger than the canvas */
    ck_assert_int_eq(dt_scenes_make(&o, items, labels, M, img, box), DT_ERR_ARG);
    o = (dt_scenes_opts){1, S, 20, 10, B, 1, 0};
    ck_assert_int_eq(dt_scenes_make(&o, items, labels, M, img, box), DT_ERR_ARG);
    o = (dt_scenes_opts){1, S, 14, 20, 0, 1, 0};
    ck_assert_int_eq(dt_scenes_make(&o, items, labels, M, img, box), DT_ERR_ARG);
    o = (dt_scenes_opts){1, S, 14, 20, B, 1, 0};
    ck_assert_int_eq(dt_scenes_make(&o, items, labels, 0, img, box), DT_ERR_ARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scenes");
    TCase *t = tcase_create("scenes");
    tcase_add_test(t, scenes_are_sound);
    tcase_add_test(t, bad_options);
    suite_add_tcase(s, t);
    return dt_run_suite(s);
}
