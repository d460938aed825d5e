/* imgops.c — face-api's image steps and simple drawing; see imgops.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/imgops.h"
#include "vision/jsmath.h"

/* tfjs computes a + (b - a)*t in unfused doubles; keep GCC from fusing. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

void dt_img_pad_square(const float *src, int h, int w, int c, int center, float *dst, int *off_y, int *off_x)
{
    int s = h > w ? h : w, diff = s - (h > w ? w : h);
    /* padToSquare: round(diff · (center ? 0.5 : 1)) after, the rest before when centring */
    int after = (int)dt_js_round(diff * (center ? 0.5 : 1.0));
    int before = center ? diff - after : 0;
    int oy = h < w ? before : 0, ox = w < h ? before : 0;
    memset(dst, 0, (size_t)s * s * c * sizeof *dst);
    for (int r = 0; r < h; r++)
        memcpy(dst + ((size_t)(r + oy) * s + ox) * c, src + (size_t)r * w * c, (size_t)w * c * sizeof *src);
    if (off_y) *off_y = oy;
    if (off_x) *off_x = ox;
}

void dt_img_resize_bilinear(const float *src, int h, int w, int c, float *dst, int oh, int ow)
{
    /* tfjs-backend-cpu's ResizeBilinear kernel with alignCorners and
     * halfPixelCenters false, variable for variable */
    double sy = (double)h / oh, sx = (double)w / ow;
    size_t o = 0;
    for (int r = 0; r < oh; r++) {
        double inr = sy * r;
        int top = (int)fmax(0, floor(inr)), bot = (int)fmin(h - 1, ceil(inr));
        double ry = inr - top;
        const float *rt = src + (size_t)top * w * c, *rb = src + (size_t)bot * w * c;
        for (int q = 0; q < ow; q++) {
            double inc = sx * q;
            int left = (int)fmax(0, floor(inc)), right = (int)fmin(w - 1, ceil(inc));
            double rx = inc - left;
            for (int k = 0; k < c; k++) {
                double tl = rt[(size_t)left * c + k], bl = rb[(size_t)left * c + k];
                double tr = rt[(size_t)right * c + k], br = rb[(size_t)right * c + k];
                double t = tl + (tr - tl) * rx, b = bl + (br - bl) * rx;
                dst[o++] = (float)(t + (b - t) * ry);
            }
        }
    }
}

dt_status dt_img_to_input(const float *src, int h, int w, int c, int size, int center, float *dst)
{
    int s = h > w ? h : w;
    if (s == size) {
        dt_img_pad_square(src, h, w, c, center, dst, NULL, NULL);
        return DT_OK;
    }
    float *sq = malloc((size_t)s * s * c * sizeof *sq);
    if (!sq) return dt_error(DT_ERR_NOMEM, "out of memory padding a %dx%d image", h, w);
    dt_img_pad_square(src, h, w, c, center, sq, NULL, NULL);
    dt_img_resize_bilinear(sq, s, s, c, dst, size, size);
    free(sq);
    return DT_OK;
}

void dt_img_normalize(float *img, size_t n, const double *mean_rgb)
{
    /* tf.fill(..., mean, 'float32') rounds the means to float32 first */
    float m[3] = {0, 0, 0};
    if (mean_rgb)
        for (int k = 0; k < 3; k++) m[k] = (float)mean_rgb[k];
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            float v = img[3 * i + k];
            if (mean_rgb) v = v - m[k];
            img[3 * i + k] = v / 255.0f;
        }
}

void dt_img_crop(const float *src, int h, int w, int c, int x, int y, int bw, int bh, float *dst)
{
    (void)h;
    for (int r = 0; r < bh; r++)
        memcpy(dst + (size_t)r * bw * c, src + ((size_t)(y + r) * w + x) * c, (size_t)bw * c * sizeof *src);
}

int dt_img_clip_box(double x, double y, double bw, double bh, int img_w, int img_h, int *ox, int *oy, int *obw,
                    int *obh)
{
    *ox = *oy = *obw = *obh = 0;
    if (!isfinite(x) || !isfinite(y) || !isfinite(bw) || !isfinite(bh)) return 0;
    /* Box.clipAtImageBorders: right/bottom as the getters give them */
    double right = x + bw, bottom = y + bh;
    double cx = dt_js_max(x, 0), cy = dt_js_max(y, 0);
    double cw = dt_js_min(right - cx, img_w - cx), ch = dt_js_min(bottom - cy, img_h - cy);
    double fx = floor(cx), fy = floor(cy), fw = floor(cw), fh = floor(ch);
    if (!(fw > 0 && fh > 0)) return 0; /* extractFaceTensors' filter */
    *ox = (int)fx, *oy = (int)fy, *obw = (int)fw, *obh = (int)fh;
    return 1;
}

