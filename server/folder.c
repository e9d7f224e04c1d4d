/* SPDX-License-Identifier: MIT */
/*
 * Committing a content folder from inside the server: the hook that
 * `contentd serve --watch DIR` calls on every burst of saves.  It does what
 * `content push` does over HTTP — hash every file, store the blobs the
 * store lacks, commit the full list against the current version — through
 * the same srv_commit() as POST …/versions, so the SSE subscribers see the
 * change exactly as if it had been pushed.
 *
 * The folder's index.md front matter names the item (`kind`, `name`); an
 * item that does not exist yet is created, owned by `user` (the local user
 * for a watcher).  Names starting with '.' are skipped (`.git/`, editors'
 * swap files); ignore rules beyond that belong to the watcher.
 */
#include "srv_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "markdown.h"

#define FOLDER_FILES_MAX 100000
#define COMMIT_RETRIES   3

typedef struct {
    catalog_file *files;
    size_t n, cap;
} file_list;

/* Reads the whole small file path (index.md) into out. */
static int slurp(const char *path, cd_buf *out, cd_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cd_err_set(err, -1, "cannot read %s: %s", path, strerror(errno));
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cd_buf_append(out, buf, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? cd_err_set(err, -1, "cannot read %s", path) : 0;
}

/* kind and name from the front matter of dir/index.md. */
static int item_of(const char *dir, char kind[16], char name[64], cd_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.md", dir);
    cd_buf src = CD_BUF_INIT;
    if (slurp(path, &src, err) != 0) {
        cd_buf_free(&src);
        return -1;
    }
    char *json = NULL;
    size_t len = 0;
    md_error merr = {0};
    int rc = md_render(src.data ? src.data : "", src.len, 0, &json, &len, &merr);
    cd_buf_free(&src);
    if (rc != MD_OK)
        return cd_err_set(err, -1, "%s: line %d: %s", path, merr.line, merr.message);
    json_t *doc = json_loadb(json, len, 0, NULL);
    free(json);
    json_t *data = json_object_get(doc, "data");
    const char *k = json_string_value(json_object_get(data, "kind"));
    const char *n = json_string_value(json_object_get(data, "name"));
    rc = 0;
    if (!k || !catalog_kind_valid(k) || !n || !catalog_name_valid(n))
        rc = cd_err_set(err, -1, "%s: the front matter must name a valid `kind` and `name`", path);
    else {
        snprintf(kind, 16, "%s", k);
        snprintf(name, 64, "%s", n);
    }
    json_decref(doc);
    return rc;
}

/* SHA-256 and size of the file at path. */
static int hash_file(const char *path, char sha[65], int64_t *size, cd_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(err, -1, "cannot read %s: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        abort();
    char buf[65536];
    ssize_t n;
    *size = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)n);
        *size += n;
    }
    close(fd);
    unsigned char d[32];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(md, d, &dl);
    EVP_MD_CTX_free(md);
    if (n < 0)
        return cd_err_set(err, -1, "cannot read %s: %s", path, strerror(errno));
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", d[i]);
    return 0;
}

/* Stores the file at path as blob sha unless the store has it. */
static int store_blob(srv *s, const char *path, const char *sha, cd_err *err)
{
    bool present = false;
    int rc = SRV_BLOB(s, has, sha, &present, err);
    if (rc != BLOB_OK || present)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cd_err_set(err, BLOB_ERROR, "cannot read %s: %s", path, strerror(errno));
    blob_writer *w = NULL;
    rc = SRV_BLOB(s, put_begin, sha, s->cfg.max_blob_size, &w, err);
    char buf[65536];
    ssize_t n = 0;
    while (rc == BLOB_OK && (n = read(fd, buf, sizeof buf)) > 0)
        rc = s->bs->ops->put_write(w, buf, (size_t)n, err);
    close(fd);
    if (rc != BLOB_OK || n < 0) {
        if (w)
            s->bs->ops->put_abort(w);
        return rc != BLOB_OK ? rc : cd_err_set(err, BLOB_ERROR, "cannot read %s", path);
    }
    /* a file saved again while we read it no longer hashes to sha: the
     * store refuses it, and the watcher's next batch commits it */
    return s->bs->ops->put_finish(w, err);
}

