/* SPDX-License-Identifier: MIT */
/*
 * The upload half of a push (POST /api/v1/blobs/missing, which tells which
 * blobs the server lacks, is in api_missing.c).  PUT /api/v1/blobs/SHA256
 * streams one blob into the store, hashed while it arrives: nothing is
 * stored when the bytes
 * do not hash to SHA256 (400 digest_mismatch) or pass --max-blob-size
 * (413, checked against Content-Length first, then while streaming).  A blob
 * that is stored already is hashed and not written again.
 */
#include "api.h"

#include <stdlib.h>
#include <string.h>

struct api_blob_upload {
    blob_writer *w; /* a new blob being written */
    cd_sha256 *md;  /* a stored blob being checked */
    bool broken;    /* a write failed: the request already failed */
};

static void fail_blob(http_req *r, int rc, const cd_err *err)
{
    if (rc == BLOB_UNAVAILABLE)
        http_fail(r, 503, "blobstore_unavailable", "The blob store is unavailable: %s", err->msg);
    else
        http_fail(r, 500, "internal_error", "The blob store failed: %s", err->msg);
}

static void too_large(http_req *r)
{
    char lim[32];
    int64_t m = API(r)->max_blob_size;
    if (m >= (1 << 20) && m % (1 << 20) == 0)
        snprintf(lim, sizeof lim, "%lld MiB", (long long)(m >> 20));
    else
        snprintf(lim, sizeof lim, "%lld bytes", (long long)m);
    http_fail(r, 413, "blob_too_large", "The blob is larger than the server's limit (%s).", lim);
}

void api_blob_begin(http_req *r)
{
    if (r->content_length > API(r)->max_blob_size) {
        too_large(r);
        return;
    }
    /* A store with a known set answers from it; for a blob it does not
     * know, put_begin looks it up anyway (and only hashes one stored
     * already), so asking it first would cost a second request. */
    int known = blobstore_known_state(API(r)->bs, r->sha);
    bool present = known == 1;
    cd_err err = {0};
    int rc = known < 0 ? blobstore_has(API(r)->bs, r->sha, &present, &err) : BLOB_OK;
    if (rc != BLOB_OK) {
        fail_blob(r, rc, &err);
        return;
    }
    struct api_blob_upload *u = cd_xcalloc(1, sizeof *u);
    r->upload = u;
    if (present) {
        u->md = cd_sha256_new();
        return;
    }
    rc = blobstore_put_begin(API(r)->bs, r->sha, API(r)->max_blob_size, &u->w, &err);
    if (rc != BLOB_OK) {
        u->w = NULL;
        fail_blob(r, rc, &err);
    }
}

static void drop_writer(http_req *r)
{
    struct api_blob_upload *u = r->upload;
    if (u && u->w) {
        blobstore_put_abort(API(r)->bs, u->w);
        u->w = NULL;
    }
}

void api_blob_chunk(http_req *r, const char *p, size_t n)
{
    struct api_blob_upload *u = r->upload;
    api_count_push(n);
    if (!u || u->broken)
        return;
    if (r->received > (uint64_t)API(r)->max_blob_size) {
        u->broken = true;
        drop_writer(r);
        too_large(r);
        return;
    }
    if (u->md) {
        cd_sha256_update(u->md, p, n);
        return;
    }
    cd_err err = {0};
    int rc = blobstore_put_write(API(r)->bs, u->w, p, n, &err);
    if (rc != BLOB_OK) {
        u->broken = true;
        drop_writer(r);
        if (rc == BLOB_TOO_LARGE)
            too_large(r);
        else
            fail_blob(r, rc, &err);
    }
}

/* The longest Content-Path taken as a hint (percent-encoded). */
#define HINT_PATH_MAX 4096

/* Content-Path: the path the client uploads the blob for, percent-encoded
 * (docs/api.md).  A markdown document is then rendered and its check facts
 * made in the background, for the commit that follows; a hint that cannot
 * be read is ignored, and the upload's answer does not depend on it. */
static void hint_path(http_req *r)
{
    const char *h = http_header(r, "Content-Path");
    size_t n = h ? strlen(h) : 0;
    char *path = NULL;
    size_t len = 0;
    if (!n || n > HINT_PATH_MAX || !http_pct_decode(h, n, &path, &len))
        return;
    (void)commit_warm_document(API(r)->commit, r->sha, path);
    free(path);
}

static enum MHD_Result reply_stored(http_req *r, unsigned status, bool created)
{
    hint_path(r);
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "{\"sha256\":\"%s\",\"size\":%llu,\"created\":%s}", r->sha,
                  (unsigned long long)r->received, created ? "true" : "false");
    return http_reply_json(r, status, &b);
}

static enum MHD_Result mismatch(http_req *r)
{
    return http_reply_error(r, 400, "digest_mismatch",
                            "The body does not hash to %s: nothing was stored.", r->sha);
}

enum MHD_Result api_blob_finish(http_req *r)
{
    struct api_blob_upload *u = r->upload;
    if (!u)
        return http_reply_error(r, 500, "internal_error", "The upload was not started.");
    if (u->md) {
        char hex[CD_SHA256_HEX];
        cd_sha256_final(u->md, hex);
        u->md = NULL;
        return strcmp(hex, r->sha) ? mismatch(r) : reply_stored(r, 200, false);
    }
    cd_err err = {0};
    int rc = blobstore_put_finish(API(r)->bs, u->w, &err);
    u->w = NULL; /* put_finish frees it whatever the outcome */
    switch (rc) {
    case BLOB_OK:
        return reply_stored(r, 201, true);
    case BLOB_DIGEST_MISMATCH:
        return mismatch(r);
    case BLOB_TOO_LARGE:
        r->phase = HTTP_PH_FINAL;
        too_large(r);
        return MHD_YES;
    default:
        return http_reply_blob_error(r, rc, &err);
    }
}

void api_blob_free(http_req *r)
{
    struct api_blob_upload *u = r->upload;
    if (!u)
        return;
    drop_writer(r);
    cd_sha256_free(u->md);
    free(u);
    r->upload = NULL;
}
