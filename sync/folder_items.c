/* SPDX-License-Identifier: MIT */
/*
 * `contentd serve --watch DIR`: which folders are items, and committing
 * them (folder_watch.c runs the threads and hands rounds of changed keys
 * to fw_sync()).  Everything here runs on the watched folder's worker
 * thread.
 *
 * A subfolder of DIR holding an index.md is one item; DIR itself holding an
 * index.md is the one item of DIR (its subfolders are then part of it, as
 * `content push DIR` would send them).  Each commit goes through
 * sync_commit_folder() as the local user.  A folder that stops being an item
 * (removed, or its index.md removed) leaves its item as it was: deleting
 * content because a folder vanished for a moment (a branch switch, a move)
 * would lose its history.
 *
 * Outcomes are logged one line each: `msg=synced` for a commit that made a
 * version (and for every item of the initial sync), `msg="commit refused"`
 * when the content is not acceptable (retried on the folder's next save),
 * `msg="commit failed"` when a store failed (retried after 0.25 s, doubling
 * up to 5 s; logged again only when the error changes).
 */
#include "folder_watch_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS   5000

void fw_log(const char *level, const char *msg, cd_buf *b)
{
    cd_buf line = CD_BUF_INIT;
    cd_log_kv(&line, "msg", msg);
    if (b->len)
        cd_buf_append(&line, b->data, b->len);
    cd_log(level, "watch", "%s", line.data + 1);
    cd_buf_free(&line);
    cd_buf_free(b);
}

bool fw_is_item_folder(const char *dir)
{
    cd_buf p = CD_BUF_INIT;
    cd_buf_printf(&p, "%s/index.md", dir);
    struct stat st;
    bool out = stat(p.data, &st) == 0 && S_ISREG(st.st_mode);
    cd_buf_free(&p);
    return out;
}

/* ---- claims: one folder per item, across every watched folder ----------- */

/* Claims id for folder; NULL on success, else the folder that holds it
 * (a copy the caller frees). */
static char *claim(sync_watch *sw, const char *id, const char *folder)
{
    char *other = NULL;
    pthread_mutex_lock(&sw->claims_mu);
    for (size_t i = 0; i < sw->nclaims && !other; i++)
        if (!strcmp(sw->claims[i].id, id) && strcmp(sw->claims[i].folder, folder))
            other = cd_xstrdup(sw->claims[i].folder);
    if (!other) {
        sw->claims = cd_xrealloc(sw->claims, (sw->nclaims + 1) * sizeof *sw->claims);
        fw_claim *c = &sw->claims[sw->nclaims++];
        snprintf(c->id, sizeof c->id, "%s", id);
        c->folder = cd_xstrdup(folder);
    }
    pthread_mutex_unlock(&sw->claims_mu);
    return other;
}

static void unclaim(sync_watch *sw, const char *id, const char *folder)
{
    pthread_mutex_lock(&sw->claims_mu);
    for (size_t i = 0; i < sw->nclaims; i++) {
        if (strcmp(sw->claims[i].id, id) || strcmp(sw->claims[i].folder, folder))
            continue;
        free(sw->claims[i].folder);
        sw->claims[i] = sw->claims[--sw->nclaims];
        break;
    }
    pthread_mutex_unlock(&sw->claims_mu);
}

/* ---- the item table ------------------------------------------------------ */

