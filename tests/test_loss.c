/* test_loss.c — losses as sections of the model file, several losses on
 * any layers, dense targets, headless networks, frozen layers, and the
 * input gradient with the optimiser of inputs (train/invert.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "net_check.h"
#include "train/invert.h"

static dt_net *build(const char *text, int64_t n)
{
    dt_ini *m;
    dt_net *net = NULL;
    ck_assert(dt_ini_parse("m.ini", text, &m) == DT_OK);
    ck_assert_msg(dt_net_build(m, n, DT_LOSS_AUTO, &net) == DT_OK, "%s", dt_errmsg());
    dt_ini_free(m);
    return net;
}

static const char *build_error(const char *text)
{
    dt_ini *m;
    dt_net *net = NULL;
    ck_assert(dt_ini_parse("m.ini", text, &m) == DT_OK);
    ck_assert_int_ne(dt_net_build(m, 4, DT_LOSS_AUTO, &net), DT_OK);
    ck_assert(net == NULL);
    dt_ini_free(m);
    return dt_errmsg();
}

/* Finite differences over parameters and inputs, for loss sections. */
START_TEST(gradients_of_loss_sections)
{
    static const char *models[] = {
        /* softmax_ce on logits (a linear layer) */
        "[input]\nshape = 3\n[h]\ntype = dense\nunits = 5\nactivation = tanh\n"
        "[z]\ntype = dense\nunits = 4\n[xent]\ntype = softmax_ce\n",
        /* bce on a logit, weighted */
        "[input]\nshape = 3\n[h]\ntype = dense\nunits = 5\nactivation = relu\n"
        "[z]\ntype = dense\nunits = 1\n[b]\ntype = bce\nweight = 0.3\n",
        /* two classifiers reading the same labels: one on an inner layer */
        "[input]\nshape = 3\n[h]\ntype = dense\nunits = 4\n[aux]\ntype = softmax_ce\nweight = 0.5\n"
        "[a]\ntype = activation\nactivation = tanh\ninputs = h\n[out]\ntype = dense\nunits = 4\nactivation = softmax\n"
        "[main]\ntype = softmax_ce\n",
        /* mse on an inner and on the last layer (one target of 2 values) */
        "[input]\nshape = 3\n[h]\ntype = dense\nunits = 2\nactivation = tanh\n[m1]\ntype = mse\nweight = 2\n"
        "[o]\ntype = dense\nunits = 2\nactivation = sigmoid\n[m2]\ntype = mse\n",
        /* mse on an image-shaped layer, a frozen conv in front */
        "[input]\nshape = 1,5,5\n[c1]\ntype = conv2d\nfilters = 2\nkernel = 3\ntrainable = 0\n"
        "[c2]\ntype = conv2d\nfilters = 1\nkernel = 3\npadding = same\n[m]\ntype = mse\n",
    };
    GC_ASSERT(models[_i], 5, _i == 1 ? 2 : 4, 0);
}
END_TEST

