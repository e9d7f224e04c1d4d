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
 * render arena) for the conversion to read.  Bare ":name" components and
 * lines holding one component alone are inline_component.c's.
 */
#include "inline_int.h"
#include "md_int.h"

#include <stdlib.h>
#include <string.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Length of a {...} block at s (s[0] == '{'), or 0. */
size_t md_inline_attr_block(const char *s)
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

struct md_inline_info *md_inline_info_new(md_ctx *c, const char *tag)
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
    size_t n = md_inline_attr_block(lit);
    if (!n)
        return false;
    in->attrs = md_strndup(c->arena, lit + 1, n - 2);
    in->attrs_len = n - 2;
    if (lit[n])
        md_cmark_text_drop_head(next, n); /* no copy of a long rest */
    else
        cmark_node_free(next);
    return true;
}

/* If text ends with ":name" or ":name{attrs}" (the colon at a word
 * boundary), returns the offset of the colon (and where the attributes
 * start, or 0), else -1. */
static long trailing_component(cmark_node *text, size_t *attrs_at)
{
    *attrs_at = 0;
    if (!is_text(text, NULL))
        return -1;
    const char *lit = cmark_node_get_literal(text);
    size_t n = strlen(lit), i;
    if (n && lit[n - 1] == '}') {
        const char *ob = NULL;
        for (const char *p = lit; (p = strchr(p, '{')); p++)
            if (md_inline_attr_block(p) == (size_t)(lit + n - p))
                ob = p;
        if (!ob)
            return -1;
        *attrs_at = (size_t)(ob - lit);
        n = *attrs_at;
    }
    i = n;
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

/* micromark trims the whitespace that ends a label's text ("[a ]" is a
 * span of "a"). */
static void trim_label_end(md_ctx *c, cmark_node *el)
{
    cmark_node *last = cmark_node_last_child(el);
    if (!is_text(last, NULL))
        return;
    const char *lit = cmark_node_get_literal(last);
    size_t n = strlen(lit), e = n;
    while (e > 0 && (lit[e - 1] == ' ' || lit[e - 1] == '\t'))
        e--;
    if (e == 0)
        cmark_node_free(last);
    else if (e < n)
        cmark_node_set_literal(last, md_strndup(c->arena, lit, e));
}

static cmark_node *wrap_brackets(md_ctx *c, cmark_node *open, cmark_node *close)
{
    cmark_node *before = cmark_node_previous(open);
    size_t attrs_at;
    long colon = trailing_component(before, &attrs_at);
    const char *tag = "span", *pre_attrs = NULL;
    size_t pre_len = 0;
    if (colon >= 0) {
        const char *lit = cmark_node_get_literal(before);
        size_t end = attrs_at ? attrs_at : strlen(lit);
        tag = md_inline_tag_name(c, lit + colon + 1, end - (size_t)colon - 1);
        if (attrs_at) {
            pre_len = strlen(lit) - attrs_at - 2;
            pre_attrs = md_strndup(c->arena, lit + attrs_at + 1, pre_len);
        }
        if (colon == 0) {
            cmark_node_free(before);
        } else {
            char *trimmed = md_strndup(c->arena, lit, (size_t)colon);
            cmark_node_set_literal(before, trimmed);
        }
    }
    cmark_node *el = md_cmark_node_new(CMARK_NODE_CUSTOM_INLINE);
    struct md_inline_info *in = md_inline_info_new(c, tag);
    in->is_span = colon < 0;
    cmark_node_set_user_data(el, in);
    cmark_node_insert_before(open, el);
    for (cmark_node *n = cmark_node_next(open); n && n != close;) {
        cmark_node *next = cmark_node_next(n);
        cmark_node_append_child(el, n);
        n = next;
    }
    cmark_node_free(open);
    trim_label_end(c, el);
    cmark_node *after = cmark_node_next(close);
    cmark_node_free(close);
    if (pre_attrs) {
        in->attrs = pre_attrs;
        in->attrs_len = pre_len;
    } else {
        take_attrs(c, after, in);
    }
    return el;
}

static bool takes_attrs(cmark_node *n)
{
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_EMPH:
    case CMARK_NODE_STRONG:
    case CMARK_NODE_CODE:
    case CMARK_NODE_LINK:
    case CMARK_NODE_IMAGE:
        return true;
    default:
        return false;
    }
}

