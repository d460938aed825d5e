/* conv2d.c — 2-D convolution (cross-correlation, as PyTorch) with a fused activation.
 *
 *   x [N, C, H, W] ⊛ W [F, C, KH, KW] + b [F] = z [N, F, OH, OW];  y = act(z)
 * Keys: filters (required), kernel (required, "k" or "kh,kw"), stride (1),
 *       padding (valid | same | "p" | "ph,pw"), bias (1), activation (linear),
 *       alpha, init (he, fan_in = C*KH*KW), init_scale.
 * `same` pads as TensorFlow: OH = ceil(H / SH), total padding
 * max((OH-1)*SH + KH - H, 0), the odd one at the bottom (right).
 *
 * K = C*KH*KW, P = OH*OW. Where the kernel exists (float, AVX-512 or AVX2) and
 * the filters are a multiple of 8, by direct convolution (ops/dconv.h), no
 * lowering and no gemm packing (the face recogniser 7.3 -> 6.0 ms a face):
 * - by batch lanes (16 examples' pixels a vector) where the batch fills
 *   them, any stride, forward; backward too for stride 1 on planes of 49
 *   pixels or more;
 * - else over zero-padded planes (stride 1 or 2) where the output is at
 *   least 70 % of them, forward (first, where it is 85 %: the lanes'
 *   interleaving costs more there).
 * Otherwise, and for the other backward passes, lowered to gemm
 * (ops/im2col.h), which lowering depending on the shape:
 * - stride 1 and a kernel taller than one row (3x3 "same", the usual case):
 *   by kernel rows, dt_im2row's [C*KW, (OH+KH-1)*OW] matrix and KH products
 *   with the weights regrouped per kernel row, forward and backward: a
 *   lowering KH times smaller than im2col's, whose columns are packed by the
 *   gemm anyway (resnet_small's 3x3 layers: 7.0 -> 4.1 ms a batch of 32 for
 *   16 channels on 28x28, forward and backward); the weight gradient of a
 *   3x3 layer over at most 4 channels directly (ops/wgrad.h);
 * - small planes behind many channels (K > 8P): forward over groups of
 *   examples side by side (conv_forward_batched), backward as below;
 * - otherwise im2col one example at a time (in bands of rows for a large
 *   plane); 1x1 stride-1 kernels read x itself.
 * Forward ends in one output pass per example: bias, a residual folded in
 * for inference (l->res, dt_net_fold_inference) and the activation.
 * scratch: col [K, P] for one example (also holds the column gradient, and
 * the kernel-row matrix and its gradient), then Wr and dWr [F*K] when by
 * kernel rows, or the direct paths' planes where they need more (see
 * direct_configure); per example z [F, P] for sigmoid and softmax only, the
 * activations a loss can be fused with (l->z), and the batch lowering's
 * columns and product. Backward needs no z: sigmoid, tanh and softmax
 * derivatives are taken from y, and relu and leaky relu (alpha >= 0) from
 * y's sign, which is z's. So l->z is NULL after forward for tanh, relu and
 * leaky relu. A softmax activation runs over each example's F*P values. */
#include <string.h>

#include "nn/init.h"
#include "nn/layer.h"
#include "ops/dconv.h"
#include "ops/im2col.h"
#include "ops/wgrad.h"

/* Columns lowered at once are kept to about 1 MiB, so that they are still
 * in cache when the gemm packs them (see the forward paths below). */
#define COL_CACHE_REALS (1 << 18)

typedef struct {
    dt_conv_geom g;
    int f, bias;
    int keep_z;   /* z kept apart from y, for a loss (see above) */
    int identity; /* 1x1 kernel, stride 1, no padding: col is x itself */
    int by_rows;  /* stride 1, kernel taller than one row: by kernel rows (dt_im2row); forward unless batched */
    int batched;  /* small planes behind many channels: forward over groups of examples */
    int batched_back; /* and backward too */
    int wgrad3;       /* by kernel rows, 3x3 over few channels: dW by ops/wgrad.h */
    int direct;       /* stride 1 and F a multiple of DT_DCONV_FT: forward by ops/dconv.h */
    int64_t dgroup;   /* examples a direct run covers at most */
    int64_t ldx, ldo; /* its planes' and its output rows' lengths */
    int64_t *off;     /* its taps' offsets (dt_dconv_offsets) */
    int band;         /* output rows a run where one example's plane outgrows the cache */
    int64_t ldo_band; /* the output's row length then (<= ldo) */
    int lanes;        /* forward by dconv's batch lanes where the batch fills them */
    int direct_first; /* but by direct above where its planes are mostly output */
    int64_t *loff;    /* their taps' offsets (dt_dconv_lanes_offsets) */
    int lanes_back;   /* backward too (stride 1, C a multiple of DT_DCONV_FT) */
    dt_conv_geom flip; /* the flipped layer that computes the input gradient */
    int64_t *boff;    /* its taps' offsets */
    dt_init init;
} conv_priv;

