/* SPDX-License-Identifier: MIT */
/*
 * The S3 backend of the blob store, on s3/: the same keys as the folder
 * backend (`blobs/ab/abcd…`, `manifests/KIND/NAME/N.json`) in a bucket.
 *
 * A blob upload is spooled to an anonymous temporary file while it is
 * hashed, so memory stays flat whatever the blob's size; only once the
 * digest equals the blob's name is the file sent to its final key (one PUT,
 * or a multipart upload above the threshold), with that digest as the
 * signed x-amz-content-sha256, so S3 itself refuses bytes that changed on
 * the way.  A wrong object therefore never lands at a final key, and
 * put_finish() returns only after S3 acknowledged the object: the server
 * commits a version only after that.
 *
 * Reading fetches ranges into a window that grows while the reader goes
 * forward, so a small file costs one GET and a large one a few.
 */
#include "blobstore_int.h"

#include "s3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WINDOW_MIN (256u * 1024u)
#define WINDOW_MAX (8u * 1024u * 1024u)

typedef struct s3_store {
    blobstore base;
    s3_client *c;
    char *spool_dir; /* where uploads are spooled */
    bool no_lookup;  /* put_begin uploads without asking first */
} s3_store;

struct blob_writer {
    blob_upload up; /* up.fd: the spool file (unnamed: closing deletes it) */
    s3_store *s;
};

struct blob_reader {
    s3_store *s;
    char *key;
    uint64_t size;
    cd_buf win; /* the bytes [win_off, win_off + win.len) of the blob */
    uint64_t win_off;
    size_t next_win; /* the size of the next fetch */
};

/* The blob store's status for an s3 failure, with its message.  A missing
 * bucket or refused credentials is the store being unusable, never a
 * missing blob: the server answers 503 with the reason. */
static int from_s3(int rc, const cd_err *e, cd_err *err)
{
    int st = rc == S3_NOT_FOUND                                                ? BLOB_NOT_FOUND
             : (rc == S3_UNAVAILABLE || rc == S3_DENIED || rc == S3_NO_BUCKET) ? BLOB_UNAVAILABLE
                                                                               : BLOB_ERROR;
    return cd_err_set(err, st, "blob store: %s", e->msg);
}

/* An unnamed temporary file in the spool folder (nothing to clean after a
 * crash); O_TMPFILE where the file system has it, else a name unlinked at
 * once. */
