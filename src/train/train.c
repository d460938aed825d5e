/* train.c — the data-parallel training loop: configuration, the plan of
 * steps, evaluation, checkpoints and progress events. One step's
 * computation and reduction is in step.c.
 *
 * Every rank runs the same loop. Each step, the ranks split one global
 * batch and sum their gradients, then apply the same optimizer update, so
 * parameters stay identical everywhere and equal (to rounding, or bitwise in
 * deterministic mode) to a 1-rank run with the same global batch. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/trace.h"
#include "comm/comm.h"
#include "train/deteval.h"
#include "train/run.h"

static const char *const shuffles[] = {"none", "seeded", "course", NULL};
static const char *const nonfinites[] = {"stop", "skip", NULL};
static const char *const lr_scales[] = {"none", "linear", NULL};
static const char *const reduces[] = {"auto", "after", "overlap", "flat", NULL}; /* in DT_REDUCE_* order */

static dt_status read_train(dt_ini *c, train_cfg *t)
{
    DT_TRY(dt_ini_int(c, "train", "epochs", 1, 0, 1, 1L << 40, &t->epochs));
    DT_TRY(dt_ini_int(c, "train", "global_batch", 0, 0, 0, 1L << 40, &t->global_batch));
    DT_TRY(dt_ini_int(c, "train", "batch_per_rank", 0, 0, 0, 1L << 40, &t->batch_per_rank));
    DT_TRY(dt_ini_int(c, "train", "log_every", 0, 0, 0, 1L << 40, &t->log_every));
    DT_TRY(dt_ini_int(c, "train", "eval_every", 0, 0, 0, 1L << 40, &t->eval_every));
    DT_TRY(dt_ini_int(c, "train", "eval_train", 0, 1, 0, 1, &t->eval_train));
    DT_TRY(dt_ini_int(c, "train", "checkpoint_every", 0, 0, 0, 1L << 40, &t->ckpt_every));
    DT_TRY(dt_ini_int(c, "train", "max_steps", 0, 0, 0, 1L << 50, &t->max_steps));
    DT_TRY(dt_ini_int(c, "train", "seed", 0, 0, 0, 4294967295L, &t->seed));
    DT_TRY(dt_ini_enum(c, "train", "shuffle", "seeded", shuffles, &t->shuffle));
    DT_TRY(dt_ini_str(c, "train", "out", "", &t->out));
    DT_TRY(dt_ini_int(c, "train", "accumulate", 0, 1, 1, 1L << 20, &t->accumulate));
    DT_TRY(dt_ini_int(c, "train", "checkpoint_steps", 0, 0, 0, 1L << 50, &t->ckpt_steps));
    DT_TRY(dt_ini_int(c, "train", "keep", 0, 1, 1, 1L << 20, &t->keep));
    DT_TRY(dt_ini_enum(c, "train", "nonfinite", "stop", nonfinites, &t->nonfinite_skip));
    if (t->global_batch && t->batch_per_rank)
        return dt_error(DT_ERR_CONFIG, "%s: [train] give global_batch or batch_per_rank, not both",
                        dt_ini_where(c, "train", "batch_per_rank"));
    /* the linear scaling rule: lr × global batch / base_batch, reached after warmup_steps */
    DT_TRY(dt_ini_enum(c, "optim", "lr_scale", "none", lr_scales, &t->lr_linear));
    DT_TRY(dt_ini_int(c, "optim", "base_batch", t->lr_linear, 0, 1, 1L << 40, &t->base_batch));
    DT_TRY(dt_ini_int(c, "optim", "warmup_steps", 0, 0, 0, 1L << 40, &t->warmup));
    DT_TRY(dt_ini_int(c, "dist", "deterministic", 0, 0, 0, 1, &t->deterministic));
    DT_TRY(dt_ini_int(c, "dist", "micro_batch", 0, 32, 1, 1L << 30, &t->micro_batch));
    DT_TRY(dt_ini_int(c, "dist", "zero", 0, 0, 0, 1, &t->zero));
    DT_TRY(dt_ini_int(c, "dist", "bucket_kb", 0, 0, 0, 1L << 30, &t->bucket_kb));
    DT_TRY(dt_ini_enum(c, "dist", "reduce", "auto", reduces, &t->reduce));
    if (t->reduce == DT_REDUCE_OVERLAP && (t->deterministic || t->zero))
        return dt_error(DT_ERR_CONFIG, "%s: [dist] reduce = overlap: %s sums after backward; use auto or after",
                        dt_ini_where(c, "dist", "reduce"), t->deterministic ? "deterministic mode" : "ZeRO-1");
    if (t->reduce == DT_REDUCE_FLAT && t->deterministic)
        return dt_error(DT_ERR_CONFIG, "%s: [dist] reduce = flat: deterministic mode sums in its fixed tree; use auto or after",
                        dt_ini_where(c, "dist", "reduce"));
    if (t->bucket_kb && (t->reduce == DT_REDUCE_AFTER || t->reduce == DT_REDUCE_FLAT))
        return dt_error(DT_ERR_CONFIG, "%s: [dist] bucket_kb sizes the buckets of reduce = overlap (or auto), not %s",
                        dt_ini_where(c, "dist", "bucket_kb"), reduces[t->reduce]);
    DT_TRY(dt_ini_real(c, "dist", "timeout", 0, 120, 0, 1e9, &t->timeout));
    DT_TRY(dt_ini_int(c, "debug", "nan_step", 0, -1, -1, 1L << 50, &t->nan_step));
    DT_TRY(dt_ini_int(c, "debug", "nan_rank", 0, 0, 0, 1L << 20, &t->nan_rank));
    DT_TRY(dt_ini_int(c, "debug", "hang_step", 0, -1, -1, 1L << 50, &t->hang_step));
    DT_TRY(dt_ini_int(c, "debug", "hang_rank", 0, 0, 0, 1L << 20, &t->hang_rank));
    DT_TRY(dt_ini_real(c, "debug", "hang_seconds", 0, 0, 0, 1e9, &t->hang_seconds));
    if (t->deterministic && dt_ini_has(c, "train", "accumulate"))
        return dt_error(DT_ERR_CONFIG, "%s: [train] accumulate: deterministic mode accumulates fixed micro-batches; "
                                       "set [dist] micro_batch instead",
                        dt_ini_where(c, "train", "accumulate"));
    if (!t->deterministic && dt_ini_has(c, "dist", "micro_batch"))
        return dt_error(DT_ERR_CONFIG, "%s: [dist] micro_batch needs deterministic = 1 (else use [train] accumulate)",
                        dt_ini_where(c, "dist", "micro_batch"));
    return DT_OK;
}

