/* main.c — the dtrain command line: train, eval, gradcheck, info, predict, and how
 * progress looks.
 *
 * Every rank runs the same command; rank 0 alone prints. Library statuses
 * become one-line messages and exit codes here (2: bad usage or input
 * files, 1: other failures). */
#include <math.h>
#include <stdarg.h>
#include <errno.h>
#include <signal.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "comm/comm.h"
#include "info.h"
#include "io/ckpt.h"
#include "args.h"
#include "anchors_cmd.h"
#include "bench_cmd.h"
#include "vision_cmds.h"
#include "ops/ops.h"
#include "predict.h"
#include "style_cmd.h"
#include "train/sweep.h"
#include "train/train.h"

static const char *usage_main =
    "usage: dtrain COMMAND [ARGS]\n"
    "\n"
    "Data-parallel training of the deeplearning.ai course networks. Run under\n"
    "`mpirun -np N` for N ranks; a lone process is a 1-rank run.\n"
    "\n"
    "commands:\n"
    "  train CONFIG [section.key=value ...] [--out DIR] [--resume CKPT] [--trace FILE] [--quiet]\n"
    "  eval CONFIG --ckpt FILE [section.key=value ...] [--grid OUT.csv [--grid-size N]]\n"
    "       [--mistakes OUT.png] [--features OUT.h5 LAYER [--split train|test]]\n"
    "  predict --ckpt FILE IMAGE...\n"
    "  gradcheck CONFIG [section.key=value ...]\n"
    "  style --content C.jpg[,D.jpg...] --style S.jpg --out OUT.png [--net MODEL] [--ckpt CKPT] ...\n"
    "  sweep CONFIG --trials N --param KEY=KIND:ARGS ... [--ranks-per-trial G] [--seed S]\n"
    "        [--out DIR] [--no-early-stop] [section.key=value ...]\n"
    "  detect --ckpt CKPT IMAGE... [--out DIR] [--score 0.5] [--iou 0.4] [--size 416]\n"
    "  faces IMAGE... --out FACES.h5       verify A.jpg B.jpg\n"
    "  identify IMAGE --db DB.h5           identify --add NAME IMAGE --db DB.h5\n"
    "  import tfjs MANIFEST.json --model MODEL.ini --out OUT.h5\n"
    "  make-scenes --out SCENES.h5 [--train N] [--test N] [--seed S] ...\n"
    "  anchors CONFIG [--k N] [section.key=value ...]\n"
    "  bench CONFIG [--steps N] [--batch N] [--no-fold] [section.key=value ...]\n"
    "  info FILE.h5\n"
    "\n"
    "`dtrain COMMAND --help` describes each command.\n";

static const char *usage_train =
    "usage: dtrain train CONFIG [section.key=value ...] [--out DIR] [--resume CKPT] [--trace FILE] [--quiet]\n"
    "\n"
    "Train the model that CONFIG names on its data set. Each section.key=value\n"
    "overrides one config key (for example optim.lr=0.01 train.epochs=5).\n"
    "\n"
    "  --out DIR      run directory for metrics.jsonl and checkpoint.h5\n"
    "                 (default: [train] out, else runs/<config name>)\n"
    "  --resume CKPT  continue from a checkpoint written by an earlier run (at any\n"
    "                 rank count; bitwise exact with [dist] deterministic = 1)\n"
    "  --trace FILE   write a timeline per rank, FILE.rank<R>.json (data, forward,\n"
    "                 backward, each allreduce bucket, optimizer, evaluation,\n"
    "                 checkpoint) for chrome://tracing or ui.perfetto.dev\n"
    "  --quiet        print only errors and the final result\n"
    "\n"
    "Progress: on a terminal a live line (epoch, step, loss, accuracy, examples/s,\n"
    "ETA); otherwise one line every [train] log_every steps. Each evaluated epoch\n"
    "([train] eval_every) gets a summary line; the run ends with the train and test\n"
    "accuracy, a `done:` line and a `summary:` line (best and final test accuracy,\n"
    "wall time, checkpoint). DTRAIN_PROGRESS=live or plain overrides the choice,\n"
    "for example through `mpiexec -x DTRAIN_PROGRESS=live`.\n";

static const char *usage_eval =
    "usage: dtrain eval CONFIG --ckpt FILE [section.key=value ...] [--grid OUT.csv [--grid-size N]]\n"
    "                  [--mistakes OUT.png] [--features OUT.h5 LAYER [--split train|test]]\n"
    "\n"
    "Load the parameters of checkpoint FILE into the model that CONFIG names and\n"
    "print loss and accuracy over the training and the test split (each loss by\n"
    "name where the model names them; nothing for a model without a loss).\n"
    "\n"
    "  --grid OUT.csv    for 2-D data: the model's predictions on an N x N grid over\n"
    "                    the training points (plus a 10 % margin), as x,y,p rows (p:\n"
    "                    probability of class 1) or x,y,class (more than 2 classes),\n"
    "                    and the training points as x,y,label in OUT.points.csv;\n"
    "                    `launch/plot.sh --boundary OUT.csv` draws them\n"
    "  --grid-size N     points per side (default 200, at most 2000)\n"
    "  --mistakes OUT.png  for image data: a grid of the misclassified test images\n"
    "                    (the first 64; a strip above each in its true class's\n"
    "                    colour, one below in the predicted class's), every mistake\n"
    "                    as index, true and predicted class in OUT.txt, and the\n"
    "                    confusion matrix (rows true, columns predicted) on stdout\n"
    "  --features OUT.h5 LAYER  write LAYER's activations for every row of a split to\n"
    "                    OUT.h5: /features [rows, ...], /labels or /targets beside them\n"
    "  --split S         the split for --features: train or test (default test, or\n"
    "                    train when the data has no test split)\n";

