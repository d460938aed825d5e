/* im2col.c — convolution lowering and its adjoint (shapes in im2col.h).
 *
 * Both walk col row by row, so writes (im2col) and reads (col2im) of the
 * large matrix are sequential. For each kernel tap the output pixels whose
 * input lies inside the image form one interval per axis, computed once per
 * tap, so the inner loop is a branch-free copy (a contiguous one at stride 1)
 * and the padding is filled with plain zero runs. */
#include "ops/im2col.h"

/* ceil(a / b) for b > 0 and any sign of a */
static int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); }

/* Outputs o in [*lo, *hi) read input o*s - p + k inside [0, n). */
static void valid_range(int n, int s, int p, int k, int out, int *lo, int *hi)
{
    int a = ceil_div(p - k, s), b = ceil_div(n + p - k, s);
    *lo = a < 0 ? 0 : a > out ? out : a;
    *hi = b < *lo ? *lo : b > out ? out : b;
}

/* Zero the entries of the output rows [ylo, yhi) outside columns [xlo, xhi). */
static void zero_edges(dt_real *r, int OW, int ylo, int yhi, int xlo, int xhi)
{
    for (int oy = ylo; oy < yhi; oy++) {
        for (int ox = 0; ox < xlo; ox++) r[(int64_t)oy * OW + ox] = 0;
        for (int ox = xhi; ox < OW; ox++) r[(int64_t)oy * OW + ox] = 0;
    }
}

void dt_im2col_rows(const dt_conv_geom *g, const dt_real *x, dt_real *col, int64_t ldc, int oy0, int oy1)
{
    const int OW = g->ow, sw = g->sw;
    /* stride 1 and OW == W: input rows are output rows apart, so a tap's
     * whole valid block is one shifted contiguous copy */
    const int flat = sw == 1 && OW == g->w;
    const int64_t base = (int64_t)oy0 * OW, end = (int64_t)oy1 * OW; /* col's column 0 is pixel base */
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++) {
            int ylo, yhi;
            valid_range(g->h, g->sh, g->pt, i, g->oh, &ylo, &yhi);
            ylo = ylo < oy0 ? oy0 : ylo > oy1 ? oy1 : ylo;
            yhi = yhi > oy1 ? oy1 : yhi < ylo ? ylo : yhi;
            for (int j = 0; j < g->kw; j++) {
                int xlo, xhi;
                valid_range(g->w, sw, g->pl, j, OW, &xlo, &xhi);
                dt_real *r = col + ((int64_t)(c * g->kh + i) * g->kw + j) * ldc;
                for (int64_t k = base; k < (int64_t)ylo * OW; k++) r[k - base] = 0;
                if (flat && ylo < yhi) {
                    /* x[at + k] is the input under pixel k; what wraps into a neighbouring row is zeroed after */
                    int64_t at = ((int64_t)c * g->h - g->pt + i) * g->w - g->pl + j;
                    for (int64_t k = (int64_t)ylo * OW + xlo; k < (int64_t)(yhi - 1) * OW + xhi; k++) r[k - base] = x[at + k];
                    zero_edges(r, OW, ylo - oy0, yhi - oy0, xlo, xhi);
                } else {
                    for (int oy = ylo; oy < yhi; oy++) {
                        /* x[at + ox * sw] is the input under output ox (at may be < 0) */
                        int64_t at = ((int64_t)c * g->h + oy * g->sh - g->pt + i) * g->w - g->pl + j;
                        dt_real *d = r + (int64_t)(oy - oy0) * OW;
                        for (int ox = 0; ox < xlo; ox++) d[ox] = 0;
                        if (sw == 1) /* contiguous: let it vectorise */
                            for (int ox = xlo; ox < xhi; ox++) d[ox] = x[at + ox];
                        else if (sw == 2) /* a constant stride vectorises too (stems, down-sampling) */
                            for (int ox = xlo; ox < xhi; ox++) d[ox] = x[at + (int64_t)ox * 2];
                        else
                            for (int ox = xlo; ox < xhi; ox++) d[ox] = x[at + (int64_t)ox * sw];
                        for (int ox = xhi; ox < OW; ox++) d[ox] = 0;
                    }
                }
                for (int64_t k = (int64_t)yhi * OW; k < end; k++) r[k - base] = 0;
            }
        }
}

