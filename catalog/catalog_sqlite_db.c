/* SPDX-License-Identifier: MIT */
/*
 * The SQLite catalog's plumbing: the database file and its schema, the
 * connection pool, transactions, and the statement helpers that keep the
 * operations in catalog_sqlite*.c short.
 */
#include "catalog_sqlite_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Every version's file list is kept whole in version_files, so any kept
 * version can be served, replayed or diffed without walking history.
 * items.id is AUTOINCREMENT so that an item deleted and created again never
 * meets rows of its predecessor. */
/* clang-format off */
static const char schema_v1[] =
    "CREATE TABLE items ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  visibility INTEGER NOT NULL DEFAULT 0,"
    "  version INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE (kind, name));"
    "CREATE TABLE versions ("
    "  item_id INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  files_changed INTEGER NOT NULL,"
    "  PRIMARY KEY (item_id, version)) WITHOUT ROWID;"
    "CREATE TABLE version_files ("
    "  item_id INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  path TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  PRIMARY KEY (item_id, version, path)) WITHOUT ROWID;"
    "CREATE TABLE tokens ("
    "  sha256 TEXT PRIMARY KEY,"
    "  user TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "PRAGMA user_version = 1;";
/* Version 2: the last version of each deleted item, so that an item created
 * again under the same name goes on counting from it. */
static const char schema_v2[] =
    "CREATE TABLE tombstones ("
    "  kind TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, name)) WITHOUT ROWID;"
    "PRAGMA user_version = 2;";
/* Version 3: review and sharing — the published version of each item, its
 * members and its share links (their tokens' SHA-256 only). */
static const char schema_v3[] =
    "ALTER TABLE items ADD COLUMN published_version INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE members ("
    "  item_id INTEGER NOT NULL,"
    "  user TEXT NOT NULL,"
    "  role INTEGER NOT NULL,"
    "  PRIMARY KEY (item_id, user)) WITHOUT ROWID;"
    "CREATE TABLE links ("
    "  id TEXT PRIMARY KEY,"
    "  item_id INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL UNIQUE,"
    "  version INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX links_item ON links (item_id);"
    "PRAGMA user_version = 3;";
/* Version 4: each version's findings (checks.h, JSON text; NULL for the
 * versions committed before) and each item's checks mode. */
static const char schema_v4[] =
    "ALTER TABLE versions ADD COLUMN checks TEXT;"
    "ALTER TABLE items ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;"
    "PRAGMA user_version = 4;";
/* Version 5: comments anchored to a block, numbered from 1 per item, with
 * the block's digest when the comment was made (to tell, in a later
 * version, whether the block is unchanged). */
static const char schema_v5[] =
    "CREATE TABLE comments ("
    "  item_id INTEGER NOT NULL,"
    "  id INTEGER NOT NULL,"
    "  user TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  path TEXT NOT NULL,"
    "  block TEXT NOT NULL,"
    "  block_hash TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  reply_to INTEGER NOT NULL DEFAULT 0,"
    "  resolved INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (item_id, id)) WITHOUT ROWID;"
    "PRAGMA user_version = 5;";
/* clang-format on */

int sq_fail(sqlite3 *db, int rc, cd_err *err, const char *what)
{
    int primary = rc & 0xff;
    int status = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_FULL ||
                  primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)
                     ? CAT_UNAVAILABLE
                     : CAT_ERROR;
    return cd_err_set(err, status, "catalog: %s: %s", what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int vbind(sqlite3_stmt *st, const char *types, va_list ap)
{
    int rc = SQLITE_OK;
    for (int i = 0; types[i] && rc == SQLITE_OK; i++) {
        if (types[i] == 's') {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, i + 1);
        } else {
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
    }
    return rc;
}

static int vprep(sqlite3 *db, sqlite3_stmt **st, cd_err *err, const char *sql, const char *types,
                 va_list ap)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc == SQLITE_OK)
        rc = vbind(*st, types, ap);
    if (rc == SQLITE_OK)
        return CAT_OK;
    int status = sq_fail(db, rc, err, "cannot prepare a statement");
    sqlite3_finalize(*st);
    *st = NULL;
    return status;
}