/* Moves the first k bytes of a text node into a new text node before it:
 * only the head is copied, so isolating many brackets of one long text node
 * stays linear. */
static void split_head(md_ctx *c, cmark_node *text, size_t k)
{
    const char *lit = cmark_node_get_literal(text);
    cmark_node *head = md_cmark_node_new(CMARK_NODE_TEXT);
    cmark_node_set_literal(head, md_strndup(c->arena, lit, k));
    cmark_node_insert_before(text, head);
    md_cmark_text_drop_head(text, k);
}

/* Isolates the character at lit[k] of a text node as a node of its own
 * (the text before and after it stay in nodes around it); returns it. */
static cmark_node *isolate(md_ctx *c, cmark_node *text, size_t k)
{
    if (k)
        split_head(c, text, k);
    if (!cmark_node_get_literal(text)[1])
        return text;
    split_head(c, text, 1);
    return cmark_node_previous(text);
}

/* Whether a '{' at lit[k] opens MDC attributes: right after ":name", after
 * a ']' or, at the start of a text node, after an element that takes them. */
static bool attrs_position(cmark_node *text, const char *lit, size_t k)
{
    if (k == 0) {
        cmark_node *prev = cmark_node_previous(text);
        return prev &&
               (takes_attrs(prev) || cmark_node_get_type(prev) == CMARK_NODE_CUSTOM_INLINE ||
                is_text(prev, "]"));
    }
    if (lit[k - 1] == ']')
        return true;
    size_t i = k;
    while (i > 0 && is_name_char(lit[i - 1]))
        i--;
    return i < k && i > 0 && lit[i - 1] == ':' && is_name_start(lit[i]);
}

/* A link the autolink extension made: its only child is the URL as written
 * (the URL itself, or it without the "http://" or "mailto:" cmark adds). */
static const char *autolink_text(cmark_node *n)
{
    if (cmark_node_get_type(n) != CMARK_NODE_LINK)
        return NULL;
    cmark_node *t = cmark_node_first_child(n);
    if (!is_text(t, NULL) || cmark_node_next(t))
        return NULL;
    const char *lit = cmark_node_get_literal(t), *url = cmark_node_get_url(n);
    if (!url)
        return NULL;
    if (!strcmp(url, lit) || (!strncmp(url, "http://", 7) && !strcmp(url + 7, lit)) ||
        (!strncmp(url, "mailto:", 7) && !strcmp(url + 7, lit)))
        return lit;
    return NULL;
}

#define MAX_SPLIT_ATTRS 4096

/* MDC reads an attribute block as plain text, but cmark has already parsed
 * inside it: a URL in a value became an autolink, a '[' or ']' a node of
 * its own.  A text node whose last '{' opens attributes that close only in
 * a later sibling gets those siblings (text and autolinks, up to
 * MAX_SPLIT_ATTRS bytes) back as text. */
static void join_split_attrs(md_ctx *c, cmark_node *text)
{
    const char *lit = cmark_node_get_literal(text);
    const char *ob = strrchr(lit, '{');
    if (!ob || md_inline_attr_block(ob) || !attrs_position(text, lit, (size_t)(ob - lit)))
        return;
    cd_buf b = CD_BUF_INIT;
    cd_buf_puts(&b, ob);
    cmark_node *end = cmark_node_next(text);
    size_t closed = 0;
    for (; end && b.len < MAX_SPLIT_ATTRS && !closed; end = cmark_node_next(end)) {
        const char *piece = is_text(end, NULL) ? cmark_node_get_literal(end) : autolink_text(end);
        if (!piece)
            break;
        cd_buf_puts(&b, piece);
        closed = md_inline_attr_block(b.data);
    }
    if (closed) {
        cd_buf joined = CD_BUF_INIT;
        cd_buf_append(&joined, lit, (size_t)(ob - lit));
        cd_buf_append(&joined, b.data, b.len);
        cmark_node_set_literal(text, md_strndup(c->arena, joined.data, joined.len));
        cd_buf_free(&joined);
        for (cmark_node *n = cmark_node_next(text), *next; n != end; n = next) {
            next = cmark_node_next(n);
            cmark_node_free(n);
        }
    }
    cd_buf_free(&b);
}

