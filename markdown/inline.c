/* SPDX-License-Identifier: MIT */
/*
 * MDC's inline syntax, applied to the cmark tree before conversion:
 *
 *   :name  :name{props}  :name[content]{props}   inline components
 *   [content]{props}  and a bare [content]        spans
 *   **strong**{.a} _em_{#b} `code`{lang="ts"} [a](/x){target="_blank"} ![i](p.png){width="64"}
 *                                                 attributes on the element
 *
 * cmark leaves an unmatched '[' and ']' as text nodes of their own, so the
 * brackets that did not form a link are found among an inline container's
 * children and the nodes between them move under a new custom inline node.
 * The element's tag and attribute text hang on the node's user data (in the
 * render arena) for the conversion to read.
 */
#include "md_int.h"

#include <stdlib.h>
#include <string.h>

struct md_inline_info {
    const char *tag;
    const char *attrs;
    size_t attrs_len;
};

static bool is_name_start(char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_text(cmark_node *n, const char *lit)
{
    return n && cmark_node_get_type(n) == CMARK_NODE_TEXT &&
           (!lit || !strcmp(cmark_node_get_literal(n), lit));
}

/* Length of a {...} block at s (s[0] == '{'), or 0. */
static size_t attr_block(const char *s)
{
    char quote = 0;
    for (size_t i = 1; s[i]; i++) {
        if (quote) {
            if (s[i] == quote)
                quote = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            quote = s[i];
        } else if (s[i] == '}') {
            return i + 1;
        } else if (s[i] == '{') {
            return 0;
        }
    }
    return 0;
}

static struct md_inline_info *info_new(md_ctx *c, const char *tag)
{
    struct md_inline_info *in = md_alloc(c->arena, sizeof *in);
    in->tag = tag;
    return in;
}

/* Takes a leading {attrs} off the text node after `el` into info. */
static bool take_attrs(md_ctx *c, cmark_node *next, struct md_inline_info *in)
{
    if (!is_text(next, NULL))
        return false;
    const char *lit = cmark_node_get_literal(next);
    if (lit[0] != '{')
        return false;
    size_t n = attr_block(lit);
    if (!n)
        return false;
    in->attrs = md_strndup(c->arena, lit + 1, n - 2);
    in->attrs_len = n - 2;
    if (lit[n])
        cmark_node_set_literal(next, lit + n);
    else
        cmark_node_free(next);
    return true;
}

/* Kebab-cases a component name: MyIcon → my-icon, a_b → a-b. */
static char *tag_name(md_ctx *c, const char *s, size_t n)
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

/* If text ends with ":name" (the colon at a word boundary), returns the
 * offset of the colon, else -1. */
static long trailing_component(cmark_node *text)
{
    if (!is_text(text, NULL))
        return -1;
    const char *lit = cmark_node_get_literal(text);
    size_t n = strlen(lit), i = n;
    while (i > 0 && is_name_char(lit[i - 1]))
        i--;
    if (i == n || i == 0 || lit[i - 1] != ':' || !is_name_start(lit[i]))
        return -1;
    size_t colon = i - 1;
    if (colon > 0 && !is_space(lit[colon - 1]))
        return -1;
    if (colon == 0 && cmark_node_previous(text) && is_text(cmark_node_previous(text), NULL))
        return -1;
    return (long)colon;
}

static cmark_node *wrap_brackets(md_ctx *c, cmark_node *open, cmark_node *close)
{
    cmark_node *before = cmark_node_previous(open);
    long colon = trailing_component(before);
    const char *tag = "span";
    if (colon >= 0) {
        const char *lit = cmark_node_get_literal(before);
        tag = tag_name(c, lit + colon + 1, strlen(lit) - (size_t)colon - 1);
        if (colon == 0) {
            cmark_node_free(before);
        } else {
            char *trimmed = md_strndup(c->arena, lit, (size_t)colon);
            cmark_node_set_literal(before, trimmed);
        }
    }
    cmark_node *el = cmark_node_new(CMARK_NODE_CUSTOM_INLINE);
    struct md_inline_info *in = info_new(c, tag);
    cmark_node_set_user_data(el, in);
    cmark_node_insert_before(open, el);
    for (cmark_node *n = cmark_node_next(open); n && n != close;) {
        cmark_node *next = cmark_node_next(n);
        cmark_node_append_child(el, n);
        n = next;
    }
    cmark_node_free(open);
    cmark_node *after = cmark_node_next(close);
    cmark_node_free(close);
    take_attrs(c, after, in);
    return el;
}

/* Splits bare ":name" and ":name{attrs}" out of one text node; returns the
 * node after which the walk goes on. */
static cmark_node *bare_components(md_ctx *c, cmark_node *text)
{
    const char *lit = cmark_node_get_literal(text);
    size_t n = strlen(lit);
    for (size_t i = 0; i < n; i++) {
        if (lit[i] != ':' || i + 1 >= n || !is_name_start(lit[i + 1]))
            continue;
        if (i > 0 ? !is_space(lit[i - 1])
                  : (cmark_node_previous(text) && is_text(cmark_node_previous(text), NULL)))
            continue;
        size_t e = i + 1;
        while (e < n && is_name_char(lit[e]))
            e++;
        if (e < n && (lit[e] == ':' || lit[e] == '['))
            continue;
        struct md_inline_info *in = info_new(c, tag_name(c, lit + i + 1, e - i - 1));
        if (e < n && lit[e] == '{') {
            size_t b = attr_block(lit + e);
            if (b) {
                in->attrs = md_strndup(c->arena, lit + e + 1, b - 2);
                in->attrs_len = b - 2;
                e += b;
            }
        }
        cmark_node *el = cmark_node_new(CMARK_NODE_CUSTOM_INLINE);
        cmark_node_set_user_data(el, in);
        cmark_node_insert_after(text, el);
        if (e < n) {
            cmark_node *rest = cmark_node_new(CMARK_NODE_TEXT);
            cmark_node_set_literal(rest, lit + e);
            cmark_node_insert_after(el, rest);
        }
        if (i == 0) {
            cmark_node_free(text);
        } else {
            char *head = md_strndup(c->arena, lit, i);
            cmark_node_set_literal(text, head);
        }
        return el; /* the rest node is visited next */
    }
    return text;
}

static bool takes_attrs(cmark_node *n)
{
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_EMPH:
    case CMARK_NODE_STRONG:
    case CMARK_NODE_CODE:
    case CMARK_NODE_LINK:
    case CMARK_NODE_IMAGE: return true;
    default: return false;
    }
}

