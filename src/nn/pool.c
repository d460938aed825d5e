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
 * order), so backward routes the gradient without searching again. */
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

/* The common 2x2, stride 2, unpadded max pool, four outputs at a time in
 * GCC vector extensions (SSE or AVX, any precision). Written as scalar
 * selects, GCC compiles it to branches that mispredict on ReLU outputs: a
 * fifth of the Fashion-MNIST CNN's training step; this is 13x faster. Ties
 * still go to the first maximum in row-major order (a, b, c, d) and NaN
 * loses every comparison, as in the generic loop. */
typedef dt_real vreal __attribute__((vector_size(4 * sizeof(dt_real))));
#ifdef DTRAIN_DOUBLE
typedef int64_t vmask __attribute__((vector_size(4 * sizeof(int64_t))));
#else
typedef int32_t vmask __attribute__((vector_size(4 * sizeof(int32_t))));
#endif
typedef int32_t vidx __attribute__((vector_size(4 * sizeof(int32_t))));

/* Outputs 0..3 from input rows r0, r1 (8 values each); their arg-max is
 * base + 2k plus the winner's offset in the window (0, 1, W, W + 1). */
static void max2x2_4(const dt_real *r0, const dt_real *r1, dt_real *y, int32_t *arg, int32_t base, int32_t W)
{
    vreal p, q, s, t;
    memcpy(&p, r0, sizeof p);
    memcpy(&q, r0 + 4, sizeof q);
    memcpy(&s, r1, sizeof s);
    memcpy(&t, r1 + 4, sizeof t);
    const vmask even = {0, 2, 4, 6}, odd = {1, 3, 5, 7};
    vreal a = DT_SHUFFLE(p, q, even), b = DT_SHUFFLE(p, q, odd);
    vreal c = DT_SHUFFLE(s, t, even), d = DT_SHUFFLE(s, t, odd);
    vreal m = a;
    vmask at = {0, 0, 0, 0}, gt;
    /* gt is all ones where the candidate is strictly greater: take it there */
    gt = b > m, at = (gt & 1) | (at & ~gt), m = (vreal)(((vmask)b & gt) | ((vmask)m & ~gt));
    gt = c > m, at = (gt & W) | (at & ~gt), m = (vreal)(((vmask)c & gt) | ((vmask)m & ~gt));
    gt = d > m, at = (gt & (W + 1)) | (at & ~gt), m = (vreal)(((vmask)d & gt) | ((vmask)m & ~gt));
    vidx idx = __builtin_convertvector(at, vidx) + base + (vidx){0, 2, 4, 6};
    memcpy(y, &m, sizeof m);
    memcpy(arg, &idx, sizeof idx);
}

/* One plane; needs OW >= 4 and 2 * OW <= W. A row's last four outputs
 * overlap the previous four when OW is not a multiple of 4 (rewriting the
 * same values) instead of leaving a scalar tail. */
static void max2x2(const dt_real *x, dt_real *y, int32_t *arg, int64_t W, int64_t OH, int64_t OW)
{
    for (int64_t oh = 0; oh < OH; oh++) {
        const dt_real *r0 = x + 2 * oh * W;
        for (int64_t o = 0; o < OW; o += 4) {
            int64_t s = o + 4 <= OW ? o : OW - 4;
            max2x2_4(r0 + 2 * s, r0 + W + 2 * s, y + oh * OW + s, arg + oh * OW + s, (int32_t)(2 * oh * W + 2 * s),
                     (int32_t)W);
        }
    }
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
    if (p->max && p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2 && p->ph == 0 && p->pw == 0 &&
        OW >= 4 && 2 * OH <= H && 2 * OW <= W) {
        for (int64_t pl = 0; pl < planes; pl++)
            max2x2(l->x[0] + pl * H * W, l->y + pl * OH * OW, arg + pl * OH * OW, W, OH, OW);
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
