/* ini.c — INI entries with file/line, typed getters, unknown-key check. */
#include "io/ini.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *sec, *key, *val;
    int line; /* 0: command line */
    int used;
} entry;

typedef struct {
    char *name;
    int line;
} section;

struct dt_ini {
    char *name, *text;
    entry *e;
    int n, cap;
    section *s;
    int ns, scap;
    /* parse state */
    const char *cur;
    int lineno;
    dt_status err;
};

static entry *find(const dt_ini *ini, const char *sec, const char *key)
{
    for (int i = ini->n - 1; i >= 0; i--)
        if (!strcmp(ini->e[i].sec, sec) && !strcmp(ini->e[i].key, key)) return &ini->e[i];
    return NULL;
}

static int add_section(dt_ini *ini, const char *sec, int line)
{
    for (int i = 0; i < ini->ns; i++)
        if (!strcmp(ini->s[i].name, sec)) return 1;
    if (ini->ns == ini->scap) {
        int nc = ini->scap ? 2 * ini->scap : 16;
        section *ns = realloc(ini->s, nc * sizeof *ns);
        if (!ns) return 0;
        ini->s = ns;
        ini->scap = nc;
    }
    char *name = strdup(sec);
    if (!name) return 0;
    ini->s[ini->ns].name = name;
    ini->s[ini->ns++].line = line;
    return 1;
}

static int add_entry(dt_ini *ini, const char *sec, const char *key, const char *val, int line)
{
    if (!add_section(ini, sec, line)) return 0;
    entry *old = find(ini, sec, key);
    if (old) {
        char *v = strdup(val);
        if (!v) return 0;
        free(old->val);
        old->val = v;
        old->line = line;
        return 1;
    }
    if (ini->n == ini->cap) {
        int nc = ini->cap ? 2 * ini->cap : 32;
        entry *ne = realloc(ini->e, nc * sizeof *ne);
        if (!ne) return 0;
        ini->e = ne;
        ini->cap = nc;
    }
    entry *e = &ini->e[ini->n];
    e->sec = strdup(sec);
    e->key = strdup(key);
    e->val = strdup(val);
    e->line = line;
    e->used = 0;
    if (!e->sec || !e->key || !e->val) {
        free(e->sec);
        free(e->key);
        free(e->val);
        return 0;
    }
    ini->n++;
    return 1;
}

/* Characters of a line, its newline aside: what inih's line buffer
 * (INI_MAX_LINE, 200 in Debian's build) holds with the newline and the NUL. */
#define MAX_LINE 198

/* inih reads through this so we know the line of each handler call. */
static char *reader(char *str, int num, void *stream)
{
    dt_ini *ini = stream;
    if (!*ini->cur || ini->err) return NULL;
    int i = 0;
    while (i < num - 1 && ini->cur[i] && ini->cur[i] != '\n') i++;
    /* inih would read the rest of a longer line as a line of its own */
    if (i > MAX_LINE) {
        ini->err = dt_error(DT_ERR_CONFIG, "%s:%d: line longer than %d characters", ini->name, ini->lineno + 1, MAX_LINE);
        return NULL;
    }
    if (ini->cur[i] == '\n' && i < num - 1) i++;
    memcpy(str, ini->cur, i);
    str[i] = 0;
    ini->cur += i;
    ini->lineno++;
    return str;
}

/* Out of memory in the handler: say so, or inih's failure reads as a syntax error. */
static int nomem(dt_ini *ini)
{
    ini->err = dt_error(DT_ERR_NOMEM, "out of memory");
    return 0;
}

/* Names that read back the same from dt_ini_dump (what checkpoints store),
 * from files and overrides alike, and that every output can print as they
 * are: sections (layers) of letters, digits, '_' and '-', short enough for
 * inih's section buffer; keys may also hold '.'. */
#define MAX_SECTION 49
static int bad_chars(const char *s, const char *extra)
{
    if (!*s) return 1;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s)) return 1;
    return 0;
}
static int bad_section(const char *s) { return strlen(s) > MAX_SECTION || bad_chars(s, "_-"); }
static int bad_key(const char *s) { return bad_chars(s, "_.-"); }

