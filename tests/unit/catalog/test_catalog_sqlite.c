/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the SQLite catalog (catalog/catalog_sqlite*.c) and the
 * shared helpers of catalog/catalog.c: the item life cycle, the commit
 * protocol (stale base, unchanged list, files_changed), history and old
 * file lists, persistence across reopening, stored findings, change
 * notifications, and concurrent commits from threads and from two handles
 * on one file.  Members, links, comments and tokens:
 * test_catalog_sqlite_access.c.
 * Every test works in a fresh temporary folder (catalog_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "catalog_fixture.h"
#include "change_log.h"

/* The content type of a path (kinds and names: tests/unit/common). */
static void test_content_type(void **state)
{
    assert_string_equal(catalog_content_type("img/a.PNG"), "image/png");
    assert_string_equal(catalog_content_type("index.md"), "text/markdown; charset=utf-8");
    assert_string_equal(catalog_content_type("a.md/file"), "application/octet-stream");
    assert_string_equal(catalog_content_type(".md"), "application/octet-stream");
    assert_string_equal(catalog_content_type("Makefile"), "application/octet-stream");
}

static void test_items(void **state)
{
    fixture *f = *state;
    catalog *c = f->c;
    cd_err err = {0, ""};
    assert_string_equal(catalog_door(c)->backend, "sqlite");
    assert_int_equal(catalog_ping(c, &err), CAT_OK);
    create(c, "tutorial", "zeta", "ann");
    create(c, "course", "alpha", "bob");
    create(c, "tutorial", "beta", "ann");
    catalog_item it = {.owner = (char *)"x"};
    strcpy(it.kind, "tutorial");
    strcpy(it.name, "beta");
    assert_int_equal(catalog_item_create(c, &it, &err), CAT_EXISTS);
    strcpy(it.kind, "blog");
    assert_int_equal(catalog_item_create(c, &it, &err), CAT_ERROR);
    strcpy(it.kind, "course");
    strcpy(it.name, "Bad");
    assert_int_equal(catalog_item_create(c, &it, &err), CAT_ERROR);

    catalog_item *items;
    size_t n;
    assert_int_equal(catalog_item_list(c, NULL, &items, &n, &err), CAT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].kind, "course");
    assert_string_equal(items[1].name, "beta");
    assert_string_equal(items[2].name, "zeta");
    assert_string_equal(items[2].owner, "ann");
    assert_int_equal(items[2].version, 0);
    assert_int_equal(items[2].visibility, CAT_PRIVATE);
    assert_true(items[2].created_at > 1600000000000);
    catalog_items_free(items, n);
    assert_int_equal(catalog_item_list(c, "tutorial", &items, &n, &err), CAT_OK);
    assert_int_equal(n, 2);
    catalog_items_free(items, n);

    assert_int_equal(catalog_item_update(c, "tutorial", "beta", "New", -1, -1, &err), CAT_OK);
    assert_int_equal(catalog_item_update(c, "tutorial", "beta", NULL, CAT_PUBLIC, -1, &err),
                     CAT_OK);
    assert_int_equal(catalog_item_update(c, "tutorial", "nope", "x", -1, -1, &err), CAT_NOT_FOUND);
    catalog_item got;
    assert_int_equal(catalog_item_get(c, "tutorial", "beta", &got, &err), CAT_OK);
    assert_string_equal(got.title, "New");
    assert_int_equal(got.visibility, CAT_PUBLIC);
    catalog_item_clear(&got);

    assert_int_equal(catalog_item_delete(c, "tutorial", "beta", &err), CAT_OK);
    assert_int_equal(catalog_item_get(c, "tutorial", "beta", &got, &err), CAT_NOT_FOUND);
    assert_non_null(strstr(err.msg, "tutorial/beta"));
    assert_int_equal(catalog_item_delete(c, "tutorial", "beta", &err), CAT_NOT_FOUND);
}

