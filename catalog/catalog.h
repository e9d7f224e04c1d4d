/* SPDX-License-Identifier: MIT */
/*
 * catalog — the content metadata store: items, their version history (every
 * version's full file list) and API tokens.  The server talks to a
 * `catalog *` only; which backend sits behind it (SQLite in the data folder,
 * MongoDB in production) is chosen once, at start-up, by catalog_open_*().
 * Backends are `const struct catalog_ops` tables, one file each
 * (catalog_sqlite.c, catalog_mongo.c).
 *
 * Every call is thread-safe: the server calls in from several threads.
 * Functions return CAT_OK (0) or a negative catalog_status and, on failure,
 * fill `err` (may be NULL) with a sentence a person can read.
 */
#ifndef CONTENTD_CATALOG_H
#define CONTENTD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef enum catalog_status {
    CAT_OK = 0,
    CAT_NOT_FOUND = -1,   /* no such item (or version, or token) */
    CAT_EXISTS = -2,      /* create: the item exists already */
    CAT_CONFLICT = -3,    /* commit: base_version is not the current version */
    CAT_UNAVAILABLE = -4, /* the backend cannot be reached; retry later */
    CAT_ERROR = -5,       /* anything else (corruption, bad input) */
} catalog_status;

typedef enum { CAT_PRIVATE = 0, CAT_PUBLIC = 1 } catalog_visibility;

/* A member's role on an item (CONTRACT "Review and sharing"): each one
 * reads every version; a reviewer also comments, an editor also pushes. */
typedef enum {
    CAT_ROLE_NONE = 0,
    CAT_ROLE_VIEWER = 1,
    CAT_ROLE_REVIEWER = 2,
    CAT_ROLE_EDITOR = 3,
} catalog_role;

typedef struct catalog_member {
    char *user;
    catalog_role role;
} catalog_member;

/* "viewer", "reviewer", "editor" (a static string; "" for CAT_ROLE_NONE),
 * and back (CAT_ROLE_NONE for anything else, NULL included). */
const char *catalog_role_name(catalog_role role);
catalog_role catalog_role_parse(const char *s);

/* A share link: who holds its token reads one version's preview, files,
 * ASTs and events (version 0: the latest, following edits) until
 * expires_at.  Only the token's SHA-256 is stored. */
#define CATALOG_LINK_ID 17 /* 16 hex digits */
typedef struct catalog_link {
    char id[CATALOG_LINK_ID];
    char sha256[CD_SHA256_HEX];
    int64_t version;
    int64_t expires_at; /* ms since the epoch */
    int64_t created_at;
} catalog_link;
/* What a commit does with the checks' findings (docs/checks.md): "warn"
 * (the default) stores and returns them; "strict" also refuses a version
 * with an `error` (422 checks_failed). */
typedef enum { CAT_CHECKS_WARN = 0, CAT_CHECKS_STRICT = 1 } catalog_checks_mode;
/* "warn" or "strict": a static string. */
const char *catalog_checks_mode_name(catalog_checks_mode m);
/* The mode named s, or -1 when s names none. */
int catalog_checks_mode_parse(const char *s);

typedef struct catalog_file {
    char *path;                 /* relative, '/'-separated, validated by the caller */
    char sha256[CD_SHA256_HEX]; /* lower-case hex */
    int64_t size;
    char *content_type; /* derived from the extension; commit: NULL derives it */
} catalog_file;

/* The Content-Type of path by its extension (case-insensitive), or
 * "application/octet-stream".  A static string: never freed. */
const char *catalog_content_type(const char *path);

typedef struct catalog_item {
    char kind[CD_KIND_MAX];
    char name[CD_NAME_MAX];
    char *owner;
    char *title;
    catalog_visibility visibility;
    int64_t version;    /* 0 before the first push */
    int64_t created_at; /* milliseconds since the epoch, UTC */
    int64_t updated_at;
    /* The last version an item of the same KIND/NAME had when it was
     * deleted (0: none).  Versions keep counting across a delete and a
     * re-creation, so that a version number (an event id) never names two
     * different contents of one KIND/NAME: see catalog_next_version(). */
    int64_t deleted_version;
    /* The version readers who are not the owner or a member see (0: never
     * published: they see the latest). */
    int64_t published_version;
    /* Who else may read (and, as editor, push), sorted by user. */
    catalog_member *members;
    size_t n_members;
    /* Its share links, expired ones included, oldest first. */
    catalog_link *links;
    size_t n_links;
    catalog_checks_mode checks; /* set with catalog_item_update() */
} catalog_item;

