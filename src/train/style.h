/* style.h — neural style transfer (course 4, week 4): Adam on the pixels
 * of a generated image so that one layer's activations match the content
 * image's (content cost) and several layers' Gram matrices match the style
 * image's (style cost), through a feature network whose weights never
 * change (train/invert.h does the steps).
 *
 * The feature network is a model file with `content` and `style` loss
 * sections (models/style/random_multiscale.ini); the options choose the
 * content layer and the style layers and their weights:
 *   content weight = alpha; style layer l's weight = beta · lambda_l.
 * Images are [3, H, W] in the network's pixel scale: (pixel − mean) / divide
 * with the model's [preprocess] mean and divide (a pretrained network's own
 * normalisation), else 0..255 minus VGG's mean colour, as the course feeds
 * VGG. The noise (±20 pixel levels) and Adam's learning rate are in pixel
 * levels whatever the scale, so every network sees the same pixel steps. */
#ifndef DT_STYLE_H
#define DT_STYLE_H

#include "nn/net.h"
#include "train/invert.h"

typedef struct {
    const char *model;         /* the feature network's model file */
    const char *ckpt;          /* its weights, or NULL: initialised from seed (random filters) */
    int height, width;
    const char *content_layer; /* NULL: the model's content section's */
    const char *style_layers;  /* "a:0.2,b:0.2", or NULL: the model's style sections, lambda = weight / 40 */
    double alpha, beta, lr, noise;
    uint32_t seed;
} dt_style_opts;

typedef struct {
    dt_net *net;
    dt_invert inv;
    dt_real *x;        /* [3, H, W]: the generated image */
    int content;       /* index of the content loss */
    double jc, js, j;  /* the last step's costs, before its update */
    double mean[3], divide; /* the pixel scale (above) */
    dt_style_opts o;
} dt_style;

/* Build the network for opts; bad layer names, sizes and files are
 * one-line errors naming them. */
dt_status dt_style_init(dt_style *s, const dt_style_opts *opts);
/* Capture the references from the content and the style image and start
 * from noise · uniform(−20, 20) + (1 − noise) · content. */
dt_status dt_style_start(dt_style *s, const dt_real *content, const dt_real *style);
/* One Adam step on the pixels; s->j, jc, js get the costs before it. */
void dt_style_step(dt_style *s);
/* The costs of the image as it is now, into s->j, jc, js (no update). */
void dt_style_measure(dt_style *s);
void dt_style_free(dt_style *s);

#endif
