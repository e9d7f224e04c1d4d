/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB backend of the catalog: production's, where several contentd
 * replicas share one catalog in a replica set.  This file opens the client
 * pool (libmongoc's mongoc_client_pool_t: every call pops a client for its
 * own use, so calls from many threads run in parallel), checks at start-up
 * that the deployment answers and is a replica set, creates the indexes,
 * and holds the ops table, items and tokens.  Versions are in
 * catalog_mongo_versions.c, the change-stream watcher in
 * catalog_mongo_watch.c.
 *
 * Options the URI does not set get defaults suited to a service that must
 * answer /readyz quickly: serverSelectionTimeoutMS 5000, connectTimeoutMS
 * 5000, socketTimeoutMS 30000, heartbeatFrequencyMS 2000.  Writes always
 * use majority write concern (wtimeout 10 s): an acknowledged commit
 * survives a failover, and the change stream (majority-committed reads)
 * sees it.
 */
#include "catalog_mongo_int.h"

#include <stdlib.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Driver warnings and errors become our log lines; its chatter is dropped. */
static void driver_log(mongoc_log_level_t level, const char *domain, const char *message, void *arg)
{
    if (level > MONGOC_LOG_LEVEL_WARNING)
        return;
    char q[768];
    mg_log(level == MONGOC_LOG_LEVEL_WARNING ? "warn" : "error",
           "event=driver domain=%s msg=\"%s\"", domain, mg_quote(message, q, sizeof q));
}

static void global_init(void)
{
    mongoc_init();
    mongoc_log_set_handler(driver_log, NULL);
}

/* ping: fails at once when the driver's monitor knows of no primary (no
 * server-selection wait: /readyz must answer quickly), else asks it. */
static catalog_status mg_ping(catalog *cat, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    mongoc_client_t *cl = mg_pop(c);
    size_t n = 0;
    mongoc_server_description_t **sds = mongoc_client_get_server_descriptions(cl, &n);
    bool primary = false;
    for (size_t i = 0; i < n; i++) {
        const char *type = mongoc_server_description_type(sds[i]);
        primary |= !strcmp(type, "RSPrimary") || !strcmp(type, "Mongos");
    }
    mongoc_server_descriptions_destroy_all(sds, n);
    int rc = CAT_OK;
    if (!primary) {
        rc = cd_err_set(err, CAT_UNAVAILABLE, "catalog: no MongoDB primary reachable at %s",
                        c->where);
    } else {
        bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
        bson_error_t e;
        if (!mongoc_client_command_simple(cl, "admin", cmd, NULL, NULL, &e))
            rc = mg_fail(&e, err, "MongoDB does not answer");
        bson_destroy(cmd);
    }
    mg_push(c, cl);
    return rc;
}

static const char *const item_fields[] = {"files", "fenced"};

static bson_t *item_projection(void)
{
    bson_t *opts = bson_new(), proj;
    BSON_APPEND_DOCUMENT_BEGIN(opts, "projection", &proj);
    for (size_t i = 0; i < sizeof item_fields / sizeof item_fields[0]; i++)
        BSON_APPEND_INT32(&proj, item_fields[i], 0);
    bson_append_document_end(opts, &proj);
    return opts;
}

static catalog_status mg_item_get(catalog *cat, const char *kind, const char *name,
                                  catalog_item *out, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    memset(out, 0, sizeof *out);
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(key)), *opts = item_projection(), doc;
    mongoc_client_t *cl = mg_pop(c);
    int rc = mg_find_one(c, cl, "content", filter, opts, &doc, err);
    mg_push(c, cl);
    if (rc == CAT_OK)
        mg_doc_item(&doc, out);
    else if (rc == CAT_NOT_FOUND)
        cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
    bson_destroy(&doc);
    bson_destroy(filter);
    bson_destroy(opts);
    return rc;
}

