/* SPDX-License-Identifier: MIT */
/*
 * Escaped brackets and colons, protected through parsing: the markdown is
 * marked before cmark reads it and the parsed tree unmarked after the
 * inline pass (render.c; a table cell's inlines in inline.c), so that an
 * escaped "[", "]" or ":" never opens a span or a component.
 */
#include "md_int.h"

#include <string.h>

/* "\[" "\]" "\:" become "\" + a private-use mark, which cmark keeps as a
 * literal backslash and character: the inline pass then cannot mistake an
 * escaped bracket for a span, and md_unmark_tree() puts the character back
 * (and the backslash, where cmark would have kept it: code and raw HTML). */
static const char marks[3][4] = {"\xEE\x80\x80", "\xEE\x80\x81", "\xEE\x80\x82"};
static const char marked[3] = {'[', ']', ':'};

bool md_escape_mark(const char *s, size_t n, cd_buf *out)
{
    if (!memchr(s, '\\', n) || memmem(s, n, "\xEE\x80", 2))
        return false;
    size_t run = 0;
    bool any = false;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        const char *m = memchr(marked, s[i + 1], 3);
        if (!m) {
            i++; /* "\\" and any other escape: skip the pair */
            continue;
        }
        cd_buf_append(out, s + run, i + 1 - run);
        cd_buf_append(out, marks[m - marked], 3);
        run = i + 2;
        i++;
        any = true;
    }
    cd_buf_append(out, s + run, n - run);
    return any;
}

char *md_unmark(md_arena *a, const char *s, bool escape_applies)
{
    if (!s || !strstr(s, "\\\xEE\x80"))
        return NULL;
    cd_buf b = CD_BUF_INIT;
    for (const char *p = s; *p;) {
        if (p[0] == '\\' && (unsigned char)p[1] == 0xEE && (unsigned char)p[2] == 0x80 &&
            (unsigned char)p[3] >= 0x80 && (unsigned char)p[3] <= 0x82) {
            if (!escape_applies)
                cd_buf_putc(&b, '\\');
            cd_buf_putc(&b, marked[(unsigned char)p[3] - 0x80]);
            p += 4;
            continue;
        }
        cd_buf_putc(&b, *p++);
    }
    char *r = md_strndup(a, b.data, b.len);
    cd_buf_free(&b);
    return r;
}

void md_unmark_tree(md_ctx *c, cmark_node *doc)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        char *v;
        switch (cmark_node_get_type(n)) {
        case CMARK_NODE_TEXT:
            if ((v = md_unmark(c->arena, cmark_node_get_literal(n), true)))
                cmark_node_set_literal(n, v);
            break;
        case CMARK_NODE_CODE:
        case CMARK_NODE_CODE_BLOCK:
        case CMARK_NODE_HTML_BLOCK:
        case CMARK_NODE_HTML_INLINE:
            if ((v = md_unmark(c->arena, cmark_node_get_literal(n), false)))
                cmark_node_set_literal(n, v);
            if (cmark_node_get_type(n) == CMARK_NODE_CODE_BLOCK &&
                (v = md_unmark(c->arena, cmark_node_get_fence_info(n), true)))
                cmark_node_set_fence_info(n, v);
            break;
        case CMARK_NODE_LINK:
        case CMARK_NODE_IMAGE:
            if ((v = md_unmark(c->arena, cmark_node_get_url(n), true)))
                cmark_node_set_url(n, v);
            if ((v = md_unmark(c->arena, cmark_node_get_title(n), true)))
                cmark_node_set_title(n, v);
            break;
        default:
            break;
        }
    }
    cmark_iter_free(it);
}
