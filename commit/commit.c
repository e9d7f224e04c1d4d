/* SPDX-License-Identifier: MIT */
/*
 * The commit path, shared by POST …/versions and the folder watcher: check
 * the base version, that every blob is stored (and has the size the client
 * says), render the new markdown documents (so events never render), write
 * the manifest to the blob store, then make the version in the catalog.
 * The checks run before anything is written (commit_checks.c): their
 * findings go into the manifest and the catalog with the version, and an
 * item set to "strict" refuses a version with an error.
 *
 * The order keeps the CONTRACT's promise: the catalog never points at a blob
 * or manifest that is not stored, and the version becomes visible at once
 * (one catalog transaction).  Commits to one item are serialised in this
 * process by a striped mutex, so two racing commits with the same base see
 * one win (201) and one lose (409), and a loser never overwrites the
 * winner's manifest.  Across replicas the catalog's own check decides.
 */
#include "commit_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

commit_path *commit_new(catalog *cat, blobstore *bs, md_pool *pool, size_t render_cache_bytes)
{
    commit_path *cp = cd_xcalloc(1, sizeof *cp);
    cp->cat = cat;
    cp->bs = bs;
    cp->pool = pool;
    cp->rc = commit_render_cache_new(render_cache_bytes);
    cp->stubs = commit_render_cache_new(COMMIT_STUB_CACHE_BYTES);
    cp->checks = commit_checks_cache_new();
    cp->warm = commit_warm_new();
    commit_facts_init(cp);
    for (size_t i = 0; i < sizeof cp->commit_mu / sizeof cp->commit_mu[0]; i++)
        pthread_mutex_init(&cp->commit_mu[i], NULL);
    return cp;
}

void commit_free(commit_path *cp)
{
    if (!cp)
        return;
    commit_warm_free(cp->warm); /* its threads use the caches */
    commit_render_cache_free(cp->rc);
    commit_render_cache_free(cp->stubs);
    chk_cache_free(cp->checks);
    commit_facts_free(cp);
    for (size_t i = 0; i < sizeof cp->commit_mu / sizeof cp->commit_mu[0]; i++)
        pthread_mutex_destroy(&cp->commit_mu[i]);
    free(cp);
}

pthread_mutex_t *commit_lock(commit_path *s, const char *kind, const char *name)
{
    uint64_t h = cd_hash_more(CD_HASH_SEED, kind, strlen(kind));
    h = cd_hash_more(cd_hash_more(h, "/", 1), name, strlen(name));
    return &s->commit_mu[h % (sizeof s->commit_mu / sizeof s->commit_mu[0])];
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const catalog_file *)a)->path, ((const catalog_file *)b)->path);
}

static void fail(commit_result *res, commit_status st, const char *code, const char *fmt, ...)
    CD_PRINTF(4, 5);
static void fail(commit_result *res, commit_status st, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof res->msg, fmt, ap);
    va_end(ap);
    res->status = st;
    res->code = code;
}

static void fail_cat(commit_result *res, catalog_status rc, const cd_err *err)
{
    if (rc == CAT_UNAVAILABLE)
        fail(res, COMMIT_UNAVAILABLE, "catalog_unavailable", "The catalog is unavailable: %s",
             err->msg);
    else
        fail(res, COMMIT_ERROR, "internal_error", "The catalog failed: %s", err->msg);
}

/* st, also written to err->code (err may be NULL) when it is a failure. */
static commit_status own(commit_status st, cd_err *err)
{
    if (err && st != COMMIT_OK)
        err->code = (int)st;
    return st;
}

commit_status commit_status_of_cat(catalog_status rc, cd_err *err)
{
    if (rc == CAT_OK || rc == CAT_NOT_FOUND)
        return own(rc == CAT_OK ? COMMIT_OK : COMMIT_NOT_FOUND, err);
    return own(rc == CAT_UNAVAILABLE ? COMMIT_UNAVAILABLE : COMMIT_ERROR, err);
}

commit_status commit_status_of_blob(blob_status rc, cd_err *err)
{
    if (rc == BLOB_OK || rc == BLOB_NOT_FOUND)
        return own(rc == BLOB_OK ? COMMIT_OK : COMMIT_NOT_FOUND, err);
    return own(rc == BLOB_UNAVAILABLE ? COMMIT_UNAVAILABLE : COMMIT_ERROR, err);
}

