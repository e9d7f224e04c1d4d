/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of who may reach what in the SQLite catalog: members and
 * their roles, publishing, share links (catalog_review_*), comments, and
 * API tokens (create, look up, list, touch, delete).  Every test works in a fresh
 * temporary folder (catalog_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_fixture.h"

static void test_review(void **state)
{
    fixture *f = *state;
    int64_t v;
    bool created;
    create(f->c, "tutorial", "c1", "ann");
    assert_int_equal(catalog_publish(f->c, "tutorial", "c1", 1, NULL), CAT_NOT_FOUND);
    catalog_file a = file("index.md", 'a', 1), b = file("index.md", 'b', 2);
    assert_int_equal(commit(f->c, "c1", 0, &a, 1, &v, &created), CAT_OK);
    assert_int_equal(commit(f->c, "c1", 1, &b, 1, &v, &created), CAT_OK);
    assert_int_equal(catalog_publish(f->c, "tutorial", "c1", 3, NULL), CAT_NOT_FOUND);
    assert_int_equal(catalog_publish(f->c, "tutorial", "nope", 1, NULL), CAT_NOT_FOUND);
    assert_int_equal(catalog_publish(f->c, "tutorial", "c1", 1, NULL), CAT_OK);
    assert_int_equal(catalog_member_set(f->c, "tutorial", "c1", "zed", CAT_ROLE_EDITOR, NULL),
                     CAT_OK);
    assert_int_equal(catalog_member_set(f->c, "tutorial", "c1", "bo", CAT_ROLE_VIEWER, NULL),
                     CAT_OK);
    assert_int_equal(catalog_member_set(f->c, "tutorial", "c1", "bo", CAT_ROLE_REVIEWER, NULL),
                     CAT_OK);
    assert_int_equal(catalog_member_set(f->c, "tutorial", "c1", "cy", CAT_ROLE_NONE, NULL),
                     CAT_NOT_FOUND);
    catalog_item it;
    assert_int_equal(catalog_item_get(f->c, "tutorial", "c1", &it, NULL), CAT_OK);
    assert_int_equal(it.version, 2);
    assert_int_equal(it.published_version, 1);
    assert_int_equal(it.n_members, 2);
    assert_string_equal(it.members[0].user, "bo");
    assert_int_equal(it.members[0].role, CAT_ROLE_REVIEWER);
    assert_string_equal(it.members[1].user, "zed");
    assert_int_equal(catalog_version_for("ann", &it), 2);
    assert_int_equal(catalog_version_for("bo", &it), 2);
    assert_int_equal(catalog_version_for("cy", &it), 1);
    assert_int_equal(catalog_version_for(NULL, &it), 1);
    assert_true(catalog_can_see("bo", &it));
    assert_false(catalog_can_see("cy", &it));
    catalog_item_clear(&it);
    assert_int_equal(catalog_member_set(f->c, "tutorial", "c1", "zed", CAT_ROLE_NONE, NULL),
                     CAT_OK);
    catalog_item *items;
    size_t n;
    assert_int_equal(catalog_item_list(f->c, NULL, &items, &n, NULL), CAT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].n_members, 1);
    assert_int_equal(items[0].published_version, 1);
    catalog_items_free(items, n);
    /* A deleted item's members go with it. */
    assert_int_equal(catalog_item_delete(f->c, "tutorial", "c1", NULL), CAT_OK);
    create(f->c, "tutorial", "c1", "ann");
    assert_int_equal(catalog_item_get(f->c, "tutorial", "c1", &it, NULL), CAT_OK);
    assert_int_equal(it.n_members, 0);
    assert_int_equal(it.published_version, 0);
    catalog_item_clear(&it);
}

/* Comments: numbered from 1 per item, listed by id (per document or all),
 * resolved and reopened, announced, restored under their own id, and
 * gone with their item. */