/* Fill [x0, x1] × [y0, y1] (inclusive), clipped; 64-bit so that far-off
 * coordinates cannot overflow. */
static void fill_rect(unsigned char *rgb, int h, int w, long long x0, long long y0, long long x1, long long y1,
                      const unsigned char col[3])
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > w - 1) x1 = w - 1;
    if (y1 > h - 1) y1 = h - 1;
    for (long long r = y0; r <= y1; r++)
        for (long long q = x0; q <= x1; q++) memcpy(rgb + ((size_t)r * w + (size_t)q) * 3, col, 3);
}

void dt_img_draw_box(unsigned char *rgb, int h, int w, int x1, int y1, int x2, int y2, int t,
                     const unsigned char color[3])
{
    long long a = x1 < x2 ? x1 : x2, b = x1 < x2 ? x2 : x1, p = y1 < y2 ? y1 : y2, q = y1 < y2 ? y2 : y1;
    long long tt = t < 1 ? 1 : t;
    fill_rect(rgb, h, w, a, p, b, p + tt - 1, color);
    fill_rect(rgb, h, w, a, q - tt + 1, b, q, color);
    fill_rect(rgb, h, w, a, p, a + tt - 1, q, color);
    fill_rect(rgb, h, w, b - tt + 1, p, b, q, color);
}

/* 5x7 glyphs, five columns each, bit 0 the top row (the classic LCD font). */
static const struct {
    char ch;
    unsigned char col[5];
} font[] = {
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00}}, {'.', {0x00, 0x60, 0x60, 0x00, 0x00}},
    {':', {0x00, 0x36, 0x36, 0x00, 0x00}}, {'-', {0x08, 0x08, 0x08, 0x08, 0x08}},
    {',', {0x00, 0x50, 0x30, 0x00, 0x00}}, {'%', {0x23, 0x13, 0x08, 0x64, 0x62}},
    {'(', {0x00, 0x1C, 0x22, 0x41, 0x00}}, {')', {0x00, 0x41, 0x22, 0x1C, 0x00}},
    {'/', {0x20, 0x10, 0x08, 0x04, 0x02}}, {'_', {0x40, 0x40, 0x40, 0x40, 0x40}},
    {'=', {0x14, 0x14, 0x14, 0x14, 0x14}}, {'+', {0x08, 0x08, 0x3E, 0x08, 0x08}},
    {'#', {0x14, 0x7F, 0x14, 0x7F, 0x14}},
    {'0', {0x3E, 0x51, 0x49, 0x45, 0x3E}}, {'1', {0x00, 0x42, 0x7F, 0x40, 0x00}},
    {'2', {0x42, 0x61, 0x51, 0x49, 0x46}}, {'3', {0x21, 0x41, 0x45, 0x4B, 0x31}},
    {'4', {0x18, 0x14, 0x12, 0x7F, 0x10}}, {'5', {0x27, 0x45, 0x45, 0x45, 0x39}},
    {'6', {0x3C, 0x4A, 0x49, 0x49, 0x30}}, {'7', {0x01, 0x71, 0x09, 0x05, 0x03}},
    {'8', {0x36, 0x49, 0x49, 0x49, 0x36}}, {'9', {0x06, 0x49, 0x49, 0x29, 0x1E}},
    {'A', {0x7E, 0x11, 0x11, 0x11, 0x7E}}, {'B', {0x7F, 0x49, 0x49, 0x49, 0x36}},
    {'C', {0x3E, 0x41, 0x41, 0x41, 0x22}}, {'D', {0x7F, 0x41, 0x41, 0x22, 0x1C}},
    {'E', {0x7F, 0x49, 0x49, 0x49, 0x41}}, {'F', {0x7F, 0x09, 0x09, 0x01, 0x01}},
    {'G', {0x3E, 0x41, 0x41, 0x51, 0x32}}, {'H', {0x7F, 0x08, 0x08, 0x08, 0x7F}},
    {'I', {0x00, 0x41, 0x7F, 0x41, 0x00}}, {'J', {0x20, 0x40, 0x41, 0x3F, 0x01}},
    {'K', {0x7F, 0x08, 0x14, 0x22, 0x41}}, {'L', {0x7F, 0x40, 0x40, 0x40, 0x40}},
    {'M', {0x7F, 0x02, 0x04, 0x02, 0x7F}}, {'N', {0x7F, 0x04, 0x08, 0x10, 0x7F}},
    {'O', {0x3E, 0x41, 0x41, 0x41, 0x3E}}, {'P', {0x7F, 0x09, 0x09, 0x09, 0x06}},
    {'Q', {0x3E, 0x41, 0x51, 0x21, 0x5E}}, {'R', {0x7F, 0x09, 0x19, 0x29, 0x46}},
    {'S', {0x46, 0x49, 0x49, 0x49, 0x31}}, {'T', {0x01, 0x01, 0x7F, 0x01, 0x01}},
    {'U', {0x3F, 0x40, 0x40, 0x40, 0x3F}}, {'V', {0x1F, 0x20, 0x40, 0x20, 0x1F}},
    {'W', {0x7F, 0x20, 0x18, 0x20, 0x7F}}, {'X', {0x63, 0x14, 0x08, 0x14, 0x63}},
    {'Y', {0x03, 0x04, 0x78, 0x04, 0x03}}, {'Z', {0x61, 0x51, 0x49, 0x45, 0x43}},
    {'a', {0x20, 0x54, 0x54, 0x54, 0x78}}, {'b', {0x7F, 0x48, 0x44, 0x44, 0x38}},
    {'c', {0x38, 0x44, 0x44, 0x44, 0x20}}, {'d', {0x38, 0x44, 0x44, 0x48, 0x7F}},
    {'e', {0x38, 0x54, 0x54, 0x54, 0x18}}, {'f', {0x08, 0x7E, 0x09, 0x01, 0x02}},
    {'g', {0x0C, 0x52, 0x52, 0x52, 0x3E}}, {'h', {0x7F, 0x08, 0x04, 0x04, 0x78}},
    {'i', {0x00, 0x44, 0x7D, 0x40, 0x00}}, {'j', {0x20, 0x40, 0x44, 0x3D, 0x00}},
    {'k', {0x7F, 0x10, 0x28, 0x44, 0x00}}, {'l', {0x00, 0x41, 0x7F, 0x40, 0x00}},
    {'m', {0x7C, 0x04, 0x18, 0x04, 0x78}}, {'n', {0x7C, 0x08, 0x04, 0x04, 0x78}},
    {'o', {0x38, 0x44, 0x44, 0x44, 0x38}}, {'p', {0x7C, 0x14, 0x14, 0x14, 0x08}},
    {'q', {0x08, 0x14, 0x14, 0x18, 0x7C}}, {'r', {0x7C, 0x08, 0x04, 0x04, 0x08}},
    {'s', {0x48, 0x54, 0x54, 0x54, 0x20}}, {'t', {0x04, 0x3F, 0x44, 0x40, 0x20}},
    {'u', {0x3C, 0x40, 0x40, 0x20, 0x7C}}, {'v', {0x1C, 0x20, 0x40, 0x20, 0x1C}},
    {'w', {0x3C, 0x40, 0x30, 0x40, 0x3C}}, {'x', {0x44, 0x28, 0x10, 0x28, 0x44}},
    {'y', {0x0C, 0x50, 0x50, 0x50, 0x3C}}, {'z', {0x44, 0x64, 0x54, 0x4C, 0x44}},
};
static const unsigned char unknown_glyph[5] = {0x7F, 0x41, 0x41, 0x41, 0x7F};

