/* SPDX-License-Identifier: MIT */
/*
 * Raw HTML.  MDC lets rehype-raw re-parse the whole tree with an HTML5
 * parser, so raw tags may wrap markdown (<div> … markdown … </div>).  We do
 * the same with gumbo: the tree is written out as HTML in which every
 * markdown-made element carries a reference attribute, gumbo builds the
 * tree, and markdown elements get their own node (and props) back while raw
 * elements get props from their attributes.  Then every element, raw or
 * not, passes the allow-list: md_sanitize() (sanitize.c).
 */
#include "md_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

/* Deeper than this, gumbo's recursive tree code could exhaust the stack:
 * such documents keep their raw HTML as text instead. */
#define MAX_HTML_DEPTH 2000

/* Elements MDC treats as HTML (others written as HTML are components). */
static const char *const html_tags[] = {
    "a",       "abbr",   "address",  "area",       "article",  "aside",    "audio",    "b",
    "base",    "bdi",    "bdo",      "blockquote", "body",     "br",       "button",   "canvas",
    "caption", "center", "cite",     "code",       "col",      "colgroup", "data",     "datalist",
    "dd",      "del",    "details",  "dfn",        "dialog",   "div",      "dl",       "dt",
    "em",      "embed",  "fieldset", "figcaption", "figure",   "footer",   "form",     "h1",
    "h2",      "h3",     "h4",       "h5",         "h6",       "head",     "header",   "hgroup",
    "hr",      "html",   "i",        "iframe",     "img",      "input",    "ins",      "kbd",
    "label",   "legend", "li",       "link",       "main",     "map",      "mark",     "math",
    "menu",    "meta",   "meter",    "nav",        "noscript", "object",   "ol",       "optgroup",
    "option",  "output", "p",        "param",      "picture",  "pre",      "progress", "q",
    "rp",      "rt",     "ruby",     "s",          "samp",     "script",   "search",   "section",
    "select",  "slot",   "small",    "source",     "span",     "strong",   "style",    "sub",
    "summary", "sup",    "svg",      "table",      "tbody",    "td",       "template", "textarea",
    "tfoot",   "th",     "thead",    "time",       "title",    "tr",       "track",    "u",
    "ul",      "var",    "video",    "wbr",        NULL};

bool md_is_html_tag(const char *name)
{
    for (const char *const *t = html_tags; *t; t++)
        if (!strcmp(*t, name))
            return true;
    return false;
}

static bool is_void(const char *tag)
{
    static const char *const v[] = {"area",  "base",   "br",    "col",  "embed",
                                    "hr",    "img",    "input", "link", "meta",
                                    "param", "source", "track", "wbr",  NULL};
    for (const char *const *t = v; *t; t++)
        if (!strcmp(*t, tag))
            return true;
    return false;
}

/* ---- writing the tree as HTML ----------------------------------------------------- */

struct refs {
    hnode **v;
    size_t n, cap;
};

static void esc_text(cd_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" : NULL;
        if (!e)
            continue;
        cd_buf_append(b, s + run, i - run);
        cd_buf_puts(b, e);
        run = i + 1;
    }
    cd_buf_append(b, s + run, n - run);
}

/* Raw HTML as MDC's html handler leaves it: a first tag written in
 * PascalCase becomes kebab-case (<MyAlert> → <my-alert>). */
static void write_raw(cd_buf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '<')
        i++;
    size_t st = i + 1 + (i + 1 < n && s[i + 1] == '/');
    size_t e = st;
    bool upper = false;
    while (e < n && (((s[e] | 0x20) >= 'a' && (s[e] | 0x20) <= 'z') ||
                     (s[e] >= '0' && s[e] <= '9') || s[e] == '-' || s[e] == '_')) {
        upper = upper || (s[e] >= 'A' && s[e] <= 'Z');
        e++;
    }
    if (i >= n || !upper) {
        cd_buf_append(b, s, n);
        return;
    }
    cd_buf_append(b, s, st);
    for (size_t k = st; k < e; k++) {
        char ch = s[k];
        if (ch >= 'A' && ch <= 'Z') {
            if (k > st && s[k - 1] != '-')
                cd_buf_putc(b, '-');
            ch = (char)(ch + 32);
        }
        cd_buf_putc(b, ch);
    }
    size_t rest = e;
    cd_buf_append(b, s + rest, n - rest);
}

