/* SPDX-License-Identifier: MIT */
/*
 * The MongoDB catalog's private declarations, shared by its files:
 * catalog_mongo.c (opening, items, tokens), catalog_mongo_versions.c
 * (commits and history), catalog_mongo_bson.c (errors and documents),
 * catalog_mongo_watch.c (the change-stream thread) and
 * catalog_mongo_announce.c (which change has been announced).
 *
 * Documents (collection: shape):
 *   content:  {_id: "KIND/NAME", kind, name, owner, title, visibility:
 *              "private"|"public", version, meta, inc, commit, created_at,
 *              updated_at, committed_at, files: [{path, sha256, size, type}],
 *              published_version, members: [{user, role}] (sorted by user),
 *              links: [{id, sha256, version, expires_at, created_at}],
 *              fenced: [commit ids] (only while an orphan is taken over)}
 *   versions: {_id: "KIND/NAME/V", item: "KIND/NAME", inc, v, commit,
 *              created_at, files_changed, files: [...]}
 *   tokens:   {_id: SHA256, user, created_at}
 *   comments: {_id: "KIND/NAME/ID", item: "KIND/NAME", id, user, version,
 *              path, block, block_hash, body, reply_to, resolved, created_at}
 *              (catalog_mongo_comments.c)
 *   tombstones: {_id: "KIND/NAME", version}: the last version of a deleted
 *              item; an item created again under its name takes it as
 *              `deleted_version` (in its content document) and goes on
 *              counting from it
 * `inc` (an ObjectId made by item_create) tells one incarnation of an item
 * from another of the same name; `meta` counts title/visibility changes;
 * `commit` names the commit attempt that made the version.
 */
#ifndef CONTENTD_CATALOG_MONGO_INT_H
#define CONTENTD_CATALOG_MONGO_INT_H

#include <mongoc/mongoc.h>
#include <pthread.h>

#include "catalog_int.h"

/* A versions document younger than this whose commit has not reached the
 * content document is taken to be in flight (the second committer gets
 * CAT_CONFLICT); an older one is an orphan left by a failed commit and is
 * taken over (catalog_mongo_versions.c). */
#define MG_LEASE_MS 5000
/* How long a change-stream getMore waits on a quiet stream: also how long
 * closing the catalog may wait for the watcher thread. */
#define MG_AWAIT_MS 1000
#define MG_KEY_MAX  96

typedef struct mg_entry mg_entry;

/* The watcher: the thread, its resume token and backoff, and the record of
 * what has been announced per item (guarded by mu, which is also held
 * while c->on_change runs, so that announcements are serialised). */
typedef struct mg_watch {
    pthread_mutex_t mu;
    bool active;    /* announcements go through the record (under mu) */
    cd_htab table;  /* mg_entry by key */
    uint64_t sweep; /* mark for the resync's sweep of vanished items */
    catalog_watch_stats stats;

    pthread_t thread;
    bool started;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    bool stop;
    mongoc_client_t *client;        /* the watcher thread's own, from the pool */
    mongoc_change_stream_t *stream; /* NULL while not open */
    bson_t *token;                  /* latest resume token, or NULL: start from now */
    int64_t backoff_ms;
} mg_watch;

typedef struct mg_catalog {
    catalog base;
    mongoc_uri_t *uri;
    mongoc_client_pool_t *pool;
    char *db;
    char *where; /* the hosts of the URI, for messages */
    mg_watch watch;
} mg_catalog;

/* One change, as the announcement record sees it (from a change event, a
 * catalog scan, or a local write). */
typedef struct mg_change {
    enum { MG_CH_INSERT, MG_CH_UPDATE, MG_CH_REPLACE, MG_CH_DELETE } op;
    char key[MG_KEY_MAX]; /* "KIND/NAME" */
    bool has_version, has_meta, has_inc;
    int64_t version, meta, committed_at;
    bson_oid_t inc;
} mg_change;

/* Tokens beyond add/user/count (catalog_mongo_tokens.c) ---------------- */

catalog_status mg_token_list(catalog *cat, catalog_token **out, size_t *n, cd_err *err);
catalog_status mg_token_delete(catalog *cat, const char *token_sha256, cd_err *err);
catalog_status mg_token_touch(catalog *cat, const char *token_sha256, int64_t at_ms, cd_err *err);

