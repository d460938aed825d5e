/* net.c — building a network from a model file, its buffers, and the
 * forward, loss and backward passes over its layers. */
#include "nn/net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* `inputs = a, b` names earlier layers (k of them so far) into in[want];
 * without it a section reads the layer before. */
static dt_status wire_inputs(dt_net *net, dt_ini *m, const char *sec, int want, int *in, int k)
{
    if (!dt_ini_has(m, sec, "inputs")) {
        if (want != 1)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] missing required key 'inputs' (%d earlier layer names)",
                            dt_ini_name(m), sec, want);
        in[0] = k - 1;
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
        if (n < want) in[n] = idx;
        n++; /* keep counting: too many names is an error below */
    }
    if (n != want)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] inputs = '%s': expected %d layer name%s", dt_ini_where(m, sec, "inputs"),
                        sec, v, want, want > 1 ? "s" : "");
    return DT_OK;
}

static dt_shape out_of(const dt_net *net, int idx) { return idx < 0 ? net->in : net->layers[idx].out; }

/* A loss section: the layer it reads and its weight; its type checks the rest. */
static dt_status configure_loss(dt_net *net, dt_ini *m, const char *sec, const dt_loss_ops *ops, int k)
{
    dt_loss_term *t = &net->losses[net->nlosses];
    int in = -1;
    snprintf(t->name, sizeof t->name, "%s", sec);
    t->ops = ops;
    DT_TRY(wire_inputs(net, m, sec, 1, &in, k));
    if (in < 0)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] a loss reads a layer, not the network's input (inputs = a layer name)",
                        dt_ini_name(m), sec);
    DT_TRY(dt_ini_real(m, sec, "weight", 0, 1.0, 0, 1e12, &t->weight));
    t->input = in;
    t->src = &net->layers[in];
    t->size = dt_shape_size(t->src->out);
    t->tlen = t->size;
    t->maxn = net->maxn;
    net->nlosses++;
    DT_TRY(ops->configure(t, m, sec));
    if (ops->ref_size) {
        size_t bytes = (size_t)ops->ref_size(t) * sizeof(dt_real);
        t->ref = dt_alloc(bytes);
        t->work = dt_alloc(bytes);
        if (!t->ref || !t->work) return dt_error(DT_ERR_NOMEM, "out of memory for [%s]'s reference", sec);
        memset(t->ref, 0, bytes);
    }
    return dt_ini_check_unused_section(m, sec);
}

static dt_status configure_layer(dt_net *net, dt_ini *m, const char *sec, const dt_layer_ops *ops, int k)
{
    dt_layer *l = &net->layers[k];
    long trainable;
    snprintf(l->name, sizeof l->name, "%s", sec);
    l->ops = ops;
    l->index = k;
    l->inputs[1] = -1;
    DT_TRY(wire_inputs(net, m, sec, ops->ninputs, l->inputs, k));
    l->in = out_of(net, l->inputs[0]);
    l->in2 = ops->ninputs > 1 ? out_of(net, l->inputs[1]) : l->in;
    net->nlayers = k + 1;
    DT_TRY(dt_ini_int(m, sec, "trainable", 0, 1, 0, 1, &trainable));
    l->frozen = !trainable;
    DT_TRY(ops->configure(l, m, sec));
    return dt_ini_check_unused_section(m, sec);
}

int dt_net_side_section(const char *sec)
{
    static const char *const side[] = {"preprocess", "yolo", "tfjs"};
    for (size_t i = 0; i < sizeof side / sizeof *side; i++)
        if (!strcmp(sec, side[i])) return 1;
    return 0;
}