static const char *usage_predict =
    "usage: dtrain predict --ckpt FILE IMAGE...\n"
    "\n"
    "Classify image files (JPEG, PNG, PPM/PGM, BMP, ...) with the model of\n"
    "checkpoint FILE: each is converted to the model's channels (grey or RGB),\n"
    "resized to its input and scaled to [0, 1]. Prints one line per image:\n"
    "  IMAGE: CLASS (p = P)\n"
    "with the data set's class names where the checkpoint has them (else\n"
    "\"class K\") and P the probability of that class. Runs on rank 0 alone.\n";

static const char *usage_gradcheck =
    "usage: dtrain gradcheck CONFIG [section.key=value ...]\n"
    "\n"
    "Compare the analytic gradient of every parameter tensor with central finite\n"
    "differences on a few training rows and print the relative difference\n"
    "||g - g_num|| / (||g|| + ||g_num||). Exits 0 when it is below 1e-5 in a\n"
    "double build (2e-2 in a float build, where finite differences are coarse).\n";

static const char *usage_sweep =
    "usage: dtrain sweep CONFIG [--trials N] [--param KEY=KIND:ARGS ...] [--ranks-per-trial G]\n"
    "                    [--seed S] [--out DIR] [--no-early-stop] [section.key=value ...]\n"
    "\n"
    "Random search: N trainings of CONFIG, each with its own draw of the\n"
    "parameters, run side by side on groups of G ranks (mpirun -np P: P/G groups;\n"
    "each group takes the next trial when it finishes). Every trial holds out\n"
    "[sweep] dev_fraction (0.1) of the training rows and is judged on that dev\n"
    "split; the test split is evaluated once, for the chosen trial.\n"
    "\n"
    "  --param KEY=KIND:ARGS  a config key (optim.lr) or model key (model.fc1.units):\n"
    "                 log:A:B (log-uniform), 1-log:A:B (1 - value log-uniform, for\n"
    "                 beta), uniform:A:B, int:A:B, choice:X,Y,...\n"
    "  --trials N     how many (default [sweep] trials)\n"
    "  --ranks-per-trial G   ranks per training (default 1)\n"
    "  --seed S       the draws' seed (default [sweep] seed, 0)\n"
    "  --out DIR      sweep.jsonl, table.txt and trial-NNN/ run directories\n"
    "                 (default sweeps/<config name>); run again to resume\n"
    "  --no-early-stop  train every trial to the end (default: successive halving,\n"
    "                 rungs at [sweep] first_rung (1) x eta (3)^k epochs)\n"
    "\n"
    "CONFIG's [sweep] section may hold trials, ranks_per_trial, seed, params\n"
    "(specs separated by ';'), early_stop, eta, first_rung, dev_fraction, out.\n";

static const char *usage_style =
    "usage: dtrain style --content C.jpg[,D.jpg,...] --style S.jpg --out OUT.png [--net MODEL]\n"
    "                    [--ckpt CKPT] [--size HxW] [--content-layer L] [--style-layers a:0.2,b:0.2,...]\n"
    "                    [--alpha 10] [--beta 40] [--iters 200] [--lr 2] [--noise 0.6] [--seed N]\n"
    "                    [--save-every K]\n"
    "\n"
    "Neural style transfer (course 4, week 4): Adam on the pixels of a generated\n"
    "image, started from noise * uniform(-20, 20) + (1 - noise) * content, so that\n"
    "alpha * J_content + beta * sum of lambda_l * J_style,l falls, through a feature\n"
    "network whose weights never change. Under mpirun the content pictures are\n"
    "shared among the ranks; each picture is optimised by one rank.\n"
    "\n"
    "  --net MODEL     the feature network (default models/style/random_multiscale.ini:\n"
    "                  random multi-scale filters, no weights to fetch)\n"
    "  --ckpt CKPT     its weights (default: random, from --seed)\n"
    "  --size HxW      both pictures are resized to it (default 300x400, the course's)\n"
    "  --content-layer L, --style-layers a:0.2,...  layers of the network (default:\n"
    "                  the model's content and style sections)\n"
    "  --out OUT.png   the result (several pictures: OUT-<name>.png); --save-every K\n"
    "                  also writes OUT-iterK.png along the way\n";

static const char *usage_info =
    "usage: dtrain info MODEL.ini [--input C,H,W]\n"
    "       dtrain info FILE.h5\n"
    "\n"
    "A model file: its summary (layers, output shapes, parameter counts, forward\n"
    "FLOPs per example); --input replaces the model's [input] shape. A checkpoint:\n"
    "the same summary, its step and epoch, the run's last metrics, then every\n"
    "group, data set (type and shape) and attribute. Any other HDF5 file: the listing.\n";

/* ---- progress ----------------------------------------------------------
 * On a terminal, rank 0 redraws one live line (epoch, step, loss, accuracy,
 * examples/s, ETA) with \r; elsewhere (files, pipes, batch jobs) it prints
 * a plain line per log_every step. Either way an evaluated epoch (and, once
 * the trainer reports whole epochs, any epoch at least log_every steps
 * long) gets a one-line summary, and the run ends with the final
 * evaluation, `done:` and `summary:` lines, which --quiet keeps alone. */

