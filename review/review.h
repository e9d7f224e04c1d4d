/* SPDX-License-Identifier: MIT */
/*
 * review — what review of a content item needs to know about a document
 * beyond its AST: its blocks.  A block is a top-level node of the AST body
 * (docs/ast.md), named by a key that survives edits elsewhere in the
 * document (a heading's id, or the section and position of any other
 * block) and fingerprinted by the SHA-256 of its JSON.  The diff between
 * two versions aligns blocks by key, and comments anchor to a key.
 *
 * The key, as docs/review.md states it for authors:
 *   - a heading (h1-h6) with an id: that id;
 *   - any other block: SECTION/TAG-N, SECTION the key of the nearest heading
 *     with an id before it ("top" before the first), TAG the node's tag
 *     ("text" for a text node) and N its count among the blocks of that TAG
 *     in that section, from 1 ("introduction/p-2");
 *   - a key that would repeat gets "-2", "-3"... appended.
 * Text nodes of whitespace only are not blocks.
 */
#ifndef CONTENTD_REVIEW_H
#define CONTENTD_REVIEW_H

#include <stddef.h>

#include "common.h"

typedef enum rv_status {
    RV_OK = 0,
    RV_ERR_INPUT = -1, /* the text is not an AST document (bad JSON, no body.children) */
} rv_status;

/* One block of a document. */
typedef struct rv_block {
    char *key;                /* unique within the document */
    char hash[CD_SHA256_HEX]; /* SHA-256 of the node's compact JSON, object keys in the AST's order
                               */
    size_t index;             /* the node's position in body.children, 0-based */
} rv_block;

/* The blocks of the AST document ast_json[0..len), in document order.  On
 * RV_OK *out holds *n blocks (NULL when there are none), which the caller
 * frees with rv_blocks_free(); on an error *out is NULL and *n 0. */
rv_status rv_blocks(const char *ast_json, size_t len, rv_block **out, size_t *n) CD_WUR;

/* Frees the n blocks at b (from rv_blocks()) and their keys; b may be NULL. */
void rv_blocks_free(rv_block *b, size_t n);

/* ---- the diff between two versions (diff.c) --------------------------- */

typedef enum rv_op_kind { RV_OP_ADDED, RV_OP_REMOVED, RV_OP_CHANGED } rv_op_kind;

/* One change of a document's blocks.  key is borrowed from the blocks
 * given to rv_diff_blocks(); index is the block's position in the newer
 * document for an added or changed block, in the older one for a removed
 * block.  at is where the block is or stood in the newer document: index
 * for an added or changed block; for a removed one, the position of the
 * block it stood before (one past the newer document's last block when it
 * was at the end), which is where a reader is shown that it went. */
typedef struct rv_op {
    rv_op_kind op;
    const char *key;
    size_t index;
    size_t at;
} rv_op;

/* "added", "removed" or "changed": a static string. */
const char *rv_op_name(rv_op_kind op);

/* What turns the blocks from[0..nf) into to[0..nt): blocks are aligned by
 * key; a block whose hash is found unmatched on the other side is the same
 * block moved (its key renumbered by a block added or removed before it),
 * so it is no change; a key on both sides with another hash is changed;
 * whatever is left is added or removed.  The ops come in the newer
 * document's order, a removed block where it stood.  On return *ops holds
 * *n ops (NULL when none), which the caller frees with free(); the keys
 * stay the blocks'. */
void rv_diff_blocks(const rv_block *from, size_t nf, const rv_block *to, size_t nt, rv_op **ops,
                    size_t *n);

/* One file of a version, borrowed for the call. */
typedef struct rv_file {
    const char *path;
    const char *sha256;
} rv_file;

/* Gives the blocks of the markdown document path, whose content has that
 * SHA-256, as rv_blocks() does (the caller of rv_diff_json() decides where
 * the AST comes from).  Returns 0, or non-zero with err saying why: the
 * diff then fails with that status and err. */
typedef int (*rv_blocks_fn)(void *arg, const char *path, const char *sha256, rv_block **out,
                            size_t *n, cd_err *err);

/* Appends to out the diff of version from_v (files from[0..nf)) to
 * version to_v (files to[0..nt)), both lists sorted by path, as the
 * contract's JSON: {"from","to","documents":{PATH:{"status","blocks":[
 * {"op","key","index"[,"at"]}]}},"assets":{"added","removed","changed"}}
 * ("at" on a removed block of a document still there).  Every
 * markdown path of either version is a document ("added", "removed",
 * "changed" when its content differs, else "unchanged"); any other path is
 * an asset, compared by SHA-256.  Returns 0, or what blocks returned (out
 * then holds a part, for the caller to drop). */
int rv_diff_json(int64_t from_v, const rv_file *from, size_t nf, int64_t to_v, const rv_file *to,
                 size_t nt, rv_blocks_fn blocks, void *arg, cd_buf *out, cd_err *err) CD_WUR;

#endif
