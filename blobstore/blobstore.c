/* SPDX-License-Identifier: MIT */
/*
 * Helpers every blob store backend shares: the key layout (blobs and
 * manifests), the validation of digests and keys, and the hashing, bounded
 * writer behind every blob upload.
 */
#include "blobstore_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *blobstore_blob_key(const char *sha)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "blobs/%.2s/%s", sha, sha);
    return cd_buf_steal(&b, NULL);
}

char *blobstore_manifest_key(const char *kind, const char *name, int64_t version)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "manifests/%s/%s/%" PRId64 ".json", kind, name, version);
    return cd_buf_steal(&b, NULL);
}

char *blobstore_item_key(const char *kind, const char *name)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "items/%s/%s.json", kind, name);
    return cd_buf_steal(&b, NULL);
}

char *blobstore_review_key(const char *kind, const char *name)
{
    cd_buf b = CD_BUF_INIT;
    cd_buf_printf(&b, "review/%s/%s.json", kind, name);
    return cd_buf_steal(&b, NULL);
}

bool blobstore_key_valid(const char *key)
{
    if (!key || !*key)
        return false;
    size_t len = strlen(key);
    if (len > BLOB_KEY_MAX || !cd_utf8_valid(key, len))
        return false;
    bool seg_start = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return false;
        if (seg_start && (c == '/' || c == '.'))
            return false; /* empty segment, leading '/', ".", "..", dot files */
        seg_start = c == '/';
    }
    return !seg_start; /* no trailing '/' */
}

blob_status blobstore_check_key(const char *key, cd_err *err)
{
    if (!blobstore_fs_key_ok(key))
        return cd_err_set(err, BLOB_ERROR, "blob store: invalid key");
    return BLOB_OK;
}

blob_status blobstore_check_sha(const char *sha, cd_err *err)
{
    if (!cd_sha_valid(sha))
        return cd_err_set(err, BLOB_ERROR, "blob store: not a SHA-256 in lower-case hex");
    return BLOB_OK;
}

/* Uploads -------------------------------------------------------------------- */

void blob_upload_init(blob_upload *u, const char *sha, int64_t max, int fd,
                      blob_status (*write_failed)(cd_err *e, const char *sha))
{
    memset(u, 0, sizeof *u);
    memcpy(u->sha, sha, 65);
    u->fd = fd;
    u->max = max;
    u->write_failed = write_failed;
    u->md = cd_sha256_new();
}

blob_status blob_upload_write(blob_upload *u, const void *p, size_t n, cd_err *err)
{
    if (u->failed)
        return cd_err_set(err, u->failed, "%s", u->failure.msg);
    if (u->max >= 0 && (uint64_t)u->written + n > (uint64_t)u->max) {
        u->failed = cd_err_set(&u->failure, BLOB_TOO_LARGE,
                               "blob store: the blob is larger than %" PRId64 " bytes", u->max);
    } else if (u->fd >= 0 && cd_write_all(u->fd, p, n) < 0) {
        u->failed = u->write_failed(&u->failure, u->sha);
    } else {
        cd_sha256_update(u->md, p, n);
        u->written += (int64_t)n;
        return BLOB_OK;
    }
    return cd_err_set(err, u->failed, "%s", u->failure.msg);
}

blob_status blob_upload_verify(blob_upload *u, cd_err *err)
{
    if (u->failed)
        return cd_err_set(err, u->failed, "%s", u->failure.msg);
    char hex[CD_SHA256_HEX];
    cd_sha256_final(u->md, hex);
    u->md = NULL;
    if (strcmp(hex, u->sha) != 0)
        return cd_err_set(err, BLOB_DIGEST_MISMATCH, "the uploaded bytes hash to %s, not to %s",
                          hex, u->sha);
    return BLOB_OK;
}

void blob_upload_release(blob_upload *u)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    cd_sha256_free(u->md);
    u->md = NULL;
}