/* Tags that would switch gumbo's tokenizer to raw text are written as
 * <div>; the node keeps its real tag. */
static const char *safe_tag(const char *tag)
{
    static const char *const raw[] = {"script",   "style",     "textarea", "title",
                                      "xmp",      "iframe",    "noembed",  "noframes",
                                      "noscript", "plaintext", NULL};
    for (const char *const *t = raw; *t; t++)
        if (!strcasecmp(*t, tag))
            return "div";
    return tag;
}

/* Writes the subtree iteratively; returns its maximum depth. */
static size_t write_html(hnode *root, cd_buf *b, struct refs *refs)
{
    size_t depth = 0, max = 0;
    hnode *cur = root->first;
    while (cur) {
        bool descend = false;
        if (cur->type == H_TEXT) {
            esc_text(b, cur->text, cur->len);
        } else if (cur->type == H_RAW) {
            write_raw(b, cur->text, cur->len);
        } else {
            refs->v = cd_grow(refs->v, refs->n, &refs->cap, 256, sizeof *refs->v);
            refs->v[refs->n] = cur;
            char num[24];
            int nl = snprintf(num, sizeof num, "%zu", refs->n++);
            cd_buf_putc(b, '<');
            cd_buf_puts(b, safe_tag(cur->tag));
            cd_buf_puts(b, " " MD_REF_ATTR "=\"");
            cd_buf_append(b, num, (size_t)nl);
            cd_buf_append(b, "\">", 2);
            if (is_void(cur->tag))
                ;
            else if (cur->first) {
                descend = true;
            } else {
                cd_buf_printf(b, "</%s>", safe_tag(cur->tag));
            }
        }
        if (descend) {
            cur = cur->first;
            if (++depth > max)
                max = depth;
            continue;
        }
        while (cur != root && !cur->next) {
            cur = cur->parent;
            if (cur != root) {
                cd_buf_printf(b, "</%s>", safe_tag(cur->tag));
                depth--;
            }
        }
        cur = cur == root ? NULL : cur->next;
    }
    return max;
}

/* ---- reading gumbo's tree back -------------------------------------------------- */

static const char *elem_tag(md_ctx *c, const GumboElement *e)
{
    if (e->tag != GUMBO_TAG_UNKNOWN && e->tag_namespace != GUMBO_NAMESPACE_SVG)
        return gumbo_normalized_tagname(e->tag);
    GumboStringPiece t = e->original_tag;
    gumbo_tag_from_original_text(&t);
    if (!t.data || !t.length)
        return gumbo_normalized_tagname(e->tag);
    if (e->tag_namespace == GUMBO_NAMESPACE_SVG) {
        /* SVG keeps its camelCase names (clipPath, linearGradient) */
        const char *fixed = gumbo_normalize_svg_tagname(&t);
        if (fixed)
            return fixed;
    }
    char *s = md_strndup(c->arena, t.data, t.length);
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return s;
}

/* hast's SVG schema: attributes camel-cased (stroke-width → strokeWidth),
 * values kept as strings. */
static void svg_prop(md_ctx *c, hnode *n, const char *name, const char *value)
{
    if (!strcmp(name, "class")) {
        md_prop_from_attr(c->arena, n, name, 5, value, strlen(value), true);
        return;
    }
    cd_buf b = CD_BUF_INIT;
    bool up = false;
    for (const char *p = name; *p; p++) {
        if (*p == '-' || *p == ':') {
            up = true;
            continue;
        }
        cd_buf_putc(&b, up && *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p);
        up = false;
    }
    h_prop_str(c->arena, n, md_strndup(c->arena, b.data, b.len), value, strlen(value));
    cd_buf_free(&b);
}

