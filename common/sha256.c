/* SPDX-License-Identifier: MIT */
/*
 * SHA-256, the name of every blob: a streaming digest for uploads and
 * folder scans, and the one-shot form for tokens and small buffers, on
 * libcrypto.  libcrypto fails here only when it cannot allocate, which
 * aborts like every other allocation failure.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

struct cd_sha256 {
    EVP_MD_CTX *md;
};

static void fail(void)
{
    fprintf(stderr, "contentd: libcrypto cannot compute SHA-256\n");
    abort();
}

cd_sha256 *cd_sha256_new(void)
{
    cd_sha256 *c = cd_xmalloc(sizeof *c);
    c->md = EVP_MD_CTX_new();
    if (!c->md || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL))
        fail();
    return c;
}

void cd_sha256_update(cd_sha256 *c, const void *p, size_t n)
{
    if (n && !EVP_DigestUpdate(c->md, p, n))
        fail();
}

void cd_sha256_final(cd_sha256 *c, char out[CD_SHA256_HEX])
{
    unsigned char d[32];
    unsigned int n = 0;
    if (!EVP_DigestFinal_ex(c->md, d, &n) || n != 32)
        fail();
    cd_hex(d, 32, out);
    cd_sha256_free(c);
}

void cd_sha256_free(cd_sha256 *c)
{
    if (!c)
        return;
    EVP_MD_CTX_free(c->md);
    free(c);
}

void cd_sha256_hex(const void *p, size_t n, char out[CD_SHA256_HEX])
{
    cd_sha256 *c = cd_sha256_new();
    cd_sha256_update(c, p, n);
    cd_sha256_final(c, out);
}

int cd_sha256_fd(int fd, char out[CD_SHA256_HEX], int64_t *size)
{
    cd_sha256 *c = cd_sha256_new();
    char buf[65536];
    int64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cd_sha256_free(c);
            return -1;
        }
        if (n == 0)
            break;
        cd_sha256_update(c, buf, (size_t)n);
        total += n;
    }
    cd_sha256_final(c, out);
    if (size)
        *size = total;
    return 0;
}