/* [data] augment = none | crop | flip | crop_flip, crop_pad = pixels (2). */
static dt_status read_augment_keys(dt_ini *c, train_cfg *t)
{
    static const char *const kinds[] = {"none", "crop", "flip", "crop_flip", NULL};
    DT_TRY(dt_ini_enum(c, "data", "augment", "none", kinds, &t->augment_kind));
    return dt_ini_int(c, "data", "crop_pad", 0, 2, 0, 64, &t->crop_pad);
}

dt_status dt_train_read_keys(dt_ini *c, train_cfg *t, dt_optim *o)
{
    DT_TRY(read_train(c, t));
    DT_TRY(dt_optim_read(c, o));
    t->weights = NULL;
    if (dt_ini_has(c, "model", "weights")) DT_TRY(dt_ini_str(c, "model", "weights", NULL, &t->weights));
    return read_augment_keys(c, t);
}

static dt_status make_plan(const dt_setup *s, const train_cfg *t, plan *pl)
{
    const dt_dataset *d = s->train;
    int P = s->nranks;
    if (s->sharding == DT_SHARD_GLOBAL) {
        int64_t g = t->batch_per_rank ? t->batch_per_rank * P * t->accumulate : t->global_batch;
        if (g == 0) g = d->total; /* full-batch gradient descent */
        if (g > d->total)
            return dt_error(DT_ERR_CONFIG, "%s: [train] the global batch (%lld) is larger than the training set (%lld rows)",
                            dt_ini_name(s->cfg), (long long)g, (long long)d->total);
        pl->gbatch = pl->global = g;
        pl->steps = (d->total + g - 1) / g;
        pl->local_max = (g + P - 1) / P;
        pl->nmicro = t->accumulate;
        pl->fwd_max = (pl->local_max + pl->nmicro - 1) / pl->nmicro;
        if (!t->deterministic) return DT_OK;
        /* fixed micro-batches, an equal whole run of them per rank */
        int64_t m = t->micro_batch;
        if (g % m)
            return dt_error(DT_ERR_CONFIG, "%s: [dist] micro_batch = %lld%s does not divide the global batch (%lld rows)",
                            dt_ini_where(s->cfg, "dist", "micro_batch"), (long long)m,
                            dt_ini_has(s->cfg, "dist", "micro_batch") ? "" : " (the default)", (long long)g);
        int64_t M = g / m, most = 1;
        while (M % (most * 2) == 0) most *= 2;
        if (M % P || (P & (P - 1)))
            return dt_error(DT_ERR_CONFIG, "%s: deterministic mode splits the global batch of %lld rows into %lld micro-batches "
                                           "of %lld: it runs on 1, 2, 4 ... up to %lld ranks (powers of two dividing %lld), not %d",
                            dt_ini_name(s->cfg), (long long)g, (long long)M, (long long)m, (long long)most, (long long)M, P);
        pl->micro = m;
        pl->nmicro = M / P;
        pl->local_max = pl->nmicro * m;
        pl->fwd_max = m;
        return DT_OK;
    }
    if (t->deterministic)
        return dt_error(DT_ERR_CONFIG, "%s: [dist] deterministic = 1 needs [data] sharding = global (contiguous shards depend on the rank count)",
                        dt_ini_where(s->cfg, "dist", "deterministic"));
    int64_t b = t->batch_per_rank ? t->batch_per_rank * t->accumulate : t->global_batch / P;
    int64_t smallest = dt_shard_rows(d->total, P - 1, P), largest = dt_shard_rows(d->total, 0, P);
    for (int r = 0; r < P; r++) {
        int64_t n = dt_shard_rows(d->total, r, P);
        smallest = n < smallest ? n : smallest;
        largest = n > largest ? n : largest;
    }
    if (b == 0) b = largest;
    if (b > smallest)
        return dt_error(DT_ERR_CONFIG, "%s: [train] batch of %lld rows per rank is larger than a rank's shard (%lld rows at %d ranks)",
                        dt_ini_name(s->cfg), (long long)b, (long long)smallest, P);
    pl->rbatch = b;
    pl->global = b * P;
    pl->steps = (largest + b - 1) / b;
    pl->local_max = b;
    pl->nmicro = t->accumulate;
    pl->fwd_max = (b + pl->nmicro - 1) / pl->nmicro;
    return DT_OK;
}

