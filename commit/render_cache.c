/* SPDX-License-Identifier: MIT */
/*
 * The render cache: markdown blobs are content-addressed, so the AST of a
 * blob depends on its SHA-256 alone and each blob is rendered once.  A
 * bounded LRU (bytes of AST JSON) of reference-counted ASTs: an entry
 * evicted while an event or a reply still uses it lives on until released.
 * Rendering happens outside the lock; two threads missing the same blob at
 * once may both render it, and the second result is dropped.
 */
#include "commit_int.h"

#include <stdlib.h>
#include <string.h>

#include "gz.h"
#include "markdown.h"

typedef struct entry {
    char sha[CD_SHA256_HEX];
    commit_ast *ast;
    cd_hnode node; /* in the table, by sha */
    cd_lnode lru;  /* LRU: head is the most recent */
} entry;

struct commit_render_cache {
    pthread_mutex_t mu;
    cd_htab table;
    size_t count, bytes, max_bytes;
    cd_list lru;
    atomic_uint_fast64_t hits, misses;
};

commit_render_cache *commit_render_cache_new(size_t max_bytes)
{
    commit_render_cache *rc = cd_xcalloc(1, sizeof *rc);
    pthread_mutex_init(&rc->mu, NULL);
    rc->max_bytes = max_bytes;
    return rc;
}

void commit_ast_unref(commit_ast *a)
{
    if (a && atomic_fetch_sub(&a->refs, 1) == 1) {
        free(a->json);
        free(a->gz);
        pthread_mutex_destroy(&a->gz_mu);
        free(a->title);
        free(a);
    }
}

void commit_render_cache_free(commit_render_cache *rc)
{
    if (!rc)
        return;
    for (cd_lnode *n = rc->lru.head, *next; n; n = next) {
        next = n->next;
        entry *e = CD_CONTAINER_OF(n, entry, lru);
        commit_ast_unref(e->ast);
        free(e);
    }
    cd_htab_free(&rc->table);
    pthread_mutex_destroy(&rc->mu);
    free(rc);
}

/* The key is a hash already: mixing its first 16 hex digits will do. */
static uint64_t hash_of(const char *sha)
{
    return cd_hash_more(CD_HASH_SEED, sha, 16);
}

static entry *find(commit_render_cache *rc, const char *sha)
{
    for (cd_hnode *n = cd_htab_first(&rc->table, hash_of(sha)); n; n = cd_htab_next(n)) {
        entry *e = CD_CONTAINER_OF(n, entry, node);
        if (!memcmp(e->sha, sha, 64))
            return e;
    }
    return NULL;
}

static void evict(commit_render_cache *rc, entry *e)
{
    cd_htab_del(&rc->table, &e->node);
    cd_list_remove(&rc->lru, &e->lru);
    rc->count--;
    rc->bytes -= e->ast->len;
    commit_ast_unref(e->ast);
    free(e);
}

static commit_ast *ast_new(char *json, size_t len)
{
    commit_ast *a = cd_xcalloc(1, sizeof *a);
    atomic_init(&a->refs, 1);
    pthread_mutex_init(&a->gz_mu, NULL);
    a->json = json;
    a->len = len;
    return a;
}

/* Returns a new reference to the cached AST of sha, or NULL. */
static commit_ast *lookup(commit_render_cache *rc, const char *sha)
{
    commit_ast *a = NULL;
    pthread_mutex_lock(&rc->mu);
    entry *e = find(rc, sha);
    if (e) {
        cd_list_remove(&rc->lru, &e->lru);
        cd_list_push_front(&rc->lru, &e->lru);
        a = e->ast;
        atomic_fetch_add(&a->refs, 1);
    }
    pthread_mutex_unlock(&rc->mu);
    return a;
}

/* Inserts a (which carries one reference for the caller) unless sha is
 * there already; returns the AST the caller should use, with a reference. */
