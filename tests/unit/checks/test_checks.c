/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the checks, data-driven: each case is a small item (files
 * in memory, the item's kind and name, the options) and the exact text
 * chk_format_text() prints for its findings, in the order chk_run() sorts
 * them.  A clean case expects "".  Then the pieces that are not data: the
 * components list, a read that fails, the JSON shape, the text of a
 * server's findings, a document too deep for the AST walk.  Every case
 * also runs again on its facts stored and read back (chk_cache_export(),
 * chk_cache_import()): the same findings, and no file read.  The facts
 * cache has its own tests: test_checks_cache.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "checks_files.h"

#define INDEX(body) "---\ntitle: T\n---\n" body

typedef struct tcase {
    const char *name;
    const char *kind, *item;
    tfile files[8];
    const char *components; /* the known list; NULL: not checked */
    int64_t max_size;       /* 0: the default */
    const char *want;       /* the text of the findings */
} tcase;

static const tcase cases[] = {
    {"a clean item has no findings",
     "course",
     "c",
     {{"index.md", "---\nkind: course\nname: c\ntitle: C\ncover: img/c.png\n"
                   "lessons: [01.md]\n---\n# C\n\n[one](01.md#part-two) [top](#c)\n"},
      {"01.md", "# One\n\n## Part two\n\n![x](../img/c.png)\n[back](./)\n[home](index)\n"},
      {"img/c.png", PNG}},
     NULL,
     0,
     ""},
    {"a link to a document that does not exist",
     NULL,
     NULL,
     {{"index.md", INDEX("# T\n\nsee\n[next](02-next.md) and [x](sub/)\n")}},
     NULL,
     0,
     "index.md:7: error: link to 02-next.md: there is no such document in this item "
     "[broken-link]\n"
     "index.md:7: error: link to sub/: there is no such document in this item (looked for "
     "sub/index.md) [broken-link]\n"},
    {"a link without .md finds the document, one with a wrong name does not",
     NULL,
     NULL,
     {{"index.md", INDEX("[a](lessons/one) [b](lessons/two)\n")}, {"lessons/one.md", "# One\n"}},
     NULL,
     0,
     "index.md:4: error: link to lessons/two: there is no such document or file in this item "
     "[broken-link]\n"},
    {"a broken anchor names the id the renderer made; <a name> is a target",
     NULL,
     NULL,
     {{"index.md", INDEX("## 8-bit themes\n\n<a name=\"old-place\"></a>\n\n"
                         "[a](#8-bit-themes) [b](#old-place)\n")}},
     NULL,
     0,
     "index.md:8: error: link to #8-bit-themes: this document has no heading with that id "
     "(the renderer's id is '_8-bit-themes') [broken-anchor]\n"},
    {"anchors: in this document and another, ids as the renderer makes them",
     NULL,
     NULL,
     {{"index.md",
       INDEX("# Hello World\n\n[a](#hello-world) [b](#nope)\n\n"
             "[c](other.md#ünï-code) [d](other.md#gone) [e](other.md#%C3%BCn%C3%AF-code)\n")},
      {"other.md", "# Other\n\n## Ünï code\n"}},
     NULL,
     0,
     "index.md:6: error: link to #nope: this document has no heading with that id "
     "[broken-anchor]\n"
     "index.md:8: error: link to other.md#gone: other.md has no heading with the id 'gone' "
     "[broken-anchor]\n"},
    {"footnote links are not broken anchors",
     NULL,
     NULL,
     {{"index.md", INDEX("a[^1]\n\n[^1]: note\n")}},
     NULL,
     0,
     ""},
    {"URLs, site paths and paths out of the item are not checked",
     NULL,
     NULL,
     {{"index.md", INDEX("[a](https://x.org/a.md) [b](/docs/x.md) [c](../other/x.md) "
                         "[d](mailto:a@b.c) ![e](data:image/png;base64,AAAA)\n")}},
     NULL,
     0,
     ""},
    {"a missing image, in markdown and in raw HTML",
     NULL,
     NULL,
     {{"index.md", INDEX("![a](img/a.png)\n\n<img src=\"img/b.png\">\n\n![ok](img/ok.png)\n")},
      {"img/ok.png", PNG}},
     NULL,
     0,
     "index.md:4: error: image img/a.png: there is no such file in this item [missing-asset]\n"
     "index.md:6: error: image img/b.png: there is no such file in this item "
     "[missing-asset]\n"},
    {"a link to a missing download is a missing asset",
     NULL,
     NULL,
     {{"index.md", INDEX("[slides](files/slides.pdf)\n")}},
     NULL,
     0,
     "index.md:4: error: link to files/slides.pdf: there is no such file in this item "
     "[missing-asset]\n"},
    {"an image of a lesson in a folder resolves from that folder",
     NULL,
     NULL,
     {{"index.md", INDEX("[l](lessons/a.md)\n")},
      {"lessons/a.md", "# A\n\n![x](img/x.png) ![y](../img/x.png)\n"},
      {"img/x.png", PNG}},
     NULL,
     0,
     "lessons/a.md:3: error: image img/x.png: there is no such file in this item (looked for "
     "lessons/img/x.png) [missing-asset]\n"},
    {"front matter file references",
     "challenge",
     "ch",
     {{"index.md", "---\nkind: challenge\nname: ch\ntitle: T\ncover: __static__/cover.png\n"
                   "meta:\n  og_image: __static__/og.webp\nplayground: docker\n"
                   "version: v1.2\nsee: https://x.org/a.png\n---\nx\n"},
      {"__static__/og.webp", WEBP}},
     NULL,
     0,
     "index.md:5: error: 'cover' in the front matter names __static__/cover.png: there is no "
     "such file in this item [missing-asset]\n"},
    {"a lesson list naming a missing lesson",
     "course",
     NULL,
     {{"index.md", "---\ntitle: T\nlessons:\n  - 01.md\n  - 02.md\n---\n[1](01.md)\n"},
      {"01.md", "# One\n"}},
     NULL,
     0,
     "index.md:5: error: 'lessons' in the front matter names 02.md: there is no such document "
     "in this item [broken-link]\n"},
    {"component props that name files",
     NULL,
     NULL,
     {{"index.md", INDEX("::card{image=\"img/card.png\" title=\"x.png is here\"}\nx\n::\n\n"
                         ":badge{src=\"img/ok.svg\"}\n")},
      {"img/ok.svg", SVG}},
     NULL,
     0,
     "index.md:4: error: component card: its image names img/card.png: there is no such file "
     "in this item [missing-asset]\n"},
    {"assets nobody refers to; dot files and paths named in the text are used",
     NULL,
     NULL,
     {{"index.md", INDEX("```sh\nbash scripts/setup.sh\n```\n")},
      {"scripts/setup.sh", "echo"},
      {"img/old.png", PNG},
      {".contentignore", "*.bak\n"}},
     NULL,
     0,
     "img/old.png: warning: no document refers to this file: link it, or leave it out of the "
     "item [unused-asset]\n"},
    {"files over the size limit",
     NULL,
     NULL,
     {{"index.md", INDEX("[a](a.pdf) [b](b.pdf)\n")},
      {"a.pdf", "1234567890123456789012345678901234567890123456789012345"},
      {"b.pdf", "12345678901234567890123456789012345678901234567890"}},
     NULL,
     50,
     "a.pdf: warning: this file is 55 bytes, over the limit of 50 bytes [file-too-large]\n"},
    {"images whose bytes are another format, or none",
     NULL,
     NULL,
     {{"index.md", INDEX("![](a.png) ![](b.jpg) ![](c.gif) ![](d.svg) ![](e.avif) ![](f.webp) "
                         "![](g.png)\n")},
      {"a.png", JPEG},
      {"b.jpg", PNG},
      {"c.gif", GIF},
      {"d.svg", "<html><body>no</body></html>"},
      {"e.avif", AVIF, sizeof AVIF - 1},
      {"f.webp", WEBP},
      {"g.png", ""}},
     NULL,
     0,
     "a.png: warning: this file is named .png but holds a JPEG image: rename it to .jpg "
     "[image-format-mismatch]\n"
     "b.jpg: warning: this file is named .jpg but holds a PNG image: rename it to .png "
     "[image-format-mismatch]\n"
     "d.svg: error: this is not a SVG image (nor any image format checked: PNG, JPEG, GIF, "
     "WebP, SVG, AVIF, ICO, BMP) [image-invalid]\n"
     "g.png: error: this image is empty: it shows as a broken image [image-invalid]\n"},
    {"kind and name disagreeing with the item",
     "tutorial",
     "hello",
     {{"index.md", "---\ntitle: T\nkind: course\nname: other\n---\n[l](l.md)\n"},
      {"l.md", "---\nkind: challenge\ntitle: L\n---\n"}},
     NULL,
     0,
     "index.md:3: error: front matter says kind: course, but this item is a tutorial "
     "[kind-mismatch]\n"
     "index.md:4: error: front matter says name: other, but this item is named hello "
     "[name-mismatch]\n"
     "l.md:2: error: front matter says kind: challenge, but this item is a tutorial "
     "[kind-mismatch]\n"},
    {"a kind that is no kind",
     NULL,
     NULL,
     {{"index.md", "---\ntitle: T\nkind: lesson\n---\n"}},
     NULL,
     0,
     "index.md:3: error: kind lesson is not a kind of content (tutorial, challenge, course, "
     "skill-path or roadmap) [kind-invalid]\n"},
    {"missing titles: an error for the item, a warning for a lesson",
     NULL,
     NULL,
     {{"index.md", "---\nkind: course\n---\ntext\n\n[l](l.md) [m](m.md)\n"},
      {"l.md", "no heading\n"},
      {"m.md", "# Derived from the heading\n"}},
     NULL,
     0,
     "index.md:1: error: the item has no title: add `title:` to its front matter "
     "[missing-title]\n"
     "l.md:1: warning: this document has no title: add `title:` to its front matter "
     "[missing-title]\n"},
    {"no index.md",
     NULL,
     NULL,
     {{"a.md", "# A\n"}},
     NULL,
     0,
     "index.md: error: the item has no index.md, its root document [missing-index]\n"},
    {"invalid front matter",
     NULL,
     NULL,
     {{"index.md", "---\ntitle: [unclosed\n---\n# T\n"}},
     NULL,
     0,
     NULL /* the renderer's message: checked below */},
    {"task needs: unknown and cyclic, map form",
     "challenge",
     NULL,
     {{"index.md", "---\ntitle: T\ntasks:\n  init_a:\n    needs: [verify_b]\n    run: echo\n"
                   "  verify_b:\n    needs:\n      - init_a\n      - nope\n"
                   "  verify_c:\n    needs: verify_c\n  ok:\n    needs: [init_a]\n---\n"}},
     NULL,
     0,
     "index.md:4: error: tasks need each other in a cycle (init_a → verify_b → init_a): none "
     "of them can ever start [task-cycle]\n"
     "index.md:10: error: task 'verify_b' needs 'nope', but there is no task of that name "
     "[task-unknown-need]\n"
     "index.md:11: error: tasks need each other in a cycle (verify_c → verify_c): none of "
     "them can ever start [task-cycle]\n"},
    {"task needs: list form, duplicates, a clean chain",
     "challenge",
     NULL,
     {{"index.md", "---\ntitle: T\ntasks:\n  - name: a\n    run: x\n  - name: b\n"
                   "    needs: [a]\n  - name: c\n    needs: [b, zz]\n  - name: a\n"
                   "  - run: nameless\n---\n"}},
     NULL,
     0,
     "index.md:3: error: task 5 has no name [tasks-invalid]\n"
     "index.md:9: error: task 'c' needs 'zz', but there is no task of that name "
     "[task-unknown-need]\n"
     "index.md:10: error: task 'a' is declared twice [tasks-invalid]\n"},
    {"tasks that are neither a map nor a list",
     NULL,
     NULL,
     {{"index.md", "---\ntitle: T\ntasks: 3\n---\n"}},
     NULL,
     0,
     "index.md:3: error: tasks must be a map of task names or a list of tasks "
     "[tasks-invalid]\n"},
    {"unknown components, with a list",
     NULL,
     NULL,
     {{"index.md",
       INDEX(
           "::note\nx\n::\n\n::MyCard\ny\n::\n\n::warnin\nz\n::\n\n"
           "inline :badge[new] here\n\n<my-widget>w</my-widget>\n\n<svg><path d=\"\"/></svg>\n")}},
     "note\n# comment\n  my-card  \nBadge\n",
     0,
     "index.md:12: error: unknown component 'warnin': it is not in the list of known "
     "components [unknown-component]\n"
     "index.md:18: error: unknown component 'my-widget': it is not in the list of known "
     "components [unknown-component]\n"},
    {"components are not checked without a list",
     NULL,
     NULL,
     {{"index.md", INDEX("::whatever\nx\n::\n")}},
     NULL,
     0,
     ""},
    {"an unclosed component and an unclosed fence",
     NULL,
     NULL,
     {{"index.md",
       INDEX("::outer\n:::inner\ntext\n:::\n\n::closed\nx\n::\n\n```js\nconst a = 1\n")}},
     NULL,
     0,
     "index.md:4: warning: component 'outer' is never closed: it takes in the rest of the file "
     "(close it with a line of 2 colons) [unclosed-component]\n"
     "index.md:13: warning: this code fence is never closed: the rest of the file is shown as "
     "code (close it with a line of 3 '`') [unclosed-fence]\n"},
    {"colons and fences inside code are code",
     NULL,
     NULL,
     {{"index.md", INDEX("````md\n::inside\n```\n````\n\n~~~\n::x\n~~~\n\n- item\n\n  ```\n  "
                         "code\n  ```\n")}},
     NULL,
     0,
     ""},
    {"a closing line closes everything open inside it",
     NULL,
     NULL,
     {{"index.md", INDEX("::a\n:::b\n::::c\n:::\n::\n")}},
     NULL,
     0,
     ""},
};

/* ---- the in-memory item ------------------------------------------------------- */

typedef struct mem {
    const tcase *tc;
    size_t fail_at; /* read of this index fails; SIZE_MAX: none */
    size_t reads;
} mem;

static int mem_read(void *arg, size_t index, size_t max, char **data, size_t *len, cd_err *err)
{
    mem *m = arg;
    if (index == m->fail_at)
        return cd_err_set(err, -1, "cannot read %s", m->tc->files[index].path);
    const tfile *f = &m->tc->files[index];
    m->reads++;
    size_t n = file_len(f) < max ? file_len(f) : max;
    *data = malloc(n + 1);
    memcpy(*data, f->data, n);
    *len = n;
    return 0;
}

static size_t nfiles(const tcase *tc)
{
    size_t n = 0;
    while (n < 8 && tc->files[n].path)
        n++;
    return n;
}

/* A stand-in SHA-256 of a file, for the facts cache's keys. */
static void fake_sha(const tfile *f, char out[65])
{
    uint64_t h = cd_hash_more(CD_HASH_SEED, f->data, file_len(f));
    snprintf(out, 65, "%016llx%048d", (unsigned long long)h, 0);
}

/* Runs tc with cache (NULL: none; the files then have no SHA-256);
 * returns the findings (json_decref them) and their text in *text, and
 * how many reads the run made in *reads (may be NULL). */
static json_t *run_cached(const tcase *tc, size_t fail_at, chk_cache *cache, int *rc, char **text,
                          size_t *reads, cd_err *err)
{
    chk_file files[8];
    char shas[8][65];
    size_t n = nfiles(tc);
    for (size_t i = 0; i < n; i++) {
        fake_sha(&tc->files[i], shas[i]);
        files[i] =
            (chk_file){tc->files[i].path, cache ? shas[i] : NULL, (int64_t)file_len(&tc->files[i])};
    }
    mem m = {tc, fail_at, 0};
    chk_item item = {tc->kind, tc->item, files, n, mem_read, &m};
    chk_components *known =
        tc->components ? chk_components_parse(tc->components, strlen(tc->components)) : NULL;
    chk_options o = {.components = known,
                     .max_file_size = tc->max_size ? tc->max_size : CHK_DEFAULT_MAX_FILE_SIZE,
                     .cache = cache};
    json_t *findings = NULL;
    *rc = chk_run(&item, &o, &findings, err);
    chk_components_free(known);
    cd_buf b = CD_BUF_INIT;
    if (findings)
        chk_format_text(findings, &b);
    *text = cd_buf_steal(&b, NULL);
    if (reads)
        *reads = m.reads;
    return findings;
}

static json_t *run_case(const tcase *tc, size_t fail_at, int *rc, char **text, cd_err *err)
{
    return run_cached(tc, fail_at, NULL, rc, text, NULL, err);
}

/* The facts a run left in from, as stored text (chk_cache_export()) and
 * read back into a new cache (chk_cache_import()), as a server does across
 * a restart. */
static chk_cache *stored_and_read_back(const tcase *tc, chk_cache *from)
{
    chk_cache *to = chk_cache_new(100);
    for (size_t i = 0; i < nfiles(tc); i++) {
        char sha[65];
        fake_sha(&tc->files[i], sha);
        json_t *j = chk_cache_export(from, sha, tc->files[i].path);
        assert_true(!j == !chk_file_has_facts(tc->files[i].path));
        char *stored = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        json_t *back = stored ? json_loads(stored, 0, NULL) : NULL;
        if (back)
            assert_int_equal(chk_cache_import(to, sha, tc->files[i].path, back), 0);
        json_decref(back);
        free(stored);
    }
    return to;
}

/* Runs tc cold and then on facts stored and read back: the same text,
 * and the second run reads no file. */
static void check_stored_facts(const tcase *tc, const char *cold)
{
    chk_cache *cache = chk_cache_new(100);
    int rc;
    char *first, *second;
    cd_err err;
    json_decref(run_cached(tc, SIZE_MAX, cache, &rc, &first, NULL, &err));
    assert_int_equal(rc, 0);
    assert_string_equal(first, cold);
    chk_cache *back = stored_and_read_back(tc, cache);
    size_t reads = 0;
    json_decref(run_cached(tc, SIZE_MAX, back, &rc, &second, &reads, &err));
    assert_int_equal(rc, 0);
    if (strcmp(second, cold) || reads)
        print_message("case: %s, from stored facts (%zu reads)\n--- cold\n%s--- got\n%s", tc->name,
                      reads, cold, second);
    assert_string_equal(second, cold);
    assert_int_equal(reads, 0);
    free(first);
    free(second);
    chk_cache_free(back);
    chk_cache_free(cache);
}

static void test_case(void **state)
{
    const tcase *tc = *state;
    int rc;
    char *text;
    cd_err err;
    json_t *f = run_case(tc, SIZE_MAX, &rc, &text, &err);
    assert_int_equal(rc, 0);
    if (tc->want) {
        if (strcmp(text, tc->want))
            print_message("case: %s\n--- want\n%s--- got\n%s", tc->name, tc->want, text);
        assert_string_equal(text, tc->want);
    }
    check_stored_facts(tc, text);
    free(text);
    json_decref(f);
}

/* ---- the rest ------------------------------------------------------------------ */

static const tcase *find_case(const char *name)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!strcmp(cases[i].name, name))
            return &cases[i];
    return NULL;
}