static int spool_open(s3_store *s, cd_err *err)
{
    int fd = open(s->spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    cd_buf path = CD_BUF_INIT;
    cd_buf_printf(&path, "%s/contentd-s3-XXXXXX", s->spool_dir);
    fd = mkostemp(path.data, O_CLOEXEC);
    if (fd >= 0)
        unlink(path.data);
    else
        cd_err_set(err, BLOB_UNAVAILABLE, "blob store: cannot create a spool file in %s: %s",
                   s->spool_dir, strerror(errno));
    cd_buf_free(&path);
    return fd < 0 ? BLOB_UNAVAILABLE : fd;
}

/* Store operations ------------------------------------------------------------ */

static int s3s_ping(blobstore *bs, cd_err *err)
{
    s3_store *s = (s3_store *)bs;
    cd_err e = {0, ""};
    int rc = s3_head_bucket(s->c, &e);
    if (rc)
        return cd_err_set(err, BLOB_UNAVAILABLE, "blob store: %s", e.msg);
    return BLOB_OK;
}

static int s3s_has(blobstore *bs, const char *sha, bool *present, cd_err *err)
{
    s3_store *s = (s3_store *)bs;
    *present = false;
    int rc = BLOB_OK;
    char *key = blobstore_blob_key(sha);
    cd_err e = {0, ""};
    rc = s3_head(s->c, key, NULL, &e);
    free(key);
    if (rc == S3_OK)
        *present = true;
    else if (rc != S3_NOT_FOUND)
        return from_s3(rc, &e, err);
    return BLOB_OK;
}

/* A failed write to the spool file of an upload. */
static int write_failed(cd_err *e, const char *sha)
{
    return cd_err_set(e, BLOB_UNAVAILABLE, "blob store: cannot spool the upload of %s: %s", sha,
                      strerror(errno));
}

static int s3s_put_begin(blobstore *bs, const char *sha, int64_t max_size, blob_writer **out,
                         cd_err *err)
{
    s3_store *s = (s3_store *)bs;
    *out = NULL;
    bool present = false;
    int rc = s->no_lookup ? BLOB_OK : s3s_has(bs, sha, &present, err);
    if (rc)
        return rc;
    int fd = -1;
    if (!present && (fd = spool_open(s, err)) < 0)
        return fd;
    blob_writer *w = cd_xcalloc(1, sizeof *w);
    w->s = s;
    blob_upload_init(&w->up, sha, max_size, fd, write_failed);
    *out = w;
    return BLOB_OK;
}

static int s3s_put_write(blob_writer *w, const void *p, size_t n, cd_err *err)
{
    return blob_upload_write(&w->up, p, n, err);
}

static void writer_free(blob_writer *w)
{
    blob_upload_release(&w->up); /* the spool file is unnamed: closing deletes it */
    free(w);
}

static int s3s_put_finish(blob_writer *w, cd_err *err)
{
    int rc = blob_upload_verify(&w->up, err);
    if (rc == BLOB_OK && w->up.fd >= 0) {
        char *key = blobstore_blob_key(w->up.sha);
        cd_err e = {0, ""};
        int s3rc = s3_put_fd(w->s->c, key, w->up.fd, (uint64_t)w->up.written, w->up.sha,
                             "application/octet-stream", &e);
        if (s3rc)
            rc = from_s3(s3rc, &e, err);
        free(key);
    }
    writer_free(w);
    return rc;
}

static void s3s_put_abort(blob_writer *w)
{
    writer_free(w);
}

/* Reading ------------------------------------------------------------------------ */

static int to_buf(void *arg, const void *p, size_t n)
{
    cd_buf_append(arg, p, n);
    return 0;
}

/* Fetches the bytes [off, off + len) into the reader's window. */
static int fetch(blob_reader *r, uint64_t off, uint64_t len, s3_object_info *info, cd_err *e)
{
    cd_buf_reset(&r->win);
    r->win_off = off;
    return s3_get(r->s->c, r->key, off, len, to_buf, &r->win, info, e);
}

static int s3s_open(blobstore *bs, const char *sha, blob_reader **out, int64_t *size, cd_err *err)
{
    s3_store *s = (s3_store *)bs;
    *out = NULL;
    int rc = BLOB_OK;
    blob_reader *r = cd_xcalloc(1, sizeof *r);
    r->s = s;
    r->key = blobstore_blob_key(sha);
    r->next_win = WINDOW_MIN;
    /* The first window and the size in one request. */
    s3_object_info info;
    cd_err e = {0, ""};
    int s3rc = fetch(r, 0, WINDOW_MIN, &info, &e);
    if (s3rc == S3_ERROR) {
        /* An empty object has no byte 0: S3 answers 416 to any range. */
        cd_err he = {0, ""};
        if (s3_head(s->c, r->key, &info, &he) == S3_OK && info.size == 0)
            s3rc = S3_OK;
    }
    if (s3rc) {
        rc = s3rc == S3_NOT_FOUND ? cd_err_set(err, BLOB_NOT_FOUND, "blob store: no blob %s", sha)
                                  : from_s3(s3rc, &e, err);
        free(r->key);
        cd_buf_free(&r->win);
        free(r);
        return rc;
    }
    r->size = info.size;
    *size = (int64_t)info.size;
    *out = r;
    return BLOB_OK;
}

static ssize_t s3s_read(blob_reader *r, uint64_t offset, void *p, size_t n)
{
    if (offset >= r->size || n == 0)
        return 0;
    if (offset < r->win_off || offset >= r->win_off + r->win.len) {
        bool forward = offset == r->win_off + r->win.len;
        if (forward && r->next_win < WINDOW_MAX)
            r->next_win *= 2;
        else if (!forward)
            r->next_win = WINDOW_MIN;
        uint64_t len = n > r->next_win ? n : r->next_win;
        if (len > r->size - offset)
            len = r->size - offset;
        cd_err e;
        if (fetch(r, offset, len, NULL, &e) != S3_OK || r->win.len == 0)
            return -1;
    }
    uint64_t avail = r->win_off + r->win.len - offset;
    size_t k = avail < n ? (size_t)avail : n;
    memcpy(p, r->win.data + (offset - r->win_off), k);
    return (ssize_t)k;
}

static void s3s_close_reader(blob_reader *r)
{
    if (!r)
        return;
    free(r->key);
    cd_buf_free(&r->win);
    free(r);
}

/* Named objects and listing ----------------------------------------------------------- */

static int s3s_put_object(blobstore *bs, const char *key, const void *p, size_t n, cd_err *err)
{
    s3_store *s = (s3_store *)bs;
    int rc = BLOB_OK;
    size_t kl = strlen(key);
    const char *type =
        kl > 5 && !strcmp(key + kl - 5, ".json") ? "application/json" : "application/octet-stream";
    cd_err e = {0, ""};
    rc = s3_put_buffer(s->c, key, p, n, type, &e);
    return rc ? from_s3(rc, &e, err) : BLOB_OK;
}

static int s3s_get_object(blobstore *bs, const char *key, cd_buf *out, cd_err *err)
{
    s3_store *s = (s3_store *)bs;
    int rc = BLOB_OK;
    cd_err e = {0, ""};
    rc = s3_get_buffer(s->c, key, out, &e);
    if (rc == S3_NOT_FOUND)
        return cd_err_set(err, BLOB_NOT_FOUND, "blob store: no object %s", key);
    return rc ? from_s3(rc, &e, err) : BLOB_OK;
}

typedef struct list_ctx {
    int (*cb)(void *arg, const char *key);
    void *arg;
} list_ctx;

static int list_one(void *arg, const s3_list_entry *e)
{
    list_ctx *lc = arg;
    /* Keys outside the store's namespaces are not the store's business. */
    return blobstore_fs_key_ok(e->key) ? lc->cb(lc->arg, e->key) : 0;
}

static int s3s_list(blobstore *bs, const char *prefix, int (*cb)(void *arg, const char *key),
                    void *arg, cd_err *err)
{
    s3_store *s = (s3_store *)bs;
    list_ctx lc = {cb, arg};
    cd_err e = {0, ""};
    int rc = s3_list(s->c, prefix, NULL, 0, list_one, &lc, &e);
    return rc ? from_s3(rc == S3_NOT_FOUND ? S3_UNAVAILABLE : rc, &e, err) : BLOB_OK;
}

static void s3s_close(blobstore *bs)
{
    s3_store *s = (s3_store *)bs;
    if (!s)
        return;
    s3_client_free(s->c);
    free(s->spool_dir);
    free(s);
}

static const struct blobstore_ops s3_ops = {
    .name = "s3",
    .ping = s3s_ping,
    .has = s3s_has,
    .put_begin = s3s_put_begin,
    .put_write = s3s_put_write,
    .put_finish = s3s_put_finish,
    .put_abort = s3s_put_abort,
    .open = s3s_open,
    .read = s3s_read,
    .close_reader = s3s_close_reader,
    .put_object = s3s_put_object,
    .get_object = s3s_get_object,
    .list = s3s_list,
    .close = s3s_close,
};

blobstore *blobstore_open_s3(const char *endpoint, const char *bucket, const char *region,
                             bool path_style, cd_err *err)
{
    s3_config cfg = {0};
    cfg.endpoint = endpoint;
    cfg.bucket = bucket;
    cfg.region = region;
    cfg.path_style = path_style;
    cd_err e = {0, ""};
    if (s3_config_from_env(&cfg, &e) != S3_OK) {
        cd_err_set(err, BLOB_ERROR, "blob store: %s", e.msg);
        return NULL;
    }
    s3_client *c = s3_client_new(&cfg, &e);
    if (!c) {
        cd_err_set(err, BLOB_ERROR, "blob store: %s", e.msg);
        return NULL;
    }
    s3_store *s = cd_xcalloc(1, sizeof *s);
    s->base.ops = &s3_ops;
    s->c = c;
    const char *tmp = getenv("TMPDIR");
    s->spool_dir = cd_xstrdup(tmp && *tmp ? tmp : "/tmp");
    return &s->base;
}

void blobstore_s3_upload_unasked(blobstore *bs)
{
    if (bs && bs->ops == &s3_ops)
        ((s3_store *)bs)->no_lookup = true;
}