/* Forward by direct convolution (ops/dconv.h) where the kernel has it and
 * the padding it computes and throws away is small: the output plane at
 * least 70 % of the padded one (at 64 % -- 8x8 maps -- the gemm was faster).
 * Examples are taken in groups whose planes and output stay within
 * COL_CACHE_REALS. scratch: the planes [C*planes, ldx] and the output
 * [F, ldo]. */
static dt_status direct_configure(dt_layer *l, conv_priv *p)
{
    const dt_conv_geom *g = &p->g;
    int hq, wq;
    int64_t planes = dt_dconv_planes(g, &hq, &wq), img = (int64_t)hq * wq, K = (int64_t)g->c * g->kh * g->kw;
    p->direct = dt_dconv_available() && dt_dconv_supports(g, p->f) &&
                10 * g->oh * g->ow >= 7 * img;
    p->direct_first = p->direct && 100 * g->oh * g->ow >= 85 * img;
    /* batch lanes: 16 examples' pixels a vector, nothing thrown away; where
     * their planes [16, C*HP*WP] and output [16, F*P] stay within 8 MiB */
    int hp, wp;
    dt_dconv_lanes_size(g, &hp, &wp);
    int64_t L = DT_DCONV_LANES, lanes_len = L * (g->c * hp * wp + p->f * (int64_t)g->oh * g->ow);
    p->lanes = dt_dconv_available() && p->f % DT_DCONV_FT == 0 && g->kh * g->kw > 1 && lanes_len <= 8 * COL_CACHE_REALS;
    if (p->lanes) {
        p->loff = dt_alloc((size_t)K * sizeof *p->loff);
        if (!p->loff) return dt_error(DT_ERR_NOMEM, "out of memory");
        dt_dconv_lanes_offsets(g, p->loff);
        int64_t need = lanes_len + L * g->oh * g->ow;
        if (need > l->scratch_fixed) l->scratch_fixed = need;
    }
    /* backward by lanes where planes have 7x7 pixels or more: the weight
     * gradient's tiles end in sums across lanes, which on smaller planes
     * cost more than their products (ResNet-50's 3x3 layers on 2x2 maps:
     * 12.5 -> 15 ms a batch). scratch: the input's and the padded output
     * gradient's planes, the input gradient's lanes, one channel's [16,
     * H*W] and the flipped weights */
    p->lanes_back = p->lanes && dt_dconv_lanes_backward() && g->sh == 1 && g->sw == 1 && g->c % DT_DCONV_FT == 0 &&
                    g->pt < g->kh && g->pl < g->kw && g->oh * g->ow >= 49;
    if (p->lanes_back) {
        int fh, fw;
        dt_dconv_flipped(g, p->f, &p->flip);
        dt_dconv_lanes_size(&p->flip, &fh, &fw);
        p->boff = dt_alloc((size_t)p->f * g->kh * g->kw * sizeof *p->boff);
        if (!p->boff) return dt_error(DT_ERR_NOMEM, "out of memory");
        dt_dconv_lanes_offsets(&p->flip, p->boff);
        int64_t hw = (int64_t)g->h * g->w;
        int64_t need = L * (g->c * hp * wp + p->f * fh * fw + g->c * hw + hw) + p->f * K;
        if (need > l->scratch_fixed) l->scratch_fixed = need;
    }
    if (!p->direct) return DT_OK;
    p->dgroup = COL_CACHE_REALS / ((g->c * planes + p->f) * img);
    if (p->dgroup < 1) p->dgroup = 1;
    p->ldx = (p->dgroup * img + DT_DCONV_QT + dt_dconv_reach(g) + 15) / 16 * 16;
    p->ldo = (p->dgroup * img + DT_DCONV_QT - 1) / DT_DCONV_QT * DT_DCONV_QT;
    p->band = COL_CACHE_REALS / ((int64_t)p->f * wq);
    if (p->band < 1) p->band = 1;
    p->ldo_band = ((int64_t)p->band * wq + DT_DCONV_QT - 1) / DT_DCONV_QT * DT_DCONV_QT;
    p->off = dt_alloc((size_t)K * sizeof *p->off);
    if (!p->off) return dt_error(DT_ERR_NOMEM, "out of memory");
    dt_dconv_offsets(g, p->ldx, p->off);
    int64_t need = g->c * planes * p->ldx + p->f * p->ldo;
    if (need > l->scratch_fixed) l->scratch_fixed = need;
    return DT_OK;
}