/* Splits a text node at byte offset k (0 < k < length); returns the new
 * node holding the tail. */
static cmark_node *split_text(md_ctx *c, cmark_node *text, size_t k)
{
    const char *lit = cmark_node_get_literal(text);
    cmark_node *tail = cmark_node_new(CMARK_NODE_TEXT);
    cmark_node_set_literal(tail, lit + k);
    cmark_node_set_literal(text, md_strndup(c->arena, lit, k));
    cmark_node_insert_after(text, tail);
    return tail;
}

/* Isolates the character at lit[k] of a text node as a node of its own. */
static cmark_node *isolate(md_ctx *c, cmark_node *text, size_t k)
{
    size_t n = strlen(cmark_node_get_literal(text));
    cmark_node *mid = k ? split_text(c, text, k) : text;
    if (n - k > 1)
        split_text(c, mid, 1);
    return mid;
}

/* Finds the innermost bracket pair among the children: the first ']' that
 * closes an earlier '['.  cmark has merged the brackets that formed no link
 * into the surrounding text. */
static bool find_pair(cmark_node *parent, cmark_node **on, size_t *ok, cmark_node **cn,
                      size_t *ck)
{
    cmark_node *stack_n = NULL;
    size_t stack_k = 0;
    bool have = false;
    for (cmark_node *n = cmark_node_first_child(parent); n; n = cmark_node_next(n)) {
        if (!is_text(n, NULL))
            continue;
        const char *lit = cmark_node_get_literal(n);
        for (size_t k = 0; lit[k]; k++) {
            if (lit[k] == '[') {
                stack_n = n, stack_k = k, have = true;
            } else if (lit[k] == ']' && have) {
                *on = stack_n, *ok = stack_k, *cn = n, *ck = k;
                return true;
            }
        }
    }
    return false;
}

#define MAX_SPANS_PER_CONTAINER 512

/* One inline container: attributes after elements, bracket spans and
 * components, then bare components. */
static void container(md_ctx *c, cmark_node *parent)
{
    for (cmark_node *n = cmark_node_first_child(parent); n; n = cmark_node_next(n)) {
        if (takes_attrs(n) && !cmark_node_get_user_data(n)) {
            struct md_inline_info *in = info_new(c, NULL);
            if (take_attrs(c, cmark_node_next(n), in))
                cmark_node_set_user_data(n, in);
        }
    }
    cmark_node *on, *cn;
    size_t ok, ck;
    for (int i = 0; i < MAX_SPANS_PER_CONTAINER && find_pair(parent, &on, &ok, &cn, &ck); i++) {
        bool same = on == cn;
        cmark_node *open = isolate(c, on, ok);
        if (same) /* the ']' moved into the tail after the '[' */
            cn = cmark_node_next(open), ck -= ok + 1;
        cmark_node *close = isolate(c, cn, ck);
        wrap_brackets(c, open, close);
    }
    for (cmark_node *n = cmark_node_first_child(parent); n; n = cmark_node_next(n))
        if (is_text(n, NULL))
            n = bare_components(c, n);
}

void md_inline_syntax(md_ctx *c, cmark_node *doc)
{
    /* collect first: the walk must not see the tree being edited */
    size_t cap = 64, n = 0;
    cmark_node **list = cd_xmalloc(cap * sizeof *list);
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER || !cmark_node_first_child(node))
            continue;
        cmark_node *first = cmark_node_first_child(node);
        if ((cmark_node_get_type(first) & CMARK_NODE_TYPE_MASK) != CMARK_NODE_TYPE_INLINE)
            continue;
        if (n == cap)
            list = cd_xrealloc(list, (cap *= 2) * sizeof *list);
        list[n++] = node;
    }
    cmark_iter_free(it);
    /* innermost containers last: a bracket pair is always within one */
    for (size_t i = n; i-- > 0;)
        container(c, list[i]);
    free(list);
}

const struct md_inline_info *md_inline_get(cmark_node *n)
{
    cmark_node_type t = cmark_node_get_type(n);
    if (t != CMARK_NODE_CUSTOM_INLINE && !takes_attrs(n))
        return NULL;
    return cmark_node_get_user_data(n);
}

const char *md_inline_tag(const struct md_inline_info *in)
{
    return in->tag;
}

const char *md_inline_attrs(const struct md_inline_info *in, size_t *len)
{
    *len = in->attrs_len;
    return in->attrs;
}
