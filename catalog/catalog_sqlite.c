/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend of the catalog: the embedded default, one file
 * `catalog.db` in the data folder.  This file holds the ops table, items and
 * tokens; versions are in catalog_sqlite_versions.c and the connection pool
 * and schema in catalog_sqlite_db.c.
 *
 * Change notifications are made after the transaction has committed and
 * its connection and locks are given back, so a callback may call the
 * catalog again.
 */
#include "catalog_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#define ITEM_COLUMNS                                                                               \
    "kind, name, owner, title, visibility, version, created_at, updated_at,"                       \
    " coalesce((SELECT t.version FROM tombstones t"                                                \
    " WHERE t.kind = items.kind AND t.name = items.name), 0), checks"

static void row_item(sqlite3_stmt *st, catalog_item *it)
{
    sq_text_copy(st, 0, it->kind, sizeof it->kind);
    sq_text_copy(st, 1, it->name, sizeof it->name);
    it->owner = sq_text_dup(st, 2);
    it->title = sq_text_dup(st, 3);
    it->visibility = sqlite3_column_int(st, 4) ? CAT_PUBLIC : CAT_PRIVATE;
    it->version = sqlite3_column_int64(st, 5);
    it->created_at = sqlite3_column_int64(st, 6);
    it->updated_at = sqlite3_column_int64(st, 7);
    it->deleted_version = sqlite3_column_int64(st, 8);
    it->checks =
        sqlite3_column_int(st, 9) == CAT_CHECKS_STRICT ? CAT_CHECKS_STRICT : CAT_CHECKS_WARN;
}

static int sq_ping(catalog *cat, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db = sq_acquire(c);
    int rc = sq_run(db, err, "SELECT count(*) FROM tokens", "");
    sq_release(c, db);
    return rc;
}

static int sq_item_get(catalog *cat, const char *kind, const char *name, catalog_item *out,
                       cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    memset(out, 0, sizeof *out);
    sqlite3 *db = sq_acquire(c);
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err, "SELECT " ITEM_COLUMNS " FROM items WHERE kind = ? AND name = ?",
                     "ss", kind, name);
    if (rc == CAT_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            row_item(st, out);
        else if (step == SQLITE_DONE)
            rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
        else
            rc = sq_fail(db, step, err, "cannot read an item");
        sqlite3_finalize(st);
    }
    sq_release(c, db);
    return rc;
}

