/* jsmath.h — the few JavaScript Math functions face-api's arithmetic runs
 * through, bit for bit as Node's V8 computes them, so that scores and boxes
 * compare equal to face-api's and not merely close: glibc's exp differs from
 * V8's Math.exp in the last bit for about one argument in ten. */
#ifndef DT_JSMATH_H
#define DT_JSMATH_H

/* V8's Math.exp (fdlibm's e_exp.c as V8 ships it, with exp(1) = E). */
double dt_js_exp(double x);
/* Math.round: halves go up (-2.5 → -2), as ceil-then-correct in V8. */
double dt_js_round(double x);
/* Math.max / Math.min of two: NaN if either is NaN (fmax/fmin ignore it). */
double dt_js_max(double a, double b);
double dt_js_min(double a, double b);
/* face-api's sigmoid: 1 / (1 + Math.exp(-x)). */
double dt_js_sigmoid(double x);

#endif
