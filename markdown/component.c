/* SPDX-License-Identifier: MIT */
/*
 * MDC block components as a cmark-gfm syntax extension:
 *
 *   ::name{key="value" :bound='json' flag .class #id}
 *   ---
 *   yaml: props
 *   ---
 *   default slot content
 *   #slot-name
 *   named slot content
 *   ::
 *
 * A component opens on a line of two or more colons and a name, and is
 * closed by a line of exactly as many colons: the innermost open component
 * with that count closes, together with everything open inside it.  A
 * closing line inside an open fenced code block is code, not a fence.
 * Nesting is capped (MD_MAX_COMPONENT_DEPTH) so that the per-line work of
 * cmark's open-block matching stays linear on hostile input; deeper
 * openings are plain text.
 */
#include "md_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MD_MAX_COMPONENT_DEPTH 64

enum fm_state { FM_EXPECT, FM_INSIDE, FM_DONE };

struct comp {
    char *name;
    char *attrs;
    size_t attrs_len;
    int colons; /* 0 for a slot */
    int indent; /* columns before the opening colons */
    bool closed;
    enum fm_state fm;
    cd_buf yaml;
    int yaml_line;
};

/* Per-parse state: which open component a closing line belongs to, worked
 * out once per line by the outermost component that sees it. */
struct fence_cache {
    int line;
    cmark_node *owner;
    bool in_item; /* a component opened right in a list item */
};

static cmark_node_type COMPONENT_TYPE, SLOT_TYPE;
static pthread_once_t types_once = PTHREAD_ONCE_INIT;

static void register_types(void)
{
    COMPONENT_TYPE = cmark_syntax_extension_add_node(0);
    SLOT_TYPE = cmark_syntax_extension_add_node(0);
}

bool md_is_component(cmark_node *n)
{
    return n && cmark_node_get_type(n) == COMPONENT_TYPE;
}

bool md_is_slot(cmark_node *n)
{
    return n && cmark_node_get_type(n) == SLOT_TYPE;
}

static struct comp *comp_of(cmark_node *n)
{
    return cmark_node_get_user_data(n);
}

const char *md_component_name(cmark_node *n)
{
    return comp_of(n)->name;
}

const char *md_component_attrs(cmark_node *n, size_t *len)
{
    *len = comp_of(n)->attrs_len;
    return comp_of(n)->attrs;
}

const char *md_component_yaml(cmark_node *n, size_t *len, int *line)
{
    struct comp *c = comp_of(n);
    *len = c->yaml.len;
    *line = c->yaml_line;
    return c->fm == FM_DONE && c->yaml.data ? c->yaml.data : NULL;
}

static void comp_free(cmark_mem *mem, void *p)
{
    struct comp *c = p;
    free(c->name);
    free(c->attrs);
    cd_buf_free(&c->yaml);
    free(c);
}

static bool name_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

