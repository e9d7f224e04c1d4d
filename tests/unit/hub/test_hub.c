/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for hub/: the event hub in-process, with no socket and no
 * thread.  An embedded catalog in a temporary folder provides the items;
 * commits to it reach the hub through its listener and are applied with
 * hub_process(); a fake transport records what the hub asks of a
 * connection; the clock is the test's own, so keep-alive timing is exact.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "hub.h"

static int64_t fake_now;

static int64_t clock_ms(void)
{
    return fake_now;
}

/* Every document's AST is a small object naming its blob. */
static bool document(void *arg, const char *sha, cd_buf *out)
{
    (void)arg;
    cd_buf_printf(out, "{\"doc\":\"%.8s\"}", sha);
    return true;
}

typedef struct transport {
    int suspends, resumes, cuts;
} transport;

static void t_suspend(void *arg)
{
    ((transport *)arg)->suspends++;
}

static void t_resume(void *arg)
{
    ((transport *)arg)->resumes++;
}

static void t_cut(void *arg)
{
    ((transport *)arg)->cuts++;
}

typedef struct fixture {
    char dir[64];
    catalog *cat;
    hub *h;
} fixture;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static fixture *setup_with(uint32_t max_events)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/contentd-hub-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    cd_err err = {0};
    f->cat = catalog_open_sqlite(f->dir, &err);
    assert_non_null(f->cat);
    fake_now = 1000000;
    hub_config cfg = {
        .cat = f->cat, .document = document, .now_ms = clock_ms, .max_events = max_events};
    f->h = hub_new(&cfg);
    assert_int_equal(catalog_listen(f->cat, hub_on_change, f->h), 0);
    assert_int_equal(hub_load(f->h, &err), 0);
    return f;
}

static void teardown_fixture(fixture *f)
{
    hub_free(f->h);
    catalog_close(f->cat);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
}

static void create(fixture *f, const char *name, bool public)
{
    catalog_item it = {.owner = (char *)"alice", .visibility = public ? CAT_PUBLIC : CAT_PRIVATE};
    snprintf(it.kind, sizeof it.kind, "tutorial");
    snprintf(it.name, sizeof it.name, "%s", name);
    cd_err err = {0};
    assert_int_equal(catalog_item_create(f->cat, &it, &err), CAT_OK);
}

/* Commits version base+1 of tutorial/name: index.md with digest d, and
 * findings checks (NULL: none stored). */
static void commit_checks(fixture *f, const char *name, int64_t base, char d, const char *checks)
{
    catalog_file file = {.path = (char *)"index.md", .size = 1};
    memset(file.sha256, d, 64);
    file.sha256[64] = '\0';
    int64_t v = 0;
    bool created = false;
    cd_err err = {0};
    if (catalog_commit(f->cat, "tutorial", name, base, &file, 1, NULL, checks, &v, &created,
                       &err) != CAT_OK)
        fail_msg("commit %s %lld: %s", name, (long long)base, err.msg);
    assert_int_equal(v, base + 1);
}

static void commit(fixture *f, const char *name, int64_t base, char d)
{
    commit_checks(f, name, base, d, NULL);
}

typedef struct client {
    transport t;
    hub_sub *sub;
    cd_buf got;
} client;

static void client_open(fixture *f, client *c, const char *user)
{
    memset(c, 0, sizeof *c);
    hub_transport t = {.suspend = t_suspend, .resume = t_resume, .cut = t_cut, .arg = &c->t};
    c->sub = hub_sub_new(f->h, user, NULL, &t);
}

/* Reads what is queued into c->got; returns the last hub_sub_read() code. */
static ssize_t client_read(client *c)
{
    char buf[7]; /* small: frames are copied across reads */
    ssize_t n;
    while ((n = hub_sub_read(c->sub, buf, sizeof buf)) > 0)
        cd_buf_append(&c->got, buf, (size_t)n);
    return n;
}

static void client_close(client *c)
{
    hub_sub_detach(c->sub);
    hub_sub_unref(c->sub);
    cd_buf_free(&c->got);
}

static const char *got(client *c)
{
    return c->got.data ? c->got.data : "";
}