static catalog_status mg_item_list(catalog *cat, const char *kind, catalog_item **out, size_t *n,
                                   cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    *out = NULL;
    *n = 0;
    bson_t *filter = kind ? BCON_NEW("kind", BCON_UTF8(kind)) : bson_new();
    bson_t *opts = item_projection();
    BCON_APPEND(opts, "sort", "{", "kind", BCON_INT32(1), "name", BCON_INT32(1), "}");
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "content");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    const bson_t *doc;
    size_t cap = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
        mg_doc_item(doc, &(*out)[(*n)++]);
    }
    bson_error_t e;
    int rc = CAT_OK;
    if (mongoc_cursor_error(cur, &e)) {
        rc = mg_fail(&e, err, "cannot list items");
        catalog_items_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    bson_destroy(filter);
    bson_destroy(opts);
    return rc;
}

/* The last version of a deleted item under key (0: none). */
static int deleted_version(mg_catalog *c, mongoc_client_t *cl, const char *key, int64_t *out,
                           cd_err *err)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(key)), doc;
    int rc = mg_find_one(c, cl, "tombstones", filter, NULL, &doc, err);
    *out = rc == CAT_OK ? mg_int64(&doc, "version", 0) : 0;
    bson_destroy(&doc);
    bson_destroy(filter);
    return rc == CAT_NOT_FOUND ? CAT_OK : rc;
}

/* Raises the tombstone of key to version. */
static int raise_tombstone(mg_catalog *c, mongoc_client_t *cl, const char *key, int64_t version,
                           cd_err *err)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(key));
    bson_t *update = BCON_NEW("$max", "{", "version", BCON_INT64(version), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    mongoc_collection_t *col = mg_coll(c, cl, "tombstones");
    bson_error_t e;
    int rc = CAT_OK;
    if (!mongoc_collection_update_one(col, filter, update, opts, NULL, &e))
        rc = mg_fail(&e, err, "cannot record a deleted item's last version");
    mongoc_collection_destroy(col);
    bson_destroy(filter);
    bson_destroy(update);
    bson_destroy(opts);
    return rc;
}

static catalog_status mg_item_create(catalog *cat, const catalog_item *it, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    int rc = CAT_OK;
    int64_t now = it->created_at ? it->created_at : cd_now_ms();
    char key[MG_KEY_MAX];
    mg_item_key(key, it->kind, it->name);
    bson_oid_t inc;
    bson_oid_init(&inc, NULL);
    int64_t dv = 0;
    mongoc_client_t *cl = mg_pop(c);
    rc = deleted_version(c, cl, key, &dv, err);
    if (rc) {
        mg_push(c, cl);
        return rc;
    }
    bson_t *doc = BCON_NEW(
        "_id", BCON_UTF8(key), "kind", BCON_UTF8(it->kind), "name", BCON_UTF8(it->name), "owner",
        BCON_UTF8(it->owner), "title", BCON_UTF8(it->title ? it->title : ""), "visibility",
        BCON_UTF8(it->visibility == CAT_PUBLIC ? "public" : "private"), "version", BCON_INT64(0),
        "meta", BCON_INT64(0), "inc", BCON_OID(&inc), "created_at", BCON_DATE_TIME(now),
        "updated_at", BCON_DATE_TIME(now), "deleted_version", BCON_INT64(dv), "files", "[", "]");
    mongoc_collection_t *col = mg_coll(c, cl, "content");
    bson_error_t e;
    if (!mongoc_collection_insert_one(col, doc, NULL, NULL, &e))
        rc = mg_duplicate(&e)
                 ? cd_err_set(err, CAT_EXISTS, "%s/%s exists already", it->kind, it->name)
                 : mg_fail(&e, err, "cannot create an item");
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    bson_destroy(doc);
    if (rc == CAT_OK)
        mg_local_created(c, it->kind, it->name);
    return rc;
}

/* The update of item_update: a new title and/or visibility, updated_at,
 * and meta + 1 (so that the change stream tells it from a commit). */
