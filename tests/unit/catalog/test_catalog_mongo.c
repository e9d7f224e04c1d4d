/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the parts of the MongoDB catalog that need no server: how
 * the watcher classifies change-stream errors, and the announcement record
 * (catalog/catalog_mongo_announce.c) that makes every version reach
 * on_change once and in order whether it comes from a local commit, the
 * change stream or a resync scan.  The whole backend against a server is
 * tested by tests/integration/test_catalog_mongo.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_mongo_int.h"
#include "change_log.h"

/* Error classification ----------------------------------------------------- */

static const struct {
    uint32_t domain, code;
    const char *reply; /* JSON, or NULL: no server reply */
    mg_stream_error want;
} errors[] = {
    {MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET, NULL, MG_STREAM_RESUMABLE},
    {MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE, NULL,
     MG_STREAM_RESUMABLE},
    {MONGOC_ERROR_SERVER, 6,
     "{\"ok\":0,\"code\":6,\"errorLabels\":[\"ResumableChangeStreamError\"]}", MG_STREAM_RESUMABLE},
    {MONGOC_ERROR_SERVER, 1,
     "{\"ok\":0,\"code\":1,\"errorLabels\":[\"ResumableChangeStreamError\"]}", MG_STREAM_RESUMABLE},
    {MONGOC_ERROR_SERVER, 43, "{\"ok\":0,\"code\":43}", MG_STREAM_RESUMABLE},
    {MONGOC_ERROR_SERVER, 91, "{\"ok\":0,\"code\":91}", MG_STREAM_RESUMABLE},
    {MONGOC_ERROR_SERVER, 10107, "{\"ok\":0,\"code\":10107}", MG_STREAM_RESUMABLE},
    {MONGOC_ERROR_SERVER, 13388, "{\"ok\":0,\"code\":13388}", MG_STREAM_RESUMABLE},
    {MONGOC_ERROR_SERVER, 286, "{\"ok\":0,\"code\":286}", MG_STREAM_HISTORY_LOST},
    {MONGOC_ERROR_SERVER, 280, "{\"ok\":0,\"code\":280}", MG_STREAM_FATAL},
    {MONGOC_ERROR_SERVER, 2, "{\"ok\":0,\"code\":2}", MG_STREAM_FATAL},
    {MONGOC_ERROR_CURSOR, MONGOC_ERROR_CURSOR_INVALID_CURSOR, NULL, MG_STREAM_FATAL},
};

static void test_classify(void **state)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        bson_error_t e = {.domain = errors[i].domain, .code = errors[i].code};
        bson_t *reply = errors[i].reply
                            ? bson_new_from_json((const uint8_t *)errors[i].reply, -1, NULL)
                            : bson_new();
        assert_non_null(reply);
        if (mg_classify_stream_error(&e, reply) != errors[i].want)
            fail_msg("case %zu (domain %u code %u)", i, errors[i].domain, errors[i].code);
        bson_destroy(reply);
    }
}

static void test_keys(void **state)
{
    char key[MG_KEY_MAX], kind[CD_KIND_MAX], name[CD_NAME_MAX];
    mg_item_key(key, "skill-path", "a-b");
    assert_string_equal(key, "skill-path/a-b");
    assert_true(mg_split_key(key, kind, name));
    assert_string_equal(kind, "skill-path");
    assert_string_equal(name, "a-b");
    assert_false(mg_split_key("blog/x", kind, name));
    assert_false(mg_split_key("tutorial/Bad", kind, name));
    assert_false(mg_split_key("tutorial", kind, name));
    assert_false(mg_split_key("averyveryverylongkind/x", kind, name));
    /* A comments document's _id: the item's key and the comment's id. */
    int64_t id = 0;
    assert_true(mg_comment_event_key("tutorial/a-b/12", kind, name, &id));
    assert_string_equal(kind, "tutorial");
    assert_string_equal(name, "a-b");
    assert_int_equal(id, 12);
    assert_false(mg_comment_event_key("tutorial/a-b/0", kind, name, &id));
    assert_false(mg_comment_event_key("tutorial/a-b/x", kind, name, &id));
    assert_false(mg_comment_event_key("tutorial/12", kind, name, &id));
    assert_false(mg_comment_event_key("12", kind, name, &id));
}

