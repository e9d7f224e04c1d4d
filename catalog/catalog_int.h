/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the catalog's backends and nothing else.
 */
#ifndef CONTENTD_CATALOG_INT_H
#define CONTENTD_CATALOG_INT_H

#include "catalog.h"

/* True when s is 64 lower-case hex digits. */

/* The checks of the ops' arguments that every backend makes, before it
 * touches its store: CAT_OK, or CAT_ERROR with err filled. */
/* item_create: a kind of the contract, a valid name and an owner. */
int catalog_check_new_item(const catalog_item *it, cd_err *err);
/* item_update: visibility is CAT_PRIVATE, CAT_PUBLIC or negative (unchanged). */
int catalog_check_visibility(int visibility, cd_err *err);
/* token_add: the token's SHA-256 in lower-case hex, and a user. */
int catalog_check_token(const char *token_sha256, const char *user, cd_err *err);

/* Checks a commit's file list (paths present, digests valid, sizes not
 * negative, no path twice) and returns it as an array of pointers sorted by
 * path (byte order), which the caller frees with free(); NULL with err
 * filled (CAT_ERROR) when the list is unacceptable. */
const catalog_file **catalog_files_sorted(const catalog_file *files, size_t n, cd_err *err);

/* Calls c->on_change, if set. */
void catalog_emit(catalog *c, catalog_event ev, const char *kind, const char *name,
                  int64_t version);

#endif
