/* vshuffle.h — DT_SHUFFLE(a, b, mask): GCC's two-vector __builtin_shuffle
 * (element u of the result is element mask[u] of a then b). clang, which
 * builds dtrain only for fuzzing (launch/fuzz.sh), lacks it: there the
 * same permutation is done element by element. */
#ifndef DT_VSHUFFLE_H
#define DT_VSHUFFLE_H

#ifdef __clang__
#define DT_SHUFFLE(a, b, mask)                                                     \
    ({                                                                             \
        __typeof__(a) a_ = (a), b_ = (b), r_;                                      \
        const int n_ = (int)(sizeof a_ / sizeof a_[0]);                            \
        for (int u_ = 0; u_ < n_; u_++) {                                          \
            int k_ = (int)(mask)[u_] & (2 * n_ - 1);                               \
            r_[u_] = k_ < n_ ? a_[k_] : b_[k_ - n_];                               \
        }                                                                          \
        r_;                                                                        \
    })
#else
#define DT_SHUFFLE(a, b, mask) __builtin_shuffle(a, b, mask)
#endif

#endif