static dt_status setup_augment(run *r);

static void emit(const run *r, dt_event ev)
{
    if (r->s.rank == 0 && r->a->on_event) r->a->on_event(r->a->user, &ev);
}

/* Each loss's values for the log and the display (dt_net_named_losses). */
static dt_loss_values loss_values(const run *r, const double *v)
{
    return (dt_loss_values){dt_net_named_losses(r->s.net), r->s.net->loss_names, v};
}

static dt_status alloc_loss_sums(run *r)
{
    int n = r->s.net->nlosses;
    r->ep_each = calloc((size_t)n + 1, sizeof *r->ep_each);
    r->eval_each = calloc((size_t)n + 1, sizeof *r->eval_each);
    if (!r->ep_each || !r->eval_each) return dt_error(DT_ERR_NOMEM, "out of memory");
    return DT_OK;
}

static void free_run(run *r, int collective)
{
    free(r->ep_each);
    free(r->eval_each);
    dt_run_step_free(r, collective);
    dt_sampler_destroy(&r->smp);
    dt_augment_destroy(&r->aug);
    dt_free(r->xb);
    dt_free(r->yb);
    dt_free(r->tb);
    dt_free(r->ids);
    dt_metrics_close(r->metrics);
    dt_setup_free(&r->s);
}

/* The augmentation read_augment_keys chose: for image models only, whose
 * targets are class labels or boxes of a yolo loss on the input picture
 * (which move with the pixels); other dense targets would not match the
 * moved pixels. */
static dt_status setup_augment(run *r)
{
    dt_ini *c = r->s.cfg;
    int k = r->t.augment_kind;
    if (k == 0) return DT_OK;
    dt_shape in = r->s.net->in;
    if (in.h == 1 && in.w == 1)
        return dt_error(DT_ERR_CONFIG, "%s: [data] augment needs an image model ([input] shape = C,H,W)",
                        dt_ini_where(c, "data", "augment"));
    if (r->s.train->tlen) {
        dt_deteval d;
        if (!dt_deteval_init(&d, r->s.net) || d.img_w != in.w || d.img_h != in.h)
            return dt_error(DT_ERR_CONFIG,
                            "%s: [data] augment moves pixels, and only boxes of a yolo loss on the %dx%d input picture "
                            "can move with them: these dense targets cannot",
                            dt_ini_where(c, "data", "augment"), in.w, in.h);
        r->aug_boxes = (int)(r->s.train->tlen / 5);
    }
    r->augment = 1;
    return dt_augment_init(&r->aug, k & 1 ? (int)r->t.crop_pad : 0, k >= 2, in.c, in.h, in.w, (uint64_t)r->t.seed);
}

dt_status dt_train_pass_rows(dt_setup *s, int64_t *rows)
{
    train_cfg t;
    dt_optim o;
    plan pl;
    DT_TRY(dt_train_read_keys(s->cfg, &t, &o));
    DT_TRY(make_plan(s, &t, &pl));
    *rows = pl.fwd_max;
    return DT_OK;
}

static dt_status setup_run(run *r)
{
    dt_setup *s = &r->s;
    const dt_run_args *a = r->a;
    DT_TRY(dt_setup_config(s, a->comm, a->config, a->overrides, a->noverrides));
    DT_TRY(dt_train_read_keys(s->cfg, &r->t, &r->o));
    DT_TRY(dt_setup_data(s));
    DT_TRY(make_plan(s, &r->t, &r->pl));
    int64_t eval_rows = s->train->n > s->test->n ? s->train->n : s->test->n;
    DT_TRY(dt_setup_net_sized(s, r->pl.fwd_max, eval_rows < 1024 ? eval_rows : 1024));
    DT_TRY(setup_augment(r));
    DT_TRY(dt_ini_check_unused(s->cfg));
    int64_t F = s->train->features;
    r->xb = dt_alloc((size_t)(r->pl.local_max * F) * sizeof(dt_real));
    r->yb = dt_alloc((size_t)r->pl.local_max * sizeof(int32_t));
    r->ids = dt_alloc((size_t)r->pl.local_max * sizeof(int64_t));
    dt_net *net = s->net;
    if (net->nlosses == 0)
        return dt_error(DT_ERR_CONFIG, "%s: the model has no loss, so there is nothing to train: add a loss section "
                                       "(type = softmax_ce, bce or mse) or end in a sigmoid or softmax layer",
                        s->model_path);
    if (net->ntrain == 0)
        return dt_error(DT_ERR_CONFIG, "%s: every layer with parameters is frozen (trainable = 0 or [train] freeze): nothing to train",
                        s->model_path);
    if (net->target == DT_TARGET_DENSE &&
        !(r->tb = dt_alloc((size_t)(r->pl.local_max * net->target_len) * sizeof(dt_real))))
        return dt_error(DT_ERR_NOMEM, "out of memory for batch buffers");
    DT_TRY(alloc_loss_sums(r));
    DT_TRY(dt_run_step_init(r));
    int64_t G = r->pl.global;
    r->scale = r->t.lr_linear ? (double)G / (double)r->t.base_batch : 1;
    if (!r->xb || !r->yb || !r->ids) return dt_error(DT_ERR_NOMEM, "out of memory for batch buffers");
    uint64_t smp_seed = (uint64_t)r->t.seed;
    if (s->sharding == DT_SHARD_CONTIGUOUS) smp_seed = smp_seed * 1000003u + (uint64_t)s->rank;
    DT_TRY(dt_sampler_init(&r->smp, s->train->n, (dt_shuffle)r->t.shuffle, smp_seed));

    if (s->rank == 0) DT_TRY(dt_net_init(s->net, s->init_seed));
    if (a->out_dir) snprintf(r->out, sizeof r->out, "%s", a->out_dir);
    else if (r->t.out[0]) snprintf(r->out, sizeof r->out, "%s", r->t.out);
    else {
        const char *base = strrchr(a->config, '/');
        base = base ? base + 1 : a->config;
        snprintf(r->out, sizeof r->out, "runs/%.*s", (int)strcspn(base, "."), base);
    }
    snprintf(r->ckpt, sizeof r->ckpt, "%s/checkpoint.h5", r->out);
    return DT_OK;
}

