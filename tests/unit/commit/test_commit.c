/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for commit/: the commit path on an embedded catalog and a
 * folder blob store in a temporary folder — a version is made only when
 * every blob is stored, against the current base, and an identical list
 * makes none; the render cache renders a document once; the checks' findings
 * come with the version, and a strict item refuses one with an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "commit.h"
#include "support.h"

typedef struct fixture {
    char dir[64];
    catalog *cat;
    blobstore *bs;
    commit_path *cp;
} fixture;

static int setup(void **state)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    ts_tmpdir(f->dir, sizeof f->dir, "commit");
    cd_err err = {0};
    f->cat = catalog_open_sqlite(f->dir, &err);
    f->bs = blobstore_open_fs(f->dir, &err);
    assert_non_null(f->cat);
    assert_non_null(f->bs);
    f->cp = commit_new(f->cat, f->bs, NULL, 1 << 20);
    catalog_item it = {.kind = "tutorial", .name = "hello", .owner = (char *)"alice"};
    assert_int_equal(catalog_item_create(f->cat, &it, &err), CAT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    commit_free(f->cp);
    blobstore_close(f->bs);
    catalog_close(f->cat);
    ts_rmtree(f->dir);
    free(f);
    return 0;
}

/* Stores text as a blob and fills file (path, digest, size). */
static void put(fixture *f, const char *path, const char *text, catalog_file *file)
{
    memset(file, 0, sizeof *file);
    file->path = cd_xstrdup(path);
    file->size = (int64_t)strlen(text);
    cd_sha256_hex(text, strlen(text), file->sha256);
    blob_writer *w = NULL;
    cd_err err = {0};
    assert_int_equal(blobstore_put_begin(f->bs, file->sha256, -1, &w, &err), BLOB_OK);
    assert_int_equal(blobstore_put_write(f->bs, w, text, strlen(text), &err), BLOB_OK);
    assert_int_equal(blobstore_put_finish(f->bs, w, &err), BLOB_OK);
}

/* Commits files on base into *res, which holds the previous result (or
 * zeroes): it is released first. */
static void run(fixture *f, int64_t base, catalog_file *files, size_t n, commit_result *res)
{
    commit_result_clear(res);
    commit_run(f->cp, "alice", "tutorial", "hello", base, files, n, res);
}

static void test_commit_path(void **state)
{
    fixture *f = *state;
    catalog_file files[2];
    put(f, "index.md", "---\ntitle: Hi\n---\n# Hello\n", &files[0]);
    memset(&files[1], 0, sizeof files[1]);
    files[1].path = cd_xstrdup("img.png");
    files[1].size = 3;
    memset(files[1].sha256, 'a', 64); /* never uploaded */
    commit_result res = {0};
    run(f, 0, files, 2, &res);
    assert_int_equal(res.status, COMMIT_MISSING_BLOBS);
    assert_non_null(strstr(res.missing.data, "aaaa"));
    /* commit_run sorted the list by path: the missing blob is first now. */
    assert_string_equal(files[0].path, "img.png");
    free(files[0].path);
    put(f, "img.png", "png", &files[0]);
    run(f, 0, files, 2, &res);
    assert_int_equal(res.status, COMMIT_OK);
    assert_true(res.created);
    assert_int_equal(res.version, 1);
    run(f, 0, files, 2, &res);
    assert_int_equal(res.status, COMMIT_CONFLICT);
    run(f, 1, files, 2, &res);
    assert_int_equal(res.status, COMMIT_OK);
    assert_false(res.created);
    assert_int_equal(res.version, 1);
    assert_int_equal(commit_count(f->cp, 0), 1); /* created */
    assert_int_equal(commit_count(f->cp, 1), 1); /* unchanged */
    assert_int_equal(commit_count(f->cp, 2), 1); /* conflict */
    assert_int_equal(commit_count(f->cp, 3), 1); /* missing_blobs */
    catalog_item it;
    cd_err err = {0};
    assert_int_equal(catalog_item_get(f->cat, "tutorial", "hello", &it, &err), CAT_OK);
    assert_string_equal(it.title, "Hi"); /* from the front matter */
    catalog_item_clear(&it);
    /* The document was rendered at commit time: the first get hits. */
    uint64_t hits, misses, bytes, entries;
    commit_render_stats(f->cp, &hits, &misses, &bytes, &entries);
    commit_ast *a = NULL;
    assert_int_equal(commit_render_get(f->cp, files[1].sha256, &a, &err), 0);
    assert_non_null(strstr(a->json, "\"tag\":\"h1\""));
    commit_ast_unref(a);
    uint64_t hits2;
    commit_render_stats(f->cp, &hits2, &misses, &bytes, &entries);
    assert_int_equal(hits2, hits + 1);
    assert_int_equal(entries, 1);
    commit_result_clear(&res);
    free(files[0].path);
    free(files[1].path);
}

