/* SPDX-License-Identifier: MIT */
/*
 * Committing a content folder from inside the server: the hook that
 * `contentd serve --watch DIR` (folder_watch.c) calls on every burst of
 * saves.  It does what `content push` does over HTTP — list the folder with
 * the client's ignore rules, hash every file, store the blobs the store
 * lacks, commit the full list against the current version — through the
 * same commit_run() as POST …/versions, so the SSE subscribers see the
 * change exactly as if it had been pushed.
 *
 * The folder is read by the reader `content push` uses (folder/folder.h):
 * ignored paths are left out (a directory that matches is not entered), a
 * content path that breaks the contract's rules refuses the whole commit,
 * a symlink is followed only when it resolves inside the folder (one that
 * points outside, or nowhere, refuses the commit), sockets and FIFOs are
 * left out.
 *
 * Failures come in two kinds, because the watcher treats them differently:
 * SYNC_REFUSED when the folder's content is not acceptable (bad front
 * matter, a bad file name, a markdown file that cannot be rendered) — only
 * the author's next save can fix it; SYNC_RETRY when a store failed
 * or a file changed while it was read — trying again later may succeed.
 */
#include "sync.h"
#include "folder.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMIT_RETRIES 3
#define FALLBACK_KIND  "tutorial"

typedef struct {
    catalog_file *files;
    size_t n, cap;
} file_list;

/* ---- which item: index.md's front matter ------------------------------- */

/* A front matter value as text: a string, or an integer (`name: 2024`).
 * NULL when absent; "" (refused by the caller) for anything else. */
static const char *fm_text(json_t *data, const char *key, char buf[32])
{
    json_t *v = json_object_get(data, key);
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return "";
}

/* The folder's own name: the last segment of its real path. */
static void folder_name(const char *dir, char *out, size_t cap)
{
    char *real = realpath(dir, NULL);
    const char *p = real ? real : dir;
    const char *slash = strrchr(p, '/');
    snprintf(out, cap, "%s", slash && slash[1] ? slash + 1 : p);
    free(real);
}

void sync_item_memo_clear(sync_item_memo *m)
{
    cd_buf_free(&m->unrendered);
    memset(m, 0, sizeof *m);
}

/* How many leading bytes of src decide its front matter, split as the
 * renderer splits it (markdown/render.c: "---" at the very start, up to
 * the first "\n---"): none when src cannot have one, all of src when it
 * opens one that does not end (what follows may end it). */
static size_t front_len(const char *s, size_t len)
{
    if (len < 3 || memcmp(s, "---", 3))
        return 0;
    for (size_t i = 3; i + 4 <= len; i++)
        if (s[i] == '\n' && !memcmp(s + i + 1, "---", 3))
            return i + 4;
    return len;
}

/* The front matter of index.md's bytes src.  Rendered through the commit
 * path's render cache (in the worker pool), so that the commit of the same
 * bytes that follows finds the AST rendered: one render per save. */
static sync_status index_data(const sync_config *cfg, const cd_buf *src, json_t **data, cd_err *err)
{
    commit_ast *ast = NULL;
    if (commit_render_source(cfg->commit, src->data ? src->data : "", src->len, &ast, err) !=
        COMMIT_RENDER_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return cd_err_set(err, SYNC_REFUSED, "index.md: %s", msg);
    }
    json_t *doc = json_loadb(ast->json, ast->len, 0, NULL);
    json_t *d = json_object_get(doc, "data");
    *data = json_is_object(d) ? json_incref(d) : json_object();
    json_decref(doc);
    commit_ast_unref(ast);
    return SYNC_OK;
}

/* kind and name from the front matter data of the folder dir. */
static sync_status item_of(json_t *data, const char *dir, char kind[CD_KIND_MAX],
                           char name[CD_NAME_MAX], cd_err *err)
{
    char kbuf[32], nbuf[32], fname[256];
    const char *k = fm_text(data, "kind", kbuf), *n = fm_text(data, "name", nbuf);
    if (!k)
        k = FALLBACK_KIND;
    if (!n)
        folder_name(dir, fname, sizeof fname);
    if (!cd_kind_valid(k))
        return cd_err_set(err, SYNC_REFUSED,
                          "index.md: kind '%s' is not one of tutorial, challenge, course, "
                          "skill-path, roadmap",
                          k);
    if (n && !cd_name_valid(n))
        return cd_err_set(err, SYNC_REFUSED,
                          "index.md: name '%s' is not a valid item name (lower-case letters, "
                          "digits and '-', 1 to 63, not starting with '-')",
                          n);
    if (!n && !cd_name_valid(fname))
        return cd_err_set(err, SYNC_REFUSED,
                          "the folder name '%s' is not a valid item name: set `name:` in "
                          "index.md's front matter",
                          fname);
    /* both valid, so they fit: 15 and 63 bytes at most */
    memcpy(kind, k, strlen(k) + 1);
    const char *nm = n ? n : fname;
    memcpy(name, nm, strlen(nm) + 1);
    return SYNC_OK;
}