static dt_status conv_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    long filters, bias;
    conv_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    DT_TRY(dt_ini_int(m, sec, "filters", 1, 0, 1, 1L << 20, &filters));
    dt_window w;
    DT_TRY(dt_layer_read_window(m, sec, l->in.h, l->in.w, &w));
    dt_conv_geom *g = &p->g;
    *g = (dt_conv_geom){.c = l->in.c, .h = l->in.h, .w = l->in.w, .kh = w.kh, .kw = w.kw, .sh = w.sh, .sw = w.sw,
                        .pt = w.pt, .pl = w.pl, .oh = w.oh, .ow = w.ow};
    DT_TRY(dt_ini_int(m, sec, "bias", 0, 1, 0, 1, &bias));
    DT_TRY(dt_layer_read_act(l, m, sec, "linear"));
    DT_TRY(dt_init_read(m, sec, "he", &p->init));
    p->f = (int)filters;
    p->bias = (int)bias;
    p->keep_z = l->act == DT_ACT_SIGMOID || l->act == DT_ACT_SOFTMAX;
    p->identity = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
                  g->oh == g->h && g->ow == g->w;
    l->out = (dt_shape){p->f, g->oh, g->ow};
    int64_t K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow;
    l->nparams = p->bias ? 2 : 1;
    l->params[0] = (dt_param){.name = "W", .ndim = 4, .dims = {p->f, g->c, g->kh, g->kw}, .size = p->f * K, .decay = 1};
    if (p->bias) l->params[1] = (dt_param){.name = "b", .ndim = 1, .dims = {p->f}, .size = p->f};
    /* Where a filter's weights far outnumber a plane's pixels (K > 8P: 3x3
     * kernels over 128 channels on 8x8 maps, say), the gemm would spend
     * more on packing the weights, once per example, than on the columns:
     * those layers lower examples in groups (conv_forward_batched). A lower
     * threshold took resnet_small's 1x1 layers on 7x7 maps too, and they
     * were slower: copying their wide output back costs more than it saves. */
    p->batched = K > 8 * P;
    /* Backward over the same groups where the weight gradient is too large
     * to stay in cache (F*K > COL_CACHE_REALS): one example at a time it
     * streams dW through memory for P multiply-adds a value (ResNet-50's
     * 512-filter 3x3 layers on 2x2 maps: 28.8 ms a batch of 16 that way). */
    p->batched_back = p->batched && p->f * K > COL_CACHE_REALS;
    l->scratch_len = (p->keep_z ? p->f * P : 0) + (p->batched ? (K + p->f) * P : 0);
    p->by_rows = !p->identity && g->sh == 1 && g->sw == 1 && g->kh > 1;
    l->scratch_fixed = p->identity ? 0 : K * P + (p->by_rows ? 2 * p->f * K : 0);
    /* the padded input shares the column scratch, used before the columns */
    p->wgrad3 = p->by_rows && dt_wgrad3_supports(g);
    if (p->wgrad3 && dt_wgrad3_scratch(g) > K * P) l->scratch_fixed += dt_wgrad3_scratch(g) - K * P;
    return direct_configure(l, p);
}

static dt_status conv_init(dt_layer *l, dt_rng *rng)
{
    conv_priv *p = l->priv;
    dt_param *W = &l->params[0];
    int64_t taps = W->dims[2] * W->dims[3];
    dt_init_fill(&p->init, rng, W->dims[1] * taps, W->dims[0] * taps, W->w, W->size);
    if (p->bias) memset(l->params[1].w, 0, (size_t)l->params[1].size * sizeof(dt_real));
    return DT_OK;
}

/* Per-example gemms by default, not one batch-wide gemm over col [K, N*P]:
 * on the Fashion-MNIST CNN (batch 64, 1 thread) they are as fast or faster
 * (forward + backward, 32x14x14 -> 64: 13.0 vs 13.0-14.5 ms): the gemm
 * writes NCHW directly where the wide product needs a reshuffle, and one
 * example's col and dz stay in cache. col is rebuilt in backward rather than
 * kept for the batch: as fast, N times less memory. Whole-batch lowering
 * was slower on resnet_small's 7x7 layers too (89.5 -> 91.7-95.9 ms a step);
 * only the groups of conv_forward_batched, where the weights dwarf the plane,
 * gain. */
/* Example e's output pass: v = s + b (s [F, P] rows lds apart, the
 * product, each its P = OH*OW values in rows of `ow` ldrow apart; b may be
 * NULL), plus l->res where a residual add was folded in, z = v where z is
 * kept apart from y, y = act(v). One pass for the usual activations: the
 * bias is not written first for the gemm to add to. */
static inline __attribute__((always_inline)) void bias_act_with(const dt_real *b, const dt_real *s, int64_t lds,
                                                                int64_t ow, int64_t ldrow, const dt_real *r,
                                                                dt_real *out, int64_t F, int64_t P, int64_t len,
                                                                dt_act act, dt_real alpha)
{
    for (int64_t f = 0; f < F; f++) {
        const dt_real *sr = s + f * lds, *rf = r ? r + f * P : NULL, bf = b ? b[f] : 0;
        dt_real *of = out + f * P;
        for (int64_t q0 = 0; q0 < len; q0 += ow, sr += ldrow)
            for (int64_t q = q0; q < q0 + ow; q++) { /* alpha a local: a load through l could alias of[] */
                dt_real v = sr[q - q0] + bf;
                if (r) v += rf[q];
                of[q] = act == DT_ACT_RELU ? (v > 0 ? v : 0) : act == DT_ACT_LEAKY_RELU ? (v > 0 ? v : alpha * v) : v;
            }
    }
}

