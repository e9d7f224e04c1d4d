/* SPDX-License-Identifier: MIT */
/*
 * What every catalog backend shares: the kind and name rules of the data
 * model, the checks of the ops' arguments, the content type of a path,
 * releasing what the calls hand out, the clock, the backend-neutral
 * entry points of the change watcher, and the door: every caller's way in,
 * which checks the arguments, times the backend's op and announces the
 * change it made to the listeners (catalog_listen()).
 */
#include "catalog_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Extensions and their types; text types carry the charset, since every
 * text file of a content folder is UTF-8. */
static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {"md", "text/markdown; charset=utf-8"},
    {"markdown", "text/markdown; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"xml", "application/xml"},
    {"csv", "text/csv; charset=utf-8"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"svg", "image/svg+xml"},
    {"ico", "image/vnd.microsoft.icon"},
    {"bmp", "image/bmp"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    /* Source files shown in tutorials: plain text, never executed. */
    {"c", "text/plain; charset=utf-8"},
    {"h", "text/plain; charset=utf-8"},
    {"py", "text/plain; charset=utf-8"},
    {"sh", "text/plain; charset=utf-8"},
    {"go", "text/plain; charset=utf-8"},
    {"rs", "text/plain; charset=utf-8"},
    {"ts", "text/plain; charset=utf-8"},
    {"toml", "text/plain; charset=utf-8"},
};

const char *catalog_content_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

int64_t catalog_next_version(const catalog_item *it)
{
    return (it->version > it->deleted_version ? it->version : it->deleted_version) + 1;
}

void catalog_item_clear(catalog_item *it)
{
    if (!it)
        return;
    free(it->owner);
    free(it->title);
    it->owner = it->title = NULL;
    for (size_t i = 0; i < it->n_members; i++)
        free(it->members[i].user);
    free(it->members);
    it->members = NULL;
    it->n_members = 0;
    free(it->links);
    it->links = NULL;
    it->n_links = 0;
}

void catalog_items_free(catalog_item *items, size_t n)
{
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        catalog_item_clear(&items[i]);
    free(items);
}

void catalog_files_free(catalog_file *files, size_t n)
{
    if (!files)
        return;
    for (size_t i = 0; i < n; i++) {
        free(files[i].path);
        free(files[i].content_type);
    }
    free(files);
}

int catalog_check_new_item(const catalog_item *it, cd_err *err)
{
    if (!cd_kind_valid(it->kind))
        return cd_err_set(err, CAT_ERROR, "catalog: unknown kind");
    if (!cd_name_valid(it->name))
        return cd_err_set(err, CAT_ERROR, "catalog: invalid name");
    if (!it->owner || !*it->owner)
        return cd_err_set(err, CAT_ERROR, "catalog: an item needs an owner");
    return CAT_OK;
}

int catalog_check_visibility(int visibility, cd_err *err)
{
    if (visibility > CAT_PUBLIC)
        return cd_err_set(err, CAT_ERROR, "catalog: invalid visibility");
    return CAT_OK;
}

void catalog_tokens_free(catalog_token *tokens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tokens[i].user);
    free(tokens);
}

int catalog_check_token(const char *token_sha256, const char *user, cd_err *err)
{
    if (!cd_sha_valid(token_sha256))
        return cd_err_set(err, CAT_ERROR, "catalog: a token is stored as its SHA-256 in hex");
    if (!user || !*user)
        return cd_err_set(err, CAT_ERROR, "catalog: a token needs a user");
    return CAT_OK;
}

static int file_ptr_cmp(const void *a, const void *b)
{
    return strcmp((*(const catalog_file *const *)a)->path, (*(const catalog_file *const *)b)->path);
}

const catalog_file **catalog_files_sorted(const catalog_file *files, size_t n, cd_err *err)
{
    const catalog_file **sorted = cd_xcalloc(n, sizeof *sorted);
    for (size_t i = 0; i < n; i++) {
        const catalog_file *f = &files[i];
        if (!f->path || !*f->path || !cd_sha_valid(f->sha256) || f->size < 0) {
            cd_err_set(err, CAT_ERROR, "catalog: file %zu has no path, a bad digest or a bad size",
                       i);
            goto fail;
        }
        sorted[i] = f;
    }
    if (n)
        qsort(sorted, n, sizeof *sorted, file_ptr_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1]->path, sorted[i]->path) == 0) {
            cd_err_set(err, CAT_ERROR, "catalog: the path %s appears twice", sorted[i]->path);
            goto fail;
        }
    return sorted;
