/* SPDX-License-Identifier: MIT */
/*
 * A blob store in front of another (the S3 backend) that remembers what it
 * learnt, so that the questions a push asks cost no request to S3:
 *
 * - the *known set*: the digest (and size, when known) of every blob this
 *   process saw stored — uploaded and acknowledged, found by a lookup or a
 *   read, or named by a committed version (blobstore_known_add(), which
 *   the server feeds from the catalog).  has() answers from it without a
 *   request, and asks the store below only for the rest.
 * - the *recent bytes*: small blobs (up to KNOWN_CACHE_BLOB) this process
 *   uploaded in the last KNOWN_FRESH_MS (CONTENTD_RECENT_BYTES_SECONDS), kept in memory (at most
 *   KNOWN_CACHE_BYTES, the oldest dropped first).  open() serves them, so
 *   the commit that follows an upload renders, checks and verifies the new
 *   documents without reading them back from S3.
 *
 * Nothing here deletes blobs, and contentd never does: a blob stays stored
 * once stored, unless someone deletes it behind contentd's back.  Against
 * that, open() — which the commit uses to check that every new blob is
 * stored — trusts only the recent bytes (an acknowledgement from S3 at
 * most KNOWN_FRESH_MS old) and asks S3 otherwise; the known set only
 * spares uploads.  docs/s3.md ("What the server knows") has the reasoning.
 *
 * Memory: one slot of 40 bytes per blob at a load of at most 0.7, so 57 to
 * 114 bytes per blob, for at most CONTENTD_KNOWN_BLOBS blobs (default
 * 1,048,576: at most 80 MiB); past it, new blobs are asked about again.
 */
#include "blobstore_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_DEFAULT_MAX   (1u << 20)
#define KNOWN_EMPTY         INT64_MIN
#define KNOWN_TOMB          (INT64_MIN + 1)
#define KNOWN_CACHE_BLOB    (256u << 10)
#define KNOWN_CACHE_BYTES   ((size_t)32 << 20)
#define KNOWN_CACHE_BUCKETS 16384u
#define KNOWN_FRESH_MS      ((int64_t)10 * 60 * 1000)

typedef struct {
    unsigned char d[32];
    int64_t size; /* -1: stored, size not known; KNOWN_EMPTY, KNOWN_TOMB */
} known_slot;

typedef struct recent {
    unsigned char d[32];
    struct recent *chain;         /* the bucket's next */
    struct recent *newer, *older; /* the age list */
    int64_t at_ms;
    size_t len;
    char bytes[];
} recent;

typedef struct known_store {
    blobstore base;
    struct blobstore_ops ops; /* the known ops with the inner backend's name */
    blobstore *inner;
    pthread_mutex_t mu;
    known_slot *slots;
    size_t cap, used, max; /* used counts tombstones too */
    size_t live;           /* blobs in the set */
    recent *buckets[KNOWN_CACHE_BUCKETS];
    recent *newest, *oldest;
    size_t cached_bytes;
    int64_t fresh_ms;    /* how long recent bytes are kept (0: none are) */
    atomic_bool loading; /* blobstore_known_first() answered true */
    atomic_bool crowded; /* blobs/ once listed past a caller's budget */
} known_store;

struct blob_writer {
    blob_writer *inner;
    known_store *s;
    char sha[CD_SHA256_HEX];
    int64_t written;
    cd_buf tee; /* the bytes, while the blob is small enough to keep */
    bool keep;
};

struct blob_reader {
    known_store *s;
    blob_reader *inner; /* NULL: served from mem */
    char *mem;
    size_t len;
};

/* The known set --------------------------------------------------------------- */

static bool digest_of(const char *sha, unsigned char d[32])
{
    for (int i = 0; i < 32; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = sha[2 * i + j];
            int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (x < 0)
                return false;
            v = v * 16 + x;
        }
        d[i] = (unsigned char)v;
    }
    return true;
}

static size_t slot_of(const known_slot *slots, size_t cap, const unsigned char d[32], bool insert)
{
    uint64_t h;
    memcpy(&h, d, sizeof h); /* a SHA-256 is uniform already */
    size_t i = (size_t)h & (cap - 1), tomb = SIZE_MAX;
    for (;; i = (i + 1) & (cap - 1)) {
        if (slots[i].size == KNOWN_EMPTY)
            return insert && tomb != SIZE_MAX ? tomb : i;
        if (slots[i].size == KNOWN_TOMB) {
            if (tomb == SIZE_MAX)
                tomb = i;
        } else if (!memcmp(slots[i].d, d, 32)) {
            return i;
        }
    }
}

