/* bench_cmd.c — `dtrain bench CONFIG [--steps N] [--batch N] [key=value ...]`:
 * where a training step's time goes, layer by layer.
 *
 * The config's data and model are set up as for training; every rank then
 * runs forward, losses and backward on its first `batch` training rows,
 * over and over, with the network timing each layer (dt_net_time_into).
 * Gradients are not reduced and no update is made: the figures are the
 * layers' compute, on a core shared with the other ranks as in training.
 * Rank 0 prints its table and, for scale, this core's sgemm rate on large
 * square products (the practical peak the layers are measured against). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "bench_cmd.h"
#include "train/setup.h"
#include "train/train.h"

const char *const dt_cli_bench_usage =
    "usage: dtrain bench CONFIG [--steps N] [--batch N] [--no-fold] [section.key=value ...]\n"
    "\n"
    "Where the training step of CONFIG spends its time: forward, losses and\n"
    "backward on the first rows of the training split, repeated (--steps, default\n"
    "20, after 3 untimed), timing every layer. Prints per layer the milliseconds\n"
    "of forward and backward (medians over the steps), its share of the median\n"
    "step and the GFLOP/s of layers with weights; then the step's images/s and GFLOP/s against this\n"
    "core's sgemm peak. --batch: rows per step (default: the rows of one forward\n"
    "pass on a rank, as training runs them). --no-fold: keep relu layers apart from the batch norm or convolution\n"
    "before them (the network folds them in: the time saved shows by comparison).\n"
    "Gradients are not reduced between ranks and no update is made; run it under\n"
    "mpirun -np 2 to measure with both cores busy, as in training.\n";

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best rate of 1024x1024x1024 products over 5 calls (one untimed first). */
static dt_status sgemm_peak(double *gflops)
{
    const int64_t n = 1024;
    dt_real *a = dt_alloc((size_t)(3 * n * n) * sizeof *a);
    if (!a) return dt_error(DT_ERR_NOMEM, "out of memory for the sgemm yardstick");
    for (int64_t i = 0; i < 3 * n * n; i++) a[i] = (dt_real)((i * 7919) % 1000) * (dt_real)1e-3;
    *gflops = 0;
    for (int r = 0; r <= 5; r++) {
        double t = now();
        dt_gemm(0, 0, n, n, n, 1, a, n, a + n * n, n, 0, a + 2 * n * n, n);
        t = now() - t;
        if (r && 2e-9 * (double)(n * n * n) / t > *gflops) *gflops = 2e-9 * (double)(n * n * n) / t;
    }
    dt_free(a);
    return DT_OK;
}

typedef struct {
    long steps, batch;
    int64_t n; /* rows per step */
    double *each;     /* [steps, 2 * nlayers + 2]: each step's layer times (dt_net_time_into), then the step's */
    double *secs;     /* [2 * nlayers + 1]: the median of each over the steps */
    double step_secs; /* the median step */
    double peak;
} bench_run;

