/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the catalog's door (catalog/catalog.c) on a backend of
 * its own, written here: each op only records that it ran and returns
 * what the test set.  The door announces the changes: once per change
 * an op made (CAT_OK), with the values the op returned, none for a failed
 * op or a commit that made no version, and none at all for a backend
 * that announces its own (as the MongoDB one does), whose own
 * announcements reach the listeners once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "catalog_int.h"
#include "change_log.h"

typedef struct stub {
    catalog base;
    catalog_status rc;  /* what every op returns */
    int64_t version;    /* what the ops hand back as the item's version */
    bool made;          /* commit: whether it made a version */
    bool self_announce; /* announce each op's change from inside the op */
    char log[1024];     /* what the listener heard */
} stub;

static catalog_status stub_done(catalog *c, catalog_event ev, const char *kind, const char *name,
                                int64_t version)
{
    stub *s = (stub *)c;
    if (s->rc == CAT_OK && s->self_announce)
        catalog_emit(c, ev, kind, name, version);
    return s->rc;
}

static catalog_status stub_create(catalog *c, const catalog_item *it, cd_err *err)
{
    return stub_done(c, CAT_EV_CREATED, it->kind, it->name, 0);
}

static catalog_status stub_update(catalog *c, const char *kind, const char *name, const char *title,
                                  int visibility, int checks, int64_t *version, cd_err *err)
{
    *version = ((stub *)c)->version;
    return stub_done(c, CAT_EV_UPDATED, kind, name, *version);
}

static catalog_status stub_delete(catalog *c, const char *kind, const char *name, cd_err *err)
{
    return stub_done(c, CAT_EV_DELETED, kind, name, 0);
}

static catalog_status stub_commit(catalog *c, const char *kind, const char *name, int64_t base,
                                  const catalog_file *files, size_t n, const char *title,
                                  const char *checks, int64_t *new_version, bool *created,
                                  cd_err *err)
{
    stub *s = (stub *)c;
    *created = s->rc == CAT_OK && s->made;
    *new_version = *created ? s->version : base;
    if (!*created)
        return s->rc;
    return stub_done(c, CAT_EV_VERSION, kind, name, *new_version);
}

static catalog_status stub_publish(catalog *c, const char *kind, const char *name, int64_t version,
                                   int64_t *at_version, cd_err *err)
{
    *at_version = ((stub *)c)->version;
    return stub_done(c, CAT_EV_UPDATED, kind, name, *at_version);
}

static catalog_status stub_member_set(catalog *c, const char *kind, const char *name,
                                      const char *user, catalog_role role, int64_t *version,
                                      cd_err *err)
{
    *version = ((stub *)c)->version;
    return stub_done(c, CAT_EV_UPDATED, kind, name, *version);
}

static catalog_status stub_link_add(catalog *c, const char *kind, const char *name,
                                    const catalog_link *link, int64_t *version, cd_err *err)
{
    *version = ((stub *)c)->version;
    return stub_done(c, CAT_EV_UPDATED, kind, name, *version);
}

static catalog_status stub_link_delete(catalog *c, const char *kind, const char *name,
                                       const char *id, int64_t *version, cd_err *err)
{
    *version = ((stub *)c)->version;
    return stub_done(c, CAT_EV_UPDATED, kind, name, *version);
}

static catalog_status stub_comment_add(catalog *c, const char *kind, const char *name,
                                       catalog_comment *cm, cd_err *err)
{
    if (((stub *)c)->rc == CAT_OK)
        cm->id = 4;
    return stub_done(c, CAT_EV_COMMENT, kind, name, cm->id);
}

static catalog_status stub_comment_resolve(catalog *c, const char *kind, const char *name,
                                           int64_t id, bool resolved, cd_err *err)
{
    return stub_done(c, CAT_EV_COMMENT, kind, name, id);
}

static void stub_close(catalog *c)
{
}

#define STUB_OPS                                                                                   \
    .item_create = stub_create, .item_update = stub_update, .item_delete = stub_delete,            \
    .commit = stub_commit, .publish = stub_publish, .member_set = stub_member_set,                 \
    .link_add = stub_link_add, .link_delete = stub_link_delete, .comment_add = stub_comment_add,   \
    .comment_resolve = stub_comment_resolve, .close = stub_close

static const struct catalog_ops quiet_ops = {.name = "quiet", STUB_OPS};
static const struct catalog_ops announcing_ops = {
    .name = "announcing", .announces = true, STUB_OPS};