#define LIVE_PERIOD 0.2 /* seconds between redraws of the live line */

typedef struct {
    int have;
    double loss, accuracy; /* accuracy NaN: no classifier */
    int64_t correct, count;
    char losses[256];      /* each loss, when the model names them: "  [xent 0.31, recon 0.12]" */
} split_result;

/* "  [name value, ...]" for the losses of an event, or "" */
static void fmt_losses(const dt_event *ev, char *buf, size_t size)
{
    buf[0] = 0;
    size_t n = 0;
    for (int k = 0; k < ev->nlosses && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s %.4g%s", k ? ", " : "  [", ev->loss_names[k], ev->losses[k],
                              k + 1 < ev->nlosses ? "" : "]");
}

/* "  accuracy 0.8123" (the label after two spaces, or one with `narrow`),
 * or "" without a classifier */
static const char *fmt_acc(const char *label, double acc, char *buf, size_t size)
{
    int narrow = label[0] == ' ';
    if (isnan(acc)) buf[0] = 0;
    else snprintf(buf, size, "%s%s %.4f", narrow ? "" : "  ", label, acc);
    return buf;
}

typedef struct {
    int quiet, rank, live, cols, training;
    double t_start;            /* wall clock at main(): setup counts too */
    int64_t epochs, spe, total, log_every;
    int64_t step0;             /* first step this run shows (not 0 on resume) */
    double sec0, last_draw, last_epoch_sec;
    int started, shown;        /* a STEP seen; the live line is on screen */
    char line[512];            /* the live line's text */
    int held;                  /* an evaluation waits: is it the final one? */
    int64_t held_step, held_epoch;
    double held_sec;
    split_result tr, te;
    const char *te_name; /* "test", or "dev" ([data] dev_fraction) */
    int last_held;             /* the last epoch's DT_EV_EPOCH waits for the final evaluation */
    dt_event last_epoch;
    int have_best, have_train, have_test_loss; /* over the whole run */
    double final_test_loss;
    double best, final_acc, final_train;
    int have_map, have_verify; /* the last test evaluation's figures, for the summary */
    double final_map, final_auc, final_vacc;
    int64_t best_epoch;
} printer;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double t_main;   /* wall clock at main() */
static int launched;    /* started by an MPI launcher (its variables were set before MPI_Init) */

/* Open MPI hands every rank a pseudo-terminal whatever mpiexec's own output
 * is, so under a launcher ask whether the launcher (our parent on this node)
 * writes to a terminal. DTRAIN_PROGRESS=live|plain overrides. */
static int want_live(void)
{
    const char *env = getenv("DTRAIN_PROGRESS");
    if (env && !strcmp(env, "live")) return 1;
    if (env && !strcmp(env, "plain")) return 0;
    if (!isatty(STDOUT_FILENO)) return 0;
    if (!launched) return 1;
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/%ld/fd/1", (long)getppid());
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = 0;
    return !strncmp(target, "/dev/pts/", 9) || !strncmp(target, "/dev/tty", 8);
}

static int term_cols(void)
{
    struct winsize w;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col >= 20) return w.ws_col;
    const char *c = getenv("COLUMNS");
    return c && atoi(c) >= 20 ? atoi(c) : 80;
}

