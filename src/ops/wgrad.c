/* wgrad.c — direct weight gradient of small stride-1 3x3 layers (see wgrad.h). */
#include <string.h>

#include "ops/dconv.h"
#include "ops/wgrad.h"

#define V 8
typedef dt_real vreal __attribute__((vector_size(V * sizeof(dt_real))));

int dt_wgrad3_supports(const dt_conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->c <= 4;
}

int64_t dt_wgrad3_scratch(const dt_conv_geom *g) { return (int64_t)g->c * (g->oh + 2) * (g->ow + 2); }

/* *v = p[0 .. V): by pointer, since returning a 64-byte vector (doubles)
 * would change the ABI on a machine without AVX-512 */
static inline void load(vreal *v, const dt_real *p) { memcpy(v, p, sizeof *v); }

void dt_wgrad3(const dt_conv_geom *g, int f, const dt_real *x, const dt_real *dz, dt_real *xp, dt_real *dW)
{
    int64_t oh = g->oh, ow = g->ow, wp = ow + 2, plane = (oh + 2) * wp, vw = ow / V * V;
    dt_dconv_pad(g, x, xp, plane); /* stride 1: one plane [OH + 2, OW + 2] a channel */
    for (int k = 0; k < f; k++)
        for (int c = 0; c < g->c; c++) {
            vreal acc[9] = {{0}};
            dt_real tail[9] = {0};
            const dt_real *xc = xp + c * plane;
            for (int64_t oy = 0; oy < oh; oy++) {
                const dt_real *d = dz + (k * oh + oy) * ow, *r = xc + oy * wp;
                for (int64_t ox = 0; ox < vw; ox += V) {
                    vreal dv, xv;
                    load(&dv, d + ox);
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) {
                            load(&xv, r + i * wp + ox + j);
                            acc[3 * i + j] += dv * xv;
                        }
                }
                for (int64_t ox = vw; ox < ow; ox++)
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) tail[3 * i + j] += d[ox] * r[i * wp + ox + j];
            }
            dt_real *w = dW + (k * g->c + c) * 9;
            for (int t = 0; t < 9; t++) {
                dt_real s = tail[t];
                for (int u = 0; u < V; u++) s += acc[t][u];
                w[t] += s;
            }
        }
}
