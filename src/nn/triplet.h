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

#endif
