/* face.h — face-api's face geometry: detection boxes in pixels, the 68
 * landmarks placed in the image, and the two alignments (min-bbox for
 * expressions and age/gender, dlib-style for descriptors). Pure functions,
 * double arithmetic in face-api's order so that floor() in dt_img_clip_box
 * lands where face-api's does.
 *
 * face-api's pipeline, in these terms (W × H the image):
 *   detection  dt_yolo_decode_image → dt_nms → dt_face_det_box(trips 1):
 *              the FaceDetection box, also the landmarks' shift;
 *              dt_face_det_box(trips 3) → dt_img_clip_box → dt_img_crop:
 *              the face the landmark net sees (toBatchTensor(112, true));
 *   landmarks  dt_face_landmarks(net output, 112, crop w/h, shift);
 *   aligned    dt_face_align_box(pts) → dt_face_roundtrip(3) → clip, crop:
 *              the face of the expression and age/gender nets;
 *   descriptor dt_face_align_dlib(pts, crop w/h) → clip, crop (no trips):
 *              the face of the recognition net (toBatchTensor(150, true)). */
#ifndef DT_FACE_H
#define DT_FACE_H

#include "core/core.h"
#include "vision/yolo.h"

/* Box (x, y, width, height) in pixels of a detection relative to the image
 * (dt_yolo_decode_image): Box(rel).rescale(W, H), then `trips` round trips
 * (·1/W then ·W), as face-api's objects pass it along. */
void dt_face_det_box(const dt_det *d, int img_w, int img_h, int trips, double box[4]);
/* `trips` round trips of a pixel box (x, y, width, height) through
 * relative coordinates, box·(1/W)·W, as FaceDetection and forSize do. */
void dt_face_roundtrip(double box[4], int img_w, int img_h, int trips);

/* FaceLandmark68NetBase.postProcess, then FaceLandmarks' constructor and
 * shiftBy: the landmark net's n points out[2n] (x, y interleaved, relative
 * to its centred square input of input_size) → pts[2n] in image pixels, for
 * a face crop of crop_w × crop_h shifted by (sx, sy) (the detection box's x,
 * y from dt_face_det_box trips 1, not the floored crop origin: face-api's
 * way). The postProcess part runs in float32, as tf does. */
void dt_face_landmarks(const dt_real *out, int n, int input_size, int crop_w, int crop_h, double sx, double sy,
                       double *pts);

/* FaceLandmarks.alignMinBbox(0.2), face-api's default align(): the smallest
 * box around the n points pts (x, y pairs; the max starts at 0, not -inf,
 * as face-api's minBbox does), padded by 20 % of its width and height,
 * half on each side. */
void dt_face_align_box(const double *pts, int n, double *x, double *y, double *w, double *h);

/* FaceLandmarks.alignDlib (align(null, { useDlibAlignment: true }), which
 * face-api's descriptors use): a square of floor(mean eye-to-mouth distance
 * / 0.45) around the centre of eyes and mouth, x, y floored and >= 0;
 * img_w/img_h are the landmarks' image size, which in face-api is the face
 * crop's, capping the size at img_w + x. pts are the 68 landmarks. Returns
 * 0 when a value is not finite (face-api throws), else 1. */
int dt_face_align_dlib(const double *pts, int img_w, int img_h, double *x, double *y, double *w, double *h);

#endif
