/* SPDX-License-Identifier: MIT */
/*
 * What the AST says: every link (markdown or raw HTML `<a>`), every
 * image and media source, every prop of a component that names a file,
 * every component, every id.  References that cannot be to a file of the
 * item (URLs, site paths, paths out of the item) are not kept.  The walk
 * is iterative (an AST may be thousands of levels deep); a reference's
 * line is found by searching the source for it as the author wrote it.
 */
#include "checks_int.h"

#include <stdlib.h>
#include <string.h>

#include "markdown.h"

/* Calls fn on every element of d's body, in document order. */
typedef void (*elem_fn)(chk_doc *d, const char *tag, json_t *props);

static void walk(chk_doc *d, elem_fn fn)
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
            fn(d, tag, json_object_get(node, "props"));
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

/* The line of a reference: as written, else as resolved, else 0. */
static size_t ref_line(chk_doc *d, const char *ref, const cd_buf *resolved)
{
    size_t line = chk_source_find(d, ref);
    if (!line && resolved->data && *resolved->data)
        line = chk_source_find(d, resolved->data);
    return line;
}

void chk_fact_ref(chk_doc *d, bool link, const char *ref, size_t line, const char *what)
{
    cd_buf path = CD_BUF_INIT, frag = CD_BUF_INIT;
    if (chk_resolve(d->path, ref, &path, &frag) == CHK_REF_LOCAL) {
        chk_facts *f = d->f;
        f->refs = cd_grow(f->refs, f->nrefs, &f->cap_refs, 16, sizeof *f->refs);
        f->refs[f->nrefs++] = (chk_fref){link, cd_xstrdup(ref), cd_xstrdup(what),
                                         line ? line : ref_line(d, ref, &path)};
    }
    cd_buf_free(&path);
    cd_buf_free(&frag);
}

static bool is_media(const char *tag)
{
    return !strcmp(tag, "img") || !strcmp(tag, "video") || !strcmp(tag, "audio") ||
           !strcmp(tag, "source") || !strcmp(tag, "track");
}

/* A component: where it is, and its props that name files. */
static void component(chk_doc *d, const char *tag, json_t *props)
{
    cd_buf needle = CD_BUF_INIT;
    cd_buf_printf(&needle, ":%s", tag);
    size_t line = chk_source_find(d, needle.data);
    if (!line) { /* written as HTML: <my-widget> */
        cd_buf_reset(&needle);
        cd_buf_printf(&needle, "<%s", tag);
        line = chk_source_find(d, needle.data);
    }
    cd_buf_free(&needle);
    chk_facts *f = d->f;
    f->comps = cd_grow(f->comps, f->ncomps, &f->cap_comps, 8, sizeof *f->comps);
    f->comps[f->ncomps++] = (chk_fcomp){cd_xstrdup(tag), line};
    const char *key;
    json_t *v;
    json_object_foreach(props, key, v)
    {
        const char *s = json_string_value(v);
        if (s && chk_looks_like_file(s)) {
            cd_buf what = CD_BUF_INIT;
            cd_buf_printf(&what, "component %s: its %s names", tag, key);
            chk_fact_ref(d, false, s, 0, what.data);
            cd_buf_free(&what);
        }
    }
}

static void element(chk_doc *d, const char *tag, json_t *props)
{
    const char *id = json_string_value(json_object_get(props, "id"));
    if (id && *id)
        json_object_set_new(d->f->ids, id, json_true());
    /* <a name="x">: the other thing a browser scrolls #x to (HTML's
     * "indicated part of the document") */
    const char *name = json_string_value(json_object_get(props, "name"));
    if (!strcmp(tag, "a") && name && *name)
        json_object_set_new(d->f->ids, name, json_true());
    const char *href = json_string_value(json_object_get(props, "href"));
    const char *src = json_string_value(json_object_get(props, "src"));
    const char *poster = json_string_value(json_object_get(props, "poster"));
    if (!strcmp(tag, "a") && href)
        chk_fact_ref(d, true, href, 0, "link to");
    else if (is_media(tag) && src)
        chk_fact_ref(d, false, src, 0, !strcmp(tag, "img") ? "image" : tag);
    if (!strcmp(tag, "video") && poster)
        chk_fact_ref(d, false, poster, 0, "poster");
    if (!md_is_html_tag(tag))
        component(d, tag, props);
}

void chk_walk(chk_doc *d)
{
    d->cursor = d->fm_last ? d->line_start[d->fm_last - 1] : 0;
    d->f->walked = d->ast != NULL;
    if (d->ast)
        walk(d, element);
}