static void test_invalid_front_matter_names_the_line(void **state)
{
    (void)state;
    int rc;
    char *text;
    cd_err err;
    json_t *f = run_case(find_case("invalid front matter"), SIZE_MAX, &rc, &text, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(json_array_size(f), 1);
    json_t *one = json_array_get(f, 0);
    assert_string_equal(json_string_value(json_object_get(one, "code")), "frontmatter-invalid");
    assert_string_equal(json_string_value(json_object_get(one, "severity")), "error");
    assert_true(json_integer_value(json_object_get(one, "line")) >= 2);
    free(text);
    json_decref(f);
}

static void test_json_shape(void **state)
{
    (void)state;
    int rc;
    char *text;
    cd_err err;
    json_t *f =
        run_case(find_case("a link to a document that does not exist"), SIZE_MAX, &rc, &text, &err);
    assert_int_equal(json_array_size(f), 2);
    json_t *one = json_array_get(f, 0);
    assert_int_equal(json_object_size(one), 5);
    assert_string_equal(json_string_value(json_object_get(one, "path")), "index.md");
    assert_int_equal(json_integer_value(json_object_get(one, "line")), 7);
    assert_string_equal(json_string_value(json_object_get(one, "severity")), "error");
    assert_string_equal(json_string_value(json_object_get(one, "code")), "broken-link");
    assert_non_null(strstr(json_string_value(json_object_get(one, "message")), "02-next.md"));
    assert_int_equal(chk_count(f, "error"), 2);
    assert_int_equal(chk_count(f, "warning"), 0);
    free(text);
    json_decref(f);
}

static void test_read_failure_fails_the_run(void **state)
{
    (void)state;
    int rc;
    char *text;
    cd_err err;
    json_t *f = run_case(find_case("a clean item has no findings"), 2, &rc, &text, &err);
    assert_int_equal(rc, -1);
    assert_null(f);
    assert_non_null(strstr(err.msg, "img/c.png"));
    free(text);
}

static void test_components_names_match_as_nuxt_resolves_them(void **state)
{
    (void)state;
    const char list[] = "  MyCard\r\n#note\n\nprose-a\n";
    chk_components *c = chk_components_parse(list, sizeof list - 1);
    assert_true(chk_components_has(c, "my-card"));
    assert_true(chk_components_has(c, "mycard"));
    assert_true(chk_components_has(c, "prose-a"));
    assert_true(chk_components_has(c, "ProseA"));
    assert_false(chk_components_has(c, "note"));
    assert_false(chk_components_has(c, "card"));
    chk_components_free(c);
    chk_components *empty = chk_components_parse("", 0);
    assert_false(chk_components_has(empty, "x"));
    chk_components_free(empty);
}

static void test_text_of_a_servers_findings(void **state)
{
    (void)state;
    json_t *f = json_loads("[{\"path\":\"a\\nb.md\",\"line\":3,\"severity\":\"warning\","
                           "\"code\":\"x\",\"message\":\"m\"},"
                           "{\"path\":\"c.png\",\"line\":0,\"severity\":\"error\","
                           "\"code\":\"y\",\"message\":\"n\"}, 7, {\"line\":1}]",
                           0, NULL);
    cd_buf b = CD_BUF_INIT;
    chk_format_text(f, &b);
    assert_string_equal(b.data, "a\\x0ab.md:3: warning: m [x]\nc.png: error: n [y]\n");
    cd_buf_free(&b);
    json_decref(f);
}

static void test_a_document_too_deep_to_walk(void **state)
{
    (void)state;
    /* deeper than jansson parses: the links are skipped, not the run */
    size_t depth = 5000;
    char *src = malloc(depth * 2 + 64);
    size_t n = (size_t)sprintf(src, "---\ntitle: T\n---\n");
    for (size_t i = 0; i < depth; i++)
        src[n++] = '>';
    n += (size_t)sprintf(src + n, " [x](gone.md)\n");
    tcase tc = {"deep", NULL, NULL, {{"index.md", src}}, NULL, 0, NULL};
    int rc;
    char *text;
    cd_err err;
    json_t *f = run_case(&tc, SIZE_MAX, &rc, &text, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(text, "index.md: warning: this document is nested too deeply for its "
                              "links to be checked [check-skipped]\n");
    free(text);
    free(src);
    json_decref(f);
}

int main(void)
{
    size_t n = sizeof cases / sizeof cases[0];
    struct CMUnitTest *tests = calloc(n + 6, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = test_case;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_invalid_front_matter_names_the_line);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_json_shape);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_read_failure_fails_the_run);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test(test_components_names_match_as_nuxt_resolves_them);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_text_of_a_servers_findings);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_a_document_too_deep_to_walk);
    int rc = _cmocka_run_group_tests("checks", tests, n, NULL, NULL);
    free(tests);
    return rc;
}
