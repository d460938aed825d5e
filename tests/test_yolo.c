/* test_yolo.c — src/vision: IoU (the course's vectors), decoding of
 * hand-made head outputs whose boxes are known exactly, score thresholds,
 * per-class NMS and its tie order, V8's Math.exp, and the whole face-api
 * 1.7.15 detection geometry against numbers face-api itself printed
 * (detections, crops, landmarks, both alignments), bit for bit. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check_util.h"
#include "vision/face.h"
#include "vision/imgops.h"
#include "vision/jsmath.h"
#include "vision/yolo.h"

static uint64_t bits(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

#define ASSERT_BITS(x, want) \
    ck_assert_msg(bits(x) == (want), "%s = %.17g (%#llx), want %#llx", #x, (double)(x), \
                  (unsigned long long)bits(x), (unsigned long long)(want))

static dt_det box(double x1, double y1, double x2, double y2, double score, int cls)
{
    return (dt_det){x1, y1, x2, y2, score, cls};
}

START_TEST(iou_course)
{
    /* REFERENCE.md: (2,1,4,3) and (1,2,3,4) → 1/7; apart, vertex, edge → 0 */
    dt_det a = box(2, 1, 4, 3, 0, 0), b = box(1, 2, 3, 4, 0, 0);
    ck_assert_double_eq_tol(dt_iou(&a, &b), 0.142857142857, 1e-12);
    ck_assert_double_eq(dt_iou(&a, &b), 1.0 / 7);
    dt_det c = box(1, 2, 3, 4, 0, 0), d = box(5, 6, 7, 8, 0, 0);
    ck_assert_double_eq(dt_iou(&c, &d), 0);
    dt_det e = box(1, 1, 2, 2, 0, 0), f = box(2, 2, 3, 3, 0, 0);
    ck_assert_double_eq(dt_iou(&e, &f), 0);
    dt_det g = box(1, 1, 3, 3, 0, 0), h = box(1, 3, 4, 4, 0, 0);
    ck_assert_double_eq(dt_iou(&g, &h), 0);
    /* the same box, a box inside another, no area */
    ck_assert_double_eq(dt_iou(&a, &a), 1);
    dt_det in = box(0, 0, 4, 4, 0, 0), sm = box(1, 1, 3, 3, 0, 0);
    ck_assert_double_eq(dt_iou(&in, &sm), 0.25);
    dt_det z = box(2, 2, 2, 2, 0, 0);
    ck_assert_double_eq(dt_iou(&z, &z), 0);
    ck_assert_double_eq(dt_iou(&z, &in), 0);
}
END_TEST

START_TEST(js_exp_bits)
{
    /* Node 20's Math.exp; glibc's exp differs in the last bit on the last five */
    static const struct {
        double x;
        uint64_t e;
    } v[] = {
        {1, 0x4005bf0a8b145769ULL},
        {-1, 0x3fd78b56362cef38ULL},
        {0.5, 0x3ffa61298e1e069cULL},
        {1e-9, 0x3ff000000044b830ULL},
        {-745.2, 0x0000000000000000ULL},
        {709.7, 0x7fed75ae7a50ee14ULL},
        {-30, 0x3d3a56e0c2ac7f75ULL},
        {0.34657359, 0x3ff6a09e66640654ULL},
        {5.299339294433594, 0x4069068b2eb5ae86ULL},
        {8.290953636169434, 0x40af274530698d9cULL},
        {-7.285182476043701, 0x3f46776c6dafd544ULL},
        {10.14028549194336, 0x40d8bfecdb224c76ULL},
        {8.008856773376465, 0x40a77ef42ebdf1a2ULL}
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) ASSERT_BITS(dt_js_exp(v[i].x), v[i].e);
    ck_assert(isnan(dt_js_exp(NAN)));
    ck_assert(dt_js_exp(INFINITY) == INFINITY && dt_js_exp(-INFINITY) == 0);
    ck_assert(dt_js_exp(1000) == INFINITY);
    ck_assert_double_eq(dt_js_sigmoid(0), 0.5);
    /* Math.round: halves up, also for negatives */
    ck_assert_double_eq(dt_js_round(1.5), 2);
    ck_assert_double_eq(dt_js_round(2.5), 3);
    ck_assert_double_eq(dt_js_round(-2.5), -2);
    ck_assert_double_eq(dt_js_round(-2.6), -3);
    ck_assert_double_eq(dt_js_round(0.49999999999999994), 0);
}
END_TEST

