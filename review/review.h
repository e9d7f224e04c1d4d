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

#endif
