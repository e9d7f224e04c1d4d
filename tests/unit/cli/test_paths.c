/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for cli/paths.c: the CONTRACT's path rules as the client
 * checks them before a push (valid UTF-8, at most 1024 bytes, no `..`, `.`
 * or empty segment, no leading '/', no backslash, no control character),
 * the printable form of bad names, and KIND/NAME parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_int.h"

typedef struct path_case {
    const char *path;
    size_t len; /* 0: strlen */
    bool valid;
} path_case;

static const path_case cases[] = {
    {"index.md", 0, true},
    {"img/a.png", 0, true},
    {"a/b/c/d/e.txt", 0, true},
    {"ünïcödé/日本語.md", 0, true},
    {".contentignore", 0, true},
    {"..hidden", 0, true},
    {"a/...", 0, true},
    {"with space.md", 0, true},
    {"emoji-\xF0\x9F\x98\x80.md", 0, true},
    {"", 0, false},
    {"/abs.md", 0, false},
    {"a//b", 0, false},
    {"a/", 0, false},
    {"./a", 0, false},
    {"a/./b", 0, false},
    {"..", 0, false},
    {"../a", 0, false},
    {"a/../b", 0, false},
    {"a/..", 0, false},
    {"a\\b", 0, false},
    {"tab\there", 0, false},
    {"nl\nhere", 0, false},
    {"del\x7f", 0, false},
    {"c1-\xC2\x85", 0, false},      /* U+0085, a C1 control */
    {"bad-\xFF.md", 0, false},      /* not UTF-8 */
    {"over-\xC0\xAF", 0, false},    /* overlong '/' */
    {"sur-\xED\xA0\x80", 0, false}, /* a UTF-16 surrogate */
    {"cut-\xE2\x82", 0, false},     /* truncated sequence */
    {"nul\0x", 5, false},
};

static void test_path_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const path_case *c = &cases[i];
        size_t n = c->len ? c->len : strlen(c->path);
        const char *why = cli_path_problem(c->path, n);
        if ((why == NULL) != c->valid)
            fail_msg("case %zu: expected %s, got %s", i, c->valid ? "valid" : "a problem",
                     why ? why : "valid");
    }
}

static void test_path_length(void **state)
{
    (void)state;
    char buf[1100];
    memset(buf, 'a', sizeof buf);
    assert_null(cli_path_problem(buf, 1024));
    assert_non_null(cli_path_problem(buf, 1025));
    for (size_t i = 1; i < 1024; i += 2)
        buf[i] = '/';
    assert_null(cli_path_problem(buf, 1023));
}

/* The reasons name the rule that was broken. */
static void test_path_reasons(void **state)
{
    (void)state;
    assert_string_equal(cli_path_problem("a\x01", 2), "the name holds a control character");
    assert_string_equal(cli_path_problem("\xFF", 1), "the name is not valid UTF-8");
    assert_string_equal(cli_path_problem("a/../b", 6), "the path has a '.' or '..' segment");
}

static void assert_printable(const char *in, const char *want)
{
    cd_buf b = CD_BUF_INIT;
    cd_path_printable(&b, in);
    assert_string_equal(b.data ? b.data : "", want);
    cd_buf_free(&b);
}

static void test_printable(void **state)
{
    (void)state;
    assert_printable("plain/ünï.md", "plain/ünï.md");
    assert_printable("bad\x01name", "bad\\x01name");
    assert_printable("x\xFFy", "x\\xffy");
    assert_printable("back\\slash", "back\\slash");
    assert_printable("le\xC3\xA7ons\\\xC3\xBCn\xC3\xAF.md", "le\xC3\xA7ons\\\xC3\xBCn\xC3\xAF.md");
    assert_printable("c1\xC2\x85", "c1\\xc2\\x85");
    assert_printable("", "");
}

static void test_parse_id(void **state)
{
    (void)state;
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    cd_err err;
    assert_int_equal(cli_parse_id("tutorial/hello", kind, name, &err), 0);
    assert_string_equal(kind, "tutorial");
    assert_string_equal(name, "hello");
    assert_int_equal(cli_parse_id("skill-path/x-1", kind, name, &err), 0);
    assert_int_equal(cli_parse_id("hello", kind, name, &err), CLI_USAGE);
    assert_int_equal(cli_parse_id("blog/hello", kind, name, &err), CLI_USAGE);
    assert_non_null(strstr(err.msg, "unknown kind 'blog'"));
    assert_int_equal(cli_parse_id("tutorial/Hello", kind, name, &err), CLI_USAGE);
    assert_int_equal(cli_parse_id("tutorial/a/b", kind, name, &err), CLI_USAGE);
    assert_int_equal(cli_parse_id("tutorial/", kind, name, &err), CLI_USAGE);
    assert_int_equal(cli_parse_id("averyveryverylongkind/x", kind, name, &err), CLI_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_rules),   cmocka_unit_test(test_path_length),
        cmocka_unit_test(test_path_reasons), cmocka_unit_test(test_printable),
        cmocka_unit_test(test_parse_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
