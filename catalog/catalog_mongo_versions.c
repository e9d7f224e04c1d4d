/* SPDX-License-Identifier: MIT */
/*
 * Versions in the MongoDB catalog: the commit of a new file list, the file
 * list of any kept version and the history.
 *
 * MongoDB updates one document atomically, and a commit touches two (the
 * new `versions` document and the item's `content` document), so the
 * commit is ordered to be safe without a transaction:
 *
 *  1. read the content document: base must be its version (else
 *     CAT_CONFLICT); an unchanged file list stops here (no version);
 *  2. insert the versions document KIND/NAME/next (base+1, or past a
 *     deleted predecessor's last version: catalog_next_version), tagged
 *     with a fresh commit id.  Its _id makes this the claim on it: a
 *     concurrent committer on the same base gets a duplicate key and
 *     CAT_CONFLICT;
 *  3. update the content document on {_id, inc, version: base, fenced ≠
 *     commit id}: new version, files, commit id, times.  Matching nothing
 *     means someone else moved the item on: CAT_CONFLICT.
 *
 * A crash between 2 and 3 leaves a versions document nothing points at;
 * readers never see it (only versions up to the item's current one are
 * read).  A later commit that meets it and finds it older than
 * MG_LEASE_MS takes it over: it first adds its commit id to the content
 * document's `fenced` list (so that its owner, should it still be alive,
 * can no longer complete step 3), then replaces it.  So the item never
 * points at a missing version, and the versions document of every version
 * up to the current one is the one its commit wrote.  Both writes use
 * majority write concern (set on the pool's URI).
 */
#include "catalog_mongo_int.h"

#include <stdlib.h>
#include <string.h>

/* What one commit works with. */
typedef struct commit_ctx {
    mg_catalog *c;
    mongoc_client_t *cl;
    const char *kind, *name;
    char key[MG_KEY_MAX];
    char vkey[MG_KEY_MAX + 24];
    int64_t base, now;
    int64_t next; /* the new version: catalog_next_version() */
    bson_oid_t inc, id;
    const catalog_file **files;
    size_t n;
    int changed;
    const char *title;
    const char *checks; /* the findings' JSON text, or NULL */
} commit_ctx;

static int conflict(const commit_ctx *x, int64_t current, cd_err *err)
{
    return cd_err_set(err, CAT_CONFLICT, "%s/%s is at version %lld, not %lld", x->kind, x->name,
                      (long long)current, (long long)x->base);
}

/* The item's content document (version, inc, commit and, with files,
 * its file list). */
static int read_item(commit_ctx *x, bool files, bson_t *doc, cd_err *err)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(x->key));
    bson_t *opts = BCON_NEW("projection", "{", "version", BCON_INT32(1), "inc", BCON_INT32(1),
                            "commit", BCON_INT32(1), "deleted_version", BCON_INT32(1), "}");
    if (files) {
        bson_destroy(opts);
        opts =
            BCON_NEW("projection", "{", "version", BCON_INT32(1), "inc", BCON_INT32(1), "commit",
                     BCON_INT32(1), "deleted_version", BCON_INT32(1), "files", BCON_INT32(1), "}");
    }
    int rc = mg_find_one(x->c, x->cl, "content", filter, opts, doc, err);
    if (rc == CAT_NOT_FOUND)
        cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", x->kind, x->name);
    bson_destroy(filter);
    bson_destroy(opts);
    return rc;
}

static bool same_oid(const bson_t *doc, const char *path, const bson_oid_t *want)
{
    bson_oid_t got;
    return mg_oid(doc, path, &got) && bson_oid_equal(&got, want);
}

