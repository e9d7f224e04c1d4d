/* SPDX-License-Identifier: MIT */
/*
 * Event frames (CONTRACT "Server-sent events"): the snapshot and update of
 * one item, `deleted`, the item-level events of the global stream, and the
 * two constant frames (`retry: 2000` and `: keep-alive`).  Each is written
 * once into its final wire bytes and then shared by reference count.
 * ASTs come from the configured document callback (the commit path's
 * render cache: rendered at commit time); the version's findings
 * ("checks") from the catalog, stored there at commit time.
 */
#include "hub_int.h"

#include <stdlib.h>
#include <string.h>

static char retry_bytes[] = "retry: 2000\n\n";
static char keepalive_bytes[] = ": keep-alive\n\n";
static hub_event retry_ev = {
    .refs = -1, .version = -1, .len = sizeof retry_bytes - 1, .data = retry_bytes};
static hub_event keepalive_ev = {
    .refs = -1, .version = -1, .len = sizeof keepalive_bytes - 1, .data = keepalive_bytes};

hub_event *hub_event_retry(void)
{
    return &retry_ev;
}

hub_event *hub_event_keepalive(void)
{
    return &keepalive_ev;
}

hub_event *hub_event_new(cd_buf *frame, int64_t version)
{
    hub_event *ev = cd_xcalloc(1, sizeof *ev);
    atomic_init(&ev->refs, 1);
    ev->version = version;
    ev->base = -1;
    ev->data = cd_buf_steal(frame, &ev->len);
    return ev;
}

hub_event *hub_event_ref(hub_event *ev)
{
    if (atomic_load_explicit(&ev->refs, memory_order_relaxed) >= 0)
        atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
    return ev;
}

void hub_event_unref(hub_event *ev)
{
    if (!ev || atomic_load_explicit(&ev->refs, memory_order_relaxed) < 0)
        return;
    if (atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1) {
        free(ev->data);
        free(ev->owner);
        free(ev);
    }
}

void hub_event_frame(cd_buf *out, const char *type, int64_t id, const char *json, size_t len)
{
    if (id >= 0)
        cd_buf_printf(out, "id: %lld\n", (long long)id);
    cd_buf_printf(out, "event: %s\n", type);
    /* JSON written by us has no raw newline; split defensively anyway. */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && json[i] != '\n')
            continue;
        cd_buf_puts(out, "data: ");
        cd_buf_append(out, json + start, i - start);
        cd_buf_putc(out, '\n');
        start = i + 1;
    }
    cd_buf_putc(out, '\n');
}

static void kind_name(cd_buf *b, const char *kind, const char *name)
{
    cd_buf_puts(b, "{\"kind\":");
    cd_json_str(b, kind, strlen(kind));
    cd_buf_puts(b, ",\"name\":");
    cd_json_str(b, name, strlen(name));
}

/* `"path":AST` for one document (null when it cannot be rendered). */
static void document(hub *h, cd_buf *b, const catalog_file *f, bool first)
{
    if (!first)
        cd_buf_putc(b, ',');
    cd_json_str(b, f->path, strlen(f->path));
    cd_buf_putc(b, ':');
    if (!h->cfg.document || !h->cfg.document(h->cfg.document_arg, f->sha256, b)) {
        cd_buf_puts(b, "null");
        cd_log("warn", "sse", "msg=\"document not rendered\" path=%s sha256=%s", f->path,
               f->sha256);
    }
}

/* `,"checks":[…]`: the findings stored with version v (none stored, from
 * before the server ran the checks: an empty list). */
static int checks(hub *h, cd_buf *b, const char *kind, const char *name, int64_t v, cd_err *err)
{
    char *json = NULL;
    int rc = v > 0 ? catalog_checks(h->cfg.cat, kind, name, v, &json, err) : CAT_OK;
    if (rc == CAT_OK) {
        cd_buf_puts(b, ",\"checks\":");
        cd_buf_puts(b, json ? json : "[]");
    }
    free(json);
    return rc;
}

static hub_event *finish(cd_buf *json, const char *type, int64_t id)
{
    cd_buf frame = CD_BUF_INIT;
    hub_event_frame(&frame, type, id, json->data, json->len);
    cd_buf_free(json);
    return hub_event_new(&frame, id);
}

int hub_event_snapshot(hub *h, const catalog_item *it, hub_event **out, cd_err *err)
{
    catalog_file *files = NULL;
    size_t n = 0;
    if (it->version > 0) {
        int rc = catalog_files(h->cfg.cat, it->kind, it->name, it->version, &files, &n, err);
        if (rc != CAT_OK)
            return rc;
    }
    cd_buf b = CD_BUF_INIT;
    kind_name(&b, it->kind, it->name);
    cd_buf_printf(&b, ",\"version\":%lld,\"files\":", (long long)it->version);
    catalog_json_files(&b, files, n);
    cd_buf_puts(&b, ",\"documents\":{");
    bool first = true;
    for (size_t i = 0; i < n; i++)
        if (cd_path_is_markdown(files[i].path)) {
            document(h, &b, &files[i], first);
            first = false;
        }
    cd_buf_putc(&b, '}');
    catalog_files_free(files, n);
    int rc = checks(h, &b, it->kind, it->name, it->version, err);
    if (rc != CAT_OK) {
        cd_buf_free(&b);
        return rc;
    }
    cd_buf_putc(&b, '}');
    *out = finish(&b, "snapshot", it->version);
    (*out)->is_snapshot = true;
    return 0;
}

