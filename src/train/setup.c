/* setup.c — config and model text from rank 0, data, network, evaluation. */
#include "train/setup.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm/comm.h"
#include "train/deteval.h"

dt_status dt_setup_read_text(dt_comm *c, const char *path, char **text)
{
    dt_status st = DT_OK;
    *text = NULL;
    if (dt_comm_rank(c) == 0) st = dt_read_text(path, text, NULL);
    st = dt_comm_agree(c, st);
    if (st) { /* only rank 0 reads, so "rank 0: " would add nothing */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", dt_errmsg());
        return dt_error(st, "%s", strncmp(msg, "rank 0: ", 8) ? msg : msg + 8);
    }
    return dt_comm_bcast_str(c, text, 0);
}

/* A model path is tried as given, then beside the config and up to two
 * directories above it, so configs/course/x.ini can name models/y.ini. */
static char *resolve_model(const char *cfg_path, const char *file)
{
    if (file[0] == '/' || access(file, R_OK) == 0) return strdup(file);
    char *tmp = strdup(cfg_path);
    if (!tmp) return NULL;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", dirname(tmp));
    free(tmp);
    for (int up = 0; up < 3; up++) {
        char cand[8192];
        snprintf(cand, sizeof cand, "%s/%s", dir, file);
        if (access(cand, R_OK) == 0) return strdup(cand);
        strncat(dir, "/..", sizeof dir - strlen(dir) - 1);
    }
    return strdup(file); /* let the read report it missing under its own name */
}

/* [model] init and init_scale in a config set the initialiser of every
 * layer that takes one (dense, conv2d), so one model file serves the
 * course's init experiments. */
static dt_status apply_model_init(dt_setup *s)
{
    static const char *const keys[] = {"init", "init_scale"};
    for (int k = 0; k < 2; k++) {
        const char *v;
        if (!dt_ini_has(s->cfg, "model", keys[k])) continue;
        DT_TRY(dt_ini_str(s->cfg, "model", keys[k], NULL, &v));
        for (int i = 0; i < dt_ini_nsections(s->model); i++) {
            const char *sec = dt_ini_section(s->model, i), *type;
            DT_TRY(dt_ini_str(s->model, sec, "type", "", &type)); /* a bad or missing type: the build says so */
            const dt_layer_ops *ops = dt_layer_find(type);
            if (!ops || !ops->init_keys) continue;
            char a[512];
            snprintf(a, sizeof a, "%s.%s=%s", sec, keys[k], v);
            DT_TRY(dt_ini_override(s->model, a));
        }
    }
    return DT_OK;
}

/* [train] freeze = a, b: those model sections get trainable = 0, so one
 * model file serves training from scratch and fine-tuning. */
static dt_status apply_freeze(dt_setup *s)
{
    const char *v;
    if (!dt_ini_has(s->cfg, "train", "freeze")) return DT_OK;
    DT_TRY(dt_ini_str(s->cfg, "train", "freeze", NULL, &v));
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", v) >= (int)sizeof buf)
        return dt_error(DT_ERR_CONFIG, "%s: [train] freeze: value too long", dt_ini_where(s->cfg, "train", "freeze"));
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        char *e = t + strlen(t);
        while (e > t && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        if (!*t || !strcmp(t, "input") || !dt_ini_has(s->model, t, "type"))
            return dt_error(DT_ERR_CONFIG, "%s: [train] freeze: '%s' is not a layer of %s", dt_ini_where(s->cfg, "train", "freeze"),
                            t, s->model_path);
        char a[600];
        snprintf(a, sizeof a, "%s.trainable=0", t);
        DT_TRY(dt_ini_override(s->model, a));
    }
    return DT_OK;
}

/* "model.SECTION.KEY=VALUE" sets a key of the model file: returns
 * "SECTION.KEY=VALUE", or NULL for a config override ("model.seed=3" too). */
static const char *model_override(const char *a)
{
    const char *eq = strchr(a, '=');
    if (strncmp(a, "model.", 6) || !eq) return NULL;
    const char *dot = strchr(a + 6, '.');
    return dot && dot < eq && dot > a + 6 ? a + 6 : NULL;
}

