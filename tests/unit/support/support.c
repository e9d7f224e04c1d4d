/* SPDX-License-Identifier: MIT */
/* The unit tests' shared helpers (support.h). */
#include "support.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

void ts_tmpdir(char *dir, size_t size, const char *what)
{
    int n = snprintf(dir, size, "/tmp/contentd-%s-XXXXXX", what);
    assert_true(n > 0 && (size_t)n < size);
    assert_non_null(mkdtemp(dir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void ts_rmtree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void ts_gunzip(const cd_buf *in, cd_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
    z.next_in = (Bytef *)in->data;
    z.avail_in = (uInt)in->len;
    int rc;
    do {
        cd_buf_grow(out, 4096);
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = 4095;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += 4095 - z.avail_out;
    } while (rc == Z_OK);
    assert_int_equal(rc, Z_STREAM_END);
    assert_int_equal(z.avail_in, 0);
    inflateEnd(&z);
    out->data[out->len] = '\0';
}
