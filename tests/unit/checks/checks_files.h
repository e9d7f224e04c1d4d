/* SPDX-License-Identifier: MIT */
/*
 * The files of the checks' unit tests (test_checks.c, test_checks_cache.c):
 * a file of an item held in memory, and the first bytes of each image
 * type the checks recognise by content.
 */
#ifndef CONTENTD_TEST_CHECKS_FILES_H
#define CONTENTD_TEST_CHECKS_FILES_H

#include <stddef.h>
#include <string.h>

/* The tests name a file's len only when its bytes hold a NUL. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

typedef struct tfile {
    const char *path;
    const char *data;
    size_t len; /* 0: strlen(data) */
} tfile;

static inline size_t file_len(const tfile *f)
{
    return f->len ? f->len : strlen(f->data);
}

#define PNG  "\x89PNG\r\n\x1a\n...."
#define JPEG "\xff\xd8\xff\xe0...."
#define GIF  "GIF89a...."
#define WEBP "RIFF....WEBPVP8 "
#define AVIF                                                                                       \
    "\x00\x00\x00\x1c"                                                                             \
    "ftypavif\x00\x00\x00\x00"                                                                     \
    "avifmif1miaf"
#define SVG "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"

#endif
