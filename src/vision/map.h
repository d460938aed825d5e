/* map.h — mean average precision of detections, as PASCAL VOC (2010 on)
 * devkit computes it: per class, detections of every image sorted by score
 * (highest first; equal scores keep their order); each is matched to the
 * ground-truth box of its image and class it overlaps most, and is a true
 * positive when that IoU is >= iou_thr and no higher-scored detection took
 * the box first, else a false positive (a duplicate); AP is
 * the area under the precision/recall curve with precision made
 * monotone (all-point interpolation: Σ (r_k − r_{k−1}) · max_{r ≥ r_k} p).
 * The mean is over the classes that have ground truth; a class without
 * any gets AP NaN and is left out. Exact over whatever set is passed:
 * callers gather every rank's detections first. */
#ifndef DT_MAP_H
#define DT_MAP_H

#include "vision/yolo.h"

/* det[nd] with det_img[nd] (image of each), gt[ng] with gt_img[ng] (their
 * score is ignored); classes 0..nclasses-1 (others are errors). ap[nclasses]
 * gets each class's AP, *map their mean (NaN when no class has ground truth). */
dt_status dt_map(const dt_det *det, const int64_t *det_img, int64_t nd, const dt_det *gt, const int64_t *gt_img,
                 int64_t ng, int nclasses, double iou_thr, double *ap, double *map);

#endif
