/* SPDX-License-Identifier: MIT */
/* JSON in (request bodies, through jansson) and out (items and file lists,
 * written straight into a buffer). */
#include "srv_int.h"

#include <string.h>

json_t *srv_json_body(srv_req *r)
{
    json_error_t e;
    const char *p = r->body.data ? r->body.data : "";
    json_t *j = json_loadb(p, r->body.len, JSON_REJECT_DUPLICATES, &e);
    if (!j && json_error_code(&e) == json_error_null_character) {
        (void)srv_reply_error(r, 400, "invalid_json",
                              "The body holds a \\u0000 (a NUL character) in a string, at %d:%d: "
                              "text cannot contain NUL characters.",
                              e.line, e.column);
        return NULL;
    }
    if (!j) {
        (void)srv_reply_error(r, 400, "invalid_json", "The body is not valid JSON: %s (at %d:%d).",
                              e.text, e.line, e.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        (void)srv_reply_error(r, 400, "invalid_json", "The body must be a JSON object.");
        return NULL;
    }
    return j;
}

void srv_json_time(cd_buf *b, int64_t ms)
{
    char ts[32];
    srv_time_rfc3339(ms, ts);
    cd_buf_printf(b, "\"%s\"", ts);
}

static void str_field(cd_buf *b, const char *key, const char *v)
{
    cd_buf_printf(b, "\"%s\":", key);
    if (v)
        cd_json_str(b, v, strlen(v));
    else
        cd_buf_puts(b, "null");
}

void srv_json_file(cd_buf *b, const catalog_file *f)
{
    cd_buf_putc(b, '{');
    str_field(b, "path", f->path);
    cd_buf_printf(b, ",\"sha256\":\"%s\",\"size\":%lld,", f->sha256, (long long)f->size);
    str_field(b, "content_type", f->content_type ? f->content_type : catalog_content_type(f->path));
    cd_buf_putc(b, '}');
}

void srv_json_files(cd_buf *b, const catalog_file *files, size_t n)
{
    cd_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            cd_buf_putc(b, ',');
        srv_json_file(b, &files[i]);
    }
    cd_buf_putc(b, ']');
}

void srv_json_item(cd_buf *b, const catalog_item *it, const catalog_file *files, long n)
{
    cd_buf_putc(b, '{');
    str_field(b, "kind", it->kind);
    cd_buf_putc(b, ',');
    str_field(b, "name", it->name);
    cd_buf_putc(b, ',');
    str_field(b, "owner", it->owner);
    cd_buf_putc(b, ',');
    str_field(b, "title", it->title ? it->title : "");
    cd_buf_printf(b, ",\"visibility\":\"%s\",\"version\":%lld,\"created_at\":",
                  it->visibility == CAT_PUBLIC ? "public" : "private", (long long)it->version);
    srv_json_time(b, it->created_at);
    cd_buf_puts(b, ",\"updated_at\":");
    srv_json_time(b, it->updated_at);
    if (n >= 0) {
        cd_buf_puts(b, ",\"files\":");
        srv_json_files(b, files, (size_t)n);
    }
    cd_buf_putc(b, '}');
}

void srv_json_visible_items(cd_buf *b, const char *user, const catalog_item *items, size_t n)
{
    cd_buf_puts(b, "{\"items\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!srv_can_see(user, &items[i]))
            continue;
        if (!first)
            cd_buf_putc(b, ',');
        first = false;
        srv_json_item(b, &items[i], NULL, -1);
    }
    cd_buf_puts(b, "]}");
}