static int handler(void *user, const char *sec, const char *key, const char *val)
{
    dt_ini *ini = user;
    if (ini->err) return 0; /* inih goes on after an error: keep the first */
    if (!key) return add_section(ini, sec, ini->lineno) || nomem(ini); /* INI_CALL_HANDLER_ON_NEW_SECTION */
    if (bad_section(sec) && sec[0]) {
        ini->err = dt_error(DT_ERR_CONFIG, "%s:%d: expected '[name]' with a name of letters, digits, '_' or '-' (at most %d)",
                            ini->name, ini->lineno, MAX_SECTION);
        return 0;
    }
    if (bad_key(key)) {
        ini->err = dt_error(DT_ERR_CONFIG, "%s:%d: expected 'key = value' with a key of letters, digits, '_', '.' or '-'",
                            ini->name, ini->lineno);
        return 0;
    }
    if (!sec[0]) {
        ini->err = dt_error(DT_ERR_CONFIG, "%s:%d: key '%s' is outside any [section]",
                            ini->name, ini->lineno, key);
        return 0;
    }
    if (find(ini, sec, key)) {
        ini->err = dt_error(DT_ERR_CONFIG, "%s:%d: [%s] key '%s' given twice", ini->name,
                            ini->lineno, sec, key);
        return 0;
    }
    if (!add_section(ini, sec, ini->lineno) || !add_entry(ini, sec, key, val, ini->lineno)) return nomem(ini);
    return 1;
}

/* Sections with no keys are still sections (a layer may need none); find
 * them by scanning the text, since inih reports only keys. */
