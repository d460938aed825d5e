/* test_imgops.c — src/vision/imgops: padToSquare's centring for odd and
 * even differences, TF's resizeBilinear worked by hand and against TF.js
 * (tfjs-backend-cpu 4.22 inside face-api 1.7.15, under Node 20), face-api's
 * toBatchTensor and normalize, crops, box clipping with its floor quirk, and
 * drawing that stays inside the image whatever the coordinates.
 *
 * The hashes are FNV-1a over the float32 bit patterns of what TF.js returned
 * for the same formula images (pix below, Math.fround on the JS side), so a
 * single differing bit fails. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "vision/imgops.h"

/* the JS side: Math.fround(((i * 2654435761 + salt) % 65536) / 257) */
static float *pix(int h, int w, int c, int salt)
{
    size_t n = (size_t)h * w * c;
    float *p = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) p[i] = (float)((double)((i * 2654435761ULL + (uint64_t)salt) % 65536) / 257);
    return p;
}

static uint32_t fnv(const float *f, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, &f[i], sizeof w);
        for (int s = 0; s < 32; s += 8) h = (h ^ ((w >> s) & 255)) * 16777619u;
    }
    return h;
}

START_TEST(pad_square_centring)
{
    /* h, w, center → offsets; odd diff 3: round(1.5) = 2 after, 1 before */
    static const struct {
        int h, w, center, oy, ox;
        uint32_t hash; /* face-api padToSquare(tensor, center); 0: not run there */
    } c[] = {
        {5, 8, 1, 1, 0, 0x9ddf984bu}, {5, 8, 0, 0, 0, 0x4470a44bu}, {8, 5, 1, 0, 1, 0x508bb17bu},
        {6, 9, 1, 1, 0, 0xcd1052feu}, {9, 6, 1, 0, 1, 0xd46777beu}, {7, 7, 1, 0, 0, 0x8b98d348u},
        {6, 8, 1, 1, 0, 0},           {4, 8, 1, 2, 0, 0},           {2, 5, 1, 1, 0, 0},
        {8, 4, 0, 0, 0, 0},           {1, 2, 1, 0, 0, 0}, /* diff 1: round(0.5) = 1 after, none before */
    };
    for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
        int h = c[k].h, w = c[k].w, s = h > w ? h : w, oy = -1, ox = -1;
        float *src = pix(h, w, 3, 7), *dst = malloc((size_t)s * s * 3 * sizeof *dst);
        dt_img_pad_square(src, h, w, 3, c[k].center, dst, &oy, &ox);
        ck_assert_msg(oy == c[k].oy && ox == c[k].ox, "%dx%d: offsets %d %d", h, w, oy, ox);
        for (int r = 0; r < s; r++)
            for (int q = 0; q < s; q++)
                for (int ch = 0; ch < 3; ch++) {
                    int sr = r - oy, sq = q - ox;
                    float want = sr >= 0 && sr < h && sq >= 0 && sq < w ? src[(sr * w + sq) * 3 + ch] : 0.0f;
                    ck_assert(dst[(r * s + q) * 3 + ch] == want);
                }
        if (c[k].hash) ck_assert_uint_eq(fnv(dst, (size_t)s * s * 3), c[k].hash);
        free(src);
        free(dst);
    }
}
END_TEST

START_TEST(resize_by_hand)
{
    /* 2x2 → 3x3: source position out·2/3 (0, 2/3, 4/3); the last row and
     * column clamp to the edge (no half-pixel centres) */
    static const float a[4] = {0, 10, 20, 30};
    static const float want3[9] = {0.00000000f, 6.66666651f, 10.0000000f, 13.3333330f, 20.0000000f,
                                   23.3333340f, 20.0000000f, 26.6666660f, 30.0000000f};
    float o[15];
    dt_img_resize_bilinear(a, 2, 2, 1, o, 3, 3);
    for (int i = 0; i < 9; i++) ck_assert_msg(o[i] == want3[i], "3x3[%d] = %.9g", i, o[i]);
    ck_assert_float_eq_tol(o[1], 20.0f / 3, 1e-5);
    /* row 2/3, column 2/3: top 0 + 10·2/3, bottom 20 + 10·2/3, between them 20 */
    ck_assert_float_eq_tol(o[4], 10 * 2.0f / 3 + 20 * 2.0f / 3, 1e-5);

    /* 4x4 → 2x2: scale 2 samples rows and columns 0 and 2 (TF's legacy
     * resize skips pixels when shrinking, it does not average) */
    float b[16];
    for (int i = 0; i < 16; i++) b[i] = i * i * 0.5f + 1;
    dt_img_resize_bilinear(b, 4, 4, 1, o, 2, 2);
    ck_assert(o[0] == b[0] && o[1] == b[2] && o[2] == b[8] && o[3] == b[10]);
    ck_assert(o[0] == 1 && o[1] == 3 && o[2] == 33 && o[3] == 51);

    /* 4x4 → 3x5, TF.js's numbers */
    static const float want35[15] = {1.00000000f, 1.39999998f, 2.40000010f, 4.00000000f, 5.50000000f,
                                     17.0000000f, 21.6666660f, 26.9333324f, 32.7999992f, 37.5000000f,
                                     59.6666679f, 68.5999985f, 78.1333313f, 88.2666702f, 96.1666641f};
    dt_img_resize_bilinear(b, 4, 4, 1, o, 3, 5);
    for (int i = 0; i < 15; i++) ck_assert_msg(o[i] == want35[i], "3x5[%d] = %.9g", i, o[i]);
}
END_TEST

