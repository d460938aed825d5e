/* rng.c — numpy legacy MT19937 and a counter-based hash stream. */
#include "core/rng.h"

#include <math.h>

#define MT_N 624
#define MT_M 397

void dt_rng_seed(dt_rng *r, uint32_t seed)
{
    for (int i = 0; i < MT_N; i++) {
        r->key[i] = seed;
        seed = 1812433253u * (seed ^ (seed >> 30)) + (uint32_t)i + 1u;
    }
    r->pos = MT_N;
    r->has_gauss = 0;
    r->gauss = 0.0;
}

static void mt_generate(dt_rng *r)
{
    static const uint32_t mag[2] = {0u, 0x9908b0dfu};
    uint32_t *k = r->key, y;
    int i;
    for (i = 0; i < MT_N - MT_M; i++) {
        y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7fffffffu);
        k[i] = k[i + MT_M] ^ (y >> 1) ^ mag[y & 1u];
    }
    for (; i < MT_N - 1; i++) {
        y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7fffffffu);
        k[i] = k[i + (MT_M - MT_N)] ^ (y >> 1) ^ mag[y & 1u];
    }
    y = (k[MT_N - 1] & 0x80000000u) | (k[0] & 0x7fffffffu);
    k[MT_N - 1] = k[MT_M - 1] ^ (y >> 1) ^ mag[y & 1u];
    r->pos = 0;
}

uint32_t dt_rng_u32(dt_rng *r)
{
    if (r->pos >= MT_N) mt_generate(r);
    uint32_t y = r->key[r->pos++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

double dt_rng_double(dt_rng *r)
{
    uint32_t a = dt_rng_u32(r) >> 5, b = dt_rng_u32(r) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

double dt_rng_randn(dt_rng *r)
{
    if (r->has_gauss) {
        r->has_gauss = 0;
        return r->gauss;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * dt_rng_double(r) - 1.0;
        x2 = 2.0 * dt_rng_double(r) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    r->gauss = f * x1;
    r->has_gauss = 1;
    return f * x2;
}

uint64_t dt_rng_interval(dt_rng *r, uint64_t max)
{
    if (max == 0) return 0;
    uint64_t mask = max, v;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    if (max <= 0xffffffffu) {
        while ((v = (dt_rng_u32(r) & mask)) > max) {}
    } else {
        do {
            v = ((uint64_t)dt_rng_u32(r) << 32) | dt_rng_u32(r);
            v &= mask;
        } while (v > max);
    }
    return v;
}

void dt_rng_permutation(dt_rng *r, int64_t *idx, int64_t n)
{
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)dt_rng_interval(r, (uint64_t)i);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double dt_hash_uniform(uint64_t k0, uint64_t k1, uint64_t k2, uint64_t k3)
{
    uint64_t h = mix64(k0 + 0x9e3779b97f4a7c15ull);
    h = mix64(h ^ (k1 + 0x632be59bd9b4e019ull));
    h = mix64(h ^ (k2 + 0x85157af5ull));
    h = mix64(h ^ (k3 + 0x2545f4914f6cdd1dull));
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}