static void fmt_duration(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* Remaining time from the rate measured since the first step shown; "" while unknown. */
static void eta(const printer *p, const dt_event *ev, char *buf, size_t len)
{
    int64_t total = ev->total_steps ? ev->total_steps : p->total;
    buf[0] = 0;
    if (!p->started || ev->step <= p->step0 || ev->seconds <= p->sec0 || total <= 0) return;
    double rate = (double)(ev->step - p->step0) / (ev->seconds - p->sec0);
    double left = (double)(total - ev->step) / rate;
    fmt_duration(buf, len, left > 0 ? left : 0);
}

/* Take the live line off the screen before printing a line of our own. */
static void live_clear(printer *p)
{
    if (p->shown) fputs("\r\033[K", stdout);
    p->shown = 0;
}

static void live_draw(printer *p)
{
    if (!p->line[0]) return;
    /* never wrap: \r only returns to the start of the last screen row */
    printf("\r%.*s\033[K", p->cols - 1, p->line);
    p->shown = 1;
}

/* A line of its own, with the live line kept below it. */
static void say(printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(printer *p, const char *fmt, ...)
{
    va_list ap;
    int redraw = p->shown;
    live_clear(p);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (redraw) live_draw(p);
}

static void on_step(printer *p, const dt_event *ev)
{
    if (!p->started) {
        p->started = 1;
        p->step0 = ev->step;
        p->sec0 = ev->seconds;
        p->last_draw = -1e9;
    }
    if (p->quiet) return;
    char left[32];
    eta(p, ev, left, sizeof left);
    char acc[48], each[256];
    fmt_losses(ev, each, sizeof each);
    if (!p->live) {
        if (ev->live_only) return;
        printf("epoch %lld/%lld  step %lld  loss %.6f%s  lr %.3g  %.0f examples/s%s%s%s\n", (long long)ev->epoch + 1,
               (long long)ev->epochs, (long long)ev->step, ev->loss, fmt_acc("accuracy", ev->accuracy, acc, sizeof acc),
               ev->lr, ev->images_per_s, left[0] ? "  ETA " : "", left, each);
        return;
    }
    int64_t total = ev->total_steps ? ev->total_steps : p->total;
    double ips = ev->images_per_s;
    char rate[32];
    if (ips >= 1e6) snprintf(rate, sizeof rate, "%.1fM", ips / 1e6);
    else if (ips >= 1e4) snprintf(rate, sizeof rate, "%.0fk", ips / 1e3);
    else snprintf(rate, sizeof rate, "%.0f", ips);
    /* short enough for 80 columns in the common cases; full-batch runs have one step per epoch */
    int n = snprintf(p->line, sizeof p->line, "epoch %lld/%lld  ", (long long)ev->epoch + 1, (long long)ev->epochs);
    if (ev->steps_per_epoch != 1)
        n += snprintf(p->line + n, sizeof p->line - (size_t)n, "step %lld/%lld  ", (long long)ev->step, (long long)total);
    snprintf(p->line + n, sizeof p->line - (size_t)n, "%.0f%%  loss %.4f%s  %s img/s  ETA %s%s",
             total > 0 ? 100.0 * (double)ev->step / (double)total : 0.0, ev->loss,
             fmt_acc("acc", ev->accuracy, acc, sizeof acc), rate, left[0] ? left : "?", each);
    if (ev->seconds - p->last_draw < LIVE_PERIOD) return;
    p->last_draw = ev->seconds;
    live_draw(p);
}

static void print_final_eval(const split_result *r, const char *split)
{
    if (!r->have) return;
    if (isnan(r->accuracy)) printf("%-5s loss %.6f (%lld rows)%s\n", split, r->loss, (long long)r->count, r->losses);
    else
        printf("%-5s loss %.6f  accuracy %.6f (%lld/%lld)%s\n", split, r->loss, r->accuracy, (long long)r->correct,
               (long long)r->count, r->losses);
}

/* One line for a finished epoch: its evaluation where there is one, else
 * the means over its training batches (ep, from DT_EV_EPOCH). */
static void epoch_summary(printer *p, int64_t epoch, double sec, const dt_event *ep)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "epoch %lld/%lld done in %.1f s", (long long)epoch, (long long)p->epochs,
                     sec - p->last_epoch_sec);
    const char *sep = ": ";
    p->last_epoch_sec = sec;
    if (ep) {
        char acc[48];
        n += snprintf(buf + n, sizeof buf - (size_t)n, " (%.0f examples/s): batches loss %.4f%s", ep->images_per_s,
                      ep->loss, fmt_acc(" accuracy", ep->accuracy, acc, sizeof acc));
        sep = "; ";
    }
    if (p->tr.have) {
        char acc[48];
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%strain loss %.4f%s", sep, p->tr.loss,
                      fmt_acc(" accuracy", p->tr.accuracy, acc, sizeof acc));
        sep = "; ";
    }
    if (p->te.have && isnan(p->te.accuracy))
        snprintf(buf + n, sizeof buf - (size_t)n, "%s%s loss %.4f%s", sep, p->te_name, p->te.loss, p->te.losses);
    else if (p->te.have)
        snprintf(buf + n, sizeof buf - (size_t)n, "%s%s loss %.4f accuracy %.4f (best %.4f)", sep, p->te_name, p->te.loss,
                 p->te.accuracy, p->best);
    say(p, "%s\n", buf);
}

/* Evaluations wait for the next event: at the end of the run they are the
 * final result, otherwise the summary of the epoch just evaluated. */
static void flush_eval(printer *p, int final)
{
    if (!p->held) return;
    if (final) {
        if (p->last_held && !p->quiet) epoch_summary(p, p->last_epoch.epoch, p->last_epoch.seconds, &p->last_epoch);
        p->last_held = 0;
        live_clear(p);
        print_final_eval(&p->tr, "train");
        print_final_eval(&p->te, p->te_name);
    } else if (!p->quiet) {
        epoch_summary(p, p->held_epoch, p->held_sec, NULL);
    }
    p->held = 0;
    p->tr.have = p->te.have = 0;
}

static void on_eval(printer *p, const dt_event *ev)
{
    split_result r = {1, ev->loss, ev->accuracy, ev->correct, ev->count, ""};
    fmt_losses(ev, r.losses, sizeof r.losses);
    if (ev->has_map) { /* a detector's score goes with its losses */
        size_t at = strlen(r.losses);
        snprintf(r.losses + at, sizeof r.losses - at, ", mAP@0.5 %.4f", ev->map50);
    }
    if (ev->has_verify) { /* unseen identities: verified by distance */
        size_t at = strlen(r.losses);
        snprintf(r.losses + at, sizeof r.losses - at, ", verification AUC %.4f, accuracy %.4f at distance %.4f",
                 ev->verify_auc, ev->verify_acc, ev->verify_thr);
    }
    if (!p->training) { /* dtrain eval: nothing follows */
        print_final_eval(&r, ev->split);
        return;
    }
    if (p->held && p->held_step != ev->step) flush_eval(p, 0);
    p->held = 1;
    p->held_step = ev->step;
    p->held_epoch = ev->epoch;
    p->held_sec = ev->seconds;
    if (strcmp(ev->split, "train")) { /* test, or dev */
        p->te_name = ev->split;
        p->te = r;
        p->final_acc = ev->accuracy;
        p->final_test_loss = ev->loss;
        p->have_test_loss = 1;
        p->have_map = ev->has_map, p->final_map = ev->map50;
        p->have_verify = ev->has_verify, p->final_auc = ev->verify_auc, p->final_vacc = ev->verify_acc;
        if (isnan(ev->accuracy)) { /* no classifier: no best accuracy */
        } else if (!p->have_best || ev->accuracy > p->best) {
            p->have_best = 1;
            p->best = ev->accuracy;
            p->best_epoch = ev->epoch;
        }
    } else {
        p->tr = r;
        p->have_train = 1;
        p->final_train = ev->accuracy;
    }
}