fail:
    free(sorted);
    return NULL;
}

void catalog_emit(catalog *c, catalog_event ev, const char *kind, const char *name, int64_t version)
{
    int n = atomic_load_explicit(&c->n_listeners, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (c->listeners[i].cb)
            c->listeners[i].cb(c->listeners[i].arg, ev, kind, name, version);
}

catalog_status catalog_listen(catalog *c, catalog_change_cb cb, void *arg)
{
    int n = atomic_load(&c->n_listeners);
    if (n >= CATALOG_LISTENERS_MAX)
        return CAT_ERROR;
    c->listeners[n].cb = cb;
    c->listeners[n].arg = arg;
    atomic_store_explicit(&c->n_listeners, n + 1, memory_order_release);
    return CAT_OK;
}

void catalog_unlisten(catalog *c, catalog_change_cb cb, void *arg)
{
    int n = atomic_load(&c->n_listeners);
    for (int i = 0; i < n; i++)
        if (c->listeners[i].cb == cb && c->listeners[i].arg == arg)
            c->listeners[i].cb = NULL;
}

/* The door: argument checks, then the backend, timed. -------------------- */

static const char *const op_names[] = {CATALOG_OPS(CD_X_NAME)};

void catalog_init(catalog *c, const struct catalog_ops *ops)
{
    c->ops = ops;
    atomic_init(&c->n_listeners, 0);
    cd_door_init(&c->door, ops->name, op_names, CATALOG_OP_COUNT);
}

const cd_door *catalog_door(const catalog *c)
{
    return &c->door;
}

#define TIMED(c, op, ...) CD_DOOR_CALL(&(c)->door, CATALOG_OP_##op, (c)->ops->op((c), __VA_ARGS__))

/* Announces a change the backend made (rc CAT_OK), unless the backend
 * announces its own.  Called before the door function returns, so a caller
 * that serialises its writes (the commit path holds the item's commit lock
 * around catalog_commit()) has them announced in that order. */
static catalog_status announce(catalog *c, catalog_status rc, catalog_event ev, const char *kind,
                               const char *name, int64_t version)
{
    if (rc == CAT_OK && !c->ops->announces)
        catalog_emit(c, ev, kind, name, version);
    return rc;
}

static catalog_status check_id(const char *kind, const char *name, cd_err *err)
{
    if (!cd_kind_valid(kind))
        return cd_err_set(err, CAT_ERROR, "catalog: unknown kind");
    if (!cd_name_valid(name))
        return cd_err_set(err, CAT_ERROR, "catalog: invalid name");
    return CAT_OK;
}

catalog_status catalog_ping(catalog *c, cd_err *err)
{
    return TIMED(c, ping, err);
}

catalog_status catalog_item_get(catalog *c, const char *kind, const char *name, catalog_item *out,
                                cd_err *err)
{
    memset(out, 0, sizeof *out);
    catalog_status rc = check_id(kind, name, err);
    return rc ? rc : TIMED(c, item_get, kind, name, out, err);
}

catalog_status catalog_item_list(catalog *c, const char *kind, catalog_item **out, size_t *n,
                                 cd_err *err)
{
    *out = NULL;
    *n = 0;
    return TIMED(c, item_list, kind, out, n, err);
}

catalog_status catalog_item_create(catalog *c, const catalog_item *it, cd_err *err)
{
    catalog_status rc = catalog_check_new_item(it, err);
    if (rc == CAT_OK)
        rc = TIMED(c, item_create, it, err);
    return announce(c, rc, CAT_EV_CREATED, it->kind, it->name, 0);
}

catalog_status catalog_item_update(catalog *c, const char *kind, const char *name,
                                   const char *title, int visibility, int checks, cd_err *err)
{
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK)
        rc = catalog_check_visibility(visibility, err);
    if (rc == CAT_OK && checks > CAT_CHECKS_STRICT)
        rc = cd_err_set(err, CAT_ERROR, "catalog: checks mode %d is not one of warn, strict",
                        checks);
    int64_t version = 0;
    if (rc == CAT_OK)
        rc = TIMED(c, item_update, kind, name, title, visibility, checks, &version, err);
    return announce(c, rc, CAT_EV_UPDATED, kind, name, version);
}

