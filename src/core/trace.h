/* trace.h — timeline tracing to Chrome trace JSON (chrome://tracing, Perfetto).
 *
 * One trace per process, global state, no MPI. Each rank writes its own file;
 * its pid is the rank, thread lane 0 is "compute" and lane 1 "communication".
 * Timestamps are absolute CLOCK_MONOTONIC microseconds, so the files of ranks on
 * one node line up exactly when their traceEvents arrays are concatenated.
 *
 *   double t0 = dt_trace_now();  ...;  dt_trace_span("allreduce", "comm", 1, t0,
 *       dt_trace_now(), "bytes", n, NULL, 0);
 *
 * Spans may be recorded from several threads; open, write and close may not
 * run concurrently with them. */
#ifndef DT_TRACE_H
#define DT_TRACE_H

#include "core/core.h"

enum { DT_TRACE_COMPUTE = 0, DT_TRACE_COMM = 1 };

/* Microseconds on a monotonic clock (CLOCK_MONOTONIC), for span start/end. */
double dt_trace_now(void);
/* Start recording: `path` is where dt_trace_write puts the JSON; `rank` becomes the
 * trace's pid and the process name "rank R"; capacity = max events kept (0: 1<<20).
 * Allocates the event buffer once. DT_ERR_ARG if a trace is already open. */
dt_status dt_trace_open(const char *path, int rank, int64_t capacity);
/* Cheap check, 0 when not opened. */
int dt_trace_enabled(void);
/* Record one complete span ("ph":"X") from t0_us to t1_us on lane `tid`.
 * name, cat and the arg keys must be static strings (only the pointer is kept).
 * arg_key may be NULL; otherwise "args":{arg_key: arg_val} is written (and
 * arg2_key/arg2_val likewise). Does nothing when not enabled; when the buffer is
 * full the event is dropped and counted. Never allocates. */
void dt_trace_span(const char *name, const char *cat, int tid, double t0_us, double t1_us,
                   const char *arg_key, int64_t arg_val, const char *arg2_key, int64_t arg2_val);
/* Write the JSON file atomically (PATH.tmp, then rename):
 * {"traceEvents":[...],"displayTimeUnit":"ms","otherData":{"dropped_events":N}}.
 * Recording continues; a later write rewrites the file with all events so far.
 * DT_OK and nothing written when not enabled. */
dt_status dt_trace_write(void);
/* Frees the buffer; recording stops. Safe to call when not open. */
void dt_trace_close(void);

#endif
