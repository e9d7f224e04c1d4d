/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the diff between two versions: data-driven block cases
 * (two markdown texts in, the ops as "OP KEY INDEX[ at AT]" lines out, on ASTs the
 * renderer makes), then rv_diff_json() over two file lists with documents
 * and assets, and a failing read of blocks.
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
#include "review.h"

static void blocks_of_md(const char *md, rv_block **b, size_t *n)
{
    char *json = NULL;
    size_t len;
    md_error err;
    assert_int_equal(md_render(md, strlen(md), 0, &json, &len, &err), MD_OK);
    assert_int_equal(rv_blocks(json, len, b, n), RV_OK);
    free(json);
}

typedef struct dcase {
    const char *name, *from, *to, *want;
} dcase;

static const dcase cases[] = {
    {"one paragraph changed, one added", "# A\n\nOne.\n\nTwo.\n", "# A\n\nOne!\n\nTwo.\n\nThree.\n",
     "changed a/p-1 1\nadded a/p-3 3\n"},
    {"a paragraph put first in its section renumbers the others, which are unchanged",
     "# A\n\nOne.\n\nTwo.\n", "# A\n\nZero.\n\nOne.\n\nTwo.\n", "added a/p-1 1\n"},
    {"a paragraph taken out: removed, with its index in the older document",
     "# A\n\nOne.\n\nTwo.\n\nThree.\n", "# A\n\nOne.\n\nThree.\n", "removed a/p-2 2 at 2\n"},
    {"a renamed heading is a removed block and an added one; its paragraph moved unchanged",
     "# A\n\nx\n\n## B\n\ny\n", "# A\n\nx\n\n## C\n\ny\n", "added c 2\nremoved b 2 at 3\n"},
    {"two sections swapped: every block is still there, unchanged", "## A\n\nx\n\n## B\n\ny\n",
     "## B\n\ny\n\n## A\n\nx\n", ""},
    {"removed blocks stand where they were among the others", "# A\n\n1\n\n2\n\n3\n\n4\n",
     "# A\n\n1\n\n3\n\n5\n", "removed a/p-2 2 at 2\nadded a/p-3 3\nremoved a/p-4 4 at 4\n"},
    {"the same text", "# A\n\nx\n", "# A\n\nx\n", ""},
    {"everything new", "", "# A\n\nx\n", "added a 0\nadded a/p-1 1\n"},
};

/* " at N": where a removed block stood in the newer document. */
static const char *at_text(size_t at)
{
    static char buf[32];
    snprintf(buf, sizeof buf, " at %zu", at);
    return buf;
}

static void test_block_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rv_block *a, *b;
        size_t na, nb, n;
        blocks_of_md(cases[c].from, &a, &na);
        blocks_of_md(cases[c].to, &b, &nb);
        rv_op *ops;
        rv_diff_blocks(a, na, b, nb, &ops, &n);
        cd_buf got = CD_BUF_INIT;
        cd_buf_puts(&got, "");
        for (size_t k = 0; k < n; k++)
            cd_buf_printf(&got, "%s %s %zu%s\n", rv_op_name(ops[k].op), ops[k].key, ops[k].index,
                          ops[k].op == RV_OP_REMOVED ? at_text(ops[k].at) : "");
        if (strcmp(got.data, cases[c].want) != 0)
            fail_msg("%s:\n--- want\n%s--- got\n%s", cases[c].name, cases[c].want, got.data);
        cd_buf_free(&got);
        free(ops);
        rv_blocks_free(a, na);
        rv_blocks_free(b, nb);
    }
}

/* The files' "sha256" here names a markdown text of this table. */
static const char *const texts[][2] = {
    {"s-index-1", "# Course\n\nIntro.\n"},
    {"s-index-2", "# Course\n\nIntro, longer.\n"},
    {"s-old", "# Old\n"},
    {"s-new", "# New\n\nText.\n"},
    {"s-same", "# Same\n"},
};

static int blocks_from_table(void *arg, const char *path, const char *sha256, rv_block **out,
                             size_t *n, cd_err *err)
{
    int *calls = arg;
    (*calls)++;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (strcmp(texts[i][0], sha256) == 0) {
            blocks_of_md(texts[i][1], out, n);
            return 0;
        }
    return cd_err_set(err, -5, "%s: no such blob %s", path, sha256);
}

static void test_json(void **state)
{
    (void)state;
    const rv_file v1[] = {{"img/a.png", "p1"}, {"img/gone.png", "p2"}, {"index.md", "s-index-1"},
                          {"old.md", "s-old"}, {"same.md", "s-same"},  {"z.css", "c1"}};
    const rv_file v3[] = {{"img/a.png", "p1b"}, {"img/new.png", "p3"}, {"index.md", "s-index-2"},
                          {"new.md", "s-new"},  {"same.md", "s-same"}, {"z.css", "c1"}};
    cd_buf out = CD_BUF_INIT;
    cd_err err = {0};
    int calls = 0;
    assert_int_equal(rv_diff_json(1, v1, 6, 3, v3, 6, blocks_from_table, &calls, &out, &err), 0);
    assert_string_equal(
        out.data,
        "{\"from\":1,\"to\":3,\"documents\":{"
        "\"index.md\":{\"status\":\"changed\",\"blocks\":[{\"op\":\"changed\",\"key\":\"course/"
        "p-1\","
        "\"index\":1}]},"
        "\"new.md\":{\"status\":\"added\",\"blocks\":[{\"op\":\"added\",\"key\":\"new\",\"index\":"
        "0},"
        "{\"op\":\"added\",\"key\":\"new/p-1\",\"index\":1}]},"
        "\"old.md\":{\"status\":\"removed\",\"blocks\":[{\"op\":\"removed\",\"key\":\"old\","
        "\"index\":0}]},"
        "\"same.md\":{\"status\":\"unchanged\",\"blocks\":[]}},"
        "\"assets\":{\"added\":[\"img/new.png\"],\"removed\":[\"img/gone.png\"],"
        "\"changed\":[\"img/a.png\"]}}");
    assert_int_equal(calls, 4); /* an unchanged document is not read */
    cd_buf_free(&out);
}

static void test_json_nothing(void **state)
{
    (void)state;
    cd_buf out = CD_BUF_INIT;
    int calls = 0;
    assert_int_equal(rv_diff_json(2, NULL, 0, 2, NULL, 0, blocks_from_table, &calls, &out, NULL),
                     0);
    assert_string_equal(out.data, "{\"from\":2,\"to\":2,\"documents\":{},\"assets\":{\"added\":[],"
                                  "\"removed\":[],\"changed\":[]}}");
    cd_buf_free(&out);
}

static void test_json_read_fails(void **state)
{
    (void)state;
    const rv_file v1[] = {{"a.md", "s-old"}}, v2[] = {{"a.md", "missing"}};
    cd_buf out = CD_BUF_INIT;
    cd_err err = {0};
    int calls = 0;
    assert_int_equal(rv_diff_json(1, v1, 1, 2, v2, 1, blocks_from_table, &calls, &out, &err), -5);
    assert_string_equal(err.msg, "a.md: no such blob missing");
    cd_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_cases),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_nothing),
        cmocka_unit_test(test_json_read_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