static dt_status configure_sections(dt_net *net, dt_ini *m)
{
    int ns = dt_ini_nsections(m), k = 0;
    net->layers = dt_alloc((size_t)ns * sizeof *net->layers);
    net->losses = dt_alloc((size_t)(ns + 1) * sizeof *net->losses); /* + the implicit one */
    net->loss_names = dt_alloc((size_t)(ns + 1) * sizeof *net->loss_names);
    net->writers = dt_alloc((size_t)(ns + 1) * sizeof *net->writers);
    if (!net->layers || !net->losses || !net->loss_names || !net->writers) return dt_error(DT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < ns; i++) {
        const char *sec = dt_ini_section(m, i), *type;
        if (!strcmp(sec, "input")) continue;
        if (dt_net_side_section(sec)) continue; /* read, and checked, by the commands that use them */
        if (!dt_ini_has(m, sec, "type"))
            return dt_error(DT_ERR_CONFIG, "%s:%d: [%s] missing required key 'type'", dt_ini_name(m),
                            dt_ini_section_line(m, i), sec);
        DT_TRY(dt_ini_str(m, sec, "type", NULL, &type));
        const dt_layer_ops *ops = dt_layer_find(type);
        const dt_loss_ops *lops = ops ? NULL : dt_loss_find(type);
        if (!ops && !lops)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] type = '%s': unknown layer type (expected a layer: %s; or a loss: %s)",
                            dt_ini_where(m, sec, "type"), sec, type, dt_layer_type_list(), dt_loss_type_list());
        if (lops && k == 0)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] a loss must follow the layer it reads", dt_ini_where(m, sec, "type"), sec);
        if (ops) DT_TRY(configure_layer(net, m, sec, ops, k++));
        else DT_TRY(configure_loss(net, m, sec, lops, k));
    }
    if (net->nlayers == 0) return dt_error(DT_ERR_CONFIG, "%s: the model has no layers", dt_ini_name(m));
    for (int i = 0; i < ns; i++)
        if (!dt_net_side_section(dt_ini_section(m, i))) DT_TRY(dt_ini_check_unused_section(m, dt_ini_section(m, i)));
    return DT_OK;
}

/* The older spelling: no loss sections, and a sigmoid or softmax output
 * layer (or [model] loss naming one) gets its cross-entropy, named "loss". */
static dt_status implicit_loss(dt_net *net, dt_ini *m, dt_loss loss)
{
    dt_layer *last = &net->layers[net->nlayers - 1];
    int64_t out = dt_shape_size(last->out);
    if (net->nlosses > 0) {
        if (loss != DT_LOSS_AUTO)
            return dt_error(DT_ERR_CONFIG, "%s: the model has loss sections; [model] loss = %s applies only to models without them",
                            dt_ini_name(m), dt_loss_names[loss]);
        return DT_OK;
    }
    if (loss == DT_LOSS_AUTO)
        loss = last->act == DT_ACT_SIGMOID ? DT_LOSS_BCE
             : last->act == DT_ACT_SOFTMAX ? DT_LOSS_SOFTMAX_CE
                                           : DT_LOSS_AUTO;
    if (loss == DT_LOSS_AUTO) return DT_OK; /* headless */
    if (loss == DT_LOSS_BCE && (last->act != DT_ACT_SIGMOID || out != 1))
        return dt_error(DT_ERR_CONFIG, "%s: [%s] binary cross-entropy needs one output unit with activation = sigmoid",
                        dt_ini_name(m), last->name);
    if (loss == DT_LOSS_SOFTMAX_CE && (last->act != DT_ACT_SOFTMAX || out < 2))
        return dt_error(DT_ERR_CONFIG, "%s: [%s] softmax cross-entropy needs two or more output units with activation = softmax",
                        dt_ini_name(m), last->name);
    net->implicit_loss = 1;
    dt_loss_term *t = &net->losses[net->nlosses++];
    *t = (dt_loss_term){.name = "loss", .ops = dt_loss_find(loss == DT_LOSS_BCE ? "bce" : "softmax_ce"),
                        .input = net->nlayers - 1, .src = last, .weight = 1, .size = out};
    return t->ops->configure(t, m, last->name);
}

