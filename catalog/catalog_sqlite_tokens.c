/* SPDX-License-Identifier: MIT */
/*
 * The SQLite catalog's token listing, deletion and last-use record
 * (`contentd token list|revoke`).  When a token was last used lives in
 * its own table, token_use, so that recording a use never rewrites the
 * token's row and a catalog of schema version 1 only gains a table.
 */
#include "catalog_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

catalog_status sq_token_list(catalog *cat, catalog_token **out, size_t *n, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    *out = NULL;
    *n = 0;
    sqlite3 *db = sq_acquire(c);
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err,
                     "SELECT t.sha256, t.user, t.created_at, coalesce(u.last_used_at, 0)"
                     " FROM tokens t LEFT JOIN token_use u ON u.sha256 = t.sha256"
                     " ORDER BY t.created_at, t.sha256",
                     "");
    size_t cap = 0;
    int step = SQLITE_DONE;
    while (rc == CAT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
        catalog_token *t = &(*out)[(*n)++];
        sq_text_copy(st, 0, t->sha256, sizeof t->sha256);
        t->user = sq_text_dup(st, 1);
        t->created_at = sqlite3_column_int64(st, 2);
        t->last_used_at = sqlite3_column_int64(st, 3);
    }
    if (rc == CAT_OK && step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot read the tokens");
    sqlite3_finalize(st);
    sq_release(c, db);
    if (rc) {
        catalog_tokens_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

catalog_status sq_token_delete(catalog *cat, const char *token_sha256, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db;
    int rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    rc = sq_run(db, err, "DELETE FROM tokens WHERE sha256 = ?", "s", token_sha256);
    if (rc == CAT_OK && sqlite3_changes(db) == 0)
        rc = cd_err_set(err, CAT_NOT_FOUND, "unknown token");
    if (rc == CAT_OK)
        rc = sq_run(db, err, "DELETE FROM token_use WHERE sha256 = ?", "s", token_sha256);
    return sq_write_end(c, db, rc, err);
}

catalog_status sq_token_touch(catalog *cat, const char *token_sha256, int64_t at_ms, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db;
    int rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    rc = sq_run(db, err,
                "INSERT INTO token_use (sha256, last_used_at) SELECT sha256, ?2 FROM tokens"
                " WHERE sha256 = ?1 ON CONFLICT (sha256) DO UPDATE SET"
                " last_used_at = max(last_used_at, excluded.last_used_at)",
                "si", token_sha256, at_ms);
    return sq_write_end(c, db, rc, err);
}
