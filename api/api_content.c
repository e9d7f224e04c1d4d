/* SPDX-License-Identifier: MIT */
/*
 * The content items: list, create, read, change (title, visibility, checks
 * mode), delete, and version history.  Private items are visible to their owner
 * only: to anyone else they do not exist (404).  Changing or deleting a
 * public item of someone else is refused with 403.
 */
#include "api.h"

#include <stdlib.h>
#include <string.h>

#define TITLE_MAX 1024

catalog_status api_item_get_as(http_req *r, catalog_item *it, cd_err *err)
{
    memset(it, 0, sizeof *it);
    catalog_status rc = CAT_OK;
    if (r->link_sha256[0]) { /* a share link: of this item, and not expired */
        char kind[CD_KIND_MAX], name[CD_NAME_MAX];
        rc = catalog_link_find(API(r)->cat, r->link_sha256, kind, name, err);
        if (rc == CAT_OK && (strcmp(kind, r->kind) || strcmp(name, r->name)))
            rc = CAT_NOT_FOUND;
    }
    if (rc == CAT_OK)
        rc = catalog_item_get(API(r)->cat, r->kind, r->name, it, err);
    if (rc == CAT_OK) {
        const catalog_link *l = r->link_sha256[0] ? catalog_link_of(it, r->link_sha256) : NULL;
        bool ok =
            r->link_sha256[0] ? l && l->expires_at > cd_now_ms() : catalog_can_see(r->user, it);
        if (!ok) {
            catalog_item_clear(it);
            rc = CAT_NOT_FOUND;
        }
    }
    return rc;
}

enum MHD_Result api_reply_record_error(http_req *r, commit_status st, const cd_err *err)
{
    return http_reply_blob_error(r, st == COMMIT_UNAVAILABLE ? BLOB_UNAVAILABLE : BLOB_ERROR, err);
}

int64_t api_version_for(http_req *r, const catalog_item *it, bool *others)
{
    const catalog_link *l = r->link_sha256[0] ? catalog_link_of(it, r->link_sha256) : NULL;
    if (l) {
        *others = false;
        return l->version ? l->version : it->version;
    }
    *others = catalog_sees_drafts(r->user, it) || it->published_version <= 0;
    return catalog_version_for(r->user, it);
}

bool api_item_visible(http_req *r, catalog_item *it)
{
    cd_err err = {0};
    catalog_status rc = api_item_get_as(r, it, &err);
    if (rc == CAT_OK)
        return true;
    if (rc == CAT_NOT_FOUND)
        (void)http_reply_error(r, 404, "not_found", "No content item %s/%s.", r->kind, r->name);
    else
        (void)http_reply_cat_error(r, rc, &err);
    catalog_item_clear(it);
    return false;
}

bool api_item_owned(http_req *r, catalog_item *it)
{
    if (!api_item_visible(r, it))
        return false;
    if (it->owner && r->user && !strcmp(it->owner, r->user))
        return true;
    catalog_item_clear(it);
    (void)http_reply_error(r, 403, "forbidden", "Only the owner of %s/%s can change it.", r->kind,
                           r->name);
    return false;
}

enum MHD_Result api_content_list(http_req *r)
{
    char *kind = http_query(r, "kind");
    if (kind && !cd_kind_valid(kind)) {
        free(kind);
        return http_reply_error(r, 400, "invalid_kind",
                                "Unknown kind: expected tutorial, challenge, course, skill-path "
                                "or roadmap.");
    }
    catalog_item *items = NULL;
    size_t n = 0;
    cd_err err = {0};
    catalog_status rc = catalog_item_list(API(r)->cat, kind, &items, &n, &err);
    free(kind);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    cd_buf b = CD_BUF_INIT;
    catalog_json_visible_items(&b, r->user, items, n);
    catalog_items_free(items, n);
    return http_reply_json(r, 200, &b);
}

/* "private" / "public" → CAT_*, -1 when absent, -2 when bad. */
static int visibility_of(json_t *v)
{
    if (!v)
        return -1;
    const char *s = json_string_value(v);
    if (s && !strcmp(s, "private"))
        return CAT_PRIVATE;
    if (s && !strcmp(s, "public"))
        return CAT_PUBLIC;
    return -2;
}