/* The door: argument checks, then the backend, timed. --------------------- */

static const char *const op_names[] = {BLOBSTORE_OPS(CD_X_NAME)};

void blobstore_init(blobstore *s, const struct blobstore_ops *ops)
{
    s->ops = ops;
    cd_door_init(&s->door, ops->name, op_names, BLOBSTORE_OP_COUNT);
}

const cd_door *blobstore_door(const blobstore *s)
{
    return &s->door;
}

#define TIMED(s, op, ...) CD_DOOR_CALL(&(s)->door, BLOBSTORE_OP_##op, (s)->ops->op(__VA_ARGS__))

blob_status blobstore_ping(blobstore *s, cd_err *err)
{
    return TIMED(s, ping, s, err);
}

blob_status blobstore_has(blobstore *s, const char *sha, bool *present, cd_err *err)
{
    *present = false;
    blob_status rc = blobstore_check_sha(sha, err);
    return rc ? rc : TIMED(s, has, s, sha, present, err);
}

blob_status blobstore_put_begin(blobstore *s, const char *sha, int64_t max_size, blob_writer **w,
                                cd_err *err)
{
    *w = NULL;
    blob_status rc = blobstore_check_sha(sha, err);
    return rc ? rc : TIMED(s, put_begin, s, sha, max_size, w, err);
}

blob_status blobstore_put_write(blobstore *s, blob_writer *w, const void *p, size_t n, cd_err *err)
{
    return s->ops->put_write(w, p, n, err);
}

blob_status blobstore_put_finish(blobstore *s, blob_writer *w, cd_err *err)
{
    return TIMED(s, put_finish, w, err);
}

void blobstore_put_abort(blobstore *s, blob_writer *w)
{
    if (w)
        s->ops->put_abort(w);
}

blob_status blobstore_open(blobstore *s, const char *sha, blob_reader **r, int64_t *size,
                           cd_err *err)
{
    *r = NULL;
    blob_status rc = blobstore_check_sha(sha, err);
    return rc ? rc : TIMED(s, open, s, sha, r, size, err);
}

ssize_t blobstore_read(blobstore *s, blob_reader *r, uint64_t offset, void *p, size_t n)
{
    return s->ops->read(r, offset, p, n);
}

void blobstore_close_reader(blobstore *s, blob_reader *r)
{
    if (r)
        s->ops->close_reader(r);
}

blob_status blobstore_put_object(blobstore *s, const char *key, const void *p, size_t n,
                                 cd_err *err)
{
    blob_status rc = blobstore_check_key(key, err);
    return rc ? rc : TIMED(s, put_object, s, key, p, n, err);
}

blob_status blobstore_get_object(blobstore *s, const char *key, cd_buf *out, cd_err *err)
{
    blob_status rc = blobstore_check_key(key, err);
    return rc ? rc : TIMED(s, get_object, s, key, out, err);
}

blob_status blobstore_stage_object(blobstore *s, const char *key, const void *p, size_t n,
                                   cd_err *err)
{
    blob_status rc = blobstore_check_key(key, err);
    if (rc)
        return rc;
    if (!s->ops->stage_object)
        return TIMED(s, put_object, s, key, p, n, err);
    return CD_DOOR_CALL(&s->door, BLOBSTORE_OP_put_object, s->ops->stage_object(s, key, p, n, err));
}

blob_status blobstore_settle(blobstore *s, const char *const *keys, size_t n, cd_err *err)
{
    return s->ops->settle ? TIMED(s, settle, s, keys, n, err) : BLOB_OK;
}

blob_status blobstore_list(blobstore *s, const char *prefix, int (*cb)(void *arg, const char *key),
                           void *arg, cd_err *err)
{
    return TIMED(s, list, s, prefix, cb, arg, err);
}

void blobstore_close(blobstore *s)
{
    if (s)
        s->ops->close(s);
}
