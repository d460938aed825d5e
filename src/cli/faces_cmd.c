/* faces_cmd.c — the course's last two weeks as commands, on pretrained
 * networks (launch/get_faces.sh):
 *   detect    YOLO boxes, printed and drawn ("car detection")
 *   faces     every face's box, landmarks and descriptor, to HDF5
 *   verify    two pictures, one person? (the course's verify())
 *   identify  who is it, from a database of descriptors (who_is_it()),
 *             and --add to enrol people
 * One process does the work (rank 0 under mpirun). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "faces_cmd.h"
#include "image.h"
#include "io/ckpt.h"
#include "vision/facepipe.h"
#include "vision/imgops.h"

#define MAX_FACES 256

static int fail(void)
{
    fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
    return 2;
}

/* A picture as floats [h, w, 3] (0..255), and its bytes for drawing. */
static dt_status load_picture(const char *path, float **img, unsigned char **px, int *h, int *w)
{
    *img = NULL;
    DT_TRY(dt_image_load(path, 3, h, w, px));
    size_t n = (size_t)*h * *w * 3;
    if (!(*img = malloc(n * sizeof **img))) {
        free(*px);
        *px = NULL;
        return dt_error(DT_ERR_NOMEM, "%s: out of memory for %dx%d pixels", path, *h, *w);
    }
    for (size_t i = 0; i < n; i++) (*img)[i] = (*px)[i];
    return DT_OK;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* DIR/NAME.png for picture path (its extension replaced). */
static void out_png(const char *dir, const char *path, char *buf, size_t len)
{
    const char *b = base_name(path), *dot = strrchr(b, '.');
    int n = dot ? (int)(dot - b) : (int)strlen(b);
    snprintf(buf, len, "%s/%.*s.png", dir, n, b);
}

static void draw(unsigned char *px, int h, int w, const dt_det *d, const char *label)
{
    static const unsigned char green[3] = {40, 220, 60}, black[3] = {0, 0, 0};
    int t = (h > w ? h : w) / 300 + 1;
    dt_img_draw_box(px, h, w, (int)lround(d->x1), (int)lround(d->y1), (int)lround(d->x2), (int)lround(d->y2), t, green);
    int scale = (h > w ? h : w) / 500 + 1;
    dt_img_draw_text(px, h, w, (int)lround(d->x1), (int)lround(d->y1) - 9 * scale - t, label, scale, black, green);
}

int dt_cli_detect(const dt_detect_args *a)
{
    dt_detector d;
    if (dt_detector_load(a->ckpt, 1, a->size, &d)) return fail();
    if (a->score >= 0) d.score = a->score;
    if (a->iou >= 0) d.iou = a->iou;
    if (a->out && dt_make_dir(a->out)) {
        dt_detector_free(&d);
        return fail();
    }
    int rc = 0;
    static dt_det boxes[MAX_FACES];
    for (int i = 0; i < a->nimages; i++) {
        float *img;
        unsigned char *px;
        int h, w, n;
        dt_status st = load_picture(a->images[i], &img, &px, &h, &w);
        if (!st) st = dt_detect(&d, img, h, w, boxes, MAX_FACES, &n);
        if (st) {
            rc = fail();
            free(img);
            free(px);
            continue;
        }
        printf("%s: %d box%s (%dx%d)\n", a->images[i], n, n == 1 ? "" : "es", w, h);
        for (int k = 0; k < n; k++) {
            const dt_det *b = &boxes[k];
            printf("  %-10s %.4f  %8.2f %8.2f %8.2f %8.2f\n", d.classes[b->cls], b->score, b->x1, b->y1, b->x2, b->y2);
            char label[64];
            snprintf(label, sizeof label, "%s %.2f", d.classes[b->cls], b->score);
            draw(px, h, w, b, label);
        }
        if (a->out) {
            char path[4200];
            out_png(a->out, a->images[i], path, sizeof path);
            if (dt_image_write_png(path, px, h, w)) rc = fail();
        }
        free(img);
        free(px);
    }
    dt_detector_free(&d);
    return rc;
}

/* ---- faces, verify, identify ------------------------------------------- */

static dt_status find_faces(dt_facenets *f, const char *path, dt_face *faces, int *n, int *h, int *w)
{
    float *img;
    unsigned char *px;
    DT_TRY(load_picture(path, &img, &px, h, w));
    dt_status st = dt_faces_find(f, img, *h, *w, faces, MAX_FACES, n);
    free(img);
    free(px);
    return st;
}

/* The largest face of the picture; an error when there is none. */
static dt_status one_face(dt_facenets *f, const char *path, dt_face *out, int *found)
{
    static dt_face faces[MAX_FACES];
    int n, h, w, best = 0;
    DT_TRY(find_faces(f, path, faces, &n, &h, &w));
    if (n == 0) return dt_error(DT_ERR_DATA, "%s: no face found (detector score >= %.2f)", path, f->det.score);
    for (int i = 1; i < n; i++) {
        double ai = (faces[i].box.x2 - faces[i].box.x1) * (faces[i].box.y2 - faces[i].box.y1);
        double ab = (faces[best].box.x2 - faces[best].box.x1) * (faces[best].box.y2 - faces[best].box.y1);
        if (ai > ab) best = i;
    }
    *out = faces[best];
    *found = n;
    return DT_OK;
}

int dt_cli_faces(const dt_faces_args *a)
{
    dt_facenets f;
    if (dt_facenets_load(a->models, &f)) return fail();
    int cap = 64, total = 0, rc = 0, oom = 0;
    dt_face *all = malloc((size_t)cap * sizeof *all);
    int64_t *which = malloc((size_t)cap * sizeof *which);
    static dt_face faces[MAX_FACES];
    for (int i = 0; all && which && i < a->nimages; i++) {
        int n, h, w;
        if (find_faces(&f, a->images[i], faces, &n, &h, &w)) { /* reported; the others' faces are still written */
            rc = fail();
            continue;
        }
        printf("%s: %d face%s\n", a->images[i], n, n == 1 ? "" : "s");
        for (int k = 0; k < n; k++) {
            const dt_det *b = &faces[k].box;
            printf("  face %d  score %.4f  box %.1f %.1f %.1f %.1f\n", total + k, b->score, b->x1, b->y1, b->x2, b->y2);
        }
        if (total + n > cap) {
            while (total + n > cap) cap *= 2;
            dt_face *na = realloc(all, (size_t)cap * sizeof *all);
            int64_t *nw = na ? realloc(which, (size_t)cap * sizeof *which) : NULL;
            if (na) all = na;
            if (nw) which = nw;
            if (!na || !nw) {
                fprintf(stderr, "dtrain: error: out of memory for %d faces\n", cap);
                oom = 1;
                break;
            }
        }
        memcpy(all + total, faces, (size_t)n * sizeof *faces);
        for (int k = 0; k < n; k++) which[total + k] = i;
        total += n;
    }
    if (!all || !which || oom) {
        if (!oom) fprintf(stderr, "dtrain: error: out of memory for %d faces\n", cap);
        rc = 2;
    } else {
        int64_t m = total ? total : 0;
        double *box = malloc((size_t)(m ? m : 1) * 5 * sizeof *box), *lm = malloc((size_t)(m ? m : 1) * 136 * sizeof *lm);
        double *al = malloc((size_t)(m ? m : 1) * 4 * sizeof *al), *de = malloc((size_t)(m ? m : 1) * 128 * sizeof *de);
        size_t nl = 1;
        for (int i = 0; i < a->nimages; i++) nl += strlen(a->images[i]) + 1;
        char *names = calloc(1, nl);
        if (box && lm && al && de && names) {
            for (int64_t k = 0; k < m; k++) {
                const dt_face *fc = &all[k];
                double b[5] = {fc->box.x1, fc->box.y1, fc->box.x2, fc->box.y2, fc->box.score};
                memcpy(box + 5 * k, b, sizeof b);
                memcpy(lm + 136 * k, fc->lm, 136 * sizeof *lm);
                memcpy(al + 4 * k, fc->aligned, 4 * sizeof *al);
                for (int j = 0; j < 128; j++) de[128 * k + j] = fc->desc[j];
            }
            for (int i = 0; i < a->nimages; i++) {
                if (i) strcat(names, "\n");
                strcat(names, a->images[i]);
            }
            dt_ckpt_array arr[] = {
                {"boxes", DT_ARR_F64, box, 2, {m, 5}},         {"landmarks", DT_ARR_F64, lm, 3, {m, 68, 2}},
                {"aligned", DT_ARR_F64, al, 2, {m, 4}},        {"descriptors", DT_ARR_F64, de, 2, {m, 128}},
                {"image_index", DT_ARR_I64, which, 1, {m}},
            };
            dt_ckpt_attr at[] = {{"kind", DT_ATTR_STR, 0, 0, "dtrain faces"}, {"images", DT_ATTR_STR, 0, 0, names}};
            if (dt_ckpt_write(a->out, arr, 5, at, 2)) rc = fail();
            else printf("%d face%s in %d picture%s written to %s\n", total, total == 1 ? "" : "s", a->nimages,
                        a->nimages == 1 ? "" : "s", a->out);
        } else {
            fprintf(stderr, "dtrain: error: out of memory\n");
            rc = 2;
        }
        free(box), free(lm), free(al), free(de), free(names);
    }
    free(all);
    free(which);
    dt_facenets_free(&f);
    return rc;
}

int dt_cli_verify(const dt_verify_args *a)
{
    dt_facenets f;
    if (dt_facenets_load(a->models, &f)) return fail();
    dt_face fa, fb;
    int na, nb, rc = 0;
    if (one_face(&f, a->a, &fa, &na) || one_face(&f, a->b, &fb, &nb)) rc = fail();
    else {
        double d = dt_face_distance(fa.desc, fb.desc);
        if (na > 1) printf("%s: %d faces, using the largest\n", a->a, na);
        if (nb > 1) printf("%s: %d faces, using the largest\n", a->b, nb);
        printf("distance %.4f: %s (threshold %.2f)\n", d, d < a->threshold ? "same person" : "different people",
               a->threshold);
    }
    dt_facenets_free(&f);
    return rc;
}

/* A face database: descriptors [n, 128] and names (attribute, one per line). */
typedef struct {
    int n;
    double *desc;
    char *names; /* n lines */
} face_db;

static dt_status db_read(const char *path, face_db *db, int missing_ok)
{
    memset(db, 0, sizeof *db);
    struct stat sb;
    if (missing_ok && stat(path, &sb) && errno == ENOENT) return DT_OK;
    dt_ckpt *c;
    DT_TRY(dt_ckpt_open(path, &c));
    char *kind = NULL;
    int nd;
    int64_t dims[2];
    dt_status st = dt_ckpt_attr_str(c, "kind", &kind);
    if (st || strcmp(kind, "dtrain face database"))
        st = dt_error(DT_ERR_DATA, "%s: not a face database (made by dtrain identify --add)", path);
    if (!st) st = dt_ckpt_shape(c, "descriptors", 2, &nd, dims);
    if (!st && (nd != 2 || dims[1] != DT_DESCRIPTOR || dims[0] > 10000000))
        st = dt_error(DT_ERR_DATA, "%s: descriptors must be [n, %d]", path, DT_DESCRIPTOR);
    int64_t held = 0;
    if (!st) st = dt_ckpt_values(c, "descriptors", &held);
    if (!st && dims[0] * DT_DESCRIPTOR > held)
        st = dt_error(DT_ERR_DATA, "%s: descriptors claim %lld rows, more than the file holds", path, (long long)dims[0]);
    if (!st && !(db->desc = malloc((size_t)(dims[0] ? dims[0] : 1) * DT_DESCRIPTOR * sizeof *db->desc)))
        st = dt_error(DT_ERR_NOMEM, "%s: out of memory", path);
    if (!st) st = dt_ckpt_read(c, "descriptors", DT_ARR_F64, db->desc, 2, dims);
    if (!st) st = dt_ckpt_attr_str(c, "names", &db->names);
    if (!st) {
        int lines = dims[0] ? 1 : 0;
        for (const char *p = db->names; *p; p++) lines += *p == '\n';
        if (lines != dims[0]) st = dt_error(DT_ERR_DATA, "%s: %d names for %lld descriptors", path, lines, (long long)dims[0]);
        db->n = (int)dims[0];
    }
    free(kind);
    dt_ckpt_close(c);
    if (st) {
        free(db->desc);
        free(db->names);
        memset(db, 0, sizeof *db);
    }
    return st;
}

/* Name k of the database into buf. */
static const char *db_name(const face_db *db, int k, char *buf, size_t len)
{
    const char *p = db->names;
    for (int i = 0; i < k && p; i++)
        if ((p = strchr(p, '\n'))) p++;
    snprintf(buf, len, "%.*s", p ? (int)strcspn(p, "\n") : 0, p ? p : "");
    return buf;
}

static int identify_add(dt_facenets *f, const dt_identify_args *a)
{
    if (!a->add[0] || strchr(a->add, '\n')) {
        fprintf(stderr, "dtrain: error: --add NAME: expected a non-empty name on one line\n");
        return 2;
    }
    face_db db;
    dt_face fc;
    int found;
    if (db_read(a->db, &db, 1) || one_face(f, a->image, &fc, &found)) return fail();
    int rc = 0;
    double *desc = malloc((size_t)(db.n + 1) * DT_DESCRIPTOR * sizeof *desc);
    char *names = malloc((db.names ? strlen(db.names) : 0) + strlen(a->add) + 2);
    if (!desc || !names) {
        fprintf(stderr, "dtrain: error: out of memory\n");
        rc = 2;
    } else {
        if (db.n) memcpy(desc, db.desc, (size_t)db.n * DT_DESCRIPTOR * sizeof *desc);
        for (int j = 0; j < DT_DESCRIPTOR; j++) desc[db.n * DT_DESCRIPTOR + j] = fc.desc[j];
        sprintf(names, "%s%s%s", db.n ? db.names : "", db.n ? "\n" : "", a->add);
        dt_ckpt_array arr = {"descriptors", DT_ARR_F64, desc, 2, {db.n + 1, DT_DESCRIPTOR}};
        dt_ckpt_attr at[] = {{"kind", DT_ATTR_STR, 0, 0, "dtrain face database"}, {"names", DT_ATTR_STR, 0, 0, names}};
        if (dt_ckpt_write(a->db, &arr, 1, at, 2)) rc = fail();
        else printf("added %s from %s%s (%d %s in %s)\n", a->add, a->image, found > 1 ? " (the largest face)" : "",
                    db.n + 1, db.n ? "people" : "person", a->db);
    }
    free(desc);
    free(names);
    free(db.desc);
    free(db.names);
    return rc;
}

int dt_cli_identify(const dt_identify_args *a)
{
    dt_facenets f;
    if (dt_facenets_load(a->models, &f)) return fail();
    if (a->add) {
        int rc = identify_add(&f, a);
        dt_facenets_free(&f);
        return rc;
    }
    face_db db;
    static dt_face faces[MAX_FACES];
    int n, h, w, rc = 0;
    if (db_read(a->db, &db, 0) || find_faces(&f, a->image, faces, &n, &h, &w)) {
        dt_facenets_free(&f);
        return fail();
    }
    if (db.n == 0) printf("%s: the database is empty\n", a->db);
    if (n == 0) {
        fprintf(stderr, "dtrain: error: %s: no face found (detector score >= %.2f)\n", a->image, f.det.score);
        rc = 2;
    }
    for (int k = 0; k < n && db.n; k++) {
        int best = 0;
        double bd = INFINITY;
        for (int j = 0; j < db.n; j++) {
            double s = 0;
            for (int i = 0; i < DT_DESCRIPTOR; i++) {
                double e = faces[k].desc[i] - db.desc[j * DT_DESCRIPTOR + i];
                s += e * e;
            }
            if (sqrt(s) < bd) bd = sqrt(s), best = j;
        }
        char name[256];
        const dt_det *b = &faces[k].box;
        db_name(&db, best, name, sizeof name);
        if (bd < a->threshold)
            printf("face %d (%.0f,%.0f)-(%.0f,%.0f): %s (distance %.4f)\n", k, b->x1, b->y1, b->x2, b->y2, name, bd);
        else
            printf("face %d (%.0f,%.0f)-(%.0f,%.0f): not in the database (nearest %s at %.4f)\n", k, b->x1, b->y1, b->x2,
                   b->y2, name, bd);
    }
    free(db.desc);
    free(db.names);
    dt_facenets_free(&f);
    return rc;
}