static hnode *from_gumbo_elem(md_ctx *c, const GumboElement *e, struct refs *refs)
{
    for (unsigned i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *at = e->attributes.data[i];
        if (!strcmp(at->name, MD_REF_ATTR)) {
            size_t ix = strtoul(at->value, NULL, 10);
            if (ix < refs->n) {
                hnode *n = refs->v[ix];
                refs->v[ix] = NULL; /* adoption may clone an element: use it once */
                if (n) {
                    n->first = n->last = n->next = n->prev = n->parent = NULL;
                    return n;
                }
            }
        }
    }
    hnode *n = h_elem(c->arena, elem_tag(c, e));
    n->from_md = false;
    for (unsigned i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *at = e->attributes.data[i];
        if (!strcmp(at->name, MD_REF_ATTR))
            continue;
        if (e->tag_namespace == GUMBO_NAMESPACE_SVG)
            svg_prop(c, n, at->name, at->value);
        else
            md_prop_from_attr(c->arena, n, at->name, strlen(at->name), at->value, strlen(at->value),
                              true);
    }
    return n;
}

static hnode *from_gumbo(md_ctx *c, GumboNode *top, struct refs *refs)
{
    hnode *root = md_alloc(c->arena, sizeof *root);
    root->type = H_ROOT;
    root->tag = "root";
    /* explicit stack of (gumbo node, index of next child, hast node) */
    struct frame {
        GumboNode *g;
        unsigned next;
        hnode *h;
    };
    size_t cap = 64, top_i = 0;
    struct frame *st = cd_xmalloc(cap * sizeof *st);
    st[top_i++] = (struct frame){top, 0, root};
    bool after_comment = false;
    while (top_i) {
        struct frame *f = &st[top_i - 1];
        const GumboVector *kids = &f->g->v.element.children;
        if (f->next >= kids->length) {
            top_i--;
            continue;
        }
        GumboNode *g = kids->data[f->next++];
        hnode *parent = f->h;
        if (g->type == GUMBO_NODE_TEXT || g->type == GUMBO_NODE_WHITESPACE ||
            g->type == GUMBO_NODE_CDATA) {
            const char *t = g->v.text.text;
            /* text on both sides of a dropped comment stays two nodes */
            if (after_comment)
                h_append(parent, h_text(c->arena, t, strlen(t)));
            else
                h_append_text(c->arena, parent, t, strlen(t));
            after_comment = false;
            continue;
        }
        after_comment = g->type == GUMBO_NODE_COMMENT;
        if (g->type != GUMBO_NODE_ELEMENT && g->type != GUMBO_NODE_TEMPLATE)
            continue;
        hnode *el = from_gumbo_elem(c, &g->v.element, refs);
        h_append(parent, el);
        if (top_i == cap)
            st = cd_xrealloc(st, (cap *= 2) * sizeof *st);
        st[top_i++] = (struct frame){g, 0, el};
    }
    free(st);
    return root;
}

/* Raw HTML kept as text, for runs too deep for the HTML pass; at the top
 * level (where text is not kept) it goes into a paragraph. */
static void raw_to_text(md_ctx *c, hnode *root)
{
    for (hnode *cur = root->first; cur; cur = h_walk_next(root, cur, true)) {
        if (cur->type != H_RAW)
            continue;
        cur->type = H_TEXT;
        if (cur->parent == root) {
            hnode *p = h_elem(c->arena, "p");
            h_insert_before(root, cur, p);
            h_remove(cur);
            h_append(p, cur);
        }
    }
}

