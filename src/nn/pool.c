/* pool.c — max and average pooling over each channel's H×W plane.
 *
 *   x [N, C, H, W] → y [N, C, OH, OW]
 * Keys: kernel (required, "k" or "kh,kw"), stride (default = kernel),
 *       padding = valid (default) | same | N | "ph,pw".
 * valid: OH = (H - kh) / sh + 1. N or "ph,pw": ph rows above and below,
 * pw columns left and right, OH = (H + 2·ph - kh) / sh + 1. same (as in
 * TensorFlow): OH = ceil(H / sh), total padding (OH-1)·sh + kh - H, top
 * total/2 and the rest below (likewise for W).
 * Padded cells are not values: max ignores them and average divides by
 * the number of real cells in its window (Keras/TF), so every window must
 * hold one real cell (explicit padding < kernel; same always does).
 * scratch (max only): the arg-max of each output, [N, C, OH, OW] int32
 * indices into its channel's H×W plane (first max in row-major window
 * order), so backward routes the gradient without searching again; on the
 * 2x2 stride-2 path one byte per output instead (which cell of its window). */
#include <string.h>

#include "nn/layer.h"
#include "ops/vshuffle.h"

typedef struct {
    int max;                    /* max pooling, else average */
    int kh, kw, sh, sw, ph, pw; /* ph, pw: padding above and to the left */
} pool_priv;

/* "k" or "a,b" into *a, *b (both k for one value); lo is the smallest allowed. */
static dt_status read_pair(dt_ini *m, const char *sec, const char *key, int required, long lo, int *a, int *b)
{
    long v[2];
    int n;
    DT_TRY(dt_ini_ints(m, sec, key, required, v, 2, &n));
    if (n == 0) return DT_OK; /* absent and optional: keep the defaults */
    if (n == 1) v[1] = v[0];
    for (int i = 0; i < n; i++)
        if (v[i] < lo || v[i] > (1L << 24))
            return dt_error(DT_ERR_CONFIG, "%s: [%s] %s: expected one or two integers >= %ld (\"%ld\" or \"%ld,%ld\")",
                            dt_ini_where(m, sec, key), sec, key, lo, lo, lo, lo);
    *a = (int)v[0];
    *b = (int)v[1];
    return DT_OK;
}

/* Output size and leading padding along one axis; -1 when the kernel does
 * not fit. pad < 0 means `same`. */
static int out_size(int in, int k, int s, int pad, int *lead)
{
    if (pad < 0) {
        int o = (in + s - 1) / s, total = (o - 1) * s + k - in;
        *lead = total > 0 ? total / 2 : 0;
        return o;
    }
    *lead = pad;
    return k > in + 2 * pad ? -1 : (in + 2 * pad - k) / s + 1;
}

static dt_status pool_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    pool_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    p->max = !strcmp(l->ops->type, "maxpool");
    DT_TRY(read_pair(m, sec, "kernel", 1, 1, &p->kh, &p->kw));
    p->sh = p->kh;
    p->sw = p->kw;
    DT_TRY(read_pair(m, sec, "stride", 0, 1, &p->sh, &p->sw));

    const char *pad;
    int ph = 0, pw = 0; /* -1: same */
    DT_TRY(dt_ini_str(m, sec, "padding", "valid", &pad));
    if (!strcmp(pad, "same"))
        ph = pw = -1;
    else if (strcmp(pad, "valid")) {
        if (read_pair(m, sec, "padding", 1, 0, &ph, &pw) != DT_OK)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] padding = '%s': expected valid, same, N or \"ph,pw\"",
                            dt_ini_where(m, sec, "padding"), sec, pad);
        if (ph >= p->kh || pw >= p->kw) /* else a window could hold only padding */
            return dt_error(DT_ERR_CONFIG, "%s: [%s] padding = '%s': must be smaller than the kernel (%dx%d)",
                            dt_ini_where(m, sec, "padding"), sec, pad, p->kh, p->kw);
    }
    int oh = out_size(l->in.h, p->kh, p->sh, ph, &p->ph), ow = out_size(l->in.w, p->kw, p->sw, pw, &p->pw);
    if (oh < 0 || ow < 0)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] kernel %dx%d is larger than the padded input %dx%d",
                        dt_ini_where(m, sec, "kernel"), sec, p->kh, p->kw, l->in.h + 2 * ph, l->in.w + 2 * pw);
    if ((int64_t)l->in.h * l->in.w > INT32_MAX)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] input plane %dx%d too large for pooling", dt_ini_name(m), sec,
                        l->in.h, l->in.w);
    l->out = (dt_shape){l->in.c, oh, ow};
    /* an int32 fits in a dt_real's space in both builds */
    l->scratch_len = p->max ? dt_shape_size(l->out) : 0;
    return DT_OK;
}

