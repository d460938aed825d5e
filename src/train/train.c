/* train.c — the data-parallel training loop.
 *
 * Every rank runs the same loop. Each step, the ranks split one global
 * batch, compute the gradient of (their rows' summed loss / global count),
 * sum those gradients in one flat allreduce, and apply the same optimizer
 * update, so parameters stay identical everywhere and equal (to rounding)
 * to a 1-rank run with the same global batch. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "data/augment.h"
#include "dist/dist.h"
#include "io/metrics.h"
#include "train/setup.h"
#include "train/train.h"

typedef struct {
    long epochs, global_batch, batch_per_rank, log_every, eval_every, eval_train, ckpt_every, max_steps;
    long seed;
    int shuffle;
    const char *out;
} train_cfg;

static const char *const shuffles[] = {"none", "seeded", "course", NULL};

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
    if (t->global_batch && t->batch_per_rank)
        return dt_error(DT_ERR_CONFIG, "%s: [train] give global_batch or batch_per_rank, not both",
                        dt_ini_where(c, "train", "batch_per_rank"));
    return DT_OK;
}

/* How the training split is cut into steps. */
typedef struct {
    int64_t steps;      /* per epoch */
    int64_t gbatch;     /* global batch (global mode) */
    int64_t rbatch;     /* per-rank batch (contiguous mode) */
    int64_t local_max;  /* most rows one rank handles in a step */
} plan;

static int64_t block_rows(int64_t total, int r, int p) { return total * (r + 1) / p - total * r / p; }

static dt_status make_plan(const dt_setup *s, const train_cfg *t, plan *pl)
{
    const dt_dataset *d = s->train;
    int P = s->nranks;
    if (s->sharding == DT_SHARD_GLOBAL) {
        int64_t g = t->batch_per_rank ? t->batch_per_rank * P : t->global_batch;
        if (g == 0) g = d->total; /* full-batch gradient descent */
        if (g > d->total)
            return dt_error(DT_ERR_CONFIG, "%s: [train] the global batch (%lld) is larger than the training set (%lld rows)",
                            dt_ini_name(s->cfg), (long long)g, (long long)d->total);
        pl->gbatch = g;
        pl->steps = (d->total + g - 1) / g;
        pl->local_max = (g + P - 1) / P;
        return DT_OK;
    }
    int64_t b = t->batch_per_rank ? t->batch_per_rank : t->global_batch / P;
    int64_t smallest = block_rows(d->total, P - 1, P), largest = block_rows(d->total, 0, P);
    for (int r = 0; r < P; r++) {
        int64_t n = block_rows(d->total, r, P);
        smallest = n < smallest ? n : smallest;
        largest = n > largest ? n : largest;
    }
    if (b == 0) b = largest;
    if (b > smallest)
        return dt_error(DT_ERR_CONFIG, "%s: [train] batch of %lld rows per rank is larger than a rank's shard (%lld rows at %d ranks)",
                        dt_ini_name(s->cfg), (long long)b, (long long)smallest, P);
    pl->rbatch = b;
    pl->steps = (largest + b - 1) / b;
    pl->local_max = b;
    return DT_OK;
}

typedef struct run run;
static dt_status read_augment(run *r);

struct run {
    dt_setup s;
    train_cfg t;
    plan pl;
    dt_optim o;
    dt_real *state[2];
    dt_sampler smp;
    dt_real *xb;
    int32_t *yb;
    int64_t *ids;
    dt_metrics *metrics;
    dt_augment aug;
    int augment;
    char out[4096], ckpt[4200];
    const dt_run_args *a;
    dt_status io_err; /* rank 0's metrics write failure, reported at the next agreement */
};

static void emit(const run *r, dt_event ev)
{
    if (r->s.rank == 0 && r->a->on_event) r->a->on_event(r->a->user, &ev);
}

static void free_run(run *r)
{
    for (int k = 0; k < 2; k++) dt_free(r->state[k]);
    dt_sampler_destroy(&r->smp);
    dt_augment_destroy(&r->aug);
    dt_free(r->xb);
    dt_free(r->yb);
    dt_free(r->ids);
    dt_metrics_close(r->metrics);
    dt_setup_free(&r->s);
}