dt_status dt_setup_config(dt_setup *s, dt_comm *comm, const char *config_path, char *const *overrides, int nover)
{
    char *text = NULL;
    const char *mfile;
    long seed;
    s->comm = comm;
    s->rank = dt_comm_rank(comm);
    s->nranks = dt_comm_size(comm);
    DT_TRY(dt_setup_read_text(comm, config_path, &text));
    dt_status st = dt_ini_parse(config_path, text, &s->cfg);
    free(text);
    DT_TRY(st);
    for (int i = 0; i < nover; i++)
        if (!model_override(overrides[i])) DT_TRY(dt_ini_override(s->cfg, overrides[i]));
    dt_ini_mark_used(s->cfg, "sweep"); /* dtrain sweep's keys: a training ignores them */
    DT_TRY(dt_ini_str(s->cfg, "model", "file", NULL, &mfile));
    DT_TRY(dt_ini_int(s->cfg, "model", "seed", 0, 1, 0, 4294967295L, &seed));
    s->init_seed = (uint32_t)seed;
    s->model_path = resolve_model(config_path, mfile);
    if (!s->model_path) return dt_error(DT_ERR_NOMEM, "out of memory");
    st = dt_setup_read_text(comm, s->model_path, &text);
    if (st) {
        /* name the config key that pointed at the missing model */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", dt_errmsg());
        free(text);
        return dt_error(st, "%s: [model] file: %s", dt_ini_where(s->cfg, "model", "file"), msg);
    }
    st = dt_ini_parse(s->model_path, text, &s->model);
    free(text);
    DT_TRY(st);
    for (int i = 0; i < nover; i++) {
        const char *m = model_override(overrides[i]);
        if (!m) continue;
        char sec[256];
        snprintf(sec, sizeof sec, "%.*s", (int)(strchr(m, '.') - m), m);
        if (!dt_ini_has_section(s->model, sec))
            return dt_error(DT_ERR_ARG, "override '%s': %s has no section [%s]", overrides[i], s->model_path, sec);
        DT_TRY(dt_ini_override(s->model, m));
    }
    DT_TRY(apply_model_init(s));
    return apply_freeze(s);
}

/* [data] limit_train / limit_test = N: keep the first N rows (quick runs, tests). */
static dt_status apply_limits(dt_setup *s)
{
    static const char *const keys[] = {"limit_train", "limit_test"};
    dt_dataset *sets[] = {s->train, s->test};
    for (int i = 0; i < 2; i++) {
        long lim;
        DT_TRY(dt_ini_int(s->cfg, "data", keys[i], 0, 0, 0, 1L << 40, &lim));
        if (lim == 0 || lim >= sets[i]->total) continue;
        if (s->sharding != DT_SHARD_GLOBAL)
            return dt_error(DT_ERR_CONFIG, "%s: [data] %s needs sharding = global", dt_ini_where(s->cfg, "data", keys[i]),
                            keys[i]);
        sets[i]->n = sets[i]->total = lim;
    }
    return DT_OK;
}

dt_status dt_setup_data(dt_setup *s)
{
    dt_status st = dt_data_load(s->cfg, s->rank, s->nranks, &s->train, &s->test, &s->sharding);
    double dev = 0;
    if (!st) st = dt_ini_real(s->cfg, "data", "dev_fraction", 0, 0.0, 0.0, 1.0, &dev);
    s->test_name = dev > 0 ? "dev" : "test";
    if (!st) st = apply_limits(s);
    return dt_comm_agree(s->comm, st);
}

/* Images arrive as H, W, C rows (the course's reshape); convolutional models
 * read C, H, W. Reorder every row once, at load time. */
static dt_status to_chw(dt_dataset *d)
{
    int64_t H = d->dims[0], W = d->dims[1], C = d->dims[2], F = d->features;
    dt_real *tmp = dt_alloc((size_t)F * sizeof *tmp);
    if (!tmp) return dt_error(DT_ERR_NOMEM, "out of memory");
    for (int64_t r = 0; r < d->n; r++) {
        dt_real *row = d->x + r * F;
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++)
                for (int64_t c = 0; c < C; c++) tmp[(c * H + h) * W + w] = row[(h * W + w) * C + c];
        memcpy(row, tmp, (size_t)F * sizeof *tmp);
    }
    dt_free(tmp);
    return DT_OK;
}

