/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for hub/ along the path of docs/architecture.md ("From a save
 * to a subscriber"), with the hub's own thread: a commit to an embedded
 * catalog reaches the hub through its listener, the thread builds the
 * update and queues it, the transport is resumed from that thread, and
 * hub_sub_read() gives the frame.  No socket: the transport records what
 * the hub asks of it, and the test waits for it with a deadline.
 */
#include <pthread.h>
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
#include "support.h"

/* How long the hub's thread may take to deliver, however loaded the
 * machine. */
#define DEADLINE_MS 10000

static bool document(void *arg, const char *sha, bool full, cd_buf *out)
{
    (void)arg;
    cd_buf_printf(out, "{\"%s\":\"%.8s\"}", full ? "doc" : "stub", sha);
    return true;
}

/* A transport whose resumes come from the hub's thread. */
typedef struct transport {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int resumes;
} transport;

static void t_suspend(void *arg)
{
    (void)arg;
}

static void t_resume(void *arg)
{
    transport *t = arg;
    pthread_mutex_lock(&t->mu);
    t->resumes++;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

typedef struct client {
    transport t;
    hub_sub *sub;
    cd_buf got;
} client;

typedef struct fixture {
    char dir[64];
    catalog *cat;
    hub *h;
} fixture;

/* An embedded catalog with tutorial/path at version 1, and a started hub
 * listening to it. */
static fixture *setup(void)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    ts_tmpdir(f->dir, sizeof f->dir, "hubpath");
    cd_err err = {0};
    f->cat = catalog_open_sqlite(f->dir, &err);
    assert_non_null(f->cat);
    hub_config cfg = {.cat = f->cat, .document = document};
    f->h = hub_new(&cfg);
    assert_int_equal(catalog_listen(f->cat, hub_on_change, f->h), 0);
    catalog_item it = {.owner = (char *)"alice", .visibility = CAT_PUBLIC};
    snprintf(it.kind, sizeof it.kind, "tutorial");
    snprintf(it.name, sizeof it.name, "path");
    assert_int_equal(catalog_item_create(f->cat, &it, &err), CAT_OK);
    assert_int_equal(hub_start(f->h, &err), 0);
    return f;
}

static void teardown(fixture *f)
{
    hub_free(f->h);
    catalog_close(f->cat);
    ts_rmtree(f->dir);
    free(f);
}

/* Commits version base+1 of tutorial/path: index.md with digest d. */
static void commit(fixture *f, int64_t base, char d)
{
    catalog_file file = {.path = (char *)"index.md", .size = 1};
    memset(file.sha256, d, 64);
    file.sha256[64] = '\0';
    int64_t v = 0;
    bool created = false;
    cd_err err = {0};
    if (catalog_commit(f->cat, "tutorial", "path", base, &file, 1, NULL, NULL, &v, &created,
                       &err) != CAT_OK)
        fail_msg("commit %lld: %s", (long long)base, err.msg);
    assert_int_equal(v, base + 1);
}

static void client_open(fixture *f, client *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->t.mu, NULL);
    cd_cond_init_mono(&c->t.cv);
    hub_transport t = {.suspend = t_suspend, .resume = t_resume, .arg = &c->t};
    c->sub = hub_sub_new(f->h, "alice", NULL, &t);
}

static void client_close(client *c)
{
    hub_sub_detach(c->sub);
    hub_sub_unref(c->sub);
    cd_buf_free(&c->got);
    pthread_mutex_destroy(&c->t.mu);
    pthread_cond_destroy(&c->t.cv);
}

/* Reads what is queued; returns the last hub_sub_read() code. */
static ssize_t client_read(client *c)
{
    char buf[64];
    ssize_t n;
    while ((n = hub_sub_read(c->sub, buf, sizeof buf)) > 0)
        cd_buf_append(&c->got, buf, (size_t)n);
    return n;
}

/* Reads, waiting for each resume, until what was read holds want (NULL:
 * never) or the stream ends; returns the last hub_sub_read() code. */
