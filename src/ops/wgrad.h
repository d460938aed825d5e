/* wgrad.h — the weight gradient of a stride-1 3x3 convolution over few
 * input channels, directly from the padded input, without lowering.
 *
 * A network's first convolution reads one or three channels: its weight
 * gradient dW [F, C*9] = dz [F, P] · col^T is a product whose inner
 * dimension is the whole plane (P = 16384 on 128x128) and whose output has
 * only F*C*9 values, a shape the gemm kernel handles badly (and the lowered
 * matrix is larger than the input it came from). Directly, with the input
 * zero-padded to xp [C, OH + 2, OW + 2]:
 *   dW[f][c][i][j] += sum over (oy, ox) of dz[f][oy*OW + ox] * xp[c][oy + i][ox + j],
 * nine vector accumulators per (f, c) over rows of dz, each dz vector
 * loaded once for its nine taps. Any precision, any CPU (GCC vector
 * extensions). */
#ifndef DT_WGRAD_H
#define DT_WGRAD_H

#include "core/core.h"
#include "ops/im2col.h"

/* Whether g is a layer for it: 3x3, stride 1, at most 4 input channels. */
int dt_wgrad3_supports(const dt_conv_geom *g);

/* Reals of the padded input dt_wgrad3 needs as scratch: C*(OH+2)*(OW+2). */
int64_t dt_wgrad3_scratch(const dt_conv_geom *g);

/* dW [F, C, 3, 3] += the gradient of one example: x [C, H, W] its input,
 * dz [F, OH*OW] its output gradient; xp is scratch of dt_wgrad3_scratch(). */
void dt_wgrad3(const dt_conv_geom *g, int f, const dt_real *x, const dt_real *dz, dt_real *xp, dt_real *dW);

#endif