/* A model with a C,H,W input must match the images' shape. */
static dt_status match_image_shape(dt_setup *s)
{
    dt_shape in = s->net->in;
    dt_dataset *d = s->train;
    if (in.h == 1 && in.w == 1) return DT_OK; /* flat input: rows as they come */
    int64_t H = d->ndim >= 2 ? d->dims[0] : 0, W = d->ndim >= 2 ? d->dims[1] : 0, C = d->ndim == 3 ? d->dims[2] : 1;
    if (d->ndim < 2 || d->ndim > 3 || H != in.h || W != in.w || C != in.c)
        return dt_error(DT_ERR_DATA, "%s: [input] shape = %d,%d,%d (C,H,W) does not match the data's images (%lld x %lld, %lld channel%s)",
                        dt_ini_where(s->model, "input", "shape"), in.c, in.h, in.w, (long long)H, (long long)W,
                        (long long)C, C == 1 ? "" : "s");
    if (C > 1 && !s->chw) { /* once, even when the network is rebuilt */
        DT_TRY(to_chw(s->train));
        if (s->test->n) DT_TRY(to_chw(s->test));
        s->chw = 1;
    }
    return DT_OK;
}

/* The losses read what the data gives: labels in their range, or dense
 * targets of their size. */
static dt_status match_targets(dt_setup *s)
{
    const dt_net *net = s->net;
    const dt_dataset *d = s->train;
    if (net->target == DT_TARGET_LABEL) {
        const dt_loss_term *t = &net->losses[0];
        for (int j = net->nlosses - 1; j >= 0; j--)
            if (net->losses[j].ops->target == DT_TARGET_LABEL) t = &net->losses[j]; /* the first that reads labels */
        if (!d->labeled)
            return dt_error(DT_ERR_DATA, "%s: [%s] %s reads class labels, but the data has none ([data] target is not label)",
                            s->model_path, t->name, t->ops->type);
        for (int j = 0; j < net->nlosses; j++) {
            t = &net->losses[j];
            if (t->ops->target == DT_TARGET_LABEL && d->nclasses > t->nclasses)
                return dt_error(DT_ERR_DATA, "%s: the layer '%s' read by [%s] predicts %d classes, but the data has labels up to %d",
                                s->model_path, t->src->name, t->name, t->nclasses, d->nclasses - 1);
        }
    }
    if (net->target == DT_TARGET_DENSE && d->tlen != net->target_len)
        return dt_error(DT_ERR_DATA, "%s%s%s: the losses read dense targets of %lld values per row, but the data has %s%lld",
                        d->tsrc, d->tsrc[0] ? " with " : "", s->model_path, (long long)net->target_len,
                        d->tlen ? "" : "none ([data] target = dense gives them): ", (long long)d->tlen);
    for (int j = 0; j < net->nlosses; j++) {
        const dt_loss_term *t = &net->losses[j];
        if (!t->ops->check || !d->t) continue;
        DT_TRY(t->ops->check(t, d->t, d->n, d->offset, d->tsrc));
        if (s->test->t) DT_TRY(t->ops->check(t, s->test->t, s->test->n, s->test->offset, s->test->tsrc));
    }
    return DT_OK;
}

/* [train] verify = LAYER: a layer of the network. */
static dt_status verify_layer(dt_setup *s)
{
    const char *name;
    s->verify = -1;
    if (!dt_ini_has(s->cfg, "train", "verify")) return DT_OK;
    DT_TRY(dt_ini_str(s->cfg, "train", "verify", NULL, &name));
    for (int i = 0; i < s->net->nlayers; i++)
        if (!strcmp(s->net->layers[i].name, name)) {
            s->verify = i;
            dt_net_unfold(s->net, i); /* its own output, not the activation after it */
            return DT_OK;
        }
    return dt_error(DT_ERR_CONFIG, "%s: [train] verify = %s: the model %s has no layer of that name",
                    dt_ini_where(s->cfg, "train", "verify"), name, s->model_path);
}

dt_status dt_setup_net(dt_setup *s, int64_t maxn)
{
    int loss;
    DT_TRY(dt_ini_enum(s->cfg, "model", "loss", "auto", dt_loss_names, &loss));
    DT_TRY(dt_net_build(s->model, maxn, (dt_loss)loss, &s->net));
    DT_TRY(verify_layer(s));
    DT_TRY(match_image_shape(s)); /* image models first: their message says more */
    int64_t want = dt_shape_size(s->net->in);
    if (want != s->train->features)
        return dt_error(DT_ERR_DATA, "%s: [input] shape gives %lld values per example, but the data has %lld",
                        dt_ini_where(s->model, "input", "shape"), (long long)want,
                        (long long)s->train->features);
    return match_targets(s);
}

dt_status dt_setup_net_sized(dt_setup *s, int64_t need, int64_t want)
{
    DT_TRY(dt_setup_net(s, need));
    if (want <= need || (double)want * (double)s->net->row_reals * sizeof(dt_real) >= 64e6) return DT_OK;
    dt_net_free(s->net);
    s->net = NULL;
    return dt_setup_net(s, want);
}

