/* SPDX-License-Identifier: MIT */
/*
 * folder — the one reader of a content folder, for `content push` (and
 * `content check`) and `contentd serve --watch` alike: every file the
 * ignore rules keep, with its content path checked against the CONTRACT's
 * rules and its SHA-256, and the front matter of its index.md as the
 * renderer reads it.  "Read as `content push` reads it" is so by
 * construction.
 *
 * Symlinks: one that resolves inside the folder is followed, as the
 * contents of its target (a file, or a directory walked like any other);
 * one that resolves outside, or nowhere, is refused.  A directory link
 * back to one of its own ancestors is refused as a loop.  Sockets, FIFOs
 * and devices are left out (listed in `skipped`).
 */
#ifndef CONTENTD_FOLDER_H
#define CONTENTD_FOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common.h"
#include "ignore.h"
#include "markdown.h"

/* What the folder's functions return. */
typedef enum folder_status {
    FOLDER_OK = 0,
    FOLDER_ERROR = -1,        /* cannot be read, or holds files that cannot be pushed */
    FOLDER_MISSING = -2,      /* folder_sha256_file(): the file does not exist */
    FOLDER_BAD_MARKDOWN = -3, /* folder_front_matter(): index.md cannot be rendered */
} folder_status;

typedef struct folder_file {
    char *path;                 /* the content path, relative, '/'-separated */
    char *src;                  /* the local file to read (a symlink's target) */
    char sha256[CD_SHA256_HEX]; /* lower-case hex */
    int64_t size;
    /* What the file looked like when hashed: a later scan that finds the
     * same reuses sha256 instead of reading the file again. */
    uint64_t dev, ino;
    int64_t mtime_ns, ctime_ns;
} folder_file;

typedef struct folder_tree {
    folder_file *files; /* sorted by path (byte order) */
    size_t n, cap;
    int64_t scanned_ns; /* the wall clock when the scan started */
    cd_buf problems;    /* one line per file that cannot be pushed */
    size_t nproblems;
    cd_buf skipped; /* one line per special file (socket, FIFO) left out */
    size_t nskipped;
} folder_tree;

/* Lists, validates and hashes every file under dir that ig does not
 * exclude.  prev (may be NULL) is an earlier scan of the same folder whose
 * hashes are reused for files that have not changed since.  Returns FOLDER_OK
 * with t filled, or FOLDER_ERROR when the folder cannot be read (err;
 * t->nproblems is 0)
 * or some files cannot be pushed (t->problems lists them, err holds the
 * first).  Release t with folder_tree_clear() in either case. */
folder_status folder_scan(const char *dir, const ignore_rules *ig, const folder_tree *prev,
                          folder_tree *t, cd_err *err) CD_WUR;
void folder_tree_clear(folder_tree *t);

/* The SHA-256 and size of the file at path: FOLDER_OK, FOLDER_MISSING when
 * it does not exist, FOLDER_ERROR on another error (err filled either way). */
folder_status folder_sha256_file(const char *path, char hex[CD_SHA256_HEX], int64_t *size,
                                 cd_err *err) CD_WUR;

/* Appends the bytes of the markdown file at path (at most 16 MiB) to b: 0,
 * with *missing set when it does not exist; -1 with err when it cannot be
 * read or is larger. */
folder_status folder_read_index(const char *path, cd_buf *b, bool *missing, cd_err *err) CD_WUR;

/* The front matter of the markdown file at path, as the renderer reads it
 * (its `data`; rendered by pool's workers, or in this process when pool is
 * NULL): FOLDER_OK with *data set (the caller frees it with
 * json_decref()), or left NULL when the file does not exist; FOLDER_ERROR
 * with err when it cannot be read; FOLDER_BAD_MARKDOWN with the renderer's error in
 * *me when it cannot be rendered. */
folder_status folder_front_matter(const char *path, md_pool *pool, json_t **data, md_error *me,
                                  cd_err *err) CD_WUR;

#endif