/* Updates arrive once each, in version order, each from the one before. */
static void test_ordering(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    create(f, "hello", false);
    commit(f, "hello", 0, 'a');
    hub_process(f->h);
    client c;
    client_open(f, &c, "alice");
    cd_err err = {0};
    assert_int_equal(hub_subscribe_item(f->h, c.sub, "tutorial", "hello", -1, &err), 0);
    assert_int_equal(client_read(&c), HUB_READ_SUSPENDED);
    assert_int_equal(c.t.suspends, 1);
    assert_true(!strncmp(got(&c), "retry: 2000\n\nid: 1\nevent: snapshot\n", 35));
    assert_non_null(strstr(got(&c), "\"documents\":{\"index.md\":{\"doc\":\"aaaaaaaa\"}}"));
    cd_buf_reset(&c.got);
    commit(f, "hello", 1, 'b');
    commit(f, "hello", 2, 'c');
    commit(f, "hello", 3, 'd');
    hub_process(f->h);
    assert_true(c.t.resumes >= 1);
    assert_int_equal(client_read(&c), HUB_READ_SUSPENDED);
    const char *s = got(&c);
    const char *u2 = strstr(s, "id: 2\nevent: update\n");
    const char *u3 = strstr(s, "id: 3\nevent: update\n");
    const char *u4 = strstr(s, "id: 4\nevent: update\n");
    assert_true(u2 && u3 && u4 && u2 < u3 && u3 < u4);
    assert_non_null(strstr(u3, "\"version\":3,\"base_version\":2"));
    assert_null(strstr(u4 + 1, "id: ")); /* nothing twice */
    client_close(&c);
    teardown_fixture(f);
}

/* The snapshot and each update carry the findings stored with their
 * version; a version stored without them, an empty list. */
static void test_checks(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    create(f, "hello", false);
    const char *found = "[{\"path\":\"index.md\",\"line\":2,\"severity\":\"error\"}]";
    commit_checks(f, "hello", 0, 'a', found);
    hub_process(f->h);
    client c;
    client_open(f, &c, "alice");
    cd_err err = {0};
    assert_int_equal(hub_subscribe_item(f->h, c.sub, "tutorial", "hello", -1, &err), 0);
    client_read(&c);
    const char *snap = strstr(got(&c), "event: snapshot\n");
    assert_non_null(snap);
    assert_non_null(strstr(snap, "},\"checks\":[{\"path\":\"index.md\",\"line\":2,"));
    cd_buf_reset(&c.got);
    commit_checks(f, "hello", 1, 'b', "[]");
    commit(f, "hello", 2, 'c');
    hub_process(f->h);
    client_read(&c);
    const char *u2 = strstr(got(&c), "id: 2\nevent: update\n");
    const char *u3 = strstr(got(&c), "id: 3\nevent: update\n");
    assert_true(u2 && u3 && u2 < u3);
    assert_non_null(strstr(u2, "\"removed\":[],\"checks\":[]}\n"));
    assert_non_null(strstr(u3, "\"removed\":[],\"checks\":[]}\n"));
    client_close(&c);
    teardown_fixture(f);
}

/* Last-Event-ID: nothing when current, one update from a kept version,
 * a snapshot when the id is no version. */
static void test_catch_up(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    create(f, "hello", false);
    for (int v = 0; v < 3; v++)
        commit(f, "hello", v, "abcdef0123"[v]);
    hub_process(f->h);
    cd_err err = {0};
    client cur, old, bad;
    client_open(f, &cur, "alice");
    assert_int_equal(hub_subscribe_item(f->h, cur.sub, "tutorial", "hello", 3, &err), 0);
    client_read(&cur);
    assert_string_equal(got(&cur), "retry: 2000\n\n");
    client_open(f, &old, "alice");
    assert_int_equal(hub_subscribe_item(f->h, old.sub, "tutorial", "hello", 1, &err), 0);
    client_read(&old);
    assert_non_null(strstr(got(&old), "id: 3\nevent: update\n"));
    assert_non_null(strstr(got(&old), "\"version\":3,\"base_version\":1"));
    client_open(f, &bad, "alice");
    assert_int_equal(hub_subscribe_item(f->h, bad.sub, "tutorial", "hello", -2, &err), 0);
    client_read(&bad);
    assert_non_null(strstr(got(&bad), "id: 3\nevent: snapshot\n"));
    /* Someone else's private item does not exist for the hub's callers to
     * check; an unknown one is CAT_NOT_FOUND. */
    client none;
    client_open(f, &none, "alice");
    assert_int_equal(hub_subscribe_item(f->h, none.sub, "tutorial", "nope", -1, &err),
                     CAT_NOT_FOUND);
    hub_sub_free(none.sub);
    client_close(&cur);
    client_close(&old);
    client_close(&bad);
    teardown_fixture(f);
}

/* A subscriber that does not read is cut when its queue is full; one that
 * reads gets every update meanwhile. */