/* Evaluate the test split, and the training split too at the end or when
 * [train] eval_train = 1 (on a large set it costs as much as a third of an epoch). */
static dt_status log_eval(run *r, int64_t step, int64_t epoch, double lr, double t0, int final)
{
    const char *names[2] = {"train", r->s.test_name};
    const dt_dataset *sets[2] = {r->s.train, r->s.test};
    for (int i = 0; i < 2; i++) {
        dt_eval_result e = {.each = r->eval_each};
        if (sets[i]->total == 0 || (i == 0 && !final && !r->t.eval_train)) continue;
        double tt = dt_trace_now();
        DT_TRY(dt_evaluate(&r->s, sets[i], &e));
        dt_trace_span(i ? "evaluate test" : "evaluate train", "eval", DT_TRACE_COMPUTE, tt, dt_trace_now(), "rows",
                      e.count, NULL, 0);
        double acc = r->s.net->classifier < 0 ? NAN : e.count ? (double)e.correct / (double)e.count : 0;
        double now = dt_comm_time() - t0;
        dt_loss_values lv = loss_values(r, r->eval_each);
        dt_eval_figures x = {e.has_map ? e.map50 : NAN, e.has_verify ? e.v.auc : NAN, e.has_verify ? e.v.acc : NAN,
                             e.has_verify ? e.v.thr : NAN};
        if (e.has_verify) acc = NAN; /* the test split's identities are no classes of the model */
        if (r->metrics && !r->io_err)
            r->io_err = dt_metrics_log_eval(r->metrics, step, epoch, names[i], e.loss, acc, &x, lr, now, &lv);
        dt_event ev = {.kind = DT_EV_EVAL, .step = step, .epoch = epoch, .split = names[i],
                       .loss = e.loss, .accuracy = acc, .correct = e.correct, .count = e.count,
                       .seconds = now, .nlosses = lv.n, .loss_names = lv.names, .losses = lv.values,
                       .has_map = e.has_map, .map50 = e.map50, .has_verify = e.has_verify, .verify_auc = e.v.auc,
                       .verify_acc = e.v.acc, .verify_thr = e.v.thr};
        emit(r, ev);
        if (i == 1) r->last_eval = ev;
    }
    return DT_OK;
}

/* Under ZeRO-1 each rank holds one block of the optimizer state; a
 * checkpoint holds it whole. Whole-model arrays (allocated here, outside the
 * step; agreed): on rank 0 to save, on every rank to load (the load broadcasts). */
static dt_status whole_state(run *r, dt_real **full, int everywhere)
{
    dt_status st = DT_OK;
    for (int k = 0; k < dt_optim_nstate(&r->o) && !st && (everywhere || r->s.rank == 0); k++)
        if (!(full[k] = dt_alloc((size_t)(r->s.net->ntrain + 1) * sizeof(dt_real))))
            st = dt_error(DT_ERR_NOMEM, "out of memory for the whole optimizer state");
    return dt_comm_agree(r->s.comm, st);
}

static dt_status gather_state(run *r, dt_real **full)
{
    DT_TRY(whole_state(r, full, 0));
    for (int k = 0; k < dt_optim_nstate(&r->o); k++) {
        if (r->s.rank == 0) memcpy(full[k] + r->opt_off, r->state[k], (size_t)r->opt_len * sizeof(dt_real));
        DT_TRY(dt_reducer_gather(r->red, r->state[k], full[k], r->s.net->ntrain));
    }
    return DT_OK;
}

/* [train] keep = K > 1: checkpoints are DIR/ckpt-<step>.h5, checkpoint.h5
 * links to the newest, and all but the newest K are removed. */
static void step_path(const run *r, int64_t step, char *buf, size_t size)
{
    if (r->t.keep > 1) snprintf(buf, size, "%s/ckpt-%08lld.h5", r->out, (long long)step);
    else snprintf(buf, size, "%s", r->ckpt);
}