static void on_epoch(printer *p, const dt_event *ev)
{
    int evaluated = p->held && p->held_epoch == ev->epoch;
    if (!evaluated) flush_eval(p, 0);
    if (!evaluated && ev->epoch == p->epochs) { /* the final evaluation follows the checkpoint */
        p->last_held = 1;
        p->last_epoch = *ev;
        p->last_epoch.text = NULL;
        return;
    }
    /* un-evaluated epochs shorter than log_every would only repeat the step lines */
    if (!p->quiet && (evaluated || (p->log_every > 0 && p->spe >= p->log_every))) epoch_summary(p, ev->epoch, ev->seconds, ev);
    else p->last_epoch_sec = ev->seconds;
    p->held = 0;
    p->tr.have = p->te.have = 0;
}

static void on_end(printer *p, const dt_event *ev)
{
    flush_eval(p, 1);
    live_clear(p);
    printf("done: %lld steps in %.2f s (%.2f s in training steps, %.0f examples/s); "
           "communication wait %.1f %% of step time; checkpoint %s\n",
           (long long)ev->step, ev->seconds, ev->step_seconds, ev->images_per_s,
           ev->step_seconds > 0 ? 100 * ev->comm_wait_s / ev->step_seconds : 0, ev->text);
    printf("summary: ");
    if (p->have_verify)
        printf("final %s verification AUC %.4f, accuracy %.4f; ", p->te_name, p->final_auc, p->final_vacc);
    else if (p->have_map)
        printf("final %s mAP@0.5 %.4f; ", p->te_name, p->final_map);
    else if (p->have_best)
        printf("final %s accuracy %.4f, best %.4f after epoch %lld; ", p->te_name, p->final_acc, p->best, (long long)p->best_epoch);
    else if (p->have_test_loss)
        printf("final %s loss %.6g; ", p->te_name, p->final_test_loss);
    else if (p->have_train && !isnan(p->final_train))
        printf("final train accuracy %.4f (no test split); ", p->final_train);
    printf("wall time %.1f s; checkpoint %s\n", wall_now() - p->t_start, ev->text);
}

static void on_event(void *user, const dt_event *ev)
{
    printer *p = user;
    switch (ev->kind) {
    case DT_EV_START:
        p->epochs = ev->epochs;
        p->spe = ev->steps_per_epoch;
        p->total = ev->total_steps ? ev->total_steps : ev->epochs * ev->steps_per_epoch;
        p->log_every = ev->log_every;
        if (!p->quiet) say(p, "dtrain: %s\n", ev->text);
        break;
    case DT_EV_STEP:
        flush_eval(p, 0);
        on_step(p, ev);
        break;
    case DT_EV_EVAL:
        on_eval(p, ev);
        break;
    case DT_EV_EPOCH:
        on_epoch(p, ev);
        break;
    case DT_EV_CKPT:
        flush_eval(p, 0); /* a checkpoint follows an epoch's evaluation; the final one precedes it */
        if (!p->quiet) say(p, "checkpoint: %s (step %lld)\n", ev->text, (long long)ev->step);
        break;
    case DT_EV_END:
        on_end(p, ev);
        break;
    case DT_EV_NOTE:
        if (!p->quiet) say(p, "%s\n", ev->text);
        break;
    }
    fflush(stdout);
}

/* After the command: what is still held or on screen. */
static void printer_finish(printer *p, int failed)
{
    flush_eval(p, !failed);
    if (p->shown) {
        if (failed) putchar('\n'); /* keep the last progress above the error */
        else live_clear(p);
        p->shown = 0;
    }
    fflush(stdout);
}

static int fail(int rank, dt_status st)
{
    if (rank == 0) fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
    return st == DT_ERR_CONFIG || st == DT_ERR_ARG || st == DT_ERR_DATA || st == DT_ERR_IO ? 2 : 1;
}

/* A failure of a run on c: rank 0 reports what the ranks agreed on; when c
 * broke (a wait timed out) there was no agreement, and each rank reports. */
static int fail_on(dt_comm *c, dt_status st)
{
    if (dt_comm_rank(c) == 0 || dt_comm_broken(c)) fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
    return st == DT_ERR_CONFIG || st == DT_ERR_ARG || st == DT_ERR_DATA || st == DT_ERR_IO ? 2 : 1;
}

/* One line, pointing at --help rather than printing the whole usage. */
static int has_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