static bson_t *meta_update(const char *title, int visibility, int checks)
{
    bson_t *u = bson_new(), set;
    BSON_APPEND_DOCUMENT_BEGIN(u, "$set", &set);
    if (title)
        BSON_APPEND_UTF8(&set, "title", title);
    if (visibility >= 0)
        BSON_APPEND_UTF8(&set, "visibility", visibility == CAT_PUBLIC ? "public" : "private");
    if (checks >= 0)
        BSON_APPEND_UTF8(&set, "checks", catalog_checks_mode_name((catalog_checks_mode)checks));
    BSON_APPEND_DATE_TIME(&set, "updated_at", cd_now_ms());
    bson_append_document_end(u, &set);
    BCON_APPEND(u, "$inc", "{", "meta", BCON_INT64(1), "}");
    return u;
}

int mg_meta_modify(mg_catalog *c, const char *kind, const char *name, const bson_t *query,
                   const bson_t *update, int64_t *at_version, cd_err *err)
{
    int rc = CAT_OK;
    bson_t *fields =
        BCON_NEW("inc", BCON_INT32(1), "meta", BCON_INT32(1), "version", BCON_INT32(1));
    mongoc_find_and_modify_opts_t *opts = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_update(opts, update);
    mongoc_find_and_modify_opts_set_fields(opts, fields);
    mongoc_find_and_modify_opts_set_flags(opts, MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "content");
    bson_t reply;
    bson_error_t e;
    bson_oid_t inc = {{0}};
    int64_t meta = 0, version = 0;
    if (!mongoc_collection_find_and_modify_with_opts(col, query, opts, &reply, &e)) {
        rc = mg_fail(&e, err, "cannot update an item");
    } else if (!mg_oid(&reply, "value.inc", &inc)) {
        rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
    } else {
        meta = mg_int64(&reply, "value.meta", 0);
        version = mg_int64(&reply, "value.version", 0);
    }
    bson_destroy(&reply);
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    mongoc_find_and_modify_opts_destroy(opts);
    bson_destroy(fields);
    *at_version = version;
    if (rc == CAT_OK)
        mg_local_meta(c, kind, name, &inc, meta, version);
    return rc;
}

static catalog_status mg_item_update(catalog *cat, const char *kind, const char *name,
                                     const char *title, int visibility, int checks,
                                     int64_t *version, cd_err *err)
{
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    bson_t *query = BCON_NEW("_id", BCON_UTF8(key)),
           *update = meta_update(title, visibility, checks);
    int rc = mg_meta_modify((mg_catalog *)cat, kind, name, query, update, version, err);
    bson_destroy(query);
    bson_destroy(update);
    return rc;
}

/* Records the item's last version in its tombstone, deletes the content
 * document, then the history: a failure in between leaves versions
 * documents of a dead incarnation, which nothing reads (they carry its
 * `inc`) and the next commit of that number replaces.  The tombstone is
 * written first (and raised again should a commit have landed meanwhile),
 * so a deleted item's version numbers are never handed out again. */