/* 2x2 grid, 2 anchors (1,1) and (2,4), one class: 10 channels of zeros
 * (σ = 0.5, exp = 1) but tw of anchor 1 at cell (1,0), log 2. */
static void grid_2x2(dt_real *y)
{
    memset(y, 0, 10 * 4 * sizeof *y);
    y[(1 * 5 + 2) * 4 + 1 * 2 + 0] = (dt_real)log(2.0);
}

START_TEST(decode_grid)
{
    dt_yolo h = {2, 1, {1, 1, 2, 4}, 0};
    dt_real y[40];
    dt_det d[8];
    grid_2x2(y);
    int n = dt_yolo_decode(&h, y, 2, 2, 0.3, d, 8);
    ck_assert_int_eq(n, 8);
    for (int i = 0; i < 8; i++) { /* row, col, anchor order */
        int row = i / 4, col = i / 2 % 2, a = i % 2;
        double cx = (col + 0.5) / 2, cy = (row + 0.5) / 2, w = (a ? 2.0 : 1.0) / 2, hh = (a ? 4.0 : 1.0) / 2;
        if (row == 1 && col == 0 && a == 1) w = 2 * w; /* exp(log 2) */
        ck_assert_double_eq(d[i].score, 0.5);
        ck_assert_int_eq(d[i].cls, 0);
        ck_assert_double_eq_tol(d[i].x1, cx - w / 2, TOL);
        ck_assert_double_eq_tol(d[i].x2, cx + w / 2, TOL);
        ck_assert_double_eq_tol(d[i].y1, cy - hh / 2, 1e-15);
        ck_assert_double_eq_tol(d[i].y2, cy + hh / 2, 1e-15);
    }
    /* cell (0,1), anchor 0 exactly: centre (0.75, 0.25), size 0.5 */
    ck_assert_double_eq(d[2].x1, 0.5);
    ck_assert_double_eq(d[2].x2, 1.0);
    ck_assert_double_eq(d[2].y1, 0.0);
    ck_assert_double_eq(d[2].y2, 0.5);
    /* max: the first boxes in scan order */
    ck_assert_int_eq(dt_yolo_decode(&h, y, 2, 2, 0.3, d, 3), 3);
    ck_assert_double_eq(d[2].x1, 0.5);

    /* a 1x3 grid: x by gw, y by gh */
    dt_yolo h1 = {1, 1, {3, 1}, 0};
    dt_real y1[15] = {0};
    ck_assert_int_eq(dt_yolo_decode(&h1, y1, 1, 3, 0.1, d, 8), 3);
    ck_assert_double_eq(d[1].x1, 0.0);           /* (1.5 - 1.5)/3 */
    ck_assert_double_eq(d[1].x2, 1.0);
    ck_assert_double_eq(d[1].y1, 0.0);           /* 0.5 - 0.5 */
    ck_assert_double_eq(d[1].y2, 1.0);
}
END_TEST

START_TEST(decode_threshold)
{
    dt_yolo h = {2, 1, {1, 1, 2, 4}, 0};
    dt_real y[40];
    dt_det d[8];
    grid_2x2(y);
    /* one class, face-api: strictly above; 0 keeps everything */
    ck_assert_int_eq(dt_yolo_decode(&h, y, 2, 2, 0.5, d, 8), 0);
    ck_assert_int_eq(dt_yolo_decode(&h, y, 2, 2, nextafter(0.5, 0), d, 8), 8);
    y[4 * 4 + 3] = -1000; /* σ = 0 at cell (1,1), anchor 0 */
    ck_assert_int_eq(dt_yolo_decode(&h, y, 2, 2, 0, d, 8), 8);
    ck_assert_double_eq(d[6].score, 0);
    ck_assert_int_eq(dt_yolo_decode(&h, y, 2, 2, 1e-300, d, 8), 7);

    /* several classes, the course: conf × prob, kept when >= thr; ties to the first class */
    dt_yolo m = {1, 2, {1, 1}, 0};
    dt_real ym[7] = {0, 0, 0, 0, 0, 0, 0}; /* 1x1 grid: to 0, logits (0, 0): 0.5 × 0.5 */
    ck_assert_int_eq(dt_yolo_decode(&m, ym, 1, 1, 0.25, d, 8), 1);
    ck_assert_double_eq(d[0].score, 0.25);
    ck_assert_int_eq(d[0].cls, 0);
    ck_assert_int_eq(dt_yolo_decode(&m, ym, 1, 1, nextafter(0.25, 1), d, 8), 0);
    dt_yolo m3 = {1, 3, {1, 1}, 0};
    dt_real y3[8] = {0, 0, 0, 0, 0, 0, (dt_real)log(3.0), 0}; /* probs (1, 3, 1)/5 */
    ck_assert_int_eq(dt_yolo_decode(&m3, y3, 1, 1, 0.29, d, 8), 1);
    ck_assert_int_eq(d[0].cls, 1);
    ck_assert_double_eq_tol(d[0].score, 0.3, TOL);
    ck_assert_int_eq(dt_yolo_decode(&m3, y3, 1, 1, 0.31, d, 8), 0);
    /* every class (mAP evaluation): a box per class at or above the threshold, in class order */
    m3.every_class = 1;
    ck_assert_int_eq(dt_yolo_decode(&m3, y3, 1, 1, 0.05, d, 8), 3);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(d[k].cls, k);
        ck_assert_double_eq_tol(d[k].score, k == 1 ? 0.3 : 0.1, TOL);
        ck_assert(d[k].x1 == d[0].x1 && d[k].y2 == d[0].y2);
    }
    ck_assert_int_eq(dt_yolo_decode(&m3, y3, 1, 1, 0.2, d, 8), 1);
    ck_assert_int_eq(d[0].cls, 1);
    ck_assert_int_eq(dt_yolo_decode(&m3, y3, 1, 1, 0.05, d, 2), 2); /* room for two */
}
END_TEST

