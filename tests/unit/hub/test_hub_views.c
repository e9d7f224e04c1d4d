/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of what the hub's streams carry, in-process with no socket and
 * no thread (hub_fixture.h): whole documents and stubs (?documents=),
 * gzip streams compressed once for every subscriber, the views of review
 * and sharing (readers follow the published version, members the latest;
 * a role taken away or a link revoked ends the stream), and the findings
 * of the checks with every version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hub_fixture.h"
#include "support.h"

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
    ts_gunzip(&g1.got, &text);
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
    ts_gunzip(&gz.got, &text);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents),    cmocka_unit_test(test_gzip_shared),
        cmocka_unit_test(test_review_views), cmocka_unit_test(test_review_documents),
        cmocka_unit_test(test_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
