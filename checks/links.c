/* SPDX-License-Identifier: MIT */
/*
 * The checks that read the AST: every link (markdown or raw HTML `<a>`)
 * to a document, heading or file of the item, every image and media
 * source, every prop of a component that names a file, and the
 * components themselves against the list of known ones.  The walk is
 * iterative (an AST may be thousands of levels deep); a finding's line is
 * found by searching the source for the target as the author wrote it.
 */
#include "checks_int.h"

#include <stdlib.h>
#include <string.h>

#include "markdown.h"

/* Calls fn on every element of d's body, in document order. */
typedef void (*elem_fn)(chk_ctx *c, chk_doc *d, const char *tag, json_t *props);

static void walk(chk_ctx *c, chk_doc *d, elem_fn fn)
{
    json_t *body = json_object_get(d->ast, "body");
    if (!body)
        return;
    size_t cap = 64, n = 0;
    json_t **stack = cd_xmalloc(cap * sizeof *stack);
    stack[n++] = body;
    while (n) {
        json_t *node = stack[--n];
        const char *tag = json_string_value(json_object_get(node, "tag"));
        if (tag)
            fn(c, d, tag, json_object_get(node, "props"));
        if (tag && (!strcmp(tag, "svg") || !strcmp(tag, "math")))
            continue; /* their own vocabulary, neither HTML nor components */
        json_t *kids = json_object_get(node, "children");
        size_t k = json_array_size(kids);
        if (n + k > cap) {
            cap = (n + k) * 2;
            stack = cd_xrealloc(stack, cap * sizeof *stack);
        }
        while (k-- > 0) /* reversed, so the first child is next */
            stack[n++] = json_array_get(kids, k);
    }
    free(stack);
}

static void add_id(chk_ctx *c, chk_doc *d, const char *tag, json_t *props)
{
    (void)c, (void)tag;
    const char *id = json_string_value(json_object_get(props, "id"));
    if (id && *id)
        json_object_set_new(d->ids, id, json_true());
}

void chk_collect_ids(chk_doc *d)
{
    d->ids = json_object();
    if (d->ast)
        walk(NULL, d, add_id);
}

/* The line of a reference: as written, else decoded, else 0. */
static size_t ref_line(chk_doc *d, const char *ref, const cd_buf *decoded)
{
    size_t line = chk_source_find(d, ref);
    if (!line && decoded->data && *decoded->data)
        line = chk_source_find(d, decoded->data);
    return line;
}

/* A link target without an extension, or one ending in '/' or ".md": it
 * means a document. */
static bool means_document(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return chk_is_markdown(path) || !*base || !strchr(base, '.');
}

/* Reports a reference to a document or file that is not in the item;
 * path is where it was looked for, when that differs from ref. */
static void missing(chk_ctx *c, chk_doc *d, size_t line, const char *what, const char *ref,
                    const char *path, bool document)
{
    cd_buf where = CD_BUF_INIT;
    size_t n = strlen(path);
    if (n == 0 || path[n - 1] == '/')
        cd_buf_printf(&where, " (looked for %sindex.md)", path);
    else if (strcmp(path, ref))
        cd_buf_printf(&where, " (looked for %s)", path);
    chk_add(c, d->path, line, CHK_ERROR, document ? "broken-link" : "missing-asset",
            "%s %s: there is no such %s in this item%s", what, ref, document ? "document" : "file",
            where.data ? where.data : "");
    cd_buf_free(&where);
}

static void check_anchor(chk_ctx *c, chk_doc *d, size_t line, long target, const char *frag,
                         const char *href)
{
    chk_doc *t = chk_doc_of(c, (size_t)target);
    if (!*frag || !strcmp(frag, "top") || !t || !t->ast)
        return;
    if (json_object_get(t->ids, frag))
        return;
    if (t == d)
        chk_add(c, d->path, line, CHK_ERROR, "broken-anchor",
                "link to #%s: this document has no heading with that id", frag);
    else
        chk_add(c, d->path, line, CHK_ERROR, "broken-anchor",
                "link to %s: %s has no heading with the id '%s'", href, t->path, frag);
}

