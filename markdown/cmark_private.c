/* SPDX-License-Identifier: MIT */
/*
 * The only file that reads cmark-gfm's private node struct (<cmark-gfm/node.h>).
 * The public API has no accessor for a block's "still open" and "last line
 * blank" flags or for the footnote links the parser sets up, so we read them here and nowhere else.
 * The struct layout belongs to one library version: meson.build refuses to
 * build against any other cmark-gfm than the one this file was written for.
 */
#include "md_int.h"

#include <string.h>

#include <cmark-gfm/node.h>
#include <cmark-gfm_version.h>

#if CMARK_GFM_VERSION != ((0 << 24) | (29 << 16) | (0 << 8) | 6)
#error "markdown/cmark_private.c reads cmark-gfm 0.29.0.gfm.6's private structs"
#endif

bool md_cmark_is_open(cmark_node *n)
{
    return (n->flags & CMARK_NODE__OPEN) != 0;
}

bool md_cmark_last_line_blank(cmark_node *n)
{
    return (n->flags & CMARK_NODE__LAST_LINE_BLANK) != 0;
}

cmark_node *md_cmark_footnote_def(cmark_node *ref)
{
    return ref->parent_footnote_def;
}

const char *md_cmark_footnote_label(cmark_node *def, size_t *len)
{
    *len = (size_t)def->as.literal.len;
    return (const char *)def->as.literal.data;
}

int md_cmark_footnote_ref_ix(cmark_node *ref)
{
    return ref->footnote.ref_ix;
}

int md_cmark_footnote_def_count(cmark_node *def)
{
    return def->footnote.def_count;
}

void md_cmark_text_drop_head(cmark_node *text, size_t k)
{
    /* cmark_node_get_literal() makes the chunk an allocated, NUL-terminated
     * copy; moving its start leaves a pointer that cmark would pass to the
     * allocator's free(), which the render arena ignores */
    const char *lit = cmark_node_get_literal(text);
    size_t n = strlen(lit);
    if (k > n)
        k = n;
    text->as.literal.data += k;
    text->as.literal.len -= (bufsize_t)k;
}
