/* dwconv2d.c — depthwise 2-D convolution (groups = channels, multiplier 1,
 * as PyTorch's Conv2d(C, C, k, groups=C) and TensorFlow's depthwise conv)
 * with a fused activation.
 *
 *   x [N, C, H, W], W [C, 1, KH, KW], b [C]:
 *   z[n,c,oy,ox] = b[c] + Σ_ij W[c,0,i,j] x[n, c, oy·SH - PT + i, ox·SW - PL + j];  y = act(z)
 * Keys: kernel (required, "k" or "kh,kw"), stride (1), padding (valid |
 *       same | "p" | "ph,pw"), bias (1), activation (linear), alpha,
 *       init (he, fan_in = fan_out = KH*KW), init_scale.
 * `same` pads as TensorFlow (and conv2d): OH = ceil(H / SH), total padding
 * max((OH-1)*SH + KH - H, 0), the odd one at the bottom (right).
 *
 * Direct loops over each channel's plane, no im2col: a depthwise conv does
 * only KH*KW multiply-adds per output, too few for a gemm to pay. A padded
 * plane is first copied into a zero frame (the frame is zeroed once per
 * pass, then only the plane's rows are copied), so the loops have no
 * borders: the 3x3 kernel at column stride 1 or 2 is one pass of nine
 * multiply-adds per output that GCC vectorises over output columns, other
 * kernels go tap by tap along output rows. Backward: dW in lanes (nine
 * accumulators for 3x3); dx at stride 1 is the same correlation of dz,
 * framed by k - 1 - p, with the flipped kernel; at other strides dz is
 * scattered into a padded dx plane that is then cropped.
 * scratch: fixed part, x's frame (none when unpadded) and dz's (or the
 * padded dx plane); per example, z [C, OH, OW] for sigmoid and softmax only,
 * the activations a loss can be fused with (l->z); backward takes the other
 * derivatives from y, as conv2d does (see there). A softmax runs over each
 * example's C*OH*OW values. */
#include <string.h>

#include "nn/init.h"
#include "nn/layer.h"
#include "ops/vshuffle.h"

/* One plane's geometry: out[oy][ox] reads in[oy*sh - pt + i][ox*sw - pl + j],
 * zero padding pt above, pb below, pl left, pr right. */
typedef struct {
    int64_t h, w, oh, ow;
    int64_t kh, kw, sh, sw;
    int64_t pt, pb, pl, pr;
} plane_geom;

/* A plane [sh, sw] in a zero frame dst [dh, dw], at row r0, column c0
 * (either may be negative: what falls outside is dropped). */
typedef struct {
    int64_t sh, sw, dh, dw, r0, c0;
} frame;

typedef struct {
    plane_geom g;
    frame fx, fd; /* x padded; dz padded by k - 1 - p, for dx at stride 1 */
    int64_t nx, nd; /* scratch reals of each (nx = 0: no padding, x read in place) */
    int stride1;
    int bias;
    int keep_z; /* z kept apart from y, for a loss */
    dt_init init;
} dw_priv;