static dt_status link_latest(const run *r, const char *path)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.link", r->ckpt);
    unlink(tmp);
    const char *base = strrchr(path, '/');
    /* a new link renamed over the old one: checkpoint.h5 is never missing */
    if (symlink(base ? base + 1 : path, tmp) || rename(tmp, r->ckpt))
        return dt_error(DT_ERR_IO, "%s: cannot link the latest checkpoint: %s", r->ckpt, strerror(errno));
    return DT_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Keep the newest K checkpoints up to `step` (files of a later step are
 * another run's: left alone), and remove temporary files a killed writer left. */
static void prune(const run *r, int64_t step)
{
    DIR *d = opendir(r->out);
    if (!d) return;
    int64_t *steps = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long long st;
        char tail[64];
        if (sscanf(e->d_name, "ckpt-%lld.%63s", &st, tail) != 2) continue;
        if (!strncmp(tail, "h5.tmp.", 7)) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", r->out, e->d_name);
            unlink(path);
            continue;
        }
        if (strcmp(tail, "h5") || st > step) continue;
        if (n == cap) {
            int64_t *more = realloc(steps, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *steps);
            if (!more) break;
            steps = more;
        }
        steps[n++] = st;
    }
    closedir(d);
    qsort(steps, (size_t)n, sizeof *steps, cmp_i64);
    for (int i = 0; i + r->t.keep < n; i++) {
        char path[4300];
        step_path(r, steps[i], path, sizeof path);
        unlink(path);
    }
    free(steps);
}

static dt_status save(run *r, const dt_progress *pr)
{
    double tt = dt_trace_now();
    dt_real *full[2] = {NULL, NULL}, **state = r->state;
    dt_status st = r->t.zero ? gather_state(r, full) : DT_OK;
    if (r->t.zero) state = full;
    char path[4300];
    step_path(r, pr->step, path, sizeof path);
    if (!st) st = r->io_err;
    dt_comm_patient(r->s.comm, 1); /* the others wait while rank 0 alone writes */
    if (r->s.rank == 0 && !st) {
        st = dt_ckpt_save_run(path, &r->s, &r->o, state, pr);
        if (!st && r->t.keep > 1) st = link_latest(r, path);
        if (!st && r->t.keep > 1) prune(r, pr->step);
    }
    for (int k = 0; k < 2; k++) dt_free(full[k]);
    st = dt_comm_agree(r->s.comm, st);
    dt_comm_patient(r->s.comm, 0);
    DT_TRY(st);
    dt_trace_span("checkpoint", "io", DT_TRACE_COMPUTE, tt, dt_trace_now(), "step", pr->step, NULL, 0);
    emit(r, (dt_event){.kind = DT_EV_CKPT, .step = pr->step, .epoch = pr->epoch, .text = path});
    return DT_OK;
}

/* Continue from a checkpoint: at any rank count, provided the steps cut the
 * epoch the same way (or the checkpoint is at an epoch boundary). */
static dt_status resume(run *r, dt_progress *pr)
{
    dt_real *full[2] = {NULL, NULL};
    dt_status st = r->t.zero ? whole_state(r, full, 1) : DT_OK;
    dt_comm_patient(r->s.comm, 1); /* the others wait while rank 0 alone reads */
    if (!st) st = dt_ckpt_load_run(r->a->resume, &r->s, &r->o, r->t.zero ? full : r->state, pr);
    dt_comm_patient(r->s.comm, 0);
    for (int k = 0; !st && r->t.zero && k < dt_optim_nstate(&r->o); k++)
        memcpy(r->state[k], full[k] + r->opt_off, (size_t)r->opt_len * sizeof(dt_real));
    for (int k = 0; k < 2; k++) dt_free(full[k]);
    DT_TRY(st);
    const dt_setup *s = &r->s;
    int64_t g = r->pl.global;
    /* written after the last step of an epoch: the next run starts a new one */
    int mid = pr->epoch_step > 0 && (!pr->global_batch || pr->epoch_step * pr->global_batch < s->train->total);
    if (mid && pr->global_batch && pr->global_batch != g)
        return dt_error(DT_ERR_CONFIG, "%s: written mid-epoch with a global batch of %lld rows; this run's is %lld "
                                       "(set [train] global_batch = %lld to resume at %d ranks)",
                        r->a->resume, (long long)pr->global_batch, (long long)g, (long long)pr->global_batch, s->nranks);
    if (mid && s->sharding == DT_SHARD_CONTIGUOUS && pr->ranks && pr->ranks != s->nranks)
        return dt_error(DT_ERR_CONFIG, "%s: written mid-epoch at %lld ranks with contiguous shards; resume at %lld ranks "
                                       "or from a checkpoint at an epoch boundary (the shards depend on the rank count)",
                        r->a->resume, (long long)pr->ranks, (long long)pr->ranks);
    if (!mid && pr->epoch_step > 0) {
        pr->epoch++;
        pr->epoch_step = 0;
    }
    return DT_OK;
}