static void check_link(chk_ctx *c, chk_doc *d, const char *href)
{
    cd_buf path = CD_BUF_INIT, frag = CD_BUF_INIT;
    if (chk_resolve(d->path, href, &path, &frag) == CHK_REF_LOCAL) {
        size_t line = ref_line(d, href, &path);
        long t = href[0] == '#' || href[0] == '?' ? (long)d->file : chk_link_target(c, path.data);
        if (t >= 0) {
            c->referenced[t] = true;
            check_anchor(c, d, line, t, frag.data, href);
        } else {
            missing(c, d, line, "link to", href, path.data, means_document(path.data));
        }
    }
    cd_buf_free(&path);
    cd_buf_free(&frag);
}

void chk_file_ref(chk_ctx *c, chk_doc *d, const char *ref, size_t line, const char *what)
{
    cd_buf path = CD_BUF_INIT, frag = CD_BUF_INIT;
    if (chk_resolve(d->path, ref, &path, &frag) == CHK_REF_LOCAL) {
        if (line == 0)
            line = ref_line(d, ref, &path);
        long t = chk_find_file(c, path.data);
        if (t >= 0)
            c->referenced[t] = true;
        else
            missing(c, d, line, what, ref, path.data, chk_is_markdown(path.data));
    }
    cd_buf_free(&path);
    cd_buf_free(&frag);
}

static bool is_media(const char *tag)
{
    return !strcmp(tag, "img") || !strcmp(tag, "video") || !strcmp(tag, "audio") ||
           !strcmp(tag, "source") || !strcmp(tag, "track");
}

/* A component: its file props, and whether it is known. */
static void check_component(chk_ctx *c, chk_doc *d, const char *tag, json_t *props)
{
    if (c->o->components && !chk_components_has(c->o->components, tag)) {
        cd_buf needle = CD_BUF_INIT;
        cd_buf_printf(&needle, ":%s", tag);
        size_t line = chk_source_find(d, needle.data);
        if (!line) { /* written as HTML: <my-widget> */
            cd_buf_reset(&needle);
            cd_buf_printf(&needle, "<%s", tag);
            line = chk_source_find(d, needle.data);
        }
        cd_buf_free(&needle);
        chk_add(c, d->path, line, CHK_ERROR, "unknown-component",
                "unknown component '%s': it is not in the list of known components", tag);
    }
    const char *key;
    json_t *v;
    json_object_foreach(props, key, v)
    {
        const char *s = json_string_value(v);
        if (s && chk_looks_like_file(s)) {
            cd_buf what = CD_BUF_INIT;
            cd_buf_printf(&what, "component %s: its %s names", tag, key);
            chk_file_ref(c, d, s, 0, what.data);
            cd_buf_free(&what);
        }
    }
}

static void check_elem(chk_ctx *c, chk_doc *d, const char *tag, json_t *props)
{
    const char *href = json_string_value(json_object_get(props, "href"));
    const char *src = json_string_value(json_object_get(props, "src"));
    const char *poster = json_string_value(json_object_get(props, "poster"));
    if (!strcmp(tag, "a") && href)
        check_link(c, d, href);
    else if (is_media(tag) && src)
        chk_file_ref(c, d, src, 0, !strcmp(tag, "img") ? "image" : tag);
    if (!strcmp(tag, "video") && poster)
        chk_file_ref(c, d, poster, 0, "poster");
    if (!md_is_html_tag(tag))
        check_component(c, d, tag, props);
}

void chk_links(chk_ctx *c, chk_doc *d)
{
    d->cursor = d->fm_last ? d->line_start[d->fm_last - 1] : 0;
    if (d->ast)
        walk(c, d, check_elem);
}
