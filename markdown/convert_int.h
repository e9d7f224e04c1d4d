/* SPDX-License-Identifier: MIT */
/*
 * The state of one cmark → hast conversion and the pieces of it that live
 * in files of their own: convert.c walks the tree and makes most elements,
 * convert_code.c makes code fences and inline code, convert_footnote.c the
 * footnote references and their section.  For those three files only.
 */
#ifndef CONTENTD_CONVERT_INT_H
#define CONTENTD_CONVERT_INT_H

#include "md_int.h"

struct conv {
    md_ctx *c;
    md_arena *a;
    hnode *root;
    hnode *footnotes; /* the footnote section's ol, once made */
    int fn_count;
    int cell_ix; /* column of the table cell being converted */
};

/* ---- convert.c ------------------------------------------------------------ */

/* micromark-util-sanitize-uri's normalizeUri of s[0..n), appended to out. */
void md_conv_normalize_uri(const char *s, size_t n, cd_buf *out);
/* The {attrs} written after node (and an inline component's tag) onto el. */
void md_conv_inline_attrs(struct conv *cv, cmark_node *node, hnode *el);

/* ---- convert_code.c ------------------------------------------------------- */

/* The pre element of a fenced or indented code block (in the arena). */
hnode *md_conv_code_block(struct conv *cv, cmark_node *node);
/* The code element of an inline code span, its {attrs} applied. */
hnode *md_conv_inline_code(struct conv *cv, cmark_node *node);

/* ---- convert_footnote.c --------------------------------------------------- */

/* The sup > a of a footnote reference. */
hnode *md_conv_footnote_ref(struct conv *cv, cmark_node *node);
/* The footnote section's ol, made and appended to the root on first use. */
hnode *md_conv_footnote_list(struct conv *cv);
/* The li of a footnote definition, with its id (its children follow). */
hnode *md_conv_footnote_item(struct conv *cv, cmark_node *def);
/* Appends def's back-references to its li, once def's children are in. */
void md_conv_footnote_backrefs(struct conv *cv, cmark_node *def, hnode *li);

#endif