static ssize_t client_wait_for(client *c, const char *want)
{
    int64_t deadline = cd_mono_ms() + DEADLINE_MS;
    for (;;) {
        pthread_mutex_lock(&c->t.mu);
        int seen = c->t.resumes;
        pthread_mutex_unlock(&c->t.mu);
        ssize_t rc = client_read(c);
        if (rc != HUB_READ_SUSPENDED || (want && c->got.data && strstr(c->got.data, want)))
            return rc;
        pthread_mutex_lock(&c->t.mu);
        while (c->t.resumes == seen && cd_mono_ms() < deadline)
            cd_cond_wait_until(&c->t.cv, &c->t.mu, deadline);
        bool late = c->t.resumes == seen;
        pthread_mutex_unlock(&c->t.mu);
        if (late)
            fail_msg("no %s within %d ms; read: %s", want ? want : "end", DEADLINE_MS,
                     c->got.data ? c->got.data : "");
    }
}

/* Commits reach an item's subscriber through the hub's thread, once each
 * and in order, and the global stream hears of each version. */
static void test_commits_reach_subscribers(void **state)
{
    (void)state;
    fixture *f = setup();
    commit(f, 0, 'a');
    client item, global;
    client_open(f, &item);
    client_open(f, &global);
    cd_err err = {0};
    assert_int_equal(hub_subscribe_item(f->h, item.sub, "tutorial", "path", 1, NULL, &err), 0);
    assert_int_equal(hub_subscribe_global(f->h, global.sub, &err), 0);
    assert_int_equal(client_read(&item), HUB_READ_SUSPENDED);
    assert_string_equal(item.got.data, "retry: 2000\n\n"); /* current: nothing else */
    commit(f, 1, 'b');
    commit(f, 2, 'c');
    assert_int_equal(client_wait_for(&item, "id: 3\n"), HUB_READ_SUSPENDED);
    const char *s = item.got.data;
    const char *u2 = strstr(s, "id: 2\nevent: update\n");
    const char *u3 = strstr(s, "id: 3\nevent: update\n");
    assert_true(u2 && u3 && u2 < u3);
    assert_non_null(strstr(u2, "\"version\":2,\"base_version\":1"));
    assert_non_null(strstr(u2, "{\"doc\":\"bbbbbbbb\"}"));
    assert_null(strstr(u3 + 1, "id: ")); /* nothing twice */
    /* Each version's global event names the item as the thread read it:
     * the last one, at least, says version 3. */
    assert_int_equal(client_wait_for(&global, "id: 3\nevent: version\n"), HUB_READ_SUSPENDED);
    hub_stats st;
    hub_stats_get(f->h, &st);
    assert_int_equal(st.item_subs, 1);
    assert_int_equal(st.global_subs, 1);
    client_close(&item);
    client_close(&global);
    teardown(f);
}

/* Shutting the hub down ends an open stream cleanly once what is queued
 * is out, and refuses new subscribers. */
static void test_shutdown_ends_streams(void **state)
{
    (void)state;
    fixture *f = setup();
    client c, late;
    client_open(f, &c);
    cd_err err = {0};
    assert_int_equal(hub_subscribe_item(f->h, c.sub, "tutorial", "path", -1, NULL, &err), 0);
    commit(f, 0, 'd');
    hub_shutdown(f->h);
    assert_int_equal(client_wait_for(&c, NULL), HUB_READ_END);
    assert_true(!strncmp(c.got.data, "retry: 2000\n\nid: 0\nevent: snapshot\n", 34));
    client_open(f, &late);
    assert_int_equal(hub_subscribe_global(f->h, late.sub, &err), HUB_CLOSED);
    hub_sub_free(late.sub);
    pthread_mutex_destroy(&late.t.mu);
    pthread_cond_destroy(&late.t.cv);
    client_close(&c);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commits_reach_subscribers),
        cmocka_unit_test(test_shutdown_ends_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