static const unsigned char *glyph(char ch)
{
    for (size_t i = 0; i < sizeof font / sizeof *font; i++)
        if (font[i].ch == ch) return font[i].col;
    return unknown_glyph;
}

void dt_img_text_size(const char *text, int scale, int *tw, int *th)
{
    size_t n = strlen(text);
    if (scale < 1) scale = 1;
    if (scale > 65536) scale = 65536;
    long long wd = n ? (6 * (long long)n + 1) * scale : 0;
    *tw = wd > 0x7fffffff ? 0x7fffffff : (int)wd;
    *th = n ? 9 * scale : 0;
}

void dt_img_draw_text(unsigned char *rgb, int h, int w, int x, int y, const char *text, int scale,
                      const unsigned char fg[3], const unsigned char bg[3])
{
    long long n = (long long)strlen(text), s = scale < 1 ? 1 : scale > 65536 ? 65536 : scale;
    if (!n) return;
    if (bg) fill_rect(rgb, h, w, x, y, x + (6 * n + 1) * s - 1, y + 9 * s - 1, bg);
    for (long long i = 0; i < n; i++) {
        const unsigned char *g = glyph(text[i]);
        long long gx = x + (1 + 6 * i) * s;
        if (gx > w) break; /* the rest lies right of the image */
        for (int q = 0; q < 5; q++)
            for (int r = 0; r < 7; r++)
                if (g[q] >> r & 1)
                    fill_rect(rgb, h, w, gx + q * s, y + (1 + r) * s, gx + (q + 1) * s - 1, y + (2 + r) * s - 1,
                              fg);
    }
}
