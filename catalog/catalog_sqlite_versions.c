/* SPDX-License-Identifier: MIT */
/*
 * Versions in the SQLite catalog: the atomic commit of a new file list, the
 * file list of any kept version and the history.
 *
 * A commit is one BEGIN IMMEDIATE transaction: the base check, the
 * comparison with the current list, the new rows and the item's new version
 * either all happen or none does, and a reader (on another connection, in
 * WAL) sees the old version or the new one, never a mix.
 */
#include "catalog_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

/* How many paths of the sorted list `want` are added, removed or changed
 * against version `version` of item id (0: the empty list). */
static int count_changes(sqlite3 *db, int64_t id, int64_t version, const catalog_file **want,
                         size_t n, int *changed, cd_err *err)
{
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err,
                     "SELECT path, sha256, size FROM version_files"
                     " WHERE item_id = ? AND version = ? ORDER BY path",
                     "ii", id, version);
    if (rc)
        return rc;
    *changed = 0;
    size_t i = 0;
    int step = sqlite3_step(st);
    while (step == SQLITE_ROW || i < n) {
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            break;
        const char *path = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        int cmp = !path ? 1 : i == n ? -1 : strcmp(path, want[i]->path);
        if (cmp == 0 && (strcmp((const char *)sqlite3_column_text(st, 1), want[i]->sha256) ||
                         sqlite3_column_int64(st, 2) != want[i]->size))
            (*changed)++;
        else if (cmp != 0)
            (*changed)++; /* removed (cmp < 0) or added (cmp > 0) */
        if (cmp >= 0)
            i++;
        if (cmp <= 0)
            step = sqlite3_step(st);
    }
    if (step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot read a file list");
    sqlite3_finalize(st);
    return rc;
}

/* Writes the rows of version v of item id. */
static int insert_version(sqlite3 *db, int64_t id, int64_t v, int changed, const char *checks,
                          const catalog_file **files, size_t n, cd_err *err)
{
    int64_t now = cd_now_ms();
    int rc = sq_run(db, err,
                    "INSERT INTO versions (item_id, version, created_at, files_changed, checks)"
                    " VALUES (?, ?, ?, ?, ?)",
                    "iiiis", id, v, now, (int64_t)changed, checks);
    sqlite3_stmt *st = NULL;
    if (rc == CAT_OK)
        rc = sq_prep(db, &st, err,
                     "INSERT INTO version_files (item_id, version, path, sha256, size,"
                     " content_type) VALUES (?, ?, ?, ?, ?, ?)",
                     "ii", id, v);
    for (size_t i = 0; rc == CAT_OK && i < n; i++) {
        const catalog_file *f = files[i];
        const char *type = f->content_type ? f->content_type : catalog_content_type(f->path);
        sqlite3_bind_text(st, 3, f->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, f->sha256, 64, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, f->size);
        sqlite3_bind_text(st, 6, type, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE)
            rc = sq_fail(db, step, err, "cannot store a file list");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

catalog_status sq_commit(catalog *cat, const char *kind, const char *name, int64_t base,
                         const catalog_file *files, size_t n, const char *title, const char *checks,
                         int64_t *new_version, bool *created, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    *new_version = base;
    *created = false;
    const catalog_file **sorted = catalog_files_sorted(files, n, err);
    if (!sorted)
        return CAT_ERROR;
    sqlite3 *db;
    int rc = sq_write_begin(c, &db, err);
    if (rc)
        goto out;
    catalog_item it = {0};
    int64_t id = 0, next = 0;
    int changed = 0;
    rc = sq_item_id(db, kind, name, &id, &it.version, err);
    if (rc == CAT_OK && it.version != base)
        rc = cd_err_set(err, CAT_CONFLICT, "%s/%s is at version %lld, not %lld", kind, name,
                        (long long)it.version, (long long)base);
    if (rc == CAT_OK)
        rc = sq_deleted_version(db, kind, name, &it.deleted_version, err);
    next = catalog_next_version(&it);
    if (rc == CAT_OK)
        rc = count_changes(db, id, it.version, sorted, n, &changed, err);
    if (rc == CAT_OK && changed > 0)
        rc = insert_version(db, id, next, changed, checks, sorted, n, err);
    if (rc == CAT_OK && changed > 0)
        rc = sq_run(db, err,
                    "UPDATE items SET version = ?, updated_at = ?, title = coalesce(?, title)"
                    " WHERE id = ?",
                    "iisi", next, cd_now_ms(), title, id);
    rc = sq_write_end(c, db, rc, err);
    if (rc == CAT_OK && changed > 0) {
        *new_version = next;
        *created = true;
    }
out:
    free(sorted);
    return rc;
}

/* Checks that version v of item id is kept. */
static int version_exists(sqlite3 *db, int64_t id, int64_t v, const char *kind, const char *name,
                          cd_err *err)
{
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err, "SELECT 1 FROM versions WHERE item_id = ? AND version = ?", "ii",
                     id, v);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = cd_err_set(err, CAT_NOT_FOUND, "no version %lld of %s/%s", (long long)v, kind, name);
    else if (step != SQLITE_ROW)
        rc = sq_fail(db, step, err, "cannot read the history");
    sqlite3_finalize(st);
    return rc;
}

static int read_files(sqlite3 *db, int64_t id, int64_t v, catalog_file **out, size_t *n,
                      cd_err *err)
{
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err,
                     "SELECT path, sha256, size, content_type FROM version_files"
                     " WHERE item_id = ? AND version = ? ORDER BY path",
                     "ii", id, v);
    if (rc)
        return rc;
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
        catalog_file *f = &(*out)[(*n)++];
        f->path = sq_text_dup(st, 0);
        sq_text_copy(st, 1, f->sha256, sizeof f->sha256);
        f->size = sqlite3_column_int64(st, 2);
        f->content_type = sq_text_dup(st, 3);
    }
    if (step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot read a file list");
    sqlite3_finalize(st);
    return rc;
}

