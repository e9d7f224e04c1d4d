/* SPDX-License-Identifier: MIT */
/*
 * cmark tree → hast, applying the handlers MDC installs on remark-rehype
 * (lists and task items, links and images, tables, components and slots;
 * code in convert_code.c, GFM footnotes in convert_footnote.c) and the
 * list-item paragraph flattening of MDC's compiler.  The walk uses cmark's
 * iterator, so depth costs no stack.
 */
#include "convert_int.h"
#include "md_int.h"
#include "markdown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>

static bool cd_is_alnum(char ch)
{
    return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
}

/* Extension node types are named by their extension; core nodes (the
 * common case) have none and skip the string compare. */
static bool type_is(cmark_node *n, const char *s)
{
    if (!cmark_node_get_syntax_extension(n))
        return false;
    const char *t = cmark_node_get_type_string(n);
    return t && !strcmp(t, s);
}

/* micromark-util-sanitize-uri's normalizeUri: percent-encode what may not
 * appear in a URL, keep valid escapes. */
void md_conv_normalize_uri(const char *s, size_t n, cd_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool keep;
        if (ch == '%')
            keep = i + 2 < n && cd_is_alnum(s[i + 1]) && cd_is_alnum(s[i + 2]);
        else if (ch >= 0x80)
            keep = false;
        else
            keep = ch == '!' || ch == '#' || ch == '$' || (ch >= '&' && ch <= ';') || ch == '=' ||
                   (ch >= '?' && ch <= 'Z') || ch == '_' || (ch >= 'a' && ch <= 'z') || ch == '~';
        if (keep) {
            cd_buf_putc(out, (char)ch);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            cd_buf_append(out, e, 3);
        }
    }
}

static void set_uri_prop(struct conv *cv, hnode *el, const char *name, const char *url)
{
    cd_buf b = CD_BUF_INIT;
    md_conv_normalize_uri(url, strlen(url), &b);
    h_prop_str(cv->a, el, name, b.data ? b.data : "", b.len);
    cd_buf_free(&b);
}

/* ---- element per node ---------------------------------------------------------- */

static hnode *raw_node(struct conv *cv, cmark_node *node)
{
    const char *lit = cmark_node_get_literal(node);
    hnode *r = h_text(cv->a, lit ? lit : "", lit ? strlen(lit) : 0);
    r->type = H_RAW;
    cv->c->has_raw = true;
    return r;
}

static hnode *list_elem(struct conv *cv, cmark_node *node)
{
    bool ordered = cmark_node_get_list_type(node) == CMARK_ORDERED_LIST;
    hnode *el = h_elem(cv->a, ordered ? "ol" : "ul");
    int start = cmark_node_get_list_start(node);
    if (ordered && start != 1) {
        char tmp[24];
        snprintf(tmp, sizeof tmp, "%d", start);
        h_prop_json(cv->a, el, "start", tmp);
    }
    for (cmark_node *it = cmark_node_first_child(node); it; it = cmark_node_next(it))
        if (type_is(it, "tasklist")) {
            h_prop_json(cv->a, el, "className", "[\"contains-task-list\"]");
            break;
        }
    return el;
}

static hnode *item_elem(struct conv *cv, cmark_node *node)
{
    hnode *li = h_elem(cv->a, "li");
    if (!type_is(node, "tasklist"))
        return li;
    h_prop_json(cv->a, li, "className", "[\"task-list-item\"]");
    hnode *input = h_elem(cv->a, "input");
    if (cmark_gfm_extensions_get_tasklist_item_checked(node))
        h_prop_json(cv->a, input, "checked", "true");
    h_prop_json(cv->a, input, "disabled", "true");
    h_prop_str(cv->a, input, "type", "checkbox", 8);
    h_append(li, input);
    /* the text " " mdast-util-gfm-task-list-item puts after the box */
    h_append_text(cv->a, li, " ", 1);
    return li;
}

/* {attrs} written after an element, and inline components' tags. */
void md_conv_inline_attrs(struct conv *cv, cmark_node *node, hnode *el)
{
    const struct md_inline_info *in = md_inline_get(node);
    if (!in)
        return;
    size_t len;
    const char *attrs = md_inline_attrs(in, &len);
    bool component = cmark_node_get_type(node) == CMARK_NODE_CUSTOM_INLINE;
    if (attrs)
        md_attrs_apply(cv->a, el, attrs, len, component ? MD_ATTRS_INLINE : MD_ATTRS_ELEMENT);
    if (component)
        h_props_sort(el);
}

