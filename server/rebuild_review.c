/* SPDX-License-Identifier: MIT */
/*
 * The review part of `contentd rebuild-catalog`: once an item's versions
 * are replayed, its review record (`review/KIND/NAME.json`, written by
 * commit_review_record() before every change of them) gives back the
 * published version, the members with their roles and the share links —
 * by the SHA-256 of their token, so that a link sent before the rebuild
 * still works and a revoked one stays revoked (it is not in the record).
 * An item without a record was never published, shared or given members.
 */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    catalog *cat;
    const char *kind, *name;
    cd_err *err;
} review_rebuild;

/* A catalog refusal of one part of the record (a version that was not
 * rebuilt, a malformed entry) skips that part; a catalog that cannot be
 * reached stops the rebuild. */
static int part_done(review_rebuild *rr, int rc, const char *what)
{
    if (rc == CAT_OK)
        return 0;
    if (rc != CAT_NOT_FOUND && rc != CAT_ERROR)
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

int srv_rebuild_review(catalog *cat, blobstore *bs, const char *kind, const char *name, cd_err *err)
{
    json_t *rec = NULL;
    char *key = blobstore_review_key(kind, name);
    int rc = srv_load_json(bs, key, &rec, err);
    free(key);
    if (rc != 0 || !rec)
        return rc;
    review_rebuild rr = {cat, kind, name, err};
    json_t *pv = json_object_get(rec, "published_version");
    if (json_is_integer(pv) && json_integer_value(pv) > 0)
        rc = part_done(&rr, catalog_publish(cat, kind, name, json_integer_value(pv), err),
                       "the published version");
    if (rc == 0)
        rc = restore_members(&rr, json_object_get(rec, "members"));
    if (rc == 0)
        rc = restore_links(&rr, json_object_get(rec, "links"));
    json_decref(rec);
    if (err && rc == 0)
        err->msg[0] = '\0';
    return rc;
}
