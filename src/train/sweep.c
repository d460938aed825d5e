/* sweep.c — dtrain sweep: groups of ranks take trials from a shared board,
 * train them on a dev split, stop the weak ones at rungs, and record each
 * in sweep.jsonl; world rank 0 prints the table and tests the chosen one. */
#include "train/sweep.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comm/board.h"
#include "io/ini.h"
#include "train/setup.h"
#include "train/sweep_spec.h"
#include "train/train.h"

enum { MAX_PARAMS = 16, MAX_RUNGS = 16, VAL_LEN = 64 };

typedef struct {
    const dt_sweep_args *a;
    long trials, G, seed, first_rung, epochs, eval_every;
    int early;
    double eta, dev;
    dt_param_spec spec[MAX_PARAMS];
    int np;
    int64_t rung[MAX_RUNGS];
    int nr;
    char out[4096], jsonl[4200];
    dt_comm *group, *self;
    dt_board *board;
    int grank, gid;
    double *table; /* the board's rung values, read by judge */
    double *u;     /* every trial's draws [trials][np] */
} sweep;

/* Board layout: [0] the next trial number; [1 + k] 1 once trial k is
 * recorded; then trial k's score at rung j (NaN: not reached). A score is
 * the dev accuracy, or minus the dev loss for a model without classes:
 * higher is better either way. */
static int64_t slot_status(const sweep *w, int64_t k) { (void)w; return 1 + k; }
static int64_t slot_rungs(const sweep *w) { return 1 + w->trials; }
static int64_t board_size(const sweep *w) { return 1 + w->trials + w->trials * (w->nr ? w->nr : 1); }

/* ---- settings ------------------------------------------------------------ */

static dt_status add_spec(sweep *w, const char *text)
{
    if (w->np == MAX_PARAMS) return dt_error(DT_ERR_ARG, "--param '%s': at most %d parameters", text, MAX_PARAMS);
    DT_TRY(dt_spec_parse(text, &w->spec[w->np]));
    for (int i = 0; i < w->np; i++)
        if (!strcmp(w->spec[i].key, w->spec[w->np].key))
            return dt_error(DT_ERR_ARG, "--param '%s': %s is given twice", text, w->spec[i].key);
    w->np++;
    return DT_OK;
}

static long gcd(long a, long b) { return b ? gcd(b, a % b) : a; }