/* The character after lit[k] in reading order: in lit, else the first of
 * the next sibling's source ('[' for a link, '\0' for anything else). */
static char char_after(cmark_node *n, const char *lit, size_t k)
{
    if (lit[k + 1])
        return lit[k + 1];
    cmark_node *next = cmark_node_next(n);
    if (is_text(next, NULL))
        return cmark_node_get_literal(next)[0];
    if (next && cmark_node_get_type(next) == CMARK_NODE_LINK && !autolink_text(next))
        return '[';
    if (next && cmark_node_get_type(next) == CMARK_NODE_CUSTOM_INLINE &&
        ((const struct md_inline_info *)cmark_node_get_user_data(next))->is_span)
        return '['; /* a span made already, from brackets */
    return '\0';
}

static char char_before(cmark_node *n, size_t k)
{
    if (k)
        return cmark_node_get_literal(n)[k - 1];
    cmark_node *prev = cmark_node_previous(n);
    if (is_text(prev, NULL)) {
        const char *lit = cmark_node_get_literal(prev);
        return *lit ? lit[strlen(lit) - 1] : '\0';
    }
    return '\0';
}

#define MAX_BRACKET_DEPTH 64

/* Finds the innermost bracket pair among the children that makes an MDC
 * span: the first ']' that closes an earlier '[', where the '[' neither
 * follows nor precedes another '[' and the ']' is not followed by '(' or
 * '[' (remark-mdc's span rules).  cmark has left the brackets that formed
 * no link in the text. */
static bool find_pair(cmark_node *parent, cmark_node **on, size_t *ok, cmark_node **cn, size_t *ck)
{
    cmark_node *stack_n[MAX_BRACKET_DEPTH];
    size_t stack_k[MAX_BRACKET_DEPTH];
    int depth = 0;
    for (cmark_node *n = cmark_node_first_child(parent); n; n = cmark_node_next(n)) {
        if (!is_text(n, NULL))
            continue;
        const char *lit = cmark_node_get_literal(n);
        for (size_t k = 0; lit[k]; k++) {
            size_t skip;
            if (lit[k] == '{' && k > 0 && lit[k - 1] != ']' && attrs_position(n, lit, k) &&
                (skip = md_inline_attr_block(lit + k)) > 0) {
                k += skip - 1; /* ":name{a="[x]"}": brackets of a value */
                continue;
            }
            if (lit[k] == '[') {
                if (depth == MAX_BRACKET_DEPTH) {
                    memmove(stack_n, stack_n + 1, sizeof stack_n - sizeof stack_n[0]);
                    memmove(stack_k, stack_k + 1, sizeof stack_k - sizeof stack_k[0]);
                    depth--;
                }
                stack_n[depth] = n, stack_k[depth] = k, depth++;
            } else if (lit[k] == ']' && depth > 0) {
                depth--;
                char after = char_after(n, lit, k);
                if (after == '(' || after == '[')
                    continue;
                if (char_before(stack_n[depth], stack_k[depth]) == '[' ||
                    char_after(stack_n[depth], cmark_node_get_literal(stack_n[depth]),
                               stack_k[depth]) == '[')
                    continue;
                *on = stack_n[depth], *ok = stack_k[depth], *cn = n, *ck = k;
                return true;
            }
        }
    }
    return false;
}

#define MAX_SPANS_PER_CONTAINER 512

/* One inline container: attributes after elements, bracket spans and
 * components, then bare components. */
/* Whether cmark made link n of a shortcut reference ("[Fish]" with a
 * "[Fish]: url" definition): its source is its label's, one bracket wider
 * on each side, where a full or collapsed reference ("[Fish][]") or an
 * inline link is wider at the end. */
static bool shortcut_reference(cmark_node *n)
{
    if (cmark_node_get_type(n) != CMARK_NODE_LINK || autolink_text(n))
        return false;
    cmark_node *first = cmark_node_first_child(n), *last = cmark_node_last_child(n);
    if (!last || cmark_node_get_end_line(last) != cmark_node_get_end_line(n) ||
        cmark_node_get_end_column(last) <= 0)
        return false;
    int tail = cmark_node_get_end_column(n) - cmark_node_get_end_column(last);
    if (cmark_node_get_type(last) == CMARK_NODE_CODE) {
        /* a code span's position is its content's: add its backtick fence,
         * known when it also opens the label */
        int fence = 1;
        if (first == last && cmark_node_get_start_line(n) == cmark_node_get_end_line(n))
            fence = cmark_node_get_start_column(last) - cmark_node_get_start_column(n) - 1;
        tail -= fence;
    }
    return tail == 1;
}