static const catalog_file *find_path(const catalog_file *files, size_t n, const char *path)
{
    if (n == 0)
        return NULL;
    catalog_file key = {.path = (char *)path};
    return bsearch(&key, files, n, sizeof *files, cmp_file);
}

static bool same_files(const catalog_file *a, size_t na, const catalog_file *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].path, b[i].path) || strcmp(a[i].sha256, b[i].sha256))
            return false;
    return true;
}

typedef struct {
    const char *sha, *path;
    int64_t size;
} needed_blob;

static int cmp_needed(const void *a, const void *b)
{
    return strcmp(((const needed_blob *)a)->sha, ((const needed_blob *)b)->sha);
}

static bool size_matches(const char *path, int64_t want, int64_t have, commit_result *res)
{
    if (want == have)
        return true;
    fail(res, COMMIT_UNACCEPTABLE, "size_mismatch",
         "%s: size %lld does not match the stored blob (%lld bytes).", path, (long long)want,
         (long long)have);
    return false;
}

/* Checks one blob a new file needs: stored, with the size the client gave.
 * Returns 1 when present, 0 when missing, -1 after filling res. */
static int check_blob(commit_path *s, const needed_blob *nb, commit_result *res)
{
    blob_reader *rd = NULL;
    int64_t size = 0;
    cd_err err = {0};
    int rc = blobstore_open(s->bs, nb->sha, &rd, &size, &err);
    if (rc == BLOB_NOT_FOUND) {
        blobstore_known_forget(s->bs, nb->sha); /* deleted behind our back */
        return 0;
    }
    if (rc != BLOB_OK) {
        fail(res, rc == BLOB_UNAVAILABLE ? COMMIT_UNAVAILABLE : COMMIT_ERROR,
             rc == BLOB_UNAVAILABLE ? "blobstore_unavailable" : "internal_error",
             "The blob store failed: %s", err.msg);
        return -1;
    }
    blobstore_close_reader(s->bs, rd);
    return size_matches(nb->path, nb->size, size, res) ? 1 : -1;
}

/* Every file that is not in the current version unchanged: its blob is
 * stored.  Fills res (MISSING_BLOBS, size_mismatch, …) and returns false
 * otherwise.  Each distinct blob is looked up once. */
static bool blobs_present(commit_path *s, catalog_file *files, size_t n, const catalog_file *cur,
                          size_t ncur, commit_result *res)
{
    needed_blob *need = cd_xcalloc(n ? n : 1, sizeof *need);
    size_t m = 0, missing = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const catalog_file *c = find_path(cur, ncur, files[i].path);
        if (c && !strcmp(c->sha256, files[i].sha256))
            ok = size_matches(files[i].path, files[i].size, c->size, res);
        else
            need[m++] = (needed_blob){files[i].sha256, files[i].path, files[i].size};
    }
    if (m)
        qsort(need, m, sizeof *need, cmp_needed);
    cd_buf_putc(&res->missing, '[');
    for (size_t i = 0; i < m && ok; i++) {
        if (i && !strcmp(need[i].sha, need[i - 1].sha)) {
            ok = size_matches(need[i].path, need[i].size, need[i - 1].size, res);
            continue;
        }
        int got = check_blob(s, &need[i], res);
        if (got < 0)
            ok = false;
        else if (got == 0)
            cd_buf_printf(&res->missing, "%s\"%s\"", missing++ ? "," : "", need[i].sha);
    }
    cd_buf_putc(&res->missing, ']');
    free(need);
    if (!ok)
        return false;
    if (!missing)
        return true;
    fail(res, COMMIT_MISSING_BLOBS, "missing_blobs",
         "%zu blob(s) are not stored yet: upload them with PUT /api/v1/blobs/SHA256, then "
         "commit again.",
         missing);
    return false;
}

/* Renders every markdown file that is new in this version (warming the
 * cache for the events) and reads the title from index.md.  Refuses a
 * document that cannot be rendered. */