START_TEST(decode_image_correction)
{
    /* 640x480 padded at the bottom to a square, input 416: rows scaled by 416/312 */
    dt_yolo h = {1, 1, {1, 1}, 0};
    dt_real y[5] = {0};
    dt_det a, b;
    ck_assert_int_eq(dt_yolo_decode(&h, y, 1, 1, 0.1, &a, 1), 1);
    ck_assert_int_eq(dt_yolo_decode_image(&h, y, 1, 1, 0.1, 416, 640, 480, &b, 1), 1);
    ck_assert_double_eq(b.x1, a.x1);
    ck_assert_double_eq(b.x2, a.x2);
    ck_assert_double_eq_tol(b.y1, a.y1 * 416 / 312, 1e-15);
    ck_assert_double_eq_tol(b.y2, a.y2 * 416 / 312, 1e-15);
    /* a square image: no correction */
    ck_assert_int_eq(dt_yolo_decode_image(&h, y, 1, 1, 0.1, 416, 500, 500, &b, 1), 1);
    ck_assert(a.x1 == b.x1 && a.y1 == b.y1 && a.x2 == b.x2 && a.y2 == b.y2 && a.score == b.score);
}
END_TEST

START_TEST(nms_classes)
{
    dt_det d[4] = {
        box(0.1, 0, 1.1, 1, 0.8, 0), /* IoU 0.9/1.1 with the first: dropped */
        box(0, 0, 1, 1, 0.9, 0),
        box(0.1, 0, 1.1, 1, 0.85, 1), /* same place, other class: kept */
        box(3, 3, 4, 4, 0.1, 0),      /* apart: kept */
    };
    int n = dt_nms(d, 4, 0.5);
    ck_assert_int_eq(n, 3);
    ck_assert_double_eq(d[0].score, 0.9);
    ck_assert_double_eq(d[1].score, 0.85);
    ck_assert_int_eq(d[1].cls, 1);
    ck_assert_double_eq(d[2].score, 0.1);
    /* IoU equal to the threshold is kept (face-api keeps iou <= thr) */
    dt_det e[2] = {box(0, 0, 2, 1, 0.9, 0), box(1, 0, 3, 1, 0.8, 0)};
    ck_assert_int_eq(dt_nms(e, 2, 1.0 / 3), 2);
    ck_assert_int_eq(dt_nms(e, 2, nextafter(1.0 / 3, 0)), 1);
    /* no boxes */
    ck_assert_int_eq(dt_nms(d, 0, 0.5), 0);
}
END_TEST

