/* SPDX-License-Identifier: MIT */
/*
 * The review part of `contentd rebuild-catalog`: once an item's versions
 * are replayed, its review record (`review/KIND/NAME.json`, written by
 * commit_review_record() before every change of them) gives back the
 * published version, the members with their roles and the share links —
 * by the SHA-256 of their token, so that a link sent before the rebuild
 * still works and a revoked one stays revoked (it is not in the record).
 * An item without a record was never published, shared or given members.
 * Its comments come back from their own records
 * (`review/KIND/NAME/comments/ID.json`, the API's comment and its block's
 * digest), under their ids, except those made before the item was (of an
 * item deleted before it: the review record says when the item was made).
 * A comment record the blob store cannot read fails the rebuild, as an
 * unreadable manifest or review record does; a malformed one is skipped.
 */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    catalog *cat;
    blobstore *bs;
    const char *kind, *name;
    int64_t since; /* comments made before it are of a deleted item */
    catalog_comment *comments;
    size_t n_comments;
    int failed; /* a record that could not be read, which stopped the listing */
    cd_err *err;
} review_rebuild;

/* A catalog refusal of one part of the record (a version that was not
 * rebuilt, a malformed entry) skips that part; a catalog that cannot be
 * reached stops the rebuild. */
static int part_done(review_rebuild *rr, int rc, const char *what)
{
    if (rc == CAT_OK)
        return 0;
    if (rc != CAT_NOT_FOUND && rc != CAT_ERROR && rc != CAT_EXISTS)
        return rc;
    fprintf(stderr, "contentd: %s/%s: review record: %s not restored (%s)\n", rr->kind, rr->name,
            what, rr->err && rr->err->msg[0] ? rr->err->msg : "malformed");
    return 0;
}

static int restore_members(review_rebuild *rr, json_t *members)
{
    for (size_t i = 0; i < json_array_size(members); i++) {
        json_t *m = json_array_get(members, i);
        const char *user = json_string_value(json_object_get(m, "user"));
        catalog_role role = catalog_role_parse(json_string_value(json_object_get(m, "role")));
        int rc = user && http_user_valid(user) && role != CAT_ROLE_NONE
                     ? catalog_member_set(rr->cat, rr->kind, rr->name, user, role, rr->err)
                     : cd_err_set(rr->err, CAT_ERROR, "no user or no role");
        if ((rc = part_done(rr, rc, "a member")) != 0)
            return rc;
    }
    return 0;
}

/* The link entry e, or false when it is malformed. */
static bool link_of(json_t *e, catalog_link *l)
{
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *sha = json_string_value(json_object_get(e, "sha256"));
    json_t *v = json_object_get(e, "version");
    const char *exp = json_string_value(json_object_get(e, "expires_at"));
    const char *at = json_string_value(json_object_get(e, "created_at"));
    memset(l, 0, sizeof *l);
    if (!id || strlen(id) != CATALOG_LINK_ID - 1 || !sha || !cd_sha_valid(sha) ||
        !json_is_integer(v) || !exp)
        return false;
    memcpy(l->id, id, CATALOG_LINK_ID);
    memcpy(l->sha256, sha, CD_SHA256_HEX);
    l->version = json_integer_value(v);
    l->expires_at = srv_parse_time(exp);
    l->created_at = srv_parse_time(at);
    return true;
}

static int restore_links(review_rebuild *rr, json_t *links)
{
    for (size_t i = 0; i < json_array_size(links); i++) {
        json_t *e = json_array_get(links, i);
        catalog_link l;
        int rc = link_of(e, &l) ? catalog_link_add(rr->cat, rr->kind, rr->name, &l, rr->err)
                                : cd_err_set(rr->err, CAT_ERROR, "malformed");
        if ((rc = part_done(rr, rc, "a share link")) != 0)
            return rc;
    }
    return 0;
}