static dt_status dw_configure(dt_layer *l, dt_ini *m, const char *sec)
{
    long bias;
    dw_priv *p = dt_alloc(sizeof *p);
    if (!p) return dt_error(DT_ERR_NOMEM, "out of memory");
    l->priv = p;
    dt_window w;
    DT_TRY(dt_layer_read_window(m, sec, l->in.h, l->in.w, &w));
    plane_geom *g = &p->g;
    *g = (plane_geom){.h = l->in.h, .w = l->in.w, .kh = w.kh, .kw = w.kw, .sh = w.sh, .sw = w.sw,
                      .pt = w.pt, .pb = w.pb, .pl = w.pl, .pr = w.pr, .oh = w.oh, .ow = w.ow};
    DT_TRY(dt_ini_int(m, sec, "bias", 0, 1, 0, 1, &bias));
    DT_TRY(dt_layer_read_act(l, m, sec, "linear"));
    DT_TRY(dt_init_read(m, sec, "he", &p->init));
    int64_t ph = g->h + g->pt + g->pb, pw = g->w + g->pl + g->pr;
    p->bias = (int)bias;
    p->keep_z = l->act == DT_ACT_SIGMOID || l->act == DT_ACT_SOFTMAX;
    int64_t c = l->in.c, kk = g->kh * g->kw;
    l->out = (dt_shape){l->in.c, (int)g->oh, (int)g->ow};
    l->nparams = p->bias ? 2 : 1;
    l->params[0] = (dt_param){.name = "W", .ndim = 4, .dims = {c, 1, g->kh, g->kw}, .size = c * kk, .decay = 1};
    if (p->bias) l->params[1] = (dt_param){.name = "b", .ndim = 1, .dims = {c}, .size = c};
    l->scratch_len = p->keep_z ? dt_shape_size(l->out) : 0;
    int64_t dzh = g->h + g->kh - 1, dzw = g->w + g->kw - 1;
    p->fx = (frame){g->h, g->w, ph, pw, g->pt, g->pl};
    p->fd = (frame){g->oh, g->ow, dzh, dzw, g->kh - 1 - g->pt, g->kw - 1 - g->pl};
    p->stride1 = g->sh == 1 && g->sw == 1;
    p->nx = ph == g->h && pw == g->w ? 0 : (ph * pw + 15) / 16 * 16; /* 16: z stays 64-byte aligned */
    p->nd = ((p->stride1 ? dzh * dzw : ph * pw) + 15) / 16 * 16;
    l->scratch_fixed = p->nx + p->nd;
    return DT_OK;
}

static dt_status dw_init(dt_layer *l, dt_rng *rng)
{
    dw_priv *p = l->priv;
    dt_param *W = &l->params[0];
    int64_t taps = W->dims[2] * W->dims[3]; /* each input feeds one channel's taps: fan_out = fan_in */
    dt_init_fill(&p->init, rng, taps, taps, W->w, W->size);
    if (p->bias) memset(l->params[1].w, 0, (size_t)l->params[1].size * sizeof(dt_real));
    return DT_OK;
}

/* Copy src into its frame. The frame around it is zeroed once per pass
 * (memset of all dst) and stays zero: each plane writes the same cells. */
static void frame_fill(const frame *f, const dt_real *restrict src, dt_real *restrict dst)
{
    int64_t a = f->c0 > 0 ? f->c0 : 0, b = f->c0 + f->sw < f->dw ? f->c0 + f->sw : f->dw;
    int64_t ra = f->r0 > 0 ? f->r0 : 0, rb = f->r0 + f->sh < f->dh ? f->r0 + f->sh : f->dh;
    if (a >= b) return;
    for (int64_t r = ra; r < rb; r++)
        memcpy(dst + r * f->dw + a, src + (r - f->r0) * f->sw + (a - f->c0), (size_t)(b - a) * sizeof *dst);
}

/* Tap t of kernel k (kk taps), or of k turned by 180 degrees. */
static inline dt_real tap(const dt_real *k, int64_t kk, int64_t t, int flip) { return flip ? k[kk - 1 - t] : k[t]; }

/* A correlation over an already padded input: in has rows of iw reals and
 *   out[oy][ox] = base + Σ_ij k(i,j) in[oy*sh + i][ox*sw + j],  out [oh, ow],
 * base = b, or out[oy][ox] itself when acc. */
typedef struct {
    const dt_real *in;
    int64_t iw;
    dt_real *out;
    int64_t oh, ow, kh, kw, sh, sw;
    const dt_real *k;
    int flip, acc;
    dt_real b;
} corr_args;

/* The 3x3 kernels below are written in GCC vector extensions with explicit
 * accumulators, one register wide (64 bytes with AVX-512, 32 with AVX, 16
 * otherwise): auto-vectorised, dW kept its lanes in memory (2x slower),
 * stride 2 gathered element-wise and a row's last ow % V outputs ran in
 * scalar code (at 52 columns about as long as the vector part). */
