/* vision_cmds.c — arguments of the picture commands (see vision_cmds.h):
 * options in any order, the rest are pictures; rank 0 does the work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "data/scenes.h"
#include "faces_cmd.h"
#include "import_cmd.h"
#include "scenes_cmd.h"
#include "vision_cmds.h"

static const char *usage_import =
    "usage: dtrain import tfjs MANIFEST.json --model MODEL.ini --out OUT.h5\n"
    "\n"
    "TensorFlow.js weights (a *-weights_manifest.json and the .bin shards beside\n"
    "it; float32, or quantised uint8/uint16/float16) into a dtrain checkpoint of\n"
    "MODEL.ini, whose [tfjs] section maps every LAYER.PARAM to a manifest weight.\n"
    "Filters move from TensorFlow's layout to PyTorch's. The checkpoint then works\n"
    "with detect and faces, and as [model] weights of a training config.\n";

static const char *usage_detect =
    "usage: dtrain detect --ckpt CKPT IMAGE... [--out DIR] [--score S] [--iou T] [--size N]\n"
    "\n"
    "YOLO detection with a checkpoint whose model has [preprocess] and [yolo]\n"
    "sections (models/faces/tiny_face_detector.ini): decode the grid, keep boxes\n"
    "scoring above S (default: the model's, 0.5), non-max suppression per class at\n"
    "IoU T (0.4). Prints each box (class, score, x1 y1 x2 y2 in picture pixels);\n"
    "--out DIR also writes DIR/NAME.png with the boxes drawn and labelled.\n"
    "--size N runs the network at N x N input (a multiple of 32; default its own).\n";

static const char *usage_faces =
    "usage: dtrain faces IMAGE... --out FACES.h5 [--models DIR]\n"
    "       dtrain verify A.jpg B.jpg [--threshold 0.6] [--models DIR]\n"
    "       dtrain identify IMAGE --db DB.h5 [--threshold 0.6] [--models DIR]\n"
    "       dtrain identify --add NAME IMAGE --db DB.h5 [--models DIR]\n"
    "\n"
    "Face recognition with face-api's pretrained networks (launch/get_faces.sh\n"
    "fetches and converts them into DIR: default $DTRAIN_FACES, else\n"
    "~/.cache/dtrain/faces). faces: every face's box, 68 landmarks, aligned crop\n"
    "and 128-d descriptor, printed and written to HDF5 (a picture that cannot be\n"
    "read is reported and the others' faces are written). verify: the distance\n"
    "between the largest faces of two pictures, \"same person\" under the\n"
    "threshold. identify: names every face from the database (or says it is not\n"
    "in it); --add enrols the picture's largest face under NAME.\n";

static const char *usage_scenes =
    "usage: dtrain make-scenes --out SCENES.h5 [--train 4000] [--test 500] [--seed 1]\n"
    "                          [--size 128] [--items 5] [--min 14] [--max 56] [--fmnist DIR]\n"
    "                          [--png DIR [--png-count 8]]\n"
    "\n"
    "A detection data set that needs no download: Fashion-MNIST items scaled to\n"
    "--min..--max pixels, 1 to --items of them on each --size x --size textured\n"
    "canvas (they may overlap a little), their boxes recorded. train_x, test_x:\n"
    "uint8 [n, size, size]; train_y, test_y: float32 [n, items, 5] rows of class,\n"
    "x1, y1, x2, y2 in pixels (x2, y2 exclusive), class -1 where a scene has fewer\n"
    "boxes. The same options give the same file. --fmnist: the IDX files\n"
    "(default /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist).\n"
    "--png DIR also writes the first test scenes as DIR/test_0000.png ... (for\n"
    "dtrain detect). The same layout serves your own detection data: pictures\n"
    "[n, H, W] (or [n, H, W, C]) and a float box array [n, boxes, 5].\n";

/* Where launch/get_faces.sh put the face networks. */
static const char *faces_dir(void)
{
    static char dir[4096];
    const char *e = getenv("DTRAIN_FACES"), *c = getenv("DTRAIN_CACHE"), *x = getenv("XDG_CACHE_HOME");
    if (e && *e) return e;
    if (c && *c) snprintf(dir, sizeof dir, "%s/faces", c);
    else if (x && *x) snprintf(dir, sizeof dir, "%s/dtrain/faces", x);
    else snprintf(dir, sizeof dir, "%s/.cache/dtrain/faces", getenv("HOME") ? getenv("HOME") : ".");
    return dir;
}

