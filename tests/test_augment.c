/* test_augment.c — crop and flip: exact pixel moves, zero fill, and draws
 * that depend only on (seed, epoch, sample). */
#include <string.h>

#include "check_util.h"
#include "data/augment.h"

enum { C = 2, H = 5, W = 4, S = C * H * W };

static void fill(dt_real *x, int n)
{
    for (int i = 0; i < n * S; i++) x[i] = (dt_real)(i % S + 1);
}

START_TEST(flip_only)
{
    dt_augment a;
    dt_real x[64 * S];
    int64_t ids[64];
    for (int i = 0; i < 64; i++) ids[i] = 1000 + i;
    ck_assert(dt_augment_init(&a, 0, 1, C, H, W, 7) == DT_OK);
    fill(x, 64);
    dt_augment_batch(&a, x, ids, 64, 3);
    int flipped = 0;
    for (int r = 0; r < 64; r++) {
        const dt_real *img = x + r * S;
        int f = img[0] != 1;
        flipped += f;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    int sj = f ? W - 1 - j : j;
                    ck_assert(img[(c * H + i) * W + j] == (dt_real)((c * H + i) * W + sj + 1));
                }
    }
    ck_assert(flipped > 16 && flipped < 48); /* about half */
    dt_augment_destroy(&a);
}
END_TEST

START_TEST(crop_moves_and_pads)
{
    dt_augment a;
    dt_real x[32 * S];
    int64_t ids[32];
    for (int i = 0; i < 32; i++) ids[i] = i;
    ck_assert(dt_augment_init(&a, 2, 0, C, H, W, 1) == DT_OK);
    fill(x, 32);
    dt_augment_batch(&a, x, ids, 32, 0);
    int moved = 0;
    for (int r = 0; r < 32; r++) {
        const dt_real *img = x + r * S;
        /* find the shift from a pixel that came from inside the image */
        int found = 0;
        for (int dy = -2; dy <= 2 && !found; dy++)
            for (int dx = -2; dx <= 2 && !found; dx++) {
                int ok = 1;
                for (int c = 0; c < C && ok; c++)
                    for (int i = 0; i < H && ok; i++)
                        for (int j = 0; j < W && ok; j++) {
                            int si = i + dy, sj = j + dx;
                            dt_real want = si >= 0 && si < H && sj >= 0 && sj < W ? (dt_real)((c * H + si) * W + sj + 1) : 0;
                            ok = img[(c * H + i) * W + j] == want;
                        }
                if (ok) {
                    found = 1;
                    moved += dy || dx;
                }
            }
        ck_assert_msg(found, "image %d is not a shifted copy", r);
    }
    ck_assert(moved > 16);
    dt_augment_destroy(&a);
}
END_TEST

START_TEST(deterministic_per_sample)
{
    dt_augment a;
    dt_real x1[4 * S], x2[4 * S];
    int64_t ids1[4] = {5, 6, 7, 8}, ids2[4] = {8, 7, 6, 5};
    ck_assert(dt_augment_init(&a, 2, 1, C, H, W, 9) == DT_OK);
    fill(x1, 4);
    fill(x2, 4);
    dt_augment_batch(&a, x1, ids1, 4, 2);
    dt_augment_batch(&a, x2, ids2, 4, 2); /* same samples, other order (another rank split) */
    for (int r = 0; r < 4; r++) ck_assert(!memcmp(x1 + r * S, x2 + (3 - r) * S, S * sizeof(dt_real)));
    fill(x2, 4);
    dt_augment_batch(&a, x2, ids1, 4, 3); /* another epoch: other draws */
    ck_assert(memcmp(x1, x2, sizeof x1) != 0);
    dt_augment_destroy(&a);
}
END_TEST

/* Boxes move with their pixels: a bright rectangle's tight box after the
 * move is the moved box, clipped; a box kept less than half is dropped. */
START_TEST(boxes_follow_pixels)
{
    enum { BH = 12, BW = 16, N = 200 };
    dt_augment a;
    static dt_real x[N * BH * BW], t[N * 2 * 5];
    int64_t ids[N];
    ck_assert(dt_augment_init(&a, 4, 1, 1, BH, BW, 3) == DT_OK);
    for (int r = 0; r < N; r++) {
        ids[r] = r;
        int x1 = r % 13, y1 = (r / 13) % 9, x2 = x1 + 3, y2 = y1 + 3; /* all over the picture, the borders too */
        for (int i = 0; i < BH * BW; i++) {
            int yy = i / BW, xx = i % BW;
            x[r * BH * BW + i] = xx >= x1 && xx < x2 && yy >= y1 && yy < y2;
        }
        dt_real *b = t + r * 10;
        b[0] = (dt_real)(r % 10), b[1] = (dt_real)x1, b[2] = (dt_real)y1, b[3] = (dt_real)x2, b[4] = (dt_real)y2;
        b[5] = -1, b[6] = b[7] = b[8] = b[9] = 0; /* the second row: no box, stays none */
    }
    dt_augment_batch(&a, x, ids, N, 5);
    dt_augment_boxes(&a, t, 2, ids, N, 5);
    int kept = 0, dropped = 0, clipped = 0;
    for (int r = 0; r < N; r++) {
        const dt_real *img = x + r * BH * BW, *b = t + r * 10;
        int lx = BW, ly = BH, hx = -1, hy = -1, lit = 0;
        for (int i = 0; i < BH * BW; i++)
            if (img[i] > 0) {
                int yy = i / BW, xx = i % BW;
                lit++;
                lx = xx < lx ? xx : lx, hx = xx > hx ? xx : hx, ly = yy < ly ? yy : ly, hy = yy > hy ? yy : hy;
            }
        ck_assert(b[5] == -1 && b[6] == 0 && b[9] == 0);
        if (b[0] >= 0) {
            ck_assert_msg(b[0] == (dt_real)(r % 10), "scene %d: the class changed", r);
            ck_assert_msg(b[1] == lx && b[2] == ly && b[3] == hx + 1 && b[4] == hy + 1,
                          "scene %d: box %g,%g,%g,%g, pixels %d,%d,%d,%d", r, b[1], b[2], b[3], b[4], lx, ly, hx + 1, hy + 1);
            kept++;
            clipped += lit < 9;
        } else {
            ck_assert_msg(lit < 5, "scene %d: dropped with %d of 9 pixels visible", r, lit); /* under half */
            ck_assert(b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0);
            dropped++;
        }
    }
    ck_assert(kept > N / 2 && dropped > 0 && clipped > 0);
    dt_augment_destroy(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("augment");
    TCase *tc = tcase_create("augment");
    tcase_add_test(tc, flip_only);
    tcase_add_test(tc, crop_moves_and_pads);
    tcase_add_test(tc, boxes_follow_pixels);
    tcase_add_test(tc, deterministic_per_sample);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
