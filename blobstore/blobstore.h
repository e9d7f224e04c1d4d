/* SPDX-License-Identifier: MIT */
/*
 * blobstore — where file contents live: content-addressed blobs under
 * `blobs/<sha[0:2]>/<sha>` and version manifests under
 * `manifests/<KIND>/<NAME>/<version>.json`, with the same key layout in
 * every backend.  The server holds a `blobstore *` and never asks which
 * backend it is: a folder (blobstore_fs.c: temporary file, fsync, rename)
 * or an S3 bucket (blobstore_s3.c, on s3/).
 *
 * Thread-safe.  Functions return 0 or a negative blob_status and fill err.
 */
#ifndef CONTENTD_BLOBSTORE_H
#define CONTENTD_BLOBSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef enum blob_status {
    BLOB_OK = 0,
    BLOB_NOT_FOUND = -1,
    BLOB_DIGEST_MISMATCH = -2, /* put_finish: the bytes do not hash to the name */
    BLOB_TOO_LARGE = -3,       /* write: past the store's size limit */
    BLOB_UNAVAILABLE = -4,     /* the backend cannot be reached */
    BLOB_ERROR = -5,
} blob_status;

typedef struct blobstore blobstore;
typedef struct blob_writer blob_writer;
typedef struct blob_reader blob_reader;

/* The calls, each through blobstore.c: it checks the arguments and times
 * the call (blobstore_door()).  Thread-safe. */
#define BLOBSTORE_OPS(X)                                                                           \
    X(ping) X(has) X(put_begin) X(put_finish) X(open) X(put_object) X(get_object) X(list) X(settle)
#define BLOBSTORE_OP_(n) BLOBSTORE_OP_##n,
typedef enum blobstore_op { BLOBSTORE_OPS(BLOBSTORE_OP_) BLOBSTORE_OP_COUNT } blobstore_op;
/* The door's record of the calls since the store was opened: the backend
 * ("fs" or "s3"), the ops' names and latency histograms by blobstore_op. */
const cd_door *blobstore_door(const blobstore *s);
blob_status blobstore_ping(blobstore *s, cd_err *err) CD_WUR;
/* Whether blob sha (lower-case hex) is stored. */
blob_status blobstore_has(blobstore *s, const char *sha, bool *present, cd_err *err) CD_WUR;
/* A streaming upload of blob `sha`: the bytes are hashed while written and
 * nothing becomes visible unless blobstore_put_finish() finds the digest
 * equal to sha.  max_size bounds the upload (BLOB_TOO_LARGE; negative: no
 * limit).  Putting a blob that is already stored is not an error.  On
 * success *w is ended by put_finish or put_abort. */
blob_status blobstore_put_begin(blobstore *s, const char *sha, int64_t max_size, blob_writer **w,
                                cd_err *err) CD_WUR;
/* After an error, end the upload with put_abort() (or put_finish(), which
 * repeats the error). */
blob_status blobstore_put_write(blobstore *s, blob_writer *w, const void *p, size_t n,
                                cd_err *err) CD_WUR;
/* Verifies and publishes (readable at once; durable once settled, see
 * blobstore_settle()); frees w whatever the outcome. */
blob_status blobstore_put_finish(blobstore *s, blob_writer *w, cd_err *err) CD_WUR;
/* Drops the upload; frees w. */
void blobstore_put_abort(blobstore *s, blob_writer *w);
/* Opens blob sha for reading; *size is its length.  Release *r with
 * blobstore_close_reader(). */
blob_status blobstore_open(blobstore *s, const char *sha, blob_reader **r, int64_t *size,
                           cd_err *err) CD_WUR;
/* Reads up to n bytes at offset; returns bytes read (0 at the end) or <0. */
ssize_t blobstore_read(blobstore *s, blob_reader *r, uint64_t offset, void *p, size_t n);
void blobstore_close_reader(blobstore *s, blob_reader *r);
/* Small named objects (manifests): whole-buffer put and get.  get_object
 * replaces the contents of out, which stays the caller's. */
blob_status blobstore_put_object(blobstore *s, const char *key, const void *p, size_t n,
                                 cd_err *err) CD_WUR;
blob_status blobstore_get_object(blobstore *s, const char *key, cd_buf *out, cd_err *err) CD_WUR;
/* Durable in one step (docs/operations.md, "What is synced when").  A blob
 * stored by put_finish(), or an object by stage_object(), is readable at
 * once but a backend may make it durable only when blobstore_settle()
 * names its key, so that the objects of one version are synced together:
 * the folder store keeps up to a few dozen such objects in this process
 * (more are made durable as they are stored); S3 makes each one durable
 * when stored.  stage_object: as put_object, with that deferral. */
blob_status blobstore_stage_object(blobstore *s, const char *key, const void *p, size_t n,
                                   cd_err *err) CD_WUR;
/* Makes every key of keys[0..n) that is stored durable, bytes and name,
 * before it returns: what the catalog is about to name.  Keys that are not
 * stored are skipped (the caller checked what it needs). */
blob_status blobstore_settle(blobstore *s, const char *const *keys, size_t n, cd_err *err) CD_WUR;
/* Calls cb for every key under prefix, in lexical order; a non-zero return
 * from cb stops the listing. */