/* A loss section means what the old spelling means: the same objective and gradients. */
START_TEST(loss_section_matches_old_spelling)
{
    const char *old = "[input]\nshape = 4\n[h]\ntype = dense\nunits = 6\nactivation = relu\n"
                      "[o]\ntype = dense\nunits = 3\nactivation = softmax\n";
    char text[512];
    snprintf(text, sizeof text, "%s[xent]\ntype = softmax_ce\ninputs = o\n", old);
    dt_net *a = build(old, 4), *b = build(text, 4);
    ck_assert_int_eq(a->nlosses, 1);
    ck_assert_int_eq(b->nlosses, 1);
    ck_assert_str_eq(b->losses[0].name, "xent");
    ck_assert(dt_net_init(a, 3) == DT_OK && dt_net_init(b, 3) == DT_OK);
    dt_real x[16];
    int32_t y[4] = {0, 2, 1, 2};
    for (int i = 0; i < 16; i++) x[i] = (dt_real)(i % 5) / 4 - (dt_real)0.3;
    dt_pass p = {.n = 4, .train = 1};
    double sa[2] = {0}, sb[2] = {0};
    int64_t ca = 0, cb = 0;
    dt_net *nets[2] = {a, b};
    double *sums[2] = {sa, sb};
    int64_t *cor[2] = {&ca, &cb};
    for (int k = 0; k < 2; k++) {
        dt_net_zero_grads(nets[k]);
        dt_net_forward(nets[k], x, &p);
        dt_net_loss(nets[k], &(dt_targets){.labels = y}, 4, (dt_real)0.25, sums[k], cor[k]);
        dt_net_backward(nets[k], x, NULL, &p);
    }
    ck_assert(sa[0] > 0.1);
    ck_assert(sa[0] == sb[0] && sa[1] == sb[1]);
    ck_assert_int_eq(ca, cb);
    ck_assert_int_eq(a->ntrain, b->ntrain);
    ck_assert(memcmp(a->grads, b->grads, (size_t)a->ntrain * sizeof(dt_real)) == 0);
    dt_net_free(a);
    dt_net_free(b);
}
END_TEST

START_TEST(loss_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\nactivation = relu\n[l]\ntype = softmax_ce\n",
         "[l] softmax_ce reads two or more units of a layer with activation = softmax or linear"},
        {"[input]\nshape = 4\n[l]\ntype = mse\n[h]\ntype = dense\nunits = 3\n", "[l] a loss must follow the layer it reads"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\n[l]\ntype = mse\ninputs = input\n", "[l] a loss reads a layer, not the network's input"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\n[l]\ntype = mse\ncolour = 1\n", "m.ini:8: [l] unknown key 'colour'"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\nactivation = softmax\n[l]\ntype = softmax_ce\n[o]\ntype = dense\nunits = 2\n",
         "[l] softmax_ce fuses with the softmax of 'h', which another layer or loss also reads"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\n[l]\ntype = softmax_ce\n[o]\ntype = dense\nunits = 2\n[m]\ntype = mse\n",
         "[m] reads dense targets, but another loss reads label ones"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\n[m]\ntype = mse\n[o]\ntype = dense\nunits = 2\n[m2]\ntype = mse\n",
         "[m2] reads 2 values per row, but another loss reads 3 of the same target"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\n[m]\ntype = mse\nweight = -1\n", "m.ini:8: [m] weight = -1: expected a number in"},
        {"[input]\nshape = 4\n[h]\ntype = dense\nunits = 3\ntrainable = 2\n", "m.ini:6: [h] trainable = 2"},
        {"[input]\nshape = 4\n[h]\ntype = densely\n", "type = 'densely': unknown layer type (expected a layer: dense"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = build_error(cases[i].text);
        ck_assert_msg(strstr(got, cases[i].want), "case %zu: got '%s', want '%s'", i, got, cases[i].want);
    }
}
END_TEST

/* No loss: forward only; backward runs no layer and leaves the gradients alone. */
START_TEST(headless)
{
    dt_net *net = build("[input]\nshape = 3\n[h]\ntype = dense\nunits = 4\nactivation = relu\n[f]\ntype = dense\nunits = 2\n", 2);
    ck_assert_int_eq(net->nlosses, 0);
    ck_assert_int_eq(net->classifier, -1);
    ck_assert_int_eq(net->target, DT_TARGET_NONE);
    ck_assert(dt_net_init(net, 1) == DT_OK);
    dt_real x[6] = {1, 2, 3, -1, 0, 1};
    dt_pass p = {.n = 2};
    const dt_real *y = dt_net_forward(net, x, &p);
    double s = 0;
    for (int i = 0; i < 4; i++) s += fabs((double)y[i]);
    ck_assert(s > 0);
    for (int i = 0; i < net->nlayers; i++) ck_assert_int_eq(net->layers[i].runs_backward, 0);
    dt_net_free(net);
}
END_TEST