/* The common 2x2, stride 2, unpadded max pool, eight outputs at a time in
 * GCC vector extensions (AVX where the machine has it, any precision).
 * Written as scalar selects, GCC compiles it to branches that mispredict on
 * ReLU outputs (a fifth of the Fashion-MNIST CNN's step; the vectors were
 * 13x faster). Ties still go to the first maximum in row-major order (a, b,
 * c, d) and NaN loses every comparison, as in the generic loop. Each output
 * keeps which of its four cells won as one byte (0 a, 1 b, 2 c, 3 d), not
 * an int32 index: backward then writes each window's four gradients in one
 * pass over dx, with no memset and no scatter (the detector's 16 x 128 x 128
 * pool: 6.2 + 9.8 ms a batch of 16 before, forward + backward). */
/* The vector types, the window kernel and its backward for V outputs at a
 * time; instantiated for 8 (rows of 8 outputs or more) and 4 (4 to 7:
 * Fashion-MNIST's 7x7 maps). EVEN/ODD pick a window's left and right cells
 * out of 2V, LO/HI interleave two V-vectors back into cell order. */
#ifdef DTRAIN_DOUBLE
#define MASK_T int64_t
#else
#define MASK_T int32_t
#endif
#define POOL2X2(V, EVEN, ODD, LO, HI, PACK)                                                                             \
    typedef dt_real vreal##V __attribute__((vector_size(V * sizeof(dt_real))));                                 \
    typedef MASK_T vmask##V __attribute__((vector_size(V * sizeof(MASK_T))));                                   \
    typedef uint8_t vcode##V __attribute__((vector_size(V)));                                                   \
    typedef uint8_t vbytes##V __attribute__((vector_size(V * sizeof(MASK_T))));                                 \
    /* outputs 0..V-1 from input rows r0, r1 (2V values each), and their codes */                               \
    static void max2x2_##V(const dt_real *r0, const dt_real *r1, dt_real *y, uint8_t *code)                     \
    {                                                                                                           \
        vreal##V p, q, s, t;                                                                                    \
        memcpy(&p, r0, sizeof p);                                                                               \
        memcpy(&q, r0 + V, sizeof q);                                                                           \
        memcpy(&s, r1, sizeof s);                                                                               \
        memcpy(&t, r1 + V, sizeof t);                                                                           \
        const vmask##V even = EVEN, odd = ODD;                                                                  \
        vreal##V a = DT_SHUFFLE(p, q, even), b = DT_SHUFFLE(p, q, odd);                                         \
        vreal##V c = DT_SHUFFLE(s, t, even), d = DT_SHUFFLE(s, t, odd);                                         \
        vreal##V m = a;                                                                                         \
        vmask##V at = {0}, gt;                                                                                  \
        /* gt is all ones where the candidate is strictly greater: take it there */                             \
        gt = b > m, at = (gt & 1) | (at & ~gt), m = (vreal##V)(((vmask##V)b & gt) | ((vmask##V)m & ~gt));       \
        gt = c > m, at = (gt & 2) | (at & ~gt), m = (vreal##V)(((vmask##V)c & gt) | ((vmask##V)m & ~gt));       \
        gt = d > m, at = (gt & 3) | (at & ~gt), m = (vreal##V)(((vmask##V)d & gt) | ((vmask##V)m & ~gt));       \
        /* the codes are each lane's low byte: one byte shuffle (a conversion                                   \
         * to bytes compiled to a store and a load per byte) */                                                 \
        vbytes##V k = DT_SHUFFLE((vbytes##V)at, (vbytes##V)at, PACK);                                          \
        memcpy(y, &m, sizeof m);                                                                                \
        memcpy(code, &k, V);                                                                                    \
    }                                                                                                           \
    /* rows 2oh, 2oh+1 of dx for V outputs: each cell its output's dy where it                                  \
     * won, else 0 (accum: added to what is there) */                                                           \
    static void unmax2x2_##V(const dt_real *dy, const uint8_t *code, dt_real *d0, dt_real *d1, int accum)       \
    {                                                                                                           \
        vreal##V g;                                                                                             \
        vcode##V k8;                                                                                            \
        memcpy(&g, dy, sizeof g);                                                                               \
        memcpy(&k8, code, sizeof k8);                                                                           \
        vmask##V k = __builtin_convertvector(k8, vmask##V), gi = (vmask##V)g;                                   \
        vreal##V a = (vreal##V)(gi & (k == 0)), b = (vreal##V)(gi & (k == 1));                                  \
        vreal##V c = (vreal##V)(gi & (k == 2)), d = (vreal##V)(gi & (k == 3));                                  \
        const vmask##V lo = LO, hi = HI;                                                                        \
        vreal##V o[4] = {DT_SHUFFLE(a, b, lo), DT_SHUFFLE(a, b, hi), DT_SHUFFLE(c, d, lo), DT_SHUFFLE(c, d, hi)}; \
        dt_real *to[4] = {d0, d0 + V, d1, d1 + V};                                                              \
        for (int i = 0; i < 4; i++) {                                                                           \
            vreal##V v = {0};                                                                                   \
            if (accum) memcpy(&v, to[i], sizeof v);                                                             \
            v += o[i];                                                                                          \
            memcpy(to[i], &v, sizeof v);                                                                        \
        }                                                                                                       \
    }

#define S (uint8_t)sizeof(MASK_T)
POOL2X2(8, ((vmask8){0, 2, 4, 6, 8, 10, 12, 14}), ((vmask8){1, 3, 5, 7, 9, 11, 13, 15}),
        ((vmask8){0, 8, 1, 9, 2, 10, 3, 11}), ((vmask8){4, 12, 5, 13, 6, 14, 7, 15}),
        ((vbytes8){0, S, 2 * S, 3 * S, 4 * S, 5 * S, 6 * S, 7 * S}))
POOL2X2(4, ((vmask4){0, 2, 4, 6}), ((vmask4){1, 3, 5, 7}), ((vmask4){0, 4, 1, 5}), ((vmask4){2, 6, 3, 7}),
        ((vbytes4){0, S, 2 * S, 3 * S}))
#undef S

/* Whether a layer takes the 2x2 path (forward and backward ask alike). */
static int fast2x2(const pool_priv *p, const dt_layer *l)
{
    /* `same` on an odd size pads below or right only: ph = 0 then, but the
     * last window is half padding, for the generic loop */
    return p->max && p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2 && p->ph == 0 && p->pw == 0 &&
           l->out.w >= 4 && 2 * l->out.h <= l->in.h && 2 * l->out.w <= l->in.w;
}

/* One plane. A row's last outputs overlap the previous ones when OW is not
 * a multiple of the width (rewriting the same values) instead of leaving a
 * scalar tail. */
static void max2x2(const dt_real *x, dt_real *y, uint8_t *code, int64_t W, int64_t OH, int64_t OW)
{
    int64_t v = OW >= 8 ? 8 : 4;
    for (int64_t oh = 0; oh < OH; oh++) {
        const dt_real *r0 = x + 2 * oh * W;
        for (int64_t o = 0; o < OW; o += v) {
            int64_t s = o + v <= OW ? o : OW - v;
            if (v == 8)
                max2x2_8(r0 + 2 * s, r0 + W + 2 * s, y + oh * OW + s, code + oh * OW + s);
            else
                max2x2_4(r0 + 2 * s, r0 + W + 2 * s, y + oh * OW + s, code + oh * OW + s);
        }
    }
}

/* One plane's gradient from its codes: every cell of dx written (or added
 * to), those in no window (an odd last row or column) included. Whole
 * vectors only (adding twice where they overlapped would be wrong), the
 * rest one output at a time. */
static void unmax2x2(const dt_real *dy, const uint8_t *code, dt_real *dx, int64_t H, int64_t W, int64_t OH,
                     int64_t OW, int accum)
{
    for (int64_t oh = 0; oh < OH; oh++) {
        dt_real *d0 = dx + 2 * oh * W, *d1 = d0 + W;
        const dt_real *g = dy + oh * OW;
        const uint8_t *k = code + oh * OW;
        int64_t o = 0;
        for (; o + 8 <= OW; o += 8) unmax2x2_8(g + o, k + o, d0 + 2 * o, d1 + 2 * o, accum);
        for (; o + 4 <= OW; o += 4) unmax2x2_4(g + o, k + o, d0 + 2 * o, d1 + 2 * o, accum);
        for (; o < OW; o++)
            for (int i = 0; i < 4; i++) {
                dt_real v = k[o] == i ? g[o] : 0, *at = (i < 2 ? d0 : d1) + 2 * o + (i & 1);
                *at = accum ? *at + v : v;
            }
        if (!accum && 2 * OW < W) d0[W - 1] = d1[W - 1] = 0;
    }
    if (!accum && 2 * OH < H) memset(dx + 2 * OH * W, 0, (size_t)W * sizeof *dx);
}

/* n outputs of one row whose windows (input rows [h0, h1), columns from
 * c0 + o*sw, kw wide) lie inside the input: taps in row-major order, each
 * over all n outputs, so the first maximum still wins (strict >) and NaN
 * loses every comparison, as in the general loop. */
static void max_row(const dt_real *x, int64_t W, int64_t h0, int64_t h1, int64_t c0, int64_t sw, int64_t kw, int64_t n,
                    dt_real *y, int32_t *arg)
{
    for (int64_t o = 0; o < n; o++) {
        y[o] = x[h0 * W + c0 + o * sw];
        arg[o] = (int32_t)(h0 * W + c0 + o * sw);
    }
    for (int64_t h = h0; h < h1; h++)
        for (int64_t j = h == h0 ? 1 : 0; j < kw; j++) {
            const dt_real *r = x + h * W + c0 + j;
            int32_t base = (int32_t)(h * W + c0 + j);
            for (int64_t o = 0; o < n; o++) {
                dt_real v = r[o * sw];
                int gt = v > y[o];
                y[o] = gt ? v : y[o];
                arg[o] = gt ? base + (int32_t)(o * sw) : arg[o];
            }
        }
}

/* The interior outputs of one row (windows inside the input's columns)
 * without arg-maxes, tap by tap over all n outputs so that they vectorise:
 * the maximum (for a forward that no backward follows: same values as
 * max_row), or the average (the same sums in the same order as the general
 * loop). The stride is a constant where it is 1 or 2, so the loads
 * vectorise too. */
static inline __attribute__((always_inline)) void row_at(const dt_real *x, int64_t W, int64_t h0, int64_t h1,
                                                         int64_t c0, int64_t sw, int64_t kw, int64_t n, dt_real *y,
                                                         int max)
{
    for (int64_t o = 0; o < n; o++) y[o] = max ? x[h0 * W + c0 + o * sw] : 0;
    for (int64_t h = h0; h < h1; h++)
        for (int64_t j = max && h == h0 ? 1 : 0; j < kw; j++) {
            const dt_real *r = x + h * W + c0 + j;
            for (int64_t o = 0; o < n; o++) {
                dt_real v = r[o * sw];
                y[o] = max ? (v > y[o] ? v : y[o]) : y[o] + v;
            }
        }
    if (!max)
        for (int64_t o = 0; o < n; o++) y[o] /= (dt_real)((h1 - h0) * kw);
}

static void row_values(const dt_real *x, int64_t W, int64_t h0, int64_t h1, int64_t c0, int64_t sw, int64_t kw,
                       int64_t n, dt_real *y, int max)
{
    if (sw == 2)
        max ? row_at(x, W, h0, h1, c0, 2, kw, n, y, 1) : row_at(x, W, h0, h1, c0, 2, kw, n, y, 0);
    else if (sw == 1)
        max ? row_at(x, W, h0, h1, c0, 1, kw, n, y, 1) : row_at(x, W, h0, h1, c0, 1, kw, n, y, 0);
    else
        row_at(x, W, h0, h1, c0, sw, kw, n, y, max);
}

static void pool_forward(dt_layer *l, const dt_pass *ps)
{
    const pool_priv *p = l->priv;
    int64_t H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w, planes = ps->n * l->in.c;
    int32_t *arg = (int32_t *)l->scratch;
    if (fast2x2(p, l)) {
        uint8_t *code = (uint8_t *)l->scratch;
        for (int64_t pl = 0; pl < planes; pl++)
            max2x2(l->x[0] + pl * H * W, l->y + pl * OH * OW, code + pl * OH * OW, W, OH, OW);
        return;
    }
    /* outputs [olo, ohi) of a row have their whole window inside the input's columns */
    int64_t olo = (p->pw + p->sw - 1) / p->sw, ohi = W + p->pw >= p->kw ? (W + p->pw - p->kw) / p->sw + 1 : 0;
    olo = olo < OW ? olo : OW;
    ohi = ohi > olo ? (ohi < OW ? ohi : OW) : olo;
    for (int64_t pl = 0; pl < planes; pl++) {
        const dt_real *x = l->x[0] + pl * H * W;
        dt_real *y = l->y + pl * OH * OW;
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t h0 = oh * p->sh - p->ph, h1 = h0 + p->kh;
            h0 = h0 > 0 ? h0 : 0;
            h1 = h1 < H ? h1 : H;
            /* the interior tap by tap: each output's chain is independent of its neighbours' */
            if (p->max && ohi > olo && !ps->no_backward)
                max_row(x, W, h0, h1, olo * p->sw - p->pw, p->sw, p->kw, ohi - olo, y + oh * OW + olo,
                        arg + pl * OH * OW + oh * OW + olo);
            else if (ohi > olo)
                row_values(x, W, h0, h1, olo * p->sw - p->pw, p->sw, p->kw, ohi - olo, y + oh * OW + olo, p->max);
            for (int64_t ow = 0; ow < OW; ow++) {
                if (ow == olo && ohi > olo) ow = ohi;
                if (ow >= OW) break;
                int64_t w0 = ow * p->sw - p->pw, w1 = w0 + p->kw;
                w0 = w0 > 0 ? w0 : 0;
                w1 = w1 < W ? w1 : W;
                if (p->max) {
                    /* selects, not branches: on ReLU outputs a branch mispredicts half the time */
                    int64_t best = h0 * W + w0;
                    dt_real bv = x[best];
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++) {
                            dt_real v = x[h * W + w];
                            int gt = v > bv; /* strict: first max wins ties */
                            best = gt ? h * W + w : best;
                            bv = gt ? v : bv;
                        }
                    y[oh * OW + ow] = bv;
                    arg[pl * OH * OW + oh * OW + ow] = (int32_t)best;
                } else {
                    dt_real s = 0;
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++) s += x[h * W + w];
                    y[oh * OW + ow] = s / (dt_real)((h1 - h0) * (w1 - w0));
                }
            }
        }
    }
}

