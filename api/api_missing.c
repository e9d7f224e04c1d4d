/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/blobs/missing: which of a list of blobs the server lacks.
 *
 * Answered first from what the blob store knows to be stored (its known
 * set, blobstore_known_state(): filled on the first call from the current
 * version of every item in the catalog, and by every upload, lookup and
 * commit since), with no request to S3.  Only the blobs it does not know
 * are looked up in the store, MISSING_PARALLEL at a time, each lookup on
 * its own thread (the S3 client lends every thread its own connections).
 * A store without a known set (the data folder, where a lookup is a
 * stat) is asked about every blob, in the same way.
 *
 * Saying "stored" for a blob deleted behind contentd's back loses
 * nothing: the client then does not upload it, and the commit, which
 * checks every new blob itself, answers 422 missing_blobs naming it; the
 * client uploads it and commits again (docs/s3.md, "What the server
 * knows").
 */
#include "api.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MISSING_MAX      100000
#define MISSING_PARALLEL 16 /* lookups in flight for one request */
/* Many blobs of one key prefix (`blobs/XX/`) are learnt with one listing
 * rather than a HEAD each, when a request asks about at least
 * LIST_MIN_BLOBS: a brand-new course's thousand blobs are 256 listings. */
#define LIST_MIN_BLOBS 256
#define LIST_MIN       3
#define LIST_MAX_KEYS  1000 /* one page: a fuller prefix is looked up blob by blob */
/* The whole bucket is listed instead when that takes at most one page per
 * LIST_WHOLE_PAGE_RATIO prefix listings. */
#define LIST_WHOLE_PAGE_RATIO 4

/* A unit of work: the blobs order[first..first+count) of one key prefix,
 * listed at once when there are enough of them (list), else looked up one
 * by one. */
typedef struct {
    size_t first, count;
    bool list;
} unit;

/* Lookups of shas[0..n) into present[], shared by the worker threads. */
typedef struct {
    blobstore *bs;
    const char **shas;
    bool *present;
    size_t *order; /* indices into shas, sorted by digest */
    unit *units;
    size_t n, nunits;
    atomic_size_t next;
    pthread_mutex_t mu;
    blob_status rc; /* the first failure */
    cd_err err;
} lookups;

/* What one listing of `blobs/XX/` found among a unit's blobs. */
typedef struct {
    lookups *l;
    const unit *u;
    size_t keys;
} listing;

/* Orders indices into the digests shas (arg) by digest. */
static int cmp_digest(const void *a, const void *b, void *arg)
{
    const char **shas = arg;
    return strcmp(shas[*(const size_t *)a], shas[*(const size_t *)b]);
}

static int listed(void *arg, const char *key)
{
    listing *g = arg;
    if (++g->keys > LIST_MAX_KEYS)
        return 1; /* a crowded prefix: looked up one by one instead */
    const char *sha = strrchr(key, '/');
    sha = sha ? sha + 1 : key;
    for (size_t k = 0; k < g->u->count; k++) { /* a handful: no search needed */
        size_t i = g->l->order[g->u->first + k];
        if (!strcmp(g->l->shas[i], sha)) {
            g->l->present[i] = true;
            blobstore_known_add(g->l->bs, sha, -1);
        }
    }
    return 0;
}

static blob_status run_unit(lookups *l, const unit *u, cd_err *err)
{
    if (u->list) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "blobs/%.2s/", l->shas[l->order[u->first]]);
        listing g = {.l = l, .u = u};
        blob_status rc = blobstore_list(l->bs, prefix, listed, &g, err);
        if (rc != BLOB_OK || g.keys <= LIST_MAX_KEYS)
            return rc;
        for (size_t k = 0; k < u->count; k++) /* start again, one by one */
            l->present[l->order[u->first + k]] = false;
    }
    for (size_t k = 0; k < u->count; k++) {
        size_t i = l->order[u->first + k];
        blob_status rc = blobstore_has(l->bs, l->shas[i], &l->present[i], err);
        if (rc != BLOB_OK)
            return rc;
    }
    return BLOB_OK;
}

