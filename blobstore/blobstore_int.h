/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the blob store's backends and nothing else.
 */
#ifndef CONTENTD_BLOBSTORE_INT_H
#define CONTENTD_BLOBSTORE_INT_H

#include "blobstore.h"

/* A backend: blobstore.c calls it once the arguments are checked; the
 * struct blobstore is the first member of the backend's own struct. */
struct blobstore_ops {
    const char *name; /* "fs", "s3" */
    blob_status (*ping)(blobstore *s, cd_err *err);
    /* Whether blob sha (lower-case hex) is stored. */
    blob_status (*has)(blobstore *s, const char *sha, bool *present, cd_err *err);
    /* A streaming upload of blob `sha`: the bytes are hashed while written
     * and nothing becomes visible unless put_finish() finds the digest
     * equal to sha.  max_size bounds the upload (BLOB_TOO_LARGE; negative:
     * no limit).  Putting a blob that is already stored is not an error. */
    blob_status (*put_begin)(blobstore *s, const char *sha, int64_t max_size, blob_writer **w,
                             cd_err *err);
    /* After an error, end the upload with put_abort() (or put_finish(),
     * which repeats the error). */
    blob_status (*put_write)(blob_writer *w, const void *p, size_t n, cd_err *err);
    /* Verifies and publishes; frees w whatever the outcome. */
    blob_status (*put_finish)(blob_writer *w, cd_err *err);
    /* Drops the upload; frees w. */
    void (*put_abort)(blob_writer *w);
    /* Opens blob sha for reading; *size is its length.  Release *r with
     * close_reader(). */
    blob_status (*open)(blobstore *s, const char *sha, blob_reader **r, int64_t *size, cd_err *err);
    /* Reads up to n bytes at offset; returns bytes read (0 at the end) or <0. */
    ssize_t (*read)(blob_reader *r, uint64_t offset, void *p, size_t n);
    void (*close_reader)(blob_reader *r);
    /* Small named objects (manifests): whole-buffer put and get.  get_object
     * replaces the contents of out, which stays the caller's. */
    blob_status (*put_object)(blobstore *s, const char *key, const void *p, size_t n, cd_err *err);
    blob_status (*get_object)(blobstore *s, const char *key, cd_buf *out, cd_err *err);
    /* As put_object, but the key may be durable only once settle() names
     * it; NULL: put_object. */
    blob_status (*stage_object)(blobstore *s, const char *key, const void *p, size_t n,
                                cd_err *err);
    /* Makes keys[0..n) durable; NULL: they are once stored. */
    blob_status (*settle)(blobstore *s, const char *const *keys, size_t n, cd_err *err);
    /* Calls cb for every key under prefix, in lexical order; a non-zero
     * return from cb stops the listing. */
    blob_status (*list)(blobstore *s, const char *prefix, int (*cb)(void *arg, const char *key),
                        void *arg, cd_err *err);
    void (*close)(blobstore *s);
};

struct blobstore {
    const struct blobstore_ops *ops;
    cd_door door;
};
_Static_assert(BLOBSTORE_OP_COUNT <= CD_DOOR_OPS_MAX, "the door times every op");

/* Sets up the part of a backend's store that blobstore.c owns: the ops
 * table and the door (named ops->name) with empty histograms. */
void blobstore_init(blobstore *s, const struct blobstore_ops *ops);

/* Longest key any backend accepts (S3 allows 1024 bytes). */
#define BLOB_KEY_MAX 1024

/* True when key is a relative, '/'-separated key with no empty segment and
 * no segment starting with '.' (which also refuses "." and ".."), no
 * backslash and no control character, at most BLOB_KEY_MAX bytes.  The
 * folder backend turns keys into paths, so this is its line of defence
 * against a key escaping the store. */
bool blobstore_key_valid(const char *key);

/* Argument checks of the ops: BLOB_OK, or BLOB_ERROR with err filled. */
blob_status blobstore_check_key(const char *key, cd_err *err);
blob_status blobstore_check_sha(const char *sha, cd_err *err);

