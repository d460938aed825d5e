/* net.c — building a network from a model file, its buffers, and the
 * forward, loss and backward passes over its layers. */
#include "nn/net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dt_loss_names[] = {"auto", "bce", "softmax_ce", NULL};

#define ALIGN_REALS (64 / sizeof(dt_real)) /* each tensor starts on a cache line */

static int64_t align_up(int64_t n) { return (n + ALIGN_REALS - 1) / ALIGN_REALS * ALIGN_REALS; }

/* Every layer's y, dy and scratch share one allocation. Under
 * AddressSanitizer a poisoned gap follows each of them, so that a layer
 * running past its own buffer into a neighbour's is reported, as it would
 * be with separate allocations. REDZONE is in reals; 0 elsewhere. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
enum { REDZONE = 64 };
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (size_t)(n) * sizeof(dt_real))
#else
enum { REDZONE = 0 };
#define POISON(p, n) ((void)(p), (void)(n))
#endif

/* Reals that layer l takes in `buffers` at n rows: y and dy of *o each,
 * then scratch of *sc, each ending in its gap. */
static int64_t layer_span(const dt_layer *l, int64_t n, int64_t *o, int64_t *sc)
{
    *o = align_up(n * dt_shape_size(l->out)) + REDZONE;
    *sc = align_up(n * l->scratch_len + l->scratch_fixed) + REDZONE;
    return 2 * *o + *sc;
}

static dt_status read_input(dt_ini *m, dt_shape *in)
{
    long v[3];
    int n;
    if (!dt_ini_has_section(m, "input"))
        return dt_error(DT_ERR_CONFIG, "%s: missing [input] section (shape = features, or C,H,W)",
                        dt_ini_name(m));
    DT_TRY(dt_ini_ints(m, "input", "shape", 1, v, 3, &n));
    for (int i = 0; i < n; i++)
        if (v[i] < 1 || v[i] > (1L << 24))
            return dt_error(DT_ERR_CONFIG, "%s: [input] shape: expected positive sizes",
                            dt_ini_where(m, "input", "shape"));
    *in = n == 3 ? (dt_shape){(int)v[0], (int)v[1], (int)v[2]}
        : n == 2 ? (dt_shape){1, (int)v[0], (int)v[1]}
                 : (dt_shape){(int)v[0], 1, 1};
    return DT_OK;
}

/* The layer named `name` among the first k, or -1 for "input"; -2 if none. */
static int find_layer(const dt_net *net, int k, const char *name)
{
    if (!strcmp(name, "input")) return -1;
    for (int i = 0; i < k; i++)
        if (!strcmp(net->layers[i].name, name)) return i;
    return -2;
}

/* `inputs = a, b` names earlier layers; without it a layer reads the one before. */
static dt_status wire_inputs(dt_net *net, dt_ini *m, const char *sec, dt_layer *l, int k)
{
    int want = l->ops->ninputs;
    if (!dt_ini_has(m, sec, "inputs")) {
        if (want != 1)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] missing required key 'inputs' (%d earlier layer names)",
                            dt_ini_name(m), sec, want);
        l->inputs[0] = k - 1;
        return DT_OK;
    }
    const char *v;
    DT_TRY(dt_ini_str(m, sec, "inputs", NULL, &v));
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", v) >= (int)sizeof buf)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] inputs: value too long", dt_ini_where(m, sec, "inputs"), sec);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        char *e = t + strlen(t);
        while (e > t && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        int idx = find_layer(net, k, t);
        if (idx == -2)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] inputs: '%s' is not an earlier layer (inputs must name layers above this one, or 'input')",
                            dt_ini_where(m, sec, "inputs"), sec, t);
        if (n < DT_MAX_INPUTS) l->inputs[n] = idx;
        n++; /* keep counting: too many names is an error below */
    }
    if (n != want)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] inputs = '%s': expected %d layer name%s", dt_ini_where(m, sec, "inputs"),
                        sec, v, want, want > 1 ? "s" : "");
    return DT_OK;
}

static dt_shape out_of(const dt_net *net, int idx) { return idx < 0 ? net->in : net->layers[idx].out; }