static known_slot *new_slots(size_t cap)
{
    known_slot *s = cd_xmalloc(cap * sizeof *s);
    for (size_t i = 0; i < cap; i++)
        s[i].size = KNOWN_EMPTY;
    return s;
}

/* Rehashes the table without its tombstones, twice as large unless they
 * made up most of it. */
static void grow(known_store *k)
{
    size_t cap = k->live * 2 > k->cap / 2 ? k->cap * 2 : k->cap;
    known_slot *n = new_slots(cap);
    for (size_t i = 0; i < k->cap; i++)
        if (k->slots[i].size > KNOWN_TOMB)
            n[slot_of(n, cap, k->slots[i].d, true)] = k->slots[i];
    free(k->slots);
    k->slots = n;
    k->cap = cap;
    k->used = k->live;
}

static void known_put(known_store *k, const unsigned char d[32], int64_t size)
{
    pthread_mutex_lock(&k->mu);
    size_t i = slot_of(k->slots, k->cap, d, false);
    if (k->slots[i].size > KNOWN_TOMB) {
        if (size >= 0)
            k->slots[i].size = size;
    } else if (k->live < k->max) {
        if ((k->used + 1) * 10 > k->cap * 7)
            grow(k);
        i = slot_of(k->slots, k->cap, d, true);
        k->used += k->slots[i].size == KNOWN_EMPTY;
        k->live++;
        memcpy(k->slots[i].d, d, 32);
        k->slots[i].size = size;
    }
    pthread_mutex_unlock(&k->mu);
}

static bool known_get(known_store *k, const unsigned char d[32])
{
    pthread_mutex_lock(&k->mu);
    size_t i = slot_of(k->slots, k->cap, d, false);
    bool hit = k->slots[i].size > KNOWN_TOMB;
    pthread_mutex_unlock(&k->mu);
    return hit;
}

/* The recent bytes ------------------------------------------------------------ */

static recent **bucket_of(known_store *k, const unsigned char d[32])
{
    uint64_t h;
    memcpy(&h, d + 8, sizeof h);
    return &k->buckets[h % KNOWN_CACHE_BUCKETS];
}

/* Unlinks e from its bucket and the age list and frees it; under mu. */
static void recent_drop(known_store *k, recent *e)
{
    for (recent **p = bucket_of(k, e->d); *p; p = &(*p)->chain)
        if (*p == e) {
            *p = e->chain;
            break;
        }
    (e->newer ? &e->newer->older : &k->newest)[0] = e->older;
    (e->older ? &e->older->newer : &k->oldest)[0] = e->newer;
    k->cached_bytes -= e->len;
    free(e);
}

static void recent_add(known_store *k, const unsigned char d[32], const char *p, size_t n)
{
    recent *e = cd_xmalloc(sizeof *e + n);
    memcpy(e->d, d, 32);
    memcpy(e->bytes, p, n);
    e->len = n;
    e->at_ms = cd_mono_ms();
    pthread_mutex_lock(&k->mu);
    recent **b = bucket_of(k, d);
    for (recent *x = *b; x; x = x->chain)
        if (!memcmp(x->d, d, 32)) {
            recent_drop(k, x);
            break;
        }
    b = bucket_of(k, d);
    e->chain = *b;
    *b = e;
    e->older = k->newest;
    e->newer = NULL;
    (k->newest ? &k->newest->newer : &k->oldest)[0] = e;
    k->newest = e;
    k->cached_bytes += n;
    while (k->cached_bytes > KNOWN_CACHE_BYTES && k->oldest)
        recent_drop(k, k->oldest);
    pthread_mutex_unlock(&k->mu);
}

/* A copy of the fresh bytes of d, or NULL; the caller frees it. */
static char *recent_get(known_store *k, const unsigned char d[32], size_t *len)
{
    char *out = NULL;
    pthread_mutex_lock(&k->mu);
    for (recent *x = *bucket_of(k, d); x; x = x->chain) {
        if (memcmp(x->d, d, 32))
            continue;
        if (cd_mono_ms() - x->at_ms > k->fresh_ms) {
            recent_drop(k, x);
        } else {
            out = cd_xmalloc(x->len + 1);
            memcpy(out, x->bytes, x->len);
            *len = x->len;
        }
        break;
    }
    pthread_mutex_unlock(&k->mu);
    return out;
}