/* The classifier (first label loss) and the one kind of target the losses share. */
static dt_status losses_targets(dt_net *net, dt_ini *m)
{
    net->classifier = -1;
    for (int j = 0; j < net->nlosses; j++) {
        dt_loss_term *t = &net->losses[j];
        net->loss_names[j] = t->name;
        dt_target_kind k = t->ops->target;
        if (k == DT_TARGET_LABEL && net->classifier < 0 && t->ops->predict) { /* a triplet loss reads labels, classifies nothing */
            net->classifier = j;
            net->nclasses = t->nclasses;
        }
        if (k == DT_TARGET_NONE) continue;
        if (net->target != DT_TARGET_NONE && net->target != k)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] reads %s targets, but another loss reads %s ones: a data set gives one kind",
                            dt_ini_name(m), t->name, dt_target_names[k], dt_target_names[net->target]);
        if (k == DT_TARGET_DENSE && net->target_len && net->target_len != t->tlen)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] reads %lld values per row, but another loss reads %lld of the same target",
                            dt_ini_name(m), t->name, (long long)t->tlen, (long long)net->target_len);
        net->target = k;
        if (k == DT_TARGET_DENSE) net->target_len = t->tlen;
    }
    return DT_OK;
}

/* Every layer's output is read by a later layer or a loss, except the last
 * layer's (the network's output); a fused loss is its layer's only reader. */
static dt_status check_wiring(dt_net *net, dt_ini *m)
{
    int *readers = net->writers; /* scratch: readers of [1 + layer] */
    memset(readers, 0, (size_t)(net->nlayers + 1) * sizeof *readers);
    for (int i = 0; i < net->nlayers; i++)
        for (int k = 0; k < net->layers[i].ops->ninputs; k++) readers[net->layers[i].inputs[k] + 1]++;
    for (int j = 0; j < net->nlosses; j++) readers[net->losses[j].input + 1]++;
    for (int i = 0; i < net->nlayers - 1; i++)
        if (!readers[i + 1])
            return dt_error(DT_ERR_CONFIG, "%s: [%s] the output of this layer is not used by any later layer or loss (check the inputs keys)",
                            dt_ini_name(m), net->layers[i].name);
    for (int j = 0; j < net->nlosses; j++) {
        dt_loss_term *t = &net->losses[j];
        if (!t->fused) continue;
        if (readers[t->input + 1] > 1)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] %s fuses with the %s of '%s', which another layer or loss also reads: "
                                           "read logits (activation = linear) instead",
                            dt_ini_name(m), t->name, t->ops->type, dt_act_names[t->src->act], t->src->name);
        t->src->fused_output = 1;
    }
    return DT_OK;
}

/* Which layers backward runs, and who writes or adds each gradient buffer.
 * A layer runs when a loss's gradient reaches its output and something at
 * or before it wants a gradient (trained parameters, or the input when
 * input_grad). Losses write first, before backward, then layers last to
 * first: the first writer of a buffer writes, later ones add. */
static void plan_backward(dt_net *net)
{
    int L = net->nlayers, *writers = net->writers; /* [0] is the network's input */
    memset(writers, 0, (size_t)(L + 1) * sizeof *writers);
    for (int i = 0; i < L; i++) { /* first pass: whether anything at or before i wants a gradient */
        dt_layer *l = &net->layers[i];
        int w = 0;
        for (int j = 0; j < l->nparams; j++) w |= !l->frozen && !l->params[j].buffer;
        for (int k = 0; k < l->ops->ninputs; k++)
            w |= l->inputs[k] < 0 ? net->input_grad : net->layers[l->inputs[k]].runs_backward;
        l->runs_backward = w;
    }
    for (int j = 0; j < net->nlosses; j++) net->losses[j].dy_accum = writers[net->losses[j].input + 1]++ > 0;
    for (int i = L - 1; i >= 0; i--) {
        dt_layer *l = &net->layers[i];
        l->runs_backward = l->runs_backward && writers[i + 1] > 0;
        for (int k = 0; k < l->ops->ninputs; k++) {
            int src = l->inputs[k];
            int wanted = l->runs_backward && (src < 0 ? net->input_grad : net->layers[src].runs_backward);
            l->x[k] = src < 0 ? NULL : net->layers[src].y;
            l->dx[k] = wanted && src >= 0 ? net->layers[src].dy : NULL;
            l->dx_accum[k] = wanted && writers[src + 1]++ > 0;
        }
    }
}