/* trainable = 0: no gradient buffer, no optimizer range, and the others'
 * gradients are what they are with everything trained; frozen batch norm
 * normalises with its running statistics and keeps them. */
START_TEST(frozen_layers)
{
    const char *base = "[input]\nshape = 1,6,6\n[c]\ntype = conv2d\nfilters = 3\nkernel = 3\n%s"
                       "[bn]\ntype = batchnorm\n%s[r]\ntype = activation\nactivation = relu\n[f]\ntype = flatten\n"
                       "[o]\ntype = dense\nunits = 3\nactivation = softmax\n";
    char tf[1024], tt[1024];
    snprintf(tf, sizeof tf, base, "trainable = 0\n", "trainable = 0\n");
    snprintf(tt, sizeof tt, base, "", "");
    dt_net *fz = build(tf, 4), *all = build(tt, 4);
    int64_t conv = 3 * 9 + 3, bn = 2 * 3, dense = 3 * 48 + 3;
    ck_assert_int_eq(fz->ncount, all->ncount);
    ck_assert_int_eq(fz->ncount, conv + bn + dense);
    ck_assert_int_eq(fz->nfrozen, conv + bn);
    ck_assert(fz->ntrain < all->ntrain);
    ck_assert_int_eq(fz->ntrain, 3 * 48 + 64 / (int)sizeof(dt_real)); /* W, then b, each on a cache line */
    ck_assert(fz->layers[0].params[0].g == NULL);
    ck_assert(fz->layers[1].params[0].g == NULL);
    /* the same values, and batch norm in its inference form in both */
    ck_assert(dt_net_init(fz, 2) == DT_OK && dt_net_init(all, 2) == DT_OK);
    for (int i = 0; i < fz->nlayers; i++)
        for (int j = 0; j < fz->layers[i].nparams; j++)
            memcpy(fz->layers[i].params[j].w, all->layers[i].params[j].w, (size_t)fz->layers[i].params[j].size * sizeof(dt_real));
    dt_real x[4 * 36];
    int32_t y[4] = {0, 1, 2, 1};
    for (int i = 0; i < 4 * 36; i++) x[i] = (dt_real)((i * 37) % 11) / 5 - 1;
    double s[2] = {0};
    dt_pass tr = {.n = 4, .train = 1}, ev = {.n = 4, .train = 0};
    dt_net_zero_grads(fz);
    dt_net_forward(fz, x, &tr);
    dt_net_loss(fz, &(dt_targets){.labels = y}, 4, 1, s, NULL);
    dt_net_backward(fz, x, NULL, &tr);
    ck_assert_int_eq(fz->layers[0].runs_backward, 0); /* nothing before the dense layer wants a gradient */
    ck_assert_int_eq(fz->layers[1].runs_backward, 0);
    dt_net_zero_grads(all);
    dt_net_forward(all, x, &ev);
    dt_net_loss(all, &(dt_targets){.labels = y}, 4, 1, s, NULL);
    dt_net_backward(all, x, NULL, &ev);
    const dt_param *Wf = &fz->layers[4].params[0], *Wa = &all->layers[4].params[0];
    for (int64_t i = 0; i < Wf->size; i++) ck_assert(Wf->g[i] == Wa->g[i]);
    dt_net_commit_stats(fz);
    ck_assert(fz->layers[1].params[2].w[0] == 0 && fz->layers[1].params[3].w[0] == 1); /* running statistics kept */
    dt_net_free(fz);
    dt_net_free(all);
}
END_TEST

/* Feature inversion: from the features of a known input, recover the input
 * by optimising it (Adam) through a frozen network. */