static dt_status settings(sweep *w, dt_ini *cfg)
{
    const dt_sweep_args *a = w->a;
    const char *params, *out;
    if (a->trials <= 0 && !dt_ini_has(cfg, "sweep", "trials"))
        return dt_error(DT_ERR_ARG, "%s: how many trials? give --trials N or [sweep] trials", a->config);
    DT_TRY(dt_ini_int(cfg, "sweep", "trials", 0, 1, 1, 100000, &w->trials));
    DT_TRY(dt_ini_int(cfg, "sweep", "ranks_per_trial", 0, 1, 1, 1L << 20, &w->G));
    DT_TRY(dt_ini_int(cfg, "sweep", "seed", 0, 0, 0, 4294967295L, &w->seed));
    long early;
    DT_TRY(dt_ini_int(cfg, "sweep", "early_stop", 0, 1, 0, 1, &early));
    DT_TRY(dt_ini_real(cfg, "sweep", "eta", 0, 3, 1.5, 100, &w->eta));
    DT_TRY(dt_ini_int(cfg, "sweep", "first_rung", 0, 1, 1, 1L << 30, &w->first_rung));
    DT_TRY(dt_ini_real(cfg, "sweep", "dev_fraction", 0, 0.1, 0.001, 0.9, &w->dev));
    DT_TRY(dt_ini_str(cfg, "sweep", "params", "", &params));
    DT_TRY(dt_ini_str(cfg, "sweep", "out", "", &out));
    DT_TRY(dt_ini_check_unused_section(cfg, "sweep"));
    DT_TRY(dt_ini_int(cfg, "train", "epochs", 1, 0, 1, 1L << 40, &w->epochs));
    DT_TRY(dt_ini_int(cfg, "train", "eval_every", 0, 0, 0, 1L << 40, &w->eval_every));
    if (a->trials > 0) w->trials = a->trials;
    if (a->ranks_per_trial > 0) w->G = a->ranks_per_trial;
    if (a->seed >= 0) w->seed = a->seed;
    w->early = a->early_stop >= 0 ? a->early_stop : (int)early;
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", params) >= (int)sizeof buf)
        return dt_error(DT_ERR_CONFIG, "%s: [sweep] params: too long", dt_ini_where(cfg, "sweep", "params"));
    /* [sweep] params: specs separated by ';' */
    for (char *save = NULL, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        char *e = t + strlen(t);
        while (e > t && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        if (!*t) continue;
        dt_status st = add_spec(w, t);
        if (st) return dt_error(st, "%s: [sweep] params: %s", dt_ini_where(cfg, "sweep", "params"), dt_errmsg());
    }
    for (int i = 0; i < a->nparams; i++) DT_TRY(add_spec(w, a->params[i]));
    if (!w->np) return dt_error(DT_ERR_ARG, "%s: nothing to search: give --param KEY=KIND:ARGS or [sweep] params", a->config);
    int P = dt_comm_size(a->comm);
    if (w->G > P || P % w->G)
        return dt_error(DT_ERR_ARG, "--ranks-per-trial %ld: the %d ranks do not split into groups of %ld", w->G, P, w->G);
    w->nr = dt_rungs(w->first_rung, w->eta, w->epochs, w->rung, MAX_RUNGS);
    /* every rung needs an evaluation: keep [train] eval_every if it divides
     * them all, else evaluate at their greatest common divisor */
    int fits = w->eval_every > 0;
    long g = 0;
    for (int j = 0; j < w->nr; j++) {
        fits = fits && w->rung[j] % w->eval_every == 0;
        g = gcd(g, (long)w->rung[j]);
    }
    if (!fits) w->eval_every = g ? g : 1;
    if (a->out_dir) snprintf(w->out, sizeof w->out, "%s", a->out_dir);
    else if (*out) snprintf(w->out, sizeof w->out, "%s", out);
    else {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", a->config);
        const char *base = basename(tmp);
        snprintf(w->out, sizeof w->out, "sweeps/%.*s", (int)strcspn(base, "."), base);
    }
    snprintf(w->jsonl, sizeof w->jsonl, "%s/sweep.jsonl", w->out);
    w->u = malloc((size_t)(w->trials * w->np) * sizeof *w->u);
    if (!w->u) return dt_error(DT_ERR_NOMEM, "out of memory");
    dt_spec_draws((uint32_t)w->seed, w->trials, w->np, w->u);
    return DT_OK;
}

/* Trial k's values, as override text. */
static void trial_values(const sweep *w, int64_t k, char val[][VAL_LEN], double *x)
{
    double dummy;
    for (int p = 0; p < w->np; p++) dt_spec_value(&w->spec[p], w->u[k * w->np + p], val[p], VAL_LEN, x ? &x[p] : &dummy);
}

/* ---- resume: the trials sweep.jsonl already holds ------------------------ */

static double score_of(const char *metric, double v) { return strstr(metric, "loss") ? -v : v; }

/* Rank 0: mark the recorded trials on the board's first values; a record
 * whose parameters differ from this sweep's draws is another sweep's. */
static dt_status read_records(sweep *w, double *init)
{
    FILE *f = fopen(w->jsonl, "r");
    if (!f) return errno == ENOENT ? DT_OK : dt_error(DT_ERR_IO, "%s: cannot read: %s", w->jsonl, strerror(errno));
    static char line[1 << 16];
    dt_status st = DT_OK;
    for (int ln = 1; !st && fgets(line, sizeof line, f); ln++) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "trial"), *ps = cJSON_GetObjectItemCaseSensitive(j, "params");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "metric"), *rungs = cJSON_GetObjectItemCaseSensitive(j, "rungs");
        if (!cJSON_IsNumber(k) || !cJSON_IsObject(ps) || !cJSON_IsString(m) || !cJSON_IsArray(rungs)) {
            st = dt_error(DT_ERR_DATA, "%s:%d: not a trial record of dtrain sweep", w->jsonl, ln);
        } else if (k->valuedouble >= 0 && k->valuedouble < (double)w->trials) {
            int64_t t = (int64_t)k->valuedouble;
            char val[MAX_PARAMS][VAL_LEN];
            trial_values(w, t, val, NULL);
            for (int p = 0; p < w->np && !st; p++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(ps, w->spec[p].key);
                if (!cJSON_IsString(v) || strcmp(v->valuestring, val[p]))
                    st = dt_error(DT_ERR_ARG, "%s:%d: trial %lld ran with %s = %s, this sweep draws %s (another seed or "
                                              "parameters): give another --out", w->jsonl, ln, (long long)t,
                                  w->spec[p].key, cJSON_IsString(v) ? v->valuestring : "(none)", val[p]);
            }
            init[slot_status(w, t)] = 1;
            int j2 = 0;
            const cJSON *r;
            cJSON_ArrayForEach(r, rungs) { /* null: a NaN metric, which stays NaN on the board */
                if (j2 < w->nr && cJSON_IsNumber(r)) init[slot_rungs(w) + t * w->nr + j2] = score_of(m->valuestring, r->valuedouble);
                j2++;
            }
        }
        cJSON_Delete(j);
    }
    fclose(f);
    return st;
}