START_TEST(resize_tfjs)
{
    float *src = pix(23, 37, 3, 1);
    float *o = malloc(64 * 64 * 3 * sizeof *o);
    ck_assert_uint_eq(fnv(src, 23 * 37 * 3), 0x1fa0e64u);
    dt_img_resize_bilinear(src, 23, 37, 3, o, 64, 64);
    ck_assert_uint_eq(fnv(o, 64 * 64 * 3), 0xb1fedaadu);
    dt_img_resize_bilinear(src, 23, 37, 3, o, 16, 16);
    ck_assert_uint_eq(fnv(o, 16 * 16 * 3), 0x2f524edfu);
    dt_img_resize_bilinear(src, 23, 37, 3, o, 50, 9);
    ck_assert_uint_eq(fnv(o, 50 * 9 * 3), 0x497d9bf4u);
    /* the same size is the identity */
    dt_img_resize_bilinear(src, 23, 37, 3, o, 23, 37);
    ck_assert(memcmp(o, src, 23 * 37 * 3 * sizeof *o) == 0);
    free(src);
    free(o);
}
END_TEST

START_TEST(to_input_and_normalize)
{
    /* NetInput([tensor3d]).toBatchTensor(size, center), then
     * normalize(·, [117.001, 114.697, 97.404]).div(255) and ·.div(255) */
    static const struct {
        int h, w, size, center;
        uint32_t batch, norm, div;
    } c[] = {
        {23, 37, 416, 0, 0x5f3f25a7u, 0x793182e4u, 0xe2e4967cu},
        {37, 23, 112, 1, 0x72f92d1au, 0xcea2883du, 0x5d1641a5u},
        {30, 30, 30, 1, 0xcfffe908u, 0xcb829002u, 0x5ebb254fu},
        {41, 28, 150, 1, 0x211fa01u, 0xd63b705au, 0xc2db9c3eu},
    };
    static const double mean[3] = {117.001, 114.697, 97.404};
    for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
        size_t n = (size_t)c[k].size * c[k].size;
        float *src = pix(c[k].h, c[k].w, 3, 3), *o = malloc(n * 3 * sizeof *o), *o2 = malloc(n * 3 * sizeof *o2);
        ck_assert(dt_img_to_input(src, c[k].h, c[k].w, 3, c[k].size, c[k].center, o) == DT_OK);
        ck_assert_uint_eq(fnv(o, n * 3), c[k].batch);
        memcpy(o2, o, n * 3 * sizeof *o);
        dt_img_normalize(o, n, mean);
        ck_assert_uint_eq(fnv(o, n * 3), c[k].norm);
        dt_img_normalize(o2, n, NULL);
        ck_assert_uint_eq(fnv(o2, n * 3), c[k].div);
        free(src);
        free(o);
        free(o2);
    }
}
END_TEST

START_TEST(crop_copies)
{
    float *src = pix(6, 7, 3, 5), dst[3 * 2 * 3];
    dt_img_crop(src, 6, 7, 3, 4, 3, 3, 2, dst); /* x 4, y 3, 3 wide, 2 high */
    for (int r = 0; r < 2; r++)
        for (int q = 0; q < 3; q++)
            for (int ch = 0; ch < 3; ch++) ck_assert(dst[(r * 3 + q) * 3 + ch] == src[((3 + r) * 7 + 4 + q) * 3 + ch]);
    dt_img_crop(src, 6, 7, 3, 0, 0, 7, 6, (float[126]){0}); /* the whole image */
    free(src);
}
END_TEST

