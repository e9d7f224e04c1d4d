/* SPDX-License-Identifier: MIT */
/*
 * gzip content-encoding with zlib, in two forms:
 *
 * - a whole body (cd_gzip): one gzip member, for a file or an AST reply;
 * - a stream made of pieces compressed once each (cd_gz_piece), that can be
 *   concatenated in any order after one header (CD_GZ_HEADER) and closed by
 *   cd_gz_trailer(): every piece is raw deflate from an empty dictionary,
 *   ended by a full flush (byte-aligned, no final block), so the same
 *   compressed bytes of an event serve every subscriber of a stream.  The
 *   trailer needs the CRC-32 and length of everything sent, which a stream
 *   keeps with cd_gz_crc_add() from each piece's own CRC.
 */
#ifndef CONTENTD_GZ_H
#define CONTENTD_GZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* The 10-byte gzip header of a stream (no name, no time, OS unknown). */
#define CD_GZ_HEADER     "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
#define CD_GZ_HEADER_LEN 10
/* The longest cd_gz_trailer(): a final empty block and CRC-32, ISIZE. */
#define CD_GZ_TRAILER_MAX 10

/* Appends the gzip member of in[0..n) to out. */
void cd_gzip(const void *in, size_t n, cd_buf *out);
/* Appends in[0..n) as a piece of a gzip stream (see above) to out;
 * returns the CRC-32 of in. */
uint32_t cd_gz_piece(const void *in, size_t n, cd_buf *out);
/* The CRC-32 of a stream after a piece of n bytes whose CRC-32 is piece. */
uint32_t cd_gz_crc_add(uint32_t crc, uint32_t piece, uint64_t n);
/* Writes the end of a stream whose pieces had crc and total length n to
 * out[CD_GZ_TRAILER_MAX]; returns its length. */
size_t cd_gz_trailer(uint32_t crc, uint64_t n, unsigned char *out);
/* Whether an Accept-Encoding header value accepts gzip (a q of 0 refuses). */
bool cd_gz_accepted(const char *accept_encoding);
/* Whether a file of this content type is worth compressing (text, JSON,
 * SVG, JavaScript, XML, markdown…; not images, archives or fonts). */
bool cd_gz_compressible(const char *content_type);

#endif
