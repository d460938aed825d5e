/* faces_check.c — dtrain's face pipeline against face-api's own outputs
 * (tests/faces/ref, made by tests/tools/faceapi_reference.sh), and the
 * verification figures of the README.
 *
 *   faces_check agree MODELS_DIR REF_DIR PNG_DIR
 *     the raw outputs of the three networks on fixed inputs (|Δ| <= 1e-3),
 *     then every demo photo: the same faces, box IoU >= 0.98, landmarks
 *     within 1 pixel, descriptors within Euclidean distance 0.01; prints
 *     the worst of each and exits 1 when a bound fails.
 *   faces_check figures MODELS_DIR PNG_DIR...
 *     distances between the faces of different pictures, and between each
 *     face and a mirrored, a shifted (a tenth of its box) and a 20 %
 *     brighter copy of itself. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image.h"
#include "vision/facepipe.h"

#define MAXF 64

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    cJSON *j = NULL;
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = 0;
        j = cJSON_Parse(buf);
    }
    free(buf);
    fclose(f);
    return j;
}

static double num(const cJSON *a, int i) { return cJSON_GetArrayItem(a, i)->valuedouble; }

static float *load_png(const char *path, int *h, int *w)
{
    unsigned char *px;
    if (dt_image_load(path, 3, h, w, &px)) {
        fprintf(stderr, "faces_check: %s\n", dt_errmsg());
        return NULL;
    }
    float *img = malloc((size_t)*h * *w * 3 * sizeof *img);
    for (size_t i = 0; img && i < (size_t)*h * *w * 3; i++) img[i] = px[i];
    free(px);
    return img;
}

/* The fixed picture of the reference: p(y, x, c) = (3x + 5y + 7c + (x·y) mod 13) mod 256. */
static float *fixed_picture(int S)
{
    float *p = malloc((size_t)S * S * 3 * sizeof *p);
    for (int y = 0; p && y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++) p[((size_t)y * S + x) * 3 + c] = (float)((x * 3 + y * 5 + c * 7 + (x * y) % 13) % 256);
    return p;
}

/* Largest |ours - theirs| over a network's raw output; NHWC reference, NCHW ours. */
static double raw_diff(dt_vnet *v, const cJSON *ref)
{
    int S = v->size;
    float *p = fixed_picture(S);
    const dt_real *y;
    const float *pp = p;
    if (!p || dt_vnet_run(v, &pp, &S, &S, 1, &y)) {
        free(p);
        return INFINITY;
    }
    const dt_layer *last = &v->net->layers[v->net->nlayers - 1];
    int C = last->out.c, P = last->out.h * last->out.w;
    const cJSON *vals = cJSON_GetObjectItem(ref, "values");
    double worst = cJSON_GetArraySize(vals) == C * P ? 0 : INFINITY;
    for (int c = 0; c < C && isfinite(worst); c++)
        for (int i = 0; i < P; i++) worst = fmax(worst, fabs((double)y[c * P + i] - num(vals, i * C + c)));
    free(p);
    return worst;
}

static double iou4(const double *a, const double *b) /* x, y, w, h */
{
    double x1 = fmax(a[0], b[0]), y1 = fmax(a[1], b[1]), x2 = fmin(a[0] + a[2], b[0] + b[2]), y2 = fmin(a[1] + a[3], b[1] + b[3]);
    double in = fmax(0, x2 - x1) * fmax(0, y2 - y1);
    return in / (a[2] * a[3] + b[2] * b[3] - in);
}

