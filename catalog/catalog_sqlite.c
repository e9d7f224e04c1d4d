/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend of the catalog: the embedded default, one file
 * `catalog.db` in the data folder.  This file holds the ops table, items and
 * tokens; versions are in catalog_sqlite_versions.c and the connection pool
 * and schema in catalog_sqlite_db.c.
 *
 * The ops announce nothing: catalog.c does, once an op has returned, so
 * after the transaction has committed and its connection and locks are
 * given back (a listener may call the catalog again).
 */
#include "catalog_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#define ITEM_COLUMNS                                                                               \
    "kind, name, owner, title, visibility, version, created_at, updated_at,"                       \
    " coalesce((SELECT t.version FROM tombstones t"                                                \
    " WHERE t.kind = items.kind AND t.name = items.name), 0), published_version, id, checks"

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
    it->published_version = sqlite3_column_int64(st, 9);
    it->checks =
        sqlite3_column_int(st, 11) == CAT_CHECKS_STRICT ? CAT_CHECKS_STRICT : CAT_CHECKS_WARN;
}

/* Fills it->members from the members of item id, sorted by user. */
static int load_members(sqlite3 *db, int64_t id, catalog_item *it, cd_err *err)
{
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err, "SELECT user, role FROM members WHERE item_id = ? ORDER BY user",
                     "i", id);
    size_t cap = 0;
    int step = SQLITE_DONE;
    while (rc == CAT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        it->members = cd_grow(it->members, it->n_members, &cap, 4, sizeof *it->members);
        catalog_member *m = &it->members[it->n_members++];
        m->user = sq_text_dup(st, 0);
        m->role = (catalog_role)sqlite3_column_int(st, 1);
    }
    if (rc == CAT_OK && step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot read the members");
    sqlite3_finalize(st);
    return rc;
}

/* Fills it->links from the links of item id, oldest first. */
static int load_links(sqlite3 *db, int64_t id, catalog_item *it, cd_err *err)
{
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err,
                     "SELECT id, sha256, version, expires_at, created_at FROM links"
                     " WHERE item_id = ? ORDER BY created_at, id",
                     "i", id);
    size_t cap = 0;
    int step = SQLITE_DONE;
    while (rc == CAT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        it->links = cd_grow(it->links, it->n_links, &cap, 4, sizeof *it->links);
        catalog_link *l = &it->links[it->n_links++];
        sq_text_copy(st, 0, l->id, sizeof l->id);
        sq_text_copy(st, 1, l->sha256, sizeof l->sha256);
        l->version = sqlite3_column_int64(st, 2);
        l->expires_at = sqlite3_column_int64(st, 3);
        l->created_at = sqlite3_column_int64(st, 4);
    }
    if (rc == CAT_OK && step != SQLITE_DONE)
        rc = sq_fail(db, step, err, "cannot read the links");
    sqlite3_finalize(st);
    return rc;
}

/* row_item, then the item's members and links. */
static int row_item_full(sqlite3 *db, sqlite3_stmt *st, catalog_item *it, cd_err *err)
{
    row_item(st, it);
    int rc = load_members(db, sqlite3_column_int64(st, 10), it, err);
    return rc ? rc : load_links(db, sqlite3_column_int64(st, 10), it, err);
}

static catalog_status sq_ping(catalog *cat, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db = sq_acquire(c);
    int rc = sq_run(db, err, "SELECT count(*) FROM tokens", "");
    sq_release(c, db);
    return rc;
}

static catalog_status sq_item_get(catalog *cat, const char *kind, const char *name,
                                  catalog_item *out, cd_err *err)
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
            rc = row_item_full(db, st, out, err);
        else if (step == SQLITE_DONE)
            rc = cd_err_set(err, CAT_NOT_FOUND, "no item %s/%s", kind, name);
        else
            rc = sq_fail(db, step, err, "cannot read an item");
        sqlite3_finalize(st);
    }
    sq_release(c, db);
    return rc;
}

