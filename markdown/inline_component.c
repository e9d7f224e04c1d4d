/* SPDX-License-Identifier: MIT */
/*
 * Inline components written without brackets, part of the inline pass
 * (inline.c): bare ":name" and ":name{attrs}" split out of text nodes,
 * component names kebab-cased into tags, and remark-mdc's container sugar,
 * where a line holding only an inline component ends its paragraph and
 * becomes a block of its own.  The bracket forms (":name[content]{attrs}",
 * spans) are found in inline.c, which calls in here.
 */
#include "inline_int.h"
#include "md_int.h"

#include <string.h>

/* Kebab-cases a component name: MyIcon → my-icon, a_b → a-b. */
char *md_inline_tag_name(md_ctx *c, const char *s, size_t n)
{
    cd_buf b = CD_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i] == '_' ? '-' : s[i];
        if (ch >= 'A' && ch <= 'Z') {
            if (i > 0 && s[i - 1] != '-' && s[i - 1] != '_')
                cd_buf_putc(&b, '-');
            ch = (char)(ch + 32);
        }
        cd_buf_putc(&b, ch);
    }
    char *r = md_strndup(c->arena, b.data, b.len);
    cd_buf_free(&b);
    return r;
}

/* What may stand before the colon of a bare ":name": not a word character
 * (a:b, 10:30) nor a quote. */
static bool bare_boundary(char c)
{
    return !is_name_char(c) && c != '"' && c != '\'' && c != ':' && c != '`' && c != '\\' &&
           c != '/' && c != '.';
}

/* Appends a text node holding s[0..n) after `at`; returns it. */
static cmark_node *text_after(md_ctx *c, cmark_node *at, const char *s, size_t n)
{
    cmark_node *t = md_cmark_node_new(CMARK_NODE_TEXT);
    cmark_node_set_literal(t, md_strndup(c->arena, s, n));
    cmark_node_insert_after(at, t);
    return t;
}

/* Splits bare ":name" and ":name{attrs}" out of one text node in one pass,
 * each piece copied once (a line of many components costs what a line of
 * text does); returns the last node made, after which the walk goes on. */
cmark_node *md_inline_bare_components(md_ctx *c, cmark_node *text)
{
    const char *lit = cmark_node_get_literal(text);
    size_t n = strlen(lit), start = 0, head = 0;
    cmark_node *next = cmark_node_next(text), *at = text;
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (lit[i] != ':' || i + 1 >= n || !is_name_start(lit[i + 1]))
            continue;
        /* right after a component split off here, anything may follow */
        if (i > start
                ? !bare_boundary(lit[i - 1])
                : (i == 0 && cmark_node_previous(text) && is_text(cmark_node_previous(text), NULL)))
            continue;
        size_t e = i + 1;
        while (e < n && is_name_char(lit[e]))
            e++;
        if (e < n && (lit[e] == ':' || lit[e] == '['))
            continue;
        size_t b = e < n && lit[e] == '{' ? md_inline_attr_block(lit + e) : 0;
        if (b && e + b == n && is_text(next, "["))
            continue; /* :name{attrs}[...]: the bracket pass took it */
        struct md_inline_info *in =
            md_inline_info_new(c, md_inline_tag_name(c, lit + i + 1, e - i - 1));
        if (b) {
            in->attrs = md_strndup(c->arena, lit + e + 1, b - 2);
            in->attrs_len = b - 2;
            e += b;
        }
        if (!found)
            head = i, found = true;
        else if (i > start)
            at = text_after(c, at, lit + start, i - start);
        cmark_node *el = md_cmark_node_new(CMARK_NODE_CUSTOM_INLINE);
        cmark_node_set_user_data(el, in);
        cmark_node_insert_after(at, el);
        at = el;
        start = e;
        i = e - 1;
    }
    if (!found)
        return text;
    if (start < n)
        at = text_after(c, at, lit + start, n - start);
    if (head == 0)
        cmark_node_free(text);
    else
        cmark_node_set_literal(text, md_strndup(c->arena, lit, head));
    return at;
}

/* Whether the line of a paragraph that starts at n is one inline component
 * alone (then *end is what follows it: a soft break or NULL). */
static bool component_line(cmark_node *n, cmark_node **end)
{
    if (!n || !md_is_inline_component(n))
        return false;
    cmark_node *next = cmark_node_next(n);
    if (next && cmark_node_get_type(next) != CMARK_NODE_SOFTBREAK)
        return false;
    *end = next;
    return true;
}

/* remark-mdc's "container sugar": a line that holds only an inline
 * component (":read-more{to=\"/x\"}") is a block of its own, which ends
 * the paragraph before it; the lines after it start a new one.  The
 * paragraph is split there (the conversion unwraps a paragraph that holds
 * only a component). */
void md_inline_split_lines(cmark_node *para)
{
    cmark_node *line = cmark_node_first_child(para);
    while (line) {
        cmark_node *end = NULL;
        bool alone = component_line(line, &end);
        if (!alone) {
            while (line && cmark_node_get_type(line) != CMARK_NODE_SOFTBREAK)
                line = cmark_node_next(line);
            line = line ? cmark_node_next(line) : NULL;
            continue;
        }
        /* before | the component | after: each its own paragraph */
        cmark_node *prev = cmark_node_previous(line);
        if (prev) {
            cmark_node *own = md_cmark_node_new(CMARK_NODE_PARAGRAPH);
            cmark_node_insert_after(para, own);
            cmark_node_free(prev); /* the soft break before the line */
            cmark_node_append_child(own, line);
            para = own;
        }
        if (!end)
            return;
        cmark_node *rest = cmark_node_next(end);
        cmark_node_free(end);
        if (!rest)
            return;
        cmark_node *after = md_cmark_node_new(CMARK_NODE_PARAGRAPH);
        cmark_node_insert_after(para, after);
        for (cmark_node *n = rest, *next; n; n = next) {
            next = cmark_node_next(n);
            cmark_node_append_child(after, n);
        }
        para = after;
        line = rest;
    }
}