catalog_status catalog_item_delete(catalog *c, const char *kind, const char *name, cd_err *err)
{
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK)
        rc = TIMED(c, item_delete, kind, name, err);
    return announce(c, rc, CAT_EV_DELETED, kind, name, 0);
}

catalog_status catalog_commit(catalog *c, const char *kind, const char *name, int64_t base,
                              const catalog_file *files, size_t n, const char *title,
                              const char *checks, int64_t *new_version, bool *created, cd_err *err)
{
    *new_version = base;
    *created = false;
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK)
        rc = TIMED(c, commit, kind, name, base, files, n, title, checks, new_version, created, err);
    /* A file list equal to the current one made no version: nothing to tell. */
    return *created ? announce(c, rc, CAT_EV_VERSION, kind, name, *new_version) : rc;
}

catalog_status catalog_checks(catalog *c, const char *kind, const char *name, int64_t version,
                              char **json, cd_err *err)
{
    *json = NULL;
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK && version < 0)
        rc = cd_err_set(err, CAT_NOT_FOUND, "no version %lld of %s/%s", (long long)version, kind,
                        name);
    return rc ? rc : TIMED(c, checks, kind, name, version, json, err);
}

const char *catalog_checks_mode_name(catalog_checks_mode m)
{
    return m == CAT_CHECKS_STRICT ? "strict" : "warn";
}

int catalog_checks_mode_parse(const char *s)
{
    if (s && !strcmp(s, "warn"))
        return CAT_CHECKS_WARN;
    if (s && !strcmp(s, "strict"))
        return CAT_CHECKS_STRICT;
    return -1;
}

catalog_status catalog_files(catalog *c, const char *kind, const char *name, int64_t version,
                             catalog_file **out, size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    catalog_status rc = check_id(kind, name, err);
    return rc ? rc : TIMED(c, files, kind, name, version, out, n, err);
}

catalog_status catalog_versions(catalog *c, const char *kind, const char *name,
                                catalog_version **out, size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    catalog_status rc = check_id(kind, name, err);
    return rc ? rc : TIMED(c, versions, kind, name, out, n, err);
}

catalog_status catalog_token_add(catalog *c, const char *token_sha256, const char *user,
                                 cd_err *err)
{
    int rc = catalog_check_token(token_sha256, user, err);
    return rc ? rc : TIMED(c, token_add, token_sha256, user, err);
}

catalog_status catalog_token_user(catalog *c, const char *token_sha256, char **user, cd_err *err)
{
    *user = NULL;
    if (!cd_sha_valid(token_sha256))
        return cd_err_set(err, CAT_NOT_FOUND, "catalog: no such token");
    return TIMED(c, token_user, token_sha256, user, err);
}

catalog_status catalog_token_count(catalog *c, int64_t *n, cd_err *err)
{
    *n = 0;
    return TIMED(c, token_count, n, err);
}

catalog_status catalog_token_list(catalog *c, catalog_token **out, size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    return TIMED(c, token_list, out, n, err);
}

catalog_status catalog_token_delete(catalog *c, const char *token_sha256, cd_err *err)
{
    if (!cd_sha_valid(token_sha256))
        return cd_err_set(err, CAT_NOT_FOUND, "catalog: no such token");
    return TIMED(c, token_delete, token_sha256, err);
}

catalog_status catalog_token_touch(catalog *c, const char *token_sha256, int64_t at_ms, cd_err *err)
{
    if (!cd_sha_valid(token_sha256))
        return cd_err_set(err, CAT_NOT_FOUND, "catalog: no such token");
    return TIMED(c, token_touch, token_sha256, at_ms, err);
}

catalog_status catalog_publish(catalog *c, const char *kind, const char *name, int64_t version,
                               cd_err *err)
{
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK && version < 1)
        rc = cd_err_set(err, CAT_NOT_FOUND, "catalog: no version %lld", (long long)version);
    int64_t at = 0;
    if (rc == CAT_OK)
        rc = TIMED(c, publish, kind, name, version, &at, err);
    return announce(c, rc, CAT_EV_UPDATED, kind, name, at);
}

catalog_status catalog_member_set(catalog *c, const char *kind, const char *name, const char *user,
                                  catalog_role role, cd_err *err)
{
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK && (!user || !*user))
        rc = cd_err_set(err, CAT_ERROR, "catalog: a member needs a user");
    if (rc == CAT_OK && (role < CAT_ROLE_NONE || role > CAT_ROLE_EDITOR))
        rc = cd_err_set(err, CAT_ERROR, "catalog: unknown role");
    int64_t version = 0;
    if (rc == CAT_OK)
        rc = TIMED(c, member_set, kind, name, user, role, &version, err);
    return announce(c, rc, CAT_EV_UPDATED, kind, name, version);
}