static catalog_status sq_item_list(catalog *cat, const char *kind, catalog_item **out, size_t *n,
                                   cd_err *err)
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
        *out = cd_grow(*out, *n, &cap, 16, sizeof **out);
        memset(&(*out)[*n], 0, sizeof **out);
        rc = row_item_full(db, st, &(*out)[(*n)++], err);
    }
    if (rc == CAT_OK && step != SQLITE_DONE && step != SQLITE_ROW)
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

static catalog_status sq_item_create(catalog *cat, const catalog_item *it, cd_err *err)
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
    return sq_write_end(c, db, rc, err);
}

static catalog_status sq_item_update(catalog *cat, const char *kind, const char *name,
                                     const char *title, int visibility, int checks,
                                     int64_t *at_version, cd_err *err)
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
    *at_version = version;
    return sq_write_end(c, db, rc, err);
}

static catalog_status sq_item_delete(catalog *cat, const char *kind, const char *name, cd_err *err)
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
        rc = sq_run(db, err, "DELETE FROM members WHERE item_id = ?", "i", id);
    if (rc == CAT_OK)
        rc = sq_run(db, err, "DELETE FROM links WHERE item_id = ?", "i", id);
    if (rc == CAT_OK)
        rc = sq_run(db, err, "DELETE FROM comments WHERE item_id = ?", "i", id);
    if (rc == CAT_OK)
        rc = sq_run(db, err, "DELETE FROM items WHERE id = ?", "i", id);
    if (rc == CAT_OK) /* the version numbers stay used: see deleted_version */
        rc = sq_run(db, err,
                    "INSERT INTO tombstones (kind, name, version) VALUES (?, ?, ?)"
                    " ON CONFLICT (kind, name) DO UPDATE"
                    " SET version = max(version, excluded.version)",
                    "ssi", kind, name, version);
    return sq_write_end(c, db, rc, err);
}

/* Review and sharing ------------------------------------------------------ */

/* What a change of the review records does inside its transaction, given
 * the item's id. */
typedef struct review_change {
    int (*run)(sqlite3 *db, int64_t id, const struct review_change *ch, cd_err *err);
    const char *kind, *name;
    const char *text; /* the user, or the link id */
    int64_t number;   /* the version, or the role */
    const catalog_link *link;
} review_change;

/* Runs ch in a write transaction on its item; *version: the item's
 * version, for the announcement (CAT_EV_UPDATED, like a title change). */
static int review_write(catalog *cat, const review_change *ch, int64_t *version, cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db;
    int64_t id = 0, latest = 0;
    int rc = sq_write_begin(c, &db, err);
    if (rc)
        return rc;
    rc = sq_item_id(db, ch->kind, ch->name, &id, &latest, err);
    if (rc == CAT_OK)
        rc = ch->run(db, id, ch, err);
    *version = latest;
    return sq_write_end(c, db, rc, err);
}

/* CAT_NOT_FOUND with what when the last statement changed no row. */
static int changed_one(sqlite3 *db, int rc, cd_err *err, const char *what)
{
    if (rc == CAT_OK && sqlite3_changes(db) == 0)
        return cd_err_set(err, CAT_NOT_FOUND, "%s", what);
    return rc;
}

static int run_publish(sqlite3 *db, int64_t id, const review_change *ch, cd_err *err)
{
    int rc = sq_run(db, err,
                    "UPDATE items SET published_version = ?1, updated_at = ?2 WHERE id = ?3"
                    " AND EXISTS (SELECT 1 FROM versions WHERE item_id = ?3 AND version = ?1)",
                    "iii", ch->number, cd_now_ms(), id);
    return changed_one(db, rc, err, "no such version");
}

static int run_member(sqlite3 *db, int64_t id, const review_change *ch, cd_err *err)
{
    if (ch->number == CAT_ROLE_NONE) {
        int rc = sq_run(db, err, "DELETE FROM members WHERE item_id = ? AND user = ?", "is", id,
                        ch->text);
        return changed_one(db, rc, err, "no such member");
    }
    return sq_run(db, err,
                  "INSERT INTO members (item_id, user, role) VALUES (?, ?, ?)"
                  " ON CONFLICT (item_id, user) DO UPDATE SET role = excluded.role",
                  "isi", id, ch->text, ch->number);
}

