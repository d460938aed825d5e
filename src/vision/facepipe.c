/* facepipe.c — picture networks and the face pipeline (see facepipe.h).
 *
 * The face steps copy face-api's arithmetic where it decides a pixel: boxes
 * go through the package's relative/absolute round trips (x·(1/W)·W) before
 * they are floored into crops, landmark post-processing runs in float32 as
 * its tensors do, and the detector's boxes are scaled by the *rounded* size
 * of the picture inside the padded square (computeReshapedDimensions).
 * No fused multiply-adds, as in the rest of vision/: face-api has none. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ckpt.h"
#include "io/ini.h"
#include "train/checkpoint.h"
#include "vision/face.h"
#include "nn/loss_yolo.h"
#include "vision/facepipe.h"
#include "vision/imgops.h"

static const char *const pad_names[] = {"bottom_right", "center", NULL};

dt_status dt_prep_read(dt_ini *m, dt_prep *p)
{
    if (!dt_ini_has_section(m, "preprocess"))
        return dt_error(DT_ERR_CONFIG, "%s: no [preprocess] section (how a picture becomes the input: pad, mean, divide)",
                        dt_ini_name(m));
    int pad;
    DT_TRY(dt_ini_enum(m, "preprocess", "pad", "bottom_right", pad_names, &pad));
    p->center = pad == 1;
    int n;
    p->mean[0] = p->mean[1] = p->mean[2] = 0;
    DT_TRY(dt_ini_reals(m, "preprocess", "mean", 0, p->mean, 3, &n));
    if (n != 0 && n != 3)
        return dt_error(DT_ERR_CONFIG, "%s: [preprocess] mean: expected three numbers R,G,B",
                        dt_ini_where(m, "preprocess", "mean"));
    DT_TRY(dt_ini_real(m, "preprocess", "divide", 0, 1, 1e-6, 1e6, &p->divide));
    return dt_ini_check_unused_section(m, "preprocess");
}

/* The checkpoint's model text, parsed. */
static dt_status read_model(const char *ckpt, char **text, dt_ini **m)
{
    dt_ckpt *c;
    *text = NULL;
    *m = NULL;
    DT_TRY(dt_ckpt_open(ckpt, &c));
    dt_status st = dt_ckpt_attr_str(c, "model", text);
    dt_ckpt_close(c);
    if (st) return dt_error(DT_ERR_DATA, "%s: not a dtrain checkpoint (no \"model\" attribute)", ckpt);
    char name[4200];
    snprintf(name, sizeof name, "%s (model)", ckpt);
    return dt_ini_parse(name, *text, m);
}

dt_status dt_vnet_load(const char *ckpt, int64_t maxn, int size, dt_vnet *v, dt_ini **model)
{
    memset(v, 0, sizeof *v);
    if (model) *model = NULL;
    char *text, *sized = NULL, shape[64];
    dt_ini *m;
    dt_status st = read_model(ckpt, &text, &m);
    if (!st) st = dt_prep_read(m, &v->prep);
    long in[3] = {3, 0, 0};
    int nin;
    if (!st) st = dt_ini_ints(m, "input", "shape", 0, in, 3, &nin);
    if (!st && size > 0) { /* the same network at another input size */
        snprintf(shape, sizeof shape, "input.shape=%ld,%d,%d", in[0], size, size);
        st = dt_ini_override(m, shape);
        if (!st && !(sized = dt_ini_dump(m))) st = dt_error(DT_ERR_NOMEM, "out of memory");
    }
    if (!st) st = dt_net_load(ckpt, sized ? sized : text, maxn, &v->net, NULL);
    free(sized);
    if (!st) dt_net_fold_inference(v->net); /* these networks only infer */
    if (!st && ((v->net->in.c != 3 && v->net->in.c != 1) || v->net->in.h != v->net->in.w))
        st = dt_error(DT_ERR_CONFIG, "%s: the model's input is %dx%dx%d; a picture network takes 3,S,S or 1,S,S", ckpt,
                      v->net->in.c, v->net->in.h, v->net->in.w);
    free(text);
    if (st || !model) dt_ini_free(m);
    else *model = m;
    if (st) {
        dt_vnet_free(v);
        return st;
    }
    v->size = v->net->in.h;
    v->maxn = maxn;
    return DT_OK;
}

void dt_vnet_free(dt_vnet *v)
{
    dt_net_free(v->net);
    v->net = NULL;
}