/* The number the next version of it gets: one past its version, or past
 * its deleted_version while that is higher. */
int64_t catalog_next_version(const catalog_item *it);

typedef struct catalog_version {
    int64_t version;
    int64_t created_at; /* ms */
    int files_changed;  /* paths added, removed or changed against version-1 */
} catalog_version;

/* A stored API token, as `contentd token list` shows it: never the token
 * itself, only the SHA-256 it is stored as. */
typedef struct catalog_token {
    char sha256[CD_SHA256_HEX];
    char *user;
    int64_t created_at;   /* ms */
    int64_t last_used_at; /* ms; 0 when not known */
} catalog_token;

/* A comment on one block of one document of one version (CONTRACT
 * "Review and sharing").  ids count from 1 per item; reply_to 0 is none. */
typedef struct catalog_comment {
    int64_t id;
    char *user;
    int64_t version;
    char *path;  /* the document, e.g. "index.md" */
    char *block; /* the block's key in that version (review.h) */
    char block_hash[CD_SHA256_HEX];
    char *body;
    int64_t reply_to;
    bool resolved;
    int64_t created_at; /* ms */
} catalog_comment;

/* Releases what one comment owns; frees comments[0..n) and the array. */
void catalog_comment_clear(catalog_comment *cm);
void catalog_comments_free(catalog_comment *comments, size_t n);
/* The comment as the API shows it, without its closing brace (the caller
 * appends "outdated" and the rest): {"id",…,"created_at". */
void catalog_json_comment(cd_buf *b, const catalog_comment *cm);

/* Frees tokens[0..n) and the array. */
void catalog_tokens_free(catalog_token *tokens, size_t n);

/* Releases what a catalog_item / file array / version array owns.
 * catalog_files_free and catalog_items_free also free the array itself;
 * a catalog_version array owns nothing else and is freed with free(). */
void catalog_item_clear(catalog_item *it);
void catalog_items_free(catalog_item *items, size_t n);
void catalog_files_free(catalog_file *files, size_t n);

/* Whether user (NULL: nobody) may see the item: its owner, a member, or
 * anyone when it is public (CONTRACT "Data model"). */
bool catalog_can_see(const char *user, const catalog_item *it);
/* Whether user is the item's owner. */
bool catalog_is_owner(const char *user, const catalog_item *it);
/* user's role on the item: CAT_ROLE_NONE for the owner and for strangers. */
catalog_role catalog_role_of(const char *user, const catalog_item *it);
/* Whether user sees the latest version (owner or member), not only the
 * published one. */
bool catalog_sees_drafts(const char *user, const catalog_item *it);
/* The version user reads by default: the latest for the owner and the
 * members, and for everyone while the item was never published; else the
 * published version. */
int64_t catalog_version_for(const char *user, const catalog_item *it);
/* The item's link whose token has that SHA-256, or NULL. */
const catalog_link *catalog_link_of(const catalog_item *it, const char *token_sha256);
/* JSON forms, appended to b (catalog_json.c): an item with its n files
 * (n < 0: without "files"); {"items":[...]} of those of items[0..n) user
 * may see, in their order, without files; a file list; a file; a time
 * stamp (RFC 3339 UTC, quoted). */
void catalog_json_item(cd_buf *b, const catalog_item *it, const catalog_file *files, long n);
void catalog_json_visible_items(cd_buf *b, const char *user, const catalog_item *items, size_t n);
void catalog_json_files(cd_buf *b, const catalog_file *files, size_t n);
void catalog_json_file(cd_buf *b, const catalog_file *f);
void catalog_json_time(cd_buf *b, int64_t ms);
/* The item's members, `[{"user":…,"role":…},…]`, appended to b. */
void catalog_json_members(cd_buf *b, const catalog_item *it);
/* Sorts a file list by path (strcmp): the order every merge and search of
 * file lists relies on. */
void catalog_files_sort(catalog_file *files, size_t n);

typedef struct catalog catalog;
struct catalog_watch_stats;

/* Called after every successful change, from the thread that made it (for
 * the MongoDB backend, also for changes made by other replicas, from the
 * change-stream thread).  version is the new version (0 for a delete).
 * Once catalog_watch_start() has succeeded, the MongoDB backend calls it
 * under an internal lock, so that each version reaches it once and in
 * order: the callback must be quick and must not write to this catalog
 * (reads are fine); the server's hub only queues the change. */
