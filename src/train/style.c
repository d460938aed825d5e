/* style.c — neural style transfer through a frozen feature network. */
#include "train/style.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "train/checkpoint.h"
#include "vision/facepipe.h"

/* The model's first section of loss type `type`, or NULL. */
static const char *loss_section(dt_ini *m, const char *type, int from)
{
    for (int i = from; i < dt_ini_nsections(m); i++) {
        const char *sec = dt_ini_section(m, i), *t;
        if (dt_ini_has(m, sec, "type") && !dt_ini_str(m, sec, "type", "", &t) && !strcmp(t, type)) return sec;
    }
    return NULL;
}

/* A layer (not a loss, not the input) of the model. */
static int is_layer(dt_ini *m, const char *name)
{
    const char *t;
    return strcmp(name, "input") && dt_ini_has(m, name, "type") && !dt_ini_str(m, name, "type", "", &t) &&
           dt_layer_find(t) != NULL;
}

/* sec.key = s, or = v when s is NULL */
static dt_status set(dt_ini *m, const char *sec, const char *key, double v, const char *s)
{
    char a[512];
    if (s) snprintf(a, sizeof a, "%s.%s=%s", sec, key, s);
    else snprintf(a, sizeof a, "%s.%s=%.17g", sec, key, v);
    return dt_ini_override(m, a);
}

/* Weights and layers of the costs from the options. */
static dt_status wire_costs(dt_ini *m, const dt_style_opts *o)
{
    const char *cs = loss_section(m, "content", 0);
    if (!cs) cs = "content";
    if (o->content_layer) {
        if (!is_layer(m, o->content_layer))
            return dt_error(DT_ERR_ARG, "--content-layer '%s': %s has no such layer", o->content_layer, o->model);
        DT_TRY(set(m, cs, "type", 0, "content"));
        DT_TRY(set(m, cs, "inputs", 0, o->content_layer));
    } else if (!dt_ini_has(m, cs, "inputs")) {
        return dt_error(DT_ERR_ARG, "%s has no content loss section: give --content-layer", o->model);
    }
    DT_TRY(set(m, cs, "weight", o->alpha, NULL));
    /* style sections: lambda from the file (weight / 40), or from the list */
    for (int i = 0; i < dt_ini_nsections(m); i++) {
        const char *sec = dt_ini_section(m, i), *t;
        if (!dt_ini_has(m, sec, "type") || dt_ini_str(m, sec, "type", "", &t) || strcmp(t, "style")) continue;
        double w = 40;
        if (dt_ini_has(m, sec, "weight")) DT_TRY(dt_ini_real(m, sec, "weight", 0, 40, 0, 1e12, &w));
        DT_TRY(set(m, sec, "weight", o->style_layers ? 0 : o->beta * w / 40, NULL));
    }
    if (!o->style_layers) return loss_section(m, "style", 0) ? DT_OK : dt_error(DT_ERR_ARG, "%s has no style loss section: give --style-layers", o->model);
    char buf[2048];
    if (snprintf(buf, sizeof buf, "%s", o->style_layers) >= (int)sizeof buf)
        return dt_error(DT_ERR_ARG, "--style-layers: too long");
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), n++) {
        char *colon = strchr(t, ':'), *end = NULL;
        double lambda = colon ? strtod(colon + 1, &end) : NAN;
        if (colon) *colon = 0;
        if (!colon || end == colon + 1 || *end || !(lambda >= 0) || !*t)
            return dt_error(DT_ERR_ARG, "--style-layers '%s': expected LAYER:WEIGHT,... with weights >= 0", o->style_layers);
        if (!is_layer(m, t)) return dt_error(DT_ERR_ARG, "--style-layers: %s has no layer '%s'", o->model, t);
        char sec[128];
        snprintf(sec, sizeof sec, "style_%s", t);
        const char *ty;
        if (dt_ini_has(m, sec, "type") && (dt_ini_str(m, sec, "type", "", &ty) || strcmp(ty, "style")))
            return dt_error(DT_ERR_ARG, "--style-layers: %s: [%s] is not a style loss", o->model, sec);
        DT_TRY(set(m, sec, "type", 0, "style"));
        DT_TRY(set(m, sec, "inputs", 0, t));
        DT_TRY(set(m, sec, "weight", o->beta * lambda, NULL));
    }
    return n ? DT_OK : dt_error(DT_ERR_ARG, "--style-layers: no layers");
}

/* The network's pixel scale: its [preprocess] mean and divide, else the course's (VGG's mean, 1). */
static dt_status pixel_scale(dt_ini *m, dt_style *s)
{
    static const double vgg[3] = {123.68, 116.779, 103.939};
    memcpy(s->mean, vgg, sizeof vgg);
    s->divide = 1;
    if (!dt_ini_has_section(m, "preprocess")) return DT_OK;
    dt_prep p;
    DT_TRY(dt_prep_read(m, &p));
    memcpy(s->mean, p.mean, sizeof p.mean);
    s->divide = p.divide;
    return DT_OK;
}