/* Whether the activation takes a pass of its own after the output pass: z
 * kept apart from y, or an activation other than relu and leaky relu. */
static int act_apart(const dt_layer *l, const dt_real *z)
{
    return z != l->y || (l->act != DT_ACT_RELU && l->act != DT_ACT_LEAKY_RELU);
}

/* bias_act_with for example e's filters [f0, f0 + nf) and its outputs
 * [q0, q0 + len) (whole rows), the product s [nf, len] (rows lds apart) in
 * rows of ow (ldrow apart; ow = ldrow = P where it is one row). Where the
 * activation is apart this writes z only, and act_after applies it once
 * the example's filters are done (a softmax spans all its F*P values). */
static void bias_act_part(const dt_layer *l, const dt_real *b, const dt_real *s, int64_t lds, int64_t ow,
                          int64_t ldrow, int64_t e, int64_t f0, int64_t nf, int64_t q0, int64_t len, dt_real *z,
                          int64_t F, int64_t P)
{
    int64_t at = (e * F + f0) * P + q0;
    const dt_real *r = l->res ? l->res + at : NULL;
    if (b) b += f0;
    /* no bias, no residual, a linear output the gemm wrote in place (a
     * convolution before a batch norm): nothing to do, not a pass of z = z */
    if (!b && !r && l->act == DT_ACT_LINEAR && s == z + at && lds == P && ldrow == ow) return;
    if (act_apart(l, z))
        bias_act_with(b, s, lds, ow, ldrow, r, z + at, nf, P, len, DT_ACT_LINEAR, 0);
    else if (l->act == DT_ACT_RELU)
        bias_act_with(b, s, lds, ow, ldrow, r, l->y + at, nf, P, len, DT_ACT_RELU, 0);
    else
        bias_act_with(b, s, lds, ow, ldrow, r, l->y + at, nf, P, len, DT_ACT_LEAKY_RELU, l->act_alpha);
}

static void bias_act_rows(const dt_layer *l, const dt_real *b, const dt_real *s, int64_t lds, int64_t ow,
                          int64_t ldrow, int64_t e, int64_t f0, int64_t nf, dt_real *z, int64_t F, int64_t P)
{
    bias_act_part(l, b, s, lds, ow, ldrow, e, f0, nf, 0, P, z, F, P);
}

static void act_after(const dt_layer *l, int64_t e, dt_real *z, int64_t F, int64_t P)
{
    if (act_apart(l, z)) dt_act_forward(l->act, z + e * F * P, l->y + e * F * P, 1, F * P, l->act_alpha);
}

static void bias_act(const dt_layer *l, const dt_real *b, const dt_real *s, int64_t lds, int64_t e, dt_real *z,
                     int64_t F, int64_t P)
{
    bias_act_rows(l, b, s, lds, P, P, e, 0, F, z, F, P);
    act_after(l, e, z, F, P);
}

/* Examples lowered side by side in groups, col [K, G*P], one gemm per group
 * into zb [F, G*P], then each example's [F, P] copied out in its output
 * pass. G keeps a group's columns within COL_CACHE_REALS: larger groups
 * were slower (the face recogniser's 128-filter layers on 8x8 maps: 3.2 ms
 * a batch of 16 at 1 MiB, 3.8 at 2.3 MiB, 4.3 at 4.6 MiB); the weights are
 * packed once a group instead of once an example. The scratch holds (after
 * z, when kept) col and zb. */
/* The groups' layout, shared by forward and backward: after z (when kept)
 * col [K, n*P] and then [F, n*P] (zb forward, dzb backward); returns G. */
static int64_t group_layout(const dt_layer *l, int64_t n, dt_real **col, dt_real **out)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int64_t K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow;
    *col = l->scratch + l->scratch_fixed + (p->keep_z ? n * p->f * P : 0);
    *out = *col + K * n * P;
    return COL_CACHE_REALS / (K * P) < 1 ? 1 : COL_CACHE_REALS / (K * P);
}

/* Example xe's columns at column e*P of a group's col [K, ld]. */
static void lower_into_group(const conv_priv *p, const dt_real *xe, dt_real *col, int64_t e, int64_t ld)
{
    const dt_conv_geom *g = &p->g;
    int64_t P = (int64_t)g->oh * g->ow;
    if (!p->identity) {
        dt_im2col(g, xe, col + e * P, ld);
        return;
    }
    for (int64_t k = 0; k < g->c; k++) memcpy(col + k * ld + e * P, xe + k * P, (size_t)P * sizeof *xe);
}

