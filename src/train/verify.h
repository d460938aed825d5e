/* verify.h — verification of identities by embedding distance, FaceNet's
 * test ("is it the same person?") on a split of identities the network has
 * not seen: rows whose features are close enough are called the same.
 *
 * The rows (in split order) are cut in two halves. Every pair of rows
 * within a half is a trial; features are L2-normalised first (an embedding
 * already is; a classifier's penultimate features are compared by
 * direction), and their Euclidean distance is the score. The first half
 * (validation) chooses the threshold that maximises balanced accuracy,
 * (TPR + TNR) / 2, at the midpoint between two observed distances; the
 * second half (test) is measured with it. ROC AUC is the probability that
 * a same-identity pair is closer than a different one (ties count half). */
#ifndef DT_VERIFY_H
#define DT_VERIFY_H

#include "core/core.h"

typedef struct {
    double auc, acc;  /* test half: ROC AUC, balanced accuracy at thr */
    double thr;       /* the distance threshold the validation half chose */
    double val_auc;   /* validation half's AUC */
    int64_t pairs;    /* trials in the test half */
} dt_verify_result;

/* rows: n rows of stride values, the d features then the identity. Needs
 * both identities-same and -different pairs in each half (DT_ERR_DATA). */
dt_status dt_verify(const double *rows, int64_t stride, int64_t n, int64_t d, dt_verify_result *r);

#endif
