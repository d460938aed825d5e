/* dconv.c — direct convolution over padded planes (see dconv.h). */
#include <string.h>

#include "ops/dconv.h"

#if defined(__AVX512F__) && !defined(DTRAIN_DOUBLE)
#define DCONV_AVX512 1
#define DCONV_KERNEL 1
#include <immintrin.h>
#elif defined(__AVX2__) && defined(__FMA__) && !defined(DTRAIN_DOUBLE)
#define DCONV_AVX2 1
#define DCONV_KERNEL 1
#include <immintrin.h>
#endif

int dt_dconv_available(void)
{
#ifdef DCONV_KERNEL
    return 1;
#else
    return 0;
#endif
}

int dt_dconv_lanes_backward(void)
{
#ifdef DCONV_AVX512
    return 1;
#else
    return 0;
#endif
}

int dt_dconv_supports(const dt_conv_geom *g, int f)
{
    return g->sh == g->sw && (g->sh == 1 || g->sh == 2) && g->kh * g->kw > 1 && f % DT_DCONV_FT == 0;
}

int dt_dconv_planes(const dt_conv_geom *g, int *hq, int *wq)
{
    int s = g->sh;
    *hq = g->oh + (g->kh + s - 1) / s - 1;
    *wq = g->ow + (g->kw + s - 1) / s - 1;
    return s * s;
}

int64_t dt_dconv_reach(const dt_conv_geom *g)
{
    int hq, wq, s = g->sh;
    dt_dconv_planes(g, &hq, &wq);
    return (int64_t)((g->kh - 1) / s) * wq + (g->kw - 1) / s;
}

void dt_dconv_offsets(const dt_conv_geom *g, int64_t ldx, int64_t *off)
{
    int hq, wq, s = g->sh, planes = dt_dconv_planes(g, &hq, &wq);
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++)
                *off++ = ((int64_t)c * planes + i % s * s + j % s) * ldx + (int64_t)(i / s) * wq + j / s;
}

void dt_dconv_flipped(const dt_conv_geom *g, int f, dt_conv_geom *flip)
{
    *flip = (dt_conv_geom){.c = f, .h = g->oh, .w = g->ow, .kh = g->kh, .kw = g->kw, .sh = 1, .sw = 1,
                           .pt = g->kh - 1 - g->pt, .pl = g->kw - 1 - g->pl, .oh = g->h, .ow = g->w};
}

void dt_dconv_pack_flipped(const dt_real *W, int f, int c, int kh, int kw, dt_real *Wt)
{
    int64_t taps = (int64_t)kh * kw, k = f * taps; /* the flipped layer's K: its inputs are our filters */
    for (int64_t ci = 0; ci < c; ci++)
        for (int64_t o = 0; o < f; o++)
            for (int64_t t = 0; t < taps; t++)
                Wt[(ci / DT_DCONV_FT * k + o * taps + t) * DT_DCONV_FT + ci % DT_DCONV_FT] =
                    W[(o * c + ci) * taps + taps - 1 - t];
}

void dt_dconv_pad(const dt_conv_geom *g, const dt_real *x, dt_real *xp, int64_t ldx)
{
    int hq, wq, s = g->sh, planes = dt_dconv_planes(g, &hq, &wq);
    for (int c = 0; c < g->c; c++)
        for (int ph = 0; ph < planes; ph++) {
            int py = ph / s, px = ph % s;
            dt_real *p = xp + ((int64_t)c * planes + ph) * ldx;
            const dt_real *xc = x + (int64_t)c * g->h * g->w;
            /* plane column j reads input column s*j + px - pl: j in [j0, j1) inside */
            int j0 = (g->pl - px + s - 1) / s, j1 = (g->w + g->pl - px + s - 1) / s;
            if (j0 < 0) j0 = 0;
            if (j1 > wq) j1 = wq;
            if (j1 < j0) j1 = j0;
            for (int i = 0; i < hq; i++) {
                dt_real *r = p + (int64_t)i * wq;
                int y = s * i + py - g->pt;
                if (y < 0 || y >= g->h) {
                    memset(r, 0, (size_t)wq * sizeof *r);
                    continue;
                }
                const dt_real *xr = xc + (int64_t)y * g->w + s * j0 + px - g->pl;
                memset(r, 0, (size_t)j0 * sizeof *r);
                if (s == 1)
                    memcpy(r + j0, xr, (size_t)(j1 - j0) * sizeof *r);
                else
                    for (int j = j0; j < j1; j++) r[j] = xr[(j - j0) * s];
                memset(r + j1, 0, (size_t)(wq - j1) * sizeof *r);
            }
        }
}