static void clip_eq(double x, double y, double w, double h, int iw, int ih, int ok, int ex, int ey, int ew, int eh)
{
    int ox, oy, ow, oh;
    int r = dt_img_clip_box(x, y, w, h, iw, ih, &ox, &oy, &ow, &oh);
    ck_assert_msg(r == ok, "clip(%g, %g, %g, %g) returned %d", x, y, w, h, r);
    if (ok) ck_assert_msg(ox == ex && oy == ey && ow == ew && oh == eh, "clip(%g, %g, %g, %g) = %d %d %d %d", x, y, w, h, ox, oy, ow, oh);
}

START_TEST(clip_box)
{
    clip_eq(10.7, 5.2, 20.6, 30.9, 100, 60, 1, 10, 5, 20, 30);
    /* x and width floored apart: 2.7 + 10.6 = 13.3, yet the box ends at 12 */
    clip_eq(2.7, 0, 10.6, 5, 100, 60, 1, 2, 0, 10, 5);
    clip_eq(-5.5, -2, 20, 10, 100, 60, 1, 0, 0, 14, 8);    /* clipped at the top-left */
    clip_eq(90, 40, 50, 50, 100, 60, 1, 90, 40, 10, 20);   /* and at the bottom-right */
    clip_eq(-10, -10, 200, 200, 100, 60, 1, 0, 0, 100, 60);
    clip_eq(120, 0, 10, 10, 100, 60, 0, 0, 0, 0, 0);       /* right of the image */
    clip_eq(-30, 0, 10, 10, 100, 60, 0, 0, 0, 0, 0);       /* left of it */
    clip_eq(10, 10, 0.9, 5, 100, 60, 0, 0, 0, 0, 0);       /* floors to zero width */
    clip_eq(99.5, 10, 5, 5, 100, 60, 0, 0, 0, 0, 0);       /* 0.5 wide inside: floor 0 */
    clip_eq(NAN, 0, 5, 5, 100, 60, 0, 0, 0, 0, 0);
    clip_eq(0, 0, INFINITY, 5, 100, 60, 0, 0, 0, 0, 0);
    clip_eq(1e300, 0, -1e300, 5, 100, 60, 0, 0, 0, 0, 0);
}
END_TEST

/* An RGB image with guard bytes on both sides, to catch writes outside it
 * even without ASan. */
#define GUARD 64
static unsigned char *canvas(int h, int w, unsigned char **img)
{
    unsigned char *buf = malloc((size_t)h * w * 3 + 2 * GUARD);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 0xA5, GUARD);
    memset(buf + GUARD, 0, (size_t)h * w * 3);
    memset(buf + GUARD + (size_t)h * w * 3, 0x5A, GUARD);
    *img = buf + GUARD;
    return buf;
}

static void guards_intact(const unsigned char *buf, int h, int w)
{
    for (int i = 0; i < GUARD; i++) {
        ck_assert_uint_eq(buf[i], 0xA5);
        ck_assert_uint_eq(buf[GUARD + (size_t)h * w * 3 + i], 0x5A);
    }
}

static int lit(const unsigned char *img, int w, int x, int y)
{
    const unsigned char *p = img + ((size_t)y * w + x) * 3;
    return p[0] || p[1] || p[2];
}

static int count_lit(const unsigned char *img, int h, int w)
{
    int n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) n += lit(img, w, x, y);
    return n;
}

