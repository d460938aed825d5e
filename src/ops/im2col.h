/* im2col.h — the lowering that turns a 2-D convolution into one gemm.
 *
 * One example's image x [C, H, W] (NCHW without the batch) becomes the
 * column matrix col [K, OH*OW], K = C*KH*KW, whose row (c, i, j) holds, for
 * every output pixel (oh, ow), the input value under kernel tap (i, j):
 *   col[(c*KH + i)*KW + j][oh*OW + ow] = x[c][oh*SH - PT + i][ow*SW - PL + j]
 * or 0 where that falls in the padding. Then, for weights W [F, K] in
 * PyTorch's [F, C, KH, KW] layout, the convolution is Z [F, OH*OW] = W · col.
 *
 * Rows of col are `ldc` reals apart (ldc >= OH*OW), so several examples can
 * sit side by side in one wide matrix [K, N*OH*OW] (example n at column
 * offset n*OH*OW) and share a single gemm. Padding may be asymmetric: only
 * the top/left amounts are needed, the bottom/right follow from OH, OW. */
#ifndef DT_IM2COL_H
#define DT_IM2COL_H

#include "core/core.h"

typedef struct {
    int c, h, w;    /* input image */
    int kh, kw;     /* kernel */
    int sh, sw;     /* stride */
    int pt, pl;     /* zero padding above and to the left */
    int oh, ow;     /* output size */
} dt_conv_geom;

/* col [K, ldc] (first OH*OW columns of each row) from x [C, H, W]. */
void dt_im2col(const dt_conv_geom *g, const dt_real *x, dt_real *col, int64_t ldc);

/* Output rows [oy0, oy1) only: col [K, ldc] holds pixels oy0*OW onwards
 * from its column 0, so a large plane can be lowered in bands. */
void dt_im2col_rows(const dt_conv_geom *g, const dt_real *x, dt_real *col, int64_t ldc, int oy0, int oy1);

/* For stride 1 only: the lowering of kernel columns alone. rows
 * [C*KW, ld] (first (OH+KH-1)*OW columns of each row) holds
 *   rows[c*KW + j][yp*OW + ox] = x[c][yp - PT][ox - PL + j]  (0 outside),
 * so the columns of kernel row i are the OH*OW columns from i*OW on, and the
 * convolution is Z = sum over i of W_i [F, C*KW] · rows[:, i*OW ...]: KH
 * products from a matrix KH times smaller than col. */
void dt_im2row(const dt_conv_geom *g, const dt_real *x, dt_real *rows, int64_t ld);
/* Its adjoint: x [C, H, W] += every rows entry at the pixel it was read from. */
void dt_row2im(const dt_conv_geom *g, const dt_real *rows, int64_t ld, dt_real *x);

/* The adjoint: x [C, H, W] += every col entry at the pixel it was read from
 * (entries that came from the padding are dropped). Overlapping windows add.
 * col is scratch: its padding entries may be overwritten with zeros. */
void dt_col2im(const dt_conv_geom *g, dt_real *col, int64_t ldc, dt_real *x);

#endif