static dt_status scan_sections(dt_ini *ini)
{
    int line = 1;
    for (const char *p = ini->text; *p; line++) {
        const char *q = p;
        while (*q == ' ' || *q == '\t') q++;
        if (*q == '[') {
            const char *end = strchr(q, ']');
            const char *nl = strchr(q, '\n');
            if (end && (!nl || end < nl)) {
                char name[256];
                size_t len = (size_t)(end - q - 1);
                if (len >= sizeof name) len = sizeof name - 1;
                memcpy(name, q + 1, len);
                name[len] = 0;
                char *s = name; /* as inih reads it: no blanks inside the brackets */
                if (len >= sizeof name - 1 || bad_section(s))
                    return dt_error(DT_ERR_CONFIG, "%s:%d: expected '[name]' with a name of letters, digits, '_' or '-' "
                                                   "(at most %d)", ini->name, line, MAX_SECTION);
                if (!add_section(ini, s, line)) return dt_error(DT_ERR_NOMEM, "out of memory");
            }
        }
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    return DT_OK;
}

dt_status dt_ini_parse(const char *name, const char *text, dt_ini **out)
{
    *out = NULL;
    dt_ini *ini = calloc(1, sizeof *ini);
    if (!ini) return dt_error(DT_ERR_NOMEM, "out of memory");
    ini->name = strdup(name);
    ini->text = strdup(text);
    if (!ini->name || !ini->text) {
        dt_ini_free(ini);
        return dt_error(DT_ERR_NOMEM, "out of memory");
    }
    dt_status s = scan_sections(ini);
    if (s) {
        dt_ini_free(ini);
        return s;
    }
    ini->cur = ini->text;
    int r = ini_parse_stream(reader, ini, handler, ini);
    if (r != 0 || ini->err) {
        if (ini->err == DT_OK && r == -2) /* inih's own line buffer */
            ini->err = dt_error(DT_ERR_NOMEM, "out of memory");
        if (ini->err == DT_OK)
            ini->err = dt_error(DT_ERR_CONFIG, "%s:%d: syntax error: expected '[section]' or 'key = value'",
                                name, r > 0 ? r : ini->lineno);
        s = ini->err;
        dt_ini_free(ini);
        return s;
    }
    *out = ini;
    return DT_OK;
}

dt_status dt_ini_load(const char *path, dt_ini **out)
{
    char *text;
    *out = NULL;
    DT_TRY(dt_read_text(path, &text, NULL));
    dt_status s = dt_ini_parse(path, text, out);
    free(text);
    return s;
}

void dt_ini_free(dt_ini *ini)
{
    if (!ini) return;
    for (int i = 0; i < ini->n; i++) {
        free(ini->e[i].sec);
        free(ini->e[i].key);
        free(ini->e[i].val);
    }
    for (int i = 0; i < ini->ns; i++) free(ini->s[i].name);
    free(ini->e);
    free(ini->s);
    free(ini->name);
    free(ini->text);
    free(ini);
}

dt_status dt_ini_override(dt_ini *ini, const char *a)
{
    const char *dot = strchr(a, '.'), *eq = strchr(a, '=');
    if (!dot || !eq || dot > eq || dot == a || eq == dot + 1)
        return dt_error(DT_ERR_ARG, "override '%s': expected section.key=value", a);
    char sec[256], key[256];
    size_t ls = (size_t)(dot - a), lk = (size_t)(eq - dot - 1);
    if (ls >= sizeof sec || lk >= sizeof key)
        return dt_error(DT_ERR_ARG, "override '%s': name too long", a);
    memcpy(sec, a, ls);
    sec[ls] = 0;
    memcpy(key, dot + 1, lk);
    key[lk] = 0;
    /* the value as a config file would give it: trimmed, on one line, without a comment */
    const char *v = eq + 1, *ve = v + strlen(v);
    while (isspace((unsigned char)*v)) v++;
    while (ve > v && isspace((unsigned char)ve[-1])) ve--;
    int bad_val = 0;
    for (const char *c = v; c < ve; c++) bad_val |= *c == '\n' || *c == '\r' || (*c == ';' && c > v && isspace((unsigned char)c[-1]));
    if (bad_section(sec) || bad_key(key) || bad_val)
        return dt_error(DT_ERR_ARG, "override '%s': expected section.key=value (names of letters, digits, '_' or '-', "
                                    "the value on one line without ' ;')", a);
    if (strlen(key) + 3 + (size_t)(ve - v) > MAX_LINE)
        return dt_error(DT_ERR_ARG, "override '%s': longer than a config line may be (%d characters)", a, MAX_LINE);
    char *val = strndup(v, (size_t)(ve - v));
    if (!val) return dt_error(DT_ERR_NOMEM, "out of memory");
    int ok = add_entry(ini, sec, key, val, 0);
    free(val);
    if (!ok) return dt_error(DT_ERR_NOMEM, "out of memory");
    return DT_OK;
}

void dt_ini_mark_used(dt_ini *ini, const char *sec)
{
    for (int i = 0; i < ini->n; i++)
        if (!strcmp(ini->e[i].sec, sec)) ini->e[i].used = 1;
}

const char *dt_ini_name(const dt_ini *ini) { return ini->name; }
const char *dt_ini_text(const dt_ini *ini) { return ini->text; }

char *dt_ini_dump(const dt_ini *ini)
{
    size_t cap = 1;
    for (int s = 0; s < ini->ns; s++) cap += strlen(ini->s[s].name) + 3;                   /* "[%s]\n" */
    for (int i = 0; i < ini->n; i++) cap += strlen(ini->e[i].key) + strlen(ini->e[i].val) + 4; /* "%s = %s\n" */
    char *buf = malloc(cap), *p = buf;
    if (!buf) return NULL;
    *p = 0;
    for (int s = 0; s < ini->ns; s++) {
        p += sprintf(p, "[%s]\n", ini->s[s].name);
        for (int i = 0; i < ini->n; i++) {
            if (strcmp(ini->e[i].sec, ini->s[s].name)) continue;
            /* "k = ;v" would read as a comment, and the spaces must not make a line too long */
            const char *k = ini->e[i].key, *v = ini->e[i].val;
            const char *sp = v[0] == ';' || strlen(k) + 3 + strlen(v) > MAX_LINE ? "" : " ";
            p += sprintf(p, "%s%s=%s%s\n", k, sp, sp, v);
        }
    }
    return buf;
}

int dt_ini_nsections(const dt_ini *ini) { return ini->ns; }
const char *dt_ini_section(const dt_ini *ini, int i) { return ini->s[i].name; }
int dt_ini_section_line(const dt_ini *ini, int i) { return ini->s[i].line; }
int dt_ini_has(const dt_ini *ini, const char *sec, const char *key) { return find(ini, sec, key) != NULL; }

int dt_ini_has_section(const dt_ini *ini, const char *sec)
{
    for (int i = 0; i < ini->ns; i++)
        if (!strcmp(ini->s[i].name, sec)) return 1;
    return 0;
}

static const char *where_of(const dt_ini *ini, const entry *e)
{
    static _Thread_local char buf[600];
    if (!e || e->line == 0)
        snprintf(buf, sizeof buf, "%s (command line)", ini->name);
    else
        snprintf(buf, sizeof buf, "%s:%d", ini->name, e->line);
    return buf;
}

const char *dt_ini_where(const dt_ini *ini, const char *sec, const char *key)
{
    return where_of(ini, find(ini, sec, key));
}

static dt_status missing(const dt_ini *ini, const char *sec, const char *key)
{
    return dt_error(DT_ERR_CONFIG, "%s: [%s] missing required key '%s'", ini->name, sec, key);
}

dt_status dt_ini_str(dt_ini *ini, const char *sec, const char *key, const char *def,
                     const char **out)
{
    entry *e = find(ini, sec, key);
    if (!e) {
        if (!def) return missing(ini, sec, key);
        *out = def;
        return DT_OK;
    }
    e->used = 1;
    *out = e->val;
    return DT_OK;
}

dt_status dt_ini_int(dt_ini *ini, const char *sec, const char *key, int required, long def,
                     long lo, long hi, long *out)
{
    entry *e = find(ini, sec, key);
    if (!e) {
        if (required) return missing(ini, sec, key);
        *out = def;
        return DT_OK;
    }
    e->used = 1;
    char *end;
    errno = 0;
    long v = strtol(e->val, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    if (errno || end == e->val || *end)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = '%s': expected an integer", where_of(ini, e),
                        sec, key, e->val);
    if (v < lo || v > hi)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = %ld: expected an integer in [%ld, %ld]",
                        where_of(ini, e), sec, key, v, lo, hi);
    *out = v;
    return DT_OK;
}