static void conv_forward_batched(dt_layer *l, const dt_pass *ps, dt_real *z)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int64_t n = ps->n, F = p->f, K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow;
    int64_t chw = (int64_t)g->c * g->h * g->w;
    const dt_real *W = l->params[0].w, *b = p->bias ? l->params[1].w : NULL;
    dt_real *col, *zb;
    int64_t G = group_layout(l, n, &col, &zb);
    for (int64_t e0 = 0; e0 < n; e0 += G) {
        int64_t m = n - e0 < G ? n - e0 : G, mP = m * P;
        for (int64_t e = 0; e < m; e++) lower_into_group(p, l->x[0] + (e0 + e) * chw, col, e, mP);
        dt_gemm(0, 0, F, mP, K, 1, W, K, col, mP, 0, zb, mP);
        for (int64_t e = 0; e < m; e++) bias_act(l, b, zb + e * P, mP, e0 + e, z, F, P);
    }
}

/* The weights by kernel row, Wr [KH][F, C*KW]: Wr[i][f][c*KW + j] =
 * W[f][c][i][j] (back = 0); or back: W[f][c][i][j] += Wr[i][f][c*KW + j]. */
static void by_kernel_row(const conv_priv *p, dt_real *W, dt_real *Wr, int back)
{
    const dt_conv_geom *g = &p->g;
    int64_t F = p->f, CK = (int64_t)g->c * g->kw;
    for (int64_t f = 0; f < F; f++)
        for (int c = 0; c < g->c; c++)
            for (int i = 0; i < g->kh; i++)
                for (int j = 0; j < g->kw; j++) {
                    dt_real *w = &W[((f * g->c + c) * g->kh + i) * g->kw + j], *r = &Wr[(i * F + f) * CK + c * g->kw + j];
                    if (back)
                        *w += *r;
                    else
                        *r = *w;
                }
}

static void conv_forward_rows(dt_layer *l, const dt_pass *ps, dt_real *z)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int64_t F = p->f, K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow, CK = (int64_t)g->c * g->kw;
    int64_t chw = (int64_t)g->c * g->h * g->w, ld = (int64_t)(g->oh + g->kh - 1) * g->ow;
    const dt_real *b = p->bias ? l->params[1].w : NULL;
    dt_real *rows = l->scratch, *Wr = l->scratch + K * P;
    by_kernel_row(p, l->params[0].w, Wr, 0);
    for (int64_t e = 0; e < ps->n; e++) {
        const dt_real *xe = l->x[0] + e * chw;
        dt_real *ze = z + e * F * P;
        dt_im2row(g, xe, rows, ld);
        for (int i = 0; i < g->kh; i++)
            dt_gemm(0, 0, F, P, CK, 1, Wr + i * F * CK, CK, rows + (int64_t)i * g->ow, ld, i ? 1 : 0, ze, P);
        bias_act(l, b, ze, P, e, z, F, P);
    }
}

/* Whether n examples fill batch lanes: at most a quarter of them empty. */
static int lanes_fill(int64_t n)
{
    return 4 * n >= 3 * DT_DCONV_LANES * ((n + DT_DCONV_LANES - 1) / DT_DCONV_LANES);
}

/* Batch lanes, 16 examples at a time: their planes interleaved (xb), one
 * run, then each example's output gathered from its lane and passed through
 * the output pass. scratch: xb, out [F*P, 16], one filter's output
 * [16, P]. */
static void conv_forward_lanes(dt_layer *l, const dt_pass *ps, dt_real *z)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int hp, wp;
    dt_dconv_lanes_size(g, &hp, &wp);
    int64_t L = DT_DCONV_LANES, F = p->f, P = (int64_t)g->oh * g->ow;
    int64_t chw = (int64_t)g->c * g->h * g->w;
    const dt_real *b = p->bias ? l->params[1].w : NULL;
    dt_real *xb = l->scratch, *ob = xb + L * g->c * hp * wp, *oe = ob + L * F * P;
    for (int64_t e0 = 0; e0 < ps->n; e0 += L) {
        int64_t m = ps->n - e0 < L ? ps->n - e0 : L;
        dt_dconv_lanes_pad(g, l->x[0] + e0 * chw, m, xb);
        dt_dconv_lanes_run(g, xb, p->loff, l->params[0].w, 0, p->f, ob);
        for (int64_t f = 0; f < F; f++) { /* a filter's [16, P] in cache for its examples' output passes */
            dt_dconv_lanes_get(ob + f * P * L, P, oe);
            for (int64_t e = 0; e < m; e++) bias_act_rows(l, b, oe + e * P, P, P, P, e0 + e, f, 1, z, F, P);
        }
        for (int64_t e = e0; e < e0 + m; e++) act_after(l, e, z, F, P);
    }
}

/* Direct convolution a group of examples at a time: their planes side by
 * side (example e from e*hq*wq in each), one run, then each example's
 * output pass reads its OH rows of OW (wq apart). */
