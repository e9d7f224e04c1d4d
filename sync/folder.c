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
 * The folder is read as `content push` reads it: ignored paths are left
 * out (a directory that matches is not entered), a content path that breaks
 * the contract's rules refuses the whole commit, a symlink is followed only
 * when it resolves inside the folder (one that points outside, or nowhere,
 * refuses the commit), sockets and FIFOs are left out.
 *
 * Failures come in two kinds, because the watcher treats them differently:
 * SRV_FOLDER_REFUSED when the folder's content is not acceptable (bad front
 * matter, a bad file name, a markdown file that cannot be rendered) — only
 * the author's next save can fix it; SRV_FOLDER_RETRY when a store failed
 * or a file changed while it was read — trying again later may succeed.
 */
#include "srv_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "markdown.h"

#define FOLDER_DEPTH_MAX 64
#define COMMIT_RETRIES   3
#define FALLBACK_KIND    "tutorial"

typedef struct {
    catalog_file *files;
    size_t n, cap;
} file_list;

/* ---- which item: index.md's front matter ------------------------------- */

/* Reads the whole small file path (index.md) into out. */
static int slurp(const char *path, cd_buf *out, cd_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cd_err_set(err, SRV_FOLDER_REFUSED, "cannot read %s: %s", path, strerror(errno));
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cd_buf_append(out, buf, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? cd_err_set(err, SRV_FOLDER_RETRY, "cannot read %s", path) : 0;
}

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

int srv_folder_item(const char *dir, char kind[CD_KIND_MAX], char name[CD_NAME_MAX], cd_err *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/index.md", dir);
    cd_buf src = CD_BUF_INIT;
    int rc = slurp(path, &src, err);
    char *json = NULL;
    size_t len = 0;
    md_error merr = {0};
    if (rc == 0 && md_render(src.data ? src.data : "", src.len, 0, &json, &len, &merr) != MD_OK)
        rc = cd_err_set(err, SRV_FOLDER_REFUSED, "index.md: line %d: %s", merr.line, merr.message);
    cd_buf_free(&src);
    if (rc != 0)
        return rc;
    json_t *doc = json_loadb(json, len, 0, NULL);
    free(json);
    json_t *data = json_object_get(doc, "data");
    char kbuf[32], nbuf[32], fname[256];
    const char *k = fm_text(data, "kind", kbuf), *n = fm_text(data, "name", nbuf);
    if (!k)
        k = FALLBACK_KIND;
    if (!n)
        folder_name(dir, fname, sizeof fname);
    if (!cd_kind_valid(k))
        rc = cd_err_set(err, SRV_FOLDER_REFUSED,
                        "index.md: kind '%s' is not one of tutorial, challenge, course, "
                        "skill-path, roadmap",
                        k);
    else if (n && !cd_name_valid(n))
        rc = cd_err_set(err, SRV_FOLDER_REFUSED,
                        "index.md: name '%s' is not a valid item name (lower-case letters, "
                        "digits and '-', 1 to 63, not starting with '-')",
                        n);
    else if (!n && !cd_name_valid(fname))
        rc = cd_err_set(err, SRV_FOLDER_REFUSED,
                        "the folder name '%s' is not a valid item name: set `name:` in "
                        "index.md's front matter",
                        fname);
    if (rc == 0) {
        /* both valid, so they fit: 15 and 63 bytes at most */
        memcpy(kind, k, strlen(k) + 1);
        const char *nm = n ? n : fname;
        memcpy(name, nm, strlen(nm) + 1);
    }
    json_decref(doc);
    return rc;
}

/* ---- the folder as a file list ------------------------------------------ */

/* SHA-256 and size of the file at path. */
static int hash_file(const char *path, char sha[CD_SHA256_HEX], int64_t *size, cd_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(err, SRV_FOLDER_RETRY, "cannot read %s: %s", path, strerror(errno));
    int rc = cd_sha256_fd(fd, sha, size);
    int saved = errno;
    close(fd);
    if (rc != 0)
        return cd_err_set(err, SRV_FOLDER_RETRY, "cannot read %s: %s", path, strerror(saved));
    return 0;
}

typedef struct walk {
    srv *s;
    const ignore_rules *ig;
    file_list *list;
    char *root_real; /* realpath of the folder */
    size_t root_len;
    struct {
        dev_t dev;
        ino_t ino;
    } stack[FOLDER_DEPTH_MAX]; /* the directories being walked, for link loops */
    size_t depth;
} walk;

static int walk_dir(walk *w, const char *fs, const char *rel, cd_err *err);

/* The real path of the symlink fs when it resolves inside the folder
 * (the caller frees it), else NULL. */
static char *link_inside(const walk *w, const char *fs)
{
    char *target = realpath(fs, NULL);
    if (target && !cd_path_inside(target, w->root_real, w->root_len)) {
        free(target);
        target = NULL;
    }
    return target;
}

static int add_file(walk *w, const char *fs, const char *rel, cd_err *err)
{
    file_list *l = w->list;
    if (l->n == CD_VERSION_FILES_MAX)
        return cd_err_set(err, SRV_FOLDER_REFUSED, "more than %d files, the most a version holds",
                          CD_VERSION_FILES_MAX);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->files = cd_xrealloc(l->files, l->cap * sizeof *l->files);
    }
    catalog_file *f = &l->files[l->n];
    memset(f, 0, sizeof *f);
    int rc = hash_file(fs, f->sha256, &f->size, err);
    if (rc == 0 && f->size > w->s->cfg.max_blob_size)
        rc = cd_err_set(err, SRV_FOLDER_REFUSED, "%s is larger than --max-blob-size", rel);
    if (rc != 0)
        return rc;
    f->path = cd_xstrdup(rel);
    l->n++;
    return 0;
}