#ifdef DCONV_AVX512
/* One tile: FT filters by PX vectors of outputs (16 flat pixels each, or
 * one pixel of 16 examples), 8*PX accumulators in registers; each tap reads
 * PX input vectors, pstep apart, and broadcasts FT weights: at PX = 3, 24
 * multiply-adds for 11 loads. Tiles of 4 filters by 6 vectors ran as fast;
 * 12 or 14 filters by 2 vectors slower. */
#define DCONV_TILE(NAME, PX)                                                                                      \
    static void NAME(const float *x, const int64_t *off, int64_t k, int64_t pstep, const float *w, int64_t wjs,   \
                     int64_t wts, float *o, int64_t ldo)                                                          \
    {                                                                                                             \
        __m512 a[DT_DCONV_FT][PX];                                                                                \
        _Pragma("GCC unroll 8") for (int j = 0; j < DT_DCONV_FT; j++)                                             \
            _Pragma("GCC unroll 3") for (int v = 0; v < PX; v++) a[j][v] = _mm512_setzero_ps();                   \
        for (int64_t t = 0; t < k; t++, w += wts) {                                                               \
            const float *xt = x + off[t];                                                                         \
            __m512 in[PX];                                                                                        \
            _Pragma("GCC unroll 3") for (int v = 0; v < PX; v++) in[v] = _mm512_loadu_ps(xt + v * pstep);         \
            _Pragma("GCC unroll 8") for (int j = 0; j < DT_DCONV_FT; j++)                                         \
            {                                                                                                     \
                __m512 wj = _mm512_set1_ps(w[j * wjs]);                                                           \
                _Pragma("GCC unroll 3") for (int v = 0; v < PX; v++) a[j][v] = _mm512_fmadd_ps(wj, in[v], a[j][v]); \
            }                                                                                                     \
        }                                                                                                         \
        _Pragma("GCC unroll 8") for (int j = 0; j < DT_DCONV_FT; j++)                                             \
            _Pragma("GCC unroll 3") for (int v = 0; v < PX; v++) _mm512_storeu_ps(o + j * ldo + 16 * v, a[j][v]); \
    }
DCONV_TILE(dconv_tile1, 1)
DCONV_TILE(dconv_tile2, 2)
DCONV_TILE(dconv_tile3, 3)

/* The weight gradient's tile: FT filters by KT taps, each a vector of the
 * lanes' sums over the output pixels (one load of the gradient for KT
 * taps, one of the input for FT filters), reduced across the lanes at the
 * end and added to dW [FT, k] (rows k apart). dz at filter 0's pixel
 * (0, 0), filters dstride apart, rows dwp pixels apart; x at pixel (0, 0)
 * of the padded planes, rows wp apart, taps at off. */
