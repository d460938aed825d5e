/* jsmath.c — V8's Math.exp and friends in C.
 *
 * dt_js_exp is V8's base::ieee754::exp (src/base/ieee754.cc), itself
 * FreeBSD's msun e_exp.c, which carries this notice:
 *
 * ====================================================
 * Copyright (C) 2004 by Sun Microsystems, Inc. All rights reserved.
 *
 * Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice
 * is preserved.
 * ====================================================
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "vision/jsmath.h"

/* V8 is built without fused multiply-add; -march=native would let GCC fuse
 * t*P + c here and change the last bit. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

static uint32_t high_word(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return (uint32_t)(b >> 32);
}

static uint32_t low_word(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return (uint32_t)b;
}

static double from_words(uint32_t hi, uint32_t lo)
{
    uint64_t b = ((uint64_t)hi << 32) | lo;
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

double dt_js_exp(double x)
{
    static const double one = 1.0, halF[2] = {0.5, -0.5},
                        o_threshold = 7.09782712893383973096e+02,  /* 0x40862E42, 0xFEFA39EF */
        u_threshold = -7.45133219101941108420e+02,                 /* 0xc0874910, 0xD52D3051 */
        ln2HI[2] = {6.93147180369123816490e-01,                    /* 0x3fe62e42, 0xfee00000 */
                    -6.93147180369123816490e-01},                  /* 0xbfe62e42, 0xfee00000 */
        ln2LO[2] = {1.90821492927058770002e-10,                    /* 0x3dea39ef, 0x35793c76 */
                    -1.90821492927058770002e-10},                  /* 0xbdea39ef, 0x35793c76 */
        invln2 = 1.44269504088896338700e+00,                       /* 0x3ff71547, 0x652b82fe */
        P1 = 1.66666666666666019037e-01,                           /* 0x3FC55555, 0x5555553E */
        P2 = -2.77777777770155933842e-03,                          /* 0xBF66C16C, 0x16BEBD93 */
        P3 = 6.61375632143793436117e-05,                           /* 0x3F11566A, 0xAF25DE2C */
        P4 = -1.65339022054652515390e-06,                          /* 0xBEBBBD41, 0xC5D26BF1 */
        P5 = 4.13813679705723846039e-08,                           /* 0x3E663769, 0x72BEA4D0 */
        E = 2.718281828459045;                                     /* 0x4005bf0a, 0x8b145769 */
    static volatile double huge = 1.0e+300, twom1000 = 9.33263618503218878990e-302, /* 2**-1000 */
        two1023 = 8.988465674311579539e307;                                           /* 0x1p1023 */

    double y, hi = 0.0, lo = 0.0, c, t, twopk;
    int32_t k = 0, xsb;
    uint32_t hx = high_word(x);
    xsb = (hx >> 31) & 1; /* sign bit of x */
    hx &= 0x7FFFFFFF;     /* high word of |x| */

    /* filter out non-finite argument */
    if (hx >= 0x40862E42) { /* if |x| >= 709.78... */
        if (hx >= 0x7FF00000) {
            if (((hx & 0xFFFFF) | low_word(x)) != 0) return x + x; /* NaN */
            return xsb == 0 ? x : 0.0;                           /* exp(+-inf) = {inf, 0} */
        }
        if (x > o_threshold) return huge * huge;         /* overflow */
        if (x < u_threshold) return twom1000 * twom1000; /* underflow */
    }

    /* argument reduction */
    if (hx > 0x3FD62E42) {     /* if |x| > 0.5 ln2 */
        if (hx < 0x3FF0A2B2) { /* and |x| < 1.5 ln2 */
            if (x == 1.0) return E; /* V8's special case: the formula gets its last bit wrong */
            hi = x - ln2HI[xsb];
            lo = ln2LO[xsb];
            k = 1 - xsb - xsb;
        } else {
            k = (int32_t)(invln2 * x + halF[xsb]);
            t = k;
            hi = x - t * ln2HI[0]; /* t*ln2HI is exact here */
            lo = t * ln2LO[0];
        }
        x = hi - lo;
    } else if (hx < 0x3E300000) {           /* when |x| < 2**-28 */
        if (huge + x > one) return one + x; /* trigger inexact */
    } else {
        k = 0;
    }

    /* x is now in primary range */
    t = x * x;
    if (k >= -1021)
        twopk = from_words(0x3FF00000u + ((uint32_t)k << 20), 0);
    else
        twopk = from_words(0x3FF00000u + ((uint32_t)(k + 1000) << 20), 0);
    c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    if (k == 0) return one - ((x * c) / (c - 2.0) - x);
    y = one - ((lo - (x * c) / (2.0 - c)) - hi);
    if (k >= -1021) {
        if (k == 1024) return y * 2.0 * two1023;
        return y * twopk;
    }
    return y * twopk * twom1000;
}

double dt_js_round(double x)
{
    double r = ceil(x);
    return r - 0.5 > x ? r - 1.0 : r;
}

double dt_js_max(double a, double b)
{
    if (isnan(a) || isnan(b)) return NAN;
    return a > b ? a : b;
}

double dt_js_min(double a, double b)
{
    if (isnan(a) || isnan(b)) return NAN;
    return a < b ? a : b;
}

double dt_js_sigmoid(double x)
{
    return 1.0 / (1.0 + dt_js_exp(-x));
}
