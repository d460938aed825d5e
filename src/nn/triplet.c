/* triplet.c — the course's triplet loss (see triplet.h). */
#include <math.h>

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

const char *const dt_mining_names[] = {"batch_hard", "semi_hard", NULL};

static double dist2(const double *a, const double *b, int64_t d)
{
    double s = 0;
    for (int64_t k = 0; k < d; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
    return s;
}

/* One kept triplet, unless it is outside the margin; returns its loss. */
static double keep(double dap, double dan, double margin, double a, double p, double n, double w, double *trip,
                   int64_t *nt, int64_t cap)
{
    double l = dap - dan + margin;
    if (l <= 0 || *nt >= cap) return 0;
    double *t = trip + 4 * *nt;
    t[0] = a, t[1] = p, t[2] = n, t[3] = w;
    ++*nt;
    return w * l;
}

int64_t dt_triplet_mine(const double *rows, int64_t stride, int64_t G, int64_t d, int64_t a0, int64_t na, double margin,
                        dt_mining mode, double *trip, int64_t cap, double *row_loss, double *dist)
{
    int64_t nt = 0;
    for (int64_t a = a0; a < a0 + na; a++) {
        const double *ea = rows + a * stride, ya = ea[d];
        double loss = 0;
        int64_t npos = 0;
        for (int64_t j = 0; j < G; j++) {
            dist[j] = dist2(ea, rows + j * stride, d);
            npos += j != a && rows[j * stride + d] == ya;
        }
        if (mode == DT_MINE_BATCH_HARD) {
            int64_t p = -1, n = -1;
            double dp = -1, dn = INFINITY;
            for (int64_t j = 0; j < G; j++) {
                if (j == a) continue;
                int same = rows[j * stride + d] == ya;
                if (same && dist[j] > dp) dp = dist[j], p = j;
                if (!same && dist[j] < dn) dn = dist[j], n = j;
            }
            if (p >= 0 && n >= 0) loss = keep(dp, dn, margin, (double)a, (double)p, (double)n, 1, trip, &nt, cap);
        } else {
            for (int64_t p = 0; p < G && npos; p++) {
                if (p == a || rows[p * stride + d] != ya) continue;
                double dp = dist[p], semi = INFINITY, far = -1;
                int64_t ns = -1, nf = -1;
                for (int64_t j = 0; j < G; j++) {
                    if (rows[j * stride + d] == ya) continue;
                    double dj = dist[j];
                    if (dj > dp && dj < semi) semi = dj, ns = j;
                    if (dj > far) far = dj, nf = j;
                }
                if (nf < 0) break; /* no negatives at all */
                int64_t n = ns >= 0 ? ns : nf;
                loss += keep(dp, ns >= 0 ? semi : far, margin, (double)a, (double)p, (double)n, 1.0 / (double)npos, trip, &nt,
                             cap);
            }
        }
        row_loss[a - a0] = loss;
    }
    return nt;
}

void dt_triplet_grad_rows(const double *rows, int64_t stride, int64_t d, const double *trip, int64_t nt, int64_t r0,
                          int64_t nr, double *dE)
{
    for (int64_t i = 0; i < nr * d; i++) dE[i] = 0;
    dt_triplet_add_grads(rows, stride, d, trip, nt, r0, nr, dE);
}

void dt_triplet_add_grads(const double *rows, int64_t stride, int64_t d, const double *trip, int64_t nt, int64_t r0,
                          int64_t nr, double *dE)
{
    for (int64_t t = 0; t < nt; t++) {
        const double *q = trip + 4 * t, w2 = 2 * q[3];
        int64_t a = (int64_t)q[0], p = (int64_t)q[1], n = (int64_t)q[2];
        const double *ea = rows + a * stride, *ep = rows + p * stride, *en = rows + n * stride;
        /* ∂/∂a = 2(n − p), ∂/∂p = 2(p − a), ∂/∂n = 2(a − n), each times the weight */
        if (a >= r0 && a < r0 + nr)
            for (int64_t k = 0; k < d; k++) dE[(a - r0) * d + k] += w2 * (en[k] - ep[k]);
        if (p >= r0 && p < r0 + nr)
            for (int64_t k = 0; k < d; k++) dE[(p - r0) * d + k] += w2 * (ep[k] - ea[k]);
        if (n >= r0 && n < r0 + nr)
            for (int64_t k = 0; k < d; k++) dE[(n - r0) * d + k] += w2 * (ea[k] - en[k]);
    }
}
