/* faces_cmd.h — `dtrain detect`, `faces`, `verify` and `identify`. Each
 * returns the exit code: 0, or 2 after one "dtrain: error:" line per
 * failure (a picture that cannot be used does not stop the others). */
#ifndef DT_CLI_FACES_H
#define DT_CLI_FACES_H

typedef struct {
    const char *ckpt, *out; /* out: directory for the drawn pictures, or NULL */
    double score, iou;      /* < 0: the model's [yolo] values */
    int size;               /* 0: the model's input size */
    char *const *images;
    int nimages;
} dt_detect_args;

typedef struct {
    const char *models, *out; /* models: directory of launch/get_faces.sh */
    char *const *images;
    int nimages;
} dt_faces_args;

typedef struct {
    const char *models, *a, *b;
    double threshold;
} dt_verify_args;

typedef struct {
    const char *models, *db, *image, *add; /* add: enrol this name (NULL: identify) */
    double threshold;
} dt_identify_args;

int dt_cli_detect(const dt_detect_args *a);
int dt_cli_faces(const dt_faces_args *a);
int dt_cli_verify(const dt_verify_args *a);
int dt_cli_identify(const dt_identify_args *a);

#endif
