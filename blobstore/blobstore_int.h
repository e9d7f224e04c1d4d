/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the blob store's backends and nothing else.
 */
#ifndef CONTENTD_BLOBSTORE_INT_H
#define CONTENTD_BLOBSTORE_INT_H

#include "blobstore.h"

/* Longest key any backend accepts (S3 allows 1024 bytes). */
#define BLOB_KEY_MAX 1024

/* True when key is a relative, '/'-separated key with no empty segment and
 * no segment starting with '.' (which also refuses "." and ".."), no
 * backslash and no control character, at most BLOB_KEY_MAX bytes.  The
 * folder backend turns keys into paths, so this is its line of defence
 * against a key escaping the store. */
bool blobstore_key_valid(const char *key);

/* The folder backend, shared by blobstore_fs.c and blobstore_fs_list.c. */
typedef struct fs_store {
    blobstore base;
    int root; /* the data folder */
    int tmp;  /* <data>/.tmp, the temporary files */
} fs_store;

/* Fills err from errno for an operation on key and returns the status:
 * BLOB_UNAVAILABLE for a full or failing disk, BLOB_ERROR otherwise. */
int blobstore_fs_io_err(cd_err *err, const char *what, const char *key);
/* True for a valid key in the folder store's namespaces (blobs/, manifests/). */
bool blobstore_fs_key_ok(const char *key);
/* The list operation of the folder backend. */
int blobstore_fs_list(blobstore *bs, const char *prefix, int (*cb)(void *arg, const char *key),
                      void *arg, cd_err *err);

#endif
