/* dconv.h — direct stride-1 convolution over zero-padded planes, without
 * lowering or gemm.
 *
 * The lowered gemm of im2col.h packs its column matrix before multiplying:
 * for a layer with few filters (32 or 64) that packing costs nearly as much
 * as the product, and OpenBLAS then runs at about half its peak. A stride-1
 * convolution needs no lowering at all once its input is padded: with the
 * padded plane xp [HP, WP] (HP = OH + KH - 1, WP = OW + KW - 1) laid out
 * flat, output pixel (oy, ox) is at flat index q = oy*WP + ox and
 *   out[f][q] = sum over c, i, j of W[f][c][i][j] * xp[c][q + i*WP + j],
 * a sum of shifted rows that a vector kernel reads straight from cache. The
 * KW - 1 columns of each flat row past OW are computed and thrown away.
 * Several examples' padded planes may follow one another in each channel's
 * row (example e from e*HP*WP): one run covers them all.
 *
 * Stride 2 becomes stride 1 over the input's four phases: plane (py, px)
 * holds xp[2i + py][2j + px], and tap (i, j) of the kernel reads plane
 * (i % 2, j % 2) shifted by (i / 2, j / 2), so a 7x7 stride-2 layer is a
 * stride-1 sum over 4 planes of a channel, still 49 taps.
 *
 * Float builds on CPUs with AVX-512 or AVX2 and FMA (dt_dconv_available()); elsewhere
 * the convolution layer keeps its gemm lowering. */
#ifndef DT_DCONV_H
#define DT_DCONV_H

#include "core/core.h"
#include "ops/im2col.h"

/* Filters are computed in tiles of DT_DCONV_FT, flat outputs in tiles of
 * DT_DCONV_QT: a run computes the first q outputs rounded up to QT. */
#define DT_DCONV_FT 8
#define DT_DCONV_QT 48

/* 1 where this build has the kernel (float, AVX-512 or AVX2). */
int dt_dconv_available(void);
/* 1 where the backward by lanes has its kernel and pays (AVX-512): on an
 * AVX2 Zen 3, with two registers a lane vector, it was slower than the gemm
 * (resnet_small's 3x3 layers 34.6 against 29.8 ms backward a step). */
int dt_dconv_lanes_backward(void);

/* Whether g suits the kernel: stride 1 or 2 (the same both ways), more than
 * one tap, F a multiple of FT. Then each channel has dt_dconv_planes(g)
 * planes of hq x wq (the output's size plus the kernel's reach in plane
 * pixels): output pixel (oy, ox) is at q = oy*wq + ox. */
int dt_dconv_supports(const dt_conv_geom *g, int f);
int dt_dconv_planes(const dt_conv_geom *g, int *hq, int *wq);

/* What a run reads past its q outputs in a plane's row. */
int64_t dt_dconv_reach(const dt_conv_geom *g);

/* off [C*KH*KW]: for each tap (c, i, j) where it reads, relative to the
 * output pixel, in planes ldx apart. */
void dt_dconv_offsets(const dt_conv_geom *g, int64_t ldx, int64_t *off);

/* One example x [C, H, W] into its planes: channel c's plane p at
 * xp + (c*planes + p)*ldx, zero where it is padding. */
void dt_dconv_pad(const dt_conv_geom *g, const dt_real *x, dt_real *xp, int64_t ldx);

/* out[f][0 .. q) (rounded up to QT; rows ldo apart) from the planes xp
 * (each readable and finite for QT + dt_dconv_reach() values past q), tap
 * offsets off [k] and the weights: W [F, k] as the layer holds them, or
 * where packed, W [F/FT][k][FT] (dt_dconv_pack_flipped's order). */
void dt_dconv_run(const dt_real *xp, const int64_t *off, int64_t k, const dt_real *W, int packed, int f,
                  dt_real *out, int64_t ldo, int64_t q);

/* Batch lanes: where planes are small, 16 examples side by side instead,
 * each input pixel a vector of the 16 examples' values, xb [C, HP, WP, 16]
 * (HP = (OH-1)*SH + KH, WP = (OW-1)*SW + KW, zero padding); no outputs are
 * thrown away, any stride, out [F, OH*OW, 16]. Weights as dt_dconv_run's. */
#define DT_DCONV_LANES 16
void dt_dconv_lanes_size(const dt_conv_geom *g, int *hp, int *wp);
void dt_dconv_lanes_offsets(const dt_conv_geom *g, int64_t *off);
/* xb from examples x [n, C, H, W], n <= 16 (lanes past n zero) */
void dt_dconv_lanes_pad(const dt_conv_geom *g, const dt_real *x, int64_t n, dt_real *xb);
void dt_dconv_lanes_run(const dt_conv_geom *g, const dt_real *xb, const int64_t *off, const dt_real *W, int packed,
                        int f, dt_real *out);
/* dst [16, len] = out [len, 16] transposed: each lane's values in a row */
void dt_dconv_lanes_get(const dt_real *out, int64_t len, dt_real *dst);

/* Backward, stride 1. The input gradient is the forward run of the flipped
 * layer (dt_dconv_flipped: F inputs, C filters, the kernel rotated by 180
 * degrees, padding KH-1-PT and KW-1-PL) over the output gradient's lanes,
 * with weights Wt [C/FT][F*KH*KW][FT] from dt_dconv_pack_flipped (C a
 * multiple of FT). The weight gradient dW [F, C*KH*KW] += the sum over the
 * lanes and output pixels of dz times the input under each tap: xb as the
 * forward's, off its offsets, dz [F, dhp, dwp, 16] the output gradient
 * padded as the flipped layer's input (dz at its pixel (0, 0)). */
void dt_dconv_flipped(const dt_conv_geom *g, int f, dt_conv_geom *flip);
void dt_dconv_pack_flipped(const dt_real *W, int f, int c, int kh, int kw, dt_real *Wt);
void dt_dconv_lanes_wgrad(const dt_conv_geom *g, const dt_real *xb, const int64_t *off, const dt_real *dz, int dhp,
                          int dwp, int f, dt_real *dW);

#endif