/* The announcement record ------------------------------------------------------- */

typedef struct fixture {
    mg_catalog c;
    char log[2048];
} fixture;

static void on_change(void *arg, catalog_event ev, const char *kind, const char *name,
                      int64_t version)
{
    fixture *f = arg;
    change_log_add(f->log, sizeof f->log, ev, kind, name, version);
}

static int setup(void **state)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    mg_watch_init(&f->c.watch);
    f->c.watch.active = true;
    assert_int_equal(catalog_listen(&f->c.base, on_change, f), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mg_watch_destroy(&f->c.watch);
    free(f);
    return 0;
}

/* The log since the last call, which it clears. */
static const char *drain(fixture *f)
{
    static char copy[2048];
    snprintf(copy, sizeof copy, "%s", f->log);
    f->log[0] = '\0';
    return copy;
}

static bson_oid_t oid(int n)
{
    bson_oid_t o;
    memset(&o, 0, sizeof o);
    o.bytes[11] = (uint8_t)n;
    return o;
}

/* A change from the stream: op, key, incarnation (0: none), version and
 * meta (-1: not part of the change). */
static void stream(fixture *f, int op, const char *key, int inc, int64_t version, int64_t meta)
{
    mg_change ch = {.op = op, .has_inc = inc != 0, .inc = oid(inc)};
    snprintf(ch.key, sizeof ch.key, "%s", key);
    ch.has_version = version >= 0;
    ch.version = version;
    ch.has_meta = meta >= 0;
    ch.meta = meta;
    mg_apply_change(&f->c, &ch);
}

static void test_local_and_stream(void **state)
{
    fixture *f = *state;
    bson_oid_t one = oid(1), two = oid(2);
    /* A local commit on an item the stream has not shown yet waits for it. */
    mg_local_version(&f->c, "tutorial", "a", &one, 1, 0);
    assert_string_equal(drain(f), "");
    stream(f, MG_CH_INSERT, "tutorial/a", 1, 0, 0);
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, 1, -1);
    assert_string_equal(drain(f), "created tutorial/a 0;version tutorial/a 1;");
    /* In step: announced at once, and the stream's copy dropped. */
    mg_local_version(&f->c, "tutorial", "a", &one, 2, cd_now_ms() - 30);
    assert_string_equal(drain(f), "version tutorial/a 2;");
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, 2, -1);
    assert_string_equal(drain(f), "");
    /* Another replica's versions; a local one out of step waits its turn. */
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, 3, -1);
    mg_local_version(&f->c, "tutorial", "a", &one, 5, 0);
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, 4, -1);
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, 5, -1);
    assert_string_equal(drain(f),
                        "version tutorial/a 3;version tutorial/a 4;version tutorial/a 5;");
    /* Another incarnation's commit is never announced locally. */
    mg_local_version(&f->c, "tutorial", "a", &two, 6, 0);
    mg_local_meta(&f->c, "tutorial", "a", &two, 1, 6);
    assert_string_equal(drain(f), "");
    /* Title/visibility: meta in step, then the stream's copy dropped. */
    mg_local_meta(&f->c, "tutorial", "a", &one, 1, 5);
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, -1, 1);
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, -1, 2);
    assert_string_equal(drain(f), "updated tutorial/a 5;updated tutorial/a 5;");
    /* Creations and deletions come from the stream only. */
    mg_local_created(&f->c, "tutorial", "b");
    mg_local_deleted(&f->c, "tutorial", "a");
    assert_string_equal(drain(f), "");
    stream(f, MG_CH_DELETE, "tutorial/a", 0, -1, -1);
    stream(f, MG_CH_DELETE, "tutorial/a", 0, -1, -1);
    assert_string_equal(drain(f), "deleted tutorial/a 0;");
    /* Re-created under the same name: version 1 again. */
    stream(f, MG_CH_INSERT, "tutorial/a", 2, 0, 0);
    mg_local_version(&f->c, "tutorial", "a", &two, 1, 0);
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, 1, -1);
    assert_string_equal(drain(f), "created tutorial/a 0;version tutorial/a 1;");
    /* An update of an item never seen created. */
    stream(f, MG_CH_UPDATE, "course/c", 3, 4, -1);
    assert_string_equal(drain(f), "created course/c 0;version course/c 4;");

    catalog_watch_stats s;
    mg_watch_stats(&f->c.base, &s);
    assert_int_equal(s.announced_local, 3);
    assert_int_equal(s.events, 13);
    /* Timed: version 2 (its commit time given), and 3, 4 and 5, whose
     * changes leave the commit time out, so it is the one known (a field
     * set to its old value is not in updatedFields).  Not timed: the
     * re-created item's version 1 and course/c's 4, with none known. */
    assert_int_equal(s.lag_count, 4);
    assert_true(s.lag_ms_max >= 30 && s.lag_ms_max < 10000);
    assert_int_equal(s.lag_buckets[0], 0);                       /* <= 1 ms */
    assert_int_equal(s.lag_buckets[CATALOG_LAG_BUCKETS - 1], 4); /* +Inf */
}