/* CAT_EV_COMMENT: a comment was added or resolved; `version` is then the
 * comment's id (catalog_comment_get() reads it). */
typedef enum {
    CAT_EV_CREATED,
    CAT_EV_VERSION,
    CAT_EV_UPDATED,
    CAT_EV_DELETED,
    CAT_EV_COMMENT
} catalog_event;
typedef void (*catalog_change_cb)(void *arg, catalog_event ev, const char *kind, const char *name,
                                  int64_t version);

/* The calls, each through catalog.c: it checks the arguments, times the call
 * (catalog_door()) and, once a change was made, announces it to the
 * listeners (catalog_listen()) before the call returns, unless the
 * backend's change stream tells it in its order (catalog_watch_start()).
 * Every one is thread-safe. */
#define CATALOG_OPS(X)                                                                             \
    X(ping)                                                                                        \
    X(item_get)                                                                                    \
    X(item_list)                                                                                   \
    X(item_create)                                                                                 \
    X(item_update)                                                                                 \
    X(item_delete)                                                                                 \
    X(commit)                                                                                      \
    X(files)                                                                                       \
    X(versions)                                                                                    \
    X(checks)                                                                                      \
    X(token_add)                                                                                   \
    X(token_user)                                                                                  \
    X(token_count)                                                                                 \
    X(token_list)                                                                                  \
    X(token_delete)                                                                                \
    X(token_touch)                                                                                 \
    X(publish)                                                                                     \
    X(member_set)                                                                                  \
    X(link_add)                                                                                    \
    X(link_delete)                                                                                 \
    X(link_find)                                                                                   \
    X(comment_add)                                                                                 \
    X(comment_get)                                                                                 \
    X(comment_list)                                                                                \
    X(comment_resolve)
typedef enum catalog_op {
#define X(n) CATALOG_OP_##n,
    CATALOG_OPS(X)
#undef X
        CATALOG_OP_COUNT
} catalog_op;
/* The door's record of the calls since the catalog was opened: the
 * backend ("sqlite" or "mongodb"), each op's name ("ping", "item_get", …:
 * its label in /metrics) and latency histogram, indexed by catalog_op. */
const cd_door *catalog_door(const catalog *c);
catalog_status catalog_ping(catalog *c, cd_err *err) CD_WUR;
/* Fills *out; the caller releases it with catalog_item_clear(). */
catalog_status catalog_item_get(catalog *c, const char *kind, const char *name, catalog_item *out,
                                cd_err *err) CD_WUR;
/* All items, optionally of one kind (NULL: all), sorted by kind then name.
 * Visibility filtering is the caller's.  Free with catalog_items_free(). */
catalog_status catalog_item_list(catalog *c, const char *kind, catalog_item **out, size_t *n,
                                 cd_err *err) CD_WUR;
/* kind, name and owner are required; title NULL is ""; created_at 0 is
 * now; version is ignored (a new item is at version 0).  CAT_EXISTS when
 * the item exists. */
catalog_status catalog_item_create(catalog *c, const catalog_item *it, cd_err *err) CD_WUR;
/* title NULL: unchanged; visibility < 0: unchanged; checks (a
 * catalog_checks_mode) < 0: unchanged. */
catalog_status catalog_item_update(catalog *c, const char *kind, const char *name,
                                   const char *title, int visibility, int checks,
                                   cd_err *err) CD_WUR;
/* Deletes the item and its history (blobs stay: they may be shared),
 * keeping its last version number: an item created again under the same
 * KIND/NAME has it as deleted_version. */
catalog_status catalog_item_delete(catalog *c, const char *kind, const char *name,
                                   cd_err *err) CD_WUR;
/* Atomically makes files[0..n) the item's next version
 * (catalog_next_version: base+1, or past a deleted predecessor's last
 * version), if base is the current version (CAT_CONFLICT otherwise).  A
 * file list equal to the current one creates no version: *new_version =
 * base and *created = false.  title (may be NULL) replaces the item's
 * title with the version.  checks (may be NULL: none computed) is the
 * version's findings, a JSON array (checks.h), stored with it as given. */
catalog_status catalog_commit(catalog *c, const char *kind, const char *name, int64_t base,
                              const catalog_file *files, size_t n, const char *title,
                              const char *checks, int64_t *new_version, bool *created,
                              cd_err *err) CD_WUR;