static int run_link_add(sqlite3 *db, int64_t id, const review_change *ch, cd_err *err)
{
    const catalog_link *l = ch->link;
    return sq_run(db, err,
                  "INSERT INTO links (id, item_id, sha256, version, expires_at, created_at)"
                  " VALUES (?, ?, ?, ?, ?, ?)",
                  "sisiii", l->id, id, l->sha256, l->version, l->expires_at,
                  l->created_at ? l->created_at : cd_now_ms());
}

static int run_link_delete(sqlite3 *db, int64_t id, const review_change *ch, cd_err *err)
{
    int rc = sq_run(db, err, "DELETE FROM links WHERE id = ? AND item_id = ?", "si", ch->text, id);
    return changed_one(db, rc, err, "no such link");
}

static catalog_status sq_publish(catalog *cat, const char *kind, const char *name, int64_t version,
                                 int64_t *at_version, cd_err *err)
{
    review_change ch = {.run = run_publish, .kind = kind, .name = name, .number = version};
    return review_write(cat, &ch, at_version, err);
}

static catalog_status sq_member_set(catalog *cat, const char *kind, const char *name,
                                    const char *user, catalog_role role, int64_t *version,
                                    cd_err *err)
{
    review_change ch = {
        .run = run_member, .kind = kind, .name = name, .text = user, .number = role};
    return review_write(cat, &ch, version, err);
}

static catalog_status sq_link_add(catalog *cat, const char *kind, const char *name,
                                  const catalog_link *l, int64_t *version, cd_err *err)
{
    review_change ch = {.run = run_link_add, .kind = kind, .name = name, .link = l};
    return review_write(cat, &ch, version, err);
}

static catalog_status sq_link_delete(catalog *cat, const char *kind, const char *name,
                                     const char *link_id, int64_t *version, cd_err *err)
{
    review_change ch = {.run = run_link_delete, .kind = kind, .name = name, .text = link_id};
    return review_write(cat, &ch, version, err);
}

static catalog_status sq_link_find(catalog *cat, const char *token_sha256, char *kind, char *name,
                                   cd_err *err)
{
    sq_catalog *c = (sq_catalog *)cat;
    sqlite3 *db = sq_acquire(c);
    sqlite3_stmt *st;
    int rc = sq_prep(db, &st, err,
                     "SELECT i.kind, i.name FROM links l JOIN items i ON i.id = l.item_id"
                     " WHERE l.sha256 = ?",
                     "s", token_sha256);
    if (rc == CAT_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            sq_text_copy(st, 0, kind, CD_KIND_MAX);
            sq_text_copy(st, 1, name, CD_NAME_MAX);
        } else if (step == SQLITE_DONE) {
            rc = cd_err_set(err, CAT_NOT_FOUND, "no such link");
        } else {
            rc = sq_fail(db, step, err, "cannot read the links");
        }
        sqlite3_finalize(st);
    }
    sq_release(c, db);
    return rc;
}

/* Tokens ------------------------------------------------------------------- */

static catalog_status sq_token_add(catalog *cat, const char *token_sha256, const char *user,
                                   cd_err *err)
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

static catalog_status sq_token_user(catalog *cat, const char *token_sha256, char **user,
                                    cd_err *err)
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

static catalog_status sq_token_count(catalog *cat, int64_t *n, cd_err *err)
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
    .publish = sq_publish,
    .member_set = sq_member_set,
    .link_add = sq_link_add,
    .link_delete = sq_link_delete,
    .link_find = sq_link_find,
    .comment_add = sq_comment_add,
    .comment_get = sq_comment_get,
    .comment_list = sq_comment_list,
    .comment_resolve = sq_comment_resolve,
    .close = sq_close_ops,
};

catalog *catalog_open_sqlite(const char *data_dir, cd_err *err)
{
    sq_catalog *c = sq_open(data_dir, err);
    if (!c)
        return NULL;
    catalog_init(&c->base, &sqlite_ops);
    return &c->base;
}
