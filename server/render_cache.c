/* SPDX-License-Identifier: MIT */
/*
 * The render cache: markdown blobs are content-addressed, so the AST of a
 * blob depends on its SHA-256 alone and each blob is rendered once.  A
 * bounded LRU (bytes of AST JSON) of reference-counted ASTs: an entry
 * evicted while an event or a reply still uses it lives on until released.
 * Rendering happens outside the lock; two threads missing the same blob at
 * once may both render it, and the second result is dropped.
 */
#include "srv_int.h"

#include <stdlib.h>
#include <string.h>

#include "markdown.h"

typedef struct entry {
    char sha[65];
    srv_ast *ast;
    struct entry *hnext;
    struct entry *prev, *next; /* LRU: head is the most recent */
} entry;

struct srv_render_cache {
    pthread_mutex_t mu;
    entry **table;
    size_t nbuckets; /* a power of two */
    size_t count, bytes, max_bytes;
    entry *head, *tail;
    atomic_uint_fast64_t hits, misses;
};

srv_render_cache *srv_render_cache_new(size_t max_bytes)
{
    srv_render_cache *rc = cd_xcalloc(1, sizeof *rc);
    pthread_mutex_init(&rc->mu, NULL);
    rc->nbuckets = 4096;
    rc->table = cd_xcalloc(rc->nbuckets, sizeof *rc->table);
    rc->max_bytes = max_bytes;
    return rc;
}

void srv_ast_unref(srv_ast *a)
{
    if (a && atomic_fetch_sub(&a->refs, 1) == 1) {
        free(a->json);
        free(a->title);
        free(a);
    }
}

void srv_render_cache_free(srv_render_cache *rc)
{
    if (!rc)
        return;
    for (entry *e = rc->head, *next; e; e = next) {
        next = e->next;
        srv_ast_unref(e->ast);
        free(e);
    }
    free(rc->table);
    pthread_mutex_destroy(&rc->mu);
    free(rc);
}

static size_t bucket_of(const srv_render_cache *rc, const char *sha)
{
    /* The key is a hash already: mixing its first 16 hex digits will do. */
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ (unsigned char)sha[i]) * 1099511628211ull;
    return (size_t)h & (rc->nbuckets - 1);
}

static entry *find(srv_render_cache *rc, const char *sha)
{
    for (entry *e = rc->table[bucket_of(rc, sha)]; e; e = e->hnext)
        if (!memcmp(e->sha, sha, 64))
            return e;
    return NULL;
}

static void lru_unlink(srv_render_cache *rc, entry *e)
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

static void lru_push_front(srv_render_cache *rc, entry *e)
{
    e->prev = NULL;
    e->next = rc->head;
    if (rc->head)
        rc->head->prev = e;
    rc->head = e;
    if (!rc->tail)
        rc->tail = e;
}

static void evict(srv_render_cache *rc, entry *e)
{
    entry **pp = &rc->table[bucket_of(rc, e->sha)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(rc, e);
    rc->count--;
    rc->bytes -= e->ast->len;
    srv_ast_unref(e->ast);
    free(e);
}

/* Returns a new reference to the cached AST of sha, or NULL. */
static srv_ast *lookup(srv_render_cache *rc, const char *sha)
{
    srv_ast *a = NULL;
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
static srv_ast *insert(srv_render_cache *rc, const char *sha, srv_ast *a)
{
    pthread_mutex_lock(&rc->mu);
    entry *e = find(rc, sha);
    if (e) {
        srv_ast *had = e->ast;
        atomic_fetch_add(&had->refs, 1);
        pthread_mutex_unlock(&rc->mu);
        srv_ast_unref(a);
        return had;
    }
    e = cd_xcalloc(1, sizeof *e);
    memcpy(e->sha, sha, 65);
    e->ast = a;
    atomic_fetch_add(&a->refs, 1); /* the cache's reference */
    size_t b = bucket_of(rc, sha);
    e->hnext = rc->table[b];
    rc->table[b] = e;
    lru_push_front(rc, e);
    rc->count++;
    rc->bytes += a->len;
    while (rc->bytes > rc->max_bytes && rc->tail && rc->tail != e)
        evict(rc, rc->tail);
    pthread_mutex_unlock(&rc->mu);
    return a;
}

/* Reads blob sha whole (at most SRV_MD_MAX bytes) into out. */
static int read_blob(srv *s, const char *sha, cd_buf *out, cd_err *err)
{
    blob_reader *rd = NULL;
    int64_t size = 0;
    int rc = SRV_BLOB(s, open, sha, &rd, &size, err);
    if (rc != BLOB_OK)
        return rc;
    if (size > (int64_t)SRV_MD_MAX) {
        s->bs->ops->close_reader(rd);
        return cd_err_set(err, BLOB_ERROR, "the markdown file is larger than %u MiB",
                          SRV_MD_MAX >> 20);
    }
    cd_buf_grow(out, (size_t)size + 1);
    while (out->len < (size_t)size) {
        ssize_t n = s->bs->ops->read(rd, out->len, out->data + out->len, (size_t)size - out->len);
        if (n <= 0) {
            s->bs->ops->close_reader(rd);
            return cd_err_set(err, BLOB_ERROR, "blob %.12s… could not be read", sha);
        }
        out->len += (size_t)n;
    }
    out->data[out->len] = '\0';
    s->bs->ops->close_reader(rd);
    return BLOB_OK;
}

int srv_render_get(srv *s, const char *sha, srv_ast **out, cd_err *err)
{
    srv_render_cache *rc = s->rc;
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
        return rc_;
    }
    md_result res;
    md_error merr = {0};
    int st = md_pool_render(s->render_pool, src.data ? src.data : "", src.len, 0, &res, &merr);
    cd_buf_free(&src);
    if (st == MD_ERR_FAILED) { /* the failure document stands for it (docs/ast.md) */
        cd_buf kv = CD_BUF_INIT;
        srv_log_kv(&kv, "msg", merr.message);
        srv_log("warn", "render", "sha256=%.64s%s", sha, kv.data);
        cd_buf_free(&kv);
    } else if (st != MD_OK) {
        if (merr.line > 0)
            return cd_err_set(err, SRV_RENDER_ERR + st, "line %d: %s", merr.line, merr.message);
        return cd_err_set(err, SRV_RENDER_ERR + st, "%s", merr.message);
    }
    srv_ast *a = cd_xmalloc(sizeof *a);
    atomic_init(&a->refs, 1);
    a->json = res.json;
    a->len = res.len;
    a->title = cd_xstrdup(res.title);
    res.json = NULL;
    md_result_free(&res);
    *out = insert(rc, sha, a);
    return 0;
}

void srv_render_cache_stats(srv_render_cache *rc, uint64_t *hits, uint64_t *misses, uint64_t *bytes,
                            uint64_t *entries)
{
    *hits = atomic_load_explicit(&rc->hits, memory_order_relaxed);
    *misses = atomic_load_explicit(&rc->misses, memory_order_relaxed);
    pthread_mutex_lock(&rc->mu);
    *bytes = rc->bytes;
    *entries = rc->count;
    pthread_mutex_unlock(&rc->mu);
}