static bool link_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n == CATALOG_LINK_ID - 1 && strspn(id, "0123456789abcdef") == n;
}

catalog_status catalog_link_add(catalog *c, const char *kind, const char *name,
                                const catalog_link *link, cd_err *err)
{
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK && (!link_id_valid(link->id) || !cd_sha_valid(link->sha256) ||
                         link->version < 0 || link->expires_at <= 0))
        rc = cd_err_set(err, CAT_ERROR, "catalog: a link needs an id, a digest and an expiry");
    int64_t version = 0;
    if (rc == CAT_OK)
        rc = TIMED(c, link_add, kind, name, link, &version, err);
    return announce(c, rc, CAT_EV_UPDATED, kind, name, version);
}

catalog_status catalog_link_delete(catalog *c, const char *kind, const char *name, const char *id,
                                   cd_err *err)
{
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK && !link_id_valid(id))
        rc = cd_err_set(err, CAT_NOT_FOUND, "catalog: no such link");
    int64_t version = 0;
    if (rc == CAT_OK)
        rc = TIMED(c, link_delete, kind, name, id, &version, err);
    return announce(c, rc, CAT_EV_UPDATED, kind, name, version);
}

catalog_status catalog_link_find(catalog *c, const char *token_sha256, char *kind, char *name,
                                 cd_err *err)
{
    kind[0] = name[0] = '\0';
    if (!cd_sha_valid(token_sha256))
        return cd_err_set(err, CAT_NOT_FOUND, "catalog: no such link");
    return TIMED(c, link_find, token_sha256, kind, name, err);
}

catalog_status catalog_comment_add(catalog *c, const char *kind, const char *name,
                                   catalog_comment *cm, cd_err *err)
{
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK)
        rc = catalog_check_comment(cm, err);
    if (rc == CAT_OK && !cm->created_at)
        cm->created_at = cd_now_ms();
    if (rc == CAT_OK)
        rc = TIMED(c, comment_add, kind, name, cm, err);
    return announce(c, rc, CAT_EV_COMMENT, kind, name, cm->id);
}

catalog_status catalog_comment_get(catalog *c, const char *kind, const char *name, int64_t id,
                                   catalog_comment *out, cd_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_id(kind, name, err);
    if (rc == CAT_OK && id < 1)
        rc = cd_err_set(err, CAT_NOT_FOUND, "catalog: no comment %lld", (long long)id);
    return rc ? rc : TIMED(c, comment_get, kind, name, id, out, err);
}

catalog_status catalog_comment_list(catalog *c, const char *kind, const char *name,
                                    const char *path, catalog_comment **out, size_t *n, cd_err *err)
{
    *out = NULL;
    *n = 0;
    int rc = check_id(kind, name, err);
    return rc ? rc : TIMED(c, comment_list, kind, name, path, out, n, err);
}

catalog_status catalog_comment_resolve(catalog *c, const char *kind, const char *name, int64_t id,
                                       bool resolved, cd_err *err)
{
    catalog_status rc = check_id(kind, name, err);
    if (rc == CAT_OK && id < 1)
        rc = cd_err_set(err, CAT_NOT_FOUND, "catalog: no comment %lld", (long long)id);
    if (rc == CAT_OK)
        rc = TIMED(c, comment_resolve, kind, name, id, resolved, err);
    return announce(c, rc, CAT_EV_COMMENT, kind, name, id);
}

void catalog_close(catalog *c)
{
    if (c)
        c->ops->close(c);
}

const int64_t catalog_lag_bounds_ms[CATALOG_LAG_BUCKETS - 1] = {1,   5,   10,   25,   50,   100,
                                                                250, 500, 1000, 2500, 10000};

catalog_status catalog_watch_start(catalog *c, cd_err *err)
{
    return c->ops->watch_start ? c->ops->watch_start(c, err) : CAT_OK;
}

void catalog_watch_stop(catalog *c)
{
    if (c->ops->watch_stop)
        c->ops->watch_stop(c);
}

bool catalog_watch_stats_get(catalog *c, catalog_watch_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c->ops->watch_stats)
        return false;
    c->ops->watch_stats(c, out);
    return true;
}
