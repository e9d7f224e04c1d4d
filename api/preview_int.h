/* SPDX-License-Identifier: MIT */
/*
 * The preview page's files (web/), embedded in the binary at build time by
 * gen_assets.py: one table of name, media type, entity tag and bytes.  Only
 * preview.c reads it.
 */
#ifndef CONTENTD_PREVIEW_INT_H
#define CONTENTD_PREVIEW_INT_H

#include <stddef.h>

typedef struct api_asset {
    const char *name;         /* the file name in web/, e.g. "main.js" */
    const char *content_type; /* with a charset for text */
    const char *etag;         /* "\"<sha256 of the bytes>\"" */
    const unsigned char *data;
    size_t size;
} api_asset;

/* Generated (preview_assets.c): static storage, never freed. */
extern const api_asset api_preview_assets[];
extern const size_t api_preview_assets_n;

#endif