static bool render_documents(commit_path *s, const catalog_file *files, size_t n,
                             const catalog_file *cur, size_t ncur, char **title, commit_result *res)
{
    const char **todo = cd_xmalloc((n + 1) * sizeof *todo);
    size_t ntodo = 0;
    for (size_t i = 0; i < n; i++) {
        const catalog_file *c = find_path(cur, ncur, files[i].path);
        if (cd_path_is_markdown(files[i].path) && (!c || strcmp(c->sha256, files[i].sha256)))
            todo[ntodo++] = files[i].sha256;
    }
    commit_warm_settle(s);
    commit_render_prefetch(s, todo, ntodo);
    free(todo);
    for (size_t i = 0; i < n; i++) {
        if (!cd_path_is_markdown(files[i].path))
            continue;
        const catalog_file *c = find_path(cur, ncur, files[i].path);
        bool changed = !c || strcmp(c->sha256, files[i].sha256);
        if (!changed)
            continue;
        commit_ast *a = NULL;
        cd_err err = {0};
        commit_render_status rc = commit_render_get(s, files[i].sha256, &a, &err);
        if (rc != COMMIT_RENDER_OK) {
            bool invalid = rc == COMMIT_RENDER_INVALID;
            fail(res, invalid ? COMMIT_UNACCEPTABLE : COMMIT_ERROR,
                 invalid ? "invalid_markdown" : "internal_error", "%s cannot be rendered: %s",
                 files[i].path, err.msg);
            return false;
        }
        if (!strcmp(files[i].path, "index.md"))
            *title = a->title[0] ? cd_xstrdup(a->title) : NULL;
        commit_ast_unref(a);
    }
    return true;
}

/* `"owner":…,"title":…,"visibility":…`, what a rebuild restores of an item:
 * title NULL is the item's, visibility < 0 the item's. */
static void item_fields(cd_buf *b, const catalog_item *it, const char *title, int visibility)
{
    cd_buf_puts(b, ",\"owner\":");
    cd_json_str(b, it->owner, strlen(it->owner));
    const char *t = title ? title : it->title ? it->title : "";
    cd_buf_puts(b, ",\"title\":");
    cd_json_str(b, t, strlen(t));
    if (visibility < 0)
        visibility = (int)it->visibility;
    cd_buf_printf(b, ",\"visibility\":\"%s\"", visibility == CAT_PUBLIC ? "public" : "private");
}

static void kind_name(cd_buf *b, const catalog_item *it)
{
    cd_buf_puts(b, "{\"kind\":");
    cd_json_str(b, it->kind, strlen(it->kind));
    cd_buf_puts(b, ",\"name\":");
    cd_json_str(b, it->name, strlen(it->name));
}

commit_status commit_item_record(commit_path *s, const catalog_item *it, const char *title,
                                 int visibility, cd_err *err)
{
    cd_buf b = CD_BUF_INIT;
    kind_name(&b, it);
    item_fields(&b, it, title, visibility);
    cd_buf_printf(&b, ",\"checks\":\"%s\"", catalog_checks_mode_name(it->checks));
    cd_buf_puts(&b, ",\"updated_at\":");
    catalog_json_time(&b, cd_now_ms());
    cd_buf_puts(&b, "}\n");
    char *key = blobstore_item_key(it->kind, it->name);
    blob_status rc = blobstore_put_object(s->bs, key, b.data, b.len, err);
    free(key);
    cd_buf_free(&b);
    return commit_status_of_blob(rc, err);
}

/* Writes the manifest of the next version of it (files, on top of cur)
 * with the checks' findings and facts; *from is the facts' chain
 * (commit_facts_section()). */
static blob_status write_manifest(commit_path *s, const catalog_item *it, const catalog_file *files,
                                  size_t n, const catalog_file *cur, size_t ncur, const char *title,
                                  const char *checks, json_t **from, cd_err *err)
{
    int64_t version = catalog_next_version(it);
    cd_buf b = CD_BUF_INIT;
    kind_name(&b, it);
    cd_buf_printf(&b, ",\"version\":%lld,\"base_version\":%lld", (long long)version,
                  (long long)it->version);
    item_fields(&b, it, title, -1);
    cd_buf_puts(&b, ",\"created_at\":");
    catalog_json_time(&b, cd_now_ms());
    cd_buf_puts(&b, ",\"files\":");
    catalog_json_files(&b, files, n);
    cd_buf_puts(&b, ",\"checks\":");
    cd_buf_puts(&b, checks);
    *from = commit_facts_section(s, it, files, n, cur, ncur, &b);
    cd_buf_puts(&b, "}\n");
    char *key = blobstore_manifest_key(it->kind, it->name, version);
    blob_status rc = blobstore_stage_object(s->bs, key, b.data, b.len, err);
    free(key);
    cd_buf_free(&b);
    return rc;
}

