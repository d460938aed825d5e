/* fuzz_ini.c — configs and model files, read as `dtrain train` reads them.
 *
 * Input: config text, a line "%%", model text, a line "%%", then
 * `section.key=value` overrides, one per line (model.SECTION.KEY=... go to
 * the model, as on the command line). The config is read for every key
 * training knows ([train], [optim], [dist], [debug], augmentation), its
 * dump (what checkpoints store) must read back the same, and the model is built
 * into a network for batches of 2 rows. Data loading is left to the data
 * targets: a fuzzed [data] section would name arbitrary files. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ini.h"
#include "nn/net.h"
#include "train/run.h"

void dt_fuzz_setup(void) {}

/* Cut s at the next line that is exactly "%%"; return what follows or NULL. */
static char *cut(char *s)
{
    for (char *p = s; p && *p;) {
        if (!strncmp(p, "%%", 2) && (p[2] == '\n' || p[2] == 0)) {
            char *next = p[2] ? p + 3 : p + 2;
            *p = 0;
            return next;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NULL;
}

static dt_status read_config(dt_ini *cfg, char *overrides, dt_ini *model)
{
    for (char *line = overrides; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (*line) {
            if (!strncmp(line, "model.", 6) && strchr(line + 6, '.')) {
                if (model) DT_TRY(dt_ini_override(model, line + 6));
            } else if (!model) {
                DT_TRY(dt_ini_override(cfg, line));
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return DT_OK;
}

dt_status dt_fuzz_one(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = 0;
    char *model_text = cut(text);
    char *over = model_text ? cut(model_text) : NULL;
    char *over2 = over ? strdup(over) : NULL;
    dt_ini *cfg = NULL, *model = NULL, *again = NULL;
    dt_net *net = NULL;
    char *dump = NULL;
    train_cfg t;
    dt_optim o;
    dt_status st = dt_ini_parse("config.ini", text, &cfg);
    if (!st) st = read_config(cfg, over, NULL);
    /* what a checkpoint stores (any config that parses) must read back */
    if (!st) {
        dump = dt_ini_dump(cfg);
        if (!dump) abort();
        if (dt_ini_parse("dump", dump, &again)) {
            fprintf(stderr, "fuzz: the dump of a config does not parse again: %s\n", dt_errmsg());
            abort();
        }
        char *dump2 = dt_ini_dump(again);
        if (!dump2 || strcmp(dump, dump2)) {
            fprintf(stderr, "fuzz: a config reads back otherwise from its dump:\n%s---\n%s", dump, dump2);
            abort();
        }
        free(dump2);
    }
    if (!st) st = dt_train_read_keys(cfg, &t, &o);
    /* as train does, after the data loader and the model have read theirs */
    if (!st) {
        dt_ini_mark_used(cfg, "data");
        dt_ini_mark_used(cfg, "model");
        dt_ini_mark_used(cfg, "sweep");
        st = dt_ini_check_unused(cfg);
    }
    if (!st && model_text) {
        int loss = DT_LOSS_AUTO;
        st = dt_ini_enum(cfg, "model", "loss", "auto", dt_loss_names, &loss);
        if (!st) st = dt_ini_parse("model.ini", model_text, &model);
        if (!st) st = read_config(cfg, over2, model);
        if (!st) st = dt_net_build(model, 2, (dt_loss)loss, &net);
        if (!st) st = dt_ini_check_unused(model);
    }
    dt_net_free(net);
    dt_ini_free(again);
    dt_ini_free(model);
    dt_ini_free(cfg);
    free(dump);
    free(over2);
    free(text);
    return st;
}