/* remark-mdc reads "[text]" not followed by '(' or '[' as a span before
 * any link is considered, so a shortcut reference is a span even when its
 * definition exists. */
static cmark_node *shortcut_to_span(md_ctx *c, cmark_node *link)
{
    cmark_node *el = md_cmark_node_new(CMARK_NODE_CUSTOM_INLINE);
    struct md_inline_info *in = md_inline_info_new(c, "span");
    in->is_span = true;
    cmark_node_set_user_data(el, in);
    cmark_node_insert_before(link, el);
    for (cmark_node *k = cmark_node_first_child(link), *next; k; k = next) {
        next = cmark_node_next(k);
        cmark_node_append_child(el, k);
    }
    cmark_node_free(link);
    trim_label_end(c, el);
    take_attrs(c, cmark_node_next(el), in);
    return el;
}

static void container(md_ctx *c, cmark_node *parent)
{
    for (cmark_node *n = cmark_node_first_child(parent); n; n = cmark_node_next(n))
        if (shortcut_reference(n))
            n = shortcut_to_span(c, n);
    for (cmark_node *n = cmark_node_first_child(parent); n; n = cmark_node_next(n))
        if (is_text(n, NULL))
            join_split_attrs(c, n);
    for (cmark_node *n = cmark_node_first_child(parent); n; n = cmark_node_next(n)) {
        if (takes_attrs(n) && !cmark_node_get_user_data(n)) {
            struct md_inline_info *in = md_inline_info_new(c, NULL);
            if (take_attrs(c, cmark_node_next(n), in))
                cmark_node_set_user_data(n, in);
        }
    }
    cmark_node *on, *cn;
    size_t ok, ck;
    for (int i = 0; i < MAX_SPANS_PER_CONTAINER && find_pair(parent, &on, &ok, &cn, &ck); i++) {
        bool same = on == cn;
        cmark_node *open = isolate(c, on, ok);
        if (same) /* the ']' is in what follows the '[' */
            cn = cmark_node_next(open), ck -= ok + 1;
        cmark_node *close = isolate(c, cn, ck);
        wrap_brackets(c, open, close);
    }
    for (cmark_node *n = cmark_node_first_child(parent); n; n = cmark_node_next(n))
        if (is_text(n, NULL))
            n = md_inline_bare_components(c, n);
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
    for (size_t i = n; i-- > 0;) {
        const char *type =
            cmark_node_get_syntax_extension(list[i]) ? cmark_node_get_type_string(list[i]) : NULL;
        if (type && !strcmp(type, "table_cell")) {
            /* cmark-gfm lets a cell hold only its own inline types: the
             * cell's inlines move to a detached paragraph (in the render
             * arena) that md_cell_inlines() finds */
            cmark_node *holder = md_cmark_node_new(CMARK_NODE_PARAGRAPH);
            for (cmark_node *k = cmark_node_first_child(list[i]), *next; k; k = next) {
                next = cmark_node_next(k);
                cmark_node_append_child(holder, k);
            }
            container(c, holder);
            md_unmark_tree(c, holder);
            cmark_node_set_user_data(list[i], holder);
            continue;
        }
        container(c, list[i]);
        if (cmark_node_get_type(list[i]) == CMARK_NODE_PARAGRAPH)
            md_inline_split_lines(list[i]);
    }
    free(list);
}

cmark_node *md_cell_inlines(cmark_node *cell)
{
    return cmark_node_get_user_data(cell);
}

const struct md_inline_info *md_inline_get(cmark_node *n)
{
    cmark_node_type t = cmark_node_get_type(n);
    if (t != CMARK_NODE_CUSTOM_INLINE && !takes_attrs(n))
        return NULL;
    return cmark_node_get_user_data(n);
}

bool md_is_inline_component(cmark_node *n)
{
    const struct md_inline_info *in =
        cmark_node_get_type(n) == CMARK_NODE_CUSTOM_INLINE ? cmark_node_get_user_data(n) : NULL;
    return in && in->tag && !in->is_span;
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