/* The ops ------------------------------------------------------------------------ */

#define KS(bs) ((known_store *)(bs))

static int k_ping(blobstore *bs, cd_err *err)
{
    return blobstore_ping(KS(bs)->inner, err);
}

static int k_has(blobstore *bs, const char *sha, bool *present, cd_err *err)
{
    known_store *k = KS(bs);
    unsigned char d[32];
    if (digest_of(sha, d) && known_get(k, d)) {
        *present = true;
        return BLOB_OK;
    }
    int rc = blobstore_has(k->inner, sha, present, err);
    if (rc == BLOB_OK && *present)
        known_put(k, d, -1);
    return rc;
}

static int k_put_begin(blobstore *bs, const char *sha, int64_t max_size, blob_writer **w,
                       cd_err *err)
{
    known_store *k = KS(bs);
    blob_writer *inner = NULL;
    int rc = blobstore_put_begin(k->inner, sha, max_size, &inner, err);
    if (rc != BLOB_OK)
        return rc;
    blob_writer *kw = cd_xcalloc(1, sizeof *kw);
    kw->inner = inner;
    kw->s = k;
    memcpy(kw->sha, sha, CD_SHA256_HEX);
    kw->keep = k->fresh_ms > 0;
    *w = kw;
    return BLOB_OK;
}

static int k_put_write(blob_writer *w, const void *p, size_t n, cd_err *err)
{
    int rc = blobstore_put_write(w->s->inner, w->inner, p, n, err);
    if (rc != BLOB_OK)
        return rc;
    w->written += (int64_t)n;
    if (w->keep && w->tee.len + n <= KNOWN_CACHE_BLOB) {
        cd_buf_append(&w->tee, p, n);
    } else if (w->keep) {
        w->keep = false;
        cd_buf_free(&w->tee);
    }
    return BLOB_OK;
}

static void writer_free(blob_writer *w)
{
    cd_buf_free(&w->tee);
    free(w);
}

static int k_put_finish(blob_writer *w, cd_err *err)
{
    known_store *k = w->s;
    int rc = blobstore_put_finish(k->inner, w->inner, err);
    unsigned char d[32];
    if (rc == BLOB_OK && digest_of(w->sha, d)) {
        known_put(k, d, w->written);
        if (w->keep)
            recent_add(k, d, w->tee.data ? w->tee.data : "", w->tee.len);
    }
    writer_free(w);
    return rc;
}

static void k_put_abort(blob_writer *w)
{
    blobstore_put_abort(w->s->inner, w->inner);
    writer_free(w);
}

static int k_open(blobstore *bs, const char *sha, blob_reader **r, int64_t *size, cd_err *err)
{
    known_store *k = KS(bs);
    unsigned char d[32];
    bool ok = digest_of(sha, d);
    size_t len = 0;
    char *mem = ok ? recent_get(k, d, &len) : NULL;
    blob_reader *kr = cd_xcalloc(1, sizeof *kr);
    kr->s = k;
    if (mem) {
        kr->mem = mem;
        kr->len = len;
        *size = (int64_t)len;
        *r = kr;
        return BLOB_OK;
    }
    int rc = blobstore_open(k->inner, sha, &kr->inner, size, err);
    if (rc != BLOB_OK) {
        free(kr);
        return rc;
    }
    if (ok)
        known_put(k, d, *size);
    *r = kr;
    return BLOB_OK;
}

static ssize_t k_read(blob_reader *r, uint64_t offset, void *p, size_t n)
{
    if (r->inner)
        return blobstore_read(r->s->inner, r->inner, offset, p, n);
    if (offset >= r->len)
        return 0;
    if (n > r->len - offset)
        n = r->len - (size_t)offset;
    memcpy(p, r->mem + offset, n);
    return (ssize_t)n;
}

static void k_close_reader(blob_reader *r)
{
    if (r->inner)
        blobstore_close_reader(r->s->inner, r->inner);
    free(r->mem);
    free(r);
}

static int k_put_object(blobstore *bs, const char *key, const void *p, size_t n, cd_err *err)
{
    return blobstore_put_object(KS(bs)->inner, key, p, n, err);
}

static int k_stage_object(blobstore *bs, const char *key, const void *p, size_t n, cd_err *err)
{
    return blobstore_stage_object(KS(bs)->inner, key, p, n, err);
}

