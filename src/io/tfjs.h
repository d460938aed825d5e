/* tfjs.h — TensorFlow.js weight files: a JSON manifest
 * (`*-weights_manifest.json`, an array of groups {paths, weights}) and the
 * binary shards it names, read into named float tensors. Knows nothing of
 * networks; `dtrain import tfjs` maps the tensors onto a model's parameters.
 *
 * Each group's shards are concatenated; its weights follow one another in
 * that byte stream in manifest order. A weight is float32 or int32 as stored,
 * or quantised: uint8/uint16 with value = q · scale + min, or float16.
 * Shapes are TensorFlow's (conv filters [kh, kw, in, out], dense [in, out]).
 * Shard paths must be plain file names in the manifest's directory. Every
 * size is checked against the bytes the shards hold before anything is
 * allocated from it. */
#ifndef DT_TFJS_H
#define DT_TFJS_H

#include "core/core.h"

#define DT_TFJS_MAX_DIMS 4

typedef struct {
    char *name;  /* "conv0/filters" */
    int ndim;    /* 0..4 */
    int64_t dims[DT_TFJS_MAX_DIMS];
    int64_t size;
    float *data; /* [size], TensorFlow's row-major layout */
} dt_tfjs_weight;

typedef struct {
    int n;
    dt_tfjs_weight *w;
} dt_tfjs;

/* One-line errors name the manifest (or shard) and the weight. */
dt_status dt_tfjs_load(const char *manifest, dt_tfjs **out);
const dt_tfjs_weight *dt_tfjs_find(const dt_tfjs *t, const char *name);
void dt_tfjs_free(dt_tfjs *t);

#endif