START_TEST(draw_box_clips)
{
    enum { H = 10, W = 12 };
    static const unsigned char red[3] = {255, 0, 0};
    unsigned char *img, *buf = canvas(H, W, &img);
    dt_img_draw_box(img, H, W, 2, 3, 8, 7, 1, red); /* 7 x 5 outline: 2·7 + 2·3 pixels */
    ck_assert_int_eq(count_lit(img, H, W), 20);
    ck_assert(lit(img, W, 2, 3) && lit(img, W, 8, 7) && lit(img, W, 5, 3) && lit(img, W, 2, 5));
    ck_assert(!lit(img, W, 5, 5) && !lit(img, W, 1, 3) && !lit(img, W, 9, 7));
    ck_assert(memcmp(img + ((size_t)3 * W + 2) * 3, red, 3) == 0);
    memset(img, 0, H * W * 3);
    dt_img_draw_box(img, H, W, 8, 7, 2, 3, 2, red); /* corners swapped, thickness 2 inwards */
    ck_assert_int_eq(count_lit(img, H, W), 7 * 5 - 3 * 1);
    memset(img, 0, H * W * 3);
    /* all four sides outside: nothing drawn */
    dt_img_draw_box(img, H, W, -5, -5, 20, 20, 2, red);
    ck_assert_int_eq(count_lit(img, H, W), 0);
    /* partly outside: only the parts inside */
    dt_img_draw_box(img, H, W, -3, -4, 5, 6, 1, red);
    ck_assert_int_eq(count_lit(img, H, W), 6 + 7 - 1); /* right side x 5, rows 0..6; bottom row 6, x 0..5 */
    /* far-off and extreme coordinates, huge thickness */
    memset(img, 0, H * W * 3);
    dt_img_draw_box(img, H, W, INT_MIN, INT_MIN, INT_MAX, INT_MAX, INT_MAX, red);
    ck_assert_int_eq(count_lit(img, H, W), H * W - 1); /* the bands end at -2 (top, left) and start at 1 */
    dt_img_draw_box(img, H, W, INT_MAX, INT_MAX, INT_MAX, INT_MAX, 3, red);
    dt_img_draw_box(img, H, W, INT_MIN, 0, INT_MIN + 1, H, 1, red);
    guards_intact(buf, H, W);
    free(buf);
}
END_TEST

START_TEST(draw_text_clips)
{
    enum { H = 20, W = 30 };
    static const unsigned char fg[3] = {255, 255, 255}, bg[3] = {0, 0, 80};
    unsigned char *img, *buf = canvas(H, W, &img);
    int tw, th;
    dt_img_text_size("AB", 2, &tw, &th);
    ck_assert_int_eq(tw, 26);
    ck_assert_int_eq(th, 18);
    dt_img_text_size("", 3, &tw, &th);
    ck_assert_int_eq(tw, 0);
    /* an unknown character is a hollow 5x7 box: its corners lit, its inside not */
    dt_img_draw_text(img, H, W, 0, 0, "\x01", 1, fg, NULL);
    ck_assert(lit(img, W, 1, 1) && lit(img, W, 5, 1) && lit(img, W, 1, 7) && lit(img, W, 5, 7) && lit(img, W, 3, 1));
    ck_assert(!lit(img, W, 3, 4) && !lit(img, W, 0, 0) && !lit(img, W, 6, 1));
    ck_assert_int_eq(count_lit(img, H, W), 2 * 5 + 2 * 5);
    /* '1' has its stem in the glyph's middle column, all seven rows */
    memset(img, 0, H * W * 3);
    dt_img_draw_text(img, H, W, 0, 0, "1", 1, fg, NULL);
    for (int r = 1; r <= 7; r++) ck_assert(lit(img, W, 3, r));
    /* background fills the whole label */
    memset(img, 0, H * W * 3);
    dt_img_draw_text(img, H, W, 1, 1, "-", 1, fg, bg);
    ck_assert_int_eq(count_lit(img, H, W), 7 * 9);
    ck_assert(img[((size_t)1 * W + 1) * 3 + 2] == 80 && img[((size_t)5 * W + 2) * 3] == 255);
    /* negative, too large and extreme positions, long text, big scale */
    dt_img_draw_text(img, H, W, -7, -5, "Face 0.97: xyz-123", 2, fg, bg);
    dt_img_draw_text(img, H, W, W - 3, H - 2, "Car 12%", 3, fg, bg);
    dt_img_draw_text(img, H, W, INT_MIN, INT_MIN, "ok", INT_MAX, fg, bg);
    dt_img_draw_text(img, H, W, INT_MAX, INT_MAX, "ok", INT_MAX, fg, NULL);
    dt_img_draw_text(img, H, W, -1000000, 3, "a long label that runs far off the image to the right", 1, fg, bg);
    guards_intact(buf, H, W);
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("imgops");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, pad_square_centring);
    tcase_add_test(tc, resize_by_hand);
    tcase_add_test(tc, resize_tfjs);
    tcase_add_test(tc, to_input_and_normalize);
    tcase_add_test(tc, crop_copies);
    tcase_add_test(tc, clip_box);
    tcase_add_test(tc, draw_box_clips);
    tcase_add_test(tc, draw_text_clips);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
