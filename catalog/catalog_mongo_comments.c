/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB catalog's comments: the `comments` collection, one document
 * per comment,
 *   {_id: "KIND/NAME/ID", item: "KIND/NAME", id, user, version, path, block,
 *    block_hash, body, reply_to, resolved, created_at}
 * An id is one past the item's highest, taken by inserting under that _id
 * and trying the next on a duplicate key (two replicas commenting at once
 * each get their own).  The watcher sees the collection (its stream is on
 * the database, catalog_mongo_watch.c) and announces each insert and
 * update as CAT_EV_COMMENT on every replica; so while it runs, a local
 * write is not announced again here.
 */
#include "catalog_mongo_int.h"

#include <stdlib.h>
#include <string.h>

#define COMMENT_ID_ATTEMPTS 16

static void comment_key(char out[MG_KEY_MAX + 24], const char *kind, const char *name, int64_t id)
{
    snprintf(out, MG_KEY_MAX + 24, "%s/%s/%lld", kind, name, (long long)id);
}

static void read_doc(const bson_t *doc, catalog_comment *cm)
{
    cm->id = mg_int64(doc, "id", 0);
    cm->user = mg_strdup(doc, "user");
    cm->version = mg_int64(doc, "version", 0);
    cm->path = mg_strdup(doc, "path");
    cm->block = mg_strdup(doc, "block");
    char *hash = mg_strdup(doc, "block_hash");
    snprintf(cm->block_hash, sizeof cm->block_hash, "%s", hash);
    free(hash);
    cm->body = mg_strdup(doc, "body");
    cm->reply_to = mg_int64(doc, "reply_to", 0);
    bson_iter_t it;
    cm->resolved = bson_iter_init_find(&it, doc, "resolved") && BSON_ITER_HOLDS_BOOL(&it) &&
                   bson_iter_bool(&it);
    cm->created_at = mg_date(doc, "created_at", 0);
}

/* Announces a comment change made here when no watcher will. */
static void local_comment(mg_catalog *c, const char *kind, const char *name, int64_t id)
{
    pthread_mutex_lock(&c->watch.mu);
    bool active = c->watch.active;
    pthread_mutex_unlock(&c->watch.mu);
    if (!active)
        catalog_emit(&c->base, CAT_EV_COMMENT, kind, name, id);
}

/* The highest comment id of item key (0: none). */
static int highest_id(mg_catalog *c, mongoc_client_t *cl, const char *key, int64_t *id, cd_err *err)
{
    bson_t *filter = BCON_NEW("item", BCON_UTF8(key)), doc;
    bson_t *opts = BCON_NEW("sort", "{", "id", BCON_INT32(-1), "}", "projection", "{", "id",
                            BCON_INT32(1), "}");
    int rc = mg_find_one(c, cl, "comments", filter, opts, &doc, err);
    *id = rc == CAT_OK ? mg_int64(&doc, "id", 0) : 0;
    bson_destroy(&doc);
    bson_destroy(filter);
    bson_destroy(opts);
    return rc == CAT_NOT_FOUND ? CAT_OK : rc;
}

static bson_t *comment_doc(const char *key, const char *id_key, const catalog_comment *cm)
{
    return BCON_NEW("_id", BCON_UTF8(id_key), "item", BCON_UTF8(key), "id", BCON_INT64(cm->id),
                    "user", BCON_UTF8(cm->user), "version", BCON_INT64(cm->version), "path",
                    BCON_UTF8(cm->path), "block", BCON_UTF8(cm->block), "block_hash",
                    BCON_UTF8(cm->block_hash), "body", BCON_UTF8(cm->body), "reply_to",
                    BCON_INT64(cm->reply_to), "resolved", BCON_BOOL(cm->resolved), "created_at",
                    BCON_DATE_TIME(cm->created_at));
}

/* Inserts cm under its id, or (fixed false) under the next free one. */
static int insert(mg_catalog *c, mongoc_client_t *cl, const char *kind, const char *name,
                  catalog_comment *cm, bool fixed, cd_err *err)
{
    char key[MG_KEY_MAX], id_key[MG_KEY_MAX + 24];
    mg_item_key(key, kind, name);
    mongoc_collection_t *col = mg_coll(c, cl, "comments");
    int rc = CAT_OK;
    for (int attempt = 0; attempt < COMMENT_ID_ATTEMPTS; attempt++) {
        if (!fixed) {
            int64_t top = 0;
            if ((rc = highest_id(c, cl, key, &top, err)) != CAT_OK)
                break;
            cm->id = top + 1;
        }
        comment_key(id_key, kind, name, cm->id);
        bson_t *doc = comment_doc(key, id_key, cm);
        bson_error_t e;
        bool ok = mongoc_collection_insert_one(col, doc, NULL, NULL, &e);
        bson_destroy(doc);
        if (ok) {
            rc = CAT_OK;
            break;
        }
        if (!mg_duplicate(&e)) {
            rc = mg_fail(&e, err, "cannot store a comment");
            break;
        }
        rc = cd_err_set(err, fixed ? CAT_EXISTS : CAT_CONFLICT, "there is a comment %lld already",
                        (long long)cm->id);
        if (fixed)
            break;
    }
    mongoc_collection_destroy(col);
    return rc;
}