/* Peak resident memory of every rank, on one line. */
static dt_status report_memory(run *r)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double *all = calloc((size_t)r->s.nranks, sizeof *all);
    if (!all) return dt_error(DT_ERR_NOMEM, "out of memory");
    dt_status st = dt_comm_gather_f64(r->s.comm, (double)ru.ru_maxrss / 1024.0, all);
    if (!st && r->s.rank == 0) {
        char line[512];
        int len = snprintf(line, sizeof line, "peak resident memory per rank (MiB):");
        for (int q = 0; q < r->s.nranks && len < (int)sizeof line - 16; q++)
            len += snprintf(line + len, sizeof line - (size_t)len, " %.0f", all[q]);
        emit(r, (dt_event){.kind = DT_EV_NOTE, .text = line});
    }
    free(all);
    return st;
}

/* Learning rate of a step: the schedule's, times the linear scaling rule's
 * factor, ramped up linearly over the warmup steps. The schedule's clock is
 * the configured epochs' steps, not max_steps, so a run stopped early and
 * resumed follows the same curve. */
static double lr_at(const run *r, int64_t epoch, int64_t step)
{
    double all = (double)(r->t.epochs * r->pl.steps);
    double lr = dt_optim_lr(&r->o, epoch, all > 0 ? (double)step / all : 0) * r->scale;
    if (r->t.warmup && step < r->t.warmup) lr *= (double)(step + 1) / (double)r->t.warmup;
    return lr;
}

static void append(char *line, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *line, size_t size, const char *fmt, ...)
{
    size_t len = strlen(line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + len, size - len, fmt, ap);
    va_end(ap);
}

/* Lines at the start: how a step is cut and reduced, its learning rate,
 * and what the optimizer state costs per rank. */
static void describe_step(run *r)
{
    char line[1024];
    const dt_setup *s = &r->s;
    int P = s->nranks;
    int64_t G = r->pl.global;
    if (r->t.deterministic)
        snprintf(line, sizeof line, "step: global batch %lld = %d rank%s x %lld micro-batch%s of %lld rows, summed in a fixed tree "
                                    "(deterministic: bitwise the same at 1, 2, 4 ... ranks dividing %lld)",
                 (long long)G, P, P > 1 ? "s" : "", (long long)r->pl.nmicro, r->pl.nmicro > 1 ? "es" : "",
                 (long long)r->pl.micro, (long long)(G / r->pl.micro));
    else {
        snprintf(line, sizeof line, "step: global batch %lld = %d rank%s x %lld rows", (long long)G, P, P > 1 ? "s" : "",
                 (long long)(G / P / r->pl.nmicro));
        if (r->pl.nmicro > 1) append(line, sizeof line, " x %lld accumulation steps", (long long)r->pl.nmicro);
        if (P > 1 && dt_reducer_overlaps(r->red))
            append(line, sizeof line, ", gradients summed %s", dt_reducer_method(r->red));
        else if (P > 1)
            append(line, sizeof line, ", gradients %s after backward %s", r->t.zero ? "reduce-scattered (ZeRO-1)" : "summed",
                   dt_reducer_method(r->red));
    }
    append(line, sizeof line, "; learning rate %g", lr_at(r, 0, r->t.warmup));
    if (r->t.lr_linear)
        append(line, sizeof line, " = %g x %lld / %ld (linear scaling)", r->o.lr, (long long)G, r->t.base_batch);
    if (r->t.warmup) append(line, sizeof line, " after %ld warmup steps", r->t.warmup);
    emit(r, (dt_event){.kind = DT_EV_NOTE, .text = line});
    if (!r->t.zero) return;
    double ns = dt_optim_nstate(&r->o) * (double)sizeof(dt_real) / 1024;
    snprintf(line, sizeof line, "optimizer state per rank: %.1f KiB (ZeRO-1 block of %lld of %lld values; %.1f KiB unsharded)",
             ns * (double)r->opt_len, (long long)r->opt_len, (long long)s->net->ntrain, ns * (double)s->net->ntrain);
    emit(r, (dt_event){.kind = DT_EV_NOTE, .text = line});
}

