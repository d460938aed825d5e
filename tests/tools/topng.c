/* topng.c — decode any image stb_image reads (JPEG, PNG, BMP, ...) as 8-bit
 * RGB and write it as a PNG (test helper: the face-api reference fixtures in
 * tests/faces/ref/ are computed from PNGs made with this tool, so that the
 * JPEG decoder is the same on the JS side and the C side).
 *   topng IN OUT.png
 * Build (not part of CMake; Debian libstb-dev):
 *   gcc -O2 -I/usr/include/stb -o /tmp/topng tests/tools/topng.c -lm */
#include <stdio.h>

#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: topng IN OUT.png\n");
        return 2;
    }
    int w = 0, h = 0, n = 0;
    unsigned char *px = stbi_load(argv[1], &w, &h, &n, 3);
    if (!px) {
        fprintf(stderr, "topng: cannot read %s: %s\n", argv[1], stbi_failure_reason());
        return 1;
    }
    int ok = stbi_write_png(argv[2], w, h, 3, px, w * 3);
    stbi_image_free(px);
    if (!ok) {
        fprintf(stderr, "topng: cannot write %s\n", argv[2]);
        return 1;
    }
    return 0;
}