static int agree(const char *models, const char *refdir, const char *pngdir)
{
    dt_facenets f;
    if (dt_facenets_load(models, &f)) {
        fprintf(stderr, "faces_check: %s\n", dt_errmsg());
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/fixed_inputs.json", refdir);
    cJSON *fx = read_json(path);
    int bad = 0;
    if (!fx) {
        fprintf(stderr, "faces_check: cannot read %s\n", path);
        return 2;
    }
    double dd = raw_diff(&f.det.v, cJSON_GetObjectItem(fx, "detector"));
    double dl = raw_diff(&f.lm, cJSON_GetObjectItem(fx, "landmark"));
    double dr = raw_diff(&f.rec, cJSON_GetObjectItem(fx, "recognition"));
    printf("fixed inputs, largest |dtrain - face-api|: detector %.3g, landmarks %.3g, descriptor %.3g (bound 1e-3)\n", dd,
           dl, dr);
    bad |= !(dd <= 1e-3 && dl <= 1e-3 && dr <= 1e-3);
    cJSON_Delete(fx);

    double worst_iou = 1, worst_lm = 0, worst_desc = 0;
    int nfaces = 0;
    static dt_face faces[MAXF];
    for (int k = 1; k <= 6; k++) {
        snprintf(path, sizeof path, "%s/sample%d.json", refdir, k);
        cJSON *ref = read_json(path);
        snprintf(path, sizeof path, "%s/sample%d.png", pngdir, k);
        int h, w, n;
        float *img = ref ? load_png(path, &h, &w) : NULL;
        if (!img || dt_faces_find(&f, img, h, w, faces, MAXF, &n)) {
            fprintf(stderr, "faces_check: sample%d: %s\n", k, ref ? dt_errmsg() : "no reference");
            free(img);
            cJSON_Delete(ref);
            bad = 1;
            continue;
        }
        const cJSON *rf = cJSON_GetObjectItem(ref, "faces");
        int nr = cJSON_GetArraySize(rf);
        if (nr != n) {
            printf("sample%d: %d faces, face-api %d\n", k, n, nr);
            bad = 1;
        }
        for (int i = 0; i < nr; i++) {
            const cJSON *r = cJSON_GetArrayItem(rf, i), *rb = cJSON_GetObjectItem(r, "box");
            double b[4] = {num(rb, 0), num(rb, 1), num(rb, 2), num(rb, 3)}, best = -1;
            int m = -1;
            for (int j = 0; j < n; j++) {
                double o[4] = {faces[j].box.x1, faces[j].box.y1, faces[j].box.x2 - faces[j].box.x1,
                               faces[j].box.y2 - faces[j].box.y1};
                if (iou4(b, o) > best) best = iou4(b, o), m = j;
            }
            if (m < 0) continue;
            const cJSON *lm = cJSON_GetObjectItem(r, "landmarks"), *de = cJSON_GetObjectItem(r, "descriptor");
            double el = 0, ed = 0;
            for (int p = 0; p < 68; p++) {
                const cJSON *pt = cJSON_GetArrayItem(lm, p);
                el = fmax(el, hypot(faces[m].lm[2 * p] - num(pt, 0), faces[m].lm[2 * p + 1] - num(pt, 1)));
            }
            for (int q = 0; q < 128; q++) ed += pow(faces[m].desc[q] - num(de, q), 2);
            ed = sqrt(ed);
            worst_iou = fmin(worst_iou, best), worst_lm = fmax(worst_lm, el), worst_desc = fmax(worst_desc, ed);
            nfaces++;
        }
        free(img);
        cJSON_Delete(ref);
    }
    printf("%d faces of 6 photos: worst box IoU %.6f (bound 0.98), worst landmark error %.2g px (bound 1), "
           "worst descriptor distance %.2g (bound 0.01)\n", nfaces, worst_iou, worst_lm, worst_desc);
    bad |= !(worst_iou >= 0.98 && worst_lm <= 1 && worst_desc <= 0.01) || nfaces == 0;
    dt_facenets_free(&f);
    printf("%s\n", bad ? "FAILED" : "agree");
    return bad;
}

/* ---- figures ----------------------------------------------------------- */

typedef struct {
    int pic;
    float desc[128];
    double mirror, shift, bright; /* distances to the changed copies */
} face_fig;

static int figures(const char *models, char **pngs, int npng)
{
    dt_facenets f;
    if (dt_facenets_load(models, &f)) {
        fprintf(stderr, "faces_check: %s\n", dt_errmsg());
        return 2;
    }
    static face_fig all[1024];
    static dt_face faces[MAXF];
    int total = 0;
    for (int k = 0; k < npng; k++) {
        int h, w, n;
        float *img = load_png(pngs[k], &h, &w);
        size_t len = (size_t)h * w * 3;
        float *alt = img ? malloc(len * sizeof *alt) : NULL;
        if (!alt || dt_faces_find(&f, img, h, w, faces, MAXF, &n)) return 2;
        for (int i = 0; i < n && total < 1024; i++, total++) {
            face_fig *g = &all[total];
            const double *a = faces[i].aligned;
            float d[128];
            g->pic = k;
            memcpy(g->desc, faces[i].desc, sizeof g->desc);
            /* mirrored picture, the same box mirrored */
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < 3; c++) alt[((size_t)y * w + x) * 3 + c] = img[((size_t)y * w + (w - 1 - x)) * 3 + c];
            double mb[4] = {w - a[0] - a[2], a[1], a[2], a[3]};
            g->mirror = dt_face_describe(&f, alt, h, w, mb, d) ? NAN : dt_face_distance(d, g->desc);
            /* the box moved right and down by a tenth of its size */
            double sb[4] = {a[0] + a[2] / 10, a[1] + a[3] / 10, a[2], a[3]};
            g->shift = dt_face_describe(&f, img, h, w, sb, d) ? NAN : dt_face_distance(d, g->desc);
            for (size_t q = 0; q < len; q++) alt[q] = fminf(255.f, img[q] * 1.2f);
            g->bright = dt_face_describe(&f, alt, h, w, a, d) ? NAN : dt_face_distance(d, g->desc);
        }
        free(img);
        free(alt);
    }
    /* every face is taken for a different person: the demo photos show different people */
    int pairs = 0, under = 0;
    double dmin = INFINITY, dmax = 0, dsum = 0;
    for (int i = 0; i < total; i++)
        for (int j = i + 1; j < total; j++) {
            double d = dt_face_distance(all[i].desc, all[j].desc);
            pairs++, under += d < 0.6, dsum += d;
            dmin = fmin(dmin, d), dmax = fmax(dmax, d);
        }
    printf("%d faces, %d pairs of different faces: distance min %.3f, mean %.3f, max %.3f; under 0.6: %d\n", total, pairs,
           dmin, pairs ? dsum / pairs : 0, dmax, under);
    for (int i = 0; i < total; i++)
        for (int j = i + 1; j < total; j++) {
            double d = dt_face_distance(all[i].desc, all[j].desc);
            if (d < 0.6) printf("  under 0.6: face %d (picture %d) and face %d (picture %d): %.3f\n", i, all[i].pic + 1, j,
                                all[j].pic + 1, d);
        }
    double wm = 0, ws = 0, wb = 0;
    int over = 0;
    for (int i = 0; i < total; i++) {
        wm = fmax(wm, all[i].mirror), ws = fmax(ws, all[i].shift), wb = fmax(wb, all[i].bright);
        over += !(all[i].mirror < 0.6 && all[i].shift < 0.6 && all[i].bright < 0.6);
    }
    printf("each face against a changed copy, largest distance: mirrored %.3f, shifted by a tenth %.3f, 20%% brighter %.3f; "
           "copies at 0.6 or more: %d\n", wm, ws, wb, over);
    dt_facenets_free(&f);
    return over ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "agree")) return agree(argv[2], argv[3], argv[4]);
    if (argc >= 4 && !strcmp(argv[1], "figures")) return figures(argv[2], argv + 3, argc - 3);
    fprintf(stderr, "usage: faces_check agree MODELS_DIR REF_DIR PNG_DIR | figures MODELS_DIR PNG...\n");
    return 2;
}
