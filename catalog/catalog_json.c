/* SPDX-License-Identifier: MIT */
/*
 * The JSON forms of the catalog's records (CONTRACT "HTTP API"): an item,
 * a file, a file list, a time stamp, and the listing of the items a user
 * may see — written straight into a buffer, for the API's replies and the
 * event hub's frames alike.  Also the visibility rule they share.
 */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {"", "viewer", "reviewer", "editor"};

const char *catalog_role_name(catalog_role role)
{
    return role >= CAT_ROLE_NONE && role <= CAT_ROLE_EDITOR ? role_names[role] : "";
}

catalog_role catalog_role_parse(const char *s)
{
    for (int i = CAT_ROLE_VIEWER; s && i <= CAT_ROLE_EDITOR; i++)
        if (!strcmp(s, role_names[i]))
            return (catalog_role)i;
    return CAT_ROLE_NONE;
}

bool catalog_is_owner(const char *user, const catalog_item *it)
{
    return user && it->owner && !strcmp(user, it->owner);
}

catalog_role catalog_role_of(const char *user, const catalog_item *it)
{
    for (size_t i = 0; user && i < it->n_members; i++)
        if (!strcmp(it->members[i].user, user))
            return it->members[i].role;
    return CAT_ROLE_NONE;
}

bool catalog_sees_drafts(const char *user, const catalog_item *it)
{
    return catalog_is_owner(user, it) || catalog_role_of(user, it) != CAT_ROLE_NONE;
}

bool catalog_can_see(const char *user, const catalog_item *it)
{
    return it->visibility == CAT_PUBLIC || catalog_sees_drafts(user, it);
}

const catalog_link *catalog_link_of(const catalog_item *it, const char *token_sha256)
{
    for (size_t i = 0; token_sha256 && i < it->n_links; i++)
        if (!strcmp(it->links[i].sha256, token_sha256))
            return &it->links[i];
    return NULL;
}

int64_t catalog_version_for(const char *user, const catalog_item *it)
{
    if (it->published_version <= 0 || catalog_sees_drafts(user, it))
        return it->version;
    return it->published_version;
}

void catalog_json_time(cd_buf *b, int64_t ms)
{
    char ts[32];
    cd_time_rfc3339(ms, ts);
    cd_buf_printf(b, "\"%s\"", ts);
}

void catalog_json_members(cd_buf *b, const catalog_item *it)
{
    cd_buf_putc(b, '[');
    for (size_t i = 0; i < it->n_members; i++) {
        cd_buf_puts(b, i ? ",{\"user\":" : "{\"user\":");
        cd_json_str(b, it->members[i].user, strlen(it->members[i].user));
        cd_buf_printf(b, ",\"role\":\"%s\"}", catalog_role_name(it->members[i].role));
    }
    cd_buf_putc(b, ']');
}

static void str_field(cd_buf *b, const char *key, const char *v)
{
    cd_buf_printf(b, "\"%s\":", key);
    if (v)
        cd_json_str(b, v, strlen(v));
    else
        cd_buf_puts(b, "null");
}

void catalog_json_file(cd_buf *b, const catalog_file *f)
{
    cd_buf_putc(b, '{');
    str_field(b, "path", f->path);
    cd_buf_printf(b, ",\"sha256\":\"%s\",\"size\":%lld,", f->sha256, (long long)f->size);
    str_field(b, "content_type", f->content_type ? f->content_type : catalog_content_type(f->path));
    cd_buf_putc(b, '}');
}

void catalog_json_files(cd_buf *b, const catalog_file *files, size_t n)
{
    cd_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            cd_buf_putc(b, ',');
        catalog_json_file(b, &files[i]);
    }
    cd_buf_putc(b, ']');
}

void catalog_json_item(cd_buf *b, const catalog_item *it, const catalog_file *files, long n)
{
    cd_buf_putc(b, '{');
    str_field(b, "kind", it->kind);
    cd_buf_putc(b, ',');
    str_field(b, "name", it->name);
    cd_buf_putc(b, ',');
    str_field(b, "owner", it->owner);
    cd_buf_putc(b, ',');
    str_field(b, "title", it->title ? it->title : "");
    cd_buf_printf(b,
                  ",\"visibility\":\"%s\",\"checks\":\"%s\",\"version\":%lld,"
                  "\"published_version\":%lld,\"created_at\":",
                  it->visibility == CAT_PUBLIC ? "public" : "private",
                  catalog_checks_mode_name(it->checks), (long long)it->version,
                  (long long)it->published_version);
    catalog_json_time(b, it->created_at);
    cd_buf_puts(b, ",\"updated_at\":");
    catalog_json_time(b, it->updated_at);
    if (n >= 0) {
        cd_buf_puts(b, ",\"files\":");
        catalog_json_files(b, files, (size_t)n);
    }
    cd_buf_putc(b, '}');
}

void catalog_json_visible_items(cd_buf *b, const char *user, const catalog_item *items, size_t n)
{
    cd_buf_puts(b, "{\"items\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!catalog_can_see(user, &items[i]))
            continue;
        if (!first)
            cd_buf_putc(b, ',');
        first = false;
        catalog_item seen = items[i]; /* a reader of the published version sees it only */
        seen.version = catalog_version_for(user, &items[i]);
        catalog_json_item(b, &seen, NULL, -1);
    }
    cd_buf_puts(b, "]}");
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const catalog_file *)a)->path, ((const catalog_file *)b)->path);
}

void catalog_files_sort(catalog_file *files, size_t n)
{
    if (n > 1)
        qsort(files, n, sizeof *files, cmp_file);
}