fw_item *fw_find(const fw_dir *d, const char *key, size_t len)
{
    size_t lo = 0, hi = d->nitems;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *k = d->items[mid]->key;
        int c = strncmp(k, key, len);
        if (c == 0)
            c = k[len] ? 1 : 0;
        if (c == 0)
            return d->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void load_rules(fw_item *it)
{
    ignore_rules *fresh = NULL;
    cd_err err = {0};
    if (ignore_load_folder(it->path, &fresh, &err) != 0) {
        cd_buf b = CD_BUF_INIT;
        cd_log_kv(&b, "folder", it->path);
        cd_log_kv(&b, "error", err.msg);
        fw_log("warn", "cannot read .contentignore; the built-in rules apply", &b);
    }
    ignore_rules *old = it->ig;
    it->ig = fresh;
    ignore_free(old);
}

static fw_item *item_new(const fw_dir *d, const char *key)
{
    fw_item *it = cd_xcalloc(1, sizeof *it);
    it->key = cd_xstrdup(key);
    cd_buf p = CD_BUF_INIT;
    cd_buf_printf(&p, "%s%s%s", d->path, *key ? "/" : "", key);
    it->path = cd_buf_steal(&p, NULL);
    load_rules(it);
    return it;
}

void fw_item_free(fw_item *it)
{
    sync_item_memo_clear(&it->memo);
    ignore_free(it->ig);
    free(it->key);
    free(it->path);
    free(it);
}

/* Inserts it in key order, under the write lock. */
static void table_insert(fw_dir *d, fw_item *it)
{
    pthread_rwlock_wrlock(&d->rules_mu);
    d->items = cd_grow(d->items, d->nitems, &d->cap, 16, sizeof *d->items);
    size_t i = d->nitems;
    while (i > 0 && strcmp(d->items[i - 1]->key, it->key) > 0) {
        d->items[i] = d->items[i - 1];
        i--;
    }
    d->items[i] = it;
    d->nitems++;
    pthread_rwlock_unlock(&d->rules_mu);
}

static void item_id(const fw_item *it, char id[96])
{
    snprintf(id, 96, "%s/%s", it->kind, it->name);
}

/* Drops it from the table; its item stays as it is. */
static void table_remove(fw_dir *d, fw_item *it, const char *why)
{
    if (it->kind[0]) {
        char id[96];
        item_id(it, id);
        unclaim(d->sw, id, it->path);
        cd_buf b = CD_BUF_INIT;
        cd_log_kv(&b, "item", id);
        cd_log_kv(&b, "folder", it->path);
        fw_log("info", why, &b);
    }
    pthread_rwlock_wrlock(&d->rules_mu);
    size_t i = 0;
    while (i < d->nitems && d->items[i] != it)
        i++;
    memmove(&d->items[i], &d->items[i + 1], (d->nitems - i - 1) * sizeof *d->items);
    d->nitems--;
    pthread_rwlock_unlock(&d->rules_mu);
    fw_item_free(it);
}

void fw_table_clear(fw_dir *d)
{
    while (d->nitems)
        table_remove(d, d->items[d->nitems - 1], "folder no longer an item; the item is kept");
}

/* The names of DIR's subfolders that are items. */
static void item_subfolders(const fw_dir *d, fw_keys *out)
{
    DIR *dir = opendir(d->path);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            ignore_match(d->sw->builtins, e->d_name, true))
            continue;
        cd_buf p = CD_BUF_INIT;
        cd_buf_printf(&p, "%s/%s", d->path, e->d_name);
        if (fw_is_item_folder(p.data))
            fw_keys_add(out, e->d_name, strlen(e->d_name));
        cd_buf_free(&p);
    }
    if (dir)
        closedir(dir);
}

void fw_table_load(fw_dir *d)
{
    bool root = fw_is_item_folder(d->path);
    pthread_rwlock_wrlock(&d->rules_mu);
    d->root_item = root;
    pthread_rwlock_unlock(&d->rules_mu);
    if (root) {
        table_insert(d, item_new(d, ""));
        return;
    }
    fw_keys keys = {0};
    item_subfolders(d, &keys);
    for (size_t i = 0; i < keys.n; i++)
        table_insert(d, item_new(d, keys.v[i]));
    fw_keys_clear(&keys);
}

/* ---- committing ---------------------------------------------------------- */

/* The item the folder names now, claimed for it.  A folder that names
 * another item than before moves to it (the previous item is kept). */
static int resolve(fw_dir *d, fw_item *it, char kind[CD_KIND_MAX], char name[CD_NAME_MAX],
                   cd_err *err)
{
    int rc = sync_folder_item(&d->sw->cfg, it->path, &it->memo, kind, name, err);
    if (rc != 0 || (!strcmp(it->kind, kind) && !strcmp(it->name, name)))
        return rc;
    char id[96];
    snprintf(id, sizeof id, "%s/%s", kind, name);
    char *other = claim(d->sw, id, it->path);
    if (other) {
        rc = cd_err_set(err, SYNC_REFUSED,
                        "%s is already watched from the folder %s: give this one another "
                        "`name:` in index.md",
                        id, other);
        free(other);
        return rc;
    }
    if (it->kind[0]) {
        char old[96];
        item_id(it, old);
        unclaim(d->sw, old, it->path);
        cd_buf b = CD_BUF_INIT;
        cd_log_kv(&b, "item", id);
        cd_log_kv(&b, "previous", old);
        cd_log_kv(&b, "folder", it->path);
        fw_log("info", "folder names another item now; the previous one is kept", &b);
    }
    snprintf(it->kind, sizeof it->kind, "%s", kind);
    snprintf(it->name, sizeof it->name, "%s", name);
    return 0;
}