blob_status blobstore_list(blobstore *s, const char *prefix, int (*cb)(void *arg, const char *key),
                           void *arg, cd_err *err) CD_WUR;
/* Closes the store; NULL is a no-op. */
void blobstore_close(blobstore *s);

/* The folder backend rooted at data_dir (blobs/ and manifests/ in it).
 * Returns NULL and fills err on failure; close with blobstore_close(). */
blobstore *blobstore_open_fs(const char *data_dir, cd_err *err);

/* The S3 backend (blobstore_s3.c): the bucket `bucket` at endpoint
 * ("https://host[:port]"; http for test servers), region NULL for us-east-1
 * ("auto" for R2 and Tigris), path-style or virtual-host addressing.
 * Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, tuning from the CONTENTD_S3_* variables (docs/s3.md),
 * and uploads are spooled under $TMPDIR (else /tmp).  Sends no request:
 * ping() checks the bucket.  Returns NULL and fills err when the
 * configuration is unusable; close with blobstore_close(). */
blobstore *blobstore_open_s3(const char *endpoint, const char *bucket, const char *region,
                             bool path_style, cd_err *err);

/* What the server knows to be stored (blobstore_known.c, docs/s3.md "What
 * the server knows"): a store in front of `inner` (which it owns from now
 * on: blobstore_close() closes both) that remembers every blob it saw
 * stored, so has() asks inner only about the others, and keeps the bytes
 * of small blobs it uploaded in the last minutes, so open() serves them.
 * max_blobs bounds the set (0: 1,048,576, about 60-110 bytes each); the
 * CONTENTD_KNOWN_BLOBS variable sets it at start-up.  Close with
 * blobstore_close(). */
blobstore *blobstore_known_wrap(blobstore *inner, size_t max_blobs);
/* How long s keeps the bytes of the blobs it uploaded (default 10 minutes;
 * 0: it keeps none, and every read goes to the store below); the
 * CONTENTD_RECENT_BYTES_SECONDS variable sets it at start-up.  Call it
 * before s is used.  No-op on a store without a known set. */
void blobstore_known_set_fresh_ms(blobstore *s, int64_t ms);
/* True when s keeps a known set (blobstore_known_wrap()). */
bool blobstore_knows(blobstore *s);
/* 1 when s knows blob sha to be stored, 0 when it does not know, -1 when s
 * keeps no known set; no request is sent. */
int blobstore_known_state(blobstore *s, const char *sha);
/* Records that blob sha is stored (a committed version names it); size
 * negative when not known.  No-op on a store without a known set. */
void blobstore_known_add(blobstore *s, const char *sha, int64_t size);
/* Forgets blob sha (found missing): the next question goes to the store. */
void blobstore_known_forget(blobstore *s, const char *sha);
/* True exactly once per store with a known set: the caller then fills
 * it from the catalog (blobstore_known_add()). */
bool blobstore_known_first(blobstore *s);
/* Whether a listing of all of s's blobs was found too long to be worth
 * it (blobstore_known_set_crowded()); stores without a known set are. */
bool blobstore_known_crowded(blobstore *s);
void blobstore_known_set_crowded(blobstore *s);
/* How many blobs s knows to be stored (0 without a known set). */
size_t blobstore_known_count(blobstore *s);

/* Makes put_begin of the S3 store s upload without asking S3 first whether
 * the blob is stored (one request less per upload, and an upload of the
 * same bytes again for a blob that was): for a store behind
 * blobstore_known_wrap(), whose callers ask before they upload.  No-op on
 * another backend. */
void blobstore_s3_upload_unasked(blobstore *s);

/* Calls cb for every manifest in the store (`manifests/KIND/NAME/N.json`),
 * item by item in key order and, within an item, by increasing version, with
 * the manifest's bytes (valid during the call).  This is what
 * `contentd rebuild-catalog` replays into an empty catalog.  Keys that do not
 * have that shape are skipped.  A non-zero return from cb stops the walk
 * (which still returns BLOB_OK: the callback keeps its own reason, as with
 * blobstore_list()).  Works on every backend. */
blob_status blobstore_each_manifest(blobstore *s,
                                    int (*cb)(void *arg, const char *kind, const char *name,
                                              int64_t version, const char *json, size_t len),
                                    void *arg, cd_err *err);

/* "blobs/ab/abcd…" for sha; the caller frees the result. */
char *blobstore_blob_key(const char *sha);
/* "manifests/KIND/NAME/VERSION.json"; the caller frees the result. */
char *blobstore_manifest_key(const char *kind, const char *name, int64_t version);
/* "items/KIND/NAME.json", the item record (owner, title, visibility) that a
 * title or visibility change writes, so that a rebuild restores the latest
 * state even when no version followed it; the caller frees the result. */
char *blobstore_item_key(const char *kind, const char *name);
/* "review/KIND/NAME.json", the review record (published version, members,
 * share links by their SHA-256) that every change of them writes before the
 * catalog changes, for the same reason; the caller frees the result. */
char *blobstore_review_key(const char *kind, const char *name);

#endif