/* Parameters: trained ones first, in layer order, then frozen ones, so the
 * gradients, the reduction and the optimizer cover one prefix [0, ntrain).
 * Buffers (running statistics) in their own array. */
static void place_params(dt_net *net)
{
    dt_real *w = net->params, *g = net->grads, *u = net->bufs, *st = net->grads + net->ntrain;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < net->nlayers; i++) {
            dt_layer *l = &net->layers[i];
            if (l->frozen != pass) continue;
            for (int j = 0; j < l->nparams; j++) {
                dt_param *p = &l->params[j];
                dt_real **at = p->buffer ? &u : &w;
                p->w = *at;
                *at += align_up(p->size);
                p->g = p->buffer || l->frozen ? NULL : g;
                if (p->g) g += align_up(p->size);
            }
        }
    /* backward finishes layers last to first: after layer i every gradient
     * from the start of i's (or, frozen, the next trained layer's) is final */
    int64_t next = net->ntrain;
    for (int i = net->nlayers - 1; i >= 0; i--) {
        dt_layer *l = &net->layers[i];
        for (int j = 0; j < l->nparams; j++)
            if (l->params[j].g && l->params[j].g - net->grads < next) next = l->params[j].g - net->grads;
        l->goff = next;
    }
    for (int i = 0; i < net->nlayers; i++) {
        net->layers[i].stats = net->layers[i].nstats ? st : NULL;
        st += net->layers[i].nstats;
    }
}

/* Readers of each layer's output into readers[1 + layer] ([0]: the input). */
static void count_readers(dt_net *net, int *readers)
{
    memset(readers, 0, (size_t)(net->nlayers + 1) * sizeof *readers);
    for (int i = 0; i < net->nlayers; i++)
        for (int k = 0; k < net->layers[i].ops->ninputs; k++) readers[net->layers[i].inputs[k] + 1]++;
    for (int j = 0; j < net->nlosses; j++) readers[net->losses[j].input + 1]++;
}

/* Point every layer at its y, dy and scratch in `buffers`; a folded
 * activation at its input layer's y and dy (its own stay unused). */
static void assign_buffers(dt_net *net)
{
    dt_real *b = net->buffers;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        int64_t o, sc, span = layer_span(l, net->maxn, &o, &sc);
        l->y = b;
        l->dy = b + o;
        l->scratch = b + 2 * o;
        b += span;
        if (l->folded) {
            l->y = net->layers[l->inputs[0]].y;
            l->dy = net->layers[l->inputs[0]].dy;
        }
    }
}

static int g_folding = 1;
void dt_net_set_folding(int on) { g_folding = on; }

/* A relu or leaky relu layer whose input is read by it alone, and comes from
 * a layer that can apply it (folds_act) and has none, is folded into that
 * layer: one pass over the activations fewer each way, and batch norm, say,
 * reads y's sign in the same pass that reads dy. The results are the same. */
static void fold_activations(dt_net *net)
{
    int *readers = net->writers; /* scratch */
    count_readers(net, readers);
    for (int i = 0; g_folding && i < net->nlayers; i++) {
        dt_layer *a = &net->layers[i];
        int src = a->inputs[0];
        if (strcmp(a->ops->type, "activation") || src < 0 || readers[src + 1] != 1 || a->fused_output) continue;
        if (a->act != DT_ACT_RELU && !(a->act == DT_ACT_LEAKY_RELU && a->act_alpha >= 0)) continue;
        dt_layer *b = &net->layers[src];
        if (!b->ops->folds_act || b->act != DT_ACT_LINEAR || b->fused_output) continue;
        a->folded = 1;
        b->act = a->act;
        b->act_alpha = a->act_alpha;
    }
    assign_buffers(net);
    plan_backward(net);
}