/* What every backend's blob_writer does while the bytes come in: bound them
 * by max, hash them, and write them to fd (the backend's temporary or spool
 * file; -1 when the blob is stored already and is only hashed).  The first
 * error sticks: every later write and the check at the end repeat it.  A
 * backend's struct blob_writer holds one and adds what it needs to publish
 * the bytes. */
typedef struct blob_upload {
    char sha[CD_SHA256_HEX];
    int fd;
    cd_sha256 *md;
    int64_t max; /* negative: no limit */
    int64_t written;
    blob_status failed; /* the first put_write error, repeated by put_finish */
    cd_err failure;
    /* Fills e for a write to fd that failed (errno says why) and returns
     * the status. */
    blob_status (*write_failed)(cd_err *e, const char *sha);
} blob_upload;

/* Starts hashing an upload of blob sha; fd becomes u's, closed by
 * blob_upload_release(). */
void blob_upload_init(blob_upload *u, const char *sha, int64_t max, int fd,
                      blob_status (*write_failed)(cd_err *e, const char *sha));
/* The put_write op: bounds, writes and hashes n bytes at p. */
blob_status blob_upload_write(blob_upload *u, const void *p, size_t n, cd_err *err);
/* The check of put_finish: the sticky error if any, else BLOB_DIGEST_MISMATCH
 * unless the bytes hash to u->sha.  BLOB_OK: the backend may publish. */
blob_status blob_upload_verify(blob_upload *u, cd_err *err);
/* Closes fd (when open) and frees the hash state; u itself stays the
 * caller's. */
void blob_upload_release(blob_upload *u);

/* The folder backend, shared by blobstore_fs.c, blobstore_fs_list.c and
 * blobstore_fs_stage.c. */
typedef struct fs_stage fs_stage;
typedef struct fs_store {
    blobstore base;
    int root;        /* the data folder */
    int tmp;         /* <data>/.tmp, the temporary files */
    fs_stage *stage; /* the staged objects (blobstore_fs_stage.c) */
} fs_store;

/* fsync of folder rel ("" for the root) of root, so that a rename or mkdir
 * in it survives a crash.  0 or -1 with errno. */
int blobstore_fs_sync_dir(int root, const char *rel);
/* Makes the temporary file `name` (open as fd) the object `key`, durable
 * before it returns: fdatasync, rename, fsync of the receiving folder. */
blob_status blobstore_fs_publish(fs_store *s, int fd, const char *name, const char *key,
                                 cd_err *err);
/* Moves the durable temporary file `name` to key, making key's folders
 * that are missing (each made durable); the rename itself is durable only
 * once key's folder is fsynced. */
blob_status blobstore_fs_move(fs_store *s, const char *name, const char *key, cd_err *err);

/* The staged objects of the folder store (blobstore_fs_stage.c): written
 * to their temporary file and not yet synced, readable at once, durable
 * when fs_settle() names them (or when the store is closed). */
fs_stage *fs_stage_new(void);
/* Publishes every staged object (blobstore_fs_publish()) and frees st. */
void fs_stage_free(fs_store *s, fs_stage *st);
/* Stages the temporary file `name` (fd, which stays the caller's: the
 * stage keeps a duplicate, and with it the file's lock) as key.  Returns
 * false, staging nothing, when the stage is full: the caller publishes. */
bool fs_stage_add(fs_store *s, int fd, const char *name, const char *key);
/* A new descriptor (the caller closes it) of the staged object key, or -1
 * when key is not staged. */
int fs_stage_dup(fs_store *s, const char *key);
/* The settle op of the folder store. */
blob_status fs_settle(blobstore *bs, const char *const *keys, size_t n, cd_err *err);

/* Fills err from errno for an operation on key and returns the status:
 * BLOB_UNAVAILABLE for a full or failing disk, BLOB_ERROR otherwise. */
blob_status blobstore_fs_io_err(cd_err *err, const char *what, const char *key);
/* True for a valid key in the folder store's namespaces (blobs/, manifests/). */
bool blobstore_fs_key_ok(const char *key);
/* The list operation of the folder backend. */
blob_status blobstore_fs_list(blobstore *bs, const char *prefix,
                              int (*cb)(void *arg, const char *key), void *arg, cd_err *err);

#endif
