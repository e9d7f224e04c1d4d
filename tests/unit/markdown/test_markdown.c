/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the markdown renderer, data-driven: each case is markdown
 * in and fragments that must (or must not) appear in the compact JSON out.
 * The expectations are what Nuxt MDC 0.17.4 produces for the same input
 * (the fidelity suite compares whole trees against MDC itself); the
 * sanitiser cases are contentd's own rules (docs/ast.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "markdown.h"

struct rcase {
    const char *name;
    const char *md;
    const char *want[8];   /* fragments that must appear */
    const char *reject[4]; /* fragments that must not */
};

static const struct rcase cases[] = {
    {"heading ids and duplicates",
     "# Hello *World*\n## Intro\n## Intro\n## 10 tips\n",
     {"\"id\":\"hello-world\"", "\"id\":\"intro\"", "\"id\":\"intro-1\"", "\"id\":\"_10-tips\""},
     {0}},
    {"slug drops punctuation, keeps unicode letters",
     "## C++ / C# — Ünïcödé 日本\n",
     {"\"id\":\"c-c-ünïcödé-日本\""},
     {0}},
    {"fence info string",
     "```js [src/a.js] {1,3-5} other meta\nx\n```\n",
     {"\"filename\":\"src/a.js\"", "\"highlights\":[1,3,4,5]", "\"meta\":\"other meta\"",
      "\"language\":\"js\"", "\"className\":[\"language-js\"]", "\"code\":\"x\\n\""},
     {0}},
    {"fence without info",
     "```\ny\n```\n",
     {"\"language\":\"text\"", "\"className\":[\"language-text\"]"},
     {"\"meta\""}},
    {"tabs in code expand to 4 columns", "```\n\tx\n```\n", {"\"code\":\"    x\\n\""}, {0}},
    {"task list",
     "- [ ] a\n- [x] b\n",
     {"\"contains-task-list\"", "\"task-list-item\"", "\"checked\":true", "\"value\":\" a\""},
     {0}},
    {"table align",
     "| a | b | c |\n|:-|-:|:-:|\n| 1 | 2 | 3 |\n",
     {"\"tag\":\"thead\"", "\"align\":\"left\"", "\"align\":\"right\"", "\"align\":\"center\"",
      "\"tag\":\"tbody\""},
     {0}},
    {"external links get nofollow",
     "[a](https://x.com) [b](/rel) <mailto:a@b.c>",
     {"\"href\":\"https://x.com\",\"rel\":[\"nofollow\"]", "\"href\":\"/rel\"}"},
     {0}},
    {"footnotes",
     "a[^n] b[^n]\n\n[^n]: note\n",
     {"\"id\":\"user-content-fnref-n\"", "\"id\":\"user-content-fnref-n-2\"",
      "\"ariaLabel\":\"Back to reference 1-2\"", "\"dataFootnotes\":\"\""},
     {0}},
    {"front matter types",
     "---\ns: x\nn: 1.5\nb: true\nz: null\nd: 2024-01-15\nl: [1, a]\n---\n",
     {"\"s\":\"x\"", "\"n\":1.5", "\"b\":true", "\"z\":null", "\"d\":\"2024-01-15\"",
      "\"l\":[1,\"a\"]"},
     {0}},
    {"title and description derived",
     "# Title\n\nFirst *para*.\n",
     {"\"title\":\"Title\"", "\"description\":\"First para.\""},
     {0}},
    {"dotted front matter keys nest",
     "---\nseo.title: T\n---\n",
     {"\"seo\":{\"title\":\"T\"}"},
     {0}},
    {"block component with props",
     "::alert{type=\"info\" :n='1' flag .c #i}\nHi\n::\n",
     {"\"tag\":\"alert\"", "\"type\":\"info\"", "\":n\":\"1\"", "\"flag\":\"\"",
      "\":flag\":\"true\"", "\"className\":[\"c\"]", "\"id\":\"i\""},
     {0}},
    {"component props sorted, a handler among them still removed",
     "::c{z=\"1\" onclick=\"x\" a=\"2\" flag}\nx\n::\n\n:d{y=\"1\" onload=\"x\" b=\"2\"}\n",
     {"\"props\":{\":flag\":\"true\",\"a\":\"2\",\"flag\":\"\",\"z\":\"1\"}",
      "\"props\":{\"b\":\"2\",\"y\":\"1\"}"},
     {"onclick", "onload"}},
    {"nested components and slots",
     "::a\n:::b\nx\n:::\n#s\ny\n::\n",
     {"\"tag\":\"b\"", "\"v-slot:s\":\"\"", "\"tag\":\"template\""},
     {0}},
    {"component yaml props",
     "::c\n---\nicon: star\nsize: 2\n---\nx\n::\n",
     {"\"icon\":\"star\"", "\":size\":\"2\""},
     {0}},
    {"inline component and span",
     "x :badge[New]{color=\"a\"} [s]{.r} `c`{lang=\"ts\"}",
     {"\"tag\":\"badge\"", "\"color\":\"a\"", "\"tag\":\"span\"", "\"className\":[\"r\"]",
      "\"language\":\"ts\""},
     {0}},
    {"escaped brackets stay text",
     "\\[not a span\\]",
     {"\"value\":\"[not a span]\""},
     {"\"span\""}},
    {"raw HTML wraps markdown",
     "<div class=\"x\">\n\n# In\n\n</div>\n",
     {"\"tag\":\"div\",\"props\":{\"className\":[\"x\"]},\"children\":[{\"type\":\"element\","
      "\"tag\":\"h1\""},
     {0}},
    {"script style iframe dropped",
     "<script>alert(1)</script>\n\n<style>x</style>\n\n"
     "<iframe src=x></iframe>\n\nok <object data=x></object>",
     {"\"value\":\"ok \""},
     {"\"tag\":\"script\"", "\"tag\":\"style\"", "\"tag\":\"iframe\"", "\"tag\":\"object\""}},
    {"event handlers and bad URLs dropped",
     "<img src=x onerror=alert(1)> [a](javascript:alert(1)) <a href=\"vbscript:x\">v</a> "
     "![i](data:image/png;base64,AA) [d](data:text/html,x) <a href=\" java\tscript:x\">t</a>",
     {"\"src\":\"data:image/png;base64,AA\""},
     {"onerror", "javascript", "vbscript", "text/html"}},
    {"bound URL props checked",
     "::c{:href='\"javascript:alert(1)\"' :onclick='x'}\n::\n",
     {"\"tag\":\"c\""},
     {"javascript", "onclick"}},
    {"invalid UTF-8 replaced",
     "a\xff\xfe b\xc3\x28 c",
     {"\"value\":\"a\xEF\xBF\xBD\xEF\xBF\xBD b\xEF\xBF\xBD( c\""},
     {0}},
    {"toc nests h3 under h2",
     "## A\n### B\n## C\n",
     {"\"links\":[{\"id\":\"a\",\"depth\":2,\"text\":\"A\",\"children\":[{\"id\":\"b\",\"depth\":"
      "3"},
     {0}},
    {"toc false drops it", "---\ntoc: false\n---\n## A\n", {"\"body\""}, {"\"toc\":{"}},
    {"style with a script URL is dropped",
     "<span style=\"background: url(javascript:alert(1))\">a</span> "
     "<b style=\"width: expression(alert(1))\">b</b> "
     "<i style=\"background:url('\\6a avascript:x')\">c</i> [d]{style=\"x: url(vbscript:y)\"}",
     {"\"tag\":\"span\",\"props\":{}", "\"tag\":\"b\",\"props\":{}", "\"tag\":\"i\",\"props\":{}",
      "\"value\":\"d\""},
     {"style", "javascript", "expression", "vbscript"}},
    {"harmless style is kept",
     "<span style=\"color: red; background: url(/a.png)\">a</span>",
     {"\"style\":\"color: red; background: url(/a.png)\""},
     {0}},
    /* found by fuzzing: a JSON integer past 2^63 that jansson could not read */
    {"huge integers in exponent form",
     "---\nn: 00000000000000000000000017346883632987977728\n"
     "m: 9223372036854775807\nk: 1.5e300\n---\n",
     {"\"n\":1.7346883632987978e+19", "\"m\":9.223372036854776e+18", "\"k\":1.5e+300"},
     {"17346883632987977728"}},
    /* cmark_node_get_fenced() with NULL out-pointers crashed on these */
    {"closing line inside a fence in a component",
     "::note\n```\n::\n```\n::\n",
     {"\"tag\":\"note\"", "\"code\":\"::\\n\""},
     {0}},
    {"closing line after nested indented component",
     "::a\n  ::b\n    Text.\n  ::\n::\n",
     {"\"tag\":\"a\"", "\"tag\":\"b\"", "Text."},
     {0}},
};

