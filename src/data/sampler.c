/* sampler.c — the order in which a split is visited, and batch slices. */
#include "data/data.h"

#include <stdlib.h>

dt_status dt_sampler_init(dt_sampler *s, int64_t n, dt_shuffle mode, uint64_t seed)
{
    s->n = n;
    s->mode = mode;
    s->seed = seed;
    s->perm = dt_alloc((size_t)(n > 0 ? n : 1) * sizeof *s->perm);
    if (!s->perm) return dt_error(DT_ERR_NOMEM, "out of memory for %lld sample indices", (long long)n);
    for (int64_t i = 0; i < n; i++) s->perm[i] = i;
    return DT_OK;
}

void dt_sampler_epoch(dt_sampler *s, int64_t epoch)
{
    switch (s->mode) {
    case DT_SHUFFLE_NONE:
        for (int64_t i = 0; i < s->n; i++) s->perm[i] = i;
        return;
    case DT_SHUFFLE_COURSE:
        dt_rng_seed(&s->rng, (uint32_t)(s->seed + (uint64_t)epoch + 1u));
        break;
    case DT_SHUFFLE_SEEDED: {
        double u = dt_hash_uniform(s->seed, (uint64_t)epoch, 0x5348554646ull, 0);
        dt_rng_seed(&s->rng, (uint32_t)(u * 4294967296.0));
        break;
    }
    }
    dt_rng_permutation(&s->rng, s->perm, s->n);
}

void dt_sampler_destroy(dt_sampler *s)
{
    dt_free(s->perm);
    s->perm = NULL;
}

void dt_batch_slice(int64_t count, int rank, int nranks, int64_t *start, int64_t *len)
{
    int64_t a = count * rank / nranks, b = count * (rank + 1) / nranks;
    *start = a;
    *len = b - a;
}