#if defined(__AVX512F__)
#define DW_VBYTES 64
#elif defined(__AVX__)
#define DW_VBYTES 32
#else
#define DW_VBYTES 16
#endif
typedef dt_real vreal __attribute__((vector_size(DW_VBYTES)));
#ifdef DTRAIN_DOUBLE
typedef int64_t vmask __attribute__((vector_size(DW_VBYTES)));
#else
typedef int32_t vmask __attribute__((vector_size(DW_VBYTES)));
#endif
enum { V = sizeof(vreal) / sizeof(dt_real) };

static inline __attribute__((always_inline)) vreal vload(const dt_real *p)
{
    vreal v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Row r's three taps for the V outputs from ox: t[j][u] = r[(ox + u)*sw + j],
 * sw = 1 or 2 (a constant); reads nothing past r[(ox + V - 1)*sw + 2]. */
static inline __attribute__((always_inline)) void vtaps(const dt_real *r, int64_t ox, const int64_t sw, vreal t[3])
{
    if (sw == 1) {
        t[0] = vload(r + ox), t[1] = vload(r + ox + 1), t[2] = vload(r + ox + 2);
        return;
    }
    vmask even, odd, next; /* constants once folded */
    for (int u = 0; u < V; u++) even[u] = 2 * u, odd[u] = 2 * u + 1, next[u] = u + 1;
    const dt_real *q = r + 2 * ox;
    vreal lo = vload(q), hi = vload(q + V);
    t[0] = DT_SHUFFLE(lo, hi, even);
    t[1] = DT_SHUFFLE(lo, hi, odd);
    t[2] = DT_SHUFFLE(t[0], (vreal){0} + q[2 * V], next);
}

/* Σ_ij k[i*3 + j] r_i[(ox + u)*sw + j] for the V outputs from ox. */
static inline __attribute__((always_inline)) vreal vsum3(const dt_real *const r[3], int64_t ox, const int64_t sw,
                                                         const dt_real k[9])
{
    vreal t[3], s = {0};
    for (int i = 0; i < 3; i++) {
        vtaps(r[i], ox, sw, t);
        s += k[3 * i] * t[0] + k[3 * i + 1] * t[1] + k[3 * i + 2] * t[2];
    }
    return s;
}

/* The 3x3 kernel: nine multiply-adds per output in one pass; sw and acc are
 * constants at each call. A row of at least V outputs ends in one vector
 * that overlaps the previous one (recomputing, for acc, from the values
 * the row held before). */
static inline __attribute__((always_inline)) void corr3(const corr_args *c, const int64_t sw, const int acc)
{
    dt_real k[9];
    for (int t = 0; t < 9; t++) k[t] = tap(c->k, 9, t, c->flip);
    const int64_t iw = c->iw, ow = c->ow, nv = ow / V * V, ts = ow - V;
    for (int64_t oy = 0; oy < c->oh; oy++) {
        const dt_real *r[3] = {c->in + oy * c->sh * iw, c->in + (oy * c->sh + 1) * iw, c->in + (oy * c->sh + 2) * iw};
        dt_real *o = c->out + oy * ow;
        if (ow < V) {
            for (int64_t ox = 0; ox < ow; ox++) {
                dt_real v = 0;
                for (int t = 0; t < 9; t++) v += k[t] * r[t / 3][ox * sw + t % 3];
                o[ox] = v + (acc ? o[ox] : c->b);
            }
            continue;
        }
        const vreal base = acc ? vload(o + ts) : (vreal){0} + c->b; /* the tail's, read before the row is written */
        for (int64_t ox = 0; ox < nv; ox += V) {
            vreal v = vsum3(r, ox, sw, k) + (acc ? vload(o + ox) : (vreal){0} + c->b);
            memcpy(o + ox, &v, sizeof v);
        }
        if (nv < ow) {
            vreal v = vsum3(r, ts, sw, k) + base;
            memcpy(o + ts, &v, sizeof v);
        }
    }
}

static void corr(const corr_args *c)
{
    if (c->kh == 3 && c->kw == 3 && (c->sw == 1 || c->sw == 2)) {
        if (c->sw == 1)
            c->acc ? corr3(c, 1, 1) : corr3(c, 1, 0);
        else
            c->acc ? corr3(c, 2, 1) : corr3(c, 2, 0);
        return;
    }
    int64_t kk = c->kh * c->kw, sw = c->sw; /* any kernel: tap by tap along each output row */
    for (int64_t oy = 0; oy < c->oh; oy++) {
        dt_real *restrict o = c->out + oy * c->ow;
        if (!c->acc)
            for (int64_t ox = 0; ox < c->ow; ox++) o[ox] = c->b;
        for (int64_t i = 0; i < c->kh; i++)
            for (int64_t j = 0; j < c->kw; j++) {
                const dt_real *restrict x = c->in + (oy * c->sh + i) * c->iw + j;
                dt_real kv = tap(c->k, kk, i * c->kw + j, c->flip);
                if (sw == 1)
                    for (int64_t ox = 0; ox < c->ow; ox++) o[ox] += kv * x[ox];
                else
                    for (int64_t ox = 0; ox < c->ow; ox++) o[ox] += kv * x[ox * sw];
            }
    }
}

/* Reals per lane group of the reductions: one 32-byte vector. */
enum { L = 32 / sizeof(dt_real) };

/* dk[i*3 + j] += Σ dz[oy][ox] in[oy*sh + i][ox*sw + j] (in padded, rows of
 * iw): nine vector accumulators over the plane, each dz value loaded once;
 * the overlapping last vector of a row counts only its new lanes. */
static inline __attribute__((always_inline)) void grad3(const dt_real *in, int64_t iw, const dt_real *dz, int64_t oh,
                                                        int64_t ow, int64_t sh, const int64_t sw, dt_real *dk)
{
    vreal a[9] = {{0}}, t[3];
    dt_real s[9] = {0};
    const int64_t nv = ow < V ? 0 : ow / V * V, ts = ow - V;
    vmask fresh; /* lanes of the tail vector past nv */
    for (int u = 0; u < V; u++) fresh[u] = ts + u >= nv ? -1 : 0;
    for (int64_t oy = 0; oy < oh; oy++) {
        const dt_real *r[3] = {in + oy * sh * iw, in + (oy * sh + 1) * iw, in + (oy * sh + 2) * iw}, *d = dz + oy * ow;
        for (int64_t ox = 0; ox < nv; ox += V) {
            vreal v = vload(d + ox);
            for (int i = 0; i < 3; i++) {
                vtaps(r[i], ox, sw, t);
                a[3 * i] += v * t[0], a[3 * i + 1] += v * t[1], a[3 * i + 2] += v * t[2];
            }
        }
        if (nv && nv < ow) {
            vreal v = (vreal)((vmask)vload(d + ts) & fresh);
            for (int i = 0; i < 3; i++) {
                vtaps(r[i], ts, sw, t);
                a[3 * i] += v * t[0], a[3 * i + 1] += v * t[1], a[3 * i + 2] += v * t[2];
            }
        }
        for (int64_t ox = nv ? ow : 0; ox < ow; ox++) /* rows shorter than V */
            for (int q = 0; q < 9; q++) s[q] += d[ox] * r[q / 3][ox * sw + q % 3];
    }
    for (int q = 0; q < 9; q++) {
        for (int u = 0; u < V; u++) s[q] += a[q][u];
        dk[q] += s[q];
    }
}

/* Σ a[q] b[q*sb] over q < n in independent lanes, so it vectorises without -ffast-math. */
static inline __attribute__((always_inline)) dt_real dot(const dt_real *a, const dt_real *b, int64_t n, const int64_t sb)
{
    dt_real acc[L] = {0}, s = 0;
    int64_t q = 0;
    for (; q + L <= n; q += L)
        for (int t = 0; t < L; t++) acc[t] += a[q + t] * b[(q + t) * sb];
    for (; q < n; q++) s += a[q] * b[q * sb];
    for (int t = 0; t < L; t++) s += acc[t];
    return s;
}

/* dk[i*kw + j] += Σ dz[oy][ox] in[oy*sh + i][ox*sw + j] over a padded input. */
static void grad(const dt_real *in, int64_t iw, const dt_real *dz, const plane_geom *g, dt_real *dk)
{
    if (g->kh == 3 && g->kw == 3 && (g->sw == 1 || g->sw == 2)) {
        if (g->sw == 1)
            grad3(in, iw, dz, g->oh, g->ow, g->sh, 1, dk);
        else
            grad3(in, iw, dz, g->oh, g->ow, g->sh, 2, dk);
        return;
    }
    for (int64_t oy = 0; oy < g->oh; oy++)
        for (int64_t i = 0; i < g->kh; i++)
            for (int64_t j = 0; j < g->kw; j++) {
                const dt_real *x = in + (oy * g->sh + i) * iw + j, *d = dz + oy * g->ow;
                dk[i * g->kw + j] += g->sw == 1 ? dot(d, x, g->ow, 1) : dot(d, x, g->ow, g->sw);
            }
}

/* Plane x as the correlation reads it: x itself when unpadded, else its
 * copy in the zero frame buf; *iw is its row length. */
static const dt_real *padded(const dw_priv *p, const dt_real *x, dt_real *buf, int64_t *iw)
{
    *iw = p->fx.dw;
    if (!p->nx) return x;
    frame_fill(&p->fx, x, buf);
    return buf;
}

static void dw_forward(dt_layer *l, const dt_pass *ps)
{
    const dw_priv *p = l->priv;
    const plane_geom *g = &p->g;
    int64_t C = l->in.c, HW = g->h * g->w, P = g->oh * g->ow, kk = g->kh * g->kw;
    const dt_real *W = l->params[0].w, *b = p->bias ? l->params[1].w : NULL;
    dt_real *z = p->keep_z ? l->scratch + l->scratch_fixed : l->y;
    memset(l->scratch, 0, (size_t)p->nx * sizeof *z); /* x's frame */
    for (int64_t q = 0; q < ps->n * C; q++) { /* plane q = example * C + channel */
        int64_t c = q % C;
        corr_args a = {.out = z + q * P, .oh = g->oh, .ow = g->ow, .kh = g->kh, .kw = g->kw, .sh = g->sh,
                       .sw = g->sw, .k = W + c * kk, .b = b ? b[c] : 0};
        a.in = padded(p, l->x[0] + q * HW, l->scratch, &a.iw);
        corr(&a);
    }
    dt_act_forward(l->act, z, l->y, ps->n, C * P, l->act_alpha);
    l->z = p->keep_z || l->act == DT_ACT_LINEAR ? z : NULL;
}

/* x[2m] += k0 d[m] + k2 d[m-1], x[2m+1] += k1 d[m]: one kernel row of a
 * 3-wide kernel at column stride 2 scattered as a gather, m in [0, ow]. */
static void scatter3s2(dt_real *restrict x, const dt_real *restrict d, int64_t ow, dt_real k0, dt_real k1, dt_real k2)
{
    x[0] += k0 * d[0];
    x[1] += k1 * d[0];
    for (int64_t m = 1; m < ow; m++) {
        x[2 * m] += k0 * d[m] + k2 * d[m - 1];
        x[2 * m + 1] += k1 * d[m];
    }
    x[2 * ow] += k2 * d[ow - 1];
}

/* dx [h, w] (= or +=) the adjoint of the correlation applied to dz [oh, ow];
 * buf is dz's zero frame (stride 1) or room for a padded dx plane. */
static void adjoint(const dw_priv *p, const dt_real *dz, dt_real *dx, int acc, const dt_real *k, dt_real *buf)
{
    const plane_geom *g = &p->g;
    if (p->stride1) {
        /* dx[iy][ix] = Σ k[i][j] dz[iy + pt - i][ix + pl - j]: the correlation of
         * dz, padded by k - 1 - p (clipped where p > k - 1), with the flipped kernel */
        frame_fill(&p->fd, dz, buf);
        corr(&(corr_args){.in = buf, .iw = p->fd.dw, .out = dx, .oh = g->h, .ow = g->w, .kh = g->kh, .kw = g->kw,
                          .sh = 1, .sw = 1, .k = k, .flip = 1, .acc = acc});
        return;
    }
    /* strided: scatter each tap into a padded dx plane, then crop that into dx */
    int64_t pw = p->fx.dw, sw = g->sw;
    memset(buf, 0, (size_t)(p->fx.dh * pw) * sizeof *buf);
    for (int64_t oy = 0; oy < g->oh; oy++) {
        const dt_real *restrict d = dz + oy * g->ow;
        for (int64_t i = 0; i < g->kh; i++) {
            dt_real *restrict x = buf + (oy * g->sh + i) * pw;
            const dt_real *ki = k + i * g->kw;
            if (g->kw == 3 && sw == 2) {
                scatter3s2(x, d, g->ow, ki[0], ki[1], ki[2]);
                continue;
            }
            for (int64_t j = 0; j < g->kw; j++)
                for (int64_t ox = 0; ox < g->ow; ox++) x[ox * sw + j] += ki[j] * d[ox];
        }
    }
    for (int64_t iy = 0; iy < g->h; iy++)
        dt_layer_put_dx(dx + iy * g->w, acc, buf + (g->pt + iy) * pw + g->pl, g->w);
}

static void dw_backward(dt_layer *l, const dt_pass *ps)
{
    const dw_priv *p = l->priv;
    const plane_geom *g = &p->g;
    int64_t C = l->in.c, HW = g->h * g->w, P = g->oh * g->ow, kk = g->kh * g->kw;
    const dt_real *W = l->params[0].w;
    dt_real *dW = l->params[0].g, *db = p->bias ? l->params[1].g : NULL; /* NULL when frozen */
    if (!l->fused_output) /* dy is ours and dead after this: dz in place; y stands in for z (see conv2d.c) */
        dt_act_backward(l->act, l->y, l->y, l->dy, l->dy, ps->n, C * P, l->act_alpha);
    dt_real *bx = l->scratch, *bd = l->scratch + p->nx;
    if (dW) memset(bx, 0, (size_t)p->nx * sizeof *bx); /* the zero frames */
    if (l->dx[0] && p->stride1) memset(bd, 0, (size_t)p->nd * sizeof *bd);
    for (int64_t q = 0; q < ps->n * C; q++) {
        int64_t c = q % C, iw = 0;
        const dt_real *dz = l->dy + q * P;
        if (db) db[c] += dt_sum(dz, P);
        if (dW) {
            const dt_real *x = padded(p, l->x[0] + q * HW, bx, &iw);
            grad(x, iw, dz, g, dW + c * kk);
        }
        if (l->dx[0]) adjoint(p, dz, l->dx[0] + q * HW, l->dx_accum[0], W + c * kk, bd);
    }
}

static void dw_destroy(dt_layer *l) { dt_free(l->priv); }

const dt_layer_ops dt_dwconv2d_ops = {.type = "dwconv2d",
                                      .configure = dw_configure,
                                      .init = dw_init,
                                      .forward = dw_forward,
                                      .backward = dw_backward,
                                      .destroy = dw_destroy,
                                      .ninputs = 1,
                                      .init_keys = 1};