/* After step 3 failed or its outcome is unknown: did our commit land? */
static int settle(commit_ctx *x, int rc, cd_err *err)
{
    bson_t doc;
    cd_err again = {0, ""};
    int r = read_item(x, false, &doc, &again);
    if (r == CAT_OK && same_oid(&doc, "commit", &x->id))
        rc = CAT_OK; /* it did (the driver's retry, or the reply was lost) */
    else if (r == CAT_OK && rc == CAT_CONFLICT)
        rc = conflict(x, mg_int64(&doc, "version", 0), err);
    else if (r == CAT_NOT_FOUND)
        rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", x->kind, x->name);
    bson_destroy(&doc);
    return rc;
}

/* Step 3. */
static int advance(commit_ctx *x, cd_err *err)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(x->key), "inc", BCON_OID(&x->inc), "version",
                              BCON_INT64(x->base), "fenced", "{", "$ne", BCON_OID(&x->id), "}");
    bson_t *update = bson_new(), set;
    BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
    BSON_APPEND_INT64(&set, "version", x->next);
    mg_append_files(&set, "files", x->files, x->n);
    BSON_APPEND_OID(&set, "commit", &x->id);
    BSON_APPEND_DATE_TIME(&set, "updated_at", x->now);
    BSON_APPEND_DATE_TIME(&set, "committed_at", x->now);
    if (x->title)
        BSON_APPEND_UTF8(&set, "title", x->title);
    bson_append_document_end(update, &set);
    BCON_APPEND(update, "$unset", "{", "fenced", BCON_UTF8(""), "}");
    mongoc_collection_t *col = mg_coll(x->c, x->cl, "content");
    bson_t reply;
    bson_error_t e;
    int rc = CAT_OK;
    if (!mongoc_collection_update_one(col, filter, update, NULL, &reply, &e))
        rc = settle(x, mg_fail(&e, err, "cannot commit"), err);
    else if (mg_int64(&reply, "matchedCount", 0) == 0)
        rc = settle(x, CAT_CONFLICT, err);
    if (rc != CAT_OK) {
        /* Our versions document is an orphan now: withdraw it if we can
         * (else a later commit takes it over after MG_LEASE_MS). */
        mongoc_collection_t *v = mg_coll(x->c, x->cl, "versions");
        bson_t *mine = BCON_NEW("_id", BCON_UTF8(x->vkey), "commit", BCON_OID(&x->id));
        bson_t *check = BCON_NEW("_id", BCON_UTF8(x->key), "commit", BCON_OID(&x->id));
        bson_t got;
        /* Never when the content document names it (an unknown outcome). */
        if (mg_find_one(x->c, x->cl, "content", check, NULL, &got, NULL) == CAT_NOT_FOUND)
            mongoc_collection_delete_one(v, mine, NULL, NULL, NULL);
        bson_destroy(&got);
        bson_destroy(check);
        bson_destroy(mine);
        mongoc_collection_destroy(v);
    }
    bson_destroy(&reply);
    mongoc_collection_destroy(col);
    bson_destroy(filter);
    bson_destroy(update);
    return rc;
}

static bson_t *version_doc(const commit_ctx *x)
{
    bson_t *doc =
        BCON_NEW("_id", BCON_UTF8(x->vkey), "item", BCON_UTF8(x->key), "inc", BCON_OID(&x->inc),
                 "v", BCON_INT64(x->next), "commit", BCON_OID(&x->id), "created_at",
                 BCON_DATE_TIME(x->now), "files_changed", BCON_INT32(x->changed));
    if (x->checks)
        BSON_APPEND_UTF8(doc, "checks", x->checks);
    mg_append_files(doc, "files", x->files, x->n);
    return doc;
}

/* Whether the versions document KIND/NAME/next is this commit's: how an
 * insert whose reply was lost (or that the driver retried after it had
 * landed) is told from another commit's claim. */
static bool version_is_mine(commit_ctx *x)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(x->vkey), "commit", BCON_OID(&x->id)), doc;
    bool mine = mg_find_one(x->c, x->cl, "versions", filter, NULL, &doc, NULL) == CAT_OK;
    bson_destroy(&doc);
    bson_destroy(filter);
    return mine;
}