static int sq_item_list(catalog *cat, const char *kind, catalog_item **out, size_t *n, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    *out = NULL;
    *n = 0;
    sqlite3 *db = sq_acquire(c);
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err,
                     "SELECT " ITEM_COLUMNS " FROM items WHERE ?1 IS NULL OR kind = ?1"
                     " ORDER BY kind, name",
                     "s", kind);
    size_t cap = 0;
    int step = SQLITE_DONE;
    while (rc == CAT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *out = cd_xrealloc(*out, cap * sizeof **out);
        }
        memset(&(*out)[*n], 0, sizeof **out);
        row_item(st, &(*out)[(*n)++]);
    }
    if (rc == CAT_OK && step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot list items");
    sqlite3_finalize(st);
    sq_release(c, db);
    if (rc) {
        catalog_items_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int sq_item_create(catalog *cat, const catalog_item *it, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    int rc = CAT_OK;
    int64_t now = it->created_at ? it->created_at : cd_now_ms();
    sqlite3 *db;
    rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    int64_t id, version;
    cd_err lookup = {0, ""};
    rc = sq_item_id(db, it->kind, it->name, &id, &version, &lookup);
    if (rc == CAT_OK)
        rc = cd_err_set(err, CAT_EXISTS, "%s/%s exists already", it->kind, it->name);
    else if (rc == CAT_NOT_FOUND)
        rc = sq_run(db, err,
                    "INSERT INTO items (kind, name, owner, title, visibility, version,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                    "ssssiii", it->kind, it->name, it->owner, it->title ? it->title : "",
                    (int64_t)(it->visibility == CAT_PUBLIC), now, now);
    else if (err)
        *err = lookup;
    rc = sq_write_end(c, db, rc, err);
    if (rc == CAT_OK)
        catalog_emit(cat, CAT_EV_CREATED, it->kind, it->name, 0);
    return rc;
}

static int sq_item_update(catalog *cat, const char *kind, const char *name, const char *title,
                          int visibility, int checks, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    int rc = CAT_OK;
    sqlite3 *db;
    rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    int64_t id = 0, version = 0;
    rc = sq_item_id(db, kind, name, &id, &version, err);
    if (rc == CAT_OK)
        rc = sq_run(db, err,
                    "UPDATE items SET title = coalesce(?, title),"
                    " visibility = CASE WHEN ?2 < 0 THEN visibility ELSE ?2 END,"
                    " checks = CASE WHEN ?5 < 0 THEN checks ELSE ?5 END,"
                    " updated_at = ?3 WHERE id = ?4",
                    "siiii", title, (int64_t)visibility, cd_now_ms(), id, (int64_t)checks);
    rc = sq_write_end(c, db, rc, err);
    if (rc == CAT_OK)
        catalog_emit(cat, CAT_EV_UPDATED, kind, name, version);
    return rc;
}

static int sq_item_delete(catalog *cat, const char *kind, const char *name, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db;
    int rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    int64_t id = 0, version = 0;
    rc = sq_item_id(db, kind, name, &id, &version, err);
    if (rc == CAT_OK)
        rc = sq_run(db, err, "DELETE FROM version_files WHERE item_id = ?", "i", id);
    if (rc == CAT_OK)
        rc = sq_run(db, err, "DELETE FROM versions WHERE item_id = ?", "i", id);
    if (rc == CAT_OK)
        rc = sq_run(db, err, "DELETE FROM items WHERE id = ?", "i", id);
    if (rc == CAT_OK) /* the version numbers stay used: see deleted_version */
        rc = sq_run(db, err,
                    "INSERT INTO tombstones (kind, name, version) VALUES (?, ?, ?)"
                    " ON CONFLICT (kind, name) DO UPDATE"
                    " SET version = max(version, excluded.version)",
                    "ssi", kind, name, version);
    rc = sq_write_end(c, db, rc, err);
    if (rc == CAT_OK)
        catalog_emit(cat, CAT_EV_DELETED, kind, name, 0);
    return rc;
}

/* Tokens ------------------------------------------------------------------- */

static int sq_token_add(catalog *cat, const char *token_sha256, const char *user, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    int rc = CAT_OK;
    sqlite3 *db;
    rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    rc = sq_prep(db, &st, err, "SELECT 1 FROM tokens WHERE sha256 = ?", "s", token_sha256);
    if (rc == CAT_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            rc = cd_err_set(err, CAT_EXISTS, "this token exists already");
        else if (step != SQLITE_DONE)
            rc = sq_fail(db, step, err, "cannot read the tokens");
        sqlite3_finalize(st);
    }
    if (rc == CAT_OK)
        rc = sq_run(db, err, "INSERT INTO tokens (sha256, user, created_at) VALUES (?, ?, ?)",
                    "ssi", token_sha256, user, cd_now_ms());
    return sq_write_end(c, db, rc, err);
}

static int sq_token_user(catalog *cat, const char *token_sha256, char **user, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    *user = NULL;
    sqlite3 *db = sq_acquire(c);
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err, "SELECT user FROM tokens WHERE sha256 = ?", "s",
                     token_sha256 ? token_sha256 : "");
    if (rc == CAT_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            *user = sq_text_dup(st, 0);
        else if (step == SQLITE_DONE)
            rc = cd_err_set(err, CAT_NOT_FOUND, "unknown token");
        else
            rc = sq_fail(db, step, err, "cannot read the tokens");
        sqlite3_finalize(st);
    }
    sq_release(c, db);
    return rc;
}

static int sq_token_count(catalog *cat, int64_t *n, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    *n = 0;
    sqlite3 *db = sq_acquire(c);
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err, "SELECT count(*) FROM tokens", "");
    if (rc == CAT_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            *n = sqlite3_column_int64(st, 0);
        else
            rc = sq_fail(db, step, err, "cannot read the tokens");
        sqlite3_finalize(st);
    }
    sq_release(c, db);
    return rc;
}

static void sq_close_ops(catalog *cat)
{
    sq_close((sq_catalog *)cat);
}

static const struct catalog_ops sqlite_ops = {
    .name = "sqlite",
    .ping = sq_ping,
    .item_get = sq_item_get,
    .item_list = sq_item_list,
    .item_create = sq_item_create,
    .item_update = sq_item_update,
    .item_delete = sq_item_delete,
    .commit = sq_commit,
    .files = sq_files,
    .versions = sq_versions,
    .checks = sq_checks,
    .token_add = sq_token_add,
    .token_user = sq_token_user,
    .token_count = sq_token_count,
    .token_list = sq_token_list,
    .token_delete = sq_token_delete,
    .token_touch = sq_token_touch,
    .close = sq_close_ops,
};

catalog *catalog_open_sqlite(const char *data_dir, cd_err *err)
{
    sq_catalog *c = sq_open(data_dir, err);
    if (!c)
        return NULL;
    c->base.ops = &sqlite_ops;
    return &c->base;
}
