/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the catalog's backends and nothing else.
 */
#ifndef CONTENTD_CATALOG_INT_H
#define CONTENTD_CATALOG_INT_H

#include "catalog.h"

/* True when s is 64 lower-case hex digits. */
bool catalog_sha_valid(const char *s);

/* Checks a commit's file list (paths present, digests valid, sizes not
 * negative, no path twice) and returns it as an array of pointers sorted by
 * path (byte order), which the caller frees with free(); NULL with err
 * filled (CAT_ERROR) when the list is unacceptable. */
const catalog_file **catalog_files_sorted(const catalog_file *files, size_t n, cd_err *err);

/* Calls c->on_change, if set. */
void catalog_emit(catalog *c, catalog_event ev, const char *kind, const char *name,
                  int64_t version);

#endif
