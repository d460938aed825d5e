/* facepipe.h — pretrained picture networks applied to pictures: a YOLO
 * detector, and the face pipeline (detect, 68 landmarks, align, 128-d
 * descriptor) as @vladmandic/face-api 1.7.15 runs it, step for step, so
 * that its boxes, landmarks and descriptors are reproduced.
 *
 * A picture is float [h, w, 3], RGB values 0..255. A network's model text
 * says how a picture becomes its input ([preprocess]: pad to a square at
 * the bottom/right or centred, TensorFlow's bilinear resize to the input
 * size, minus the mean RGB, divided by `divide`) and, for a detector, how
 * its output decodes ([yolo]: anchors, classes, score and IoU thresholds). */
#ifndef DT_FACEPIPE_H
#define DT_FACEPIPE_H

#include "nn/net.h"
#include "vision/yolo.h"

typedef struct {
    int center;      /* pad to a square centred, else all at the bottom/right */
    double mean[3];  /* subtracted from R, G, B */
    double divide;   /* then divided by this */
} dt_prep;

/* The model's [preprocess] section (pad = bottom_right | center, mean =
 * R,G,B (0,0,0), divide (1)); unknown keys are errors. */
dt_status dt_prep_read(dt_ini *m, dt_prep *p);

/* A picture network: its model, weights and input geometry. */
typedef struct {
    dt_net *net;
    dt_prep prep;
    int size;        /* input size × size × 3 (or × 1: grey, the mean of R, G and B) */
    int64_t maxn;    /* pictures per forward pass */
} dt_vnet;

/* Load a checkpoint whose model has a [preprocess] section, for batches of
 * up to maxn pictures, at input size × size (0: the model's own; a fully
 * convolutional network takes others); *model (when given) gets the parsed
 * model text for its other side sections (free with dt_ini_free). */
dt_status dt_vnet_load(const char *ckpt, int64_t maxn, int size, dt_vnet *v, dt_ini **model);
void dt_vnet_free(dt_vnet *v);
/* Picture → network input x [C, size, size] (face-api's toBatchTensor and
 * normalisation; C = 1: the mean of R, G, B, less mean[0]). Allocates its working copy; DT_ERR_NOMEM on failure. */
dt_status dt_vnet_input(const dt_vnet *v, const float *img, int h, int w, dt_real *x);
/* Forward n (<= maxn) pictures; returns the output rows [n, out]. */
dt_status dt_vnet_run(dt_vnet *v, const float *const *img, const int *h, const int *w, int n, const dt_real **out);

#define DT_DET_MAX_CLASSES 64

typedef struct {
    dt_vnet v;
    dt_yolo yolo;
    double score, iou;                       /* defaults from [yolo], changeable */
    int nclasses;
    char classes[DT_DET_MAX_CLASSES][32];
} dt_detector;

dt_status dt_detector_load(const char *ckpt, int64_t maxn, int size, dt_detector *d);
void dt_detector_free(dt_detector *d);
/* Boxes of one picture in its pixels, highest score first, after
 * non-max suppression; returns the count (at most max). */
dt_status dt_detect(dt_detector *d, const float *img, int h, int w, dt_det *out, int max, int *n);

#define DT_LANDMARKS 68
#define DT_DESCRIPTOR 128

typedef struct {
    dt_det box;                   /* the detection, picture pixels (x1, y1, x2, y2) */
    double lm[2 * DT_LANDMARKS];  /* landmarks (x, y), picture pixels */
    double aligned[4];            /* x, y, width, height of the crop the descriptor reads */
    float desc[DT_DESCRIPTOR];
} dt_face;

typedef struct {
    dt_detector det;
    dt_vnet lm, rec;
} dt_facenets;

/* The three checkpoints of launch/get_faces.sh from dir (tiny_face_detector.h5,
 * face_landmark_68.h5, face_recognition.h5). */
dt_status dt_facenets_load(const char *dir, dt_facenets *f);
void dt_facenets_free(dt_facenets *f);
/* Every face of a picture (at most max), in the detector's order. */
dt_status dt_faces_find(dt_facenets *f, const float *img, int h, int w, dt_face *out, int max, int *n);
/* The descriptor of the face in box (x, y, width, height in picture pixels), as the pipeline crops it. */
dt_status dt_face_describe(dt_facenets *f, const float *img, int h, int w, const double box[4], float *desc);

double dt_face_distance(const float *a, const float *b);

#endif