void dt_net_unfold(dt_net *net, int idx)
{
    for (int i = idx + 1; i < net->nlayers; i++) {
        dt_layer *a = &net->layers[i];
        if (!a->folded || a->inputs[0] != idx) continue;
        a->folded = 0;
        net->layers[idx].act = DT_ACT_LINEAR;
        net->layers[idx].act_alpha = 0;
        assign_buffers(net);
        plan_backward(net);
        return;
    }
}

/* Scale layers into the convolution before them (see net.h). */
static int fold_scales(dt_net *net, int *readers)
{
    int folded = 0;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *s = &net->layers[i];
        int src = s->inputs[0];
        if (strcmp(s->ops->type, "scale") || s->folded || src < 0 || readers[src + 1] != 1 || s->fused_output) continue;
        if (s->act != DT_ACT_LINEAR && s->act != DT_ACT_RELU && !(s->act == DT_ACT_LEAKY_RELU && s->act_alpha >= 0))
            continue;
        dt_layer *c = &net->layers[src];
        if (strcmp(c->ops->type, "conv2d") || c->nparams != 2 || c->act != DT_ACT_LINEAR || c->fused_output) continue;
        /* z = (W x + b) s + t = (s W) x + (s b + t) */
        dt_param *W = &c->params[0], *b = &c->params[1];
        int64_t F = W->dims[0], per = W->size / F;
        for (int64_t f = 0; f < F; f++) {
            dt_real sf = s->params[0].w[f], tf = s->nparams > 1 ? s->params[1].w[f] : 0;
            for (int64_t k = 0; k < per; k++) W->w[f * per + k] *= sf;
            b->w[f] = b->w[f] * sf + tf;
        }
        s->folded = 1;
        c->act = s->act;
        c->act_alpha = s->act_alpha;
        folded++;
    }
    return folded;
}

/* Residual adds into the convolution that computes one side (see net.h);
 * res_of[c] becomes the other side's layer for such a convolution c. */
static int fold_adds(dt_net *net, const int *readers, int *res_of)
{
    int folded = 0;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *a = &net->layers[i];
        if (strcmp(a->ops->type, "add") || a->folded || a->fused_output) continue;
        if (a->act != DT_ACT_LINEAR && a->act != DT_ACT_RELU && !(a->act == DT_ACT_LEAKY_RELU && a->act_alpha >= 0))
            continue;
        for (int k = 0; k < 2; k++) {
            int side = a->inputs[k], other = a->inputs[1 - k], c = side;
            if (side < 0 || other < 0 || readers[side + 1] != 1) continue;
            if (net->layers[c].folded) c = net->layers[c].inputs[0]; /* a scale folded into its convolution */
            dt_layer *cv = &net->layers[c];
            if (strcmp(cv->ops->type, "conv2d") || cv->act != DT_ACT_LINEAR || cv->fused_output || res_of[c] >= 0 ||
                other >= c) /* the other side must be ready when the convolution runs */
                continue;
            cv->act = a->act;
            cv->act_alpha = a->act_alpha;
            res_of[c] = other;
            a->inputs[0] = side; /* a folded layer's y is its first input's */
            a->inputs[1] = other;
            a->folded = 1;
            folded++;
            break;
        }
    }
    return folded;
}

int dt_net_fold_inference(dt_net *net)
{
    int *readers = net->writers, *res_of = dt_alloc((size_t)net->nlayers * sizeof *res_of);
    if (!res_of) return 0; /* an optimisation only */
    for (int i = 0; i < net->nlayers; i++) res_of[i] = -1;
    count_readers(net, readers);
    int folded = fold_scales(net, readers);
    folded += fold_adds(net, readers, res_of);
    if (folded) {
        assign_buffers(net);
        plan_backward(net); /* wires each layer's inputs to the buffers */
        for (int i = 0; i < net->nlayers; i++)
            net->layers[i].res = res_of[i] >= 0 ? net->layers[res_of[i]].y : NULL;
    }
    dt_free(res_of);
    return folded;
}

