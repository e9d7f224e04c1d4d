/* SPDX-License-Identifier: MIT */
/*
 * The SQLite catalog's comments (schema version 5): one row per comment,
 * keyed by the item's id and the comment's number within the item, which
 * the write transaction takes as one past the highest so far.
 */
#include "catalog_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#define COMMENT_COLUMNS                                                                            \
    "id, user, version, path, block, block_hash, body, reply_to, resolved, created_at"

static void read_row(sqlite3_stmt *st, catalog_comment *cm)
{
    cm->id = sqlite3_column_int64(st, 0);
    cm->user = sq_text_dup(st, 1);
    cm->version = sqlite3_column_int64(st, 2);
    cm->path = sq_text_dup(st, 3);
    cm->block = sq_text_dup(st, 4);
    sq_text_copy(st, 5, cm->block_hash, sizeof cm->block_hash);
    cm->body = sq_text_dup(st, 6);
    cm->reply_to = sqlite3_column_int64(st, 7);
    cm->resolved = sqlite3_column_int64(st, 8) != 0;
    cm->created_at = sqlite3_column_int64(st, 9);
}

/* Inserts cm (its id taken as the next one when 0) in the open write
 * transaction on item `id`. */
static int insert(sqlite3 *db, int64_t item, catalog_comment *cm, cd_err *err)
{
    sqlite3_stmt *st;
    int rc = CAT_OK;
    if (!cm->id) {
        rc = sq_prep(db, &st, err,
                     "SELECT coalesce(max(id), 0) + 1 FROM comments WHERE item_id = ?", "i", item);
        if (rc)
            return rc;
        if (sqlite3_step(st) == SQLITE_ROW)
            cm->id = sqlite3_column_int64(st, 0);
        else
            rc = sq_fail(db, sqlite3_errcode(db), err, "cannot number a comment");
        sqlite3_finalize(st);
        if (rc)
            return rc;
    }
    rc = sq_prep(db, &st, err,
                 "INSERT INTO comments (item_id, " COMMENT_COLUMNS ")"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                 "iisissssiii", item, cm->id, cm->user, cm->version, cm->path, cm->block,
                 cm->block_hash, cm->body, cm->reply_to, (int64_t)cm->resolved, cm->created_at);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot add a comment");
    else if (sqlite3_changes(db) == 0)
        rc = cd_err_set(err, CAT_EXISTS, "there is a comment %lld already", (long long)cm->id);
    sqlite3_finalize(st);
    return rc;
}

catalog_status sq_comment_add(catalog *cat, const char *kind, const char *name, catalog_comment *cm,
                              cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db;
    int64_t item = 0, latest = 0, asked = cm->id;
    int rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    rc = sq_item_id(db, kind, name, &item, &latest, err);
    if (rc == CAT_OK)
        rc = insert(db, item, cm, err);
    rc = sq_write_end(c, db, rc, err);
    if (rc != CAT_OK)
        cm->id = asked;
    return rc;
}

/* Runs a SELECT of COMMENT_COLUMNS (bound as types say) and collects its
 * rows. */
static int select_rows(sq_catalog *c, catalog_comment **out, size_t *n, cd_err *err,
                       const char *sql, const char *types, const char *kind, const char *name,
                       const char *text, int64_t number)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = sq_read_begin(c, &db, err);
    if (rc)
        return rc;
    int64_t item = 0, latest = 0;
    rc = sq_item_id(db, kind, name, &item, &latest, err);
    if (rc == CAT_OK)
        rc = text ? sq_prep(db, &st, err, sql, types, item, text)
                  : sq_prep(db, &st, err, sql, types, item, number);
    size_t cap = 0;
    int step = SQLITE_DONE;
    while (rc == CAT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
        memset(&(*out)[*n], 0, sizeof **out);
        read_row(st, &(*out)[(*n)++]);
    }
    if (rc == CAT_OK) {
        if (step != SQLITE_DONE)
            rc = sq_fail(db, step, err, "cannot read comments");
        sqlite3_finalize(st);
    }
    sq_read_end(c, db);
    return rc;
}

catalog_status sq_comment_get(catalog *cat, const char *kind, const char *name, int64_t id,
                              catalog_comment *out, cd_err *err)
{
    catalog_comment *rows = NULL;
    size_t n = 0;
    int rc = select_rows((sq_catalog *)cat, &rows, &n, err,
                         "SELECT " COMMENT_COLUMNS " FROM comments WHERE item_id = ? AND id = ?",
                         "ii", kind, name, NULL, id);
    if (rc == CAT_OK && n == 0)
        rc = cd_err_set(err, CAT_NOT_FOUND, "%s/%s has no comment %lld", kind, name, (long long)id);
    if (rc == CAT_OK) {
        *out = rows[0];
        memset(&rows[0], 0, sizeof rows[0]);
    }
    catalog_comments_free(rows, n);
    return rc;
}

catalog_status sq_comment_list(catalog *cat, const char *kind, const char *name, const char *path,
                               catalog_comment **out, size_t *n, cd_err *err)
{
    int rc = path ? select_rows((sq_catalog *)cat, out, n, err,
                                "SELECT " COMMENT_COLUMNS " FROM comments WHERE item_id = ?"
                                " AND path = ? ORDER BY id",
                                "is", kind, name, path, 0)
                  : select_rows((sq_catalog *)cat, out, n, err,
                                "SELECT " COMMENT_COLUMNS " FROM comments WHERE item_id = ?"
                                " AND ? = 0 ORDER BY id",
                                "ii", kind, name, NULL, 0);
    if (rc != CAT_OK) {
        catalog_comments_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

catalog_status sq_comment_resolve(catalog *cat, const char *kind, const char *name, int64_t id,
                                  bool resolved, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db;
    int64_t item = 0, latest = 0;
    int rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    rc = sq_item_id(db, kind, name, &item, &latest, err);
    if (rc == CAT_OK)
        rc = sq_run(db, err, "UPDATE comments SET resolved = ? WHERE item_id = ? AND id = ?", "iii",
                    (int64_t)resolved, item, id);
    if (rc == CAT_OK && sqlite3_changes(db) == 0)
        rc = cd_err_set(err, CAT_NOT_FOUND, "%s/%s has no comment %lld", kind, name, (long long)id);
    return sq_write_end(c, db, rc, err);
}