static void render_case(void **state)
{
    const struct rcase *c = *state;
    char *json = NULL;
    size_t len = 0;
    md_error err;
    int rc = md_render(c->md, strlen(c->md), 0, &json, &len, &err);
    if (rc != MD_OK)
        fail_msg("%s: render failed: %s", c->name, err.message);
    assert_int_equal(strlen(json), len);
    for (int i = 0; i < 8 && c->want[i]; i++)
        if (!strstr(json, c->want[i]))
            fail_msg("%s: missing %s in %s", c->name, c->want[i], json);
    for (int i = 0; i < 4 && c->reject[i]; i++)
        if (strstr(json, c->reject[i]))
            fail_msg("%s: unexpected %s in %s", c->name, c->reject[i], json);
    free(json);
}

static void yaml_error_has_line(void **state)
{
    (void)state;
    const char *md = "---\ntitle: ok\nbad: [unclosed\nmore: x\n---\n# x\n";
    char *json = (char *)1;
    md_error err;
    int rc = md_render(md, strlen(md), 0, &json, NULL, &err);
    assert_int_equal(rc, MD_ERR_YAML);
    assert_null(json);
    assert_true(err.line >= 3 && err.line <= 5);
    assert_non_null(strstr(err.message, "front matter"));
}

static void yaml_alias_bomb_refused(void **state)
{
    (void)state;
    cmocka_set_message_output(CM_OUTPUT_STDOUT);
    char md[2048] = "---\na: &a [x,x,x,x,x,x,x,x,x,x]\n";
    const char *prev = "a";
    char names[][2] = {"b", "c", "d", "e", "f", "g"};
    for (int i = 0; i < 6; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", names[i],
                 names[i], prev, prev, prev, prev, prev, prev, prev, prev, prev, prev);
        strcat(md, line);
        prev = names[i];
    }
    strcat(md, "---\n");
    char *json = NULL;
    md_error err;
    assert_int_equal(md_render(md, strlen(md), 0, &json, NULL, &err), MD_ERR_YAML);
}

