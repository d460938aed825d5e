/* anchors.h — a detector's anchor shapes from its training boxes: k-means
 * with distance 1 − IoU between shapes centred together (YOLOv2's choice:
 * Euclidean distance would let large boxes dominate). */
#ifndef DT_ANCHORS_H
#define DT_ANCHORS_H

#include "core/core.h"

/* k centroids of n box shapes wh [n, 2] into out [k, 2], sorted by area;
 * *mean_iou: the mean over boxes of the best IoU with a centroid.
 * Deterministic: the initial centroids are the boxes at the k area
 * quantiles; a centroid is the mean shape of its boxes; rounds stop when no
 * box changes centroid (or after 1000). Needs n >= k >= 1. */
dt_status dt_anchors_kmeans(const double *wh, int64_t n, int k, double *out, double *mean_iou);
/* The mean over boxes of the best IoU with one of k anchors [k, 2]. */
double dt_anchors_mean_iou(const double *wh, int64_t n, const double *anchors, int k);

#endif