sync_status sync_folder_item(const sync_config *cfg, const char *dir, sync_item_memo *memo,
                             char kind[CD_KIND_MAX], char name[CD_NAME_MAX], cd_err *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/index.md", dir);
    cd_buf src = CD_BUF_INIT;
    bool missing = false;
    json_t *data = NULL;
    char front[CD_SHA256_HEX];
    sync_status rc = SYNC_OK;
    if (memo)
        memo->render_due = false;
    if (folder_read_index(path, &src, &missing, err) != FOLDER_OK) {
        rc = SYNC_REFUSED;
        if (err)
            err->code = rc;
    } else if (missing)
        rc = cd_err_set(err, SYNC_REFUSED, "cannot read %s: %s", path, strerror(ENOENT));
    if (rc != SYNC_OK)
        goto out;
    cd_sha256_hex(src.data ? src.data : "", front_len(src.data, src.len), front);
    if (memo && memo->known && !strcmp(memo->front_sha, front)) {
        memcpy(kind, memo->kind, sizeof memo->kind);
        memcpy(name, memo->name, sizeof memo->name);
        cd_buf_free(&memo->unrendered);
        memo->unrendered = src; /* rendered by sync_commit_folder() */
        memo->render_due = true;
        return SYNC_OK;
    }
    rc = index_data(cfg, &src, &data, err);
    if (rc == SYNC_OK)
        rc = item_of(data, dir, kind, name, err);
    if (memo)
        memo->known = rc == SYNC_OK;
    if (memo && rc == SYNC_OK) {
        memcpy(memo->front_sha, front, sizeof front);
        memcpy(memo->kind, kind, sizeof memo->kind);
        memcpy(memo->name, name, sizeof memo->name);
    }
out:
    json_decref(data);
    cd_buf_free(&src);
    return rc;
}

/* ---- index.md rendered beside the commit's first steps ------------------ */

typedef struct index_render {
    const sync_config *cfg;
    cd_buf src;
    pthread_t thread;
    bool due, started;
    commit_render_status st;
    cd_err err;
} index_render;

static void *render_index(void *arg)
{
    index_render *r = arg;
    commit_ast *a = NULL;
    r->st = commit_render_source(r->cfg->commit, r->src.data ? r->src.data : "", r->src.len, &a,
                                 &r->err);
    commit_ast_unref(a);
    return NULL;
}

/* Starts rendering the bytes memo holds unrendered, if any (taking them). */
static void render_start(index_render *r, const sync_config *cfg, sync_item_memo *memo)
{
    memset(r, 0, sizeof *r);
    if (!memo || !memo->render_due)
        return;
    r->cfg = cfg;
    r->src = memo->unrendered;
    memset(&memo->unrendered, 0, sizeof memo->unrendered);
    memo->render_due = false;
    r->due = true;
    r->started = pthread_create(&r->thread, NULL, render_index, r) == 0;
}

/* Waits for the render (or renders now, when no thread could start it):
 * SYNC_REFUSED with err when index.md cannot be rendered. */
static sync_status render_finish(index_render *r, cd_err *err)
{
    if (!r->due)
        return SYNC_OK;
    if (r->started)
        pthread_join(r->thread, NULL);
    else
        render_index(r);
    r->due = false;
    cd_buf_free(&r->src);
    if (r->st == COMMIT_RENDER_OK)
        return SYNC_OK;
    return cd_err_set(err, SYNC_REFUSED, "index.md: %s", r->err.msg);
}

/* ---- the folder as a file list ------------------------------------------ */

/* The folder's files as `content push` lists them (folder/folder.h), with
 * the server's own limits on top. */