/* One directory entry: fs is its local path, rel its content path. */
static int walk_entry(walk *w, const char *fs, const char *rel, cd_err *err)
{
    struct stat st, tst;
    if (lstat(fs, &st) != 0)
        return errno == ENOENT
                   ? 0
                   : cd_err_set(err, SRV_FOLDER_RETRY, "cannot read %s: %s", rel, strerror(errno));
    bool link = S_ISLNK(st.st_mode);
    bool resolves = link && stat(fs, &tst) == 0;
    bool is_dir = S_ISDIR(st.st_mode) || (resolves && S_ISDIR(tst.st_mode));
    if (ignore_match(w->ig, rel, is_dir))
        return 0;
    const char *why = srv_path_problem(rel, strlen(rel));
    if (why)
        return cd_err_set(err, SRV_FOLDER_REFUSED, "%s: %s", rel, why);
    char *target = NULL;
    if (link) {
        if (!resolves || !(target = link_inside(w, fs)))
            return cd_err_set(err, SRV_FOLDER_REFUSED,
                              "%s: the symlink points outside the folder (or nowhere)", rel);
        st = tst;
    }
    int rc = 0;
    if (S_ISDIR(st.st_mode))
        rc = walk_dir(w, target ? target : fs, rel, err);
    else if (S_ISREG(st.st_mode))
        rc = add_file(w, target ? target : fs, rel, err);
    /* sockets, FIFOs and devices are left out, as `content push` does */
    free(target);
    return rc;
}

static int walk_dir(walk *w, const char *fs, const char *rel, cd_err *err)
{
    struct stat st;
    if (stat(fs, &st) != 0)
        return errno == ENOENT
                   ? 0
                   : cd_err_set(err, SRV_FOLDER_RETRY, "cannot read %s: %s", fs, strerror(errno));
    for (size_t i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st.st_dev && w->stack[i].ino == st.st_ino)
            return cd_err_set(err, SRV_FOLDER_REFUSED, "%s: a symlink loop", rel);
    if (w->depth == FOLDER_DEPTH_MAX)
        return cd_err_set(err, SRV_FOLDER_REFUSED, "%s: more than %d folders deep", rel,
                          FOLDER_DEPTH_MAX);
    DIR *d = opendir(fs);
    if (!d)
        return errno == ENOENT
                   ? 0
                   : cd_err_set(err, SRV_FOLDER_RETRY, "cannot list %s: %s", fs, strerror(errno));
    w->stack[w->depth].dev = st.st_dev;
    w->stack[w->depth++].ino = st.st_ino;
    int rc = 0;
    struct dirent *e;
    cd_buf sub_fs = CD_BUF_INIT, sub_rel = CD_BUF_INIT;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        cd_buf_reset(&sub_fs);
        cd_buf_reset(&sub_rel);
        cd_buf_printf(&sub_fs, "%s/%s", fs, e->d_name);
        cd_buf_printf(&sub_rel, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        rc = walk_entry(w, sub_fs.data, sub_rel.data, err);
    }
    cd_buf_free(&sub_fs);
    cd_buf_free(&sub_rel);
    closedir(d);
    w->depth--;
    return rc;
}

/* ---- storing and committing --------------------------------------------- */