/* ---- one trial -------------------------------------------------------------- */

typedef struct {
    sweep *w;
    int64_t k;
    int loss_metric;          /* no accuracy (no classes): judged on the dev loss */
    double best, last;        /* scores */
    int64_t best_epoch, epochs;
    double rung[MAX_RUNGS];   /* the metric at each rung reached */
    int nrung, stopped;
} trial;

static double score(trial *t, const dt_event *ev)
{
    t->loss_metric = isnan(ev->accuracy);
    return t->loss_metric ? -ev->loss : ev->accuracy;
}

static void on_trial_event(void *user, const dt_event *ev)
{
    trial *t = user;
    if (ev->kind != DT_EV_EVAL || strcmp(ev->split, "dev")) return;
    double s = score(t, ev);
    t->last = s;
    t->epochs = ev->epoch;
    if (!isnan(s) && (isnan(t->best) || s > t->best)) {
        t->best = s;
        t->best_epoch = ev->epoch;
    }
}

/* Rank 0 of the group: write this trial's score at rung j and judge it
 * against every score there so far, under one lock. */
static dt_status judge(sweep *w, int64_t k, int j, double s, int *go)
{
    int64_t n = w->trials * w->nr;
    DT_TRY(dt_board_lock(w->board));
    dt_status st = dt_board_put(w->board, slot_rungs(w) + k * w->nr + j, 1, &s);
    if (!st) st = dt_board_get(w->board, slot_rungs(w), n, w->table);
    dt_status st2 = dt_board_unlock(w->board);
    DT_TRY(st ? st : st2);
    for (int64_t i = 0; i < w->trials; i++) w->table[i] = w->table[i * w->nr + j]; /* column j, in place */
    *go = dt_asha_continue(w->table, (int)w->trials, s, w->eta);
    return DT_OK;
}

/* dt_run_args.after_eval: at a rung, go on or stop (the same on every rank). */
static dt_status at_rung(void *user, const dt_event *ev, int *stop)
{
    trial *t = user;
    sweep *w = t->w;
    int j = -1;
    for (int i = 0; i < w->nr; i++)
        if (w->rung[i] == ev->epoch) j = i;
    if (j < 0) return DT_OK;
    double s = score(t, ev);
    t->rung[j] = t->loss_metric ? ev->loss : ev->accuracy;
    t->nrung = j + 1;
    if (!w->early) return DT_OK;
    int go = 1;
    dt_status st = w->grank == 0 ? judge(w, t->k, j, s, &go) : DT_OK;
    DT_TRY(dt_comm_agree(w->group, st));
    DT_TRY(dt_comm_bcast(w->group, &go, sizeof go, 0));
    if (!go) {
        *stop = 1;
        t->stopped = j + 1;
    }
    return DT_OK;
}

static double metric(const trial *t, double s) { return t->loss_metric ? -s : s; }

/* Append trial k's line to sweep.jsonl (one write, so lines of groups
 * finishing together do not mix) and mark it on the board. */
