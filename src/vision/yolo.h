/* yolo.h — turning a YOLO head's output into boxes: decoding, IoU and
 * non-max suppression. Pure functions (no I/O, no MPI).
 *
 * They reproduce @vladmandic/face-api 1.7.15 (TinyYolov2Base.extractBoxes,
 * ops/iou, ops/nonMaxSuppression) for one class, its tiny face detector, to
 * the last bit in double; for several classes they follow the
 * deeplearning.ai course (yolo_filter_boxes: score = box confidence × class
 * probability kept when >= threshold; NMS per class, as its lecture says).
 * Coordinates are relative to the square network input (0..1) unless said. */
#ifndef DT_YOLO_H
#define DT_YOLO_H

#include "core/core.h"

typedef struct {
    double x1, y1, x2, y2, score; /* a box, corners; x2 = x1 + width as face-api builds it */
    int cls;
} dt_det;

#define DT_YOLO_MAX_ANCHORS 16
typedef struct {
    int nanchors, nclasses;                  /* nclasses 1: no class scores in the output */
    double anchors[2 * DT_YOLO_MAX_ANCHORS]; /* (w, h) of each anchor, in grid cells */
    /* several classes: a box per class whose score reaches the threshold,
     * not only the best class's (mean average precision is measured so, as
     * darknet's and the VOC tools do: a doubtful class is a low-ranked
     * detection, not a missed one); 0: the course's one box per prediction */
    int every_class;
} dt_yolo;

/* IoU of two boxes (corners); 0 when they do not overlap or have no area.
 * Computed as face-api does (width x2 - x1, right x1 + width). */
double dt_iou(const dt_det *a, const dt_det *b);

/* Decode one image's head output y [A*(5+C'), gh, gw] (NCHW; channel
 * a*(5+C')+k holds tx, ty, tw, th, to, then C' class logits,
 * C' = nclasses > 1 ? nclasses : 0) into boxes relative to the (square)
 * network input: centre ((col + σ(tx))/gw, (row + σ(ty))/gh), size
 * (exp(tw)·anchor_w/gw, exp(th)·anchor_h/gh), x1 = cx - w/2, x2 = x1 + w.
 * Score and filter:
 *   one class (face-api): score = σ(to), kept when score > thr (strict), and
 *     every box is kept when thr is 0 (face-api's `!scoreThreshold ||`);
 *   several (the course): score = σ(to) × softmax prob, the first class with
 *     the highest product, kept when score >= thr; with every_class, each
 *     class whose product is >= thr, in class order.
 * Boxes come out in row, col, anchor order (as face-api's); at most max of
 * them, the first max in that order (pass max = A*gh*gw to lose none).
 * σ and exp are JavaScript's (vision/jsmath.h). Returns the count. */
int dt_yolo_decode(const dt_yolo *h, const dt_real *y, int gh, int gw, double thr, dt_det *out, int max);

/* As dt_yolo_decode, for an img_w × img_h image that was padded at the
 * bottom/right to a square and resized to input_size (face-api's detect,
 * toBatchTensor(inputSize, false)): boxes come out relative to the image, by
 * face-api's correction factors S / round(img_w·input_size/max(w, h)) with
 * S the larger of the two rounded sides, applied where face-api applies
 * them, so that dt_face_det_box gives face-api's pixel boxes exactly. */
int dt_yolo_decode_image(const dt_yolo *h, const dt_real *y, int gh, int gw, double thr, int input_size,
                         int img_w, int img_h, dt_det *out, int max);

/* Non-max suppression per class (boxes of different cls never suppress each
 * other), highest score first: a box is dropped unless its IoU with every
 * kept box of its class is <= iou_thr (face-api's test, so a NaN IoU, two
 * boxes of zero area, drops it too). Equal scores: the later box in d goes
 * first, as face-api's ascending sort then pop() does. NaN scores rank last.
 * Compacts d in place, sorted by that order; returns the count kept. With
 * one class this is face-api's nonMaxSuppression (which runs on the boxes
 * scaled to input pixels; IoU does not depend on the scale but for its last
 * bit); the course caps the result at max_boxes: take the first that many. */
int dt_nms(dt_det *d, int n, double iou_thr);

#endif
