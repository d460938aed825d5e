/* fuzz_ckpt.c — checkpoints, read both ways dtrain reads them:
 *   `eval --ckpt`, `predict`, `[model] weights`: the network built from the
 *      model text the checkpoint holds (and the loss its config names),
 *      then its parameters read (dt_net_load);
 *   `train --resume`: parameters, Adam's state and the progress attributes
 *      read into a network built from a fixed model (dt_ckpt_read_run, what
 *      rank 0 does).
 * Input: the HDF5 file. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#include "io/ini.h"
#include "nn/net.h"
#include "optim/optim.h"
#include "train/checkpoint.h"

static const char model_text[] = "[input]\nshape = 4\n"
                                 "[fc1]\ntype = dense\nunits = 3\nactivation = relu\n"
                                 "[bn]\ntype = batchnorm\n"
                                 "[fc2]\ntype = dense\nunits = 2\nactivation = softmax\n";
static dt_net *net;
static dt_optim adam = {.kind = DT_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
static dt_real *state[2];

void dt_fuzz_setup(void)
{
    dt_fuzz_hdf5_lists();
    net = dt_fuzz_net("resume.ini", model_text);
    for (int k = 0; k < 2; k++)
        if (!(state[k] = dt_alloc((size_t)net->ntrain * sizeof(dt_real)))) abort();
}

dt_status dt_fuzz_one(const uint8_t *data, size_t size)
{
    const char *p = dt_fuzz_path(0, "run.h5");
    dt_fuzz_write(p, data, size, 0);
    dt_net *loaded = NULL;
    char *names = NULL;
    dt_status st = dt_net_load(p, NULL, 2, &loaded, &names);
    dt_net_free(loaded);
    free(names);
    dt_progress pr;
    dt_status st2 = dt_ckpt_read_run(p, net, &adam, state, &pr);
    return st ? st : st2;
}