static dt_status record(sweep *w, trial *t, char val[][VAL_LEN], const char *status, const char *reason, double secs,
                        const char *dir)
{
    cJSON *o = cJSON_CreateObject(), *ps = cJSON_AddObjectToObject(o, "params");
    cJSON_AddNumberToObject(o, "trial", (double)t->k);
    for (int p = 0; p < w->np; p++) cJSON_AddStringToObject(ps, w->spec[p].key, val[p]);
    cJSON_AddStringToObject(o, "status", status);
    if (reason) cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddStringToObject(o, "metric", t->loss_metric ? "dev loss" : "dev accuracy");
    cJSON *r = cJSON_AddArrayToObject(o, "rungs");
    for (int j = 0; j < t->nrung; j++) cJSON_AddItemToArray(r, cJSON_CreateNumber(t->rung[j]));
    cJSON_AddNumberToObject(o, "final", metric(t, t->last));
    cJSON_AddNumberToObject(o, "best", metric(t, t->best));
    cJSON_AddNumberToObject(o, "best_epoch", (double)t->best_epoch);
    cJSON_AddNumberToObject(o, "epochs", (double)t->epochs);
    cJSON_AddNumberToObject(o, "seconds", secs);
    cJSON_AddStringToObject(o, "dir", dir);
    cJSON_AddNumberToObject(o, "group", w->gid);
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!txt) return dt_error(DT_ERR_NOMEM, "out of memory");
    size_t len = strlen(txt);
    txt[len] = 0;
    char *line = malloc(len + 2);
    dt_status st = line ? DT_OK : dt_error(DT_ERR_NOMEM, "out of memory");
    if (line) {
        memcpy(line, txt, len);
        line[len] = '\n';
        int fd = open(w->jsonl, O_WRONLY | O_APPEND | O_CREAT, 0666);
        if (fd < 0 || write(fd, line, len + 1) != (ssize_t)(len + 1))
            st = dt_error(DT_ERR_IO, "%s: cannot append: %s", w->jsonl, strerror(errno));
        if (fd >= 0) close(fd);
    }
    free(line);
    cJSON_free(txt);
    /* marked even when the line could not be written: rank 0 waits for every mark */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", dt_errmsg());
    double one = 1;
    dt_status sb = dt_board_lock(w->board);
    if (!sb) sb = dt_board_put(w->board, slot_status(w, t->k), 1, &one);
    dt_status su = sb ? DT_OK : dt_board_unlock(w->board);
    if (st) return dt_error(st, "%s", msg);
    return sb ? sb : su;
}

static dt_status run_trial(sweep *w, int64_t k)
{
    const dt_sweep_args *a = w->a;
    char val[MAX_PARAMS][VAL_LEN], dir[4300], extra[2 + MAX_PARAMS][1300];
    trial_values(w, k, val, NULL);
    snprintf(dir, sizeof dir, "%s/trial-%03lld", w->out, (long long)k);
    int n = a->noverrides, ne = 0;
    char **ov = calloc((size_t)(n + 2 + w->np), sizeof *ov);
    trial t = {.w = w, .k = k, .best = NAN, .last = NAN};
    if (!ov) { /* still recorded, so that rank 0 does not wait for it */
        dt_status st = dt_error(DT_ERR_NOMEM, "out of memory");
        if (w->grank == 0) record(w, &t, val, "failed", dt_errmsg(), 0, dir);
        return dt_error(st, "out of memory");
    }
    for (int i = 0; i < n; i++) ov[i] = a->overrides[i];
    snprintf(extra[ne++], sizeof extra[0], "data.dev_fraction=%g", w->dev);
    snprintf(extra[ne++], sizeof extra[0], "train.eval_every=%ld", w->eval_every);
    for (int p = 0; p < w->np; p++) snprintf(extra[ne++], sizeof extra[0], "%s=%s", w->spec[p].key, val[p]);
    for (int i = 0; i < ne; i++) ov[n + i] = extra[i];
    dt_run_args ta = {.config = a->config, .overrides = ov, .noverrides = n + ne, .out_dir = dir, .comm = w->group,
                      .after_eval = at_rung, .on_event = on_trial_event, .user = &t};
    double t0 = dt_comm_time();
    dt_status st = dt_train(&ta);
    double secs = dt_comm_time() - t0;
    free(ov);
    char reason[1024] = "";
    if (st) snprintf(reason, sizeof reason, "%s", dt_errmsg());
    const char *status = st ? "failed" : t.stopped ? "stopped" : "done";
    /* a broken group has no rank 0 to count on: each of its ranks records */
    int writer = w->grank == 0 || dt_comm_broken(w->group);
    dt_status rs = writer ? record(w, &t, val, status, st ? reason : NULL, secs, dir) : DT_OK;
    if (writer && a->out) {
        char ps[1024] = "";
        for (int p = 0, o = 0; p < w->np && o < (int)sizeof ps; p++)
            o += snprintf(ps + o, sizeof ps - (size_t)o, "%s%s=%s", p ? " " : "", w->spec[p].key, val[p]);
        if (st)
            fprintf(a->out, "trial %lld/%ld [group %d]: %s: failed: %s\n", (long long)k + 1, w->trials, w->gid, ps, reason);
        else
            fprintf(a->out, "trial %lld/%ld [group %d]: %s: %s after %lld epochs, %s %.4f (best %.4f) in %.1f s\n",
                    (long long)k + 1, w->trials, w->gid, ps, t.stopped ? "stopped at a rung" : "done",
                    (long long)t.epochs, t.loss_metric ? "dev loss" : "dev accuracy", metric(&t, t.last),
                    metric(&t, t.best), secs);
        fflush(a->out);
    }
    if (rs) return rs;
    /* a failed trial is a result; a broken group can train no more */
    return dt_comm_broken(w->group) ? dt_comm_check(w->group) : DT_OK;
}