static commit_ast *insert(commit_render_cache *rc, const char *sha, commit_ast *a)
{
    pthread_mutex_lock(&rc->mu);
    entry *e = find(rc, sha);
    if (e) {
        commit_ast *had = e->ast;
        atomic_fetch_add(&had->refs, 1);
        pthread_mutex_unlock(&rc->mu);
        commit_ast_unref(a);
        return had;
    }
    e = cd_xcalloc(1, sizeof *e);
    memcpy(e->sha, sha, 65);
    e->ast = a;
    atomic_fetch_add(&a->refs, 1); /* the cache's reference */
    cd_htab_add(&rc->table, &e->node, hash_of(sha));
    cd_list_push_front(&rc->lru, &e->lru);
    rc->count++;
    rc->bytes += a->len;
    while (rc->bytes > rc->max_bytes && rc->lru.tail != &e->lru)
        evict(rc, CD_CONTAINER_OF(rc->lru.tail, entry, lru));
    pthread_mutex_unlock(&rc->mu);
    return a;
}

/* Reads blob sha whole (at most COMMIT_MD_MAX bytes) into out. */
static blob_status read_blob(commit_path *s, const char *sha, cd_buf *out, cd_err *err)
{
    blob_reader *rd = NULL;
    int64_t size = 0;
    blob_status rc = blobstore_open(s->bs, sha, &rd, &size, err);
    if (rc != BLOB_OK)
        return rc;
    if (size > (int64_t)COMMIT_MD_MAX) {
        blobstore_close_reader(s->bs, rd);
        return cd_err_set(err, BLOB_ERROR, "the markdown file is larger than %u MiB",
                          COMMIT_MD_MAX >> 20);
    }
    cd_buf_grow(out, (size_t)size + 1);
    while (out->len < (size_t)size) {
        ssize_t n =
            blobstore_read(s->bs, rd, out->len, out->data + out->len, (size_t)size - out->len);
        if (n <= 0) {
            blobstore_close_reader(s->bs, rd);
            return cd_err_set(err, BLOB_ERROR, "blob %.12s… could not be read", sha);
        }
        out->len += (size_t)n;
    }
    out->data[out->len] = '\0';
    blobstore_close_reader(s->bs, rd);
    return BLOB_OK;
}

static char *stub_of(const commit_ast *a, size_t *len);

/* Renders src (the bytes of blob sha) and caches its AST and stub.  A
 * failed render (MD_ERR_FAILED) caches the failure document when
 * keep_failed, else it is reported as COMMIT_RENDER_INVALID. */
static commit_render_status render_insert(commit_path *s, const char *sha, const char *src,
                                          size_t len, bool keep_failed, commit_ast **out,
                                          cd_err *err)
{
    md_result res = {0};
    md_error merr = {0};
    md_status st = s->pool ? md_pool_render(s->pool, src, len, 0, &res, &merr)
                           : md_render_result(src, len, 0, &res, &merr);
    if (st == MD_ERR_FAILED && keep_failed) { /* the failure document stands for it (docs/ast.md) */
        cd_buf kv = CD_BUF_INIT;
        cd_log_kv(&kv, "msg", merr.message);
        cd_log("warn", "render", "sha256=%.64s%s", sha, kv.data);
        cd_buf_free(&kv);
    } else if (st != MD_OK) {
        md_result_free(&res);
        if (merr.line > 0)
            return cd_err_set(err, COMMIT_RENDER_INVALID, "line %d: %s", merr.line, merr.message);
        return cd_err_set(err, COMMIT_RENDER_INVALID, "%s", merr.message);
    }
    commit_ast *a = ast_new(res.json, res.len);
    a->title = cd_xstrdup(res.title);
    a->toc_at = res.toc_at;
    a->toc_len = res.toc_len;
    res.json = NULL;
    md_result_free(&res);
    *out = insert(s->rc, sha, a);
    /* Its stub too, while the AST is at hand: a course's stubs are all
     * there for its first partial snapshot, however many ASTs the cache
     * has let go since. */
    commit_ast *had = lookup(s->stubs, sha);
    if (had) {
        commit_ast_unref(had);
    } else {
        size_t slen = 0;
        char *stub = stub_of(*out, &slen);
        commit_ast_unref(insert(s->stubs, sha, ast_new(stub, slen)));
    }
    return COMMIT_RENDER_OK;
}

