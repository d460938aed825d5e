/* fuzz.h — what every fuzz target provides and what the driver gives it.
 *
 * A target is one file, fuzz_<format>.c, with dt_fuzz_one(): it feeds one
 * input to the parser of one input format, the way dtrain's commands do,
 * and returns the dt_status that came back. driver.c runs it under AFL++
 * (persistent mode, when built with afl-clang-fast) or, in every other
 * build, replays files and directories given on the command line (ctest
 * label `fuzz`).
 *
 * Both check the library's error contract on every input: a failure comes
 * with a one-line, non-empty message (a broken promise aborts, which AFL
 * records as a crash). In a replay a file named ok-* must be accepted and
 * bad-* refused, so seeds and regressions assert real outcomes. */
#ifndef DT_FUZZ_H
#define DT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "nn/net.h"

/* Once per process, before the first input. */
void dt_fuzz_setup(void);
dt_status dt_fuzz_one(const uint8_t *data, size_t size);

/* A path in this process's scratch directory (created by the driver on
 * tmpfs where there is one, removed at exit); static buffer per slot 0..3. */
const char *dt_fuzz_path(int slot, const char *name);
/* Write bytes to a file; gzip them (level 1) when gz is nonzero. Aborts on
 * failure: the scratch directory is the harness's, not the input's. */
void dt_fuzz_write(const char *path, const void *data, size_t size, int gz);
/* A network for batches of 2 rows from a model text that must build
 * (a target's fixed model); aborts otherwise. */
dt_net *dt_fuzz_net(const char *name, const char *model_text);
/* Split an input at its first 2-byte little-endian length prefix: *a gets
 * that many bytes (fewer when the input is shorter), *b the rest. */
/* For the targets that open HDF5 files: let libhdf5 keep every block it
 * frees on its own free lists. It allocates and clears its ~1 MB metadata
 * cache at every open; ASan maps such blocks afresh each time, which made
 * these targets about 3x slower under ASan than on its recycled lists. */
void dt_fuzz_hdf5_lists(void);
void dt_fuzz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *na, const uint8_t **b,
                   size_t *nb);

#endif