static dt_status loop(run *r)
{
    dt_setup *s = &r->s;
    dt_net *net = s->net;
    dt_progress pr = {0};
    /* identical initial parameters everywhere: rank 0 drew them, now broadcasts */
    DT_TRY(dt_comm_bcast_real(r->s.comm, net->params, net->nparams, 0));
    DT_TRY(dt_comm_bcast_real(r->s.comm, net->bufs, net->nbufs, 0));
    /* fine-tuning: another run's parameters, a fresh optimizer (--resume continues a run instead) */
    if (r->t.weights && !r->a->resume) DT_TRY(dt_ckpt_load_run(r->t.weights, s, NULL, NULL, NULL));
    if (r->a->resume) DT_TRY(resume(r, &pr));
    pr.global_batch = r->pl.global;
    if (pr.epoch_step >= r->pl.steps) {
        pr.epoch++;
        pr.epoch_step = 0;
    }
    dt_status st = DT_OK;
    if (s->rank == 0) {
        st = dt_make_dir(r->out);
        if (!st) {
            char mpath[4200];
            snprintf(mpath, sizeof mpath, "%s/metrics.jsonl", r->out);
            st = dt_metrics_open(mpath, r->a->resume != NULL, &r->metrics);
        }
    }
    DT_TRY(dt_comm_agree(r->s.comm, st));

    char line[768], frozen[160] = "";
    if (net->nfrozen)
        snprintf(frozen, sizeof frozen, " trained (%lld frozen, left out of the gradient sum: %lld of %lld values reduced per step)",
                 (long long)net->nfrozen, (long long)(net->ntrain + net->nstats), (long long)(net->nparams + net->nstats));
    snprintf(line, sizeof line,
             "%d rank%s, %s, %lld examples (%s sharding), %s %lld rows, %lld steps per epoch, %ld epochs, %lld parameters%s, optimizer %s, BLAS %s",
             s->nranks, s->nranks > 1 ? "s" : "", DT_REAL_NAME, (long long)s->train->total,
             s->sharding == DT_SHARD_GLOBAL ? "global" : "contiguous: results depend on the rank count",
             s->sharding == DT_SHARD_GLOBAL ? "global batch" : "batch per rank",
             (long long)(s->sharding == DT_SHARD_GLOBAL ? r->pl.gbatch : r->pl.rbatch),
             (long long)r->pl.steps, r->t.epochs, (long long)net->ncount - net->nfrozen,
             frozen, (const char *[]){"gd", "momentum", "rmsprop", "adam"}[r->o.kind], dt_blas_name());
    int64_t total = r->t.epochs * r->pl.steps;
    if (r->t.max_steps && r->t.max_steps < total) total = r->t.max_steps;
    emit(r, (dt_event){.kind = DT_EV_START, .epochs = r->t.epochs, .steps_per_epoch = r->pl.steps, .text = line,
                       .total_steps = total, .log_every = r->t.log_every});
    describe_step(r);

    double t0 = dt_comm_time(), tlog = t0, tstep = 0, tlive = t0;
    int64_t seen = 0, trained = 0;
    int stop = 0, halt = 0; /* stop: max_steps reached mid-epoch; halt: after_eval ended the run */
    for (int64_t e = pr.epoch; e < r->t.epochs && !stop && !halt; e++) {
        dt_sampler_epoch(&r->smp, e);
        double lr = lr_at(r, e, pr.step), te = dt_comm_time(), tckpt = 0;
        double ep_loss = 0, ep_correct = 0; /* the epoch's means, for DT_EV_EPOCH */
        int64_t ep_count = 0;
        for (int k = 0; k < net->nlosses; k++) r->ep_each[k] = 0;
        for (int64_t st_i = pr.epoch_step; st_i < r->pl.steps; st_i++) {
            step_result res;
            lr = lr_at(r, e, pr.step);
            DT_TRY(dt_run_step(r, st_i, e, pr.step, lr, &res));
            int64_t count = res.count;
            double loss = res.loss;
            if (res.skipped) {
                snprintf(line, sizeof line, "step %lld (epoch %lld): a loss or gradient is not finite; step skipped ([train] nonfinite = skip)",
                         (long long)pr.step, (long long)e);
                emit(r, (dt_event){.kind = DT_EV_NOTE, .text = line});
                loss = NAN; /* it measured nothing: its log line leaves loss and accuracy out */
                res.correct = NAN;
                for (int k = 0; k < net->nlosses; k++) r->loss_each[k] = NAN;
            }
            double sums[2] = {0, res.correct};
            dt_loss_values step_lv = loss_values(r, res.each);
            if (!res.skipped) { /* a skipped step trained nothing: not part of the epoch's means */
                ep_loss += loss * (double)count;
                ep_correct += sums[1];
                ep_count += count;
                for (int k = 0; k < net->nlosses; k++) r->ep_each[k] += res.each[k] * (double)count;
            }
            if (r->t.log_every && pr.step % r->t.log_every == 0) {
                double now = dt_comm_time();
                double ips = (double)(seen + count) / (now - tlog > 1e-9 ? now - tlog : 1e-9);
                /* a failed log line must not stop rank 0 alone mid-step: remember it for the next agreement */
                if (r->metrics && !r->io_err)
                    r->io_err = dt_metrics_log_losses(r->metrics, pr.step, e, "batch", loss, sums[1] / (double)count, lr,
                                                      now - t0, &step_lv);
                emit(r, (dt_event){.kind = DT_EV_STEP, .step = pr.step, .epoch = e, .epochs = r->t.epochs,
                                   .steps_per_epoch = r->pl.steps, .loss = loss, .accuracy = sums[1] / (double)count,
                                   .lr = lr, .images_per_s = ips, .seconds = now - t0, .total_steps = total,
                                   .nlosses = step_lv.n, .loss_names = step_lv.names, .losses = step_lv.values});
                tlog = tlive = now;
                seen = 0;
            } else {
                seen += count;
                /* a live display redraws a few times a second: no more events than that */
                if (r->a->live_steps && s->rank == 0) {
                    double now = dt_comm_time();
                    if (now - tlive >= 0.1) {
                        emit(r, (dt_event){.kind = DT_EV_STEP, .step = pr.step, .epoch = e, .epochs = r->t.epochs,
                                           .steps_per_epoch = r->pl.steps, .loss = loss,
                                           .accuracy = sums[1] / (double)count, .lr = lr,
                                           .images_per_s = (double)seen / (now - tlog), .seconds = now - t0,
                                           .total_steps = total, .live_only = 1, .nlosses = step_lv.n,
                                           .loss_names = step_lv.names, .losses = step_lv.values});
                        tlive = now;
                    }
                }
            }
            pr.step++;
            trained += count;
            pr.epoch_step = st_i + 1;
            pr.epoch = e;
            if (r->t.ckpt_steps && pr.step % r->t.ckpt_steps == 0 && st_i + 1 < r->pl.steps) {
                double tc = dt_comm_time();
                DT_TRY(save(r, &pr));
                tckpt += dt_comm_time() - tc;
            }
            if (r->t.max_steps && pr.step >= r->t.max_steps) {
                stop = 1;
                break;
            }
        }
        double tepoch = dt_comm_time() - te - tckpt;
        tstep += tepoch;
        if (!stop) {
            pr.epoch = e + 1;
            pr.epoch_step = 0;
        }
        int last = stop || e + 1 == r->t.epochs;
        if (!last && r->t.eval_every && (e + 1) % r->t.eval_every == 0) {
            DT_TRY(log_eval(r, pr.step, e + 1, lr, t0, 0));
            if (r->a->after_eval && r->s.test->total > 0) {
                DT_TRY(r->a->after_eval(r->a->user, &r->last_eval, &halt));
                last = halt;
            }
        }
        for (int k = 0; ep_count && k < net->nlosses; k++) r->ep_each[k] /= (double)ep_count;
        dt_loss_values ep_lv = loss_values(r, r->ep_each);
        if (!stop && ep_count)
            emit(r, (dt_event){.kind = DT_EV_EPOCH, .nlosses = ep_lv.n, .loss_names = ep_lv.names, .losses = ep_lv.values, .step = pr.step, .epoch = e + 1, .epochs = r->t.epochs,
                               .steps_per_epoch = r->pl.steps, .loss = ep_loss / (double)ep_count,
                               .accuracy = ep_correct / (double)ep_count, .lr = lr, .step_seconds = tepoch,
                               .images_per_s = tepoch > 0 ? (double)ep_count / tepoch : 0,
                               .seconds = dt_comm_time() - t0});
        if (last || (r->t.ckpt_every && (e + 1) % r->t.ckpt_every == 0)) DT_TRY(save(r, &pr));
        /* the next examples/s measures training, not this evaluation or checkpoint */
        tlog = tlive = dt_comm_time();
        seen = 0;
    }
    DT_TRY(log_eval(r, pr.step, pr.epoch, lr_at(r, pr.epoch, pr.step), t0, 1));
    DT_TRY(dt_comm_agree(r->s.comm, r->io_err));
    int same;
    DT_TRY(dt_comm_replicas_equal(r->s.comm, net->params, net->nparams, &same));
    if (same) DT_TRY(dt_comm_replicas_equal(r->s.comm, net->bufs, net->nbufs, &same));
    if (!same) return dt_error(DT_ERR_DIST, "the ranks ended with different parameters (a bug: please report it)");
    snprintf(line, sizeof line, "parameters identical on all %d ranks", s->nranks);
    emit(r, (dt_event){.kind = DT_EV_NOTE, .text = line});
    DT_TRY(report_memory(r));
    emit(r, (dt_event){.kind = DT_EV_END, .step = pr.step, .epoch = pr.epoch, .seconds = dt_comm_time() - t0,
                       .images_per_s = tstep > 0 ? (double)trained / tstep : 0, .step_seconds = tstep, .text = r->ckpt,
                       .comm_wait_s = dt_reducer_wait_seconds(r->red) + r->sums_wait});
    return DT_OK;
}

