/* main.c — the dtrain command line: train, eval, gradcheck, info.
 *
 * Every rank runs the same command; rank 0 alone prints. Library statuses
 * become one-line messages and exit codes here (2: bad usage or input
 * files, 1: other failures). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist/dist.h"
#include "io/ckpt.h"
#include "train/train.h"

static const char *usage_main =
    "usage: dtrain COMMAND [ARGS]\n"
    "\n"
    "Data-parallel training of the deeplearning.ai course networks. Run under\n"
    "`mpirun -np N` for N ranks; a lone process is a 1-rank run.\n"
    "\n"
    "commands:\n"
    "  train CONFIG [section.key=value ...] [--out DIR] [--resume CKPT] [--quiet]\n"
    "  eval CONFIG --ckpt FILE [section.key=value ...]\n"
    "  gradcheck CONFIG [section.key=value ...]\n"
    "  info FILE.h5\n"
    "\n"
    "`dtrain COMMAND --help` describes each command.\n";

static const char *usage_train =
    "usage: dtrain train CONFIG [section.key=value ...] [--out DIR] [--resume CKPT] [--quiet]\n"
    "\n"
    "Train the model that CONFIG names on its data set. Each section.key=value\n"
    "overrides one config key (for example optim.lr=0.01 train.epochs=5).\n"
    "\n"
    "  --out DIR      run directory for metrics.jsonl and checkpoint.h5\n"
    "                 (default: [train] out, else runs/<config name>)\n"
    "  --resume CKPT  continue from a checkpoint written by an earlier run\n"
    "  --quiet        print only errors and the final result\n";

static const char *usage_eval =
    "usage: dtrain eval CONFIG --ckpt FILE [section.key=value ...]\n"
    "\n"
    "Load the parameters of checkpoint FILE into the model that CONFIG names and\n"
    "print loss and accuracy over the training and the test split.\n";

static const char *usage_gradcheck =
    "usage: dtrain gradcheck CONFIG [section.key=value ...]\n"
    "\n"
    "Compare the analytic gradient of every parameter tensor with central finite\n"
    "differences on a few training rows and print the relative difference\n"
    "||g - g_num|| / (||g|| + ||g_num||). Exits 0 when it is below 1e-5 in a\n"
    "double build (2e-2 in a float build, where finite differences are coarse).\n";

static const char *usage_info =
    "usage: dtrain info FILE.h5\n"
    "\n"
    "List the groups, data sets (type and shape) and attributes of an HDF5 file:\n"
    "a checkpoint or a data set.\n";

typedef struct {
    int quiet;
    int rank;
} printer;

static void on_event(void *user, const dt_event *ev)
{
    const printer *p = user;
    switch (ev->kind) {
    case DT_EV_START:
        if (!p->quiet) printf("dtrain: %s\n", ev->text);
        break;
    case DT_EV_STEP:
        if (!p->quiet)
            printf("epoch %lld/%lld  step %lld  loss %.6f  accuracy %.4f  lr %.3g  %.0f examples/s\n",
                   (long long)ev->epoch + 1, (long long)ev->epochs, (long long)ev->step, ev->loss,
                   ev->accuracy, ev->lr, ev->images_per_s);
        break;
    case DT_EV_EVAL:
        printf("%-5s loss %.6f  accuracy %.6f (%lld/%lld)", ev->split, ev->loss, ev->accuracy,
               (long long)ev->correct, (long long)ev->count);
        if (ev->step || ev->epoch) printf("  after epoch %lld, step %lld", (long long)ev->epoch, (long long)ev->step);
        printf("\n");
        break;
    case DT_EV_CKPT:
        if (!p->quiet) printf("checkpoint: %s (step %lld)\n", ev->text, (long long)ev->step);
        break;
    case DT_EV_END:
        printf("done: %lld steps in %.2f s (%.2f s in training steps, %.0f examples/s); checkpoint %s\n",
               (long long)ev->step, ev->seconds, ev->step_seconds, ev->images_per_s, ev->text);
        break;
    case DT_EV_NOTE:
        if (!p->quiet) printf("%s\n", ev->text);
        break;
    }
    fflush(stdout);
}

static int fail(int rank, dt_status st)
{
    if (rank == 0) fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
    return st == DT_ERR_CONFIG || st == DT_ERR_ARG || st == DT_ERR_DATA || st == DT_ERR_IO ? 2 : 1;
}

/* One line, pointing at --help rather than printing the whole usage. */
static int usage_error(int rank, const char *msg, const char *arg, const char *usage)
{
    char cmd[64] = "";
    sscanf(usage, "usage: dtrain %63[a-z]", cmd);
    if (rank == 0)
        fprintf(stderr, "dtrain: error: %s%s%s%s (see dtrain %s%s--help)\n", msg, arg ? " '" : "", arg ? arg : "",
                arg ? "'" : "", strcmp(cmd, "COMMAND") ? cmd : "", strcmp(cmd, "COMMAND") ? " " : "");
    return 2;
}

