/* info.c — `dtrain info`: the summary of a model (layers, output shapes,
 * parameter counts, forward FLOPs per example) from a model file or a
 * checkpoint, then, for HDF5 files, every group, data set and attribute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "info.h"
#include "io/ckpt.h"
#include "io/ini.h"
#include "nn/net.h"

static void shape_str(dt_shape s, char *buf, size_t n)
{
    if (s.h == 1 && s.w == 1) snprintf(buf, n, "%d", s.c);
    else snprintf(buf, n, "%dx%dx%d", s.c, s.h, s.w);
}

static dt_status summary(const char *name, const char *text, const char *input, FILE *out)
{
    dt_ini *m;
    dt_net *net;
    DT_TRY(dt_ini_parse(name, text, &m));
    if (input) {
        char a[256];
        snprintf(a, sizeof a, "input.shape=%s", input);
        dt_status st = dt_ini_override(m, a);
        if (st) {
            dt_ini_free(m);
            return st;
        }
    }
    dt_status st = dt_net_build(m, 1, DT_LOSS_AUTO, &net);
    dt_ini_free(m);
    DT_TRY(st);
    char sh[64];
    shape_str(net->in, sh, sizeof sh);
    fprintf(out, "model %s, input %s, ", name, sh);
    if (net->nlosses == 0) fprintf(out, "no loss (headless: forward only)\n");
    else if (!dt_net_named_losses(net)) fprintf(out, "loss %s\n", net->losses[0].ops->type);
    else
        for (int j = 0; j < net->nlosses; j++) {
            const dt_loss_term *t = &net->losses[j];
            fprintf(out, "%s%s = %s on %s (weight %g)%s", j ? ", " : "losses ", t->name, t->ops->type, t->src->name,
                    t->weight, j + 1 < net->nlosses ? "" : "\n");
        }
    fprintf(out, "%-16s %-14s %-12s %12s %14s\n", "layer", "type", "output", "parameters", "FLOPs/example");
    double total_flops = 0;
    int64_t total = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const dt_layer *l = &net->layers[i];
        int64_t np = 0;
        for (int j = 0; j < l->nparams; j++)
            if (!l->params[j].buffer) np += l->params[j].size;
        double f = dt_layer_flops(l);
        shape_str(l->out, sh, sizeof sh);
        fprintf(out, "%-16s %-14s %-12s %12lld %14.0f%s\n", l->name, l->ops->type, sh, (long long)np, f,
                l->frozen && np ? "  frozen" : "");
        total += np;
        total_flops += f;
    }
    fprintf(out, "%-16s %-14s %-12s %12lld %14.0f\n", "total", "", "", (long long)total, total_flops);
    if (net->nfrozen) fprintf(out, "of which frozen: %lld parameters\n", (long long)net->nfrozen);
    fprintf(out, "training step: about %.1f MFLOP per example (forward and backward)\n", 3 * total_flops / 1e6);
    dt_net_free(net);
    return DT_OK;
}

/* The last "train" and "test" lines of the run's metrics.jsonl, beside the checkpoint. */
static void last_metrics(const char *ckpt, FILE *out)
{
    char path[4096];
    const char *slash = strrchr(ckpt, '/');
    snprintf(path, sizeof path, "%.*smetrics.jsonl", slash ? (int)(slash - ckpt + 1) : 0, ckpt);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024], tr[1024] = "", te[1024] = "";
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "\"split\": \"train\"")) snprintf(tr, sizeof tr, "%s", line);
        if (strstr(line, "\"split\": \"test\"")) snprintf(te, sizeof te, "%s", line);
    }
    fclose(f);
    if (tr[0] || te[0]) fprintf(out, "last metrics (%s):\n%s%s", path, tr, te);
}

dt_status dt_cli_info(const char *file, const char *input, FILE *out)
{
    size_t n = strlen(file);
    if (n > 4 && !strcmp(file + n - 4, ".ini")) {
        char *text;
        DT_TRY(dt_read_text(file, &text, NULL));
        dt_status st = summary(file, text, input, out);
        free(text);
        return st;
    }
    dt_ckpt *c;
    DT_TRY(dt_ckpt_open(file, &c));
    char *model = NULL, *mfile = NULL;
    if (dt_ckpt_attr_str(c, "model", &model) == DT_OK) {
        int64_t step = 0, epoch = 0;
        dt_ckpt_attr_str(c, "model_file", &mfile);
        dt_ckpt_attr_int(c, "step", &step);
        dt_ckpt_attr_int(c, "epoch", &epoch);
        dt_status st = summary(mfile ? mfile : "checkpoint", model, input, out);
        if (st) fprintf(out, "(model summary unavailable: %s)\n", dt_errmsg());
        fprintf(out, "checkpoint at step %lld, epoch %lld\n", (long long)step, (long long)epoch);
        last_metrics(file, out);
        fprintf(out, "\n");
    }
    free(model);
    free(mfile);
    dt_ckpt_close(c);
    return dt_h5_print_info(file, out);
}
