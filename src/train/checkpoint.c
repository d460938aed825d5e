/* checkpoint.c — a training run's state to and from a checkpoint file
 * (the layout is in checkpoint.h), and a network with its weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "io/ckpt.h"
#include "train/checkpoint.h"

/* Every array of a checkpoint, sized to the network: no fixed limit. */
typedef struct {
    dt_ckpt_array *a; /* NULL while counting */
    char (*paths)[160];
    int n;
} array_list;

static void add(array_list *l, const char *path, const dt_param *p, dt_real *data)
{
    if (l->a) {
        snprintf(l->paths[l->n], sizeof l->paths[0], "%s", path);
        l->a[l->n] = (dt_ckpt_array){l->paths[l->n], DT_ARR_REAL, data, p->ndim, {0}};
        memcpy(l->a[l->n].dims, p->dims, sizeof p->dims);
    }
    l->n++;
}

static void walk_arrays(const dt_net *net, const dt_optim *o, dt_real *const *st, array_list *l)
{
    char path[160];
    l->n = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const dt_layer *ly = &net->layers[i];
        for (int j = 0; j < ly->nparams; j++) {
            const dt_param *p = &ly->params[j];
            snprintf(path, sizeof path, "params/%s/%s", ly->name, p->name);
            add(l, path, p, p->w);
            for (int k = 0; o && st && p->g && k < dt_optim_nstate(o); k++) { /* trained ones only */
                snprintf(path, sizeof path, "optim/%s/%s_%s", ly->name, dt_optim_state_name(o, k), p->name);
                add(l, path, p, st[k] + (p->w - net->params));
            }
        }
    }
}

static void free_arrays(array_list *l)
{
    free(l->a);
    free(l->paths);
}

/* Every parameter and optimizer state array of the network, by path: counted, then listed. */
static dt_status list_arrays(const dt_net *net, const dt_optim *o, dt_real *const *st, array_list *l)
{
    *l = (array_list){0};
    walk_arrays(net, o, st, l);
    size_t n = (size_t)(l->n ? l->n : 1);
    l->a = calloc(n, sizeof *l->a);
    l->paths = calloc(n, sizeof *l->paths);
    if (!l->a || !l->paths) {
        free_arrays(l);
        return dt_error(DT_ERR_NOMEM, "out of memory for the checkpoint's list of arrays");
    }
    walk_arrays(net, o, st, l);
    return DT_OK;
}