static int has_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

/* Shared by train, eval and gradcheck: CONFIG, overrides and options. */
static int run_command(int argc, char **argv, int rank, const char *cmd, const char *usage)
{
    dt_run_args a = {0};
    printer pr = {0, rank};
    char **over = calloc((size_t)argc, sizeof *over);
    int nover = 0, rc = 0;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        int last = i + 1 >= argc;
        if (!strcmp(s, "--out") || !strcmp(s, "--resume") || !strcmp(s, "--ckpt")) {
            if (last) { rc = usage_error(rank, "missing value after", s, usage); break; }
            const char *v = argv[++i];
            if (!strcmp(s, "--out") && !strcmp(cmd, "train")) a.out_dir = v;
            else if (!strcmp(s, "--resume") && !strcmp(cmd, "train")) a.resume = v;
            else if (!strcmp(s, "--ckpt") && !strcmp(cmd, "eval")) a.ckpt = v;
            else { rc = usage_error(rank, "unknown option", s, usage); break; }
        } else if (!strcmp(s, "--quiet")) {
            pr.quiet = 1;
        } else if (s[0] == '-') {
            rc = usage_error(rank, "unknown option", s, usage);
            break;
        } else if (!a.config) {
            a.config = s;
        } else if (strchr(s, '=')) {
            over[nover++] = argv[i];
        } else {
            rc = usage_error(rank, "unexpected argument", s, usage);
            break;
        }
    }
    if (!rc && !a.config) rc = usage_error(rank, "missing CONFIG", NULL, usage);
    if (!rc && !strcmp(cmd, "eval") && !a.ckpt) rc = usage_error(rank, "missing --ckpt FILE", NULL, usage);
    if (rc) {
        free(over);
        return rc;
    }
    a.overrides = over;
    a.noverrides = nover;
    a.on_event = on_event;
    a.user = &pr;
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
    return st ? fail(rank, st) : rc;
}

int main(int argc, char **argv)
{
    dt_status st = dt_dist_init(&argc, &argv);
    if (st) {
        fprintf(stderr, "dtrain: error: %s\n", dt_errmsg());
        return 1;
    }
    int rank = dt_dist_rank(), rc = 0;
    const char *cmd = argc > 1 ? argv[1] : NULL;
    const char *usage = !cmd                          ? usage_main
                        : !strcmp(cmd, "train")       ? usage_train
                        : !strcmp(cmd, "eval")        ? usage_eval
                        : !strcmp(cmd, "gradcheck")   ? usage_gradcheck
                        : !strcmp(cmd, "info")        ? usage_info
                                                      : NULL;
    if (!cmd) {
        rc = usage_error(rank, "missing COMMAND", NULL, usage_main);
    } else if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (rank == 0) fputs(usage_main, stdout);
    } else if (!usage) {
        rc = usage_error(rank, "unknown command", cmd, usage_main);
    } else if (has_help(argc, argv)) {
        if (rank == 0) fputs(usage, stdout);
    } else if (!strcmp(cmd, "info")) {
        if (argc != 3) rc = usage_error(rank, "expected one FILE.h5", NULL, usage_info);
        else if (rank == 0 && (st = dt_h5_print_info(argv[2], stdout))) rc = fail(rank, st);
    } else {
        rc = run_command(argc, argv, rank, cmd, usage);
    }
    fflush(stdout);
    dt_dist_finalize();
    return rc;
}