/* The findings stored with a version (0 = the current one): *json is the
 * JSON array text, or NULL for a version committed without them (before
 * the server ran the checks).  CAT_NOT_FOUND for a version not kept.  The
 * caller frees *json with free(). */
catalog_status catalog_checks(catalog *c, const char *kind, const char *name, int64_t version,
                              char **json, cd_err *err) CD_WUR;
/* The file list of a version (0 = the current one), sorted by path;
 * CAT_NOT_FOUND for a version not kept.  Free with catalog_files_free(). */
catalog_status catalog_files(catalog *c, const char *kind, const char *name, int64_t version,
                             catalog_file **out, size_t *n, cd_err *err) CD_WUR;
/* Version history, oldest first; the caller frees *out with free(). */
catalog_status catalog_versions(catalog *c, const char *kind, const char *name,
                                catalog_version **out, size_t *n, cd_err *err) CD_WUR;
/* Tokens: only the SHA-256 (hex) of a token is ever stored. */
catalog_status catalog_token_add(catalog *c, const char *token_sha256, const char *user,
                                 cd_err *err) CD_WUR;
/* *user: the caller frees it with free(). */
catalog_status catalog_token_user(catalog *c, const char *token_sha256, char **user,
                                  cd_err *err) CD_WUR;
catalog_status catalog_token_count(catalog *c, int64_t *n, cd_err *err) CD_WUR;
/* Every token, oldest first; free *out with catalog_tokens_free(). */
catalog_status catalog_token_list(catalog *c, catalog_token **out, size_t *n, cd_err *err) CD_WUR;
/* Deletes one token (CAT_NOT_FOUND when there is none): from then on
 * catalog_token_user() does not know it. */
catalog_status catalog_token_delete(catalog *c, const char *token_sha256, cd_err *err) CD_WUR;
/* Records that the token was used at `at_ms` (kept when later than the
 * time already recorded). */
catalog_status catalog_token_touch(catalog *c, const char *token_sha256, int64_t at_ms,
                                   cd_err *err) CD_WUR;
/* Points the item's published_version at version (a version it keeps):
 * CAT_NOT_FOUND for an unknown item or version.  Announced as
 * CAT_EV_UPDATED. */
catalog_status catalog_publish(catalog *c, const char *kind, const char *name, int64_t version,
                               cd_err *err) CD_WUR;
/* Gives user the role on the item (CAT_ROLE_NONE: takes it away;
 * CAT_NOT_FOUND when user had none).  Announced as CAT_EV_UPDATED. */
catalog_status catalog_member_set(catalog *c, const char *kind, const char *name, const char *user,
                                  catalog_role role, cd_err *err) CD_WUR;
/* Adds the share link (id, sha256 and expires_at required; created_at 0
 * is now).  Announced as CAT_EV_UPDATED. */
catalog_status catalog_link_add(catalog *c, const char *kind, const char *name,
                                const catalog_link *link, cd_err *err) CD_WUR;
/* Deletes the item's link `id`: CAT_NOT_FOUND when it has none such.
 * Announced as CAT_EV_UPDATED. */
catalog_status catalog_link_delete(catalog *c, const char *kind, const char *name, const char *id,
                                   cd_err *err) CD_WUR;
/* The item a link token (by its SHA-256) belongs to: CAT_NOT_FOUND when
 * none.  kind and name are CD_KIND_MAX and CD_NAME_MAX bytes. */
catalog_status catalog_link_find(catalog *c, const char *token_sha256, char *kind, char *name,
                                 cd_err *err) CD_WUR;
/* Adds a comment to the item: cm->id 0 takes the item's next id (written
 * back to cm->id), another id is kept (a restore; CAT_EXISTS when the
 * item has it already); created_at 0 is now (written back).  user, path,
 * block, block_hash and body are required.  Announced as CAT_EV_COMMENT
 * with the id. */
catalog_status catalog_comment_add(catalog *c, const char *kind, const char *name,
                                   catalog_comment *cm, cd_err *err) CD_WUR;
/* Fills *out with comment id of the item (CAT_NOT_FOUND when none); the
 * caller releases it with catalog_comment_clear(). */
catalog_status catalog_comment_get(catalog *c, const char *kind, const char *name, int64_t id,
                                   catalog_comment *out, cd_err *err) CD_WUR;
/* The item's comments on path (NULL: on every document), by id; free
 * *out with catalog_comments_free(). */
