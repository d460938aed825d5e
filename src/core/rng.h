/* rng.h — random numbers.
 *
 * dt_rng is bit-compatible with numpy's legacy generator
 * (np.random.seed(s) then randn / rand / permutation): MT19937, polar
 * Box-Muller with the cached second value, 53-bit doubles. Its whole state
 * is plain data so checkpoints can store and restore it exactly.
 *
 * dt_hash_uniform is a counter-based stream: a pure function of its keys,
 * used for dropout masks so they depend on (seed, step, sample, unit) and
 * not on which rank computes them. */
#ifndef DT_RNG_H
#define DT_RNG_H

#include <stdint.h>

typedef struct {
    uint32_t key[624];
    int32_t pos;
    int32_t has_gauss;
    double gauss;
} dt_rng;

void dt_rng_seed(dt_rng *r, uint32_t seed);           /* np.random.seed(seed) */
uint32_t dt_rng_u32(dt_rng *r);
double dt_rng_double(dt_rng *r);                       /* np.random.rand() */
double dt_rng_randn(dt_rng *r);                        /* np.random.randn() */
uint64_t dt_rng_interval(dt_rng *r, uint64_t max);     /* uniform in [0, max] */
/* np.random.permutation(n) written into idx[0..n). */
void dt_rng_permutation(dt_rng *r, int64_t *idx, int64_t n);

/* Uniform in [0, 1) from four 64-bit keys; same value on every rank. */
double dt_hash_uniform(uint64_t k0, uint64_t k1, uint64_t k2, uint64_t k3);

#endif
