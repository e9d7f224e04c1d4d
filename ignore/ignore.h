/* SPDX-License-Identifier: MIT */
/*
 * ignore — what never leaves an author's content folder: `.git`, editors'
 * swap, backup and atomic-save files (built-in rules), and the patterns of
 * the folder's `.contentignore` with gitignore semantics.  Both watch modes
 * and `content push` use the same rules: the client (`cli/`) when it scans
 * and watches a folder, the server (`contentd serve --watch`) when it
 * watches and commits item folders.  docs/client.md ("What a push leaves
 * out") lists the rules and their syntax.
 *
 * A rule set is immutable once built and may be read from several threads.
 */
#ifndef CONTENTD_IGNORE_H
#define CONTENTD_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

typedef struct ignore_rules ignore_rules;

/* What ignore_load() and ignore_load_folder() return; err->code is the
 * same status. */
typedef enum ignore_status {
    IGNORE_OK = 0,
    IGNORE_UNREADABLE = -1, /* the file exists but cannot be read */
} ignore_status;

/* An empty rule set; `builtins` adds the hard `.git` rule and the
 * editor-file rules.  Free it with ignore_free(). */
ignore_rules *ignore_new(bool builtins);
void ignore_free(ignore_rules *ig);
/* Adds one line of .contentignore syntax (comments and blanks are skipped). */
void ignore_add_line(ignore_rules *ig, const char *line, size_t n);
/* Adds every line of file; a missing file adds nothing and is not an
 * error.  IGNORE_UNREADABLE (err says why) leaves the lines read before
 * the failure in ig. */
ignore_status ignore_load(ignore_rules *ig, const char *file, cd_err *err) CD_WUR;
/* The rules of the content folder dir: the built-in ones, then
 * dir/.contentignore.  *out is always set (the caller frees it with
 * ignore_free()); when the file exists but cannot be read, it holds the
 * built-in rules only and the call returns IGNORE_UNREADABLE with err
 * saying why. */
ignore_status ignore_load_folder(const char *dir, ignore_rules **out, cd_err *err) CD_WUR;
/* Whether the rules exclude path itself (relative, '/'-separated),
 * without looking at its parent directories. */
bool ignore_match(const ignore_rules *ig, const char *path, bool is_dir);
/* Whether path is excluded, itself or through an excluded parent
 * directory (which nothing can re-include). */
bool ignore_path(const ignore_rules *ig, const char *path, bool is_dir);

#endif