/* Take trial numbers from the board until none are left. */
static dt_status group_loop(sweep *w)
{
    for (;;) {
        double k = (double)w->trials;
        dt_status st = DT_OK;
        if (w->grank == 0) {
            st = dt_board_lock(w->board);
            for (double status = 1; !st && status != 0;) { /* skip the trials already recorded */
                st = dt_board_get(w->board, 0, 1, &k);
                double next = k + 1;
                if (!st) st = dt_board_put(w->board, 0, 1, &next);
                status = 0;
                if (!st && k < (double)w->trials) st = dt_board_get(w->board, slot_status(w, (int64_t)k), 1, &status);
            }
            dt_status st2 = dt_board_unlock(w->board);
            if (!st) st = st2;
        }
        DT_TRY(dt_comm_agree(w->group, st));
        DT_TRY(dt_comm_bcast(w->group, &k, sizeof k, 0));
        if (k >= (double)w->trials) return DT_OK;
        DT_TRY(run_trial(w, (int64_t)k));
    }
}

/* ---- the table ------------------------------------------------------------ */

typedef struct {
    cJSON *j;
    double final;
    int64_t trial;
} row;

static int by_final(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int nx = isnan(x->final), ny = isnan(y->final);
    if (nx != ny) return nx - ny;
    if (!nx && x->final != y->final) return x->final > y->final ? -1 : 1;
    return x->trial < y->trial ? -1 : x->trial > y->trial;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void test_event(void *user, const dt_event *ev)
{
    dt_event *te = user;
    if (ev->kind == DT_EV_EVAL && !strcmp(ev->split, "test")) *te = *ev;
}

/* World rank 0, once every trial is recorded: the table, sorted by the
 * final dev metric (what each checkpoint holds), and the chosen trial's
 * one evaluation on the test split. */
static dt_status report(sweep *w, double wall)
{
    FILE *f = fopen(w->jsonl, "r");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot read: %s", w->jsonl, strerror(errno));
    row *rows = calloc((size_t)w->trials, sizeof *rows);
    char *seen = calloc((size_t)w->trials, 1);
    static char line[1 << 16];
    int n = 0, ndone = 0, nstop = 0, nfail = 0;
    double secs = 0;
    while (rows && seen && fgets(line, sizeof line, f)) {
        cJSON *j = cJSON_Parse(line);
        double k = num(j, "trial");
        if (!j || isnan(k) || k < 0 || k >= (double)w->trials || seen[(int64_t)k]) { /* duplicates: the first wins */
            cJSON_Delete(j);
            continue;
        }
        seen[(int64_t)k] = 1;
        const char *m = str(j, "metric"), *s = str(j, "status");
        double fin = strcmp(s, "failed") ? score_of(m, num(j, "final")) : NAN;
        rows[n++] = (row){j, fin, (int64_t)k};
        ndone += !strcmp(s, "done");
        nstop += !strcmp(s, "stopped");
        nfail += !strcmp(s, "failed");
        secs += isnan(num(j, "seconds")) ? 0 : num(j, "seconds");
    }
    fclose(f);
    if (!rows || !seen) {
        free(rows);
        free(seen);
        return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    qsort(rows, (size_t)n, sizeof *rows, by_final);
    char tpath[4300];
    snprintf(tpath, sizeof tpath, "%s/table.txt", w->out);
    FILE *tf = fopen(tpath, "w");
    FILE *outs[2] = {w->a->out, tf};
    const char *mname = n ? str(rows[0].j, "metric") : "dev accuracy";
    for (int o = 0; o < 2; o++) {
        FILE *g = outs[o];
        if (!g) continue;
        fprintf(g, "%-4s %-5s %-8s %-7s %10s %10s %6s %8s", "rank", "trial", "status", "epochs", "final", "best", "epoch",
                "seconds");
        for (int p = 0; p < w->np; p++) fprintf(g, "  %s", w->spec[p].key);
        fprintf(g, "\n");
        for (int i = 0; i < n; i++) {
            const cJSON *j = rows[i].j, *ps = cJSON_GetObjectItemCaseSensitive(j, "params");
            fprintf(g, "%-4d %-5lld %-8s %-7.0f %10.4f %10.4f %6.0f %8.1f", i + 1, (long long)rows[i].trial + 1, str(j, "status"),
                    num(j, "epochs"), num(j, "final"), num(j, "best"), num(j, "best_epoch"), num(j, "seconds"));
            for (int p = 0; p < w->np; p++) fprintf(g, "  %s", str(ps, w->spec[p].key));
            if (!strcmp(str(j, "status"), "failed")) fprintf(g, "  (%s)", str(j, "reason"));
            fprintf(g, "\n");
        }
        fprintf(g, "sweep: %d trials (%d done, %d stopped early, %d failed) on the %s; %.1f s of trials, %.1f s of wall time\n", n,
                ndone, nstop, nfail, mname, secs, wall);
    }
    dt_status st = DT_OK;
    if (n && !isnan(rows[0].final)) {
        const cJSON *best = rows[0].j, *ps = cJSON_GetObjectItemCaseSensitive(best, "params");
        const dt_sweep_args *a = w->a;
        char ckpt[4400], extra[MAX_PARAMS][256];
        snprintf(ckpt, sizeof ckpt, "%s/checkpoint.h5", str(best, "dir"));
        char **ov = calloc((size_t)(a->noverrides + w->np), sizeof *ov);
        if (!ov) st = dt_error(DT_ERR_NOMEM, "out of memory");
        for (int i = 0; ov && i < a->noverrides; i++) ov[i] = a->overrides[i];
        for (int p = 0; ov && p < w->np; p++) {
            snprintf(extra[p], sizeof extra[p], "%s=%s", w->spec[p].key, str(ps, w->spec[p].key));
            ov[a->noverrides + p] = extra[p];
        }
        dt_event te = {.kind = DT_EV_START};
        dt_run_args ea = {.config = a->config, .overrides = ov, .noverrides = a->noverrides + w->np, .ckpt = ckpt,
                          .comm = w->self, .on_event = test_event, .user = &te};
        if (!st) st = dt_eval(&ea);
        free(ov);
        for (int o = 0; !st && o < 2; o++) {
            FILE *g = outs[o];
            if (!g) continue;
            if (te.kind != DT_EV_EVAL)
                fprintf(g, "chosen: trial %lld (%s %.4f); the data has no test split\n", (long long)rows[0].trial + 1,
                        mname, num(best, "final"));
            else
                fprintf(g, "chosen: trial %lld (%s %.4f); test split, evaluated once for it: loss %.4f accuracy %.4f (%lld/%lld)\n",
                        (long long)rows[0].trial + 1, mname, num(best, "final"), te.loss, te.accuracy, (long long)te.correct,
                        (long long)te.count);
        }
        if (st) st = dt_error(st, "evaluating the chosen trial %lld on the test split: %s", (long long)rows[0].trial + 1, dt_errmsg());
    }
    if (w->a->out) fflush(w->a->out);
    if (tf) fclose(tf);
    for (int i = 0; i < n; i++) cJSON_Delete(rows[i].j);
    free(rows);
    free(seen);
    return st;
}

/* World rank 0 waits (without busy waiting) until every trial is recorded. */
static dt_status wait_all(sweep *w)
{
    double *st = malloc((size_t)w->trials * sizeof *st);
    if (!st) return dt_error(DT_ERR_NOMEM, "out of memory");
    const struct timespec pause = {0, 100000000};
    for (;;) {
        dt_status s = dt_board_lock(w->board);
        if (!s) s = dt_board_get(w->board, 1, w->trials, st);
        dt_status s2 = dt_board_unlock(w->board);
        if (s || s2) {
            free(st);
            return s ? s : s2;
        }
        int64_t left = 0;
        for (int64_t k = 0; k < w->trials; k++) left += st[k] == 0;
        if (!left) break;
        nanosleep(&pause, NULL);
    }
    free(st);
    return DT_OK;
}

/* OUT/spec.txt: "KEY KIND A B" per parameter, for launch/plot.sh --sweep. */
static dt_status write_spec(const sweep *w)
{
    static const char *const kind[] = {"log", "1-log", "uniform", "int", "choice"};
    char path[4300];
    snprintf(path, sizeof path, "%s/spec.txt", w->out);
    FILE *f = fopen(path, "w");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    for (int p = 0; p < w->np; p++)
        fprintf(f, "%s %s %.17g %.17g\n", w->spec[p].key, kind[w->spec[p].kind], w->spec[p].lo, w->spec[p].hi);
    return fclose(f) ? dt_error(DT_ERR_IO, "%s: cannot write: %s", path, strerror(errno)) : DT_OK;
}

/* ---- the whole sweep ----------------------------------------------------------- */

dt_status dt_sweep(const dt_sweep_args *a)
{
    sweep w = {.a = a};
    dt_comm *c = a->comm;
    int rank = dt_comm_rank(c);
    double t0 = dt_comm_time();
    char *text = NULL;
    dt_ini *cfg = NULL;
    dt_status st = dt_setup_read_text(c, a->config, &text);
    if (!st) st = dt_ini_parse(a->config, text, &cfg);
    free(text);
    for (int i = 0; !st && i < a->noverrides; i++) st = dt_ini_override(cfg, a->overrides[i]);
    if (!st) st = settings(&w, cfg);
    dt_ini_free(cfg);
    if (st) { /* the same file and arguments on every rank: the same answer */
        free(w.u);
        return st;
    }
    double *init = NULL;
    if (rank == 0) {
        init = calloc((size_t)board_size(&w), sizeof *init);
        if (!init) st = dt_error(DT_ERR_NOMEM, "out of memory");
        for (int64_t i = slot_rungs(&w); init && i < board_size(&w); i++) init[i] = NAN;
        if (!st) st = dt_make_dir(w.out);
        if (!st) st = write_spec(&w);
        if (!st) st = read_records(&w, init);
    }
    w.table = malloc((size_t)(w.trials * (w.nr ? w.nr : 1)) * sizeof *w.table);
    if (!st && !w.table) st = dt_error(DT_ERR_NOMEM, "out of memory");
    st = dt_comm_agree(c, st);
    w.gid = rank / (int)w.G;
    if (!st) st = dt_comm_split(c, w.gid, rank, &w.group);
    if (!st) st = dt_comm_split(c, rank, 0, &w.self);
    if (!st) st = dt_board_create(c, board_size(&w), init, &w.board);
    free(init);
    if (!st) {
        w.grank = dt_comm_rank(w.group);
        if (rank == 0 && a->out) {
            fprintf(a->out, "sweep: %ld trials of %s on %d groups of %ld rank%s, %d parameters, seed %ld, %s; results in %s\n",
                    w.trials, a->config, dt_comm_size(c) / (int)w.G, w.G, w.G > 1 ? "s" : "", w.np, w.seed,
                    w.early ? "early stopping" : "no early stopping", w.jsonl);
            if (w.early && w.nr) {
                fprintf(a->out, "early stopping: a trial goes on at epochs");
                for (int j = 0; j < w.nr; j++) fprintf(a->out, " %lld", (long long)w.rung[j]);
                fprintf(a->out, " only if in the top 1/%g of its rung so far\n", w.eta);
            }
            fflush(a->out);
        }
        st = group_loop(&w);
    }
    /* rank 0 reports even when its own group failed: the others' results stand */
    if (rank == 0 && w.board) {
        dt_status s2 = wait_all(&w);
        if (!s2) s2 = report(&w, dt_comm_time() - t0);
        if (!st) st = s2;
    }
    dt_board_free(w.board);
    dt_comm_free(w.group);
    dt_comm_free(w.self);
    free(w.table);
    free(w.u);
    return st;
}
