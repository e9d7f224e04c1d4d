/* SPDX-License-Identifier: MIT */
/*
 * Review and sharing (CONTRACT "Review and sharing"): publishing a version
 * and the members of an item.  All of it is the owner's: anyone else who
 * may see the item gets 403, anyone who may not 404.  Every change is
 * announced by the catalog (CAT_EV_UPDATED), and the hub applies it to the
 * open streams: `event: published`, and streams of a member whose role
 * was taken away close.
 */
#include "api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- the review record ------------------------------------------------------ */

/* Every change below runs under the item's commit lock and writes the
 * item's review record (commit_review_record()) with the change made
 * before it makes the change in the catalog, as a title change writes the
 * item record: `contentd rebuild-catalog` then restores the state as it was
 * last.  A change the catalog refuses writes the record again from what
 * the catalog holds. */

typedef catalog_status (*store_fn)(http_req *r, const void *arg, cd_err *err);

static pthread_mutex_t *item_lock(http_req *r)
{
    pthread_mutex_t *mu = commit_lock(API(r)->commit, r->kind, r->name);
    pthread_mutex_lock(mu);
    return mu;
}

/* The record as the catalog has the item now. */
static void record_restore(http_req *r)
{
    catalog_item now = {0};
    cd_err err = {0};
    catalog_status rc = catalog_item_get(API(r)->cat, r->kind, r->name, &now, &err);
    commit_status st = rc == CAT_OK ? commit_review_record(API(r)->commit, &now, &err) : COMMIT_OK;
    if ((rc != CAT_OK && rc != CAT_NOT_FOUND) || st != COMMIT_OK)
        cd_log("warn", "review", "msg=\"review record not restored\" item=%s/%s err=\"%s\"",
               r->kind, r->name, err.msg);
    catalog_item_clear(&now);
}

/* Writes the record of `it` (the change made on it), then store()s the
 * change in the catalog.  Returns the catalog's status; *brc is the record's
 * (when it is not COMMIT_OK, the catalog was left alone). */
static catalog_status record_then_store(http_req *r, const catalog_item *it, store_fn store,
                                        const void *arg, commit_status *brc, cd_err *err)
{
    *brc = commit_review_record(API(r)->commit, it, err);
    if (*brc != COMMIT_OK)
        return CAT_OK;
    catalog_status rc = store(r, arg, err);
    if (rc != CAT_OK)
        record_restore(r);
    return rc;
}

/* ---- publishing ------------------------------------------------------------ */

static catalog_status store_publish(http_req *r, const void *arg, cd_err *err)
{
    return catalog_publish(API(r)->cat, r->kind, r->name, *(const int64_t *)arg, err);
}

enum MHD_Result api_publish(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    json_t *jv = json_object_get(body, "version");
    bool bad = jv && !json_is_null(jv) && (!json_is_integer(jv) || json_integer_value(jv) < 1);
    int64_t want = jv && json_is_integer(jv) ? (int64_t)json_integer_value(jv) : 0;
    json_decref(body);
    if (bad)
        return http_reply_error(r, 400, "invalid_version",
                                "\"version\" must be an integer >= 1, or omitted for the latest.");
    pthread_mutex_t *mu = item_lock(r);
    catalog_item it;
    if (!api_item_owned(r, &it)) {
        pthread_mutex_unlock(mu);
        return MHD_YES;
    }
    int64_t latest = it.version;
    if (!want)
        want = latest;
    it.published_version = want;
    catalog_status rc = CAT_OK;
    commit_status brc = COMMIT_OK;
    cd_err err = {0};
    if (latest)
        rc = record_then_store(r, &it, store_publish, &want, &brc, &err);
    pthread_mutex_unlock(mu);
    catalog_item_clear(&it);
    if (latest == 0)
        return http_reply_error(r, 409, "no_version",
                                "%s/%s has no version yet: push one before publishing.", r->kind,
                                r->name);
    if (brc != COMMIT_OK)
        return api_reply_record_error(r, brc, &err);
    if (rc == CAT_NOT_FOUND)
        return http_reply_error(r, 404, "not_found", "%s/%s has no version %lld.", r->kind, r->name,
                                (long long)want);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    return api_reply_item(r, 200, false);
}

enum MHD_Result api_members_get(http_req *r)
{
    catalog_item it;
    if (!api_item_owned(r, &it))
        return MHD_YES;
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"members\":");
    catalog_json_members(&b, &it);
    cd_buf_putc(&b, '}');
    catalog_item_clear(&it);
    return http_reply_json(r, 200, &b);
}

/* The USER of …/members/USER: false after a 400. */
static bool member_user(http_req *r)
{
    if (r->file_path && http_user_valid(r->file_path) && !strchr(r->file_path, '/'))
        return true;
    (void)http_reply_error(r, 400, "invalid_user",
                           "A user name is 1 to 64 letters, digits, '.', '_', '-' or '@'.");
    return false;
}

