/* test_ini.c — the INI reader: typed getters, ranges, overrides, and errors
 * that name the file, line and key. */
#include <stdio.h>
#include <string.h>

#include "check_util.h"
#include "io/ini.h"

static const char *text = "# comment\n[train]\nepochs = 10\nlr = 0.5\nname = run1\nshape = 1,28,28\n\n[empty]\n";

#define ERR_HAS(s) ck_assert_msg(strstr(dt_errmsg(), s), "got '%s', want '%s'", dt_errmsg(), s)

START_TEST(getters_and_unknown_keys)
{
    dt_ini *c;
    long n, v[3];
    double d;
    const char *s;
    int k, cnt;
    ck_assert(dt_ini_parse("c.ini", text, &c) == DT_OK);
    ck_assert(dt_ini_has_section(c, "empty"));
    ck_assert(dt_ini_int(c, "train", "epochs", 1, 0, 1, 100, &n) == DT_OK && n == 10);
    ck_assert(dt_ini_real(c, "train", "lr", 1, 0, 0, 1, &d) == DT_OK && d == 0.5);
    ck_assert(dt_ini_ints(c, "train", "shape", 1, v, 3, &cnt) == DT_OK && cnt == 3 && v[2] == 28);
    ck_assert(dt_ini_real(c, "train", "beta", 0, 0.9, 0, 1, &d) == DT_OK && d == 0.9);
    ck_assert_int_eq(dt_ini_check_unused(c), DT_ERR_CONFIG);
    ERR_HAS("c.ini:5: [train] unknown key 'name'");
    ck_assert_int_eq(dt_ini_enum(c, "train", "name", NULL, (const char *const[]){"a", "b", NULL}, &k), DT_ERR_CONFIG);
    ERR_HAS("c.ini:5: [train] name = 'run1': expected one of a, b");
    ck_assert(dt_ini_str(c, "train", "name", NULL, &s) == DT_OK && !strcmp(s, "run1"));
    ck_assert(dt_ini_check_unused(c) == DT_OK);
    ck_assert_int_eq(dt_ini_int(c, "train", "epochs", 1, 0, 20, 30, &n), DT_ERR_CONFIG);
    ERR_HAS("c.ini:3: [train] epochs = 10: expected an integer in [20, 30]");
    ck_assert_int_eq(dt_ini_int(c, "train", "steps", 1, 0, 0, 9, &n), DT_ERR_CONFIG);
    ERR_HAS("c.ini: [train] missing required key 'steps'");
    ck_assert_int_eq(dt_ini_int(c, "train", "lr", 1, 0, 0, 9, &n), DT_ERR_CONFIG);
    ERR_HAS("c.ini:4: [train] lr = '0.5': expected an integer");
    ck_assert(dt_ini_override(c, "train.lr=0.25") == DT_OK);
    ck_assert(dt_ini_real(c, "train", "lr", 1, 0, 0, 1, &d) == DT_OK && d == 0.25);
    ck_assert_int_eq(dt_ini_real(c, "train", "lr", 1, 0, 0.5, 1, &d), DT_ERR_CONFIG);
    ERR_HAS("c.ini (command line): [train] lr = 0.25");
    ck_assert_int_eq(dt_ini_override(c, "lr=3"), DT_ERR_ARG);
    dt_ini_free(c);
}
END_TEST

START_TEST(syntax_errors)
{
    dt_ini *c = NULL;
    ck_assert_int_eq(dt_ini_parse("s.ini", "[a]\nx = 1\nthis is not ini\n", &c), DT_ERR_CONFIG);
    ERR_HAS("s.ini:3: syntax error");
    ck_assert(c == NULL);
    ck_assert_int_eq(dt_ini_parse("d.ini", "[a]\nx = 1\nx = 2\n", &c), DT_ERR_CONFIG);
    ERR_HAS("d.ini:3: [a] key 'x' given twice");
    ck_assert_int_eq(dt_ini_load("/nonexistent/x.ini", &c), DT_ERR_IO);
    ERR_HAS("/nonexistent/x.ini: cannot open");
}
END_TEST