static void pool_backward(dt_layer *l, const dt_pass *ps)
{
    const pool_priv *p = l->priv;
    dt_real *dx = l->dx[0];
    if (!dx) return;
    int64_t H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w, planes = ps->n * l->in.c;
    if (fast2x2(p, l)) {
        const uint8_t *code = (const uint8_t *)l->scratch;
        for (int64_t pl = 0; pl < planes; pl++)
            unmax2x2(l->dy + pl * OH * OW, code + pl * OH * OW, dx + pl * H * W, H, W, OH, OW, l->dx_accum[0]);
        return;
    }
    /* windows may overlap, so gradients are scattered with += onto a cleared dx */
    if (!l->dx_accum[0]) memset(dx, 0, (size_t)(planes * H * W) * sizeof *dx);
    const int32_t *arg = (const int32_t *)l->scratch;
    for (int64_t pl = 0; pl < planes; pl++) {
        dt_real *dxp = dx + pl * H * W;
        const dt_real *dy = l->dy + pl * OH * OW;
        if (p->max) {
            const int32_t *a = arg + pl * OH * OW;
            for (int64_t j = 0; j < OH * OW; j++) dxp[a[j]] += dy[j];
            continue;
        }
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t h0 = oh * p->sh - p->ph, h1 = h0 + p->kh;
            h0 = h0 > 0 ? h0 : 0;
            h1 = h1 < H ? h1 : H;
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t w0 = ow * p->sw - p->pw, w1 = w0 + p->kw;
                w0 = w0 > 0 ? w0 : 0;
                w1 = w1 < W ? w1 : W;
                dt_real g = dy[oh * OW + ow] / (dt_real)((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) dxp[h * W + w] += g;
            }
        }
    }
}

static void pool_destroy(dt_layer *l) { dt_free(l->priv); }

const dt_layer_ops dt_maxpool_ops = {"maxpool", pool_configure, NULL, pool_forward, pool_backward, pool_destroy, 1, NULL, 0, 0};
const dt_layer_ops dt_avgpool_ops = {"avgpool", pool_configure, NULL, pool_forward, pool_backward, pool_destroy, 1, NULL, 0, 0};