catalog_status mg_comment_add(catalog *cat, const char *kind, const char *name, catalog_comment *cm,
                              cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(key)), doc;
    bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}");
    int64_t asked = cm->id;
    mongoc_client_t *cl = mg_pop(c);
    int rc = mg_find_one(c, cl, "content", filter, opts, &doc, err);
    bson_destroy(&doc);
    if (rc == CAT_NOT_FOUND)
        rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
    if (rc == CAT_OK)
        rc = insert(c, cl, kind, name, cm, asked != 0, err);
    mg_push(c, cl);
    bson_destroy(filter);
    bson_destroy(opts);
    if (rc == CAT_OK)
        local_comment(c, kind, name, cm->id);
    else
        cm->id = asked;
    return rc;
}

/* The comments matching filter, by id. */
static int find_many(mg_catalog *c, const bson_t *filter, catalog_comment **out, size_t *n,
                     cd_err *err)
{
    bson_t *opts = BCON_NEW("sort", "{", "id", BCON_INT32(1), "}");
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "comments");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    const bson_t *doc;
    size_t cap = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
        memset(&(*out)[*n], 0, sizeof **out);
        read_doc(doc, &(*out)[(*n)++]);
    }
    bson_error_t e;
    int rc = mongoc_cursor_error(cur, &e) ? mg_fail(&e, err, "cannot read comments") : CAT_OK;
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    bson_destroy(opts);
    if (rc != CAT_OK) {
        catalog_comments_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

catalog_status mg_comment_get(catalog *cat, const char *kind, const char *name, int64_t id,
                              catalog_comment *out, cd_err *err)
{
    char id_key[MG_KEY_MAX + 24];
    comment_key(id_key, kind, name, id);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id_key)), doc;
    mongoc_client_t *cl = mg_pop((mg_catalog *)cat);
    int rc = mg_find_one((mg_catalog *)cat, cl, "comments", filter, NULL, &doc, err);
    mg_push((mg_catalog *)cat, cl);
    if (rc == CAT_OK)
        read_doc(&doc, out);
    else if (rc == CAT_NOT_FOUND)
        cd_err_set(err, CAT_NOT_FOUND, "%s/%s has no comment %lld", kind, name, (long long)id);
    bson_destroy(&doc);
    bson_destroy(filter);
    return rc;
}

catalog_status mg_comment_list(catalog *cat, const char *kind, const char *name, const char *path,
                               catalog_comment **out, size_t *n, cd_err *err)
{
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    bson_t *filter = path ? BCON_NEW("item", BCON_UTF8(key), "path", BCON_UTF8(path))
                          : BCON_NEW("item", BCON_UTF8(key));
    int rc = find_many((mg_catalog *)cat, filter, out, n, err);
    bson_destroy(filter);
    return rc;
}

catalog_status mg_comment_resolve(catalog *cat, const char *kind, const char *name, int64_t id,
                                  bool resolved, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    char id_key[MG_KEY_MAX + 24];
    comment_key(id_key, kind, name, id);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id_key));
    /* $currentDate: an update that always changes the document, so the
     * change stream announces even a resolve of a resolved comment. */
    bson_t *update = BCON_NEW("$set", "{", "resolved", BCON_BOOL(resolved), "}", "$currentDate",
                              "{", "updated_at", BCON_BOOL(true), "}");
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "comments");
    bson_t reply;
    bson_error_t e;
    int rc = CAT_OK;
    if (!mongoc_collection_update_one(col, filter, update, NULL, &reply, &e))
        rc = mg_fail(&e, err, "cannot resolve a comment");
    else if (mg_int64(&reply, "matchedCount", 0) == 0)
        rc = cd_err_set(err, CAT_NOT_FOUND, "%s/%s has no comment %lld", kind, name, (long long)id);
    bson_destroy(&reply);
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    bson_destroy(filter);
    bson_destroy(update);
    if (rc == CAT_OK)
        local_comment(c, kind, name, id);
    return rc;
}

int mg_comments_delete(mg_catalog *c, mongoc_client_t *cl, const char *key, cd_err *err)
{
    bson_t *filter = BCON_NEW("item", BCON_UTF8(key));
    mongoc_collection_t *col = mg_coll(c, cl, "comments");
    bson_error_t e;
    int rc = mongoc_collection_delete_many(col, filter, NULL, NULL, &e)
                 ? CAT_OK
                 : mg_fail(&e, err, "cannot delete comments");
    mongoc_collection_destroy(col);
    bson_destroy(filter);
    return rc;
}

bool mg_comment_event_key(const char *id_key, char kind[CD_KIND_MAX], char name[CD_NAME_MAX],
                          int64_t *id)
{
    const char *slash = strrchr(id_key, '/');
    if (!slash || !cd_parse_i64(slash + 1, id) || *id < 1)
        return false;
    char item[MG_KEY_MAX];
    size_t len = (size_t)(slash - id_key);
    if (len >= sizeof item)
        return false;
    memcpy(item, id_key, len);
    item[len] = '\0';
    return mg_split_key(item, kind, name);
}