static catalog_status mg_item_delete(catalog *cat, const char *kind, const char *name, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    char key[MG_KEY_MAX];
    mg_item_key(key, kind, name);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(key)), *hist = BCON_NEW("item", BCON_UTF8(key));
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *content = mg_coll(c, cl, "content"),
                        *versions = mg_coll(c, cl, "versions");
    bson_t reply, doc, *proj = BCON_NEW("projection", "{", "version", BCON_INT32(1), "}");
    bson_error_t e;
    bson_oid_t inc;
    bson_init(&reply);
    int rc = mg_find_one(c, cl, "content", filter, proj, &doc, err);
    int64_t last = rc == CAT_OK ? mg_int64(&doc, "version", 0) : 0;
    bson_destroy(&doc);
    bson_destroy(proj);
    if (rc == CAT_NOT_FOUND)
        rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
    if (rc == CAT_OK)
        rc = raise_tombstone(c, cl, key, last, err);
    mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_REMOVE);
    cd_err again = {0, ""};
    if (rc == CAT_OK &&
        !mongoc_collection_find_and_modify_with_opts(content, filter, fam, &reply, &e))
        rc = mg_fail(&e, err, "cannot delete an item");
    else if (rc == CAT_OK && !mg_oid(&reply, "value.inc", &inc))
        rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
    else if (rc == CAT_OK && mg_int64(&reply, "value.version", 0) > last &&
             raise_tombstone(c, cl, key, mg_int64(&reply, "value.version", 0), &again) != CAT_OK)
        mg_log("error", "event=tombstone_behind item=%s", key);
    mongoc_find_and_modify_opts_destroy(fam);
    bson_destroy(&reply);
    if (rc == CAT_OK && !mongoc_collection_delete_many(versions, hist, NULL, NULL, &e)) {
        char q[512];
        mg_log("warn", "event=history_left item=%s err=\"%s\"", key,
               mg_quote(e.message, q, sizeof q));
    }
    if (rc == CAT_OK && mg_comments_delete(c, cl, key, &again) != CAT_OK)
        mg_log("warn", "event=comments_left item=%s", key);
    mongoc_collection_destroy(content);
    mongoc_collection_destroy(versions);
    mg_push(c, cl);
    bson_destroy(filter);
    bson_destroy(hist);
    if (rc == CAT_OK)
        mg_local_deleted(c, kind, name);
    return rc;
}

/* Tokens --------------------------------------------------------------------- */

static catalog_status mg_token_add(catalog *cat, const char *token_sha256, const char *user,
                                   cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    int rc = CAT_OK;
    bson_t *doc = BCON_NEW("_id", BCON_UTF8(token_sha256), "user", BCON_UTF8(user), "created_at",
                           BCON_DATE_TIME(cd_now_ms()));
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "tokens");
    bson_error_t e;
    if (!mongoc_collection_insert_one(col, doc, NULL, NULL, &e))
        rc = mg_duplicate(&e) ? cd_err_set(err, CAT_EXISTS, "this token exists already")
                              : mg_fail(&e, err, "cannot store a token");
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    bson_destroy(doc);
    return rc;
}

static catalog_status mg_token_user(catalog *cat, const char *token_sha256, char **user,
                                    cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    *user = NULL;
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(token_sha256 ? token_sha256 : "")), doc;
    mongoc_client_t *cl = mg_pop(c);
    int rc = mg_find_one(c, cl, "tokens", filter, NULL, &doc, err);
    mg_push(c, cl);
    if (rc == CAT_OK)
        *user = mg_strdup(&doc, "user");
    else if (rc == CAT_NOT_FOUND)
        cd_err_set(err, CAT_NOT_FOUND, "unknown token");
    bson_destroy(&doc);
    bson_destroy(filter);
    return rc;
}

static catalog_status mg_token_count(catalog *cat, int64_t *n, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    bson_t filter = BSON_INITIALIZER;
    mongoc_client_t *cl = mg_pop(c);
    mongoc_collection_t *col = mg_coll(c, cl, "tokens");
    bson_error_t e;
    int64_t count = mongoc_collection_count_documents(col, &filter, NULL, NULL, NULL, &e);
    mongoc_collection_destroy(col);
    mg_push(c, cl);
    *n = count < 0 ? 0 : count;
    return count < 0 ? mg_fail(&e, err, "cannot count the tokens") : CAT_OK;
}

/* Opening and closing ---------------------------------------------------------- */

static void mg_close(catalog *cat)
{
    mg_catalog *c = (mg_catalog *)cat;
    if (!c)
        return;
    mg_watch_stop(c);
    mg_watch_destroy(&c->watch);
    if (c->pool)
        mongoc_client_pool_destroy(c->pool);
    mongoc_uri_destroy(c->uri);
    free(c->db);
    free(c->where);
    free(c);
}

