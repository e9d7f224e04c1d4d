/* SPDX-License-Identifier: MIT */
/*
 * What the two files of the inline pass share: inline.c (the pass, spans
 * and components from brackets, {attrs} after elements) and
 * inline_component.c (bare ":name" components, the container sugar).  For
 * those two files only; the rest of the module reads the pass's results
 * through md_int.h.
 */
#ifndef CONTENTD_INLINE_INT_H
#define CONTENTD_INLINE_INT_H

#include <string.h>

#include "md_int.h"

/* What the pass attaches to a node (cmark user data, in the render arena). */
struct md_inline_info {
    bool is_span;
    const char *tag;
    const char *attrs;
    size_t attrs_len;
};

static inline bool is_name_start(char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static inline bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A text node, holding exactly lit when lit is not NULL. */
static inline bool is_text(cmark_node *n, const char *lit)
{
    return n && cmark_node_get_type(n) == CMARK_NODE_TEXT &&
           (!lit || !strcmp(cmark_node_get_literal(n), lit));
}

/* ---- inline.c --------------------------------------------------------------- */

/* Length of a {...} block at s (s[0] == '{'), or 0. */
size_t md_inline_attr_block(const char *s);
/* A zeroed info for tag (in the render arena). */
struct md_inline_info *md_inline_info_new(md_ctx *c, const char *tag);

/* ---- inline_component.c ----------------------------------------------------- */

/* Kebab-cases a component name: MyIcon → my-icon, a_b → a-b (in the arena). */
char *md_inline_tag_name(md_ctx *c, const char *s, size_t n);
/* Splits bare ":name" and ":name{attrs}" out of text node text; returns
 * the last node made (text itself when there was none). */
cmark_node *md_inline_bare_components(md_ctx *c, cmark_node *text);
/* Splits paragraph para where a line holds only an inline component. */
void md_inline_split_lines(cmark_node *para);

#endif
