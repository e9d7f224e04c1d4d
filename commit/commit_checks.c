/* SPDX-License-Identifier: MIT */
/*
 * The checks of a version at commit time (checks.h, docs/checks.md): the
 * new file list goes to chk_run() with a reader on the blob store, and one
 * chk_cache, the commit path's, serves every commit of the process, so a
 * version that changes one lesson of a course reads that lesson alone, and
 * renders nothing: documents come from the render cache, rendered by the
 * commit (in the renderer's workers) just before.  The findings come back
 * as the JSON text that is stored with the version (catalog and manifest)
 * and returned to the client.
 */
#include "commit_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many files' facts the shared cache keeps: a few big courses' worth. */
#define COMMIT_CHECKS_CACHE_FILES 8192
/* Files whose facts are made at once: a first push brings a thousand new
 * documents, whose facts one thread made one after the other while the
 * rest of the machine waited (the blob store and the render cache are
 * safe from several threads). */
#define COMMIT_CHECK_THREADS 4

typedef struct {
    commit_path *s;
    const catalog_file *files;
} blob_source;

/* chk_read_fn on the blob store: the first max bytes of files[index].
 * Any failure of the store is CHK_UNREAD to the checks (err keeps the
 * store's message). */
static chk_status read_blob_prefix(void *arg, size_t index, size_t max, char **data, size_t *len,
                                   cd_err *err)
{
    blob_source *src = arg;
    const catalog_file *f = &src->files[index];
    blob_reader *rd = NULL;
    int64_t size = 0;
    if (blobstore_open(src->s->bs, f->sha256, &rd, &size, err) != BLOB_OK) {
        if (err)
            err->code = CHK_UNREAD;
        return CHK_UNREAD;
    }
    size_t want = size > 0 ? (size_t)size : 0;
    if (want > max)
        want = max;
    char *buf = cd_xmalloc(want + 1);
    size_t got = 0;
    while (got < want) {
        ssize_t k = blobstore_read(src->s->bs, rd, got, buf + got, want - got);
        if (k <= 0) {
            free(buf);
            blobstore_close_reader(src->s->bs, rd);
            return cd_err_set(err, CHK_UNREAD, "%s could not be read from the blob store", f->path);
        }
        got += (size_t)k;
    }
    blobstore_close_reader(src->s->bs, rd);
    *data = buf;
    *len = got;
    return CHK_OK;
}

/* chk_render_fn on the render cache: the AST the commit has just rendered
 * (in the renderer's workers), not a second rendering in this process. */
static md_status render_cached(void *arg, const char *sha, const char *src, size_t len, char **out,
                               size_t *out_len, md_error *err)
{
    blob_source *bs = arg;
    commit_ast *a = NULL;
    cd_err e = {0};
    commit_render_status st = sha ? commit_render_get(bs->s, sha, &a, &e) : COMMIT_RENDER_UNREAD;
    if (st == COMMIT_RENDER_UNREAD ||
        st == COMMIT_RENDER_UNAVAILABLE) /* the bytes the checks hold */
        return md_render(src, len, 0, out, out_len, err);
    if (st != COMMIT_RENDER_OK) {
        err->line = 0;
        snprintf(err->message, sizeof err->message, "%.255s", e.msg);
        return MD_ERR_FAILED;
    }
    *out = cd_xmalloc(a->len + 1);
    memcpy(*out, a->json, a->len);
    (*out)[a->len] = '\0';
    *out_len = a->len;
    commit_ast_unref(a);
    return MD_OK;
}

void commit_checks_warm(commit_path *s, const char *sha, const char *path)
{
    catalog_file file = {.path = (char *)path};
    memcpy(file.sha256, sha, CD_SHA256_HEX);
    chk_file cf = {.path = path, .sha256 = file.sha256};
    blob_source src = {.s = s, .files = &file};
    chk_item item = {.files = &cf, .nfiles = 1, .read = read_blob_prefix, .read_arg = &src};
    chk_options o = {.max_file_size = CHK_DEFAULT_MAX_FILE_SIZE,
                     .cache = s->checks,
                     .render = render_cached,
                     .render_arg = &src};
    cd_err err = {0};
    (void)chk_facts_warm(&item, 0, &o, &err);
}

chk_cache *commit_checks_cache_new(void)
{
    return chk_cache_new(COMMIT_CHECKS_CACHE_FILES);
}

commit_status commit_checks_run(commit_path *s, const catalog_item *it, const catalog_file *files,
                                size_t n, char **json, size_t *errors, cd_err *err)
{
    chk_file *cf = cd_xcalloc(n ? n : 1, sizeof *cf);
    for (size_t i = 0; i < n; i++)
        cf[i] = (chk_file){.path = files[i].path, .sha256 = files[i].sha256, .size = files[i].size};
    blob_source src = {.s = s, .files = files};
    chk_item item = {.kind = it->kind,
                     .name = it->name,
                     .files = cf,
                     .nfiles = n,
                     .read = read_blob_prefix,
                     .read_arg = &src};
    chk_options o = {.max_file_size = CHK_DEFAULT_MAX_FILE_SIZE,
                     .cache = s->checks,
                     .render = render_cached,
                     .render_arg = &src,
                     .threads = COMMIT_CHECK_THREADS};
    json_t *findings = NULL;
    chk_status rc = chk_run(&item, &o, &findings, err);
    free(cf);
    if (rc != CHK_OK) {
        if (err)
            err->code = COMMIT_UNAVAILABLE;
        return COMMIT_UNAVAILABLE;
    }
    *errors = chk_count(findings, "error");
    *json = json_dumps(findings, JSON_COMPACT);
    json_decref(findings);
    return *json ? COMMIT_OK
                 : cd_err_set(err, COMMIT_ERROR, "the findings could not be written as JSON");
}

commit_status commit_version_checks(commit_path *s, const catalog_item *it, int64_t version,
                                    char **json, cd_err *err)
{
    catalog_status rc = catalog_checks(s->cat, it->kind, it->name, version, json, err);
    if (rc != CAT_OK || *json)
        return commit_status_of_cat(rc, err);
    catalog_file *files = NULL;
    size_t n = 0, errors = 0;
    rc = catalog_files(s->cat, it->kind, it->name, version, &files, &n, err);
    commit_status st = commit_status_of_cat(rc, err);
    if (st == COMMIT_OK && commit_checks_run(s, it, files, n, json, &errors, err) != COMMIT_OK) {
        st = COMMIT_UNAVAILABLE;
        err->code = st;
    }
    catalog_files_free(files, n);
    return st;
}