START_TEST(recover_input_from_features)
{
    dt_net *net = build("[input]\nshape = 6\n[h]\ntype = dense\nunits = 16\nactivation = tanh\ninit = xavier\n"
                        "[f]\ntype = dense\nunits = 10\ninit = xavier\n[match]\ntype = mse\n", 2);
    ck_assert(dt_net_init(net, 4) == DT_OK);
    dt_real want[12], x[12] = {0}, feat[20];
    for (int i = 0; i < 12; i++) want[i] = (dt_real)(0.8 * sin(1.7 * i + 0.3));
    dt_pass p = {.n = 2};
    memcpy(feat, dt_net_forward(net, want, &p), sizeof feat);
    dt_optim o = {.kind = DT_OPT_ADAM, .lr = 0.02, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    dt_invert v;
    ck_assert(dt_invert_init(&v, net, &o, x, 2) == DT_OK);
    ck_assert_int_eq(net->ntrain, 0);
    double first = 0, loss = 0;
    for (int it = 0; it < 3000; it++) {
        dt_invert_step(&v, &(dt_targets){.dense = feat}, it < 2000 ? 0.02 : 0.002, &loss);
        if (it == 0) first = loss;
    }
    double err = 0;
    for (int i = 0; i < 12; i++) err = fmax(err, fabs((double)x[i] - (double)want[i]));
    ck_assert_msg(first > 0.05, "first loss %g", first);
    ck_assert_msg(loss < 1e-5 && err < 2e-2, "loss %g -> %g, largest input error %g", first, loss, err);
    dt_invert_free(&v);
    dt_net_free(net);
}
END_TEST

/* Every registered layer type, between an image input and a softmax head:
 * finite differences of the parameters and of the input (the gradient
 * dt_net_backward writes into dx). A type without a case here fails. */
START_TEST(input_gradient_of_every_layer_type)
{
    static const struct {
        const char *type, *section;
    } cases[] = {
        {"dense", "[l]\ntype = dense\nunits = 3\nactivation = tanh\n"},
        {"dropout", "[l]\ntype = dropout\nkeep = 0.7\n"},
        {"activation", "[l]\ntype = activation\nactivation = tanh\n"},
        {"conv2d", "[l]\ntype = conv2d\nfilters = 2\nkernel = 3\npadding = same\nstride = 2\n"},
        {"zeropad", "[l]\ntype = zeropad\npadding = 1,0,2,1\n"},
        {"dwconv2d", "[l]\ntype = dwconv2d\nkernel = 3\npadding = same\nstride = 2\n"},
        {"scale", "[l]\ntype = scale\nactivation = tanh\n"},
        {"l2norm", "[l]\ntype = l2norm\n"},
        {"maxpool", "[l]\ntype = maxpool\nkernel = 2\n"},
        {"avgpool", "[l]\ntype = avgpool\nkernel = 3\nstride = 1\n"},
        {"batchnorm", "[l]\ntype = batchnorm\n"},
        {"flatten", "[l]\ntype = flatten\n"},
        {"global_avgpool", "[l]\ntype = global_avgpool\n"},
        {"add", "[a]\ntype = activation\nactivation = tanh\n[l]\ntype = add\ninputs = a, input\n"},
    };
    char list[512];
    snprintf(list, sizeof list, "%s, ", dt_layer_type_list());
    int covered = 0;
    for (char *save = NULL, *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        size_t i = 0;
        while (i < sizeof cases / sizeof *cases && strcmp(cases[i].type, t)) i++;
        ck_assert_msg(i < sizeof cases / sizeof *cases, "layer type '%s' has no input-gradient check here", t);
        char text[1024];
        snprintf(text, sizeof text, "[input]\nshape = 2,4,4\n%s[f]\ntype = flatten\n[o]\ntype = dense\nunits = 3\n"
                                    "activation = softmax\n", cases[i].section);
        GC_ASSERT(text, 3, 3, 0);
        covered++;
    }
    ck_assert_int_eq(covered, (int)(sizeof cases / sizeof *cases));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("losses");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, gradients_of_loss_sections, 0, 5);
    tcase_add_test(tc, loss_section_matches_old_spelling);
    tcase_add_test(tc, loss_errors);
    tcase_add_test(tc, headless);
    tcase_add_test(tc, frozen_layers);
    tcase_add_test(tc, recover_input_from_features);
    tcase_add_test(tc, input_gradient_of_every_layer_type);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