/* An upper bound of the element depth gumbo will build from the text. */
static size_t html_depth(const char *s, size_t n)
{
    size_t d = 0, max = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '<')
            continue;
        if (s[i + 1] == '/') {
            d -= d > 0;
            continue;
        }
        if (!((s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z'))
            continue;
        size_t e = i + 1;
        while (e < n && s[e] != '>' && s[e] != ' ' && s[e] != '/' && s[e] != '\n' && s[e] != '\t')
            e++;
        char tag[16] = {0};
        size_t tl = e - i - 1 < sizeof tag - 1 ? e - i - 1 : sizeof tag - 1;
        for (size_t k = 0; k < tl; k++)
            tag[k] = (char)(s[i + 1 + k] | 0x20);
        if (!is_void(tag) && ++d > max)
            max = d;
    }
    return max;
}

/* gumbo allocates and frees many small buffers: in the render arena they
 * cost a pointer bump, and are all released with it. */
static void *gumbo_arena_alloc(void *arena, size_t n)
{
    return md_alloc_raw(arena, n);
}

static void gumbo_arena_free(void *arena, void *p)
{
    (void)arena;
    (void)p;
}

/* Parses one run of the tree (a temporary root holding some of the
 * document's top-level nodes) and returns the rebuilt run. */
static hnode *reparse_run(md_ctx *c, hnode *run)
{
    cd_buf html = CD_BUF_INIT;
    struct refs refs = {0};
    size_t depth = write_html(run, &html, &refs);
    if (depth > MAX_HTML_DEPTH || html_depth(html.data, html.len) > MAX_HTML_DEPTH) {
        cd_buf_free(&html);
        free(refs.v);
        raw_to_text(c, run);
        return run;
    }
    GumboOptions opts = kGumboDefaultOptions;
    opts.allocator = gumbo_arena_alloc;
    opts.deallocator = gumbo_arena_free;
    opts.userdata = c->arena;
    opts.fragment_context = GUMBO_TAG_BODY;
    opts.fragment_namespace = GUMBO_NAMESPACE_HTML;
    opts.max_errors = 0;
    GumboOutput *out = gumbo_parse_with_options(&opts, html.data ? html.data : "", html.len);
    /* in fragment mode the fragment's nodes are the children of <html> */
    hnode *result = from_gumbo(c, out->root, &refs);
    cd_buf_free(&html);
    free(refs.v);
    return result;
}

static bool has_raw(const hnode *n)
{
    for (const hnode *cur = n; cur; cur = h_walk_next(n, cur, true))
        if (cur->type == H_RAW)
            return true;
    return false;
}

/* Open minus closed elements in the raw HTML of a subtree (void elements,
 * self-closing tags and comments aside): positive when an element stays
 * open past it and may wrap what follows. */
static long raw_balance(const hnode *n)
{
    long bal = 0;
    for (const hnode *cur = n; cur; cur = h_walk_next(n, cur, true)) {
        if (cur->type == H_RAW) {
            const char *s = cur->text;
            size_t len = cur->len;
            for (size_t i = 0; i + 1 < len; i++) {
                if (s[i] != '<')
                    continue;
                if (s[i + 1] == '!') {
                    const char *end = memmem(s + i, len - i, "-->", 3);
                    i = end ? (size_t)(end - s) + 2 : len;
                    continue;
                }
                bool closing = s[i + 1] == '/';
                size_t st = i + 1 + closing, e = st;
                while (e < len && (((s[e] | 0x20) >= 'a' && (s[e] | 0x20) <= 'z') ||
                                   (s[e] >= '0' && s[e] <= '9') || s[e] == '-'))
                    e++;
                if (e == st)
                    continue;
                char tag[16] = {0};
                for (size_t k = 0; k < e - st && k < sizeof tag - 1; k++)
                    tag[k] = (char)(s[st + k] | 0x20);
                const char *gt = memchr(s + e, '>', len - e);
                bool self_closing = gt && gt > s + e && gt[-1] == '/';
                if (closing)
                    bal--;
                else if (!is_void(tag) && !self_closing)
                    bal++;
                if (gt)
                    i = (size_t)(gt - s);
            }
        }
    }
    return bal;
}

/* Only the top-level blocks that hold raw HTML (and, while an element it
 * opens stays open, the blocks after them) go through the HTML parser; the
 * rest of the document keeps its nodes as they are. */
hnode *md_reparse_html(md_ctx *c, hnode *root)
{
    hnode *cur = root->first;
    while (cur) {
        if (!has_raw(cur)) {
            cur = cur->next;
            continue;
        }
        hnode *first = cur, *last = cur;
        long bal = raw_balance(cur);
        while (bal > 0 && last->next) {
            last = last->next;
            bal += raw_balance(last);
        }
        hnode *after = last->next;
        hnode *run = md_alloc(c->arena, sizeof *run);
        run->type = H_ROOT;
        run->tag = "root";
        for (hnode *n = first, *next; n != after; n = next) {
            next = n->next;
            h_remove(n);
            h_append(run, n);
        }
        hnode *rebuilt = reparse_run(c, run);
        for (hnode *n = rebuilt->first, *next; n; n = next) {
            next = n->next;
            h_remove(n);
            h_insert_before(root, after, n);
        }
        cur = after;
    }
    return root;
}