dt_status dt_vnet_input(const dt_vnet *v, const float *img, int h, int w, dt_real *x)
{
    int S0 = h > w ? h : w, S = v->size, oy, ox;
    float *sq = malloc((size_t)S0 * S0 * 3 * sizeof *sq);
    float *rs = S0 == S ? sq : malloc((size_t)S * S * 3 * sizeof *rs);
    if (!sq || !rs) {
        free(sq);
        if (rs != sq) free(rs);
        return dt_error(DT_ERR_NOMEM, "out of memory for a %dx%d picture", h, w);
    }
    dt_img_pad_square(img, h, w, 3, v->prep.center, sq, &oy, &ox);
    if (rs != sq) dt_img_resize_bilinear(sq, S0, S0, 3, rs, S, S);
    /* float32 as the package's tensors: (p - mean) then / divide */
    const float div = (float)v->prep.divide;
    if (v->net->in.c == 1) { /* grey: the mean of the three channels */
        const float mean = (float)v->prep.mean[0];
        for (int64_t i = 0; i < (int64_t)S * S; i++)
            x[i] = (dt_real)(((rs[i * 3] + rs[i * 3 + 1] + rs[i * 3 + 2]) / 3 - mean) / div);
    }
    for (int c = 0; c < 3 && v->net->in.c == 3; c++) {
        const float mean = (float)v->prep.mean[c];
        for (int64_t i = 0; i < (int64_t)S * S; i++) x[c * (int64_t)S * S + i] = (dt_real)((rs[i * 3 + c] - mean) / div);
    }
    if (rs != sq) free(rs);
    free(sq);
    return DT_OK;
}

dt_status dt_vnet_run(dt_vnet *v, const float *const *img, const int *h, const int *w, int n, const dt_real **out)
{
    if (n < 1 || n > v->maxn) return dt_error(DT_ERR_ARG, "dt_vnet_run: %d pictures, at most %lld", n, (long long)v->maxn);
    int64_t in = dt_shape_size(v->net->in);
    dt_real *x = malloc((size_t)(n * in) * sizeof *x);
    if (!x) return dt_error(DT_ERR_NOMEM, "out of memory for %d network inputs", n);
    for (int i = 0; i < n; i++) {
        dt_status st = dt_vnet_input(v, img[i], h[i], w[i], x + i * in);
        if (st) {
            free(x);
            return st;
        }
    }
    dt_pass p = {.n = n, .no_backward = 1};
    *out = dt_net_forward(v->net, x, &p);
    free(x);
    return DT_OK;
}

/* ---- detector ---------------------------------------------------------- */

static dt_status read_yolo(dt_ini *m, const dt_net *net, dt_detector *d)
{
    if (!dt_ini_has_section(m, "yolo"))
        return dt_error(DT_ERR_CONFIG, "%s: no [yolo] section (anchors, classes, score, iou): not a detector", dt_ini_name(m));
    int na = 0, lc = 0;
    double iw, ih;
    for (int j = 0; j < net->nlosses && !na; j++) /* a detector trained here: its yolo loss knows them */
        if (dt_loss_yolo_head(&net->losses[j], &na, d->yolo.anchors, &lc, &iw, &ih)) na *= 2;
    if (!na || dt_ini_has(m, "yolo", "anchors"))
        DT_TRY(dt_ini_reals(m, "yolo", "anchors", 1, d->yolo.anchors, 2 * DT_YOLO_MAX_ANCHORS, &na));
    for (int i = 0; i < na; i++)
        if (!(d->yolo.anchors[i] > 0) || na % 2)
            return dt_error(DT_ERR_CONFIG, "%s: [yolo] anchors: expected pairs w,h of positive sizes (in grid cells)",
                            dt_ini_where(m, "yolo", "anchors"));
    d->yolo.nanchors = na / 2;
    const char *s;
    DT_TRY(dt_ini_str(m, "yolo", "classes", NULL, &s));
    d->nclasses = 0;
    for (const char *p = s; *p;) {
        size_t len = strcspn(p, ",");
        while (len && p[len - 1] == ' ') len--;
        if (d->nclasses == DT_DET_MAX_CLASSES || len == 0 || len >= sizeof d->classes[0])
            return dt_error(DT_ERR_CONFIG, "%s: [yolo] classes: expected 1 to %d comma-separated names under 32 characters",
                            dt_ini_where(m, "yolo", "classes"), DT_DET_MAX_CLASSES);
        snprintf(d->classes[d->nclasses++], sizeof d->classes[0], "%.*s", (int)len, p);
        p += strcspn(p, ",");
        if (*p == ',') p++;
        while (*p == ' ') p++;
    }
    d->yolo.nclasses = d->nclasses;
    if (lc && lc != d->nclasses)
        return dt_error(DT_ERR_CONFIG, "%s: [yolo] classes names %d classes, but the model's yolo loss has %d",
                        dt_ini_where(m, "yolo", "classes"), d->nclasses, lc);
    DT_TRY(dt_ini_real(m, "yolo", "score", 0, 0.5, 0, 1, &d->score));
    DT_TRY(dt_ini_real(m, "yolo", "iou", 0, 0.4, 0, 1, &d->iou));
    int per = 5 + (d->nclasses > 1 ? d->nclasses : 0);
    const dt_layer *last = &net->layers[net->nlayers - 1];
    if (last->out.c != d->yolo.nanchors * per)
        return dt_error(DT_ERR_CONFIG, "%s: [yolo] %d anchors x (5 + %d class scores) = %d channels, but the last layer [%s] gives %d",
                        dt_ini_where(m, "yolo", "anchors"), d->yolo.nanchors, per - 5, d->yolo.nanchors * per, last->name,
                        last->out.c);
    return dt_ini_check_unused_section(m, "yolo");
}