/* detect, faces, verify, identify: options anywhere, the rest are pictures; rank 0 works. */
static int faces_command(int argc, char **argv, int rank, const char *cmd, const char *usage)
{
    const char *ckpt = NULL, *out = NULL, *db = NULL, *add = NULL, *models = faces_dir();
    double score = -1, iou = -1, thr = 0.6;
    long size = 0;
    char **pics = calloc((size_t)argc, sizeof *pics);
    int np = 0;
    if (!pics) return dt_cli_usage_error(rank, "out of memory", NULL, usage);
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (s[0] != '-' || !s[1]) {
            pics[np++] = argv[i];
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = v != NULL;
        if (!strcmp(s, "--ckpt") && !strcmp(cmd, "detect")) ckpt = v;
        else if (!strcmp(s, "--out") && (!strcmp(cmd, "detect") || !strcmp(cmd, "faces"))) out = v;
        else if (!strcmp(s, "--score") && !strcmp(cmd, "detect")) ok = v && dt_cli_real(v, 0, 1, &score);
        else if (!strcmp(s, "--iou") && !strcmp(cmd, "detect")) ok = v && dt_cli_real(v, 0, 1, &iou);
        else if (!strcmp(s, "--size") && !strcmp(cmd, "detect")) ok = v && dt_cli_whole(v, 32, 4096, &size) && size % 32 == 0;
        else if (!strcmp(s, "--models") && strcmp(cmd, "detect")) models = v;
        else if (!strcmp(s, "--threshold") && (!strcmp(cmd, "verify") || !strcmp(cmd, "identify")))
            ok = v && dt_cli_real(v, 0, 100, &thr);
        else if (!strcmp(s, "--db") && !strcmp(cmd, "identify")) db = v;
        else if (!strcmp(s, "--add") && !strcmp(cmd, "identify")) add = v;
        else {
            free(pics);
            return dt_cli_usage_error(rank, "unknown option", s, usage);
        }
        if (!ok) {
            free(pics);
            return dt_cli_usage_error(rank, v ? "bad value for" : "missing value after", s, usage);
        }
        i++;
    }
    const char *miss = !strcmp(cmd, "detect") && !ckpt              ? "missing --ckpt CKPT"
                       : !strcmp(cmd, "faces") && !out              ? "missing --out FACES.h5"
                       : !strcmp(cmd, "identify") && !db            ? "missing --db DB.h5"
                       : np == 0                                    ? "missing IMAGE"
                       : !strcmp(cmd, "verify") && np != 2          ? "expected two pictures A B"
                       : !strcmp(cmd, "identify") && np != 1        ? "expected one picture"
                                                                    : NULL;
    int rc = 0;
    if (miss) rc = dt_cli_usage_error(rank, miss, NULL, usage);
    else if (rank == 0) {
        if (!strcmp(cmd, "detect"))
            rc = dt_cli_detect(&(dt_detect_args){ckpt, out, score, iou, (int)size, pics, np});
        else if (!strcmp(cmd, "faces")) rc = dt_cli_faces(&(dt_faces_args){models, out, pics, np});
        else if (!strcmp(cmd, "verify")) rc = dt_cli_verify(&(dt_verify_args){models, pics[0], pics[1], thr});
        else rc = dt_cli_identify(&(dt_identify_args){models, db, pics[0], add, thr});
    }
    free(pics);
    return rc;
}

/* make-scenes --out F [--train N] ...; rank 0 works. */
static int scenes_command(int argc, char **argv, int rank)
{
    dt_scenes_args a = {.fmnist = DT_SCENES_FMNIST, .train = 4000, .test = 500, .size = 128,
                        .items = 5, .min_item = 14, .max_item = 56, .seed = 1, .npng = 8};
    for (int i = 2; i < argc; i += 2) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;
        if (!v) return dt_cli_usage_error(rank, "missing value after", s, usage_scenes);
        int num = strcmp(s, "--out") && strcmp(s, "--fmnist") && strcmp(s, "--png");
        if (num && !dt_cli_whole(v, 0, 100000000, &n)) return dt_cli_usage_error(rank, "expected a whole number after", s, usage_scenes);
        if (!strcmp(s, "--out")) a.out = v;
        else if (!strcmp(s, "--fmnist")) a.fmnist = v;
        else if (!strcmp(s, "--png")) a.png = v;
        else if (!strcmp(s, "--png-count")) a.npng = (int)(n < 100000 ? n : 100000);
        else if (!strcmp(s, "--train")) a.train = n;
        else if (!strcmp(s, "--test")) a.test = n;
        else if (!strcmp(s, "--seed") && n <= 4294967295L) a.seed = (uint32_t)n;
        else if (!strcmp(s, "--size")) a.size = (int)(n < 100000 ? n : 100000);
        else if (!strcmp(s, "--items")) a.items = (int)(n < 100000 ? n : 100000);
        else if (!strcmp(s, "--min")) a.min_item = (int)(n < 100000 ? n : 100000);
        else if (!strcmp(s, "--max")) a.max_item = (int)(n < 100000 ? n : 100000);
        else return dt_cli_usage_error(rank, "unknown option", s, usage_scenes);
    }
    if (!a.out) return dt_cli_usage_error(rank, "missing --out SCENES.h5", NULL, usage_scenes);
    return rank == 0 ? dt_cli_make_scenes(&a) : 0;
}

/* import tfjs MANIFEST --model MODEL --out OUT (options in any order after MANIFEST); rank 0 works. */
static int import_command(int argc, char **argv, int rank)
{
    const char *model = NULL, *out = NULL;
    if (argc < 4 || strcmp(argv[2], "tfjs"))
        return dt_cli_usage_error(rank, "expected the format `tfjs` and a manifest", argc > 2 ? argv[2] : NULL, usage_import);
    for (int i = 4; i < argc; i += 2) {
        if (i + 1 >= argc) return dt_cli_usage_error(rank, "missing value after", argv[i], usage_import);
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
        else return dt_cli_usage_error(rank, "unknown option", argv[i], usage_import);
    }
    if (!model || !out) return dt_cli_usage_error(rank, !model ? "missing --model MODEL.ini" : "missing --out OUT.h5", NULL, usage_import);
    return rank == 0 ? dt_cli_import_tfjs(argv[3], model, out) : 0;
}


const char *dt_cli_vision_usage(const char *cmd)
{
    return !strcmp(cmd, "import")        ? usage_import
           : !strcmp(cmd, "make-scenes") ? usage_scenes
           : !strcmp(cmd, "detect")      ? usage_detect
           : !strcmp(cmd, "faces") || !strcmp(cmd, "verify") || !strcmp(cmd, "identify") ? usage_faces
                                         : NULL;
}

int dt_cli_vision(int argc, char **argv, int rank, const char *cmd)
{
    if (!strcmp(cmd, "make-scenes")) return scenes_command(argc, argv, rank);
    if (!strcmp(cmd, "import")) return import_command(argc, argv, rank);
    return faces_command(argc, argv, rank, cmd, dt_cli_vision_usage(cmd));
}