/* The findings come with the version made (and with an unchanged list);
 * a strict item refuses a version with an error and makes none. */
static void test_checks_and_strict(void **state)
{
    fixture *f = *state;
    catalog_file files[1];
    put(f, "index.md", "# Hello\n\nSee [next](next.md).\n", &files[0]);
    commit_result res = {0};
    run(f, 0, files, 1, &res);
    assert_int_equal(res.status, COMMIT_OK);
    assert_non_null(strstr(res.checks.data, "\"code\":\"broken-link\""));
    /* The checks took the commit's rendering from the render cache. */
    uint64_t hits, misses, bytes, entries;
    commit_render_stats(f->cp, &hits, &misses, &bytes, &entries);
    assert_int_equal(misses, 1);
    assert_int_equal(hits, 1);
    run(f, 1, files, 1, &res); /* unchanged: the current version's findings */
    assert_false(res.created);
    assert_non_null(strstr(res.checks.data, "\"code\":\"broken-link\""));
    char *stored = NULL;
    cd_err err = {0};
    assert_int_equal(catalog_checks(f->cat, "tutorial", "hello", 1, &stored, &err), CAT_OK);
    assert_string_equal(stored, res.checks.data);
    free(stored);

    assert_int_equal(
        catalog_item_update(f->cat, "tutorial", "hello", NULL, -1, CAT_CHECKS_STRICT, &err),
        CAT_OK);
    free(files[0].path);
    put(f, "index.md", "# Hello\n\nSee [there](gone.md).\n", &files[0]);
    run(f, 1, files, 1, &res);
    assert_int_equal(res.status, COMMIT_CHECKS_FAILED);
    assert_string_equal(res.code, "checks_failed");
    assert_non_null(strstr(res.checks.data, "gone.md"));
    catalog_item it;
    assert_int_equal(catalog_item_get(f->cat, "tutorial", "hello", &it, &err), CAT_OK);
    assert_int_equal(it.version, 1); /* nothing committed */
    catalog_item_clear(&it);
    free(files[0].path);
    put(f, "index.md", "# Hello\n\nAll good.\n", &files[0]);
    run(f, 1, files, 1, &res);
    assert_int_equal(res.status, COMMIT_OK);
    assert_int_equal(res.version, 2);
    assert_string_equal(res.checks.data, "[]");
    commit_result_clear(&res);
    free(files[0].path);
}

/* A document the renderer refuses makes no version: 422 invalid_markdown,
 * with the renderer's reason, and COMMIT_RENDER_INVALID from the cache. */
static void test_invalid_markdown(void **state)
{
    fixture *f = *state;
    catalog_file file;
    put(f, "index.md", "---\ntitle: [unclosed\n---\n# x\n", &file);
    commit_result res = {0};
    run(f, 0, &file, 1, &res);
    assert_int_equal(res.status, COMMIT_UNACCEPTABLE);
    assert_string_equal(res.code, "invalid_markdown");
    assert_non_null(strstr(res.msg, "index.md cannot be rendered"));
    commit_ast *a = NULL;
    cd_err err = {0};
    assert_int_equal(commit_render_get(f->cp, file.sha256, &a, &err), COMMIT_RENDER_INVALID);
    assert_null(a);
    char absent[CD_SHA256_HEX];
    memset(absent, 'e', 64);
    absent[64] = '\0';
    assert_int_equal(commit_render_get(f->cp, absent, &a, &err), COMMIT_RENDER_UNREAD);
    assert_int_equal(err.code, COMMIT_RENDER_UNREAD); /* not the blob store's code */
    commit_result_clear(&res);
    free(file.path);
}

