/* sweep_spec.c — parameter specs, their sampling, and successive halving. */
#include "train/sweep_spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

static const char *const kinds[] = {"log", "1-log", "uniform", "int", "choice"};

static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end && isfinite(*v);
}

dt_status dt_spec_parse(const char *text, dt_param_spec *out)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(text, '='), *colon = eq ? strchr(eq + 1, ':') : NULL;
    if (!eq || eq == text || !colon)
        return dt_error(DT_ERR_ARG, "--param '%s': expected KEY=KIND:ARGS (log, 1-log, uniform, int or choice)", text);
    if ((size_t)(eq - text) >= sizeof out->key || !memchr(text, '.', (size_t)(eq - text)))
        return dt_error(DT_ERR_ARG, "--param '%s': the key must be section.key or model.layer.key", text);
    memcpy(out->key, text, (size_t)(eq - text));
    int k = -1;
    for (int i = 0; i < 5; i++)
        if ((size_t)(colon - eq - 1) == strlen(kinds[i]) && !strncmp(eq + 1, kinds[i], strlen(kinds[i]))) k = i;
    if (k < 0)
        return dt_error(DT_ERR_ARG, "--param '%s': unknown kind '%.*s' (expected log, 1-log, uniform, int or choice)", text,
                        (int)(colon - eq - 1), eq + 1);
    out->kind = (dt_spec_kind)k;
    const char *args = colon + 1;
    if (out->kind == DT_SPEC_CHOICE) {
        const char *p = args;
        for (;;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (!len || len >= sizeof out->choices[0] || out->nchoices == DT_SPEC_MAX_CHOICES)
                return dt_error(DT_ERR_ARG, "--param '%s': expected choice:A,B,... (up to %d values, none empty)", text,
                                DT_SPEC_MAX_CHOICES);
            memcpy(out->choices[out->nchoices++], p, len);
            if (!c) break;
            p = c + 1;
        }
        return DT_OK;
    }
    char a[64], b[64];
    const char *c = strchr(args, ':');
    if (!c || (size_t)(c - args) >= sizeof a || strlen(c + 1) >= sizeof b)
        return dt_error(DT_ERR_ARG, "--param '%s': expected %s:A:B", text, kinds[k]);
    memcpy(a, args, (size_t)(c - args));
    a[c - args] = 0;
    strcpy(b, c + 1);
    if (!number(a, &out->lo) || !number(b, &out->hi) || out->lo > out->hi)
        return dt_error(DT_ERR_ARG, "--param '%s': expected %s:A:B with numbers A <= B", text, kinds[k]);
    if (out->kind == DT_SPEC_LOG && out->lo <= 0)
        return dt_error(DT_ERR_ARG, "--param '%s': a log scale needs A > 0", text);
    if (out->kind == DT_SPEC_ONE_MINUS_LOG && out->hi >= 1)
        return dt_error(DT_ERR_ARG, "--param '%s': 1-log needs B < 1 (it samples 1 - value on a log scale)", text);
    if (out->kind == DT_SPEC_INT && (out->lo != floor(out->lo) || out->hi != floor(out->hi)))
        return dt_error(DT_ERR_ARG, "--param '%s': int needs whole numbers A and B", text);
    return DT_OK;
}

void dt_spec_value(const dt_param_spec *p, double u, char *text, size_t n, double *x)
{
    double v = 0;
    switch (p->kind) {
    case DT_SPEC_LOG:
        v = exp(log(p->lo) + u * (log(p->hi) - log(p->lo)));
        break;
    case DT_SPEC_ONE_MINUS_LOG: /* 1 - v is log-uniform in [1 - hi, 1 - lo] */
        v = 1 - exp(log(1 - p->hi) + u * (log(1 - p->lo) - log(1 - p->hi)));
        break;
    case DT_SPEC_UNIFORM:
        v = p->lo + u * (p->hi - p->lo);
        break;
    case DT_SPEC_INT:
        v = fmin(p->lo + floor(u * (p->hi - p->lo + 1)), p->hi);
        snprintf(text, n, "%.0f", v);
        *x = v;
        return;
    case DT_SPEC_CHOICE: {
        int i = (int)floor(u * p->nchoices);
        if (i >= p->nchoices) i = p->nchoices - 1;
        snprintf(text, n, "%s", p->choices[i]);
        *x = i;
        return;
    }
    }
    snprintf(text, n, "%.6g", v);
    *x = strtod(text, NULL); /* the value the trial runs with */
    if (*x < p->lo || *x > p->hi) { /* rounded out of the range (1-log near 1): more digits */
        snprintf(text, n, "%.17g", v);
        *x = strtod(text, NULL);
    }
}

void dt_spec_draws(uint32_t seed, int64_t ntrials, int np, double *u)
{
    dt_rng r;
    dt_rng_seed(&r, seed);
    for (int64_t i = 0; i < ntrials * np; i++) u[i] = dt_rng_double(&r);
}

int dt_spec_is_log(const dt_param_spec *p) { return p->kind == DT_SPEC_LOG || p->kind == DT_SPEC_ONE_MINUS_LOG; }

int dt_rungs(int64_t first, double eta, int64_t epochs, int64_t *rung, int max)
{
    int n = 0;
    for (double e = (double)first; n < max && first > 0 && eta > 1; e *= eta) {
        int64_t r = (int64_t)llround(e);
        if (r >= epochs) break;
        if (n && r <= rung[n - 1]) continue;
        rung[n++] = r;
    }
    return n;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int dt_asha_continue(const double *recorded, int n, double mine, double eta)
{
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return 1; /* cannot judge: let it run */
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(recorded[i])) v[m++] = recorded[i];
    if (m == 0) {
        free(v);
        return 1;
    }
    qsort(v, (size_t)m, sizeof *v, by_value);
    double pos = (1 - 1 / eta) * (m - 1), lo = floor(pos);
    int i = (int)lo;
    double cut = i + 1 < m ? v[i] + (pos - lo) * (v[i + 1] - v[i]) : v[i];
    free(v);
    return mine >= cut;
}