START_TEST(nms_ties)
{
    /* face-api: nonMaxSuppression([B(0,0,1,1), B(5,5,6,6), B(0,0,1,1.1), B(9,9,9,9), B(7,7,7,7)],
     * [0.5, 0.5, 0.5, 0.9, 0.9], 0.4) = [4, 2, 1]: the later of equal scores
     * first, and two empty boxes (IoU 0/0) suppress each other */
    dt_det d[5] = {box(0, 0, 1, 1, 0.5, 0), box(5, 5, 6, 6, 0.5, 0), box(0, 0, 1, 1.1, 0.5, 0),
                   box(9, 9, 9, 9, 0.9, 0), box(7, 7, 7, 7, 0.9, 0)};
    int n = dt_nms(d, 5, 0.4);
    ck_assert_int_eq(n, 3);
    ck_assert_double_eq(d[0].x1, 7);
    ck_assert_double_eq(d[1].y2, 1.1);
    ck_assert_double_eq(d[2].x1, 5);
    /* many equal scores, more than the insertion-sort threshold: the last first */
    dt_det m[40];
    for (int i = 0; i < 40; i++) m[i] = box(2 * i, 0, 2 * i + 1, 1, i % 3 ? 0.5 : 0.7, 0);
    ck_assert_int_eq(dt_nms(m, 40, 0.4), 40);
    ck_assert_double_eq(m[0].x1, 78);  /* i = 39, score 0.7 */
    ck_assert_double_eq(m[13].x1, 0);  /* i = 0, the last 0.7 */
    ck_assert_double_eq(m[14].x1, 76); /* i = 38, the first 0.5 */
    ck_assert_double_eq(m[39].x1, 2);
    /* NaN scores last */
    dt_det q[3] = {box(0, 0, 1, 1, NAN, 0), box(2, 2, 3, 3, 0.1, 0), box(4, 4, 5, 5, 0.2, 0)};
    ck_assert_int_eq(dt_nms(q, 3, 0.5), 3);
    ck_assert_double_eq(q[0].score, 0.2);
    ck_assert(isnan(q[2].score));
}
END_TEST

/* ---- face-api 1.7.15 itself, on the tfjs CPU backend under Node 20:
 * TinyFaceDetector.locateFaces on a 300x200 image (inputSize 416,
 * scoreThreshold 0.5, IoU 0.4) with forwardInput replaced by the 4x4 head
 * output fa_logit(); for each face, its box, the box extractFaceTensors
 * crops, the 68 landmarks from the fake net output fa_lm() through
 * faceLandmark68Net.postProcess(·, 112, crop) and extendWithFaceLandmarks,
 * alignedRect.box and its crop, and align(null, {useDlibAlignment: true})
 * and its crop. Doubles as bit patterns. */
static float fa_logit(int a, int k, int row, int col)
{
    return (float)((double)((((a * 5 + k) * 131 + row * 31 + col * 17) * 7919) % 2001 - 1000) / 400);
}

static float fa_lm(int j, int f)
{
    return (float)(0.1 + (double)((j * 4999 + f * 7) % 1000) / 1250);
}