static bool is_blank_from(const unsigned char *s, int i, int len)
{
    for (; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

/* Scans a {...} attribute block starting at s[i] == '{'; returns the index
 * after the closing brace, or -1.  Quotes may contain braces. */
static int scan_attrs(const unsigned char *s, int i, int len)
{
    char quote = 0;
    for (i++; i < len && s[i] != '\n'; i++) {
        if (quote) {
            if (s[i] == '\\' && i + 1 < len)
                i++;
            else if (s[i] == quote)
                quote = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            quote = (char)s[i];
        } else if (s[i] == '}') {
            return i + 1;
        }
    }
    return -1;
}

/* Kebab-cases a component name as MDC does (MyComp → my-comp). */
static char *kebab(const unsigned char *s, int n)
{
    cd_buf b = CD_BUF_INIT;
    for (int i = 0; i < n; i++) {
        unsigned char ch = s[i];
        if (ch >= 'A' && ch <= 'Z') {
            if (i > 0 && s[i - 1] != '-' && !(s[i - 1] >= 'A' && s[i - 1] <= 'Z'))
                cd_buf_putc(&b, '-');
            ch = (unsigned char)(ch - 'A' + 'a');
        }
        cd_buf_putc(&b, (char)ch);
    }
    return cd_buf_steal(&b, NULL);
}

static int colon_run(const unsigned char *s, int i, int len)
{
    int n = 0;
    while (i + n < len && s[i + n] == ':')
        n++;
    return n;
}

static int component_depth(cmark_node *n)
{
    int d = 0;
    for (; n; n = cmark_node_parent(n))
        d += md_is_component(n);
    return d;
}

static void consume_line(cmark_parser *parser, unsigned char *input, int len)
{
    int end = len;
    if (end > 0 && input[end - 1] == '\n')
        end--;
    if (end > 0 && input[end - 1] == '\r')
        end--;
    int off = cmark_parser_get_offset(parser);
    if (end > off)
        cmark_parser_advance_offset(parser, (const char *)input, end - off, 0);
}

static cmark_node *open_component(cmark_syntax_extension *ext, cmark_parser *parser,
                                  cmark_node *parent, unsigned char *input, int len, int pos)
{
    int colons = colon_run(input, pos, len);
    int i = pos + colons;
    if (colons < 2 || i >= len || !((input[i] | 0x20) >= 'a' && (input[i] | 0x20) <= 'z'))
        return NULL;
    int name_start = i;
    while (i < len && name_char(input[i]))
        i++;
    int name_end = i, attrs_start = -1, attrs_end = -1;
    if (i < len && input[i] == '{') {
        attrs_start = i + 1;
        i = scan_attrs(input, i, len);
        if (i < 0)
            return NULL;
        attrs_end = i - 1;
    }
    if (!is_blank_from(input, i, len))
        return NULL;
    if (component_depth(parent) >= MD_MAX_COMPONENT_DEPTH)
        return NULL;

    cmark_node *n = cmark_parser_add_child(parser, parent, COMPONENT_TYPE,
                                           cmark_parser_get_first_nonspace_column(parser) + 1);
    cmark_node_set_syntax_extension(n, ext);
    if (cmark_node_get_type(cmark_node_parent(n)) == CMARK_NODE_ITEM)
        ((struct fence_cache *)cmark_syntax_extension_get_private(ext))->in_item = true;
    struct comp *c = cd_xcalloc(1, sizeof *c);
    c->name = kebab(input + name_start, name_end - name_start);
    if (attrs_start >= 0) {
        c->attrs =
            cd_xstrndup((const char *)input + attrs_start, (size_t)(attrs_end - attrs_start));
        c->attrs_len = (size_t)(attrs_end - attrs_start);
    }
    c->colons = colons;
    c->indent = cmark_parser_get_indent(parser);
    c->fm = FM_EXPECT;
    cmark_node_set_user_data(n, c);
    cmark_node_set_user_data_free_func(n, comp_free);
    consume_line(parser, input, len);
    return n;
}

static cmark_node *open_slot(cmark_syntax_extension *ext, cmark_parser *parser, cmark_node *parent,
                             unsigned char *input, int len, int pos)
{
    /* an open paragraph or list (its item did not continue) ends here */
    cmark_node *owner = parent;
    while (cmark_node_get_type(owner) == CMARK_NODE_PARAGRAPH ||
           cmark_node_get_type(owner) == CMARK_NODE_LIST)
        owner = cmark_node_parent(owner);
    if (md_is_slot(owner))
        owner = cmark_node_parent(owner);
    if (!md_is_component(owner) || comp_of(owner)->closed)
        return NULL;
    if (input[pos] != '#' || pos + 1 >= len || !name_char(input[pos + 1]))
        return NULL;
    int i = pos + 1;
    while (i < len && name_char(input[i]))
        i++;
    int name_end = i, attrs_start = -1;
    if (i < len && input[i] == '{') { /* #name{unwrap="p"} */
        attrs_start = i + 1;
        i = scan_attrs(input, i, len);
        if (i < 0)
            return NULL;
    }
    if (!is_blank_from(input, i, len))
        return NULL;
    cmark_node *n = cmark_parser_add_child(parser, parent, SLOT_TYPE,
                                           cmark_parser_get_first_nonspace_column(parser) + 1);
    cmark_node_set_syntax_extension(n, ext);
    struct comp *c = cd_xcalloc(1, sizeof *c);
    c->name = cd_xstrndup((const char *)input + pos + 1, (size_t)(name_end - pos - 1));
    if (attrs_start >= 0) {
        c->attrs_len = (size_t)(i - 1 - attrs_start);
        c->attrs = cd_xstrndup((const char *)input + attrs_start, c->attrs_len);
    }
    c->fm = FM_DONE;
    cmark_node_set_user_data(n, c);
    cmark_node_set_user_data_free_func(n, comp_free);
    consume_line(parser, input, len);
    return n;
}

static cmark_node *try_open(cmark_syntax_extension *ext, int indented, cmark_parser *parser,
                            cmark_node *parent, unsigned char *input, int len)
{
    if (indented)
        return NULL;
    int pos = cmark_parser_get_first_nonspace(parser);
    if (pos >= len)
        return NULL;
    if (input[pos] == ':')
        return open_component(ext, parser, parent, input, len, pos);
    if (input[pos] == '#')
        return open_slot(ext, parser, parent, input, len, pos);
    return NULL;
}

/* The component a line of `colons` colons closes: the innermost open one
 * with that count below (or at) container, or NULL when an open fenced
 * code or HTML block below takes the line as its content. */
static cmark_node *fence_owner(cmark_node *container, int colons)
{
    cmark_node *owner = comp_of(container)->colons == colons ? container : NULL;
    for (cmark_node *n = cmark_node_last_child(container); n && md_cmark_is_open(n);
         n = cmark_node_last_child(n)) {
        cmark_node_type t = cmark_node_get_type(n);
        /* cmark-gfm 0.29 writes through all three pointers: none may be NULL */
        int length, offset;
        char fence_char;
        if ((t == CMARK_NODE_CODE_BLOCK &&
             cmark_node_get_fenced(n, &length, &offset, &fence_char)) ||
            t == CMARK_NODE_HTML_BLOCK)
            return NULL;
        if (md_is_component(n) && !comp_of(n)->closed && comp_of(n)->colons == colons)
            owner = n;
    }
    return owner;
}

static bool is_dashes_line(const unsigned char *s, int pos, int len)
{
    return pos + 3 <= len && !memcmp(s + pos, "---", 3) && is_blank_from(s, pos + 3, len);
}

static int match_block(cmark_syntax_extension *ext, cmark_parser *parser, unsigned char *input,
                       int len, cmark_node *container)
{
    struct comp *c = comp_of(container);
    if (c->closed)
        return 0;
    if (md_is_slot(container))
        return 1;
    int pos = cmark_parser_get_first_nonspace(parser);
    bool blank = is_blank_from(input, pos, len);
    /* remark-mdc strips the opening line's indentation from the content:
     * "  ::b" / "    Text." is a paragraph in b, not indented code (and
     * a blank line loses those spaces too, also inside fenced code) */
    int dedent = cmark_parser_get_indent(parser);
    if (dedent > c->indent)
        dedent = c->indent;
    if (dedent > 0)
        cmark_parser_advance_offset(parser, (const char *)input, dedent, 1);

    if (c->fm == FM_EXPECT) {
        c->fm = FM_DONE;
        if (!blank && cmark_parser_get_indent(parser) < 4 && is_dashes_line(input, pos, len) &&
            !cmark_node_first_child(container)) {
            c->fm = FM_INSIDE;
            c->yaml_line = cmark_parser_get_line_number(parser) + 1;
            consume_line(parser, input, len);
            return 1;
        }
    } else if (c->fm == FM_INSIDE) {
        if (is_dashes_line(input, pos, len)) {
            c->fm = FM_DONE;
            if (!c->yaml.data)
                cd_buf_puts(&c->yaml, "");
        } else {
            int off = cmark_parser_get_offset(parser);
            cd_buf_append(&c->yaml, input + off, (size_t)(len - off));
            if (!len || input[len - 1] != '\n')
                cd_buf_putc(&c->yaml, '\n');
        }
        consume_line(parser, input, len);
        return 1;
    }

    if (blank || cmark_parser_get_indent(parser) >= 4 || input[pos] != ':')
        return 1;
    int colons = colon_run(input, pos, len);
    if (colons < 2 || !is_blank_from(input, pos + colons, len))
        return 1;
    struct fence_cache *fc = cmark_syntax_extension_get_private(ext);
    int line = cmark_parser_get_line_number(parser);
    if (fc->line != line) {
        fc->line = line;
        fc->owner = fence_owner(container, colons);
    }
    if (fc->owner != container)
        return 1;
    c->closed = true;
    consume_line(parser, input, len);
    return 1;
}

static int can_contain(cmark_syntax_extension *ext, cmark_node *node, cmark_node_type child)
{
    if (child == CMARK_NODE_ITEM || child == CMARK_NODE_DOCUMENT ||
        (child & CMARK_NODE_TYPE_MASK) != CMARK_NODE_TYPE_BLOCK)
        return 0;
    if (md_is_slot(node))
        return child != SLOT_TYPE;
    return 1;
}

static int contains_inlines(cmark_syntax_extension *ext, cmark_node *node)
{
    return 0;
}

static const char *type_string(cmark_syntax_extension *ext, cmark_node *node)
{
    return md_is_slot(node) ? "mdc_slot" : "mdc_component";
}

/* cmark-gfm's S_ends_with_blank_line, except that a component closed by
 * its fence line does not end with a blank line: cmark saw that line,
 * consumed by match_block(), as blank. */
static bool ends_with_blank_line(cmark_node *n)
{
    for (;;) {
        cmark_node_type t = cmark_node_get_type(n);
        if ((t == CMARK_NODE_LIST || t == CMARK_NODE_ITEM) && cmark_node_last_child(n)) {
            n = cmark_node_last_child(n);
            continue;
        }
        if (md_is_component(n) && comp_of(n)->closed)
            return false;
        return md_cmark_last_line_blank(n);
    }
}

/* A list that holds a component right in an item is tight or loose as
 * micromark decides, which ignores the component's closing line: cmark's
 * looseness is recomputed there, without it. */
static void retighten(cmark_node *list)
{
    bool has_component = false;
    for (cmark_node *item = cmark_node_first_child(list); item; item = cmark_node_next(item))
        for (cmark_node *sub = cmark_node_first_child(item); sub; sub = cmark_node_next(sub))
            has_component = has_component || md_is_component(sub);
    if (!has_component)
        return;
    for (cmark_node *item = cmark_node_first_child(list); item; item = cmark_node_next(item)) {
        if (cmark_node_next(item) && ends_with_blank_line(item))
            return;
        for (cmark_node *sub = cmark_node_first_child(item); sub; sub = cmark_node_next(sub))
            if ((cmark_node_next(item) || cmark_node_next(sub)) && ends_with_blank_line(sub))
                return;
    }
    cmark_node_set_list_tight(list, 1);
}

static cmark_node *postprocess(cmark_syntax_extension *ext, cmark_parser *parser, cmark_node *root)
{
    struct fence_cache *fc = cmark_syntax_extension_get_private(ext);
    if (!fc->in_item)
        return NULL;
    fc->in_item = false;
    cmark_iter *it = cmark_iter_new(root);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(n) == CMARK_NODE_LIST &&
            !cmark_node_get_list_tight(n))
            retighten(n);
    }
    cmark_iter_free(it);
    return NULL;
}

static void free_private(cmark_mem *mem, void *p)
{
    free(p);
}

cmark_syntax_extension *md_component_extension_new(void)
{
    pthread_once(&types_once, register_types);
    cmark_syntax_extension *ext = cmark_syntax_extension_new("mdc-component");
    cmark_syntax_extension_set_open_block_func(ext, try_open);
    cmark_syntax_extension_set_match_block_func(ext, match_block);
    cmark_syntax_extension_set_can_contain_func(ext, can_contain);
    cmark_syntax_extension_set_contains_inlines_func(ext, contains_inlines);
    cmark_syntax_extension_set_get_type_string_func(ext, type_string);
    cmark_syntax_extension_set_postprocess_func(ext, postprocess);
    struct fence_cache *fc = cd_xcalloc(1, sizeof *fc);
    fc->line = -1;
    cmark_syntax_extension_set_private(ext, fc, free_private);
    return ext;
}