/* Shared by train, eval and gradcheck: CONFIG, overrides and options. */
static int run_command(int argc, char **argv, dt_comm *world, const char *cmd, const char *usage)
{
    int rank = dt_comm_rank(world);
    dt_run_args a = {.comm = world};
    int training = !strcmp(cmd, "train");
    printer pr = {.rank = rank, .training = training, .t_start = t_main, .te_name = "test"};
    char **over = calloc((size_t)argc, sizeof *over);
    int nover = 0, rc = 0;
    if (!over) {
        if (rank == 0) fprintf(stderr, "dtrain: error: out of memory\n");
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        int last = i + 1 >= argc;
        if (!strcmp(s, "--out") || !strcmp(s, "--resume") || !strcmp(s, "--ckpt") || !strcmp(s, "--grid") ||
            !strcmp(s, "--grid-size") || !strcmp(s, "--mistakes") || !strcmp(s, "--trace") || !strcmp(s, "--split") ||
            !strcmp(s, "--features")) {
            if (last) { rc = dt_cli_usage_error(rank, "missing value after", s, usage); break; }
            const char *v = argv[++i];
            int eval = !strcmp(cmd, "eval");
            char *end;
            if (!strcmp(s, "--out") && training) a.out_dir = v;
            else if (!strcmp(s, "--resume") && training) a.resume = v;
            else if (!strcmp(s, "--trace") && training) a.trace = v;
            else if (!strcmp(s, "--ckpt") && eval) a.ckpt = v;
            else if (!strcmp(s, "--grid") && eval) a.grid = v;
            else if (!strcmp(s, "--mistakes") && eval) a.mistakes = v;
            else if (!strcmp(s, "--split") && eval) a.split = v;
            else if (!strcmp(s, "--features") && eval) {
                if (i + 1 >= argc) { rc = dt_cli_usage_error(rank, "--features wants OUT.h5 LAYER: missing LAYER after", v, usage); break; }
                a.features = v;
                a.features_layer = argv[++i];
            }
            else if (!strcmp(s, "--grid-size") && eval) {
                long n = strtol(v, &end, 10);
                if (*end || end == v || n < 2 || n > 2000) {
                    rc = dt_cli_usage_error(rank, "--grid-size wants a whole number from 2 to 2000, not", v, usage);
                    break;
                }
                a.grid_size = (int)n;
            } else { rc = dt_cli_usage_error(rank, "unknown option", s, usage); break; }
        } else if (!strcmp(s, "--quiet")) {
            pr.quiet = 1;
        } else if (s[0] == '-') {
            rc = dt_cli_usage_error(rank, "unknown option", s, usage);
            break;
        } else if (!a.config) {
            a.config = s;
        } else if (strchr(s, '=')) {
            over[nover++] = argv[i];
        } else {
            rc = dt_cli_usage_error(rank, "unexpected argument", s, usage);
            break;
        }
    }
    if (!rc && !a.config) rc = dt_cli_usage_error(rank, "missing CONFIG", NULL, usage);
    if (!rc && !strcmp(cmd, "eval") && !a.ckpt) rc = dt_cli_usage_error(rank, "missing --ckpt FILE", NULL, usage);
    if (!rc && a.grid_size && !a.grid) rc = dt_cli_usage_error(rank, "--grid-size needs --grid OUT.csv", NULL, usage);
    if (!rc && a.split && !a.features) rc = dt_cli_usage_error(rank, "--split needs --features OUT.h5 LAYER", NULL, usage);
    if (rc) {
        free(over);
        return rc;
    }
    a.overrides = over;
    a.noverrides = nover;
    a.on_event = on_event;
    a.user = &pr;
    if (rank == 0 && training && !pr.quiet && want_live()) {
        pr.live = 1;
        pr.cols = term_cols();
    }
    a.live_steps = pr.live;
    dt_status st;
    if (!strcmp(cmd, "train")) {
        st = dt_train(&a);
    } else if (!strcmp(cmd, "eval")) {
        st = dt_eval(&a);
    } else {
        double rel = 0;
        st = dt_gradcheck(&a, &rel);
#ifdef DTRAIN_DOUBLE
        const double tol = 1e-5;
#else
        const double tol = 2e-2;
#endif
        if (!st) {
            if (rank == 0)
                printf("gradient check: relative difference %.3e (%s, threshold %.0e): %s\n", rel,
                       DT_REAL_NAME, tol, rel < tol ? "ok" : "FAILED");
            if (rel >= tol) rc = 1;
        }
    }
    free(over);
    printer_finish(&pr, st != DT_OK);
    return st ? fail_on(world, st) : rc;
}