static void alt_text(cmark_node *node, cd_buf *out)
{
    cmark_iter *it = cmark_iter_new(node);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        cmark_node_type t = cmark_node_get_type(n);
        if (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE || t == CMARK_NODE_HTML_INLINE)
            cd_buf_puts(out, cmark_node_get_literal(n));
        else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK)
            cd_buf_putc(out, '\n');
    }
    cmark_iter_free(it);
}

static hnode *image_elem(struct conv *cv, cmark_node *node)
{
    hnode *img = h_elem(cv->a, "img");
    set_uri_prop(cv, img, "src", cmark_node_get_url(node));
    md_conv_inline_attrs(cv, node, img);
    cd_buf alt = CD_BUF_INIT;
    alt_text(node, &alt);
    h_prop_str(cv->a, img, "alt", alt.data ? alt.data : "", alt.len);
    cd_buf_free(&alt);
    const char *title = cmark_node_get_title(node);
    if (title && *title)
        h_prop_str(cv->a, img, "title", title, strlen(title));
    return img;
}

/* rehype-external-links: absolute http(s) URLs, or protocol-relative. */
static bool external(const char *url, size_t n)
{
    if (n >= 2 && url[0] == '/' && url[1] == '/')
        return true;
    size_t i = 0;
    if (!n || !(((url[0] | 0x20) >= 'a' && (url[0] | 0x20) <= 'z')))
        return false;
    while (i < n && url[i] != ':' &&
           (cd_is_alnum(url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.'))
        i++;
    if (i >= n || url[i] != ':')
        return false;
    if (i == 1 && i + 1 < n && url[2] == '\\')
        return false; /* a Windows path */
    return (i == 4 && !memcmp(url, "http", 4)) || (i == 5 && !memcmp(url, "https", 5));
}

static hnode *link_elem(struct conv *cv, cmark_node *node)
{
    hnode *el = h_elem(cv->a, "a");
    set_uri_prop(cv, el, "href", cmark_node_get_url(node));
    hprop *href = h_prop_get(el, "href");
    if (external(href->val, href->len))
        h_prop_json(cv->a, el, "rel", "[\"nofollow\"]");
    const char *title = cmark_node_get_title(node);
    if (title && *title)
        h_prop_str(cv->a, el, "title", title, strlen(title));
    return el;
}

static hnode *component_elem(struct conv *cv, cmark_node *node)
{
    md_arena *a = cv->a;
    if (md_is_slot(node)) {
        hnode *t = h_elem(a, "template");
        size_t slen;
        const char *sattrs = md_component_attrs(node, &slen);
        if (sattrs) /* a slot's attributes reach hast as written */
            md_attrs_apply(a, t, sattrs, slen, MD_ATTRS_ELEMENT);
        char *name = md_alloc(a, strlen(md_component_name(node)) + 8);
        strcpy(name, "v-slot:");
        strcat(name, md_component_name(node));
        h_prop_str(a, t, name, "", 0);
        return t;
    }
    hnode *el = h_elem(a, md_strdup(a, md_component_name(node)));
    size_t alen;
    const char *attrs = md_component_attrs(node, &alen);
    if (attrs)
        md_attrs_apply(a, el, attrs, alen, MD_ATTRS_BLOCK);
    int line;
    size_t ylen;
    const char *yaml = md_component_yaml(node, &ylen, &line);
    if (yaml && ylen) {
        jv *props = md_yaml_parse(a, yaml, ylen, line - 1, NULL);
        if (props && props->type == JV_OBJ)
            md_yaml_props(a, el, props);
    }
    h_props_sort(el);
    return el;
}

/* The element for a container node, or NULL when its children go straight
 * into the parent (a paragraph MDC unwraps). */
static hnode *container_elem(struct conv *cv, cmark_node *node, hnode *parent, bool *skip)
{
    md_arena *a = cv->a;
    char tag[3] = {'h', '1', 0};
    switch (cmark_node_get_type(node)) {
    case CMARK_NODE_BLOCK_QUOTE:
        return h_elem(a, "blockquote");
    case CMARK_NODE_LIST:
        return list_elem(cv, node);
    case CMARK_NODE_ITEM:
        return item_elem(cv, node);
    case CMARK_NODE_HEADING:
        tag[1] = (char)('0' + cmark_node_get_heading_level(node));
        return h_elem(a, md_strdup(a, tag));
    case CMARK_NODE_EMPH:
        return h_elem(a, "em");
    case CMARK_NODE_STRONG:
        return h_elem(a, "strong");
    case CMARK_NODE_LINK:
        return link_elem(cv, node);
    case CMARK_NODE_IMAGE:
        *skip = true; /* alt text is taken from the children */
        return image_elem(cv, node);
    case CMARK_NODE_FOOTNOTE_DEFINITION:
        (void)parent;
        return md_conv_footnote_item(cv, node);
    default:
        break;
    }
    if (md_is_component(node) || md_is_slot(node))
        return component_elem(cv, node);
    if (cmark_node_get_type(node) == CMARK_NODE_CUSTOM_INLINE) {
        const struct md_inline_info *in = md_inline_get(node);
        return h_elem(a, in ? md_inline_tag(in) : "span");
    }
    if (type_is(node, "strikethrough"))
        return h_elem(a, "del");
    if (type_is(node, "table"))
        return h_elem(a, "table");
    if (type_is(node, "table_cell"))
        return h_elem(a, "td"); /* fixed up in table_cell() */
    return h_elem(a, "div");
}

/* A table cell: th in the header row, align from the table's alignments. */
static hnode *table_cell(struct conv *cv, cmark_node *node)
{
    cmark_node *row = cmark_node_parent(node);
    cmark_node *table = cmark_node_parent(row);
    bool header = cmark_gfm_extensions_get_table_row_is_header(row);
    hnode *el = h_elem(cv->a, header ? "th" : "td");
    uint8_t *align = cmark_gfm_extensions_get_table_alignments(table);
    int cols = cmark_gfm_extensions_get_table_columns(table);
    int ix = cmark_node_previous(node) ? ++cv->cell_ix : (cv->cell_ix = 0);
    if (align && ix < cols) {
        const char *v = align[ix] == 'l'   ? "left"
                        : align[ix] == 'c' ? "center"
                        : align[ix] == 'r' ? "right"
                                           : NULL;
        if (v)
            h_prop_str(cv->a, el, "align", v, strlen(v));
    }
    return el;
}

/* Where a table row goes: thead for the header, tbody (made on demand) for
 * the rest. */
static hnode *table_section(struct conv *cv, hnode *table, cmark_node *row)
{
    bool header = cmark_gfm_extensions_get_table_row_is_header(row);
    const char *tag = header ? "thead" : "tbody";
    if (table->last && table->last->type == H_ELEM && !strcmp(table->last->tag, tag))
        return table->last;
    hnode *sec = h_elem(cv->a, tag);
    h_append(table, sec);
    return sec;
}

/* MDC does not wrap a paragraph whose first child is raw HTML of a tag that
 * is not an HTML element (a Vue component written as HTML). */
static bool unwrapped_paragraph(cmark_node *para)
{
    cmark_node *first = cmark_node_first_child(para);
    if (!first || cmark_node_get_type(first) != CMARK_NODE_HTML_INLINE)
        return false;
    const char *lit = cmark_node_get_literal(first);
    const char *p = lit + 1 + (lit[1] == '/');
    size_t n = 0;
    cd_buf name = CD_BUF_INIT;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
           (p[n] >= '0' && p[n] <= '9') || p[n] == '-' || p[n] == '_') {
        char ch = p[n];
        if (ch >= 'A' && ch <= 'Z') {
            if (name.len && name.data[name.len - 1] != '-')
                cd_buf_putc(&name, '-');
            ch = (char)(ch + 32);
        }
        cd_buf_putc(&name, ch);
        n++;
    }
    bool custom = n > 0 && !md_is_html_tag(name.data);
    cd_buf_free(&name);
    return custom;
}

/* Leaf nodes: text, breaks, code, raw HTML, footnote references. */
static void leaf(struct conv *cv, cmark_node *node, hnode *parent)
{
    md_arena *a = cv->a;
    const char *lit;
    switch (cmark_node_get_type(node)) {
    case CMARK_NODE_TEXT:
        lit = cmark_node_get_literal(node);
        if (*lit) /* the autolink extension leaves "" before a leading URL */
            h_append_text(a, parent, lit, strlen(lit));
        return;
    case CMARK_NODE_SOFTBREAK:
        h_append_text(a, parent, "\n", 1);
        return;
    case CMARK_NODE_LINEBREAK:
        h_append(parent, h_elem(a, "br"));
        h_append(parent, h_text(a, "\n", 1));
        return;
    case CMARK_NODE_CODE:
        h_append(parent, md_conv_inline_code(cv, node));
        return;
    case CMARK_NODE_CODE_BLOCK:
        h_append(parent, md_conv_code_block(cv, node));
        return;
    case CMARK_NODE_HTML_BLOCK:
    case CMARK_NODE_HTML_INLINE:
        h_append(parent, raw_node(cv, node));
        return;
    case CMARK_NODE_THEMATIC_BREAK:
        h_append(parent, h_elem(a, "hr"));
        return;
    case CMARK_NODE_FOOTNOTE_REFERENCE:
        h_append(parent, md_conv_footnote_ref(cv, node));
        return;
    default:
        return;
    }
}

static const char FRAGMENT[] = "#fragment"; /* compared by address */

/* Moves an unwrapped paragraph's nodes into the parent, "\n" between them
 * and around them where the paragraph had neighbours. */
static void splice_fragment(struct conv *cv, cmark_node *para, hnode *frag, hnode *parent)
{
    if (cmark_node_previous(para))
        h_append_text(cv->a, parent, "\n", 1);
    bool first = true;
    for (hnode *n = frag->first, *next; n; n = next, first = false) {
        next = n->next;
        if (!first)
            h_append_text(cv->a, parent, "\n", 1);
        h_remove(n);
        if (n->type == H_TEXT)
            h_append_text(cv->a, parent, n->text, n->len);
        else
            h_append(parent, n);
    }
    if (cmark_node_next(para))
        h_append_text(cv->a, parent, "\n", 1);
}

/* A paragraph holding only an inline component: in MDC, a line of its own
 * that is the component itself (remark-mdc's container sugar), no p. */
static bool component_paragraph(cmark_node *para)
{
    cmark_node *only = cmark_node_first_child(para);
    return cmark_node_get_type(para) == CMARK_NODE_PARAGRAPH && only && !cmark_node_next(only) &&
           md_is_inline_component(only);
}

/* mdast-util-to-hast puts "\n" before each child of a tight list item but
 * a leading paragraph; it merges into the text around it. */
static void tight_item_newline(struct conv *cv, cmark_node *node, hnode *cur)
{
    cmark_node *item = cmark_node_parent(node);
    if (!item || cmark_node_get_type(item) != CMARK_NODE_ITEM)
        return;
    cmark_node *list = cmark_node_parent(item);
    if (!list || !cmark_node_get_list_tight(list))
        return;
    if (!cmark_node_previous(node) && cmark_node_get_type(node) == CMARK_NODE_PARAGRAPH &&
        !component_paragraph(node))
        return;
    h_append_text(cv->a, cur, "\n", 1);
}

/* Where a paragraph's inlines go: a new p, the enclosing li (MDC flattens
 * paragraphs in list items, with a br between consecutive ones), or the
 * parent itself. */
static hnode *paragraph_target(struct conv *cv, cmark_node *node, hnode *parent)
{
    cmark_node *up = cmark_node_parent(node);
    cmark_node_type ut = cmark_node_get_type(up);
    if (ut == CMARK_NODE_ITEM || ut == CMARK_NODE_FOOTNOTE_DEFINITION) {
        if (component_paragraph(node))
            return parent;
        /* a tight item has no p to put a br before: "\n" (tight_item_newline) */
        if (ut == CMARK_NODE_ITEM && cmark_node_get_list_tight(cmark_node_parent(up)))
            return parent;
        for (cmark_node *s = cmark_node_previous(node); s; s = cmark_node_previous(s))
            if (cmark_node_get_type(s) == CMARK_NODE_PARAGRAPH && !component_paragraph(s)) {
                h_append(parent, h_elem(cv->a, "br"));
                break;
            }
        return parent;
    }
    if (component_paragraph(node))
        return parent;
    if (unwrapped_paragraph(node)) {
        /* its inlines become siblings, and hast puts "\n" between siblings */
        hnode *frag = h_elem(cv->a, FRAGMENT);
        frag->parent = parent;
        return frag;
    }
    hnode *p = h_elem(cv->a, "p");
    h_append(parent, p);
    return p;
}

static bool is_leaf(cmark_node_type t)
{
    switch (t) {
    case CMARK_NODE_HTML_BLOCK:
    case CMARK_NODE_THEMATIC_BREAK:
    case CMARK_NODE_CODE_BLOCK:
    case CMARK_NODE_TEXT:
    case CMARK_NODE_SOFTBREAK:
    case CMARK_NODE_LINEBREAK:
    case CMARK_NODE_CODE:
    case CMARK_NODE_HTML_INLINE:
        return true;
    default:
        return false;
    }
}

/* The hast parent that a container node's children go into. */
static hnode *enter_container(struct conv *cv, cmark_node *node, hnode *cur, bool *skip)
{
    cmark_node_type t = cmark_node_get_type(node);
    tight_item_newline(cv, node, cur);
    size_t slot_attrs;
    if (md_is_slot(node) && !strcmp(md_component_name(node), "default") &&
        (!md_component_attrs(node, &slot_attrs) || !slot_attrs))
        return cur; /* #default content is the component's own children */
    if (t == CMARK_NODE_PARAGRAPH)
        return paragraph_target(cv, node, cur);
    if (t == CMARK_NODE_FOOTNOTE_REFERENCE) {
        h_append(cur, md_conv_footnote_ref(cv, node));
        return cur;
    }
    if (t == CMARK_NODE_FOOTNOTE_DEFINITION) {
        hnode *li = container_elem(cv, node, cur, skip);
        h_append(md_conv_footnote_list(cv), li);
        return li;
    }
    if (type_is(node, "table_row") || type_is(node, "table_header")) {
        hnode *tr = h_elem(cv->a, "tr");
        h_append(table_section(cv, cur, node), tr);
        return tr;
    }
    hnode *el =
        type_is(node, "table_cell") ? table_cell(cv, node) : container_elem(cv, node, cur, skip);
    md_conv_inline_attrs(cv, node, el);
    h_append(cur, el);
    return el;
}

/* Converts the subtree below top (not top itself) into into. */
static void convert_tree(struct conv *cv, cmark_node *top, hnode *into)
{
    size_t depth = 0, cap = 64;
    hnode **stack = cd_xmalloc(cap * sizeof *stack);
    hnode *cur = into;
    cmark_iter *it = cmark_iter_new(top);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(node);
        if (node == top)
            continue;
        if (is_leaf(t)) {
            tight_item_newline(cv, node, cur);
            leaf(cv, node, cur);
            continue;
        }
        if (ev == CMARK_EVENT_EXIT) {
            if (t == CMARK_NODE_PARAGRAPH && cur->type == H_ELEM && cur->tag == FRAGMENT)
                splice_fragment(cv, node, cur, stack[depth - 1]);
            if (t == CMARK_NODE_FOOTNOTE_DEFINITION)
                md_conv_footnote_backrefs(cv, node, cur);
            cur = stack[--depth];
            continue;
        }
        if (depth == cap)
            stack = cd_xrealloc(stack, (cap *= 2) * sizeof *stack);
        stack[depth++] = cur;
        bool skip = false;
        cur = enter_container(cv, node, cur, &skip);
        if (skip) { /* an image: its children were read for alt already */
            cur = stack[--depth];
            cmark_iter_reset(it, node, CMARK_EVENT_EXIT);
        } else if (type_is(node, "table_cell") && md_cell_inlines(node)) {
            convert_tree(cv, md_cell_inlines(node), cur); /* inlines only */
        }
    }
    cmark_iter_free(it);
    free(stack);
}

hnode *md_convert(md_ctx *c, cmark_node *doc)
{
    struct conv cv = {.c = c, .a = c->arena};
    cv.root = md_alloc(c->arena, sizeof *cv.root);
    cv.root->type = H_ROOT;
    cv.root->tag = "root";
    convert_tree(&cv, doc, cv.root);
    return cv.root;
}