/* Makes the version's new blobs and its manifest durable, together, before
 * the catalog names them (blobstore_settle()): a blob the current version
 * has at the same path was made durable by the commit that first named it. */
static blob_status settle_version(commit_path *s, const catalog_item *it, int64_t version,
                                  const catalog_file *files, size_t n, const catalog_file *cur,
                                  size_t ncur, cd_err *err)
{
    char **keys = cd_xmalloc((n + 1) * sizeof *keys);
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        const catalog_file *c = find_path(cur, ncur, files[i].path);
        if (!c || strcmp(c->sha256, files[i].sha256))
            keys[nk++] = blobstore_blob_key(files[i].sha256);
    }
    keys[nk++] = blobstore_manifest_key(it->kind, it->name, version);
    blob_status rc = blobstore_settle(s->bs, (const char *const *)keys, nk, err);
    for (size_t i = 0; i < nk; i++)
        free(keys[i]);
    free(keys);
    return rc;
}

/* res->checks for a file list equal to the current version's. */
static void current_checks(commit_path *s, const catalog_item *it, commit_result *res)
{
    char *json = NULL;
    cd_err err = {0};
    if (commit_version_checks(s, it, it->version, &json, &err) != COMMIT_OK)
        cd_log("warn", "commit",
               "msg=\"no findings for the unchanged version\" item=%s/%s err=\"%s\"", it->kind,
               it->name, err.msg);
    if (json)
        cd_buf_puts(&res->checks, json);
    free(json);
}

/* Runs the checks into *checks; false after filling res when they cannot
 * run, or when the item is strict and they found an error. */
static bool checks_pass(commit_path *s, const catalog_item *it, const catalog_file *files, size_t n,
                        char **checks, commit_result *res)
{
    size_t errors = 0;
    cd_err err = {0};
    if (commit_checks_run(s, it, files, n, checks, &errors, &err) != COMMIT_OK) {
        fail(res, COMMIT_UNAVAILABLE, "blobstore_unavailable",
             "The checks could not read the version: %s", err.msg);
        return false;
    }
    if (it->checks != CAT_CHECKS_STRICT || errors == 0)
        return true;
    cd_buf_puts(&res->checks, *checks);
    fail(res, COMMIT_CHECKS_FAILED, "checks_failed",
         "%s/%s is set to strict checks and this version has %zu error(s): fix them and push "
         "again.",
         it->kind, it->name, errors);
    return false;
}