/* Adds every regular file under dir/rel (recursively) to list. */
static int scan(srv *s, const char *dir, const char *rel, file_list *list, cd_err *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return cd_err_set(err, -1, "cannot list %s: %s", path, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096], full[8192];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue; /* removed meanwhile */
        if (S_ISDIR(st.st_mode)) {
            rc = scan(s, dir, sub, list, err);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        const char *why = srv_path_problem(sub, strlen(sub));
        if (why) {
            rc = cd_err_set(err, -1, "%s: %s", sub, why);
            break;
        }
        if (list->n == FOLDER_FILES_MAX) {
            rc = cd_err_set(err, -1, "%s holds more than %d files", dir, FOLDER_FILES_MAX);
            break;
        }
        if (list->n == list->cap) {
            list->cap = list->cap ? 2 * list->cap : 16;
            list->files = cd_xrealloc(list->files, list->cap * sizeof *list->files);
        }
        catalog_file *f = &list->files[list->n];
        memset(f, 0, sizeof *f);
        if ((rc = hash_file(full, f->sha256, &f->size, err)) != 0)
            break;
        if (f->size > s->cfg.max_blob_size) {
            rc = cd_err_set(err, -1, "%s is larger than --max-blob-size", sub);
            break;
        }
        if ((rc = store_blob(s, full, f->sha256, err)) != 0)
            break;
        f->path = cd_xstrdup(sub);
        list->n++;
    }
    closedir(d);
    return rc;
}

/* The item, created for user when it does not exist. */
static int ensure_item(srv *s, const char *kind, const char *name, const char *user,
                       catalog_item *it, cd_err *err)
{
    int rc = SRV_CAT(s, item_get, kind, name, it, err);
    if (rc != CAT_NOT_FOUND)
        return rc;
    catalog_item nit = {0};
    snprintf(nit.kind, sizeof nit.kind, "%s", kind);
    snprintf(nit.name, sizeof nit.name, "%s", name);
    nit.owner = (char *)user;
    nit.title = "";
    nit.visibility = CAT_PRIVATE;
    nit.created_at = nit.updated_at = catalog_now_ms();
    rc = SRV_CAT(s, item_create, &nit, err);
    if (rc != CAT_OK && rc != CAT_EXISTS)
        return rc;
    return SRV_CAT(s, item_get, kind, name, it, err);
}

int srv_commit_folder(srv *s, const char *dir, const char *user, int64_t *version, cd_err *err)
{
    char kind[16], name[64];
    file_list list = {0};
    int rc = item_of(dir, kind, name, err);
    if (rc == 0)
        rc = scan(s, dir, "", &list, err);
    bool done = false;
    for (int attempt = 0; rc == 0 && !done && attempt < COMMIT_RETRIES; attempt++) {
        catalog_item it = {0};
        if ((rc = ensure_item(s, kind, name, user, &it, err)) != 0)
            break;
        srv_commit_result res;
        srv_commit(s, user, kind, name, it.version, list.files, list.n, &res);
        catalog_item_clear(&it);
        cd_buf_free(&res.missing);
        *version = res.version;
        if (res.status == SRV_COMMIT_CONFLICT)
            continue; /* someone else committed meanwhile: on top of theirs */
        done = true;
        if (res.status != SRV_COMMIT_OK)
            rc = cd_err_set(err, -1, "%s/%s: %s", kind, name, res.msg);
        else
            srv_log("info", "watch", "msg=committed item=%s/%s version=%lld created=%s", kind, name,
                    (long long)res.version, res.created ? "true" : "false");
    }
    if (rc == 0 && !done)
        rc = cd_err_set(err, -1, "%s/%s: %d commits in a row lost to concurrent ones", kind, name,
                        COMMIT_RETRIES);
    catalog_files_free(list.files, list.n);
    return rc;
}