static void conv_forward_direct(dt_layer *l, const dt_pass *ps, dt_real *z)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int hq, wq;
    int64_t planes = g->c * dt_dconv_planes(g, &hq, &wq), img = (int64_t)hq * wq;
    int64_t F = p->f, K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow, chw = (int64_t)g->c * g->h * g->w;
    const dt_real *b = p->bias ? l->params[1].w : NULL;
    dt_real *xp = l->scratch, *zo = xp + planes * p->ldx;
    for (int64_t e0 = 0; e0 < ps->n; e0 += p->dgroup) {
        int64_t m = ps->n - e0 < p->dgroup ? ps->n - e0 : p->dgroup;
        for (int64_t e = 0; e < m; e++) dt_dconv_pad(g, l->x[0] + (e0 + e) * chw, xp + e * img, p->ldx);
        for (int64_t c = 0; c < planes; c++) /* what the last tile reads past the planes */
            memset(xp + c * p->ldx + m * img, 0, (size_t)(p->ldx - m * img) * sizeof *xp);
        if (m == 1 && p->band < g->oh) {
            /* one large plane: bands of output rows whose products stay in
             * cache for the output pass (the face detector's 16 filters on
             * 414x414: 11 MiB of products otherwise) */
            for (int64_t y0 = 0; y0 < g->oh; y0 += p->band) {
                int64_t rows = g->oh - y0 < p->band ? g->oh - y0 : p->band;
                dt_dconv_run(xp + y0 * wq, p->off, K, l->params[0].w, 0, p->f, zo, p->ldo_band, rows * wq);
                bias_act_part(l, b, zo, p->ldo_band, g->ow, wq, e0, 0, F, y0 * g->ow, rows * g->ow, z, F, P);
            }
            act_after(l, e0, z, F, P);
            continue;
        }
        dt_dconv_run(xp, p->off, K, l->params[0].w, 0, p->f, zo, p->ldo, (m - 1) * img + (int64_t)g->oh * wq);
        for (int64_t e = 0; e < m; e++) {
            bias_act_rows(l, b, zo + e * img, p->ldo, g->ow, wq, e0 + e, 0, F, z, F, P);
            act_after(l, e0 + e, z, F, P);
        }
    }
}

static void conv_forward(dt_layer *l, const dt_pass *ps)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int64_t F = p->f, K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow;
    int64_t chw = (int64_t)g->c * g->h * g->w;
    const dt_real *W = l->params[0].w, *b = p->bias ? l->params[1].w : NULL;
    dt_real *col = l->scratch, *z = p->keep_z ? l->scratch + l->scratch_fixed : l->y;
    l->z = p->keep_z || l->act == DT_ACT_LINEAR ? z : NULL;
    /* lanes where the batch fills them, unless the
     * padded planes waste little (the face recogniser's 32 channels on
     * 35x35, 89 % of their planes: 3.8 ms a batch of 16 that way, 4.1 by
     * lanes, whose interleaving costs a pass in and a pass out) */
    if (p->lanes && !p->direct_first && lanes_fill(ps->n)) {
        conv_forward_lanes(l, ps, z);
        return;
    }
    if (p->direct) {
        conv_forward_direct(l, ps, z);
        return;
    }
    if (p->batched) {
        conv_forward_batched(l, ps, z);
        return;
    }
    if (p->by_rows) {
        conv_forward_rows(l, ps, z);
        return;
    }
    /* a large plane is lowered a band of output rows at a time, its columns
     * still in cache when the gemm reads them (the face recogniser's 7x7
     * stride-2 stem, 3 MiB of columns an example: 15.4 -> 10.5 ms a batch) */
    int band = (int)(K * g->ow >= COL_CACHE_REALS ? 1 : COL_CACHE_REALS / (K * g->ow));
    for (int64_t e = 0; e < ps->n; e++) {
        const dt_real *xe = l->x[0] + e * chw;
        dt_real *ze = z + e * F * P;
        if (p->identity)
            dt_gemm(0, 0, F, P, K, 1, W, K, xe, P, 0, ze, P);
        else
            for (int oy = 0; oy < g->oh; oy += band) {
                int rows = g->oh - oy < band ? g->oh - oy : band;
                int64_t cols = (int64_t)rows * g->ow;
                dt_im2col_rows(g, xe, col, cols, oy, oy + rows);
                dt_gemm(0, 0, F, cols, K, 1, W, K, col, cols, 0, ze + (int64_t)oy * g->ow, P);
            }
        bias_act(l, b, ze, P, e, z, F, P);
    }
}

/* Backward by kernel rows (see conv_forward_rows): per example
 *   dWr[i] += dz · rows[:, i*OW ...]^T   and   drows[:, i*OW ...] += Wr[i]^T · dz,
 * the KH windows of drows overlapping, then dx += the adjoint of im2row.
 * rows and drows share the column scratch; after it Wr [F*K], dWr [F*K]. */