/* What leaves the commit path is its own status, in the return value and in
 * err->code alike, whichever store answered below it. */
static void test_own_statuses(void **state)
{
    fixture *f = *state;
    catalog_item it;
    cd_err err = {0};
    assert_int_equal(catalog_item_get(f->cat, "tutorial", "hello", &it, &err), CAT_OK);
    char *json = NULL;
    err.code = 0;
    assert_int_equal(commit_version_checks(f->cp, &it, 5, &json, &err), COMMIT_NOT_FOUND);
    assert_int_equal(err.code, COMMIT_NOT_FOUND);
    assert_null(json);
    assert_int_equal(commit_item_record(f->cp, &it, "T", CAT_PUBLIC, &err), COMMIT_OK);
    cd_buf b = CD_BUF_INIT;
    char *key = blobstore_item_key("tutorial", "hello");
    assert_int_equal(blobstore_get_object(f->bs, key, &b, &err), BLOB_OK);
    assert_non_null(strstr(b.data, "\"title\":\"T\""));
    free(key);
    cd_buf_free(&b);
    catalog_item_clear(&it);
}

/* A file rendered from its bytes before it is committed (serve --watch
 * reads index.md's front matter so) is not rendered again by the commit;
 * markdown that cannot be rendered is refused and nothing is cached. */
static void test_render_source_then_commit(void **state)
{
    fixture *f = *state;
    const char *text = "---\ntitle: Watched\n---\n# Saved\n";
    commit_ast *a = NULL;
    cd_err err = {0};
    assert_int_equal(commit_render_source(f->cp, text, strlen(text), &a, &err), COMMIT_RENDER_OK);
    assert_non_null(strstr(a->json, "\"title\":\"Watched\""));
    commit_ast_unref(a);
    uint64_t hits, misses, bytes, entries;
    commit_render_stats(f->cp, &hits, &misses, &bytes, &entries);
    assert_int_equal(misses, 1);
    catalog_file file;
    put(f, "index.md", text, &file);
    commit_result res = {0};
    run(f, 0, &file, 1, &res);
    assert_int_equal(res.status, COMMIT_OK);
    commit_render_stats(f->cp, &hits, &misses, &bytes, &entries);
    assert_int_equal(misses, 1); /* the commit found it rendered */
    assert_int_equal(entries, 1);
    const char *bad = "---\ntitle: [unclosed\n---\n# x\n";
    a = NULL;
    assert_int_equal(commit_render_source(f->cp, bad, strlen(bad), &a, &err),
                     COMMIT_RENDER_INVALID);
    assert_null(a);
    assert_true(err.msg[0] != '\0');
    commit_render_stats(f->cp, &hits, &misses, &bytes, &entries);
    assert_int_equal(entries, 1);
    commit_result_clear(&res);
    free(file.path);
}

/* The length of the AST of blob sha, rendered by cp. */
static size_t ast_len(commit_path *cp, const char *sha)
{
    commit_ast *a = NULL;
    cd_err err = {0};
    assert_int_equal(commit_render_get(cp, sha, &a, &err), COMMIT_RENDER_OK);
    size_t n = a->len;
    commit_ast_unref(a);
    return n;
}

/* The misses of cp's render cache after one more get of sha. */
static uint64_t misses_after_get(commit_path *cp, const char *sha)
{
    (void)ast_len(cp, sha);
    uint64_t hits, misses, bytes, entries;
    commit_render_stats(cp, &hits, &misses, &bytes, &entries);
    return misses;
}

/* Past its bound in bytes, the render cache drops the least recently used
 * AST first: a document read again is kept, the one left alone goes. */