static const struct catalog_ops mongo_ops = {
    .name = "mongodb",
    .announces = true, /* through the watcher's record: catalog_mongo_announce.c */
    .ping = mg_ping,
    .item_get = mg_item_get,
    .item_list = mg_item_list,
    .item_create = mg_item_create,
    .item_update = mg_item_update,
    .item_delete = mg_item_delete,
    .commit = mg_commit,
    .files = mg_files,
    .versions = mg_versions,
    .checks = mg_checks,
    .token_add = mg_token_add,
    .token_user = mg_token_user,
    .token_count = mg_token_count,
    .token_list = mg_token_list,
    .token_delete = mg_token_delete,
    .token_touch = mg_token_touch,
    .publish = mg_publish,
    .member_set = mg_member_set,
    .link_add = mg_link_add,
    .link_delete = mg_link_delete,
    .link_find = mg_link_find,
    .comment_add = mg_comment_add,
    .comment_get = mg_comment_get,
    .comment_list = mg_comment_list,
    .comment_resolve = mg_comment_resolve,
    .close = mg_close,
    .watch_start = mg_watch_start,
    .watch_stop = mg_watch_stop_op,
    .watch_stats = mg_watch_stats,
};

/* A database name MongoDB accepts (and that cannot smuggle a namespace). */
static bool db_name_valid(const char *db)
{
    size_t n = strlen(db);
    return n > 0 && n < 64 && !strpbrk(db, "/\\. \"$*<>:|?");
}

static void set_default(mongoc_uri_t *uri, const char *option, int32_t value)
{
    if (!mongoc_uri_has_option(uri, option))
        mongoc_uri_set_option_as_int32(uri, option, value);
}

static void configure(mongoc_uri_t *uri)
{
    set_default(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 5000);
    set_default(uri, MONGOC_URI_CONNECTTIMEOUTMS, 5000);
    set_default(uri, MONGOC_URI_SOCKETTIMEOUTMS, 30000);
    set_default(uri, MONGOC_URI_HEARTBEATFREQUENCYMS, 2000);
    if (!mongoc_uri_get_appname(uri))
        mongoc_uri_set_appname(uri, "contentd");
    mongoc_write_concern_t *wc = mongoc_write_concern_new();
    mongoc_write_concern_set_wmajority(wc, 10000);
    mongoc_uri_set_write_concern(uri, wc);
    mongoc_write_concern_destroy(wc);
}

static char *hosts_of(const mongoc_uri_t *uri)
{
    cd_buf b = CD_BUF_INIT;
    for (const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri); h; h = h->next)
        cd_buf_printf(&b, "%s%s", b.len ? "," : "", h->host_and_port);
    if (!b.len)
        cd_buf_puts(&b, "(no hosts)");
    return cd_buf_steal(&b, NULL);
}

/* The start-up check: MongoDB answers `hello`, as a replica set member (or
 * mongos).  One sentence says what is wrong and what to do. */
static int check_deployment(mg_catalog *c, cd_err *err)
{
    mongoc_client_t *cl = mg_pop(c);
    bson_t *cmd = BCON_NEW("hello", BCON_INT32(1)), reply;
    bson_error_t e;
    int rc = CAT_OK;
    const char *set = mongoc_uri_get_replica_set(c->uri);
    if (!mongoc_client_command_simple(cl, "admin", cmd, NULL, &reply, &e)) {
        rc = cd_err_set(err, CAT_UNAVAILABLE, "catalog: MongoDB at %s is unreachable%s%s%s: %s",
                        c->where, set ? " or has no primary of replica set " : "", set ? set : "",
                        set ? " (is it a replica set member? change streams need one)" : "",
                        e.message);
    } else {
        char *name = mg_strdup(&reply, "setName"), *msg = mg_strdup(&reply, "msg");
        if (!*name && strcmp(msg, "isdbgrid") != 0)
            rc = cd_err_set(err, CAT_ERROR,
                            "catalog: MongoDB at %s is not a replica set member; contentd needs "
                            "a replica set for change streams (start mongod with --replSet NAME "
                            "and run rs.initiate(); one member is enough)",
                            c->where);
        free(name);
        free(msg);
    }
    bson_destroy(&reply);
    bson_destroy(cmd);
    mg_push(c, cl);
    return rc;
}

