/* metrics.h — metrics.jsonl: one JSON object per line, appended by rank 0.
 *
 *   {"step": 120, "epoch": 2, "split": "train", "loss": 0.4312, "accuracy": 0.85, "lr": 0.001, "time": 3.2}
 *   {"step": 120, "epoch": 2, "split": "batch", "loss": 0.61, "lr": 0.001, "time": 3.2, "losses": {"xent": 0.4, "recon": 0.21}}
 *
 * Fields with a NaN value are left out; the file is flushed after each line
 * so a crashed run keeps what it logged. */
#ifndef DT_METRICS_H
#define DT_METRICS_H

#include <math.h>

#include "core/core.h"

typedef struct dt_metrics dt_metrics;

/* append: keep existing lines (a resumed run). */
dt_status dt_metrics_open(const char *path, int append, dt_metrics **out);
void dt_metrics_close(dt_metrics *m);
dt_status dt_metrics_log(dt_metrics *m, int64_t step, int64_t epoch, const char *split, double loss,
                         double accuracy, double lr, double seconds);

/* The values of a network's separate losses, logged as "losses": {name: value, ...}. */
typedef struct {
    int n;
    const char *const *names;
    const double *values;
} dt_loss_values;

/* dt_metrics_log with each loss's value (lv may be NULL or empty). */
dt_status dt_metrics_log_losses(dt_metrics *m, int64_t step, int64_t epoch, const char *split, double loss,
                                double accuracy, double lr, double seconds, const dt_loss_values *lv);
/* An evaluation's extra figures, each left out when NaN: a detector's
 * "map50"; a verification's "verify_auc", "verify_accuracy" and
 * "verify_threshold". */
typedef struct {
    double map50, verify_auc, verify_accuracy, verify_threshold;
} dt_eval_figures;
#define DT_NO_FIGURES ((dt_eval_figures){NAN, NAN, NAN, NAN})
/* The same with an evaluation's figures. */
dt_status dt_metrics_log_eval(dt_metrics *m, int64_t step, int64_t epoch, const char *split, double loss,
                              double accuracy, const dt_eval_figures *x, double lr, double seconds, const dt_loss_values *lv);

#endif
