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
#include <time.h>

#include <cmocka.h>
#include <zlib.h>

#include "catalog.h"
#include "hub.h"

/* The padding of a big AST (see document()); the queue bound of the tests
 * that need one is smaller. */
#define BIG_AST     3000
#define SMALL_BOUND 1024

static int64_t fake_now;

static int64_t clock_ms(void)
{
    return fake_now;
}

/* Every document's AST is a small object naming its blob; its stub says
 * so.  The AST of a blob whose digest starts with 'f' is big: 3/4 of a
 * queue's bound. */
static bool document(void *arg, const char *sha, bool full, cd_buf *out)
{
    (void)arg;
    if (!full) {
        cd_buf_printf(out, "{\"stub\":\"%.8s\"}", sha);
        return true;
    }
    cd_buf_printf(out, "{\"doc\":\"%.8s\"", sha);
    if (sha[0] == 'f') {
        cd_buf_puts(out, ",\"pad\":\"");
        for (size_t i = 0; i < BIG_AST; i++)
            cd_buf_putc(out, (char)('a' + (i * 7 + i / 13) % 26));
        cd_buf_putc(out, '"');
    }
    cd_buf_putc(out, '}');
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

static fixture *setup_bounded(uint32_t max_events, size_t max_bytes)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/contentd-hub-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    cd_err err = {0};
    f->cat = catalog_open_sqlite(f->dir, &err);
    assert_non_null(f->cat);
    fake_now = 1000000;
    hub_config cfg = {.cat = f->cat,
                      .document = document,
                      .now_ms = clock_ms,
                      .max_events = max_events,
                      .max_bytes = max_bytes};
    f->h = hub_new(&cfg);
    assert_int_equal(catalog_listen(f->cat, hub_on_change, f->h), 0);
    assert_int_equal(hub_load(f->h, &err), 0);
    return f;
}