int sq_prep(sqlite3 *db, sqlite3_stmt **st, cd_err *err, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = vprep(db, st, err, sql, types, ap);
    va_end(ap);
    return rc;
}

int sq_run(sqlite3 *db, cd_err *err, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    va_start(ap, types);
    int rc = vprep(db, &st, err, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        rc = sq_fail(db, step, err, "cannot write");
    sqlite3_finalize(st);
    return rc;
}

char *sq_text_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return cd_xstrdup(s ? (const char *)s : "");
}

void sq_text_copy(sqlite3_stmt *st, int i, char *out, size_t n)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    snprintf(out, n, "%s", s ? (const char *)s : "");
}

int sq_item_id(sqlite3 *db, const char *kind, const char *name, int64_t *id, int64_t *version,
               cd_err *err)
{
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err, "SELECT id, version FROM items WHERE kind = ? AND name = ?",
                     "ss", kind, name);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *version = sqlite3_column_int64(st, 1);
    } else if (step == SQLITE_DONE) {
        rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
    } else {
        rc = sq_fail(db, step, err, "cannot read an item");
    }
    sqlite3_finalize(st);
    return rc;
}

int sq_deleted_version(sqlite3 *db, const char *kind, const char *name, int64_t *version,
                       cd_err *err)
{
    sqlite3_stmt *st;
    *version = 0;
    int rc = sq_prep(db, &st, err, "SELECT version FROM tombstones WHERE kind = ? AND name = ?",
                     "ss", kind, name);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *version = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot read an item");
    sqlite3_finalize(st);
    return rc;
}

/* The pool ----------------------------------------------------------------- */

sqlite3 *sq_acquire(sq_catalog *c)
{
    pthread_mutex_lock(&c->lock);
    for (;;) {
        for (int i = 0; i < SQ_POOL; i++)
            if (!c->busy[i]) {
                c->busy[i] = true;
                pthread_mutex_unlock(&c->lock);
                return c->db[i];
            }
        pthread_cond_wait(&c->freed, &c->lock);
    }
}

void sq_release(sq_catalog *c, sqlite3 *db)
{
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < SQ_POOL; i++)
        if (c->db[i] == db)
            c->busy[i] = false;
    pthread_cond_signal(&c->freed);
    pthread_mutex_unlock(&c->lock);
}