static void test_render_cache_evicts_least_recent(void **state)
{
    fixture *f = *state;
    catalog_file d[3];
    put(f, "a.md", "# A\n\nThe first document.\n", &d[0]);
    put(f, "b.md", "# B\n\nThe second document.\n", &d[1]);
    put(f, "c.md", "# C\n\nThe third document.\n", &d[2]);
    size_t all =
        ast_len(f->cp, d[0].sha256) + ast_len(f->cp, d[1].sha256) + ast_len(f->cp, d[2].sha256);
    commit_path *cp = commit_new(f->cat, f->bs, NULL, all - 1); /* room for two */
    assert_int_equal(misses_after_get(cp, d[0].sha256), 1);
    assert_int_equal(misses_after_get(cp, d[1].sha256), 2);
    assert_int_equal(misses_after_get(cp, d[0].sha256), 2); /* a: the most recent */
    assert_int_equal(misses_after_get(cp, d[2].sha256), 3); /* c in, b out */
    assert_int_equal(misses_after_get(cp, d[0].sha256), 3);
    assert_int_equal(misses_after_get(cp, d[2].sha256), 3);
    assert_int_equal(misses_after_get(cp, d[1].sha256), 4); /* rendered again */
    uint64_t hits, misses, bytes, entries;
    commit_render_stats(cp, &hits, &misses, &bytes, &entries);
    assert_int_equal(entries, 2);
    assert_true(bytes <= all - 1);
    commit_free(cp);
    for (int i = 0; i < 3; i++)
        free(d[i].path);
}

/* A document queued with commit_warm_document() is rendered in the
 * background; the commit of a version holding it renders nothing. */
static void test_warmed_document_is_ready_for_the_commit(void **state)
{
    fixture *f = *state;
    catalog_file file;
    put(f, "index.md", "# Warm\n\n[gone](gone.md)\n", &file);
    assert_false(commit_warm_document(f->cp, file.sha256, "pic.png")); /* not markdown */
    assert_false(commit_warm_document(f->cp, "not-a-digest", "index.md"));
    assert_true(commit_warm_document(f->cp, file.sha256, "index.md"));
    commit_warm_wait(f->cp);
    uint64_t hits, misses, bytes, entries;
    commit_render_stats(f->cp, &hits, &misses, &bytes, &entries);
    assert_int_equal(misses, 1);
    assert_int_equal(entries, 1);
    commit_result res = {0};
    run(f, 0, &file, 1, &res);
    assert_int_equal(res.status, COMMIT_OK);
    assert_non_null(strstr(res.checks.data, "broken-link"));
    uint64_t misses2;
    commit_render_stats(f->cp, &hits, &misses2, &bytes, &entries);
    assert_int_equal(misses2, misses);
    commit_result_clear(&res);
    free(file.path);
}

/* A document's stub is {"title":data.title,"toc":toc} of its AST (made
 * with the render from the place of the toc the renderer gives). */
static void test_stub_is_title_and_toc(void **state)
{
    fixture *f = *state;
    const char *docs[] = {
        "---\ntitle: \"Quote \\\" and \\\\ and \\u00e9\"\n---\n## One\n\n### Two\n",
        "---\ntoc: false\n---\n# Hidden toc\n\n## A\n",
        "---\ntitle: 7\n---\n## Numbered title\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        catalog_file file;
        put(f, "s.md", docs[i], &file);
        commit_ast *a = NULL, *stub = NULL;
        cd_err err = {0};
        assert_int_equal(commit_stub_get(f->cp, file.sha256, &stub, &err), COMMIT_RENDER_OK);
        assert_int_equal(commit_render_get(f->cp, file.sha256, &a, &err), COMMIT_RENDER_OK);
        json_t *doc = json_loadb(a->json, a->len, 0, NULL);
        json_t *got = json_loadb(stub->json, stub->len, 0, NULL);
        assert_non_null(doc);
        assert_non_null(got);
        assert_int_equal(json_object_size(got), 2);
        json_t *title = json_object_get(json_object_get(doc, "data"), "title");
        assert_string_equal(json_string_value(json_object_get(got, "title")),
                            json_is_string(title) ? json_string_value(title) : "");
        json_t *toc = json_object_get(doc, "toc");
        assert_true(json_equal(json_object_get(got, "toc"), toc ? toc : json_null()));
        if (i == 0)
            assert_string_equal(json_string_value(json_object_get(got, "title")),
                                "Quote \" and \\ and \xc3\xa9");
        if (i == 1)
            assert_true(json_is_null(json_object_get(got, "toc")));
        json_decref(got);
        json_decref(doc);
        commit_ast_unref(stub);
        commit_ast_unref(a);
        free(file.path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checks_and_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_markdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_statuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_source_then_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_cache_evicts_least_recent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stub_is_title_and_toc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warmed_document_is_ready_for_the_commit, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