dt_status dt_ckpt_save_run(const char *path, const dt_setup *s, const dt_optim *o,
                           dt_real *const *opt_state, const dt_progress *pr)
{
    array_list l;
    DT_TRY(list_arrays(s->net, o, opt_state, &l));
    char *cfg = dt_ini_dump(s->cfg);
    if (!cfg) {
        free_arrays(&l);
        return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    /* the data set's class names, comma-joined, so `dtrain predict` can name its answers */
    const dt_dataset *d = s->train;
    char *names = NULL;
    if (d && d->class_names) {
        size_t len = 1;
        for (int k = 0; k < d->nclasses; k++) len += strlen(d->class_names[k]) + 1;
        if (!(names = calloc(1, len))) {
            free(cfg);
            free_arrays(&l);
            return dt_error(DT_ERR_NOMEM, "out of memory");
        }
        for (int k = 0; k < d->nclasses; k++) {
            if (k) strcat(names, ",");
            strcat(names, d->class_names[k]);
        }
    }
    dt_ckpt_attr at[] = {
        {"step", DT_ATTR_INT, pr->step, 0, NULL},
        {"epoch", DT_ATTR_INT, pr->epoch, 0, NULL},
        {"epoch_step", DT_ATTR_INT, pr->epoch_step, 0, NULL},
        {"ranks", DT_ATTR_INT, s->nranks, 0, NULL},
        {"global_batch", DT_ATTR_INT, pr->global_batch, 0, NULL},
        /* The generators' whole state: shuffling re-seeds from (seed, epoch) and
         * dropout is counter-based on (seed, step, sample), so the seeds (the
         * train seed is in the config text) with step and epoch_step suffice. */
        {"init_seed", DT_ATTR_INT, s->init_seed, 0, NULL},
        {"dtype", DT_ATTR_STR, 0, 0, DT_REAL_NAME},
        {"model_file", DT_ATTR_STR, 0, 0, s->model_path},
        {"model", DT_ATTR_STR, 0, 0, dt_ini_text(s->model)},
        {"config", DT_ATTR_STR, 0, 0, cfg},
        {"optimizer", DT_ATTR_STR, 0, 0, o ? (const char *[]){"gd", "momentum", "rmsprop", "adam"}[o->kind] : "none"},
        {"class_names", DT_ATTR_STR, 0, 0, names}, /* last: left out when the data has no names */
    };
    int nat = (int)(sizeof at / sizeof *at) - (names ? 0 : 1);
    dt_status st = dt_ckpt_write(path, l.a, l.n, at, nat);
    free(cfg);
    free(names);
    free_arrays(&l);
    return st;
}

dt_status dt_ckpt_save_net(const char *path, const dt_net *net, const char *model_file, const char *model_text,
                           const char *source)
{
    array_list l;
    DT_TRY(list_arrays(net, NULL, NULL, &l));
    dt_ckpt_attr at[] = {
        {"step", DT_ATTR_INT, 0, 0, NULL},         {"epoch", DT_ATTR_INT, 0, 0, NULL},
        {"epoch_step", DT_ATTR_INT, 0, 0, NULL},   {"ranks", DT_ATTR_INT, 1, 0, NULL},
        {"global_batch", DT_ATTR_INT, 0, 0, NULL}, {"init_seed", DT_ATTR_INT, 0, 0, NULL},
        {"dtype", DT_ATTR_STR, 0, 0, DT_REAL_NAME}, {"model_file", DT_ATTR_STR, 0, 0, model_file},
        {"model", DT_ATTR_STR, 0, 0, model_text},  {"config", DT_ATTR_STR, 0, 0, ""},
        {"optimizer", DT_ATTR_STR, 0, 0, "none"},  {"source", DT_ATTR_STR, 0, 0, source},
    };
    dt_status st = dt_ckpt_write(path, l.a, l.n, at, (int)(sizeof at / sizeof *at));
    free_arrays(&l);
    return st;
}

/* Every array of the network (and of the optimizer, when o and st are given) from an open checkpoint. */
static dt_status read_arrays(dt_ckpt *c, const char *path, const dt_net *net, const dt_optim *o, dt_real *const *st)
{
    array_list l;
    DT_TRY(list_arrays(net, o, st, &l));
    dt_status rc = DT_OK;
    for (int i = 0; i < l.n && !rc; i++) {
        /* a checkpoint of parameters alone still loads for eval */
        if (!strncmp(l.a[i].path, "optim/", 6) && !dt_ckpt_has(c, l.a[i].path)) {
            rc = dt_error(DT_ERR_DATA, "%s: /%s is missing: the checkpoint was written with another optimizer",
                          path, l.a[i].path);
            break;
        }
        rc = dt_ckpt_read(c, l.a[i].path, DT_ARR_REAL, (void *)l.a[i].data, l.a[i].ndim, l.a[i].dims);
    }
    free_arrays(&l);
    return rc;
}

dt_status dt_ckpt_read_run(const char *path, dt_net *net, const dt_optim *o, dt_real *const *st, dt_progress *pr)
{
    dt_ckpt *c;
    DT_TRY(dt_ckpt_open(path, &c));
    dt_status rc = read_arrays(c, path, net, o, st);
    if (!rc && pr) {
        rc = dt_ckpt_attr_int(c, "step", &pr->step);
        if (!rc) rc = dt_ckpt_attr_int(c, "epoch", &pr->epoch);
        if (!rc) rc = dt_ckpt_attr_int(c, "epoch_step", &pr->epoch_step);
        /* older checkpoints lack it; the position in the epoch is then taken as is */
        if (!rc && dt_ckpt_attr_int(c, "global_batch", &pr->global_batch)) pr->global_batch = 0;
        if (!rc && dt_ckpt_attr_int(c, "ranks", &pr->ranks)) pr->ranks = 0;
    }
    dt_ckpt_close(c);
    return rc;
}

dt_status dt_ckpt_load_run(const char *path, dt_setup *s, const dt_optim *o, dt_real *const *opt_state,
                           dt_progress *pr)
{
    dt_status st = DT_OK;
    if (s->rank == 0) st = dt_ckpt_read_run(path, s->net, o, opt_state, pr);
    DT_TRY(dt_comm_agree(s->comm, st));
    DT_TRY(dt_comm_bcast_real(s->comm, s->net->params, s->net->nparams, 0));
    DT_TRY(dt_comm_bcast_real(s->comm, s->net->bufs, s->net->nbufs, 0));
    for (int k = 0; o && opt_state && k < dt_optim_nstate(o); k++)
        DT_TRY(dt_comm_bcast_real(s->comm, opt_state[k], s->net->ntrain, 0));
    if (pr) DT_TRY(dt_comm_bcast(s->comm, pr, sizeof *pr, 0));
    return DT_OK;
}

dt_status dt_net_load(const char *path, const char *model_text, int64_t maxn, dt_net **out, char **class_names)
{
    dt_ckpt *c;
    char *model = NULL, *cfg = NULL;
    dt_ini *m = NULL, *ci = NULL;
    int loss = DT_LOSS_AUTO;
    *out = NULL;
    if (class_names) *class_names = NULL;
    DT_TRY(dt_ckpt_open(path, &c));
    dt_status st = DT_OK;
    if (!model_text && dt_ckpt_attr_str(c, "model", &model))
        st = dt_error(DT_ERR_DATA, "%s: not a dtrain checkpoint (no \"model\" attribute)", path);
    /* the run's config may have chosen the loss of a model without loss sections */
    if (!st && !model_text && !dt_ckpt_attr_str(c, "config", &cfg) && !dt_ini_parse("config", cfg, &ci))
        dt_ini_enum(ci, "model", "loss", "auto", dt_loss_names, &loss);
    if (!st && class_names) dt_ckpt_attr_str(c, "class_names", class_names);
    if (!st) st = dt_ini_parse(path, model_text ? model_text : model, &m);
    /* the model text is the file's too: its parameters must be there before they are allocated */
    int64_t held = 0;
    if (!st) st = dt_ckpt_values(c, "params", &held);
    if (!st) st = dt_net_build_within(m, maxn, (dt_loss)loss, held > 0 ? held : 1, path, out);
    if (!st) st = read_arrays(c, path, *out, NULL, NULL);
    dt_ckpt_close(c);
    dt_ini_free(m);
    dt_ini_free(ci);
    free(model);
    free(cfg);
    if (st) {
        dt_net_free(*out);
        *out = NULL;
        if (class_names) {
            free(*class_names);
            *class_names = NULL;
        }
    }
    return st;
}
