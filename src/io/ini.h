/* ini.h — INI files (config and model) as an ordered list of entries that
 * remember their file and line, with typed getters whose errors name them.
 *
 * Parsing uses inih. Every getter marks the entry it reads as used, so after
 * a consumer has read what it knows, dt_ini_check_unused() reports the first
 * key nobody asked for ("unknown key"). Overrides from the command line
 * (`section.key=value`) replace or add entries and are named "command line"
 * in messages. */
#ifndef DT_INI_H
#define DT_INI_H

#include "core/core.h"

typedef struct dt_ini dt_ini;

dt_status dt_ini_load(const char *path, dt_ini **out);
/* `name` is the file name used in messages; `text` is copied. */
dt_status dt_ini_parse(const char *name, const char *text, dt_ini **out);
void dt_ini_free(dt_ini *ini);

/* Apply "section.key=value". */
dt_status dt_ini_override(dt_ini *ini, const char *assignment);

const char *dt_ini_name(const dt_ini *ini);
const char *dt_ini_text(const dt_ini *ini); /* text as parsed, before overrides */
/* Text with overrides applied, in INI syntax (for checkpoints); caller frees. */
char *dt_ini_dump(const dt_ini *ini);

int dt_ini_nsections(const dt_ini *ini);
const char *dt_ini_section(const dt_ini *ini, int i); /* in file order */
int dt_ini_section_line(const dt_ini *ini, int i);
int dt_ini_has(const dt_ini *ini, const char *sec, const char *key);
int dt_ini_has_section(const dt_ini *ini, const char *sec);

/* Where an entry comes from: "file:line" or "command line" (static buffer). */
const char *dt_ini_where(const dt_ini *ini, const char *sec, const char *key);

/* Getters. `required` nonzero: a missing key is an error; otherwise `def`
 * is returned. Ranges are inclusive. */
dt_status dt_ini_str(dt_ini *ini, const char *sec, const char *key,
                     const char *def, const char **out);
dt_status dt_ini_int(dt_ini *ini, const char *sec, const char *key, int required,
                     long def, long lo, long hi, long *out);
dt_status dt_ini_real(dt_ini *ini, const char *sec, const char *key, int required,
                      double def, double lo, double hi, double *out);
/* `choices` is NULL-terminated; *out is the index of the match. */
dt_status dt_ini_enum(dt_ini *ini, const char *sec, const char *key,
                      const char *def, const char *const *choices, int *out);
/* Comma-separated integers ("1,28,28"); at most `max` of them. */
dt_status dt_ini_ints(dt_ini *ini, const char *sec, const char *key, int required,
                      long *vals, int max, int *n);

/* Comma-separated finite numbers ("1.6,2.1"); at most `max` of them. */
dt_status dt_ini_reals(dt_ini *ini, const char *sec, const char *key, int required, double *vals, int max, int *n);

/* Error naming the first entry no getter asked for. */
dt_status dt_ini_check_unused(const dt_ini *ini);
/* Mark every key of section sec as read (a section another command reads). */
void dt_ini_mark_used(dt_ini *ini, const char *sec);
/* Same, for one section only. */
dt_status dt_ini_check_unused_section(const dt_ini *ini, const char *sec);

#endif