static void test_overflow(void **state)
{
    (void)state;
    fixture *f = setup_with(4);
    create(f, "hello", true);
    hub_process(f->h);
    cd_err err = {0};
    client slow, fast;
    client_open(f, &slow, "bob");
    client_open(f, &fast, "bob");
    assert_int_equal(hub_subscribe_item(f->h, slow.sub, "tutorial", "hello", -1, &err), 0);
    assert_int_equal(hub_subscribe_item(f->h, fast.sub, "tutorial", "hello", -1, &err), 0);
    for (int v = 0; v < 8; v++) {
        commit(f, "hello", v, "abcdef0123"[v]);
        hub_process(f->h);
        client_read(&fast);
    }
    assert_int_equal(slow.t.cuts, 1);
    assert_int_equal(fast.t.cuts, 0);
    assert_int_equal(client_read(&slow), HUB_READ_ERROR);
    assert_string_equal(got(&slow), "");
    assert_non_null(strstr(got(&fast), "id: 8\nevent: update\n"));
    hub_stats st;
    hub_stats_get(f->h, &st);
    assert_int_equal(st.overflows, 1);
    assert_int_equal(st.item_subs, 1);
    client_close(&slow);
    client_close(&fast);
    teardown_fixture(f);
}

/* `: keep-alive` after exactly keepalive_ms of silence, and not before. */
static void test_keepalive(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    create(f, "hello", false);
    hub_process(f->h);
    cd_err err = {0};
    client c;
    client_open(f, &c, "alice");
    assert_int_equal(hub_subscribe_item(f->h, c.sub, "tutorial", "hello", 0, &err), 0);
    client_read(&c);
    cd_buf_reset(&c.got);
    int64_t t0 = fake_now;
    fake_now = t0 + HUB_KEEPALIVE_MS - 1;
    assert_int_equal(hub_tick(f->h), t0 + HUB_KEEPALIVE_MS);
    assert_int_equal(client_read(&c), HUB_READ_SUSPENDED);
    assert_string_equal(got(&c), "");
    fake_now = t0 + HUB_KEEPALIVE_MS;
    assert_int_equal(hub_tick(f->h), fake_now + HUB_KEEPALIVE_MS);
    client_read(&c);
    assert_string_equal(got(&c), ": keep-alive\n\n");
    /* An event restarts the idle time. */
    cd_buf_reset(&c.got);
    fake_now += 5000;
    commit(f, "hello", 0, 'a');
    hub_process(f->h);
    client_read(&c);
    assert_non_null(strstr(got(&c), "event: update"));
    assert_int_equal(hub_tick(f->h), fake_now + HUB_KEEPALIVE_MS);
    client_close(&c);
    assert_int_equal(hub_tick(f->h), -1);
    teardown_fixture(f);
}

/* A delete ends the item's streams; the global stream sees it, and only
 * the items its user may see. */
static void test_delete_and_global(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    create(f, "hello", false);
    hub_process(f->h);
    cd_err err = {0};
    client item, mine, other;
    client_open(f, &item, "alice");
    client_open(f, &mine, "alice");
    client_open(f, &other, "bob");
    assert_int_equal(hub_subscribe_item(f->h, item.sub, "tutorial", "hello", 0, &err), 0);
    assert_int_equal(hub_subscribe_global(f->h, mine.sub, &err), 0);
    assert_int_equal(hub_subscribe_global(f->h, other.sub, &err), 0);
    client_read(&mine);
    client_read(&other);
    assert_non_null(strstr(got(&mine), "\"name\":\"hello\""));
    assert_null(strstr(got(&other), "\"name\":\"hello\""));
    assert_int_equal(catalog_item_delete(f->cat, "tutorial", "hello", &err), CAT_OK);
    hub_process(f->h);
    assert_int_equal(client_read(&item), HUB_READ_END);
    assert_non_null(strstr(got(&item), "event: deleted\ndata: {\"kind\":\"tutorial\""));
    client_read(&mine);
    client_read(&other);
    assert_non_null(strstr(got(&mine), "event: deleted"));
    assert_null(strstr(got(&other), "event: deleted"));
    hub_shutdown(f->h);
    assert_int_equal(client_read(&mine), HUB_READ_END);
    client nope;
    client_open(f, &nope, "alice");
    assert_int_equal(hub_subscribe_global(f->h, nope.sub, &err), HUB_CLOSED);
    hub_sub_free(nope.sub);
    client_close(&item);
    client_close(&mine);
    client_close(&other);
    teardown_fixture(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordering),          cmocka_unit_test(test_catch_up),
        cmocka_unit_test(test_overflow),          cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_delete_and_global), cmocka_unit_test(test_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