/* The comment record doc, or false when it is malformed. */
static bool comment_of(json_t *doc, catalog_comment *cm)
{
    json_t *id = json_object_get(doc, "id"), *v = json_object_get(doc, "version");
    json_t *reply = json_object_get(doc, "reply_to");
    const char *user = json_string_value(json_object_get(doc, "user"));
    const char *path = json_string_value(json_object_get(doc, "path"));
    const char *block = json_string_value(json_object_get(doc, "block"));
    const char *body = json_string_value(json_object_get(doc, "body"));
    const char *hash = json_string_value(json_object_get(doc, "block_hash"));
    memset(cm, 0, sizeof *cm);
    if (!json_is_integer(id) || json_integer_value(id) < 1 || !json_is_integer(v) || !user ||
        !http_user_valid(user) || !path || !block || !body || !hash || !cd_sha_valid(hash) ||
        !(json_is_null(reply) || json_is_integer(reply)))
        return false;
    cm->id = json_integer_value(id);
    cm->version = json_integer_value(v);
    cm->reply_to = json_is_integer(reply) ? json_integer_value(reply) : 0;
    cm->user = cd_xstrdup(user);
    cm->path = cd_xstrdup(path);
    cm->block = cd_xstrdup(block);
    cm->body = cd_xstrdup(body);
    memcpy(cm->block_hash, hash, CD_SHA256_HEX);
    cm->resolved = json_is_true(json_object_get(doc, "resolved"));
    cm->created_at = srv_parse_time(json_string_value(json_object_get(doc, "created_at")));
    return true;
}

/* blobstore_list() callback: reads one comment record into rr->comments.
 * A record the blob store cannot read stops the listing, which keeps the
 * failure (naming the record) in rr->failed: blobstore_list() itself says
 * only that it listed.  A record that says its comment was withdrawn (the
 * catalog refused it after the record was written) is skipped. */
static int note_comment(void *arg, const char *key)
{
    review_rebuild *rr = arg;
    size_t kl = strlen(key);
    if (kl < 5 || strcmp(key + kl - 5, ".json"))
        return 0;
    json_t *doc = NULL;
    cd_err lerr = {0};
    int rc = srv_load_json(rr->bs, key, &doc, &lerr);
    if (rc != 0) {
        rr->failed = cd_err_set(rr->err, rc, "%s cannot be read: %s", key, lerr.msg);
        return rr->failed;
    }
    catalog_comment cm;
    bool withdrawn = json_is_true(json_object_get(doc, "withdrawn"));
    bool ok = doc && !withdrawn && comment_of(doc, &cm);
    json_decref(doc);
    if (withdrawn)
        return 0;
    if (!ok) {
        fprintf(stderr, "contentd: %s/%s: %s is malformed; skipped\n", rr->kind, rr->name, key);
    } else if (cm.created_at < rr->since) {
        catalog_comment_clear(&cm); /* of an item deleted before this one */
    } else {
        rr->comments = cd_xrealloc(rr->comments, (rr->n_comments + 1) * sizeof cm);
        rr->comments[rr->n_comments++] = cm;
    }
    return 0;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const catalog_comment *)a)->id, y = ((const catalog_comment *)b)->id;
    return (x > y) - (x < y);
}

/* Every comment record of the item, added in the order of their ids (a
 * reply after what it answers). */
static int restore_comments(review_rebuild *rr)
{
    char prefix[CD_KIND_MAX + CD_NAME_MAX + 32];
    snprintf(prefix, sizeof prefix, "review/%s/%s/comments/", rr->kind, rr->name);
    int rc = blobstore_list(rr->bs, prefix, note_comment, rr, rr->err);
    if (rc == 0)
        rc = rr->failed;
    if (rr->n_comments)
        qsort(rr->comments, rr->n_comments, sizeof *rr->comments, by_id);
    for (size_t i = 0; rc == 0 && i < rr->n_comments; i++)
        rc = part_done(rr,
                       catalog_comment_add(rr->cat, rr->kind, rr->name, &rr->comments[i], rr->err),
                       "a comment");
    catalog_comments_free(rr->comments, rr->n_comments);
    rr->comments = NULL;
    rr->n_comments = 0;
    return rc;
}

int srv_rebuild_review(catalog *cat, blobstore *bs, const char *kind, const char *name, cd_err *err)
{
    json_t *rec = NULL;
    char *key = blobstore_review_key(kind, name);
    int rc = srv_load_json(bs, key, &rec, err);
    free(key);
    review_rebuild rr = {.cat = cat, .bs = bs, .kind = kind, .name = name, .err = err};
    if (rc == 0 && rec) {
        const char *since = json_string_value(json_object_get(rec, "item_created_at"));
        rr.since = since ? srv_parse_time(since) : 0;
        json_t *pv = json_object_get(rec, "published_version");
        if (json_is_integer(pv) && json_integer_value(pv) > 0)
            rc = part_done(&rr, catalog_publish(cat, kind, name, json_integer_value(pv), err),
                           "the published version");
        if (rc == 0)
            rc = restore_members(&rr, json_object_get(rec, "members"));
        if (rc == 0)
            rc = restore_links(&rr, json_object_get(rec, "links"));
    }
    json_decref(rec);
    if (rc == 0)
        rc = restore_comments(&rr);
    if (err && rc == 0)
        err->msg[0] = '\0';
    return rc;
}