dt_status dt_style_init(dt_style *s, const dt_style_opts *o)
{
    memset(s, 0, sizeof *s);
    s->o = *o;
    if (o->height < 8 || o->width < 8 || o->height > 8192 || o->width > 8192)
        return dt_error(DT_ERR_ARG, "--size %dx%d: expected HxW, each from 8 to 8192", o->height, o->width);
    dt_ini *m = NULL;
    DT_TRY(dt_ini_load(o->model, &m));
    char shape[64];
    snprintf(shape, sizeof shape, "input.shape=3,%d,%d", o->height, o->width);
    dt_status st = dt_ini_override(m, shape);
    if (!st) st = pixel_scale(m, s);
    if (!st) st = wire_costs(m, o);
    char *text = st ? NULL : dt_ini_dump(m);
    if (!st && !text) st = dt_error(DT_ERR_NOMEM, "out of memory");
    if (!st && o->ckpt) st = dt_net_load(o->ckpt, text, 1, &s->net, NULL);
    if (!st && !o->ckpt) {
        dt_ini *m2 = NULL;
        st = dt_ini_parse(o->model, text, &m2);
        if (!st) st = dt_net_build(m2, 1, DT_LOSS_AUTO, &s->net);
        if (!st) st = dt_net_init(s->net, o->seed);
        dt_ini_free(m2);
    }
    free(text);
    dt_ini_free(m);
    if (!st && (s->net->in.c != 3 || s->net->in.h != o->height || s->net->in.w != o->width))
        st = dt_error(DT_ERR_ARG, "%s: the network reads %dx%dx%d, not a 3-channel image", o->model, s->net->in.c,
                      s->net->in.h, s->net->in.w);
    s->content = -1;
    for (int j = 0; !st && j < s->net->nlosses; j++)
        if (!strcmp(s->net->losses[j].ops->type, "content")) s->content = j;
    for (int j = 0; !st && j < s->net->nlosses; j++)
        if (strcmp(s->net->losses[j].ops->type, "content") && strcmp(s->net->losses[j].ops->type, "style"))
            st = dt_error(DT_ERR_ARG, "%s: [%s] is a %s loss; style transfer uses content and style losses only", o->model,
                          s->net->losses[j].name, s->net->losses[j].ops->type);
    int64_t len = dt_shape_size(s->net ? s->net->in : (dt_shape){0, 0, 0});
    if (!st && !(s->x = dt_alloc((size_t)len * sizeof(dt_real)))) st = dt_error(DT_ERR_NOMEM, "out of memory");
    dt_optim adam = {.kind = DT_OPT_ADAM, .lr = o->lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    if (!st) st = dt_invert_init(&s->inv, s->net, &adam, s->x, 1);
    if (st) dt_style_free(s);
    return st;
}

static void forward(dt_net *net, const dt_real *x)
{
    dt_pass p = {.n = 1, .train = 0};
    dt_net_forward(net, x, &p);
}

dt_status dt_style_start(dt_style *s, const dt_real *content, const dt_real *style)
{
    dt_net *net = s->net;
    forward(net, style);
    for (int j = 0; j < net->nlosses; j++)
        if (j != s->content) DT_TRY(dt_net_capture(net, net->losses[j].name));
    forward(net, content);
    if (s->content >= 0) DT_TRY(dt_net_capture(net, net->losses[s->content].name));
    dt_rng r;
    dt_rng_seed(&r, s->o.seed);
    int64_t len = dt_shape_size(net->in);
    for (int64_t i = 0; i < len; i++) { /* the course's generate_noise_image */
        double u = (-20 + 40 * dt_rng_double(&r)) / s->divide;
        s->x[i] = (dt_real)(s->o.noise * u + (1 - s->o.noise) * content[i]);
    }
    s->inv.t = 0; /* a new image: Adam starts afresh */
    for (int k = 0; k < dt_optim_nstate(&s->inv.o); k++) memset(s->inv.state[k], 0, (size_t)len * sizeof(dt_real));
    return DT_OK;
}

/* j, jc, js from the loss sums of one forward pass */
static void costs(dt_style *s, const double *sums)
{
    s->j = sums[0];
    s->jc = s->content >= 0 ? sums[1 + s->content] : 0;
    s->js = 0; /* Σ λ_l · J_style,l = (J − α·J_content) / β */
    for (int j = 0; j < s->net->nlosses; j++)
        if (j != s->content) s->js += s->net->losses[j].weight * sums[1 + j];
    s->js = s->o.beta > 0 ? s->js / s->o.beta : 0;
}

void dt_style_step(dt_style *s)
{
    dt_invert_step(&s->inv, &(dt_targets){0}, s->o.lr / s->divide, NULL); /* Adam's steps are lr in x's units */
    costs(s, s->inv.sums);
}

void dt_style_measure(dt_style *s)
{
    forward(s->net, s->x);
    double *sums = s->inv.sums;
    memset(sums, 0, (size_t)dt_net_nsums(s->net) * sizeof *sums);
    dt_net_loss(s->net, &(dt_targets){0}, 1, 0, sums, NULL);
    costs(s, sums);
}

void dt_style_free(dt_style *s)
{
    dt_invert_free(&s->inv);
    dt_net_free(s->net);
    dt_free(s->x);
    memset(s, 0, sizeof *s);
}