/* The title member: NULL when absent; *bad when it is not a short string. */
static const char *title_of(json_t *body, bool *bad)
{
    json_t *t = json_object_get(body, "title");
    *bad = false;
    if (!t || json_is_null(t))
        return NULL;
    const char *s = json_string_value(t);
    if (!s || strlen(s) > TITLE_MAX) {
        *bad = true;
        return NULL;
    }
    return s;
}

enum MHD_Result api_reply_item(http_req *r, unsigned status, bool with_files)
{
    catalog_item it;
    if (!api_item_visible(r, &it))
        return MHD_YES;
    catalog_file *files = NULL;
    size_t n = 0;
    cd_err err = {0};
    it.version = catalog_version_for(r->user, &it); /* readers: the published one */
    if (with_files && it.version > 0) {
        catalog_status rc =
            catalog_files(API(r)->cat, r->kind, r->name, it.version, &files, &n, &err);
        if (rc != CAT_OK) {
            catalog_item_clear(&it);
            return http_reply_cat_error(r, rc, &err);
        }
    }
    cd_buf b = CD_BUF_INIT;
    catalog_json_item(&b, &it, files, with_files ? (long)n : -1);
    catalog_files_free(files, n);
    catalog_item_clear(&it);
    return http_reply_json(r, status, &b);
}

enum MHD_Result api_content_create(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *name = json_string_value(json_object_get(body, "name"));
    bool bad_title = false;
    const char *title = title_of(body, &bad_title);
    int vis = visibility_of(json_object_get(body, "visibility"));
    enum MHD_Result res = MHD_YES;
    if (!kind || !cd_kind_valid(kind))
        res = http_reply_error(r, 400, "invalid_kind",
                               "\"kind\" must be one of tutorial, challenge, course, skill-path, "
                               "roadmap.");
    else if (!name || !cd_name_valid(name))
        res = http_reply_error(r, 400, "invalid_name",
                               "\"name\" must match [a-z0-9][a-z0-9-]{0,62}.");
    else if (bad_title)
        res = http_reply_error(r, 400, "invalid_title",
                               "\"title\" must be a string of at most %d bytes.", TITLE_MAX);
    else if (vis == -2)
        res = http_reply_error(r, 400, "invalid_visibility",
                               "\"visibility\" must be \"private\" or \"public\".");
    if (r->responded) {
        json_decref(body);
        return res;
    }
    catalog_item it = {0};
    snprintf(it.kind, sizeof it.kind, "%s", kind);
    snprintf(it.name, sizeof it.name, "%s", name);
    it.owner = r->user;
    it.title = (char *)(title ? title : "");
    it.visibility = vis == CAT_PUBLIC ? CAT_PUBLIC : CAT_PRIVATE;
    it.created_at = it.updated_at = cd_now_ms();
    cd_err err = {0};
    catalog_status rc = catalog_item_create(API(r)->cat, &it, &err);
    json_decref(body);
    if (rc == CAT_EXISTS)
        return http_reply_error(r, 409, "already_exists", "The content item %s/%s exists already.",
                                it.kind, it.name);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    memcpy(r->kind, it.kind, sizeof r->kind);
    memcpy(r->name, it.name, sizeof r->name);
    return api_reply_item(r, 201, true);
}

enum MHD_Result api_item_get(http_req *r)
{
    return api_reply_item(r, 200, true);
}

enum MHD_Result api_item_patch(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    bool bad_title = false;
    const char *title = title_of(body, &bad_title);
    int vis = visibility_of(json_object_get(body, "visibility"));
    json_t *jc = json_object_get(body, "checks");
    int checks = jc ? catalog_checks_mode_parse(json_string_value(jc)) : -1;
    bool change = title || vis >= 0 || checks >= 0;
    catalog_item it;
    enum MHD_Result res = MHD_YES;
    if (bad_title)
        res = http_reply_error(r, 400, "invalid_title",
                               "\"title\" must be a string of at most %d bytes.", TITLE_MAX);
    else if (vis == -2)
        res = http_reply_error(r, 400, "invalid_visibility",
                               "\"visibility\" must be \"private\" or \"public\".");
    else if (jc && checks < 0)
        res = http_reply_error(r, 400, "invalid_checks",
                               "\"checks\" must be \"warn\" (findings are reported) or \"strict\" "
                               "(a version with an error is refused).");
    if (r->responded) {
        json_decref(body);
        return res;
    }
    /* Under the commit lock, so that the item record and a concurrent
     * version's manifest agree on what the item is. */
    pthread_mutex_t *mu = commit_lock(API(r)->commit, r->kind, r->name);
    pthread_mutex_lock(mu);
    cd_err err = {0};
    catalog_status rc = CAT_OK;
    commit_status brc = COMMIT_OK;
    if (!api_item_owned(r, &it)) {
        pthread_mutex_unlock(mu);
        json_decref(body);
        return MHD_YES;
    }
    if (checks >= 0)
        it.checks = (catalog_checks_mode)checks; /* for the item record */
    if (change)
        brc = commit_item_record(API(r)->commit, &it, title, vis, &err);
    if (brc == COMMIT_OK && change)
        rc = catalog_item_update(API(r)->cat, r->kind, r->name, title, vis, checks, &err);
    pthread_mutex_unlock(mu);
    catalog_item_clear(&it);
    json_decref(body);
    if (brc != COMMIT_OK)
        return api_reply_record_error(r, brc, &err);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    return api_reply_item(r, 200, true);
}