static void *lookup_worker(void *arg)
{
    lookups *l = arg;
    for (size_t i; (i = atomic_fetch_add(&l->next, 1)) < l->nunits;) {
        cd_err err = {0};
        blob_status rc = run_unit(l, &l->units[i], &err);
        if (rc == BLOB_OK)
            continue;
        pthread_mutex_lock(&l->mu);
        if (l->rc == BLOB_OK) {
            l->rc = rc;
            l->err = err;
        }
        pthread_mutex_unlock(&l->mu);
        atomic_store(&l->next, l->nunits); /* the answer is an error now: stop */
    }
    return NULL;
}

/* Sorts the blobs by digest and cuts them into units: a prefix that holds
 * LIST_MIN of them is listed (on a remote store, where a request costs
 * more than a page of keys), every other blob looked up alone. */
static void plan(lookups *l, bool remote)
{
    for (size_t k = 0; k < l->n; k++)
        l->order[k] = k;
    qsort_r(l->order, l->n, sizeof *l->order, cmp_digest, l->shas);
    for (size_t k = 0; k < l->n;) {
        size_t end = k + 1;
        while (end < l->n && !strncmp(l->shas[l->order[end]], l->shas[l->order[k]], 2))
            end++;
        if (remote && l->n >= LIST_MIN_BLOBS && end - k >= LIST_MIN) {
            l->units[l->nunits++] = (unit){k, end - k, true};
        } else {
            for (size_t j = k; j < end; j++)
                l->units[l->nunits++] = (unit){j, 1, false};
        }
        k = end;
    }
}

/* What a listing of every blob found among the asked ones. */
typedef struct {
    lookups *l;
    size_t keys, budget;
} whole;