/* Step 2, idempotent: our own document already there counts as stored. */
static int insert_version(commit_ctx *x, bool *dup, cd_err *err)
{
    bson_t *doc = version_doc(x);
    mongoc_collection_t *col = mg_coll(x->c, x->cl, "versions");
    bson_error_t e;
    int rc = CAT_OK;
    *dup = false;
    if (!mongoc_collection_insert_one(col, doc, NULL, NULL, &e) && !version_is_mine(x)) {
        *dup = mg_duplicate(&e);
        rc = *dup ? CAT_CONFLICT : mg_fail(&e, err, "cannot store a version");
    }
    mongoc_collection_destroy(col);
    bson_destroy(doc);
    return rc;
}

/* Step 2 met a versions document `next`: conflict while it may be in
 * flight, else fence its commit out and take its place. */
static int take_over(commit_ctx *x, cd_err *err)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(x->vkey)), other;
    int rc = mg_find_one(x->c, x->cl, "versions", filter, NULL, &other, err);
    bson_destroy(filter);
    bson_oid_t theirs;
    bool dup = false;
    if (rc == CAT_OK && !mg_oid(&other, "commit", &theirs))
        bson_oid_init(&theirs, NULL); /* malformed: fence nothing real */
    if (rc == CAT_OK && same_oid(&other, "inc", &x->inc) &&
        x->now - mg_date(&other, "created_at", 0) < MG_LEASE_MS)
        rc = cd_err_set(err, CAT_CONFLICT, "%s/%s: another commit on version %lld is in progress",
                        x->kind, x->name, (long long)x->base);
    if (rc == CAT_OK) {
        bson_t *q = BCON_NEW("_id", BCON_UTF8(x->key), "inc", BCON_OID(&x->inc), "version",
                             BCON_INT64(x->base));
        bson_t *u = BCON_NEW("$addToSet", "{", "fenced", BCON_OID(&theirs), "}");
        bson_t *gone = BCON_NEW("_id", BCON_UTF8(x->vkey), "commit", BCON_OID(&theirs)), reply;
        mongoc_collection_t *content = mg_coll(x->c, x->cl, "content");
        mongoc_collection_t *versions = mg_coll(x->c, x->cl, "versions");
        bson_error_t e;
        if (!mongoc_collection_update_one(content, q, u, NULL, &reply, &e))
            rc = mg_fail(&e, err, "cannot commit");
        else if (mg_int64(&reply, "matchedCount", 0) == 0)
            rc = settle(x, CAT_CONFLICT, err);
        else if (!mongoc_collection_delete_one(versions, gone, NULL, NULL, &e))
            rc = mg_fail(&e, err, "cannot commit");
        if (rc == CAT_OK)
            rc = insert_version(x, &dup, err);
        if (dup)
            rc = cd_err_set(err, CAT_CONFLICT, "%s/%s: another commit took version %lld", x->kind,
                            x->name, (long long)x->next);
        bson_destroy(&reply);
        mongoc_collection_destroy(content);
        mongoc_collection_destroy(versions);
        bson_destroy(q);
        bson_destroy(u);
        bson_destroy(gone);
    } else if (rc == CAT_NOT_FOUND) {
        /* Withdrawn meanwhile: one more try. */
        rc = insert_version(x, &dup, err);
        if (dup)
            rc = cd_err_set(err, CAT_CONFLICT, "%s/%s: another commit took version %lld", x->kind,
                            x->name, (long long)x->next);
    }
    bson_destroy(&other);
    return rc;
}

