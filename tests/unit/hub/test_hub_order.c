/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the hub's streams in time, in-process with no socket and no
 * thread (hub_fixture.h): updates in version order and once each, the
 * catch-up of a reconnecting subscriber, the bound of a queue and what
 * overflow does, keep-alives on the test's clock, the end of a deleted
 * item's streams, and a snapshot larger than the bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hub_fixture.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordering),          cmocka_unit_test(test_catch_up),
        cmocka_unit_test(test_overflow),          cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_delete_and_global), cmocka_unit_test(test_big_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
