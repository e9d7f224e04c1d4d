/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for ignore/ignore.c: the gitignore semantics of .contentignore
 * as a table of (rules, path, is it a directory, ignored?) cases — each one
 * checked against git 2.39's own answer (`git status --ignored`) when the
 * table was written — then the built-in rules (.git, editor files) and
 * reading a rules file (comments, CRLF, byte-order mark, missing file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ignore.h"

typedef struct ig_case {
    const char *rules; /* .contentignore lines */
    const char *path;
    bool is_dir;
    bool ignored;
} ig_case;

static const ig_case cases[] = {
    {"*.log", "a.log", false, true},
    {"*.log", "dir/a.log", false, true},
    {"*.log", "a.log.txt", false, false},
    {"*.log\n!keep.log", "keep.log", false, false},
    {"*.log\n!keep.log", "x/keep.log", false, false},
    {"*.log\n!keep.log", "x/other.log", false, true},
    {"!keep.log\n*.log", "keep.log", false, true},
    {"build/", "build", true, true},
    {"build/", "build", false, false},
    {"build/", "src/build", true, true},
    {"build/", "src/build/x.o", false, true},
    {"build/", "build/x", false, true},
    {"/root.txt", "root.txt", false, true},
    {"/root.txt", "sub/root.txt", false, false},
    {"doc/frotz", "doc/frotz", false, true},
    {"doc/frotz", "a/doc/frotz", false, false},
    {"doc/frotz/", "doc/frotz", true, true},
    {"doc/frotz/", "doc/frotz", false, false},
    {"**/foo", "foo", false, true},
    {"**/foo", "a/b/foo", false, true},
    {"**/foo", "a/foo/x", false, true},
    {"**/foo", "foox", false, false},
    {"**/foo/bar", "foo/bar", false, true},
    {"**/foo/bar", "x/y/foo/bar", false, true},
    {"**/foo/bar", "bar", false, false},
    {"abc/**", "abc", true, false},
    {"abc/**", "abc/x", false, true},
    {"abc/**", "abc/x/y", false, true},
    {"abc/**", "xabc/x", false, false},
    {"abc/**", "q/abc/x", false, false},
    {"a/**/b", "a/b", false, true},
    {"a/**/b", "a/x/b", false, true},
    {"a/**/b", "a/x/y/b", false, true},
    {"a/**/b", "a/xb", false, false},
    {"a/**/b", "x/a/b", false, false},
    {"logs/\n!logs/keep.txt", "logs/keep.txt", false, true},
    {"logs/*\n!logs/keep.txt", "logs/keep.txt", false, false},
    {"logs/*\n!logs/keep.txt", "logs/other", false, true},
    {"logs/**\n!logs/keep.txt", "logs/keep.txt", false, false},
    {"\\#hash", "#hash", false, true},
    {"#hash", "#hash", false, false},
    {"\\!bang", "!bang", false, true},
    {"foo\\ ", "foo ", false, true},
    {"foo\\ ", "foo", false, false},
    {"bar   ", "bar", false, true},
    {"?.md", "a.md", false, true},
    {"?.md", "ab.md", false, false},
    {"[abc].txt", "b.txt", false, true},
    {"[abc].txt", "d.txt", false, false},
    {"[!a]x", "bx", false, true},
    {"[!a]x", "ax", false, false},
    {"[a-c]?", "bz", false, true},
    {"a/*/c", "a/b/c", false, true},
    {"a/*/c", "a/b/d/c", false, false},
    {"*", "x/y/z", false, true},
    {"\\*star", "*star", false, true},
    {"\\*star", "xstar", false, false},
    {"foo/**/", "foo/a", true, true},
    {"foo/**/", "foo/a", false, false},
    {"**", "deep/er/file", false, true},
    {"/*.md", "a.md", false, true},
    {"/*.md", "x/a.md", false, false},
    {"docs/**/*.png", "docs/a.png", false, true},
    {"docs/**/*.png", "docs/x/y/a.png", false, true},
    {"docs/**/*.png", "a.png", false, false},
    {"a/**/**/b", "a/b", false, true},
    {"a/**/**/b", "a/x/y/b", false, true},
    {"# comment\n\n   \n*.bak", "x.bak", false, true},
    {"*.md\n!*.md", "a.md", false, false},
    {"sub\n!sub/keep", "sub/keep", false, true},
    {"*.md\n!/a/**", "a/b.md", false, false},
    {"**/cache/**", "x/cache/y", false, true},
    {"**/cache/**", "cache/y", false, true},
    {"**/cache/**", "cache", true, false},
    {"a*b", "a/b", false, false},
    {"a*b", "axxb", false, true},
    {".*", ".hidden", false, true},
    {".*", "x/.hidden", false, true},
};

/* A rule set from newline-separated lines, without the built-in rules;
 * free it with ignore_free(). */
static ignore_rules *rules_of(const char *text, bool builtins)
{
    ignore_rules *ig = ignore_new(builtins);
    for (const char *line = text; line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        ignore_add_line(ig, line, n);
        line = nl ? nl + 1 : NULL;
    }
    return ig;
}

static void test_gitignore_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ig_case *c = &cases[i];
        ignore_rules *ig = rules_of(c->rules, false);
        bool got = ignore_path(ig, c->path, c->is_dir);
        if (got != c->ignored) {
            print_error("case %zu: rules \"%s\", %s \"%s\": expected %s, got %s\n", i, c->rules,
                        c->is_dir ? "directory" : "file", c->path, c->ignored ? "ignored" : "kept",
                        got ? "ignored" : "kept");
            failures++;
        }
        ignore_free(ig);
    }
    assert_int_equal(failures, 0);
}