catalog_status mg_commit(catalog *cat, const char *kind, const char *name, int64_t base,
                         const catalog_file *files, size_t n, const char *title, const char *checks,
                         int64_t *new_version, bool *created, cd_err *err)
{
    commit_ctx x = {.c = (mg_catalog *)cat,
                    .kind = kind,
                    .name = name,
                    .base = base,
                    .n = n,
                    .title = title,
                    .checks = checks};
    *new_version = base;
    *created = false;
    x.files = catalog_files_sorted(files, n, err);
    if (!x.files)
        return CAT_ERROR;
    mg_item_key(x.key, kind, name);
    x.cl = mg_pop(x.c);
    bson_t cur;
    int rc = read_item(&x, true, &cur, err);
    int64_t current = rc == CAT_OK ? mg_int64(&cur, "version", 0) : 0;
    catalog_item it = {.version = current,
                       .deleted_version = rc == CAT_OK ? mg_int64(&cur, "deleted_version", 0) : 0};
    x.next = catalog_next_version(&it);
    mg_version_key(x.vkey, kind, name, x.next);
    if (rc == CAT_OK && current != base)
        rc = conflict(&x, current, err);
    if (rc == CAT_OK && !mg_oid(&cur, "inc", &x.inc))
        rc = cd_err_set(err, CAT_ERROR, "catalog: %s has no incarnation id", x.key);
    if (rc == CAT_OK)
        x.changed = mg_count_changes(&cur, "files", x.files, n);
    bson_destroy(&cur);
    if (rc != CAT_OK || x.changed == 0)
        goto out;
    bson_oid_init(&x.id, NULL);
    x.now = cd_now_ms();
    bool dup;
    rc = insert_version(&x, &dup, err);
    if (dup)
        rc = take_over(&x, err);
    if (rc == CAT_OK)
        rc = advance(&x, err);
    if (rc == CAT_OK) {
        *new_version = x.next;
        *created = true;
    }
out:
    mg_push(x.c, x.cl);
    free(x.files);
    if (*created)
        mg_local_version(x.c, kind, name, &x.inc, x.next, x.now);
    return rc;
}

catalog_status mg_files(catalog *cat, const char *kind, const char *name, int64_t version,
                        catalog_file **out, size_t *n, cd_err *err)
{
    commit_ctx x = {.c = (mg_catalog *)cat, .kind = kind, .name = name};
    *out = NULL;
    *n = 0;
    mg_item_key(x.key, kind, name);
    x.cl = mg_pop(x.c);
    bson_t cur, old;
    bson_init(&old);
    int rc = read_item(&x, true, &cur, err);
    int64_t current = mg_int64(&cur, "version", 0);
    int64_t v = version ? version : current;
    if (rc == CAT_OK && (v < 0 || v > current))
        rc = cd_err_set(err, CAT_NOT_FOUND, "no version %lld of %s/%s", (long long)v, kind, name);
    else if (rc == CAT_OK && v == current)
        rc = mg_read_files(&cur, "files", out, n, err);
    else if (rc == CAT_OK && !mg_oid(&cur, "inc", &x.inc))
        rc = cd_err_set(err, CAT_ERROR, "catalog: %s has no incarnation id", x.key);
    else if (rc == CAT_OK) {
        mg_version_key(x.vkey, kind, name, v);
        bson_t *filter = BCON_NEW("_id", BCON_UTF8(x.vkey), "inc", BCON_OID(&x.inc));
        bson_destroy(&old);
        rc = mg_find_one(x.c, x.cl, "versions", filter, NULL, &old, err);
        if (rc == CAT_NOT_FOUND)
            cd_err_set(err, CAT_NOT_FOUND, "no version %lld of %s/%s", (long long)v, kind, name);
        else if (rc == CAT_OK)
            rc = mg_read_files(&old, "files", out, n, err);
        bson_destroy(filter);
    }
    mg_push(x.c, x.cl);
    bson_destroy(&cur);
    bson_destroy(&old);
    return rc;
}

/* The versions document of version v (0: the current one) of the item,
 * into *doc (bson_destroy() it whatever the outcome). */
