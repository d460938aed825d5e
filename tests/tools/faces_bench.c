/* faces_bench.c — inference speed of the face networks (launch/get_faces.sh's
 * checkpoints), one thread, for launch/bench.sh MODEL=faces beside
 * launch/faces_torch.py. Times the networks alone, on a fixed input (as the
 * twin does): the detector at 416x416, batch 1 and 8; the recogniser at
 * 150x150 and the landmark net at 112x112, batch 16. Each figure is the
 * median of REPS runs of ITERS forward passes after a warm-up.
 *
 * usage: faces_bench MODELS_DIR [REPS [ITERS [detector|recognizer|landmarks]]]
 * Prints "dtrain detector 416 batch 1: X ms/image" and the like; with
 * FACES_BENCH_LAYERS set in the environment, each network's layers first
 * (ms per batch and GFLOP/s, over 10 more passes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vision/facepipe.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench(const char *dir, const char *file, const char *what, int n, int reps, int iters)
{
    char path[4096];
    dt_vnet v;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (dt_vnet_load(path, n, 0, &v, NULL)) {
        fprintf(stderr, "faces_bench: %s\n", dt_errmsg());
        return 1;
    }
    int64_t in = dt_shape_size(v.net->in);
    dt_real *x = malloc((size_t)(n * in) * sizeof *x);
    for (int64_t i = 0; x && i < n * in; i++) x[i] = (dt_real)((i * 7919 % 256) / 255.0 - 0.5);
    dt_pass p = {.n = n, .no_backward = 1};
    double t[64];
    reps = reps > 64 ? 64 : reps;
    dt_net_forward(v.net, x, &p); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int i = 0; i < iters; i++) dt_net_forward(v.net, x, &p);
        t[r] = (now() - t0) / iters / n * 1e3;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    if (getenv("FACES_BENCH_LAYERS")) {
        double *secs = calloc((size_t)v.net->nlayers, sizeof *secs);
        dt_net_time_into(v.net, secs);
        for (int i = 0; i < 10; i++) dt_net_forward(v.net, x, &p);
        dt_net_time_into(v.net, NULL);
        for (int i = 0; i < v.net->nlayers; i++)
            if (secs[i] > 0)
                printf("  %-24s %-10s %4dx%3dx%3d %8.3f ms %6.1f GFLOP/s\n", v.net->layers[i].name, v.net->layers[i].ops->type,
                       v.net->layers[i].out.c, v.net->layers[i].out.h, v.net->layers[i].out.w, secs[i] / 10 * 1e3,
                       dt_layer_flops(&v.net->layers[i]) * n / (secs[i] / 10) * 1e-9);
        free(secs);
    }
    printf("dtrain %s %d batch %d: %.2f ms/image\n", what, v.size, n, t[reps / 2]);
    fflush(stdout);
    free(x);
    dt_vnet_free(&v);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: faces_bench MODELS_DIR [REPS [ITERS]]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 5, iters = argc > 3 ? atoi(argv[3]) : 3;
    const char *only = argc > 4 ? argv[4] : "";
    if (reps < 1 || iters < 1) return 2;
    dt_blas_init();
    int all = !*only, d = all || !strcmp(only, "detector"), r = all || !strcmp(only, "recognizer"),
        l = all || !strcmp(only, "landmarks");
    return (d && bench(argv[1], "tiny_face_detector.h5", "detector", 1, reps, iters * 4)) ||
           (d && bench(argv[1], "tiny_face_detector.h5", "detector", 8, reps, iters)) ||
           (r && bench(argv[1], "face_recognition.h5", "recognizer", 16, reps, iters)) ||
           (l && bench(argv[1], "face_landmark_68.h5", "landmarks", 16, reps, iters));
}