dt_status dt_detector_load(const char *ckpt, int64_t maxn, int size, dt_detector *d)
{
    memset(d, 0, sizeof *d);
    dt_ini *m;
    DT_TRY(dt_vnet_load(ckpt, maxn, size, &d->v, &m));
    dt_status st = read_yolo(m, d->v.net, d);
    dt_ini_free(m);
    if (st) dt_vnet_free(&d->v);
    return st;
}

void dt_detector_free(dt_detector *d) { dt_vnet_free(&d->v); }

/* Boxes relative to the picture (0..1), after non-max suppression. */
static dt_status detect_rel(dt_detector *d, const float *img, int h, int w, dt_det *out, int max, int *n)
{
    const dt_real *y;
    DT_TRY(dt_vnet_run(&d->v, &img, &h, &w, 1, &y));
    const dt_layer *last = &d->v.net->layers[d->v.net->nlayers - 1];
    int cap = last->out.h * last->out.w * d->yolo.nanchors;
    dt_det *all = malloc((size_t)cap * sizeof *all);
    if (!all) return dt_error(DT_ERR_NOMEM, "out of memory for %d boxes", cap);
    int k = dt_yolo_decode_image(&d->yolo, y, last->out.h, last->out.w, d->score, d->v.size, w, h, all, cap);
    k = dt_nms(all, k, d->iou);
    *n = k < max ? k : max;
    memcpy(out, all, (size_t)*n * sizeof *out);
    free(all);
    return DT_OK;
}

dt_status dt_detect(dt_detector *d, const float *img, int h, int w, dt_det *out, int max, int *n)
{
    DT_TRY(detect_rel(d, img, h, w, out, max, n));
    for (int i = 0; i < *n; i++) { /* → picture pixels, as FaceDetection */
        double b[4];
        dt_face_det_box(&out[i], w, h, 1, b);
        out[i].x1 = b[0], out[i].y1 = b[1], out[i].x2 = b[0] + b[2], out[i].y2 = b[1] + b[3];
    }
    return DT_OK;
}

/* ---- faces ------------------------------------------------------------- */

dt_status dt_facenets_load(const char *dir, dt_facenets *f)
{
    char p[4096];
    memset(f, 0, sizeof *f);
    snprintf(p, sizeof p, "%s/tiny_face_detector.h5", dir);
    DT_TRY(dt_detector_load(p, 1, 0, &f->det));
    snprintf(p, sizeof p, "%s/face_landmark_68.h5", dir);
    dt_status st = dt_vnet_load(p, 1, 0, &f->lm, NULL);
    snprintf(p, sizeof p, "%s/face_recognition.h5", dir);
    if (!st) st = dt_vnet_load(p, 1, 0, &f->rec, NULL);
    if (!st && f->lm.net->layers[f->lm.net->nlayers - 1].out.c != 2 * DT_LANDMARKS)
        st = dt_error(DT_ERR_CONFIG, "%s/face_landmark_68.h5: expected %d outputs", dir, 2 * DT_LANDMARKS);
    if (!st && f->rec.net->layers[f->rec.net->nlayers - 1].out.c != DT_DESCRIPTOR)
        st = dt_error(DT_ERR_CONFIG, "%s/face_recognition.h5: expected %d outputs", dir, DT_DESCRIPTOR);
    if (st) dt_facenets_free(f);
    return st;
}

