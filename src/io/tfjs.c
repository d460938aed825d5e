/* tfjs.c — TensorFlow.js weight manifests and shards (see tfjs.h), parsed
 * with cJSON. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/tfjs.h"

#define MAX_MANIFEST (16L << 20) /* a manifest is a few kB; refuse a huge "JSON" */
#define MAX_WEIGHTS 100000

/* The whole of a small file, NUL-terminated. */
/* Strings from the manifest go into one-line messages: shown only where
 * they hold no control characters (JSON escapes can put a newline in). */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}
static const char *shown(const char *s) { return has_control(s) ? "(a string with control characters)" : s; }

static dt_status read_text(const char *path, long max, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode) || sb.st_size > max) {
        fclose(f);
        return dt_error(DT_ERR_DATA, "%s: not a TensorFlow.js manifest (not a regular file of at most %ld bytes)", path, max);
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        fclose(f);
        return dt_error(DT_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, (size_t)sb.st_size, f);
    fclose(f);
    if (n != (size_t)sb.st_size) {
        free(buf);
        return dt_error(DT_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    *out = buf;
    return DT_OK;
}

/* IEEE half to float. */
static float half_to_float(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
    return s ? -v : v;
}

typedef struct {
    int bytes;         /* per stored value */
    int kind;          /* 0 float32, 1 int32, 2 uint affine, 3 float16 */
    double scale, min; /* affine quantisation */
} encoding;

/* How weight w (a manifest entry) is stored. */
static dt_status read_encoding(const char *path, const char *name, const cJSON *w, encoding *e)
{
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(w, "dtype");
    const char *dtype = cJSON_IsString(dt) ? dt->valuestring : "";
    if (!strcmp(dtype, "float32")) *e = (encoding){4, 0, 0, 0};
    else if (!strcmp(dtype, "int32")) *e = (encoding){4, 1, 0, 0};
    else return dt_error(DT_ERR_DATA, "%s: weight '%s': dtype '%s': expected float32 or int32", path, name, shown(dtype));
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(w, "quantization");
    if (!q) return DT_OK;
    const cJSON *qd = cJSON_GetObjectItemCaseSensitive(q, "dtype");
    const char *qtype = cJSON_IsString(qd) ? qd->valuestring : "";
    if (!strcmp(qtype, "float16")) {
        *e = (encoding){2, 3, 0, 0};
        return DT_OK;
    }
    if (strcmp(qtype, "uint8") && strcmp(qtype, "uint16"))
        return dt_error(DT_ERR_DATA, "%s: weight '%s': quantization dtype '%s': expected uint8, uint16 or float16", path,
                        name, shown(qtype));
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(q, "scale"), *mn = cJSON_GetObjectItemCaseSensitive(q, "min");
    if (!cJSON_IsNumber(sc) || !cJSON_IsNumber(mn) || !isfinite(sc->valuedouble) || !isfinite(mn->valuedouble))
        return dt_error(DT_ERR_DATA, "%s: weight '%s': quantization needs numbers 'scale' and 'min'", path, name);
    *e = (encoding){qtype[4] == '8' ? 1 : 2, 2, sc->valuedouble, mn->valuedouble};
    return DT_OK;
}

static float decode(const unsigned char *p, const encoding *e)
{
    switch (e->kind) {
    case 0: {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    case 1: {
        int32_t i;
        memcpy(&i, p, 4);
        return (float)i;
    }
    case 2: {
        unsigned q = e->bytes == 1 ? p[0] : (unsigned)(p[0] | p[1] << 8);
        return (float)(q * e->scale + e->min);
    }
    default:
        return half_to_float((uint16_t)(p[0] | p[1] << 8));
    }
}

/* The group's shards, concatenated: checked to be plain names in dir, and
 * read at the sizes first seen (a shard that changes meanwhile is an error). */
static dt_status read_shards(const char *path, const char *dir, const cJSON *paths, unsigned char **buf, int64_t *len)
{
    *buf = NULL;
    *len = 0;
    int n = cJSON_IsArray(paths) ? cJSON_GetArraySize(paths) : 0;
    if (n < 1 || n > 10000)
        return dt_error(DT_ERR_DATA, "%s: a weight group needs 'paths', an array of 1 to 10000 file names", path);
    int64_t *size = calloc((size_t)n, sizeof *size), total = 0;
    if (!size) return dt_error(DT_ERR_NOMEM, "out of memory");
    char file[4096];
    dt_status st = DT_OK;
    for (int pass = 0; pass < 2 && !st; pass++) { /* sizes, then contents */
        int64_t at = 0;
        for (int i = 0; i < n && !st; i++) {
            const cJSON *p = cJSON_GetArrayItem(paths, i);
            if (!cJSON_IsString(p) || !p->valuestring[0] || strchr(p->valuestring, '/') || !strcmp(p->valuestring, "..") ||
                has_control(p->valuestring)) {
                st = dt_error(DT_ERR_DATA, "%s: shard path '%s': expected a file name beside the manifest", path,
                              cJSON_IsString(p) ? shown(p->valuestring) : "(not a string)");
                break;
            }
            snprintf(file, sizeof file, "%s/%s", dir, p->valuestring);
            FILE *f = fopen(file, "rb");
            struct stat sb;
            if (!f || fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) st = dt_error(DT_ERR_IO, "%s: cannot open shard %s", path, file);
            else if (pass == 0) size[i] = sb.st_size, total += sb.st_size;
            else if (sb.st_size != size[i] || fread(*buf + at, 1, (size_t)size[i], f) != (size_t)size[i])
                st = dt_error(DT_ERR_IO, "%s: read error (did it change while being read?)", file);
            at += size[i];
            if (f) fclose(f);
        }
        if (!st && pass == 0 && !(*buf = malloc((size_t)(total ? total : 1))))
            st = dt_error(DT_ERR_NOMEM, "%s: out of memory for %lld bytes of shards", path, (long long)total);
    }
    free(size);
    if (st) {
        free(*buf);
        *buf = NULL;
        return st;
    }
    *len = total;
    return DT_OK;
}

/* One manifest entry: name, shape, encoding; decoded from buf at *at. */
static dt_status read_weight(const char *path, const cJSON *w, const unsigned char *buf, int64_t len, int64_t *at,
                             dt_tfjs_weight *out)
{
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(w, "name"), *sh = cJSON_GetObjectItemCaseSensitive(w, "shape");
    if (!cJSON_IsString(nm) || !nm->valuestring[0])
        return dt_error(DT_ERR_DATA, "%s: a weight without a 'name' string", path);
    const char *name = nm->valuestring;
    if (has_control(name)) return dt_error(DT_ERR_DATA, "%s: a weight name holds control characters", path);
    if (!cJSON_IsArray(sh) || cJSON_GetArraySize(sh) > DT_TFJS_MAX_DIMS)
        return dt_error(DT_ERR_DATA, "%s: weight '%s': 'shape' must be an array of at most %d sizes", path, name,
                        DT_TFJS_MAX_DIMS);
    encoding e = {4, 0, 0, 0};
    DT_TRY(read_encoding(path, name, w, &e));
    int64_t size = 1;
    double claimed = 1; /* the shape's product, for the message: it may not fit in 64 bits */
    int nd = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, sh)
    {
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > (double)(1LL << 40) ||
            d->valuedouble != floor(d->valuedouble))
            return dt_error(DT_ERR_DATA, "%s: weight '%s': shape sizes must be whole numbers >= 0", path, name);
        out->dims[nd++] = (int64_t)d->valuedouble;
        claimed *= d->valuedouble;
        if (out->dims[nd - 1] && size > (len + 1) / out->dims[nd - 1] + 1) size = len + 1; /* too large either way */
        else size *= out->dims[nd - 1];
    }
    if (size > (len - *at) / e.bytes)
        return dt_error(DT_ERR_DATA, "%s: weight '%s' needs %.0f bytes from offset %lld, but the shards hold %lld in all (truncated?)",
                        path, name, claimed * e.bytes, (long long)*at, (long long)len);
    out->ndim = nd;
    out->size = size;
    out->name = strdup(name);
    out->data = malloc((size_t)(size ? size : 1) * sizeof *out->data);
    if (!out->name || !out->data) {
        free(out->name);
        free(out->data);
        out->name = NULL, out->data = NULL;
        return dt_error(DT_ERR_NOMEM, "%s: out of memory for weight '%s'", path, name);
    }
    for (int64_t i = 0; i < size; i++) out->data[i] = decode(buf + *at + i * e.bytes, &e);
    *at += size * e.bytes;
    return DT_OK;
}

static dt_status read_groups(const char *path, const char *dir, const cJSON *root, dt_tfjs *t)
{
    if (!cJSON_IsArray(root))
        return dt_error(DT_ERR_DATA, "%s: not a TensorFlow.js weights manifest (expected a JSON array of groups)", path);
    int total = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, root)
    {
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(g, "weights");
        if (!cJSON_IsArray(ws)) return dt_error(DT_ERR_DATA, "%s: a weight group needs 'weights', an array", path);
        total += cJSON_GetArraySize(ws);
        if (total > MAX_WEIGHTS) return dt_error(DT_ERR_DATA, "%s: more than %d weights", path, MAX_WEIGHTS);
    }
    if (!(t->w = calloc((size_t)(total ? total : 1), sizeof *t->w))) return dt_error(DT_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(g, root)
    {
        unsigned char *buf;
        int64_t len, at = 0;
        DT_TRY(read_shards(path, dir, cJSON_GetObjectItemCaseSensitive(g, "paths"), &buf, &len));
        const cJSON *w;
        dt_status st = DT_OK;
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(g, "weights"))
        {
            if ((st = read_weight(path, w, buf, len, &at, &t->w[t->n]))) break;
            if (dt_tfjs_find(t, t->w[t->n].name)) {
                st = dt_error(DT_ERR_DATA, "%s: weight '%s' appears twice", path, t->w[t->n].name);
                t->n++; /* freed with the rest */
                break;
            }
            t->n++;
        }
        if (!st && at != len)
            st = dt_error(DT_ERR_DATA, "%s: the weights use %lld bytes but the shards hold %lld", path, (long long)at,
                          (long long)len);
        free(buf);
        DT_TRY(st);
    }
    return DT_OK;
}

dt_status dt_tfjs_load(const char *manifest, dt_tfjs **out)
{
    *out = NULL;
    char *text;
    DT_TRY(read_text(manifest, MAX_MANIFEST, &text));
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) return dt_error(DT_ERR_DATA, "%s: not valid JSON (a TensorFlow.js weights manifest was expected)", manifest);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", manifest);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else strcpy(dir, ".");
    dt_tfjs *t = calloc(1, sizeof *t);
    dt_status st = t ? read_groups(manifest, dir, root, t) : dt_error(DT_ERR_NOMEM, "out of memory");
    cJSON_Delete(root);
    if (st) {
        dt_tfjs_free(t);
        return st;
    }
    *out = t;
    return DT_OK;
}

const dt_tfjs_weight *dt_tfjs_find(const dt_tfjs *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (t->w[i].name && !strcmp(t->w[i].name, name)) return &t->w[i];
    return NULL;
}

void dt_tfjs_free(dt_tfjs *t)
{
    if (!t) return;
    for (int i = 0; i < t->n; i++) {
        free(t->w[i].name);
        free(t->w[i].data);
    }
    free(t->w);
    free(t);
}
