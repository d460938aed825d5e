/* predict.c — `dtrain predict`: the course's "test with your own image".
 * The checkpoint carries everything needed: the model text (attribute
 * "model"), the parameters, and the data set's class names ("class_names"),
 * so no config or data set is read. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "nn/net.h"
#include "predict.h"
#include "train/checkpoint.h"


static int err(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "dtrain: error: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

/* The image the model reads: C,H,W for an image model; for a flat model of
 * F inputs, a square RGB image (F = S·S·3, the course's 64·64·3) or else a
 * square grey one (F = S·S, Fashion-MNIST's 28·28), in H,W,C order. */
static int input_geometry(dt_shape in, int *C, int *H, int *W, int *hwc)
{
    *hwc = in.h == 1 && in.w == 1;
    if (!*hwc) {
        *C = in.c, *H = in.h, *W = in.w;
        return *C == 1 || *C == 3;
    }
    for (int c = 3; c >= 1; c -= 2) {
        int s = (int)lround(sqrt((double)in.c / c));
        if (in.c % c == 0 && s * s * c == in.c) {
            *C = c, *H = *W = s;
            return 1;
        }
    }
    return 0;
}

/* Model, parameters and buffers of the checkpoint; class names if stored. */
static int load(const char *path, dt_net **net, char **names)
{
    if (dt_net_load(path, NULL, 1, net, names)) return err("%s%s", dt_errmsg(), "");
    return 0;
}

/* Name of class k: the k-th comma-separated entry of names, else "class k". */
static void class_name(const char *names, int k, char *buf, size_t len)
{
    const char *p = names;
    for (int i = 0; p && i < k; i++)
        if ((p = strchr(p, ','))) p++;
    if (p && *p && *p != ',') snprintf(buf, len, "%.*s", (int)strcspn(p, ","), p);
    else snprintf(buf, len, "class %d", k);
}

int dt_cli_predict(const char *ckpt, char *const *images, int nimages, FILE *out)
{
    dt_net *net;
    char *names;
    int rc = load(ckpt, &net, &names), C, H, W, hwc;
    if (rc) return rc;
    if (net->classifier < 0) {
        rc = err("%s: the model has no classifier (a softmax_ce or bce loss) to predict classes with%s", ckpt, "");
        goto done;
    }
    if (!input_geometry(net->in, &C, &H, &W, &hwc)) {
        char n[32];
        snprintf(n, sizeof n, "%d", net->in.c);
        rc = err("%s: the model's input (%s values) is not an image of 1 or 3 channels", ckpt, n);
        goto done;
    }
    dt_real *x = dt_alloc((size_t)C * H * W * sizeof *x);
    for (int i = 0; x && i < nimages; i++) {
        const char *file = images[i];
        unsigned char *px;
        if (dt_image_read(file, C, H, W, &px)) {
            rc = err("%s%s", dt_errmsg(), "");
            continue;
        }
        /* scaled to [0, 1] like the data sets; flat models read H,W,C rows, image models C,H,W */
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++)
                for (int c = 0; c < C; c++)
                    x[hwc ? ((int64_t)y * W + xx) * C + c : ((int64_t)c * H + y) * W + xx] =
                        (dt_real)(px[((int64_t)y * W + xx) * C + c] / 255.0);
        free(px);
        dt_pass p = {.n = 1, .train = 0};
        dt_net_forward(net, x, &p);
        int32_t cls;
        dt_real prob;
        dt_net_predict(net, 1, &cls, &prob);
        char name[128];
        class_name(names, cls, name, sizeof name);
        fprintf(out, "%s: %s (p = %.2f)\n", file, name, (double)prob);
    }
    if (!x) rc = err("%s%s", "out of memory", "");
    dt_free(x);
done:
    dt_net_free(net);
    free(names);
    return rc;
}