dt_status dt_train(const dt_run_args *a)
{
    run *r = calloc(1, sizeof *r);
    if (!r) return dt_error(DT_ERR_NOMEM, "out of memory");
    r->a = a;
    dt_status st = DT_OK;
    char tpath[4200];
    if (a->trace) { /* one file per rank: FILE.rank<R>.json */
        const char *dot = strrchr(a->trace, '.');
        int stem = dot && !strcmp(dot, ".json") ? (int)(dot - a->trace) : (int)strlen(a->trace);
        snprintf(tpath, sizeof tpath, "%.*s.rank%d.json", stem, a->trace, dt_comm_rank(a->comm));
        st = dt_trace_open(tpath, dt_comm_rank(a->comm), 0);
        st = dt_comm_agree(a->comm, st); /* a rank that cannot write its trace must not leave the others in setup */
    }
    if (!st) st = setup_run(r);
    st = dt_comm_agree(a->comm, st);
    if (!st) st = loop(r);
    if (a->trace && dt_trace_enabled()) {
        dt_status tw = dt_trace_write();
        if (!st) st = tw;
        dt_trace_close();
    }
    /* Errors are agreed, so every rank ends here together and may free the
     * shared gradient window collectively, unless the communicator broke:
     * then a late rank's collective may still write into the gradients,
     * parameters and sums, so the run is kept, not freed (the process is
     * about to end, or its group takes no more work). */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", dt_errmsg());
    int together = !dt_comm_broken(a->comm) && dt_comm_agree(a->comm, DT_OK) == DT_OK;
    if (st) dt_error(st, "%s", msg);
    if (dt_comm_broken(a->comm)) {
        dt_comm_keep(r);
        return st ? st : dt_comm_check(a->comm);
    }
    free_run(r, together);
    free(r);
    return st;
}