#define WGRAD_TILE(NAME, KT)                                                                                      \
    static void NAME(const float *x, int wp, const int64_t *off, const float *dz, int dwp, int64_t dstride,      \
                     int oh, int ow, float *dW, int64_t k)                                                        \
    {                                                                                                             \
        const int L = DT_DCONV_LANES;                                                                             \
        __m512 a[DT_DCONV_FT][KT];                                                                                \
        _Pragma("GCC unroll 8") for (int j = 0; j < DT_DCONV_FT; j++)                                             \
            _Pragma("GCC unroll 3") for (int t = 0; t < KT; t++) a[j][t] = _mm512_setzero_ps();                   \
        for (int oy = 0; oy < oh; oy++)                                                                           \
            for (int ox = 0; ox < ow; ox++) {                                                                     \
                const float *xp = x + ((int64_t)oy * wp + ox) * L, *dp = dz + ((int64_t)oy * dwp + ox) * L;       \
                __m512 xv[KT];                                                                                    \
                _Pragma("GCC unroll 3") for (int t = 0; t < KT; t++) xv[t] = _mm512_loadu_ps(xp + off[t]);        \
                _Pragma("GCC unroll 8") for (int j = 0; j < DT_DCONV_FT; j++)                                     \
                {                                                                                                 \
                    __m512 d = _mm512_loadu_ps(dp + j * dstride);                                                 \
                    _Pragma("GCC unroll 3") for (int t = 0; t < KT; t++) a[j][t] = _mm512_fmadd_ps(d, xv[t], a[j][t]); \
                }                                                                                                 \
            }                                                                                                     \
        _Pragma("GCC unroll 8") for (int j = 0; j < DT_DCONV_FT; j++)                                             \
            _Pragma("GCC unroll 3") for (int t = 0; t < KT; t++) dW[j * k + t] += _mm512_reduce_add_ps(a[j][t]); \
    }
WGRAD_TILE(wgrad_tile1, 1)
WGRAD_TILE(wgrad_tile2, 2)
WGRAD_TILE(wgrad_tile3, 3)
#elif defined(DCONV_AVX2)
/* AVX2 has 16 registers of 8 floats, so a tile's 16-float vectors are two
 * registers each (register r of the tile at (r / 2)*pstep + (r % 2)*8) and
 * the tile is computed in blocks of FG filters by NY registers, FG*NY
 * accumulators each: 4 x 3 (12 accumulators, 7 loads for 12 multiply-adds)
 * where the tile has 6 registers, else 4 x 2. The blocks read the same
 * inputs and weights again, from L1. */
#define DCONV_BLOCK(NAME, FG, NY)                                                                                 \
    static void NAME(const float *x, const int64_t *off, int64_t k, int64_t pstep, int r0, const float *w,        \
                     int64_t wjs, int64_t wts, float *o, int64_t ldo)                                             \
    {                                                                                                             \
        __m256 a[FG][NY];                                                                                         \
        int64_t at[NY];                                                                                           \
        _Pragma("GCC unroll 4") for (int r = 0; r < NY; r++) at[r] = (r0 + r) / 2 * pstep + (r0 + r) % 2 * 8;    \
        _Pragma("GCC unroll 4") for (int j = 0; j < FG; j++)                                                      \
            _Pragma("GCC unroll 4") for (int r = 0; r < NY; r++) a[j][r] = _mm256_setzero_ps();                   \
        for (int64_t t = 0; t < k; t++, w += wts) {                                                               \
            const float *xt = x + off[t];                                                                         \
            __m256 in[NY];                                                                                        \
            _Pragma("GCC unroll 4") for (int r = 0; r < NY; r++) in[r] = _mm256_loadu_ps(xt + at[r]);             \
            _Pragma("GCC unroll 4") for (int j = 0; j < FG; j++)                                                  \
            {                                                                                                     \
                __m256 wj = _mm256_broadcast_ss(w + j * wjs);                                                     \
                _Pragma("GCC unroll 4") for (int r = 0; r < NY; r++) a[j][r] = _mm256_fmadd_ps(wj, in[r], a[j][r]); \
            }                                                                                                     \
        }                                                                                                         \
        _Pragma("GCC unroll 4") for (int j = 0; j < FG; j++)                                                      \
            _Pragma("GCC unroll 4") for (int r = 0; r < NY; r++) _mm256_storeu_ps(o + j * ldo + 8 * (r0 + r), a[j][r]); \
    }
