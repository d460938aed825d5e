/* loss_yolo.h — what the yolo loss knows of its head, for decoding
 * detections at evaluation (train/setup.c). */
#ifndef DT_LOSS_YOLO_H
#define DT_LOSS_YOLO_H

#include "nn/loss.h"

/* For a yolo loss term: its anchors ((w, h) pairs in grid cells, up to 16),
 * class count and picture size in pixels. Returns 0 for any other loss. */
int dt_loss_yolo_head(const dt_loss_term *t, int *na, double *anchors, int *nclasses, double *img_w, double *img_h);

#endif
