/* imgops.h — the image steps of face-api's pipeline (padToSquare,
 * TensorFlow.js's resizeBilinear, the crop of extractFaceTensors, its box
 * clipping, normalize) reproduced value for value, plus box and label
 * drawing for pictures of the results. Pure functions (no I/O, no MPI).
 *
 * Images are float [H, W, C] row-major (HWC), pixel values 0..255, as
 * face-api's tensors; drawings go on RGB bytes [H, W, 3]. */
#ifndef DT_IMGOPS_H
#define DT_IMGOPS_H

#include "core/core.h"

/* face-api's padToSquare: zeros to make it max(h,w) square; center=0 puts
 * all padding bottom/right; center=1 appends round(diff/2) (JS Math.round:
 * the larger half for an odd diff) after and the rest before.
 * dst [S, S, c]; *off_y, *off_x = where src's (0,0) landed. */
void dt_img_pad_square(const float *src, int h, int w, int c, int center, float *dst, int *off_y, int *off_x);

/* TensorFlow resizeBilinear (alignCorners false, halfPixelCenters false) as
 * tfjs-backend-cpu computes it: source position out·(in/out), weights and
 * lerps in double, one rounding to float32 at the end. dst [oh, ow, c].
 * (tfjs-node, WebGL and WASM round differently.) */
void dt_img_resize_bilinear(const float *src, int h, int w, int c, float *dst, int oh, int ow);

/* face-api's NetInput.toBatchTensor for one image: pad_square(center), then
 * resize_bilinear to size × size unless already that size. dst [size, size, c].
 * The detector uses center 0, the landmark/recognition nets center 1.
 * DT_ERR_NOMEM if the padded square cannot be allocated. */
dt_status dt_img_to_input(const float *src, int h, int w, int c, int size, int center, float *dst);

/* face-api's normalize(x, meanRgb).div(255) on n RGB pixels in place, in
 * float32: (x - (float)mean) / 255; mean_rgb NULL: x / 255 only. */
void dt_img_normalize(float *img, size_t n, const double *mean_rgb);

/* Copy the integer box (x, y, bw, bh), which must lie inside the image, to dst [bh, bw, c]. */
void dt_img_crop(const float *src, int h, int w, int c, int x, int y, int bw, int bh, float *dst);

/* face-api Box.clipAtImageBorders then floor: box given as x, y, width,
 * height (doubles) → integer box; returns 0 if empty (face-api's
 * extractFaceTensors then skips it), or if a value is not finite (face-api
 * throws). Note x and width are floored separately, so the box may end a
 * pixel before floor(x + width). A box it returns lies inside the image. */
int dt_img_clip_box(double x, double y, double bw, double bh, int img_w, int img_h, int *ox, int *oy, int *obw,
                    int *obh);

/* Draw a rectangle outline with corners (x1, y1) and (x2, y2) inclusive,
 * thickness t growing inwards, on an RGB byte image [H, W, 3]; whatever
 * falls outside the image is clipped. */
void dt_img_draw_box(unsigned char *rgb, int h, int w, int x1, int y1, int x2, int y2, int t,
                     const unsigned char color[3]);

/* Draw text with a 5x7 bitmap font (digits, letters, . : - space and a few
 * more; unknown characters as hollow boxes), each character a 6x9 cell times
 * scale (1..65536) with its top-left at (x, y); bg fills the cells, NULL leaves them
 * transparent. Clipped at the borders. */
void dt_img_draw_text(unsigned char *rgb, int h, int w, int x, int y, const char *text, int scale,
                      const unsigned char fg[3], const unsigned char bg[3]);
/* Width and height in pixels that dt_img_draw_text covers. */
void dt_img_text_size(const char *text, int scale, int *tw, int *th);

#endif