static int read_version(commit_ctx *x, int64_t v, bson_t *doc, cd_err *err)
{
    bson_t cur;
    bson_init(doc);
    int rc = read_item(x, false, &cur, err);
    int64_t current = mg_int64(&cur, "version", 0);
    if (v == 0)
        v = current;
    if (rc == CAT_OK && (v <= 0 || v > current))
        rc = cd_err_set(err, CAT_NOT_FOUND, "no version %lld of %s/%s", (long long)v, x->kind,
                        x->name);
    else if (rc == CAT_OK && !mg_oid(&cur, "inc", &x->inc))
        rc = cd_err_set(err, CAT_ERROR, "catalog: %s has no incarnation id", x->key);
    bson_destroy(&cur);
    if (rc != CAT_OK)
        return rc;
    mg_version_key(x->vkey, x->kind, x->name, v);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(x->vkey), "inc", BCON_OID(&x->inc));
    bson_t *opts = BCON_NEW("projection", "{", "checks", BCON_INT32(1), "}");
    bson_destroy(doc);
    rc = mg_find_one(x->c, x->cl, "versions", filter, opts, doc, err);
    if (rc == CAT_NOT_FOUND)
        cd_err_set(err, CAT_NOT_FOUND, "no version %lld of %s/%s", (long long)v, x->kind, x->name);
    bson_destroy(filter);
    bson_destroy(opts);
    return rc;
}

catalog_status mg_checks(catalog *cat, const char *kind, const char *name, int64_t version,
                         char **json, cd_err *err)
{
    commit_ctx x = {.c = (mg_catalog *)cat, .kind = kind, .name = name};
    mg_item_key(x.key, kind, name);
    x.cl = mg_pop(x.c);
    bson_t doc;
    int rc = read_version(&x, version, &doc, err);
    bson_iter_t it;
    if (rc == CAT_OK && bson_iter_init_find(&it, &doc, "checks") && BSON_ITER_HOLDS_UTF8(&it))
        *json = cd_xstrdup(bson_iter_utf8(&it, NULL));
    bson_destroy(&doc);
    mg_push(x.c, x.cl);
    return rc;
}

catalog_status mg_versions(catalog *cat, const char *kind, const char *name, catalog_version **out,
                           size_t *n, cd_err *err)
{
    commit_ctx x = {.c = (mg_catalog *)cat, .kind = kind, .name = name};
    *out = NULL;
    *n = 0;
    mg_item_key(x.key, kind, name);
    x.cl = mg_pop(x.c);
    bson_t cur;
    int rc = read_item(&x, false, &cur, err);
    if (rc == CAT_OK && !mg_oid(&cur, "inc", &x.inc))
        rc = cd_err_set(err, CAT_ERROR, "catalog: %s has no incarnation id", x.key);
    if (rc != CAT_OK)
        goto out;
    bson_t *filter = BCON_NEW("item", BCON_UTF8(x.key), "inc", BCON_OID(&x.inc), "v", "{", "$lte",
                              BCON_INT64(mg_int64(&cur, "version", 0)), "}");
    bson_t *opts =
        BCON_NEW("projection", "{", "v", BCON_INT32(1), "created_at", BCON_INT32(1),
                 "files_changed", BCON_INT32(1), "}", "sort", "{", "v", BCON_INT32(1), "}");
    mongoc_collection_t *col = mg_coll(x.c, x.cl, "versions");
    mongoc_cursor_t *it = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    const bson_t *doc;
    size_t cap = 0;
    while (mongoc_cursor_next(it, &doc)) {
        *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
        (*out)[(*n)++] = (catalog_version){mg_int64(doc, "v", 0), mg_date(doc, "created_at", 0),
                                           (int)mg_int64(doc, "files_changed", 0)};
    }
    bson_error_t e;
    if (mongoc_cursor_error(it, &e)) {
        rc = mg_fail(&e, err, "cannot read the history");
        free(*out);
        *out = NULL;
        *n = 0;
    }
    mongoc_cursor_destroy(it);
    mongoc_collection_destroy(col);
    bson_destroy(filter);
    bson_destroy(opts);
out:
    bson_destroy(&cur);
    mg_push(x.c, x.cl);
    return rc;
}