static int listed_any(void *arg, const char *key)
{
    whole *w = arg;
    if (++w->keys > w->budget)
        return 1;
    const char *sha = strrchr(key, '/');
    sha = sha ? sha + 1 : key;
    if (!cd_sha_valid(sha))
        return 0;
    blobstore_known_add(w->l->bs, sha, -1);
    size_t lo = 0, hi = w->l->n;
    while (lo < hi) { /* order[] is sorted by digest */
        size_t mid = (lo + hi) / 2, i = w->l->order[mid];
        int c = strcmp(w->l->shas[i], sha);
        if (c == 0) {
            w->l->present[i] = true;
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* A bucket that holds fewer blobs than a few pages per listing planned is
 * learnt whole, in those few pages (one, for a new bucket), rather than a
 * prefix at a time.  *answered says whether that answered every blob
 * (false also when the bucket turned out larger: remembered, it only
 * grows); BLOB_OK or the listing's failure (err). */
static blob_status list_whole(lookups *l, size_t listings, bool *answered, cd_err *err)
{
    *answered = false;
    if (listings < 4 * LIST_WHOLE_PAGE_RATIO || blobstore_known_crowded(l->bs))
        return BLOB_OK;
    whole w = {.l = l, .budget = listings / LIST_WHOLE_PAGE_RATIO * LIST_MAX_KEYS};
    blob_status rc = blobstore_list(l->bs, "blobs/", listed_any, &w, err);
    if (rc != BLOB_OK)
        return rc;
    if (w.keys <= w.budget) {
        *answered = true;
        return BLOB_OK;
    }
    for (size_t i = 0; i < l->n; i++)
        l->present[i] = false; /* the units find them again */
    blobstore_known_set_crowded(l->bs);
    return BLOB_OK;
}

/* Looks up shas[0..n) in parallel; BLOB_OK or the first failure (err). */
static blob_status lookup_all(blobstore *bs, const char **shas, bool *present, size_t n,
                              cd_err *err)
{
    lookups l = {.bs = bs, .shas = shas, .present = present, .n = n, .rc = BLOB_OK};
    l.order = cd_xmalloc((n + 1) * sizeof *l.order);
    l.units = cd_xmalloc((n + 1) * sizeof *l.units);
    plan(&l, blobstore_knows(bs));
    size_t listings = 0;
    for (size_t i = 0; i < l.nunits; i++)
        listings += l.units[i].list;
    bool answered;
    blob_status whole_rc = list_whole(&l, listings, &answered, err);
    if (whole_rc != BLOB_OK || answered) {
        free(l.order);
        free(l.units);
        return whole_rc;
    }
    atomic_init(&l.next, 0);
    pthread_mutex_init(&l.mu, NULL);
    cd_run_workers(l.nunits < MISSING_PARALLEL ? (unsigned)l.nunits : MISSING_PARALLEL,
                   lookup_worker, &l);
    pthread_mutex_destroy(&l.mu);
    free(l.order);
    free(l.units);
    if (l.rc != BLOB_OK)
        *err = l.err;
    return l.rc;
}

/* Once per process: every blob of every item's current version is stored
 * (the commit checked it), so the known set starts with them. */
static void load_known(api_ctx *a)
{
    if (!blobstore_known_first(a->bs))
        return;
    catalog_item *items = NULL;
    size_t n = 0;
    cd_err err = {0};
    if (catalog_item_list(a->cat, NULL, &items, &n, &err) != CAT_OK) {
        cd_log("warn", "api", "msg=\"the known blobs start empty\" err=\"%s\"", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        catalog_file *files = NULL;
        size_t nf = 0;
        if (items[i].version <= 0 ||
            catalog_files(a->cat, items[i].kind, items[i].name, 0, &files, &nf, &err) != CAT_OK)
            continue;
        for (size_t j = 0; j < nf; j++)
            blobstore_known_add(a->bs, files[j].sha256, files[j].size);
        catalog_files_free(files, nf);
    }
    catalog_items_free(items, n);
    cd_log("info", "api", "msg=\"known blobs loaded\" items=%zu blobs=%zu", n,
           blobstore_known_count(a->bs));
}

/* The distinct, valid digests of the request into *shas (pointers into
 * body); 0, or an error answer already sent (-1). */
static int read_request(http_req *r, json_t *body, const char ***shas, size_t *n)
{
    json_t *arr = json_object_get(body, "sha256");
    size_t len = json_array_size(arr);
    if (!json_is_array(arr) || len > MISSING_MAX) {
        http_reply_error(r, 400, "invalid_sha256",
                         "\"sha256\" must be an array of at most %d digests.", MISSING_MAX);
        return -1;
    }
    *shas = cd_xmalloc((len + 1) * sizeof **shas);
    *n = 0;
    json_t *seen = json_object();
    for (size_t i = 0; i < len; i++) {
        const char *sha = json_string_value(json_array_get(arr, i));
        if (!sha || !cd_sha_valid(sha)) {
            json_decref(seen);
            free(*shas);
            *shas = NULL;
            http_reply_error(r, 400, "invalid_sha256",
                             "sha256[%zu] is not 64 lower-case hex digits.", i);
            return -1;
        }
        if (json_object_get(seen, sha))
            continue;
        json_object_set_new(seen, sha, json_true());
        (*shas)[(*n)++] = sha;
    }
    json_decref(seen);
    return 0;
}

enum MHD_Result api_blobs_missing(http_req *r)
{
    json_t *body = http_json_body(r);
    if (!body)
        return MHD_YES;
    const char **shas = NULL, **ask = NULL;
    size_t n = 0, nask = 0;
    bool *present = NULL;
    enum MHD_Result ret = MHD_YES;
    if (read_request(r, body, &shas, &n) != 0)
        goto out;
    load_known(API(r));
    ask = cd_xmalloc((n + 1) * sizeof *ask);
    for (size_t i = 0; i < n; i++)
        if (blobstore_known_state(API(r)->bs, shas[i]) != 1)
            ask[nask++] = shas[i];
    present = cd_xcalloc(nask + 1, sizeof *present);
    cd_err err = {0};
    blob_status rc = lookup_all(API(r)->bs, ask, present, nask, &err);
    if (rc != BLOB_OK) {
        ret = http_reply_blob_error(r, rc, &err);
        goto out;
    }
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, "{\"missing\":[");
    for (size_t i = 0, k = 0; i < nask; i++)
        if (!present[i])
            cd_buf_printf(&b, "%s\"%s\"", k++ ? "," : "", ask[i]);
    cd_buf_puts(&b, "]}");
    ret = http_reply_json(r, 200, &b);
out:
    free(shas);
    free(ask);
    free(present);
    json_decref(body);
    return ret;
}