static void conv_backward_rows(dt_layer *l, const dt_pass *ps)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int64_t F = p->f, K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow, CK = (int64_t)g->c * g->kw;
    int64_t chw = (int64_t)g->c * g->h * g->w, fp = F * P, ld = (int64_t)(g->oh + g->kh - 1) * g->ow;
    dt_real *dW = l->params[0].g, *db = p->bias ? l->params[1].g : NULL;
    dt_real *rows = l->scratch, *Wr = l->scratch + K * P, *dWr = Wr + F * K;
    by_kernel_row(p, l->params[0].w, Wr, 0);
    if (dW && !p->wgrad3) memset(dWr, 0, (size_t)(F * K) * sizeof *dWr);
    for (int64_t e = 0; e < ps->n; e++) {
        const dt_real *xe = l->x[0] + e * chw;
        dt_real *dz = l->dy + e * fp;
        if (!l->fused_output)
            dt_act_backward(l->act, l->y + e * fp, l->y + e * fp, dz, dz, 1, fp, l->act_alpha);
        if (db)
            for (int64_t f = 0; f < F; f++) db[f] += dt_sum(dz + f * P, P);
        if (dW && p->wgrad3) {
            dt_wgrad3(g, p->f, xe, dz, rows, dW);
        } else if (dW) {
            dt_im2row(g, xe, rows, ld);
            for (int i = 0; i < g->kh; i++)
                dt_gemm(0, 1, F, CK, P, 1, dz, P, rows + (int64_t)i * g->ow, ld, 1, dWr + i * F * CK, CK);
        }
        if (!l->dx[0]) continue;
        dt_real *dx = l->dx[0] + e * chw;
        memset(rows, 0, (size_t)(CK * ld) * sizeof *rows); /* the windows overlap: each adds */
        for (int i = 0; i < g->kh; i++)
            dt_gemm(1, 0, CK, P, F, 1, Wr + i * F * CK, CK, dz, P, 1, rows + (int64_t)i * g->ow, ld);
        if (!l->dx_accum[0]) memset(dx, 0, (size_t)chw * sizeof *dx);
        dt_row2im(g, rows, ld, dx);
    }
    if (dW && !p->wgrad3) by_kernel_row(p, dW, dWr, 1);
}

/* Backward over the groups of conv_forward_batched: per group, the
 * examples' dz side by side in dzb [F, G*P] and their columns in col
 * [K, G*P], then dW += dzb · col^T and dcol = W^T · dzb (into col), and
 * each example's input gradient from its columns. Same scratch as forward. */
static void conv_backward_batched(dt_layer *l, const dt_pass *ps)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int64_t n = ps->n, F = p->f, K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow;
    int64_t chw = (int64_t)g->c * g->h * g->w, fp = F * P;
    const dt_real *W = l->params[0].w;
    dt_real *dW = l->params[0].g, *db = p->bias ? l->params[1].g : NULL;
    dt_real *col, *dzb;
    int64_t G = group_layout(l, n, &col, &dzb);
    for (int64_t e0 = 0; e0 < n; e0 += G) {
        int64_t m = n - e0 < G ? n - e0 : G, mP = m * P;
        for (int64_t e = 0; e < m; e++) {
            dt_real *dz = l->dy + (e0 + e) * fp, *y = l->y + (e0 + e) * fp;
            if (!l->fused_output) dt_act_backward(l->act, y, y, dz, dz, 1, fp, l->act_alpha);
            for (int64_t f = 0; f < F; f++) {
                if (db) db[f] += dt_sum(dz + f * P, P);
                memcpy(dzb + f * mP + e * P, dz + f * P, (size_t)P * sizeof *dz);
            }
            if (dW) lower_into_group(p, l->x[0] + (e0 + e) * chw, col, e, mP);
        }
        if (dW) dt_gemm(0, 1, F, K, mP, 1, dzb, mP, col, mP, 1, dW, K);
        if (!l->dx[0]) continue;
        dt_gemm(1, 0, K, mP, F, 1, W, K, dzb, mP, 0, col, mP); /* col <- dcol */
        for (int64_t e = 0; e < m; e++) {
            dt_real *dx = l->dx[0] + (e0 + e) * chw;
            int acc = l->dx_accum[0];
            if (p->identity) {
                for (int64_t k = 0; k < K; k++) dt_layer_put_dx(dx + k * P, acc, col + k * mP + e * P, P);
                continue;
            }
            if (!acc) memset(dx, 0, (size_t)chw * sizeof *dx);
            dt_col2im(g, col + e * P, mP, dx);
        }
    }
}

/* Backward by batch lanes, 16 examples at a time (stride 1): the output
 * gradient's lanes padded as the flipped layer's input (dzb), dW from them
 * and the input's lanes (xb), then dx by the flipped layer's forward run
 * into dxb [C, H*W, 16], each channel's lanes handed out to the examples. */