static dt_status allocate(dt_net *net)
{
    int64_t nb = 0, n = net->maxn;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        for (int j = 0; j < l->nparams; j++) {
            int64_t sz = align_up(l->params[j].size);
            if (l->params[j].buffer) {
                net->nbufs += sz;
                continue;
            }
            net->nparams += sz;
            if (!l->frozen) net->ntrain += sz;
            net->ncount += l->params[j].size;
            if (l->frozen) net->nfrozen += l->params[j].size;
        }
        int64_t o, sc;
        nb += layer_span(l, n, &o, &sc);
        net->nstats += l->nstats;
    }
    net->row_reals = nb / n;
    if (net->max_params && net->ncount > net->max_params)
        return dt_error(DT_ERR_DATA, "%s: the model has %lld parameters, more than the %lld values its weights hold",
                        net->weights_src, (long long)net->ncount, (long long)net->max_params);
    net->params = dt_alloc((size_t)net->nparams * sizeof(dt_real));
    net->grads = dt_alloc((size_t)(net->ntrain + net->nstats + 1) * sizeof(dt_real));
    net->bufs = dt_alloc((size_t)net->nbufs * sizeof(dt_real));
    net->buffers = dt_alloc((size_t)nb * sizeof(dt_real));
    if (!net->params || !net->grads || !net->bufs || !net->buffers)
        return dt_error(DT_ERR_NOMEM, "out of memory for the network (%lld parameters, %lld rows)",
                        (long long)net->ncount, (long long)n);
    place_params(net);
    dt_real *b = net->buffers;
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        int64_t o, sc, span = layer_span(l, n, &o, &sc);
        int64_t ny = n * dt_shape_size(l->out), ns = n * l->scratch_len + l->scratch_fixed;
        /* from the exact end of each: the alignment padding is no one's either */
        POISON(b + ny, o - ny);
        POISON(b + o + ny, o - ny);
        POISON(b + 2 * o + ns, sc - ns);
        b += span;
    }
    fold_activations(net);
    return DT_OK;
}

dt_status dt_net_build(dt_ini *model, int64_t maxn, dt_loss loss, dt_net **out)
{
    return dt_net_build_within(model, maxn, loss, 0, NULL, out);
}

