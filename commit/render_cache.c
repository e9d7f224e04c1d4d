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

#include "markdown.h"

typedef struct entry {
    char sha[CD_SHA256_HEX];
    commit_ast *ast;
    cd_hnode node;             /* in the table, by sha */
    struct entry *prev, *next; /* LRU: head is the most recent */
} entry;

struct commit_render_cache {
    pthread_mutex_t mu;
    cd_htab table;
    size_t count, bytes, max_bytes;
    entry *head, *tail;
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
        free(a->title);
        free(a);
    }
}

void commit_render_cache_free(commit_render_cache *rc)
{
    if (!rc)
        return;
    for (entry *e = rc->head, *next; e; e = next) {
        next = e->next;
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

static void lru_unlink(commit_render_cache *rc, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        rc->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        rc->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(commit_render_cache *rc, entry *e)
{
    e->prev = NULL;
    e->next = rc->head;
    if (rc->head)
        rc->head->prev = e;
    rc->head = e;
    if (!rc->tail)
        rc->tail = e;
}

static void evict(commit_render_cache *rc, entry *e)
{
    cd_htab_del(&rc->table, &e->node);
    lru_unlink(rc, e);
    rc->count--;
    rc->bytes -= e->ast->len;
    commit_ast_unref(e->ast);
    free(e);
}

/* Returns a new reference to the cached AST of sha, or NULL. */
static commit_ast *lookup(commit_render_cache *rc, const char *sha)
{
    commit_ast *a = NULL;
    pthread_mutex_lock(&rc->mu);
    entry *e = find(rc, sha);
    if (e) {
        lru_unlink(rc, e);
        lru_push_front(rc, e);
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
    lru_push_front(rc, e);
    rc->count++;
    rc->bytes += a->len;
    while (rc->bytes > rc->max_bytes && rc->tail && rc->tail != e)
        evict(rc, rc->tail);
    pthread_mutex_unlock(&rc->mu);
    return a;
}

/* Reads blob sha whole (at most COMMIT_MD_MAX bytes) into out. */
static int read_blob(commit_path *s, const char *sha, cd_buf *out, cd_err *err)
{
    blob_reader *rd = NULL;
    int64_t size = 0;
    int rc = blobstore_open(s->bs, sha, &rd, &size, err);
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

commit_render_status commit_render_get(commit_path *s, const char *sha, commit_ast **out,
                                       cd_err *err)
{
    commit_render_cache *rc = s->rc;
    *out = lookup(rc, sha);
    if (*out) {
        atomic_fetch_add_explicit(&rc->hits, 1, memory_order_relaxed);
        return 0;
    }
    atomic_fetch_add_explicit(&rc->misses, 1, memory_order_relaxed);
    cd_buf src = CD_BUF_INIT;
    int rc_ = read_blob(s, sha, &src, err);
    if (rc_ != BLOB_OK) {
        cd_buf_free(&src);
        if (err)
            err->code = rc_;
        return COMMIT_RENDER_UNREAD;
    }
    md_result res = {0};
    md_error merr = {0};
    int st = s->pool ? md_pool_render(s->pool, src.data ? src.data : "", src.len, 0, &res, &merr)
                     : md_render_result(src.data ? src.data : "", src.len, 0, &res, &merr);
    cd_buf_free(&src);
    if (st == MD_ERR_FAILED) { /* the failure document stands for it (docs/ast.md) */
        cd_buf kv = CD_BUF_INIT;
        cd_log_kv(&kv, "msg", merr.message);
        cd_log("warn", "render", "sha256=%.64s%s", sha, kv.data);
        cd_buf_free(&kv);
    } else if (st != MD_OK) {
        if (merr.line > 0)
            cd_err_set(err, st, "line %d: %s", merr.line, merr.message);
        else
            cd_err_set(err, st, "%s", merr.message);
        return COMMIT_RENDER_INVALID;
    }
    commit_ast *a = cd_xmalloc(sizeof *a);
    atomic_init(&a->refs, 1);
    a->json = res.json;
    a->len = res.len;
    a->title = cd_xstrdup(res.title);
    res.json = NULL;
    md_result_free(&res);
    *out = insert(rc, sha, a);
    return 0;
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
