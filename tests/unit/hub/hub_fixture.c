/* SPDX-License-Identifier: MIT */
/*
 * The hub tests' fixture (hub_fixture.h): the catalog, the hub, the fake
 * transport, clock and render cache, and the subscribers of the tests.
 */
#include "hub_fixture.h"
#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int64_t fake_now;

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

fixture *setup_bounded(uint32_t max_events, size_t max_bytes)
{
    fixture *f = cd_xcalloc(1, sizeof *f);
    ts_tmpdir(f->dir, sizeof f->dir, "hub");
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

fixture *setup_with(uint32_t max_events)
{
    return setup_bounded(max_events, 0);
}

void teardown_fixture(fixture *f)
{
    hub_free(f->h);
    catalog_close(f->cat);
    ts_rmtree(f->dir);
    free(f);
}

void create(fixture *f, const char *name, bool public)
{
    catalog_item it = {.owner = (char *)"alice", .visibility = public ? CAT_PUBLIC : CAT_PRIVATE};
    snprintf(it.kind, sizeof it.kind, "tutorial");
    snprintf(it.name, sizeof it.name, "%s", name);
    cd_err err = {0};
    assert_int_equal(catalog_item_create(f->cat, &it, &err), CAT_OK);
}

void commit_full(fixture *f, const char *name, int64_t base, char d, char l, const char *checks)
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

void commit(fixture *f, const char *name, int64_t base, char d)
{
    commit_full(f, name, base, d, 0, NULL);
}

void commit2(fixture *f, const char *name, int64_t base, char d, char l)
{
    commit_full(f, name, base, d, l, NULL);
}

void commit_checks(fixture *f, const char *name, int64_t base, char d, const char *checks)
{
    commit_full(f, name, base, d, 0, checks);
}

void client_open(fixture *f, client *c, const char *user)
{
    memset(c, 0, sizeof *c);
    hub_transport t = {.suspend = t_suspend, .resume = t_resume, .cut = t_cut, .arg = &c->t};
    c->sub = hub_sub_new(f->h, user, NULL, &t);
}

ssize_t client_read(client *c)
{
    char buf[7]; /* small: frames are copied across reads */
    ssize_t n;
    while ((n = hub_sub_read(c->sub, buf, sizeof buf)) > 0)
        cd_buf_append(&c->got, buf, (size_t)n);
    return n;
}

void client_close(client *c)
{
    hub_sub_detach(c->sub);
    hub_sub_unref(c->sub);
    cd_buf_free(&c->got);
}

const char *got(client *c)
{
    return c->got.data ? c->got.data : "";
}