static void test_comments(void **state)
{
    fixture *f = *state;
    int64_t v;
    bool created;
    create(f->c, "tutorial", "c1", "ann");
    create(f->c, "tutorial", "c2", "ann");
    catalog_file a = file("index.md", 'a', 1);
    assert_int_equal(commit(f->c, "c1", 0, &a, 1, &v, &created), CAT_OK);
    catalog_comment cm = {.user = (char *)"bo",
                          .version = 1,
                          .path = (char *)"index.md",
                          .block = (char *)"intro/p-2",
                          .body = (char *)"Say \"why\"."};
    memset(cm.block_hash, 'd', 64);
    /* Missing fields are refused before the store is touched. */
    catalog_comment bad = cm;
    bad.body = NULL;
    assert_int_equal(catalog_comment_add(f->c, "tutorial", "c1", &bad, NULL), CAT_ERROR);
    bad = cm;
    bad.block_hash[3] = 'X';
    assert_int_equal(catalog_comment_add(f->c, "tutorial", "c1", &bad, NULL), CAT_ERROR);
    assert_int_equal(catalog_comment_add(f->c, "tutorial", "nope", &cm, NULL), CAT_NOT_FOUND);
    assert_int_equal(cm.id, 0);
    assert_int_equal(catalog_comment_add(f->c, "tutorial", "c1", &cm, NULL), CAT_OK);
    assert_int_equal(cm.id, 1);
    assert_true(cm.created_at > 0);
    cm.id = 0;
    cm.created_at = 0;
    cm.reply_to = 1;
    cm.path = (char *)"other.md";
    assert_int_equal(catalog_comment_add(f->c, "tutorial", "c1", &cm, NULL), CAT_OK);
    assert_int_equal(cm.id, 2);
    cm.id = 0;
    assert_int_equal(catalog_comment_add(f->c, "tutorial", "c2", &cm, NULL), CAT_OK);
    assert_int_equal(cm.id, 1); /* each item counts its own */
    /* A restore keeps its id, and may not take one in use. */
    cm.id = 7;
    assert_int_equal(catalog_comment_add(f->c, "tutorial", "c1", &cm, NULL), CAT_OK);
    assert_int_equal(cm.id, 7);
    cm.id = 2;
    assert_int_equal(catalog_comment_add(f->c, "tutorial", "c1", &cm, NULL), CAT_EXISTS);

    catalog_comment *list = NULL;
    size_t n = 0;
    assert_int_equal(catalog_comment_list(f->c, "tutorial", "c1", NULL, &list, &n, NULL), CAT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, 1);
    assert_int_equal(list[1].id, 2);
    assert_int_equal(list[2].id, 7);
    assert_string_equal(list[0].body, "Say \"why\".");
    assert_string_equal(list[0].block, "intro/p-2");
    assert_string_equal(list[0].user, "bo");
    assert_int_equal(list[0].reply_to, 0);
    assert_int_equal(list[1].reply_to, 1);
    assert_false(list[0].resolved);
    cd_buf b = CD_BUF_INIT;
    catalog_json_comment(&b, &list[0]);
    assert_non_null(strstr(b.data, "\"body\":\"Say \\\"why\\\".\""));
    assert_non_null(strstr(b.data, "\"reply_to\":null"));
    cd_buf_free(&b);
    catalog_comments_free(list, n);
    assert_int_equal(catalog_comment_list(f->c, "tutorial", "c1", "index.md", &list, &n, NULL),
                     CAT_OK);
    assert_int_equal(n, 1);
    catalog_comments_free(list, n);

    assert_int_equal(catalog_comment_resolve(f->c, "tutorial", "c1", 1, true, NULL), CAT_OK);
    assert_int_equal(catalog_comment_resolve(f->c, "tutorial", "c1", 3, true, NULL), CAT_NOT_FOUND);
    catalog_comment got;
    assert_int_equal(catalog_comment_get(f->c, "tutorial", "c1", 1, &got, NULL), CAT_OK);
    assert_true(got.resolved);
    assert_string_equal(got.block_hash, cm.block_hash);
    catalog_comment_clear(&got);
    assert_int_equal(catalog_comment_resolve(f->c, "tutorial", "c1", 1, false, NULL), CAT_OK);
    assert_int_equal(catalog_comment_get(f->c, "tutorial", "c1", 1, &got, NULL), CAT_OK);
    assert_false(got.resolved);
    catalog_comment_clear(&got);
    assert_int_equal(catalog_comment_get(f->c, "tutorial", "c1", 3, &got, NULL), CAT_NOT_FOUND);

    /* A deleted item's comments go with it. */
    assert_int_equal(catalog_item_delete(f->c, "tutorial", "c1", NULL), CAT_OK);
    create(f->c, "tutorial", "c1", "ann");
    assert_int_equal(catalog_comment_list(f->c, "tutorial", "c1", NULL, &list, &n, NULL), CAT_OK);
    assert_int_equal(n, 0);
}

