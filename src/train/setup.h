/* setup.h — what train, eval and gradcheck share: a config and its model
 * read on rank 0 and broadcast, the data loaded, the network built, and
 * evaluation (checkpoints: checkpoint.h). */
#ifndef DT_SETUP_H
#define DT_SETUP_H

#include "comm/comm.h"
#include "data/data.h"
#include "io/ini.h"
#include "nn/net.h"
#include "optim/optim.h"
#include "train/verify.h"

typedef struct dt_setup_s {
    dt_ini *cfg, *model;
    char *model_path;
    dt_dataset *train, *test;
    const char *test_name; /* what `test` is: "test", or "dev" ([data] dev_fraction: rows held out of training) */
    dt_sharding sharding;
    dt_net *net;
    uint32_t init_seed;
    int chw;        /* images already reordered to C,H,W */
    dt_comm *comm;  /* the ranks this run spans (not owned) */
    int verify;     /* [train] verify = LAYER: the layer whose features verify the test split's identities, or -1 */
    int rank, nranks;
} dt_setup;

/* Read a text file on rank 0 of c and hand its content to every rank. */
dt_status dt_setup_read_text(dt_comm *c, const char *path, char **text);
/* Read CONFIG (with `section.key=value` overrides) and its [model] file on
 * rank 0 of comm and broadcast their text; every rank parses them. */
dt_status dt_setup_config(dt_setup *s, dt_comm *comm, const char *config_path, char *const *overrides, int nover);
/* Load the data and build the network for batches of `maxn` rows, checking
 * that the model's input matches the data. */
dt_status dt_setup_data(dt_setup *s);
dt_status dt_setup_net(dt_setup *s, int64_t maxn);
/* Build for at least `need` rows, and for up to `want` (evaluation goes
 * faster in large chunks) where that costs under 64 MB of activations. */
dt_status dt_setup_net_sized(dt_setup *s, int64_t need, int64_t want);
void dt_setup_free(dt_setup *s);

/* Exact loss and accuracy over a whole split, summed over ranks; for a
 * detector (a yolo loss), the mean average precision at IoU 0.5 over the
 * whole split, from every rank's detections gathered on rank 0; with
 * [train] verify, on the test split, verification (train/verify.h) by the
 * features of that layer, every rank's rows gathered on rank 0. */
typedef struct {
    double loss;           /* the objective's mean */
    int64_t correct, count;
    double *each;          /* NULL, or [nlosses]: each loss's mean, filled in */
    int has_map;           /* a detector: map50 and ap are set */
    double map50;          /* mAP at IoU 0.5 (PASCAL VOC, all-point), on every rank */
    double *ap;            /* NULL, or [DT_EVAL_MAX_CLASSES]: each class's AP (NaN: no boxes of it) */
    int nclasses;
    int has_verify;        /* the test split of a [train] verify run: v is set */
    dt_verify_result v;
} dt_eval_result;
#define DT_EVAL_MAX_CLASSES 1000
dt_status dt_evaluate(dt_setup *s, const dt_dataset *d, dt_eval_result *r);

#endif
