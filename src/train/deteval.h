/* deteval.h — mean average precision during evaluation, for models whose
 * objective has a yolo loss: each rank decodes its rows' detections (score
 * >= 0.005, non-max suppression at IoU 0.45, at most 100 per picture, the
 * usual settings for mAP), rank 0 gathers every rank's detections and
 * boxes and computes mAP@0.5 over the whole split (vision/map.h), and every
 * rank gets the result. */
#ifndef DT_DETEVAL_H
#define DT_DETEVAL_H

#include "comm/comm.h"
#include "data/data.h"
#include "nn/net.h"
#include "train/setup.h"
#include "vision/yolo.h"

typedef struct {
    const dt_loss_term *t; /* the yolo loss; NULL: not a detector */
    dt_yolo h;
    double img_w, img_h;
    double *det, *gt; /* this rank's rows: [7] per detection (image, class, score, x1, y1, x2, y2), [6] per box */
    int64_t nd, ng, dcap, gcap;
    dt_det *work;     /* decoding scratch */
    int64_t wcap;
} dt_deteval;

/* Whether net is a detector (then e is ready). */
int dt_deteval_init(dt_deteval *e, const dt_net *net);
/* After a forward of the dataset's local rows [r0, r0 + n): their detections and true boxes. */
dt_status dt_deteval_add(dt_deteval *e, const dt_dataset *d, int64_t r0, int64_t n);
/* Collective: mAP over every rank's rows into r (has_map, map50, ap). */
dt_status dt_deteval_finish(dt_deteval *e, dt_comm *c, dt_eval_result *r);
void dt_deteval_free(dt_deteval *e);

#endif