/* Errors and documents (catalog_mongo_bson.c) -------------------------- */

/* Fills err with what failed and the driver's message; returns
 * CAT_UNAVAILABLE for network, server-selection and "not primary /
 * shutting down" errors, CAT_ERROR otherwise. */
int mg_fail(const bson_error_t *e, cd_err *err, const char *what);
bool mg_unavailable(const bson_error_t *e);
bool mg_duplicate(const bson_error_t *e);

/* One log line on stderr, `ts=... level=LEVEL mod=catalog ` then the
 * formatted key=value pairs; mg_quote() makes a value safe to put in
 * double quotes (it returns buf). */
void mg_log(const char *level, const char *fmt, ...) CD_PRINTF(2, 3);
const char *mg_quote(const char *s, char *buf, size_t n);

/* A client from the pool for the calling thread, until mg_push(). */
mongoc_client_t *mg_pop(mg_catalog *c);
void mg_push(mg_catalog *c, mongoc_client_t *cl);
/* A collection handle of the catalog's database; mongoc_collection_destroy. */
mongoc_collection_t *mg_coll(mg_catalog *c, mongoc_client_t *cl, const char *name);

/* "KIND/NAME" (and "KIND/NAME/V") into out; mg_split_key() undoes it and is
 * false for a key that is no item's. */
void mg_item_key(char out[MG_KEY_MAX], const char *kind, const char *name);
void mg_version_key(char out[MG_KEY_MAX + 24], const char *kind, const char *name, int64_t v);
bool mg_split_key(const char *key, char kind[CD_KIND_MAX], char name[CD_NAME_MAX]);

/* The first document matching filter into *out (bson_destroy it):
 * CAT_OK, CAT_NOT_FOUND (err untouched) or an error. */
int mg_find_one(mg_catalog *c, mongoc_client_t *cl, const char *coll, const bson_t *filter,
                const bson_t *opts, bson_t *out, cd_err *err);

/* Typed reads of a (dotted) field; the fallback when it is absent. */
int64_t mg_int64(const bson_t *doc, const char *path, int64_t fallback);
int64_t mg_date(const bson_t *doc, const char *path, int64_t fallback);
bool mg_oid(const bson_t *doc, const char *path, bson_oid_t *out);
/* A copy of a string field ("" when absent); the caller frees it. */
char *mg_strdup(const bson_t *doc, const char *path);

/* A content document as an item (owner and title are the caller's to
 * release with catalog_item_clear). */
void mg_doc_item(const bson_t *doc, catalog_item *out);
/* Appends the sorted file list as the array `key`. */
void mg_append_files(bson_t *doc, const char *key, const catalog_file **files, size_t n);
/* The array `key` of doc as a file list sorted by path (stored sorted);
 * free with catalog_files_free. */
int mg_read_files(const bson_t *doc, const char *key, catalog_file **out, size_t *n, cd_err *err);
/* How many paths of the sorted `want` are added, removed or changed
 * against the stored array `key` of doc. */
int mg_count_changes(const bson_t *doc, const char *key, const catalog_file **want, size_t n);

/* Applies update to the content document matching query (by _id, and
 * whatever else query asks) and announces it as a meta change; *version:
 * the item's version it was made at.  CAT_NOT_FOUND when nothing matched. */
int mg_meta_modify(mg_catalog *c, const char *kind, const char *name, const bson_t *query,
                   const bson_t *update, int64_t *version, cd_err *err);
/* Publishing and members (catalog_mongo_review.c). */
catalog_status mg_publish(catalog *cat, const char *kind, const char *name, int64_t version,
                          int64_t *at_version, cd_err *err);
catalog_status mg_member_set(catalog *cat, const char *kind, const char *name, const char *user,
                             catalog_role role, int64_t *version, cd_err *err);
catalog_status mg_link_add(catalog *cat, const char *kind, const char *name,
                           const catalog_link *link, int64_t *version, cd_err *err);
catalog_status mg_link_delete(catalog *cat, const char *kind, const char *name, const char *id,
                              int64_t *version, cd_err *err);