static const struct {
    uint64_t score, box[4]; /* FaceDetection score and box x, y, width, height */
    int crop[4];            /* forSize(W, H).box.clipAtImageBorders; empty: skipped */
    int has_lm;
    uint64_t lm[6];         /* landmarks 0, 30 and 67, x and y */
    uint64_t abox[4];       /* alignedRect.box */
    int acrop[4], dlib[4], dcrop[4];
} fa_faces[] = {
    {0x3fed583594347c3cULL,
     {0x4063aef1e8fe636dULL, 0x403d91e14b5639f6ULL, 0x4031108cedc24049ULL, 0x40689ea7a8da5b17ULL},
     {157, 29, 17, 170}, 1,
     {0x40587de3c0fcc6daULL, 0x4066cde214aac73fULL, 0x406c39d31efe636dULL,
      0x4065c8c34eeac73fULL, 0x406af7c6ee7e636dULL, 0x406486b7092ac73fULL},
     {0x4055193afc7cc6daULL, 0x40644c65ee6ac73fULL, 0x40645bf49b000000ULL, 0x4035de6a08000000ULL},
     {84, 162, 162, 21}, {214, 164, 13, 13}, {214, 164, 13, 13}},
    {0x3fed4ecccc59e960ULL,
     {0x406c3661cc189799ULL, 0x405cc2bdb5bf59f6ULL, 0x403e394f4f773c3fULL, 0x40745e73f3e59f8dULL},
     {225, 115, 30, 84}, 1,
     {0x4069f23c1dd89799ULL, 0x405ef62556ff59f6ULL, 0x4070ebce2a0c4bccULL,
      0x40676072f05facfbULL, 0x40709c3d998c4bccULL, 0x4066c151ba5facfbULL},
     {0x40690eb8f5389799ULL, 0x405d2f1f082f59f6ULL, 0x40541ea362fffffeULL, 0x40541ea35c400000ULL},
     {200, 116, 80, 80}, {265, 182, 6, 6}, {265, 182, 6, 6}},
    {0x3fed2e9369e2b136ULL,
     {0xc02ddc9d394de021ULL, 0xc0415f8399bbcd0bULL, 0x404e209bad647143ULL, 0x40837f297074e3eeULL},
     {0, 0, 45, 200}, 1,
     {0xc0518c3786a9bc04ULL, 0xc0295518acef342cULL, 0x40540d61fad643fcULL,
      0x4061377b40910cbdULL, 0x4051179f97d643fcULL, 0x405f79342d22197aULL},
     {0xc05619875ee9bc04ULL, 0xc03e8de050f79a17ULL, 0x4067f3b63f800000ULL, 0x4067f3b650c00000ULL},
     {0, 0, 103, 161}, {66, 125, 16, 16}, {66, 125, 16, 16}},
    {0x3fed22fab4050fb2ULL,
     {0x406875a37e91e13dULL, 0xc074eebdc6a19ad6ULL, 0x40562798193c5410ULL, 0x408cda9382e2eb0fULL},
     {195, 0, 88, 200}, 1,
     {0x406461289c91e13dULL, 0xc0737b8a94219ad6ULL, 0x407396faad48f09eULL,
      0xc0642a48664335acULL, 0x4072d98a1548f09eULL, 0xc065a529904335acULL},
     {0x4061fbc854451470ULL, 0xc075a69d8d59c3ebULL, 0x4067f3b65f999999ULL, 0x40779e7d5461ed01ULL},
     {143, 0, 156, 31}, {300, 0, 16, 16}, {300, 0, 0, 16}},
    {0x3fed00ea6eba9321ULL,
     {0xc015fb2ea63b893dULL, 0xc055d6f4757de9baULL, 0x4043e3e7b1bc762aULL, 0x407aa91c5f3cc59eULL},
     {0, 0, 34, 200}, 1,
     {0xc05000fa7b63b894ULL, 0xc04f84f3317bd374ULL, 0x4055989ee79c476cULL,
      0x4055d7200a821646ULL, 0x4052a2dc4d9c476cULL, 0x4052e15d84821646ULL},
     {0xc0551da68b63b894ULL, 0xc054caaabcdde9baULL, 0x4067f3b63e000001ULL, 0x4067f3b650c00000ULL},
     {0, 0, 107, 108}, {72, 75, 16, 16}, {72, 75, 16, 16}},
    {0x3fecd458430a17f7ULL,
     {0x406cf528ba8bc354ULL, 0x405dbc9b3ffd93a0ULL, 0x402c15306b92c675ULL, 0x4064420afdb1dfddULL},
     {231, 118, 14, 81}, 1,
     {0x406a10ef630bc354ULL, 0x4060280171bec9d0ULL, 0x4070d70f3b45e1aaULL,
      0x4067c53087fec9d0ULL, 0x40708a561ec5e1aaULL, 0x40672bbe429ec9d0ULL},
     {0x4068fb7cc83ef688ULL, 0x405e251daae993a1ULL, 0x405366afd7333333ULL, 0x405366afcfd00000ULL},
     {199, 120, 77, 77}, {264, 185, 6, 6}, {264, 185, 6, 6}},
    {0x3feca1a21c256199ULL,
     {0x406c449e64981917ULL, 0xc053a4831ab69630ULL, 0x403798e81c891057ULL, 0x406fce5ee0526f05ULL},
     {226, 0, 23, 175}, 1,
     {0x4065b0c75b981917ULL, 0xc04baa4de68d2c60ULL, 0x407311fd3fcc0c8cULL,
      0x4053113f810969d0ULL, 0x40726c3ab88c0c8cULL, 0x40507a354bc969d0ULL},
     {0x40633583d0d81918ULL, 0xc052b9c2992a9630ULL, 0x4064f53f7d000001ULL, 0x4064f53f86a80000ULL},
     {153, 0, 146, 92}, {293, 65, 14, 14}, {293, 65, 7, 14}},
    {0x3fec6e2d924b88bfULL,
     {0x4051b94b4ce78f8fULL, 0x40363672b003c00dULL, 0x40405dcbd610cf46ULL, 0x4075eff00f428d64ULL},
     {70, 22, 32, 177}, 1,
     {0x4037089b739e3e3cULL, 0x40475ad08161e006ULL, 0x406384676673c7c8ULL,
      0x40667a0814207802ULL, 0x406235187673c7c8ULL, 0x40652ab90ac07802ULL},
     {0x4000d752d0252510ULL, 0x4039c7f01db3c00cULL, 0x40653290c6666666ULL, 0x40653290aee80000ULL},
     {2, 25, 169, 169}, {144, 169, 14, 14}, {144, 169, 14, 14}},
    {0x3febc378686dc3feULL,
     {0x40625d8c6e0d4446ULL, 0x405f3a814991b3e2ULL, 0x403aef050239c98dULL, 0x40720cfcf656d2b7ULL},
     {146, 124, 26, 75}, 1,
     {0x4060a911920d4446ULL, 0x4060f6da3b10d9f1ULL, 0x4067b5de548d4446ULL,
      0x406803a70f88d9f1ULL, 0x406727c9e10d4446ULL, 0x406775928d08d9f1ULL},
     {0x405efbdd808dbbbfULL, 0x405f9f1ceecdb3e3ULL, 0x4051f6c8a499999aULL, 0x4051f6c8bc900000ULL},
     {123, 126, 71, 71}, {184, 187, 6, 6}, {184, 187, 6, 6}},
    {0x3feb0e9edf9b14ecULL,
     {0xc0a1453cc5791526ULL, 0x403a028c4c6648b6ULL, 0x40b28300030f6aa4ULL, 0x40749cc77aeb8d40ULL},
     {0, 26, 300, 173}, 1,
     {0xc0a0eaff54eb1526ULL, 0x401d8f4f841922d8ULL, 0xc0a107cc21bc1526ULL,
      0xc01c0a49a966dd28ULL, 0xc09e96a27e822a4cULL, 0x406ae75bac8cc917ULL},
     {0xc0a2bcd547ce7daaULL, 0xc03f7129fb79b74bULL, 0x40a470e8ab6ce62fULL, 0x4071f6c8b7380000ULL},
     {0, 0, 218, 200}, {0, 214, 24, 24}, {0, 214, 24, -14}},
    {0x3feac4b476bf8d04ULL,
     {0xc095f7f60afe92dfULL, 0xc05251bf212d67eeULL, 0x40a8716d1fc30ebdULL, 0x406c2faccc70bc73ULL},
     {0, 0, 300, 152}, 1,
     {0xc0953cc2d78a92dfULL, 0xc0592de8172d67eeULL, 0xc095765c712c92dfULL,
      0xc05cc781c52d67eeULL, 0xc091fd66ae8e92dfULL, 0x405ac7dab6d29812ULL},
     {0xc097a65b725d6e5cULL, 0xc0619fa8446380c4ULL, 0x4099ccc0d9da49d8ULL, 0x4071f6c8c6cccccdULL},
     {0, 0, 137, 146}, {0, 106, 24, 24}, {0, 106, 24, 24}},
    {0x3fe9f1cd1e129e3bULL,
     {0xc07e50db1a103a80ULL, 0x406be746e912ab76ULL, 0x408ec30446dc13f0ULL, 0x405317316be7a5f7ULL},
     {0, 223, 300, -24}, .has_lm = 0},
    {0x3fe99b2e03d3c1b2ULL,
     {0xc089a380e0e9beefULL, 0x40490255cfc72033ULL, 0x4099d931043a6009ULL, 0x405df928f719e087ULL},
     {0, 50, 300, 119}, 1,
     {0xc088123932f9beefULL, 0x4022e0619e1c80ccULL, 0xc088856c663dbeefULL,
      0xc013d8d711c6fe68ULL, 0xc0819380dea9beefULL, 0x406b28e757f1c80dULL},
     {0xc08b2bda90bf1ed4ULL, 0xc04118cd232c1300ULL, 0x408da43440d07eb9ULL, 0x4071f6c8c42ccccdULL},
     {0, 0, 79, 200}, {0, 0, 300, 119}, {0, 0, 300, 119}},
    {0x3fe8a2a9ae346278ULL,
     {0xc077a9643dce1b59ULL, 0x3ffbba15368a1085ULL, 0x4088046bdfd401baULL, 0x404dcf5aa5c555c8ULL},
     {0, 1, 300, 59}, 1,
     {0xc0746bf39d3e1b59ULL, 0xc050cab14525d7beULL, 0xc0755259ff161b59ULL,
      0xc054644adca5d7beULL, 0xc05dba0be5386d64ULL, 0x40619588976d1421ULL},
     {0xc077f2e81f13847cULL, 0xc05c2e054bd90af2ULL, 0x407a20430aa0ed9fULL, 0x4071f6c8be19999aULL},
     {0, 0, 34, 174}, {0, 0, 300, 59}, {0, 0, 300, 59}},
    {0x3fe88ccd9d352735ULL,
     {0xc080c2e5ce49a952ULL, 0x406083f19ec56145ULL, 0x409544daac8f2506ULL, 0x4058a9bdf6c78db2ULL},
     {0, 132, 300, 67}, 1,
     {0xc07e2d79b2a352a4ULL, 0x405139cecb8ac28aULL, 0xc07f13e016d352a4ULL,
      0x404b406a93158514ULL, 0xc0713009055352a4ULL, 0x40714be45d22b0a2ULL},
     {0xc08167fcc90f070dULL, 0x4035e947c65e3d5cULL, 0x4082fd13c41064c9ULL, 0x4071f6c8ae599999ULL},
     {0, 21, 50, 178}, {0, 0, 300, 67}, {0, 0, 300, 67}},
    {0x3fe778e8223b2c71ULL,
     {0xc0659f7a1132c2c4ULL, 0x4053a698571c6becULL, 0x4083c3224a02991fULL, 0x40488757d2624fcfULL},
     {0, 78, 300, 49}, 1,
     {0xc05d722755258588ULL, 0x402020484ce35f60ULL, 0xc06085e072f2c2c4ULL,
      0xc019590b2e394140ULL, 0x4056839b3a9a7a78ULL, 0x406afce5c50e35f6ULL},
     {0xc064d642c6bac2c4ULL, 0xc0446caa5513f4f5ULL, 0x4071f6c8bc900000ULL, 0x4071f6c8bf733333ULL},
     {0, 0, 120, 200}, {0, 0, 300, 49}, {0, 0, 300, 49}},
    {0x3fe632d5ab435f91ULL,
     {0xc045a25f08b38efbULL, 0x40635694b5d0e89aULL, 0x408042d4be0d51f5ULL, 0x40442edc5eef9062ULL},
     {0, 154, 300, 40}, 1,
     {0x402b39137331c414ULL, 0x4054561f43a1d134ULL, 0xbfe93b9a8ce3bec0ULL,
      0x4050bc8593a1d134ULL, 0x406bae726c531c41ULL, 0x407212f878e8744dULL},
     {0xc0429c3a29938efbULL, 0x403efe601e8744d0ULL, 0x4071f6c8b6f00001ULL, 0x4071f6c8bc000000ULL},
     {0, 30, 250, 169}, {0, 0, 300, 40}, {0, 0, 300, 40}},
    {0x3fe5a0fc3f4b7753ULL,
     {0xc0908f571ff65779ULL, 0x4053bb29135cdb61ULL, 0x40a51c837ed35682ULL, 0x4067a773344422d9ULL},
     {0, 78, 300, 121}, 1,
     {0xc08f4a335f3caef2ULL, 0x4047df47e039b6c2ULL, 0xc08fbd669154aef2ULL,
      0x4040ac14c2b9b6c2ULL, 0xc088cb7b0aecaef2ULL, 0x406ff2b32d6e6db0ULL},
     {0xc091b237e6bb2d05ULL, 0xc0121c48cccbe38cULL, 0x40934e0e70120292ULL, 0x4071f6c8d05ccccdULL},
     {0, 0, 102, 200}, {0, 0, 277, 121}, {0, 0, 277, 121}},
    {0x3fe4d33f17fa0d4eULL,
     {0x405313a3a5107086ULL, 0x406cc816ae55aff0ULL, 0x407ac2a496d6a310ULL, 0x40409b78f2036b14ULL},
     {76, 230, 223, -31}, .has_lm = 0},
    {0x3fe2f71ff2077eefULL,
     {0x405e3e480655ffd8ULL, 0x4014184dcbadadceULL, 0x4074e4a42b2b2990ULL, 0x4039eeacf9b992cdULL},
     {120, 5, 179, 25}, 1,
     {0x4063bd6660baffecULL, 0xc0419641648a4a46ULL, 0x4062aa74ae32ffecULL,
      0xc045e207f88a4a46ULL, 0x40719ee113457ff6ULL, 0x4056359702badaddULL},
     {0x405f2e662a4b9973ULL, 0xc05117873ac52523ULL, 0x40656fe1e46e6667ULL, 0x40656fe1f3000000ULL},
     {124, 0, 171, 103}, {142, 0, 8, 8}, {142, 0, 8, 8}},
    {0x3fe0eb42c2c448e4ULL,
     {0xc0713575ff175a58ULL, 0x4069c4d61d95853eULL, 0x408e59fae4891d75ULL, 0x4050e5db637fe716ULL},
     {0, 206, 300, -7}, .has_lm = 0},
};