static int sweep_command(int argc, char **argv, dt_comm *world)
{
    int rank = dt_comm_rank(world), rc = 0;
    char **over = calloc((size_t)argc, sizeof *over), **params = calloc((size_t)argc, sizeof *params);
    dt_sweep_args a = {.trials = 0, .ranks_per_trial = 0, .seed = -1, .early_stop = -1, .comm = world,
                       .out = stdout};
    if (!over || !params) {
        free(over);
        free(params);
        if (rank == 0) fprintf(stderr, "dtrain: error: out of memory\n");
        return 1;
    }
    for (int i = 2; i < argc && !rc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--no-early-stop")) {
            a.early_stop = 0;
        } else if (!strcmp(s, "--trials") || !strcmp(s, "--ranks-per-trial") || !strcmp(s, "--seed") || !strcmp(s, "--out") ||
                   !strcmp(s, "--param")) {
            if (i + 1 >= argc) { rc = dt_cli_usage_error(rank, "missing value after", s, usage_sweep); break; }
            const char *v = argv[++i];
            if (!strcmp(s, "--out")) a.out_dir = v;
            else if (!strcmp(s, "--param")) params[a.nparams++] = argv[i];
            else if (!strcmp(s, "--trials") && !dt_cli_whole(v, 1, 100000, &a.trials))
                rc = dt_cli_usage_error(rank, "--trials wants a whole number from 1 to 100000, not", v, usage_sweep);
            else if (!strcmp(s, "--ranks-per-trial") && !dt_cli_whole(v, 1, 1L << 20, &a.ranks_per_trial))
                rc = dt_cli_usage_error(rank, "--ranks-per-trial wants a positive whole number, not", v, usage_sweep);
            else if (!strcmp(s, "--seed") && !dt_cli_whole(v, 0, 4294967295L, &a.seed))
                rc = dt_cli_usage_error(rank, "--seed wants a whole number from 0 to 4294967295, not", v, usage_sweep);
        } else if (s[0] == '-') {
            rc = dt_cli_usage_error(rank, "unknown option", s, usage_sweep);
        } else if (!a.config) {
            a.config = s;
        } else if (strchr(s, '=')) {
            over[a.noverrides++] = argv[i];
        } else {
            rc = dt_cli_usage_error(rank, "unexpected argument", s, usage_sweep);
        }
    }
    if (!rc && !a.config) rc = dt_cli_usage_error(rank, "missing CONFIG", NULL, usage_sweep);
    a.overrides = over;
    a.params = params;
    dt_status st = rc ? DT_OK : dt_sweep(&a);
    free(over);
    free(params);
    return rc ? rc : st ? fail_on(world, st) : 0;
}

static int style_command(int argc, char **argv, dt_comm *world)
{
    int rank = dt_comm_rank(world);
    dt_style_cli a = {.o = {.model = "models/style/random_multiscale.ini", .height = 300, .width = 400, .alpha = 10,
                            .beta = 40, .lr = 2, .noise = 0.6, .seed = 0},
                      .iters = 200};
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (s[0] != '-' || s[1] != '-') return dt_cli_usage_error(rank, "unexpected argument", s, usage_style);
        if (i + 1 >= argc) return dt_cli_usage_error(rank, "missing value after", s, usage_style);
        const char *v = argv[++i];
        long n;
        double x;
        if (!strcmp(s, "--content")) a.contents = v;
        else if (!strcmp(s, "--style")) a.style = v;
        else if (!strcmp(s, "--out")) a.out = v;
        else if (!strcmp(s, "--net")) a.o.model = v;
        else if (!strcmp(s, "--ckpt")) a.o.ckpt = v;
        else if (!strcmp(s, "--content-layer")) a.o.content_layer = v;
        else if (!strcmp(s, "--style-layers")) a.o.style_layers = v;
        else if (!strcmp(s, "--size")) {
            char *e1, *e2;
            long h = strtol(v, &e1, 10), w = *e1 == 'x' ? strtol(e1 + 1, &e2, 10) : -1;
            if (*e1 != 'x' || *e2 || h < 8 || w < 8 || h > 8192 || w > 8192)
                return dt_cli_usage_error(rank, "--size wants HxW, each from 8 to 8192, not", v, usage_style);
            a.o.height = (int)h, a.o.width = (int)w;
        } else if (!strcmp(s, "--iters") || !strcmp(s, "--save-every") || !strcmp(s, "--seed")) {
            if (!dt_cli_whole(v, !strcmp(s, "--iters") ? 1 : 0, !strcmp(s, "--seed") ? 4294967295L : 10000000, &n))
                return dt_cli_usage_error(rank, "expected a whole number in range after", s, usage_style);
            if (!strcmp(s, "--iters")) a.iters = n;
            else if (!strcmp(s, "--save-every")) a.save_every = n;
            else a.o.seed = (uint32_t)n;
        } else if (!strcmp(s, "--alpha") || !strcmp(s, "--beta") || !strcmp(s, "--lr") || !strcmp(s, "--noise")) {
            int noise = !strcmp(s, "--noise");
            if (!dt_cli_real(v, 0, noise ? 1 : 1e12, &x))
                return dt_cli_usage_error(rank, noise ? "--noise wants a number from 0 to 1, not" : "expected a number >= 0 after", noise ? v : s, usage_style);
            if (!strcmp(s, "--alpha")) a.o.alpha = x;
            else if (!strcmp(s, "--beta")) a.o.beta = x;
            else if (!strcmp(s, "--lr")) a.o.lr = x;
            else a.o.noise = x;
        } else return dt_cli_usage_error(rank, "unknown option", s, usage_style);
    }
    if (!a.contents) return dt_cli_usage_error(rank, "missing --content C.jpg", NULL, usage_style);
    if (!a.style) return dt_cli_usage_error(rank, "missing --style S.jpg", NULL, usage_style);
    if (!a.out) return dt_cli_usage_error(rank, "missing --out OUT.png", NULL, usage_style);
    return dt_cli_style(&a, world, stdout);
}

/* When one rank dies the launcher ends the others with SIGTERM: say so, in
 * a message prepared beforehand (a handler may only write), with the rank
 * this one was waiting for and its host when it waited for one (across
 * hosts, the host that was lost). A rank that is computing when the signal
 * comes goes on for up to TERM_GRACE_US, long enough for the launcher
 * (Open MPI kills after 1 s) and usually for the rank to reach its next
 * wait, which says whom it would wait for (term_at_wait). */
