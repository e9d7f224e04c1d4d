/* SPDX-License-Identifier: MIT */
/*
 * What every catalog backend shares: the kind and name rules of the data
 * model, the checks of the ops' arguments, the content type of a path,
 * releasing what the calls hand out, the clock, and the backend-neutral
 * entry points of the change watcher.
 */
#include "catalog_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const kinds[] = {"tutorial", "challenge", "course", "skill-path", "roadmap"};

bool catalog_kind_valid(const char *kind)
{
    if (!kind)
        return false;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool catalog_name_valid(const char *name)
{
    if (!name || !lower_alnum(name[0]))
        return false;
    size_t i = 1;
    for (; name[i]; i++)
        if (i > 62 || !(lower_alnum(name[i]) || name[i] == '-'))
            return false;
    return true;
}

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

int64_t catalog_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool catalog_sha_valid(const char *s)
{
    size_t i = 0;
    for (; s && s[i]; i++)
        if (i >= 64 || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 64;
}

int catalog_check_new_item(const catalog_item *it, cd_err *err)
{
    if (!catalog_kind_valid(it->kind))
        return cd_err_set(err, CAT_ERROR, "catalog: unknown kind");
    if (!catalog_name_valid(it->name))
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
    if (!catalog_sha_valid(token_sha256))
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
        if (!f->path || !*f->path || !catalog_sha_valid(f->sha256) || f->size < 0) {
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
    if (c->on_change)
        c->on_change(c->on_change_arg, ev, kind, name, version);
}

const int64_t catalog_lag_bounds_ms[CATALOG_LAG_BUCKETS - 1] = {1,   5,   10,   25,   50,   100,
                                                                250, 500, 1000, 2500, 10000};

int catalog_watch_start(catalog *c, cd_err *err)
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