static void crop_eq(int ok, int x, int y, int w, int h, const int *want)
{
    if (want[2] > 0 && want[3] > 0) {
        ck_assert(ok);
        ck_assert_msg(x == want[0] && y == want[1] && w == want[2] && h == want[3],
                      "crop %d %d %d %d, want %d %d %d %d", x, y, w, h, want[0], want[1], want[2], want[3]);
    } else {
        ck_assert(!ok);
    }
}

START_TEST(faceapi_pipeline)
{
    enum { W = 300, H = 200, G = 4, A = 5 };
    /* TinyFaceDetector's BOX_ANCHORS */
    dt_yolo fd = {A, 1, {1.603231, 2.094468, 6.041143, 7.080126, 2.882459, 3.518061, 4.266906, 5.178857, 9.041765,
                         10.66308}, 0};
    dt_real y[A * 5 * G * G];
    for (int a = 0; a < A; a++)
        for (int k = 0; k < 5; k++)
            for (int r = 0; r < G; r++)
                for (int c = 0; c < G; c++) y[((a * 5 + k) * G + r) * G + c] = fa_logit(a, k, r, c);
    dt_det d[A * G * G];
    int n = dt_yolo_decode_image(&fd, y, G, G, 0.5, 416, W, H, d, A * G * G);
    n = dt_nms(d, n, 0.4);
    int nf = (int)(sizeof fa_faces / sizeof *fa_faces);
    ck_assert_int_eq(n, nf);
    for (int f = 0; f < nf; f++) {
        double b[4], cb[4];
        int x, yy, w, h;
        ASSERT_BITS(d[f].score, fa_faces[f].score);
        dt_face_det_box(&d[f], W, H, 1, b);
        for (int k = 0; k < 4; k++) ASSERT_BITS(b[k], fa_faces[f].box[k]);
        dt_face_det_box(&d[f], W, H, 3, cb);
        int ok = dt_img_clip_box(cb[0], cb[1], cb[2], cb[3], W, H, &x, &yy, &w, &h);
        crop_eq(ok, x, yy, w, h, fa_faces[f].crop);
        if (!fa_faces[f].has_lm) continue;

        dt_real out[136];
        double pts[136];
        for (int j = 0; j < 136; j++) out[j] = fa_lm(j, f);
        dt_face_landmarks(out, 68, 112, w, h, b[0], b[1], pts);
        static const int at[6] = {0, 1, 60, 61, 134, 135};
        for (int k = 0; k < 6; k++) ASSERT_BITS(pts[at[k]], fa_faces[f].lm[k]);

        double ab[4];
        dt_face_align_box(pts, 68, &ab[0], &ab[1], &ab[2], &ab[3]);
        dt_face_roundtrip(ab, W, H, 1);
        for (int k = 0; k < 4; k++) ASSERT_BITS(ab[k], fa_faces[f].abox[k]);
        dt_face_roundtrip(ab, W, H, 2);
        ok = dt_img_clip_box(ab[0], ab[1], ab[2], ab[3], W, H, &x, &yy, &w, &h);
        crop_eq(ok, x, yy, w, h, fa_faces[f].acrop);

        double dl[4];
        int cw = fa_faces[f].crop[2], ch = fa_faces[f].crop[3];
        ck_assert(dt_face_align_dlib(pts, cw, ch, &dl[0], &dl[1], &dl[2], &dl[3]));
        for (int k = 0; k < 4; k++) ck_assert_double_eq(dl[k], fa_faces[f].dlib[k]);
        ok = dt_img_clip_box(dl[0], dl[1], dl[2], dl[3], W, H, &x, &yy, &w, &h);
        crop_eq(ok, x, yy, w, h, fa_faces[f].dcrop);
    }
}
END_TEST

START_TEST(align_box_minbbox)
{
    /* minBbox's maxima start at 0: points all left of x = 0 still reach 0 */
    double pts[6] = {-10, 5, -4, 15, -6, 10}, x, y, w, h;
    dt_face_align_box(pts, 3, &x, &y, &w, &h);
    ck_assert_double_eq(w, 12);   /* 0 - (-10), then + 20 % */
    ck_assert_double_eq(x, -11);  /* -10 - 2/2 */
    ck_assert_double_eq(h, 12);   /* 15 - 5 = 10, + 2 */
    ck_assert_double_eq(y, 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("yolo");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, iou_course);
    tcase_add_test(tc, js_exp_bits);
    tcase_add_test(tc, decode_grid);
    tcase_add_test(tc, decode_threshold);
    tcase_add_test(tc, decode_image_correction);
    tcase_add_test(tc, nms_classes);
    tcase_add_test(tc, nms_ties);
    tcase_add_test(tc, faceapi_pipeline);
    tcase_add_test(tc, align_box_minbbox);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