/* Sections with no keys (a model's flatten, a config's [debug]) and long
 * section names are dumped too: the text once outgrew its buffer. Names
 * longer than inih's section buffer (49) are refused. */
START_TEST(dump_round_trip)
{
    char text[16384] = "", want[16384] = "", pad[201], name[256];
    int len = 0, wlen = 0;
    memset(pad, 'x', 200);
    pad[200] = 0;
    for (int i = 0; i < 40; i++) {
        int keys = i % 10 == 9; /* a key every ten sections */
        snprintf(name, sizeof name, "s%02d_%.*s", i, 45, pad); /* 49 characters */
        len += snprintf(text + len, sizeof text - (size_t)len, "[%s]\n%s", name, keys ? "k = v\n" : "");
        wlen += snprintf(want + wlen, sizeof want - (size_t)wlen, "[%s]\n%s", name, keys ? "k = v\n" : "");
    }
    dt_ini *c, *back;
    ck_assert(dt_ini_parse("e.ini", text, &c) == DT_OK);
    ck_assert_int_eq(dt_ini_nsections(c), 40);
    char *dump = dt_ini_dump(c);
    ck_assert_ptr_nonnull(dump);
    ck_assert_str_eq(dump, want);
    ck_assert(dt_ini_parse("dump", dump, &back) == DT_OK);
    ck_assert_int_eq(dt_ini_nsections(back), 40);
    for (int i = 0; i < 40; i++) ck_assert_str_eq(dt_ini_section(back, i), dt_ini_section(c, i));
    ck_assert(dt_ini_has(back, dt_ini_section(c, 39), "k"));
    free(dump);
    dt_ini_free(back);
    dt_ini_free(c);
    snprintf(text, sizeof text, "[a]\n[s_%.48s]\nk = v\n", pad);
    ck_assert(dt_ini_parse("long.ini", text, &c) == DT_ERR_CONFIG);
    ck_assert_str_eq(dt_errmsg(), "long.ini:2: expected '[name]' with a name of letters, digits, '_' or '-' (at most 49)");
}
END_TEST

/* test_ini is linked with --wrap for strdup, realloc and calloc (see
 * tests/CMakeLists.txt): while fail_at > 0, the fail_at-th call fails. */
static int fail_at;
char *__real_strdup(const char *s);
void *__real_realloc(void *p, size_t n);
void *__real_calloc(size_t n, size_t size);
static int failing(void) { return fail_at > 0 && --fail_at == 0; }
char *__wrap_strdup(const char *s) { return failing() ? NULL : __real_strdup(s); }
void *__wrap_realloc(void *p, size_t n) { return failing() ? NULL : __real_realloc(p, n); }
void *__wrap_calloc(size_t n, size_t size) { return failing() ? NULL : __real_calloc(n, size); }

/* Every allocation of a parse fails in turn: each is "out of memory", never
 * a syntax error. */
START_TEST(out_of_memory)
{
    const char *oom = "[a]\nx = 1\n[b]\n[section_with_a_name_of_49_characters_as_long_as_k]\ny = 2\n";
    int k;
    for (k = 1;; k++) {
        dt_ini *c = NULL;
        fail_at = k;
        dt_status st = dt_ini_parse("m.ini", oom, &c);
        int failed = fail_at == 0;
        fail_at = 0;
        if (!failed) {
            ck_assert_int_eq(st, DT_OK);
            dt_ini_free(c);
            break;
        }
        ck_assert_msg(st == DT_ERR_NOMEM && !strcmp(dt_errmsg(), "out of memory"),
                      "allocation %d failed: got status %d, '%s'", k, st, dt_errmsg());
        ck_assert_ptr_null(c);
    }
    /* 7 allocations before inih reads a line (the text, 3 sections), 8 in its
     * handler (here); the 12th is the handler's own section */
    ck_assert_int_ge(k - 1, 12);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ini");
    TCase *tc = tcase_create("ini");
    tcase_add_test(tc, getters_and_unknown_keys);
    tcase_add_test(tc, syntax_errors);
    tcase_add_test(tc, dump_round_trip);
    tcase_add_test(tc, out_of_memory);
    suite_add_tcase(s, tc);
    return dt_run_suite(s);
}