static void test_tokens(void **state)
{
    fixture *f = *state;
    catalog *c = f->c;
    int64_t n;
    char *user = NULL;
    assert_int_equal(catalog_token_count(c, &n, NULL), CAT_OK);
    assert_int_equal(n, 0);
    char sha[CD_SHA256_HEX];
    memset(sha, '7', 64);
    sha[64] = '\0';
    assert_int_equal(catalog_token_add(c, sha, "ann", NULL), CAT_OK);
    assert_int_equal(catalog_token_add(c, sha, "bob", NULL), CAT_EXISTS);
    assert_int_equal(catalog_token_add(c, "abc", "bob", NULL), CAT_ERROR);
    assert_int_equal(catalog_token_add(c, sha, "", NULL), CAT_ERROR);
    assert_int_equal(catalog_token_user(c, sha, &user, NULL), CAT_OK);
    assert_string_equal(user, "ann");
    free(user);
    sha[0] = '8';
    assert_int_equal(catalog_token_user(c, sha, &user, NULL), CAT_NOT_FOUND);
    assert_null(user);
    assert_int_equal(catalog_token_count(c, &n, NULL), CAT_OK);
    assert_int_equal(n, 1);
}

/* token list / revoke: creation order, last use kept at its latest, and a
 * deleted token unknown at once. */
static void test_token_list_touch_delete(void **state)
{
    fixture *f = *state;
    catalog *c = f->c;
    char a[65], b[65];
    memset(a, 'a', 64);
    memset(b, 'b', 64);
    a[64] = b[64] = '\0';
    assert_int_equal(catalog_token_add(c, a, "ann", NULL), CAT_OK);
    assert_int_equal(catalog_token_add(c, b, "bob", NULL), CAT_OK);
    assert_int_equal(catalog_token_touch(c, b, 5000, NULL), CAT_OK);
    assert_int_equal(catalog_token_touch(c, b, 4000, NULL), CAT_OK); /* older: kept at 5000 */
    catalog_token *t = NULL;
    size_t n = 0;
    assert_int_equal(catalog_token_list(c, &t, &n, NULL), CAT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].sha256, a);
    assert_string_equal(t[0].user, "ann");
    assert_true(t[0].created_at > 0);
    assert_int_equal(t[0].last_used_at, 0);
    assert_string_equal(t[1].user, "bob");
    assert_int_equal(t[1].last_used_at, 5000);
    catalog_tokens_free(t, n);
    assert_int_equal(catalog_token_delete(c, b, NULL), CAT_OK);
    assert_int_equal(catalog_token_delete(c, b, NULL), CAT_NOT_FOUND);
    char *user = NULL;
    assert_int_equal(catalog_token_user(c, b, &user, NULL), CAT_NOT_FOUND);
    assert_int_equal(catalog_token_touch(c, b, 6000, NULL), CAT_OK); /* no row appears */
    assert_int_equal(catalog_token_list(c, &t, &n, NULL), CAT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].user, "ann");
    catalog_tokens_free(t, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_review, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_list_touch_delete, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
