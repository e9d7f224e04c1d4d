/* SPDX-License-Identifier: MIT */
/*
 * gzip with zlib: whole bodies and pieces of a shared stream (gz.h).
 */
#include "gz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* Events of several megabytes (a whole course's snapshot) are compressed
 * at the fastest level: they are sent once per subscriber, not often. */
#define LEVEL_BIG_BYTES (4u << 20)

static int level_for(size_t n)
{
    return n > LEVEL_BIG_BYTES ? 1 : Z_DEFAULT_COMPRESSION;
}

/* Runs deflate over in[0..n) with flush mode `flush` into out. */
static void run(z_stream *z, const void *in, size_t n, int flush, cd_buf *out)
{
    z->next_in = (Bytef *)(uintptr_t)in;
    size_t left = n;
    for (;;) {
        uInt chunk = left > (1u << 30) ? 1u << 30 : (uInt)left;
        z->avail_in = chunk;
        left -= chunk;
        int f = left ? Z_NO_FLUSH : flush;
        do {
            cd_buf_grow(out, deflateBound(z, z->avail_in) + 64);
            z->next_out = (Bytef *)out->data + out->len;
            z->avail_out = (uInt)(out->cap - out->len - 1);
            size_t before = z->avail_out;
            int rc = deflate(z, f);
            if (rc == Z_STREAM_ERROR)
                abort(); /* only on a corrupt z_stream: a bug */
            out->len += before - z->avail_out;
        } while (z->avail_out == 0 || z->avail_in);
        if (!left)
            break;
    }
    out->data[out->len] = '\0';
}

static void deflate_with(const void *in, size_t n, int window_bits, int flush, cd_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level_for(n), Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort(); /* out of memory */
    run(&z, in, n, flush, out);
    deflateEnd(&z);
}

void cd_gzip(const void *in, size_t n, cd_buf *out)
{
    deflate_with(in, n, 15 + 16, Z_FINISH, out);
}

uint32_t cd_gz_piece(const void *in, size_t n, cd_buf *out)
{
    deflate_with(in, n, -15, Z_FULL_FLUSH, out);
    return (uint32_t)crc32_z(0, in, n);
}

uint32_t cd_gz_crc_add(uint32_t crc, uint32_t piece, uint64_t n)
{
    return (uint32_t)crc32_combine64(crc, piece, (z_off64_t)n);
}

size_t cd_gz_trailer(uint32_t crc, uint64_t n, unsigned char *out)
{
    /* A final fixed-Huffman block holding only end-of-block: bits 1, 01,
     * 0000000, byte-aligned. */
    out[0] = 0x03;
    out[1] = 0x00;
    for (int i = 0; i < 4; i++) {
        out[2 + i] = (unsigned char)(crc >> (8 * i));
        out[6 + i] = (unsigned char)(n >> (8 * i)); /* ISIZE: n mod 2^32 */
    }
    return 10;
}

bool cd_gz_accepted(const char *h)
{
    while (h && *h) {
        while (*h == ' ' || *h == '\t' || *h == ',')
            h++;
        size_t n = strcspn(h, ",;");
        bool gzip = (n == 4 && !strncasecmp(h, "gzip", 4)) || (n == 1 && *h == '*');
        h += n;
        double q = 1;
        while (*h == ';') { /* parameters: only q matters */
            h++;
            while (*h == ' ')
                h++;
            if ((h[0] == 'q' || h[0] == 'Q') && h[1] == '=')
                q = strtod(h + 2, NULL);
            h += strcspn(h, ",;");
        }
        if (gzip && q > 0)
            return true;
    }
    return false;
}

bool cd_gz_compressible(const char *ct)
{
    if (!ct)
        return false;
    static const char *const types[] = {
        "text/",
        "application/json",
        "application/javascript",
        "application/xml",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/wasm",
        "application/x-javascript",
        "application/ld+json",
        "application/manifest+json",
        "application/yaml",
        "application/toml",
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strncasecmp(ct, types[i], strlen(types[i])))
            return true;
    size_t n = strcspn(ct, ";");
    return n > 5 && !strncasecmp(ct + n - 5, "+json", 5);
}