catalog_status catalog_comment_list(catalog *c, const char *kind, const char *name,
                                    const char *path, catalog_comment **out, size_t *n,
                                    cd_err *err) CD_WUR;
/* Marks comment id resolved or not (CAT_NOT_FOUND when none).  Announced
 * as CAT_EV_COMMENT with the id. */
catalog_status catalog_comment_resolve(catalog *c, const char *kind, const char *name, int64_t id,
                                       bool resolved, cd_err *err) CD_WUR;
/* Closes the catalog (stopping its watcher); NULL is a no-op. */
void catalog_close(catalog *c);

/* Registers cb(arg, …) for every change (see catalog_change_cb); up to
 * CATALOG_LISTENERS_MAX listeners, registered before the catalog is shared
 * between threads.  Returns CAT_OK, or CAT_ERROR when the table is full. */
#define CATALOG_LISTENERS_MAX 4
catalog_status catalog_listen(catalog *c, catalog_change_cb cb, void *arg) CD_WUR;
/* Removes the listener (cb, arg); once it returns, cb is not called again
 * by this process's writes (the watcher: see catalog_watch_stop()). */
void catalog_unlisten(catalog *c, catalog_change_cb cb, void *arg);

/* Opens (creating if needed) the SQLite catalog `catalog.db` in data_dir
 * (WAL mode).  Returns NULL and fills err on failure; close with
 * catalog_close(). */
catalog *catalog_open_sqlite(const char *data_dir, cd_err *err);

/* Opens the MongoDB catalog: database `db` (NULL: "contentd") of the
 * deployment at `uri` (a mongodb:// URI), with a thread-safe connection
 * pool.  Checks at once that MongoDB answers and is a replica set member
 * (change streams need one) and creates the indexes; returns NULL with one
 * clear sentence in err otherwise (CAT_UNAVAILABLE when it cannot be
 * reached).  Every write uses majority write concern.  Close with
 * catalog_close(), which also stops the watcher. */
catalog *catalog_open_mongo(const char *uri, const char *db, cd_err *err);

/* Starts following changes made by other processes (other contentd
 * replicas): for the MongoDB backend, a change stream on the `content`
 * collection in its own thread, which calls the listeners for every change
 * wherever it was made, each version once and in order (see
 * catalog_mongo_watch.c).  Register the listeners before calling it.  A no-op
 * returning CAT_OK for a backend without ops->watch_start (SQLite).
 * Fails (CAT_UNAVAILABLE) when the first stream cannot be opened. */
catalog_status catalog_watch_start(catalog *c, cd_err *err) CD_WUR;

/* Stops the watcher, waiting for its thread (about a second at most; up
 * to the URI's serverSelectionTimeoutMS while MongoDB is unreachable):
 * once it returns, the listeners are called only by this process's own writes,
 * from the writing thread, so a listener may be freed after
 * the writers have stopped.  A no-op when no watcher runs.  close() stops
 * it too. */
void catalog_watch_stop(catalog *c);

/* Upper bounds (milliseconds) of the buckets of catalog_watch_stats's
 * lag histogram; the last bucket (index CATALOG_LAG_BUCKETS - 1) is +Inf. */
#define CATALOG_LAG_BUCKETS 12
extern const int64_t catalog_lag_bounds_ms[CATALOG_LAG_BUCKETS - 1];

/* What the watcher has done since it started, for /metrics. */
typedef struct catalog_watch_stats {
    bool running;             /* catalog_watch_start() succeeded */
    bool connected;           /* the change stream is open right now */
    uint64_t events;          /* change events applied */
    uint64_t announced;       /* on_change calls made from the change stream */
    uint64_t announced_local; /* announced at once by this process's own write */
    uint64_t resumes;         /* the stream re-opened from its resume token */
    uint64_t resyncs;         /* the stream re-opened from now, the catalog re-read */
    uint64_t errors;          /* stream errors of any kind */
    /* Lag from a version's commit (the committing replica's clock) to its
     * announcement here: count, sum, maximum and a cumulative histogram
     * (lag_buckets[i] counts lags <= catalog_lag_bounds_ms[i]). */
    uint64_t lag_count;
    uint64_t lag_ms_sum;
    int64_t lag_ms_max;
    uint64_t lag_buckets[CATALOG_LAG_BUCKETS];
} catalog_watch_stats;

/* Fills *out; false (and *out zeroed) when the backend has no watcher. */
bool catalog_watch_stats_get(catalog *c, catalog_watch_stats *out);

#endif
