/* loss_triplet.h — the triplet loss section, and how the training step
 * feeds it triplets mined over the global batch (train/step.c).
 *
 * Model file:
 *   [trip]
 *   type = triplet
 *   inputs = emb        (the embedding, usually an l2norm layer)
 *   margin = 0.2        α of the course's formula
 *   mining = batch_hard | semi_hard   (nn/triplet.h)
 * Targets are class labels, read as identities. The loss of the batch is
 * Σ over anchors (each row is an anchor) of its triplets' weighted hinge;
 * the step divides by the global batch, so the objective is the mean over
 * anchors.
 *
 * In training the step gathers every rank's embeddings, mines this rank's
 * anchors against the whole global batch, gathers every rank's triplets
 * and computes the gradient of this rank's rows from all of them, then
 * feeds the loss its rows' gradients and losses. Without a feed
 * (evaluation, gradient checks) the loss mines the rows it is given. */
#ifndef DT_LOSS_TRIPLET_H
#define DT_LOSS_TRIPLET_H

#include "nn/loss.h"
#include "nn/net.h"
#include "nn/triplet.h"

/* The network's triplet loss, or NULL. */
dt_loss_term *dt_loss_triplet_find(dt_net *net);
/* Its embedding size, margin and mining. */
void dt_loss_triplet_info(const dt_loss_term *t, int64_t *d, double *margin, dt_mining *mode);
/* This rank's mined rows for the step: dE [rows, d], row_loss [rows] (the
 * caller keeps them); NULL: mine the given rows again. */
void dt_loss_triplet_feed(dt_loss_term *t, const double *dE, const double *row_loss);
/* The next pass's row 0 is the rank's row `off`. */
void dt_loss_triplet_at(dt_loss_term *t, int64_t off);

#endif