void dt_im2col(const dt_conv_geom *g, const dt_real *x, dt_real *col, int64_t ldc)
{
    dt_im2col_rows(g, x, col, ldc, 0, g->oh);
}

void dt_im2row(const dt_conv_geom *g, const dt_real *x, dt_real *rows, int64_t ld)
{
    const int OW = g->ow, HP = g->oh + g->kh - 1;
    for (int c = 0; c < g->c; c++)
        for (int j = 0; j < g->kw; j++) {
            int xlo, xhi;
            valid_range(g->w, 1, g->pl, j, OW, &xlo, &xhi);
            dt_real *r = rows + (int64_t)(c * g->kw + j) * ld;
            for (int yp = 0; yp < HP; yp++) {
                int y = yp - g->pt;
                dt_real *d = r + (int64_t)yp * OW;
                if (y < 0 || y >= g->h) {
                    for (int ox = 0; ox < OW; ox++) d[ox] = 0;
                    continue;
                }
                const dt_real *s = x + ((int64_t)c * g->h + y) * g->w - g->pl + j; /* s[ox] is under output ox */
                for (int ox = 0; ox < xlo; ox++) d[ox] = 0;
                for (int ox = xlo; ox < xhi; ox++) d[ox] = s[ox];
                for (int ox = xhi; ox < OW; ox++) d[ox] = 0;
            }
        }
}

void dt_row2im(const dt_conv_geom *g, const dt_real *rows, int64_t ld, dt_real *x)
{
    const int OW = g->ow, HP = g->oh + g->kh - 1;
    for (int c = 0; c < g->c; c++)
        for (int j = 0; j < g->kw; j++) {
            int xlo, xhi;
            valid_range(g->w, 1, g->pl, j, OW, &xlo, &xhi);
            const dt_real *r = rows + (int64_t)(c * g->kw + j) * ld;
            for (int yp = 0; yp < HP; yp++) {
                int y = yp - g->pt;
                if (y < 0 || y >= g->h) continue;
                const dt_real *s = r + (int64_t)yp * OW;
                dt_real *d = x + ((int64_t)c * g->h + y) * g->w - g->pl + j; /* d[ox] is under output ox */
                for (int ox = xlo; ox < xhi; ox++) d[ox] += s[ox];
            }
        }
}

void dt_col2im(const dt_conv_geom *g, dt_real *col, int64_t ldc, dt_real *x)
{
    const int OW = g->ow, sw = g->sw, flat = sw == 1 && OW == g->w;
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++) {
            int ylo, yhi;
            valid_range(g->h, g->sh, g->pt, i, g->oh, &ylo, &yhi);
            for (int j = 0; j < g->kw; j++) {
                int xlo, xhi;
                valid_range(g->w, sw, g->pl, j, OW, &xlo, &xhi);
                dt_real *r = col + ((int64_t)(c * g->kh + i) * g->kw + j) * ldc;
                if (flat && ylo < yhi) {
                    /* as in im2col: zero what would wrap, then one long add */
                    int64_t at = ((int64_t)c * g->h - g->pt + i) * g->w - g->pl + j;
                    zero_edges(r, OW, ylo, yhi, xlo, xhi);
                    for (int64_t k = (int64_t)ylo * OW + xlo; k < (int64_t)(yhi - 1) * OW + xhi; k++) x[at + k] += r[k];
                    continue;
                }
                for (int oy = ylo; oy < yhi; oy++) {
                    int64_t at = ((int64_t)c * g->h + oy * g->sh - g->pt + i) * g->w - g->pl + j;
                    const dt_real *s = r + (int64_t)oy * OW;
                    if (sw == 1)
                        for (int ox = xlo; ox < xhi; ox++) x[at + ox] += s[ox];
                    else
                        for (int ox = xlo; ox < xhi; ox++) x[at + (int64_t)ox * sw] += s[ox];
                }
            }
        }
}