static dt_status make_dir(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) && errno != EEXIST)
            return dt_error(DT_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return dt_error(DT_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
    return DT_OK;
}

/* [data] augment = none | crop | flip | crop_flip, crop_pad = pixels (2):
 * for image models only. */
static dt_status read_augment(run *r)
{
    static const char *const kinds[] = {"none", "crop", "flip", "crop_flip", NULL};
    int k;
    long pad;
    dt_ini *c = r->s.cfg;
    DT_TRY(dt_ini_enum(c, "data", "augment", "none", kinds, &k));
    DT_TRY(dt_ini_int(c, "data", "crop_pad", 0, 2, 0, 64, &pad));
    if (k == 0) return DT_OK;
    dt_shape in = r->s.net->in;
    if (in.h == 1 && in.w == 1)
        return dt_error(DT_ERR_CONFIG, "%s: [data] augment needs an image model ([input] shape = C,H,W)",
                        dt_ini_where(c, "data", "augment"));
    r->augment = 1;
    return dt_augment_init(&r->aug, k & 1 ? (int)pad : 0, k >= 2, in.c, in.h, in.w, (uint64_t)r->t.seed);
}

/* Rows of this rank's part of step `st`; returns their count. */
static int64_t batch_rows(run *r, int64_t st, int64_t *count)
{
    const dt_dataset *d = r->s.train;
    int64_t start, len;
    if (r->s.sharding == DT_SHARD_GLOBAL) {
        int64_t b0 = st * r->pl.gbatch;
        *count = d->total - b0 < r->pl.gbatch ? d->total - b0 : r->pl.gbatch;
        dt_batch_slice(*count, r->s.rank, r->s.nranks, &start, &len);
        const int64_t *idx = r->smp.perm + b0 + start;
        dt_dataset_gather(d, idx, len, r->xb, r->yb);
        memcpy(r->ids, idx, (size_t)len * sizeof *idx);
        return len;
    }
    *count = 0; /* every rank knows every shard's size, so the count is local arithmetic */
    for (int q = 0; q < r->s.nranks; q++) {
        int64_t n = block_rows(d->total, q, r->s.nranks), left = n - st * r->pl.rbatch;
        *count += left <= 0 ? 0 : left < r->pl.rbatch ? left : r->pl.rbatch;
    }
    start = st * r->pl.rbatch;
    len = d->n - start;
    len = len <= 0 ? 0 : len < r->pl.rbatch ? len : r->pl.rbatch;
    dt_dataset_gather(d, r->smp.perm + start, len, r->xb, r->yb);
    for (int64_t i = 0; i < len; i++) r->ids[i] = d->offset + r->smp.perm[start + i];
    return len;
}

static dt_status setup_run(run *r)
{
    dt_setup *s = &r->s;
    const dt_run_args *a = r->a;
    DT_TRY(dt_setup_config(s, a->config, a->overrides, a->noverrides));
    DT_TRY(read_train(s->cfg, &r->t));
    DT_TRY(dt_optim_read(s->cfg, &r->o));
    DT_TRY(dt_setup_data(s));
    DT_TRY(make_plan(s, &r->t, &r->pl));
    int64_t eval_rows = s->train->n > s->test->n ? s->train->n : s->test->n;
    DT_TRY(dt_setup_net_sized(s, r->pl.local_max, eval_rows < 1024 ? eval_rows : 1024));
    DT_TRY(read_augment(r));
    DT_TRY(dt_ini_check_unused(s->cfg));
    int64_t F = s->train->features, np = s->net->nparams;
    r->xb = dt_alloc((size_t)(r->pl.local_max * F) * sizeof(dt_real));
    r->yb = dt_alloc((size_t)r->pl.local_max * sizeof(int32_t));
    r->ids = dt_alloc((size_t)r->pl.local_max * sizeof(int64_t));
    for (int k = 0; k < dt_optim_nstate(&r->o); k++)
        if (!(r->state[k] = dt_alloc((size_t)np * sizeof(dt_real))))
            return dt_error(DT_ERR_NOMEM, "out of memory for optimizer state");
    if (!r->xb || !r->yb || !r->ids) return dt_error(DT_ERR_NOMEM, "out of memory for batch buffers");
    uint64_t smp_seed = (uint64_t)r->t.seed;
    if (s->sharding == DT_SHARD_CONTIGUOUS) smp_seed = smp_seed * 1000003u + (uint64_t)s->rank;
    DT_TRY(dt_sampler_init(&r->smp, s->train->n, (dt_shuffle)r->t.shuffle, smp_seed));

    /* identical initial parameters everywhere: rank 0 draws, then broadcasts */
    if (s->rank == 0) DT_TRY(dt_net_init(s->net, s->init_seed));
    DT_TRY(dt_dist_bcast_real(s->net->params, np, 0));
    DT_TRY(dt_dist_bcast_real(s->net->bufs, s->net->nbufs, 0));

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

static void allreduce_doubles(double *buf, int n)
{
    if (dt_dist_allreduce_f64(buf, n)) dt_dist_abort(1); /* a collective failed mid-pass: nothing to agree with */
}

/* Evaluate the test split, and the training split too at the end or when
 * [train] eval_train = 1 (on a large set it costs as much as a third of an epoch). */
static dt_status log_eval(run *r, int64_t step, int64_t epoch, double lr, double t0, int final)
{
    const char *names[2] = {"train", "test"};
    const dt_dataset *sets[2] = {r->s.train, r->s.test};
    for (int i = 0; i < 2; i++) {
        dt_eval_result e;
        if (sets[i]->total == 0 || (i == 0 && !final && !r->t.eval_train)) continue;
        DT_TRY(dt_evaluate(&r->s, sets[i], &e));
        double acc = e.count ? (double)e.correct / (double)e.count : 0;
        double now = dt_dist_time() - t0;
        if (r->metrics && !r->io_err) r->io_err = dt_metrics_log(r->metrics, step, epoch, names[i], e.loss, acc, lr, now);
        emit(r, (dt_event){.kind = DT_EV_EVAL, .step = step, .epoch = epoch, .split = names[i],
                           .loss = e.loss, .accuracy = acc, .correct = e.correct, .count = e.count,
                           .seconds = now});
    }
    return DT_OK;
}

static dt_status save(run *r, const dt_progress *pr)
{
    dt_status st = r->io_err;
    if (r->s.rank == 0 && !st) st = dt_ckpt_save_run(r->ckpt, &r->s, &r->o, r->state, pr);
    DT_TRY(dt_dist_agree(st));
    emit(r, (dt_event){.kind = DT_EV_CKPT, .step = pr->step, .epoch = pr->epoch, .text = r->ckpt});
    return DT_OK;
}

/* Peak resident memory of every rank, on one line. */
static dt_status report_memory(run *r)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double *all = calloc((size_t)r->s.nranks, sizeof *all);
    if (!all) return dt_error(DT_ERR_NOMEM, "out of memory");
    dt_status st = dt_dist_gather_f64((double)ru.ru_maxrss / 1024.0, all);
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

static dt_status loop(run *r)
{
    dt_setup *s = &r->s;
    dt_net *net = s->net;
    dt_progress pr = {0};
    if (r->a->resume) DT_TRY(dt_ckpt_load_run(r->a->resume, s, &r->o, r->state, &pr));
    if (pr.epoch_step >= r->pl.steps) {
        pr.epoch++;
        pr.epoch_step = 0;
    }
    dt_status st = DT_OK;
    if (s->rank == 0) {
        st = make_dir(r->out);
        if (!st) {
            char mpath[4200];
            snprintf(mpath, sizeof mpath, "%s/metrics.jsonl", r->out);
            st = dt_metrics_open(mpath, r->a->resume != NULL, &r->metrics);
        }
    }
    DT_TRY(dt_dist_agree(st));

    char line[512];
    snprintf(line, sizeof line,
             "%d rank%s, %s, %lld examples (%s sharding), %s %lld rows, %lld steps per epoch, %ld epochs, %lld parameters, optimizer %s",
             s->nranks, s->nranks > 1 ? "s" : "", DT_REAL_NAME, (long long)s->train->total,
             s->sharding == DT_SHARD_GLOBAL ? "global" : "contiguous: results depend on the rank count",
             s->sharding == DT_SHARD_GLOBAL ? "global batch" : "batch per rank",
             (long long)(s->sharding == DT_SHARD_GLOBAL ? r->pl.gbatch : r->pl.rbatch),
             (long long)r->pl.steps, r->t.epochs, (long long)net->ncount,
             (const char *[]){"gd", "momentum", "rmsprop", "adam"}[r->o.kind]);
    int64_t total = r->t.epochs * r->pl.steps;
    if (r->t.max_steps && r->t.max_steps < total) total = r->t.max_steps;
    emit(r, (dt_event){.kind = DT_EV_START, .epochs = r->t.epochs, .steps_per_epoch = r->pl.steps, .text = line,
                       .total_steps = total, .log_every = r->t.log_every});

    double t0 = dt_dist_time(), tlog = t0, tstep = 0, tlive = t0;
    int64_t seen = 0, trained = 0;
    int stop = 0;
    for (int64_t e = pr.epoch; e < r->t.epochs && !stop; e++) {
        dt_sampler_epoch(&r->smp, e);
        double lr = dt_optim_lr(&r->o, e), te = dt_dist_time();
        double ep_loss = 0, ep_correct = 0; /* the epoch's means, for DT_EV_EPOCH */
        int64_t ep_count = 0;
        for (int64_t st_i = pr.epoch_step; st_i < r->pl.steps; st_i++) {
            int64_t count, n = batch_rows(r, st_i, &count);
            if (r->augment) dt_augment_batch(&r->aug, r->xb, r->ids, n, e);
            dt_pass p = {.n = n, .train = 1, .seed = (uint64_t)r->t.seed, .step = (uint64_t)pr.step, .sample_ids = r->ids,
                         .allreduce = s->nranks > 1 ? allreduce_doubles : NULL};
            double sums[2] = {0, 0};
            int64_t correct = 0;
            dt_net_zero_grads(net);
            /* even with no rows: batch norm joins its collectives on every rank */
            dt_net_forward(net, r->xb, &p);
            dt_net_loss(net, r->yb, n, 1, &sums[0], &correct);
            dt_net_backward(net, r->xb, NULL, &p);
            sums[1] = (double)correct;
            DT_TRY(dt_dist_allreduce_real(net->grads, net->nparams));
            DT_TRY(dt_dist_allreduce_f64(sums, 2));
            /* the mean over the global batch, taken after the sum as the course does (1/m · dZ·Aᵀ) */
            dt_real inv = (dt_real)(1.0 / (double)count);
            for (int64_t i = 0; i < net->nparams; i++) net->grads[i] *= inv;
            double loss = sums[0] / (double)count;
            if (r->o.l2 > 0) loss += dt_net_l2(net, r->o.l2, (double)count, 1);
            if (!isfinite(loss))
                return dt_error(DT_ERR_NUMERIC, "step %lld (epoch %lld): the training loss is %g; lower [optim] lr or check the data",
                                (long long)pr.step, (long long)e, loss);
            ep_loss += loss * (double)count;
            ep_correct += sums[1];
            ep_count += count;
            if (r->t.log_every && pr.step % r->t.log_every == 0) {
                double now = dt_dist_time();
                double ips = (double)(seen + count) / (now - tlog > 1e-9 ? now - tlog : 1e-9);
                /* a failed log line must not stop rank 0 alone mid-step: remember it for the next agreement */
                if (r->metrics && !r->io_err)
                    r->io_err = dt_metrics_log(r->metrics, pr.step, e, "batch", loss, sums[1] / (double)count, lr, now - t0);
                emit(r, (dt_event){.kind = DT_EV_STEP, .step = pr.step, .epoch = e, .epochs = r->t.epochs,
                                   .steps_per_epoch = r->pl.steps, .loss = loss, .accuracy = sums[1] / (double)count,
                                   .lr = lr, .images_per_s = ips, .seconds = now - t0, .total_steps = total});
                tlog = tlive = now;
                seen = 0;
            } else {
                seen += count;
                /* a live display redraws a few times a second: no more events than that */
                if (r->a->live_steps && s->rank == 0) {
                    double now = dt_dist_time();
                    if (now - tlive >= 0.1) {
                        emit(r, (dt_event){.kind = DT_EV_STEP, .step = pr.step, .epoch = e, .epochs = r->t.epochs,
                                           .steps_per_epoch = r->pl.steps, .loss = loss,
                                           .accuracy = sums[1] / (double)count, .lr = lr,
                                           .images_per_s = (double)seen / (now - tlog), .seconds = now - t0,
                                           .total_steps = total, .live_only = 1});
                        tlive = now;
                    }
                }
            }
            dt_optim_step(&r->o, lr, pr.step + 1, net->params, net->grads, r->state, net->nparams);
            pr.step++;
            trained += count;
            pr.epoch_step = st_i + 1;
            pr.epoch = e;
            if (r->t.max_steps && pr.step >= r->t.max_steps) {
                stop = 1;
                break;
            }
        }
        double tepoch = dt_dist_time() - te;
        tstep += tepoch;
        if (!stop) {
            pr.epoch = e + 1;
            pr.epoch_step = 0;
        }
        int last = stop || e + 1 == r->t.epochs;
        if (!last && r->t.eval_every && (e + 1) % r->t.eval_every == 0) DT_TRY(log_eval(r, pr.step, e + 1, lr, t0, 0));
        if (!stop && ep_count)
            emit(r, (dt_event){.kind = DT_EV_EPOCH, .step = pr.step, .epoch = e + 1, .epochs = r->t.epochs,
                               .steps_per_epoch = r->pl.steps, .loss = ep_loss / (double)ep_count,
                               .accuracy = ep_correct / (double)ep_count, .lr = lr, .step_seconds = tepoch,
                               .images_per_s = tepoch > 0 ? (double)ep_count / tepoch : 0,
                               .seconds = dt_dist_time() - t0});
        if (last || (r->t.ckpt_every && (e + 1) % r->t.ckpt_every == 0)) DT_TRY(save(r, &pr));
        /* the next examples/s measures training, not this evaluation or checkpoint */
        tlog = tlive = dt_dist_time();
        seen = 0;
    }
    DT_TRY(log_eval(r, pr.step, pr.epoch, dt_optim_lr(&r->o, pr.epoch), t0, 1));
    DT_TRY(dt_dist_agree(r->io_err));
    int same;
    DT_TRY(dt_dist_replicas_equal(net->params, net->nparams, &same));
    if (same) DT_TRY(dt_dist_replicas_equal(net->bufs, net->nbufs, &same));
    if (!same) return dt_error(DT_ERR_DIST, "the ranks ended with different parameters (a bug: please report it)");
    snprintf(line, sizeof line, "parameters identical on all %d ranks", s->nranks);
    emit(r, (dt_event){.kind = DT_EV_NOTE, .text = line});
    DT_TRY(report_memory(r));
    emit(r, (dt_event){.kind = DT_EV_END, .step = pr.step, .epoch = pr.epoch, .seconds = dt_dist_time() - t0,
                       .images_per_s = tstep > 0 ? (double)trained / tstep : 0, .step_seconds = tstep, .text = r->ckpt});
    return DT_OK;
}

dt_status dt_train(const dt_run_args *a)
{
    run *r = calloc(1, sizeof *r);
    if (!r) return dt_error(DT_ERR_NOMEM, "out of memory");
    r->a = a;
    dt_status st = setup_run(r);
    st = dt_dist_agree(st);
    if (!st) st = loop(r);
    free_run(r);
    free(r);
    return st;
}
