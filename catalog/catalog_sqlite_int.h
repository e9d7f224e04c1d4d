/* SPDX-License-Identifier: MIT */
/*
 * The SQLite catalog's connection pool and statement helpers, shared by
 * catalog_sqlite.c (items, tokens) and catalog_sqlite_versions.c (commits
 * and history).
 *
 * A few connections to the one database file (WAL), each used by one thread
 * at a time: readers run in parallel on their own snapshots, and writers
 * additionally take write_lock so that, within this process, a write never
 * waits in SQLite's busy handler (sleeps) but on a mutex.  Other processes
 * on the same file (`contentd token create` while the server runs) are
 * handled by BEGIN IMMEDIATE and the busy timeout.
 */
#ifndef CONTENTD_CATALOG_SQLITE_INT_H
#define CONTENTD_CATALOG_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "catalog_int.h"

#define SQ_POOL           4
#define SQ_SCHEMA_VERSION 5

typedef struct sq_catalog {
    catalog base;
    pthread_mutex_t lock; /* guards busy[] */
    pthread_cond_t freed;
    sqlite3 *db[SQ_POOL];
    bool busy[SQ_POOL];
    pthread_mutex_t write_lock;
} sq_catalog;

/* Opens the pool on <data_dir>/catalog.db and creates or checks the schema;
 * NULL with err filled on failure.  sq_close() releases it. */
sq_catalog *sq_open(const char *data_dir, cd_err *err);
void sq_close(sq_catalog *c);

/* A connection for the calling thread's exclusive use, until sq_release(). */
sqlite3 *sq_acquire(sq_catalog *c);
void sq_release(sq_catalog *c, sqlite3 *db);

/* A write transaction: takes write_lock and a connection, BEGIN IMMEDIATE.
 * sq_write_end() commits when rc is CAT_OK, else rolls back, gives both
 * back and returns the final status (a failed COMMIT turns CAT_OK into an
 * error). */
int sq_write_begin(sq_catalog *c, sqlite3 **db, cd_err *err);
int sq_write_end(sq_catalog *c, sqlite3 *db, int rc, cd_err *err);

/* A read transaction (one snapshot for several statements). */
int sq_read_begin(sq_catalog *c, sqlite3 **db, cd_err *err);
void sq_read_end(sq_catalog *c, sqlite3 *db);

/* Maps an SQLite result code to a catalog_status and fills err with what
 * and SQLite's message: busy, locked, full, I/O and open errors are
 * CAT_UNAVAILABLE, anything else CAT_ERROR. */
int sq_fail(sqlite3 *db, int rc, cd_err *err, const char *what);

/* Prepares sql and binds its parameters in order, as typed by types:
 * 's' a const char * (NULL binds NULL), 'i' an int64_t. */
int sq_prep(sqlite3 *db, sqlite3_stmt **st, cd_err *err, const char *sql, const char *types, ...);
/* Prepares, binds and runs a statement that returns no row. */
int sq_run(sqlite3 *db, cd_err *err, const char *sql, const char *types, ...);

/* The text of column i, never NULL; a copy the caller frees with free(). */
char *sq_text_dup(sqlite3_stmt *st, int i);
/* Copies the text of column i into out (n bytes, truncated, NUL-ended). */
void sq_text_copy(sqlite3_stmt *st, int i, char *out, size_t n);

/* The id and current version of KIND/NAME: CAT_NOT_FOUND if none. */
int sq_item_id(sqlite3 *db, const char *kind, const char *name, int64_t *id, int64_t *version,
               cd_err *err);
/* The last version of a deleted item KIND/NAME (0: none), from tombstones. */
int sq_deleted_version(sqlite3 *db, const char *kind, const char *name, int64_t *version,
                       cd_err *err);

/* The version operations of the ops table (catalog_sqlite_versions.c). */
/* Tokens beyond add/user/count (catalog_sqlite_tokens.c). */
#define SQ_TOKEN_USE_TABLE                                                                         \
    "CREATE TABLE IF NOT EXISTS token_use (sha256 TEXT PRIMARY KEY,"                               \
    " last_used_at INTEGER NOT NULL) WITHOUT ROWID"
catalog_status sq_token_list(catalog *cat, catalog_token **out, size_t *n, cd_err *err);
catalog_status sq_token_delete(catalog *cat, const char *token_sha256, cd_err *err);
catalog_status sq_token_touch(catalog *cat, const char *token_sha256, int64_t at_ms, cd_err *err);

/* Comments (catalog_sqlite_comments.c). */
catalog_status sq_comment_add(catalog *cat, const char *kind, const char *name, catalog_comment *cm,
                              cd_err *err);
catalog_status sq_comment_get(catalog *cat, const char *kind, const char *name, int64_t id,
                              catalog_comment *out, cd_err *err);
catalog_status sq_comment_list(catalog *cat, const char *kind, const char *name, const char *path,
                               catalog_comment **out, size_t *n, cd_err *err);
catalog_status sq_comment_resolve(catalog *cat, const char *kind, const char *name, int64_t id,
                                  bool resolved, cd_err *err);

catalog_status sq_commit(catalog *cat, const char *kind, const char *name, int64_t base,
                         const catalog_file *files, size_t n, const char *title, const char *checks,
                         int64_t *new_version, bool *created, cd_err *err);
catalog_status sq_checks(catalog *cat, const char *kind, const char *name, int64_t version,
                         char **json, cd_err *err);
catalog_status sq_files(catalog *cat, const char *kind, const char *name, int64_t version,
                        catalog_file **out, size_t *n, cd_err *err);
catalog_status sq_versions(catalog *cat, const char *kind, const char *name, catalog_version **out,
                           size_t *n, cd_err *err);

#endif