static int create_index(mg_catalog *c, mongoc_client_t *cl, const char *coll, bson_t *cmd,
                        cd_err *err)
{
    mongoc_database_t *db = mongoc_client_get_database(cl, c->db);
    bson_error_t e;
    int rc = CAT_OK;
    if (!mongoc_database_write_command_with_opts(db, cmd, NULL, NULL, &e))
        rc = cd_err_set(err, mg_unavailable(&e) ? CAT_UNAVAILABLE : CAT_ERROR,
                        "catalog: cannot create the indexes of %s.%s: %s", c->db, coll, e.message);
    mongoc_database_destroy(db);
    bson_destroy(cmd);
    return rc;
}

/* content: {kind, name} lists items in order (unique: one item per name);
 * versions: {item, v} reads a history in order. */
static int create_indexes(mg_catalog *c, cd_err *err)
{
    mongoc_client_t *cl = mg_pop(c);
    int rc = create_index(c, cl, "content",
                          BCON_NEW("createIndexes", "content", "indexes", "[", "{", "key", "{",
                                   "kind", BCON_INT32(1), "name", BCON_INT32(1), "}", "name",
                                   "kind_1_name_1", "unique", BCON_BOOL(true), "}", "]"),
                          err);
    if (rc == CAT_OK)
        rc = create_index(c, cl, "versions",
                          BCON_NEW("createIndexes", "versions", "indexes", "[", "{", "key", "{",
                                   "item", BCON_INT32(1), "v", BCON_INT32(1), "}", "name",
                                   "item_1_v_1", "}", "]"),
                          err);
    if (rc == CAT_OK) /* a share link's token is looked up by its digest */
        rc = create_index(c, cl, "content",
                          BCON_NEW("createIndexes", "content", "indexes", "[", "{", "key", "{",
                                   "links.sha256", BCON_INT32(1), "}", "name", "links.sha256_1",
                                   "sparse", BCON_BOOL(true), "}", "]"),
                          err);
    if (rc == CAT_OK) /* an item's comments, in order */
        rc = create_index(c, cl, "comments",
                          BCON_NEW("createIndexes", "comments", "indexes", "[", "{", "key", "{",
                                   "item", BCON_INT32(1), "id", BCON_INT32(1), "}", "name",
                                   "item_1_id_1", "}", "]"),
                          err);
    mg_push(c, cl);
    return rc;
}

catalog *catalog_open_mongo(const char *uri, const char *db, cd_err *err)
{
    pthread_once(&init_once, global_init);
    if (!db || !*db)
        db = "contentd";
    if (!db_name_valid(db)) {
        cd_err_set(err, CAT_ERROR, "catalog: '%s' is not a usable MongoDB database name", db);
        return NULL;
    }
    bson_error_t e;
    mongoc_uri_t *u = mongoc_uri_new_with_error(uri ? uri : "", &e);
    if (!u) {
        cd_err_set(err, CAT_ERROR, "catalog: invalid MongoDB URI: %s", e.message);
        return NULL;
    }
    configure(u);
    mg_catalog *c = cd_xcalloc(1, sizeof *c);
    catalog_init(&c->base, &mongo_ops);
    c->uri = u;
    c->db = cd_xstrdup(db);
    c->where = hosts_of(u);
    mg_watch_init(&c->watch);
    c->pool = mongoc_client_pool_new_with_error(u, &e);
    if (!c->pool) {
        cd_err_set(err, CAT_ERROR, "catalog: cannot use the MongoDB URI: %s", e.message);
        mg_close(&c->base);
        return NULL;
    }
    mongoc_client_pool_set_error_api(c->pool, MONGOC_ERROR_API_VERSION_2);
    if (check_deployment(c, err) != CAT_OK || create_indexes(c, err) != CAT_OK) {
        mg_close(&c->base);
        return NULL;
    }
    return &c->base;
}
