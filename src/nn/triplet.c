/* triplet.c — the course's triplet loss (see triplet.h). */
#include "nn/triplet.h"

double dt_triplet(const dt_real *a, const dt_real *p, const dt_real *n, int64_t m, int64_t d, double alpha,
                  double scale, dt_real *ga, dt_real *gp, dt_real *gn, int64_t *active)
{
    double J = 0;
    int64_t on = 0;
    for (int64_t i = 0; i < m; i++) {
        const dt_real *ai = a + i * d, *pi = p + i * d, *ni = n + i * d;
        double dp = 0, dn = 0;
        for (int64_t k = 0; k < d; k++) {
            double u = (double)ai[k] - pi[k], v = (double)ai[k] - ni[k];
            dp += u * u, dn += v * v;
        }
        double l = dp - dn + alpha;
        if (l <= 0) continue; /* outside the margin: max(., 0) is flat */
        J += l;
        on++;
        if (!ga) continue;
        for (int64_t k = 0; k < d; k++) {
            ga[i * d + k] += (dt_real)(scale * 2 * ((double)ni[k] - pi[k]));
            gp[i * d + k] += (dt_real)(scale * 2 * ((double)pi[k] - ai[k]));
            gn[i * d + k] += (dt_real)(scale * 2 * ((double)ai[k] - ni[k]));
        }
    }
    if (active) *active = on;
    return J;
}