/* The steps after the item is loaded and the base checked, under the lock. */
static void commit_locked(commit_path *s, const catalog_item *it, catalog_file *files, size_t n,
                          commit_result *res)
{
    catalog_file *cur = NULL;
    size_t ncur = 0;
    char *title = NULL, *checks = NULL;
    json_t *from = NULL;
    cd_err err = {0};
    catalog_status rc;
    blob_status brc;
    if (it->version > 0 && (rc = catalog_files(s->cat, it->kind, it->name, it->version, &cur, &ncur,
                                               &err)) != CAT_OK) {
        fail_cat(res, rc, &err);
        goto out;
    }
    catalog_files_sort(cur, ncur); /* by strcmp, whatever order the backend keeps */
    if (same_files(files, n, cur, ncur)) {
        res->status = COMMIT_OK;
        if (it->version > 0)
            current_checks(s, it, res);
        goto out;
    }
    if (!blobs_present(s, files, n, cur, ncur, res) ||
        !render_documents(s, files, n, cur, ncur, &title, res))
        goto out;
    commit_facts_load(s, it, files, n, cur, ncur); /* what the checks need not read again */
    if (!checks_pass(s, it, files, n, &checks, res))
        goto out;
    if ((brc = write_manifest(s, it, files, n, cur, ncur, title, checks, &from, &err)) != BLOB_OK ||
        (brc = settle_version(s, it, catalog_next_version(it), files, n, cur, ncur, &err)) !=
            BLOB_OK) {
        fail(res, brc == BLOB_UNAVAILABLE ? COMMIT_UNAVAILABLE : COMMIT_ERROR,
             brc == BLOB_UNAVAILABLE ? "blobstore_unavailable" : "internal_error",
             "The manifest could not be stored: %s", err.msg);
        goto out;
    }
    cd_crash_point("commit-settled");
    int64_t nv = it->version;
    bool created = false;
    rc = catalog_commit(s->cat, it->kind, it->name, it->version, files, n, title, checks, &nv,
                        &created, &err);
    if (rc == CAT_CONFLICT) {
        fail(res, COMMIT_CONFLICT, "version_conflict",
             "base_version %lld is not the current version any more: pull and commit again.",
             (long long)it->version);
        goto out;
    }
    if (rc != CAT_OK) {
        fail_cat(res, rc, &err);
        goto out;
    }
    cd_crash_point("commit-cataloged");
    for (size_t i = 0; i < n; i++) /* checked above, or in the version before */
        blobstore_known_add(s->bs, files[i].sha256, files[i].size);
    commit_facts_committed(s, it, nv, from);
    from = NULL;
    res->status = COMMIT_OK;
    res->version = nv;
    res->created = created;
    cd_buf_puts(&res->checks, checks);
out:
    json_decref(from);
    catalog_files_free(cur, ncur);
    free(title);
    free(checks);
}

const char *const commit_outcomes[COMMIT_OUTCOMES] = {"created",       "unchanged", "conflict",
                                                      "missing_blobs", "rejected",  "error"};

/* The index in commit_outcomes of a commit's result. */
static int outcome_of(const commit_result *res)
{
    switch (res->status) {
    case COMMIT_OK:
        return res->created ? 0 : 1;
    case COMMIT_CONFLICT:
        return 2;
    case COMMIT_MISSING_BLOBS:
        return 3;
    case COMMIT_UNAVAILABLE:
    case COMMIT_ERROR:
        return 5;
    default:
        return 4;
    }
}

uint64_t commit_count(commit_path *cp, int outcome)
{
    return atomic_load_explicit(&cp->outcomes[outcome], memory_order_relaxed);
}

void commit_result_clear(commit_result *res)
{
    cd_buf_free(&res->missing);
    cd_buf_free(&res->checks);
}

void commit_run(commit_path *s, const char *user, const char *kind, const char *name, int64_t base,
                catalog_file *files, size_t n, commit_result *res)
{
    memset(res, 0, sizeof *res);
    res->version = base;
    if (n)
        qsort(files, n, sizeof *files, cmp_file);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(files[i - 1].path, files[i].path)) {
            fail(res, COMMIT_INVALID, "duplicate_path", "The path %s is listed twice.",
                 files[i].path);
            goto done;
        }
    pthread_mutex_t *mu = commit_lock(s, kind, name);
    pthread_mutex_lock(mu);
    catalog_item it = {0};
    cd_err err = {0};
    int rc = catalog_item_get(s->cat, kind, name, &it, &err);
    if (rc == CAT_NOT_FOUND || (rc == CAT_OK && !catalog_can_see(user, &it)))
        fail(res, COMMIT_NOT_FOUND, "not_found", "No content item %s/%s.", kind, name);
    else if (rc != CAT_OK)
        fail_cat(res, rc, &err);
    else if (strcmp(it.owner, user) && catalog_role_of(user, &it) != CAT_ROLE_EDITOR)
        fail(res, COMMIT_FORBIDDEN, "forbidden",
             "Only the owner of %s/%s and its editors can push to it.", kind, name);
    else if (it.version != base) {
        fail(res, COMMIT_CONFLICT, "version_conflict",
             "base_version %lld is not the current version (%lld): pull and commit again.",
             (long long)base, (long long)it.version);
        res->version = it.version;
    } else
        commit_locked(s, &it, files, n, res);
    pthread_mutex_unlock(mu);
    catalog_item_clear(&it);
done:
    atomic_fetch_add_explicit(&s->outcomes[outcome_of(res)], 1, memory_order_relaxed);
}
