/* SPDX-License-Identifier: MIT */
/*
 * The AST as the checks read it (checks/ast.c): for documents of every
 * shape the renderer makes, chk_ast_load() gives what json_loadb() gives,
 * data whole and body pruned to each node's tag, props and children; and
 * it refuses what json_loadb() refuses for depth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks_int.h"
#include "markdown.h"

/* node with only tag, props and children, pruned the same way; NULL when
 * nothing is left. */
static json_t *pruned(json_t *node)
{
    if (!json_is_object(node))
        return NULL;
    json_t *out = json_object();
    json_t *tag = json_object_get(node, "tag"), *props = json_object_get(node, "props");
    if (tag && !json_is_object(tag) && !json_is_array(tag))
        json_object_set(out, "tag", tag);
    if (props)
        json_object_set(out, "props", props);
    json_t *kids = json_object_get(node, "children");
    if (json_is_array(kids)) {
        json_t *k = json_array();
        size_t i;
        json_t *child;
        json_array_foreach(kids, i, child)
        {
            json_t *p = pruned(child);
            if (p)
                json_array_append_new(k, p);
        }
        if (json_array_size(k))
            json_object_set_new(out, "children", k);
        else
            json_decref(k);
    }
    if (!json_object_size(out)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static void same_as_jansson(const char *md)
{
    char *json = NULL;
    size_t len = 0;
    md_error err;
    assert_int_equal(md_render(md, strlen(md), 0, &json, &len, &err), MD_OK);
    json_t *full = json_loadb(json, len, 0, NULL);
    assert_non_null(full);
    json_t *want = json_object();
    json_object_set(want, "data", json_object_get(full, "data"));
    json_t *body = pruned(json_object_get(full, "body"));
    if (body)
        json_object_set_new(want, "body", body);
    json_t *got = chk_ast_load(json, len);
    assert_non_null(got);
    if (!json_equal(got, want)) {
        char *a = json_dumps(want, JSON_COMPACT), *b = json_dumps(got, JSON_COMPACT);
        print_message("want %s\ngot  %s\n", a, b);
        free(a);
        free(b);
    }
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    json_decref(full);
    free(json);
}

static void test_documents(void **state)
{
    (void)state;
    static const char *docs[] = {
        "",
        "plain text only\n",
        "---\ntitle: T\nn: 3\nr: 2.5\nyes: true\nnone: null\nlist: [1, \"two\", {a: b}]\n"
        "nested: {x: {y: [z]}}\n---\n# T\n\nText with [a link](other.md#part) and "
        "![an image](img/a.png \"t\").\n",
        "## Step\n\n```python\ndef f():\n    return 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        "<a name=\"top\"></a>\n\n<video src=\"v.mp4\" poster=\"p.png\"></video>\n\n"
        "<svg><a href=\"x.md\"><text>in svg</text></a></svg>\n",
        "::my-card{src=\"card.png\" title=\"A \\\"quoted\\\" card\"}\nInside **bold** "
        "`code`\n::\n\n:inline-thing{href=\"x.md\"}\n",
        "Unicode é ✓ 𝄞, a footnote[^1].\n\n[^1]: The note, [linked](n.md).\n",
        "- [ ] task\n- [x] done\n\n> quote with <span id=\"s1\">an id</span>\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        same_as_jansson(docs[i]);
}

/* n arrays nested in the document's data. */
static char *nested(size_t n, size_t *len)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"data\":");
    for (size_t i = 0; i < n; i++)
        cd_buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++)
        cd_buf_putc(&b, ']');
    cd_buf_puts(&b, ",\"body\":{\"type\":\"root\",\"children\":[]}}");
    return cd_buf_steal(&b, len);
}

static void test_depth_as_jansson(void **state)
{
    (void)state;
    for (size_t n = JSON_PARSER_MAX_DEPTH - 3; n <= JSON_PARSER_MAX_DEPTH + 1; n++) {
        size_t len;
        char *s = nested(n, &len);
        json_t *a = json_loadb(s, len, 0, NULL), *b = chk_ast_load(s, len);
        assert_int_equal(a != NULL, b != NULL);
        if (n == JSON_PARSER_MAX_DEPTH - 3)
            assert_non_null(b);
        if (n == JSON_PARSER_MAX_DEPTH + 1)
            assert_null(b);
        json_decref(a);
        json_decref(b);
        free(s);
    }
    assert_null(chk_ast_load("{\"data\":", 8)); /* cut short */
    assert_null(chk_ast_load("[1,2]", 5));      /* not an AST document */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_depth_as_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