void dt_setup_free(dt_setup *s)
{
    dt_net_free(s->net);
    dt_dataset_free(s->train);
    dt_dataset_free(s->test);
    dt_ini_free(s->cfg);
    dt_ini_free(s->model);
    free(s->model_path);
    memset(s, 0, sizeof *s);
}

/* Every rank's features on rank 0, verified there; the result to every rank. */
static dt_status verify_finish(dt_setup *s, const double *rows, int64_t n, int64_t d, dt_status st, dt_eval_result *r)
{
    double *all = NULL, res[5] = {0};
    int64_t total = 0;
    DT_TRY(dt_comm_agree(s->comm, st));
    DT_TRY(dt_comm_gatherv_f64(s->comm, rows, n, &all, &total));
    if (s->rank == 0) {
        dt_verify_result v;
        st = dt_verify(all, d + 1, total / (d + 1), d, &v);
        if (!st) res[0] = v.auc, res[1] = v.acc, res[2] = v.thr, res[3] = v.val_auc, res[4] = (double)v.pairs;
    }
    free(all);
    DT_TRY(dt_comm_agree(s->comm, st));
    DT_TRY(dt_comm_bcast(s->comm, res, sizeof res, 0));
    r->has_verify = 1;
    r->v = (dt_verify_result){res[0], res[1], res[2], res[3], (int64_t)res[4]};
    return DT_OK;
}

dt_status dt_evaluate(dt_setup *s, const dt_dataset *d, dt_eval_result *r)
{
    dt_net *net = s->net;
    int64_t lo = 0, hi = d->n, correct = 0;
    if (s->sharding == DT_SHARD_GLOBAL) { /* every rank holds it all: take a block */
        lo = d->n * s->rank / s->nranks;
        hi = d->n * (s->rank + 1) / s->nranks;
    }
    int ns = dt_net_nsums(net);
    double *sums = calloc((size_t)ns, sizeof *sums);
    if (!sums) return dt_error(DT_ERR_NOMEM, "out of memory");
    dt_deteval de;
    int detector = dt_deteval_init(&de, net) && d->t;
    int verify = s->verify >= 0 && d == s->test;
    const dt_layer *vl = verify ? &net->layers[s->verify] : NULL;
    int64_t vd = verify ? dt_shape_size(vl->out) : 0;
    double *vrows = verify ? malloc((size_t)((hi - lo) * (vd + 1) + 1) * sizeof *vrows) : NULL;
    dt_status st = verify && !vrows ? dt_error(DT_ERR_NOMEM, "out of memory for %lld rows' features", (long long)(hi - lo)) : DT_OK;
    dt_pass p = {.train = 0};
    for (int64_t r0 = lo; r0 < hi; r0 += net->maxn) {
        p.n = hi - r0 < net->maxn ? hi - r0 : net->maxn;
        dt_net_forward(net, d->x + r0 * d->features, &p);
        dt_targets tg = {.labels = d->y + r0, .dense = d->t ? d->t + r0 * d->tlen : NULL};
        dt_net_loss(net, &tg, p.n, 0, sums, &correct);
        if (detector && !st) st = dt_deteval_add(&de, d, r0, p.n); /* agreed in dt_deteval_finish */
        for (int64_t i = 0; vrows && i < p.n; i++) {
            double *v = vrows + (r0 - lo + i) * (vd + 1);
            for (int64_t k = 0; k < vd; k++) v[k] = vl->y[i * vd + k];
            v[vd] = d->y[r0 + i];
        }
    }
    /* every rank goes through the same collectives, whatever failed locally */
    if (detector) st = dt_comm_agree(s->comm, st);
    if (detector && !st) st = dt_deteval_finish(&de, s->comm, r);
    if (detector) dt_deteval_free(&de);
    if (verify) st = verify_finish(s, vrows, (hi - lo) * (vd + 1), vd, st, r);
    free(vrows);
    if (st) {
        free(sums);
        return st;
    }
    int64_t counts[2] = {correct, hi - lo};
    st = dt_comm_allreduce_f64(s->comm, sums, ns);
    if (!st) st = dt_comm_allreduce_i64(s->comm, counts, 2);
    double m = counts[1] ? (double)counts[1] : 1;
    r->loss = counts[1] ? sums[0] / m : 0;
    for (int k = 0; r->each && k < net->nlosses; k++) r->each[k] = sums[1 + k] / m;
    r->correct = counts[0];
    r->count = counts[1];
    free(sums);
    return st;
}
