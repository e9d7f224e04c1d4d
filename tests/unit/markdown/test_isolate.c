/* SPDX-License-Identifier: MIT */
/*
 * Isolated rendering (markdown/isolate.c): the pool's workers are this test
 * program started again with MD_WORKER_ARG.  A worker that must crash is
 * asked for through the environment of this program only
 * (TEST_ISOLATE_CRASH), read in main() below, never by the library.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "markdown.h"

static void renders_like_in_process(void **state)
{
    (void)state;
    md_pool *p = NULL;
    assert_int_equal(md_pool_new(NULL, &p, NULL), MD_OK);
    const char *md =
        "---\nkind: course\nn: 42\nz: null\nt: \"a\\u0000b\"\n---\n# Hello\n\nFirst.\n";
    md_result a, b;
    md_error err;
    assert_int_equal(md_render_result(md, strlen(md), 0, &a, &err), MD_OK);
    assert_int_equal(md_pool_render(p, md, strlen(md), 0, &b, &err), MD_OK);
    assert_int_equal(a.len, b.len);
    assert_string_equal(a.json, b.json);
    assert_string_equal(b.title, "Hello");
    assert_string_equal(b.description, "First.");
    assert_string_equal(md_result_field(&b, "kind"), "course");
    assert_string_equal(md_result_field(&b, "n"), "42");
    assert_string_equal(md_result_field(&b, "t"), "a\xEF\xBF\xBD"
                                                  "b");
    assert_null(md_result_field(&b, "z"));
    md_result_free(&a);
    md_result_free(&b);
    /* a front matter error comes back as itself, with its line */
    const char *bad = "---\na: [\n---\n";
    assert_int_equal(md_pool_render(p, bad, strlen(bad), 0, &b, &err), MD_ERR_YAML);
    assert_true(err.line >= 2);
    md_result_free(&b);
    md_pool_free(p);
}

/* r's toc_at/toc_len hold exactly the document's toc (or say it has none). */
static void assert_toc_place(const md_result *r)
{
    json_t *doc = json_loadb(r->json, r->len, 0, NULL);
    assert_non_null(doc);
    json_t *toc = json_object_get(doc, "toc");
    if (!toc) {
        assert_int_equal(r->toc_len, 0);
    } else {
        assert_true(r->toc_len > 0);
        assert_true(r->toc_at + r->toc_len <= r->len);
        json_t *part = json_loadb(r->json + r->toc_at, r->toc_len, 0, NULL);
        assert_non_null(part);
        assert_true(json_equal(part, toc));
        json_decref(part);
    }
    json_decref(doc);
}

static void toc_place_comes_with_the_result(void **state)
{
    (void)state;
    md_pool *p = NULL;
    assert_int_equal(md_pool_new(NULL, &p, NULL), MD_OK);
    const char *docs[] = {
        "# T\n\n## One\n\ntext\n\n### One.1\n\n## Two \"toc\":{}\n",
        "---\ntoc: false\n---\n# No toc\n\n## Hidden\n",
        "---\ntoc:\n  title: On this page\n  depth: 3\n---\n## A\n### B\n",
        "",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        md_result a, b;
        md_error err;
        assert_int_equal(md_render_result(docs[i], strlen(docs[i]), 0, &a, &err), MD_OK);
        assert_int_equal(md_pool_render(p, docs[i], strlen(docs[i]), 0, &b, &err), MD_OK);
        assert_toc_place(&a);
        assert_toc_place(&b);
        assert_int_equal(a.toc_at, b.toc_at);
        assert_int_equal(a.toc_len, b.toc_len);
        if (i == 1)
            assert_int_equal(a.toc_len, 0);
        else
            assert_true(a.toc_len > 0);
        md_result_free(&a);
        md_result_free(&b);
        /* pretty-printed, the places would not hold: none is given */
        assert_int_equal(md_render_result(docs[i], strlen(docs[i]), MD_PRETTY, &a, &err), MD_OK);
        assert_int_equal(a.toc_len, 0);
        md_result_free(&a);
    }
    md_pool_free(p);
}

static void timeout_costs_one_document(void **state)
{
    (void)state;
    md_pool_options o = {.workers = 1, .timeout_ms = 1};
    md_pool *p = NULL;
    assert_int_equal(md_pool_new(&o, &p, NULL), MD_OK);
    size_t n = 8u << 20;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = "*a* [b](c) `d`\n\n"[i % 16];
    md_result r;
    md_error err;
    assert_int_equal(md_pool_render(p, big, n, 0, &r, &err), MD_ERR_FAILED);
    assert_non_null(strstr(err.message, "longer than"));
    assert_non_null(strstr(r.json, "\"error\":{\"code\":\"render_timeout\""));
    assert_non_null(strstr(r.json, "\"body\":{\"type\":\"root\",\"children\":[]}"));
    assert_string_equal(r.title, "");
    assert_toc_place(&r); /* the failure document's toc */
    assert_true(r.toc_len > 0);
    md_result_free(&r);
    free(big);
    md_pool_free(p);
}

static void crash_costs_one_document(void **state)
{
    (void)state;
    setenv("TEST_ISOLATE_CRASH", "1", 1);
    md_pool_options o = {.workers = 1};
    md_pool *p = NULL;
    assert_int_equal(md_pool_new(&o, &p, NULL), MD_OK);
    unsetenv("TEST_ISOLATE_CRASH"); /* the replacement worker is a sound one */
    md_result r;
    md_error err;
    assert_int_equal(md_pool_render(p, "# a\n", 4, 0, &r, &err), MD_ERR_FAILED);
    assert_non_null(strstr(r.json, "\"code\":\"render_crashed\""));
    assert_non_null(strstr(r.json, "SIGKILL"));
    md_result_free(&r);
    assert_int_equal(md_pool_render(p, "# b\n", 4, 0, &r, &err), MD_OK);
    assert_string_equal(r.title, "b");
    md_result_free(&r);
    md_pool_free(p);
}

static void missing_program_is_an_error(void **state)
{
    (void)state;
    md_pool_options o = {.exe = "/nonexistent/contentd"};
    md_pool *p = (md_pool *)1;
    md_error err;
    assert_int_equal(md_pool_new(&o, &p, &err), MD_ERR_FAILED);
    assert_null(p);
    assert_non_null(strstr(err.message, "render worker"));
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], MD_WORKER_ARG)) {
        if (getenv("TEST_ISOLATE_CRASH")) {
            char c;
            if (read(0, &c, 1) == 1)
                raise(SIGKILL);
            return 0;
        }
        return md_worker_main();
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_like_in_process),
        cmocka_unit_test(toc_place_comes_with_the_result),
        cmocka_unit_test(timeout_costs_one_document),
        cmocka_unit_test(crash_costs_one_document),
        cmocka_unit_test(missing_program_is_an_error),
    };
    return cmocka_run_group_tests_name("markdown/isolate", tests, NULL, NULL);
}
