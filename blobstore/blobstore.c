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

bool blobstore_sha_valid(const char *s)
{
    if (!s)
        return false;
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (i >= 64 || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return i == 64;
}

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

int blobstore_check_key(const char *key, cd_err *err)
{
    if (!blobstore_fs_key_ok(key))
        return cd_err_set(err, BLOB_ERROR, "blob store: invalid key");
    return BLOB_OK;
}

int blobstore_check_sha(const char *sha, cd_err *err)
{
    if (!blobstore_sha_valid(sha))
        return cd_err_set(err, BLOB_ERROR, "blob store: not a SHA-256 in lower-case hex");
    return BLOB_OK;
}

/* Uploads -------------------------------------------------------------------- */

void blob_upload_init(blob_upload *u, const char *sha, int64_t max, int fd,
                      int (*write_failed)(cd_err *e, const char *sha))
{
    memset(u, 0, sizeof *u);
    memcpy(u->sha, sha, 65);
    u->fd = fd;
    u->max = max;
    u->write_failed = write_failed;
    u->md = EVP_MD_CTX_new();
    if (!u->md || !EVP_DigestInit_ex(u->md, EVP_sha256(), NULL)) {
        fprintf(stderr, "contentd: cannot initialise SHA-256 (out of memory)\n");
        abort();
    }
}

int blob_upload_write(blob_upload *u, const void *p, size_t n, cd_err *err)
{
    if (u->failed)
        return cd_err_set(err, u->failed, "%s", u->failure.msg);
    if (u->max >= 0 && (uint64_t)u->written + n > (uint64_t)u->max) {
        u->failed = cd_err_set(&u->failure, BLOB_TOO_LARGE,
                               "blob store: the blob is larger than %" PRId64 " bytes", u->max);
    } else if (u->fd >= 0 && cd_write_all(u->fd, p, n) < 0) {
        u->failed = u->write_failed(&u->failure, u->sha);
    } else {
        EVP_DigestUpdate(u->md, p, n);
        u->written += (int64_t)n;
        return BLOB_OK;
    }
    return cd_err_set(err, u->failed, "%s", u->failure.msg);
}

int blob_upload_verify(blob_upload *u, cd_err *err)
{
    if (u->failed)
        return cd_err_set(err, u->failed, "%s", u->failure.msg);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    EVP_DigestFinal_ex(u->md, d, &dn);
    cd_hex(d, dn, hex);
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
    EVP_MD_CTX_free(u->md);
    u->md = NULL;
}
