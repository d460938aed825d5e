/* metrics.c — metrics.jsonl writer: one JSON object per line, flushed. */
#include "io/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dt_metrics {
    FILE *f;
    char *path;
};

dt_status dt_metrics_open(const char *path, int append, dt_metrics **out)
{
    *out = NULL;
    /* a+ so that a line cut short by a crash can be closed below. */
    FILE *f = fopen(path, append ? "a+" : "w");
    if (!f) return dt_error(DT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int partial = append && fseek(f, -1, SEEK_END) == 0 && fgetc(f) != '\n';
    fseek(f, 0, SEEK_END); /* C requires a seek between reading and writing */
    if (partial) {
        /* A crashed run left a partial line; start ours on a fresh one. */
        if (fputc('\n', f) == EOF || fflush(f) != 0) {
            int err = errno;
            fclose(f);
            return dt_error(DT_ERR_IO, "%s: cannot write: %s", path, strerror(err));
        }
    }
    dt_metrics *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        fclose(f);
        return dt_error(DT_ERR_NOMEM, "%s: out of memory", path);
    }
    m->f = f;
    *out = m;
    return DT_OK;
}

void dt_metrics_close(dt_metrics *m)
{
    if (!m) return;
    if (m->f) fclose(m->f);
    free(m->path);
    free(m);
}

/* Append `s` as a JSON string (quotes included); UTF-8 passes through. */
static void put_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* NaN means "not measured" and is left out. JSON has no infinity: ±1e999 is
 * valid JSON that Python/numpy/pandas read back as ±inf. */
static void put_num(FILE *f, const char *key, double v)
{
    if (isnan(v)) return;
    if (isinf(v)) fprintf(f, ", \"%s\": %s", key, v > 0 ? "1e999" : "-1e999");
    else fprintf(f, ", \"%s\": %.9g", key, v);
}

dt_status dt_metrics_log(dt_metrics *m, int64_t step, int64_t epoch, const char *split, double loss,
                         double accuracy, double lr, double seconds)
{
    return dt_metrics_log_losses(m, step, epoch, split, loss, accuracy, lr, seconds, NULL);
}

dt_status dt_metrics_log_losses(dt_metrics *m, int64_t step, int64_t epoch, const char *split, double loss,
                                double accuracy, double lr, double seconds, const dt_loss_values *lv)
{
    return dt_metrics_log_eval(m, step, epoch, split, loss, accuracy, &DT_NO_FIGURES, lr, seconds, lv);
}

dt_status dt_metrics_log_eval(dt_metrics *m, int64_t step, int64_t epoch, const char *split, double loss,
                              double accuracy, const dt_eval_figures *x, double lr, double seconds, const dt_loss_values *lv)
{
    FILE *f = m->f;
    fprintf(f, "{\"step\": %lld, \"epoch\": %lld", (long long)step, (long long)epoch);
    if (split) {
        fputs(", \"split\": ", f);
        put_json_str(f, split);
    }
    put_num(f, "loss", loss);
    put_num(f, "accuracy", accuracy);
    put_num(f, "map50", x->map50);
    put_num(f, "verify_auc", x->verify_auc);
    put_num(f, "verify_accuracy", x->verify_accuracy);
    put_num(f, "verify_threshold", x->verify_threshold);
    put_num(f, "lr", lr);
    put_num(f, "time", seconds);
    if (lv && lv->n > 0) {
        fputs(", \"losses\": {", f);
        for (int k = 0, first = 1; k < lv->n; k++) {
            if (!isfinite(lv->values[k])) continue;
            fputs(first ? "" : ", ", f);
            put_json_str(f, lv->names[k]);
            fprintf(f, ": %.9g", lv->values[k]);
            first = 0;
        }
        fputs("}", f);
    }
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f)) {
        int err = errno;
        clearerr(f);
        return dt_error(DT_ERR_IO, "%s: cannot write: %s", m->path, strerror(err));
    }
    return DT_OK;
}