catalog_status mg_link_find(catalog *cat, const char *token_sha256, char *kind, char *name,
                            cd_err *err);
/* Comments (catalog_mongo_comments.c). */
catalog_status mg_comment_add(catalog *cat, const char *kind, const char *name, catalog_comment *cm,
                              cd_err *err);
catalog_status mg_comment_get(catalog *cat, const char *kind, const char *name, int64_t id,
                              catalog_comment *out, cd_err *err);
catalog_status mg_comment_list(catalog *cat, const char *kind, const char *name, const char *path,
                               catalog_comment **out, size_t *n, cd_err *err);
catalog_status mg_comment_resolve(catalog *cat, const char *kind, const char *name, int64_t id,
                                  bool resolved, cd_err *err);
/* Deletes every comment of item key ("KIND/NAME"), with the item. */
int mg_comments_delete(mg_catalog *c, mongoc_client_t *cl, const char *key, cd_err *err);
/* The item and id of a comments document's _id; false for another shape. */
bool mg_comment_event_key(const char *id_key, char kind[CD_KIND_MAX], char name[CD_NAME_MAX],
                          int64_t *id);
/* Reads doc's `members` and `links` into out. */
void mg_doc_members(const bson_t *doc, catalog_item *out);

/* The versions operations of the ops table (catalog_mongo_versions.c). */
catalog_status mg_commit(catalog *cat, const char *kind, const char *name, int64_t base,
                         const catalog_file *files, size_t n, const char *title, const char *checks,
                         int64_t *new_version, bool *created, cd_err *err);
catalog_status mg_checks(catalog *cat, const char *kind, const char *name, int64_t version,
                         char **json, cd_err *err);
catalog_status mg_files(catalog *cat, const char *kind, const char *name, int64_t version,
                        catalog_file **out, size_t *n, cd_err *err);
catalog_status mg_versions(catalog *cat, const char *kind, const char *name, catalog_version **out,
                           size_t *n, cd_err *err);

/* Announcements (catalog_mongo_announce.c) ------------------------------ */

void mg_watch_init(mg_watch *w);
/* Frees the record; the thread must have stopped. */
void mg_watch_destroy(mg_watch *w);

/* A local write that succeeded.  Without an active watcher each is
 * announced at once (as SQLite does).  With one, a version or a meta
 * change is announced at once only when it directly follows what was last
 * announced for the same incarnation (so the stream's copy is dropped as a
 * duplicate); creations, deletions and anything out of step are left to
 * the stream, which sees every change in order. */
void mg_local_created(mg_catalog *c, const char *kind, const char *name);
void mg_local_deleted(mg_catalog *c, const char *kind, const char *name);
void mg_local_version(mg_catalog *c, const char *kind, const char *name, const bson_oid_t *inc,
                      int64_t version, int64_t committed_at);
void mg_local_meta(mg_catalog *c, const char *kind, const char *name, const bson_oid_t *inc,
                   int64_t meta, int64_t version);

/* A change from the stream: announced unless already announced. */
void mg_apply_change(mg_catalog *c, const mg_change *ch);
/* The whole catalog as read by a scan (items[i].op is ignored): brings the
 * record in line, announcing every difference when `announce` (a resync)
 * and silently otherwise (the baseline at start). */
void mg_apply_scan(mg_catalog *c, const mg_change *items, size_t n, bool announce);

/* The watcher (catalog_mongo_watch.c) ------------------------------------ */

catalog_status mg_watch_start(catalog *cat, cd_err *err);
void mg_watch_stats(catalog *cat, catalog_watch_stats *out);
/* Stops and joins the thread (no-op when it never started); the second
 * is the ops table's entry. */
void mg_watch_stop(mg_catalog *c);
void mg_watch_stop_op(catalog *cat);

/* How the watcher treats a stream error (exposed for the unit tests). */
typedef enum { MG_STREAM_RESUMABLE, MG_STREAM_HISTORY_LOST, MG_STREAM_FATAL } mg_stream_error;
mg_stream_error mg_classify_stream_error(const bson_error_t *e, const bson_t *reply);

#endif
