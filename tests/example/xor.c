/* xor.c — a program built against the installed libdtrain (pkg-config
 * dtrain): it defines a 2-8-1 network in model text, trains it on XOR
 * through the C API with Adam, and exits 0 when all four points are right. */
#include <stdio.h>

#include "nn/net.h"
#include "optim/optim.h"

int main(void)
{
    static const char *model = "[input]\nshape = 2\n"
                               "[hidden]\ntype = dense\nunits = 8\nactivation = tanh\ninit = xavier\n"
                               "[out]\ntype = dense\nunits = 1\nactivation = sigmoid\ninit = xavier\n";
    dt_real x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    int32_t y[4] = {0, 1, 1, 0}, pred[4];
    int64_t ids[4] = {0, 1, 2, 3};
    dt_ini *m;
    dt_net *net;
    if (dt_ini_parse("xor.ini", model, &m) || dt_net_build(m, 4, DT_LOSS_AUTO, &net) || dt_net_init(net, 1)) {
        fprintf(stderr, "xor: %s\n", dt_errmsg());
        return 1;
    }
    dt_ini_free(m);
    static dt_real v[1024], s[1024];
    dt_real *state[2] = {v, s};
    dt_optim o = {.kind = DT_OPT_ADAM, .lr = 0.05, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    double loss[2] = {0}; /* the objective, then the one loss */
    for (int step = 0; step < 500; step++) {
        dt_pass p = {.n = 4, .train = 1, .seed = 1, .step = (uint64_t)step, .sample_ids = ids};
        int64_t ok = 0;
        loss[0] = loss[1] = 0;
        dt_net_zero_grads(net);
        dt_net_forward(net, x, &p);
        dt_net_loss(net, &(dt_targets){.labels = y}, 4, (dt_real)0.25, loss, &ok);
        dt_net_backward(net, x, NULL, &p);
        dt_optim_step(&o, o.lr, step + 1, net->params, net->grads, state, net->ntrain);
    }
    dt_pass p = {.n = 4, .train = 0};
    dt_net_forward(net, x, &p);
    dt_net_predict(net, 4, pred, NULL);
    int right = 0;
    for (int i = 0; i < 4; i++) right += pred[i] == y[i];
    printf("xor: loss %.4f, %d/4 right\n", loss[0] / 4, right);
    dt_net_free(net);
    return right == 4 ? 0 : 1;
}