/* Makes the change on it: the member's role set, or (CAT_ROLE_NONE) the
 * member taken away; false when there is no such member to take away. */
static bool members_change(catalog_item *it, const char *user, catalog_role role)
{
    size_t i = 0;
    while (i < it->n_members && strcmp(it->members[i].user, user))
        i++;
    if (i < it->n_members && role != CAT_ROLE_NONE) {
        it->members[i].role = role;
    } else if (i < it->n_members) {
        free(it->members[i].user);
        memmove(&it->members[i], &it->members[i + 1],
                (it->n_members - i - 1) * sizeof *it->members);
        it->n_members--;
    } else if (role != CAT_ROLE_NONE) {
        it->members = cd_xrealloc(it->members, (it->n_members + 1) * sizeof *it->members);
        it->members[it->n_members++] = (catalog_member){cd_xstrdup(user), role};
    } else {
        return false;
    }
    return true;
}

static catalog_status store_role(http_req *r, const void *arg, cd_err *err)
{
    return catalog_member_set(API(r)->cat, r->kind, r->name, r->file_path,
                              *(const catalog_role *)arg, err);
}

/* Sets (or, with CAT_ROLE_NONE, removes) the role and replies with the
 * member list, or 204. */
static enum MHD_Result set_role(http_req *r, catalog_role role)
{
    pthread_mutex_t *mu = item_lock(r);
    catalog_item it;
    if (!api_item_owned(r, &it)) {
        pthread_mutex_unlock(mu);
        return MHD_YES;
    }
    bool is_owner = catalog_is_owner(r->file_path, &it);
    catalog_status rc = is_owner ? CAT_OK : CAT_NOT_FOUND;
    commit_status brc = COMMIT_OK;
    cd_err err = {0};
    if (!is_owner && members_change(&it, r->file_path, role))
        rc = record_then_store(r, &it, store_role, &role, &brc, &err);
    pthread_mutex_unlock(mu);
    catalog_item_clear(&it);
    if (is_owner)
        return http_reply_error(r, 422, "owner_role", "%s owns %s/%s: the owner needs no role.",
                                r->file_path, r->kind, r->name);
    if (brc != COMMIT_OK)
        return api_reply_record_error(r, brc, &err);
    if (rc == CAT_NOT_FOUND)
        return http_reply_error(r, 404, "not_found", "%s is no member of %s/%s.", r->file_path,
                                r->kind, r->name);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    return role == CAT_ROLE_NONE ? http_reply_empty(r, 204) : api_members_get(r);
}

enum MHD_Result api_member_put(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    catalog_role role = catalog_role_parse(json_string_value(json_object_get(body, "role")));
    json_decref(body);
    if (!member_user(r))
        return MHD_YES;
    if (role == CAT_ROLE_NONE)
        return http_reply_error(r, 400, "invalid_role",
                                "\"role\" must be \"viewer\", \"reviewer\" or \"editor\".");
    return set_role(r, role);
}

enum MHD_Result api_member_delete(http_req *r)
{
    if (!member_user(r))
        return MHD_YES;
    return set_role(r, CAT_ROLE_NONE);
}

/* ---- share links ---------------------------------------------------------- */

#define LINK_EXPIRES_DEFAULT_S (7 * 24 * 3600)
#define LINK_EXPIRES_MAX_S     (366 * 24 * 3600)

static void json_link(cd_buf *b, const catalog_link *l)
{
    cd_buf_printf(b, "{\"id\":\"%s\",\"version\":", l->id);
    if (l->version)
        cd_buf_printf(b, "%lld", (long long)l->version);
    else
        cd_buf_puts(b, "null");
    cd_buf_puts(b, ",\"expires_at\":");
    catalog_json_time(b, l->expires_at);
    cd_buf_puts(b, ",\"created_at\":");
    catalog_json_time(b, l->created_at);
}

/* The link's address: the preview page of the item, on the host the
 * request named. */
static void link_url(http_req *r, cd_buf *b, const char *token)
{
    const char *host = http_header(r, MHD_HTTP_HEADER_HOST);
    cd_buf u = CD_BUF_INIT;
    if (host && *host && !strpbrk(host, "\"\\/ "))
        cd_buf_printf(&u, "http://%s", host);
    cd_buf_printf(&u, "/preview/%s/%s?link=%s", r->kind, r->name, token);
    cd_json_str(b, u.data, u.len);
    cd_buf_free(&u);
}