int sq_write_begin(sq_catalog *c, sqlite3 **db, cd_err *err)
{
    pthread_mutex_lock(&c->write_lock);
    *db = sq_acquire(c);
    int rc = sqlite3_exec(*db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return CAT_OK;
    rc = sq_fail(*db, rc, err, "cannot begin a transaction");
    sq_release(c, *db);
    pthread_mutex_unlock(&c->write_lock);
    *db = NULL;
    return rc;
}

int sq_write_end(sq_catalog *c, sqlite3 *db, int rc, cd_err *err)
{
    if (rc == CAT_OK) {
        int step = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (step != SQLITE_OK)
            rc = sq_fail(db, step, err, "cannot commit");
    }
    /* After a failed COMMIT the transaction may still be open. */
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sq_release(c, db);
    pthread_mutex_unlock(&c->write_lock);
    return rc;
}

int sq_read_begin(sq_catalog *c, sqlite3 **db, cd_err *err)
{
    *db = sq_acquire(c);
    int rc = sqlite3_exec(*db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return CAT_OK;
    rc = sq_fail(*db, rc, err, "cannot begin a transaction");
    sq_release(c, *db);
    *db = NULL;
    return rc;
}

void sq_read_end(sq_catalog *c, sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sq_release(c, db);
}

/* Opening ------------------------------------------------------------------ */

/* Creates the schema in a new file, or checks that an existing file's is
 * one this code understands. */
static int schema(sqlite3 *db, cd_err *err)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(db, rc, err, "cannot open the catalog");
    sqlite3_stmt *st = NULL;
    int status = sq_prep(db, &st, err, "PRAGMA user_version", "");
    int64_t have = 0;
    if (status == CAT_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            have = sqlite3_column_int64(st, 0);
        else
            status = sq_fail(db, rc, err, "cannot read the schema version");
        sqlite3_finalize(st);
    }
    if (status == CAT_OK && have == 0) {
        rc = sqlite3_exec(db, schema_v1, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            status = sq_fail(db, rc, err, "cannot create the schema");
        have = 1;
    }
    if (status == CAT_OK && have == 1) { /* upgrades a version 1 file in place */
        rc = sqlite3_exec(db, schema_v2, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            status = sq_fail(db, rc, err, "cannot upgrade the schema");
        have = 2;
    }
    if (status == CAT_OK && have == 2) { /* and a version 2 file */
        rc = sqlite3_exec(db, schema_v3, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            status = sq_fail(db, rc, err, "cannot upgrade the schema");
        have = 3;
    }
    if (status == CAT_OK && have == 3) { /* and a version 3 file */
        rc = sqlite3_exec(db, schema_v4, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            status = sq_fail(db, rc, err, "cannot upgrade the schema");
        have = 4;
    }
    if (status == CAT_OK && have == 4) { /* and a version 4 file */
        rc = sqlite3_exec(db, schema_v5, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            status = sq_fail(db, rc, err, "cannot upgrade the schema");
        have = 5;
    }
    /* When each token was last used: a table of its own, added if missing
     * (older binaries of this schema version ignore it). */
    if (status == CAT_OK && have == SQ_SCHEMA_VERSION) {
        rc = sqlite3_exec(db, SQ_TOKEN_USE_TABLE, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            status = sq_fail(db, rc, err, "cannot create the schema");
    } else if (status == CAT_OK) {
        status = cd_err_set(err, CAT_ERROR,
                            "catalog: catalog.db has schema version %lld; this contentd "
                            "understands version %d",
                            (long long)have, SQ_SCHEMA_VERSION);
    }
    rc = sqlite3_exec(db, status == CAT_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (rc != SQLITE_OK && status == CAT_OK)
        status = sq_fail(db, rc, err, "cannot create the schema");
    return status;
}

/* Opens one connection; the first one also switches the file to WAL and
 * sees to the schema. */
static int connect_one(const char *path, bool first, sqlite3 **out, cd_err *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    int status = CAT_OK;
    if (rc != SQLITE_OK) {
        status = sq_fail(db, rc, err, "cannot open catalog.db");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_extended_result_codes(db, 1);
    rc = sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    if (rc == SQLITE_OK && first)
        rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        status = sq_fail(db, rc, err, "cannot set up catalog.db");
        goto out;
    }
    if (first)
        status = schema(db, err);
out:
    if (status != CAT_OK) {
        sqlite3_close(db);
        db = NULL;
    }
    *out = db;
    return status;
}

sq_catalog *sq_open(const char *data_dir, cd_err *err)
{
    if (!data_dir || !*data_dir || cd_mkdir_p(data_dir, 0755, NULL) < 0) {
        int e = errno;
        cd_err_set(err, CAT_UNAVAILABLE, "catalog: cannot create the data folder %s: %s",
                   data_dir ? data_dir : "", strerror(data_dir && *data_dir ? e : ENOENT));
        return NULL;
    }
    sq_catalog *c = cd_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->freed, NULL);
    pthread_mutex_init(&c->write_lock, NULL);
    cd_buf path = CD_BUF_INIT;
    cd_buf_printf(&path, "%s/catalog.db", data_dir);
    for (int i = 0; i < SQ_POOL; i++)
        if (connect_one(path.data, i == 0, &c->db[i], err) != CAT_OK) {
            cd_buf_free(&path);
            sq_close(c);
            return NULL;
        }
    cd_buf_free(&path);
    return c;
}

void sq_close(sq_catalog *c)
{
    if (!c)
        return;
    for (int i = 0; i < SQ_POOL; i++)
        sqlite3_close(c->db[i]); /* NULL is a no-op */
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->freed);
    pthread_mutex_destroy(&c->write_lock);
    free(c);
}