static void pretty_is_same_document(void **state)
{
    (void)state;
    const char *md = "# A\n\ntext with \"quotes\" and {braces}, [x]\n";
    char *a = NULL, *b = NULL;
    assert_int_equal(md_render(md, strlen(md), 0, &a, NULL, NULL), MD_OK);
    assert_int_equal(md_render(md, strlen(md), MD_PRETTY, &b, NULL, NULL), MD_OK);
    /* removing the layout whitespace outside strings gives the compact form */
    char *c = malloc(strlen(b) + 1), *o = c;
    int in_str = 0;
    for (const char *p = b; *p; p++) {
        if (in_str) {
            *o++ = *p;
            if (*p == '\\')
                *o++ = *++p;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
            *o++ = *p;
        } else if (*p != ' ' && *p != '\n') {
            *o++ = *p;
        }
    }
    *o = '\0';
    assert_string_equal(a, c);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    size_t n = sizeof cases / sizeof cases[0];
    struct CMUnitTest *tests = calloc(n + 3, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = render_case;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[n] = (struct CMUnitTest)cmocka_unit_test(yaml_error_has_line);
    tests[n + 1] = (struct CMUnitTest)cmocka_unit_test(yaml_alias_bomb_refused);
    tests[n + 2] = (struct CMUnitTest)cmocka_unit_test(pretty_is_same_document);
    int rc = _cmocka_run_group_tests("markdown", tests, n + 3, NULL, NULL);
    free(tests);
    return rc;
}