/* Logs a commit's outcome and schedules a retry after a store failure.
 * Returns whether it succeeded. */
static bool outcome(fw_item *it, const char *id, int rc, const cd_err *err, const sync_result *res,
                    bool initial)
{
    cd_buf b = CD_BUF_INIT;
    if (id) /* unknown when the front matter cannot be read */
        cd_log_kv(&b, "item", id);
    if (rc == 0) {
        bool recovered = it->status != SYNC_OK;
        it->status = SYNC_OK;
        it->retry_ms = 0;
        it->last_err[0] = '\0';
        if (!initial && !res->changed && !recovered) {
            cd_buf_free(&b);
            return true;
        }
        cd_buf_printf(&b, " version=%lld changed=%s files=%zu", (long long)res->version,
                      res->changed ? "true" : "false", res->files);
        cd_log_kv(&b, "folder", it->path);
        fw_log("info", "synced", &b);
        return true;
    }
    cd_log_kv(&b, "folder", it->path);
    cd_log_kv(&b, "error", err->msg);
    if (rc == SYNC_REFUSED) {
        it->status = rc;
        it->retry_ms = 0;
        snprintf(it->last_err, sizeof it->last_err, "%s", err->msg);
        fw_log("warn", "commit refused; retried on the next save", &b);
        return false;
    }
    bool same = it->status == rc && !strcmp(it->last_err, err->msg);
    it->status = rc;
    it->retry_ms = it->retry_ms ? it->retry_ms * 2 : RETRY_FIRST_MS;
    if (it->retry_ms > RETRY_MAX_MS)
        it->retry_ms = RETRY_MAX_MS;
    it->retry_at_ms = cd_mono_ms() + it->retry_ms;
    snprintf(it->last_err, sizeof it->last_err, "%s", err->msg);
    if (same) { /* said already: the same failure, again */
        cd_buf_free(&b);
        return false;
    }
    cd_buf_printf(&b, " retry_in_ms=%d", it->retry_ms);
    fw_log("warn", "commit failed; retrying", &b);
    return false;
}

/* ` KEY=MS`: the time from t0 to t (monotonic ns) in ms, when t was
 * reached. */
static void log_ms(cd_buf *b, const char *key, int64_t t0, int64_t t)
{
    if (t)
        cd_buf_printf(b, " %s=%.2f", key, (double)(t - t0) / 1e6);
}

/* The per-save debug line (docs/watch.md, "Diagnosing a save"): which
 * batches the commit of this item answered, what it changed (path, size,
 * SHA-256 prefix), the version it made, and when each step ended, in ms
 * after the batches' first inotify event (after the round began when no
 * batch started it: the initial sync, a retry).  event_at is that first
 * event on the wall clock, to line it up with a writer's own times. */
static void log_save(const fw_dir *d, const char *id, int rc, const sync_result *res,
                     int64_t resolved_ns)
{
    const fw_batches *bt = &d->round;
    int64_t t0 = bt->first ? bt->event_ns : bt->taken_ns;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    double at_ms =
        (double)rt.tv_sec * 1e3 + (double)rt.tv_nsec / 1e6 - (double)(cd_mono_ns() - t0) / 1e6;
    cd_buf b = CD_BUF_INIT;
    cd_log_kv(&b, "item", id ? id : "");
    cd_buf_printf(&b, " status=%s version=%lld changed=%s", rc == 0 ? "ok" : "failed",
                  (long long)res->version, res->changed ? "true" : "false");
    if (bt->first)
        cd_buf_printf(&b, " batches=%llu-%llu", (unsigned long long)bt->first,
                      (unsigned long long)bt->last);
    else
        cd_buf_puts(&b, " batches=none");
    cd_log_kv(&b, "changes", res->changes.len ? res->changes.data : "");
    cd_buf_printf(&b, " event_at=%.3f", at_ms);
    if (bt->first)
        log_ms(&b, "delivered_ms", t0, bt->delivered_ns);
    log_ms(&b, "taken_ms", t0, bt->taken_ns);
    log_ms(&b, "item_ms", t0, resolved_ns);
    log_ms(&b, "scanned_ms", t0, res->scanned_ns);
    log_ms(&b, "stored_ms", t0, res->stored_ns);
    log_ms(&b, "committed_ms", t0, res->committed_ns);
    fw_log("debug", "save", &b);
}