DCONV_BLOCK(dconv_block4x3, 4, 3)
DCONV_BLOCK(dconv_block4x2, 4, 2)

/* The AVX-512 tiles' contract: DT_DCONV_FT filters by PX vectors of 16. */
#define DCONV_TILE(NAME, PX)                                                                                      \
    static void NAME(const float *x, const int64_t *off, int64_t k, int64_t pstep, const float *w, int64_t wjs,   \
                     int64_t wts, float *o, int64_t ldo)                                                          \
    {                                                                                                             \
        for (int j = 0; j < DT_DCONV_FT; j += 4)                                                                  \
            for (int r = 0; r < 2 * PX; r += PX == 3 ? 3 : 2)                                                     \
                if (PX == 3)                                                                                      \
                    dconv_block4x3(x, off, k, pstep, r, w + j * wjs, wjs, wts, o + j * ldo, ldo);                 \
                else                                                                                              \
                    dconv_block4x2(x, off, k, pstep, r, w + j * wjs, wjs, wts, o + j * ldo, ldo);                 \
    }
DCONV_TILE(dconv_tile1, 1)
DCONV_TILE(dconv_tile2, 2)
DCONV_TILE(dconv_tile3, 3)

#endif

void dt_dconv_run(const dt_real *xp, const int64_t *off, int64_t k, const dt_real *W, int packed, int f,
                  dt_real *out, int64_t ldo, int64_t q)
{
#ifdef DCONV_KERNEL
    int64_t wjs = packed ? 1 : k, wts = packed ? DT_DCONV_FT : 1;
    DT_ASSERT(f % DT_DCONV_FT == 0);
    /* a filter tile's weights stay in cache while the planes stream past
     * (the other order ran as fast) */
    for (int ft = 0; ft < f / DT_DCONV_FT; ft++)
        for (int64_t q0 = 0; q0 < q; q0 += DT_DCONV_QT)
            dconv_tile3(xp + q0, off, k, 16, W + ft * k * DT_DCONV_FT, wjs, wts, out + (int64_t)ft * DT_DCONV_FT * ldo + q0,
                        ldo);
#else
    (void)xp, (void)off, (void)k, (void)W, (void)packed, (void)f, (void)out, (void)ldo, (void)q;
    DT_ASSERT(!"dt_dconv_run without the kernel: check dt_dconv_available()");
#endif
}

void dt_dconv_lanes_size(const dt_conv_geom *g, int *hp, int *wp)
{
    *hp = (g->oh - 1) * g->sh + g->kh;
    *wp = (g->ow - 1) * g->sw + g->kw;
}

void dt_dconv_lanes_offsets(const dt_conv_geom *g, int64_t *off)
{
    int hp, wp;
    dt_dconv_lanes_size(g, &hp, &wp);
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) *off++ = (((int64_t)c * hp + i) * wp + j) * DT_DCONV_LANES;
}

void dt_dconv_lanes_pad(const dt_conv_geom *g, const dt_real *x, int64_t n, dt_real *xb)
{
    int hp, wp, L = DT_DCONV_LANES;
    dt_dconv_lanes_size(g, &hp, &wp);
    int64_t chw = (int64_t)g->c * g->h * g->w;
    /* padded column j holds input column j - pl: inside for j in [j0, j1) */
    int j0 = g->pl < wp ? g->pl : wp, j1 = g->w + g->pl < wp ? g->w + g->pl : wp;
    for (int c = 0; c < g->c; c++)
        for (int i = 0; i < hp; i++) {
            dt_real *r = xb + ((int64_t)c * hp + i) * wp * L;
            int y = i - g->pt;
            if (y < 0 || y >= g->h) {
                memset(r, 0, (size_t)wp * L * sizeof *r);
                continue;
            }
            memset(r, 0, (size_t)j0 * L * sizeof *r);
            memset(r + (int64_t)j1 * L, 0, (size_t)(wp - j1) * L * sizeof *r);
            for (int64_t e = 0; e < L; e++) {
                const dt_real *xr = e < n ? x + e * chw + ((int64_t)c * g->h + y) * g->w : NULL;
                for (int j = j0; j < j1; j++) r[(int64_t)j * L + e] = xr ? xr[j - g->pl] : 0;
            }
        }
}