/* The three lists of an update, by a merge walk of two path-sorted lists. */
static void diff(hub *h, cd_buf *b, const catalog_file *old, size_t nold, const catalog_file *cur,
                 size_t ncur)
{
    cd_buf assets = CD_BUF_INIT, removed = CD_BUF_INIT;
    bool first_doc = true;
    size_t i = 0, j = 0;
    cd_buf_puts(b, ",\"documents\":{");
    while (i < nold || j < ncur) {
        int c = i == nold ? 1 : j == ncur ? -1 : strcmp(old[i].path, cur[j].path);
        if (c < 0) {
            cd_buf_putc(&removed, removed.len ? ',' : '[');
            cd_json_str(&removed, old[i].path, strlen(old[i].path));
            i++;
            continue;
        }
        const catalog_file *f = &cur[j++];
        bool changed = c > 0 || strcmp(old[i].sha256, f->sha256);
        if (c == 0)
            i++;
        if (!changed)
            continue;
        if (cd_path_is_markdown(f->path)) {
            document(h, b, f, first_doc);
            first_doc = false;
        } else {
            cd_buf_putc(&assets, assets.len ? ',' : '[');
            catalog_json_file(&assets, f);
        }
    }
    cd_buf_puts(b, "},\"assets\":");
    cd_buf_puts(b, assets.len ? assets.data : "[");
    cd_buf_puts(b, "],\"removed\":");
    cd_buf_puts(b, removed.len ? removed.data : "[");
    cd_buf_putc(b, ']');
    cd_buf_free(&assets);
    cd_buf_free(&removed);
}

int hub_event_update(hub *h, const char *kind, const char *name, int64_t from, int64_t to,
                     hub_event **out, cd_err *err)
{
    catalog_file *old = NULL, *cur = NULL;
    size_t nold = 0, ncur = 0;
    int rc = CAT_OK;
    if (from > 0)
        rc = catalog_files(h->cfg.cat, kind, name, from, &old, &nold, err);
    if (rc == CAT_OK && to > 0)
        rc = catalog_files(h->cfg.cat, kind, name, to, &cur, &ncur, err);
    if (rc != CAT_OK) {
        catalog_files_free(old, nold);
        return rc;
    }
    catalog_files_sort(old, nold);
    catalog_files_sort(cur, ncur);
    cd_buf b = CD_BUF_INIT;
    kind_name(&b, kind, name);
    cd_buf_printf(&b, ",\"version\":%lld,\"base_version\":%lld", (long long)to, (long long)from);
    diff(h, &b, old, nold, cur, ncur);
    catalog_files_free(old, nold);
    catalog_files_free(cur, ncur);
    rc = checks(h, &b, kind, name, to, err);
    if (rc != CAT_OK) {
        cd_buf_free(&b);
        return rc;
    }
    cd_buf_putc(&b, '}');
    *out = finish(&b, "update", to);
    (*out)->base = from;
    return 0;
}

hub_event *hub_event_deleted(const char *kind, const char *name)
{
    cd_buf b = CD_BUF_INIT;
    kind_name(&b, kind, name);
    cd_buf_putc(&b, '}');
    hub_event *ev = finish(&b, "deleted", -1);
    ev->closes = true;
    return ev;
}

hub_event *hub_event_global(const char *type, const catalog_item *it, hub_audience aud)
{
    cd_buf b = CD_BUF_INIT;
    bool deleted = !strcmp(type, "deleted");
    if (deleted) {
        kind_name(&b, it->kind, it->name);
        cd_buf_putc(&b, '}');
    } else {
        catalog_json_item(&b, it, NULL, -1);
    }
    hub_event *ev = finish(&b, type, deleted ? -1 : it->version);
    ev->audience = aud;
    ev->is_public = it->visibility == CAT_PUBLIC;
    ev->owner = cd_xstrdup(it->owner ? it->owner : "");
    return ev;
}

int hub_event_global_snapshot(hub *h, const char *user, hub_event **out, cd_err *err)
{
    catalog_item *items = NULL;
    size_t n = 0;
    int rc = catalog_item_list(h->cfg.cat, NULL, &items, &n, err);
    if (rc != CAT_OK)
        return rc;
    cd_buf b = CD_BUF_INIT;
    catalog_json_visible_items(&b, user, items, n);
    catalog_items_free(items, n);
    *out = finish(&b, "snapshot", -1);
    return 0;
}
