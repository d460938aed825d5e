/* fuzz_tfjs.c — TensorFlow.js weight manifests and their shards, read as
 * `dtrain import tfjs` reads them. Input: the manifest (JSON) behind a
 * 2-byte length (fuzz.h), then the bytes of the one shard it may name,
 * "w.bin" in the manifest's directory. */
#include "fuzz.h"

#include "io/tfjs.h"

void dt_fuzz_setup(void) {}

dt_status dt_fuzz_one(const uint8_t *data, size_t size)
{
    const uint8_t *js, *bin;
    size_t njs, nbin;
    dt_fuzz_split(data, size, &js, &njs, &bin, &nbin);
    const char *mp = dt_fuzz_path(0, "model-weights_manifest.json");
    dt_fuzz_write(mp, js, njs, 0);
    dt_fuzz_write(dt_fuzz_path(1, "w.bin"), bin, nbin, 0);
    dt_tfjs *t = NULL;
    dt_status st = dt_tfjs_load(mp, &t);
    if (!st) {
        /* every weight is what the manifest said, filled */
        for (int i = 0; i < t->n; i++)
            if (t->w[i].size && !t->w[i].data) {
                dt_tfjs_free(t);
                return dt_error(DT_ERR_DATA, "weight %d has no data", i);
            }
        dt_tfjs_free(t);
    }
    return st;
}