/* Stores the file dir/f->path as its blob unless the store has it. */
static int store_blob(srv *s, const char *dir, const catalog_file *f, cd_err *err)
{
    bool present = false;
    int rc = blobstore_has(s->bs, f->sha256, &present, err);
    if (rc != BLOB_OK || present)
        return rc;
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", dir, f->path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(err, BLOB_ERROR, "cannot read %s: %s", f->path, strerror(errno));
    blob_writer *w = NULL;
    rc = blobstore_put_begin(s->bs, f->sha256, s->cfg.max_blob_size, &w, err);
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

static int blob_outcome(int rc)
{
    return rc == BLOB_TOO_LARGE ? SRV_FOLDER_REFUSED : SRV_FOLDER_RETRY;
}

/* Stores every blob of list that the current version cur does not have
 * at the same path. */
static int store_new_blobs(srv *s, const char *dir, const file_list *list, const catalog_file *cur,
                           size_t ncur, cd_err *err)
{
    for (size_t i = 0; i < list->n; i++) {
        const catalog_file *f = &list->files[i];
        catalog_file key = {.path = f->path};
        const catalog_file *c = ncur ? bsearch(&key, cur, ncur, sizeof *cur, by_path) : NULL;
        if (c && !strcmp(c->sha256, f->sha256))
            continue;
        int rc = store_blob(s, dir, f, err);
        if (rc != BLOB_OK)
            return blob_outcome(rc);
    }
    return 0;
}

/* The item (created for user when it does not exist) and its current
 * files, sorted by path. */
static int load_item(srv *s, const char *kind, const char *name, const char *user, catalog_item *it,
                     catalog_file **cur, size_t *ncur, bool *made, cd_err *err)
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
    return rc == CAT_OK ? 0 : SRV_FOLDER_RETRY;
}

static int folder_status_of(commit_status st)
{
    switch (st) {
    case COMMIT_NOT_FOUND:
    case COMMIT_FORBIDDEN:
    case COMMIT_INVALID:
    case COMMIT_UNACCEPTABLE:
        return SRV_FOLDER_REFUSED;
    default:
        return SRV_FOLDER_RETRY;
    }
}

/* One attempt: 1 when another commit won the race (try again). */
static int commit_once(srv *s, const char *dir, const char *kind, const char *name,
                       const char *user, file_list *list, srv_folder_result *out, cd_err *err)
{
    catalog_item it = {0};
    catalog_file *cur = NULL;
    size_t ncur = 0;
    int rc = load_item(s, kind, name, user, &it, &cur, &ncur, &out->item_created, err);
    if (rc == 0)
        rc = store_new_blobs(s, dir, list, cur, ncur, err);
    if (rc == 0) {
        commit_result res;
        commit_run(s->commit, user, kind, name, it.version, list->files, list->n, &res);
        commit_result_clear(&res);
        out->version = res.version;
        out->changed = res.status == COMMIT_OK && res.created;
        if (res.status == COMMIT_CONFLICT)
            rc = 1;
        else if (res.status != COMMIT_OK)
            rc = cd_err_set(err, folder_status_of(res.status), "%s", res.msg);
    }
    catalog_item_clear(&it);
    catalog_files_free(cur, ncur);
    return rc;
}

int srv_commit_folder(srv *s, const char *dir, const char *kind, const char *name, const char *user,
                      const ignore_rules *ig, srv_folder_result *out, cd_err *err)
{
    memset(out, 0, sizeof *out);
    file_list list = {0};
    walk w = {.s = s, .ig = ig, .list = &list, .root_real = realpath(dir, NULL)};
    int rc;
    if (!w.root_real) {
        rc = cd_err_set(err, SRV_FOLDER_RETRY, "cannot read %s: %s", dir, strerror(errno));
    } else {
        w.root_len = strlen(w.root_real);
        rc = walk_dir(&w, dir, "", err);
    }
    free(w.root_real);
    out->files = list.n;
    for (int attempt = 0; rc == 0; attempt++) {
        if (attempt == COMMIT_RETRIES) {
            rc = cd_err_set(err, SRV_FOLDER_RETRY, "%d commits in a row lost to concurrent ones",
                            COMMIT_RETRIES);
            break;
        }
        rc = commit_once(s, dir, kind, name, user, &list, out, err);
        if (rc == 1)
            rc = 0; /* someone else committed meanwhile: on top of theirs */
        else if (rc == 0)
            break;
    }
    catalog_files_free(list.files, list.n);
    return rc;
}
