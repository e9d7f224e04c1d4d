/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of rv_blocks(), on ASTs the renderer makes: data-driven cases
 * (markdown in, "INDEX KEY" lines out), the hash of a block against the
 * canonical JSON the AST documentation gives for its node, hashes that do
 * not depend on the JSON's spacing and follow an edit of one block only,
 * every file of tests/corpus and of the shared MDC corpus (keys unique,
 * one block per non-blank top-level node, in order), and hand-written ASTs
 * for what the renderer never writes (top-level text, a key taken twice)
 * and for input that is not an AST document.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "markdown.h"
#include "review.h"

/* Renders src (compact, or pretty) and returns the AST; fails the test
 * when the renderer refuses it.  The caller frees it with free(). */
static char *render(const char *src, size_t len, unsigned flags, size_t *out_len)
{
    char *json = NULL;
    md_error err;
    assert_int_equal(md_render(src, len, flags, &json, out_len, &err), MD_OK);
    return json;
}

/* The blocks as "INDEX KEY\n" lines. */
static char *describe(const rv_block *b, size_t n)
{
    cd_buf out = CD_BUF_INIT;
    cd_buf_puts(&out, "");
    for (size_t i = 0; i < n; i++)
        cd_buf_printf(&out, "%zu %s\n", b[i].index, b[i].key);
    return cd_buf_steal(&out, NULL);
}

typedef struct kcase {
    const char *name, *markdown, *want;
} kcase;

static const kcase key_cases[] = {
    {"blocks before the first heading are in section top, then each heading opens its own",
     "Lead.\n\n# Intro\n\nOne.\n\nTwo.\n\n## Setup\n\n- a\n- b\n\n```sh\nx\n```\n\nThree.\n",
     "0 top/p-1\n1 intro\n2 intro/p-1\n3 intro/p-2\n4 setup\n5 setup/ul-1\n6 setup/pre-1\n"
     "7 setup/p-1\n"},
    {"each tag counts on its own within a section", "a\n\n---\n\nb\n\n> q\n\nc\n",
     "0 top/p-1\n1 top/hr-1\n2 top/p-2\n3 top/blockquote-1\n4 top/p-3\n"},
    {"a component is a block named by its tag",
     "# A\n\n::alert\nHi\n::\n\n::alert\nHo\n::\n\n::card\nX\n::\n",
     "0 a\n1 a/alert-1\n2 a/alert-2\n3 a/card-1\n"},
    {"repeated heading text: the renderer's ids are unique, and so are the keys",
     "## Step\n\nx\n\n## Step\n\ny\n", "0 step\n1 step/p-1\n2 step-1\n3 step-1/p-1\n"},
    {"an id repeated in raw HTML gets -2 in its key, and its section follows",
     "<h2 id=\"dup\">A</h2>\n\nx\n\n<h2 id=\"dup\">B</h2>\n\ny\n",
     "0 dup\n1 dup/p-1\n2 dup-2\n3 dup-2/p-1\n"},
    {"an empty document has no blocks", "---\ntitle: T\n---\n", ""},
};

static void test_keys(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof key_cases / sizeof key_cases[0]; c++) {
        const kcase *k = &key_cases[c];
        size_t len;
        char *ast = render(k->markdown, strlen(k->markdown), 0, &len);
        rv_block *b;
        size_t n;
        assert_int_equal(rv_blocks(ast, len, &b, &n), RV_OK);
        char *got = describe(b, n);
        if (strcmp(got, k->want) != 0)
            fail_msg("%s:\n--- want\n%s--- got\n%s", k->name, k->want, got);
        free(got);
        rv_blocks_free(b, n);
        free(ast);
    }
}

/* The hash is the SHA-256 of the node's compact JSON, object keys in the
 * order docs/ast.md writes them. */
