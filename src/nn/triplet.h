/* triplet.h — the course's triplet loss (course 4, week 4, FaceNet):
 *
 *   J = Σ_i max(‖a_i − p_i‖² − ‖a_i − n_i‖² + α, 0)
 *
 * over m triplets of d-dimensional embeddings (anchor, positive of the
 * same identity, negative of another), with its gradients. The building
 * block of a triplet loss that mines its triplets from a batch. */
#ifndef DT_TRIPLET_H
#define DT_TRIPLET_H

#include "core/core.h"

/* a, p, n: [m, d]. Returns J; when ga, gp, gn are given, adds scale · ∂J/∂a
 * (and p, n) into them (a triplet inside the margin contributes
 * 2(n − p), 2(p − a), 2(a − n); one outside it, nothing). *active, when
 * given, gets how many triplets were inside the margin. */
double dt_triplet(const dt_real *a, const dt_real *p, const dt_real *n, int64_t m, int64_t d, double alpha,
                  double scale, dt_real *ga, dt_real *gp, dt_real *gn, int64_t *active);

/* ---- mining triplets from a batch (FaceNet) -----------------------------
 * A batch of G rows, row i at rows + i·stride: its embedding (d values)
 * then its label (identity). Distances are squared Euclidean, in double,
 * summed in a fixed order, so every rank that holds the same rows mines the
 * same triplets.
 *   batch_hard: per anchor a, the farthest positive and the nearest
 *     negative of the batch (one triplet; none when a has no positive or no
 *     negative);
 *   semi_hard: per anchor a and each positive p, the nearest negative
 *     farther than p (FaceNet's semi-hard negative), else the farthest
 *     negative (tfa's triplet_semihard_loss); each of a's triplets weighs
 *     1 / (its positives), so an anchor's loss is the mean over its positives.
 * Ties go to the lower row. Only triplets inside the margin are kept: they
 * are the ones with a gradient. */
typedef enum { DT_MINE_BATCH_HARD = 0, DT_MINE_SEMI_HARD = 1 } dt_mining;
extern const char *const dt_mining_names[]; /* "batch_hard", "semi_hard" */

/* Mine anchors [a0, a0 + na) of the batch: kept triplets as (a, p, n, weight)
 * into trip (room for cap of them: na for batch_hard, na·(G−1) for
 * semi_hard always suffices); each anchor's weighted loss into row_loss[na].
 * dist: scratch for G distances. Returns the triplets kept. */
int64_t dt_triplet_mine(const double *rows, int64_t stride, int64_t G, int64_t d, int64_t a0, int64_t na, double margin,
                        dt_mining mode, double *trip, int64_t cap, double *row_loss, double *dist);
/* ∂(Σ weight · loss of the triplets)/∂ rows [r0, r0 + nr) into dE [nr, d]
 * (overwritten): the triplets are visited in order, so every rank count that
 * gathers the same triplets in the same order adds the same terms the same way. */
void dt_triplet_grad_rows(const double *rows, int64_t stride, int64_t d, const double *trip, int64_t nt, int64_t r0,
                          int64_t nr, double *dE);
/* The same, added to dE. */
void dt_triplet_add_grads(const double *rows, int64_t stride, int64_t d, const double *trip, int64_t nt, int64_t r0,
                          int64_t nr, double *dE);

#endif