dt_status dt_ini_real(dt_ini *ini, const char *sec, const char *key, int required, double def,
                      double lo, double hi, double *out)
{
    entry *e = find(ini, sec, key);
    if (!e) {
        if (required) return missing(ini, sec, key);
        *out = def;
        return DT_OK;
    }
    e->used = 1;
    char *end;
    errno = 0;
    double v = strtod(e->val, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (errno || end == e->val || *end || !isfinite(v))
        return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = '%s': expected a number", where_of(ini, e), sec,
                        key, e->val);
    if (v < lo || v > hi)
        return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = %g: expected a number in [%g, %g]",
                        where_of(ini, e), sec, key, v, lo, hi);
    *out = v;
    return DT_OK;
}

dt_status dt_ini_enum(dt_ini *ini, const char *sec, const char *key, const char *def,
                      const char *const *choices, int *out)
{
    const char *v = NULL;
    DT_TRY(dt_ini_str(ini, sec, key, def, &v));
    for (int i = 0; choices[i]; i++)
        if (!strcmp(v, choices[i])) {
            *out = i;
            return DT_OK;
        }
    char list[512] = "";
    for (int i = 0; choices[i]; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = '%s': expected one of %s",
                    dt_ini_where(ini, sec, key), sec, key, v, list);
}

dt_status dt_ini_ints(dt_ini *ini, const char *sec, const char *key, int required, long *vals,
                      int max, int *n)
{
    entry *e = find(ini, sec, key);
    *n = 0;
    if (!e) return required ? missing(ini, sec, key) : DT_OK;
    e->used = 1;
    const char *p = e->val;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || *n == max)
            return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = '%s': expected up to %d comma-separated integers",
                            where_of(ini, e), sec, key, e->val, max);
        vals[(*n)++] = v;
        while (*end == ' ' || *end == '\t') end++;
        if (!*end) return DT_OK;
        if (*end != ',')
            return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = '%s': expected comma-separated integers",
                            where_of(ini, e), sec, key, e->val);
        p = end + 1;
    }
}

dt_status dt_ini_reals(dt_ini *ini, const char *sec, const char *key, int required, double *vals, int max, int *n)
{
    entry *e = find(ini, sec, key);
    *n = 0;
    if (!e) return required ? missing(ini, sec, key) : DT_OK;
    e->used = 1;
    const char *p = e->val;
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || *n == max || !isfinite(v))
            return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = '%s': expected up to %d comma-separated numbers",
                            where_of(ini, e), sec, key, e->val, max);
        vals[(*n)++] = v;
        while (*end == ' ' || *end == '\t') end++;
        if (!*end) return DT_OK;
        if (*end != ',')
            return dt_error(DT_ERR_CONFIG, "%s: [%s] %s = '%s': expected comma-separated numbers", where_of(ini, e), sec,
                            key, e->val);
        p = end + 1;
    }
}

dt_status dt_ini_check_unused_section(const dt_ini *ini, const char *sec)
{
    for (int i = 0; i < ini->n; i++) {
        const entry *e = &ini->e[i];
        if (!e->used && (!sec || !strcmp(e->sec, sec)))
            return dt_error(DT_ERR_CONFIG, "%s: [%s] unknown key '%s'", where_of(ini, e), e->sec, e->key);
    }
    return DT_OK;
}

dt_status dt_ini_check_unused(const dt_ini *ini) { return dt_ini_check_unused_section(ini, NULL); }