void dt_facenets_free(dt_facenets *f)
{
    dt_detector_free(&f->det);
    dt_vnet_free(&f->lm);
    dt_vnet_free(&f->rec);
}

/* Crop box b (x, y, width, height) clipped at the borders and floored, as
 * extractFaceTensors does; NULL with *cw = 0 when nothing is left. */
static float *crop(const float *img, int h, int w, const double b[4], int *cw, int *ch, dt_status *st)
{
    int x, y;
    *st = DT_OK;
    if (!dt_img_clip_box(b[0], b[1], b[2], b[3], w, h, &x, &y, cw, ch)) {
        *cw = *ch = 0;
        return NULL;
    }
    float *c = malloc((size_t)*cw * *ch * 3 * sizeof *c);
    if (!c) {
        *st = dt_error(DT_ERR_NOMEM, "out of memory for a %dx%d face", *ch, *cw);
        return NULL;
    }
    dt_img_crop(img, h, w, 3, x, y, *cw, *ch, c);
    return c;
}

dt_status dt_face_describe(dt_facenets *f, const float *img, int h, int w, const double box[4], float *desc)
{
    int cw, ch;
    dt_status st;
    float *c = crop(img, h, w, box, &cw, &ch, &st);
    if (!c) return st ? st : dt_error(DT_ERR_DATA, "the face's box lies outside the picture");
    const dt_real *y;
    const float *cc = c;
    st = dt_vnet_run(&f->rec, &cc, &ch, &cw, 1, &y);
    for (int i = 0; !st && i < DT_DESCRIPTOR; i++) desc[i] = (float)y[i];
    free(c);
    return st;
}

/* Landmarks of detection d, and the square the descriptor reads (dlib's
 * alignment, as face-api's withFaceDescriptors); *ok = 0 when the face
 * has no pixels in the picture or no alignment. */
static dt_status landmarks(dt_facenets *f, const float *img, int h, int w, const dt_det *d, dt_face *fc, int *ok)
{
    int cw, ch;
    dt_status st;
    double shift[4], b[4];
    *ok = 0;
    dt_face_det_box(d, w, h, 1, shift); /* FaceDetection's box: the landmarks' origin */
    dt_face_det_box(d, w, h, 3, b);     /* after forSize: what extractFaceTensors crops */
    float *c = crop(img, h, w, b, &cw, &ch, &st);
    if (!c) return st;
    const dt_real *y;
    const float *cc = c;
    st = dt_vnet_run(&f->lm, &cc, &ch, &cw, 1, &y);
    free(c);
    DT_TRY(st);
    dt_face_landmarks(y, DT_LANDMARKS, f->lm.size, cw, ch, shift[0], shift[1], fc->lm);
    double *a = fc->aligned;
    *ok = dt_face_align_dlib(fc->lm, cw, ch, &a[0], &a[1], &a[2], &a[3]);
    return DT_OK;
}

dt_status dt_faces_find(dt_facenets *f, const float *img, int h, int w, dt_face *out, int max, int *n)
{
    dt_det dets[256];
    int nd;
    *n = 0;
    DT_TRY(detect_rel(&f->det, img, h, w, dets, 256, &nd));
    for (int i = 0; i < nd && *n < max; i++) {
        dt_face *fc = &out[*n];
        double b[4];
        int ok;
        dt_face_det_box(&dets[i], w, h, 1, b);
        fc->box = dets[i];
        fc->box.x1 = b[0], fc->box.y1 = b[1], fc->box.x2 = b[0] + b[2], fc->box.y2 = b[1] + b[3];
        DT_TRY(landmarks(f, img, h, w, &dets[i], fc, &ok));
        if (!ok) continue; /* no pixels of it in the picture: the package drops it too */
        DT_TRY(dt_face_describe(f, img, h, w, fc->aligned, fc->desc));
        (*n)++;
    }
    return DT_OK;
}

double dt_face_distance(const float *a, const float *b)
{
    double s = 0;
    for (int i = 0; i < DT_DESCRIPTOR; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s);
}