static dt_status bench_setup(dt_setup *s, dt_comm *world, const char *config, char **over, int nover, bench_run *b)
{
    DT_TRY(dt_setup_config(s, world, config, over, nover));
    DT_TRY(dt_setup_data(s));
    int64_t rows;
    DT_TRY(dt_train_pass_rows(s, &rows));
    if (!b->batch) b->batch = (long)rows;
    b->n = b->batch < s->train->n ? b->batch : s->train->n;
    if (b->n < 1) return dt_error(DT_ERR_DATA, "%s: the training split is empty on rank %d", config, s->rank);
    DT_TRY(dt_setup_net(s, b->n));
    DT_TRY(dt_ini_check_unused(s->cfg));
    int64_t w = 2 * s->net->nlayers + 2;
    b->each = calloc((size_t)(b->steps * w), sizeof *b->each);
    b->secs = calloc((size_t)w, sizeof *b->secs);
    if (!b->each || !b->secs) return dt_error(DT_ERR_NOMEM, "out of memory");
    return DT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Forward, losses and backward on the first n rows, `steps` times after 3 untimed. */
static dt_status bench_steps(dt_setup *s, bench_run *b)
{
    dt_net *net = s->net;
    const dt_dataset *d = s->train;
    int64_t *ids = malloc((size_t)b->n * sizeof *ids);
    double *sums = calloc((size_t)dt_net_nsums(net), sizeof *sums);
    if (!ids || !sums) {
        free(ids);
        free(sums);
        return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < b->n; i++) ids[i] = d->offset + i;
    dt_targets tg = {.labels = d->y, .dense = d->t};
    const int64_t w = 2 * net->nlayers + 2;
    for (long k = 0; k < b->steps + 3; k++) {
        double *row = k >= 3 ? b->each + (k - 3) * w : NULL, t0 = now();
        dt_net_time_into(net, row);
        dt_pass p = {.n = b->n, .train = 1, .seed = 1, .step = (uint64_t)k, .sample_ids = ids};
        int64_t correct = 0;
        dt_net_zero_grads(net);
        dt_net_forward(net, d->x, &p);
        dt_net_loss(net, &tg, b->n, (dt_real)1 / (dt_real)b->n, sums, &correct);
        dt_net_backward(net, d->x, NULL, &p);
        dt_net_commit_stats(net);
        if (row) row[w - 1] = now() - t0;
    }
    dt_net_time_into(net, NULL);
    /* medians over the steps: a step the machine took elsewhere moves none of them */
    double *col = malloc((size_t)b->steps * sizeof *col);
    if (!col) {
        free(ids);
        free(sums);
        return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    for (int64_t j = 0; j < w; j++) {
        for (long k = 0; k < b->steps; k++) col[k] = b->each[k * w + j];
        qsort(col, (size_t)b->steps, sizeof *col, cmp_double);
        double m = b->steps % 2 ? col[b->steps / 2] : (col[b->steps / 2 - 1] + col[b->steps / 2]) / 2;
        if (j < w - 1) b->secs[j] = m;
        else b->step_secs = m;
    }
    free(col);
    free(ids);
    free(sums);
    return sgemm_peak(&b->peak);
}

static void shape_str(dt_shape s, char *buf, size_t n)
{
    if (s.h == 1 && s.w == 1) snprintf(buf, n, "%d", s.c);
    else snprintf(buf, n, "%dx%dx%d", s.c, s.h, s.w);
}

static void bench_print(const dt_setup *s, const bench_run *b)
{
    const dt_net *net = s->net;
    const int L = net->nlayers;
    const double ms = 1e3, step_ms = b->step_secs * 1e3;
    double flops = 0;
    int folded = 0;
    for (int i = 0; i < L; i++) folded += net->layers[i].folded;
    printf("bench: %s, %lld rows per step on each of %d rank%s, %ld steps (after 3 untimed), %d activation%s folded\n",
           s->model_path, (long long)b->n, s->nranks, s->nranks > 1 ? "s" : "", b->steps, folded, folded == 1 ? "" : "s");
    printf("%-18s %-10s %-11s %9s %9s %7s %8s\n", "layer", "type", "output", "fwd ms", "bwd ms", "% step", "GFLOP/s");
    for (int i = 0; i < L; i++) {
        const dt_layer *l = &net->layers[i];
        double f = dt_layer_flops(l) * (double)b->n, t = b->secs[i] + b->secs[L + i];
        /* backward costs twice the forward's products (input and weight gradients) where both run */
        double work = f * (l->runs_backward ? 3 : 1);
        char sh[48], gf[16] = "";
        shape_str(l->out, sh, sizeof sh);
        if (f > 0 && t > 0) snprintf(gf, sizeof gf, "%8.1f", work / t * 1e-9);
        printf("%-18.18s %-10.10s %-11s %9.3f %9.3f %7.1f %8s\n", l->name, l->ops->type, sh, b->secs[i] * ms,
               b->secs[L + i] * ms, 100 * t * ms / step_ms, gf);
        flops += work;
    }
    double layers = 0;
    for (int i = 0; i < 2 * L + 1; i++) layers += b->secs[i];
    printf("%-18s %-10s %-11s %9.3f %9s %7.1f\n", "(losses)", "", "", b->secs[2 * L] * ms, "",
           100 * b->secs[2 * L] * ms / step_ms);
    printf("%-18s %-10s %-11s %9.3f %9s %7.1f\n", "(outside layers)", "", "", step_ms - layers * ms, "",
           100 * (step_ms - layers * ms) / step_ms);
    printf("step: %.2f ms, %.0f images/s, %.1f MFLOP per image, %.1f GFLOP/s = %.0f%% of this core's sgemm peak "
           "(%.1f GFLOP/s, %s)\n",
           step_ms, (double)b->n / b->step_secs, flops / (double)b->n * 1e-6, flops / b->step_secs * 1e-9,
           100 * flops / b->step_secs * 1e-9 / b->peak, b->peak, dt_blas_name());
}

int dt_cli_bench(int argc, char **argv, dt_comm *world)
{
    int rank = dt_comm_rank(world), nover = 0;
    const char *config = NULL;
    bench_run b = {.steps = 20};
    char **over = calloc((size_t)argc + 1, sizeof *over);
    if (!over) return dt_cli_usage_error(rank, "out of memory", NULL, dt_cli_bench_usage);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *why = "unexpected argument";
        int bad = 0;
        if (!strcmp(a, "--steps")) {
            bad = i + 1 >= argc || !dt_cli_whole(argv[++i], 1, 1000000, &b.steps);
            why = "--steps wants a whole number from 1 to 1000000 after";
        } else if (!strcmp(a, "--batch")) {
            bad = i + 1 >= argc || !dt_cli_whole(argv[++i], 1, 1L << 20, &b.batch);
            why = "--batch wants a whole number from 1 to 1048576 after";
        } else if (!strcmp(a, "--no-fold")) {
            dt_net_set_folding(0);
        } else if (a[0] == '-') bad = 1;
        else if (!config) config = a;
        else if (strchr(a, '=')) over[nover++] = argv[i];
        else bad = 1;
        if (bad) {
            free(over);
            return dt_cli_usage_error(rank, why, a, dt_cli_bench_usage);
        }
    }
    if (!config) {
        free(over);
        return dt_cli_usage_error(rank, "missing CONFIG", NULL, dt_cli_bench_usage);
    }
    dt_setup s = {0};
    dt_status st = dt_comm_agree(world, bench_setup(&s, world, config, over, nover, &b));
    if (!st) st = dt_comm_agree(world, bench_steps(&s, &b));
    if (!st && rank == 0) bench_print(&s, &b);
    free(b.secs);
    free(b.each);
    dt_setup_free(&s);
    free(over);
    if (st && rank == 0) fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
    return !st ? 0 : st == DT_ERR_CONFIG || st == DT_ERR_ARG || st == DT_ERR_DATA || st == DT_ERR_IO ? 2 : 1;
}
