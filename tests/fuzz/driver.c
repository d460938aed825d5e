/* driver.c — runs a fuzz target: under AFL++ (built with afl-clang-fast)
 * a persistent loop over AFL's inputs; otherwise a replay of the files and
 * directories named on the command line. See fuzz.h. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/ini.h"

static char scratch[256];

static void remove_scratch(void)
{
    DIR *d = opendir(scratch);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", scratch, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(scratch);
}

static void make_scratch(void)
{
    struct stat sb;
    const char *base = getenv("DT_FUZZ_TMP"); /* launch/fuzz.sh's, removed after the campaign */
    if (!base || !*base) base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/dtrain-fuzz-XXXXXX", base);
    if (!mkdtemp(scratch)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_scratch);
}

const char *dt_fuzz_path(int slot, const char *name)
{
    static char paths[4][512];
    snprintf(paths[slot & 3], sizeof paths[0], "%s/%s", scratch, name);
    return paths[slot & 3];
}

/* gzip with a 512-byte window and little hash memory: gzopen's defaults
 * take over 256 KiB, which the sanitizer's allocator maps and unmaps at
 * every input, and the inputs are small. */
static size_t gzip_small(const void *data, size_t size, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    if (deflateInit2(&z, 1, Z_DEFLATED, 16 + 9, 1, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    z.next_in = (unsigned char *)data;
    z.avail_in = (unsigned)size;
    z.next_out = out;
    z.avail_out = (unsigned)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? n : 0;
}

void dt_fuzz_write(const char *path, const void *data, size_t size, int gz)
{
    unsigned char *packed = NULL;
    if (gz) {
        size_t cap = size + size / 8 + 64;
        packed = malloc(cap);
        size = packed ? gzip_small(data, size, packed, cap) : 0;
        if (!size) {
            fprintf(stderr, "fuzz: cannot gzip for %s\n", path);
            abort();
        }
        data = packed;
    }
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, size, f) == size;
    ok = f && fclose(f) == 0 && ok;
    free(packed);
    if (!ok) {
        fprintf(stderr, "fuzz: cannot write %s\n", path);
        abort();
    }
}

void dt_fuzz_hdf5_lists(void)
{
    if (H5set_free_list_limits(-1, -1, -1, -1, -1, -1) < 0) abort();
}

dt_net *dt_fuzz_net(const char *name, const char *model_text)
{
    dt_ini *m;
    dt_net *net;
    if (dt_ini_parse(name, model_text, &m) || dt_net_build(m, 2, DT_LOSS_AUTO, &net)) {
        fprintf(stderr, "fuzz: %s: %s\n", name, dt_errmsg());
        abort();
    }
    dt_ini_free(m);
    return net;
}

void dt_fuzz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *na, const uint8_t **b,
                   size_t *nb)
{
    size_t n = size >= 2 ? (size_t)data[0] | (size_t)data[1] << 8 : 0;
    size_t rest = size >= 2 ? size - 2 : 0;
    if (n > rest) n = rest;
    *a = data + (size >= 2 ? 2 : size);
    *na = n;
    *b = *a + n;
    *nb = rest - n;
}

/* The library's promise on failure: one non-empty line. */
static dt_status run_one(const uint8_t *data, size_t size)
{
    dt_errclear();
    dt_status st = dt_fuzz_one(data, size);
    if (st != DT_OK) {
        const char *m = dt_errmsg();
        if (!m || !*m || strchr(m, '\n')) {
            fprintf(stderr, "fuzz: status %d with a message that is not one line: \"%s\"\n", (int)st, m ? m : "(null)");
            abort();
        }
    }
    return st;
}

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();

int main(void)
{
    dt_fuzz_setup();
    __AFL_INIT();
    /* after the fork server's fork: each child's own directory, removed when it exits */
    make_scratch();
    const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(10000)) run_one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
    return 0;
}
#else

static int nrun, nbad, nfail;

/* PATH.expect, when there is one: what PATH's error must say (one line). */
static void read_expect(const char *path, char *buf, size_t n)
{
    char p[4096];
    snprintf(p, sizeof p, "%s.expect", path);
    FILE *f = fopen(p, "r");
    if (!f) return;
    if (!fgets(buf, (int)n, f)) buf[0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

static void replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        nfail++;
        return;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) abort();
    dt_status st = run_one(buf, n);
    /* DT_FUZZ_REPEAT=N: run each input N times (to time a target) */
    for (long r = getenv("DT_FUZZ_REPEAT") ? atol(getenv("DT_FUZZ_REPEAT")) : 1; r > 1; r--) run_one(buf, n);
    free(buf);
    nrun++;
    if (st) nbad++;
    /* seeds and regressions say what they expect by their names */
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int want_ok = !strncmp(base, "ok-", 3), want_bad = !strncmp(base, "bad-", 4);
    char expect[512] = "";
    read_expect(path, expect, sizeof expect);
    if ((want_ok && st) || (want_bad && !st)) {
        fprintf(stderr, "%s: expected %s, got %s%s\n", path, want_ok ? "success" : "an error",
                st ? "the error: " : "success", st ? dt_errmsg() : "");
        nfail++;
    } else if (st && expect[0] && !strstr(dt_errmsg(), expect)) {
        fprintf(stderr, "%s: expected an error with \"%s\", got: %s\n", path, expect, dt_errmsg());
        nfail++;
    } else if (getenv("DT_FUZZ_VERBOSE")) {
        fprintf(stderr, "%s: %s\n", path, st ? dt_errmsg() : "ok");
    }
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...  (replays inputs; built with afl-clang-fast it is an AFL++ target)\n",
                argv[0]);
        return 2;
    }
    make_scratch();
    dt_fuzz_setup();
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            struct dirent **list;
            int n = scandir(argv[i], &list, NULL, by_name);
            for (int k = 0; k < n; k++) {
                size_t len = strlen(list[k]->d_name);
                int side = len > 7 && !strcmp(list[k]->d_name + len - 7, ".expect");
                if (list[k]->d_name[0] != '.' && !side) {
                    char p[4096];
                    snprintf(p, sizeof p, "%s/%s", argv[i], list[k]->d_name);
                    replay_file(p);
                }
                free(list[k]);
            }
            if (n >= 0) free(list);
        } else {
            replay_file(argv[i]);
        }
    }
    printf("%s: %d inputs replayed, %d refused with a one-line error, %d not as expected\n", argv[0], nrun, nbad,
           nfail);
    return nfail || nrun == 0 ? 1 : 0;
}
#endif