static dt_status configure_layers(dt_net *net, dt_ini *m)
{
    int ns = dt_ini_nsections(m), k = 0;
    net->layers = dt_alloc((size_t)ns * sizeof *net->layers);
    if (!net->layers) return dt_error(DT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < ns; i++) {
        const char *sec = dt_ini_section(m, i), *type;
        if (!strcmp(sec, "input")) continue;
        if (!dt_ini_has(m, sec, "type"))
            return dt_error(DT_ERR_CONFIG, "%s:%d: [%s] missing required key 'type'", dt_ini_name(m),
                            dt_ini_section_line(m, i), sec);
        DT_TRY(dt_ini_str(m, sec, "type", NULL, &type));
        const dt_layer_ops *ops = dt_layer_find(type);
        if (!ops)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] type = '%s': unknown layer type (expected one of %s)",
                            dt_ini_where(m, sec, "type"), sec, type, dt_layer_type_list());
        dt_layer *l = &net->layers[k];
        snprintf(l->name, sizeof l->name, "%s", sec);
        l->ops = ops;
        l->index = k;
        l->inputs[1] = -1;
        DT_TRY(wire_inputs(net, m, sec, l, k));
        l->in = out_of(net, l->inputs[0]);
        l->in2 = ops->ninputs > 1 ? out_of(net, l->inputs[1]) : l->in;
        net->nlayers = ++k;
        DT_TRY(ops->configure(l, m, sec));
        DT_TRY(dt_ini_check_unused_section(m, sec));
    }
    if (net->nlayers == 0) return dt_error(DT_ERR_CONFIG, "%s: the model has no layers", dt_ini_name(m));
    return dt_ini_check_unused(m);
}

/* Who writes and who adds into each gradient buffer: backward runs in
 * reverse, so the last consumer of an output writes and earlier ones add. */
static dt_status plan_gradients(dt_net *net, dt_ini *m)
{
    int *seen = calloc((size_t)net->nlayers + 1, sizeof *seen); /* [0] is the network input */
    if (!seen) return dt_error(DT_ERR_NOMEM, "out of memory");
    for (int i = net->nlayers - 1; i >= 0; i--) {
        dt_layer *l = &net->layers[i];
        if (i < net->nlayers - 1 && !seen[i + 1]) {
            free(seen);
            return dt_error(DT_ERR_CONFIG, "%s: [%s] the output of this layer is not used by any later layer (check the inputs keys)",
                            dt_ini_name(m), l->name);
        }
        for (int k = 0; k < l->ops->ninputs; k++) {
            int src = l->inputs[k];
            l->x[k] = src < 0 ? NULL : net->layers[src].y;
            l->dx[k] = src < 0 ? NULL : net->layers[src].dy;
            l->dx_accum[k] = seen[src + 1]++ > 0;
        }
    }
    free(seen);
    return DT_OK;
}

static dt_status choose_loss(dt_net *net, dt_ini *m, dt_loss loss)
{
    dt_layer *last = &net->layers[net->nlayers - 1];
    int64_t out = dt_shape_size(last->out);
    if (loss == DT_LOSS_AUTO)
        loss = last->act == DT_ACT_SIGMOID ? DT_LOSS_BCE
             : last->act == DT_ACT_SOFTMAX ? DT_LOSS_SOFTMAX_CE
                                           : DT_LOSS_AUTO;
    if (loss == DT_LOSS_BCE && (last->act != DT_ACT_SIGMOID || out != 1))
        return dt_error(DT_ERR_CONFIG, "%s: [%s] binary cross-entropy needs one output unit with activation = sigmoid",
                        dt_ini_name(m), last->name);
    if (loss == DT_LOSS_SOFTMAX_CE && (last->act != DT_ACT_SOFTMAX || out < 2))
        return dt_error(DT_ERR_CONFIG, "%s: [%s] softmax cross-entropy needs two or more output units with activation = softmax",
                        dt_ini_name(m), last->name);
    if (loss == DT_LOSS_AUTO)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] the output layer must end in activation = sigmoid (binary) or softmax (classes)",
                        dt_ini_name(m), last->name);
    net->loss = loss;
    net->nclasses = loss == DT_LOSS_BCE ? 2 : (int)out;
    last->fused_output = 1;
    return DT_OK;
}