static void test_commits(void **state)
{
    fixture *f = *state;
    catalog *c = f->c;
    cd_err err = {0, ""};
    int64_t v;
    bool created;
    create(c, "tutorial", "hello", "ann");
    catalog_file v1[] = {file("index.md", 'a', 10), file("img/a.png", 'b', 20)};
    assert_int_equal(commit(c, "hello", 0, v1, 2, &v, &created), CAT_OK);
    assert_int_equal(v, 1);
    assert_true(created);
    /* A stale base. */
    assert_int_equal(commit(c, "hello", 0, v1, 1, &v, &created), CAT_CONFLICT);
    assert_false(created);
    /* The same list in another order: no new version. */
    catalog_file same[] = {v1[1], v1[0]};
    assert_int_equal(commit(c, "hello", 1, same, 2, &v, &created), CAT_OK);
    assert_int_equal(v, 1);
    assert_false(created);
    /* One changed, one removed, two added. */
    catalog_file v2[] = {file("index.md", 'c', 11), file("lesson.md", 'd', 1),
                         file("z/x.bin", 'e', 0)};
    assert_int_equal(
        catalog_commit(c, "tutorial", "hello", 1, v2, 3, "Hello", NULL, &v, &created, &err),
        CAT_OK);
    assert_int_equal(v, 2);
    assert_true(created);
    /* A changed size alone is a change. */
    catalog_file v3[] = {file("index.md", 'c', 12), file("lesson.md", 'd', 1),
                         file("z/x.bin", 'e', 0)};
    assert_int_equal(commit(c, "hello", 2, v3, 3, &v, &created), CAT_OK);
    assert_int_equal(v, 3);
    /* Everything removed is a version too. */
    assert_int_equal(commit(c, "hello", 3, NULL, 0, &v, &created), CAT_OK);
    assert_int_equal(v, 4);

    catalog_version *vs;
    size_t n;
    assert_int_equal(catalog_versions(c, "tutorial", "hello", &vs, &n, &err), CAT_OK);
    assert_int_equal(n, 4);
    int want[] = {2, 4, 1, 3};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(vs[i].version, (int64_t)i + 1);
        assert_int_equal(vs[i].files_changed, want[i]);
        assert_true(vs[i].created_at > 0);
    }
    free(vs);

    catalog_file *files;
    assert_int_equal(catalog_files(c, "tutorial", "hello", 1, &files, &n, &err), CAT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(files[0].path, "img/a.png");
    assert_string_equal(files[0].content_type, "image/png");
    assert_int_equal(files[0].size, 20);
    assert_memory_equal(files[0].sha256, v1[1].sha256, 65);
    assert_string_equal(files[1].path, "index.md");
    catalog_files_free(files, n);
    assert_int_equal(catalog_files(c, "tutorial", "hello", 3, &files, &n, &err), CAT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(files[2].path, "z/x.bin");
    assert_string_equal(files[2].content_type, "application/octet-stream");
    catalog_files_free(files, n);
    assert_int_equal(catalog_files(c, "tutorial", "hello", 0, &files, &n, &err), CAT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(catalog_files(c, "tutorial", "hello", 5, &files, &n, &err), CAT_NOT_FOUND);
    assert_null(files);
    assert_int_equal(catalog_files(c, "tutorial", "nope", 0, &files, &n, &err), CAT_NOT_FOUND);

    catalog_item it;
    assert_int_equal(catalog_item_get(c, "tutorial", "hello", &it, &err), CAT_OK);
    assert_int_equal(it.version, 4);
    assert_string_equal(it.title, "Hello");
    assert_true(it.updated_at >= it.created_at);
    catalog_item_clear(&it);
}

static void test_commit_refusals(void **state)
{
    fixture *f = *state;
    catalog *c = f->c;
    int64_t v;
    bool created;
    create(c, "tutorial", "hello", "ann");
    catalog_file dup[] = {file("a.md", 'a', 1), file("a.md", 'b', 1)};
    assert_int_equal(commit(c, "hello", 0, dup, 2, &v, &created), CAT_ERROR);
    catalog_file bad = file("a.md", 'A', 1);
    assert_int_equal(commit(c, "hello", 0, &bad, 1, &v, &created), CAT_ERROR);
    bad = file("a.md", 'a', -1);
    assert_int_equal(commit(c, "hello", 0, &bad, 1, &v, &created), CAT_ERROR);
    catalog_file ok = file("a.md", 'a', 1);
    assert_int_equal(commit(c, "nope", 0, &ok, 1, &v, &created), CAT_NOT_FOUND);
    /* An empty first push equals the empty version 0. */
    assert_int_equal(commit(c, "hello", 0, NULL, 0, &v, &created), CAT_OK);
    assert_false(created);
    assert_int_equal(v, 0);
    /* An explicit content type is kept. */
    ok.content_type = (char *)"text/x-custom";
    assert_int_equal(commit(c, "hello", 0, &ok, 1, &v, &created), CAT_OK);
    catalog_file *files;
    size_t n;
    assert_int_equal(catalog_files(c, "tutorial", "hello", 0, &files, &n, NULL), CAT_OK);
    assert_string_equal(files[0].content_type, "text/x-custom");
    catalog_files_free(files, n);
}

static void test_delete_history(void **state)
{
    fixture *f = *state;
    catalog *c = f->c;
    int64_t v;
    bool created;
    create(c, "tutorial", "hello", "ann");
    catalog_file a = file("index.md", 'a', 1);
    assert_int_equal(commit(c, "hello", 0, &a, 1, &v, &created), CAT_OK);
    assert_int_equal(catalog_item_delete(c, "tutorial", "hello", NULL), CAT_OK);
    create(c, "tutorial", "hello", "bob");
    catalog_version *vs;
    catalog_file *files;
    size_t n;
    assert_int_equal(catalog_versions(c, "tutorial", "hello", &vs, &n, NULL), CAT_OK);
    assert_int_equal(n, 0);
    free(vs);
    assert_int_equal(catalog_files(c, "tutorial", "hello", 1, &files, &n, NULL), CAT_NOT_FOUND);
    assert_int_equal(catalog_versions(c, "tutorial", "gone", &vs, &n, NULL), CAT_NOT_FOUND);
    /* The new incarnation goes on counting: version 1 keeps meaning the
     * deleted item's content. */
    catalog_item it;
    assert_int_equal(catalog_item_get(c, "tutorial", "hello", &it, NULL), CAT_OK);
    assert_int_equal(it.version, 0);
    assert_int_equal(it.deleted_version, 1);
    catalog_item_clear(&it);
    catalog_file b = file("index.md", 'b', 2);
    assert_int_equal(commit(c, "hello", 0, &b, 1, &v, &created), CAT_OK);
    assert_int_equal(v, 2);
    assert_true(created);
    assert_int_equal(catalog_files(c, "tutorial", "hello", 2, &files, &n, NULL), CAT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(files[0].sha256[0], 'b');
    catalog_files_free(files, n);
    /* Deleted before any push: the number it reached stays. */
    assert_int_equal(catalog_item_delete(c, "tutorial", "hello", NULL), CAT_OK);
    create(c, "tutorial", "hello", "ann");
    assert_int_equal(catalog_item_delete(c, "tutorial", "hello", NULL), CAT_OK);
    create(c, "tutorial", "hello", "ann");
    assert_int_equal(commit(c, "hello", 0, &a, 1, &v, &created), CAT_OK);
    assert_int_equal(v, 3);
}

static void test_persistence(void **state)
{
    fixture *f = *state;
    int64_t v;
    bool created;
    create(f->c, "course", "c1", "ann");
    catalog_file a = file("index.md", 'a', 1);
    assert_int_equal(commit(f->c, "x", 0, &a, 1, &v, &created), CAT_NOT_FOUND);
    assert_int_equal(
        catalog_commit(f->c, "course", "c1", 0, &a, 1, "Title", NULL, &v, &created, NULL), CAT_OK);
    assert_int_equal(catalog_token_add(f->c, a.sha256, "ann", NULL), CAT_OK);
    catalog_close(f->c);
    f->c = open_or_fail(f->dir);
    catalog_item it;
    assert_int_equal(catalog_item_get(f->c, "course", "c1", &it, NULL), CAT_OK);
    assert_int_equal(it.version, 1);
    assert_string_equal(it.title, "Title");
    catalog_item_clear(&it);
    char *user;
    assert_int_equal(catalog_token_user(f->c, a.sha256, &user, NULL), CAT_OK);
    assert_string_equal(user, "ann");
    free(user);

    /* The file is in WAL mode with schema version 5. */
    char path[128];
    snprintf(path, sizeof path, "%s/catalog.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 5);
    sqlite3_finalize(st);
    /* A version 4 file (no comments) is upgraded in place: the item has
     * none, and takes one. */
    catalog_close(f->c);
    f->c = NULL;
    assert_int_equal(
        sqlite3_exec(db, "DROP TABLE comments; PRAGMA user_version = 4", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    f->c = open_or_fail(f->dir);
    catalog_comment *cms = NULL;
    size_t ncm = 9;
    assert_int_equal(catalog_comment_list(f->c, "course", "c1", NULL, &cms, &ncm, NULL), CAT_OK);
    assert_int_equal(ncm, 0);
    catalog_comment cm = {.user = (char *)"ann",
                          .version = 1,
                          .path = (char *)"index.md",
                          .block = (char *)"top/p-1",
                          .body = (char *)"x"};
    memset(cm.block_hash, 'c', 64);
    assert_int_equal(catalog_comment_add(f->c, "course", "c1", &cm, NULL), CAT_OK);
    assert_int_equal(cm.id, 1);
    /* A version 3 file (no findings, no checks mode) is upgraded in place:
     * its versions have no findings stored, its items the default mode. */
    catalog_close(f->c);
    f->c = NULL;
    static const char *const to_v3 = "DROP TABLE comments; ALTER TABLE versions DROP COLUMN checks;"
                                     " ALTER TABLE items DROP COLUMN checks;";
    static const char *const to_v2 = " DROP TABLE members; DROP TABLE links;"
                                     " ALTER TABLE items DROP COLUMN published_version;";
    char sql[512];
    snprintf(sql, sizeof sql, "%s PRAGMA user_version = 3", to_v3);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    f->c = open_or_fail(f->dir);
    char *json = (char *)"unset";
    assert_int_equal(catalog_checks(f->c, "course", "c1", 1, &json, NULL), CAT_OK);
    assert_null(json);
    assert_int_equal(catalog_item_get(f->c, "course", "c1", &it, NULL), CAT_OK);
    assert_int_equal(it.checks, CAT_CHECKS_WARN);
    catalog_item_clear(&it);
    /* A version 2 file (no published version, no members either) likewise,
     * its items unpublished. */
    catalog_close(f->c);
    f->c = NULL;
    /* (A fresh connection: this one's schema cache predates the upgrade.) */
    sqlite3_close(db);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "%s%s PRAGMA user_version = 2", to_v3, to_v2);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    f->c = open_or_fail(f->dir);
    assert_int_equal(catalog_item_get(f->c, "course", "c1", &it, NULL), CAT_OK);
    assert_int_equal(it.published_version, 0);
    assert_int_equal(it.n_members, 0);
    assert_int_equal(it.checks, CAT_CHECKS_WARN);
    catalog_item_clear(&it);
    assert_int_equal(catalog_member_set(f->c, "course", "c1", "bo", CAT_ROLE_VIEWER, NULL), CAT_OK);
    /* A version 1 file (no tombstones either) likewise. */
    catalog_close(f->c);
    f->c = NULL;
    sqlite3_close(db);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "%s%s DROP TABLE tombstones; PRAGMA user_version = 1", to_v3, to_v2);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    f->c = open_or_fail(f->dir);
    assert_int_equal(catalog_item_get(f->c, "course", "c1", &it, NULL), CAT_OK);
    assert_int_equal(it.deleted_version, 0);
    catalog_item_clear(&it);
    assert_int_equal(catalog_item_delete(f->c, "course", "c1", NULL), CAT_OK);
    /* A newer schema is refused with a reason. */
    catalog_close(f->c);
    f->c = NULL;
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    cd_err err = {0, ""};
    assert_null(catalog_open_sqlite(f->dir, &err));
    assert_non_null(strstr(err.msg, "schema version 9"));
}

/* Findings are stored with their version as given, and the checks mode
 * with the item. */
static void test_checks(void **state)
{
    fixture *f = *state;
    catalog *c = f->c;
    int64_t v;
    bool created;
    char *json = NULL;
    create(c, "course", "c1", "ann");
    catalog_file a = file("index.md", 'a', 1), b = file("index.md", 'b', 2);
    const char *found = "[{\"path\":\"index.md\",\"line\":3,\"severity\":\"error\"}]";
    assert_int_equal(catalog_commit(c, "course", "c1", 0, &a, 1, NULL, found, &v, &created, NULL),
                     CAT_OK);
    assert_int_equal(catalog_commit(c, "course", "c1", 1, &b, 1, NULL, "[]", &v, &created, NULL),
                     CAT_OK);
    assert_int_equal(catalog_checks(c, "course", "c1", 1, &json, NULL), CAT_OK);
    assert_string_equal(json, found);
    free(json);
    assert_int_equal(catalog_checks(c, "course", "c1", 0, &json, NULL), CAT_OK);
    assert_string_equal(json, "[]");
    free(json);
    assert_int_equal(catalog_checks(c, "course", "c1", 3, &json, NULL), CAT_NOT_FOUND);
    assert_null(json);
    assert_int_equal(catalog_checks(c, "course", "nope", 1, &json, NULL), CAT_NOT_FOUND);

    catalog_item it;
    assert_int_equal(catalog_item_get(c, "course", "c1", &it, NULL), CAT_OK);
    assert_int_equal(it.checks, CAT_CHECKS_WARN);
    catalog_item_clear(&it);
    assert_int_equal(catalog_item_update(c, "course", "c1", NULL, -1, CAT_CHECKS_STRICT, NULL),
                     CAT_OK);
    assert_int_equal(catalog_item_update(c, "course", "c1", "New", -1, -1, NULL), CAT_OK);
    assert_int_equal(catalog_item_get(c, "course", "c1", &it, NULL), CAT_OK);
    assert_int_equal(it.checks, CAT_CHECKS_STRICT);
    assert_string_equal(it.title, "New");
    catalog_item_clear(&it);
    assert_int_equal(catalog_item_update(c, "course", "c1", NULL, -1, 7, NULL), CAT_ERROR);
    assert_int_equal(catalog_checks_mode_parse("strict"), CAT_CHECKS_STRICT);
    assert_int_equal(catalog_checks_mode_parse("warn"), CAT_CHECKS_WARN);
    assert_int_equal(catalog_checks_mode_parse("off"), -1);
    assert_int_equal(catalog_checks_mode_parse(NULL), -1);
}

/* Change notifications ------------------------------------------------------- */

typedef struct seen {
    catalog *c;
    char log[512];
} seen;

static void on_change(void *arg, catalog_event ev, const char *kind, const char *name,
                      int64_t version)
{
    seen *s = arg;
    change_log_add(s->log, sizeof s->log, ev, kind, name, version);
    /* The catalog is usable from the callback: no lock is held. */
    catalog_item it;
    if (catalog_item_get(s->c, kind, name, &it, NULL) == CAT_OK)
        catalog_item_clear(&it);
}

static void test_events(void **state)
{
    fixture *f = *state;
    catalog *c = f->c;
    seen s = {c, ""};
    assert_int_equal(catalog_listen(c, on_change, &s), 0);
    int64_t v;
    bool created;
    create(c, "tutorial", "hello", "ann");
    catalog_file a = file("index.md", 'a', 1);
    assert_int_equal(commit(c, "hello", 0, &a, 1, &v, &created), CAT_OK);
    assert_int_equal(commit(c, "hello", 1, &a, 1, &v, &created), CAT_OK); /* no version */
    assert_int_equal(commit(c, "hello", 0, &a, 1, &v, &created), CAT_CONFLICT);
    assert_int_equal(catalog_item_update(c, "tutorial", "hello", "T2", -1, -1, NULL), CAT_OK);
    catalog_comment cm = {.user = (char *)"ann",
                          .version = 1,
                          .path = (char *)"index.md",
                          .block = (char *)"top/p-1",
                          .body = (char *)"x"};
    memset(cm.block_hash, 'e', 64);
    assert_int_equal(catalog_comment_add(c, "tutorial", "hello", &cm, NULL), CAT_OK);
    assert_int_equal(catalog_comment_resolve(c, "tutorial", "hello", 1, true, NULL), CAT_OK);
    assert_int_equal(catalog_item_delete(c, "tutorial", "hello", NULL), CAT_OK);
    assert_string_equal(s.log, "created tutorial/hello 0;version tutorial/hello 1;"
                               "updated tutorial/hello 1;comment tutorial/hello 1;"
                               "comment tutorial/hello 1;deleted tutorial/hello 0;");
}

/* Concurrency ------------------------------------------------------------------ */

typedef struct racer {
    catalog *c;
    pthread_barrier_t *go;
    int64_t base;
    char digest;
    int rc;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    catalog_file fl = file("index.md", r->digest, 1);
    int64_t v;
    bool created;
    pthread_barrier_wait(r->go);
    r->rc =
        catalog_commit(r->c, "tutorial", "race", r->base, &fl, 1, NULL, NULL, &v, &created, NULL);
    return NULL;
}

/* Rounds of two commits with the same base, from two threads: one wins, one
 * conflicts, every round.  With `second` set, the threads use two handles
 * on the same file, as two processes would. */
static void race_rounds(fixture *f, catalog *second)
{
    create(f->c, "tutorial", "race", "ann");
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    for (int64_t round = 0; round < 40; round++) {
        racer r[2] = {{f->c, &go, round, (char)('a' + round % 6), 0},
                      {second ? second : f->c, &go, round, (char)('0' + round % 10), 0}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, race, &r[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        int won = (r[0].rc == CAT_OK) + (r[1].rc == CAT_OK);
        int lost = (r[0].rc == CAT_CONFLICT) + (r[1].rc == CAT_CONFLICT);
        assert_int_equal(won, 1);
        assert_int_equal(lost, 1);
    }
    pthread_barrier_destroy(&go);
    catalog_item it;
    assert_int_equal(catalog_item_get(f->c, "tutorial", "race", &it, NULL), CAT_OK);
    assert_int_equal(it.version, 40);
    catalog_item_clear(&it);
}

static void test_concurrent_commits(void **state)
{
    race_rounds(*state, NULL);
}

static void test_concurrent_handles(void **state)
{
    fixture *f = *state;
    catalog *other = open_or_fail(f->dir);
    race_rounds(f, other);
    catalog_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_type),
        cmocka_unit_test_setup_teardown(test_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_handles, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