static fixture *setup_with(uint32_t max_events)
{
    return setup_bounded(max_events, 0);
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

/* Commits version base+1 of tutorial/name: index.md with digest d and,
 * when l is not 0, lessons/a.md with digest l, with findings checks
 * (NULL: none stored). */
static void commit_full(fixture *f, const char *name, int64_t base, char d, char l,
                        const char *checks)
{
    catalog_file files[2] = {{.path = (char *)"index.md", .size = 1},
                             {.path = (char *)"lessons/a.md", .size = 1}};
    memset(files[0].sha256, d, 64);
    files[0].sha256[64] = '\0';
    memset(files[1].sha256, l, 64);
    files[1].sha256[64] = '\0';
    int64_t v = 0;
    bool created = false;
    cd_err err = {0};
    if (catalog_commit(f->cat, "tutorial", name, base, files, l ? 2 : 1, NULL, checks, &v, &created,
                       &err) != CAT_OK)
        fail_msg("commit %s %lld: %s", name, (long long)base, err.msg);
    assert_int_equal(v, base + 1);
}

static void commit(fixture *f, const char *name, int64_t base, char d)
{
    commit_full(f, name, base, d, 0, NULL);
}

static void commit2(fixture *f, const char *name, int64_t base, char d, char l)
{
    commit_full(f, name, base, d, l, NULL);
}

static void commit_checks(fixture *f, const char *name, int64_t base, char d, const char *checks)
{
    commit_full(f, name, base, d, 0, checks);
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
    assert_int_equal(hub_subscribe_item(f->h, c.sub, "tutorial", "hello", -1, NULL, &err), 0);
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
    assert_int_equal(hub_subscribe_item(f->h, c.sub, "tutorial", "hello", -1, NULL, &err), 0);
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
    assert_int_equal(hub_subscribe_item(f->h, cur.sub, "tutorial", "hello", 3, NULL, &err), 0);
    client_read(&cur);
    assert_string_equal(got(&cur), "retry: 2000\n\n");
    client_open(f, &old, "alice");
    assert_int_equal(hub_subscribe_item(f->h, old.sub, "tutorial", "hello", 1, NULL, &err), 0);
    client_read(&old);
    assert_non_null(strstr(got(&old), "id: 3\nevent: update\n"));
    assert_non_null(strstr(got(&old), "\"version\":3,\"base_version\":1"));
    client_open(f, &bad, "alice");
    assert_int_equal(hub_subscribe_item(f->h, bad.sub, "tutorial", "hello", -2, NULL, &err), 0);
    client_read(&bad);
    assert_non_null(strstr(got(&bad), "id: 3\nevent: snapshot\n"));
    /* Someone else's private item does not exist for the hub's callers to
     * check; an unknown one is CAT_NOT_FOUND. */
    client none;
    client_open(f, &none, "alice");
    assert_int_equal(hub_subscribe_item(f->h, none.sub, "tutorial", "nope", -1, NULL, &err),
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
    assert_int_equal(hub_subscribe_item(f->h, slow.sub, "tutorial", "hello", -1, NULL, &err), 0);
    assert_int_equal(hub_subscribe_item(f->h, fast.sub, "tutorial", "hello", -1, NULL, &err), 0);
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
    assert_int_equal(hub_subscribe_item(f->h, c.sub, "tutorial", "hello", 0, NULL, &err), 0);
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
    assert_int_equal(hub_subscribe_item(f->h, item.sub, "tutorial", "hello", 0, NULL, &err), 0);
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

/* A snapshot larger than the queue's bound in bytes still reaches a new
 * subscriber; the bound then applies to what is queued after it. */
static void test_big_snapshot(void **state)
{
    (void)state;
    fixture *f = setup_bounded(0, SMALL_BOUND);
    create(f, "big", false);
    commit(f, "big", 0, 'f'); /* an AST of BIG_AST bytes */
    hub_process(f->h);
    cd_err err = {0};
    client c;
    client_open(f, &c, "alice");
    assert_int_equal(hub_subscribe_item(f->h, c.sub, "tutorial", "big", -1, NULL, &err), 0);
    commit(f, "big", 1, 'e'); /* a small update behind the unread snapshot: kept */
    hub_process(f->h);
    hub_stats st;
    hub_stats_get(f->h, &st);
    assert_int_equal(st.overflows, 0);
    assert_int_equal(c.t.cuts, 0);
    assert_int_equal(client_read(&c), HUB_READ_SUSPENDED);
    assert_true(c.got.len > BIG_AST);
    assert_non_null(strstr(got(&c), "id: 1\nevent: snapshot\n"));
    assert_non_null(strstr(got(&c), "id: 2\nevent: update\n"));
    /* Not read: a big update does not fit behind a small one. */
    commit(f, "big", 2, 'd');
    hub_process(f->h);
    commit(f, "big", 3, 'f');
    hub_process(f->h);
    hub_stats_get(f->h, &st);
    assert_int_equal(st.overflows, 1);
    assert_int_equal(c.t.cuts, 1);
    client_close(&c);
    teardown_fixture(f);
}

/* ?documents=: the documents asked for come whole, the others as stubs, in
 * the snapshot and in every update; each list's update is built once. */
static void test_documents(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    create(f, "course", false);
    commit2(f, "course", 0, 'a', 'b');
    hub_process(f->h);
    cd_err err = {0};
    client part, all, none;
    client_open(f, &part, "alice");
    client_open(f, &all, "alice");
    client_open(f, &none, "alice");
    assert_int_equal(hub_subscribe_item(f->h, part.sub, "tutorial", "course", -1,
                                        "lessons/a.md,,lessons/a.md", &err),
                     0);
    assert_int_equal(hub_subscribe_item(f->h, all.sub, "tutorial", "course", -1, "*", &err), 0);
    assert_int_equal(hub_subscribe_item(f->h, none.sub, "tutorial", "course", -1, "", &err), 0);
    client_read(&part);
    client_read(&all);
    client_read(&none);
    assert_non_null(strstr(got(&part), "\"documents\":{\"index.md\":{\"stub\":\"aaaaaaaa\"},"
                                       "\"lessons/a.md\":{\"doc\":\"bbbbbbbb\"}}"));
    assert_non_null(strstr(got(&all), "\"documents\":{\"index.md\":{\"doc\":\"aaaaaaaa\"},"
                                      "\"lessons/a.md\":{\"doc\":\"bbbbbbbb\"}}"));
    assert_non_null(strstr(got(&none), "\"documents\":{\"index.md\":{\"stub\":\"aaaaaaaa\"},"
                                       "\"lessons/a.md\":{\"stub\":\"bbbbbbbb\"}}"));
    cd_buf_reset(&part.got);
    cd_buf_reset(&all.got);
    commit2(f, "course", 1, 'c', 'b'); /* index.md changes */
    hub_process(f->h);
    client_read(&part);
    client_read(&all);
    assert_non_null(strstr(got(&part), "\"documents\":{\"index.md\":{\"stub\":\"cccccccc\"}}"));
    assert_non_null(strstr(got(&all), "\"documents\":{\"index.md\":{\"doc\":\"cccccccc\"}}"));
    cd_buf_reset(&part.got);
    commit2(f, "course", 2, 'c', 'd'); /* the lesson changes */
    hub_process(f->h);
    client_read(&part);
    assert_non_null(strstr(got(&part), "\"documents\":{\"lessons/a.md\":{\"doc\":\"dddddddd\"}}"));
    client_close(&part);
    client_close(&all);
    client_close(&none);
    teardown_fixture(f);
}

/* Inflates a whole gzip stream; fails unless it is complete and valid
 * (zlib checks the CRC-32 and the length of the trailer). */
static void gunzip(const cd_buf *in, cd_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
    z.next_in = (Bytef *)in->data;
    z.avail_in = (uInt)in->len;
    int rc;
    do {
        cd_buf_grow(out, 4096);
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = 4095;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += 4095 - z.avail_out;
    } while (rc == Z_OK);
    assert_int_equal(rc, Z_STREAM_END);
    assert_int_equal(z.avail_in, 0);
    inflateEnd(&z);
    out->data[out->len] = '\0';
}

/* gzip streams: two subscribers get the same bytes for the same events
 * (each compressed once), which inflate to what a plain stream gets. */
static void test_gzip_shared(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    create(f, "hello", false);
    commit(f, "hello", 0, 'a');
    hub_process(f->h);
    cd_err err = {0};
    client g1, g2, plain;
    client_open(f, &g1, "alice");
    client_open(f, &g2, "alice");
    client_open(f, &plain, "alice");
    hub_sub_gzip(g1.sub);
    hub_sub_gzip(g2.sub);
    assert_int_equal(hub_subscribe_item(f->h, g1.sub, "tutorial", "hello", -1, NULL, &err), 0);
    assert_int_equal(hub_subscribe_item(f->h, g2.sub, "tutorial", "hello", -1, NULL, &err), 0);
    assert_int_equal(hub_subscribe_item(f->h, plain.sub, "tutorial", "hello", -1, NULL, &err), 0);
    client_read(&g1);
    size_t first = g1.got.len;
    commit(f, "hello", 1, 'f'); /* a big update */
    hub_process(f->h);
    client_read(&g1);
    client_read(&g2);
    client_read(&plain);
    fake_now += HUB_KEEPALIVE_MS;
    hub_tick(f->h);
    client_read(&g1);
    client_read(&g2);
    client_read(&plain);
    assert_true(first > 10 && g1.got.len > first);
    assert_int_equal(g1.got.len, g2.got.len);
    assert_memory_equal(g1.got.data, g2.got.data, g1.got.len);
    assert_true(g1.got.len < BIG_AST / 2); /* compressed */
    assert_int_equal(catalog_item_delete(f->cat, "tutorial", "hello", &err), CAT_OK);
    hub_process(f->h);
    assert_int_equal(client_read(&g1), HUB_READ_END);
    assert_int_equal(client_read(&plain), HUB_READ_END);
    cd_buf text = CD_BUF_INIT;
    gunzip(&g1.got, &text);
    assert_int_equal(text.len, plain.got.len);
    assert_memory_equal(text.data, plain.got.data, text.len);
    assert_non_null(strstr(text.data, ": keep-alive\n\n"));
    cd_buf_free(&text);
    client_close(&g1);
    client_close(&g2);
    client_close(&plain);
    teardown_fixture(f);
}

/* The views of review and sharing: a reader follows the published
 * version, a member the latest; a role taken away or a link revoked or
 * expired ends the stream; a pinned link gets nothing later. */
static void test_review_views(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    cd_err err = {0};
    create(f, "pub", true);
    commit(f, "pub", 0, 'a');
    commit(f, "pub", 1, 'b');
    assert_int_equal(catalog_publish(f->cat, "tutorial", "pub", 1, &err), CAT_OK);
    assert_int_equal(catalog_member_set(f->cat, "tutorial", "pub", "carol", CAT_ROLE_VIEWER, &err),
                     CAT_OK);
    hub_process(f->h);
    client reader, owner, member, pinned;
    client_open(f, &reader, "bob");
    client_open(f, &owner, "alice");
    client_open(f, &member, "carol");
    client_open(f, &pinned, NULL);
    catalog_link l = {.id = "0123456789abcdef", .version = 1};
    memset(l.sha256, 'e', 64);
    l.expires_at = cd_now_ms() + 3600 * 1000;
    assert_int_equal(catalog_link_add(f->cat, "tutorial", "pub", &l, &err), CAT_OK);
    hub_process(f->h);
    hub_sub_set_link(pinned.sub, l.sha256);
    client *all[] = {&reader, &owner, &member, &pinned};
    for (int i = 0; i < 4; i++)
        assert_int_equal(hub_subscribe_item(f->h, all[i]->sub, "tutorial", "pub", -1, NULL, &err),
                         0);
    for (int i = 0; i < 4; i++)
        client_read(all[i]);
    assert_non_null(strstr(got(&reader), "id: 1\nevent: snapshot"));
    assert_non_null(strstr(got(&pinned), "id: 1\nevent: snapshot"));
    assert_non_null(strstr(got(&owner), "id: 2\nevent: snapshot"));
    assert_non_null(strstr(got(&member), "id: 2\nevent: snapshot"));
    for (int i = 0; i < 4; i++)
        cd_buf_reset(&all[i]->got);
    commit(f, "pub", 2, 'c'); /* a draft */
    hub_process(f->h);
    assert_int_equal(client_read(&reader), HUB_READ_SUSPENDED);
    assert_string_equal(got(&reader), "");
    client_read(&owner);
    assert_non_null(strstr(got(&owner), "id: 3\nevent: update"));
    assert_int_equal(catalog_publish(f->cat, "tutorial", "pub", 3, &err), CAT_OK);
    hub_process(f->h);
    client_read(&reader);
    const char *u = strstr(got(&reader), "id: 3\nevent: update\n");
    const char *p = strstr(got(&reader), "event: published\n");
    assert_true(u && p && u < p);
    assert_non_null(strstr(u, "\"version\":3,\"base_version\":1"));
    assert_null(strstr(p, "\"version\":")); /* readers are not told the latest */
    client_read(&owner);
    assert_non_null(strstr(got(&owner), "\"published_version\":3,\"version\":3"));
    /* the pinned link got nothing; a role taken away and the link revoked
     * end their streams */
    assert_int_equal(client_read(&pinned), HUB_READ_SUSPENDED);
    assert_string_equal(got(&pinned), "");
    assert_int_equal(catalog_member_set(f->cat, "tutorial", "pub", "carol", CAT_ROLE_NONE, &err),
                     CAT_OK);
    assert_int_equal(catalog_link_delete(f->cat, "tutorial", "pub", l.id, &err), CAT_OK);
    hub_process(f->h);
    assert_int_equal(client_read(&member), HUB_READ_END);
    assert_int_equal(client_read(&pinned), HUB_READ_END);
    assert_int_equal(client_read(&owner), HUB_READ_SUSPENDED);
    /* a link that expires: its stream ends once hub_expire_links sees it */
    client soon;
    client_open(f, &soon, NULL);
    catalog_link e = {.id = "fedcba9876543210"};
    memset(e.sha256, 'f', 64);
    e.expires_at = cd_now_ms() + 200;
    assert_int_equal(catalog_link_add(f->cat, "tutorial", "pub", &e, &err), CAT_OK);
    hub_process(f->h);
    hub_sub_set_link(soon.sub, e.sha256);
    assert_int_equal(hub_subscribe_item(f->h, soon.sub, "tutorial", "pub", -1, NULL, &err), 0);
    assert_int_equal(hub_expire_links(f->h), e.expires_at);
    int64_t deadline = cd_now_ms() + 5000;
    while (client_read(&soon) != HUB_READ_END && cd_now_ms() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        hub_expire_links(f->h);
    }
    assert_int_equal(client_read(&soon), HUB_READ_END);
    assert_int_equal(hub_expire_links(f->h), -1);
    client_close(&soon);
    for (int i = 0; i < 4; i++)
        client_close(all[i]);
    teardown_fixture(f);
}

/* Review and ?documents= and gzip together: a reader's snapshot is of the
 * published version with its stubs, though the owner's newer snapshots of
 * the same lists are cached; on publishing, each list's readers get the
 * update to it with their stubs, compressed like any other event. */
static void test_review_documents(void **state)
{
    (void)state;
    fixture *f = setup_with(0);
    cd_err err = {0};
    create(f, "mix", true);
    commit2(f, "mix", 0, 'a', 'b');
    assert_int_equal(catalog_publish(f->cat, "tutorial", "mix", 1, &err), CAT_OK);
    commit2(f, "mix", 1, 'c', 'd'); /* a draft */
    hub_process(f->h);
    client owner_part, owner_all, part, gz, all;
    client_open(f, &owner_part, "alice");
    client_open(f, &owner_all, "alice");
    client_open(f, &part, "bob");
    client_open(f, &gz, "bob");
    client_open(f, &all, "bob");
    hub_sub_gzip(gz.sub);
    const char *docs = "lessons/a.md";
    /* the owner's snapshots of version 2 come first, and are cached */
    assert_int_equal(hub_subscribe_item(f->h, owner_part.sub, "tutorial", "mix", -1, docs, &err),
                     0);
    assert_int_equal(hub_subscribe_item(f->h, owner_all.sub, "tutorial", "mix", -1, NULL, &err), 0);
    client_read(&owner_part);
    client_read(&owner_all);
    assert_non_null(strstr(got(&owner_part), "id: 2\nevent: snapshot\n"));
    assert_non_null(strstr(got(&owner_part), "\"documents\":{\"index.md\":{\"stub\":\"cccccccc\"},"
                                             "\"lessons/a.md\":{\"doc\":\"dddddddd\"}}"));
    assert_non_null(strstr(got(&owner_all), "id: 2\nevent: snapshot\n"));
    assert_int_equal(hub_subscribe_item(f->h, part.sub, "tutorial", "mix", -1, docs, &err), 0);
    assert_int_equal(hub_subscribe_item(f->h, gz.sub, "tutorial", "mix", -1, docs, &err), 0);
    assert_int_equal(hub_subscribe_item(f->h, all.sub, "tutorial", "mix", -1, NULL, &err), 0);
    client_read(&part);
    client_read(&gz);
    client_read(&all);
    assert_non_null(strstr(got(&part), "id: 1\nevent: snapshot\n"));
    assert_non_null(strstr(got(&part), "\"documents\":{\"index.md\":{\"stub\":\"aaaaaaaa\"},"
                                       "\"lessons/a.md\":{\"doc\":\"bbbbbbbb\"}}"));
    assert_null(strstr(got(&part), "cccccccc"));
    assert_non_null(strstr(got(&all), "id: 1\nevent: snapshot\n"));
    assert_non_null(strstr(got(&all), "\"documents\":{\"index.md\":{\"doc\":\"aaaaaaaa\"},"
                                      "\"lessons/a.md\":{\"doc\":\"bbbbbbbb\"}}"));
    assert_null(strstr(got(&all), "cccccccc"));
    size_t before = part.got.len;
    commit2(f, "mix", 2, 'e', 'd'); /* another draft: nothing for readers */
    hub_process(f->h);
    client_read(&part);
    assert_int_equal(part.got.len, before);
    assert_int_equal(catalog_publish(f->cat, "tutorial", "mix", 3, &err), CAT_OK);
    hub_process(f->h);
    client_read(&part);
    client_read(&gz);
    client_read(&all);
    const char *u = strstr(got(&part), "id: 3\nevent: update\n");
    const char *p = strstr(got(&part), "event: published\n");
    assert_true(u && p && u < p);
    assert_non_null(strstr(u, "\"version\":3,\"base_version\":1,\"documents\":{"
                              "\"index.md\":{\"stub\":\"eeeeeeee\"},"
                              "\"lessons/a.md\":{\"doc\":\"dddddddd\"}}"));
    assert_non_null(strstr(got(&all), "\"version\":3,\"base_version\":1,\"documents\":{"
                                      "\"index.md\":{\"doc\":\"eeeeeeee\"},"
                                      "\"lessons/a.md\":{\"doc\":\"dddddddd\"}}"));
    /* the gzip stream inflates to the plain one, the published event too */
    assert_int_equal(catalog_item_delete(f->cat, "tutorial", "mix", &err), CAT_OK);
    hub_process(f->h);
    assert_int_equal(client_read(&gz), HUB_READ_END);
    assert_int_equal(client_read(&part), HUB_READ_END);
    cd_buf text = CD_BUF_INIT;
    gunzip(&gz.got, &text);
    assert_int_equal(text.len, part.got.len);
    assert_memory_equal(text.data, part.got.data, text.len);
    cd_buf_free(&text);
    client_close(&owner_part);
    client_close(&owner_all);
    client_close(&part);
    client_close(&gz);
    client_close(&all);
    teardown_fixture(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_catch_up),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_delete_and_global),
        cmocka_unit_test(test_big_snapshot),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_gzip_shared),
        cmocka_unit_test(test_review_views),
        cmocka_unit_test(test_review_documents),
        cmocka_unit_test(test_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