/* The body of POST …/links: false after a 400. */
static bool link_body(http_req *r, int64_t *version, int64_t *expires_s)
{
    json_t *body = http_json_body(r);
    if (!body)
        return false;
    json_t *v = json_object_get(body, "version"), *e = json_object_get(body, "expires_in");
    bool ok_v = !v || json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 1);
    bool ok_e = !e || (json_is_integer(e) && json_integer_value(e) >= 1 &&
                       json_integer_value(e) <= LINK_EXPIRES_MAX_S);
    *version = v && json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    *expires_s = e && json_is_integer(e) ? (int64_t)json_integer_value(e) : LINK_EXPIRES_DEFAULT_S;
    json_decref(body);
    if (!ok_v)
        (void)http_reply_error(r, 400, "invalid_version",
                               "\"version\" must be an integer >= 1, or null for the latest.");
    else if (!ok_e)
        (void)http_reply_error(r, 400, "invalid_expires_in",
                               "\"expires_in\" must be a number of seconds from 1 to %d.",
                               LINK_EXPIRES_MAX_S);
    return ok_v && ok_e;
}

static catalog_status store_link_add(http_req *r, const void *arg, cd_err *err)
{
    return catalog_link_add(API(r)->cat, r->kind, r->name, arg, err);
}

static catalog_status store_link_delete(http_req *r, const void *arg, cd_err *err)
{
    (void)arg;
    return catalog_link_delete(API(r)->cat, r->kind, r->name, r->file_path, err);
}

enum MHD_Result api_links_post(http_req *r)
{
    int64_t version = 0, expires_s = 0;
    if (!link_body(r, &version, &expires_s))
        return MHD_YES;
    char *token = http_secret_new(HTTP_LINK_PREFIX), *id = http_secret_new("");
    if (!token || !id) {
        free(token);
        free(id);
        return http_reply_error(r, 503, "unavailable", "No random bytes for a link right now.");
    }
    catalog_link l = {.version = version, .created_at = cd_now_ms()};
    l.expires_at = l.created_at + expires_s * 1000;
    char id_hash[CD_SHA256_HEX]; /* the id: 16 hex digits of a random secret */
    cd_sha256_hex(id, strlen(id), id_hash);
    memcpy(l.id, id_hash, CATALOG_LINK_ID - 1);
    free(id);
    cd_sha256_hex(token, strlen(token), l.sha256);
    pthread_mutex_t *mu = item_lock(r);
    catalog_item it;
    if (!api_item_owned(r, &it)) {
        pthread_mutex_unlock(mu);
        free(token);
        return MHD_YES;
    }
    bool known = version <= it.version;
    catalog_status rc = CAT_OK;
    commit_status brc = COMMIT_OK;
    cd_err err = {0};
    if (known) {
        it.links = cd_xrealloc(it.links, (it.n_links + 1) * sizeof *it.links);
        it.links[it.n_links++] = l;
        rc = record_then_store(r, &it, store_link_add, &l, &brc, &err);
    }
    pthread_mutex_unlock(mu);
    catalog_item_clear(&it);
    if (!known || brc != COMMIT_OK || rc != CAT_OK)
        free(token);
    if (!known)
        return http_reply_error(r, 404, "not_found", "%s/%s has no version %lld.", r->kind, r->name,
                                (long long)version);
    if (brc != COMMIT_OK)
        return api_reply_record_error(r, brc, &err);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    cd_buf b = CD_BUF_INIT;
    json_link(&b, &l);
    cd_buf_printf(&b, ",\"token\":\"%s\",\"url\":", token);
    link_url(r, &b, token);
    cd_buf_putc(&b, '}');
    free(token);
    return http_reply_json(r, 201, &b);
}

enum MHD_Result api_links_get(http_req *r)
{
    catalog_item it;
    if (!api_item_owned(r, &it))
        return MHD_YES;
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"links\":[");
    for (size_t i = 0; i < it.n_links; i++) {
        if (i)
            cd_buf_putc(&b, ',');
        json_link(&b, &it.links[i]);
        cd_buf_putc(&b, '}');
    }
    cd_buf_puts(&b, "]}");
    catalog_item_clear(&it);
    return http_reply_json(r, 200, &b);
}

enum MHD_Result api_link_delete(http_req *r)
{
    pthread_mutex_t *mu = item_lock(r);
    catalog_item it;
    if (!api_item_owned(r, &it)) {
        pthread_mutex_unlock(mu);
        return MHD_YES;
    }
    size_t i = 0;
    while (i < it.n_links && strcmp(it.links[i].id, r->file_path))
        i++;
    catalog_status rc = CAT_NOT_FOUND;
    commit_status brc = COMMIT_OK;
    cd_err err = {0};
    if (i < it.n_links) {
        memmove(&it.links[i], &it.links[i + 1], (it.n_links - i - 1) * sizeof *it.links);
        it.n_links--;
        rc = record_then_store(r, &it, store_link_delete, NULL, &brc, &err);
    }
    pthread_mutex_unlock(mu);
    catalog_item_clear(&it);
    if (brc != COMMIT_OK)
        return api_reply_record_error(r, brc, &err);
    if (rc == CAT_NOT_FOUND)
        return http_reply_error(r, 404, "not_found", "%s/%s has no link %s.", r->kind, r->name,
                                r->file_path);
    if (rc != CAT_OK)
        return http_reply_cat_error(r, rc, &err);
    return http_reply_empty(r, 204);
}
