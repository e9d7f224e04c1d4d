/* SPDX-License-Identifier: MIT */
/*
 * Helpers every blob store backend shares: the key layout (blobs and
 * manifests) and the validation of digests and keys.
 */
#include "blobstore_int.h"

#include <inttypes.h>
#include <string.h>

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