static void test_hash_is_of_canonical_json(void **state)
{
    (void)state;
    const char *md = "# T\n\nHello *you*.\n";
    size_t len;
    char *ast = render(md, strlen(md), MD_PRETTY, &len);
    rv_block *b;
    size_t n;
    assert_int_equal(rv_blocks(ast, len, &b, &n), RV_OK);
    assert_int_equal(n, 2);
    const char *h1 = "{\"type\":\"element\",\"tag\":\"h1\",\"props\":{\"id\":\"t\"},"
                     "\"children\":[{\"type\":\"text\",\"value\":\"T\"}]}";
    const char *p = "{\"type\":\"element\",\"tag\":\"p\",\"props\":{},\"children\":["
                    "{\"type\":\"text\",\"value\":\"Hello \"},"
                    "{\"type\":\"element\",\"tag\":\"em\",\"props\":{},\"children\":"
                    "[{\"type\":\"text\",\"value\":\"you\"}]},"
                    "{\"type\":\"text\",\"value\":\".\"}]}";
    char want[CD_SHA256_HEX];
    cd_sha256_hex(h1, strlen(h1), want);
    assert_string_equal(b[0].hash, want);
    cd_sha256_hex(p, strlen(p), want);
    assert_string_equal(b[1].hash, want);
    rv_blocks_free(b, n);
    free(ast);
}

/* Editing one paragraph changes that block's hash and nothing else. */
static void test_edit_changes_one_hash(void **state)
{
    (void)state;
    const char *v1 = "# Intro\n\nOne.\n\nTwo.\n\n## Next\n\nThree.\n";
    const char *v2 = "# Intro\n\nOne.\n\nTwo, edited.\n\n## Next\n\nThree.\n";
    size_t l1, l2;
    char *a1 = render(v1, strlen(v1), 0, &l1), *a2 = render(v2, strlen(v2), 0, &l2);
    rv_block *b1, *b2;
    size_t n1, n2;
    assert_int_equal(rv_blocks(a1, l1, &b1, &n1), RV_OK);
    assert_int_equal(rv_blocks(a2, l2, &b2, &n2), RV_OK);
    assert_int_equal(n1, 5);
    assert_int_equal(n2, 5);
    for (size_t i = 0; i < n1; i++) {
        assert_string_equal(b1[i].key, b2[i].key);
        if (strcmp(b1[i].key, "intro/p-2") == 0)
            assert_string_not_equal(b1[i].hash, b2[i].hash);
        else
            assert_string_equal(b1[i].hash, b2[i].hash);
    }
    rv_blocks_free(b1, n1);
    rv_blocks_free(b2, n2);
    free(a1);
    free(a2);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    cd_buf b = CD_BUF_INIT;
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        cd_buf_append(&b, chunk, got);
    fclose(f);
    cd_buf_puts(&b, "");
    return cd_buf_steal(&b, len);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The properties every document's blocks have, checked against the AST
 * itself: one block per top-level node that is not blank text, in order,
 * keys unique, a heading's key its id (when the id is not taken), any
 * other key ending in "/TAG-N"; and the same hashes from the pretty JSON. */
static void check_document(const char *path, const char *src, size_t len)
{
    size_t al, pl;
    char *ast = NULL, *pretty = NULL;
    md_error err;
    if (md_render(src, len, 0, &ast, &al, &err) != MD_OK)
        return; /* invalid front matter: not a document the server keeps */
    pretty = render(src, len, MD_PRETTY, &pl);
    rv_block *b, *pb;
    size_t n, pn;
    assert_int_equal(rv_blocks(ast, al, &b, &n), RV_OK);
    assert_int_equal(rv_blocks(pretty, pl, &pb, &pn), RV_OK);
    assert_int_equal(n, pn);
    json_t *doc = json_loadb(ast, al, 0, NULL);
    assert_non_null(doc);
    json_t *children = json_object_get(json_object_get(doc, "body"), "children");
    size_t blocks = 0;
    for (size_t i = 0; i < json_array_size(children); i++) {
        json_t *c = json_array_get(children, i);
        const char *v = json_string_value(json_object_get(c, "value"));
        if (v && strspn(v, " \t\n\r\f\v") == strlen(v))
            continue;
        assert_true(blocks < n);
        if (b[blocks].index != i)
            fail_msg("%s: block %zu has index %zu, want %zu", path, blocks, b[blocks].index, i);
        const char *tag = json_string_value(json_object_get(c, "tag"));
        const char *id = json_string_value(json_object_get(json_object_get(c, "props"), "id"));
        bool heading = tag && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6' && !tag[2];
        if (heading && id && *id) {
            assert_true(strncmp(b[blocks].key, id, strlen(id)) == 0);
        } else {
            char suffix[128];
            snprintf(suffix, sizeof suffix, "/%s-", tag ? tag : "text");
            if (!strstr(b[blocks].key, suffix))
                fail_msg("%s: key %s of a %s", path, b[blocks].key, tag ? tag : "text");
        }
        assert_string_equal(b[blocks].key, pb[blocks].key);
        assert_string_equal(b[blocks].hash, pb[blocks].hash);
        assert_int_equal(strlen(b[blocks].hash), 64);
        blocks++;
    }
    assert_int_equal(blocks, n);
    char **keys = n ? cd_xcalloc(n, sizeof *keys) : NULL;
    for (size_t i = 0; i < n; i++)
        keys[i] = b[i].key;
    if (n)
        qsort(keys, n, sizeof *keys, cmp_key);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            fail_msg("%s: key %s twice", path, keys[i]);
    free(keys);
    json_decref(doc);
    rv_blocks_free(b, n);
    rv_blocks_free(pb, pn);
    free(ast);
    free(pretty);
}

/* Checks every .md file of dir; returns how many there were. */
static size_t check_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 4 || strcmp(e->d_name + nl - 3, ".md") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *src = read_file(path, &len);
        check_document(path, src, len);
        free(src);
        count++;
    }
    closedir(d);
    return count;
}

