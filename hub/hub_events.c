/* SPDX-License-Identifier: MIT */
/*
 * Event frames (CONTRACT "Server-sent events"): the snapshot and update of
 * one item, `deleted`, the item-level events of the global stream, and the
 * two constant frames (`retry: 2000` and `: keep-alive`).  Each is written
 * once into its final wire bytes and then shared by reference count.
 * ASTs come from the configured document callback (the commit path's
 * render cache: rendered at commit time), and the version's findings
 * ("checks") from the catalog, stored there at commit time.  A subscriber
 * that wants some documents only in full gets the others as stubs; and a
 * gzip stream gets each frame's compressed piece, made once on first use
 * and shared.
 */
#include "hub_int.h"

#include <stdlib.h>
#include <string.h>

#include "gz.h"

static char retry_bytes[] = "retry: 2000\n\n";
static char keepalive_bytes[] = ": keep-alive\n\n";
static hub_event retry_ev = {.refs = -1,
                             .version = -1,
                             .len = sizeof retry_bytes - 1,
                             .data = retry_bytes,
                             .gz_mu = PTHREAD_MUTEX_INITIALIZER};
static hub_event keepalive_ev = {.refs = -1,
                                 .version = -1,
                                 .len = sizeof keepalive_bytes - 1,
                                 .data = keepalive_bytes,
                                 .gz_mu = PTHREAD_MUTEX_INITIALIZER};

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
    pthread_mutex_init(&ev->gz_mu, NULL);
    return ev;
}

const char *hub_event_gz(hub_event *ev, size_t *len)
{
    pthread_mutex_lock(&ev->gz_mu);
    if (!ev->gz) {
        cd_buf b = CD_BUF_INIT;
        ev->crc = cd_gz_piece(ev->data, ev->len, &b);
        ev->gz = cd_buf_steal(&b, &ev->gz_len);
    }
    pthread_mutex_unlock(&ev->gz_mu);
    *len = ev->gz_len;
    return ev->gz;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

hub_docs *hub_docs_parse(const char *list)
{
    if (!list || !strcmp(list, "*"))
        return NULL;
    hub_docs *d = cd_xcalloc(1, sizeof *d);
    atomic_init(&d->refs, 1);
    size_t cap = 0;
    for (const char *p = list;;) {
        size_t n = strcspn(p, ",");
        if (n) {
            if (d->n == cap) {
                cap = cap ? cap * 2 : 4;
                char **paths = cd_xcalloc(cap, sizeof *paths);
                if (d->n)
                    memcpy(paths, d->paths, d->n * sizeof *paths);
                free(d->paths);
                d->paths = paths;
            }
            d->paths[d->n] = cd_xmalloc(n + 1);
            memcpy(d->paths[d->n], p, n);
            d->paths[d->n++][n] = '\0';
        }
        if (!p[n])
            break;
        p += n + 1;
    }
    if (d->n)
        qsort(d->paths, d->n, sizeof *d->paths, cmp_path);
    cd_buf key = CD_BUF_INIT;
    size_t kept = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (kept && !strcmp(d->paths[kept - 1], d->paths[i])) {
            free(d->paths[i]);
            continue;
        }
        d->paths[kept++] = d->paths[i];
        cd_buf_puts(&key, d->paths[i]);
        cd_buf_putc(&key, '\n');
    }
    d->n = kept;
    d->key = cd_buf_steal(&key, NULL);
    return d;
}

hub_docs *hub_docs_ref(hub_docs *d)
{
    if (d)
        atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
    return d;
}

void hub_docs_unref(hub_docs *d)
{
    if (!d || atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->paths[i]);
    free(d->paths);
    free(d->key);
    free(d);
}

bool hub_docs_has(const hub_docs *d, const char *path)
{
    return !d || (d->n && bsearch(&path, d->paths, d->n, sizeof *d->paths, cmp_path));
}

bool hub_docs_same(const hub_docs *a, const hub_docs *b)
{
    return a == b || (a && b && !strcmp(a->key, b->key));
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
        free(ev->gz);
        pthread_mutex_destroy(&ev->gz_mu);
        for (size_t i = 0; i < ev->n_members; i++)
            free(ev->members[i]);
        free(ev->members);
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

/* `"path":AST` for one document, or `"path":STUB` when it is not in docs
 * (null when it cannot be rendered). */
static void document(hub *h, cd_buf *b, const catalog_file *f, const hub_docs *docs, bool first)
{
    if (!first)
        cd_buf_putc(b, ',');
    cd_json_str(b, f->path, strlen(f->path));
    cd_buf_putc(b, ':');
    bool full = hub_docs_has(docs, f->path);
    if (!h->cfg.document || !h->cfg.document(h->cfg.document_arg, f->sha256, full, b)) {
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

/* Ends the JSON of an item's event at version v with the findings stored
 * with it, and makes it the frame *out of that type and id; on an error
 * json is freed and *out is left alone. */
static int finish_item(hub *h, cd_buf *json, const char *kind, const char *name, int64_t v,
                       const char *type, hub_event **out, cd_err *err)
{
    int rc = checks(h, json, kind, name, v, err);
    if (rc != CAT_OK) {
        cd_buf_free(json);
        return rc;
    }
    cd_buf_putc(json, '}');
    *out = finish(json, type, v);
    return CAT_OK;
}

int hub_event_snapshot(hub *h, const catalog_item *it, const hub_docs *docs, hub_event **out,
                       cd_err *err)
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
            document(h, &b, &files[i], docs, first);
            first = false;
        }
    cd_buf_putc(&b, '}');
    catalog_files_free(files, n);
    int rc = finish_item(h, &b, it->kind, it->name, it->version, "snapshot", out, err);
    if (rc == CAT_OK)
        (*out)->is_snapshot = true;
    return rc;
}

/* The three lists of an update, by a merge walk of two path-sorted lists. */
static void diff(hub *h, cd_buf *b, const catalog_file *old, size_t nold, const catalog_file *cur,
                 size_t ncur, const hub_docs *docs)
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
            document(h, b, f, docs, first_doc);
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
                     const hub_docs *docs, hub_event **out, cd_err *err)
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
    diff(h, &b, old, nold, cur, ncur, docs);
    catalog_files_free(old, nold);
    catalog_files_free(cur, ncur);
    rc = finish_item(h, &b, kind, name, to, "update", out, err);
    if (rc == CAT_OK)
        (*out)->base = from;
    return rc;
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
    if (it->n_members)
        ev->members = cd_xcalloc(it->n_members, sizeof *ev->members);
    for (size_t i = 0; i < it->n_members; i++)
        ev->members[i] = cd_xstrdup(it->members[i].user);
    ev->n_members = it->n_members;
    return ev;
}

hub_event *hub_event_published(const catalog_item *it, bool with_latest)
{
    cd_buf b = CD_BUF_INIT;
    kind_name(&b, it->kind, it->name);
    cd_buf_printf(&b, ",\"published_version\":%lld", (long long)it->published_version);
    if (with_latest)
        cd_buf_printf(&b, ",\"version\":%lld", (long long)it->version);
    cd_buf_putc(&b, '}');
    return finish(&b, "published", -1);
}

hub_event *hub_event_comment(const char *kind, const char *name, const catalog_comment *cm)
{
    cd_buf b = CD_BUF_INIT;
    kind_name(&b, kind, name);
    cd_buf_puts(&b, ",\"comment\":");
    catalog_json_comment(&b, cm);
    cd_buf_puts(&b, "}}");
    return finish(&b, "comment", -1);
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