static void conv_backward_lanes(dt_layer *l, const dt_pass *ps)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g, *fg = &p->flip;
    int hp, wp, fh, fw;
    dt_dconv_lanes_size(g, &hp, &wp);
    dt_dconv_lanes_size(fg, &fh, &fw);
    int64_t L = DT_DCONV_LANES, F = p->f, P = (int64_t)g->oh * g->ow;
    int64_t hw = (int64_t)g->h * g->w, chw = g->c * hw, fp = F * P;
    dt_real *dW = l->params[0].g, *db = p->bias ? l->params[1].g : NULL;
    dt_real *xb = l->scratch, *dzb = xb + L * g->c * hp * wp, *dxb = dzb + L * F * fh * fw, *dxc = dxb + L * chw;
    dt_real *Wt = dxc + L * hw;
    if (l->dx[0]) dt_dconv_pack_flipped(l->params[0].w, p->f, g->c, g->kh, g->kw, Wt);
    for (int64_t e0 = 0; e0 < ps->n; e0 += L) {
        int64_t m = ps->n - e0 < L ? ps->n - e0 : L;
        for (int64_t e = e0; e < e0 + m; e++) {
            dt_real *dz = l->dy + e * fp, *y = l->y + e * fp; /* dy is ours and dead after this: dz in place */
            if (!l->fused_output) dt_act_backward(l->act, y, y, dz, dz, 1, fp, l->act_alpha);
            if (db)
                for (int64_t f = 0; f < F; f++) db[f] += dt_sum(dz + f * P, P);
        }
        dt_dconv_lanes_pad(fg, l->dy + e0 * fp, m, dzb);
        if (dW) {
            dt_dconv_lanes_pad(g, l->x[0] + e0 * chw, m, xb);
            dt_dconv_lanes_wgrad(g, xb, p->loff, dzb + ((int64_t)fg->pt * fw + fg->pl) * L, fh, fw, p->f, dW);
        }
        if (!l->dx[0]) continue;
        dt_dconv_lanes_run(fg, dzb, p->boff, Wt, 1, g->c, dxb);
        for (int64_t c = 0; c < g->c; c++) {
            dt_dconv_lanes_get(dxb + c * hw * L, hw, dxc);
            for (int64_t e = 0; e < m; e++)
                dt_layer_put_dx(l->dx[0] + (e0 + e) * chw + c * hw, l->dx_accum[0], dxc + e * hw, hw);
        }
    }
}

static void conv_backward(dt_layer *l, const dt_pass *ps)
{
    const conv_priv *p = l->priv;
    const dt_conv_geom *g = &p->g;
    int64_t F = p->f, K = (int64_t)g->c * g->kh * g->kw, P = (int64_t)g->oh * g->ow;
    int64_t chw = (int64_t)g->c * g->h * g->w, fp = F * P;
    const dt_real *W = l->params[0].w;
    dt_real *dW = l->params[0].g, *db = p->bias ? l->params[1].g : NULL, *col = l->scratch;
    if (p->lanes_back && lanes_fill(ps->n)) {
        conv_backward_lanes(l, ps);
        return;
    }
    if (p->batched_back) {
        conv_backward_batched(l, ps);
        return;
    }
    if (p->by_rows) {
        conv_backward_rows(l, ps);
        return;
    }
    for (int64_t e = 0; e < ps->n; e++) {
        const dt_real *xe = l->x[0] + e * chw;
        dt_real *dz = l->dy + e * fp; /* dy is ours and dead after this: dz in place */
        if (!l->fused_output) /* y stands in for z: see the top of the file */
            dt_act_backward(l->act, l->y + e * fp, l->y + e * fp, dz, dz, 1, fp, l->act_alpha);
        if (db)
            for (int64_t f = 0; f < F; f++) db[f] += dt_sum(dz + f * P, P);
        if (dW) { /* NULL when frozen */
            if (!p->identity) dt_im2col(g, xe, col, P);
            dt_gemm(0, 1, F, K, P, 1, dz, P, p->identity ? xe : col, P, 1, dW, K);
        }
        if (!l->dx[0]) continue;
        dt_real *dx = l->dx[0] + e * chw;
        int acc = l->dx_accum[0];
        if (p->identity) {
            dt_gemm(1, 0, K, P, F, 1, W, K, dz, P, acc ? 1 : 0, dx, P);
            continue;
        }
        dt_gemm(1, 0, K, P, F, 1, W, K, dz, P, 0, col, P); /* col <- dcol */
        if (!acc) memset(dx, 0, (size_t)chw * sizeof *dx);
        dt_col2im(g, col, P, dx);
    }
}

static void conv_destroy(dt_layer *l)
{
    conv_priv *p = l->priv;
    if (p) dt_free(p->off), dt_free(p->loff), dt_free(p->boff);
    dt_free(l->priv);
}

const dt_layer_ops dt_conv2d_ops = {"conv2d", conv_configure, conv_init, conv_forward,
                                    conv_backward, conv_destroy, 1, NULL, .init_keys = 1, .folds_act = 1};