enum MHD_Result api_item_delete(http_req *r)
{
    catalog_item it;
    if (!api_item_owned(r, &it))
        return MHD_YES;
    pthread_mutex_t *mu = commit_lock(API(r)->commit, r->kind, r->name);
    pthread_mutex_lock(mu);
    /* An empty review record first: an item created again under this
     * KIND/NAME starts with no members, links or comments, also after a
     * rebuild (which skips review records older than created_at). */
    catalog_item gone = it;
    gone.created_at = cd_now_ms();
    gone.published_version = 0;
    gone.n_members = gone.n_links = 0;
    cd_err err = {0};
    commit_status brc = commit_review_record(API(r)->commit, &gone, &err);
    catalog_status rc =
        brc == COMMIT_OK ? catalog_item_delete(API(r)->cat, r->kind, r->name, &err) : CAT_OK;
    if (brc == COMMIT_OK && rc != CAT_OK &&
        commit_review_record(API(r)->commit, &it, NULL) != COMMIT_OK)
        cd_log("warn", "review", "msg=\"review record not restored\" item=%s/%s", r->kind, r->name);
    pthread_mutex_unlock(mu);
    catalog_item_clear(&it);
    if (brc != COMMIT_OK)
        return api_reply_record_error(r, brc, &err);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    return http_reply_empty(r, 204);
}

enum MHD_Result api_versions_get(http_req *r)
{
    catalog_item it;
    if (!api_item_visible(r, &it))
        return MHD_YES;
    int64_t shown = catalog_version_for(r->user, &it);
    catalog_item_clear(&it);
    catalog_version *v = NULL;
    size_t n = 0;
    cd_err err = {0};
    catalog_status rc = catalog_versions(API(r)->cat, r->kind, r->name, &v, &n, &err);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_putc(&b, '[');
    for (size_t i = 0, k = 0; i < n; i++) {
        if (v[i].version > shown)
            continue; /* a reader of the published version sees no later draft */
        cd_buf_printf(&b, "%s{\"version\":%lld,\"updated_at\":", k++ ? "," : "",
                      (long long)v[i].version);
        catalog_json_time(&b, v[i].created_at);
        cd_buf_printf(&b, ",\"files_changed\":%d}", v[i].files_changed);
    }
    cd_buf_putc(&b, ']');
    free(v);
    return http_reply_json(r, 200, &b);
}

enum MHD_Result api_version_checks(http_req *r)
{
    catalog_item it;
    if (!api_item_visible(r, &it))
        return MHD_YES;
    char *json = NULL;
    cd_err err = {0};
    /* a reader of the published version: no later draft's findings */
    commit_status rc = r->version > catalog_version_for(r->user, &it)
                           ? (commit_status)cd_err_set(&err, COMMIT_NOT_FOUND, "no version %lld",
                                                       (long long)r->version)
                           : commit_version_checks(API(r)->commit, &it, r->version, &json, &err);
    catalog_item_clear(&it);
    if (rc == COMMIT_NOT_FOUND)
        return http_reply_error(r, 404, "not_found", "No version %lld of %s/%s.",
                                (long long)r->version, r->kind, r->name);
    if (rc != COMMIT_OK) /* the catalog's findings, or the checks run now */
        return http_reply_cat_error(r, rc == COMMIT_UNAVAILABLE ? CAT_UNAVAILABLE : CAT_ERROR,
                                    &err);
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"checks\":%s}", json);
    free(json);
    return http_reply_json(r, 200, &b);
}