static void test_project_corpus(void **state)
{
    (void)state;
    assert_true(check_corpus(CORPUS_DIR) > 10);
}

/* Run only where the shared corpus is (main() says when it is not). */
static void test_mdc_corpus(void **state)
{
    (void)state;
    assert_true(check_corpus(MDC_CORPUS_DIR) > 10);
}

static bool have_mdc_corpus(void)
{
    DIR *d = opendir(MDC_CORPUS_DIR);
    if (d)
        closedir(d);
    return d != NULL;
}

static char *blocks_of(const char *json)
{
    rv_block *b;
    size_t n;
    assert_int_equal(rv_blocks(json, strlen(json), &b, &n), RV_OK);
    char *got = describe(b, n);
    rv_blocks_free(b, n);
    return got;
}

/* What the renderer does not write but the definition covers. */
static void test_hand_written(void **state)
{
    (void)state;
    char *got = blocks_of("{\"body\":{\"type\":\"root\",\"children\":["
                          "{\"type\":\"text\",\"value\":\"\\n \\t\"},"
                          "{\"type\":\"text\",\"value\":\"loose\"},"
                          "{\"type\":\"element\",\"tag\":\"p\",\"props\":{},\"children\":[]},"
                          "{\"type\":\"element\",\"tag\":\"h2\",\"props\":{\"id\":\"top/p-1\"},"
                          "\"children\":[]},"
                          "{\"type\":\"element\",\"tag\":\"h3\",\"props\":{},\"children\":[]},"
                          "{\"type\":\"text\",\"value\":\"more\"}]}}");
    assert_string_equal(got, "1 top/text-1\n2 top/p-1\n3 top/p-1-2\n4 top/p-1-2/h3-1\n"
                             "5 top/p-1-2/text-1\n");
    free(got);
}

static void test_not_an_ast(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "not json",
                         "[]",
                         "{\"body\":{}}",
                         "{\"body\":{\"children\":{}}}",
                         "{\"body\":{\"children\":[1]}}",
                         "{\"body\":{\"children\":[{}, \"x\"]}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rv_block *b = (rv_block *)1;
        size_t n = 7;
        assert_int_equal(rv_blocks(bad[i], strlen(bad[i]), &b, &n), RV_ERR_INPUT);
        assert_null(b);
        assert_int_equal(n, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_hash_is_of_canonical_json),
        cmocka_unit_test(test_edit_changes_one_hash),
        cmocka_unit_test(test_project_corpus),
        cmocka_unit_test(test_hand_written),
        cmocka_unit_test(test_not_an_ast),
        cmocka_unit_test(test_mdc_corpus), /* last: left out without the corpus */
    };
    size_t n = sizeof tests / sizeof *tests;
    /* cmocka reports a skipped test as "not ok # SKIP", which meson counts
     * as a failure: without the corpus the test is left out, saying why. */
    if (!have_mdc_corpus()) {
        printf("# skipped test_mdc_corpus: the shared MDC corpus is not at %s\n", MDC_CORPUS_DIR);
        n--;
    }
    return _cmocka_run_group_tests("tests", tests, n, NULL, NULL);
}