static void on_change(void *arg, catalog_event ev, const char *kind, const char *name,
                      int64_t version)
{
    stub *s = arg;
    change_log_add(s->log, sizeof s->log, ev, kind, name, version);
}

static void stub_open(stub *s, const struct catalog_ops *ops)
{
    memset(s, 0, sizeof *s);
    catalog_init(&s->base, ops);
    assert_int_equal(catalog_listen(&s->base, on_change, s), CAT_OK);
}

/* Every change op once, the backend at s->rc; what the listener heard. */
static const char *run_all(stub *s)
{
    catalog *c = &s->base;
    catalog_item it = {.kind = "tutorial", .name = "a", .owner = (char *)"ann"};
    catalog_file f = {.path = (char *)"index.md", .size = 1};
    memset(f.sha256, 'a', 64);
    catalog_link link = {.version = 1, .expires_at = 1};
    memset(link.id, 'b', CATALOG_LINK_ID - 1);
    memset(link.sha256, 'c', 64);
    catalog_comment cm = {.user = (char *)"ann",
                          .version = 1,
                          .path = (char *)"index.md",
                          .block = (char *)"top/p-1",
                          .body = (char *)"x"};
    memset(cm.block_hash, 'e', 64);
    int64_t v;
    bool created;
    catalog_status want = s->rc;
    s->version = 3;
    assert_int_equal(catalog_item_create(c, &it, NULL), want);
    s->made = true;
    assert_int_equal(catalog_commit(c, "tutorial", "a", 2, &f, 1, NULL, NULL, &v, &created, NULL),
                     want);
    s->made = false; /* the same file list: no version */
    assert_int_equal(catalog_commit(c, "tutorial", "a", 3, &f, 1, NULL, NULL, &v, &created, NULL),
                     want);
    s->version = 7;
    assert_int_equal(catalog_item_update(c, "tutorial", "a", "T", -1, -1, NULL), want);
    assert_int_equal(catalog_publish(c, "tutorial", "a", 3, NULL), want);
    assert_int_equal(catalog_member_set(c, "tutorial", "a", "bob", CAT_ROLE_EDITOR, NULL), want);
    assert_int_equal(catalog_link_add(c, "tutorial", "a", &link, NULL), want);
    assert_int_equal(catalog_link_delete(c, "tutorial", "a", link.id, NULL), want);
    assert_int_equal(catalog_comment_add(c, "tutorial", "a", &cm, NULL), want);
    assert_int_equal(catalog_comment_resolve(c, "tutorial", "a", 2, true, NULL), want);
    assert_int_equal(catalog_item_delete(c, "tutorial", "a", NULL), want);
    return s->log;
}

static const char every_change[] = "created tutorial/a 0;version tutorial/a 3;"
                                   "updated tutorial/a 7;updated tutorial/a 7;"
                                   "updated tutorial/a 7;updated tutorial/a 7;"
                                   "updated tutorial/a 7;comment tutorial/a 4;"
                                   "comment tutorial/a 2;deleted tutorial/a 0;";

/* A backend that announces nothing: the door tells each change once, with
 * the op's values (the committed version, the item's version, the new
 * comment's number). */
static void test_door_announces(void **state)
{
    stub s;
    stub_open(&s, &quiet_ops);
    assert_string_equal(run_all(&s), every_change);
}

/* Failed ops change nothing, so nothing is told. */
static void test_door_failures_quiet(void **state)
{
    stub s;
    stub_open(&s, &quiet_ops);
    s.rc = CAT_CONFLICT;
    assert_string_equal(run_all(&s), "");
    /* Arguments the door refuses never reach the backend. */
    s.rc = CAT_OK;
    assert_int_equal(catalog_item_delete(&s.base, "no-such-kind", "a", NULL), CAT_ERROR);
    assert_string_equal(s.log, "");
}

/* A backend that announces its own: each change reaches the listener once. */
static void test_backend_announces(void **state)
{
    stub s;
    stub_open(&s, &announcing_ops);
    s.self_announce = true;
    assert_string_equal(run_all(&s), every_change);
    /* ...and the door adds nothing of its own to it. */
    stub t;
    stub_open(&t, &announcing_ops);
    assert_string_equal(run_all(&t), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_door_announces),
        cmocka_unit_test(test_door_failures_quiet),
        cmocka_unit_test(test_backend_announces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