static mg_change scanned(const char *key, int inc, int64_t version, int64_t meta)
{
    mg_change ch = {.has_inc = true,
                    .inc = oid(inc),
                    .has_version = true,
                    .version = version,
                    .has_meta = true,
                    .meta = meta};
    snprintf(ch.key, sizeof ch.key, "%s", key);
    return ch;
}

static void test_scans(void **state)
{
    fixture *f = *state;
    /* The baseline at start: silent. */
    mg_change base[] = {scanned("tutorial/a", 1, 3, 0), scanned("tutorial/b", 2, 1, 0)};
    mg_apply_scan(&f->c, base, 2, false);
    assert_string_equal(drain(f), "");
    /* The stream replays what the scan saw: nothing new. */
    stream(f, MG_CH_INSERT, "tutorial/a", 1, 0, 0);
    stream(f, MG_CH_UPDATE, "tutorial/a", 0, 3, -1);
    assert_string_equal(drain(f), "");
    /* A resync: a moved, b deleted and created again, c new, d gone. */
    stream(f, MG_CH_INSERT, "tutorial/d", 4, 0, 0);
    drain(f);
    mg_change now[] = {scanned("tutorial/a", 1, 7, 2), scanned("tutorial/b", 5, 2, 0),
                       scanned("tutorial/c", 6, 0, 0)};
    mg_apply_scan(&f->c, now, 3, true);
    assert_string_equal(drain(f), "version tutorial/a 7;updated tutorial/a 7;"
                                  "deleted tutorial/b 0;created tutorial/b 0;version tutorial/b 2;"
                                  "created tutorial/c 0;deleted tutorial/d 0;");
    /* And the record goes on from there. */
    bson_oid_t five = oid(5);
    mg_local_version(&f->c, "tutorial", "b", &five, 3, 0);
    assert_string_equal(drain(f), "version tutorial/b 3;");
}

static void test_inactive(void **state)
{
    fixture *f = *state;
    f->c.watch.active = false; /* no watcher: local writes announce themselves */
    bson_oid_t one = oid(1);
    mg_local_created(&f->c, "tutorial", "a");
    mg_local_version(&f->c, "tutorial", "a", &one, 1, 0);
    mg_local_meta(&f->c, "tutorial", "a", &one, 1, 1);
    mg_local_deleted(&f->c, "tutorial", "a");
    assert_string_equal(drain(f), "created tutorial/a 0;version tutorial/a 1;"
                                  "updated tutorial/a 1;deleted tutorial/a 0;");
}

static void test_many_items(void **state)
{
    fixture *f = *state;
    /* Enough items to make the record's table grow several times. */
    char key[MG_KEY_MAX];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "tutorial/item-%d", i);
        stream(f, MG_CH_INSERT, key, 1 + i % 200, 0, 0);
        stream(f, MG_CH_UPDATE, key, 0, 1, -1);
    }
    f->log[0] = '\0';
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "tutorial/item-%d", i);
        stream(f, MG_CH_UPDATE, key, 0, 1, -1); /* all duplicates */
    }
    assert_string_equal(drain(f), "");
    mg_apply_scan(&f->c, NULL, 0, false); /* everything gone, silently */
    stream(f, MG_CH_UPDATE, "tutorial/item-7", 9, 2, -1);
    assert_string_equal(drain(f), "created tutorial/item-7 0;version tutorial/item-7 2;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_keys),
        cmocka_unit_test_setup_teardown(test_local_and_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inactive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_items, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