/* ignore_match looks at the path alone: the walker checks parents. */
static void test_match_ignores_parents(void **state)
{
    (void)state;
    ignore_rules *ig = rules_of("logs/", false);
    assert_false(ignore_match(ig, "logs/keep.txt", false));
    assert_true(ignore_path(ig, "logs/keep.txt", false));
    assert_true(ignore_match(ig, "logs", true));
    ignore_free(ig);
}

static void test_builtins(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        bool is_dir, ignored;
    } b[] = {
        {".git", true, true},           {".git", false, true},
        {"sub/.git", true, true},       {".git/config", false, true},
        {".index.md.swp", false, true}, {"sub/.a.md.swo", false, true},
        {"index.md~", false, true},     {".#index.md", false, true},
        {"#index.md#", false, true},    {"4913", false, true},
        {"sub/4913", false, true},      {"save.tmp", false, true},
        {"index.md", false, false},     {"swp.md", false, false},
        {".gitignore", false, false},   {".contentignore", false, false},
        {"a.tmp.md", false, false},     {"49130", false, false},
    };
    ignore_rules *ig = ignore_new(true);
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        if (ignore_path(ig, b[i].path, b[i].is_dir) != b[i].ignored)
            fail_msg("built-in rules: %s should be %s", b[i].path,
                     b[i].ignored ? "ignored" : "kept");
    }
    ignore_free(ig);
}

/* .contentignore comes after the built-in rules: it may re-include an
 * editor file pattern, but never .git. */
static void test_builtins_negation(void **state)
{
    (void)state;
    ignore_rules *ig = rules_of("!*.tmp\n!.git\n!.git/", true);
    assert_false(ignore_path(ig, "keep.tmp", false));
    assert_true(ignore_path(ig, ".git", true));
    assert_true(ignore_path(ig, ".git/HEAD", false));
    ignore_free(ig);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_ignore_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "\xEF\xBB\xBF*.log\r\n# comment\r\n\r\n!keep.log\r\nbuild/";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    ignore_rules *ig = ignore_new(false);
    cd_err err;
    assert_int_equal(ignore_load(ig, path, &err), IGNORE_OK);
    unlink(path);
    assert_true(ignore_path(ig, "a.log", false));
    assert_false(ignore_path(ig, "keep.log", false));
    assert_true(ignore_path(ig, "build", true));
    assert_false(ignore_path(ig, "# comment", false));
    assert_int_equal(ignore_load(ig, "/nonexistent/.contentignore", &err), IGNORE_OK);
    ignore_free(ig);
}

/* A .contentignore that exists but cannot be read (here a directory):
 * IGNORE_UNREADABLE, err.code the same, and the folder's rules are the
 * built-in ones alone. */
static void test_unreadable_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ignore_XXXXXX";
    assert_non_null(mkdtemp(dir));
    cd_buf sub = CD_BUF_INIT;
    cd_buf_printf(&sub, "%s/.contentignore", dir);
    assert_int_equal(mkdir(sub.data, 0755), 0);
    ignore_rules *ig = ignore_new(false);
    cd_err err = {0};
    assert_int_equal(ignore_load(ig, sub.data, &err), IGNORE_UNREADABLE);
    assert_int_equal(err.code, IGNORE_UNREADABLE);
    assert_non_null(strstr(err.msg, "cannot read"));
    ignore_free(ig);
    ignore_rules *folder = NULL;
    err = (cd_err){0};
    assert_int_equal(ignore_load_folder(dir, &folder, &err), IGNORE_UNREADABLE);
    assert_int_equal(err.code, IGNORE_UNREADABLE);
    assert_non_null(folder);
    assert_true(ignore_path(folder, ".git", true)); /* the built-in rules */
    ignore_free(folder);
    rmdir(sub.data);
    rmdir(dir);
    cd_buf_free(&sub);
}

/* Degenerate lines add no rule and match nothing. */
static void test_degenerate_lines(void **state)
{
    (void)state;
    ignore_rules *ig = rules_of("/\n!\n!/\n \n\\", false);
    assert_false(ignore_path(ig, "a", false));
    assert_false(ignore_path(ig, "a/b", true));
    ignore_free(ig);
}

/* Many ** segments against a deep path stay fast (no exponential
 * backtracking: without it this test would not finish). */
static void test_many_globstars(void **state)
{
    (void)state;
    ignore_rules *ig = rules_of("**/**/**/**/z\n**/d/**/d/**/d/**/d/**/d/**/d/**/z", false);
    cd_buf p = CD_BUF_INIT;
    for (int i = 0; i < 300; i++)
        cd_buf_puts(&p, "d/");
    cd_buf_puts(&p, "y");
    assert_false(ignore_path(ig, p.data, false));
    cd_buf_reset(&p);
    for (int i = 0; i < 300; i++)
        cd_buf_puts(&p, "d/");
    cd_buf_puts(&p, "z");
    assert_true(ignore_path(ig, p.data, false));
    cd_buf_free(&p);
    ignore_free(ig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gitignore_table), cmocka_unit_test(test_match_ignores_parents),
        cmocka_unit_test(test_builtins),        cmocka_unit_test(test_builtins_negation),
        cmocka_unit_test(test_load_file),       cmocka_unit_test(test_degenerate_lines),
        cmocka_unit_test(test_many_globstars),  cmocka_unit_test(test_unreadable_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
