/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for cli/cli_opts.c, the command line of every `content`
 * command: command lines in, the words, options and settings out, or the
 * exit status and the one line that says what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_int.h"

/* cli_error() lives in main.c: the tests keep the last message instead. */
static char last_error[512];

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

/* A `more` option: --num N with N a number. */
static int num_option(void *arg, const char *cmd, int argc, char **argv, int *i)
{
    const char *v = NULL;
    int g = cli_flag(cmd, "--num", argc, argv, i, &v);
    if (g != 1)
        return g;
    if (strspn(v, "0123456789") != strlen(v) || !*v) {
        cli_error("%s: --num: '%s' is not a number", cmd, v);
        return CLI_USAGE;
    }
    *(long *)arg = atol(v);
    return 1;
}

typedef struct opts_case {
    const char *argv[8]; /* after the command's name; ends at NULL */
    int rc;              /* -1: parsed */
    const char *error;   /* a part of the message when rc == CLI_USAGE */
    int n_words;
    const char *word1; /* the word after KIND/NAME */
    const char *path;  /* --path */
    bool list;         /* --list / -l */
    long num;          /* --num (0: not given) */
    const char *server;
    const char *kind, *name;
} opts_case;

static const opts_case cases[] = {
    {{"tutorial/a"}, -1, NULL, 1, NULL, NULL, false, 0, NULL, "tutorial", "a"},
    {{"tutorial/a", "x"}, -1, NULL, 2, "x", NULL, false, 0, NULL, "tutorial", "a"},
    {{"--path", "p.md", "tutorial/a"}, -1, NULL, 1, NULL, "p.md", false, 0, NULL, "tutorial", "a"},
    {{"tutorial/a", "--path=q.md"}, -1, NULL, 1, NULL, "q.md", false, 0, NULL, "tutorial", "a"},
    {{"tutorial/a", "--path", "-"}, -1, NULL, 1, NULL, "-", false, 0, NULL, "tutorial", "a"},
    {{"tutorial/a", "-l"}, -1, NULL, 1, NULL, NULL, true, 0, NULL, "tutorial", "a"},
    {{"--list", "course/b", "-"}, -1, NULL, 2, "-", NULL, true, 0, NULL, "course", "b"},
    {{"course/b", "--num", "42"}, -1, NULL, 1, NULL, NULL, false, 42, NULL, "course", "b"},
    {{"--server", "http://h:1", "course/b"},
     -1,
     NULL,
     1,
     NULL,
     NULL,
     false,
     0,
     "http://h:1",
     "course",
     "b"},
    {{"course/b", "--output=json"}, -1, NULL, 1, NULL, NULL, false, 0, NULL, "course", "b"},
    {{"--help", "--bogus"}, .rc = CLI_OK},
    {{"tutorial/a", "-h"}, .rc = CLI_OK},
    {{"tutorial/a", "--bogus"},
     .rc = CLI_USAGE,
     .error = "t: unknown option '--bogus' (run `content t --help`)"},
    {{"tutorial/a", "--list=yes"}, .rc = CLI_USAGE, .error = "unknown option '--list=yes'"},
    {{"tutorial/a", "--path"}, .rc = CLI_USAGE, .error = "t: --path needs a value"},
    {{"tutorial/a", "--num", "x"}, .rc = CLI_USAGE, .error = "t: --num: 'x' is not a number"},
    {{"tutorial/a", "x", "y"},
     .rc = CLI_USAGE,
     .error = "t: unexpected argument 'y' (usage: content t KIND/NAME [X])"},
    {{"--list"}, .rc = CLI_USAGE, .error = "t: missing KIND/NAME (usage: content t KIND/NAME [X])"},
    {{"nokind/a"}, .rc = CLI_USAGE, .error = "t: unknown kind 'nokind'"},
    {{"tutorial/a", "--output", "yaml"}, .rc = CLI_USAGE, .error = "--output must be text or json"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const opts_case *c = &cases[k];
        char *argv[10] = {"t"};
        int argc = 1;
        while (argc < 9 && c->argv[argc - 1])
            argv[argc] = (char *)c->argv[argc - 1], argc++;
        cli_config cfg = {.server = "http://127.0.0.1:8080", .output = CLI_OUT_TEXT};
        const char *path = NULL;
        bool list = false;
        long num = 0;
        const cli_opt opts[] = {
            {"--path", .value = &path}, {"--list", "-l", .flag = &list}, {NULL}};
        cli_args a = {.cmd = "t",
                      .usage = "content t KIND/NAME [X]",
                      .help = "",
                      .max_words = 2,
                      .id = true,
                      .more = num_option,
                      .more_arg = &num};
        last_error[0] = '\0';
        int rc = cli_args_parse(&cfg, argc, argv, opts, &a);
        print_message("# case %zu: %s\n", k, c->argv[0] ? c->argv[0] : "");
        assert_int_equal(rc, c->rc);
        if (rc == CLI_USAGE) {
            assert_non_null(strstr(last_error, c->error));
            continue;
        }
        assert_string_equal(last_error, "");
        if (rc != -1)
            continue;
        assert_int_equal(a.n_words, c->n_words);
        if (c->word1)
            assert_string_equal(a.words[1], c->word1);
        assert_true(path == c->path || (path && c->path && !strcmp(path, c->path)));
        assert_int_equal(list, c->list);
        assert_int_equal(num, c->num);
        assert_string_equal(cfg.server, c->server ? c->server : "http://127.0.0.1:8080");
        assert_string_equal(a.kind, c->kind);
        assert_string_equal(a.name, c->name);
    }
}

/* Without cfg (content render) the global options are the command's
 * unknown options; without id the words are free. */
static void test_no_globals_no_id(void **state)
{
    (void)state;
    char *argv[] = {"r", "--server", "http://x", NULL};
    cli_args a = {.cmd = "r", .usage = "content r FILE", .help = "", .max_words = 1};
    assert_int_equal(cli_args_parse(NULL, 3, argv, NULL, &a), CLI_USAGE);
    assert_non_null(strstr(last_error, "unknown option '--server'"));
    char *argv2[] = {"r", "Not/An-Id", NULL};
    assert_int_equal(cli_args_parse(NULL, 2, argv2, NULL, &a), -1);
    assert_int_equal(a.n_words, 1);
    assert_string_equal(a.words[0], "Not/An-Id");
    char *argv3[] = {"r", NULL};
    assert_int_equal(cli_args_parse(NULL, 1, argv3, NULL, &a), -1);
    assert_int_equal(a.n_words, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_no_globals_no_id),
    };
    return cmocka_run_group_tests_name("cli_opts", tests, NULL, NULL);
}