/* One item of a read: the names asked for, its id and current version. */
struct item_ref {
    const char *kind, *name;
    int64_t id, current;
};

typedef int (*item_read_fn)(sqlite3 *db, const struct item_ref *it, void *arg, cd_err *err);

/* The frame of every read of one item's versions: a read transaction, the
 * item's lookup (CAT_NOT_FOUND when there is none), fn, the end of the
 * read.  Returns the first error. */
static int with_item(catalog *cat, const char *kind, const char *name, item_read_fn fn, void *arg,
                     cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db;
    int rc = sq_read_begin(c, &db, err);
    if (rc)
        return rc;
    struct item_ref it = {kind, name, 0, 0};
    rc = sq_item_id(db, kind, name, &it.id, &it.current, err);
    if (rc == CAT_OK)
        rc = fn(db, &it, arg, err);
    sq_read_end(c, db);
    return rc;
}

struct files_read {
    int64_t version;
    catalog_file **out;
    size_t *n;
};

static int files_of(sqlite3 *db, const struct item_ref *it, void *arg, cd_err *err)
{
    struct files_read *r = arg;
    int64_t v = r->version ? r->version : it->current;
    if (v == 0)
        return CAT_OK;
    int rc = version_exists(db, it->id, v, it->kind, it->name, err);
    return rc ? rc : read_files(db, it->id, v, r->out, r->n, err);
}

catalog_status sq_files(catalog *cat, const char *kind, const char *name, int64_t version,
                        catalog_file **out, size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    struct files_read r = {version, out, n};
    int rc = with_item(cat, kind, name, files_of, &r, err);
    if (rc) {
        catalog_files_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

struct history_read {
    catalog_version **out;
    size_t *n;
};

static int history_of(sqlite3 *db, const struct item_ref *it, void *arg, cd_err *err)
{
    struct history_read *r = arg;
    sqlite3_stmt *st = NULL;
    int rc = sq_prep(db, &st, err,
                     "SELECT version, created_at, files_changed FROM versions"
                     " WHERE item_id = ? ORDER BY version",
                     "i", it->id);
    size_t cap = 0;
    int step = SQLITE_DONE;
    while (rc == CAT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        *r->out = cd_grow(*r->out, *r->n, &cap, 16, sizeof **r->out);
        (*r->out)[(*r->n)++] = (catalog_version){
            sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2)};
    }
    if (rc == CAT_OK && step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot read the history");
    sqlite3_finalize(st);
    return rc;
}

catalog_status sq_versions(catalog *cat, const char *kind, const char *name, catalog_version **out,
                           size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    struct history_read r = {out, n};
    int rc = with_item(cat, kind, name, history_of, &r, err);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

struct checks_read {
    int64_t version;
    char **json;
};

static int checks_of(sqlite3 *db, const struct item_ref *it, void *arg, cd_err *err)
{
    struct checks_read *r = arg;
    int64_t v = r->version ? r->version : it->current;
    sqlite3_stmt *st = NULL;
    int rc = sq_prep(db, &st, err, "SELECT checks FROM versions WHERE item_id = ? AND version = ?",
                     "ii", it->id, v);
    int step = rc == CAT_OK ? sqlite3_step(st) : SQLITE_DONE;
    if (rc == CAT_OK && step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *r->json = sq_text_dup(st, 0);
    else if (rc == CAT_OK && step == SQLITE_DONE)
        rc = cd_err_set(err, CAT_NOT_FOUND, "no version %lld of %s/%s", (long long)v, it->kind,
                        it->name);
    else if (rc == CAT_OK && step != SQLITE_ROW)
        rc = sq_fail(db, step, err, "cannot read the history");
    sqlite3_finalize(st);
    return rc;
}

catalog_status sq_checks(catalog *cat, const char *kind, const char *name, int64_t version,
                         char **json, cd_err *err)
{
    struct checks_read r = {version, json};
    return with_item(cat, kind, name, checks_of, &r, err);
}