static dt_status allocate(dt_net *net, dt_ini *m)
{
    int64_t np = 0, nbuf = 0, nb = 0, n = net->maxn, count = 0;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        for (int j = 0; j < l->nparams; j++) {
            if (l->params[j].buffer) {
                nbuf += align_up(l->params[j].size);
                continue;
            }
            np += align_up(l->params[j].size);
            count += l->params[j].size;
        }
        int64_t o, sc;
        nb += layer_span(l, n, &o, &sc);
        net->nstats += l->nstats;
    }
    net->nparams = np;
    net->ncount = count;
    net->nbufs = nbuf;
    net->row_reals = nb / n;
    net->params = dt_alloc((size_t)np * sizeof(dt_real));
    net->grads = dt_alloc((size_t)(np + net->nstats + 1) * sizeof(dt_real));
    net->bufs = dt_alloc((size_t)nbuf * sizeof(dt_real));
    net->buffers = dt_alloc((size_t)nb * sizeof(dt_real));
    if (!net->params || !net->grads || !net->bufs || !net->buffers)
        return dt_error(DT_ERR_NOMEM, "out of memory for the network (%lld parameters, %lld rows)",
                        (long long)count, (long long)n);
    dt_real *w = net->params, *g = net->grads, *u = net->bufs, *b = net->buffers, *st = net->grads + np;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        l->goff = g - net->grads;
        l->stats = l->nstats ? st : NULL;
        st += l->nstats;
        for (int j = 0; j < l->nparams; j++) {
            dt_param *p = &l->params[j];
            if (p->buffer) {
                p->w = u;
                p->g = NULL;
                u += align_up(p->size);
                continue;
            }
            p->w = w;
            p->g = g;
            w += align_up(p->size);
            g += align_up(p->size);
        }
        int64_t o, sc, span = layer_span(l, n, &o, &sc);
        int64_t ny = n * dt_shape_size(l->out), ns = n * l->scratch_len + l->scratch_fixed;
        l->y = b;
        l->dy = b + o;
        l->scratch = b + 2 * o;
        /* from the exact end of each: the alignment padding is no one's either */
        POISON(l->y + ny, o - ny);
        POISON(l->dy + ny, o - ny);
        POISON(l->scratch + ns, sc - ns);
        b += span;
    }
    return plan_gradients(net, m);
}

dt_status dt_net_build(dt_ini *model, int64_t maxn, dt_loss loss, dt_net **out)
{
    *out = NULL;
    dt_net *net = dt_alloc(sizeof *net);
    if (!net) return dt_error(DT_ERR_NOMEM, "out of memory");
    net->maxn = maxn > 0 ? maxn : 1;
    dt_status s = read_input(model, &net->in);
    if (!s) s = configure_layers(net, model);
    if (!s) s = choose_loss(net, model, loss);
    if (!s) s = allocate(net, model);
    if (s) {
        dt_net_free(net);
        return s;
    }
    *out = net;
    return DT_OK;
}

void dt_net_free(dt_net *net)
{
    if (!net) return;
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].ops->destroy) net->layers[i].ops->destroy(&net->layers[i]);
    dt_free(net->layers);
    dt_free(net->params);
    if (!net->grads_borrowed) dt_free(net->grads);
    dt_free(net->bufs);
    dt_free(net->buffers);
    dt_free(net);
}

dt_status dt_net_init(dt_net *net, uint32_t seed)
{
    dt_rng rng;
    dt_rng_seed(&rng, seed);
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].ops->init) DT_TRY(net->layers[i].ops->init(&net->layers[i], &rng));
    return DT_OK;
}

const dt_real *dt_net_forward(dt_net *net, const dt_real *x, const dt_pass *p)
{
    DT_ASSERT(p->n <= net->maxn);
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        for (int k = 0; k < l->ops->ninputs; k++)
            if (l->inputs[k] < 0) l->x[k] = x;
        l->ops->forward(l, p);
    }
    return net->layers[net->nlayers - 1].y;
}

void dt_net_backward(dt_net *net, const dt_real *x, dt_real *dx, const dt_pass *p)
{
    for (int i = net->nlayers - 1; i >= 0; i--) {
        dt_layer *l = &net->layers[i];
        for (int k = 0; k < l->ops->ninputs; k++)
            if (l->inputs[k] < 0) {
                l->x[k] = x;
                l->dx[k] = dx; /* NULL: nobody wants the input gradient, skip it */
            }
        l->ops->backward(l, p);
        if (p->grads_ready) p->grads_ready(p->ctx, l->goff);
    }
}