dt_status dt_net_build_within(dt_ini *model, int64_t maxn, dt_loss loss, int64_t max_params, const char *src,
                              dt_net **out)
{
    *out = NULL;
    dt_net *net = dt_alloc(sizeof *net);
    if (!net) return dt_error(DT_ERR_NOMEM, "out of memory");
    net->maxn = maxn > 0 ? maxn : 1;
    net->max_params = max_params;
    net->weights_src = src ? src : "weights";
    dt_status s = read_input(model, &net->in);
    if (!s) s = configure_sections(net, model);
    if (!s) s = implicit_loss(net, model, loss);
    if (!s) s = losses_targets(net, model);
    if (!s) s = check_wiring(net, model);
    if (!s) s = allocate(net);
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
    for (int j = 0; net->losses && j < net->nlosses; j++) {
        dt_free(net->losses[j].ref);
        dt_free(net->losses[j].work);
        dt_free(net->losses[j].priv);
    }
    dt_free(net->losses);
    dt_free(net->loss_names);
    dt_free(net->writers);
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

int dt_net_find(const dt_net *net, const char *name)
{
    int i = find_layer(net, net->nlayers, name);
    return i >= 0 ? i : -1;
}

void dt_net_time_into(dt_net *net, double *secs) { net->times = secs; }

double dt_layer_flops(const dt_layer *l)
{
    if (l->nparams == 0 || l->params[0].buffer || !strcmp(l->ops->type, "batchnorm")) return 0;
    return 2.0 * (double)l->params[0].size * l->out.h * l->out.w;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

const dt_real *dt_net_forward(dt_net *net, const dt_real *x, const dt_pass *p)
{
    DT_ASSERT(p->n <= net->maxn);
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        for (int k = 0; k < l->ops->ninputs; k++)
            if (l->inputs[k] < 0) l->x[k] = x;
        if (l->folded) continue;
        double t0 = net->times ? seconds() : 0;
        l->ops->forward(l, p);
        if (net->times) net->times[i] += seconds() - t0;
    }
    return net->layers[net->nlayers - 1].y;
}

dt_status dt_net_capture(dt_net *net, const char *loss)
{
    for (int j = 0; j < net->nlosses; j++) {
        dt_loss_term *t = &net->losses[j];
        if (strcmp(t->name, loss)) continue;
        if (!t->ops->capture)
            return dt_error(DT_ERR_ARG, "[%s] is a %s loss: it compares with targets from the data, not a captured reference",
                            loss, t->ops->type);
        t->ops->capture(t);
        return DT_OK;
    }
    return dt_error(DT_ERR_ARG, "the model has no loss named '%s'", loss);
}

void dt_net_loss(dt_net *net, const dt_targets *t, int64_t n, dt_real grad_scale, double *sums, int64_t *correct)
{
    double t0 = net->times ? seconds() : 0;
    for (int j = 0; j < net->nlosses; j++) {
        dt_loss_term *lt = &net->losses[j];
        double s = 0;
        lt->ops->forward(lt, t, n, grad_scale * (dt_real)lt->weight, &s, j == net->classifier ? correct : NULL);
        sums[0] += lt->weight * s;
        sums[1 + j] += s;
    }
    if (net->times) net->times[2 * net->nlayers] += seconds() - t0;
}

void dt_net_backward(dt_net *net, const dt_real *x, dt_real *dx, const dt_pass *p)
{
    if ((dx != NULL) != net->input_grad) { /* who runs depends on it: plan again (no allocation) */
        net->input_grad = dx != NULL;
        plan_backward(net);
    }
    for (int i = net->nlayers - 1; i >= 0; i--) {
        dt_layer *l = &net->layers[i];
        if (l->runs_backward && !l->folded) {
            for (int k = 0; k < l->ops->ninputs; k++)
                if (l->inputs[k] < 0) {
                    l->x[k] = x;
                    l->dx[k] = dx;
                }
            double t0 = net->times ? seconds() : 0;
            l->ops->backward(l, p);
            if (net->times) net->times[net->nlayers + i] += seconds() - t0;
        }
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

void dt_net_zero_grads(dt_net *net) { memset(net->grads, 0, (size_t)(net->ntrain + net->nstats) * sizeof(dt_real)); }

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
            if (!pr->decay || !pr->g) continue; /* biases, buffers and frozen weights */
            double s = 0;
            for (int64_t t = 0; t < pr->size; t++) s += (double)pr->w[t] * pr->w[t];
            sum += s;
            if (add_grad)
                for (int64_t t = 0; t < pr->size; t++) pr->g[t] += k * pr->w[t];
        }
    return lambda / (2 * m) * sum;
}

void dt_net_freeze_all(dt_net *net)
{
    for (int i = 0; i < net->nlayers; i++) {
        dt_layer *l = &net->layers[i];
        l->frozen = 1;
        for (int j = 0; j < l->nparams; j++) l->params[j].g = NULL;
    }
    net->ntrain = 0;
    net->nfrozen = net->ncount;
    plan_backward(net);
}

void dt_net_predict(const dt_net *net, int64_t n, int32_t *cls, dt_real *prob)
{
    DT_ASSERT(net->classifier >= 0);
    const dt_loss_term *t = &net->losses[net->classifier];
    t->ops->predict(t, n, cls, prob);
}