void dt_dconv_lanes_run(const dt_conv_geom *g, const dt_real *xb, const int64_t *off, const dt_real *W, int packed,
                        int f, dt_real *out)
{
#ifdef DCONV_KERNEL
    int hp, wp, L = DT_DCONV_LANES;
    dt_dconv_lanes_size(g, &hp, &wp);
    int64_t k = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow;
    int64_t wjs = packed ? 1 : k, wts = packed ? DT_DCONV_FT : 1;
    DT_ASSERT(f % DT_DCONV_FT == 0);
    for (int ft = 0; ft < f / DT_DCONV_FT; ft++) {
        const float *w = W + ft * k * DT_DCONV_FT;
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow;) { /* tiles of 3 pixels, 2 + 2 rather than 3 + 1 */
                int left = g->ow - ox, px = left >= 3 && left != 4 ? 3 : left >= 2 ? 2 : 1;
                const float *xt = xb + ((int64_t)oy * g->sh * wp + (int64_t)ox * g->sw) * L;
                float *o = out + ((int64_t)ft * DT_DCONV_FT * P + (int64_t)oy * g->ow + ox) * L;
                if (px == 3)
                    dconv_tile3(xt, off, k, g->sw * L, w, wjs, wts, o, P * L);
                else if (px == 2)
                    dconv_tile2(xt, off, k, g->sw * L, w, wjs, wts, o, P * L);
                else
                    dconv_tile1(xt, off, k, g->sw * L, w, wjs, wts, o, P * L);
                ox += px;
            }
    }
#else
    (void)g, (void)xb, (void)off, (void)W, (void)packed, (void)f, (void)out;
    DT_ASSERT(!"dt_dconv_lanes_run without the kernel: check dt_dconv_available()");
#endif
}

void dt_dconv_lanes_get(const dt_real *out, int64_t len, dt_real *dst)
{
    int L = DT_DCONV_LANES;
    for (int64_t q = 0; q < len; q++)
        for (int e = 0; e < L; e++) dst[e * len + q] = out[q * L + e];
}

void dt_dconv_lanes_wgrad(const dt_conv_geom *g, const dt_real *xb, const int64_t *off, const dt_real *dz, int dhp,
                          int dwp, int f, dt_real *dW)
{
#ifdef DCONV_AVX512
    int hp, wp, L = DT_DCONV_LANES;
    dt_dconv_lanes_size(g, &hp, &wp);
    int64_t k = (int64_t)g->c * g->kh * g->kw, dstride = (int64_t)dhp * dwp * L;
    DT_ASSERT(f % DT_DCONV_FT == 0 && g->sh == 1 && g->sw == 1);
    for (int f0 = 0; f0 < f; f0 += DT_DCONV_FT) {
        const float *d = dz + f0 * dstride;
        for (int64_t t = 0; t < k;) {
            int64_t kt = k - t >= 3 ? 3 : k - t;
            float *w = dW + f0 * k + t;
            if (kt == 3)
                wgrad_tile3(xb, wp, off + t, d, dwp, dstride, g->oh, g->ow, w, k);
            else if (kt == 2)
                wgrad_tile2(xb, wp, off + t, d, dwp, dstride, g->oh, g->ow, w, k);
            else
                wgrad_tile1(xb, wp, off + t, d, dwp, dstride, g->oh, g->ow, w, k);
            t += kt;
        }
    }
#else
    (void)g, (void)xb, (void)off, (void)dz, (void)dhp, (void)dwp, (void)f, (void)dW;
    DT_ASSERT(!"dt_dconv_lanes_wgrad without the kernel: check dt_dconv_lanes_backward()");
#endif
}