void dt_net_set_grads(dt_net *net, dt_real *buf)
{
    if (buf == net->grads) return;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        for (int j = 0; j < l->nparams; j++)
            if (l->params[j].g) l->params[j].g = buf + (l->params[j].g - net->grads);
        if (l->stats) l->stats = buf + (l->stats - net->grads);
    }
    if (!net->grads_borrowed) dt_free(net->grads);
    net->grads = buf;
    net->grads_borrowed = 1;
}

void dt_net_zero_grads(dt_net *net) { memset(net->grads, 0, (size_t)(net->nparams + net->nstats) * sizeof(dt_real)); }

void dt_net_commit_stats(dt_net *net)
{
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].nstats && net->layers[i].ops->commit) net->layers[i].ops->commit(&net->layers[i]);
}

double dt_net_l2(dt_net *net, double lambda, double m, int add_grad)
{
    double sum = 0;
    dt_real k = (dt_real)(lambda / m);
    for (int i = 0; i < net->nlayers; i++)
        for (int j = 0; j < net->layers[i].nparams; j++) {
            dt_param *pr = &net->layers[i].params[j];
            if (!pr->decay || pr->buffer) continue;
            double s = 0;
            for (int64_t t = 0; t < pr->size; t++) s += (double)pr->w[t] * pr->w[t];
            sum += s;
            if (add_grad)
                for (int64_t t = 0; t < pr->size; t++) pr->g[t] += k * pr->w[t];
        }
    return lambda / (2 * m) * sum;
}

void dt_net_loss(dt_net *net, const int32_t *y, int64_t n, dt_real grad_scale, double *loss_sum,
                 int64_t *correct)
{
    dt_layer *last = &net->layers[net->nlayers - 1];
    const dt_real *a = last->y, *z = last->z;
    double ls = 0;
    int64_t ok = 0;
    if (net->loss == DT_LOSS_BCE) {
        for (int64_t r = 0; r < n; r++) {
            double zz = z[r], t = y[r];
            /* -(t log σ(z) + (1-t) log(1-σ(z))), written so it never overflows */
            ls += (zz > 0 ? zz : 0) - zz * t + log1p(exp(-fabs(zz)));
            ok += (a[r] > (dt_real)0.5) == (y[r] == 1);
            if (grad_scale != 0) last->dy[r] = (a[r] - (dt_real)t) * grad_scale;
        }
    } else {
        int64_t k = net->nclasses;
        for (int64_t r = 0; r < n; r++) {
            const dt_real *zr = z + r * k, *ar = a + r * k;
            double mx = zr[0], s = 0;
            int64_t best = 0;
            for (int64_t j = 1; j < k; j++) {
                if (zr[j] > mx) mx = zr[j];
                if (ar[j] > ar[best]) best = j;
            }
            for (int64_t j = 0; j < k; j++) s += exp(zr[j] - mx);
            ls += log(s) + mx - zr[y[r]];
            ok += best == y[r];
            if (grad_scale != 0)
                for (int64_t j = 0; j < k; j++)
                    last->dy[r * k + j] = (ar[j] - (j == y[r] ? (dt_real)1 : 0)) * grad_scale;
        }
    }
    *loss_sum += ls;
    *correct += ok;
}

void dt_net_predict(const dt_net *net, int64_t n, int32_t *cls, dt_real *prob)
{
    const dt_layer *last = &net->layers[net->nlayers - 1];
    const dt_real *a = last->y;
    for (int64_t r = 0; r < n; r++) {
        if (net->loss == DT_LOSS_BCE) {
            cls[r] = a[r] > (dt_real)0.5;
            if (prob) prob[r] = cls[r] ? a[r] : 1 - a[r];
            continue;
        }
        int64_t best = 0, k = net->nclasses;
        for (int64_t j = 1; j < k; j++)
            if (a[r * k + j] > a[r * k + best]) best = j;
        cls[r] = (int32_t)best;
        if (prob) prob[r] = a[r * k + best];
    }
}