enum { TERM_GRACE_US = 500000 };
static char term_msg[256];
static volatile sig_atomic_t term_len, term_sig;
static const char term_why[] = " (another rank failed or was killed, or the job was cancelled)\n";

static void say_term(int sig)
{
    /* one write, so that the line reaches the launcher whole */
    char line[1024];
    size_t len = (size_t)term_len;
    if (!len) _exit(128 + sig); /* finished (see main): nothing to explain */
    int n = 0;
    const char *note = dt_comm_wait_note(&n);
    memcpy(line, term_msg, len);
    if (n > 0 && len + (size_t)n + sizeof term_why < sizeof line) memcpy(line + len, note, (size_t)n), len += (size_t)n;
    memcpy(line + len, term_why, sizeof term_why - 1);
    len += sizeof term_why - 1;
    if (write(STDERR_FILENO, line, len) < 0) { /* nothing more can be done */ }
    _exit(128 + sig);
}

static void on_term(int sig)
{
    int n = 0;
    dt_comm_wait_note(&n);
    if (!term_len || n > 0) say_term(sig); /* finished, waiting or failed: now */
    term_sig = sig;
    struct itimerval t = {.it_value = {.tv_usec = TERM_GRACE_US}};
    setitimer(ITIMER_REAL, &t, NULL);
}

static void on_grace_over(int sig)
{
    (void)sig;
    say_term(term_sig);
}

static void term_at_wait(void)
{
    if (term_sig) say_term(term_sig);
}

static void watch_term(dt_comm *world)
{
    int rank = dt_comm_rank(world);
    int n = snprintf(term_msg, sizeof term_msg, "dtrain: error: rank %d on host %s: terminated by the launcher", rank,
                     dt_comm_host(world, rank));
    term_len = n > 0 && (size_t)n < sizeof term_msg ? n : 0;
    struct sigaction sa = {.sa_handler = on_term}, sb = {.sa_handler = on_grace_over};
    sigemptyset(&sa.sa_mask);
    sigemptyset(&sb.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sb, NULL);
    dt_comm_set_wait_hook(term_at_wait);
}

int main(int argc, char **argv)
{
    t_main = wall_now();
    dt_blas_init(); /* before any BLAS call */
    launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") || getenv("PMI_SIZE");
    dt_comm *world;
    dt_status st = dt_comm_init(&argc, &argv, &world);
    if (st) {
        fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
        return 1;
    }
    int rank = dt_comm_rank(world), rc = 0;
    if (dt_comm_size(world) > 1) watch_term(world);
    const char *cmd = argc > 1 ? argv[1] : NULL;
    const char *usage = !cmd                          ? usage_main
                        : !strcmp(cmd, "train")       ? usage_train
                        : !strcmp(cmd, "eval")        ? usage_eval
                        : !strcmp(cmd, "gradcheck")   ? usage_gradcheck
                        : !strcmp(cmd, "sweep")       ? usage_sweep
                        : !strcmp(cmd, "style")       ? usage_style
                        : !strcmp(cmd, "info")        ? usage_info
                        : !strcmp(cmd, "predict")     ? usage_predict
                        : !strcmp(cmd, "anchors")     ? dt_cli_anchors_usage
                        : !strcmp(cmd, "bench")       ? dt_cli_bench_usage
                                                      : dt_cli_vision_usage(cmd);
    if (!cmd) {
        rc = dt_cli_usage_error(rank, "missing COMMAND", NULL, usage_main);
    } else if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (rank == 0) fputs(usage_main, stdout);
    } else if (!usage) {
        rc = dt_cli_usage_error(rank, "unknown command", cmd, usage_main);
    } else if (has_help(argc, argv)) {
        if (rank == 0) fputs(usage, stdout);
    } else if (!strcmp(cmd, "info")) {
        const char *input = argc == 5 && !strcmp(argv[3], "--input") ? argv[4] : NULL;
        if (argc != 3 && !input) rc = dt_cli_usage_error(rank, "expected FILE [--input C,H,W]", NULL, usage_info);
        else if (rank == 0 && (st = dt_cli_info(argv[2], input, stdout))) rc = fail(rank, st);
    } else if (!strcmp(cmd, "predict")) {
        if (argc < 5 || strcmp(argv[2], "--ckpt")) rc = dt_cli_usage_error(rank, "expected --ckpt FILE IMAGE...", NULL, usage_predict);
        else if (rank == 0) rc = dt_cli_predict(argv[3], argv + 4, argc - 4, stdout);
    } else if (dt_cli_vision_usage(cmd)) {
        rc = dt_cli_vision(argc, argv, rank, cmd);
    } else if (!strcmp(cmd, "sweep")) {
        rc = sweep_command(argc, argv, world);
    } else if (!strcmp(cmd, "anchors")) {
        rc = dt_cli_anchors(argc, argv, world);
    } else if (!strcmp(cmd, "bench")) {
        rc = dt_cli_bench(argc, argv, world);
    } else if (!strcmp(cmd, "style")) {
        rc = style_command(argc, argv, world);
    } else {
        rc = run_command(argc, argv, world, cmd, usage);
    }
    fflush(stdout);
    term_len = 0; /* finished: a launcher ending the job now has nothing to explain */
    if (dt_comm_finalize(world)) {
        /* a rank of a broken communicator never came: leaving makes the launcher end it */
        fprintf(stderr, "dtrain: %s\n", dt_errmsg());
        if (!rc) rc = 1;
    }
    return rc;
}