static sync_status list_folder(const sync_config *s, const char *dir, const ignore_rules *ig,
                               file_list *list, cd_err *err)
{
    folder_tree t;
    sync_status rc = SYNC_OK;
    if (folder_scan(dir, ig, NULL, &t, err) != FOLDER_OK) {
        rc = t.nproblems ? SYNC_REFUSED : SYNC_RETRY;
        if (err)
            err->code = rc;
    } else if (t.n > CD_VERSION_FILES_MAX) {
        rc = cd_err_set(err, SYNC_REFUSED, "more than %d files, the most a version holds",
                        CD_VERSION_FILES_MAX);
    }
    list->files = cd_xcalloc(t.n ? t.n : 1, sizeof *list->files);
    for (size_t i = 0; rc == 0 && i < t.n; i++) {
        if (t.files[i].size > s->max_blob_size) {
            rc =
                cd_err_set(err, SYNC_REFUSED, "%s is larger than --max-blob-size", t.files[i].path);
            break;
        }
        catalog_file *f = &list->files[list->n++];
        f->path = cd_xstrdup(t.files[i].path);
        memcpy(f->sha256, t.files[i].sha256, sizeof f->sha256);
        f->size = t.files[i].size;
    }
    folder_tree_clear(&t);
    return rc;
}

/* ---- storing and committing --------------------------------------------- */

/* Stores the file dir/f->path as its blob unless the store has it. */
static blob_status store_blob(const sync_config *s, const char *dir, const catalog_file *f,
                              cd_err *err)
{
    bool present = false;
    blob_status rc = blobstore_has(s->bs, f->sha256, &present, err);
    if (rc != BLOB_OK || present)
        return rc;
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", dir, f->path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(err, BLOB_ERROR, "cannot read %s: %s", f->path, strerror(errno));
    blob_writer *w = NULL;
    rc = blobstore_put_begin(s->bs, f->sha256, s->max_blob_size, &w, err);
    char buf[65536];
    ssize_t n = 0;
    while (rc == BLOB_OK && (n = read(fd, buf, sizeof buf)) > 0)
        rc = blobstore_put_write(s->bs, w, buf, (size_t)n, err);
    close(fd);
    if (rc != BLOB_OK || n < 0) {
        if (w)
            blobstore_put_abort(s->bs, w);
        return rc != BLOB_OK ? rc : cd_err_set(err, BLOB_ERROR, "cannot read %s", f->path);
    }
    /* a file saved again since it was hashed no longer hashes to its name:
     * the store refuses it (BLOB_DIGEST_MISMATCH), and the save's own batch
     * commits it */
    return blobstore_put_finish(s->bs, w, err);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const catalog_file *)a)->path, ((const catalog_file *)b)->path);
}

/* The blob store's status as this module's, err->code set to it. */
static sync_status blob_outcome(blob_status rc, cd_err *err)
{
    sync_status st = rc == BLOB_TOO_LARGE ? SYNC_REFUSED : SYNC_RETRY;
    if (err)
        err->code = st;
    return st;
}

/* Stores every blob of list that the current version cur does not have
 * at the same path. */
static int store_new_blobs(const sync_config *s, const char *dir, const file_list *list,
                           const catalog_file *cur, size_t ncur, cd_err *err)
{
    for (size_t i = 0; i < list->n; i++) {
        const catalog_file *f = &list->files[i];
        catalog_file key = {.path = f->path};
        const catalog_file *c = ncur ? bsearch(&key, cur, ncur, sizeof *cur, by_path) : NULL;
        if (c && !strcmp(c->sha256, f->sha256))
            continue;
        blob_status rc = store_blob(s, dir, f, err);
        if (rc != BLOB_OK)
            return blob_outcome(rc, err);
    }
    return 0;
}

/* The item (created for user when it does not exist) and its current
 * files, sorted by path. */
static int load_item(const sync_config *s, const char *kind, const char *name, const char *user,
                     catalog_item *it, catalog_file **cur, size_t *ncur, bool *made, cd_err *err)
{
    int rc = catalog_item_get(s->cat, kind, name, it, err);
    if (rc == CAT_NOT_FOUND) {
        catalog_item nit = {.owner = (char *)user, .title = "", .visibility = CAT_PRIVATE};
        snprintf(nit.kind, sizeof nit.kind, "%s", kind);
        snprintf(nit.name, sizeof nit.name, "%s", name);
        nit.created_at = nit.updated_at = cd_now_ms();
        rc = catalog_item_create(s->cat, &nit, err);
        *made = rc == CAT_OK;
        if (rc == CAT_OK || rc == CAT_EXISTS)
            rc = catalog_item_get(s->cat, kind, name, it, err);
    }
    if (rc == CAT_OK && it->version > 0 && catalog_can_see(user, it))
        rc = catalog_files(s->cat, kind, name, it->version, cur, ncur, err);
    if (rc == CAT_OK)
        catalog_files_sort(*cur, *ncur);
    if (rc != CAT_OK && err)
        err->code = SYNC_RETRY; /* the catalog's message, this module's status */
    return rc == CAT_OK ? SYNC_OK : SYNC_RETRY;
}