static int k_settle(blobstore *bs, const char *const *keys, size_t n, cd_err *err)
{
    return blobstore_settle(KS(bs)->inner, keys, n, err);
}

static int k_get_object(blobstore *bs, const char *key, cd_buf *out, cd_err *err)
{
    return blobstore_get_object(KS(bs)->inner, key, out, err);
}

static int k_list(blobstore *bs, const char *prefix, int (*cb)(void *arg, const char *key),
                  void *arg, cd_err *err)
{
    return blobstore_list(KS(bs)->inner, prefix, cb, arg, err);
}

static void k_close(blobstore *bs)
{
    known_store *k = KS(bs);
    blobstore_close(k->inner);
    while (k->oldest)
        recent_drop(k, k->oldest);
    free(k->slots);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

static const struct blobstore_ops known_ops = {
    .name = "known",
    .ping = k_ping,
    .has = k_has,
    .put_begin = k_put_begin,
    .put_write = k_put_write,
    .put_finish = k_put_finish,
    .put_abort = k_put_abort,
    .open = k_open,
    .read = k_read,
    .close_reader = k_close_reader,
    .put_object = k_put_object,
    .get_object = k_get_object,
    .stage_object = k_stage_object,
    .settle = k_settle,
    .list = k_list,
    .close = k_close,
};

/* The public face ------------------------------------------------------------ */

blobstore *blobstore_known_wrap(blobstore *inner, size_t max_blobs)
{
    known_store *k = cd_xcalloc(1, sizeof *k);
    k->ops = known_ops;
    k->ops.name = blobstore_door(inner)->backend; /* the server sees the backend it runs on */
    blobstore_init(&k->base, &k->ops);
    k->inner = inner;
    k->max = max_blobs ? max_blobs : KNOWN_DEFAULT_MAX;
    k->fresh_ms = KNOWN_FRESH_MS;
    k->cap = 4096;
    k->slots = new_slots(k->cap);
    pthread_mutex_init(&k->mu, NULL);
    return &k->base;
}

static known_store *known_of(blobstore *s)
{
    return s && s->ops->has == k_has ? KS(s) : NULL;
}

void blobstore_known_set_fresh_ms(blobstore *s, int64_t ms)
{
    known_store *k = known_of(s);
    if (k && ms >= 0)
        k->fresh_ms = ms; /* before the store is shared: set at start-up */
}

bool blobstore_knows(blobstore *s)
{
    return known_of(s) != NULL;
}

int blobstore_known_state(blobstore *s, const char *sha)
{
    known_store *k = known_of(s);
    unsigned char d[32];
    if (!k || !digest_of(sha, d))
        return -1;
    return known_get(k, d) ? 1 : 0;
}

void blobstore_known_add(blobstore *s, const char *sha, int64_t size)
{
    known_store *k = known_of(s);
    unsigned char d[32];
    if (k && digest_of(sha, d))
        known_put(k, d, size >= 0 ? size : -1);
}

void blobstore_known_forget(blobstore *s, const char *sha)
{
    known_store *k = known_of(s);
    unsigned char d[32];
    if (!k || !digest_of(sha, d))
        return;
    pthread_mutex_lock(&k->mu);
    size_t i = slot_of(k->slots, k->cap, d, false);
    if (k->slots[i].size > KNOWN_TOMB) {
        k->slots[i].size = KNOWN_TOMB;
        k->live--;
    }
    for (recent *x = *bucket_of(k, d); x; x = x->chain)
        if (!memcmp(x->d, d, 32)) {
            recent_drop(k, x);
            break;
        }
    pthread_mutex_unlock(&k->mu);
}

size_t blobstore_known_count(blobstore *s)
{
    known_store *k = known_of(s);
    if (!k)
        return 0;
    pthread_mutex_lock(&k->mu);
    size_t live = k->live;
    pthread_mutex_unlock(&k->mu);
    return live;
}

bool blobstore_known_first(blobstore *s)
{
    known_store *k = known_of(s);
    return k && !atomic_exchange(&k->loading, true);
}

bool blobstore_known_crowded(blobstore *s)
{
    known_store *k = known_of(s);
    return k && atomic_load(&k->crowded);
}

void blobstore_known_set_crowded(blobstore *s)
{
    known_store *k = known_of(s);
    if (k)
        atomic_store(&k->crowded, true);
}