/* Commits one item folder; returns whether it succeeded. */
static bool commit_item(fw_dir *d, fw_item *it, bool initial)
{
    char kind[CD_KIND_MAX] = "", name[CD_NAME_MAX] = "", id[96];
    cd_err err = {0};
    sync_result res = {0};
    int rc = resolve(d, it, kind, name, &err);
    int64_t resolved_ns = cd_mono_ns();
    if (rc == 0)
        rc = sync_commit_folder(&d->sw->cfg, it->path, kind, name, FW_USER, it->ig, &it->memo, &res,
                                &err);
    if (kind[0])
        snprintf(id, sizeof id, "%s/%s", kind, name);
    else if (it->kind[0])
        item_id(it, id);
    const char *known = kind[0] || it->kind[0] ? id : NULL;
    log_save(d, known, rc, &res, resolved_ns);
    bool ok = outcome(it, known, rc, &err, &res, initial);
    sync_result_clear(&res);
    return ok;
}

/* One key of a round: the subfolder `key` (or "" for DIR itself). */
static void sync_key(fw_dir *d, const char *key, bool rules_changed, bool initial, bool *rescan,
                     size_t *nitems, size_t *nfailed)
{
    fw_item *it = fw_find(d, key, strlen(key));
    cd_buf p = CD_BUF_INIT;
    cd_buf_printf(&p, "%s%s%s", d->path, *key ? "/" : "", key);
    bool is_item = fw_is_item_folder(p.data);
    cd_buf_free(&p);
    if (!is_item) {
        if (it)
            table_remove(d, it, "folder removed or without index.md; the item is kept");
        return;
    }
    if (!it) {
        it = item_new(d, key);
        table_insert(d, it);
        /* its .contentignore may re-include what the built-in rules kept
         * unwatched */
        cd_buf ci = CD_BUF_INIT;
        cd_buf_printf(&ci, "%s/.contentignore", it->path);
        struct stat st;
        *rescan |= stat(ci.data, &st) == 0;
        cd_buf_free(&ci);
    } else if (rules_changed) {
        pthread_rwlock_wrlock(&d->rules_mu);
        load_rules(it);
        pthread_rwlock_unlock(&d->rules_mu);
        *rescan = true;
    }
    (*nitems)++;
    if (!commit_item(d, it, initial))
        (*nfailed)++;
}

void fw_sync(fw_dir *d, const fw_keys *keys, const fw_keys *rules_changed, bool all, bool initial,
             bool *rescan)
{
    size_t nitems = 0, nfailed = 0;
    if (d->root_item) {
        if (all || keys->n)
            sync_key(d, "", fw_keys_has(rules_changed, ""), initial, rescan, &nitems, &nfailed);
    } else {
        fw_keys todo = {0};
        for (size_t i = 0; i < keys->n; i++)
            fw_keys_add(&todo, keys->v[i], strlen(keys->v[i]));
        if (all) {
            item_subfolders(d, &todo);
            for (size_t i = 0; i < d->nitems; i++)
                fw_keys_add(&todo, d->items[i]->key, strlen(d->items[i]->key));
        }
        for (size_t i = 0; i < todo.n && !fw_stopping(d); i++)
            sync_key(d, todo.v[i], fw_keys_has(rules_changed, todo.v[i]), initial, rescan, &nitems,
                     &nfailed);
        fw_keys_clear(&todo);
    }
    if (initial) {
        cd_buf b = CD_BUF_INIT;
        cd_log_kv(&b, "folder", d->path);
        cd_buf_printf(&b, " items=%zu failed=%zu", nitems, nfailed);
        fw_log("info", "initial sync done", &b);
    }
}

int64_t fw_next_retry(const fw_dir *d)
{
    int64_t next = -1;
    for (size_t i = 0; i < d->nitems; i++) {
        const fw_item *it = d->items[i];
        if (it->status == SYNC_RETRY && (next < 0 || it->retry_at_ms < next))
            next = it->retry_at_ms;
    }
    return next;
}

void fw_due_retries(const fw_dir *d, int64_t now, fw_keys *keys)
{
    for (size_t i = 0; i < d->nitems; i++) {
        const fw_item *it = d->items[i];
        if (it->status == SYNC_RETRY && it->retry_at_ms <= now)
            fw_keys_add(keys, it->key, strlen(it->key));
    }
}