static sync_status sync_status_of(commit_status st)
{
    switch (st) {
    case COMMIT_NOT_FOUND:
    case COMMIT_FORBIDDEN:
    case COMMIT_INVALID:
    case COMMIT_UNACCEPTABLE:
    case COMMIT_CHECKS_FAILED: /* a strict item's error: the next save may fix it */
        return SYNC_REFUSED;
    default:
        return SYNC_RETRY;
    }
}

void sync_result_clear(sync_result *r)
{
    cd_buf_free(&r->changes);
    memset(r, 0, sizeof *r);
}

/* One entry of sync_result.changes (f new or changed, or removed), or
 * only counted past the listed ones. */
static void note_change(cd_buf *b, size_t *n, const catalog_file *f, bool removed)
{
    if ((*n)++ >= SYNC_CHANGES_LISTED)
        return;
    if (b->len)
        cd_buf_putc(b, ',');
    if (removed)
        cd_buf_printf(b, "-%s", f->path);
    else
        cd_buf_printf(b, "%s:%lld:%.12s", f->path, (long long)f->size, f->sha256);
}

/* out->changes: list (sorted by path) against cur (sorted by path). */
static void describe_changes(const file_list *list, const catalog_file *cur, size_t ncur,
                             sync_result *out)
{
    size_t i = 0, j = 0, n = 0;
    cd_buf_free(&out->changes);
    while (i < list->n || j < ncur) {
        int c = i == list->n ? 1 : j == ncur ? -1 : strcmp(list->files[i].path, cur[j].path);
        if (c < 0 || (c == 0 && strcmp(list->files[i].sha256, cur[j].sha256)))
            note_change(&out->changes, &n, &list->files[i], false);
        else if (c > 0)
            note_change(&out->changes, &n, &cur[j], true);
        i += c <= 0;
        j += c >= 0;
    }
    if (n > SYNC_CHANGES_LISTED)
        cd_buf_printf(&out->changes, ",+%zu", n - SYNC_CHANGES_LISTED);
}

/* One attempt: 1 when another commit won the race (try again). */
static int commit_once(const sync_config *s, const char *dir, const char *kind, const char *name,
                       const char *user, file_list *list, index_render *ir, sync_result *out,
                       cd_err *err)
{
    catalog_item it = {0};
    catalog_file *cur = NULL;
    size_t ncur = 0;
    int rc = load_item(s, kind, name, user, &it, &cur, &ncur, &out->item_created, err);
    if (rc == 0) {
        describe_changes(list, cur, ncur, out);
        rc = store_new_blobs(s, dir, list, cur, ncur, err);
        out->stored_ns = cd_mono_ns();
    }
    if (rc == 0)
        rc = render_finish(ir, err);
    if (rc == 0) {
        commit_result res;
        commit_run(s->commit, user, kind, name, it.version, list->files, list->n, &res);
        out->committed_ns = cd_mono_ns();
        commit_result_clear(&res);
        out->version = res.version;
        out->changed = res.status == COMMIT_OK && res.created;
        if (res.status == COMMIT_CONFLICT)
            rc = 1;
        else if (res.status != COMMIT_OK)
            rc = cd_err_set(err, sync_status_of(res.status), "%s", res.msg);
    }
    catalog_item_clear(&it);
    catalog_files_free(cur, ncur);
    return rc;
}

sync_status sync_commit_folder(const sync_config *s, const char *dir, const char *kind,
                               const char *name, const char *user, const ignore_rules *ig,
                               sync_item_memo *memo, sync_result *out, cd_err *err)
{
    memset(out, 0, sizeof *out);
    index_render ir;
    render_start(&ir, s, memo);
    file_list list = {0};
    int rc = list_folder(s, dir, ig, &list, err);
    out->files = list.n;
    out->scanned_ns = cd_mono_ns();
    if (rc == 0) /* the commit sorts it too; describe_changes() needs it first */
        qsort(list.files, list.n, sizeof *list.files, by_path);
    for (int attempt = 0; rc == 0; attempt++) {
        if (attempt == COMMIT_RETRIES) {
            rc = cd_err_set(err, SYNC_RETRY, "%d commits in a row lost to concurrent ones",
                            COMMIT_RETRIES);
            break;
        }
        rc = commit_once(s, dir, kind, name, user, &list, &ir, out, err);
        if (rc == 1)
            rc = 0; /* someone else committed meanwhile: on top of theirs */
        else if (rc == 0)
            break;
    }
    cd_err rerr = {0};
    if (render_finish(&ir, &rerr) != SYNC_OK && rc == 0) /* not reached the commit */
        rc = cd_err_set(err, SYNC_REFUSED, "%s", rerr.msg);
    catalog_files_free(list.files, list.n);
    return rc;
}