commit_render_status commit_render_get(commit_path *s, const char *sha, commit_ast **out,
                                       cd_err *err)
{
    commit_render_cache *rc = s->rc;
    *out = lookup(rc, sha);
    if (*out) {
        atomic_fetch_add_explicit(&rc->hits, 1, memory_order_relaxed);
        return COMMIT_RENDER_OK;
    }
    atomic_fetch_add_explicit(&rc->misses, 1, memory_order_relaxed);
    cd_buf src = CD_BUF_INIT;
    blob_status brc = read_blob(s, sha, &src, err);
    if (brc != BLOB_OK) {
        cd_buf_free(&src);
        commit_render_status unread =
            brc == BLOB_UNAVAILABLE ? COMMIT_RENDER_UNAVAILABLE : COMMIT_RENDER_UNREAD;
        if (err)
            err->code = unread;
        return unread;
    }
    commit_render_status st =
        render_insert(s, sha, src.data ? src.data : "", src.len, true, out, err);
    cd_buf_free(&src);
    return st;
}

commit_render_status commit_render_source(commit_path *s, const char *src, size_t len,
                                          commit_ast **out, cd_err *err)
{
    char sha[CD_SHA256_HEX];
    cd_sha256_hex(src, len, sha);
    commit_render_cache *rc = s->rc;
    *out = lookup(rc, sha);
    if (*out) {
        atomic_fetch_add_explicit(&rc->hits, 1, memory_order_relaxed);
        return COMMIT_RENDER_OK;
    }
    atomic_fetch_add_explicit(&rc->misses, 1, memory_order_relaxed);
    return render_insert(s, sha, src, len, false, out, err);
}

const char *commit_ast_gzip(commit_ast *a, size_t *len)
{
    pthread_mutex_lock(&a->gz_mu);
    if (!a->gz) {
        cd_buf b = CD_BUF_INIT;
        cd_gzip(a->json, a->len, &b);
        a->gz = cd_buf_steal(&b, &a->gz_len);
    }
    pthread_mutex_unlock(&a->gz_mu);
    *len = a->gz_len;
    return a->gz;
}

/* {"title":data.title,"toc":toc} of an AST document, from the title and
 * the place of the toc the renderer gave (parsing a thousand new lessons'
 * ASTs again for their stubs was a third of a first push's commit). */
static char *stub_of(const commit_ast *a, size_t *len)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"title\":");
    cd_json_str(&b, a->title, strlen(a->title));
    cd_buf_puts(&b, ",\"toc\":");
    if (a->toc_len)
        cd_buf_append(&b, a->json + a->toc_at, a->toc_len);
    else
        cd_buf_puts(&b, "null");
    cd_buf_putc(&b, '}');
    return cd_buf_steal(&b, len);
}

commit_render_status commit_stub_get(commit_path *cp, const char *sha, commit_ast **out,
                                     cd_err *err)
{
    *out = lookup(cp->stubs, sha);
    if (*out)
        return COMMIT_RENDER_OK;
    commit_ast *a = NULL;
    commit_render_status rc = commit_render_get(cp, sha, &a, err);
    if (rc != COMMIT_RENDER_OK)
        return rc;
    *out = lookup(cp->stubs, sha); /* made by the render */
    if (*out) {
        commit_ast_unref(a);
        return COMMIT_RENDER_OK;
    }
    size_t len = 0;
    char *json = stub_of(a, &len);
    commit_ast_unref(a);
    *out = insert(cp->stubs, sha, ast_new(json, len));
    return COMMIT_RENDER_OK;
}

void commit_render_stats(commit_path *cp, uint64_t *hits, uint64_t *misses, uint64_t *bytes,
                         uint64_t *entries)
{
    commit_render_cache *rc = cp->rc;
    *hits = atomic_load_explicit(&rc->hits, memory_order_relaxed);
    *misses = atomic_load_explicit(&rc->misses, memory_order_relaxed);
    pthread_mutex_lock(&rc->mu);
    *bytes = rc->bytes;
    *entries = rc->count;
    pthread_mutex_unlock(&rc->mu);
}
